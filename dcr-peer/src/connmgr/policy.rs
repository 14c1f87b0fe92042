//! The connection manager's decisions, I/O-free: whether to take an
//! inbound connection, the ban list with its decaying scores, how a
//! disconnect is scored, and when a persistent peer is retried. The actor
//! feeds them what happened and the clock.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use rand::Rng;
use tokio::time::Instant;

use super::addrbook::is_routable;
use super::config::BanInfo;
use super::score::BanScore;
use crate::admission::AddressGroup;
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

/// Why an inbound connection is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum InboundRefusal {
    /// Its address is banned.
    Banned,
    /// As many inbound peers as allowed are connected or handshaking.
    InboundLimit,
    /// As many connections from its IP as allowed exist.
    PerHostLimit,
}

/// What the manager holds when an inbound connection arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InboundCounts {
    /// Inbound peers connected or in their handshake.
    pub inbound: usize,
    /// Connections of any kind with the newcomer's IP.
    pub same_host: usize,
}

/// Whether to take an inbound connection: a banned address never; a
/// whitelisted one always; others within the inbound and per-host limits.
pub fn admit_inbound(
    banned: bool,
    whitelisted: bool,
    counts: InboundCounts,
    max_inbound: usize,
    max_per_host: usize,
) -> Result<(), InboundRefusal> {
    if banned {
        Err(InboundRefusal::Banned)
    } else if whitelisted {
        Ok(())
    } else if counts.inbound >= max_inbound {
        Err(InboundRefusal::InboundLimit)
    } else if counts.same_host >= max_per_host {
        Err(InboundRefusal::PerHostLimit)
    } else {
        Ok(())
    }
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
    use crate::ProtocolViolation;

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
        assert_eq!(admit_inbound(false, false, counts(0, 0), 10, 2), Ok(()));
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
        assert_eq!(admit_inbound(false, true, counts(10, 2), 10, 2), Ok(()));
    }
}
