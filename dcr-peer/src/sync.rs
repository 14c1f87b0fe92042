//! The lock and clock helpers the peer shares.

use std::sync::{Mutex, MutexGuard};
use std::time::{Instant, SystemTime};

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

/// Seconds since the Unix epoch on the wall clock (0 before it).
pub(crate) fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}
