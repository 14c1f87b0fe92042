//! `mixdcnet`: a peer's DC-net broadcast, one vector of mixed messages per
//! slot, each message 20 bytes.

#[allow(unused_imports)]
use crate::prelude::*;
use bytes::BufMut;

use super::{
    check_seen, hashes_size, mix_payload, put_hashes, seen_hashes, seen_view, MixVects,
    SessionHeader, SESSION_HEADER_SIZE,
};
use crate::error::Error;
use crate::hash::Hash;
use crate::msg::list::ListView;
use crate::primitives::PResult;

/// `mixdcnet`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct MixDCNet<'a> {
    /// Signature, identity, session and run.
    #[cfg_attr(feature = "serde", serde(flatten))]
    pub header: SessionHeader<'a>,
    /// The DC-net vectors, borrowed when decoded.
    #[cfg_attr(feature = "serde", serde(rename = "DCNet"))]
    pub dc_net: MixVects<'a>,
    /// Hashes of the slot reservations this follows.
    #[cfg_attr(feature = "serde", serde(rename = "SeenSlotReserves"))]
    pub seen_slot_reserves: Vec<Hash>,
}

#[cfg(feature = "serde")]
super::session_message_serde!(MixDCNet {
    dc_net: crate::MixVects<'static> = "DCNet";
    seen_slot_reserves: Vec<crate::Hash> = "SeenSlotReserves";
});

/// `mixdcnet` read in place: the zero-copy form of [`MixDCNet`], with its checks
/// and errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MixDCNetView<'a> {
    /// Signature, identity, session and run.
    pub header: SessionHeader<'a>,
    /// The DC-net vectors.
    pub dc_net: MixVects<'a>,
    /// Hashes of the slot reservations this follows.
    pub seen_slot_reserves: ListView<'a, Hash>,
}

impl<'a> MixDCNetView<'a> {
    /// Reads the fields from the front of `i` (no version gate).
    pub fn parse(i: &'a [u8]) -> PResult<'a, Self> {
        let (i, header) = SessionHeader::parse(i)?;
        let (i, dc_net) = MixVects::parse(i)?;
        let (i, seen_slot_reserves) = seen_view(i)?;
        Ok((
            i,
            MixDCNetView {
                header,
                dc_net,
                seen_slot_reserves,
            },
        ))
    }
}

impl<'a> From<MixDCNetView<'a>> for MixDCNet<'a> {
    fn from(v: MixDCNetView<'a>) -> Self {
        MixDCNet {
            header: v.header,
            dc_net: v.dc_net,
            seen_slot_reserves: v.seen_slot_reserves.to_vec(),
        }
    }
}

impl<'a> MixDCNet<'a> {
    fn parse(i: &'a [u8]) -> PResult<'a, Self> {
        let (i, header) = SessionHeader::parse(i)?;
        let (i, dc_net) = MixVects::parse(i)?;
        let (i, seen_slot_reserves) = seen_hashes(i)?;
        Ok((
            i,
            MixDCNet {
                header,
                dc_net,
                seen_slot_reserves,
            },
        ))
    }

    fn check(&self) -> Result<(), Error> {
        self.dc_net.check()?;
        check_seen(&self.seen_slot_reserves)
    }

    fn write<B: BufMut + ?Sized>(&self, buf: &mut B) {
        self.header.write(buf);
        self.dc_net.write(buf);
        put_hashes(buf, &self.seen_slot_reserves);
    }

    fn size(&self) -> usize {
        SESSION_HEADER_SIZE + self.dc_net.size() + hashes_size(&self.seen_slot_reserves)
    }

    fn into_owned(self) -> MixDCNet<'static> {
        MixDCNet {
            header: self.header.into_owned(),
            dc_net: self.dc_net.into_owned(),
            seen_slot_reserves: self.seen_slot_reserves,
        }
    }
}

mix_payload!(MixDCNet, MixDCNet, 20_988_047);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use crate::msg::Payload;

    /// Found by the `message` fuzz target: a DC-net with no vectors decodes
    /// (the reference reads a zero count as "none") but the reference's
    /// encoder refuses it, and so does ours; nothing is written.
    #[test]
    fn fuzz_regression_empty_dcnet_decodes_but_does_not_encode() {
        let input = "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000e0000000000000000000000000000000000000008ff0000000000000000030314015e993ac80f136217f9132b76d6fe16da0e9a4878e8027d800f36c75a6bf87e075efc19c9ffffffffffffffffffffffffe5b6880b0000";
        let payload = hex::decode(input).unwrap();
        let (rest, m) = MixDCNet::decode(&payload, 12).unwrap();
        assert!(rest.is_empty());
        assert_eq!(m.dc_net.rows(), 0);
        let mut out = Vec::new();
        assert_eq!(
            m.encode(&mut out, 12).unwrap_err().kind(),
            ErrorKind::InvalidMsg
        );
        assert!(out.is_empty());
    }
}
