//! Where outbound connections come from: the [`AddressSource`] trait and a
//! simple in-memory [`AddressBook`] fed by `addr`/`addrv2` messages and a
//! seed list, which also answers `getaddr`.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use dcr_wire::{NetAddressV2, ServiceFlags};
use rand::seq::SliceRandom;

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
    /// Addresses learned (from `addr`/`addrv2`, or seeds).
    fn add(&self, addrs: &[NetAddressV2]);
    /// Up to `max` known addresses, to answer `getaddr`.
    fn known(&self, max: usize) -> Vec<NetAddressV2>;
}

#[derive(Debug, Clone)]
struct Entry {
    addr: NetAddressV2,
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

/// A bounded in-memory address book.
#[derive(Debug)]
pub struct AddressBook {
    capacity: usize,
    entries: Mutex<HashMap<SocketAddr, Entry>>,
}

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
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// Adds plain socket addresses (a seed list).
    pub fn add_socket_addrs(&self, addrs: &[SocketAddr]) {
        self.add(&seed_addresses(addrs));
    }

    /// Addresses held.
    pub fn len(&self) -> usize {
        lock(&self.entries).len()
    }

    /// True when no address is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every address known, for display.
    pub fn all(&self) -> Vec<SocketAddr> {
        lock(&self.entries).keys().copied().collect()
    }
}

fn socket_addr(a: &NetAddressV2) -> Option<SocketAddr> {
    Some(SocketAddr::new(a.ip_addr()?, a.port))
}

/// Makes room in a full book: drops the tenth of it least worth keeping
/// (most failures, never reached) in one pass, so a stream of new
/// addresses costs one scan per tenth of the capacity, not one per address.
fn evict(entries: &mut HashMap<SocketAddr, Entry>, capacity: usize) {
    let mut ranked: Vec<(u32, bool, SocketAddr)> = entries
        .iter()
        .map(|(a, e)| (e.failures, e.last_success.is_none(), *a))
        .collect();
    ranked
        .sort_unstable_by_key(|&(failures, unreached, _)| std::cmp::Reverse((failures, unreached)));
    for (_, _, a) in ranked.into_iter().take((capacity / 10).max(1)) {
        entries.remove(&a);
    }
}

impl AddressSource for AddressBook {
    fn next_address(&self, skip: &dyn Fn(SocketAddr) -> bool) -> Option<SocketAddr> {
        let now = Instant::now();
        let entries = lock(&self.entries);
        let mut best: Vec<(&SocketAddr, &Entry)> = entries
            .iter()
            .filter(|(a, e)| e.ready(now) && !skip(**a))
            .collect();
        // Fewest failures first; among equals, any.
        let fewest = best.iter().map(|(_, e)| e.failures).min()?;
        best.retain(|(_, e)| e.failures == fewest);
        best.choose(&mut rand::thread_rng()).map(|(a, _)| **a)
    }

    fn attempted(&self, addr: SocketAddr) {
        if let Some(e) = lock(&self.entries).get_mut(&addr) {
            e.last_attempt = Some(Instant::now());
        }
    }

    fn good(&self, addr: SocketAddr) {
        if let Some(e) = lock(&self.entries).get_mut(&addr) {
            e.failures = 0;
            e.last_success = Some(Instant::now());
        }
    }

    fn failed(&self, addr: SocketAddr) {
        if let Some(e) = lock(&self.entries).get_mut(&addr) {
            e.failures = e.failures.saturating_add(1);
            e.last_attempt = Some(Instant::now());
        }
    }

    fn add(&self, addrs: &[NetAddressV2]) {
        let mut entries = lock(&self.entries);
        for a in addrs {
            let Some(sa) = socket_addr(a) else { continue };
            if sa.port() == 0 || sa.ip().is_unspecified() {
                continue;
            }
            if let Some(e) = entries.get_mut(&sa) {
                if a.timestamp > e.addr.timestamp {
                    e.addr.timestamp = a.timestamp;
                }
                continue;
            }
            if entries.len() >= self.capacity {
                evict(&mut entries, self.capacity);
            }
            entries.insert(
                sa,
                Entry {
                    addr: *a,
                    failures: 0,
                    last_attempt: None,
                    last_success: None,
                },
            );
        }
    }

    fn known(&self, max: usize) -> Vec<NetAddressV2> {
        let entries = lock(&self.entries);
        let mut v: Vec<NetAddressV2> = entries
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
