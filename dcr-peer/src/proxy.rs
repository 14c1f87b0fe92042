//! SOCKS5 proxies for outbound connections (RFC 1928), with username and
//! password authentication (RFC 1929) and Tor stream isolation.
//!
//! Tor keeps the streams of one SOCKS username and password on one
//! circuit; dcrd's `--torisolation` gives every connection fresh random
//! credentials so that no two peers share a circuit
//! ([`ProxyAuth::Isolated`] does the same).

use std::fmt;
use std::io;
use std::str::FromStr;

use rand::Rng;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How we authenticate to the proxy.
#[derive(Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum ProxyAuth {
    /// No authentication (method 0).
    #[default]
    None,
    /// A username and password (method 2, RFC 1929), each at most 255
    /// bytes.
    Password {
        /// The username.
        username: String,
        /// The password.
        password: String,
    },
    /// Fresh random credentials for every connection (method 2), so Tor
    /// puts each on its own circuit (dcrd's `--torisolation`).
    Isolated,
}

impl fmt::Debug for ProxyAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProxyAuth::None => f.write_str("None"),
            // The password stays out of logs.
            ProxyAuth::Password { username, .. } => f
                .debug_struct("Password")
                .field("username", username)
                .finish_non_exhaustive(),
            ProxyAuth::Isolated => f.write_str("Isolated"),
        }
    }
}

/// A SOCKS5 proxy: where it listens (`host:port`) and how to authenticate.
///
/// Parses from `host:port` or `socks5://[user:pass@]host:port`
/// ([`FromStr`]); `From<&str>` takes the address as it is.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Proxy {
    /// The proxy's address, `host:port` (or `[v6]:port`).
    pub addr: String,
    /// How to authenticate.
    pub auth: ProxyAuth,
}

impl Proxy {
    /// A proxy at `addr` (`host:port`) without authentication.
    pub fn new(addr: impl Into<String>) -> Proxy {
        Proxy {
            addr: addr.into(),
            auth: ProxyAuth::None,
        }
    }

    /// Sets the authentication.
    pub fn with_auth(mut self, auth: ProxyAuth) -> Proxy {
        self.auth = auth;
        self
    }

    /// The credentials for one connection: the configured ones, fresh
    /// random ones when isolating, none otherwise.
    fn credentials(&self) -> Option<(String, String)> {
        match &self.auth {
            ProxyAuth::None => None,
            ProxyAuth::Password { username, password } => {
                Some((username.clone(), password.clone()))
            }
            ProxyAuth::Isolated => {
                let mut rng = rand::rng();
                let mut random = || {
                    let mut b = [0u8; 16];
                    rng.fill_bytes(&mut b);
                    b.iter().map(|x| format!("{x:02x}")).collect::<String>()
                };
                Some((random(), random()))
            }
        }
    }
}

impl From<&str> for Proxy {
    fn from(addr: &str) -> Proxy {
        Proxy::new(addr)
    }
}

impl From<String> for Proxy {
    fn from(addr: String) -> Proxy {
        Proxy::new(addr)
    }
}

/// Shows `socks5://host:port`, with the username but never the password.
impl fmt::Display for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.auth {
            ProxyAuth::Password { username, .. } => {
                write!(f, "socks5://{username}@{}", self.addr)
            }
            _ => write!(f, "socks5://{}", self.addr),
        }
    }
}

/// Why a proxy URL does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad proxy {text:?}: {reason}")]
pub struct ParseProxyError {
    /// The text given (password included: it is the caller's own input).
    pub text: String,
    /// What is wrong.
    pub reason: &'static str,
}

impl FromStr for Proxy {
    type Err = ParseProxyError;

    fn from_str(text: &str) -> Result<Proxy, ParseProxyError> {
        let bad = |reason| ParseProxyError {
            text: text.to_string(),
            reason,
        };
        let rest = match text.split_once("://") {
            Some(("socks5" | "socks5h", rest)) => rest,
            Some(_) => return Err(bad("only socks5:// proxies are supported")),
            None => text,
        };
        let rest = rest.trim_end_matches('/');
        let (auth, addr) = match rest.rsplit_once('@') {
            Some((userinfo, addr)) => {
                let (u, p) = userinfo
                    .split_once(':')
                    .ok_or_else(|| bad("credentials are user:password"))?;
                if u.len() > 255 || p.len() > 255 {
                    return Err(bad("a username or password longer than 255 bytes"));
                }
                let auth = ProxyAuth::Password {
                    username: u.to_string(),
                    password: p.to_string(),
                };
                (auth, addr)
            }
            None => (ProxyAuth::None, rest),
        };
        split_host_port(addr).map_err(|_| bad("the address is not host:port"))?;
        Ok(Proxy::new(addr).with_auth(auth))
    }
}

/// A SOCKS5 failure. Every variant names the proxy; I/O failures keep
/// their `io::Error` as the source.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProxyError {
    /// The proxy could not be reached.
    #[error("cannot reach the proxy {proxy}")]
    Unreachable {
        /// The proxy.
        proxy: String,
        /// The dial's failure.
        #[source]
        source: io::Error,
    },
    /// Reading from or writing to the proxy failed mid-exchange.
    #[error("the exchange with the proxy {proxy} failed")]
    Io {
        /// The proxy.
        proxy: String,
        /// The failure.
        #[source]
        source: io::Error,
    },
    /// The proxy does not speak SOCKS5 (its reply's version byte).
    #[error("{proxy} is not a SOCKS5 proxy (version byte {version})")]
    NotSocks5 {
        /// The proxy.
        proxy: String,
        /// The version it answered with.
        version: u8,
    },
    /// The proxy accepts none of the methods offered (no authentication,
    /// or username and password when credentials are set).
    #[error("proxy {proxy} accepts none of our authentication methods")]
    NoAcceptableMethod {
        /// The proxy.
        proxy: String,
    },
    /// The proxy refused the username and password.
    #[error("proxy {proxy} refused the username and password")]
    AuthFailed {
        /// The proxy.
        proxy: String,
    },
    /// The proxy could not connect to the target (RFC 1928 reply code).
    #[error("proxy {proxy} could not connect: {} (code {code})", reply_text(*code))]
    ConnectFailed {
        /// The proxy.
        proxy: String,
        /// The reply code.
        code: u8,
    },
    /// The proxy's reply has an address type RFC 1928 does not define.
    #[error("proxy {proxy}: bad address type {atyp} in its reply")]
    BadReply {
        /// The proxy.
        proxy: String,
        /// The address type byte.
        atyp: u8,
    },
    /// The target is not `host:port`, or its name is longer than 255
    /// bytes, so it cannot be asked for.
    #[error("cannot ask the proxy for {target:?}: not host:port with a name of at most 255 bytes")]
    BadTarget {
        /// The target as given.
        target: String,
    },
    /// A username or password longer than 255 bytes.
    #[error("proxy {proxy}: a username or password longer than 255 bytes")]
    CredentialsTooLong {
        /// The proxy.
        proxy: String,
    },
}

/// RFC 1928's meaning of a reply code.
fn reply_text(code: u8) -> &'static str {
    match code {
        1 => "general failure",
        2 => "not allowed by its rules",
        3 => "network unreachable",
        4 => "host unreachable",
        5 => "connection refused",
        6 => "TTL expired",
        7 => "command not supported",
        8 => "address type not supported",
        _ => "unknown reply",
    }
}

/// `host:port`, `v4:port` or `[v6]:port` split; a bare IPv6 address (no
/// brackets, so no port) is refused rather than cut at its last colon.
pub(crate) fn split_host_port(addr: &str) -> Result<(String, u16), ()> {
    if let Ok(sa) = addr.parse::<std::net::SocketAddr>() {
        return Ok((sa.ip().to_string(), sa.port()));
    }
    let (host, port) = addr.rsplit_once(':').ok_or(())?;
    if host.contains(':') || host.is_empty() {
        return Err(());
    }
    Ok((host.to_string(), port.parse().map_err(|_| ())?))
}

/// Dials the proxy.
pub(crate) async fn dial_proxy(proxy: &Proxy) -> Result<TcpStream, ProxyError> {
    TcpStream::connect(&proxy.addr)
        .await
        .map_err(|source| ProxyError::Unreachable {
            proxy: proxy.to_string(),
            source,
        })
}

/// The SOCKS5 CONNECT exchange on a stream already connected to `proxy`,
/// authenticating as [`Proxy::auth`] says. The host is sent as a name
/// when it is not an IP address, so the proxy resolves it (as Tor needs).
pub async fn socks5_connect(
    mut s: TcpStream,
    proxy: &Proxy,
    host: &str,
    port: u16,
) -> Result<TcpStream, ProxyError> {
    let name = proxy.to_string();
    let io = |source| ProxyError::Io {
        proxy: name.clone(),
        source,
    };
    let credentials = proxy.credentials();
    // With credentials only username/password is offered: a proxy that
    // picked "none" would put isolated streams together.
    let method = if credentials.is_some() { 2 } else { 0 };
    s.write_all(&[5, 1, method]).await.map_err(io)?;
    let mut reply = [0u8; 2];
    s.read_exact(&mut reply).await.map_err(io)?;
    if reply[0] != 5 {
        return Err(ProxyError::NotSocks5 {
            proxy: name,
            version: reply[0],
        });
    }
    if reply[1] != method {
        return Err(ProxyError::NoAcceptableMethod { proxy: name });
    }
    if let Some((user, pass)) = credentials {
        let (Ok(ulen), Ok(plen)) = (u8::try_from(user.len()), u8::try_from(pass.len())) else {
            return Err(ProxyError::CredentialsTooLong { proxy: name });
        };
        // RFC 1929: version 1, the username, the password.
        let mut req = vec![1, ulen];
        req.extend_from_slice(user.as_bytes());
        req.push(plen);
        req.extend_from_slice(pass.as_bytes());
        s.write_all(&req).await.map_err(io)?;
        let mut status = [0u8; 2];
        s.read_exact(&mut status).await.map_err(io)?;
        if status[1] != 0 {
            return Err(ProxyError::AuthFailed { proxy: name });
        }
    }
    let mut req = vec![5, 1, 0];
    match host.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(ip)) => {
            req.push(1);
            req.extend_from_slice(&ip.octets());
        }
        Ok(std::net::IpAddr::V6(ip)) => {
            req.push(4);
            req.extend_from_slice(&ip.octets());
        }
        Err(_) => {
            let len = u8::try_from(host.len()).map_err(|_| ProxyError::BadTarget {
                target: host.to_string(),
            })?;
            req.push(3);
            req.push(len);
            req.extend_from_slice(host.as_bytes());
        }
    }
    req.extend_from_slice(&port.to_be_bytes());
    s.write_all(&req).await.map_err(io)?;
    let mut head = [0u8; 4];
    s.read_exact(&mut head).await.map_err(io)?;
    if head[0] != 5 {
        return Err(ProxyError::NotSocks5 {
            proxy: name,
            version: head[0],
        });
    }
    if head[1] != 0 {
        return Err(ProxyError::ConnectFailed {
            proxy: name,
            code: head[1],
        });
    }
    // Skip the bound address the proxy reports.
    let skip = match head[3] {
        1 => 4,
        4 => 16,
        3 => usize::from(s.read_u8().await.map_err(io)?),
        atyp => return Err(ProxyError::BadReply { proxy: name, atyp }),
    };
    let mut rest = vec![0u8; skip + 2];
    s.read_exact(&mut rest).await.map_err(io)?;
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxies_parse_from_urls() {
        let p: Proxy = "socks5://alice:s3cret@127.0.0.1:9050".parse().unwrap();
        assert_eq!(p.addr, "127.0.0.1:9050");
        assert_eq!(
            p.auth,
            ProxyAuth::Password {
                username: "alice".into(),
                password: "s3cret".into()
            }
        );
        // The password stays out of what is shown and logged.
        assert_eq!(p.to_string(), "socks5://alice@127.0.0.1:9050");
        assert!(!format!("{p:?}").contains("s3cret"));
        let p: Proxy = "[::1]:9050".parse().unwrap();
        assert_eq!((p.addr.as_str(), p.auth), ("[::1]:9050", ProxyAuth::None));
        for bad in ["http://x:1", "socks5://x", "socks5://a@x:1", "socks5://x:y"] {
            assert!(bad.parse::<Proxy>().is_err(), "{bad}");
        }
    }

    #[test]
    fn isolation_draws_fresh_credentials_each_time() {
        let p = Proxy::new("127.0.0.1:9050").with_auth(ProxyAuth::Isolated);
        let (a, b) = (p.credentials().unwrap(), p.credentials().unwrap());
        assert_ne!(a, b);
        assert_eq!(a.0.len(), 32);
    }

    #[test]
    fn host_port_forms() {
        let ok = |a: &str| split_host_port(a).unwrap();
        assert_eq!(ok("example.org:9108"), ("example.org".to_string(), 9108));
        assert_eq!(ok("10.0.0.1:9108"), ("10.0.0.1".to_string(), 9108));
        assert_eq!(ok("[::1]:9108"), ("::1".to_string(), 9108));
        for bad in ["::1", "fe80::1:9108", "example.org", "example.org:x", ":"] {
            assert!(split_host_port(bad).is_err(), "{bad}");
        }
    }
}
