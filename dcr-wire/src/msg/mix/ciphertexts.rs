//! `mixcphrtxt`: post-quantum ciphertexts, one per peer, encapsulating the
//! shared keys of the session.

#[allow(unused_imports)]
use crate::prelude::*;
use alloc::borrow::Cow;

use bytes::BufMut;

use super::{invalid, mix_payload, SessionHeader, MAX_MIX_PEERS, SESSION_HEADER_SIZE};
use crate::error::{Error, ErrorKind};
use crate::hash::{Hash, HASH_SIZE};
use crate::msg::list::ListView;
use crate::primitives::{check_count, count, hash, put_var_int, take, var_int_size, PResult};

/// Size of one ciphertext (Streamlined NTRU Prime 4591^761).
pub const CIPHERTEXT_SIZE: usize = 1047;

/// `mixcphrtxt`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct MixCiphertexts<'a> {
    /// Signature, identity, session and run.
    #[cfg_attr(feature = "serde", serde(flatten))]
    pub header: SessionHeader<'a>,
    /// One ciphertext of [`CIPHERTEXT_SIZE`] bytes per peer, borrowed when
    /// decoded (a slice rather than an array so that a borrowed list costs
    /// two words per entry, not the whole ciphertext).
    #[cfg_attr(
        feature = "serde",
        serde(rename = "Ciphertexts", with = "crate::serde_impls::hex::list")
    )]
    pub ciphertexts: Vec<Cow<'a, [u8]>>,
    /// Hashes of the key exchanges, one per ciphertext (the same count is
    /// used for both lists on the wire).
    #[cfg_attr(feature = "serde", serde(rename = "SeenKeyExchanges"))]
    pub seen_key_exchanges: Vec<Hash>,
}

#[cfg(feature = "serde")]
super::session_message_serde!(MixCiphertexts {
    ciphertexts: Vec<Cow<'static, [u8]>> = "Ciphertexts", with "crate::serde_impls::hex::list";
    seen_key_exchanges: Vec<crate::Hash> = "SeenKeyExchanges";
});

/// `mixcphrtxt` read in place: the zero-copy form of [`MixCiphertexts`],
/// with its checks and errors. At most [`MAX_MIX_PEERS`] ciphertexts
/// (ErrTooManyPrevMixMsgs), then as many key exchange hashes (the two
/// lists share one count on the wire).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MixCiphertextsView<'a> {
    /// Signature, identity, session and run.
    pub header: SessionHeader<'a>,
    /// One ciphertext of [`CIPHERTEXT_SIZE`] bytes per peer.
    pub ciphertexts: ListView<'a, &'a [u8]>,
    /// Hashes of the key exchanges, one per ciphertext.
    pub seen_key_exchanges: ListView<'a, Hash>,
}

impl<'a> MixCiphertextsView<'a> {
    /// Reads the fields from the front of `i` (no version gate).
    pub fn parse(i: &'a [u8]) -> PResult<'a, Self> {
        let (i, header) = SessionHeader::parse(i)?;
        let (i, n) = count(
            i,
            MAX_MIX_PEERS,
            ErrorKind::TooManyPrevMixMsgs,
            "ciphertexts",
        )?;
        let (i, ciphertexts) = ListView::parse_n(i, n, |i| take(i, CIPHERTEXT_SIZE))?;
        let (i, seen_key_exchanges) = ListView::parse_n(i, n, hash)?;
        Ok((
            i,
            MixCiphertextsView {
                header,
                ciphertexts,
                seen_key_exchanges,
            },
        ))
    }
}

impl<'a> From<MixCiphertextsView<'a>> for MixCiphertexts<'a> {
    fn from(v: MixCiphertextsView<'a>) -> Self {
        MixCiphertexts {
            header: v.header,
            ciphertexts: v.ciphertexts.iter().map(Cow::Borrowed).collect(),
            seen_key_exchanges: v.seen_key_exchanges.to_vec(),
        }
    }
}

impl<'a> MixCiphertexts<'a> {
    fn parse(i: &'a [u8]) -> PResult<'a, Self> {
        let (i, header) = SessionHeader::parse(i)?;
        let (mut i, n) = count(
            i,
            MAX_MIX_PEERS,
            ErrorKind::TooManyPrevMixMsgs,
            "ciphertexts",
        )?;
        let cap = crate::primitives::bounded_capacity(n, i.len(), CIPHERTEXT_SIZE);
        let mut ciphertexts = Vec::with_capacity(cap);
        for _ in 0..n {
            let (r, c) = take(i, CIPHERTEXT_SIZE)?;
            ciphertexts.push(Cow::Borrowed(c));
            i = r;
        }
        let mut seen_key_exchanges =
            Vec::with_capacity(crate::primitives::bounded_capacity(n, i.len(), HASH_SIZE));
        for _ in 0..n {
            let (r, h) = hash(i)?;
            seen_key_exchanges.push(h);
            i = r;
        }
        Ok((
            i,
            MixCiphertexts {
                header,
                ciphertexts,
                seen_key_exchanges,
            },
        ))
    }

    fn check(&self) -> Result<(), Error> {
        if self.ciphertexts.len() != self.seen_key_exchanges.len() {
            return Err(invalid("ciphertext and key exchange counts differ"));
        }
        if self.ciphertexts.iter().any(|c| c.len() != CIPHERTEXT_SIZE) {
            return Err(invalid("ciphertext of the wrong size"));
        }
        check_count(
            self.ciphertexts.len() as u64,
            MAX_MIX_PEERS,
            ErrorKind::TooManyPrevMixMsgs,
            "ciphertexts",
        )?;
        Ok(())
    }

    fn write<B: BufMut + ?Sized>(&self, buf: &mut B) {
        self.header.write(buf);
        put_var_int(buf, self.ciphertexts.len() as u64);
        for c in &self.ciphertexts {
            buf.put_slice(&c[..]);
        }
        for h in &self.seen_key_exchanges {
            buf.put_slice(&h.0);
        }
    }

    fn size(&self) -> usize {
        // The seen hashes share the ciphertexts' count: no count of their own.
        SESSION_HEADER_SIZE
            + var_int_size(self.ciphertexts.len() as u64)
            + self.ciphertexts.len() * CIPHERTEXT_SIZE
            + self.seen_key_exchanges.len() * HASH_SIZE
    }

    fn into_owned(self) -> MixCiphertexts<'static> {
        MixCiphertexts {
            header: self.header.into_owned(),
            ciphertexts: self
                .ciphertexts
                .into_iter()
                .map(|c| Cow::Owned(c.into_owned()))
                .collect(),
            seen_key_exchanges: self.seen_key_exchanges,
        }
    }
}

mix_payload!(MixCiphertexts, MixCiphertexts, 552_584);
