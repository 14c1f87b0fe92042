//! Dialing a node, and saying why a dial failed the way `connect`, `crawl`
//! and `node` all say it.
//!
//! A node that closes the connection during the handshake is most often
//! of another network: it reads the first frame header, finds another
//! network's magic and hangs up (dcrd's `wire.ReadMessageN`: "message from
//! other network"). But a node that has banned our address hangs up too,
//! and so does one with no room for another peer, before reading anything
//! (dcrd's `server.handleBannedConn` and its connection manager's inbound
//! limit): both look the same from our side of the handshake. So a second,
//! silent connection tells them apart: a node that closes it at once
//! refused the address, whatever the network; one that waits for a
//! version (as a node of any network does) closed the first for its
//! frames. Which cannot say why a ban came: dcrd bans an address for a
//! day as soon as it sends another network's frames (its server's
//! `BanPeer` on a malformed message), so a dial with the wrong `--net` is
//! refused as banned from the next connection on, the silent one
//! included. The ban's sentence says so.

use std::time::Duration;

use anyhow::anyhow;
use dcr_peer::{Hooks, Peer, PeerError};
use dcr_wire::CurrencyNet;
use tokio::io::AsyncReadExt;

use crate::output::std_error_text;

/// How long the silent connection waits for the node to close it. dcrd
/// closes a banned address's connection as it accepts it; it gives a
/// handshake 30 s or more.
const PROBE_WAIT: Duration = Duration::from_millis(1500);

/// Dials `target` (`HOST:PORT`; through the proxy of `cfg` when set) and
/// runs the handshake; a failure says what it means for the user.
pub async fn dial(
    target: &str,
    net: CurrencyNet,
    cfg: dcr_peer::Config,
    hooks: Hooks,
) -> anyhow::Result<Peer> {
    let limit = 2 * dcr_peer::net::DEFAULT_DIAL_TIMEOUT + cfg.handshake_timeout;
    let proxied = cfg.proxy.is_some();
    match tokio::time::timeout(limit, dcr_peer::net::connect(target, cfg, hooks)).await {
        Err(_) => Err(anyhow!("{target}: timed out")),
        Ok(Ok(peer)) => Ok(peer),
        Ok(Err(e)) => {
            let probe = (!proxied).then_some(target);
            Err(anyhow!("{target}: {}", explain(&e, net, probe).await))
        }
    }
}

/// Why a dial to a node of `net` failed with `e`, as a sentence. When the
/// node closed the connection during the handshake and `probe` gives its
/// address (`HOST:PORT`; none through a proxy), a silent connection tells
/// a ban (or a full node) from another network (see the module's doc).
pub async fn explain(e: &PeerError, net: CurrencyNet, probe: Option<&str>) -> String {
    if !closed_during_handshake(e) {
        return std_error_text(e);
    }
    let net = net.name().to_ascii_lowercase();
    match probe {
        Some(addr) => match closes_silent_connections(addr).await {
            Some(true) => format!(
                "the node closed the connection before reading anything: it has banned this \
                 address, or has no room for another peer (dcrd bans an address for a day once \
                 it sends frames of another network: was it a {net} node the first time?)"
            ),
            _ => format!(
                "the connection closed during the handshake: is it a {net} node? (check --net)"
            ),
        },
        None => format!(
            "the connection closed during the handshake: is it a {net} node (check --net), or \
             has it banned this address?"
        ),
    }
}

/// Whether the remote hung up during the handshake: the connection ended
/// (end of file, reset, broken pipe) before the version exchange was done.
pub fn closed_during_handshake(e: &PeerError) -> bool {
    if matches!(
        e,
        PeerError::Disconnected(dcr_peer::DisconnectReason::RemoteClosed)
    ) {
        return true;
    }
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cause {
        if let Some(io) = c.downcast_ref::<std::io::Error>() {
            return closed(io.kind());
        }
        cause = c.source();
    }
    false
}

fn closed(kind: std::io::ErrorKind) -> bool {
    use std::io::ErrorKind as K;
    matches!(
        kind,
        K::UnexpectedEof | K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe
    )
}

/// Opens a connection to `addr` and sends nothing: `Some(true)` when the
/// node closes it within [`PROBE_WAIT`], `Some(false)` when it waits (or
/// speaks first), `None` when it cannot be reached at all.
async fn closes_silent_connections(addr: &str) -> Option<bool> {
    let dial = tokio::net::TcpStream::connect(addr);
    let mut stream = tokio::time::timeout(dcr_peer::net::DEFAULT_DIAL_TIMEOUT, dial)
        .await
        .ok()?
        .ok()?;
    let mut byte = [0u8; 1];
    match tokio::time::timeout(PROBE_WAIT, stream.read(&mut byte)).await {
        Err(_) => Some(false),
        Ok(Ok(0)) => Some(true),
        Ok(Ok(_)) => Some(false),
        Ok(Err(e)) => Some(closed(e.kind())),
    }
}
