//! Dialing and accepting peers: TCP directly or through a SOCKS5 proxy,
//! and an accept loop that keeps going whatever one connection does.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::debug;

use crate::accept::{next_connection, Handshakes};
use crate::admission::Limits;
use crate::config::Config;
use crate::error::PeerError;
use crate::fsm::handshake::Direction;
use crate::hooks::Hooks;
use crate::peer::Peer;
use crate::proxy::{dial_proxy, split_host_port};
pub use crate::proxy::{socks5_connect, Proxy, ProxyAuth, ProxyError};

/// Time allowed to open a TCP connection (the reference's dial timeout),
/// and, through a proxy, for the proxy's SOCKS5 exchange as well.
pub const DEFAULT_DIAL_TIMEOUT: Duration = Duration::from_secs(30);

/// Inbound connections [`serve`] holds in their handshake at once (see
/// [`crate::admission`] for who gets a place when they are all taken).
pub const MAX_PENDING_INBOUND: usize = crate::admission::MAX_PENDING;

/// How often [`serve`] closes pending connections past the deadline the
/// pool applies under pressure.
const EXPIRY_TICK: Duration = Duration::from_millis(500);

/// Connects to `addr` (`host:port`, or a host or IP alone for the port of
/// [`Config::net`], as [`dcr_wire::CurrencyNet::with_default_port`]
/// completes it), through [`Config::proxy`] when set, and runs the
/// outbound handshake.
pub async fn connect(addr: &str, config: Config, hooks: Hooks) -> Result<Peer, PeerError> {
    config.validate()?;
    let addr = &config.net.with_default_port(addr);
    let (stream, remote) = match &config.proxy {
        Some(proxy) => {
            let stream = tokio::time::timeout(DEFAULT_DIAL_TIMEOUT, dial_proxy(proxy))
                .await
                .map_err(|_| PeerError::ConnectTimeout)??;
            let proxy_addr = stream.peer_addr()?;
            let (host, port) = split_host_port(addr).map_err(|()| ProxyError::BadTarget {
                target: addr.to_string(),
            })?;
            // A proxy that stalls (or Tor waiting on a dead remote) must not
            // hold the dial forever.
            let stream = tokio::time::timeout(
                DEFAULT_DIAL_TIMEOUT,
                socks5_connect(stream, proxy, &host, port),
            )
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
    let local = stream.local_addr().ok();
    Peer::start_on(stream, (remote, local), Direction::Outbound, config, hooks).await
}

async fn dial(addr: &str) -> Result<TcpStream, PeerError> {
    match tokio::time::timeout(DEFAULT_DIAL_TIMEOUT, TcpStream::connect(addr)).await {
        Ok(r) => Ok(r?),
        Err(_) => Err(PeerError::ConnectTimeout),
    }
}

/// Accepts one connection on `listener` and runs the inbound handshake.
pub async fn accept(
    listener: &TcpListener,
    config: Config,
    hooks: Hooks,
) -> Result<Peer, PeerError> {
    let (stream, addr) = listener.accept().await?;
    stream.set_nodelay(true)?;
    let local = stream.local_addr().ok();
    Peer::start_on(stream, (addr, local), Direction::Inbound, config, hooks).await
}

/// Accepts connections on `listener` until the returned receiver is
/// dropped, each handshake in its own task, and hands out the peers that
/// complete it. A failing connection is logged and never stops the loop.
///
/// Connections in their handshake hold places in a
/// [`PendingPool`](crate::admission::PendingPool): at
/// most [`MAX_PENDING_INBOUND`], a few per source address and per address
/// group, and a newcomer displaces (closes) the oldest pending connection
/// of its own address or group, or of the most crowded group when the
/// pool is full, so connections that never finish their handshake cannot
/// keep a new peer out. Under pressure pending connections get a shorter
/// deadline. A handshaken peer counts against the limits from the end of
/// its handshake for as long as it is connected, taken from the receiver
/// or not.
/// Loopback connections skip the pool, as dcrd exempts them from its
/// inbound limits ([`crate::admission::exempt`]); no bound on the peers
/// held ([`Limits::max_peers`]) unless [`serve_with`] is given one.
pub fn serve(listener: TcpListener, config: Config, hooks: Hooks) -> mpsc::Receiver<Peer> {
    serve_with(listener, config, hooks, Limits::default())
}

/// [`serve`] with other bounds for its pool.
pub fn serve_with(
    listener: TcpListener,
    config: Config,
    hooks: Hooks,
    limits: Limits,
) -> mpsc::Receiver<Peer> {
    let (tx, rx) = mpsc::channel(64);
    tokio::spawn(serve_loop(listener, config, hooks, limits, tx));
    rx
}

/// [`serve`]'s task: accepts, admits and handshakes through
/// [`Handshakes`], and hands each peer on. A peer counts against the
/// limits from the end of its handshake for as long as it is connected,
/// whether or not the receiver has taken it yet.
async fn serve_loop(
    listener: TcpListener,
    config: Config,
    hooks: Hooks,
    limits: Limits,
    tx: mpsc::Sender<Peer>,
) {
    let (done_tx, mut done) = mpsc::channel(64);
    let stop = CancellationToken::new();
    let tasks = TaskTracker::new();
    let mut handshakes = Handshakes::new(limits, config, hooks, stop.clone(), tasks, done_tx);
    let mut expiry = tokio::time::interval(EXPIRY_TICK);
    // Peers handed over, kept only to count them against `max_peers` and
    // `max_per_host`.
    let mut held: Vec<Peer> = Vec::new();
    loop {
        tokio::select! {
            _ = tx.closed() => break,
            _ = expiry.tick() => handshakes.expire(Instant::now()),
            (stream, addr) = next_connection(&listener) => {
                let now = Instant::now();
                handshakes.expire(now);
                let exempt = crate::admission::exempt(addr.ip(), false, &limits);
                // dcrd's order: the per-host limit, then the total.
                if let Some(max) = limits.max_per_host.filter(|&m| m > 0 && !exempt) {
                    let ip = addr.ip().to_canonical();
                    let same = |a: IpAddr| a.to_canonical() == ip;
                    held.retain(Peer::is_connected);
                    let n = handshakes.addrs().filter(|a| same(a.ip())).count()
                        + held.iter().filter(|p| same(p.addr().ip())).count();
                    if n >= max {
                        debug!(%addr, max, "inbound connection refused: per-host limit");
                        continue; // dropping the stream closes it
                    }
                }
                if let Some(max) = limits.max_peers {
                    if handshakes.len() + held.len() >= max {
                        held.retain(Peer::is_connected);
                    }
                    if handshakes.len() + held.len() >= max {
                        debug!(%addr, max, "inbound connection refused: peer limit");
                        continue; // dropping the stream closes it
                    }
                }
                if let Err(refusal) = handshakes.admit(stream, addr, exempt, now) {
                    debug!(%addr, ?refusal, "inbound connection refused");
                }
            }
            Some(h) = done.recv() => match h.result {
                Ok(peer) => {
                    // Counted as a peer from the end of its handshake, while
                    // it is connected: a peer handed over and gone frees its
                    // place at once, however soon it went.
                    handshakes.finish(h.id);
                    if limits.max_peers.is_some() || limits.max_per_host.is_some() {
                        held.push(peer.clone());
                    }
                    let tx = tx.clone();
                    tokio::spawn(async move {
                        if let Err(mpsc::error::SendError(peer)) = tx.send(peer).await {
                            peer.disconnect();
                        }
                    });
                }
                Err(e) => {
                    debug!(addr = %h.addr, error = %dcr_wire::Report(&e), "inbound handshake failed");
                    handshakes.finish(h.id);
                }
            },
        }
    }
    // Nobody takes peers any more: the pending handshakes end too.
    handshakes.drain();
    stop.cancel();
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::Mutex as StdMutex;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

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

    async fn through(reply: Vec<u8>) -> Result<TcpStream, ProxyError> {
        let proxy = Proxy::new(fake_proxy(reply).await);
        let s = TcpStream::connect(&proxy.addr).await.unwrap();
        socks5_connect(s, &proxy, "node.example", 9108).await
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
            matches!(&refused, Err(ProxyError::ConnectFailed { code: 5, .. })),
            "{refused:?}"
        );
        assert!(refused
            .unwrap_err()
            .to_string()
            .contains("connection refused"));
        // Not SOCKS5, and an unknown address type.
        assert!(matches!(
            through(vec![4, 0, 0, 1]).await,
            Err(ProxyError::NotSocks5 { version: 4, .. })
        ));
        assert!(matches!(
            through(vec![5, 0, 0, 9]).await,
            Err(ProxyError::BadReply { atyp: 9, .. })
        ));
    }

    #[tokio::test(start_paused = true)]
    async fn a_silent_proxy_times_out() {
        // The proxy takes the CONNECT and never answers it; the paused clock
        // jumps to the deadline as soon as everything waits.
        let proxy = fake_proxy(Vec::new()).await;
        let mut cfg = Config::new(dcr_wire::CurrencyNet::SimNet);
        cfg.proxy = Some(proxy.into());
        let r = connect("node.example:9108", cfg, Hooks::default()).await;
        assert!(matches!(r, Err(PeerError::ConnectTimeout)), "{:?}", r.err());
    }

    /// A SOCKS5 server on loopback (RFC 1928 CONNECT to IPv4 targets, RFC
    /// 1929 username and password when `password` is set) that relays to
    /// the target and records every username it was given.
    async fn socks5_server(password: Option<&'static str>) -> (String, Arc<StdMutex<Vec<String>>>) {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap().to_string();
        let users = Arc::new(StdMutex::new(Vec::new()));
        let seen = users.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut s, _)) = l.accept().await else {
                    return;
                };
                let seen = seen.clone();
                tokio::spawn(async move {
                    let mut head = [0u8; 2];
                    s.read_exact(&mut head).await?;
                    let mut methods = vec![0u8; usize::from(head[1])];
                    s.read_exact(&mut methods).await?;
                    let want = if password.is_some() { 2 } else { 0 };
                    if !methods.contains(&want) {
                        return s.write_all(&[5, 0xff]).await;
                    }
                    s.write_all(&[5, want]).await?;
                    if let Some(expected) = password {
                        let mut v = [0u8; 2];
                        s.read_exact(&mut v).await?;
                        let mut user = vec![0u8; usize::from(v[1])];
                        s.read_exact(&mut user).await?;
                        let plen = s.read_u8().await?;
                        let mut pass = vec![0u8; usize::from(plen)];
                        s.read_exact(&mut pass).await?;
                        seen.lock()
                            .unwrap()
                            .push(String::from_utf8_lossy(&user).into_owned());
                        // "*" accepts any password (as Tor does).
                        let ok = expected == "*" || pass == expected.as_bytes();
                        s.write_all(&[1, if ok { 0 } else { 1 }]).await?;
                        if !ok {
                            return Ok(());
                        }
                    }
                    let mut req = [0u8; 10];
                    s.read_exact(&mut req).await?;
                    assert_eq!(req[..4], [5, 1, 0, 1], "CONNECT to an IPv4 address");
                    let ip = std::net::Ipv4Addr::new(req[4], req[5], req[6], req[7]);
                    let port = u16::from_be_bytes([req[8], req[9]]);
                    match TcpStream::connect((ip, port)).await {
                        Ok(mut target) => {
                            s.write_all(&[5, 0, 0, 1, 127, 0, 0, 1, 0, 0]).await?;
                            tokio::io::copy_bidirectional(&mut s, &mut target).await?;
                        }
                        Err(_) => s.write_all(&[5, 5, 0, 1, 0, 0, 0, 0, 0, 0]).await?,
                    }
                    Ok::<(), std::io::Error>(())
                });
            }
        });
        (addr, users)
    }

    /// A peer accepting on loopback, standing in for a remote node.
    async fn remote_peer() -> String {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap().to_string();
        tokio::spawn(async move {
            let cfg = Config::new(dcr_wire::CurrencyNet::SimNet);
            let hooks = Hooks::new().with_nonces(crate::RecentNonces::new());
            while let Ok(p) = accept(&l, cfg.clone(), hooks.clone()).await {
                tokio::spawn(async move { p.wait_for_disconnect().await });
            }
        });
        addr
    }

    fn via(proxy: Proxy) -> Config {
        let mut cfg = Config::new(dcr_wire::CurrencyNet::SimNet);
        cfg.proxy = Some(proxy);
        cfg
    }

    #[tokio::test]
    async fn a_peer_through_a_socks5_proxy_with_a_password() {
        let (proxy, users) = socks5_server(Some("s3cret")).await;
        let target = remote_peer().await;
        let url = format!("socks5://alice:s3cret@{proxy}");
        let peer = connect(&target, via(url.parse().unwrap()), Hooks::default())
            .await
            .unwrap();
        assert!(peer.remote_version().is_some());
        peer.disconnect();
        assert_eq!(*users.lock().unwrap(), ["alice"]);

        // A wrong password: refused, and the error names the proxy.
        let url = format!("socks5://alice:wrong@{proxy}");
        let err = connect(&target, via(url.parse().unwrap()), Hooks::default())
            .await
            .unwrap_err();
        assert!(
            matches!(&err, PeerError::Proxy(ProxyError::AuthFailed { .. })),
            "{err:?}"
        );
        assert!(err.to_string().contains(&proxy), "{err}");

        // Without credentials the proxy accepts none of our methods.
        let err = connect(&target, via(Proxy::new(proxy.clone())), Hooks::default())
            .await
            .unwrap_err();
        assert!(
            matches!(
                &err,
                PeerError::Proxy(ProxyError::NoAcceptableMethod { .. })
            ),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn stream_isolation_gives_every_connection_fresh_credentials() {
        let (proxy, users) = socks5_server(Some("*")).await;
        let target = remote_peer().await;
        let isolated = Proxy::new(proxy).with_auth(ProxyAuth::Isolated);
        for _ in 0..3 {
            let peer = connect(&target, via(isolated.clone()), Hooks::default())
                .await
                .unwrap();
            peer.disconnect();
        }
        let users = users.lock().unwrap().clone();
        assert_eq!(users.len(), 3);
        assert!(users[0] != users[1] && users[1] != users[2] && users[0] != users[2]);
    }

    /// An address without a port is dialed on the network's port, not
    /// refused as "invalid socket address".
    #[tokio::test]
    async fn an_address_without_a_port_takes_the_networks() {
        // Nobody listens on 127.0.0.2 (a loopback address no test binds):
        // the dial is refused there, on 18655. Should a node listen there
        // on every address, reaching it shows the port as well, and any
        // failure but the address's own is fine.
        let cfg = Config::new(dcr_wire::CurrencyNet::RegNet);
        let err = match connect("127.0.0.2", cfg, Hooks::default()).await {
            Ok(_reached_on_18655) => return,
            Err(e) => e,
        };
        let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&err);
        let mut kind = None;
        while let Some(c) = cause {
            if let Some(io) = c.downcast_ref::<std::io::Error>() {
                kind = Some(io.kind());
            }
            cause = c.source();
        }
        assert_ne!(kind, Some(std::io::ErrorKind::InvalidInput), "{err}");
        assert!(!err.to_string().contains("invalid socket address"), "{err}");
    }

    #[tokio::test]
    async fn an_unreachable_proxy_is_named_and_its_io_error_kept() {
        use std::error::Error as _;
        let dead = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .to_string();
        let err = connect(
            "127.0.0.1:9",
            via(Proxy::new(dead.clone())),
            Hooks::default(),
        )
        .await
        .unwrap_err();
        assert!(err.to_string().contains(&dead), "{err}");
        // PeerError::Proxy is the proxy's error (transparent): its source
        // is the proxy's.
        let io = err
            .source()
            .and_then(|s| s.downcast_ref::<std::io::Error>())
            .expect("the io::Error as the proxy error's source");
        assert_eq!(io.kind(), std::io::ErrorKind::ConnectionRefused);
    }
}
