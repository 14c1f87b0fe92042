//! The mixing messages (protocol version 10 and later): the messages of
//! Decred's peer-to-peer coin mixing protocol, relayed between nodes.
//!
//! Every mixing message starts with a 64-byte signature and the 33-byte
//! identity key of its author; all but the pair request then carry the
//! session id and run number. Those shared fields, the lists of hashes of
//! earlier messages each one references, and the limits live here; each
//! message has its own file. Large keys, ciphertexts and signatures are
//! borrowed from the input.
//!
//! The hash by which a mixing message is announced in `inv` (type MIX) is
//! BLAKE-256 of its serialization, available as [`mix_hash`]. What each
//! message's signature covers, and the accessors the eight share, are the
//! [`MixMessage`] trait.

#[allow(unused_imports)]
use crate::prelude::*;
use alloc::borrow::Cow;

use bytes::BufMut;

use super::list::ListView;
use super::Message;
use crate::error::{Error, ErrorKind};
use crate::hash::{blake256, Hash, HASH_SIZE};
use crate::primitives::{array_ref, check_count, hash, list, u32_le, PResult};
use crate::protocol::pver;

mod ciphertexts;
mod confirm;
mod dcnet;
mod factoredpoly;
mod keyexchange;
mod pairreq;
mod secrets;
mod signed;
mod slotreserve;
mod vect;

pub use ciphertexts::{MixCiphertexts, MixCiphertextsView, CIPHERTEXT_SIZE};
pub use confirm::{MixConfirm, MixConfirmView};
pub use dcnet::{MixDCNet, MixDCNetView};
pub use factoredpoly::{MixFactoredPoly, MixFactoredPolyView};
pub use keyexchange::{MixKeyExchange, MixKeyExchangeView, PQ_PUBLIC_KEY_SIZE};
pub use pairreq::{
    MixPairReq, MixPairReqUtxo, MixPairReqView, MAX_MIX_PAIR_REQ_SCRIPT_CLASS_LEN,
    MAX_MIX_PAIR_REQ_UTXOS, MAX_MIX_PAIR_REQ_UTXO_PUBKEY_LEN, MAX_MIX_PAIR_REQ_UTXO_SCRIPT_LEN,
    MAX_MIX_PAIR_REQ_UTXO_SIGNATURE_LEN,
};
pub use secrets::{MixSecrets, MixSecretsView};
pub use signed::MixMessage;
pub use slotreserve::{MixSlotReserve, MixSlotReserveView};
pub use vect::{MixMsg, MixVect, MixVects};

/// Most peers in one mix (and so most earlier messages one references).
pub const MAX_MIX_PEERS: u64 = 512;
/// Most mixed messages in one session.
pub const MAX_MIX_MCOUNT: u64 = 1024;
/// Longest field element in bytes.
pub const MAX_MIX_FIELD_VAL_LEN: u64 = 32;
/// Size of one mixed message in a DC-net vector.
pub const MIX_MSG_SIZE: usize = 20;

/// A fixed-size byte field, borrowed from the input when decoded.
pub type Fixed<'a, const N: usize> = Cow<'a, [u8; N]>;

/// Reads an `N`-byte field without copying it.
pub(crate) fn fixed<const N: usize>(i: &[u8]) -> PResult<'_, Fixed<'_, N>> {
    let (i, a) = array_ref::<N>(i)?;
    Ok((i, Cow::Borrowed(a)))
}

/// Copies a fixed field so it no longer borrows.
pub(crate) fn own<const N: usize>(f: Fixed<'_, N>) -> Fixed<'static, N> {
    Cow::Owned(f.into_owned())
}

/// The fields that open every mixing message but the pair request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct SessionHeader<'a> {
    /// Signature by the identity key over the rest of the message.
    #[cfg_attr(
        feature = "serde",
        serde(
            rename = "Signature",
            serialize_with = "crate::serde_impls::hex::fixed::serialize"
        )
    )]
    pub signature: Fixed<'a, 64>,
    /// The author's identity public key.
    #[cfg_attr(
        feature = "serde",
        serde(
            rename = "Identity",
            serialize_with = "crate::serde_impls::hex::fixed::serialize"
        )
    )]
    pub identity: Fixed<'a, 33>,
    /// The mixing session.
    #[cfg_attr(
        feature = "serde",
        serde(
            rename = "SessionID",
            serialize_with = "crate::serde_impls::hex::fixed::serialize"
        )
    )]
    pub session_id: Fixed<'a, 32>,
    /// The run of the session (reruns after blame).
    #[cfg_attr(feature = "serde", serde(rename = "Run"))]
    pub run: u32,
}

impl Default for SessionHeader<'_> {
    fn default() -> Self {
        SessionHeader {
            signature: Cow::Owned([0; 64]),
            identity: Cow::Owned([0; 33]),
            session_id: Cow::Owned([0; 32]),
            run: 0,
        }
    }
}

/// Serialized size of a [`SessionHeader`].
pub(crate) const SESSION_HEADER_SIZE: usize = 64 + 33 + 32 + 4;

impl<'a> SessionHeader<'a> {
    pub(crate) fn parse(i: &'a [u8]) -> PResult<'a, SessionHeader<'a>> {
        let (i, signature) = fixed::<64>(i)?;
        let (i, identity) = fixed::<33>(i)?;
        let (i, session_id) = fixed::<32>(i)?;
        let (i, run) = u32_le(i)?;
        Ok((
            i,
            SessionHeader {
                signature,
                identity,
                session_id,
                run,
            },
        ))
    }

    pub(crate) fn write<B: BufMut + ?Sized>(&self, buf: &mut B) {
        buf.put_slice(&self.signature[..]);
        buf.put_slice(&self.identity[..]);
        buf.put_slice(&self.session_id[..]);
        buf.put_u32_le(self.run);
    }

    pub(crate) fn into_owned(self) -> SessionHeader<'static> {
        SessionHeader {
            signature: own(self.signature),
            identity: own(self.identity),
            session_id: own(self.session_id),
            run: self.run,
        }
    }
}

/// `Deserialize` for a session message: the reference lays the session
/// header's fields beside the message's own (`Signature`, `Identity`,
/// `SessionID`, `Run`, then the rest), and serde's `flatten` cannot refuse
/// unknown fields, so the fields are listed flat here. Each entry is
/// `field: Type = "GoName"`, with `, with "module"` for a byte field.
#[cfg(feature = "serde")]
macro_rules! session_message_serde {
    ($name:ident { $( $field:ident : $ty:ty = $go:literal $(, with $with:literal)? ; )* }) => {
        const _: () = {
            use crate::msg::mix::{Fixed, SessionHeader};

            #[derive(serde::Deserialize)]
            #[serde(deny_unknown_fields)]
            struct Fields {
                #[serde(rename = "Signature", with = "crate::serde_impls::hex::fixed")]
                signature: Fixed<'static, 64>,
                #[serde(rename = "Identity", with = "crate::serde_impls::hex::fixed")]
                identity: Fixed<'static, 33>,
                #[serde(rename = "SessionID", with = "crate::serde_impls::hex::fixed")]
                session_id: Fixed<'static, 32>,
                #[serde(rename = "Run", deserialize_with = "crate::serde_impls::int")]
                run: u32,
                $( #[serde(rename = $go $(, with = $with)?)] $field: $ty, )*
            }

            impl<'de> serde::Deserialize<'de> for $name<'_> {
                fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                    let f = Fields::deserialize(d)?;
                    Ok($name {
                        header: SessionHeader {
                            signature: f.signature,
                            identity: f.identity,
                            session_id: f.session_id,
                            run: f.run,
                        },
                        $( $field: f.$field, )*
                    })
                }
            }
        };
    };
}
#[cfg(feature = "serde")]
pub(crate) use session_message_serde;

/// Reads the hashes of earlier messages a message references (at most
/// [`MAX_MIX_PEERS`], else ErrTooManyPrevMixMsgs).
pub(crate) fn seen_hashes(i: &[u8]) -> PResult<'_, Vec<Hash>> {
    list(
        i,
        MAX_MIX_PEERS,
        ErrorKind::TooManyPrevMixMsgs,
        "referenced mixing messages",
        HASH_SIZE,
        hash,
    )
}

/// The same list read in place, for the messages' views.
pub(crate) fn seen_view(i: &[u8]) -> PResult<'_, ListView<'_, Hash>> {
    ListView::parse(
        i,
        MAX_MIX_PEERS,
        ErrorKind::TooManyPrevMixMsgs,
        "referenced mixing messages",
        hash,
    )
}

/// Checks a referenced-hash list before encoding.
pub(crate) fn check_seen(hs: &[Hash]) -> Result<(), Error> {
    check_count(
        hs.len() as u64,
        MAX_MIX_PEERS,
        ErrorKind::TooManyPrevMixMsgs,
        "referenced mixing messages",
    )?;
    Ok(())
}

pub(crate) use crate::primitives::{hashes_size, put_hashes};

/// ErrInvalidMsg with a reason.
pub(crate) fn invalid(reason: &'static str) -> Error {
    Error::invalid(ErrorKind::InvalidMsg, reason)
}

/// The largest payload of a mixing message: 0 below the mixing version.
pub(crate) fn max_len(pv: u32, max: u32) -> u32 {
    if pv < pver::MIX {
        0
    } else {
        max
    }
}

/// The hash a mixing message is announced by: BLAKE-256 of its
/// serialization (signature included), written without the encode checks
/// as the reference hashes it, so every decoded message has one (a DC-net
/// with no vectors decodes but cannot be encoded). `None` for other
/// messages.
pub fn mix_hash(msg: &Message<'_>) -> Option<Hash> {
    let mut buf = Vec::with_capacity(msg.serialized_size(pver::MIX));
    match msg {
        Message::MixPairReq(m) => m.write_for_hash(&mut buf),
        Message::MixKeyExchange(m) => m.write_for_hash(&mut buf),
        Message::MixCiphertexts(m) => m.write_for_hash(&mut buf),
        Message::MixSlotReserve(m) => m.write_for_hash(&mut buf),
        Message::MixFactoredPoly(m) => m.write_for_hash(&mut buf),
        Message::MixDCNet(m) => m.write_for_hash(&mut buf),
        Message::MixConfirm(m) => m.write_for_hash(&mut buf),
        Message::MixSecrets(m) => m.write_for_hash(&mut buf),
        _ => return None,
    }
    Some(blake256(&buf))
}

/// Declares the `Payload` methods every mixing message shares: command,
/// version gate around a message's own `parse`/`check`/`write`/`size`,
/// maximum length.
macro_rules! mix_payload {
    ($name:ident, $cmd:ident, $max:expr) => {
        impl $name<'_> {
            /// The serialization without the encode checks (for hashing).
            pub(crate) fn write_for_hash(&self, buf: &mut Vec<u8>) {
                self.write(buf);
            }
        }

        impl<'a> crate::msg::Payload<'a> for $name<'a> {
            const COMMAND: crate::msg::Command = crate::msg::Command::$cmd;
            type Owned = $name<'static>;

            fn decode(input: &'a [u8], pv: u32) -> crate::primitives::PResult<'a, Self> {
                crate::msg::require_pver(Self::COMMAND, pv)?;
                $name::parse(input)
            }

            fn encode<B: bytes::BufMut>(
                &self,
                buf: &mut B,
                pv: u32,
            ) -> Result<(), crate::error::Error> {
                crate::msg::require_pver(Self::COMMAND, pv)?;
                self.check()?;
                self.write(buf);
                Ok(())
            }

            fn serialized_size(&self, _pver: u32) -> usize {
                self.size()
            }

            fn max_payload_length(pv: u32) -> u32 {
                crate::msg::mix::max_len(pv, $max)
            }

            fn into_owned(self) -> $name<'static> {
                $name::into_owned(self)
            }
        }
    };
}
pub(crate) use mix_payload;

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::msg::{Command, Payload};

    #[test]
    fn seen_limit() {
        let e = seen_hashes(&[0xfd, 0x01, 0x02]).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::TooManyPrevMixMsgs);
        assert_eq!(
            check_seen(&vec![Hash::ZERO; 513]).unwrap_err().kind(),
            ErrorKind::TooManyPrevMixMsgs
        );
    }

    #[test]
    fn mix_hash_is_blake_of_the_payload() {
        let m = Message::MixFactoredPoly(MixFactoredPoly::default());
        let mut buf = Vec::new();
        m.encode(&mut buf, pver::MIX).unwrap();
        assert_eq!(mix_hash(&m), Some(blake256(&buf)));
        assert_eq!(mix_hash(&Message::VerAck(crate::VerAck)), None);
        // Decodable but not encodable (as in the reference): still hashed.
        let empty = Message::MixDCNet(MixDCNet::default());
        assert!(empty.encode(&mut Vec::new(), pver::MIX).is_err());
        let mut raw = Vec::new();
        MixDCNet::default().write_for_hash(&mut raw);
        assert_eq!(
            Message::decode(Command::MixDCNet, &raw, pver::MIX).unwrap(),
            empty
        );
        assert_eq!(mix_hash(&empty), Some(blake256(&raw)));
    }

    #[test]
    fn secrets_refuse_to_encode_an_overlong_field() {
        let m = Message::MixSecrets(MixSecrets {
            slot_reserve_msgs: vec![Cow::Owned(vec![0; MAX_MIX_FIELD_VAL_LEN as usize + 1])],
            ..MixSecrets::default()
        });
        let mut buf = Vec::new();
        assert_eq!(
            m.encode(&mut buf, pver::MIX).unwrap_err().kind(),
            ErrorKind::VarBytesTooLong
        );
        assert!(buf.is_empty());
    }

    #[test]
    fn below_mix_version_refused() {
        let e = MixFactoredPoly::decode(&[0; 200], 9).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::MsgInvalidForPVer);
        assert_eq!(<MixDCNet as Payload>::max_payload_length(9), 0);
    }

    pub(crate) mod props {
        use std::borrow::Cow;

        use proptest::collection::vec;
        use proptest::prelude::*;

        use super::super::*;
        use crate::msg::tx::tests::arb_tx;
        use crate::{OutPoint, TxOut};

        fn field() -> impl Strategy<Value = Cow<'static, [u8]>> {
            vec(any::<u8>(), 0..=32).prop_map(Cow::Owned)
        }

        fn hashes() -> impl Strategy<Value = Vec<Hash>> {
            vec(any::<[u8; 32]>().prop_map(Hash), 0..5)
        }

        fn header() -> impl Strategy<Value = SessionHeader<'static>> {
            (any::<[u8; 32]>(), any::<u8>(), any::<u32>()).prop_map(|(sid, b, run)| SessionHeader {
                signature: Cow::Owned([b; 64]),
                identity: Cow::Owned([b.wrapping_add(1); 33]),
                session_id: Cow::Owned(sid),
                run,
            })
        }

        fn msg20() -> impl Strategy<Value = MixMsg> {
            any::<[u8; 20]>()
        }

        pub(crate) fn pair_req() -> impl Strategy<Value = Message<'static>> {
            let utxo = (
                any::<[u8; 32]>(),
                any::<u32>(),
                any::<i8>(),
                field(),
                field(),
                field(),
                any::<u8>(),
            )
                .prop_map(
                    |(h, index, tree, script, pub_key, signature, opcode)| MixPairReqUtxo {
                        out_point: OutPoint {
                            hash: Hash(h),
                            index,
                            tree,
                        },
                        script,
                        pub_key,
                        signature,
                        opcode,
                    },
                );
            let change = proptest::option::of((any::<i64>(), any::<u16>(), field()).prop_map(
                |(value, version, pk_script)| TxOut {
                    value,
                    version,
                    pk_script,
                },
            ));
            (
                (
                    any::<u32>(),
                    0..i64::MAX,
                    "[ -~]{0,32}",
                    any::<u16>(),
                    any::<u32>(),
                ),
                (
                    any::<u32>(),
                    0..i64::MAX,
                    vec(utxo, 0..4),
                    change,
                    any::<u8>(),
                    any::<u8>(),
                ),
            )
                .prop_map(
                    |(
                        (expiry, mix_amount, sc, tx_version, lock_time),
                        (mc, iv, utxos, change, f, pf),
                    )| {
                        Message::MixPairReq(MixPairReq {
                            expiry,
                            mix_amount,
                            script_class: Cow::Owned(sc),
                            tx_version,
                            lock_time,
                            message_count: mc,
                            input_value: iv,
                            utxos,
                            change,
                            flags: f,
                            pairing_flags: pf,
                            ..Default::default()
                        })
                    },
                )
        }

        pub(crate) fn session_messages() -> impl Strategy<Value = Message<'static>> {
            prop_oneof![
                (header(), any::<u64>(), any::<u32>(), any::<u8>(), hashes()).prop_map(
                    |(h, epoch, pos, b, seen_prs)| {
                        Message::MixKeyExchange(
                            MixKeyExchange {
                                signature: h.signature,
                                identity: h.identity,
                                session_id: h.session_id,
                                epoch,
                                run: h.run,
                                pos,
                                pqpk: Cow::Owned(vec![b; PQ_PUBLIC_KEY_SIZE]),
                                ..Default::default()
                            }
                            .with_seen(seen_prs),
                        )
                    }
                ),
                (header(), vec(any::<u8>(), 0..4), any::<u8>()).prop_map(|(header, fill, b)| {
                    Message::MixCiphertexts(MixCiphertexts {
                        header,
                        ciphertexts: fill
                            .iter()
                            .map(|&f| Cow::Owned(vec![f; CIPHERTEXT_SIZE]))
                            .collect(),
                        seen_key_exchanges: fill.iter().map(|&f| Hash([f ^ b; 32])).collect(),
                    })
                }),
                (header(), 1..4usize, vec(vec(field(), 3), 1..4), hashes()).prop_map(
                    |(header, cols, rows, seen)| {
                        Message::MixSlotReserve(MixSlotReserve {
                            header,
                            dc_mix: rows
                                .into_iter()
                                .map(|r| r.into_iter().take(cols).collect())
                                .collect(),
                            seen_ciphertexts: seen,
                        })
                    }
                ),
                (header(), vec(field(), 0..5), hashes()).prop_map(|(header, roots, seen)| {
                    Message::MixFactoredPoly(MixFactoredPoly {
                        header,
                        roots,
                        seen_slot_reserves: seen,
                    })
                }),
                (header(), 0..4usize, vec(vec(msg20(), 3), 1..4), hashes()).prop_map(
                    |(header, cols, rows, seen)| {
                        let rows: Vec<Vec<MixMsg>> = rows
                            .into_iter()
                            .map(|r| r.into_iter().take(cols).collect())
                            .collect();
                        Message::MixDCNet(MixDCNet {
                            header,
                            dc_net: MixVects::new(&rows).expect("equal rows"),
                            seen_slot_reserves: seen,
                        })
                    }
                ),
                (header(), arb_tx(), hashes()).prop_map(|(header, mix, seen)| {
                    Message::MixConfirm(MixConfirm {
                        header,
                        mix,
                        seen_dc_nets: seen,
                    })
                }),
                (
                    header(),
                    any::<[u8; 32]>(),
                    vec(field(), 0..4),
                    vec(msg20(), 0..4),
                    hashes()
                )
                    .prop_map(|(header, seed, srs, dcn, seen)| {
                        Message::MixSecrets(MixSecrets {
                            header,
                            seed: Cow::Owned(seed),
                            slot_reserve_msgs: srs,
                            dc_net_msgs: MixVect::new(&dcn),
                            seen_secrets: seen,
                        })
                    }),
            ]
        }

        impl MixKeyExchange<'_> {
            fn with_seen(mut self, seen_prs: Vec<Hash>) -> Self {
                self.seen_prs = seen_prs;
                self
            }
        }

        proptest! {
            #[test]
            fn mixing_messages_round_trip(m in prop_oneof![pair_req(), session_messages()]) {
                let mut buf = Vec::new();
                m.encode(&mut buf, pver::MIX).unwrap();
                prop_assert_eq!(buf.len(), m.serialized_size(pver::MIX));
                let back = Message::decode(m.command(), &buf, pver::CURRENT).unwrap();
                prop_assert_eq!(&back, &m);
                prop_assert_eq!(mix_hash(&back), Some(blake256(&buf)));
                prop_assert!(buf.len() <= m.command().max_payload_length(pver::CURRENT) as usize);
            }
        }
    }
}
