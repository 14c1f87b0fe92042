//! The connection manager's configuration and the events it reports.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use dcr_wire::ServiceFlags;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::book::AddressSource;
use super::policy::{self, NetworkRules, Whitelist};
use crate::config::Config;
use crate::error::{DisconnectReason, PeerError};
use crate::hooks::Hooks;
use crate::listeners::PeerEvent;
use crate::peer::Peer;
use crate::stats::PeerStats;

pub use super::policy::{
    DEFAULT_BAN_DURATION, DEFAULT_BAN_THRESHOLD, DEFAULT_MAX_PEERS, DEFAULT_MAX_PER_HOST,
    DEFAULT_MAX_RETRY_DURATION, DEFAULT_RETRY_DURATION, DEFAULT_TARGET_OUTBOUND, MAX_PERSISTENT,
};

/// Called with each peer the manager adds, inbound and outbound, right
/// after its handshake and before the manager sends it anything (dcrd's
/// `serverPeer.Run`, which queues `sendheaders` before `AddPeer`).
pub type PeerHook = Arc<dyn Fn(&Peer) + Send + Sync>;

/// How the manager behaves. `ManagerConfig::new(peer_config)` gives
/// dcrd's defaults for the peer configuration's network.
#[derive(Clone)]
pub struct ManagerConfig {
    /// The configuration every peer gets (network, user agent, ...).
    pub peer: Config,
    /// The wiring every peer gets (listeners, nonces, ...). Its `events`
    /// channel and `version_rule` are taken over by the manager; use
    /// [`ManagerConfig::events`] to receive messages.
    pub hooks: Hooks,
    /// Automatic outbound peers to keep (dcrd: 8, at most `max_peers`).
    /// Persistent peers are not counted.
    pub target_outbound: usize,
    /// Peers at most, inbound (pending too), automatic outbound (pending
    /// too) and manual together (dcrd's `--maxpeers`: 125); persistent
    /// peers and whitelisted inbound ones are not counted.
    pub max_peers: usize,
    /// Connections with one IP at most, inbound and outbound (dcrd's
    /// `--maxsameip`: 5; 0: no limit). Loopback and whitelisted addresses
    /// are exempt.
    pub max_per_host: usize,
    /// Loopback addresses are exempt from the per-host limit and the
    /// pending pool (dcrd's rule; on by default). Off only where loopback
    /// addresses stand in for remote hosts, as in tests of the limits.
    pub exempt_loopback: bool,
    /// Addresses never banned, exempt from the per-host limit, the pending
    /// pool and (inbound) `max_peers` (dcrd's `--whitelist`).
    pub whitelist: Whitelist,
    /// Where to accept inbound peers.
    pub listen: Vec<SocketAddr>,
    /// Addresses to start the book with (stamped 3 to 7 days ago, as dcrd
    /// stamps seeders' answers).
    pub seeds: Vec<SocketAddr>,
    /// Peers always reconnected (at most 8, dcrd's `--addpeer` and
    /// `--connect`).
    pub persistent: Vec<SocketAddr>,
    /// Time one outbound connection attempt may take.
    pub dial_timeout: Duration,
    /// The base retry wait, and how long a persistent connection must
    /// last from its attempt to count as kept (dcrd: 5 s).
    pub retry_duration: Duration,
    /// Retry waits never exceed this (dcrd: 5 min).
    pub retry_max: Duration,
    /// A score above this bans (dcrd's `--banthreshold`: 100).
    pub ban_threshold: u32,
    /// How long a ban lasts (dcrd's `--banduration`: 24 h).
    pub ban_duration: Duration,
    /// Neither score nor ban (dcrd's `--nobanning`).
    pub no_banning: bool,
    /// Services every outbound peer must advertise, or its handshake is
    /// refused (dcrd: `SFNodeNetwork`).
    pub required_services: ServiceFlags,
    /// What the network exchanges: set by [`ManagerConfig::new`] from
    /// the peer configuration's network (nothing on simnet and regnet);
    /// [`ManagerConfig::connect_only`] turns automatic outbound off.
    pub rules: NetworkRules,
    /// Where addresses come from and go. `None`: dcrd's address manager
    /// ([`super::AddressBook`]), loaded from and saved to `datadir` when
    /// set.
    pub source: Option<Arc<dyn AddressSource>>,
    /// Where the default address book is kept (`peers.json`): loaded at
    /// start, saved every 10 minutes and at shutdown.
    pub datadir: Option<PathBuf>,
    /// Messages received by any peer, forwarded after the manager's own
    /// handling (addr, addrv2, getaddr).
    pub events: Option<mpsc::Sender<PeerEvent>>,
    /// Called with each peer as it is added, before the manager sends it
    /// anything.
    pub on_peer: Option<PeerHook>,
}

impl ManagerConfig {
    /// dcrd's defaults around the peer configuration `peer`, with the
    /// default [`Hooks`], for `peer`'s network.
    pub fn new(peer: Config) -> Self {
        let rules = NetworkRules::of(peer.net);
        ManagerConfig {
            peer,
            hooks: Hooks::default(),
            target_outbound: DEFAULT_TARGET_OUTBOUND,
            max_peers: DEFAULT_MAX_PEERS,
            max_per_host: DEFAULT_MAX_PER_HOST,
            exempt_loopback: true,
            whitelist: Whitelist::default(),
            listen: Vec::new(),
            seeds: Vec::new(),
            persistent: Vec::new(),
            dial_timeout: crate::net::DEFAULT_DIAL_TIMEOUT,
            retry_duration: DEFAULT_RETRY_DURATION,
            retry_max: DEFAULT_MAX_RETRY_DURATION,
            ban_threshold: DEFAULT_BAN_THRESHOLD,
            ban_duration: DEFAULT_BAN_DURATION,
            no_banning: false,
            required_services: policy::REQUIRED_SERVICES,
            rules,
            source: None,
            datadir: None,
            events: None,
            on_peer: None,
        }
    }

    /// dcrd's `--connect`: only the persistent peers, no automatic
    /// outbound connections (and, as ever here, no implicit listener).
    pub fn connect_only(mut self) -> Self {
        self.rules.automatic_outbound = false;
        self
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
