//! Dialing and accepting peers: TCP directly or through a SOCKS5 proxy,
//! and an accept loop that keeps going whatever one connection does.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tracing::{debug, warn};

use crate::config::Config;
use crate::error::PeerError;
use crate::peer::Peer;

/// Time allowed to open a TCP connection (the reference's dial timeout).
pub const DEFAULT_DIAL_TIMEOUT: Duration = Duration::from_secs(30);

/// Connects to `addr` (`host:port`), through [`Config::proxy`] when set,
/// and runs the outbound handshake.
pub async fn connect(addr: &str, config: Config) -> Result<Peer, PeerError> {
    config.validate()?;
    let (stream, remote) = match &config.proxy {
        Some(proxy) => {
            let stream = dial(proxy).await?;
            let proxy_addr = stream.peer_addr()?;
            let (host, port) = split_host_port(addr)?;
            let stream = socks5_connect(stream, &host, port).await?;
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

fn split_host_port(addr: &str) -> Result<(String, u16), PeerError> {
    let bad = || PeerError::Proxy(format!("address {addr:?} is not host:port"));
    let (host, port) = addr.rsplit_once(':').ok_or_else(bad)?;
    let port = port.parse().map_err(|_| bad())?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    Ok((host.to_string(), port))
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
pub fn serve(listener: TcpListener, config: Config) -> mpsc::Receiver<Peer> {
    let (tx, rx) = mpsc::channel(64);
    tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                _ = tx.closed() => return,
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
            let _ = stream.set_nodelay(true);
            let tx = tx.clone();
            let config = config.clone();
            tokio::spawn(async move {
                match Peer::inbound(stream, addr, config).await {
                    Ok(peer) => {
                        if let Err(mpsc::error::SendError(peer)) = tx.send(peer).await {
                            peer.disconnect();
                        }
                    }
                    Err(e) => debug!(%addr, error = %e, "inbound handshake failed"),
                }
            });
        }
    });
    rx
}
