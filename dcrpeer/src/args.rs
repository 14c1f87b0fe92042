//! The values the command line takes, each checked when it is parsed, so a
//! bad one is a usage error (exit 2) before any network work starts.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use anyhow::anyhow;
use dcr_peer::proxy::{ParseProxyError, Proxy};
use dcr_wire::CurrencyNet;

/// A value the command line does not take, and why.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ArgError {
    /// Not a port from 1 to 65535 (the text, and the whole argument).
    #[error("bad port {0:?} in {1:?} (a port is a number from 1 to 65535)")]
    Port(String, String),
    /// An empty address.
    #[error("an empty address")]
    EmptyAddress,
    /// `[` without its `]`.
    #[error("{0:?}: no closing ']'")]
    Unclosed(String),
    /// Brackets around something other than an IPv6 address.
    #[error("{0:?}: not an IPv6 address in brackets")]
    NotIpv6(String),
    /// Something other than `:PORT` after `]`.
    #[error("{0:?}: expected ':PORT' after ']'")]
    AfterBracket(String),
    /// Neither a host name nor an IP address.
    #[error("{0:?} is not a host name or IP address")]
    Host(String),
    /// A proxy of another scheme than SOCKS5 (the scheme).
    #[error("{0}:// proxies are not supported; give socks5://HOST:PORT")]
    ProxyScheme(String),
    /// A proxy URL that does not parse.
    #[error(transparent)]
    Proxy(#[from] ParseProxyError),
    /// An empty path.
    #[error("an empty path")]
    EmptyPath,
    /// Not hex digits.
    #[error("bad hex: {0}")]
    Hex(hex::FromHexError),
    /// Neither IP nor IP:PORT.
    #[error("{0:?} is not IP or IP:PORT (e.g. 127.0.0.1, 127.0.0.1:9108 or [::1]:9108)")]
    BindAddr(String),
    /// Neither an IP nor a CIDR prefix.
    #[error("{0:?} is not an IP or a CIDR prefix (e.g. 192.168.1.0/24 or ::1)")]
    Whitelist(String),
}

/// A node to dial: a host name, an IPv4 or an IPv6 address (bare or in
/// brackets), with a port or without (then the network's default).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    host: String,
    port: Option<u16>,
}

impl Target {
    /// `host:port`, the port being the network's default when none was given.
    pub fn with_port(&self, net: CurrencyNet) -> String {
        let port = self.port.unwrap_or_else(|| net.default_port());
        if self.host.contains(':') {
            format!("[{}]:{port}", self.host)
        } else {
            format!("{}:{port}", self.host)
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.host.contains(':'), self.port) {
            (true, Some(p)) => write!(f, "[{}]:{p}", self.host),
            (true, None) => write!(f, "[{}]", self.host),
            (false, Some(p)) => write!(f, "{}:{p}", self.host),
            (false, None) => f.write_str(&self.host),
        }
    }
}

/// A port: 1 to 65535.
fn port(text: &str, whole: &str) -> Result<u16, ArgError> {
    match text.parse::<u16>() {
        Ok(p) if p > 0 => Ok(p),
        _ => Err(ArgError::Port(text.into(), whole.into())),
    }
}

/// Parses `HOST`, `HOST:PORT`, an IPv6 address bare or as `[IPv6]:PORT`.
pub fn target(text: &str) -> Result<Target, ArgError> {
    if text.is_empty() {
        return Err(ArgError::EmptyAddress);
    }
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Ok(Target {
            host: ip.to_string(),
            port: None,
        });
    }
    if let Some(rest) = text.strip_prefix('[') {
        let (ip, after) = rest
            .split_once(']')
            .ok_or_else(|| ArgError::Unclosed(text.into()))?;
        let ip: std::net::Ipv6Addr = ip.parse().map_err(|_| ArgError::NotIpv6(text.into()))?;
        let port = match after {
            "" => None,
            _ => Some(port(
                after
                    .strip_prefix(':')
                    .ok_or_else(|| ArgError::AfterBracket(text.into()))?,
                text,
            )?),
        };
        return Ok(Target {
            host: ip.to_string(),
            port,
        });
    }
    let (host, port) = match text.rsplit_once(':') {
        Some((host, p)) => (host, Some(port(p, text)?)),
        None => (text, None),
    };
    let name_ok = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_');
    if !name_ok {
        return Err(ArgError::Host(host.into()));
    }
    Ok(Target {
        host: host.to_string(),
        port,
    })
}

/// Parses `socks5://[USER:PASS@]HOST:PORT` (the scheme may be left out);
/// other schemes are refused, as the only proxy protocol spoken is SOCKS5.
pub fn proxy(text: &str) -> Result<Proxy, ArgError> {
    let p: Proxy = text.parse().map_err(|e: ParseProxyError| {
        if e.reason.contains("only socks5") {
            let scheme = text.split_once("://").map_or("", |(s, _)| s);
            ArgError::ProxyScheme(scheme.into())
        } else {
            e.into()
        }
    })?;
    // The port, checked as every other port is.
    if let Some((_, port_text)) = p.addr.rsplit_once(':') {
        port(port_text, text)?;
    }
    Ok(p)
}

/// Where input comes from: a file, or standard input for `-`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Standard input.
    Stdin,
    /// A file.
    File(PathBuf),
}

impl Source {
    /// Reads all of it.
    pub fn read(&self) -> anyhow::Result<Vec<u8>> {
        use std::io::Read;
        match self {
            Source::Stdin => {
                let mut buf = Vec::new();
                std::io::stdin()
                    .read_to_end(&mut buf)
                    .map_err(|e| anyhow!("standard input: {e}"))?;
                Ok(buf)
            }
            Source::File(p) => std::fs::read(p).map_err(|e| anyhow!("{}: {e}", p.display())),
        }
    }
}

/// Parses a path, `-` meaning standard input.
pub fn source(text: &str) -> Result<Source, ArgError> {
    match text {
        "-" => Ok(Source::Stdin),
        "" => Err(ArgError::EmptyPath),
        p => Ok(Source::File(PathBuf::from(p))),
    }
}

/// `--capture FILE`, the same for every command that runs peers.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct CaptureArg {
    /// Record every frame sent and received, the handshakes' included, in
    /// this frame capture (docs/CAPTURE.md), appended to when it exists;
    /// read it with `dcrpeer decode --file` or `dcrpeer bench`.
    #[arg(long = "capture", value_name = "FILE", value_parser = out_path)]
    pub path: Option<PathBuf>,
}

/// Parses the path of a file to write (not empty).
pub fn out_path(text: &str) -> Result<PathBuf, ArgError> {
    match text {
        "" => Err(ArgError::EmptyPath),
        p => Ok(PathBuf::from(p)),
    }
}

/// Bytes given as hex digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HexBytes(pub Vec<u8>);

/// Parses hex digits (surrounding white space ignored) into bytes.
pub fn hex_bytes(text: &str) -> Result<HexBytes, ArgError> {
    hex::decode(text.trim())
        .map(HexBytes)
        .map_err(ArgError::Hex)
}

/// Where to listen: an IP, with a port or without (then the network's
/// default, known only once the whole command line is read).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BindAddr {
    ip: IpAddr,
    port: Option<u16>,
}

impl BindAddr {
    /// 127.0.0.1, on the network's port.
    pub fn loopback() -> BindAddr {
        BindAddr {
            ip: std::net::Ipv4Addr::LOCALHOST.into(),
            port: None,
        }
    }

    /// The address to bind, the port being the network's default
    /// ([`CurrencyNet::default_port`]) when none was given.
    pub fn with_port(self, net: CurrencyNet) -> SocketAddr {
        SocketAddr::new(self.ip, self.port.unwrap_or_else(|| net.default_port()))
    }
}

/// Parses a listening address: `IP`, `IP:PORT`, `IPv6` or `[IPv6]:PORT`
/// (port 0: any free port).
pub fn bind_addr(text: &str) -> Result<BindAddr, ArgError> {
    let bad = || ArgError::BindAddr(text.into());
    if let Ok(a) = text.parse::<SocketAddr>() {
        return Ok(BindAddr {
            ip: a.ip(),
            port: Some(a.port()),
        });
    }
    let bare = text
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .unwrap_or(text);
    let ip: IpAddr = bare.parse().map_err(|_| bad())?;
    if bare.len() != text.len() && !ip.is_ipv6() {
        return Err(bad());
    }
    Ok(BindAddr { ip, port: None })
}

/// Parses a whitelist entry as dcrd does: a CIDR prefix, or an IP (its
/// /32 or /128).
pub fn whitelist_entry(text: &str) -> Result<ipnet::IpNet, ArgError> {
    dcr_peer::connmgr::Whitelist::parse_entry(text).map_err(|_| ArgError::Whitelist(text.into()))
}

/// `n` and the noun, plural unless `n` is 1: "1 peer", "2 peers".
pub fn count(n: impl Into<u64>, noun: &str) -> String {
    let n = n.into();
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_take_the_network_port_when_they_name_none() {
        let n = CurrencyNet::MainNet;
        let t = |s: &str| target(s).unwrap().with_port(n);
        assert_eq!(t("node.example"), "node.example:9108");
        assert_eq!(t("node.example:1"), "node.example:1");
        assert_eq!(t("10.0.0.1"), "10.0.0.1:9108");
        assert_eq!(t("::1"), "[::1]:9108");
        assert_eq!(t("[::1]"), "[::1]:9108");
        assert_eq!(t("[::1]:5"), "[::1]:5");
        assert_eq!(
            target("x").unwrap().with_port(CurrencyNet::SimNet),
            "x:18555"
        );
    }

    #[test]
    fn bind_addresses_take_the_network_port_when_they_name_none() {
        let b = |s: &str| bind_addr(s).unwrap().with_port(CurrencyNet::SimNet);
        assert_eq!(b("127.0.0.1"), "127.0.0.1:18555".parse().unwrap());
        assert_eq!(b("127.0.0.1:0"), "127.0.0.1:0".parse().unwrap());
        assert_eq!(b("::1"), "[::1]:18555".parse().unwrap());
        assert_eq!(b("[::1]"), "[::1]:18555".parse().unwrap());
        assert_eq!(b("[::1]:7"), "[::1]:7".parse().unwrap());
        for bad in ["nowhere", "[127.0.0.1]", "1.2.3.4:x", ""] {
            assert_eq!(bind_addr(bad), Err(ArgError::BindAddr(bad.into())));
        }
    }

    #[test]
    fn a_bad_port_is_refused_as_a_bad_port() {
        for bad in ["127.0.0.1:notaport", "h:0", "h:65536", "[::1]:x", "h:"] {
            let e = target(bad).unwrap_err();
            assert!(matches!(e, ArgError::Port(..)), "{bad}: {e}");
            assert!(e.to_string().contains("bad port"), "{bad}: {e}");
        }
        assert_eq!(target("a b"), Err(ArgError::Host("a b".into())));
        assert!(target("a b")
            .unwrap_err()
            .to_string()
            .contains("not a host name"));
        assert_eq!(target("[::1"), Err(ArgError::Unclosed("[::1".into())));
    }

    #[test]
    fn proxies_are_socks5_with_a_port() {
        assert_eq!(
            proxy("socks5://127.0.0.1:9050").unwrap().addr,
            "127.0.0.1:9050"
        );
        assert_eq!(proxy("localhost:9050").unwrap().addr, "localhost:9050");
        let p = proxy("socks5://u:p@localhost:9050").unwrap();
        assert_eq!(p.to_string(), "socks5://u@localhost:9050");
        let err = |text| proxy(text).unwrap_err().to_string();
        assert!(err("http://x:1").contains("http://"));
        assert!(err("socks5://x").contains("host:port"));
        assert!(err("socks5://x:0").contains("bad port"));
    }

    #[test]
    fn counts_agree_with_their_number() {
        assert_eq!(count(0u32, "peer"), "0 peers");
        assert_eq!(count(1u32, "peer"), "1 peer");
        assert_eq!(count(2u32, "message"), "2 messages");
    }

    #[test]
    fn dash_is_standard_input() {
        assert_eq!(source("-").unwrap(), Source::Stdin);
        assert_eq!(source("a").unwrap(), Source::File("a".into()));
        assert_eq!(hex_bytes(" 00ff\n").unwrap(), HexBytes(vec![0, 255]));
        assert!(hex_bytes("zz").unwrap_err().to_string().contains("bad hex"));
    }
}
