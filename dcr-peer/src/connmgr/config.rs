//! The connection manager's configuration, the events it reports and its
//! errors.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

use super::addrbook::{AddressBook, AddressSource};
use crate::config::Config;
use crate::error::{DisconnectReason, PeerError};
use crate::hooks::Hooks;
use crate::listeners::PeerEvent;
use crate::stats::PeerStats;

/// Outbound peers kept connected (dcrd's default).
pub const DEFAULT_TARGET_OUTBOUND: usize = 8;
/// Inbound peers accepted at most (dcrd's 125 peers less the outbound).
pub const DEFAULT_MAX_INBOUND: usize = 117;
/// Connections from one IP at most (dcrd's `--maxsameip`).
pub const DEFAULT_MAX_PER_HOST: usize = 5;
/// The first wait before reconnecting a persistent peer; it doubles per
/// failure.
pub const DEFAULT_RETRY_BASE: Duration = Duration::from_secs(5);
/// The longest wait before reconnecting a persistent peer.
pub const DEFAULT_RETRY_MAX: Duration = Duration::from_secs(300);
/// The misbehaviour score at which an address is banned (dcrd's).
pub const DEFAULT_BAN_THRESHOLD: u32 = 100;
/// How long a ban lasts (dcrd's).
pub const DEFAULT_BAN_DURATION: Duration = Duration::from_secs(24 * 3600);

/// How the manager behaves. `ManagerConfig::new(peer_config)` gives
/// dcrd-like defaults.
#[derive(Clone)]
pub struct ManagerConfig {
    /// The configuration every peer gets (network, user agent, ...).
    pub peer: Config,
    /// The wiring every peer gets (listeners, nonces, ...). Its `events`
    /// channel is taken over by the manager; use
    /// [`ManagerConfig::events`] to receive messages.
    pub hooks: Hooks,
    /// Outbound peers to keep connected (dcrd: 8).
    pub target_outbound: usize,
    /// Inbound peers accepted at most (dcrd: 125 total minus outbound).
    pub max_inbound: usize,
    /// Connections from one IP at most (dcrd's --maxsameip: 5).
    pub max_per_host: usize,
    /// IPs that bypass the inbound limits and are never banned.
    pub whitelist: Vec<IpAddr>,
    /// Where to accept inbound peers.
    pub listen: Vec<SocketAddr>,
    /// Addresses to start the address book with.
    pub seeds: Vec<SocketAddr>,
    /// Peers always reconnected.
    pub persistent: Vec<SocketAddr>,
    /// Time one outbound connection attempt may take.
    pub dial_timeout: Duration,
    /// First retry delay for a persistent peer; doubles per failure.
    pub retry_base: Duration,
    /// Retry delays never exceed this.
    pub retry_max: Duration,
    /// Misbehaviour score at which an address is banned (dcrd: 100).
    pub ban_threshold: u32,
    /// How long a ban lasts (dcrd: 24 h).
    pub ban_duration: Duration,
    /// Ask every new outbound peer for addresses.
    pub get_addr_on_connect: bool,
    /// Where addresses come from (default: a fresh [`AddressBook`]).
    pub source: Arc<dyn AddressSource>,
    /// Messages received by any peer, forwarded after the manager's own
    /// handling (addr, addrv2, getaddr).
    pub events: Option<mpsc::Sender<PeerEvent>>,
    /// Learn loopback, private and link-local addresses from peers too. Off
    /// by default, as in the reference: a public peer must not be able to
    /// make us dial into our own network. On for test networks on one
    /// machine or LAN.
    pub accept_local_addresses: bool,
}

impl ManagerConfig {
    /// The defaults around the peer configuration `peer`, with the
    /// default [`Hooks`].
    pub fn new(peer: Config) -> Self {
        ManagerConfig {
            peer,
            hooks: Hooks::default(),
            target_outbound: DEFAULT_TARGET_OUTBOUND,
            max_inbound: DEFAULT_MAX_INBOUND,
            max_per_host: DEFAULT_MAX_PER_HOST,
            whitelist: Vec::new(),
            listen: Vec::new(),
            seeds: Vec::new(),
            persistent: Vec::new(),
            dial_timeout: crate::net::DEFAULT_DIAL_TIMEOUT,
            retry_base: DEFAULT_RETRY_BASE,
            retry_max: DEFAULT_RETRY_MAX,
            ban_threshold: DEFAULT_BAN_THRESHOLD,
            ban_duration: DEFAULT_BAN_DURATION,
            get_addr_on_connect: true,
            source: Arc::new(AddressBook::default()),
            events: None,
            accept_local_addresses: false,
        }
    }
}

/// What happened, for the user.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum ManagerEvent {
    /// A peer completed its handshake.
    Connected(PeerStats),
    /// A peer left.
    Disconnected {
        /// Its address.
        addr: SocketAddr,
        /// Its id ([`crate::Peer::id`]).
        id: u64,
        /// Why it left.
        reason: DisconnectReason,
    },
    /// A peer told us of an address new to the book.
    AddressLearned(SocketAddr),
    /// An address was banned for misbehaving.
    Banned {
        /// The banned IP.
        ip: IpAddr,
        /// When the ban ends.
        until: Instant,
    },
    /// An outbound connection attempt failed.
    DialFailed {
        /// The address dialed.
        addr: SocketAddr,
        /// Why it failed (shared by every subscriber).
        error: Arc<PeerError>,
    },
}

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
    #[error("cannot listen on {0}: {1}")]
    /// A listener could not bind.
    Listen(SocketAddr, std::io::Error),
    #[error("{0}")]
    /// The peer failed.
    Peer(#[from] PeerError),
    #[error("{0} is banned")]
    /// The address is banned.
    Banned(IpAddr),
    #[error("cannot connect to {addr}: {error}")]
    /// A connection the caller asked for failed.
    Dial {
        /// The address dialed.
        addr: SocketAddr,
        /// Why it failed.
        #[source]
        error: Arc<PeerError>,
    },
    #[error("already connected or connecting to {0}")]
    /// A peer at this address is already connected.
    Duplicate(SocketAddr),
    /// A crawl's seed could not be reached (or refused the handshake), so
    /// there was nothing to crawl.
    #[error("seed {seed} unreachable: {error}")]
    SeedUnreachable {
        /// The seed dialed.
        seed: SocketAddr,
        /// Why the dial failed.
        #[source]
        error: Arc<PeerError>,
    },
}
