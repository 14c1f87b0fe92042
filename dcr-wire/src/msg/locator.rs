//! `getblocks` and `getheaders`: a block locator (hashes from our tip back
//! towards genesis) and a stop hash.

#[allow(unused_imports)]
use crate::prelude::*;
use bytes::BufMut;

use super::list::ListView;
use super::{require_pver, Command, Payload};
use crate::error::{Error, ErrorKind};
use crate::hash::{Hash, HASH_SIZE};
use crate::primitives::{check_count, hash, list, put_var_int, u32_le, var_int_size, PResult};
use crate::protocol::pver;

/// Most locator hashes one request may carry.
pub const MAX_BLOCK_LOCATORS_PER_MSG: u64 = 500;

/// The fields of a `getblocks` or `getheaders` payload, the locator read in
/// place: the zero-copy form of [`GetBlocks`] and [`GetHeaders`], which
/// collect it. A var-int count of at most [`MAX_BLOCK_LOCATORS_PER_MSG`]
/// hashes (ErrTooManyLocators, as dcrd's `MsgGetBlocks.BtcDecode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockLocatorView<'a> {
    /// The sender's protocol version.
    pub protocol_version: u32,
    /// Known block hashes, newest first.
    pub block_locator_hashes: ListView<'a, Hash>,
    /// Where to stop (zero: as far as allowed).
    pub hash_stop: Hash,
}

impl<'a> BlockLocatorView<'a> {
    /// Reads the fields from the front of `input` (no version gate: both
    /// messages exist at every version).
    pub fn parse(input: &'a [u8]) -> PResult<'a, BlockLocatorView<'a>> {
        let (i, protocol_version) = u32_le(input)?;
        let (i, block_locator_hashes) = ListView::parse(
            i,
            MAX_BLOCK_LOCATORS_PER_MSG,
            ErrorKind::TooManyLocators,
            "block locator hashes",
            hash,
        )?;
        let (i, hash_stop) = hash(i)?;
        Ok((
            i,
            BlockLocatorView {
                protocol_version,
                block_locator_hashes,
                hash_stop,
            },
        ))
    }
}

/// Declares a locator request message.
macro_rules! locator_message {
    ($(#[$doc:meta])* $name:ident = $cmd:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Default)]
        #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
        #[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
        pub struct $name {
            /// The sender's protocol version.
            #[cfg_attr(feature = "serde", serde(rename = "ProtocolVersion", deserialize_with = "crate::serde_impls::int"))]
            pub protocol_version: u32,
            /// Known block hashes, newest first.
            #[cfg_attr(feature = "serde", serde(rename = "BlockLocatorHashes"))]
            pub block_locator_hashes: Vec<Hash>,
            /// Where to stop (zero: as far as allowed).
            #[cfg_attr(feature = "serde", serde(rename = "HashStop"))]
            pub hash_stop: Hash,
        }

        impl<'a> Payload<'a> for $name {
            const COMMAND: Command = Command::$cmd;
            type Owned = $name;

            fn decode(input: &'a [u8], pver: u32) -> PResult<'a, Self> {
                require_pver(Self::COMMAND, pver)?;
                let (i, protocol_version) = u32_le(input)?;
                let (i, block_locator_hashes) = list(
                    i,
                    MAX_BLOCK_LOCATORS_PER_MSG,
                    ErrorKind::TooManyLocators,
                    "block locator hashes",
                    HASH_SIZE,
                    hash,
                )?;
                let (i, hash_stop) = hash(i)?;
                Ok((i, $name { protocol_version, block_locator_hashes, hash_stop }))
            }

            fn encode<B: BufMut>(&self, buf: &mut B, pver: u32) -> Result<(), Error> {
                require_pver(Self::COMMAND, pver)?;
                check_count(
                    self.block_locator_hashes.len() as u64,
                    MAX_BLOCK_LOCATORS_PER_MSG,
                    ErrorKind::TooManyLocators,
                    "block locator hashes",
                )?;
                buf.put_u32_le(self.protocol_version);
                put_var_int(buf, self.block_locator_hashes.len() as u64);
                for h in &self.block_locator_hashes {
                    buf.put_slice(&h.0);
                }
                buf.put_slice(&self.hash_stop.0);
                Ok(())
            }

            fn serialized_size(&self, _pver: u32) -> usize {
                4 + var_int_size(self.block_locator_hashes.len() as u64)
                    + (self.block_locator_hashes.len() + 1) * HASH_SIZE
            }

            fn max_payload_length(_pver: u32) -> u32 {
                (4 + var_int_size(MAX_BLOCK_LOCATORS_PER_MSG)
                    + (MAX_BLOCK_LOCATORS_PER_MSG as usize + 1) * HASH_SIZE) as u32
            }

            fn into_owned(self) -> Self::Owned {
                self
            }
        }
    };
}

locator_message!(
    /// `getblocks`: asks for an `inv` of the blocks after the locator.
    GetBlocks = GetBlocks
);
locator_message!(
    /// `getheaders`: asks for the headers after the locator.
    GetHeaders = GetHeaders
);

impl GetBlocks {
    /// A request up to `hash_stop` with no locator hashes yet, stamped with
    /// this crate's protocol version ([`pver::CURRENT`]), as the reference's
    /// `NewMsgGetBlocks` stamps its own. (`Default` gives version 0.)
    pub fn new(hash_stop: Hash) -> GetBlocks {
        GetBlocks {
            protocol_version: pver::CURRENT,
            block_locator_hashes: Vec::new(),
            hash_stop,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn locators_round_trip(
            pv in any::<u32>(),
            hashes in proptest::collection::vec(any::<[u8; 32]>().prop_map(Hash), 0..30),
            stop in any::<[u8; 32]>().prop_map(Hash),
        ) {
            let m = GetHeaders { protocol_version: pv, block_locator_hashes: hashes.clone(), hash_stop: stop };
            let mut buf = Vec::new();
            m.encode(&mut buf, 12).unwrap();
            prop_assert_eq!(buf.len(), m.serialized_size(12));
            prop_assert_eq!(GetHeaders::decode(&buf, 12).unwrap().1, m);
            let m = GetBlocks { protocol_version: pv, block_locator_hashes: hashes, hash_stop: stop };
            let mut buf = Vec::new();
            m.encode(&mut buf, 12).unwrap();
            prop_assert_eq!(GetBlocks::decode(&buf, 12).unwrap().1, m);
        }
    }

    #[test]
    fn get_blocks_new_stamps_the_current_version() {
        let m = GetBlocks::new(Hash([3; 32]));
        assert_eq!(m.protocol_version, pver::CURRENT);
        assert_eq!(m.hash_stop, Hash([3; 32]));
        assert!(m.block_locator_hashes.is_empty());
    }

    #[test]
    fn too_many_locators() {
        let b = [0, 0, 0, 0, 0xfd, 0xf5, 0x01];
        let e = GetBlocks::decode(&b, 12).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::TooManyLocators);
        let m = GetHeaders {
            block_locator_hashes: vec![Hash::ZERO; 501],
            ..GetHeaders::default()
        };
        assert_eq!(
            m.encode(&mut Vec::new(), 12).unwrap_err().kind(),
            ErrorKind::TooManyLocators
        );
    }
}
