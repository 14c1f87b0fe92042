//! Our recent version nonces: a version that carries one of them is a
//! connection to ourselves (the reference's `sentNonces`).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, OnceLock};

use crate::sync::lock;

/// Nonces of our recent version messages: a version that carries one of
/// them is a connection to ourselves. One set per node: by default every
/// peer of the process shares [`RecentNonces::global`]; a process that runs
/// several nodes (tests, the demo) gives each its own.
#[derive(Debug, Default)]
pub struct RecentNonces(Mutex<VecDeque<u64>>);

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
        let mut n = lock(&self.0);
        if n.len() == Self::CAPACITY {
            n.pop_front();
        }
        n.push_back(nonce);
    }

    /// True when `nonce` is one of ours.
    pub fn contains(&self, nonce: u64) -> bool {
        lock(&self.0).contains(&nonce)
    }
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
    }
}
