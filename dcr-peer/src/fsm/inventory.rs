//! Inventory announcement: a bounded filter of what the peer already knows
//! (so nothing is announced twice) and the trickle queue that batches
//! announcements into `inv` messages.

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasher, RandomState};
use std::time::{Duration, Instant};

use dcr_wire::InvVect;

/// Most entries in one trickled `inv` (the reference's): larger backlogs go
/// out as several messages.
pub const MAX_INV_TRICKLE_SIZE: usize = 1000;
/// Most vectors waiting for a trickle tick: ten ticks' worth (360 KB).
/// A peer that falls that far behind (it does not read, so the ticks'
/// messages wait for queue room) loses the newest announcements rather than
/// growing the queue without bound.
pub const MAX_TRICKLE_QUEUE: usize = 10 * MAX_INV_TRICKLE_SIZE;
/// A bounded least-recently-added set of inventory vectors with a
/// time-to-live. Memory is `capacity` entries at most, whatever the peer
/// sends.
///
/// `S` hashes the vectors: it must be keyed with a random seed per
/// filter, so a remote that chooses the vectors it announces cannot aim
/// them at one bucket (the filter's size bounds the harm even if it
/// could). The standard `RandomState` is; the peer uses a faster keyed
/// hasher, as every received `inv` entry pays for one hash.
#[derive(Debug, Clone)]
pub struct KnownInventory<S = RandomState> {
    capacity: usize,
    ttl: Duration,
    /// Insertion order with insertion time; stale order entries (an item
    /// re-added later) are skipped on eviction.
    order: VecDeque<(InvVect, Instant)>,
    items: HashMap<InvVect, Instant, S>,
}

impl<S: BuildHasher + Default> KnownInventory<S> {
    /// An empty filter of at most `capacity` entries, each lasting `ttl`.
    pub fn new(capacity: usize, ttl: Duration) -> Self {
        KnownInventory {
            capacity: capacity.max(1),
            ttl,
            order: VecDeque::new(),
            items: HashMap::default(),
        }
    }

    /// Records `iv` as known at `now`, evicting the oldest entries beyond
    /// the capacity.
    pub fn add(&mut self, iv: InvVect, now: Instant) {
        self.items.insert(iv, now);
        self.order.push_back((iv, now));
        while self.items.len() > self.capacity {
            self.evict_oldest();
        }
        // Keep the order queue from growing with re-added entries.
        if self.order.len() > 2 * self.capacity {
            let items = &self.items;
            self.order.retain(|(iv, t)| items.get(iv) == Some(t));
        }
    }

    fn evict_oldest(&mut self) {
        while let Some((iv, t)) = self.order.pop_front() {
            if self.items.get(&iv) == Some(&t) {
                self.items.remove(&iv);
                return;
            }
        }
    }

    /// True when `iv` was added less than the time-to-live ago.
    pub fn contains(&self, iv: &InvVect, now: Instant) -> bool {
        self.items
            .get(iv)
            .is_some_and(|t| now.saturating_duration_since(*t) < self.ttl)
    }

    /// Number of entries held (expired ones included until evicted).
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when nothing is known.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The configured capacity.
    pub fn capacity(&self) -> usize {
        self.capacity
    }
}

/// Inventory waiting for the next trickle tick.
#[derive(Debug, Clone, Default)]
pub struct Trickle {
    queue: Vec<InvVect>,
}

impl Trickle {
    /// Queues `iv` unless the peer already knows it or the queue holds
    /// [`MAX_TRICKLE_QUEUE`] already; says whether it was queued.
    pub fn push<S: BuildHasher + Default>(
        &mut self,
        iv: InvVect,
        known: &KnownInventory<S>,
        now: Instant,
    ) -> bool {
        if known.contains(&iv, now) || self.queue.len() >= MAX_TRICKLE_QUEUE {
            return false;
        }
        self.queue.push(iv);
        true
    }

    /// Number of queued vectors.
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// True when nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// At a trickle tick: the batches to send as `inv` messages (each at
    /// most the protocol's maximum), skipping what became known meanwhile,
    /// and marking everything sent as known.
    pub fn drain<S: BuildHasher + Default>(
        &mut self,
        known: &mut KnownInventory<S>,
        now: Instant,
    ) -> Vec<Vec<InvVect>> {
        let mut batches: Vec<Vec<InvVect>> = Vec::new();
        let mut current = Vec::new();
        for iv in self.queue.drain(..) {
            if known.contains(&iv, now) {
                continue;
            }
            known.add(iv, now);
            current.push(iv);
            if current.len() == MAX_INV_TRICKLE_SIZE {
                batches.push(std::mem::take(&mut current));
            }
        }
        if !current.is_empty() {
            batches.push(current);
        }
        batches
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use dcr_wire::{Hash, InvType};

    /// A filter with the standard hasher.
    type Known = KnownInventory;

    /// The reference's time-to-live of a known entry.
    pub(crate) const TTL: Duration = Duration::from_secs(15 * 60);

    /// A distinct transaction vector for each `n`.
    pub(crate) fn iv(n: u32) -> InvVect {
        let mut h = [0u8; 32];
        h[..4].copy_from_slice(&n.to_le_bytes());
        InvVect {
            inv_type: InvType::TX,
            hash: Hash(h),
        }
    }

    #[test]
    fn the_trickle_queue_is_bounded() {
        let t = Instant::now();
        let known = Known::new(100, TTL);
        let mut q = Trickle::default();
        for n in 0..MAX_TRICKLE_QUEUE as u32 {
            assert!(q.push(iv(n), &known, t));
        }
        assert!(!q.push(iv(u32::MAX), &known, t));
        assert_eq!(q.len(), MAX_TRICKLE_QUEUE);
    }

    #[test]
    fn known_filter_is_bounded() {
        let t = Instant::now();
        let mut k = Known::new(100, TTL);
        for n in 0..10_000 {
            k.add(iv(n), t);
        }
        assert_eq!(k.len(), 100);
        assert!(k.contains(&iv(9_999), t));
        assert!(!k.contains(&iv(0), t));
        assert!(k.order.len() <= 200);
    }

    #[test]
    fn known_entries_expire() {
        let t = Instant::now();
        let mut k = Known::new(10, Duration::from_secs(60));
        k.add(iv(1), t);
        assert!(k.contains(&iv(1), t + Duration::from_secs(59)));
        assert!(!k.contains(&iv(1), t + Duration::from_secs(60)));
    }

    #[test]
    fn re_adding_refreshes_without_growing() {
        let t = Instant::now();
        let mut k = Known::new(2, TTL);
        k.add(iv(1), t);
        k.add(iv(2), t);
        k.add(iv(1), t + Duration::from_secs(1));
        k.add(iv(3), t + Duration::from_secs(2));
        // 2 was the oldest live entry.
        assert!(k.contains(&iv(1), t + Duration::from_secs(2)));
        assert!(!k.contains(&iv(2), t + Duration::from_secs(2)));
        assert_eq!(k.len(), 2);
    }

    #[test]
    fn trickle_batches_and_never_reannounces() {
        let t = Instant::now();
        let mut k = Known::new(200_000, TTL);
        let mut tr = Trickle::default();
        k.add(iv(5), t);
        for n in 0..2_500 {
            tr.push(iv(n), &k, t);
        }
        assert_eq!(tr.len(), 2_499);
        let batches = tr.drain(&mut k, t);
        assert_eq!(
            batches.iter().map(Vec::len).collect::<Vec<_>>(),
            vec![1000, 1000, 499]
        );
        for n in 0..10 {
            tr.push(iv(n), &k, t);
        }
        assert!(tr.is_empty());
        assert!(tr.drain(&mut k, t).is_empty());
    }
}
