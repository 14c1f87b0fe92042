//! The known-inventory filter against a plain model of the reference's
//! `lru.Map` (dcrd `container/lru/map.go`: `Put`, `Get` as `Contains`
//! uses it, and the expiry scan every 30 s), on any sequence of adds and
//! queries.

use std::time::{Duration, Instant};

use dcr_peer::fsm::inventory::{KnownInventory, EXPIRE_SCAN_INTERVAL};
use dcr_peer::wire::{Hash, InvType, InvVect};
use proptest::prelude::*;

/// A distinct transaction vector for each `n`.
fn iv(n: u32) -> InvVect {
    let mut h = [0u8; 32];
    h[..4].copy_from_slice(&n.to_le_bytes());
    InvVect {
        inv_type: InvType::TX,
        hash: Hash(h),
    }
}

/// The filter's vectors' numbers, least recently used first.
fn order(k: &KnownInventory) -> Vec<u32> {
    k.iter_oldest_first()
        .map(|v| u32::from_le_bytes(v.hash.0[..4].try_into().unwrap()))
        .collect()
}

/// dcrd's `lru.Map` as a list, most recent last, written from its rules
/// rather than from the filter.
struct Model {
    cap: usize,
    ttl: Duration,
    items: Vec<(u32, Instant)>,
    next_scan: Option<Instant>,
}

impl Model {
    fn live(&self, added: Instant, now: Instant) -> bool {
        // `isElemExpired`: `now > expiresAfter`.
        now <= added + self.ttl
    }

    fn add(&mut self, n: u32, now: Instant) {
        match self.next_scan {
            None => self.next_scan = Some(now + EXPIRE_SCAN_INTERVAL),
            Some(due) if now > due => {
                let items = std::mem::take(&mut self.items);
                self.items = items
                    .into_iter()
                    .filter(|&(_, a)| self.live(a, now))
                    .collect();
                self.next_scan = Some(now + EXPIRE_SCAN_INTERVAL);
            }
            Some(_) => {}
        }
        if let Some(p) = self.items.iter().position(|&(m, _)| m == n) {
            self.items.remove(p);
        } else if self.items.len() == self.cap {
            self.items.remove(0);
        }
        self.items.push((n, now));
    }

    fn contains(&mut self, n: u32, now: Instant) -> bool {
        match self.items.iter().position(|&(m, _)| m == n) {
            Some(p) if self.live(self.items[p].1, now) => {
                let e = self.items.remove(p);
                self.items.push(e);
                true
            }
            _ => false,
        }
    }
}

proptest! {
    #[test]
    fn the_filter_behaves_as_dcrds_lru(
        cap in 1usize..8,
        ops in proptest::collection::vec((any::<bool>(), 0u32..12, 0u64..20), 1..200),
    ) {
        let ttl = Duration::from_secs(60);
        let mut t = Instant::now();
        let mut k = KnownInventory::new(cap, ttl);
        let mut m = Model { cap, ttl, items: Vec::new(), next_scan: None };
        for (is_add, n, step) in ops {
            t += Duration::from_secs(step);
            if is_add {
                k.add(iv(n), t);
                m.add(n, t);
            } else {
                prop_assert_eq!(k.exists(&iv(n), t), m.items.iter().any(|&(x, a)| x == n && m.live(a, t)));
                prop_assert_eq!(k.contains(&iv(n), t), m.contains(n, t));
            }
            let want: Vec<u32> = m.items.iter().map(|&(n, _)| n).collect();
            prop_assert_eq!(order(&k), want);
            prop_assert_eq!(k.len(), m.items.len());
        }
    }
}
