//! The manager itself: the new and tried buckets, what moves an address
//! between them, selection and the `getaddr` answer (dcrd's
//! `addrmanager.go`).

use std::collections::HashMap;

use dcr_wire::{NetAddressType, NetAddressV2, ServiceFlags};
use rand::{Rng, RngCore};

use super::address::*;
use super::consts::*;
use super::error::AddrManagerError;
use super::known::{wide, KnownAddress};
use super::local::{AddressPriority, LocalAddr, LocalAddresses};
use super::network::{host_is_routable as routable, GroupKey};

/// What the manager is built from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Params {
    /// The secret that places addresses in buckets (dcrd's `key`, 32
    /// random bytes); it is saved with the book.
    pub key: [u8; 32],
    /// Addresses per tried bucket ([`DEFAULT_TRIED_BUCKET_SIZE`]; smaller
    /// only in tests, as dcrd's `triedBucketSize`). At least 1.
    pub tried_bucket_size: usize,
}

impl Params {
    /// A random key and the default tried bucket size.
    pub fn random<R: RngCore + ?Sized>(rng: &mut R) -> Params {
        let mut key = [0u8; 32];
        rng.fill_bytes(&mut key);
        Params {
            key,
            tried_bucket_size: DEFAULT_TRIED_BUCKET_SIZE,
        }
    }
}

/// How many addresses of each type a bucket holds (dcrd's `bucketStats`),
/// so selection with a type filter skips buckets with none.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct BucketStats {
    pub(super) ipv4: u16,
    pub(super) ipv6: u16,
    pub(super) torv3: u16,
}

impl BucketStats {
    pub(super) fn slot(&mut self, ty: NetAddressType) -> &mut u16 {
        match ty {
            NetAddressType::IPv4 => &mut self.ipv4,
            NetAddressType::IPv6 => &mut self.ipv6,
            NetAddressType::TorV3 => &mut self.torv3,
        }
    }

    pub(super) fn increment(&mut self, ty: NetAddressType) {
        let n = self.slot(ty);
        *n = n.saturating_add(1);
    }

    pub(super) fn decrement(&mut self, ty: NetAddressType) {
        let n = self.slot(ty);
        *n = n.saturating_sub(1);
    }

    pub(super) fn total(&self, f: TypeFilter) -> usize {
        let mut sum = 0;
        if f.ipv4 {
            sum += usize::from(self.ipv4);
        }
        if f.ipv6 {
            sum += usize::from(self.ipv6);
        }
        if f.torv3 {
            sum += usize::from(self.torv3);
        }
        sum
    }

    pub(super) fn matches(&self, f: TypeFilter) -> bool {
        self.total(f) > 0
    }
}

/// The type of an address (dcrd's `NetAddress.Type`).
pub(super) fn type_of(na: &NetAddressV2) -> NetAddressType {
    na.host.address_type()
}

/// The bucket functions, replaceable in tests (dcrd's `getNewBucket` and
/// `getTriedBucket` fields serve its tests the same way).
#[derive(Clone, Copy)]
pub(super) struct BucketFns {
    pub(super) new: fn(&[u8; 32], &NetAddressV2, &NetAddressV2) -> usize,
    pub(super) tried: fn(&[u8; 32], &NetAddressV2) -> usize,
}

impl std::fmt::Debug for BucketFns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BucketFns")
    }
}

const DCRD_BUCKETS: BucketFns = BucketFns {
    new: new_bucket,
    tried: tried_bucket,
};

/// The first eight bytes of a BLAKE-256 digest as a little-endian integer
/// (`binary.LittleEndian.Uint64(chainhash.HashB(...))`).
pub(super) fn hash_u64(parts: &[&[u8]]) -> u64 {
    let mut h = dcr_wire::Hasher::new();
    for p in parts {
        h.update(p);
    }
    let d = h.finish();
    let mut first = [0u8; 8];
    first.copy_from_slice(&d.0[..8]);
    u64::from_le_bytes(first)
}

/// The new bucket of `na` learned from `src` (dcrd's `getNewBucket`):
/// `h1 = H(key ‖ group(na) ‖ group(src)) mod 64`, then
/// `H(key ‖ group(src) ‖ h1 as 8 LE bytes) mod 1024`, with H the first 8
/// bytes of BLAKE-256 read little-endian and the groups as dcrd's strings.
/// The same key gives the same bucket as dcrd.
pub fn new_bucket(key: &[u8; 32], na: &NetAddressV2, src: &NetAddressV2) -> usize {
    let (mut g, mut sg) = (TextBuf::new(), TextBuf::new());
    let group = g.show(&GroupKey::of(&na.host));
    let src_group = sg.show(&GroupKey::of(&canonical_host(src.host)));
    let h1 = hash_u64(&[key, group, src_group]) % NEW_BUCKETS_PER_GROUP;
    let h2 = hash_u64(&[key, src_group, &h1.to_le_bytes()]);
    (h2 % NEW_BUCKET_COUNT as u64) as usize
}

/// The tried bucket of `na` (dcrd's `getTriedBucket`):
/// `h1 = H(key ‖ key-string(na)) mod 8`, then
/// `H(key ‖ group(na) ‖ h1 as 8 LE bytes) mod 64`.
pub fn tried_bucket(key: &[u8; 32], na: &NetAddressV2) -> usize {
    let (mut k, mut g) = (TextBuf::new(), TextBuf::new());
    let addr_key = k.show(&AddrKey::of(na));
    let group = g.show(&GroupKey::of(&canonical_host(na.host)));
    let h1 = hash_u64(&[key, addr_key]) % TRIED_BUCKETS_PER_GROUP;
    let h2 = hash_u64(&[key, group, &h1.to_le_bytes()]);
    (h2 % TRIED_BUCKET_COUNT as u64) as usize
}

/// A stack buffer for the text of a key or group (at most 68 bytes: an
/// onion name, a colon and a port), so hashing allocates nothing.
pub(super) struct TextBuf {
    pub(super) buf: [u8; 80],
    pub(super) len: usize,
}

impl TextBuf {
    pub(super) fn new() -> TextBuf {
        TextBuf {
            buf: [0; 80],
            len: 0,
        }
    }

    /// `value`'s `Display` text.
    pub(super) fn show(&mut self, value: &dyn std::fmt::Display) -> &[u8] {
        use std::fmt::Write;
        self.len = 0;
        // Every key and group fits; a longer text could not be dcrd's.
        let _ = write!(self, "{value}");
        &self.buf[..self.len]
    }
}

impl std::fmt::Write for TextBuf {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        let dst = self.buf.get_mut(self.len..end).ok_or(std::fmt::Error)?;
        dst.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// The last-seen time a relayed address is kept with (dcrd server's
/// `OnAddr`/`OnAddrV2`): more than [`RELAYED_FUTURE_CUTOFF`] ahead of `now`
/// becomes [`RELAYED_FUTURE_PENALTY`] before `now`; anything else stays.
pub fn relayed_timestamp(timestamp: u64, now: u64) -> u64 {
    if wide(timestamp) > wide(now) + i128::from(RELAYED_FUTURE_CUTOFF.as_secs()) {
        now.saturating_sub(RELAYED_FUTURE_PENALTY.as_secs())
    } else {
        timestamp
    }
}

/// The address book (dcrd's `AddrManager`). See the module docs.
#[derive(Debug, Clone)]
pub struct AddrManager {
    pub(super) key: [u8; 32],
    pub(super) tried_bucket_size: usize,
    /// The entries; buckets and the index name them by slot.
    pub(super) slots: Vec<Option<KnownAddress>>,
    /// Empty slots, reused first.
    pub(super) free: Vec<u32>,
    /// Every entry by key (dcrd's `addrIndex`).
    pub(super) index: HashMap<AddrKey, u32>,
    /// dcrd's `addrNew`: each bucket in insertion order.
    pub(super) new_buckets: Vec<Vec<u32>>,
    /// dcrd's `addrTried`.
    pub(super) tried_buckets: Vec<Vec<u32>>,
    pub(super) new_stats: Vec<BucketStats>,
    pub(super) tried_stats: Vec<BucketStats>,
    pub(super) n_new: usize,
    pub(super) n_tried: usize,
    /// Whether the book changed since the last save (dcrd's `addrChanged`).
    pub(super) changed: bool,
    /// Our own addresses to advertise (dcrd's `localAddresses`).
    pub(super) local: LocalAddresses,
    pub(super) buckets: BucketFns,
}

impl AddrManager {
    /// An empty book (dcrd's `New` and `reset`). It counts as changed, so
    /// the first [`AddrManager::save`] writes it, as dcrd's does.
    pub fn new(params: Params) -> AddrManager {
        AddrManager {
            key: params.key,
            tried_bucket_size: params.tried_bucket_size.max(1),
            slots: Vec::new(),
            free: Vec::new(),
            index: HashMap::new(),
            new_buckets: vec![Vec::new(); NEW_BUCKET_COUNT],
            tried_buckets: vec![Vec::new(); TRIED_BUCKET_COUNT],
            new_stats: vec![BucketStats::default(); NEW_BUCKET_COUNT],
            tried_stats: vec![BucketStats::default(); TRIED_BUCKET_COUNT],
            n_new: 0,
            n_tried: 0,
            changed: true,
            local: LocalAddresses::default(),
            buckets: DCRD_BUCKETS,
        }
    }

    /// The bucket key.
    pub fn key(&self) -> &[u8; 32] {
        &self.key
    }

    /// Addresses in the book, new and tried.
    pub fn len(&self) -> usize {
        self.n_new + self.n_tried
    }

    /// Whether the book is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Addresses in new buckets.
    pub fn num_new(&self) -> usize {
        self.n_new
    }

    /// Addresses in tried buckets.
    pub fn num_tried(&self) -> usize {
        self.n_tried
    }

    /// Whether the book holds fewer than [`NEED_ADDRESS_THRESHOLD`]
    /// addresses (dcrd's `NeedMoreAddresses`).
    pub fn need_more_addresses(&self) -> bool {
        self.len() < NEED_ADDRESS_THRESHOLD
    }

    /// Whether the book changed since the last save.
    pub fn is_changed(&self) -> bool {
        self.changed
    }

    /// The entry for `addr`, if known.
    pub fn get(&self, addr: &NetAddressV2) -> Option<&KnownAddress> {
        self.index.get(&AddrKey::of(addr)).map(|&id| self.entry(id))
    }

    pub(super) fn entry(&self, id: u32) -> &KnownAddress {
        self.slots[id as usize]
            .as_ref()
            .expect("bucket and index ids name live entries")
    }

    pub(super) fn entry_mut(&mut self, id: u32) -> &mut KnownAddress {
        self.slots[id as usize]
            .as_mut()
            .expect("bucket and index ids name live entries")
    }

    pub(super) fn insert_entry(&mut self, ka: KnownAddress) -> u32 {
        let key = AddrKey::of(&ka.na);
        let id = match self.free.pop() {
            Some(id) => {
                self.slots[id as usize] = Some(ka);
                id
            }
            None => {
                self.slots.push(Some(ka));
                // At most 1024 × 65 + 64 × tried_bucket_size entries exist.
                u32::try_from(self.slots.len() - 1).expect("the book is bounded")
            }
        };
        self.index.insert(key, id);
        id
    }

    pub(super) fn remove_entry(&mut self, id: u32) {
        if let Some(ka) = self.slots[id as usize].take() {
            self.index.remove(&AddrKey::of(&ka.na));
            self.free.push(id);
        }
    }

    /// Adds addresses learned from `source` (dcrd's `AddAddresses`, one
    /// `addOrUpdateAddress` each): unroutable addresses are ignored; a
    /// known address takes a newer last-seen time and any services it
    /// lacked, and, unless tried or already in
    /// [`NEW_BUCKETS_PER_ADDRESS`] buckets, enters the bucket for this
    /// source with probability 1/(2 × buckets it is in); a new address
    /// enters that bucket. A bucket holding more than [`NEW_BUCKET_SIZE`]
    /// first drops its bad entries and its oldest one.
    ///
    /// Seeders and dialled addresses come in this way; addresses relayed
    /// by peers come through [`AddrManager::add_relayed_addresses`].
    pub fn add_addresses<R: Rng + ?Sized>(
        &mut self,
        addrs: &[NetAddressV2],
        source: &NetAddressV2,
        now: u64,
        rng: &mut R,
    ) {
        let source = canonical(source);
        for na in addrs {
            self.add_or_update(canonical(na), source, now, rng);
        }
    }

    /// Adds addresses a peer at `source` relayed in `addr` or `addrv2`, as
    /// dcrd's server does: each last-seen time more than
    /// [`RELAYED_FUTURE_CUTOFF`] ahead is set [`RELAYED_FUTURE_PENALTY`]
    /// back ([`relayed_timestamp`]) before [`AddrManager::add_addresses`].
    /// (Refusing an empty `addr` and a mistyped `addrv2` entry, with a ban,
    /// is the server's: see [`from_addr_v2`].)
    pub fn add_relayed_addresses<R: Rng + ?Sized>(
        &mut self,
        addrs: &[NetAddressV2],
        source: &NetAddressV2,
        now: u64,
        rng: &mut R,
    ) {
        let source = canonical(source);
        for na in addrs {
            let mut na = canonical(na);
            na.timestamp = relayed_timestamp(na.timestamp, now);
            self.add_or_update(na, source, now, rng);
        }
    }

    /// dcrd's `addOrUpdateAddress`.
    pub(super) fn add_or_update<R: Rng + ?Sized>(
        &mut self,
        na: NetAddressV2,
        src: NetAddressV2,
        now: u64,
        rng: &mut R,
    ) {
        if !routable(&na.host) {
            return;
        }
        let key = AddrKey::of(&na);
        let id = match self.index.get(&key) {
            Some(&id) => {
                let ka = self.entry_mut(id);
                // A newer time, or services it did not list: take the new
                // time (even when only the services were new, as dcrd
                // does) and add the services.
                if na.timestamp > ka.na.timestamp
                    || ka.na.services.0 & na.services.0 != na.services.0
                {
                    ka.na.timestamp = na.timestamp;
                    ka.na.services.insert(na.services);
                }
                if ka.tried || usize::from(ka.refs) >= NEW_BUCKETS_PER_ADDRESS {
                    return;
                }
                // The more buckets it is in, the less likely another: 1 in
                // 2 × refs.
                let factor = 2 * u32::from(ka.refs);
                if factor > 0 && rng.gen_range(0..factor) != 0 {
                    return;
                }
                id
            }
            None => {
                self.n_new += 1;
                self.changed = true;
                self.insert_entry(KnownAddress::new(na, src))
            }
        };
        let bucket = (self.buckets.new)(&self.key, &na, &src);
        if self.new_buckets[bucket].contains(&id) {
            return;
        }
        if self.new_buckets[bucket].len() > NEW_BUCKET_SIZE {
            tracing::trace!(bucket, "new bucket is full, expiring old");
            self.expire_new(bucket, now, rng);
        }
        let ka = self.entry_mut(id);
        ka.add_ref(bucket);
        let ty = type_of(&ka.na);
        self.new_buckets[bucket].push(id);
        self.new_stats[bucket].increment(ty);
        self.changed = true;
        tracing::trace!(address = %key, total = self.len(), "added new address");
    }

    /// Removes `id` from new bucket `bucket`, and from the book when it
    /// was in no other.
    pub(super) fn remove_from_new(&mut self, bucket: usize, id: u32) {
        let Some(pos) = self.new_buckets[bucket].iter().position(|&x| x == id) else {
            return;
        };
        self.new_buckets[bucket].remove(pos);
        let ka = self.entry_mut(id);
        ka.remove_ref(bucket);
        let (refs, ty) = (ka.refs, type_of(&ka.na));
        self.new_stats[bucket].decrement(ty);
        self.changed = true;
        if refs == 0 {
            self.n_new -= 1;
            self.remove_entry(id);
        }
    }

    /// Makes room in a new bucket (dcrd's `expireNew`): every bad entry
    /// goes, and then the oldest of the rest by last-seen time. Of equal
    /// oldest times one is taken at random: dcrd takes the last its map
    /// iteration meets, and Go randomises that order.
    pub(super) fn expire_new<R: Rng + ?Sized>(&mut self, bucket: usize, now: u64, rng: &mut R) {
        let ids = self.new_buckets[bucket].clone();
        let mut oldest: Option<(u32, u64)> = None;
        let mut ties = 0u32;
        for id in ids {
            let ka = self.entry(id);
            if ka.is_bad(now) {
                tracing::trace!(address = %AddrKey::of(&ka.na), "expiring bad address");
                self.remove_from_new(bucket, id);
                continue;
            }
            let ts = ka.na.timestamp;
            match oldest {
                Some((_, t)) if ts > t => {}
                Some((_, t)) if ts == t => {
                    ties += 1;
                    if rng.gen_range(0..ties) == 0 {
                        oldest = Some((id, ts));
                    }
                }
                _ => {
                    oldest = Some((id, ts));
                    ties = 1;
                }
            }
        }
        if let Some((id, _)) = oldest {
            tracing::trace!(address = %AddrKey::of(&self.entry(id).na), "expiring oldest address");
            self.remove_from_new(bucket, id);
        }
    }

    /// Records a connection attempt to `addr` at `now` (dcrd's `Attempt`):
    /// one more attempt, and the last attempt time.
    pub fn attempt(&mut self, addr: &NetAddressV2, now: u64) -> Result<(), AddrManagerError> {
        let key = AddrKey::of(addr);
        let id = *self
            .index
            .get(&key)
            .ok_or(AddrManagerError::NotFound(key))?;
        let ka = self.entry_mut(id);
        ka.attempts = ka.attempts.saturating_add(1);
        ka.last_attempt = Some(now);
        Ok(())
    }

    /// Records that a peer at `addr` was connected at `now` (dcrd's
    /// `Connected`): its last-seen time becomes `now`, but only when it is
    /// more than [`CONNECTED_UPDATE_INTERVAL`] old.
    pub fn connected(&mut self, addr: &NetAddressV2, now: u64) -> Result<(), AddrManagerError> {
        let key = AddrKey::of(addr);
        let id = *self
            .index
            .get(&key)
            .ok_or(AddrManagerError::NotFound(key))?;
        let ka = self.entry_mut(id);
        if wide(now) > wide(ka.na.timestamp) + i128::from(CONNECTED_UPDATE_INTERVAL.as_secs()) {
            ka.na.timestamp = now;
        }
        Ok(())
    }

    /// Marks `addr` good after an outbound connection completed its
    /// handshake (dcrd's `Good`): last success and last attempt become
    /// `now`, attempts 0 (the last-seen time is left alone, so as not to
    /// tell others whom we are connected to). A new address leaves every
    /// new bucket for its tried bucket; when that is full, its oldest
    /// entry goes back to the new bucket it would be added to, or, if that
    /// one is full, to the first new bucket the promoted address left.
    pub fn good(&mut self, addr: &NetAddressV2, now: u64) -> Result<(), AddrManagerError> {
        let key = AddrKey::of(addr);
        let id = *self
            .index
            .get(&key)
            .ok_or(AddrManagerError::NotFound(key))?;
        let ka = self.entry_mut(id);
        ka.last_success = Some(now);
        ka.last_attempt = Some(now);
        ka.attempts = 0;
        if ka.tried {
            return Ok(());
        }
        let na = ka.na;
        let ty = type_of(&na);

        // Out of every new bucket; the lowest-numbered one is `first`
        // (dcrd scans the buckets in order and keeps the first it finds).
        let held: Vec<usize> = ka.new_buckets().iter().map(|&b| usize::from(b)).collect();
        let Some(&first) = held.iter().min() else {
            return Err(AddrManagerError::NotNew(key));
        };
        for &b in &held {
            if let Some(pos) = self.new_buckets[b].iter().position(|&x| x == id) {
                self.new_buckets[b].remove(pos);
                self.new_stats[b].decrement(ty);
            }
        }
        self.changed = true;
        let ka = self.entry_mut(id);
        ka.refs = 0;
        self.n_new -= 1;

        let bucket = (self.buckets.tried)(&self.key, &na);
        if self.tried_buckets[bucket].len() < self.tried_bucket_size {
            self.entry_mut(id).tried = true;
            self.tried_buckets[bucket].push(id);
            self.tried_stats[bucket].increment(ty);
            self.n_tried += 1;
            return Ok(());
        }

        // The tried bucket is full: its oldest entry (the first of equal
        // times) goes back to a new bucket.
        let mut oldest_pos = 0;
        for (i, &other) in self.tried_buckets[bucket].iter().enumerate() {
            let oldest = self.tried_buckets[bucket][oldest_pos];
            if i == 0 || self.entry(oldest).na.timestamp > self.entry(other).na.timestamp {
                oldest_pos = i;
            }
        }
        let evicted = self.tried_buckets[bucket][oldest_pos];
        let (ev_na, ev_src) = {
            let e = self.entry(evicted);
            (e.na, e.src)
        };
        let mut new_bucket = (self.buckets.new)(&self.key, &ev_na, &ev_src);
        if self.new_buckets[new_bucket].len() >= NEW_BUCKET_SIZE {
            new_bucket = first;
        }

        self.entry_mut(id).tried = true;
        self.tried_buckets[bucket][oldest_pos] = id;
        self.tried_stats[bucket].decrement(type_of(&ev_na));
        self.tried_stats[bucket].increment(ty);

        let ev = self.entry_mut(evicted);
        ev.tried = false;
        ev.add_ref(new_bucket);
        self.n_new += 1;
        tracing::trace!(evicted = %AddrKey::of(&ev_na), promoted = %key, "replacing in tried");
        self.new_buckets[new_bucket].push(evicted);
        self.new_stats[new_bucket].increment(type_of(&ev_na));
        Ok(())
    }

    /// Sets the services of `addr` (dcrd's `SetServices`; its server calls
    /// it with an outbound peer's `version` services).
    pub fn set_services(
        &mut self,
        addr: &NetAddressV2,
        services: ServiceFlags,
    ) -> Result<(), AddrManagerError> {
        let key = AddrKey::of(addr);
        let id = *self
            .index
            .get(&key)
            .ok_or(AddrManagerError::NotFound(key))?;
        self.entry_mut(id).na.services = services;
        Ok(())
    }

    /// An address to try connecting to, of a type `filter` lets through
    /// (dcrd's `GetAddress`). With both tried and new entries of those
    /// types, tried or new is a coin toss; otherwise the one that has
    /// some. Then, over and over: a random bucket holding a matching
    /// entry, a random matching entry in it, taken with probability
    /// `factor × chance` ([`KnownAddress::chance`]), the factor growing by
    /// [`SELECTION_FACTOR_GROWTH`] after each refusal (so it ends within
    /// about 26 draws). `None` when nothing matches.
    pub fn get_address<R: Rng + ?Sized>(
        &self,
        filter: TypeFilter,
        now: u64,
        rng: &mut R,
    ) -> Option<&KnownAddress> {
        self.select(filter, now, rng).map(|(ka, _)| ka)
    }

    /// [`AddrManager::get_address`], with the number of draws it took.
    pub(super) fn select<R: Rng + ?Sized>(
        &self,
        filter: TypeFilter,
        now: u64,
        rng: &mut R,
    ) -> Option<(&KnownAddress, u32)> {
        if self.is_empty() || filter.is_empty() {
            return None;
        }
        let tried: Vec<usize> = (0..TRIED_BUCKET_COUNT)
            .filter(|&i| self.tried_stats[i].matches(filter))
            .collect();
        let new: Vec<usize> = (0..NEW_BUCKET_COUNT)
            .filter(|&i| self.new_stats[i].matches(filter))
            .collect();
        if tried.is_empty() && new.is_empty() {
            return None;
        }
        let use_tried = !tried.is_empty() && (new.is_empty() || rng.gen_range(0..2) == 0);
        let (candidates, buckets, stats) = if use_tried {
            (&tried, &self.tried_buckets, &self.tried_stats)
        } else {
            (&new, &self.new_buckets, &self.new_stats)
        };
        let large = f64::from(SELECTION_LARGE);
        let mut factor = 1.0f64;
        let mut draws = 0;
        loop {
            draws += 1;
            let b = candidates[rng.gen_range(0..candidates.len())];
            let total = stats[b].total(filter);
            if total == 0 {
                return None;
            }
            let nth = rng.gen_range(0..total);
            let id = buckets[b]
                .iter()
                .copied()
                .filter(|&id| filter.matches(type_of(&self.entry(id).na)))
                .nth(nth)?;
            let ka = self.entry(id);
            let draw = f64::from(rng.gen_range(0..SELECTION_LARGE));
            if draw < factor * ka.chance(now) * large {
                return Some((ka, draws));
            }
            factor *= SELECTION_FACTOR_GROWTH;
        }
    }

    /// The addresses to answer a `getaddr` with (dcrd's `AddressCache`):
    /// of the addresses `filter` lets through that are not bad at `now`
    /// and have succeeded at least once, a random
    /// [`GET_KNOWN_ADDRESS_PERCENTAGE`] per cent (rounded up, so at least
    /// one when there is one), at most [`GET_KNOWN_ADDRESS_LIMIT`], in
    /// random order.
    pub fn address_cache<R: Rng + ?Sized>(
        &self,
        filter: TypeFilter,
        now: u64,
        rng: &mut R,
    ) -> Vec<NetAddressV2> {
        use rand::seq::SliceRandom;
        let mut all: Vec<NetAddressV2> = self
            .slots
            .iter()
            .flatten()
            .filter(|ka| {
                filter.matches(type_of(&ka.na)) && !ka.is_bad(now) && ka.last_success.is_some()
            })
            .map(|ka| ka.na)
            .collect();
        let n =
            ((all.len() * GET_KNOWN_ADDRESS_PERCENTAGE).div_ceil(100)).min(GET_KNOWN_ADDRESS_LIMIT);
        all.shuffle(rng);
        all.truncate(n);
        all
    }

    /// Every entry, in slot order (for callers that list the book).
    pub fn iter(&self) -> impl Iterator<Item = &KnownAddress> {
        self.slots.iter().flatten()
    }

    /// The new buckets holding `addr` (for tests and diagnostics).
    pub fn new_buckets_of(&self, addr: &NetAddressV2) -> Vec<usize> {
        let Some(&id) = self.index.get(&AddrKey::of(addr)) else {
            return Vec::new();
        };
        let mut held: Vec<usize> = self
            .entry(id)
            .new_buckets()
            .iter()
            .map(|&b| usize::from(b))
            .collect();
        held.sort_unstable();
        held
    }

    /// The tried bucket holding `addr`, if any.
    pub fn tried_bucket_of(&self, addr: &NetAddressV2) -> Option<usize> {
        let &id = self.index.get(&AddrKey::of(addr))?;
        (0..TRIED_BUCKET_COUNT).find(|&b| self.tried_buckets[b].contains(&id))
    }

    /// How many new buckets hold at least one entry.
    pub fn occupied_new_buckets(&self) -> usize {
        self.new_buckets.iter().filter(|b| !b.is_empty()).count()
    }

    /// Checks every invariant the rules rely on; the first broken one as
    /// text. Used by the tests after every step.
    #[cfg(test)]
    pub(crate) fn check_invariants(&self) -> Result<(), String> {
        let mut refs: HashMap<u32, usize> = HashMap::new();
        let mut n_new_seen = 0;
        for (b, bucket) in self.new_buckets.iter().enumerate() {
            if bucket.len() > NEW_BUCKET_SIZE + 1 {
                return Err(format!("new bucket {b} holds {}", bucket.len()));
            }
            let mut stats = BucketStats::default();
            for (i, &id) in bucket.iter().enumerate() {
                if bucket[..i].contains(&id) {
                    return Err(format!("id {id} twice in new bucket {b}"));
                }
                let ka = self
                    .slots
                    .get(id as usize)
                    .and_then(Option::as_ref)
                    .ok_or("dangling new id")?;
                if ka.tried {
                    return Err(format!("tried entry {id} in new bucket {b}"));
                }
                stats.increment(type_of(&ka.na));
                *refs.entry(id).or_default() += 1;
            }
            if stats != self.new_stats[b] {
                return Err(format!(
                    "new bucket {b} stats {:?} != {:?}",
                    self.new_stats[b], stats
                ));
            }
        }
        for (&id, &n) in &refs {
            let ka = self.entry(id);
            if usize::from(ka.refs) != n || n > NEW_BUCKETS_PER_ADDRESS {
                return Err(format!(
                    "entry {id} refs {} but in {n} new buckets",
                    ka.refs
                ));
            }
            for &b in ka.new_buckets() {
                if !self.new_buckets[usize::from(b)].contains(&id) {
                    return Err(format!(
                        "entry {id} lists new bucket {b} which does not hold it"
                    ));
                }
            }
            n_new_seen += 1;
        }
        let mut n_tried_seen = 0;
        let mut in_tried = std::collections::HashSet::new();
        for (b, bucket) in self.tried_buckets.iter().enumerate() {
            if bucket.len() > self.tried_bucket_size {
                return Err(format!("tried bucket {b} holds {}", bucket.len()));
            }
            let mut stats = BucketStats::default();
            for &id in bucket {
                let ka = self
                    .slots
                    .get(id as usize)
                    .and_then(Option::as_ref)
                    .ok_or("dangling tried id")?;
                if !ka.tried || ka.refs != 0 || !in_tried.insert(id) {
                    return Err(format!("tried entry {id} inconsistent"));
                }
                stats.increment(type_of(&ka.na));
                n_tried_seen += 1;
            }
            if stats != self.tried_stats[b] {
                return Err(format!("tried bucket {b} stats differ"));
            }
        }
        if n_new_seen != self.n_new || n_tried_seen != self.n_tried {
            return Err(format!(
                "counts new {} tried {} but buckets hold {n_new_seen} and {n_tried_seen}",
                self.n_new, self.n_tried
            ));
        }
        let live = self.slots.iter().flatten().count();
        if live != self.index.len() || live != self.n_new + self.n_tried {
            return Err(format!(
                "{live} entries, index {}, counts {}",
                self.index.len(),
                self.len()
            ));
        }
        for (key, &id) in &self.index {
            let ka = self
                .slots
                .get(id as usize)
                .and_then(Option::as_ref)
                .ok_or("dangling index")?;
            if AddrKey::of(&ka.na) != *key {
                return Err(format!("index {key} names {}", AddrKey::of(&ka.na)));
            }
            if !routable(&ka.na.host) {
                return Err(format!("unroutable {key} in the book"));
            }
        }
        Ok(())
    }
}

/// Our own addresses (dcrd's `AddLocalAddress`, `HasLocalAddress`,
/// `LocalAddresses`, `GetBestLocalAddress`); the rules are in
/// the `local` module's functions of the same names.
impl AddrManager {
    /// Adds one of our own addresses to advertise: refused unless
    /// routable. A new address gets `priority` as its score; re-adding one
    /// with a higher priority than its score sets the score to that
    /// priority plus one (dcrd's code).
    pub fn add_local_address(
        &mut self,
        addr: &NetAddressV2,
        priority: AddressPriority,
    ) -> Result<(), AddrManagerError> {
        self.local.add_local_address(addr, priority)
    }

    /// Whether `addr` is one of our local addresses.
    pub fn has_local_address(&self, addr: &NetAddressV2) -> bool {
        self.local.has_local_address(addr)
    }

    /// Our local addresses.
    pub fn local_addresses(&self) -> Vec<LocalAddr> {
        self.local.local_addresses()
    }

    /// The local address to advertise to a peer at `remote`: of those
    /// `filter` lets through, the one that reaches it best, a higher score
    /// breaking ties; it must beat [`Reach::Default`](super::Reach::Default) at score 0. Without
    /// one, the unroutable `0.0.0.0:0` (IPv4 remote) or `[::]:0`, seen at
    /// `now`, which the server does not send.
    pub fn best_local_address(
        &self,
        remote: &NetAddressV2,
        filter: TypeFilter,
        now: u64,
    ) -> NetAddressV2 {
        self.local.best_local_address(remote, filter, now)
    }
}
