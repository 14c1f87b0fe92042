//! `addr` and `addrv2`: lists of known peer addresses. `addr` (original
//! 30-byte entries) exists below protocol version 12; `addrv2` (typed
//! entries that can carry Tor v3 keys) replaces it from 12 on.

#[allow(unused_imports)]
use crate::prelude::*;
use bytes::BufMut;

use super::list::ListView;
use super::netaddr::{
    NetAddress, NetAddressV2, MAX_NET_ADDRESS_PAYLOAD, MAX_NET_ADDRESS_V2_PAYLOAD,
    MIN_NET_ADDRESS_V2_PAYLOAD,
};
use super::{require_pver, Command, Payload};
use crate::error::{Error, ErrorKind};
use crate::primitives::{check_count, list, put_var_int, var_int_size, PResult};
use crate::protocol::pver;

/// Most addresses one `addr` message may carry.
pub const MAX_ADDR_PER_MSG: u64 = 1000;

/// Most addresses one `addrv2` message may carry.
pub const MAX_ADDR_PER_V2_MSG: u64 = 1000;

/// `addr`: peer addresses, each with a 32-bit last-seen time. Valid below
/// protocol version 12 ([`pver::ADDR_V2`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct Addr {
    /// The addresses, at most [`MAX_ADDR_PER_MSG`]. Each is written with
    /// its timestamp (`None` is written as 0).
    #[cfg_attr(feature = "serde", serde(rename = "AddrList"))]
    pub addr_list: Vec<NetAddress>,
}

impl Addr {
    /// Reads the addresses in place, from the front of `input` (no version
    /// gate): at most [`MAX_ADDR_PER_MSG`] (ErrTooManyAddrs), each with its
    /// timestamp. The zero-copy form of the message, which its decoder
    /// collects.
    pub fn parse_view(input: &[u8]) -> PResult<'_, ListView<'_, NetAddress>> {
        ListView::parse(
            input,
            MAX_ADDR_PER_MSG,
            ErrorKind::TooManyAddrs,
            "addresses",
            |i| NetAddress::decode(i, true),
        )
    }
}

impl<'a> Payload<'a> for Addr {
    const COMMAND: Command = Command::Addr;
    type Owned = Addr;

    fn decode(input: &'a [u8], pver: u32) -> PResult<'a, Self> {
        require_pver(Self::COMMAND, pver)?;
        let (i, addr_list) = list(
            input,
            MAX_ADDR_PER_MSG,
            ErrorKind::TooManyAddrs,
            "addresses",
            MAX_NET_ADDRESS_PAYLOAD,
            |i| NetAddress::decode(i, true),
        )?;
        Ok((i, Addr { addr_list }))
    }

    fn encode<B: BufMut>(&self, buf: &mut B, pver: u32) -> Result<(), Error> {
        require_pver(Self::COMMAND, pver)?;
        let n = self.addr_list.len() as u64;
        check_count(n, MAX_ADDR_PER_MSG, ErrorKind::TooManyAddrs, "addresses")?;
        put_var_int(buf, n);
        for a in &self.addr_list {
            a.encode(buf, true);
        }
        Ok(())
    }

    fn serialized_size(&self, _pver: u32) -> usize {
        let n = self.addr_list.len();
        var_int_size(n as u64) + n * NetAddress::serialized_size(true)
    }

    fn max_payload_length(pver: u32) -> u32 {
        if pver >= pver::ADDR_V2 {
            return 0;
        }
        let max =
            var_int_size(MAX_ADDR_PER_MSG) + MAX_ADDR_PER_MSG as usize * MAX_NET_ADDRESS_PAYLOAD;
        max as u32
    }

    fn into_owned(self) -> Self::Owned {
        self
    }
}

/// `addrv2`: one to [`MAX_ADDR_PER_V2_MSG`] typed peer addresses. Valid
/// from protocol version 12 ([`pver::ADDR_V2`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct AddrV2 {
    /// The addresses; an empty list is refused (ErrTooFewAddrs) since the
    /// message exists only to carry addresses.
    #[cfg_attr(feature = "serde", serde(rename = "AddrList"))]
    pub addr_list: Vec<NetAddressV2>,
}

impl AddrV2 {
    /// The count rules: at least one address, at most the maximum.
    fn check_count(n: u64) -> Result<(), Error> {
        if n == 0 {
            return Err(Error::limit(ErrorKind::TooFewAddrs, "addresses", 0, 1));
        }
        check_count(n, MAX_ADDR_PER_V2_MSG, ErrorKind::TooManyAddrs, "addresses")?;
        Ok(())
    }
}

impl AddrV2 {
    /// Reads the addresses in place, from the front of `input` (no version
    /// gate): one to [`MAX_ADDR_PER_V2_MSG`] (ErrTooFewAddrs,
    /// ErrTooManyAddrs). The zero-copy form of the message, with its
    /// decoder's checks and errors.
    pub fn parse_view(input: &[u8]) -> PResult<'_, ListView<'_, NetAddressV2>> {
        // The maximum is checked before reading any entry; the minimum on
        // the (then empty) list, before anything else.
        let (i, list) = ListView::parse(
            input,
            MAX_ADDR_PER_V2_MSG,
            ErrorKind::TooManyAddrs,
            "addresses",
            NetAddressV2::decode,
        )?;
        AddrV2::check_count(list.len() as u64)?;
        Ok((i, list))
    }
}

impl<'a> Payload<'a> for AddrV2 {
    const COMMAND: Command = Command::AddrV2;
    type Owned = AddrV2;

    fn decode(input: &'a [u8], pver: u32) -> PResult<'a, Self> {
        require_pver(Self::COMMAND, pver)?;
        // `list` checks the maximum before reading any entry; the minimum
        // is checked on the (then empty) result, before anything else.
        let (i, addr_list) = list(
            input,
            MAX_ADDR_PER_V2_MSG,
            ErrorKind::TooManyAddrs,
            "addresses",
            MIN_NET_ADDRESS_V2_PAYLOAD,
            NetAddressV2::decode,
        )?;
        AddrV2::check_count(addr_list.len() as u64)?;
        Ok((i, AddrV2 { addr_list }))
    }

    fn encode<B: BufMut>(&self, buf: &mut B, pver: u32) -> Result<(), Error> {
        require_pver(Self::COMMAND, pver)?;
        AddrV2::check_count(self.addr_list.len() as u64)?;
        for a in &self.addr_list {
            a.validate()?;
        }
        put_var_int(buf, self.addr_list.len() as u64);
        for a in &self.addr_list {
            a.encode(buf);
        }
        Ok(())
    }

    fn serialized_size(&self, _pver: u32) -> usize {
        let entries: usize = self
            .addr_list
            .iter()
            .map(NetAddressV2::serialized_size)
            .sum();
        var_int_size(self.addr_list.len() as u64) + entries
    }

    fn max_payload_length(pver: u32) -> u32 {
        if pver < pver::ADDR_V2 {
            return 0;
        }
        let max = var_int_size(MAX_ADDR_PER_V2_MSG)
            + MAX_ADDR_PER_V2_MSG as usize * MAX_NET_ADDRESS_V2_PAYLOAD;
        max as u32
    }

    fn into_owned(self) -> Self::Owned {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::super::netaddr::strategies;
    use super::*;
    use crate::primitives::MAX_INT64_TIME;
    use crate::protocol::ServiceFlags;
    use proptest::prelude::*;

    fn decode<'a, T: Payload<'a>>(b: &'a [u8], pver: u32) -> Result<T, Error> {
        let (rest, m) = T::decode(b, pver)?;
        crate::primitives::expect_end(rest)?;
        Ok(m)
    }

    fn v2_entry() -> NetAddressV2 {
        NetAddressV2::new(
            "10.1.2.3".parse().unwrap(),
            9108,
            ServiceFlags(5),
            1_700_000_000,
        )
    }

    #[test]
    fn addr_only_below_v12() {
        let m = Addr::default();
        let mut b = Vec::new();
        m.encode(&mut b, pver::ADDR_V2 - 1).unwrap();
        assert_eq!(b, [0]);
        for p in [pver::ADDR_V2, pver::ADDR_V2 + 1] {
            let e = m.encode(&mut Vec::new(), p).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::MsgInvalidForPVer);
            assert_eq!(
                decode::<Addr>(&b, p).unwrap_err().kind(),
                ErrorKind::MsgInvalidForPVer
            );
            assert_eq!(Addr::max_payload_length(p), 0);
        }
        assert_eq!(Addr::max_payload_length(pver::INITIAL), 30_003);
    }

    #[test]
    fn addr_count_limit() {
        let mut b = Vec::new();
        put_var_int(&mut b, MAX_ADDR_PER_MSG + 1);
        let e = decode::<Addr>(&b, 1).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::TooManyAddrs);
        let m = Addr {
            addr_list: vec![NetAddress::default(); MAX_ADDR_PER_MSG as usize + 1],
        };
        let mut out = Vec::new();
        assert_eq!(
            m.encode(&mut out, 1).unwrap_err().kind(),
            ErrorKind::TooManyAddrs
        );
        assert!(out.is_empty());
    }

    #[test]
    fn addrv2_only_from_v12() {
        let m = AddrV2 {
            addr_list: vec![v2_entry()],
        };
        let mut b = Vec::new();
        m.encode(&mut b, pver::ADDR_V2).unwrap();
        for p in [pver::INITIAL, pver::ADDR_V2 - 1] {
            let e = m.encode(&mut Vec::new(), p).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::MsgInvalidForPVer);
            assert_eq!(
                decode::<AddrV2>(&b, p).unwrap_err().kind(),
                ErrorKind::MsgInvalidForPVer
            );
            assert_eq!(AddrV2::max_payload_length(p), 0);
        }
        assert_eq!(AddrV2::max_payload_length(pver::ADDR_V2), 51_003);
    }

    #[test]
    fn addrv2_count_limits() {
        let e = decode::<AddrV2>(&[0], pver::ADDR_V2).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::TooFewAddrs);
        let mut b = Vec::new();
        put_var_int(&mut b, MAX_ADDR_PER_V2_MSG + 1);
        let e = decode::<AddrV2>(&b, pver::ADDR_V2).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::TooManyAddrs);

        let mut out = Vec::new();
        let empty = AddrV2::default();
        assert_eq!(
            empty.encode(&mut out, pver::ADDR_V2).unwrap_err().kind(),
            ErrorKind::TooFewAddrs
        );
        let many = AddrV2 {
            addr_list: vec![v2_entry(); MAX_ADDR_PER_V2_MSG as usize + 1],
        };
        assert_eq!(
            many.encode(&mut out, pver::ADDR_V2).unwrap_err().kind(),
            ErrorKind::TooManyAddrs
        );
        assert!(out.is_empty());
    }

    #[test]
    fn addrv2_bad_timestamp_refused_before_writing() {
        let mut late = v2_entry();
        late.timestamp = MAX_INT64_TIME + 1;
        let m = AddrV2 {
            addr_list: vec![v2_entry(), late],
        };
        let mut out = Vec::new();
        let e = m.encode(&mut out, pver::ADDR_V2).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidTimestamp);
        assert!(out.is_empty());
    }

    proptest! {
        #[test]
        fn addr_round_trip(
            list in proptest::collection::vec(strategies::net_address(true), 0..20),
            p in pver::INITIAL..pver::ADDR_V2,
        ) {
            let m = Addr { addr_list: list };
            let mut b = Vec::new();
            m.encode(&mut b, p).unwrap();
            prop_assert_eq!(b.len(), m.serialized_size(p));
            prop_assert_eq!(decode::<Addr>(&b, p).unwrap(), m);
        }

        #[test]
        fn addrv2_round_trip(
            list in proptest::collection::vec(strategies::net_address_v2(), 1..20),
        ) {
            let m = AddrV2 { addr_list: list };
            let mut b = Vec::new();
            m.encode(&mut b, pver::ADDR_V2).unwrap();
            prop_assert_eq!(b.len(), m.serialized_size(pver::ADDR_V2));
            prop_assert_eq!(decode::<AddrV2>(&b, pver::ADDR_V2).unwrap(), m);
        }
    }
}
