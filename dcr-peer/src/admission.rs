//! Admission of inbound connections while they handshake, so that no
//! number of connections that never finish it can keep a new peer out.
//!
//! A connection holds a place in a bounded pool from its accept until its
//! handshake ends. Places are limited per source address and per address
//! group (`/16` for IPv4, `/32` for IPv6, the groups dcrd's address
//! manager keys on). A newcomer over its address's or its group's limit
//! takes the place of that address's or group's oldest pending connection;
//! when the pool is full it takes the place of the oldest pending
//! connection of the group holding the most. An attacker thus only ever
//! displaces himself, or whichever group he crowds most, and a newcomer
//! from elsewhere is always let in. Under pressure (the pool half full)
//! pending connections get a shorter handshake deadline.
//!
//! Loopback connections are exempt, as dcrd exempts them from its inbound
//! rate limiter, its flood defence and `--maxsameip`
//! (`internal/connmgr`'s `listenHandler` and `needsHostPermit`): they come
//! from this machine, and a user who first tries many peers at once tries
//! them from 127.0.0.1. [`exempt`] says which connections skip the pool;
//! [`Limits::exempt_loopback`] turns the loopback exemption off where
//! loopback addresses stand in for remote hosts (this crate's own flood
//! tests).
//!
//! The pool's groups are not dcrd's address-manager groups
//! ([`crate::addrmgr::GroupKey`], which the connection manager uses for
//! one outbound connection per group), nor the keys of dcrd's inbound rate
//! limiter (/32 IPv4 and /64 IPv6, /24 and /56 under flood): a displacement
//! pool that holds connections of many groups wants groups coarse enough
//! that one party rarely spans many, so it keeps the /16 and /32 of the
//! address (docs/NODE.md, rows C7 and C8).
//!
//! The pool is I/O-free: the one accept path (`accept.rs`), which
//! [`crate::net::serve`] and the connection manager share, feeds it and
//! closes the connections it names.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// Connections in their handshake at once, all sources together: about
/// 37 KiB each while a handshake runs (measured), ~5 MiB in all.
pub const MAX_PENDING: usize = 128;
/// Connections in their handshake from one source address.
pub const MAX_PENDING_PER_ADDRESS: usize = 8;
/// Connections in their handshake from one address group.
pub const MAX_PENDING_PER_GROUP: usize = MAX_PENDING / 4;
/// Pending connections from which the pool is under pressure.
pub const PRESSURE: usize = MAX_PENDING / 2;
/// The handshake deadline under pressure (the reference's usual one, and
/// ours, is 30 s).
pub const PRESSURE_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);

/// The group an address belongs to: its first 16 bits for IPv4 (IPv4
/// mapped into IPv6 included), its first 32 for IPv6. One party rarely
/// holds addresses in many groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AddressGroup {
    /// An IPv4 address's first two octets.
    V4([u8; 2]),
    /// An IPv6 address's first two 16-bit segments.
    V6([u16; 2]),
}

impl AddressGroup {
    /// The group of `ip`.
    pub fn of(ip: IpAddr) -> AddressGroup {
        match ip {
            IpAddr::V4(v4) => {
                let [a, b, ..] = v4.octets();
                AddressGroup::V4([a, b])
            }
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => AddressGroup::of(IpAddr::V4(v4)),
                None => {
                    let [a, b, ..] = v6.segments();
                    AddressGroup::V6([a, b])
                }
            },
        }
    }
}

/// The pool's bounds; [`Limits::default`] gives the constants above.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Pending connections at once ([`MAX_PENDING`]).
    pub capacity: usize,
    /// Pending connections from one address ([`MAX_PENDING_PER_ADDRESS`]).
    pub per_address: usize,
    /// Pending connections from one group ([`MAX_PENDING_PER_GROUP`]).
    pub per_group: usize,
    /// Pending connections from which the pool is under pressure
    /// ([`PRESSURE`]).
    pub pressure: usize,
    /// The handshake deadline under pressure
    /// ([`PRESSURE_HANDSHAKE_TIMEOUT`]).
    pub pressure_timeout: Duration,
    /// Loopback connections skip the pool (dcrd's rule; true by
    /// default). Off only where loopback addresses stand in for remote
    /// hosts, as in tests of the pool itself.
    pub exempt_loopback: bool,
    /// Peers held at most, in their handshake or handed over and still
    /// connected (dcrd's `--maxpeers`, 125, counts both); a connection
    /// beyond it is closed at once. `None`: no bound (the library's
    /// default: a caller such as the 10,000-peer benchmark decides).
    pub max_peers: Option<usize>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            capacity: MAX_PENDING,
            per_address: MAX_PENDING_PER_ADDRESS,
            per_group: MAX_PENDING_PER_GROUP,
            pressure: PRESSURE,
            pressure_timeout: PRESSURE_HANDSHAKE_TIMEOUT,
            exempt_loopback: true,
            max_peers: None,
        }
    }
}

/// Whether a connection from `ip` skips the pool: a whitelisted address,
/// or a loopback one while `limits` exempt loopback (dcrd exempts both
/// from its inbound rate limiting and per-host limit).
pub fn exempt(ip: IpAddr, whitelisted: bool, limits: &Limits) -> bool {
    whitelisted || (limits.exempt_loopback && ip.to_canonical().is_loopback())
}

/// Why a newcomer was turned away: its address, its group or the whole
/// pool is full of connections that finished their handshake and wait to
/// be taken, which are never displaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The address's places are all settled.
    AddressFull,
    /// The group's places are all settled.
    GroupFull,
    /// Every place of the pool is settled.
    PoolFull,
}

/// A place in the pool.
#[derive(Debug)]
struct Entry<T> {
    id: u64,
    ip: IpAddr,
    group: AddressGroup,
    since: Instant,
    /// Handshake done: waiting to be taken, no longer displaceable.
    settled: bool,
    handle: T,
}

/// The connections in their handshake, oldest first, each with a `T` (the
/// means to close it) handed back when it is displaced or expires.
#[derive(Debug)]
pub struct PendingPool<T> {
    limits: Limits,
    entries: Vec<Entry<T>>,
    next_id: u64,
}

impl<T> PendingPool<T> {
    /// An empty pool with these bounds.
    pub fn new(limits: Limits) -> Self {
        PendingPool {
            limits,
            entries: Vec::with_capacity(limits.capacity),
            next_id: 0,
        }
    }

    /// Connections holding a place.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when no connection holds a place.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Admits a connection from `ip` at `now`: its id, and the handle of
    /// the pending connection it displaced, if any.
    pub fn admit(
        &mut self,
        ip: IpAddr,
        now: Instant,
        handle: T,
    ) -> Result<(u64, Option<T>), Refusal> {
        let group = AddressGroup::of(ip);
        let count = |f: &dyn Fn(&Entry<T>) -> bool| self.entries.iter().filter(|e| f(e)).count();
        let victim = if count(&|e| e.ip == ip) >= self.limits.per_address {
            Some(self.oldest(|e| e.ip == ip).ok_or(Refusal::AddressFull)?)
        } else if count(&|e| e.group == group) >= self.limits.per_group {
            Some(
                self.oldest(|e| e.group == group)
                    .ok_or(Refusal::GroupFull)?,
            )
        } else if self.entries.len() >= self.limits.capacity {
            Some(self.crowded_oldest().ok_or(Refusal::PoolFull)?)
        } else {
            None
        };
        let displaced = victim.map(|i| self.entries.remove(i).handle);
        let id = self.next_id;
        self.next_id += 1;
        self.entries.push(Entry {
            id,
            ip,
            group,
            since: now,
            settled: false,
            handle,
        });
        Ok((id, displaced))
    }

    /// The handshake of `id` is done: it keeps its place until removed
    /// but is no longer displaced or expired.
    pub fn settle(&mut self, id: u64) {
        if let Some(e) = self.entries.iter_mut().find(|e| e.id == id) {
            e.settled = true;
        }
    }

    /// Frees the place of `id` (gone already: nothing happens).
    pub fn remove(&mut self, id: u64) {
        self.entries.retain(|e| e.id != id);
    }

    /// Under pressure, takes out the pending connections whose shorter
    /// deadline has passed at `now` and hands back their handles.
    pub fn expire(&mut self, now: Instant) -> Vec<T> {
        if self.entries.len() < self.limits.pressure {
            return Vec::new();
        }
        let timeout = self.limits.pressure_timeout;
        let (expired, kept) = std::mem::take(&mut self.entries)
            .into_iter()
            .partition(|e| !e.settled && now.saturating_duration_since(e.since) >= timeout);
        self.entries = kept;
        expired.into_iter().map(|e: Entry<T>| e.handle).collect()
    }

    /// Takes out every place and hands back their handles.
    pub fn drain(&mut self) -> Vec<T> {
        self.entries.drain(..).map(|e| e.handle).collect()
    }

    /// Index of the oldest displaceable entry matching `f`.
    fn oldest(&self, f: impl Fn(&Entry<T>) -> bool) -> Option<usize> {
        self.entries.iter().position(|e| !e.settled && f(e))
    }

    /// Index of the oldest displaceable entry of the group holding the
    /// most displaceable entries.
    fn crowded_oldest(&self) -> Option<usize> {
        let mut per_group: HashMap<AddressGroup, usize> = HashMap::new();
        for e in self.entries.iter().filter(|e| !e.settled) {
            *per_group.entry(e.group).or_default() += 1;
        }
        let most = per_group.values().copied().max()?;
        self.oldest(|e| per_group.get(&e.group) == Some(&most))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn small() -> Limits {
        Limits {
            capacity: 6,
            per_address: 2,
            per_group: 3,
            pressure: 4,
            pressure_timeout: Duration::from_secs(5),
            exempt_loopback: false,
            max_peers: None,
        }
    }

    #[test]
    fn c5_loopback_and_whitelisted_addresses_skip_the_pool() {
        let on = Limits::default();
        assert!(exempt(ip("127.0.0.1"), false, &on));
        assert!(exempt(ip("127.9.8.7"), false, &on));
        assert!(exempt(ip("::1"), false, &on));
        assert!(exempt(ip("::ffff:127.0.0.1"), false, &on));
        assert!(!exempt(ip("10.0.0.1"), false, &on));
        assert!(exempt(ip("10.0.0.1"), true, &on));
        // Where loopback stands in for remote hosts, it takes places.
        let off = Limits {
            exempt_loopback: false,
            ..on
        };
        assert!(!exempt(ip("127.0.0.1"), false, &off));
        assert!(exempt(ip("127.0.0.1"), true, &off));
    }

    #[test]
    fn groups() {
        let g = |s| AddressGroup::of(ip(s));
        assert_eq!(g("10.1.2.3"), g("10.1.200.7"));
        assert_ne!(g("10.1.2.3"), g("10.2.2.3"));
        assert_eq!(g("::ffff:10.1.9.9"), g("10.1.2.3"));
        assert_eq!(g("2001:db8:1::1"), g("2001:db8:ffff::2"));
        assert_ne!(g("2001:db8::1"), g("2001:db9::1"));
        // Loopback spans many groups: the tests rely on it.
        assert_ne!(g("127.0.0.1"), g("127.1.0.1"));
    }

    #[test]
    fn an_address_over_its_limit_displaces_its_own_oldest() {
        let now = Instant::now();
        let mut p = PendingPool::new(small());
        assert_eq!(p.admit(ip("10.0.0.1"), now, "a1"), Ok((0, None)));
        assert_eq!(p.admit(ip("10.0.0.1"), now, "a2"), Ok((1, None)));
        assert_eq!(p.admit(ip("10.0.0.1"), now, "a3"), Ok((2, Some("a1"))));
        // Settled ones stay: with both settled the newcomer is refused.
        p.settle(1);
        p.settle(2);
        assert_eq!(
            p.admit(ip("10.0.0.1"), now, "a4"),
            Err(Refusal::AddressFull)
        );
        p.remove(1);
        assert_eq!(p.admit(ip("10.0.0.1"), now, "a5"), Ok((3, None)));
    }

    #[test]
    fn a_group_over_its_limit_displaces_its_own_oldest() {
        let now = Instant::now();
        let mut p = PendingPool::new(small());
        p.admit(ip("10.9.0.1"), now, "other").unwrap();
        for (i, h) in ["g1", "g2", "g3"].into_iter().enumerate() {
            p.admit(ip(&format!("10.0.0.{i}")), now, h).unwrap();
        }
        let (_, out) = p.admit(ip("10.0.7.7"), now, "g4").unwrap();
        assert_eq!(out, Some("g1"));
        assert_eq!(p.len(), 4);
    }

    #[test]
    fn a_full_pool_displaces_the_oldest_of_the_most_crowded_group() {
        let now = Instant::now();
        let mut p = PendingPool::new(small());
        // Groups: 10.1 holds 1 (oldest of all), 10.2 holds 3, 10.3 holds 2.
        p.admit(ip("10.1.0.1"), now, "lone").unwrap();
        p.admit(ip("10.2.0.1"), now, "crowd1").unwrap();
        p.admit(ip("10.3.0.1"), now, "pair1").unwrap();
        p.admit(ip("10.2.0.2"), now, "crowd2").unwrap();
        p.admit(ip("10.3.0.2"), now, "pair2").unwrap();
        p.admit(ip("10.2.0.3"), now, "crowd3").unwrap();
        assert_eq!(p.len(), 6);
        let (_, out) = p.admit(ip("10.4.0.1"), now, "new").unwrap();
        assert_eq!(out, Some("crowd1"));
        // Now 10.2 and 10.3 hold 2 each: the older of their oldest goes.
        let (_, out) = p.admit(ip("10.5.0.1"), now, "new2").unwrap();
        assert_eq!(out, Some("pair1"));
        // All settled: refused.
        let mut q = PendingPool::new(Limits {
            capacity: 1,
            ..small()
        });
        let (id, _) = q.admit(ip("10.1.0.1"), now, "done").unwrap();
        q.settle(id);
        assert_eq!(q.admit(ip("10.2.0.1"), now, "x"), Err(Refusal::PoolFull));
    }

    #[test]
    fn under_pressure_old_pending_connections_expire() {
        let t0 = Instant::now();
        let later = t0 + Duration::from_secs(5);
        let mut p = PendingPool::new(small());
        for i in 0..3 {
            p.admit(ip(&format!("10.{i}.0.1")), t0, i).unwrap();
        }
        // Three pending: no pressure, nothing expires however old.
        assert!(p.expire(later + Duration::from_secs(60)).is_empty());
        let (settled, _) = p.admit(ip("10.7.0.1"), t0, 7).unwrap();
        p.settle(settled);
        p.admit(ip("10.8.0.1"), later, 8).unwrap();
        // Five: the pending ones from t0 go, not the settled one nor the
        // one from `later`.
        assert_eq!(p.expire(later), vec![0, 1, 2]);
        assert_eq!(p.len(), 2);
        assert_eq!(p.drain(), vec![7, 8]);
        assert!(p.is_empty());
    }
}
