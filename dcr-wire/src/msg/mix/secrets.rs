//! `mixsecrets`: a peer's revealed secrets (its PRNG seed and the messages
//! it mixed), sent when a run fails so the others can assign blame.

#[allow(unused_imports)]
use crate::prelude::*;
use alloc::borrow::Cow;

use bytes::BufMut;

use super::{
    check_seen, fixed, hashes_size, invalid, mix_payload, own, put_hashes, seen_hashes, seen_view,
    Fixed, MixVect, SessionHeader, MAX_MIX_FIELD_VAL_LEN, MAX_MIX_MCOUNT, SESSION_HEADER_SIZE,
};
use crate::error::{Error, ErrorKind};
use crate::hash::Hash;
use crate::msg::list::ListView;
use crate::primitives::{
    check_count, list, put_var_bytes, put_var_int, var_bytes, var_bytes_size, var_int_size, PResult,
};

/// `mixsecrets`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct MixSecrets<'a> {
    /// Signature, identity, session and run.
    #[cfg_attr(feature = "serde", serde(flatten))]
    pub header: SessionHeader<'a>,
    /// The seed of the peer's pseudo-random generator for the run.
    #[cfg_attr(
        feature = "serde",
        serde(rename = "Seed", with = "crate::serde_impls::hex::fixed")
    )]
    pub seed: Fixed<'a, 32>,
    /// The field elements the peer reserved slots with (at most 1024, each
    /// at most 32 bytes).
    #[cfg_attr(
        feature = "serde",
        serde(rename = "SlotReserveMsgs", with = "crate::serde_impls::hex::list")
    )]
    pub slot_reserve_msgs: Vec<Cow<'a, [u8]>>,
    /// The messages the peer put in the DC-net.
    #[cfg_attr(feature = "serde", serde(rename = "DCNetMsgs"))]
    pub dc_net_msgs: MixVect<'a>,
    /// Hashes of the secrets messages this follows.
    #[cfg_attr(feature = "serde", serde(rename = "SeenSecrets"))]
    pub seen_secrets: Vec<Hash>,
}

#[cfg(feature = "serde")]
super::session_message_serde!(MixSecrets {
    seed: Fixed<'static, 32> = "Seed", with "crate::serde_impls::hex::fixed";
    slot_reserve_msgs: Vec<Cow<'static, [u8]>> = "SlotReserveMsgs", with "crate::serde_impls::hex::list";
    dc_net_msgs: crate::MixVect<'static> = "DCNetMsgs";
    seen_secrets: Vec<crate::Hash> = "SeenSecrets";
});

/// `mixsecrets` read in place: the zero-copy form of [`MixSecrets`], with its checks
/// and errors. At most [`MAX_MIX_MCOUNT`] slot reservation messages
/// (ErrInvalidMsg), each of at most [`MAX_MIX_FIELD_VAL_LEN`] bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MixSecretsView<'a> {
    /// Signature, identity, session and run.
    pub header: SessionHeader<'a>,
    /// The seed of the peer's pseudo-random generator for the run.
    pub seed: Fixed<'a, 32>,
    /// The field elements the peer reserved slots with.
    pub slot_reserve_msgs: ListView<'a, &'a [u8]>,
    /// The messages the peer put in the DC-net.
    pub dc_net_msgs: MixVect<'a>,
    /// Hashes of the secrets messages this follows.
    pub seen_secrets: ListView<'a, Hash>,
}

impl<'a> MixSecretsView<'a> {
    /// Reads the fields from the front of `i` (no version gate).
    pub fn parse(i: &'a [u8]) -> PResult<'a, Self> {
        let (i, header) = SessionHeader::parse(i)?;
        let (i, seed) = fixed::<32>(i)?;
        let (i, slot_reserve_msgs) = ListView::parse(
            i,
            MAX_MIX_MCOUNT,
            ErrorKind::InvalidMsg,
            "slot reservation messages",
            |i| var_bytes(i, MAX_MIX_FIELD_VAL_LEN, "slot reservation mixed message"),
        )?;
        let (i, dc_net_msgs) = MixVect::parse(i)?;
        let (i, seen_secrets) = seen_view(i)?;
        Ok((
            i,
            MixSecretsView {
                header,
                seed,
                slot_reserve_msgs,
                dc_net_msgs,
                seen_secrets,
            },
        ))
    }
}

impl<'a> From<MixSecretsView<'a>> for MixSecrets<'a> {
    fn from(v: MixSecretsView<'a>) -> Self {
        MixSecrets {
            header: v.header,
            seed: v.seed,
            slot_reserve_msgs: v.slot_reserve_msgs.iter().map(Cow::Borrowed).collect(),
            dc_net_msgs: v.dc_net_msgs,
            seen_secrets: v.seen_secrets.to_vec(),
        }
    }
}

impl<'a> MixSecrets<'a> {
    fn parse(i: &'a [u8]) -> PResult<'a, Self> {
        let (i, header) = SessionHeader::parse(i)?;
        let (i, seed) = fixed::<32>(i)?;
        let (i, slot_reserve_msgs) = list(
            i,
            MAX_MIX_MCOUNT,
            ErrorKind::InvalidMsg,
            "slot reservation messages",
            1,
            |i| {
                let (i, v) = var_bytes(i, MAX_MIX_FIELD_VAL_LEN, "slot reservation mixed message")?;
                Ok((i, Cow::Borrowed(v)))
            },
        )?;
        let (i, dc_net_msgs) = MixVect::parse(i)?;
        let (i, seen_secrets) = seen_hashes(i)?;
        Ok((
            i,
            MixSecrets {
                header,
                seed,
                slot_reserve_msgs,
                dc_net_msgs,
                seen_secrets,
            },
        ))
    }

    /// Refuses what could not be decoded back (the reference writes such
    /// lists without checking them).
    fn check(&self) -> Result<(), Error> {
        check_seen(&self.seen_secrets)?;
        if self.slot_reserve_msgs.len() as u64 > MAX_MIX_MCOUNT {
            return Err(invalid("too many slot reservation messages"));
        }
        for v in &self.slot_reserve_msgs {
            check_count(
                v.len() as u64,
                MAX_MIX_FIELD_VAL_LEN,
                ErrorKind::VarBytesTooLong,
                "slot reservation mixed message",
            )?;
        }
        self.dc_net_msgs.check()
    }

    fn write<B: BufMut + ?Sized>(&self, buf: &mut B) {
        self.header.write(buf);
        buf.put_slice(&self.seed[..]);
        put_var_int(buf, self.slot_reserve_msgs.len() as u64);
        for v in &self.slot_reserve_msgs {
            put_var_bytes(buf, v);
        }
        self.dc_net_msgs.write(buf);
        put_hashes(buf, &self.seen_secrets);
    }

    fn size(&self) -> usize {
        SESSION_HEADER_SIZE
            + 32
            + var_int_size(self.slot_reserve_msgs.len() as u64)
            + self
                .slot_reserve_msgs
                .iter()
                .map(|v| var_bytes_size(v))
                .sum::<usize>()
            + self.dc_net_msgs.size()
            + hashes_size(&self.seen_secrets)
    }

    fn into_owned(self) -> MixSecrets<'static> {
        MixSecrets {
            header: self.header.into_owned(),
            seed: own(self.seed),
            slot_reserve_msgs: self
                .slot_reserve_msgs
                .into_iter()
                .map(|v| Cow::Owned(v.into_owned()))
                .collect(),
            dc_net_msgs: self.dc_net_msgs.into_owned(),
            seen_secrets: self.seen_secrets,
        }
    }
}

mix_payload!(MixSecrets, MixSecrets, 70_831);
