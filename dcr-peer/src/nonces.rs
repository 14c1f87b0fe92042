//! Our recent version nonces: a version that carries one of them is a
//! connection to ourselves (the reference's `sentNonces`).
//!
//! The side that sees its own nonce come back refuses the connection and
//! closes it, as the reference does; the other side, which sent that
//! nonce, only sees the connection close. When both ends are in this
//! process and share the set (two default peers, or a node that dialled
//! its own listener) the refusing side marks the nonce here, and the
//! sending side, whose handshake then fails, finds it and reports the
//! self-connection instead of a closed connection.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, OnceLock};

use crate::sync::lock;

/// Nonces of our recent version messages: a version that carries one of
/// them is a connection to ourselves. One set per node: by default every
/// peer of the process shares [`RecentNonces::global`]; a process that runs
/// several nodes (tests, the demo) gives each its own.
#[derive(Debug, Default)]
pub struct RecentNonces {
    sent: Mutex<VecDeque<u64>>,
    /// Nonces of ours that came back and were refused as a connection to
    /// ourselves: the sending side learns why its connection closed.
    came_back: Mutex<VecDeque<u64>>,
}

impl RecentNonces {
    /// How many recent nonces are remembered.
    pub const CAPACITY: usize = 128;

    /// An empty set, for peers that should not share the global one.
    pub fn new() -> Arc<RecentNonces> {
        Arc::new(RecentNonces::default())
    }

    /// The process-wide set.
    pub fn global() -> Arc<RecentNonces> {
        static GLOBAL: OnceLock<Arc<RecentNonces>> = OnceLock::new();
        GLOBAL.get_or_init(RecentNonces::new).clone()
    }

    /// Remembers `nonce`, forgetting the oldest beyond the capacity.
    pub fn remember(&self, nonce: u64) {
        push_bounded(&mut lock(&self.sent), nonce);
    }

    /// True when `nonce` is one of ours.
    pub fn contains(&self, nonce: u64) -> bool {
        lock(&self.sent).contains(&nonce)
    }

    /// Marks `nonce`, one of ours, as having come back in a version we
    /// refused as a connection to ourselves.
    pub(crate) fn came_back(&self, nonce: u64) {
        push_bounded(&mut lock(&self.came_back), nonce);
    }

    /// True when the version carrying `nonce` reached this process and was
    /// refused as a connection to ourselves ([`RecentNonces::came_back`]).
    pub(crate) fn was_refused_as_self(&self, nonce: u64) -> bool {
        lock(&self.came_back).contains(&nonce)
    }
}

/// Appends `nonce`, forgetting the oldest beyond the capacity.
fn push_bounded(n: &mut VecDeque<u64>, nonce: u64) {
    if n.len() == RecentNonces::CAPACITY {
        n.pop_front();
    }
    n.push_back(nonce);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oldest_nonce_is_forgotten_past_the_capacity() {
        let n = RecentNonces::new();
        for i in 0..=RecentNonces::CAPACITY as u64 {
            n.remember(i);
        }
        assert!(!n.contains(0));
        assert!(n.contains(1) && n.contains(RecentNonces::CAPACITY as u64));
        for i in 0..=RecentNonces::CAPACITY as u64 {
            n.came_back(i);
        }
        assert!(!n.was_refused_as_self(0));
        assert!(n.was_refused_as_self(RecentNonces::CAPACITY as u64));
    }
}
