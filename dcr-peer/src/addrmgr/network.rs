//! Which addresses are routable, which are local, and the network group
//! an address belongs to.
//!
//! The reference is dcrd's `addrmgr/network.go` (the RFC ranges,
//! `isLocal`, `isValid`, `IsRoutable`, `GroupKey`) and
//! `addrmgr/netaddress.go` (`NetAddress.IsRoutable`). Ranges are matched as
//! Go's `net.IPNet.Contains` matches them: an IPv4 range matches IPv4
//! addresses and their IPv4-mapped IPv6 form, an IPv6 range only IPv6
//! addresses that are not IPv4-mapped.
//!
//! [`GroupKey`] is dcrd's, and the one the address manager and the
//! connection manager (one outbound connection per group) use;
//! `crate::admission::AddressGroup` is the pending pool's own coarser
//! grouping (/16 and /32, no tunnels).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use dcr_wire::NetAddressV2Host;

use super::address::host_ip;

/// The address as IPv4 when it is IPv4 or IPv4-mapped IPv6.
fn v4(ip: IpAddr) -> Option<Ipv4Addr> {
    match ip {
        IpAddr::V4(a) => Some(a),
        IpAddr::V6(a) => a.to_ipv4_mapped(),
    }
}

/// The address as IPv6 when it is IPv6 and not IPv4-mapped.
fn v6(ip: IpAddr) -> Option<Ipv6Addr> {
    match ip {
        IpAddr::V6(a) if a.to_ipv4_mapped().is_none() => Some(a),
        _ => None,
    }
}

/// Whether `ip` is in the IPv4 range `net/bits`.
fn in_v4(ip: IpAddr, net: [u8; 4], bits: u32) -> bool {
    v4(ip).is_some_and(|a| {
        let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
        u32::from(a) & mask == u32::from_be_bytes(net) & mask
    })
}

/// Whether `ip` is in the IPv6 range `net/bits`.
fn in_v6(ip: IpAddr, net: [u16; 8], bits: u32) -> bool {
    v6(ip).is_some_and(|a| {
        let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
        u128::from(a) & mask == u128::from(Ipv6Addr::from(net)) & mask
    })
}

/// RFC 1918 private IPv4 space: 10/8, 172.16/12, 192.168/16.
pub fn is_rfc1918(ip: IpAddr) -> bool {
    in_v4(ip, [10, 0, 0, 0], 8) || in_v4(ip, [172, 16, 0, 0], 12) || in_v4(ip, [192, 168, 0, 0], 16)
}

/// RFC 2544 benchmarking space: 198.18/15.
pub fn is_rfc2544(ip: IpAddr) -> bool {
    in_v4(ip, [198, 18, 0, 0], 15)
}

/// RFC 3849 IPv6 documentation space: 2001:db8::/32.
pub fn is_rfc3849(ip: IpAddr) -> bool {
    in_v6(ip, [0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 32)
}

/// RFC 3927 IPv4 link-local autoconfiguration: 169.254/16.
pub fn is_rfc3927(ip: IpAddr) -> bool {
    in_v4(ip, [169, 254, 0, 0], 16)
}

/// RFC 3964 6to4: 2002::/16.
pub fn is_rfc3964(ip: IpAddr) -> bool {
    in_v6(ip, [0x2002, 0, 0, 0, 0, 0, 0, 0], 16)
}

/// RFC 4193 unique local IPv6: fc00::/7.
pub fn is_rfc4193(ip: IpAddr) -> bool {
    in_v6(ip, [0xfc00, 0, 0, 0, 0, 0, 0, 0], 7)
}

/// RFC 4380 Teredo: 2001::/32.
pub fn is_rfc4380(ip: IpAddr) -> bool {
    in_v6(ip, [0x2001, 0, 0, 0, 0, 0, 0, 0], 32)
}

/// RFC 4843 ORCHID: 2001:10::/28.
pub fn is_rfc4843(ip: IpAddr) -> bool {
    in_v6(ip, [0x2001, 0x10, 0, 0, 0, 0, 0, 0], 28)
}

/// RFC 4862 IPv6 link-local autoconfiguration: fe80::/64 (as dcrd has it;
/// the link-local block is /10, dcrd's test shows `fe80:1::1` routable).
pub fn is_rfc4862(ip: IpAddr) -> bool {
    in_v6(ip, [0xfe80, 0, 0, 0, 0, 0, 0, 0], 64)
}

/// RFC 5737 IPv4 documentation space: 192.0.2/24, 198.51.100/24,
/// 203.0.113/24.
pub fn is_rfc5737(ip: IpAddr) -> bool {
    in_v4(ip, [192, 0, 2, 0], 24)
        || in_v4(ip, [198, 51, 100, 0], 24)
        || in_v4(ip, [203, 0, 113, 0], 24)
}

/// RFC 6052 well-known NAT64 prefix: 64:ff9b::/96.
pub fn is_rfc6052(ip: IpAddr) -> bool {
    in_v6(ip, [0x64, 0xff9b, 0, 0, 0, 0, 0, 0], 96)
}

/// RFC 6145 IPv4-translated IPv6: ::ffff:0:0:0/96.
pub fn is_rfc6145(ip: IpAddr) -> bool {
    in_v6(ip, [0, 0, 0, 0, 0xffff, 0, 0, 0], 96)
}

/// RFC 6598 shared address space: 100.64/10.
pub fn is_rfc6598(ip: IpAddr) -> bool {
    in_v4(ip, [100, 64, 0, 0], 10)
}

/// RFC 7343 ORCHIDv2: 2001:20::/28.
pub fn is_rfc7343(ip: IpAddr) -> bool {
    in_v6(ip, [0x2001, 0x20, 0, 0, 0, 0, 0, 0], 28)
}

/// Hurricane Electric's IPv6 block, 2001:470::/32, grouped by /36.
fn is_he_net(ip: IpAddr) -> bool {
    in_v6(ip, [0x2001, 0x470, 0, 0, 0, 0, 0, 0], 32)
}

/// dcrd's `isLocal`: loopback (127/8, ::1) or 0/8.
pub fn is_local(ip: IpAddr) -> bool {
    match v4(ip) {
        Some(a) => a.octets()[0] == 127 || a.octets()[0] == 0,
        None => ip == IpAddr::V6(Ipv6Addr::LOCALHOST),
    }
}

/// dcrd's `isValid`: not unspecified (0.0.0.0, ::) and not the IPv4
/// broadcast address.
pub fn is_valid(ip: IpAddr) -> bool {
    match v4(ip) {
        Some(a) => !(a.is_unspecified() || a.is_broadcast()),
        None => !ip.is_unspecified(),
    }
}

/// dcrd's `IsRoutable`: valid and in none of the reserved ranges (RFC
/// 1918, 2544, 3927, 4862, 3849, 4843, 5737, 6598, 7343, 4193, local).
/// Tunnelled and translated IPv6 (6to4, Teredo, NAT64) is routable.
pub fn is_routable(ip: IpAddr) -> bool {
    is_valid(ip)
        && !(is_rfc1918(ip)
            || is_rfc2544(ip)
            || is_rfc3927(ip)
            || is_rfc4862(ip)
            || is_rfc3849(ip)
            || is_rfc4843(ip)
            || is_rfc5737(ip)
            || is_rfc6598(ip)
            || is_rfc7343(ip)
            || is_local(ip)
            || is_rfc4193(ip))
}

/// dcrd's `NetAddress.IsRoutable`: a Tor v3 address is always routable.
pub fn host_is_routable(host: &NetAddressV2Host) -> bool {
    host_ip(host).is_none_or(is_routable)
}

/// Whether a host is local ([`is_local`]); never for an onion service.
pub(crate) fn host_is_local(host: &NetAddressV2Host) -> bool {
    host_ip(host).is_some_and(is_local)
}

/// The network group of an address (dcrd's `NetAddress.GroupKey`): the
/// buckets an address may land in, and the one-outbound-per-group rule,
/// are keyed by it. `Display` gives dcrd's string, which is what the
/// bucket hashes cover.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GroupKey {
    /// Loopback or 0/8: `local`.
    Local,
    /// Not routable: `unroutable`.
    Unroutable,
    /// The /16 of an IPv4 address, or of the IPv4 address inside 6to4,
    /// Teredo (bits inverted), NAT64 or IPv4-translated IPv6.
    Ipv4([u8; 2]),
    /// The /32 of an IPv6 address (the /36 in Hurricane Electric's
    /// 2001:470::/32), masked.
    Ipv6(Ipv6Addr),
    /// A Tor v3 address: the low four bits of the key's first byte.
    TorV3(u8),
}

impl GroupKey {
    /// The group of `host`.
    pub fn of(host: &NetAddressV2Host) -> GroupKey {
        let ip = match *host {
            NetAddressV2Host::TorV3(pk) => return GroupKey::TorV3(pk[0] & 0xf),
            NetAddressV2Host::Ipv4(a) => IpAddr::V4(a),
            NetAddressV2Host::Ipv6(a) => IpAddr::V6(a),
        };
        if is_local(ip) {
            return GroupKey::Local;
        }
        if !is_routable(ip) {
            return GroupKey::Unroutable;
        }
        if let Some(a) = v4(ip) {
            let [a, b, ..] = a.octets();
            return GroupKey::Ipv4([a, b]);
        }
        let o = match ip {
            IpAddr::V6(a) => a.octets(),
            IpAddr::V4(_) => unreachable!("IPv4 handled above"),
        };
        if is_rfc6145(ip) || is_rfc6052(ip) {
            return GroupKey::Ipv4([o[12], o[13]]);
        }
        if is_rfc3964(ip) {
            return GroupKey::Ipv4([o[2], o[3]]);
        }
        if is_rfc4380(ip) {
            return GroupKey::Ipv4([o[12] ^ 0xff, o[13] ^ 0xff]);
        }
        let bits = if is_he_net(ip) { 36 } else { 32 };
        let mask = u128::MAX << (128 - bits);
        GroupKey::Ipv6(Ipv6Addr::from(u128::from_be_bytes(o) & mask))
    }
}

impl fmt::Display for GroupKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GroupKey::Local => f.write_str("local"),
            GroupKey::Unroutable => f.write_str("unroutable"),
            GroupKey::Ipv4([a, b]) => write!(f, "{a}.{b}.0.0"),
            GroupKey::Ipv6(a) => write!(f, "{a}"),
            GroupKey::TorV3(n) => write!(f, "torv3:{n}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addrmgr::address::parse_host;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    /// Each range function at its edges, and what `IsRoutable` says: the
    /// same classification dcrd's `TestIPTypes` checks, on our own table.
    #[test]
    fn ranges_and_routability() {
        type F = fn(IpAddr) -> bool;
        let ranges: [(&str, F, &[&str], &[&str]); 14] = [
            (
                "1918",
                is_rfc1918,
                &[
                    "10.0.0.0",
                    "10.255.255.255",
                    "172.16.0.1",
                    "172.31.255.255",
                    "192.168.3.4",
                    "::ffff:10.1.1.1",
                ],
                &[
                    "9.255.255.255",
                    "11.0.0.0",
                    "172.15.255.255",
                    "172.32.0.0",
                    "192.169.0.0",
                ],
            ),
            (
                "2544",
                is_rfc2544,
                &["198.18.0.0", "198.19.255.255"],
                &["198.17.255.255", "198.20.0.0"],
            ),
            (
                "3849",
                is_rfc3849,
                &["2001:db8::", "2001:db8:ffff::1"],
                &["2001:db9::", "2001:db7::"],
            ),
            (
                "3927",
                is_rfc3927,
                &["169.254.0.0", "169.254.255.255"],
                &["169.253.255.255", "169.255.0.0"],
            ),
            (
                "3964",
                is_rfc3964,
                &["2002::", "2002:ffff::1"],
                &["2003::", "2001:ffff::"],
            ),
            (
                "4193",
                is_rfc4193,
                &["fc00::", "fdff:ffff::1"],
                &["fe00::", "fbff::"],
            ),
            (
                "4380",
                is_rfc4380,
                &["2001::", "2001:0:ffff::1"],
                &["2001:1::", "2000:ffff::"],
            ),
            (
                "4843",
                is_rfc4843,
                &["2001:10::", "2001:1f:ffff::"],
                &["2001:20::", "2001:f::"],
            ),
            (
                "4862",
                is_rfc4862,
                &["fe80::", "fe80::ffff:ffff:ffff:ffff"],
                &["fe80:0:0:1::", "fe80:1::1"],
            ),
            (
                "5737",
                is_rfc5737,
                &["192.0.2.0", "198.51.100.255", "203.0.113.7"],
                &["192.0.3.0", "198.51.101.0", "203.0.114.0"],
            ),
            (
                "6052",
                is_rfc6052,
                &["64:ff9b::", "64:ff9b::ffff:ffff"],
                &["64:ff9b:0:0:0:1::", "64:ff9a::"],
            ),
            (
                "6145",
                is_rfc6145,
                &["::ffff:0:0:0", "::ffff:0:ffff:ffff"],
                &["::ffff:1:0:0", "::ffff:1.2.3.4", "::fffe:0:0:0"],
            ),
            (
                "6598",
                is_rfc6598,
                &["100.64.0.0", "100.127.255.255"],
                &["100.63.255.255", "100.128.0.0"],
            ),
            (
                "7343",
                is_rfc7343,
                &["2001:20::", "2001:2f:ffff::"],
                &["2001:30::", "2001:1f::"],
            ),
        ];
        for (name, f, inside, outside) in ranges {
            for a in inside {
                assert!(f(ip(a)), "RFC {name} should hold {a}");
            }
            for a in outside {
                assert!(!f(ip(a)), "RFC {name} should not hold {a}");
            }
        }
        // An IPv4 range never matches an IPv6 address and the reverse.
        assert!(!is_rfc1918(ip("a00::1")));
        assert!(!is_rfc4193(ip("252.0.0.1")));

        for a in [
            "127.0.0.1",
            "127.255.0.1",
            "0.0.0.0",
            "0.1.2.3",
            "::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(is_local(ip(a)), "{a} local");
        }
        for a in ["128.0.0.1", "1.0.0.0", "::2", "::"] {
            assert!(!is_local(ip(a)), "{a} not local");
        }
        for a in [
            "0.0.0.0",
            "255.255.255.255",
            "::",
            "::ffff:0.0.0.0",
            "::ffff:255.255.255.255",
        ] {
            assert!(!is_valid(ip(a)), "{a} invalid");
        }
        for a in ["255.255.255.254", "::1", "1.2.3.4"] {
            assert!(is_valid(ip(a)), "{a} valid");
        }

        let routable = [
            "1.2.3.4",
            "172.32.1.1",
            "2001::1",
            "2002::1",
            "64:ff9b::1",
            "::ffff:0:1.2.3.4",
            "::ffff:abcd:ef12:1",
            "fe80:1::1",
            "2602:100::1",
            "ff02::1",
            "::1.2.3.4",
            "::2",
        ];
        for a in routable {
            assert!(is_routable(ip(a)), "{a} routable");
        }
        let unroutable = [
            "10.1.2.3",
            "192.168.0.1",
            "172.31.255.1",
            "169.254.250.120",
            "0.0.0.0",
            "255.255.255.255",
            "127.0.0.1",
            "fd00:dead::1",
            "2001:10:abcd::1:1",
            "2001:20:abcd::1:1",
            "fe80::1",
            "::1",
            "198.18.0.1",
            "100.127.255.1",
            "203.0.113.1",
            "2001:db8::1",
            "0.1.2.3",
            "::",
        ];
        for a in unroutable {
            assert!(!is_routable(ip(a)), "{a} unroutable");
        }
        assert!(host_is_routable(&NetAddressV2Host::TorV3([0; 32])));
    }

    /// Group keys and their text, including the tunnelled IPv4 forms and
    /// Hurricane Electric's /36.
    #[test]
    fn group_keys() {
        let cases = [
            ("127.0.0.1", "local"),
            ("::1", "local"),
            ("0.0.0.0", "local"),
            ("0.1.2.3", "local"),
            ("255.255.255.255", "unroutable"),
            ("10.1.2.3", "unroutable"),
            ("172.16.1.2", "unroutable"),
            ("2001:db8::1234", "unroutable"),
            ("fe80::1234", "unroutable"),
            ("fc00::1234", "unroutable"),
            ("12.1.2.3", "12.1.0.0"),
            ("::ffff:12.1.2.3", "12.1.0.0"),
            ("2002:0c01:0203::", "12.1.0.0"),
            ("2001:0:1234::f3fe:fdfc", "12.1.0.0"),
            ("64:ff9b::0c01:0203", "12.1.0.0"),
            ("::ffff:0:0c01:0203", "12.1.0.0"),
            ("2602:100::1", "2602:100::"),
            ("2602:0100:ffff::1234", "2602:100::"),
            ("2001:470:1f10:a1::2", "2001:470:1000::"),
            ("2001:471:1f10:a1::2", "2001:471::"),
            ("::1.2.3.4", "::"),
        ];
        for (host, want) in cases {
            let h = parse_host(host).unwrap();
            assert_eq!(GroupKey::of(&h).to_string(), want, "{host}");
        }
        let tor = parse_host(crate::addrmgr::address::tests::ONION).unwrap();
        assert_eq!(GroupKey::of(&tor), GroupKey::TorV3(8));
        assert_eq!(GroupKey::of(&tor).to_string(), "torv3:8");
    }
}
