//! `mixkeyxchg`: a peer's ephemeral keys for a session: a secp256k1 key
//! for ECDH and a post-quantum (Streamlined NTRU Prime) public key.

#[allow(unused_imports)]
use crate::prelude::*;
use alloc::borrow::Cow;

use bytes::BufMut;

use super::{
    check_seen, fixed, hashes_size, invalid, mix_payload, own, put_hashes, seen_hashes, seen_view,
    Fixed,
};
use crate::error::Error;
use crate::hash::Hash;
use crate::msg::list::ListView;
use crate::primitives::{take, u32_le, u64_le, PResult};

/// Size of a Streamlined NTRU Prime 4591^761 public key.
pub const PQ_PUBLIC_KEY_SIZE: usize = 1218;

/// Size of the fields before the referenced hashes.
const FIXED_SIZE: usize = 64 + 33 + 32 + 8 + 4 + 4 + 33 + PQ_PUBLIC_KEY_SIZE + 32;

/// `mixkeyxchg`. Unlike the other session messages, the epoch sits between
/// the session id and the run, so the fields are listed flat.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct MixKeyExchange<'a> {
    /// Signature by the identity over the message.
    #[cfg_attr(
        feature = "serde",
        serde(rename = "Signature", with = "crate::serde_impls::hex::fixed")
    )]
    pub signature: Fixed<'a, 64>,
    /// The sender's session identity key.
    #[cfg_attr(
        feature = "serde",
        serde(rename = "Identity", with = "crate::serde_impls::hex::fixed")
    )]
    pub identity: Fixed<'a, 33>,
    /// The session the message belongs to.
    #[cfg_attr(
        feature = "serde",
        serde(rename = "SessionID", with = "crate::serde_impls::hex::fixed")
    )]
    pub session_id: Fixed<'a, 32>,
    /// The epoch the session started in.
    #[cfg_attr(
        feature = "serde",
        serde(rename = "Epoch", deserialize_with = "crate::serde_impls::int")
    )]
    pub epoch: u64,
    /// The attempt within the session, from 0.
    #[cfg_attr(
        feature = "serde",
        serde(rename = "Run", deserialize_with = "crate::serde_impls::int")
    )]
    pub run: u32,
    /// The peer's position in the session's sorted pair requests.
    #[cfg_attr(
        feature = "serde",
        serde(rename = "Pos", deserialize_with = "crate::serde_impls::int")
    )]
    pub pos: u32,
    /// secp256k1 public key for ECDH.
    #[cfg_attr(
        feature = "serde",
        serde(rename = "ECDH", with = "crate::serde_impls::hex::fixed")
    )]
    pub ecdh: Fixed<'a, 33>,
    /// Post-quantum public key of [`PQ_PUBLIC_KEY_SIZE`] bytes, borrowed
    /// when decoded (a slice, so the message stays small on the stack).
    #[cfg_attr(
        feature = "serde",
        serde(rename = "PQPK", with = "crate::serde_impls::hex::bytes")
    )]
    pub pqpk: Cow<'a, [u8]>,
    /// Commitment to the peer's secrets for this run.
    #[cfg_attr(
        feature = "serde",
        serde(rename = "Commitment", with = "crate::serde_impls::hex::fixed")
    )]
    pub commitment: Fixed<'a, 32>,
    /// Hashes of the pair requests of the session.
    #[cfg_attr(feature = "serde", serde(rename = "SeenPRs"))]
    pub seen_prs: Vec<Hash>,
}

impl Default for MixKeyExchange<'_> {
    fn default() -> Self {
        use alloc::borrow::Cow::Owned;
        MixKeyExchange {
            signature: Owned([0; 64]),
            identity: Owned([0; 33]),
            session_id: Owned([0; 32]),
            epoch: 0,
            run: 0,
            pos: 0,
            ecdh: Owned([0; 33]),
            pqpk: Owned(vec![0; PQ_PUBLIC_KEY_SIZE]),
            commitment: Owned([0; 32]),
            seen_prs: Vec::new(),
        }
    }
}

/// `mixkeyxchg` read in place: the zero-copy form of [`MixKeyExchange`],
/// with its checks and errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MixKeyExchangeView<'a> {
    /// Signature by the identity over the message.
    pub signature: Fixed<'a, 64>,
    /// The sender's session identity key.
    pub identity: Fixed<'a, 33>,
    /// The session the message belongs to.
    pub session_id: Fixed<'a, 32>,
    /// The epoch the session started in.
    pub epoch: u64,
    /// The attempt within the session, from 0.
    pub run: u32,
    /// The peer's position in the session's sorted pair requests.
    pub pos: u32,
    /// secp256k1 public key for ECDH.
    pub ecdh: Fixed<'a, 33>,
    /// Post-quantum public key of [`PQ_PUBLIC_KEY_SIZE`] bytes.
    pub pqpk: &'a [u8],
    /// Commitment to the peer's secrets for this run.
    pub commitment: Fixed<'a, 32>,
    /// Hashes of the pair requests of the session.
    pub seen_prs: ListView<'a, Hash>,
}

impl<'a> MixKeyExchangeView<'a> {
    /// Reads the fields from the front of `i` (no version gate).
    pub fn parse(i: &'a [u8]) -> PResult<'a, Self> {
        let (i, signature) = fixed::<64>(i)?;
        let (i, identity) = fixed::<33>(i)?;
        let (i, session_id) = fixed::<32>(i)?;
        let (i, epoch) = u64_le(i)?;
        let (i, run) = u32_le(i)?;
        let (i, pos) = u32_le(i)?;
        let (i, ecdh) = fixed::<33>(i)?;
        let (i, pqpk) = take(i, PQ_PUBLIC_KEY_SIZE)?;
        let (i, commitment) = fixed::<32>(i)?;
        let (i, seen_prs) = seen_view(i)?;
        Ok((
            i,
            MixKeyExchangeView {
                signature,
                identity,
                session_id,
                epoch,
                run,
                pos,
                ecdh,
                pqpk,
                commitment,
                seen_prs,
            },
        ))
    }
}

impl<'a> From<MixKeyExchangeView<'a>> for MixKeyExchange<'a> {
    fn from(v: MixKeyExchangeView<'a>) -> Self {
        MixKeyExchange {
            signature: v.signature,
            identity: v.identity,
            session_id: v.session_id,
            epoch: v.epoch,
            run: v.run,
            pos: v.pos,
            ecdh: v.ecdh,
            pqpk: Cow::Borrowed(v.pqpk),
            commitment: v.commitment,
            seen_prs: v.seen_prs.to_vec(),
        }
    }
}

impl<'a> MixKeyExchange<'a> {
    fn parse(i: &'a [u8]) -> PResult<'a, Self> {
        let (i, signature) = fixed::<64>(i)?;
        let (i, identity) = fixed::<33>(i)?;
        let (i, session_id) = fixed::<32>(i)?;
        let (i, epoch) = u64_le(i)?;
        let (i, run) = u32_le(i)?;
        let (i, pos) = u32_le(i)?;
        let (i, ecdh) = fixed::<33>(i)?;
        let (i, pqpk) = take(i, PQ_PUBLIC_KEY_SIZE)?;
        let (i, commitment) = fixed::<32>(i)?;
        let (i, seen_prs) = seen_hashes(i)?;
        Ok((
            i,
            MixKeyExchange {
                signature,
                identity,
                session_id,
                epoch,
                run,
                pos,
                ecdh,
                pqpk: Cow::Borrowed(pqpk),
                commitment,
                seen_prs,
            },
        ))
    }

    fn check(&self) -> Result<(), Error> {
        if self.pqpk.len() != PQ_PUBLIC_KEY_SIZE {
            return Err(invalid("post-quantum public key of the wrong size"));
        }
        check_seen(&self.seen_prs)
    }

    fn write<B: BufMut + ?Sized>(&self, buf: &mut B) {
        buf.put_slice(&self.signature[..]);
        buf.put_slice(&self.identity[..]);
        buf.put_slice(&self.session_id[..]);
        buf.put_u64_le(self.epoch);
        buf.put_u32_le(self.run);
        buf.put_u32_le(self.pos);
        buf.put_slice(&self.ecdh[..]);
        buf.put_slice(&self.pqpk[..]);
        buf.put_slice(&self.commitment[..]);
        put_hashes(buf, &self.seen_prs);
    }

    fn size(&self) -> usize {
        FIXED_SIZE + hashes_size(&self.seen_prs)
    }

    fn into_owned(self) -> MixKeyExchange<'static> {
        MixKeyExchange {
            signature: own(self.signature),
            identity: own(self.identity),
            session_id: own(self.session_id),
            epoch: self.epoch,
            run: self.run,
            pos: self.pos,
            ecdh: own(self.ecdh),
            pqpk: Cow::Owned(self.pqpk.into_owned()),
            commitment: own(self.commitment),
            seen_prs: self.seen_prs,
        }
    }
}

mix_payload!(MixKeyExchange, MixKeyExchange, 17_815);
