//! `mixfactpoly`: the roots of the slot-reservation polynomial a peer
//! factored, which fix every peer's slot in the DC-net.

#[allow(unused_imports)]
use crate::prelude::*;
use alloc::borrow::Cow;

use bytes::BufMut;

use super::{
    check_seen, hashes_size, invalid, mix_payload, put_hashes, seen_hashes, seen_view,
    SessionHeader, MAX_MIX_FIELD_VAL_LEN, MAX_MIX_MCOUNT, SESSION_HEADER_SIZE,
};
use crate::error::{Error, ErrorKind};
use crate::hash::Hash;
use crate::msg::list::ListView;
use crate::primitives::{
    list, put_var_bytes, put_var_int, var_bytes, var_bytes_size, var_int_size, PResult,
};

/// `mixfactpoly`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct MixFactoredPoly<'a> {
    /// Signature, identity, session and run.
    #[cfg_attr(feature = "serde", serde(flatten))]
    pub header: SessionHeader<'a>,
    /// Field elements, at most 32 bytes each, borrowed when decoded.
    #[cfg_attr(
        feature = "serde",
        serde(rename = "Roots", with = "crate::serde_impls::hex::list")
    )]
    pub roots: Vec<Cow<'a, [u8]>>,
    /// Hashes of the slot reservations this answers.
    #[cfg_attr(feature = "serde", serde(rename = "SeenSlotReserves"))]
    pub seen_slot_reserves: Vec<Hash>,
}

#[cfg(feature = "serde")]
super::session_message_serde!(MixFactoredPoly {
    roots: Vec<Cow<'static, [u8]>> = "Roots", with "crate::serde_impls::hex::list";
    seen_slot_reserves: Vec<crate::Hash> = "SeenSlotReserves";
});

/// `mixfactpoly` read in place: the zero-copy form of [`MixFactoredPoly`],
/// with its checks and errors. At most [`MAX_MIX_MCOUNT`] roots (ErrInvalidMsg),
/// each of at most [`MAX_MIX_FIELD_VAL_LEN`] bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MixFactoredPolyView<'a> {
    /// Signature, identity, session and run.
    pub header: SessionHeader<'a>,
    /// The field elements.
    pub roots: ListView<'a, &'a [u8]>,
    /// Hashes of the slot reservations this answers.
    pub seen_slot_reserves: ListView<'a, Hash>,
}

impl<'a> MixFactoredPolyView<'a> {
    /// Reads the fields from the front of `i` (no version gate).
    pub fn parse(i: &'a [u8]) -> PResult<'a, Self> {
        let (i, header) = SessionHeader::parse(i)?;
        let (i, roots) = ListView::parse(
            i,
            MAX_MIX_MCOUNT,
            ErrorKind::InvalidMsg,
            "polynomial roots",
            |i| var_bytes(i, MAX_MIX_FIELD_VAL_LEN, "polynomial root"),
        )?;
        let (i, seen_slot_reserves) = seen_view(i)?;
        Ok((
            i,
            MixFactoredPolyView {
                header,
                roots,
                seen_slot_reserves,
            },
        ))
    }
}

impl<'a> From<MixFactoredPolyView<'a>> for MixFactoredPoly<'a> {
    fn from(v: MixFactoredPolyView<'a>) -> Self {
        MixFactoredPoly {
            header: v.header,
            roots: v.roots.iter().map(Cow::Borrowed).collect(),
            seen_slot_reserves: v.seen_slot_reserves.to_vec(),
        }
    }
}

impl<'a> MixFactoredPoly<'a> {
    fn parse(i: &'a [u8]) -> PResult<'a, Self> {
        let (i, header) = SessionHeader::parse(i)?;
        let (i, roots) = list(
            i,
            MAX_MIX_MCOUNT,
            ErrorKind::InvalidMsg,
            "polynomial roots",
            1,
            |i| {
                let (i, r) = var_bytes(i, MAX_MIX_FIELD_VAL_LEN, "polynomial root")?;
                Ok((i, Cow::Borrowed(r)))
            },
        )?;
        let (i, seen_slot_reserves) = seen_hashes(i)?;
        Ok((
            i,
            MixFactoredPoly {
                header,
                roots,
                seen_slot_reserves,
            },
        ))
    }

    fn check(&self) -> Result<(), Error> {
        if self.roots.len() as u64 > MAX_MIX_MCOUNT {
            return Err(invalid("too many polynomial roots"));
        }
        if self
            .roots
            .iter()
            .any(|r| r.len() as u64 > MAX_MIX_FIELD_VAL_LEN)
        {
            return Err(invalid("root longer than a field element"));
        }
        check_seen(&self.seen_slot_reserves)
    }

    fn write<B: BufMut + ?Sized>(&self, buf: &mut B) {
        self.header.write(buf);
        put_var_int(buf, self.roots.len() as u64);
        for r in &self.roots {
            put_var_bytes(buf, r);
        }
        put_hashes(buf, &self.seen_slot_reserves);
    }

    fn size(&self) -> usize {
        SESSION_HEADER_SIZE
            + var_int_size(self.roots.len() as u64)
            + self.roots.iter().map(|r| var_bytes_size(r)).sum::<usize>()
            + hashes_size(&self.seen_slot_reserves)
    }

    fn into_owned(self) -> MixFactoredPoly<'static> {
        MixFactoredPoly {
            header: self.header.into_owned(),
            roots: self
                .roots
                .into_iter()
                .map(|r| Cow::Owned(r.into_owned()))
                .collect(),
            seen_slot_reserves: self.seen_slot_reserves,
        }
    }
}

mix_payload!(MixFactoredPoly, MixFactoredPoly, 49_291);
