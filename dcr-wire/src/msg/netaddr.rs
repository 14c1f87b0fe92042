//! Network addresses of peers: the original 26/30-byte form used by
//! `version` and `addr`, and the typed form of `addrv2` (IPv4, IPv6 or Tor
//! v3 with a size fixed by the type).

#[allow(unused_imports)]
use crate::prelude::*;
use core::fmt;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use bytes::BufMut;

use crate::error::{Error, ErrorKind};
use crate::primitives::{
    array, time_u64, u16_be, u16_le, u32_le, u64_le, u8, PResult, MAX_INT64_TIME,
};
use crate::protocol::ServiceFlags;

/// The current time in whole Unix seconds (0 for a clock before 1970).
#[cfg(feature = "std")]
fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Largest serialized [`NetAddress`]: timestamp 4, services 8, IP 16, port 2.
pub const MAX_NET_ADDRESS_PAYLOAD: usize = 30;

/// Largest serialized [`NetAddressV2`]: timestamp 8, services 8, type 1,
/// Tor v3 key 32, port 2.
pub const MAX_NET_ADDRESS_V2_PAYLOAD: usize = 51;

/// Smallest serialized [`NetAddressV2`] (an IPv4 entry); used to bound
/// pre-allocation when decoding lists of them.
pub const MIN_NET_ADDRESS_V2_PAYLOAD: usize = 8 + 8 + 1 + 4 + 2;

/// A peer address in the original encoding: optional 32-bit last-seen time,
/// services, a 16-byte IP (IPv4 as IPv4-mapped IPv6) and a big-endian port.
///
/// Whether the timestamp is on the wire depends on the message, not on the
/// value: `addr` entries carry it, the two addresses inside `version` do
/// not. Decoding without it gives `timestamp: None`; encoding with it writes
/// `None` as 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct NetAddress {
    /// When the address was last seen, Unix seconds in 32 bits (so it runs
    /// out in 2106). `None` where the message does not carry it.
    #[cfg_attr(
        feature = "serde",
        serde(rename = "Timestamp", with = "crate::serde_impls::time::option")
    )]
    pub timestamp: Option<u32>,
    /// Services the peer at this address offers.
    #[cfg_attr(feature = "serde", serde(rename = "Services"))]
    pub services: ServiceFlags,
    /// The IP address, 16 bytes on the wire; IPv4 travels IPv4-mapped
    /// (`::ffff:a.b.c.d`).
    #[cfg_attr(feature = "serde", serde(rename = "IP", with = "ip_text"))]
    pub ip: Ipv6Addr,
    /// TCP port. Unlike every other integer of the protocol it is
    /// big-endian on the wire.
    #[cfg_attr(
        feature = "serde",
        serde(rename = "Port", deserialize_with = "crate::serde_impls::int")
    )]
    pub port: u16,
}

impl Default for NetAddress {
    fn default() -> Self {
        NetAddress {
            timestamp: None,
            services: ServiceFlags::NONE,
            ip: Ipv6Addr::UNSPECIFIED,
            port: 0,
        }
    }
}

impl NetAddress {
    /// An address for `ip:port` with no timestamp (as `version` needs);
    /// IPv4 is stored IPv4-mapped.
    pub fn new(ip: IpAddr, port: u16, services: ServiceFlags) -> NetAddress {
        let ip = match ip {
            IpAddr::V4(v4) => v4.to_ipv6_mapped(),
            IpAddr::V6(v6) => v6,
        };
        NetAddress {
            timestamp: None,
            services,
            ip,
            port,
        }
    }

    /// An address for `ip:port` last seen now: the timestamp is the
    /// current time in whole seconds (the reference's
    /// `NewNetAddressIPPort`). A clock before 1970 gives 0; one past 2106,
    /// which 32 bits cannot hold, gives `u32::MAX`.
    #[cfg(feature = "std")]
    pub fn now(ip: IpAddr, port: u16, services: ServiceFlags) -> NetAddress {
        let secs = u32::try_from(unix_now()).unwrap_or(u32::MAX);
        NetAddress::new(ip, port, services).with_timestamp(secs)
    }

    /// An address for a socket address with no timestamp.
    pub fn from_socket_addr(addr: SocketAddr, services: ServiceFlags) -> NetAddress {
        NetAddress::new(addr.ip(), addr.port(), services)
    }

    /// The same address with a last-seen time (as `addr` entries carry).
    pub fn with_timestamp(self, timestamp: u32) -> NetAddress {
        NetAddress {
            timestamp: Some(timestamp),
            ..self
        }
    }

    /// The IP as the reference shows it: IPv4-mapped addresses as IPv4.
    pub fn ip_addr(&self) -> IpAddr {
        match self.ip.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(self.ip),
        }
    }

    /// The address as a socket address (IPv4-mapped shown as IPv4).
    pub fn socket_addr(&self) -> SocketAddr {
        SocketAddr::new(self.ip_addr(), self.port)
    }

    /// True when every flag of `service` is advertised.
    pub fn has_service(&self, service: ServiceFlags) -> bool {
        self.services.contains(service)
    }

    /// Serialized size with or without the timestamp.
    pub const fn serialized_size(with_timestamp: bool) -> usize {
        if with_timestamp {
            MAX_NET_ADDRESS_PAYLOAD
        } else {
            MAX_NET_ADDRESS_PAYLOAD - 4
        }
    }

    /// Parses an address; the 4-byte timestamp is read first when
    /// `with_timestamp` is set.
    pub fn decode(input: &[u8], with_timestamp: bool) -> PResult<'_, NetAddress> {
        Self::decode_fields(input, with_timestamp).map_err(|e| e.while_reading("a network address"))
    }

    #[inline(always)]
    fn decode_fields(input: &[u8], with_timestamp: bool) -> PResult<'_, NetAddress> {
        let (i, timestamp) = if with_timestamp {
            let (i, t) = u32_le(input)?;
            (i, Some(t))
        } else {
            (input, None)
        };
        let (i, services) = u64_le(i)?;
        let (i, ip) = array::<16>(i)?;
        let (i, port) = u16_be(i)?;
        let addr = NetAddress {
            timestamp,
            services: ServiceFlags(services),
            ip: Ipv6Addr::from(ip),
            port,
        };
        Ok((i, addr))
    }

    /// Writes the address, with the timestamp when `with_timestamp` is set.
    pub fn encode<B: BufMut + ?Sized>(&self, buf: &mut B, with_timestamp: bool) {
        if with_timestamp {
            buf.put_u32_le(self.timestamp.unwrap_or(0));
        }
        buf.put_u64_le(self.services.0);
        buf.put_slice(&self.ip.octets());
        buf.put_u16(self.port);
    }
}

impl fmt::Display for NetAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.socket_addr().fmt(f)
    }
}

/// The type byte of an `addrv2` entry, which fixes the address size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum NetAddressType {
    /// 4-byte IPv4 address.
    IPv4 = 1,
    /// 16-byte IPv6 address.
    IPv6 = 2,
    /// 32-byte Tor v3 onion service public key.
    TorV3 = 3,
}

impl NetAddressType {
    /// The type for a wire byte; 0 and anything above 3 are unknown.
    pub fn from_u8(b: u8) -> Option<NetAddressType> {
        match b {
            1 => Some(NetAddressType::IPv4),
            2 => Some(NetAddressType::IPv6),
            3 => Some(NetAddressType::TorV3),
            _ => None,
        }
    }

    /// Size of the address bytes that follow the type byte.
    pub const fn address_size(self) -> usize {
        match self {
            NetAddressType::IPv4 => 4,
            NetAddressType::IPv6 => 16,
            NetAddressType::TorV3 => 32,
        }
    }
}

/// The host part of an `addrv2` entry. Each variant holds exactly the bytes
/// its type puts on the wire, so a wrongly sized address cannot be built.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NetAddressV2Host {
    /// An IPv4 address (4 bytes).
    Ipv4(Ipv4Addr),
    /// An IPv6 address (16 bytes).
    Ipv6(Ipv6Addr),
    /// A Tor v3 onion service's ed25519 public key (32 bytes).
    TorV3([u8; 32]),
}

impl NetAddressV2Host {
    /// The type byte for this host.
    pub fn address_type(&self) -> NetAddressType {
        match self {
            NetAddressV2Host::Ipv4(_) => NetAddressType::IPv4,
            NetAddressV2Host::Ipv6(_) => NetAddressType::IPv6,
            NetAddressV2Host::TorV3(_) => NetAddressType::TorV3,
        }
    }

    /// The host for an IP: IPv4 and IPv4-mapped IPv6 become `Ipv4`, as the
    /// reference classifies them.
    pub fn from_ip(ip: IpAddr) -> NetAddressV2Host {
        match ip {
            IpAddr::V4(v4) => NetAddressV2Host::Ipv4(v4),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => NetAddressV2Host::Ipv4(v4),
                None => NetAddressV2Host::Ipv6(v6),
            },
        }
    }

    /// Parses the address bytes of type `ty`.
    fn decode(input: &[u8], ty: NetAddressType) -> PResult<'_, NetAddressV2Host> {
        match ty {
            NetAddressType::IPv4 => {
                let (i, a) = array::<4>(input)?;
                Ok((i, NetAddressV2Host::Ipv4(Ipv4Addr::from(a))))
            }
            NetAddressType::IPv6 => {
                let (i, a) = array::<16>(input)?;
                Ok((i, NetAddressV2Host::Ipv6(Ipv6Addr::from(a))))
            }
            NetAddressType::TorV3 => {
                let (i, a) = array::<32>(input)?;
                Ok((i, NetAddressV2Host::TorV3(a)))
            }
        }
    }

    /// Writes the address bytes (without the type byte).
    fn encode<B: BufMut + ?Sized>(&self, buf: &mut B) {
        match self {
            NetAddressV2Host::Ipv4(a) => buf.put_slice(&a.octets()),
            NetAddressV2Host::Ipv6(a) => buf.put_slice(&a.octets()),
            NetAddressV2Host::TorV3(a) => buf.put_slice(a),
        }
    }

    /// The address bytes as they travel (the reference's `EncodedAddr`).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.address_type().address_size());
        self.encode(&mut out);
        out
    }
}

/// A peer address as `addrv2` carries it: a 64-bit last-seen time,
/// services, a typed host and a port.
///
/// With the `serde` feature it travels in the reference's layout:
/// `Timestamp`, `Services`, `Type` (1 IPv4, 2 IPv6, 3 Tor v3), the host's
/// bytes as hex in `EncodedAddr`, and `Port`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(into = "NetAddressV2Fields", try_from = "NetAddressV2Fields")
)]
pub struct NetAddressV2 {
    /// When the address was last seen, Unix seconds. Values the reference
    /// cannot represent as a time (above [`MAX_INT64_TIME`]) are refused
    /// with ErrInvalidTimestamp both ways.
    pub timestamp: u64,
    /// Services the peer at this address offers.
    pub services: ServiceFlags,
    /// The host: IPv4, IPv6 or Tor v3.
    pub host: NetAddressV2Host,
    /// The port. Unlike the original address form it is little-endian
    /// here.
    pub port: u16,
}

impl NetAddressV2 {
    /// An entry for `ip:port` last seen at `timestamp`.
    pub fn new(ip: IpAddr, port: u16, services: ServiceFlags, timestamp: u64) -> NetAddressV2 {
        NetAddressV2 {
            timestamp,
            services,
            host: NetAddressV2Host::from_ip(ip),
            port,
        }
    }

    /// An entry for `ip:port` (IPv4 or IPv6 by the address) last seen now,
    /// in whole seconds (the reference's `NewNetAddressV2IPPort`).
    #[cfg(feature = "std")]
    pub fn now(ip: IpAddr, port: u16, services: ServiceFlags) -> NetAddressV2 {
        NetAddressV2::new(ip, port, services, unix_now())
    }

    /// The IP address, `None` for an onion service.
    pub fn ip_addr(&self) -> Option<IpAddr> {
        match self.host {
            NetAddressV2Host::Ipv4(a) => Some(IpAddr::V4(a)),
            NetAddressV2Host::Ipv6(a) => Some(IpAddr::V6(a)),
            NetAddressV2Host::TorV3(_) => None,
        }
    }

    /// The same address in the original (`addr`) form, for peers below
    /// protocol version 12: `None` for an onion service; the 64-bit time is
    /// clamped to the old form's 32 bits.
    pub fn to_net_address(&self) -> Option<NetAddress> {
        let ip = self.ip_addr()?;
        let ts = u32::try_from(self.timestamp).unwrap_or(u32::MAX);
        Some(NetAddress::new(ip, self.port, self.services).with_timestamp(ts))
    }

    /// Serialized size: 19 bytes plus the address size of the host's type.
    pub fn serialized_size(&self) -> usize {
        8 + 8 + 1 + self.host.address_type().address_size() + 2
    }

    /// Parses an entry. An unknown type byte is ErrUnknownNetAddrType (the
    /// size of what follows is then unknown, so nothing more can be read).
    pub fn decode(input: &[u8]) -> PResult<'_, NetAddressV2> {
        Self::decode_fields(input).map_err(|e| e.while_reading("a network address"))
    }

    #[inline(always)]
    fn decode_fields(input: &[u8]) -> PResult<'_, NetAddressV2> {
        let (i, timestamp) = time_u64(input)?;
        let (i, services) = u64_le(i)?;
        let (i, ty) = u8(i)?;
        let Some(ty) = NetAddressType::from_u8(ty) else {
            return Err(Error::invalid(
                ErrorKind::UnknownNetAddrType,
                "unknown network address type",
            ));
        };
        let (i, host) = NetAddressV2Host::decode(i, ty)?;
        let (i, port) = u16_le(i)?;
        let addr = NetAddressV2 {
            timestamp,
            services: ServiceFlags(services),
            host,
            port,
        };
        Ok((i, addr))
    }

    /// The check encoding makes: the timestamp must be one the reference
    /// can represent.
    pub fn validate(&self) -> Result<(), Error> {
        if self.timestamp > MAX_INT64_TIME {
            return Err(Error::invalid(
                ErrorKind::InvalidTimestamp,
                "timestamp exceeds maximum allowed value",
            ));
        }
        Ok(())
    }

    /// Writes the entry. Call [`NetAddressV2::validate`] first: an
    /// unrepresentable timestamp is written as is.
    pub fn encode<B: BufMut + ?Sized>(&self, buf: &mut B) {
        buf.put_u64_le(self.timestamp);
        buf.put_u64_le(self.services.0);
        buf.put_u8(self.host.address_type() as u8);
        self.host.encode(buf);
        buf.put_u16_le(self.port);
    }
}

/// An IP as text (`IP` of [`NetAddress`]): IPv4-mapped addresses as
/// dotted IPv4, as the reference prints them; IPv4 read back mapped.
#[cfg(feature = "serde")]
mod ip_text {
    use core::net::{IpAddr, Ipv6Addr};

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::NetAddress;

    pub(super) fn serialize<S: Serializer>(ip: &Ipv6Addr, s: S) -> Result<S::Ok, S::Error> {
        NetAddress::new(IpAddr::V6(*ip), 0, Default::default())
            .ip_addr()
            .serialize(s)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Ipv6Addr, D::Error> {
        Ok(match IpAddr::deserialize(d)? {
            IpAddr::V4(v4) => v4.to_ipv6_mapped(),
            IpAddr::V6(v6) => v6,
        })
    }
}

/// [`NetAddressV2`] as the reference lays it out: the host as its type
/// number and its bytes.
#[cfg(feature = "serde")]
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct NetAddressV2Fields {
    #[serde(rename = "Timestamp", with = "crate::serde_impls::time")]
    timestamp: u64,
    #[serde(rename = "Services")]
    services: ServiceFlags,
    #[serde(rename = "Type", deserialize_with = "crate::serde_impls::int")]
    address_type: u8,
    #[serde(rename = "EncodedAddr", with = "crate::serde_impls::hex::bytes")]
    encoded_addr: alloc::borrow::Cow<'static, [u8]>,
    #[serde(rename = "Port", deserialize_with = "crate::serde_impls::int")]
    port: u16,
}

#[cfg(feature = "serde")]
impl From<NetAddressV2> for NetAddressV2Fields {
    fn from(a: NetAddressV2) -> Self {
        NetAddressV2Fields {
            timestamp: a.timestamp,
            services: a.services,
            address_type: a.host.address_type() as u8,
            encoded_addr: a.host.to_bytes().into(),
            port: a.port,
        }
    }
}

#[cfg(feature = "serde")]
impl TryFrom<NetAddressV2Fields> for NetAddressV2 {
    type Error = String;

    /// The type must be known and the address exactly its size.
    fn try_from(f: NetAddressV2Fields) -> Result<Self, String> {
        let ty = NetAddressType::from_u8(f.address_type).ok_or_else(|| {
            format!(
                "unknown address Type {} (1 IPv4, 2 IPv6, 3 Tor v3)",
                f.address_type
            )
        })?;
        let bytes = &f.encoded_addr[..];
        let host = match NetAddressV2Host::decode(bytes, ty) {
            Ok(([], host)) => host,
            _ => {
                return Err(format!(
                    "EncodedAddr has {} bytes; Type {} takes {}",
                    bytes.len(),
                    f.address_type,
                    ty.address_size()
                ))
            }
        };
        Ok(NetAddressV2 {
            timestamp: f.timestamp,
            services: f.services,
            host,
            port: f.port,
        })
    }
}

/// Strategies shared by the tests of the messages that carry addresses.
#[cfg(test)]
pub(crate) mod strategies {
    use super::*;
    use proptest::prelude::*;

    /// Any original-form address; the timestamp is present when `with_ts`.
    pub fn net_address(with_ts: bool) -> impl Strategy<Value = NetAddress> {
        (any::<u32>(), any::<u64>(), any::<[u8; 16]>(), any::<u16>()).prop_map(
            move |(t, s, ip, port)| NetAddress {
                timestamp: with_ts.then_some(t),
                services: ServiceFlags(s),
                ip: Ipv6Addr::from(ip),
                port,
            },
        )
    }

    /// Any `addrv2` entry with a representable timestamp.
    pub fn net_address_v2() -> impl Strategy<Value = NetAddressV2> {
        let host = prop_oneof![
            any::<[u8; 4]>().prop_map(|a| NetAddressV2Host::Ipv4(a.into())),
            any::<[u8; 16]>().prop_map(|a| NetAddressV2Host::Ipv6(a.into())),
            any::<[u8; 32]>().prop_map(NetAddressV2Host::TorV3),
        ];
        (0..=MAX_INT64_TIME, any::<u64>(), host, any::<u16>()).prop_map(
            |(timestamp, s, host, port)| NetAddressV2 {
                timestamp,
                services: ServiceFlags(s),
                host,
                port,
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn now_stamps_the_current_second() {
        let before = unix_now();
        let v4: IpAddr = Ipv4Addr::new(10, 0, 0, 1).into();
        let a = NetAddress::now(v4, 9108, ServiceFlags::NODE_NETWORK);
        let b = NetAddressV2::now(v4, 9108, ServiceFlags::NODE_NETWORK);
        let after = unix_now();
        let t = u64::from(a.timestamp.expect("stamped"));
        assert!((before..=after).contains(&t));
        assert!((before..=after).contains(&b.timestamp));
        assert_eq!(a.socket_addr(), "10.0.0.1:9108".parse().unwrap());
        assert_eq!(b.host, NetAddressV2Host::Ipv4(Ipv4Addr::new(10, 0, 0, 1)));
        assert_eq!(b.services, ServiceFlags::NODE_NETWORK);
    }

    #[test]
    fn port_is_big_endian_and_ipv4_is_mapped() {
        let a = NetAddress::new("1.2.3.4".parse().unwrap(), 0x2fed, ServiceFlags(1));
        let mut b = Vec::new();
        a.encode(&mut b, false);
        assert_eq!(b.len(), NetAddress::serialized_size(false));
        assert_eq!(
            &b[8..24],
            &Ipv4Addr::new(1, 2, 3, 4).to_ipv6_mapped().octets()
        );
        assert_eq!(&b[24..], &[0x2f, 0xed]);
        assert_eq!(a.ip_addr().to_string(), "1.2.3.4");
        assert_eq!(a.to_string(), "1.2.3.4:12269");
    }

    #[test]
    fn timestamp_only_read_when_asked() {
        let bytes = [1u8; 30];
        let (rest, a) = NetAddress::decode(&bytes, true).unwrap();
        assert!(rest.is_empty());
        assert_eq!(a.timestamp, Some(0x0101_0101));
        let (rest, a) = NetAddress::decode(&bytes, false).unwrap();
        assert_eq!(rest.len(), 4);
        assert_eq!(a.timestamp, None);
        let e = NetAddress::decode(&bytes[..29], true).unwrap_err();
        assert_eq!(e, Error::eof(1).while_reading("a network address"));
    }

    #[test]
    fn v2_unknown_type_refused() {
        for ty in [0u8, 4, 0xff] {
            let mut b = vec![0u8; 16];
            b.push(ty);
            b.extend_from_slice(&[0u8; 34]);
            let e = NetAddressV2::decode(&b).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::UnknownNetAddrType);
        }
    }

    #[test]
    fn v2_timestamp_limit_both_ways() {
        let mut a = NetAddressV2::new("::1".parse().unwrap(), 1, ServiceFlags(0), MAX_INT64_TIME);
        assert_eq!(a.validate(), Ok(()));
        a.timestamp += 1;
        assert_eq!(
            a.validate().unwrap_err().kind(),
            ErrorKind::InvalidTimestamp
        );
        let mut b = Vec::new();
        a.encode(&mut b);
        let e = NetAddressV2::decode(&b).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidTimestamp);
    }

    #[test]
    fn v2_host_classification() {
        let mapped: IpAddr = "::ffff:10.0.0.1".parse().unwrap();
        assert_eq!(
            NetAddressV2Host::from_ip(mapped),
            NetAddressV2Host::Ipv4(Ipv4Addr::new(10, 0, 0, 1))
        );
        let v6: IpAddr = "2001:db8::1".parse().unwrap();
        assert_eq!(
            NetAddressV2Host::from_ip(v6).address_type(),
            NetAddressType::IPv6
        );
    }

    proptest! {
        #[test]
        fn net_address_round_trip(a in strategies::net_address(true), with_ts in any::<bool>()) {
            let a = if with_ts { a } else { NetAddress { timestamp: None, ..a } };
            let mut b = Vec::new();
            a.encode(&mut b, with_ts);
            prop_assert_eq!(b.len(), NetAddress::serialized_size(with_ts));
            let (rest, d) = NetAddress::decode(&b, with_ts).unwrap();
            prop_assert!(rest.is_empty());
            prop_assert_eq!(d, a);
        }

        #[test]
        fn net_address_v2_round_trip(a in strategies::net_address_v2()) {
            let mut b = Vec::new();
            a.encode(&mut b);
            prop_assert_eq!(b.len(), a.serialized_size());
            let (rest, d) = NetAddressV2::decode(&b).unwrap();
            prop_assert!(rest.is_empty());
            prop_assert_eq!(d, a);
        }
    }
}
