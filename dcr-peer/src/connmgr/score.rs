//! Misbehaviour scores and bans.
//!
//! As dcrd's dynamic ban score: a persistent part that only grows and a
//! transient part that halves every minute, summed; past the threshold the
//! address is banned for the ban duration.

use std::time::{Duration, Instant};

/// Half-life of the transient score.
pub const SCORE_HALF_LIFE: Duration = Duration::from_secs(60);

/// A decaying misbehaviour score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BanScore {
    persistent: u32,
    transient: f64,
    last: Option<Instant>,
}

impl Default for BanScore {
    fn default() -> Self {
        BanScore {
            persistent: 0,
            transient: 0.0,
            last: None,
        }
    }
}

impl BanScore {
    fn decayed(&self, now: Instant) -> f64 {
        match self.last {
            None => 0.0,
            Some(t) => {
                let halves =
                    now.saturating_duration_since(t).as_secs_f64() / SCORE_HALF_LIFE.as_secs_f64();
                self.transient * 0.5f64.powf(halves)
            }
        }
    }

    /// The score at `now`.
    pub fn value(&self, now: Instant) -> u32 {
        self.persistent.saturating_add(self.decayed(now) as u32)
    }

    /// Adds points and returns the new score.
    pub fn add(&mut self, persistent: u32, transient: u32, now: Instant) -> u32 {
        self.transient = self.decayed(now) + f64::from(transient);
        self.last = Some(now);
        self.persistent = self.persistent.saturating_add(persistent);
        self.value(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transient_part_halves_every_minute() {
        let t = Instant::now();
        let mut s = BanScore::default();
        assert_eq!(s.add(0, 80, t), 80);
        assert_eq!(s.value(t + SCORE_HALF_LIFE), 40);
        assert_eq!(s.add(10, 0, t + 2 * SCORE_HALF_LIFE), 30);
        assert_eq!(s.value(t + Duration::from_secs(3600)), 10);
    }
}
