//! Inventory announcement: a bounded filter of what the peer already knows
//! (so nothing is announced twice) and the trickle queue that batches
//! announcements into `inv` messages.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher, RandomState};
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
/// How often adding scans the filter for expired entries (the reference's
/// `expireScanInterval`, dcrd `container/lru/map.go`).
pub const EXPIRE_SCAN_INTERVAL: Duration = Duration::from_secs(30);

/// A vector as the filter's key: hashed in words (the hash as two 128-bit
/// halves, then the type), which keyed hashers such as foldhash fold
/// without a byte loop. Every byte of the vector enters the hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Key(InvVect);

impl Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        let b = &self.0.hash.0;
        let (lo, hi) = b.split_at(16);
        state.write_u128(u128::from_le_bytes(lo.try_into().expect("16 bytes")));
        state.write_u128(u128::from_le_bytes(hi.try_into().expect("16 bytes")));
        state.write_u32(self.0.inv_type.0);
    }
}

/// No slot: the end of the recency list.
const NIL: u32 = u32::MAX;

/// One entry of the filter: its vector, when it was last added, and its
/// neighbours in the recency list (indices into `slots`).
#[derive(Debug, Clone)]
struct Slot {
    iv: InvVect,
    added: Instant,
    /// Towards the most recently used end.
    newer: u32,
    /// Towards the least recently used end.
    older: u32,
}

/// A bounded least-recently-used set of inventory vectors with a
/// time-to-live: dcrd's `lru.Set` as `peer.go` keeps it
/// (`knownInventory`, `NewSetWithDefaultTTL(maxKnownInventory,
/// maxKnownInventoryTTL)`), rule by rule:
///
/// - [`add`](Self::add) of a present vector refreshes its time and makes
///   it the most recent (`Put`); of a new one into a full filter, evicts
///   the least recently used entry, expired or not (`put`'s reuse of
///   `root.prev`);
/// - [`contains`](Self::contains) of a live vector makes it the most recent
///   too (`Contains` is `Get`, which moves the element to the front); an
///   expired one is a miss and is not moved;
/// - an entry expires once `now` is past its add time plus the
///   time-to-live (`now > expiresAfter`); a zero time-to-live never
///   expires (dcrd replaces it by a hundred years);
/// - expired entries stay, and count against the capacity, until an
///   [`add`](Self::add) at least [`EXPIRE_SCAN_INTERVAL`] after the last
///   scan removes them all (`removeExpired`). The first scan is due 30 s
///   after the first add, where dcrd counts from the set's creation: the
///   filter is made with the connection, so the two differ by the time
///   before the first add, and expiry being 15 minutes, no entry can be
///   expired at a scan this moves.
///
/// Every operation is O(1): a keyed hash and a probe (three when a new
/// vector evicts: look up, remove the evicted, insert), and a few index
/// updates of an intrusive doubly linked list over a slab of slots (the
/// reference's list of elements). Memory is `capacity` slots at most,
/// whatever the peer sends, allocated as entries arrive.
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
    /// Where each held vector's slot is.
    index: HashMap<Key, u32, S>,
    /// The entries; a removed entry's slot waits in `free` for reuse.
    slots: Vec<Slot>,
    free: Vec<u32>,
    /// Most recently used entry, or [`NIL`].
    newest: u32,
    /// Least recently used entry (the next to evict), or [`NIL`].
    oldest: u32,
    /// When the next add scans for expired entries (set by the first add).
    next_scan: Option<Instant>,
}

impl<S: BuildHasher + Default> KnownInventory<S> {
    /// An empty filter of at most `capacity` entries, each lasting `ttl`
    /// (zero: for ever).
    pub fn new(capacity: usize, ttl: Duration) -> Self {
        KnownInventory {
            capacity: capacity.clamp(1, NIL as usize),
            ttl,
            index: HashMap::default(),
            slots: Vec::new(),
            free: Vec::new(),
            newest: NIL,
            oldest: NIL,
            next_scan: None,
        }
    }

    /// Records `iv` as known at `now`: refreshes it if held, else adds it,
    /// evicting the least recently used entry when full.
    pub fn add(&mut self, iv: InvVect, now: Instant) {
        match self.next_scan {
            None => self.next_scan = Some(now + EXPIRE_SCAN_INTERVAL),
            Some(due) if now > due => self.remove_expired(now),
            Some(_) => {}
        }
        if let Some(&i) = self.index.get(&Key(iv)) {
            self.slots[i as usize].added = now;
            self.move_to_front(i);
            return;
        }
        let slot = Slot {
            iv,
            added: now,
            newer: NIL,
            older: NIL,
        };
        let i = if self.index.len() >= self.capacity {
            // Reuse the least recently used entry's slot.
            let i = self.oldest;
            self.unlink(i);
            self.index.remove(&Key(self.slots[i as usize].iv));
            self.slots[i as usize] = slot;
            i
        } else if let Some(i) = self.free.pop() {
            self.slots[i as usize] = slot;
            i
        } else {
            self.slots.push(slot);
            (self.slots.len() - 1) as u32
        };
        self.push_front(i);
        self.index.insert(Key(iv), i);
    }

    /// True when `iv` is held and not expired at `now`; a hit makes it the
    /// most recently used entry, as dcrd's `Contains` does.
    pub fn contains(&mut self, iv: &InvVect, now: Instant) -> bool {
        let Some(&i) = self.index.get(&Key(*iv)) else {
            return false;
        };
        if self.expired(self.slots[i as usize].added, now) {
            return false;
        }
        self.move_to_front(i);
        true
    }

    /// True when `iv` is held and not expired at `now`, leaving the order
    /// as it is (dcrd's `Exists`).
    pub fn exists(&self, iv: &InvVect, now: Instant) -> bool {
        self.index
            .get(&Key(*iv))
            .is_some_and(|&i| !self.expired(self.slots[i as usize].added, now))
    }

    /// Number of entries held (expired ones included until a scan or an
    /// eviction removes them).
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// True when nothing is held.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// The configured capacity.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The held vectors, least recently used first (dcrd's `Keys` order),
    /// expired ones included.
    pub fn iter_oldest_first(&self) -> impl Iterator<Item = &InvVect> + '_ {
        let mut i = self.oldest;
        std::iter::from_fn(move || {
            let slot = self.slots.get(i as usize)?;
            i = slot.newer;
            Some(&slot.iv)
        })
    }

    fn expired(&self, added: Instant, now: Instant) -> bool {
        !self.ttl.is_zero() && now.saturating_duration_since(added) > self.ttl
    }

    /// Drops every expired entry and schedules the next scan.
    fn remove_expired(&mut self, now: Instant) {
        let mut i = self.oldest;
        while i != NIL {
            let slot = &self.slots[i as usize];
            let newer = slot.newer;
            if self.expired(slot.added, now) {
                self.unlink(i);
                self.index.remove(&Key(self.slots[i as usize].iv));
                self.free.push(i);
            }
            i = newer;
        }
        self.next_scan = Some(now + EXPIRE_SCAN_INTERVAL);
    }

    fn unlink(&mut self, i: u32) {
        let Slot { newer, older, .. } = self.slots[i as usize];
        match newer {
            NIL => self.newest = older,
            n => self.slots[n as usize].older = older,
        }
        match older {
            NIL => self.oldest = newer,
            o => self.slots[o as usize].newer = newer,
        }
    }

    fn push_front(&mut self, i: u32) {
        let old_newest = self.newest;
        let slot = &mut self.slots[i as usize];
        slot.newer = NIL;
        slot.older = old_newest;
        match old_newest {
            NIL => self.oldest = i,
            n => self.slots[n as usize].newer = i,
        }
        self.newest = i;
    }

    fn move_to_front(&mut self, i: u32) {
        if self.newest != i {
            self.unlink(i);
            self.push_front(i);
        }
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
        known: &mut KnownInventory<S>,
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
        let mut known = Known::new(100, TTL);
        let mut q = Trickle::default();
        for n in 0..MAX_TRICKLE_QUEUE as u32 {
            assert!(q.push(iv(n), &mut known, t));
        }
        assert!(!q.push(iv(u32::MAX), &mut known, t));
        assert_eq!(q.len(), MAX_TRICKLE_QUEUE);
    }

    /// The held vectors' numbers (see [`iv`]), least recently used first.
    fn order(k: &Known) -> Vec<u32> {
        k.iter_oldest_first()
            .map(|v| u32::from_le_bytes(v.hash.0[..4].try_into().unwrap()))
            .collect()
    }

    fn secs(t: Instant, s: u64) -> Instant {
        t + Duration::from_secs(s)
    }

    #[test]
    fn known_filter_is_bounded_by_a_flood_of_distinct_vectors() {
        let t = Instant::now();
        let mut k = Known::new(100, TTL);
        for n in 0..10_000 {
            k.add(iv(n), t);
            assert!(k.len() <= 100);
        }
        assert_eq!(k.len(), 100);
        // Memory: the slots never outgrow the capacity.
        assert_eq!(k.slots.len(), 100);
        assert!(k.free.is_empty());
        assert_eq!(order(&k), (9_900..10_000).collect::<Vec<_>>());
        assert!(k.contains(&iv(9_999), t));
        assert!(!k.contains(&iv(0), t));
    }

    #[test]
    fn known_entries_expire_once_past_the_time_to_live() {
        let t = Instant::now();
        let mut k = Known::new(10, Duration::from_secs(60));
        k.add(iv(1), t);
        // dcrd: expired when `now > expiresAfter`, so still known at it.
        assert!(k.contains(&iv(1), secs(t, 60)));
        assert!(!k.contains(&iv(1), secs(t, 60) + Duration::from_nanos(1)));
        assert!(!k.exists(&iv(1), secs(t, 61)));
        // Held (and counted) until a scan or an eviction removes it.
        assert_eq!(k.len(), 1);
    }

    #[test]
    fn a_zero_time_to_live_never_expires() {
        let t = Instant::now();
        let mut k = Known::new(10, Duration::ZERO);
        k.add(iv(1), t);
        assert!(k.contains(&iv(1), secs(t, 1_000_000)));
    }

    #[test]
    fn re_adding_refreshes_without_growing() {
        let t = Instant::now();
        let mut k = Known::new(2, TTL);
        k.add(iv(1), t);
        k.add(iv(2), t);
        k.add(iv(1), secs(t, 1));
        k.add(iv(3), secs(t, 2));
        // 2 was the least recently used entry.
        assert_eq!(order(&k), vec![1, 3]);
        assert!(!k.exists(&iv(2), secs(t, 2)));
        assert_eq!(k.len(), 2);
    }

    #[test]
    fn re_adding_refreshes_the_time_to_live() {
        let t = Instant::now();
        let mut k = Known::new(10, Duration::from_secs(60));
        k.add(iv(1), t);
        k.add(iv(1), secs(t, 50));
        assert!(k.exists(&iv(1), secs(t, 100)));
        assert!(!k.exists(&iv(1), secs(t, 111)));
    }

    #[test]
    fn a_hit_makes_the_entry_most_recent_a_miss_or_exists_does_not() {
        let t = Instant::now();
        let mut k = Known::new(3, Duration::from_secs(60));
        k.add(iv(1), t);
        k.add(iv(2), t);
        k.add(iv(3), t);
        assert!(k.contains(&iv(1), t));
        assert_eq!(order(&k), vec![2, 3, 1]);
        assert!(k.exists(&iv(2), t));
        assert_eq!(order(&k), vec![2, 3, 1]);
        // Eviction takes the least recently used: 2, not 1.
        k.add(iv(4), t);
        assert_eq!(order(&k), vec![3, 1, 4]);
        // An expired entry is a miss and stays where it is.
        let late = secs(t, 61);
        assert!(!k.contains(&iv(3), late));
        assert_eq!(order(&k), vec![3, 1, 4]);
    }

    #[test]
    fn eviction_takes_the_least_recently_used_even_if_others_expired() {
        let t = Instant::now();
        let mut k = Known::new(2, Duration::from_secs(60));
        k.add(iv(1), t);
        // The scan due after 30 s runs at 35 s, finds nothing expired and
        // schedules the next after 65 s.
        k.add(iv(2), secs(t, 35));
        assert!(k.contains(&iv(1), secs(t, 40)));
        // At 61 s entry 1 is expired but most recent and no scan is due:
        // the full filter evicts 2, its least recently used entry.
        k.add(iv(3), secs(t, 61));
        assert_eq!(order(&k), vec![1, 3]);
    }

    #[test]
    fn a_due_scan_removes_every_expired_entry_before_adding() {
        let t = Instant::now();
        let mut k = Known::new(3, Duration::from_secs(60));
        k.add(iv(1), t); // first scan due after 30 s
        k.add(iv(2), secs(t, 20));
        assert!(k.contains(&iv(1), secs(t, 25)));
        k.add(iv(3), secs(t, 26));
        assert_eq!(order(&k), vec![2, 1, 3]);
        // At 62 s, 1 is expired (though recently used): the scan drops it,
        // so 2, the least recently used, stays and nothing is evicted.
        k.add(iv(4), secs(t, 62));
        assert_eq!(order(&k), vec![2, 3, 4]);
        // The next scan is due 30 s after this one.
        assert_eq!(k.next_scan, Some(secs(t, 92)));
        // A freed slot is reused before the slab grows.
        assert_eq!(k.slots.len(), 3);
    }

    #[test]
    fn trickle_batches_and_never_reannounces() {
        let t = Instant::now();
        let mut k = Known::new(200_000, TTL);
        let mut tr = Trickle::default();
        k.add(iv(5), t);
        for n in 0..2_500 {
            tr.push(iv(n), &mut k, t);
        }
        assert_eq!(tr.len(), 2_499);
        let batches = tr.drain(&mut k, t);
        assert_eq!(
            batches.iter().map(Vec::len).collect::<Vec<_>>(),
            vec![1000, 1000, 499]
        );
        for n in 0..10 {
            tr.push(iv(n), &mut k, t);
        }
        assert!(tr.is_empty());
        assert!(tr.drain(&mut k, t).is_empty());
    }
}
