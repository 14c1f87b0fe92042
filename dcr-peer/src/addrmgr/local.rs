//! Our own addresses: which to advertise to a peer, and whether what a
//! peer says it sees us as could be our external address.
//!
//! The reference is dcrd's `addrmgr/addrmanager.go`: `AddLocalAddress`,
//! `HasLocalAddress`, `LocalAddresses`, `getRemoteReachabilityFromLocal`,
//! `GetBestLocalAddress` and `IsExternalAddrCandidate`. dcrd's server
//! sends the best local address to each new outbound peer (when it
//! listens and is synced) in `handleAddPeer`.

use dcr_wire::{NetAddressType, NetAddressV2, NetAddressV2Host};

use super::address::{canonical, host_ip, unspecified_for, AddrKey, TypeFilter};
use super::error::AddrManagerError;
use super::network::{
    host_is_local, host_is_routable, is_rfc3964, is_rfc4380, is_rfc6052, is_rfc6145,
};

/// How a local address was found, lowest priority first (dcrd's
/// `AddressPriority`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(i32)]
pub enum AddressPriority {
    /// On a local interface (`InterfacePrio`).
    Interface = 0,
    /// Explicitly bound to (`BoundPrio`).
    Bound = 1,
    /// From UPnP (`UpnpPrio`).
    Upnp = 2,
    /// From an external HTTP service (`HTTPPrio`).
    Http = 3,
    /// Given with `--externalip` (`ManualPrio`).
    Manual = 4,
}

/// A local address and its score.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LocalAddress {
    pub(crate) na: NetAddressV2,
    pub(crate) score: i32,
}

/// A local address as `AddrManager::local_addresses` lists it (dcrd's
/// `LocalAddr`, which leaves the score out; we give it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalAddr {
    /// The address.
    pub address: NetAddressV2,
    /// Its score: the priority it was added with, raised by re-adding.
    pub score: i32,
}

/// How well a local address reaches a remote one, worst first (dcrd's
/// `NetAddressReach`; the numbers are dcrd's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Reach {
    /// The remote is unreachable from the local address.
    Unreachable = 0,
    /// Nothing better known.
    Default = 1,
    /// Both Teredo.
    Teredo = 2,
    /// IPv6 over a tunnel, or Teredo from plain IPv6.
    Ipv6Weak = 3,
    /// IPv4 to IPv4.
    Ipv4 = 4,
    /// Native IPv6.
    Ipv6Strong = 5,
    /// Tor to Tor.
    Private = 6,
}

/// Whether the host is an IPv6 address in `f`'s range.
fn ip_in(host: &NetAddressV2Host, f: fn(std::net::IpAddr) -> bool) -> bool {
    host_ip(host).is_some_and(f)
}

/// How well `local` reaches `remote` (dcrd's
/// `getRemoteReachabilityFromLocal`, case for case).
pub fn reachability(local: &NetAddressV2Host, remote: &NetAddressV2Host) -> Reach {
    let local_ty = local.address_type();
    let local_routable = host_is_routable(local);
    if !host_is_routable(remote) {
        return Reach::Unreachable;
    }
    match remote.address_type() {
        NetAddressType::TorV3 => match local_ty {
            NetAddressType::TorV3 => Reach::Private,
            NetAddressType::IPv4 if local_routable => Reach::Ipv4,
            _ => Reach::Default,
        },
        _ if ip_in(remote, is_rfc4380) => {
            if !local_routable {
                Reach::Default
            } else if ip_in(local, is_rfc4380) {
                Reach::Teredo
            } else if local_ty == NetAddressType::IPv4 {
                Reach::Ipv4
            } else {
                Reach::Ipv6Weak
            }
        }
        NetAddressType::IPv4 => match local_ty {
            NetAddressType::IPv4 if local_routable => Reach::Ipv4,
            NetAddressType::TorV3 => Reach::Ipv4,
            _ => Reach::Unreachable,
        },
        NetAddressType::IPv6 => {
            if !local_routable {
                Reach::Default
            } else if ip_in(local, is_rfc4380) {
                Reach::Teredo
            } else if local_ty == NetAddressType::IPv4 {
                Reach::Ipv4
            } else if local_ty == NetAddressType::TorV3 {
                Reach::Ipv6Strong
            } else if ip_in(local, is_rfc3964)
                || ip_in(local, is_rfc6052)
                || ip_in(local, is_rfc6145)
            {
                // Tunnelled IPv6 is not preferred.
                Reach::Ipv6Weak
            } else {
                Reach::Ipv6Strong
            }
        }
    }
}

/// Whether `local`, the address a remote peer says it sees us at, is a
/// good candidate for our external address, and how it reaches `remote`
/// (dcrd's `IsExternalAddrCandidate`): never when it is local; IPv4 when
/// it reaches IPv4; IPv6 when it reaches by IPv6 (weak or strong), Teredo
/// or by default.
pub fn is_external_addr_candidate(
    local: &NetAddressV2Host,
    remote: &NetAddressV2Host,
) -> (bool, Reach) {
    let reach = reachability(local, remote);
    if host_is_local(local) {
        return (false, reach);
    }
    let good = match local.address_type() {
        NetAddressType::IPv4 => reach == Reach::Ipv4,
        NetAddressType::IPv6 => matches!(
            reach,
            Reach::Ipv6Weak | Reach::Ipv6Strong | Reach::Teredo | Reach::Default
        ),
        NetAddressType::TorV3 => false,
    };
    (good, reach)
}

/// Our own addresses to advertise (dcrd's `localAddresses`), kept by the
/// manager beside its book.
#[derive(Debug, Clone, Default)]
pub(crate) struct LocalAddresses(Vec<LocalAddress>);

impl LocalAddresses {
    /// Adds one of our own addresses to advertise (dcrd's
    /// `AddLocalAddress`): refused unless routable. A new address gets
    /// `priority` as its score; re-adding one with a higher priority than
    /// its score sets the score to that priority plus one (dcrd's code).
    pub(crate) fn add_local_address(
        &mut self,
        addr: &NetAddressV2,
        priority: AddressPriority,
    ) -> Result<(), AddrManagerError> {
        let na = canonical(addr);
        let key = AddrKey::of(&na);
        if !host_is_routable(&na.host) {
            return Err(AddrManagerError::NotRoutable(key));
        }
        let priority = priority as i32;
        match self.0.iter_mut().find(|la| AddrKey::of(&la.na) == key) {
            Some(la) if la.score < priority => la.score = priority + 1,
            Some(_) => {}
            None => self.0.push(LocalAddress {
                na,
                score: priority,
            }),
        }
        Ok(())
    }

    /// Whether `addr` is one of our local addresses (dcrd's
    /// `HasLocalAddress`).
    pub(crate) fn has_local_address(&self, addr: &NetAddressV2) -> bool {
        let key = AddrKey::of(addr);
        self.0.iter().any(|la| AddrKey::of(&la.na) == key)
    }

    /// Our local addresses (dcrd's `LocalAddresses`).
    pub(crate) fn local_addresses(&self) -> Vec<LocalAddr> {
        self.0
            .iter()
            .map(|la| LocalAddr {
                address: la.na,
                score: la.score,
            })
            .collect()
    }

    /// The local address to advertise to a peer at `remote` (dcrd's
    /// `GetBestLocalAddress`): of those `filter` lets through, the one that
    /// reaches it best, a higher score breaking ties; it must beat
    /// [`Reach::Default`] at score 0. Of equal reach and score the first
    /// added wins (dcrd's map order makes that random). Without one, the
    /// unroutable `0.0.0.0:0` (IPv4 remote) or `[::]:0` with
    /// `SFNodeNetwork`, seen at `now`, which the server does not send.
    pub(crate) fn best_local_address(
        &self,
        remote: &NetAddressV2,
        filter: TypeFilter,
        now: u64,
    ) -> NetAddressV2 {
        let remote_host = canonical(remote).host;
        let mut best_reach = Reach::Default;
        let mut best_score = AddressPriority::Interface as i32;
        let mut best = None;
        for la in &self.0 {
            if !filter.matches(la.na.host.address_type()) {
                continue;
            }
            let reach = reachability(&la.na.host, &remote_host);
            if reach > best_reach || (reach == best_reach && la.score > best_score) {
                best_reach = reach;
                best_score = la.score;
                best = Some(la.na);
            }
        }
        match best {
            Some(na) => {
                tracing::debug!(local = %AddrKey::of(&na), remote = %AddrKey::of(remote), "suggesting best local address");
                na
            }
            None => {
                tracing::debug!(remote = %AddrKey::of(remote), "no worthy local address");
                unspecified_for(&remote_host, now)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addrmgr::address::parse_host;
    use dcr_wire::ServiceFlags;

    fn h(s: &str) -> NetAddressV2Host {
        parse_host(s).unwrap()
    }

    fn na(s: &str, port: u16) -> NetAddressV2 {
        NetAddressV2 {
            timestamp: 1000,
            services: ServiceFlags::NODE_NETWORK,
            host: h(s),
            port,
        }
    }

    const TOR: &str = crate::addrmgr::address::tests::ONION;

    #[test]
    fn reachability_table() {
        use Reach::*;
        let cases: &[(&str, &str, Reach)] = &[
            // Unroutable remote.
            ("1.2.3.4", "10.0.0.1", Unreachable),
            // Tor remote.
            (TOR, TOR, Private),
            ("1.2.3.4", TOR, Ipv4),
            ("10.0.0.1", TOR, Default),
            ("2602:100::1", TOR, Default),
            // Teredo remote.
            ("10.0.0.1", "2001::1", Default),
            ("2001::2", "2001::1", Teredo),
            ("1.2.3.4", "2001::1", Ipv4),
            ("2602:100::1", "2001::1", Ipv6Weak),
            (TOR, "2001::1", Ipv6Weak),
            // IPv4 remote.
            ("1.2.3.4", "5.6.7.8", Ipv4),
            (TOR, "5.6.7.8", Ipv4),
            ("10.0.0.1", "5.6.7.8", Unreachable),
            ("2602:100::1", "5.6.7.8", Unreachable),
            // IPv6 remote.
            ("10.0.0.1", "2602:200::1", Default),
            ("2001::1", "2602:200::1", Teredo),
            ("1.2.3.4", "2602:200::1", Ipv4),
            (TOR, "2602:200::1", Ipv6Strong),
            ("2002:102:304::1", "2602:200::1", Ipv6Weak),
            ("64:ff9b::102:304", "2602:200::1", Ipv6Weak),
            ("::ffff:0:102:304", "2602:200::1", Ipv6Weak),
            ("2602:100::1", "2602:200::1", Ipv6Strong),
        ];
        for &(local, remote, want) in cases {
            assert_eq!(
                reachability(&h(local), &h(remote)),
                want,
                "{local} -> {remote}"
            );
        }
    }

    #[test]
    fn external_candidates() {
        // A local (loopback) suggestion is never a candidate; its reach
        // is still reported (an unroutable IPv4 local reaches no IPv4).
        assert_eq!(
            is_external_addr_candidate(&h("127.0.0.1"), &h("5.6.7.8")),
            (false, Reach::Unreachable)
        );
        assert_eq!(
            is_external_addr_candidate(&h("::1"), &h("2602:200::1")),
            (false, Reach::Default)
        );
        assert_eq!(
            is_external_addr_candidate(&h("1.2.3.4"), &h("5.6.7.8")),
            (true, Reach::Ipv4)
        );
        assert_eq!(
            is_external_addr_candidate(&h("1.2.3.4"), &h("2602:200::1")),
            (true, Reach::Ipv4)
        );
        assert_eq!(
            is_external_addr_candidate(&h("2602:100::1"), &h("2602:200::1")),
            (true, Reach::Ipv6Strong)
        );
        assert_eq!(
            is_external_addr_candidate(&h("2602:100::1"), &h("5.6.7.8")),
            (false, Reach::Unreachable)
        );
        // An unroutable IPv6 suggestion to an IPv6 remote: Default, which
        // dcrd counts as good for IPv6.
        assert_eq!(
            is_external_addr_candidate(&h("fd00::1"), &h("2602:200::1")),
            (true, Reach::Default)
        );
        assert_eq!(
            is_external_addr_candidate(&h(TOR), &h(TOR)),
            (false, Reach::Private)
        );
    }

    #[test]
    fn add_local_address_scores() {
        let mut m = LocalAddresses::default();
        assert_eq!(
            m.add_local_address(&na("192.168.0.1", 9108), AddressPriority::Manual),
            Err(AddrManagerError::NotRoutable(AddrKey::of(&na(
                "192.168.0.1",
                9108
            ))))
        );
        let a = na("1.2.3.4", 9108);
        m.add_local_address(&a, AddressPriority::Bound).unwrap();
        assert!(m.has_local_address(&a));
        assert!(!m.has_local_address(&na("1.2.3.4", 9109)));
        assert_eq!(m.local_addresses()[0].score, 1);
        // Same or lower priority: unchanged.
        m.add_local_address(&a, AddressPriority::Interface).unwrap();
        m.add_local_address(&a, AddressPriority::Bound).unwrap();
        assert_eq!(m.local_addresses()[0].score, 1);
        // Higher: the priority plus one.
        m.add_local_address(&a, AddressPriority::Upnp).unwrap();
        assert_eq!(m.local_addresses()[0].score, 3);
        assert_eq!(m.local_addresses().len(), 1);
    }

    #[test]
    fn best_local_address_by_reach_then_score() {
        let mut m = LocalAddresses::default();
        let remote4 = na("5.6.7.8", 9108);
        let remote6 = na("2602:200::1", 9108);
        // Nothing: the unspecified address of the remote's family.
        let none4 = m.best_local_address(&remote4, TypeFilter::ALL, 77);
        assert_eq!(none4.host, h("0.0.0.0"));
        assert_eq!(
            (none4.port, none4.services, none4.timestamp),
            (0, ServiceFlags::NODE_NETWORK, 77)
        );
        assert_eq!(
            m.best_local_address(&remote6, TypeFilter::ALL, 77).host,
            h("::")
        );
        assert_eq!(
            m.best_local_address(&na(TOR, 1), TypeFilter::ALL, 77).host,
            h("::")
        );

        let v4 = na("1.2.3.4", 9108);
        let v6 = na("2602:100::1", 9108);
        let tunnel = na("2002:102:304::1", 9108);
        m.add_local_address(&tunnel, AddressPriority::Manual)
            .unwrap();
        m.add_local_address(&v4, AddressPriority::Interface)
            .unwrap();
        m.add_local_address(&v6, AddressPriority::Interface)
            .unwrap();
        // IPv4 remote: only IPv4 reaches it.
        assert_eq!(m.best_local_address(&remote4, TypeFilter::ALL, 0), v4);
        // IPv6 remote: native IPv6 (strong) beats IPv4 and the tunnel.
        assert_eq!(m.best_local_address(&remote6, TypeFilter::ALL, 0), v6);
        // The filter removes IPv6: IPv4 is next.
        let only4 = TypeFilter {
            ipv4: true,
            ipv6: false,
            torv3: false,
        };
        assert_eq!(m.best_local_address(&remote6, only4, 0), v4);

        // Equal reach: the higher score wins.
        let v4b = na("9.9.9.9", 9108);
        m.add_local_address(&v4b, AddressPriority::Upnp).unwrap();
        assert_eq!(m.best_local_address(&remote4, TypeFilter::ALL, 0), v4b);
    }

    #[test]
    fn default_reach_needs_a_score_above_interface() {
        let mut m = LocalAddresses::default();
        // An IPv6 local reaches a Tor remote only by Default: it needs a
        // score above Interface's 0 to be chosen.
        let tor_remote = na(TOR, 9108);
        let v6 = na("2602:100::1", 9108);
        m.add_local_address(&v6, AddressPriority::Interface)
            .unwrap();
        assert_eq!(
            m.best_local_address(&tor_remote, TypeFilter::ALL, 0).host,
            h("::")
        );
        m.add_local_address(&v6, AddressPriority::Bound).unwrap();
        assert_eq!(m.best_local_address(&tor_remote, TypeFilter::ALL, 0), v6);
    }
}
