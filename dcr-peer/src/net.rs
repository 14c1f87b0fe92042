//! Dialing and accepting peers: TCP directly or through a SOCKS5 proxy,
//! and an accept loop that keeps going whatever one connection does.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::{debug, warn};

use crate::admission::{Limits, PendingPool};

use crate::config::Config;
use crate::error::PeerError;
use crate::peer::Peer;

/// Time allowed to open a TCP connection (the reference's dial timeout),
/// and, through a proxy, for the proxy's SOCKS5 exchange as well.
pub const DEFAULT_DIAL_TIMEOUT: Duration = Duration::from_secs(30);

/// Inbound connections [`serve`] holds in their handshake at once (see
/// [`crate::admission`] for who gets a place when they are all taken).
pub const MAX_PENDING_INBOUND: usize = crate::admission::MAX_PENDING;

/// How often [`serve`] closes pending connections past the deadline the
/// pool applies under pressure.
const EXPIRY_TICK: Duration = Duration::from_millis(500);

/// Connects to `addr` (`host:port`), through [`Config::proxy`] when set,
/// and runs the outbound handshake.
pub async fn connect(addr: &str, config: Config) -> Result<Peer, PeerError> {
    config.validate()?;
    let (stream, remote) = match &config.proxy {
        Some(proxy) => {
            let stream = dial(proxy).await?;
            let proxy_addr = stream.peer_addr()?;
            let (host, port) = split_host_port(addr)?;
            // A proxy that stalls (or Tor waiting on a dead remote) must not
            // hold the dial forever.
            let stream =
                tokio::time::timeout(DEFAULT_DIAL_TIMEOUT, socks5_connect(stream, &host, port))
                    .await
                    .map_err(|_| PeerError::ConnectTimeout)??;
            // Where the remote's address is a name, the version message
            // carries the proxy's address, which it then masks.
            let remote = addr.parse().unwrap_or(proxy_addr);
            (stream, remote)
        }
        None => {
            let stream = dial(addr).await?;
            let remote = stream.peer_addr()?;
            (stream, remote)
        }
    };
    stream.set_nodelay(true)?;
    Peer::outbound(stream, remote, config).await
}

async fn dial(addr: &str) -> Result<TcpStream, PeerError> {
    match tokio::time::timeout(DEFAULT_DIAL_TIMEOUT, TcpStream::connect(addr)).await {
        Ok(r) => Ok(r?),
        Err(_) => Err(PeerError::ConnectTimeout),
    }
}

/// `host:port`, `v4:port` or `[v6]:port` split; a bare IPv6 address (no
/// brackets, so no port) is refused rather than cut at its last colon.
fn split_host_port(addr: &str) -> Result<(String, u16), PeerError> {
    if let Ok(sa) = addr.parse::<std::net::SocketAddr>() {
        return Ok((sa.ip().to_string(), sa.port()));
    }
    let bad = || PeerError::Proxy(format!("address {addr:?} is not host:port"));
    let (host, port) = addr.rsplit_once(':').ok_or_else(bad)?;
    if host.contains(':') {
        return Err(bad());
    }
    Ok((host.to_string(), port.parse().map_err(|_| bad())?))
}

/// The SOCKS5 CONNECT exchange (RFC 1928, no authentication) on a stream
/// already connected to the proxy. The host is sent as a name when it is
/// not an IP address, so the proxy resolves it (as Tor needs).
pub async fn socks5_connect(
    mut s: TcpStream,
    host: &str,
    port: u16,
) -> Result<TcpStream, PeerError> {
    let fail = |m: &str| PeerError::Proxy(m.to_string());
    s.write_all(&[5, 1, 0]).await?;
    let mut reply = [0u8; 2];
    s.read_exact(&mut reply).await?;
    if reply != [5, 0] {
        return Err(fail("proxy refused the no-authentication method"));
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
            let name = host.as_bytes();
            let len =
                u8::try_from(name.len()).map_err(|_| fail("host name longer than 255 bytes"))?;
            req.push(3);
            req.push(len);
            req.extend_from_slice(name);
        }
    }
    req.extend_from_slice(&port.to_be_bytes());
    s.write_all(&req).await?;
    let mut head = [0u8; 4];
    s.read_exact(&mut head).await?;
    if head[0] != 5 {
        return Err(fail("not a SOCKS5 proxy"));
    }
    if head[1] != 0 {
        return Err(PeerError::Proxy(format!(
            "proxy could not connect (code {})",
            head[1]
        )));
    }
    // Skip the bound address the proxy reports.
    let skip = match head[3] {
        1 => 4,
        4 => 16,
        3 => usize::from(s.read_u8().await?),
        _ => return Err(fail("bad address type in proxy reply")),
    };
    let mut rest = vec![0u8; skip + 2];
    s.read_exact(&mut rest).await?;
    Ok(s)
}

/// Accepts one connection on `listener` and runs the inbound handshake.
pub async fn accept(listener: &TcpListener, config: Config) -> Result<Peer, PeerError> {
    let (stream, addr) = listener.accept().await?;
    stream.set_nodelay(true)?;
    Peer::inbound(stream, addr, config).await
}

/// Accepts connections on `listener` until the returned receiver is
/// dropped, each handshake in its own task, and hands out the peers that
/// complete it. A failing connection is logged and never stops the loop.
///
/// Connections in their handshake hold places in a [`PendingPool`]: at
/// most [`MAX_PENDING_INBOUND`], a few per source address and per address
/// group, and a newcomer displaces (closes) the oldest pending connection
/// of its own address or group, or of the most crowded group when the
/// pool is full, so connections that never finish their handshake cannot
/// keep a new peer out. Under pressure pending connections get a shorter
/// deadline. A peer keeps its place until it is taken from the receiver.
pub fn serve(listener: TcpListener, config: Config) -> mpsc::Receiver<Peer> {
    serve_with(listener, config, Limits::default())
}

/// [`serve`] with other bounds for its pool.
pub fn serve_with(listener: TcpListener, config: Config, limits: Limits) -> mpsc::Receiver<Peer> {
    let (tx, rx) = mpsc::channel(64);
    let pool = Arc::new(Mutex::new(PendingPool::new(limits)));
    tokio::spawn(async move {
        let mut expiry = tokio::time::interval(EXPIRY_TICK);
        loop {
            let accepted = tokio::select! {
                _ = tx.closed() => break,
                _ = expiry.tick() => {
                    close_all(lock(&pool).expire(Instant::now()));
                    continue;
                }
                r = listener.accept() => r,
            };
            let (stream, addr) = match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of descriptors and the like: back off a little.
                    warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let cancel = CancellationToken::new();
            let admitted = {
                let mut pool = lock(&pool);
                close_all(pool.expire(Instant::now()));
                pool.admit(addr.ip(), Instant::now(), cancel.clone())
            };
            let id = match admitted {
                Ok((id, displaced)) => {
                    close_all(displaced);
                    id
                }
                Err(refusal) => {
                    debug!(%addr, ?refusal, "inbound connection refused");
                    continue;
                }
            };
            let _ = stream.set_nodelay(true);
            tokio::spawn(handshake(
                stream,
                addr,
                config.clone(),
                tx.clone(),
                (pool.clone(), id),
                cancel,
            ));
        }
        // Nobody takes peers any more: the pending handshakes end too.
        close_all(lock(&pool).drain());
    });
    rx
}

/// One inbound connection's handshake, ended early if its place in the
/// pool is taken; the peer is handed out, then the place freed.
async fn handshake(
    stream: TcpStream,
    addr: SocketAddr,
    config: Config,
    tx: mpsc::Sender<Peer>,
    (pool, id): (Arc<Mutex<PendingPool<CancellationToken>>>, u64),
    cancel: CancellationToken,
) {
    let done = tokio::select! {
        _ = cancel.cancelled() => {
            debug!(%addr, "pending inbound connection closed to make room");
            None
        }
        r = Peer::inbound(stream, addr, config) => Some(r),
    };
    match done {
        Some(Ok(peer)) => {
            lock(&pool).settle(id);
            if let Err(mpsc::error::SendError(peer)) = tx.send(peer).await {
                peer.disconnect();
            }
        }
        Some(Err(e)) => debug!(%addr, error = %e, "inbound handshake failed"),
        None => {}
    }
    lock(&pool).remove(id);
}

fn close_all(handles: impl IntoIterator<Item = CancellationToken>) {
    for h in handles {
        h.cancel();
    }
}

/// The pool, even if a thread panicked holding it (its state stays whole:
/// every change is one call).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

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

    /// A one-connection SOCKS5 proxy that answers the method selection and
    /// then replies to the CONNECT with `reply` (nothing if empty).
    async fn fake_proxy(reply: Vec<u8>) -> String {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap().to_string();
        tokio::spawn(async move {
            let (mut s, _) = l.accept().await.unwrap();
            let mut hello = [0u8; 3];
            s.read_exact(&mut hello).await.unwrap();
            s.write_all(&[5, 0]).await.unwrap();
            // CONNECT to a name: 5 1 0 3, length, name, port.
            let mut head = [0u8; 5];
            s.read_exact(&mut head).await.unwrap();
            let mut rest = vec![0u8; usize::from(head[4]) + 2];
            s.read_exact(&mut rest).await.unwrap();
            s.write_all(&reply).await.unwrap();
            // Hold the connection open until the client gives up.
            let _ = s.read(&mut [0u8; 1]).await;
        });
        addr
    }

    async fn through(reply: Vec<u8>) -> Result<TcpStream, PeerError> {
        let proxy = fake_proxy(reply).await;
        let s = TcpStream::connect(&proxy).await.unwrap();
        socks5_connect(s, "node.example", 9108).await
    }

    #[tokio::test]
    async fn socks5_replies() {
        // Success with a bound address given as a name: its bytes skipped.
        let mut ok = vec![5, 0, 0, 3, 4];
        ok.extend_from_slice(b"host");
        ok.extend_from_slice(&[0x23, 0x94]);
        assert!(through(ok).await.is_ok());
        // The proxy could not connect (code 5: refused).
        let refused = through(vec![5, 5, 0, 1, 0, 0, 0, 0, 0, 0]).await;
        assert!(
            matches!(&refused, Err(PeerError::Proxy(m)) if m.contains("code 5")),
            "{refused:?}"
        );
        // Not SOCKS5, and an unknown address type.
        assert!(matches!(
            through(vec![4, 0, 0, 1]).await,
            Err(PeerError::Proxy(_))
        ));
        assert!(matches!(
            through(vec![5, 0, 0, 9]).await,
            Err(PeerError::Proxy(_))
        ));
    }

    #[tokio::test(start_paused = true)]
    async fn a_silent_proxy_times_out() {
        // The proxy takes the CONNECT and never answers it; the paused clock
        // jumps to the deadline as soon as everything waits.
        let proxy = fake_proxy(Vec::new()).await;
        let mut cfg = Config::new(dcr_wire::CurrencyNet::SimNet);
        cfg.proxy = Some(proxy);
        let r = connect("node.example:9108", cfg).await;
        assert!(matches!(r, Err(PeerError::ConnectTimeout)), "{:?}", r.err());
    }
}
