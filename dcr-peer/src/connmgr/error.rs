//! The connection manager's errors, and the ban record it reports.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use dcr_wire::Counted;

use crate::error::PeerError;

/// A ban in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BanInfo {
    /// The banned IP.
    pub ip: IpAddr,
    /// Time left.
    pub remaining: Duration,
}

/// Why a manager call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ManagerError {
    #[error("connection manager stopped")]
    /// The manager has stopped.
    Stopped,
    #[error("cannot listen on {0}")]
    /// A listener could not bind.
    Listen(SocketAddr, #[source] std::io::Error),
    #[error(transparent)]
    /// The peer failed.
    Peer(#[from] PeerError),
    #[error("{0} is banned")]
    /// The address is banned.
    Banned(IpAddr),
    #[error("cannot connect to {addr}")]
    /// A connection the caller asked for failed.
    Dial {
        /// The address dialed.
        addr: SocketAddr,
        /// Why it failed.
        #[source]
        error: Arc<PeerError>,
    },
    #[error("already connected, connecting or persistent: {0}")]
    /// A peer at this address is already connected, being dialled or
    /// persistent.
    Duplicate(SocketAddr),
    #[error("too many connections with {0}")]
    /// The per-host limit (`--maxsameip`) is reached.
    PerHostLimit(IpAddr),
    #[error("a maximum of {} is allowed", Counted(*.0 as u64, "peer", "peers"))]
    /// `max_peers` is reached.
    PeerLimit(usize),
    #[error("a maximum of {} is allowed", Counted(*.0 as u64, "persistent peer", "persistent peers"))]
    /// As many persistent peers as allowed exist.
    MaxPersistent(usize),
    #[error("invalid whitelist entry {0:?}")]
    /// A whitelist entry that is neither a prefix nor an IP.
    BadWhitelist(String),
    #[error("cannot open the address book in {}", .0.display())]
    /// The data directory cannot be made.
    DataDir(PathBuf, #[source] std::io::Error),
    /// A crawl's seed could not be reached (or refused the handshake), so
    /// there was nothing to crawl.
    #[error("seed {seed} unreachable")]
    SeedUnreachable {
        /// The seed dialed.
        seed: SocketAddr,
        /// Why the dial failed.
        #[source]
        error: Arc<PeerError>,
    },
    /// A crawl's time ran out before its seed completed a handshake or
    /// failed, so nothing was crawled.
    #[error("seed {seed} did not answer within the crawl's {}", humantime_secs(*.within))]
    SeedSilent {
        /// The seed dialed.
        seed: SocketAddr,
        /// The crawl's duration.
        within: std::time::Duration,
    },
}

/// `12 s`, `1.5 s`: a duration as the CLI's messages give it.
fn humantime_secs(d: std::time::Duration) -> String {
    format!("{} s", d.as_secs_f64())
}
