//! What the serving rules decide about a peer that misbehaves, and the
//! seam through which whoever runs the serving node applies it.
//!
//! The rules ([`super::rules`]) return a [`Verdict`] with dcrd's exact
//! points or sanction; they keep no score and ban no one themselves, for
//! the score and the ban list belong to whoever runs the connections: a
//! connection manager (dcrd's server with `--banthreshold`,
//! `--banduration`, `--whitelist`, `--nobanning`), or, for `dcrpeer
//! listen`, which keeps no ban list, [`DisconnectOnly`]. The verdict type
//! lives here, with the rules, and not in dcr-peer: the connection
//! manager takes scores and bans in its own terms (an address and
//! points), so it needs no knowledge of why.

use std::collections::HashMap;

use dcr_peer::connmgr::{ConnManager, DynamicBanScore};
use dcr_peer::{DisconnectReason, Peer, ProtocolViolation};
use dcr_wire::{Command, InvType};
use tracing::warn;

/// dcrd's default `--banthreshold`: a score **above** it bans.
pub const DEFAULT_BAN_THRESHOLD: u32 = 100;

/// What a peer did that dcrd's server punishes; the `Display` form is
/// dcrd's reason where it logs one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Offence {
    /// A `getdata` with no item (`OnGetData`).
    #[error("sent an empty getdata request")]
    EmptyGetData,
    /// A `getdata` of this many items (`OnGetData`'s score).
    #[error("getdata")]
    GetData {
        /// Items asked for.
        items: usize,
    },
    /// More `getdata` messages waiting than dcrd's
    /// `maxConcurrentGetDataReqs` (1000).
    #[error("exceeded max allowed concurrent pending getdata requests (max {max})")]
    TooManyGetData {
        /// The limit.
        max: usize,
    },
    /// More data items waiting than `maxPendingGetDataItemReqs`.
    #[error(
        "exceeded max allowed pending data item requests (new {new}, pending {pending}, max {max})"
    )]
    TooManyDataItems {
        /// Items of the new request.
        new: usize,
        /// Items already waiting.
        pending: usize,
        /// The limit.
        max: usize,
    },
    /// A second `getinitstate` (or `getminings` below version 8).
    #[error("sent more than one {command}")]
    SecondStateRequest {
        /// The request.
        command: Command,
    },
    /// A second initial state received (`initstate` or `miningstate`).
    #[error("sent more than one initial state message ({command})")]
    SecondInitialState {
        /// The message.
        command: Command,
    },
    /// A message withdrawn at the negotiated version: `getminings` and
    /// `miningstate` from version 8 (`InitStateVersion`), the version 1
    /// filter requests from version 6 (`NodeCFVersion`).
    #[error("sent {command} with protocol version {pver} >= {withdrawn}")]
    Withdrawn {
        /// The message's command.
        command: Command,
        /// The negotiated protocol version.
        pver: u32,
        /// The version that withdrew it.
        withdrawn: u32,
    },
    /// A version 1 filter request below version 6, which the peer could
    /// not know it may not send (`enforceNodeCFFlag`): disconnected only.
    #[error("sent an unsupported {command} request")]
    UnsupportedFilterRequest {
        /// The request.
        command: Command,
    },
    /// An `inv` with no item (`OnInv`).
    #[error("sent empty inventory announcement")]
    EmptyInv,
    /// A `mempool` request (`OnMemPool`'s flood score).
    #[error("mempool")]
    MemPool,
    /// `notfound` entries of a type that is neither block, tx nor mix
    /// (`OnNotFound`).
    #[error("invalid inv type {} in notfound message", .0.0)]
    NotFoundType(InvType),
    /// Blocks the peer said it does not have.
    #[error("{0} block(s) not found")]
    BlocksNotFound(usize),
    /// Transactions the peer said it does not have.
    #[error("{0} transaction(s) not found")]
    TxsNotFound(usize),
    /// Mix messages the peer said it does not have.
    #[error("{0} mix message(s) not found")]
    MixNotFound(usize),
    /// An `addr` with no address (`OnAddr`).
    #[error("sent an empty address list")]
    EmptyAddr,
    /// An `addrv2` entry whose bytes do not fit its type (`OnAddrV2`:
    /// `addrmgr.NewNetAddressFromParams` refuses it).
    #[error("sent invalid addrv2 message")]
    InvalidAddrV2,
    /// A message that does not decode (`OnRead` with a `wire.ErrorCode`).
    #[error("sent malformed wire message: {0}")]
    Malformed(String),
}

/// What is to become of a peer (dcrd's `BanPeer`, `Disconnect` and
/// `addBanScore`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Ban the peer's address for the ban duration and disconnect it
    /// (`BanPeer`; a whitelisted peer is only logged, and dcrd still
    /// disconnects it where the handler disconnects by itself: see
    /// [`Verdict::disconnects_whitelisted`]).
    Ban(Offence),
    /// Disconnect, no ban.
    Disconnect(Offence),
    /// Add to the connection's score (`addBanScore(persistent,
    /// transient, reason)`); a score above the threshold bans.
    Score {
        /// Points that never decay.
        persistent: u32,
        /// Points that halve every minute.
        transient: u32,
        /// Why.
        reason: Offence,
    },
}

impl Verdict {
    /// The offence.
    pub fn offence(&self) -> &Offence {
        match self {
            Verdict::Ban(o) | Verdict::Disconnect(o) => o,
            Verdict::Score { reason, .. } => reason,
        }
    }

    /// Whether dcrd disconnects a whitelisted (never banned) peer for it:
    /// where the handler calls `Disconnect` itself besides `BanPeer`
    /// (second state requests and messages, withdrawn requests), and for
    /// disconnect-only offences.
    pub fn disconnects_whitelisted(&self) -> bool {
        match self {
            Verdict::Disconnect(_) => true,
            Verdict::Ban(o) => matches!(
                o,
                Offence::SecondStateRequest { .. }
                    | Offence::SecondInitialState { .. }
                    | Offence::Withdrawn { .. }
            ),
            Verdict::Score { .. } => false,
        }
    }
}

/// dcrd bans a peer whose message does not decode (`OnRead`): the peer
/// layer disconnects it, and this is the verdict for whoever keeps a ban
/// list. `None` for every other way a connection ends.
pub fn verdict_for_disconnect(reason: &DisconnectReason) -> Option<Verdict> {
    match reason {
        DisconnectReason::Protocol(ProtocolViolation::Undecodable { command, error }) => {
            let what = match command {
                Some(c) => format!("{c}: {error}"),
                None => error.to_string(),
            };
            Some(Verdict::Ban(Offence::Malformed(what)))
        }
        _ => None,
    }
}

/// What became of a peer after a verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// Still connected: carry on with the request.
    Kept,
    /// Disconnected (and banned, where there is a ban list): stop.
    Gone,
    /// Still connected, but the request's handling ends, as dcrd's
    /// handler returns after `BanPeer` even where it bans no one (a
    /// whitelisted peer, or banning off).
    Stopped,
}

/// One connection's score against a threshold, as dcrd's `addBanScore`
/// keeps it: the I/O-free half of [`DisconnectOnly`].
#[derive(Debug, Clone, Copy)]
pub struct ConnectionScore {
    score: DynamicBanScore,
    threshold: u32,
}

impl ConnectionScore {
    /// A score of zero that bans above `threshold`.
    pub fn new(threshold: u32) -> ConnectionScore {
        ConnectionScore {
            score: DynamicBanScore::new(),
            threshold,
        }
    }

    /// Applies `verdict` at `now` (Unix seconds). A score of nothing
    /// changes nothing; a score whose result is above the threshold is a
    /// ban (dcrd logs a warning above half of it).
    pub fn apply(&mut self, verdict: &Verdict, now: i64) -> Fate {
        match verdict {
            Verdict::Ban(_) | Verdict::Disconnect(_) => Fate::Gone,
            Verdict::Score {
                persistent,
                transient,
                reason,
            } => {
                if *persistent == 0 && *transient == 0 {
                    return Fate::Kept;
                }
                let score = self.score.increase(*persistent, *transient, now);
                if score > self.threshold / 2 {
                    warn!(%reason, score, "misbehaving peer: ban score increased");
                }
                if score > self.threshold {
                    Fate::Gone
                } else {
                    Fate::Kept
                }
            }
        }
    }

    /// The score at `now`.
    pub fn value(&self, now: i64) -> u32 {
        self.score.int(now)
    }
}

/// Applies verdicts to peers: the seam between the serving rules and
/// whoever owns the connections.
pub trait Sanctions: Send + 'static {
    /// Applies `verdict` to `peer`: disconnects, bans or scores it.
    fn apply(&mut self, peer: &Peer, verdict: &Verdict) -> Fate;
    /// `peer_id` is gone: forget what was kept for it.
    fn forget(&mut self, _peer_id: u64) {}
}

/// The sanctions of a server without a ban list (`dcrpeer listen`):
/// bans and disconnects both disconnect; each connection keeps a score as
/// dcrd keeps it ([`ConnectionScore`]) and is disconnected above the
/// threshold, so a fourth quick `mempool` or a second 50,000-item
/// `getdata` ends it, as in dcrd.
#[derive(Debug)]
pub struct DisconnectOnly {
    threshold: u32,
    scores: HashMap<u64, ConnectionScore>,
}

impl DisconnectOnly {
    /// Disconnects above `threshold` points.
    pub fn new(threshold: u32) -> DisconnectOnly {
        DisconnectOnly {
            threshold,
            scores: HashMap::new(),
        }
    }
}

impl Default for DisconnectOnly {
    fn default() -> Self {
        DisconnectOnly::new(DEFAULT_BAN_THRESHOLD)
    }
}

/// Now, in Unix seconds (dcrd's ban score clock).
fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

impl Sanctions for DisconnectOnly {
    fn apply(&mut self, peer: &Peer, verdict: &Verdict) -> Fate {
        let threshold = self.threshold;
        let fate = self
            .scores
            .entry(peer.id())
            .or_insert_with(|| ConnectionScore::new(threshold))
            .apply(verdict, unix_now());
        if fate == Fate::Gone {
            warn!(peer = %peer.addr(), reason = %verdict.offence(), "misbehaving peer; disconnecting");
            peer.disconnect();
            self.scores.remove(&peer.id());
        }
        fate
    }

    fn forget(&mut self, peer_id: u64) {
        self.scores.remove(&peer_id);
    }
}

/// The sanctions of a node with a connection manager (`dcrpeer node`):
/// bans and scores go to the manager's ban list, one score per
/// connection and bans by IP (dcrd's `addBanScore` and `BanPeer`), so
/// every offence counts, whether or not it ends the connection.
#[derive(Clone)]
pub struct ManagerSanctions {
    manager: ConnManager,
}

impl ManagerSanctions {
    /// Sanctions applied through `manager`.
    pub fn new(manager: ConnManager) -> ManagerSanctions {
        ManagerSanctions { manager }
    }
}

impl Sanctions for ManagerSanctions {
    fn apply(&mut self, peer: &Peer, verdict: &Verdict) -> Fate {
        match verdict {
            Verdict::Ban(offence) => {
                if self.manager.ban_peer(peer, &offence.to_string()) {
                    Fate::Gone
                } else if verdict.disconnects_whitelisted() {
                    // The handler disconnects by itself besides `BanPeer`.
                    peer.disconnect();
                    Fate::Gone
                } else {
                    Fate::Stopped
                }
            }
            Verdict::Disconnect(offence) => {
                warn!(peer = %peer.addr(), reason = %offence, "disconnecting peer");
                peer.disconnect();
                Fate::Gone
            }
            Verdict::Score {
                persistent,
                transient,
                reason,
            } => {
                if self
                    .manager
                    .add_ban_score(peer, *persistent, *transient, &reason.to_string())
                {
                    Fate::Gone
                } else {
                    Fate::Kept
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_700_000_000;

    fn score(p: u32, t: u32, reason: Offence) -> Verdict {
        Verdict::Score {
            persistent: p,
            transient: t,
            reason,
        }
    }

    #[test]
    fn a_score_above_the_threshold_ends_the_connection() {
        let mut s = ConnectionScore::new(DEFAULT_BAN_THRESHOLD);
        for _ in 0..3 {
            assert_eq!(s.apply(&score(0, 33, Offence::MemPool), T0), Fate::Kept);
        }
        assert_eq!(s.apply(&score(0, 33, Offence::MemPool), T0), Fate::Gone);
        // At the threshold exactly: kept (dcrd bans above it).
        let mut s = ConnectionScore::new(DEFAULT_BAN_THRESHOLD);
        assert_eq!(
            s.apply(&score(100, 0, Offence::BlocksNotFound(5)), T0),
            Fate::Kept
        );
        assert_eq!(s.value(T0), 100);
        assert_eq!(
            s.apply(&score(20, 0, Offence::BlocksNotFound(1)), T0),
            Fate::Gone
        );
        // Nothing added: nothing happens.
        let mut s = ConnectionScore::new(0);
        assert_eq!(s.apply(&score(0, 0, Offence::MemPool), T0), Fate::Kept);
    }

    #[test]
    fn bans_and_disconnects_end_the_connection() {
        let mut s = ConnectionScore::new(DEFAULT_BAN_THRESHOLD);
        assert_eq!(s.apply(&Verdict::Ban(Offence::EmptyInv), T0), Fate::Gone);
        assert_eq!(
            s.apply(&Verdict::Disconnect(Offence::NotFoundType(InvType(7))), T0),
            Fate::Gone
        );
    }

    #[test]
    fn whitelisted_peers_are_disconnected_where_the_handler_disconnects() {
        let second = Verdict::Ban(Offence::SecondStateRequest {
            command: Command::GetInitState,
        });
        assert!(second.disconnects_whitelisted());
        assert!(!Verdict::Ban(Offence::EmptyGetData).disconnects_whitelisted());
        assert!(
            Verdict::Disconnect(Offence::TooManyGetData { max: 1000 }).disconnects_whitelisted()
        );
        assert!(!score(0, 33, Offence::MemPool).disconnects_whitelisted());
    }

    #[test]
    fn s28_undecodable_messages_are_banned() {
        let error = dcr_wire::Error::invalid(dcr_wire::ErrorKind::TooFewAddrs, "no addresses");
        let reason = DisconnectReason::Protocol(ProtocolViolation::Undecodable {
            command: Some(Command::AddrV2),
            error,
        });
        match verdict_for_disconnect(&reason) {
            Some(Verdict::Ban(Offence::Malformed(what))) => assert!(what.starts_with("addrv2")),
            other => panic!("{other:?}"),
        }
        assert_eq!(verdict_for_disconnect(&DisconnectReason::Idle), None);
        assert_eq!(
            verdict_for_disconnect(&DisconnectReason::Protocol(
                ProtocolViolation::DuplicateVersion
            )),
            None
        );
    }

    #[test]
    fn offences_read_as_dcrd_logs_them() {
        assert_eq!(
            Offence::EmptyGetData.to_string(),
            "sent an empty getdata request"
        );
        assert_eq!(
            Offence::Withdrawn {
                command: Command::GetMiningState,
                pver: 12,
                withdrawn: 8
            }
            .to_string(),
            "sent getminings with protocol version 12 >= 8"
        );
        assert_eq!(
            Offence::NotFoundType(InvType(7)).to_string(),
            "invalid inv type 7 in notfound message"
        );
    }
}
