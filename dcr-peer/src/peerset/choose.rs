//! The peer set's decisions, I/O-free: which ready peer takes a request
//! (power of two choices over load, zebra's `peer_set/set.rs` with its
//! PeakEWMA cost), how long an attempt may take (a multiple of what
//! answers of its kind have taken, re-read while it waits), and what a
//! failure costs the peer (nothing, a pause, or its place in the set).

use std::time::{Duration, Instant};

use crate::request::{Request, RequestError};

/// How the peer set routes, waits and retries.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PeerSetConfig {
    /// The longest one attempt may take, and the longest a call waits for
    /// a ready peer (before any answer is known, the only limit).
    pub request_timeout: Duration,
    /// An attempt takes at least this long before it is given up.
    pub min_timeout: Duration,
    /// How long an attempt may take while no answer of its kind has been
    /// timed yet (a silent peer drawn first costs this much).
    pub initial_timeout: Duration,
    /// An attempt is given up after this many times the typical time of
    /// answers of its kind (kept per kind, re-read while it waits).
    pub timeout_factor: u32,
    /// Peers one call tries at most.
    pub max_attempts: usize,
    /// A peer that timed out is passed over for this long.
    pub pause: Duration,
    /// Timeouts in a row after which a peer is swapped out: disconnected
    /// (never banned: silence is no proof of malice), and replaced by the
    /// connection manager when there is one. A peer that never answered
    /// anything is swapped out at its first timeout.
    pub swap_out_after: u32,
    /// While no answer of a request's kind has been timed (the first
    /// requests of a sync), an attempt unanswered after this long is
    /// hedged: the same request goes to another member too, and the first
    /// answer wins (the other attempt is called off). A silent peer drawn
    /// first then costs this, not [`PeerSetConfig::initial_timeout`].
    /// `Duration::MAX`: never.
    pub hedge_after: Duration,
    /// A call that holds up its caller's in-order progress
    /// ([`super::HeadOfLine`]: the oldest outstanding filter batch, the
    /// header request) is hedged once its attempt has been out this many
    /// times the typical answer of its kind (at least
    /// [`PeerSetConfig::hedge_min`]; while none of its kind is timed, of
    /// any kind): well beyond what the other peers
    /// take, it is cheaper to ask another than to keep everything behind
    /// it waiting. On a member that has not answered anything yet, after
    /// the typical answer itself (its short leash). 0: never.
    pub hedge_factor: u32,
    /// The least time a head-of-line attempt runs before it is hedged.
    pub hedge_min: Duration,
    /// The least time an attempt on a member that has not answered
    /// anything yet runs before it is given up (its leash: the typical
    /// answer times [`PeerSetConfig::timeout_factor`], at least this,
    /// instead of [`PeerSetConfig::min_timeout`]). Such a member holds at
    /// most one of the set's requests until it answers (probation), and
    /// is swapped out at its first timeout: a silent peer costs one short
    /// leash, once.
    pub min_first_timeout: Duration,
    /// How long an IP the set bans ([`super::PeerSet::ban`]) is kept out
    /// of it: dcrd's `--banduration`, 24 h by default
    /// ([`crate::connmgr::DEFAULT_BAN_DURATION`]). The set holds at most
    /// [`crate::connmgr::policy::MAX_BANS`] bans, as the manager's list.
    pub ban_duration: Duration,
}

impl Default for PeerSetConfig {
    fn default() -> Self {
        PeerSetConfig {
            request_timeout: crate::config::DEFAULT_REQUEST_TIMEOUT,
            min_timeout: Duration::from_millis(500),
            initial_timeout: Duration::from_secs(5),
            timeout_factor: 4,
            max_attempts: 4,
            pause: Duration::from_secs(2),
            swap_out_after: 2,
            hedge_after: Duration::from_millis(250),
            hedge_factor: 3,
            hedge_min: Duration::from_millis(20),
            min_first_timeout: Duration::from_millis(200),
            ban_duration: crate::connmgr::DEFAULT_BAN_DURATION,
        }
    }
}

/// Kinds of request, each with its own typical answer time.
pub(crate) const KINDS: usize = 7;

/// Which of the [`KINDS`] a request is.
pub(crate) fn kind_of(r: &Request) -> usize {
    match r {
        Request::Headers { .. } => 0,
        Request::Blocks { .. } => 1,
        Request::Data(_) => 2,
        Request::CFilterV2(_) => 3,
        Request::CFiltersV2 { .. } => 4,
        Request::InitState(_) => 5,
        Request::Ping => 6,
    }
}

/// Weight of a new sample in the moving averages.
const EWMA_WEIGHT: f64 = 0.25;

/// A moving average of durations, in seconds.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Ewma(Option<f64>);

impl Ewma {
    pub fn add(&mut self, sample: Duration) {
        let s = sample.as_secs_f64();
        self.0 = Some(match self.0 {
            None => s,
            Some(v) => v + EWMA_WEIGHT * (s - v),
        });
    }

    pub fn get(&self) -> Option<Duration> {
        self.0.map(Duration::from_secs_f64)
    }
}

/// What the set knows of one member.
#[derive(Debug, Clone, Default)]
pub(crate) struct MemberStats {
    /// Its answer times, all kinds together (the load's cost).
    pub latency: Ewma,
    /// Timeouts since its last answer.
    pub timeouts_in_a_row: u32,
    /// Passed over until then.
    pub paused_until: Option<Instant>,
}

impl MemberStats {
    /// Whether it has answered anything yet (else it is on probation).
    pub fn has_answered(&self) -> bool {
        self.latency.get().is_some()
    }
}

/// Whether a member with `in_flight` requests out may take one more: up
/// to its peer's bound once it has answered, one while it has not (on
/// probation: a member that has not answered its first request is given
/// no more of the job until it has).
pub(crate) fn takes_more(answered: bool, in_flight: usize, max_in_flight: usize) -> bool {
    in_flight < if answered { max_in_flight } else { 1 }
}

/// After how long the attempt of a call is hedged on another member, the
/// sooner of two rules. While no answer of its kind has been `typical`ly
/// timed, any call after `hedge_after`. A call holding up its caller's
/// progress (`head_of_line`) after the typical answer of its kind (while
/// there is none, of `any_kind`) times `hedge_factor`, at least
/// `hedge_min`; on a member that has not `answered` anything yet (the
/// short leash) after the typical answer itself, at least `hedge_min`.
/// `None`: not hedged.
pub(crate) fn hedge_delay(
    config: &PeerSetConfig,
    typical: Option<Duration>,
    any_kind: Option<Duration>,
    head_of_line: bool,
    answered: bool,
) -> Option<Duration> {
    let unknown =
        (typical.is_none() && config.hedge_after != Duration::MAX).then_some(config.hedge_after);
    let factor = if answered { config.hedge_factor } else { 1 };
    let head = typical
        .or(any_kind)
        .filter(|_| head_of_line && config.hedge_factor > 0)
        .map(|t| t.saturating_mul(factor).max(config.hedge_min));
    match (unknown, head) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// A member as the chooser sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Candidate {
    /// Requests it has outstanding.
    pub in_flight: usize,
    /// Its answer time, if known.
    pub latency: Option<Duration>,
}

/// The cost of sending one more request to `c`: its answer time times
/// its outstanding requests plus one (PeakEWMA's load); an unknown answer
/// time counts as `typical`.
fn cost(c: &Candidate, typical: Duration) -> f64 {
    let latency = c.latency.unwrap_or(typical).as_secs_f64().max(1e-6);
    latency * (c.in_flight + 1) as f64
}

/// Power of two choices: of two candidates drawn at random (`draws`),
/// the one of lower cost; `None` when there is none.
pub(crate) fn power_of_two(
    candidates: &[Candidate],
    typical: Duration,
    draws: (u64, u64),
) -> Option<usize> {
    match candidates.len() {
        0 => None,
        1 => Some(0),
        n => {
            let a = (draws.0 % n as u64) as usize;
            // A second draw distinct from the first.
            let b = (a + 1 + (draws.1 % (n as u64 - 1)) as usize) % n;
            let (ca, cb) = (cost(&candidates[a], typical), cost(&candidates[b], typical));
            Some(if cb < ca { b } else { a })
        }
    }
}

/// How long an attempt may take when answers of its kind typically take
/// `typical`: that times the factor, at least the minimum
/// ([`PeerSetConfig::min_first_timeout`] for a member that has not
/// `answered` anything yet, its short leash), at most the request
/// timeout; the initial timeout while nothing is known.
pub(crate) fn attempt_timeout(
    config: &PeerSetConfig,
    typical: Option<Duration>,
    answered: bool,
) -> Duration {
    let min = if answered {
        config.min_timeout
    } else {
        config.min_first_timeout
    };
    match typical {
        None => config.initial_timeout.min(config.request_timeout),
        Some(t) => (t.saturating_mul(config.timeout_factor))
            .max(min)
            .min(config.request_timeout),
    }
}

/// What a failed attempt means for its peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Consequence {
    /// Nothing: ask another (it does not have it, or cannot be asked).
    None,
    /// Passed over until then.
    Pause(Instant),
    /// Disconnected and out of the set, not banned.
    SwapOut,
    /// Gone already: out of the set.
    Remove,
}

/// Records a failed attempt of `stats`' peer at `now`.
pub(crate) fn on_failure(
    config: &PeerSetConfig,
    stats: &mut MemberStats,
    error: &RequestError,
    now: Instant,
) -> Consequence {
    match error {
        RequestError::Timeout => {
            stats.timeouts_in_a_row += 1;
            // A peer that never answered anything is silent, not slow.
            let never_answered = !stats.has_answered();
            if never_answered || stats.timeouts_in_a_row >= config.swap_out_after {
                return Consequence::SwapOut;
            }
            let until = crate::sync::after(now, config.pause);
            stats.paused_until = Some(until);
            Consequence::Pause(until)
        }
        RequestError::Disconnected(_) => Consequence::Remove,
        _ => Consequence::None,
    }
}

/// Records an answer that took `took`.
pub(crate) fn on_answer(stats: &mut MemberStats, took: Duration) {
    stats.timeouts_in_a_row = 0;
    stats.paused_until = None;
    stats.latency.add(took);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::DisconnectReason;

    const MS: Duration = Duration::from_millis(1);

    fn c(in_flight: usize, latency_ms: Option<u64>) -> Candidate {
        Candidate {
            in_flight,
            latency: latency_ms.map(Duration::from_millis),
        }
    }

    #[test]
    fn waits_set_past_what_the_clock_holds_are_for_ever_not_a_panic() {
        let cfg = PeerSetConfig {
            pause: Duration::MAX,
            request_timeout: Duration::MAX,
            timeout_factor: u32::MAX,
            hedge_factor: u32::MAX,
            ..PeerSetConfig::default()
        };
        let t0 = Instant::now();
        let mut s = MemberStats::default();
        on_answer(&mut s, 20 * MS);
        let Consequence::Pause(until) = on_failure(&cfg, &mut s, &RequestError::Timeout, t0) else {
            panic!("paused")
        };
        assert!(until > t0 + Duration::from_secs(365 * 86_400));
        let long = Duration::from_secs(u64::MAX / 2);
        assert_eq!(attempt_timeout(&cfg, Some(long), true), Duration::MAX);
        assert!(hedge_delay(&cfg, Some(long), None, true, true).is_some());
    }

    #[test]
    fn of_two_draws_the_cheaper_one_wins() {
        let cands = [c(0, Some(10)), c(3, Some(10)), c(0, Some(100))];
        // Draws 0 and 1: load 1x10 against 4x10.
        assert_eq!(power_of_two(&cands, 50 * MS, (0, 0)), Some(0));
        // Draws 1 and 2: 4x10 = 40 against 1x100 = 100.
        assert_eq!(power_of_two(&cands, 50 * MS, (1, 0)), Some(1));
        // The second draw never repeats the first.
        for d in 0..20 {
            assert_ne!(power_of_two(&cands[..2], MS, (0, d)), None);
        }
        assert_eq!(power_of_two(&[], MS, (0, 0)), None);
        assert_eq!(power_of_two(&cands[..1], MS, (7, 9)), Some(0));
        // An unknown answer time counts as the typical one.
        let unknown = [c(0, None), c(0, Some(10))];
        assert_eq!(power_of_two(&unknown, 50 * MS, (0, 0)), Some(1));
        assert_eq!(power_of_two(&unknown, MS, (0, 0)), Some(0));
    }

    #[test]
    fn a_silent_peer_draws_fewer_and_fewer_requests() {
        // Requests pile up on a peer that answers nothing; its cost
        // grows with them, so it stops being chosen.
        let mut silent = c(0, None);
        let good = c(1, Some(5));
        let mut chosen = 0;
        for d in 0..1000u64 {
            let cands = [silent, good];
            if power_of_two(&cands, 5 * MS, (d, d / 2)) == Some(0) {
                silent.in_flight += 1;
                chosen += 1;
            }
        }
        // Chosen until its cost (5 ms x outstanding) passes the good
        // peer's (5 ms x 2), then never again.
        assert_eq!(chosen, 2);
    }

    #[test]
    fn attempts_wait_a_multiple_of_the_typical_answer_within_bounds() {
        let cfg = PeerSetConfig::default();
        assert_eq!(attempt_timeout(&cfg, None, true), cfg.initial_timeout);
        assert_eq!(attempt_timeout(&cfg, Some(MS), true), cfg.min_timeout);
        assert_eq!(attempt_timeout(&cfg, Some(1000 * MS), true), 4000 * MS);
        assert_eq!(
            attempt_timeout(&cfg, Some(Duration::from_secs(60)), true),
            cfg.request_timeout
        );
    }

    #[test]
    fn a_member_that_never_answered_gets_a_short_leash() {
        let cfg = PeerSetConfig::default();
        assert!(cfg.min_first_timeout < cfg.min_timeout);
        // Fast answers elsewhere: the leash's floor, not the usual one.
        assert_eq!(
            attempt_timeout(&cfg, Some(MS), false),
            cfg.min_first_timeout
        );
        // Slow answers elsewhere: the same multiple for every member.
        assert_eq!(attempt_timeout(&cfg, Some(1000 * MS), false), 4000 * MS);
        // Nothing known yet: nothing to judge it by.
        assert_eq!(attempt_timeout(&cfg, None, false), cfg.initial_timeout);
    }

    #[test]
    fn a_member_on_probation_holds_one_request() {
        assert!(takes_more(false, 0, 32));
        assert!(!takes_more(false, 1, 32));
        assert!(takes_more(true, 1, 32));
        assert!(takes_more(true, 31, 32));
        assert!(!takes_more(true, 32, 32));
        let mut s = MemberStats::default();
        assert!(!s.has_answered());
        on_answer(&mut s, 3 * MS);
        assert!(s.has_answered());
    }

    #[test]
    fn head_of_line_calls_are_hedged_well_beyond_the_typical_answer() {
        let cfg = PeerSetConfig::default();
        let hd = |typical, head, answered| hedge_delay(&cfg, typical, None, head, answered);
        // Nothing timed yet: every call, after `hedge_after`.
        assert_eq!(hd(None, false, true), Some(cfg.hedge_after));
        assert_eq!(hd(None, true, false), Some(cfg.hedge_after));
        // Timed: only the call holding up progress.
        assert_eq!(hd(Some(10 * MS), false, true), None);
        assert_eq!(hd(Some(10 * MS), false, false), None);
        assert_eq!(hd(Some(10 * MS), true, true), Some(30 * MS));
        assert_eq!(hd(Some(MS), true, true), Some(cfg.hedge_min));
        // On a member with no answer to its name: the short leash.
        assert_eq!(hd(Some(30 * MS), true, false), Some(30 * MS));
        assert_eq!(hd(Some(MS), true, false), Some(cfg.hedge_min));
        // Nothing of its kind timed, other kinds are: the head of the
        // line goes by those (the sooner rule wins), other calls do not.
        let other = Some(10 * MS);
        assert_eq!(hedge_delay(&cfg, None, other, true, true), Some(30 * MS));
        assert_eq!(
            hedge_delay(&cfg, None, other, false, true),
            Some(cfg.hedge_after)
        );
        assert_eq!(
            hedge_delay(&cfg, Some(40 * MS), other, true, true),
            Some(120 * MS)
        );
        let mut off = cfg.clone();
        off.hedge_factor = 0;
        off.hedge_after = Duration::MAX;
        assert_eq!(hedge_delay(&off, Some(10 * MS), other, true, true), None);
        assert_eq!(hedge_delay(&off, None, other, true, false), None);
    }

    #[test]
    fn timeouts_pause_then_swap_out_and_an_answer_forgives() {
        let cfg = PeerSetConfig::default();
        let t0 = Instant::now();
        let timeout = RequestError::Timeout;
        // Silent from the start: out at once.
        let mut s = MemberStats::default();
        assert_eq!(on_failure(&cfg, &mut s, &timeout, t0), Consequence::SwapOut);
        // Slow after answering: paused, forgiven by an answer, then out.
        let mut s = MemberStats::default();
        on_answer(&mut s, 20 * MS);
        assert_eq!(
            on_failure(&cfg, &mut s, &timeout, t0),
            Consequence::Pause(t0 + cfg.pause)
        );
        on_answer(&mut s, 20 * MS);
        assert_eq!(s.paused_until, None);
        assert_eq!(s.latency.get(), Some(20 * MS));
        on_failure(&cfg, &mut s, &timeout, t0);
        assert_eq!(on_failure(&cfg, &mut s, &timeout, t0), Consequence::SwapOut);
        let gone = RequestError::Disconnected(DisconnectReason::Idle);
        assert_eq!(on_failure(&cfg, &mut s, &gone, t0), Consequence::Remove);
        let missing = RequestError::NotFound(dcr_wire::InvVect {
            inv_type: dcr_wire::InvType::BLOCK,
            hash: dcr_wire::Hash::ZERO,
        });
        assert_eq!(on_failure(&cfg, &mut s, &missing, t0), Consequence::None);
    }

    #[test]
    fn the_moving_average_follows_its_samples() {
        let mut e = Ewma::default();
        assert_eq!(e.get(), None);
        e.add(100 * MS);
        e.add(200 * MS);
        let v = e.get().unwrap();
        assert!(v > 120 * MS && v < 130 * MS, "{v:?}");
    }
}
