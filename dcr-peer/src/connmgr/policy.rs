//! The connection manager's decisions, I/O-free: whether to take an
//! inbound connection and whether to keep it once its handshake is done,
//! the bounds of its pending pool, whether to dial an address and keep the
//! peer dialed, the ban list with its decaying scores, how a disconnect is
//! scored, and when a persistent peer is retried. The actor feeds them
//! what happened and the clock, and does what they say.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use rand::Rng;
use tokio::time::Instant;

use super::addrbook::is_routable;
use super::config::{BanInfo, ManagerError};
use super::score::BanScore;
use crate::admission::{self, AddressGroup};
use crate::error::DisconnectReason;

/// Score for a disconnect over a protocol violation (half a ban).
pub const PROTOCOL_VIOLATION_SCORE: u32 = 50;
/// Score for a stall or a failed handshake (a quarter of a ban).
pub const STALL_SCORE: u32 = 25;

/// How a disconnect is scored: protocol violations weigh most, stalls and
/// failed handshakes less, ordinary departures nothing.
pub fn misbehaviour_score(reason: &DisconnectReason) -> u32 {
    match reason {
        DisconnectReason::Protocol(_) => PROTOCOL_VIOLATION_SCORE,
        DisconnectReason::Stalled(_)
        | DisconnectReason::Handshake(_)
        | DisconnectReason::HandshakeTimeout => STALL_SCORE,
        _ => 0,
    }
}

/// Why an inbound connection is refused, or its peer not kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum InboundRefusal {
    /// Its address is banned.
    Banned,
    /// As many inbound peers as allowed are connected.
    InboundLimit,
    /// As many connections from its IP as allowed exist.
    PerHostLimit,
    /// A newcomer took its place in the pending pool, or its handshake
    /// outlasted the pool's deadline under pressure, while it completed.
    Displaced,
}

/// What the manager holds when an inbound connection arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InboundCounts {
    /// Inbound peers connected (connections in their handshake are
    /// bounded by the pending pool instead).
    pub inbound: usize,
    /// Connections of any kind with the newcomer's IP: connected, being
    /// dialed or in their handshake.
    pub same_host: usize,
}

/// Where an inbound connection admitted waits for its handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InboundPlace {
    /// In the pending pool, where a newcomer may take its place.
    Pending,
    /// Apart from the pool (a whitelisted address).
    Exempt,
}

/// Whether to take an inbound connection: a banned address never; a
/// whitelisted one always, and apart from the pending pool; others within
/// the inbound and per-host limits.
pub fn admit_inbound(
    banned: bool,
    whitelisted: bool,
    counts: InboundCounts,
    max_inbound: usize,
    max_per_host: usize,
) -> Result<InboundPlace, InboundRefusal> {
    if banned {
        Err(InboundRefusal::Banned)
    } else if whitelisted {
        Ok(InboundPlace::Exempt)
    } else if counts.inbound >= max_inbound {
        Err(InboundRefusal::InboundLimit)
    } else if counts.same_host >= max_per_host {
        Err(InboundRefusal::PerHostLimit)
    } else {
        Ok(InboundPlace::Pending)
    }
}

/// What the manager holds when an inbound handshake completes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeptInbound {
    /// Its place was taken (or expired) while it completed.
    pub displaced: bool,
    /// Its address was banned while it completed.
    pub banned: bool,
    /// Its address is whitelisted.
    pub whitelisted: bool,
    /// Inbound peers connected.
    pub inbound: usize,
}

/// Whether to keep an inbound peer whose handshake completed: not when it
/// was displaced or banned meanwhile, nor when the inbound places filled
/// up meanwhile (a whitelisted address excepted).
pub fn keep_inbound(now: KeptInbound, max_inbound: usize) -> Result<(), InboundRefusal> {
    if now.displaced {
        Err(InboundRefusal::Displaced)
    } else if now.banned {
        Err(InboundRefusal::Banned)
    } else if now.inbound >= max_inbound && !now.whitelisted {
        Err(InboundRefusal::InboundLimit)
    } else {
        Ok(())
    }
}

/// The pending pool's bounds for a manager that takes `max_inbound`
/// inbound peers and `max_per_host` connections from one IP: at most as
/// many places as inbound peers (and the admission module's maximum), at
/// most `max_per_host` from one address.
pub fn pending_limits(max_inbound: usize, max_per_host: usize) -> admission::Limits {
    let d = admission::Limits::default();
    let capacity = d.capacity.min(max_inbound).max(1);
    admission::Limits {
        capacity,
        per_address: d.per_address.min(max_per_host).max(1),
        per_group: d.per_group.min(capacity),
        pressure: capacity / 2,
        pressure_timeout: d.pressure_timeout,
    }
}

/// Whether to dial `addr` when asked to: not when it is banned, nor when
/// it is already connected, being dialed or in its handshake.
pub fn may_dial(addr: SocketAddr, banned: bool, taken: bool) -> Result<(), ManagerError> {
    if banned {
        Err(ManagerError::Banned(addr.ip()))
    } else if taken {
        Err(ManagerError::Duplicate(addr))
    } else {
        Ok(())
    }
}

/// Whether to keep the peer a dial to `addr` gave: not when its address
/// was banned meanwhile, nor when another connection to it completed
/// first (both reported as a duplicate to whoever asked for the dial).
pub fn keep_outbound(addr: SocketAddr, banned: bool, connected: bool) -> Result<(), ManagerError> {
    if banned || connected {
        Err(ManagerError::Duplicate(addr))
    } else {
        Ok(())
    }
}

/// Whether an address the address source offers may fill an outbound
/// slot: not one already taken, banned, or persistent (those are dialed
/// on their own schedule), nor one whose group an outbound peer holds
/// ([`outbound_group_in_use`]).
pub fn outbound_candidate(
    addr: SocketAddr,
    taken: bool,
    banned: &HashSet<IpAddr>,
    persistent: bool,
    groups: &HashSet<AddressGroup>,
) -> bool {
    !(taken || banned.contains(&addr.ip()) || persistent || outbound_group_in_use(addr, groups))
}

/// True when an address the address source offers should wait because an
/// outbound peer (or dial) is already in its group, so one party holding
/// many addresses in one /16 cannot take several outbound slots (dcrd's
/// connection manager allows one outbound connection per group). Only
/// routable addresses are held to it: a test network on one machine or LAN
/// is one group.
pub fn outbound_group_in_use(addr: SocketAddr, in_use: &HashSet<AddressGroup>) -> bool {
    is_routable(addr.ip()) && in_use.contains(&AddressGroup::of(addr.ip()))
}

/// The delay before retry number `attempt` (0 for the first retry):
/// `base * 2^attempt`, at most `max`, less up to a quarter at random so
/// peers restarted together do not retry in step.
pub fn backoff(base: Duration, max: Duration, attempt: u32) -> Duration {
    let full = base.saturating_mul(1u32 << attempt.min(16)).min(max);
    let jitter = rand::thread_rng().gen_range(0.0..0.25);
    full.mul_f64(1.0 - jitter)
}

/// When a persistent peer is next dialled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetrySchedule {
    /// Failed attempts since it was last connected.
    pub attempt: u32,
    /// When to dial it; `None` while connected (or dialling).
    pub due: Option<Instant>,
}

impl RetrySchedule {
    /// Due at once.
    pub fn now(now: Instant) -> Self {
        RetrySchedule {
            attempt: 0,
            due: Some(now),
        }
    }

    /// True when it should be dialled at `now`.
    pub fn is_due(&self, now: Instant) -> bool {
        self.due.is_some_and(|t| t <= now)
    }

    /// It connected: the next failure starts the backoff over.
    pub fn connected(&mut self) {
        self.attempt = 0;
        self.due = None;
    }

    /// It failed or went away at `now`: due again after the backoff for
    /// this attempt, which is returned.
    pub fn failed(&mut self, now: Instant, base: Duration, max: Duration) -> Duration {
        let wait = backoff(base, max, self.attempt);
        self.attempt = self.attempt.saturating_add(1);
        self.due = Some(now + wait);
        wait
    }

    /// Its address is banned until `until`: due then.
    pub fn wait_for_ban(&mut self, until: Instant) {
        self.due = Some(until);
    }
}

/// Misbehaviour scores and the bans they lead to. Whitelisted addresses
/// are never scored nor banned; expired bans and decayed scores are
/// forgotten, so neither map grows with every address that ever
/// misbehaved.
#[derive(Debug, Clone)]
pub struct BanList {
    threshold: u32,
    duration: Duration,
    whitelist: HashSet<IpAddr>,
    scores: HashMap<IpAddr, BanScore>,
    bans: HashMap<IpAddr, Instant>,
}

impl BanList {
    /// Bans at `threshold` points for `duration`; `whitelist` is never banned.
    pub fn new(threshold: u32, duration: Duration, whitelist: &[IpAddr]) -> Self {
        BanList {
            threshold,
            duration,
            whitelist: whitelist.iter().copied().collect(),
            scores: HashMap::new(),
            bans: HashMap::new(),
        }
    }

    /// True for an address that bypasses limits and bans.
    pub fn is_whitelisted(&self, ip: IpAddr) -> bool {
        self.whitelist.contains(&ip)
    }

    /// When `ip`'s ban ends, if it is banned at `now`.
    pub fn banned_until(&self, ip: IpAddr, now: Instant) -> Option<Instant> {
        if self.is_whitelisted(ip) {
            return None;
        }
        self.bans.get(&ip).copied().filter(|until| *until > now)
    }

    /// True while a ban on `ip` is in force at `now`.
    pub fn is_banned(&self, ip: IpAddr, now: Instant) -> bool {
        self.banned_until(ip, now).is_some()
    }

    /// Adds to `ip`'s score at `now`; returns when its ban ends if this
    /// reaches the threshold (the score then starts over).
    pub fn add(
        &mut self,
        ip: IpAddr,
        persistent: u32,
        transient: u32,
        now: Instant,
    ) -> Option<Instant> {
        if self.is_whitelisted(ip) {
            return None;
        }
        let score = self
            .scores
            .entry(ip)
            .or_default()
            .add(persistent, transient, now.into_std());
        if score < self.threshold {
            return None;
        }
        let until = now + self.duration;
        self.bans.insert(ip, until);
        self.scores.remove(&ip);
        Some(until)
    }

    /// `ip`'s score at `now`.
    pub fn score(&self, ip: IpAddr, now: Instant) -> u32 {
        self.scores.get(&ip).map_or(0, |s| s.value(now.into_std()))
    }

    /// The bans in force at `now`.
    pub fn bans(&self, now: Instant) -> Vec<BanInfo> {
        self.bans
            .iter()
            .filter(|(_, until)| **until > now)
            .map(|(ip, until)| BanInfo {
                ip: *ip,
                remaining: *until - now,
            })
            .collect()
    }

    /// The addresses banned at `now`.
    pub fn banned(&self, now: Instant) -> HashSet<IpAddr> {
        self.bans
            .iter()
            .filter(|(_, until)| **until > now)
            .map(|(ip, _)| *ip)
            .collect()
    }

    /// Drops expired bans and scores decayed to nothing.
    pub fn forget_expired(&mut self, now: Instant) {
        self.bans.retain(|_, until| *until > now);
        let now = now.into_std();
        self.scores.retain(|_, s| s.value(now) > 0);
    }

    /// Entries held (bans and scores), for the bound's tests.
    pub fn len(&self) -> usize {
        self.bans.len() + self.scores.len()
    }

    /// True when nothing is tracked.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fsm::stall::StallError;
    use crate::{LocalFailure, ProtocolViolation};

    const BASE: Duration = Duration::from_secs(5);
    const MAX: Duration = Duration::from_secs(300);

    fn ip(n: u8) -> IpAddr {
        IpAddr::from([10, 0, 0, n])
    }

    #[test]
    fn backoff_doubles_with_jitter_and_caps() {
        for attempt in 0..6 {
            let full = BASE * (1 << attempt);
            for _ in 0..50 {
                let d = backoff(BASE, MAX, attempt);
                assert!(d <= full && d > full.mul_f64(0.74), "{attempt}: {d:?}");
            }
        }
        for _ in 0..50 {
            let d = backoff(BASE, MAX, 40);
            assert!(d <= MAX && d > MAX.mul_f64(0.74));
        }
    }

    #[test]
    fn a_retry_schedule_backs_off_and_starts_over_once_connected() {
        let t0 = Instant::now();
        let mut r = RetrySchedule::now(t0);
        assert!(r.is_due(t0));
        let first = r.failed(t0, BASE, MAX);
        assert!(first <= BASE && !r.is_due(t0));
        assert!(r.is_due(t0 + BASE));
        let second = r.failed(t0, BASE, MAX);
        assert!(second > BASE.mul_f64(1.49), "{second:?}");
        r.connected();
        assert_eq!((r.attempt, r.due), (0, None));
        assert!(r.failed(t0, BASE, MAX) <= BASE);
        r.wait_for_ban(t0 + MAX);
        assert_eq!(r.due, Some(t0 + MAX));
    }

    #[test]
    fn scores_lead_to_bans_that_expire_and_are_forgotten() {
        let t0 = Instant::now();
        let day = Duration::from_secs(24 * 3600);
        let mut b = BanList::new(100, day, &[ip(9)]);
        assert_eq!(b.add(ip(1), 0, 60, t0), None);
        assert_eq!(b.score(ip(1), t0), 60);
        assert_eq!(b.add(ip(1), 0, 60, t0), Some(t0 + day));
        assert!(b.is_banned(ip(1), t0));
        assert_eq!(b.score(ip(1), t0), 0, "the score starts over");
        assert_eq!(b.bans(t0)[0].remaining, day);
        // The whitelist is never scored nor banned.
        assert_eq!(b.add(ip(9), 500, 0, t0), None);
        assert!(!b.is_banned(ip(9), t0));
        // A transient score decays; both maps forget what no longer counts.
        b.add(ip(2), 0, 50, t0);
        b.forget_expired(t0 + day + Duration::from_secs(3600));
        assert!(!b.is_banned(ip(1), t0 + day));
        assert!(b.is_empty(), "{b:?}");
    }

    #[test]
    fn disconnects_are_scored_by_their_kind() {
        let violation = DisconnectReason::Protocol(ProtocolViolation::DuplicateVersion);
        assert_eq!(misbehaviour_score(&violation), PROTOCOL_VIOLATION_SCORE);
        let stall = DisconnectReason::Stalled(StallError::TooManyPending);
        assert_eq!(misbehaviour_score(&stall), STALL_SCORE);
        assert_eq!(
            misbehaviour_score(&DisconnectReason::HandshakeTimeout),
            STALL_SCORE
        );
        for fine in [
            DisconnectReason::Requested,
            DisconnectReason::RemoteClosed,
            DisconnectReason::Idle,
            DisconnectReason::Io(std::io::ErrorKind::ConnectionReset),
        ] {
            assert_eq!(misbehaviour_score(&fine), 0, "{fine:?}");
        }
        // Our own failures are never the remote's.
        for ours in [
            LocalFailure::QueuedOutput {
                queued: 2 << 20,
                max: 1 << 20,
            },
            LocalFailure::Encode {
                command: Some(dcr_wire::Command::GetHeaders),
                error: dcr_wire::Error::limit(
                    dcr_wire::ErrorKind::TooManyLocators,
                    "locators",
                    501,
                    500,
                ),
            },
        ] {
            let reason = DisconnectReason::Local(ours);
            assert_eq!(misbehaviour_score(&reason), 0, "{reason:?}");
            assert!(reason.is_local() && !reason.is_misbehaviour());
        }
    }

    #[test]
    fn one_outbound_connection_per_routable_group() {
        let sa = |s: &str| s.parse::<SocketAddr>().unwrap();
        let in_use: HashSet<AddressGroup> = [AddressGroup::of(sa("8.8.1.1:9108").ip())].into();
        assert!(outbound_group_in_use(sa("8.8.200.7:9108"), &in_use));
        assert!(!outbound_group_in_use(sa("8.9.0.1:9108"), &in_use));
        // Local networks are not held to it.
        let local: HashSet<AddressGroup> = [AddressGroup::of(sa("127.0.0.1:1").ip())].into();
        assert!(!outbound_group_in_use(sa("127.0.0.1:2"), &local));
    }

    #[test]
    fn inbound_admission_refuses_with_its_reason() {
        let counts = |inbound, same_host| InboundCounts { inbound, same_host };
        assert_eq!(
            admit_inbound(false, false, counts(0, 0), 10, 2),
            Ok(InboundPlace::Pending)
        );
        assert_eq!(
            admit_inbound(true, true, counts(0, 0), 10, 2),
            Err(InboundRefusal::Banned)
        );
        assert_eq!(
            admit_inbound(false, false, counts(10, 0), 10, 2),
            Err(InboundRefusal::InboundLimit)
        );
        assert_eq!(
            admit_inbound(false, false, counts(3, 2), 10, 2),
            Err(InboundRefusal::PerHostLimit)
        );
        assert_eq!(
            admit_inbound(false, true, counts(10, 2), 10, 2),
            Ok(InboundPlace::Exempt)
        );
    }

    #[test]
    fn a_completed_inbound_handshake_is_kept_unless_something_changed() {
        let fine = KeptInbound {
            displaced: false,
            banned: false,
            whitelisted: false,
            inbound: 3,
        };
        assert_eq!(keep_inbound(fine, 10), Ok(()));
        let displaced = KeptInbound {
            displaced: true,
            ..fine
        };
        assert_eq!(keep_inbound(displaced, 10), Err(InboundRefusal::Displaced));
        let banned = KeptInbound {
            banned: true,
            whitelisted: true,
            ..fine
        };
        assert_eq!(keep_inbound(banned, 10), Err(InboundRefusal::Banned));
        let full = KeptInbound {
            inbound: 10,
            ..fine
        };
        assert_eq!(keep_inbound(full, 10), Err(InboundRefusal::InboundLimit));
        let white = KeptInbound {
            whitelisted: true,
            ..full
        };
        assert_eq!(keep_inbound(white, 10), Ok(()));
    }

    #[test]
    fn the_pending_pool_is_bounded_by_the_manager_s_limits() {
        let d = admission::Limits::default();
        assert_eq!(pending_limits(1000, 1000), d);
        let small = pending_limits(10, 2);
        assert_eq!(
            (
                small.capacity,
                small.per_address,
                small.per_group,
                small.pressure
            ),
            (10, 2, 10, 5)
        );
        let none = pending_limits(0, 0);
        assert_eq!((none.capacity, none.per_address), (1, 1));
    }

    #[test]
    fn dials_and_their_peers_are_refused_when_banned_or_taken() {
        let a: SocketAddr = "10.0.0.1:9108".parse().unwrap();
        assert!(may_dial(a, false, false).is_ok());
        assert!(matches!(may_dial(a, true, true), Err(ManagerError::Banned(ip)) if ip == a.ip()));
        assert!(matches!(may_dial(a, false, true), Err(ManagerError::Duplicate(d)) if d == a));
        assert!(keep_outbound(a, false, false).is_ok());
        assert!(matches!(
            keep_outbound(a, true, false),
            Err(ManagerError::Duplicate(_))
        ));
        assert!(matches!(
            keep_outbound(a, false, true),
            Err(ManagerError::Duplicate(_))
        ));
    }

    #[test]
    fn outbound_candidates_skip_the_taken_the_banned_the_persistent_and_used_groups() {
        let sa = |s: &str| s.parse::<SocketAddr>().unwrap();
        let none = HashSet::new();
        let groups: HashSet<AddressGroup> = [AddressGroup::of(sa("8.8.1.1:1").ip())].into();
        let a = sa("9.9.9.9:9108");
        assert!(outbound_candidate(a, false, &none, false, &groups));
        assert!(!outbound_candidate(a, true, &none, false, &groups));
        assert!(!outbound_candidate(
            a,
            false,
            &[a.ip()].into(),
            false,
            &groups
        ));
        assert!(!outbound_candidate(a, false, &none, true, &groups));
        assert!(!outbound_candidate(
            sa("8.8.7.7:9108"),
            false,
            &none,
            false,
            &groups
        ));
    }
}
