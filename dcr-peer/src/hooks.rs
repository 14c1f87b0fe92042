//! What a peer is wired to, apart from its [`Config`](crate::Config):
//! the callbacks it calls, the channel it delivers messages to, the set
//! of our version nonces, and the functions that fill in our version
//! message. A `Config` is plain data (it can be read from a file); a
//! `Hooks` is the running program's side, as nakamoto's `Hooks` and the
//! services zebra's `init` takes.
//!
//! Hooks refuse with a typed [`Refusal`], never a string.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use dcr_wire::{Hash, NetAddressV2, ServiceFlags, Version};
use tokio::sync::mpsc;

use crate::capture::CaptureSink;
use crate::fsm::handshake::Refusal;
use crate::listeners::{Listeners, NoListeners, PeerEvent};
use crate::nonces::RecentNonces;
use crate::peer::Peer;

/// Our best block, for the version message: hash and height.
pub type NewestBlockFn = Arc<dyn Fn() -> (Hash, i64) + Send + Sync>;

/// Maps an outbound peer's IP and port (and the services known for it,
/// none yet) to the address our version message gives it, as the
/// reference's `HostToNetAddress`: any `addrv2` form, a Tor v3 address
/// included (the version's old address form then carries it as the
/// unspecified IP with the port, as the reference writes it). A refusal
/// fails the handshake with it.
pub type HostToAddrFn =
    Arc<dyn Fn(IpAddr, u16, ServiceFlags) -> Result<NetAddressV2, Refusal> + Send + Sync>;

/// The node's own rule for a remote's version message, run during the
/// handshake before the listeners' `on_version`: a refusal fails the
/// handshake with it (dcrd's server `OnVersion`, which the connection
/// manager sets to refuse outbound peers without the services it needs).
pub type VersionRuleFn = Arc<dyn Fn(&Peer, &Version<'_>) -> Result<(), Refusal> + Send + Sync>;

/// A peer's wiring. `Hooks::default()` has no listeners, no event
/// channel, the process-wide nonce set, height 0, the remote's own
/// address in our version and no capture; set fields afterwards or with the `with_*`
/// setters. Clones share everything.
#[derive(Clone)]
#[non_exhaustive]
pub struct Hooks {
    /// Callbacks for what the peer receives and sends.
    pub listeners: Arc<dyn Listeners>,
    /// Where to deliver every message received after the handshake, as
    /// owned values, for async consumers (one channel may serve many
    /// peers). A consumer that leaves the channel full for
    /// [`Config::event_timeout`](crate::Config::event_timeout) gets the
    /// peer disconnected ([`crate::DisconnectReason::SlowConsumer`])
    /// instead of stalling its reader forever.
    pub events: Option<mpsc::Sender<PeerEvent>>,
    /// Our recent version nonces, for self-connection detection: two
    /// nodes in one process need one each.
    pub nonces: Arc<RecentNonces>,
    /// Our best block for the version message; height 0 when unset.
    pub newest_block: Option<NewestBlockFn>,
    /// Maps an outbound peer's address to the one our version message
    /// gives it (inbound peers get their own address and services).
    pub host_to_addr: Option<HostToAddrFn>,
    /// The node's own rule for the remote's version, before the
    /// listeners see it.
    pub version_rule: Option<VersionRuleFn>,
    /// Where every frame the peer sends and receives is recorded, the
    /// handshake's included, each connection under a number of its own
    /// (`docs/CAPTURE.md`); none when unset.
    pub capture: Option<Arc<CaptureSink>>,
}

impl Default for Hooks {
    fn default() -> Self {
        Hooks {
            listeners: Arc::new(NoListeners),
            events: None,
            nonces: RecentNonces::global(),
            newest_block: None,
            host_to_addr: None,
            version_rule: None,
            capture: None,
        }
    }
}

impl Hooks {
    /// The defaults: `Hooks::default()`.
    pub fn new() -> Self {
        Hooks::default()
    }

    /// Sets the listeners.
    pub fn with_listeners(mut self, listeners: impl Listeners) -> Self {
        self.listeners = Arc::new(listeners);
        self
    }

    /// Sets the event channel.
    pub fn with_events(mut self, events: mpsc::Sender<PeerEvent>) -> Self {
        self.events = Some(events);
        self
    }

    /// Sets the nonce set (a node's own, apart from the process-wide one).
    pub fn with_nonces(mut self, nonces: Arc<RecentNonces>) -> Self {
        self.nonces = nonces;
        self
    }

    /// Sets where our best block comes from.
    pub fn with_newest_block(
        mut self,
        f: impl Fn() -> (Hash, i64) + Send + Sync + 'static,
    ) -> Self {
        self.newest_block = Some(Arc::new(f));
        self
    }

    /// Sets the host-to-address hook.
    pub fn with_host_to_addr(
        mut self,
        f: impl Fn(IpAddr, u16, ServiceFlags) -> Result<NetAddressV2, Refusal> + Send + Sync + 'static,
    ) -> Self {
        self.host_to_addr = Some(Arc::new(f));
        self
    }

    /// Records every frame of the peers wired to these hooks in `sink`.
    pub fn with_capture(mut self, sink: Arc<CaptureSink>) -> Self {
        self.capture = Some(sink);
        self
    }
}

impl Hooks {
    /// Sets the node's rule for the remote's version.
    pub fn with_version_rule(
        mut self,
        f: impl Fn(&Peer, &Version<'_>) -> Result<(), Refusal> + Send + Sync + 'static,
    ) -> Self {
        self.version_rule = Some(Arc::new(f));
        self
    }
}

impl fmt::Debug for Hooks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hooks")
            .field("events", &self.events.is_some())
            .field("newest_block", &self.newest_block.is_some())
            .field("host_to_addr", &self.host_to_addr.is_some())
            .field("version_rule", &self.version_rule.is_some())
            .field("capture", &self.capture.is_some())
            .finish_non_exhaustive()
    }
}
