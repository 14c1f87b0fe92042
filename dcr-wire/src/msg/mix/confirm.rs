//! `mixconfirm`: a peer's signatures on the mixed transaction, carried as
//! the whole transaction.

#[allow(unused_imports)]
use crate::prelude::*;
use bytes::BufMut;

use super::{
    check_seen, hashes_size, mix_payload, put_hashes, seen_hashes, seen_view, SessionHeader,
    SESSION_HEADER_SIZE,
};
use crate::error::Error;
use crate::hash::Hash;
use crate::msg::list::ListView;
use crate::msg::Payload;
use crate::primitives::PResult;
use crate::{RawTx, Tx};

/// `mixconfirm`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct MixConfirm<'a> {
    /// Signature, identity, session and run.
    #[cfg_attr(feature = "serde", serde(flatten))]
    pub header: SessionHeader<'a>,
    /// The mixed transaction with this peer's signatures (scripts borrowed).
    #[cfg_attr(feature = "serde", serde(rename = "Mix"))]
    pub mix: Tx<'a>,
    /// Hashes of the DC-net messages this follows.
    #[cfg_attr(feature = "serde", serde(rename = "SeenDCNets"))]
    pub seen_dc_nets: Vec<Hash>,
}

#[cfg(feature = "serde")]
super::session_message_serde!(MixConfirm {
    mix: crate::Tx<'static> = "Mix";
    seen_dc_nets: Vec<crate::Hash> = "SeenDCNets";
});

/// `mixconfirm` read in place: the zero-copy form of [`MixConfirm`], with its checks
/// and errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MixConfirmView<'a> {
    /// Signature, identity, session and run.
    pub header: SessionHeader<'a>,
    /// The mixed transaction with this peer's signatures, checked.
    pub mix: RawTx<'a>,
    /// Hashes of the DC-net messages this follows.
    pub seen_dc_nets: ListView<'a, Hash>,
}

impl<'a> MixConfirmView<'a> {
    /// Reads the fields from the front of `i` (no version gate).
    pub fn parse(i: &'a [u8]) -> PResult<'a, Self> {
        let (i, header) = SessionHeader::parse(i)?;
        let (i, mix) = RawTx::parse(i)?;
        let (i, seen_dc_nets) = seen_view(i)?;
        Ok((
            i,
            MixConfirmView {
                header,
                mix,
                seen_dc_nets,
            },
        ))
    }
}

impl<'a> From<MixConfirmView<'a>> for MixConfirm<'a> {
    fn from(v: MixConfirmView<'a>) -> Self {
        MixConfirm {
            header: v.header,
            mix: v.mix.to_tx(),
            seen_dc_nets: v.seen_dc_nets.to_vec(),
        }
    }
}

impl<'a> MixConfirm<'a> {
    fn parse(i: &'a [u8]) -> PResult<'a, Self> {
        let (i, header) = SessionHeader::parse(i)?;
        let (i, mix) = Tx::parse(i)?;
        let (i, seen_dc_nets) = seen_hashes(i)?;
        Ok((
            i,
            MixConfirm {
                header,
                mix,
                seen_dc_nets,
            },
        ))
    }

    fn check(&self) -> Result<(), Error> {
        check_seen(&self.seen_dc_nets)
    }

    fn write<B: BufMut + ?Sized>(&self, buf: &mut B) {
        self.header.write(buf);
        self.mix.write_as(buf, self.mix.ser_type);
        put_hashes(buf, &self.seen_dc_nets);
    }

    fn size(&self) -> usize {
        SESSION_HEADER_SIZE + self.mix.size_as(self.mix.ser_type) + hashes_size(&self.seen_dc_nets)
    }

    fn into_owned(self) -> MixConfirm<'static> {
        MixConfirm {
            header: self.header.into_owned(),
            mix: Payload::into_owned(self.mix),
            seen_dc_nets: self.seen_dc_nets,
        }
    }
}

mix_payload!(MixConfirm, MixConfirm, 1_016_520);
