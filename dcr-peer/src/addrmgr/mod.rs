//! The address manager: the book of peer addresses a node learns, tries
//! and hands out, rule for rule as dcrd's `addrmgr` package (read at the
//! corpus commit 036b7090, which is also the newest dcrd commit on this
//! machine).
//!
//! Addresses learned from peers (`addr`, `addrv2`), seeders and dials
//! enter **new** buckets, keyed by the address's network group and the
//! group of the peer that sent it ([`GroupKey`]): one source group reaches
//! at most [`NEW_BUCKETS_PER_GROUP`] of the [`NEW_BUCKET_COUNT`] buckets,
//! and one (address group, source group) pair exactly one, so a flood
//! from one source or group displaces only its own share of the book.
//! An address whose connection completed its handshake ([`AddrManager::good`])
//! moves to a **tried** bucket, keyed by its own group. Selection
//! ([`AddrManager::get_address`]) takes tried or new with even odds and
//! weighs each candidate by [`KnownAddress::chance`]; the `getaddr` answer
//! ([`AddrManager::address_cache`]) is a random [`GET_KNOWN_ADDRESS_PERCENTAGE`]
//! per cent share of the addresses that ever worked and are not bad.
//!
//! The manager does no I/O apart from [`AddrManager::save`] and
//! [`AddrManager::load`]: the clock is a parameter (`now`, Unix seconds)
//! and randomness comes from the caller's [`rand::Rng`], so every rule runs
//! on a fake clock and a seeded generator in tests. It holds no lock;
//! the caller owns it (dcrd's mutex becomes the owner's `&mut`).
//!
//! Every rule, its dcrd function and constant, the place it lives here and
//! its test are listed in `docs/NODE-addrmgr.md`.

mod address;
mod known;
mod local;
mod network;
mod persist;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::time::Duration;

use dcr_wire::{NetAddressType, NetAddressV2, ServiceFlags};
use rand::{Rng, RngCore};

pub use address::{
    canonical, canonical_host, from_addr_v1, from_addr_v2, from_ip_port, onion_name, parse_host,
    parse_onion, AddrKey, AddressError, TypeFilter,
};
pub use known::KnownAddress;
pub use local::{is_external_addr_candidate, reachability, AddressPriority, LocalAddr, Reach};
pub use network::{host_is_routable, is_local, is_routable, is_valid, GroupKey};
pub use persist::{LoadError, MAX_PEERS_FILE_SIZE, PEERS_FILENAME, SERIALISATION_VERSION};

use known::wide;
use network::host_is_routable as routable;

/// Fewer addresses than this and the manager wants more: dcrd sends
/// `getaddr` to new outbound peers and keeps asking seeders while
/// [`AddrManager::need_more_addresses`] (`needAddressThreshold`).
pub const NEED_ADDRESS_THRESHOLD: usize = 1000;

/// How often dcrd writes the book to disk when it changed
/// (`dumpAddressInterval`); the owner of the manager runs this timer and
/// calls [`AddrManager::save`], and once more at shutdown.
pub const DUMP_ADDRESS_INTERVAL: Duration = Duration::from_secs(10 * 60);

/// Addresses per tried bucket (`defaultTriedBucketSize`).
pub const DEFAULT_TRIED_BUCKET_SIZE: usize = 256;

/// Tried buckets (`triedBucketCount`).
pub const TRIED_BUCKET_COUNT: usize = 64;

/// Addresses per new bucket (`newBucketSize`). dcrd expires an entry only
/// when a bucket holds *more* than this, so a bucket reaches one more
/// ([`NEW_BUCKET_SIZE`] + 1); we follow the code.
pub const NEW_BUCKET_SIZE: usize = 64;

/// New buckets (`newBucketCount`).
pub const NEW_BUCKET_COUNT: usize = 1024;

/// Tried buckets one address group can reach (`triedBucketsPerGroup`).
pub const TRIED_BUCKETS_PER_GROUP: u64 = 8;

/// New buckets one source group can reach (`newBucketsPerGroup`).
pub const NEW_BUCKETS_PER_GROUP: u64 = 64;

/// New buckets one address can be in (`newBucketsPerAddress`).
pub const NEW_BUCKETS_PER_ADDRESS: usize = 8;

/// Days without being seen after which an address is bad
/// (`numMissingDays`).
pub const NUM_MISSING_DAYS: u32 = 30;

/// Attempts without ever succeeding after which an address is bad
/// (`numRetries`).
pub const NUM_RETRIES: u32 = 3;

/// Attempts without a success in [`MIN_BAD_DAYS`] after which an address
/// is bad (`maxFailures`).
pub const MAX_FAILURES: u32 = 5;

/// Days since the last success within which [`MAX_FAILURES`] does not make
/// an address bad (`minBadDays`).
pub const MIN_BAD_DAYS: u32 = 7;

/// Most addresses in a `getaddr` answer (`getKnownAddressLimit`).
pub const GET_KNOWN_ADDRESS_LIMIT: usize = 2500;

/// Share, in per cent, of the eligible addresses a `getaddr` answer holds,
/// rounded up (`getKnownAddressPercentage`).
pub const GET_KNOWN_ADDRESS_PERCENTAGE: usize = 23;

/// An address attempted this recently is never bad (`isBad`'s first case).
pub const BAD_GRACE: Duration = Duration::from_secs(60);

/// An address last seen further than this in the future is bad (`isBad`).
pub const FUTURE_TOLERANCE: Duration = Duration::from_secs(10 * 60);

/// An address attempted this recently gets only [`MIN_CHANCE`] (`chance`).
pub const RECENT_ATTEMPT: Duration = Duration::from_secs(10 * 60);

/// The lowest selection weight (`chance`'s `minChance`).
pub const MIN_CHANCE: f64 = 0.01;

/// Each rejected draw in [`AddrManager::get_address`] multiplies the
/// acceptance factor by this (dcrd's `factor *= 1.2`).
pub const SELECTION_FACTOR_GROWTH: f64 = 1.2;

/// The random range of an acceptance draw (dcrd's `large := 1 << 30`).
const SELECTION_LARGE: u32 = 1 << 30;

/// [`AddrManager::connected`] moves an address's last-seen time only when
/// it is older than this (`Connected`'s 20 minutes).
pub const CONNECTED_UPDATE_INTERVAL: Duration = Duration::from_secs(20 * 60);

/// A relayed address claiming to be seen further than this in the future
/// is set back (dcrd server's `OnAddr`/`OnAddrV2`: `now + 10 minutes`; its
/// comment says 24 hours, its code says ten minutes, and we follow the
/// code).
pub const RELAYED_FUTURE_CUTOFF: Duration = Duration::from_secs(10 * 60);

/// How far in the past such an address is set: five days, so it is among
/// the first expired (`OnAddr`/`OnAddrV2`).
pub const RELAYED_FUTURE_PENALTY: Duration = Duration::from_secs(5 * 24 * 60 * 60);

/// Why an operation on a known address failed (dcrd's
/// `ErrAddressNotFound`; the error is logged and otherwise ignored by
/// dcrd's server).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AddrManagerError {
    /// The address is not in the book.
    #[error("address {0} not found")]
    NotFound(AddrKey),
    /// `good` on an address in no bucket (cannot happen while the book's
    /// invariants hold; dcrd has the same check).
    #[error("{0} is not marked as a new address")]
    NotNew(AddrKey),
    /// A local address that is not routable (`AddLocalAddress`).
    #[error("address {0} is not routable")]
    NotRoutable(AddrKey),
}

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
struct BucketStats {
    ipv4: u16,
    ipv6: u16,
    torv3: u16,
}

impl BucketStats {
    fn slot(&mut self, ty: NetAddressType) -> &mut u16 {
        match ty {
            NetAddressType::IPv4 => &mut self.ipv4,
            NetAddressType::IPv6 => &mut self.ipv6,
            NetAddressType::TorV3 => &mut self.torv3,
        }
    }

    fn increment(&mut self, ty: NetAddressType) {
        let n = self.slot(ty);
        *n = n.saturating_add(1);
    }

    fn decrement(&mut self, ty: NetAddressType) {
        let n = self.slot(ty);
        *n = n.saturating_sub(1);
    }

    fn total(&self, f: TypeFilter) -> usize {
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

    fn matches(&self, f: TypeFilter) -> bool {
        self.total(f) > 0
    }
}

/// The type of an address (dcrd's `NetAddress.Type`).
fn type_of(na: &NetAddressV2) -> NetAddressType {
    na.host.address_type()
}

/// The bucket functions, replaceable in tests (dcrd's `getNewBucket` and
/// `getTriedBucket` fields serve its tests the same way).
#[derive(Clone, Copy)]
struct BucketFns {
    new: fn(&[u8; 32], &NetAddressV2, &NetAddressV2) -> usize,
    tried: fn(&[u8; 32], &NetAddressV2) -> usize,
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
fn hash_u64(parts: &[&[u8]]) -> u64 {
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
struct TextBuf {
    buf: [u8; 80],
    len: usize,
}

impl TextBuf {
    fn new() -> TextBuf {
        TextBuf {
            buf: [0; 80],
            len: 0,
        }
    }

    /// `value`'s `Display` text.
    fn show(&mut self, value: &dyn std::fmt::Display) -> &[u8] {
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
    key: [u8; 32],
    tried_bucket_size: usize,
    /// The entries; buckets and the index name them by slot.
    slots: Vec<Option<KnownAddress>>,
    /// Empty slots, reused first.
    free: Vec<u32>,
    /// Every entry by key (dcrd's `addrIndex`).
    index: HashMap<AddrKey, u32>,
    /// dcrd's `addrNew`: each bucket in insertion order.
    new_buckets: Vec<Vec<u32>>,
    /// dcrd's `addrTried`.
    tried_buckets: Vec<Vec<u32>>,
    new_stats: Vec<BucketStats>,
    tried_stats: Vec<BucketStats>,
    n_new: usize,
    n_tried: usize,
    /// Whether the book changed since the last save (dcrd's `addrChanged`).
    changed: bool,
    /// Our own addresses to advertise (dcrd's `localAddresses`).
    local: Vec<local::LocalAddress>,
    buckets: BucketFns,
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
            local: Vec::new(),
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

    fn entry(&self, id: u32) -> &KnownAddress {
        self.slots[id as usize]
            .as_ref()
            .expect("bucket and index ids name live entries")
    }

    fn entry_mut(&mut self, id: u32) -> &mut KnownAddress {
        self.slots[id as usize]
            .as_mut()
            .expect("bucket and index ids name live entries")
    }

    fn insert_entry(&mut self, ka: KnownAddress) -> u32 {
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

    fn remove_entry(&mut self, id: u32) {
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
    fn add_or_update<R: Rng + ?Sized>(
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
    fn remove_from_new(&mut self, bucket: usize, id: u32) {
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
    fn expire_new<R: Rng + ?Sized>(&mut self, bucket: usize, now: u64, rng: &mut R) {
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
    fn select<R: Rng + ?Sized>(
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
