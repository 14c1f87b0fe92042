//! The lock and clock helpers the peer shares.

use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

/// Locks a mutex, recovering from a panicked holder (every critical
/// section of this crate leaves its data consistent).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The current time on tokio's clock (paused in tests), as the std
/// `Instant` the state machines take.
pub(crate) fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}

/// As good as never: what [`after`] gives for a wait past what an
/// `Instant` holds (tokio's own "far future" is the same 30 years), and
/// the longest a [`crate::Config`] timeout may be.
pub(crate) const FOREVER: Duration = Duration::from_secs(30 * 365 * 86_400);

/// The instant `wait` after `now`, for waits a user sets (a ban's
/// duration, a retry's, a pause): one too long for an `Instant`
/// (`--banduration` of `u64::MAX` seconds) is [`FOREVER`], where
/// `now + wait` panicked.
pub(crate) fn after<I: Moment>(now: I, wait: Duration) -> I {
    now.plus(wait).or_else(|| now.plus(FOREVER)).unwrap_or(now)
}

/// An instant of std's clock or tokio's (the state machines take std's,
/// the tasks tokio's), for [`after`].
pub(crate) trait Moment: Copy {
    /// `self + d`, if it fits.
    fn plus(self, d: Duration) -> Option<Self>;
}

impl Moment for Instant {
    fn plus(self, d: Duration) -> Option<Self> {
        self.checked_add(d)
    }
}

impl Moment for tokio::time::Instant {
    fn plus(self, d: Duration) -> Option<Self> {
        self.checked_add(d)
    }
}

/// Seconds since the Unix epoch on the wall clock (0 before it).
pub(crate) fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}
