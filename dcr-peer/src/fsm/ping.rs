//! Keep-alive: a ping with a fresh random nonce at a fixed interval, and the
//! round-trip time measured from the matching pong.

use std::time::{Duration, Instant};

/// Ping schedule and round-trip measurement.
#[derive(Debug, Clone)]
pub struct PingState {
    interval: Duration,
    next_ping: Instant,
    /// The outstanding ping: nonce and when it was sent.
    outstanding: Option<(u64, Instant)>,
    last_rtt: Option<Duration>,
}

impl PingState {
    /// First ping due one interval after `now`.
    pub fn new(interval: Duration, now: Instant) -> Self {
        PingState {
            interval,
            next_ping: now + interval,
            outstanding: None,
            last_rtt: None,
        }
    }

    /// When the next ping is due.
    pub fn next_due(&self) -> Instant {
        self.next_ping
    }

    /// At `now`, returns `Some(nonce)` when a ping is due; the caller sends a
    /// ping carrying that nonce. `nonce` is the caller's random draw, so the
    /// machine stays deterministic. The ping is timed from its write
    /// ([`PingState::sent`]), not from here.
    pub fn poll(&mut self, now: Instant, nonce: u64) -> Option<u64> {
        if now < self.next_ping {
            return None;
        }
        self.next_ping = now + self.interval;
        Some(nonce)
    }

    /// A ping of `nonce` was written at `now`, whatever queued it (this
    /// schedule, the handle's `push_ping`, a queued message or a typed
    /// request): its pong is the one measured, and an earlier ping's is
    /// ignored. dcrd's `outHandler` records every ping it takes from its
    /// send queue the same way (`lastPingNonce`, `lastPingTime`).
    pub fn sent(&mut self, nonce: u64, now: Instant) {
        self.outstanding = Some((nonce, now));
    }

    /// A pong arrived. Returns the round-trip time when it answers the
    /// outstanding ping; a pong with any other nonce is ignored, as the
    /// reference does.
    pub fn on_pong(&mut self, nonce: u64, now: Instant) -> Option<Duration> {
        match self.outstanding {
            Some((n, sent)) if n == nonce => {
                self.outstanding = None;
                let rtt = now.saturating_duration_since(sent);
                self.last_rtt = Some(rtt);
                Some(rtt)
            }
            _ => None,
        }
    }

    /// The outstanding ping's nonce and send time.
    pub fn outstanding(&self) -> Option<(u64, Instant)> {
        self.outstanding
    }

    /// The last measured round-trip time.
    pub fn last_rtt(&self) -> Option<Duration> {
        self.last_rtt
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pings_on_schedule_and_measures_rtt() {
        let t0 = Instant::now();
        let mut p = PingState::new(Duration::from_secs(10), t0);
        assert_eq!(p.poll(t0 + Duration::from_secs(9), 1), None);
        assert_eq!(p.poll(t0 + Duration::from_secs(10), 7), Some(7));
        // Due is not sent: nothing is timed until the write.
        assert_eq!(p.outstanding(), None);
        p.sent(7, t0 + Duration::from_secs(10));
        assert_eq!(p.poll(t0 + Duration::from_secs(11), 8), None);
        assert_eq!(p.on_pong(6, t0 + Duration::from_secs(11)), None);
        assert_eq!(
            p.on_pong(7, t0 + Duration::from_millis(10_250)),
            Some(Duration::from_millis(250))
        );
        assert_eq!(p.last_rtt(), Some(Duration::from_millis(250)));
        // A repeated pong does not count twice.
        assert_eq!(p.on_pong(7, t0 + Duration::from_secs(12)), None);
        assert_eq!(p.next_due(), t0 + Duration::from_secs(20));
    }
}
