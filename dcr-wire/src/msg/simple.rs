//! Messages made of a single 8-byte integer: `ping`, `pong` and
//! `feefilter`.

#[allow(unused_imports)]
use crate::prelude::*;
use bytes::BufMut;

use super::{require_pver, Command, Payload};
use crate::error::Error;
use crate::primitives::{i64_le, u64_le, PResult};

/// Declares a message whose payload is one 64-bit nonce, valid at every
/// protocol version.
macro_rules! nonce_message {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
        #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
        #[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
        pub struct $name {
            /// The nonce (little-endian on the wire).
            #[cfg_attr(feature = "serde", serde(rename = "Nonce", deserialize_with = "crate::serde_impls::int"))]
            pub nonce: u64,
        }

        impl<'a> Payload<'a> for $name {
            const COMMAND: Command = Command::$name;
            type Owned = $name;

            fn decode(input: &'a [u8], pver: u32) -> PResult<'a, Self> {
                require_pver(Self::COMMAND, pver)?;
                let (i, nonce) = u64_le(input)?;
                Ok((i, $name { nonce }))
            }

            fn encode<B: BufMut>(&self, buf: &mut B, pver: u32) -> Result<(), Error> {
                require_pver(Self::COMMAND, pver)?;
                buf.put_u64_le(self.nonce);
                Ok(())
            }

            fn serialized_size(&self, _pver: u32) -> usize {
                8
            }

            fn max_payload_length(_pver: u32) -> u32 {
                8
            }

            fn into_owned(self) -> Self::Owned {
                self
            }
        }
    };
}

nonce_message! {
    /// `ping`: checks the connection is alive. The nonce (carried at every
    /// protocol version) comes back in the matching [`Pong`].
    Ping
}

nonce_message! {
    /// `pong`: the answer to a [`Ping`], echoing its nonce.
    Pong
}

/// `feefilter`: asks the peer not to announce transactions paying less
/// than `min_fee`. Valid from protocol version 5 ([`pver::FEE_FILTER`](crate::pver::FEE_FILTER)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct FeeFilter {
    /// Minimum fee rate in atoms per kilobyte.
    #[cfg_attr(
        feature = "serde",
        serde(rename = "MinFee", deserialize_with = "crate::serde_impls::int")
    )]
    pub min_fee: i64,
}

impl<'a> Payload<'a> for FeeFilter {
    const COMMAND: Command = Command::FeeFilter;
    type Owned = FeeFilter;

    fn decode(input: &'a [u8], pver: u32) -> PResult<'a, Self> {
        require_pver(Self::COMMAND, pver)?;
        let (i, min_fee) = i64_le(input)?;
        Ok((i, FeeFilter { min_fee }))
    }

    fn encode<B: BufMut>(&self, buf: &mut B, pver: u32) -> Result<(), Error> {
        require_pver(Self::COMMAND, pver)?;
        buf.put_i64_le(self.min_fee);
        Ok(())
    }

    fn serialized_size(&self, _pver: u32) -> usize {
        8
    }

    /// 8 at every version: the reference does not lower it where the
    /// message is invalid (decoding refuses it there instead).
    fn max_payload_length(_pver: u32) -> u32 {
        8
    }

    fn into_owned(self) -> Self::Owned {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use crate::protocol::pver;
    use proptest::prelude::*;

    fn round_trip<'a, T: Payload<'a>>(m: &T, b: &'a mut Vec<u8>, p: u32) -> T {
        m.encode(b, p).unwrap();
        assert_eq!(b.len(), m.serialized_size(p));
        let (rest, d) = T::decode(b, p).unwrap();
        assert!(rest.is_empty());
        d
    }

    #[test]
    fn nonce_is_little_endian_and_required() {
        let mut b = Vec::new();
        Ping { nonce: 0x0102 }.encode(&mut b, 1).unwrap();
        assert_eq!(b, [2, 1, 0, 0, 0, 0, 0, 0]);
        let e = Pong::decode(&b[..7], 1).unwrap_err();
        assert_eq!(e, Error::eof(1));
        assert_eq!(Ping::max_payload_length(pver::INITIAL), 8);
    }

    #[test]
    fn feefilter_from_v5() {
        let m = FeeFilter { min_fee: 10_000 };
        let bytes = 10_000i64.to_le_bytes();
        for p in [pver::INITIAL, pver::FEE_FILTER - 1] {
            let e = m.encode(&mut Vec::new(), p).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::MsgInvalidForPVer);
            let e = FeeFilter::decode(&bytes, p).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::MsgInvalidForPVer);
            assert_eq!(FeeFilter::max_payload_length(p), 8);
        }
        assert_eq!(FeeFilter::decode(&bytes, pver::FEE_FILTER).unwrap().1, m);
    }

    proptest! {
        #[test]
        fn ping_pong_round_trip(nonce in any::<u64>(), p in pver::INITIAL..=pver::CURRENT) {
            prop_assert_eq!(round_trip(&Ping { nonce }, &mut Vec::new(), p), Ping { nonce });
            prop_assert_eq!(round_trip(&Pong { nonce }, &mut Vec::new(), p), Pong { nonce });
        }

        #[test]
        fn feefilter_round_trip(min_fee in any::<i64>(), p in pver::FEE_FILTER..=pver::CURRENT) {
            let m = FeeFilter { min_fee };
            prop_assert_eq!(round_trip(&m, &mut Vec::new(), p), m);
        }
    }
}
