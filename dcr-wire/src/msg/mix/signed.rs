//! What a mixing message's signature covers, and the accessors the
//! reference's mixing package reads through its `Message` interface
//! (`Pub`, `Sig`, `Sid`, `GetRun`, `PrevMsgs`, `Hash`, `WriteSignedData`).
//!
//! The signed data of every mixing message is the command followed by
//! `-sig` as a length-prefixed string, then the message's serialization
//! without its leading 64-byte signature (the reference's
//! `WriteSignedData`); the signature is made over the BLAKE-256 of those
//! bytes (its mixing package's `sign`).

#[allow(unused_imports)]
use crate::prelude::*;
use alloc::borrow::Cow;

use bytes::BufMut;

use super::{
    MixCiphertexts, MixConfirm, MixDCNet, MixFactoredPoly, MixKeyExchange, MixPairReq, MixSecrets,
    MixSlotReserve, SessionHeader,
};
use crate::hash::{blake256, Hash};
use crate::msg::Payload;
use crate::primitives::{put_var_bytes, var_bytes_size};

/// Bytes of the signature that opens every mixing message.
const SIGNATURE_SIZE: usize = 64;

mod sealed {
    /// Keeps [`MixMessage`](super::MixMessage) to the eight mixing messages:
    /// its provided methods rely on the signature coming first.
    pub trait Sealed {
        /// The whole serialization, without the encode checks.
        fn write_unchecked(&self, buf: &mut alloc::vec::Vec<u8>);
    }
}

/// The eight mixing messages, through what they share.
pub trait MixMessage<'a>: Payload<'a> + sealed::Sealed {
    /// The 64-byte signature by [`identity`](Self::identity) (`Sig`).
    fn signature(&self) -> &[u8; 64];
    /// The author's 33-byte identity public key (`Pub`).
    fn identity(&self) -> &[u8; 33];
    /// The session; `None` for a pair request, which precedes sessions
    /// (`Sid`, nil there).
    fn session_id(&self) -> Option<&[u8; 32]>;
    /// The session's run; 0 for a pair request (`GetRun`).
    fn run(&self) -> u32;
    /// Hashes of the earlier messages this one references; none for a pair
    /// request (`PrevMsgs`).
    fn prev_msgs(&self) -> &[Hash];

    /// The block height after which the message expires, for a pair
    /// request (`Expires`); `None` for the others, whose lifetime is the
    /// session's.
    fn expires(&self) -> Option<u32> {
        None
    }

    /// The hash the message is announced by: BLAKE-256 of its whole
    /// serialization, signature included (`Hash` / `WriteHash`). The same
    /// as [`mix_hash`](super::mix_hash).
    fn mix_hash(&self) -> Hash {
        let mut buf = Vec::with_capacity(self.serialized_size(crate::pver::MIX));
        self.write_unchecked(&mut buf);
        blake256(&buf)
    }

    /// The bytes the signature covers (`WriteSignedData`): the command and
    /// `-sig` as a length-prefixed string, then the serialization without
    /// the signature.
    fn signed_data(&self) -> Vec<u8> {
        let mut whole = Vec::with_capacity(self.serialized_size(crate::pver::MIX));
        self.write_unchecked(&mut whole);
        let tag = signature_tag(Self::COMMAND.as_str());
        let rest = whole.get(SIGNATURE_SIZE..).unwrap_or_default();
        let mut out = Vec::with_capacity(var_bytes_size(tag.as_bytes()) + rest.len());
        put_var_bytes(&mut out, tag.as_bytes());
        out.put_slice(rest);
        out
    }

    /// BLAKE-256 of [`signed_data`](Self::signed_data): the hash the
    /// signature is made over.
    fn signature_hash(&self) -> Hash {
        blake256(&self.signed_data())
    }
}

/// `"<command>-sig"`, the tag in front of a message's signed data.
fn signature_tag(command: &str) -> String {
    format!("{command}-sig")
}

/// Implements the trait for a message that opens with a [`SessionHeader`]
/// in its `header` field and lists what it saw in `$seen`.
macro_rules! session_message {
    ($($name:ident . $seen:ident),* $(,)?) => {$(
        impl sealed::Sealed for $name<'_> {
            fn write_unchecked(&self, buf: &mut Vec<u8>) {
                self.write_for_hash(buf);
            }
        }

        impl<'a> MixMessage<'a> for $name<'a> {
            fn signature(&self) -> &[u8; 64] {
                &self.header.signature
            }
            fn identity(&self) -> &[u8; 33] {
                &self.header.identity
            }
            fn session_id(&self) -> Option<&[u8; 32]> {
                Some(&self.header.session_id)
            }
            fn run(&self) -> u32 {
                self.header.run
            }
            fn prev_msgs(&self) -> &[Hash] {
                &self.$seen
            }
        }
    )*};
}

session_message!(
    MixCiphertexts.seen_key_exchanges,
    MixSlotReserve.seen_ciphertexts,
    MixFactoredPoly.seen_slot_reserves,
    MixDCNet.seen_slot_reserves,
    MixConfirm.seen_dc_nets,
    MixSecrets.seen_secrets,
);

impl sealed::Sealed for MixKeyExchange<'_> {
    fn write_unchecked(&self, buf: &mut Vec<u8>) {
        self.write_for_hash(buf);
    }
}

impl<'a> MixMessage<'a> for MixKeyExchange<'a> {
    fn signature(&self) -> &[u8; 64] {
        &self.signature
    }
    fn identity(&self) -> &[u8; 33] {
        &self.identity
    }
    fn session_id(&self) -> Option<&[u8; 32]> {
        Some(&self.session_id)
    }
    fn run(&self) -> u32 {
        self.run
    }
    fn prev_msgs(&self) -> &[Hash] {
        &self.seen_prs
    }
}

impl sealed::Sealed for MixPairReq<'_> {
    fn write_unchecked(&self, buf: &mut Vec<u8>) {
        self.write_for_hash(buf);
    }
}

impl<'a> MixMessage<'a> for MixPairReq<'a> {
    fn signature(&self) -> &[u8; 64] {
        &self.signature
    }
    fn identity(&self) -> &[u8; 33] {
        &self.identity
    }
    fn session_id(&self) -> Option<&[u8; 32]> {
        None
    }
    fn run(&self) -> u32 {
        0
    }
    fn prev_msgs(&self) -> &[Hash] {
        &[]
    }
    fn expires(&self) -> Option<u32> {
        Some(self.expiry)
    }
}

impl MixPairReq<'_> {
    /// The pairing description: what pair requests must share to be mixed
    /// together (the reference's `Pairing`): mix amount (8 bytes), script
    /// class (length-prefixed), transaction version (2), lock time (4) and
    /// pairing flags (1), little-endian.
    pub fn pairing(&self) -> Vec<u8> {
        let class = self.script_class.as_bytes();
        let mut out = Vec::with_capacity(8 + var_bytes_size(class) + 2 + 4 + 1);
        out.put_i64_le(self.mix_amount);
        put_var_bytes(&mut out, class);
        out.put_u16_le(self.tx_version);
        out.put_u32_le(self.lock_time);
        out.put_u8(self.pairing_flags);
        out
    }
}

impl MixSecrets<'_> {
    /// The commitment to these secrets, sent ahead in the key exchange:
    /// the message's hash with the signature zeroed and no seen secrets
    /// (the reference's `Commitment`, with the BLAKE-256 hasher its mixing
    /// client uses).
    pub fn commitment(&self) -> Hash {
        let blank = MixSecrets {
            header: SessionHeader {
                signature: Cow::Owned([0; SIGNATURE_SIZE]),
                ..self.header.clone()
            },
            seen_secrets: Vec::new(),
            ..self.clone()
        };
        blank.mix_hash()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msg::Message;
    use sealed::Sealed;

    #[test]
    fn signed_data_drops_the_signature_and_tags_the_command() {
        let mut m = MixFactoredPoly::default();
        m.header.signature = Cow::Owned([0xaa; 64]);
        m.header.run = 3;
        let data = m.signed_data();
        let tag = b"mixfactpoly-sig";
        assert_eq!(data[0] as usize, tag.len());
        assert_eq!(&data[1..1 + tag.len()], tag);
        let mut whole = Vec::new();
        m.write_unchecked(&mut whole);
        assert_eq!(&data[1 + tag.len()..], &whole[64..]);
        // The signature does not change what it signs.
        let mut other = m.clone();
        other.header.signature = Cow::Owned([0x55; 64]);
        assert_eq!(other.signed_data(), data);
        assert_ne!(other.mix_hash(), m.mix_hash());
        assert_eq!(m.signature_hash(), blake256(&data));
        assert_eq!(
            Some(m.mix_hash()),
            super::super::mix_hash(&Message::MixFactoredPoly(m))
        );
    }

    #[test]
    fn pair_request_has_no_session() {
        let m = MixPairReq {
            expiry: 77,
            ..MixPairReq::default()
        };
        assert_eq!((m.session_id(), m.run(), m.prev_msgs()), (None, 0, &[][..]));
        assert_eq!(m.expires(), Some(77));
        assert_eq!(MixSecrets::default().expires(), None);
    }
}
