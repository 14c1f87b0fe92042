//! Addresses as the address manager keeps them: the canonical host, the
//! key that names an address in the book, the Tor v3 onion name, the
//! type filters, and the conversions from the wire forms.
//!
//! The reference is dcrd's `addrmgr/netaddress.go` (`NewNetAddressFromParams`,
//! `NewNetAddressFromIPPort`, `Key`, `ipString`, `newNetAddressFromString`),
//! `addrmgr/addrmanager.go` (`EncodeHost`) and `addrmgr/network.go`
//! (`calcTorV3Checksum`, `isTorV3`). The address itself is dcr-wire's
//! [`NetAddressV2`]: the same five fields as dcrd's `addrmgr.NetAddress`.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use dcr_wire::{NetAddress, NetAddressType, NetAddressV2, NetAddressV2Host, ServiceFlags};
use sha3::{Digest, Sha3_256};

/// The version byte at the end of a Tor v3 onion name (dcrd's
/// `torV3VersionByte`).
const TOR_V3_VERSION: u8 = 3;

/// Why an address cannot enter the book.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AddressError {
    /// An `addrv2` entry whose type is IPv6 but whose bytes are an
    /// IPv4-mapped address: dcrd's `ErrMismatchedAddressType` from
    /// `NewNetAddressFromParams` (its server bans the sender).
    #[error("address type IPv6 does not match its IPv4-mapped bytes")]
    MismatchedType,
    /// A host string that is neither an IP address nor a valid Tor v3
    /// onion name (dcrd's `ErrUnknownAddressType` from `EncodeHost`).
    #[error("unknown address type")]
    UnknownType,
}

/// The host in its canonical form: an IPv4-mapped IPv6 address becomes
/// IPv4, as dcrd's `canonicalizeIP`/`deriveNetAddressType` classify it;
/// everything else is unchanged.
pub fn canonical_host(host: NetAddressV2Host) -> NetAddressV2Host {
    match host {
        NetAddressV2Host::Ipv6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => NetAddressV2Host::Ipv4(v4),
            None => host,
        },
        other => other,
    }
}

/// `addr` with its host in canonical form ([`canonical_host`]).
pub fn canonical(addr: &NetAddressV2) -> NetAddressV2 {
    NetAddressV2 {
        host: canonical_host(addr.host),
        ..*addr
    }
}

/// An `addrv2` entry as the address manager takes it, or
/// [`AddressError::MismatchedType`] for an IPv6 entry carrying an
/// IPv4-mapped address (dcrd's server converts entries with
/// `NewNetAddressFromParams`, which refuses that, and bans the peer).
pub fn from_addr_v2(addr: &NetAddressV2) -> Result<NetAddressV2, AddressError> {
    if let NetAddressV2Host::Ipv6(v6) = addr.host {
        if v6.to_ipv4_mapped().is_some() {
            return Err(AddressError::MismatchedType);
        }
    }
    Ok(*addr)
}

/// An `addr` (protocol < 12) entry as the address manager takes it: the
/// IPv4-mapped form becomes IPv4 (dcrd's `wireToAddrmgrNetAddress` through
/// `NewNetAddressFromIPPort`). A missing timestamp is 0.
pub fn from_addr_v1(addr: &NetAddress) -> NetAddressV2 {
    NetAddressV2 {
        timestamp: addr.timestamp.map_or(0, u64::from),
        services: addr.services,
        host: NetAddressV2Host::from_ip(addr.ip_addr()),
        port: addr.port,
    }
}

/// An address for `ip:port` with `services` and a last-seen time
/// (`NewNetAddressFromIPPort` with the time given rather than read).
pub fn from_ip_port(ip: IpAddr, port: u16, services: ServiceFlags, timestamp: u64) -> NetAddressV2 {
    NetAddressV2::new(ip, port, services, timestamp)
}

/// The identity of an address in the book: host and port (dcrd keys its
/// index by the string [`AddrKey`]'s `Display` gives, `NetAddress.Key`).
/// The host is canonical, so `::ffff:1.2.3.4` and `1.2.3.4` are one entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AddrKey {
    /// The canonical host.
    pub host: NetAddressV2Host,
    /// The port.
    pub port: u16,
}

impl AddrKey {
    /// The key of `addr`.
    pub fn of(addr: &NetAddressV2) -> AddrKey {
        AddrKey {
            host: canonical_host(addr.host),
            port: addr.port,
        }
    }

    /// Parses the text form ([`AddrKey`]'s `Display`, dcrd's key as written
    /// in peers.json): `host:port`, IPv6 in brackets, a Tor v3 onion name
    /// checked as `EncodeHost` checks it. `None` for anything else.
    pub fn parse(s: &str) -> Option<AddrKey> {
        let (host, port) = split_host_port(s)?;
        // strconv.ParseUint(port, 10, 16): decimal digits only.
        if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let port: u16 = port.parse().ok()?;
        let host = parse_host(host)?;
        Some(AddrKey { host, port })
    }
}

impl fmt::Display for AddrKey {
    /// dcrd's `NetAddress.Key`: `net.JoinHostPort(ipString, port)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.host {
            NetAddressV2Host::Ipv4(v4) => write!(f, "{v4}:{}", self.port),
            NetAddressV2Host::Ipv6(v6) => write!(f, "[{v6}]:{}", self.port),
            NetAddressV2Host::TorV3(pk) => write!(f, "{}:{}", onion_name(&pk), self.port),
        }
    }
}

/// Go's `net.SplitHostPort` for the forms a key takes: `[v6]:port` or
/// `host:port` where the host has no colon.
fn split_host_port(s: &str) -> Option<(&str, &str)> {
    if let Some(rest) = s.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = after.strip_prefix(':')?;
        if host.contains('[') || host.contains(']') || port.contains(':') {
            return None;
        }
        return Some((host, port));
    }
    let (host, port) = s.rsplit_once(':')?;
    if host.contains(':') || host.contains('[') || host.contains(']') {
        return None;
    }
    Some((host, port))
}

/// dcrd's `EncodeHost`: a valid Tor v3 onion name (62 bytes ending in
/// `.onion`, case-insensitive base32, checksum and version checked), or
/// an IP address (IPv4-mapped IPv6 becomes IPv4). `None` otherwise.
pub fn parse_host(host: &str) -> Option<NetAddressV2Host> {
    if let Some(pk) = parse_onion(host) {
        return Some(NetAddressV2Host::TorV3(pk));
    }
    let ip: IpAddr = host.parse().ok()?;
    Some(NetAddressV2Host::from_ip(ip))
}

/// The public key of a Tor v3 onion name, checked as dcrd's `EncodeHost`
/// and `isTorV3` check it.
pub fn parse_onion(host: &str) -> Option<[u8; 32]> {
    let bytes = host.as_bytes();
    if bytes.len() != 62 || !host.ends_with(".onion") {
        return None;
    }
    let upper: Vec<u8> = bytes[..56].iter().map(u8::to_ascii_uppercase).collect();
    let decoded = data_encoding::BASE32.decode(&upper).ok()?;
    let decoded: [u8; 35] = decoded.try_into().ok()?;
    if decoded[34] != TOR_V3_VERSION {
        return None;
    }
    let mut pk = [0u8; 32];
    pk.copy_from_slice(&decoded[..32]);
    if tor_checksum(&pk) != decoded[32..34] {
        return None;
    }
    Some(pk)
}

/// The onion name of a Tor v3 public key: lower-case base32 of the key,
/// its two checksum bytes and the version byte, then `.onion` (dcrd's
/// `ipString` for `TorV3Address`).
pub fn onion_name(pk: &[u8; 32]) -> String {
    let mut raw = [0u8; 35];
    raw[..32].copy_from_slice(pk);
    raw[32..34].copy_from_slice(&tor_checksum(pk));
    raw[34] = TOR_V3_VERSION;
    let mut name = data_encoding::BASE32.encode(&raw).to_ascii_lowercase();
    name.push_str(".onion");
    name
}

/// dcrd's `calcTorV3Checksum`: the first two bytes of
/// SHA3-256(".onion checksum" ‖ key ‖ version).
fn tor_checksum(pk: &[u8; 32]) -> [u8; 2] {
    let mut h = Sha3_256::new();
    h.update(b".onion checksum");
    h.update(pk);
    h.update([TOR_V3_VERSION]);
    let d = h.finalize();
    [d[0], d[1]]
}

/// The address types a caller wants (dcrd's `NetAddressTypeFilter`, here a
/// value rather than a function).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TypeFilter {
    /// IPv4 addresses pass.
    pub ipv4: bool,
    /// IPv6 addresses pass.
    pub ipv6: bool,
    /// Tor v3 addresses pass.
    pub torv3: bool,
}

impl TypeFilter {
    /// Every type.
    pub const ALL: TypeFilter = TypeFilter {
        ipv4: true,
        ipv6: true,
        torv3: true,
    };
    /// IPv4 and IPv6: what an `addr` message can carry.
    pub const IP: TypeFilter = TypeFilter {
        ipv4: true,
        ipv6: true,
        torv3: false,
    };

    /// The types a peer at protocol version `pver` can be sent (dcrd
    /// server's `natfSupported`): IPv4 and IPv6 below `addrv2`'s version
    /// 12, every type from it on.
    pub fn for_protocol(pver: u32) -> TypeFilter {
        if pver < dcr_wire::pver::ADDR_V2 {
            TypeFilter::IP
        } else {
            TypeFilter::ALL
        }
    }

    /// Whether an address of type `ty` passes.
    pub fn matches(&self, ty: NetAddressType) -> bool {
        match ty {
            NetAddressType::IPv4 => self.ipv4,
            NetAddressType::IPv6 => self.ipv6,
            NetAddressType::TorV3 => self.torv3,
        }
    }

    /// Whether no type passes.
    pub fn is_empty(&self) -> bool {
        !(self.ipv4 || self.ipv6 || self.torv3)
    }
}

/// The IP of a host, `None` for an onion service.
pub(crate) fn host_ip(host: &NetAddressV2Host) -> Option<IpAddr> {
    match *host {
        NetAddressV2Host::Ipv4(a) => Some(IpAddr::V4(a)),
        NetAddressV2Host::Ipv6(a) => Some(IpAddr::V6(a)),
        NetAddressV2Host::TorV3(_) => None,
    }
}

/// The unroutable address dcrd's `GetBestLocalAddress` answers when it has
/// nothing better: `0.0.0.0:0` for an IPv4 remote, `[::]:0` otherwise,
/// with `SFNodeNetwork`.
pub(crate) fn unspecified_for(remote: &NetAddressV2Host, now: u64) -> NetAddressV2 {
    let ip = match remote {
        NetAddressV2Host::Ipv4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        _ => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    };
    NetAddressV2::new(ip, 0, ServiceFlags::NODE_NETWORK, now)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The onion name dcrd's tests use, and its group (first key nibble 8).
    pub(crate) const ONION: &str = "xa4r2iadxm55fbnqgwwi5mymqdcofiu3w6rpbtqn7b2dyn7mgwj64jyd.onion";

    #[test]
    fn onion_name_round_trip_and_checks() {
        let pk = parse_onion(ONION).expect("valid onion name");
        assert_eq!(onion_name(&pk), ONION);
        assert_eq!(pk[0] & 0xf, 8);
        // Upper case is accepted (EncodeHost upper-cases before decoding).
        assert_eq!(
            parse_onion(&ONION.to_ascii_uppercase().replace(".ONION", ".onion")),
            Some(pk)
        );
        // One changed character breaks the checksum.
        let mut bad = ONION.to_string();
        bad.replace_range(0..1, "y");
        assert_eq!(parse_onion(&bad), None);
        // Wrong length, wrong suffix, non-ASCII of the right byte length.
        assert_eq!(parse_onion(&ONION[1..]), None);
        assert_eq!(parse_onion(&ONION.replace(".onion", ".oniox")), None);
        let multibyte = format!("é{}", &ONION[2..]);
        assert_eq!(multibyte.len(), 62);
        assert_eq!(parse_onion(&multibyte), None);
    }

    #[test]
    fn key_text_is_dcrds_join_host_port() {
        let v4 = AddrKey::of(&from_ip_port(
            "1.2.3.4".parse().unwrap(),
            9108,
            ServiceFlags::NONE,
            0,
        ));
        assert_eq!(v4.to_string(), "1.2.3.4:9108");
        let v6 = AddrKey::of(&from_ip_port(
            "2001:db8:0:0:1:0:0:1".parse().unwrap(),
            9108,
            ServiceFlags::NONE,
            0,
        ));
        assert_eq!(v6.to_string(), "[2001:db8::1:0:0:1]:9108");
        let tor = AddrKey {
            host: NetAddressV2Host::TorV3(parse_onion(ONION).unwrap()),
            port: 9108,
        };
        assert_eq!(tor.to_string(), format!("{ONION}:9108"));
        for k in [v4, v6, tor] {
            assert_eq!(AddrKey::parse(&k.to_string()), Some(k));
        }
    }

    #[test]
    fn key_parse_refuses_what_go_refuses() {
        for s in [
            "1.2.3.4",
            "1.2.3.4:",
            "1.2.3.4:+1",
            "1.2.3.4:65536",
            "2001:db8::1:9108",
            "[2001:db8::1]9108",
            "[1.2.3.4:9108",
            "example.com:9108",
            "01.2.3.4:9108",
            "",
        ] {
            assert_eq!(AddrKey::parse(s), None, "{s}");
        }
        // An IPv4-mapped IPv6 key is the IPv4 address (EncodeHost).
        let k = AddrKey::parse("[::ffff:1.2.3.4]:1").unwrap();
        assert_eq!(k.host, NetAddressV2Host::Ipv4(Ipv4Addr::new(1, 2, 3, 4)));
        assert_eq!(AddrKey::parse("1.2.3.4:0009").map(|k| k.port), Some(9));
    }

    #[test]
    fn mapped_ipv6_entry_is_a_type_mismatch() {
        let mapped = NetAddressV2 {
            timestamp: 1,
            services: ServiceFlags::NODE_NETWORK,
            host: NetAddressV2Host::Ipv6("::ffff:1.2.3.4".parse().unwrap()),
            port: 9108,
        };
        assert_eq!(from_addr_v2(&mapped), Err(AddressError::MismatchedType));
        assert_eq!(
            canonical(&mapped).host,
            NetAddressV2Host::Ipv4(Ipv4Addr::new(1, 2, 3, 4))
        );
        let v6 = NetAddressV2 {
            host: NetAddressV2Host::Ipv6("2001:db8::1".parse().unwrap()),
            ..mapped
        };
        assert_eq!(from_addr_v2(&v6), Ok(v6));
    }

    #[test]
    fn addr_v1_entries_become_canonical() {
        let a = NetAddress::new("1.2.3.4".parse().unwrap(), 9108, ServiceFlags::NODE_NETWORK)
            .with_timestamp(77);
        let b = from_addr_v1(&a);
        assert_eq!(b.host, NetAddressV2Host::Ipv4(Ipv4Addr::new(1, 2, 3, 4)));
        assert_eq!(
            (b.timestamp, b.port, b.services),
            (77, 9108, ServiceFlags::NODE_NETWORK)
        );
    }

    #[test]
    fn filter_by_protocol() {
        assert_eq!(TypeFilter::for_protocol(11), TypeFilter::IP);
        assert_eq!(TypeFilter::for_protocol(12), TypeFilter::ALL);
        assert!(!TypeFilter::IP.matches(NetAddressType::TorV3));
        assert!(TypeFilter::ALL.matches(NetAddressType::TorV3));
        assert!(TypeFilter {
            ipv4: false,
            ipv6: false,
            torv3: false
        }
        .is_empty());
    }
}
