//! The addresses a peer is known to have (dcrd's `serverPeer.knownAddresses`):
//! those it sent us and those we sent it, left out of what we send it
//! next (A5, A12).

use std::collections::HashSet;
use std::hash::{BuildHasher, RandomState};

use dcr_wire::NetAddressV2;

use crate::addrmgr::AddrKey;

/// Addresses remembered per peer (dcrd's `maxKnownAddrsPerPeer`).
pub const MAX_KNOWN_ADDRESSES: usize = 10_000;

/// A bounded, ageing set of addresses: two generations of
/// `MAX_KNOWN_ADDRESSES / 2` keyed 64-bit hashes, the older dropped
/// whole when the newer fills, so the last 5,000 to 10,000 addresses are
/// remembered, as dcrd's age-partitioned Bloom filter remembers the last
/// 10,000. Where dcrd's filter errs one time in a thousand (an address
/// wrongly taken as known), this one errs only on a collision of
/// 64-bit hashes keyed per peer; it costs at most about 150 KiB when full
/// (dcrd's about 40 KiB) and nothing until the peer exchanges addresses.
#[derive(Debug, Default)]
pub struct KnownAddresses {
    hasher: RandomState,
    current: HashSet<u64>,
    previous: HashSet<u64>,
}

impl KnownAddresses {
    fn hash(&self, na: &NetAddressV2) -> u64 {
        self.hasher.hash_one(AddrKey::of(na))
    }

    /// Remembers `na` as known to the peer.
    pub fn add(&mut self, na: &NetAddressV2) {
        let h = self.hash(na);
        if self.previous.contains(&h) {
            return;
        }
        if self.current.len() >= MAX_KNOWN_ADDRESSES / 2 {
            self.previous = std::mem::take(&mut self.current);
        }
        self.current.insert(h);
    }

    /// Whether the peer is known to have `na`.
    pub fn contains(&self, na: &NetAddressV2) -> bool {
        let h = self.hash(na);
        self.current.contains(&h) || self.previous.contains(&h)
    }

    /// Addresses remembered.
    pub fn len(&self) -> usize {
        self.current.len() + self.previous.len()
    }

    /// True when nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use dcr_wire::ServiceFlags;

    use super::*;

    fn na(i: u32) -> NetAddressV2 {
        NetAddressV2::new(
            std::net::IpAddr::from(i.to_be_bytes()),
            9108,
            ServiceFlags::NONE,
            0,
        )
    }

    #[test]
    fn a5_remembers_the_last_addresses_within_its_bound() {
        let mut k = KnownAddresses::default();
        assert!(!k.contains(&na(1)));
        k.add(&na(1));
        assert!(k.contains(&na(1)));
        // The same host and port with another time or services is the same
        // address.
        let mut again = na(1);
        again.timestamp = 99;
        again.services = ServiceFlags::NODE_NETWORK;
        assert!(k.contains(&again));
        for i in 2..=30_000 {
            k.add(&na(i));
            assert!(k.len() <= MAX_KNOWN_ADDRESSES);
        }
        // The newest 5,000 are always remembered; the oldest are gone.
        assert!((25_001..=30_000).all(|i| k.contains(&na(i))));
        assert!(!k.contains(&na(1)));
    }
}
