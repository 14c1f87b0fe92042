//! One address in the book and what is known of it: how often and when it
//! was tried, when it last worked, and from that how worth trying it is.
//!
//! The reference is dcrd's `addrmgr/knownaddress.go` (`KnownAddress`,
//! `chance`, `isBad`). Times are whole Unix seconds, as the wire carries
//! them and as dcrd writes them to peers.json; `now` is the caller's clock.

use dcr_wire::NetAddressV2;

use super::consts::{
    BAD_GRACE, FUTURE_TOLERANCE, MAX_FAILURES, MIN_BAD_DAYS, MIN_CHANCE, NEW_BUCKETS_PER_ADDRESS,
    NUM_MISSING_DAYS, NUM_RETRIES, RECENT_ATTEMPT,
};

/// Seconds in a day.
const DAY: i128 = 24 * 60 * 60;

/// A time as a signed number wide enough that no sum or difference of two
/// `u64` times overflows.
pub(crate) fn wide(t: u64) -> i128 {
    i128::from(t)
}

/// An address in the book with its connection history (dcrd's
/// `KnownAddress`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownAddress {
    /// The address: host, port, services, last-seen time.
    pub(crate) na: NetAddressV2,
    /// The peer that told us of it (only its group and key matter).
    pub(crate) src: NetAddressV2,
    /// Connection attempts since the last success (dcrd's `attempts`).
    pub(crate) attempts: u32,
    /// When it was last attempted, Unix seconds.
    pub(crate) last_attempt: Option<u64>,
    /// When a connection to it last completed its handshake, Unix seconds.
    pub(crate) last_success: Option<u64>,
    /// Whether it is in a tried bucket.
    pub(crate) tried: bool,
    /// How many new buckets hold it (0 when tried).
    pub(crate) refs: u8,
    /// Which new buckets hold it: the first `refs` entries, in no order.
    /// (dcrd finds them by scanning all 1024 buckets.)
    pub(crate) new_in: [u16; NEW_BUCKETS_PER_ADDRESS],
}

impl KnownAddress {
    /// A fresh entry: never attempted, never succeeded, in no bucket yet.
    pub(crate) fn new(na: NetAddressV2, src: NetAddressV2) -> KnownAddress {
        KnownAddress {
            na,
            src,
            attempts: 0,
            last_attempt: None,
            last_success: None,
            tried: false,
            refs: 0,
            new_in: [0; NEW_BUCKETS_PER_ADDRESS],
        }
    }

    /// Records that new bucket `bucket` now holds it.
    pub(crate) fn add_ref(&mut self, bucket: usize) {
        let n = usize::from(self.refs);
        if let (Some(slot), Ok(b)) = (self.new_in.get_mut(n), u16::try_from(bucket)) {
            *slot = b;
            self.refs += 1;
        }
    }

    /// Records that new bucket `bucket` no longer holds it.
    pub(crate) fn remove_ref(&mut self, bucket: usize) {
        let n = usize::from(self.refs);
        if let Some(pos) = self.new_in[..n]
            .iter()
            .position(|&b| usize::from(b) == bucket)
        {
            self.new_in.swap(pos, n - 1);
            self.refs -= 1;
        }
    }

    /// The new buckets holding it.
    pub(crate) fn new_buckets(&self) -> &[u16] {
        &self.new_in[..usize::from(self.refs)]
    }

    /// The address (its timestamp is the last-seen time).
    pub fn net_address(&self) -> &NetAddressV2 {
        &self.na
    }

    /// The address of the peer it was learned from.
    pub fn source(&self) -> &NetAddressV2 {
        &self.src
    }

    /// Attempts since the last success.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// When it was last attempted (Unix seconds); what dcrd's connection
    /// manager reads to skip addresses tried in the last ten minutes.
    pub fn last_attempt(&self) -> Option<u64> {
        self.last_attempt
    }

    /// When a connection to it last completed its handshake.
    pub fn last_success(&self) -> Option<u64> {
        self.last_success
    }

    /// Whether it is in a tried bucket.
    pub fn is_tried(&self) -> bool {
        self.tried
    }

    /// How many new buckets hold it (at most
    /// [`NEW_BUCKETS_PER_ADDRESS`](super::consts::NEW_BUCKETS_PER_ADDRESS)).
    pub fn new_refs(&self) -> u8 {
        self.refs
    }

    /// How likely selection is to take it once drawn (dcrd's `chance`):
    /// [`MIN_CHANCE`] when it was never attempted or attempted in the last
    /// [`RECENT_ATTEMPT`] (ten minutes), otherwise 1/1.5^attempts, at
    /// least [`MIN_CHANCE`].
    ///
    /// dcrd's code gives the minimum to a never-attempted address too
    /// (`lastattempt.IsZero() ||`), which its comment does not say; we
    /// follow the code.
    pub fn chance(&self, now: u64) -> f64 {
        let recent = i128::from(RECENT_ATTEMPT.as_secs());
        match self.last_attempt {
            None => MIN_CHANCE,
            Some(t) if wide(now) - wide(t) < recent => MIN_CHANCE,
            Some(_) => {
                let c = 1.0 / 1.5f64.powf(f64::from(self.attempts));
                c.max(MIN_CHANCE)
            }
        }
    }

    /// Whether the address is worthless (dcrd's `isBad`), checked in this
    /// order:
    /// 1. attempted in the last minute ([`BAD_GRACE`]): not bad;
    /// 2. last seen more than ten minutes ([`FUTURE_TOLERANCE`]) in the
    ///    future: bad;
    /// 3. last seen more than [`NUM_MISSING_DAYS`] (30) days ago: bad;
    /// 4. never succeeded and [`NUM_RETRIES`] (3) attempts or more: bad;
    /// 5. no success in the last [`MIN_BAD_DAYS`] (7) days and
    ///    [`MAX_FAILURES`] (5) attempts or more: bad.
    pub fn is_bad(&self, now: u64) -> bool {
        let now = wide(now);
        let ts = wide(self.na.timestamp);
        if self
            .last_attempt
            .is_some_and(|t| wide(t) > now - i128::from(BAD_GRACE.as_secs()))
        {
            return false;
        }
        if ts > now + i128::from(FUTURE_TOLERANCE.as_secs()) {
            return true;
        }
        if ts < now - i128::from(NUM_MISSING_DAYS) * DAY {
            return true;
        }
        if self.last_success.is_none() && self.attempts >= NUM_RETRIES {
            return true;
        }
        let recent_success = self
            .last_success
            .is_some_and(|t| wide(t) > now - i128::from(MIN_BAD_DAYS) * DAY);
        !recent_success && self.attempts >= MAX_FAILURES
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dcr_wire::ServiceFlags;

    const NOW: u64 = 1_700_000_000;
    const MIN: u64 = 60;
    const DAY_S: u64 = 86_400;

    fn ka(
        ts: u64,
        attempts: u32,
        last_attempt: Option<u64>,
        last_success: Option<u64>,
    ) -> KnownAddress {
        let na = NetAddressV2::new(
            "1.2.3.4".parse().unwrap(),
            9108,
            ServiceFlags::NODE_NETWORK,
            ts,
        );
        KnownAddress {
            attempts,
            last_attempt,
            last_success,
            ..KnownAddress::new(na, na)
        }
    }

    #[test]
    fn chance_minimum_for_never_and_recent_attempts() {
        // Never attempted: the minimum, whatever the attempts say.
        assert_eq!(ka(NOW, 0, None, None).chance(NOW), MIN_CHANCE);
        // Attempted 9:59 ago: the minimum; 10:00 ago: 1/1.5^attempts.
        assert_eq!(ka(NOW, 0, Some(NOW - 599), None).chance(NOW), MIN_CHANCE);
        assert_eq!(ka(NOW, 0, Some(NOW - 600), None).chance(NOW), 1.0);
        // An attempt in the future counts as recent.
        assert_eq!(ka(NOW, 0, Some(NOW + 5), None).chance(NOW), MIN_CHANCE);
    }

    #[test]
    fn chance_falls_by_one_and_a_half_per_failure() {
        let old = Some(NOW - 3600);
        assert_eq!(ka(NOW, 1, old, None).chance(NOW), 1.0 / 1.5);
        assert!((ka(NOW, 2, old, None).chance(NOW) - 1.0 / 2.25).abs() < 1e-12);
        // 1/1.5^11 = 0.0116 is above the floor; 1/1.5^12 = 0.0077 is not.
        assert!(ka(NOW, 11, old, None).chance(NOW) > MIN_CHANCE);
        assert_eq!(ka(NOW, 12, old, None).chance(NOW), MIN_CHANCE);
        assert_eq!(ka(NOW, u32::MAX, old, None).chance(NOW), MIN_CHANCE);
    }

    #[test]
    fn bad_from_the_future_beyond_ten_minutes() {
        let grace_over = Some(NOW - 2 * MIN);
        assert!(!ka(NOW + 600, 0, grace_over, Some(NOW)).is_bad(NOW));
        assert!(ka(NOW + 601, 0, grace_over, Some(NOW)).is_bad(NOW));
    }

    #[test]
    fn bad_when_not_seen_for_thirty_days() {
        assert!(!ka(NOW - 30 * DAY_S, 0, None, None).is_bad(NOW));
        assert!(ka(NOW - 30 * DAY_S - 1, 0, None, None).is_bad(NOW));
    }

    #[test]
    fn bad_after_three_attempts_without_success() {
        let t = Some(NOW - 2 * MIN);
        assert!(!ka(NOW, 2, t, None).is_bad(NOW));
        assert!(ka(NOW, 3, t, None).is_bad(NOW));
        // With a success ever, three attempts are not enough.
        assert!(!ka(NOW, 3, t, Some(NOW - 40 * DAY_S)).is_bad(NOW));
    }

    #[test]
    fn bad_after_five_failures_without_success_for_a_week() {
        let t = Some(NOW - 2 * MIN);
        let exactly_a_week = Some(NOW - 7 * DAY_S);
        let within_week = Some(NOW - 7 * DAY_S + 1);
        assert!(!ka(NOW, 4, t, exactly_a_week).is_bad(NOW));
        assert!(ka(NOW, 5, t, exactly_a_week).is_bad(NOW));
        assert!(!ka(NOW, 5, t, within_week).is_bad(NOW));
    }

    #[test]
    fn never_bad_within_a_minute_of_an_attempt() {
        // Every other rule would call these bad.
        for mut k in [
            ka(NOW + 3600, 0, None, None),
            ka(NOW - 40 * DAY_S, 0, None, None),
            ka(NOW, 3, None, None),
            ka(NOW, 9, None, Some(NOW - 40 * DAY_S)),
        ] {
            assert!(k.is_bad(NOW));
            k.last_attempt = Some(NOW - 59);
            assert!(!k.is_bad(NOW));
            k.last_attempt = Some(NOW - 60);
            assert!(k.is_bad(NOW));
        }
    }

    #[test]
    fn extreme_times_do_not_overflow() {
        let k = ka(u64::MAX, u32::MAX, Some(u64::MAX), Some(0));
        let _ = (
            k.is_bad(0),
            k.is_bad(u64::MAX),
            k.chance(0),
            k.chance(u64::MAX),
        );
        let k = ka(0, 0, Some(0), None);
        let _ = (k.is_bad(u64::MAX), k.chance(u64::MAX));
    }
}
