//! dcrd's dynamic ban score (`internal/connmgr/dynamicbanscore.go`), to
//! the second: a persistent part that only grows and a transient part
//! that decays exponentially with a half-life of a minute, counted in
//! whole Unix seconds and forgotten after half an hour.
//!
//! One score per connection (dcrd's `serverPeer.banScore`): the serving
//! node keeps one for each peer and compares what [`increase`] returns
//! with the ban threshold (above it, the peer is banned).
//!
//! [`increase`]: DynamicBanScore::increase

/// Seconds in which the transient part halves (`Halflife`).
pub const HALF_LIFE_SECS: i64 = 60;

/// Seconds after the last transient increase past which the transient
/// part counts as zero (`Lifetime`).
pub const LIFETIME_SECS: i64 = 1800;

/// `e^(-t·ln 2 / 60)`: what is left of the transient part after `t`
/// seconds (`decayFactor`; dcrd precomputes the first 64 values of the
/// same expression).
fn decay_factor(t: i64) -> f64 {
    (-(t as f64) * std::f64::consts::LN_2 / HALF_LIFE_SECS as f64).exp()
}

/// A persistent and a decaying score (dcrd `DynamicBanScore`); times are
/// Unix seconds, so callers choose the clock (tests a fake one).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct DynamicBanScore {
    last_unix: i64,
    transient: f64,
    persistent: u32,
}

impl DynamicBanScore {
    /// A score of zero.
    pub const fn new() -> DynamicBanScore {
        DynamicBanScore {
            last_unix: 0,
            transient: 0.0,
            persistent: 0,
        }
    }

    /// The score at `now` (dcrd `int`): the persistent part plus the
    /// transient part decayed over the whole seconds since its last
    /// increase; the transient part counts as zero below 1, after
    /// [`LIFETIME_SECS`], or before its last increase.
    pub fn int(&self, now: i64) -> u32 {
        let dt = now.wrapping_sub(self.last_unix);
        if self.transient < 1.0 || !(0..=LIFETIME_SECS).contains(&dt) {
            return self.persistent;
        }
        self.persistent
            .wrapping_add((self.transient * decay_factor(dt)) as u32)
    }

    /// Adds to both parts at `now` and returns the result (dcrd
    /// `increase`). As dcrd's, the transient part is decayed (and its time
    /// moved) only when `transient` is not zero, and the value returned is
    /// the persistent part plus the transient part as last stored: a
    /// persistent-only increase returns the transient part undecayed,
    /// which is what dcrd compares with the threshold.
    pub fn increase(&mut self, persistent: u32, transient: u32, now: i64) -> u32 {
        self.persistent = self.persistent.wrapping_add(persistent);
        let dt = now.wrapping_sub(self.last_unix);
        if transient > 0 {
            if LIFETIME_SECS < dt {
                self.transient = 0.0;
            } else if self.transient > 1.0 && dt > 0 {
                self.transient *= decay_factor(dt);
            }
            self.transient += f64::from(transient);
            self.last_unix = now;
        }
        self.persistent.wrapping_add(self.transient as u32)
    }

    /// Back to zero (dcrd `Reset`).
    pub fn reset(&mut self) {
        *self = DynamicBanScore::new();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_700_000_000;

    #[test]
    fn the_transient_part_halves_every_minute_in_whole_seconds() {
        let mut s = DynamicBanScore::new();
        assert_eq!(s.increase(0, 80, T0), 80);
        assert_eq!(s.int(T0), 80);
        assert_eq!(s.int(T0 + 60), 40);
        assert_eq!(s.int(T0 + 120), 20);
        // 80·e^(-ln2/60) = 79.08: whole points only.
        assert_eq!(s.int(T0 + 1), 79);
        // Before its last increase, or after its lifetime: nothing.
        assert_eq!(s.int(T0 - 1), 0);
        assert_eq!(s.int(T0 + LIFETIME_SECS), 0);
        assert_eq!(s.int(T0 + LIFETIME_SECS + 1), 0);
    }

    #[test]
    fn mempool_bursts_pass_100_on_the_fourth_and_getdata_on_the_second() {
        // OnMemPool adds 0/33: 33, 66, 99, 132 within a second.
        let mut s = DynamicBanScore::new();
        let got: Vec<u32> = (0..4).map(|_| s.increase(0, 33, T0)).collect();
        assert_eq!(got, [33, 66, 99, 132]);
        // OnGetData adds 0/(n·99/50000): 50,000 items twice.
        let mut s = DynamicBanScore::new();
        assert_eq!(s.increase(0, 99, T0), 99);
        assert_eq!(s.increase(0, 99, T0 + 1), 196);
        // A minute apart the first has halved: 49 + 99.
        let mut s = DynamicBanScore::new();
        s.increase(0, 99, T0);
        assert_eq!(s.increase(0, 99, T0 + 60), 148);
    }

    #[test]
    fn a_persistent_increase_returns_the_transient_part_as_stored() {
        let mut s = DynamicBanScore::new();
        s.increase(0, 90, T0);
        // Ten minutes later the transient part is worth almost nothing,
        // but dcrd's increase returns it undecayed when it adds nothing
        // to it.
        assert_eq!(s.int(T0 + 600), 0);
        assert_eq!(s.increase(20, 0, T0 + 600), 110);
        assert_eq!(s.int(T0 + 600), 20);
        // Past the lifetime the next transient increase starts afresh.
        assert_eq!(s.increase(0, 5, T0 + LIFETIME_SECS + 1), 25);
        s.reset();
        assert_eq!(s, DynamicBanScore::new());
    }

    #[test]
    fn the_decay_factor_is_the_precomputed_one() {
        assert_eq!(decay_factor(0), 1.0);
        assert!((decay_factor(60) - 0.5).abs() < 1e-15);
        assert!((decay_factor(120) - 0.25).abs() < 1e-15);
    }
}
