//! Where the connection manager's addresses come from and go to: the
//! [`AddressSource`] trait, whose methods are the calls dcrd's server makes
//! on its address manager, and its two implementations: [`AddressBook`],
//! dcrd's address manager ([`crate::addrmgr`]) behind a lock and saved to
//! its `peers.json`, which is the default; and [`LocalSource`], a plain
//! list for networks on one machine or LAN, whose loopback and private
//! addresses dcrd's book refuses (tests and the crawler use it).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use dcr_wire::{NetAddressV2, ServiceFlags};
use rand::seq::IndexedRandom;

use crate::addrmgr::{from_ip_port, AddrManager, Params, TypeFilter, PEERS_FILENAME};
use crate::addrmgr::{
    DEFAULT_TRIED_BUCKET_SIZE, NEW_BUCKET_COUNT, NEW_BUCKET_SIZE, TRIED_BUCKET_COUNT,
};
use crate::sync::lock;

/// Now, in Unix seconds (the address manager's clock).
pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The address of a socket address, as the book keys it (services and
/// time as given).
pub fn net_address(addr: SocketAddr, services: ServiceFlags, timestamp: u64) -> NetAddressV2 {
    from_ip_port(addr.ip(), addr.port(), services, timestamp)
}

/// An address the book offers for an outbound slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate {
    /// The address.
    pub addr: SocketAddr,
    /// When it was last attempted (Unix seconds), if ever.
    pub last_attempt: Option<u64>,
}

/// The socket address of a book entry; `None` for an onion service.
pub fn socket_addr(na: &NetAddressV2) -> Option<SocketAddr> {
    Some(SocketAddr::new(na.ip_addr()?, na.port))
}

/// What the connection manager asks of its address book: the calls dcrd's
/// server makes on its address manager (`server.go`), one method each.
/// The manager makes none of them on simnet and regnet, as dcrd does not
/// (docs/NODE.md, "Wiring").
pub trait AddressSource: Send + Sync + 'static {
    /// An address for an automatic outbound connection and when it was
    /// last attempted (dcrd's `newAddressFunc`: `GetAddress` of IPv4 and
    /// IPv6 addresses). The manager draws up to 100 times per slot and
    /// skips some (`policy::pick_outbound`). `None`: nothing to offer.
    fn get_address(&self) -> Option<Candidate>;
    /// A dial to `addr` begins (dcrd's `attemptDcrdDial`: the address is
    /// added with itself as source, then `Attempt`).
    fn attempt(&self, addr: SocketAddr);
    /// An outbound peer at `addr` was added (dcrd's `handleAddPeer`:
    /// `Good`).
    fn good(&self, addr: SocketAddr);
    /// An outbound peer's `version` advertised `services` (dcrd's
    /// `OnVersion`: `SetServices`, before any refusal).
    fn set_services(&self, addr: SocketAddr, services: ServiceFlags);
    /// Addresses from a seed list or seeder, `source` the seeder (dcrd's
    /// `querySeeders`: `AddAddresses`).
    fn add_addresses(&self, addrs: &[NetAddressV2], source: &NetAddressV2);
    /// Addresses a peer at `source` relayed in `addr` or `addrv2` (dcrd's
    /// `OnAddr`, `OnAddrV2`: times more than 10 minutes ahead set 5 days
    /// back, then `AddAddresses`).
    fn add_relayed(&self, addrs: &[NetAddressV2], source: &NetAddressV2);
    /// The addresses to answer a `getaddr` with, of the types `filter`
    /// passes (dcrd's `OnGetAddr`: `AddressCache`).
    fn address_cache(&self, filter: TypeFilter) -> Vec<NetAddressV2>;
    /// Whether the book wants more addresses (dcrd's `NeedMoreAddresses`:
    /// fewer than 1000).
    fn need_more_addresses(&self) -> bool;
    /// Writes the book where it is kept, if anywhere (dcrd's
    /// `savePeers`, every 10 minutes and at shutdown). Failures are
    /// logged by the caller.
    fn save(&self) -> std::io::Result<()> {
        Ok(())
    }
}

/// dcrd's address manager ([`AddrManager`]) behind a lock, on the real
/// clock, saved to a `peers.json` when opened from a file: the
/// connection manager's default source.
#[derive(Debug)]
pub struct AddressBook {
    book: Mutex<AddrManager>,
    path: Option<PathBuf>,
}

impl Default for AddressBook {
    fn default() -> Self {
        AddressBook::in_memory()
    }
}

impl AddressBook {
    /// An empty book with a fresh random key, kept in memory only.
    pub fn in_memory() -> AddressBook {
        AddressBook {
            book: Mutex::new(AddrManager::new(Params::random(&mut rand::rng()))),
            path: None,
        }
    }

    /// The book saved in `dir` (its [`PEERS_FILENAME`]), which
    /// [`AddressSource::save`] writes back: empty when there is none, and
    /// empty with a warning (the file removed, as dcrd does) when it is
    /// corrupt or truncated. Never fails: a directory that cannot be read
    /// shows when saving.
    pub fn open(dir: &Path) -> AddressBook {
        let path = dir.join(PEERS_FILENAME);
        let book = AddrManager::load(&path, unix_now(), &mut rand::rng());
        AddressBook {
            book: Mutex::new(book),
            path: Some(path),
        }
    }

    /// The file the book is saved to, if any.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Runs `f` on the book, under its lock.
    pub fn with<T>(&self, f: impl FnOnce(&mut AddrManager) -> T) -> T {
        f(&mut lock(&self.book))
    }

    /// Addresses in the book.
    pub fn len(&self) -> usize {
        lock(&self.book).len()
    }

    /// True when the book is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl AddressSource for AddressBook {
    fn get_address(&self) -> Option<Candidate> {
        let book = lock(&self.book);
        let ka = book.get_address(TypeFilter::IP, unix_now(), &mut rand::rng())?;
        Some(Candidate {
            addr: socket_addr(ka.net_address())?,
            last_attempt: ka.last_attempt(),
        })
    }

    fn attempt(&self, addr: SocketAddr) {
        let now = unix_now();
        let na = net_address(addr, ServiceFlags::NONE, now);
        let mut book = lock(&self.book);
        book.add_addresses(&[na], &na, now, &mut rand::rng());
        // Unroutable addresses are not in the book: nothing to mark.
        let _ = book.attempt(&na, now);
    }

    fn good(&self, addr: SocketAddr) {
        let now = unix_now();
        let _ = lock(&self.book).good(&net_address(addr, ServiceFlags::NONE, now), now);
    }

    fn set_services(&self, addr: SocketAddr, services: ServiceFlags) {
        let na = net_address(addr, services, 0);
        let _ = lock(&self.book).set_services(&na, services);
    }

    fn add_addresses(&self, addrs: &[NetAddressV2], source: &NetAddressV2) {
        lock(&self.book).add_addresses(addrs, source, unix_now(), &mut rand::rng());
    }

    fn add_relayed(&self, addrs: &[NetAddressV2], source: &NetAddressV2) {
        lock(&self.book).add_relayed_addresses(addrs, source, unix_now(), &mut rand::rng());
    }

    fn address_cache(&self, filter: TypeFilter) -> Vec<NetAddressV2> {
        lock(&self.book).address_cache(filter, unix_now(), &mut rand::rng())
    }

    fn need_more_addresses(&self) -> bool {
        lock(&self.book).need_more_addresses()
    }

    fn save(&self) -> std::io::Result<()> {
        match &self.path {
            Some(path) => lock(&self.book).save(path).map(|_| ()),
            None => Ok(()),
        }
    }
}

/// One address of a [`LocalSource`].
#[derive(Debug, Clone, Copy)]
struct Local {
    na: NetAddressV2,
    last_attempt: Option<u64>,
    succeeded: bool,
}

/// Addresses of a network on one machine or LAN, which dcrd's book
/// refuses as unroutable: a plain list, every address offered in turn
/// (fewest attempts first), any address a peer relays kept, `getaddr`
/// answered with every address that ever connected. Not dcrd's rules: for
/// tests and for crawling a local test network.
///
/// It holds at most [`MAX_LOCAL_ADDRESSES`], as many as dcrd's book can
/// (its new and tried tables full); relayed addresses beyond that are
/// refused and counted ([`LocalSource::dropped`]), so a peer that relays
/// 1000 fresh addresses a message cannot grow it without bound.
#[derive(Debug, Default)]
pub struct LocalSource {
    entries: Mutex<HashMap<SocketAddr, Local>>,
    dropped: std::sync::atomic::AtomicU64,
}

/// The most addresses a [`LocalSource`] holds: dcrd's address manager's
/// capacity, 1024 new buckets of 64 and 64 tried buckets of 256
/// (`addrmgr` `newBucketCount`, `newBucketSize`, `triedBucketCount`,
/// `triedBucketSize`): 81,920.
pub const MAX_LOCAL_ADDRESSES: usize =
    NEW_BUCKET_COUNT * NEW_BUCKET_SIZE + TRIED_BUCKET_COUNT * DEFAULT_TRIED_BUCKET_SIZE;

impl LocalSource {
    /// A source holding `addrs`.
    pub fn new(addrs: &[SocketAddr]) -> LocalSource {
        let s = LocalSource::default();
        let now = unix_now();
        let list: Vec<NetAddressV2> = addrs
            .iter()
            .map(|a| net_address(*a, ServiceFlags::NODE_NETWORK, now))
            .collect();
        s.insert(&list);
        s
    }

    /// Every address held.
    pub fn all(&self) -> Vec<SocketAddr> {
        lock(&self.entries).keys().copied().collect()
    }

    /// The addresses not yet attempted.
    pub fn untried(&self) -> Vec<SocketAddr> {
        lock(&self.entries)
            .iter()
            .filter(|(_, e)| e.last_attempt.is_none())
            .map(|(a, _)| *a)
            .collect()
    }

    /// Marks `addr` as one that connected (so `getaddr` gives it).
    pub fn mark_good(&self, addr: SocketAddr) {
        if let Some(e) = lock(&self.entries).get_mut(&addr) {
            e.succeeded = true;
        }
    }

    fn insert(&self, addrs: &[NetAddressV2]) {
        let mut entries = lock(&self.entries);
        for na in addrs {
            let Some(sa) = socket_addr(na) else { continue };
            if sa.port() == 0 || sa.ip().is_unspecified() {
                continue;
            }
            if entries.len() >= MAX_LOCAL_ADDRESSES && !entries.contains_key(&sa) {
                self.dropped
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                continue;
            }
            entries.entry(sa).or_insert(Local {
                na: *na,
                last_attempt: None,
                succeeded: false,
            });
        }
    }

    /// Addresses refused because the source held [`MAX_LOCAL_ADDRESSES`].
    pub fn dropped(&self) -> u64 {
        self.dropped.load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl AddressSource for LocalSource {
    fn get_address(&self) -> Option<Candidate> {
        let entries = lock(&self.entries);
        let untried: Vec<(&SocketAddr, &Local)> = entries
            .iter()
            .filter(|(_, e)| e.last_attempt.is_none())
            .collect();
        let pool: Vec<(&SocketAddr, &Local)> = if untried.is_empty() {
            entries.iter().collect()
        } else {
            untried
        };
        pool.choose(&mut rand::rng()).map(|(a, e)| Candidate {
            addr: **a,
            last_attempt: e.last_attempt,
        })
    }

    fn attempt(&self, addr: SocketAddr) {
        if let Some(e) = lock(&self.entries).get_mut(&addr) {
            e.last_attempt = Some(unix_now());
        }
    }

    fn good(&self, addr: SocketAddr) {
        self.mark_good(addr);
    }

    fn set_services(&self, addr: SocketAddr, services: ServiceFlags) {
        if let Some(e) = lock(&self.entries).get_mut(&addr) {
            e.na.services = services;
        }
    }

    fn add_addresses(&self, addrs: &[NetAddressV2], _source: &NetAddressV2) {
        self.insert(addrs);
    }

    fn add_relayed(&self, addrs: &[NetAddressV2], _source: &NetAddressV2) {
        self.insert(addrs);
    }

    fn address_cache(&self, filter: TypeFilter) -> Vec<NetAddressV2> {
        lock(&self.entries)
            .values()
            .filter(|e| e.succeeded && filter.matches(e.na.host.address_type()))
            .map(|e| e.na)
            .collect()
    }

    fn need_more_addresses(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sa(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn a_local_source_holds_at_most_dcrds_book_capacity() {
        let seed = sa("10.0.0.1:9108");
        let source = LocalSource::new(&[seed]);
        source.attempt(seed);
        let src = net_address(seed, ServiceFlags::NONE, 0);
        let total = MAX_LOCAL_ADDRESSES + 2500;
        let all: Vec<NetAddressV2> = (0..total as u32)
            .map(|i| {
                let ip = std::net::Ipv6Addr::from(0xfd00_u128 << 112 | u128::from(i));
                net_address(SocketAddr::from((ip, 9108)), ServiceFlags::NONE, 0)
            })
            .collect();
        // A relaying peer's messages, 1000 fresh addresses each.
        for chunk in all.chunks(1000) {
            source.add_relayed(chunk, &src);
            assert!(source.all().len() <= MAX_LOCAL_ADDRESSES);
        }
        assert_eq!(source.all().len(), MAX_LOCAL_ADDRESSES);
        assert_eq!(source.dropped(), 2501);
        // What it held is kept, the seed's attempt with it; an address
        // already held is still updated, not refused.
        assert!(source.all().contains(&seed));
        assert!(!source.untried().contains(&seed));
        source.add_relayed(&all[..1], &src);
        assert_eq!(source.dropped(), 2501);
    }

    #[test]
    fn a13_v15_dials_and_goods_reach_dcrds_book() {
        let book = AddressBook::in_memory();
        let a = sa("8.8.8.8:9108");
        book.attempt(a);
        assert_eq!(book.len(), 1, "a dialled address enters the book");
        let ka = book.with(|b| b.get(&net_address(a, ServiceFlags::NONE, 0)).cloned());
        let ka = ka.unwrap();
        assert_eq!(ka.attempts(), 1);
        assert!(!ka.is_tried());
        book.good(a);
        let ka = book.with(|b| b.get(&net_address(a, ServiceFlags::NONE, 0)).cloned());
        assert!(ka.unwrap().is_tried());
        // V1: services replaced.
        book.set_services(a, ServiceFlags::NODE_NETWORK);
        let ka = book.with(|b| b.get(&net_address(a, ServiceFlags::NONE, 0)).cloned());
        assert_eq!(
            ka.unwrap().net_address().services,
            ServiceFlags::NODE_NETWORK
        );
        // Loopback never enters dcrd's book.
        book.attempt(sa("127.0.0.1:9108"));
        assert_eq!(book.len(), 1);
    }

    #[test]
    fn a4_getaddr_is_answered_from_the_tried_share_of_the_book() {
        let book = AddressBook::in_memory();
        let now = unix_now();
        let src = net_address(sa("9.9.9.9:9108"), ServiceFlags::NONE, now);
        let gossip: Vec<NetAddressV2> = (0..100u8)
            .map(|i| {
                net_address(
                    sa(&format!("8.{i}.1.1:9108")),
                    ServiceFlags::NODE_NETWORK,
                    now,
                )
            })
            .collect();
        book.add_relayed(&gossip, &src);
        assert!(
            book.address_cache(TypeFilter::ALL).is_empty(),
            "gossip never tried"
        );
        for i in 0..10u8 {
            let a = sa(&format!("8.{i}.1.1:9108"));
            book.attempt(a);
            book.good(a);
        }
        // 23 % of 10, rounded up.
        assert_eq!(book.address_cache(TypeFilter::ALL).len(), 3);
        assert!(book.need_more_addresses());
    }

    #[test]
    fn a11_relayed_times_ten_minutes_ahead_are_set_five_days_back() {
        let book = AddressBook::in_memory();
        let now = unix_now();
        let src = net_address(sa("9.9.9.9:9108"), ServiceFlags::NONE, now);
        let sent = [
            net_address(sa("8.1.1.1:9108"), ServiceFlags::NONE, now + 9 * 60),
            net_address(sa("8.2.1.1:9108"), ServiceFlags::NONE, now + 11 * 60),
        ];
        book.add_relayed(&sent, &src);
        let stamp = |a: &NetAddressV2| book.with(|b| b.get(a).unwrap().net_address().timestamp);
        assert_eq!(stamp(&sent[0]), now + 9 * 60);
        let back = stamp(&sent[1]);
        assert!(back <= now - 5 * 86_400 + 2 && back >= now - 5 * 86_400 - 2);
    }

    #[test]
    fn the_book_survives_a_restart_and_a_corrupt_file_starts_empty() {
        let dir = tempfile::tempdir().unwrap();
        let book = AddressBook::open(dir.path());
        assert!(book.is_empty());
        let a = sa("8.8.8.8:9108");
        book.attempt(a);
        book.good(a);
        book.save().unwrap();
        let again = AddressBook::open(dir.path());
        assert_eq!(again.len(), 1);
        let ka = again.with(|b| b.get(&net_address(a, ServiceFlags::NONE, 0)).cloned());
        assert!(ka.unwrap().is_tried(), "tried stays tried");
        std::fs::write(dir.path().join(PEERS_FILENAME), b"{\"Version\": 1, \"Addr").unwrap();
        let corrupt = AddressBook::open(dir.path());
        assert!(corrupt.is_empty());
        assert!(
            !dir.path().join(PEERS_FILENAME).exists(),
            "removed, as dcrd does"
        );
    }

    #[test]
    fn a_local_source_offers_untried_addresses_first_and_answers_with_good_ones() {
        let s = LocalSource::new(&[sa("127.0.0.1:1"), sa("127.0.0.1:2")]);
        let first = s.get_address().unwrap().addr;
        s.attempt(first);
        let second = s.get_address().unwrap().addr;
        assert_ne!(first, second);
        assert!(s.address_cache(TypeFilter::ALL).is_empty());
        s.good(first);
        assert_eq!(s.address_cache(TypeFilter::ALL).len(), 1);
        assert_eq!(s.untried(), vec![second]);
    }
}
