//! Where outbound connections come from: the [`AddressSource`] trait and a
//! simple in-memory [`AddressBook`] fed by `addr`/`addrv2` messages and a
//! seed list, which also answers `getaddr`.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use dcr_wire::{NetAddressV2, ServiceFlags};
use rand::seq::SliceRandom;

use crate::admission::AddressGroup;
use crate::sync::lock;

/// A source of addresses to dial. Implement it to plug in your own address
/// manager; [`AddressBook`] is the built-in one.
pub trait AddressSource: Send + Sync + 'static {
    /// An address to try next, skipping those `skip` rejects (connected,
    /// pending, banned). `None` when there is nothing worth trying now.
    fn next_address(&self, skip: &dyn Fn(SocketAddr) -> bool) -> Option<SocketAddr>;
    /// A connection to `addr` is being attempted.
    fn attempted(&self, addr: SocketAddr);
    /// A connection to `addr` completed its handshake.
    fn good(&self, addr: SocketAddr);
    /// A connection to `addr` failed.
    fn failed(&self, addr: SocketAddr);
    /// Addresses learned (seeds, or given by the user).
    fn add(&self, addrs: &[NetAddressV2]);
    /// Addresses a peer at `source` sent (`addr`/`addrv2`). A source may be
    /// kept to a share of the book; the default takes them as
    /// [`AddressSource::add`] does.
    fn add_from(&self, source: IpAddr, addrs: &[NetAddressV2]) {
        let _ = source;
        self.add(addrs);
    }
    /// Up to `max` known addresses, to answer `getaddr`.
    fn known(&self, max: usize) -> Vec<NetAddressV2>;
}

#[derive(Debug, Clone)]
struct Entry {
    addr: NetAddressV2,
    /// The group of the peer it came from (`None`: a seed or the user).
    source: Option<AddressGroup>,
    failures: u32,
    last_attempt: Option<Instant>,
    last_success: Option<Instant>,
}

impl Entry {
    /// Failing addresses wait longer and longer: 2^failures seconds, at
    /// most ten minutes.
    fn ready(&self, now: Instant) -> bool {
        let wait = Duration::from_secs(1u64 << self.failures.min(10)).min(Duration::from_secs(600));
        match self.last_attempt {
            Some(t) if self.failures > 0 => now.saturating_duration_since(t) >= wait,
            _ => true,
        }
    }
}

/// Plain socket addresses (a seed list) as address entries seen now, with
/// no services known.
pub fn seed_addresses(addrs: &[SocketAddr]) -> Vec<NetAddressV2> {
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    addrs
        .iter()
        .map(|a| NetAddressV2::new(a.ip(), a.port(), ServiceFlags::NONE, now))
        .collect()
}

/// A bounded in-memory address book in which no one source group (the
/// /16 or /32 of the peers that sent the addresses) holds more than a
/// sixteenth: a flood of `addr` from one peer, or from many in one group,
/// replaces only that group's own entries. (dcrd's address manager bounds
/// a source group to 64 of its 1024 new buckets, the same share.)
#[derive(Debug)]
pub struct AddressBook {
    capacity: usize,
    entries: Mutex<Entries>,
}

#[derive(Debug, Default)]
struct Entries {
    by_addr: HashMap<SocketAddr, Entry>,
    per_source: HashMap<AddressGroup, usize>,
}

impl Entries {
    fn insert(&mut self, sa: SocketAddr, e: Entry) {
        if let Some(g) = e.source {
            *self.per_source.entry(g).or_default() += 1;
        }
        self.by_addr.insert(sa, e);
    }

    fn remove(&mut self, sa: &SocketAddr) {
        let Some(g) = self.by_addr.remove(sa).and_then(|e| e.source) else {
            return;
        };
        if let Some(n) = self.per_source.get_mut(&g) {
            *n -= 1;
            if *n == 0 {
                self.per_source.remove(&g);
            }
        }
    }

    fn learned_from(&self, g: AddressGroup) -> usize {
        self.per_source.get(&g).copied().unwrap_or(0)
    }
}

/// The share of the book one source group may hold: a sixteenth.
pub const SOURCE_SHARE_DIVISOR: usize = 16;

/// Addresses the built-in book keeps at most.
pub const DEFAULT_ADDRESS_BOOK_CAPACITY: usize = 4096;

impl Default for AddressBook {
    fn default() -> Self {
        AddressBook::new(DEFAULT_ADDRESS_BOOK_CAPACITY)
    }
}

impl AddressBook {
    /// An empty book holding at most `capacity` addresses.
    pub fn new(capacity: usize) -> Self {
        AddressBook {
            capacity: capacity.max(1),
            entries: Mutex::new(Entries::default()),
        }
    }

    /// Adds plain socket addresses (a seed list).
    pub fn add_socket_addrs(&self, addrs: &[SocketAddr]) {
        self.add(&seed_addresses(addrs));
    }

    /// Addresses held.
    pub fn len(&self) -> usize {
        lock(&self.entries).by_addr.len()
    }

    /// Entries learned from peers in `source`'s group.
    pub fn learned_from(&self, source: IpAddr) -> usize {
        lock(&self.entries).learned_from(AddressGroup::of(source))
    }

    /// Entries one source group may hold.
    pub fn source_share(&self) -> usize {
        (self.capacity / SOURCE_SHARE_DIVISOR).max(1)
    }

    /// True when no address is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every address known, for display.
    pub fn all(&self) -> Vec<SocketAddr> {
        lock(&self.entries).by_addr.keys().copied().collect()
    }
}

fn socket_addr(a: &NetAddressV2) -> Option<SocketAddr> {
    Some(SocketAddr::new(a.ip_addr()?, a.port))
}

/// The entries least worth keeping first: most failures, never reached.
fn ranked<'a>(entries: impl Iterator<Item = (&'a SocketAddr, &'a Entry)>) -> Vec<SocketAddr> {
    let mut ranked: Vec<(u32, bool, SocketAddr)> = entries
        .map(|(a, e)| (e.failures, e.last_success.is_none(), *a))
        .collect();
    ranked
        .sort_unstable_by_key(|&(failures, unreached, _)| std::cmp::Reverse((failures, unreached)));
    ranked.into_iter().map(|(_, _, a)| a).collect()
}

/// Makes room in a full book: drops the tenth of it least worth keeping
/// in one pass, so a stream of new addresses costs one scan per tenth of
/// the capacity, not one per address.
fn evict(entries: &mut Entries, capacity: usize) {
    let worst = ranked(entries.by_addr.iter());
    for a in worst.into_iter().take((capacity / 10).max(1)) {
        entries.remove(&a);
    }
}

/// Makes room for one more entry from source group `g`: drops the least
/// worth keeping of that group's.
fn evict_from(entries: &mut Entries, g: AddressGroup) {
    let worst = ranked(entries.by_addr.iter().filter(|(_, e)| e.source == Some(g)));
    if let Some(a) = worst.first() {
        entries.remove(a);
    }
}

impl AddressBook {
    fn insert_all(&self, source: Option<AddressGroup>, addrs: &[NetAddressV2]) {
        let share = self.source_share();
        let mut entries = lock(&self.entries);
        for a in addrs {
            let Some(sa) = socket_addr(a) else { continue };
            if sa.port() == 0 || sa.ip().is_unspecified() {
                continue;
            }
            if let Some(e) = entries.by_addr.get_mut(&sa) {
                if a.timestamp > e.addr.timestamp {
                    e.addr.timestamp = a.timestamp;
                }
                continue;
            }
            if let Some(g) = source {
                if entries.learned_from(g) >= share {
                    evict_from(&mut entries, g);
                }
            }
            if entries.by_addr.len() >= self.capacity {
                evict(&mut entries, self.capacity);
            }
            entries.insert(
                sa,
                Entry {
                    addr: *a,
                    source,
                    failures: 0,
                    last_attempt: None,
                    last_success: None,
                },
            );
        }
    }
}

impl AddressSource for AddressBook {
    fn next_address(&self, skip: &dyn Fn(SocketAddr) -> bool) -> Option<SocketAddr> {
        let now = Instant::now();
        let entries = lock(&self.entries);
        let mut best: Vec<(&SocketAddr, &Entry)> = entries
            .by_addr
            .iter()
            .filter(|(a, e)| e.ready(now) && !skip(**a))
            .collect();
        // Fewest failures first; among equals, any.
        let fewest = best.iter().map(|(_, e)| e.failures).min()?;
        best.retain(|(_, e)| e.failures == fewest);
        best.choose(&mut rand::thread_rng()).map(|(a, _)| **a)
    }

    fn attempted(&self, addr: SocketAddr) {
        if let Some(e) = lock(&self.entries).by_addr.get_mut(&addr) {
            e.last_attempt = Some(Instant::now());
        }
    }

    fn good(&self, addr: SocketAddr) {
        if let Some(e) = lock(&self.entries).by_addr.get_mut(&addr) {
            e.failures = 0;
            e.last_success = Some(Instant::now());
        }
    }

    fn failed(&self, addr: SocketAddr) {
        if let Some(e) = lock(&self.entries).by_addr.get_mut(&addr) {
            e.failures = e.failures.saturating_add(1);
            e.last_attempt = Some(Instant::now());
        }
    }

    fn add(&self, addrs: &[NetAddressV2]) {
        self.insert_all(None, addrs);
    }

    fn add_from(&self, source: IpAddr, addrs: &[NetAddressV2]) {
        self.insert_all(Some(AddressGroup::of(source)), addrs);
    }

    fn known(&self, max: usize) -> Vec<NetAddressV2> {
        let entries = lock(&self.entries);
        let mut v: Vec<NetAddressV2> = entries
            .by_addr
            .values()
            .filter(|e| e.failures < 3)
            .map(|e| e.addr)
            .collect();
        v.shuffle(&mut rand::thread_rng());
        v.truncate(max);
        v
    }
}

/// The addresses a peer sent that are worth keeping, at Unix time `now`:
/// routable ones only (unless `accept_local`), and a time over a day ahead
/// replaced by five days ago, as the reference does, so such an address is
/// among the first to go.
pub(super) fn learnable(addrs: &[NetAddressV2], accept_local: bool, now: u64) -> Vec<NetAddressV2> {
    addrs
        .iter()
        .filter(|a| accept_local || a.ip_addr().is_some_and(is_routable))
        .map(|a| {
            let mut a = *a;
            if a.timestamp > now.saturating_add(24 * 3600) {
                a.timestamp = now.saturating_sub(5 * 24 * 3600);
            }
            a
        })
        .collect()
}

/// Whether `ip` is reachable across the internet: not unspecified,
/// loopback, private (RFC 1918, RFC 4193), shared (RFC 6598), link-local or
/// documentation space.
pub fn is_routable(ip: IpAddr) -> bool {
    match ip.to_canonical() {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_unspecified()
                || v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_broadcast()
                || v4.is_documentation()
                || (a == 100 && (64..128).contains(&b)))
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            !(v6.is_unspecified()
                || v6.is_loopback()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || first == 0x2001 && v6.segments()[1] == 0x0db8)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dcr_wire::ServiceFlags;

    fn sa(n: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], n))
    }

    #[test]
    fn picks_untried_and_backs_off_failures() {
        let b = AddressBook::new(3);
        b.add_socket_addrs(&[sa(1), sa(2)]);
        assert_eq!(b.len(), 2);
        b.failed(sa(1));
        // sa(1) waits two seconds now; sa(2) is ready.
        for _ in 0..10 {
            assert_eq!(b.next_address(&|_| false), Some(sa(2)));
        }
        assert_eq!(b.next_address(&|a| a == sa(2)), None);
        b.add_socket_addrs(&[sa(3), sa(4)]);
        assert_eq!(b.len(), 3, "bounded: the failing entry made room");
        assert!(!b.all().contains(&sa(1)));
        assert_eq!(b.known(10).len(), 3);
    }

    #[test]
    fn one_source_group_holds_at_most_its_share() {
        let b = AddressBook::new(1600);
        let share = b.source_share();
        assert_eq!(share, 100);
        let from = |i: u32| {
            NetAddressV2::new(
                IpAddr::from((0x0800_0000u32 + i).to_be_bytes()),
                9108,
                ServiceFlags::NODE_NETWORK,
                1_800_000_000,
            )
        };
        // Another group's addresses first, then a flood from one peer,
        // then from a second peer of the same /16.
        let honest: Vec<NetAddressV2> = (0..50).map(|i| from(1_000_000 + i)).collect();
        b.add_from("9.9.9.9".parse().unwrap(), &honest);
        let flood: Vec<NetAddressV2> = (0..10_000).map(from).collect();
        b.add_from("6.6.1.1".parse().unwrap(), &flood);
        b.add_from("6.6.2.2".parse().unwrap(), &flood[..5_000]);
        assert_eq!(b.learned_from("6.6.0.1".parse().unwrap()), share);
        assert_eq!(b.learned_from("9.9.0.0".parse().unwrap()), 50);
        assert_eq!(b.len(), share + 50, "the flood replaced only its own");
        // Seeds and the user's addresses are no source's.
        b.add_socket_addrs(&[sa(1)]);
        assert_eq!(b.len(), share + 51);
    }

    #[test]
    fn a_full_book_stays_bounded_and_drops_failures_first() {
        let b = AddressBook::new(100);
        b.add_socket_addrs(&(1..=100).map(sa).collect::<Vec<_>>());
        b.failed(sa(7));
        b.good(sa(8));
        b.add_socket_addrs(&(101..=10_000).map(sa).collect::<Vec<_>>());
        assert!(b.len() <= 100);
        let all = b.all();
        assert!(!all.contains(&sa(7)), "the failing address goes first");
        assert!(
            all.contains(&sa(8)),
            "a reached address outlives untried ones"
        );
    }

    #[test]
    fn routable_addresses() {
        for ip in ["8.8.8.8", "2a01:4f8::1", "::ffff:1.2.3.4"] {
            assert!(is_routable(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "0.0.0.0",
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.1.1",
            "100.64.0.1",
            "192.0.2.1",
            "255.255.255.255",
            "::",
            "::1",
            "fd00::1",
            "fe80::1",
            "2001:db8::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(!is_routable(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn learnable_drops_local_addresses_and_dates_the_future_back() {
        let now = 1_800_000_000;
        let at = |ip: &str, t: u64| {
            NetAddressV2::new(ip.parse().unwrap(), 9108, ServiceFlags::NODE_NETWORK, t)
        };
        let sent = [
            at("8.8.8.8", now),
            at("192.168.1.1", now),
            at("1.1.1.1", now + 2 * 24 * 3600),
        ];
        let kept = learnable(&sent, false, now);
        assert_eq!(kept.len(), 2);
        assert_eq!(kept[0], sent[0]);
        assert_eq!(kept[1].timestamp, now - 5 * 24 * 3600);
        assert_eq!(learnable(&sent, true, now).len(), 3);
    }
}
