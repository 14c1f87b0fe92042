//! What the handle and the actor share: the ban list, applied at once
//! from any task, and the outbound peers' versions.

use std::net::SocketAddr;
use std::sync::atomic::AtomicUsize;
use std::sync::Mutex;

use tokio::sync::broadcast;
use tokio::time::Instant;
use tracing::{debug, warn};

use super::config::ManagerEvent;
use super::policy::{BanList, Banned, Scored};
use crate::peer::Peer;
use crate::sync::lock;

/// What the handle and the actor share: the ban list, which scores and
/// bans are applied to at once from any task (a serving node's verdicts
/// among them), and the outbound peers' versions the version rule needs.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(super) bans: Mutex<BanList>,
    /// Weak, as the handle's: the event stream ends when the actor stops.
    pub(super) events: broadcast::WeakSender<ManagerEvent>,
    /// Outbound peers connected (automatic, manual and persistent).
    pub(super) outbound: AtomicUsize,
    /// Of those, peers at the mix version (10) or later.
    pub(super) mix_capable: AtomicUsize,
}

impl Shared {
    fn emit(&self, ev: ManagerEvent) {
        if let Some(tx) = self.events.upgrade() {
            let _ = tx.send(ev);
        }
    }

    /// dcrd's `addBanScore`; true when the peer was banned and
    /// disconnected.
    pub(super) fn add_ban_score(
        &self,
        peer: &Peer,
        persistent: u32,
        transient: u32,
        reason: &str,
    ) -> bool {
        let ip = peer.addr().ip();
        let (scored, threshold, whitelisted) = {
            let mut bans = lock(&self.bans);
            let scored = bans.add_score(
                peer.id(),
                ip,
                persistent,
                transient,
                crate::sync::unix_now(),
                Instant::now(),
            );
            if !peer.is_connected() {
                // A verdict on a message read before the peer left (a
                // serving node's task lags its peers): it counts, and may
                // ban the IP, but the connection's score goes with it, as
                // the manager forgets it when the peer is gone. Kept, it
                // would stay forever: one entry per such peer.
                bans.forget(peer.id());
            }
            (scored, bans.threshold(), bans.is_whitelisted(ip))
        };
        match scored {
            Scored::Unchanged => false,
            Scored::Score(score) => {
                if score > threshold / 2 {
                    let who = if whitelisted {
                        "whitelisted peer"
                    } else {
                        "peer"
                    };
                    warn!(peer = %peer.addr(), reason, score, "misbehaving {who}: ban score increased");
                }
                false
            }
            Scored::Banned(score, until) => {
                warn!(peer = %peer.addr(), reason, score, "misbehaving peer: ban score exceeds threshold; banned");
                peer.disconnect();
                self.emit(ManagerEvent::Banned {
                    ip: ip.to_canonical(),
                    until,
                });
                true
            }
        }
    }

    /// dcrd's `BanPeer`; true when the peer was banned and disconnected.
    pub(super) fn ban_peer(&self, peer: &Peer, reason: &str) -> bool {
        let banned = self.ban_addr(peer.addr(), reason);
        if banned {
            peer.disconnect();
        }
        banned
    }

    /// dcrd's `BanPeer` for a connection that has no peer (yet): one
    /// whose handshake failed. True when `addr`'s IP was banned.
    pub(super) fn ban_addr(&self, addr: SocketAddr, reason: &str) -> bool {
        let ip = addr.ip();
        let banned = lock(&self.bans).ban(ip, Instant::now());
        match banned {
            Banned::Disabled => false,
            Banned::Whitelisted => {
                debug!(peer = %addr, reason, "misbehaving whitelisted peer");
                false
            }
            Banned::Until(until) => {
                warn!(peer = %addr, reason, "misbehaving peer: banned");
                self.emit(ManagerEvent::Banned {
                    ip: ip.to_canonical(),
                    until,
                });
                true
            }
        }
    }
}
