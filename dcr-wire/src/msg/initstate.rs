//! `getinitstate` and `initstate` (from protocol version 8): a new peer
//! asks for the state a node keeps at the chain tip (tip blocks, their
//! votes, treasury spends) and gets their hashes.

#[allow(unused_imports)]
use crate::prelude::*;
use alloc::borrow::Cow;

use bytes::BufMut;

use super::list::ListView;
use super::{require_pver, Command, Payload};
use crate::error::{Error, ErrorKind};
use crate::hash::{Hash, HASH_SIZE};
use crate::primitives::{
    ascii_var_string, check_count, hash, is_strict_ascii, list, put_var_bytes, put_var_int,
    var_bytes_size, var_int_size, PResult,
};
use crate::protocol::pver;

/// Longest state type name.
pub const MAX_INIT_STATE_TYPE_LEN: u64 = 32;
/// Most state types one request may name.
pub const MAX_INIT_STATE_TYPES: u64 = 32;
/// Most tip block hashes in an `initstate`.
pub const MAX_IS_BLOCKS_AT_HEAD_PER_MSG: u64 = 8;
/// Most vote hashes in an `initstate` (8 blocks, 5 votes each).
pub const MAX_IS_VOTES_AT_HEAD_PER_MSG: u64 = 40;
/// Most treasury spend hashes in an `initstate`.
pub const MAX_IS_TSPENDS_AT_HEAD_PER_MSG: u64 = 7;

/// Well-known state type names.
pub mod init_state_type {
    /// Blocks at the chain tip.
    pub const HEAD_BLOCKS: &str = "headblocks";
    /// Votes on the blocks at the tip.
    pub const HEAD_BLOCK_VOTES: &str = "headblockvotes";
    /// Treasury spends in the mempool.
    pub const TSPENDS: &str = "tspends";
}

/// `getinitstate`: which kinds of tip state the sender wants.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct GetInitState<'a> {
    /// Type names, printable ASCII, at most 32 bytes each.
    #[cfg_attr(feature = "serde", serde(rename = "Types"))]
    pub types: Vec<Cow<'a, str>>,
}

impl<'a> GetInitState<'a> {
    /// Reads the type names in place, from the front of `input` (no version
    /// gate): at most [`MAX_INIT_STATE_TYPES`] (ErrTooManyInitStateTypes),
    /// each strict ASCII of at most [`MAX_INIT_STATE_TYPE_LEN`] bytes. The
    /// zero-copy form of the message, with its decoder's checks and errors.
    pub fn parse_view(input: &'a [u8]) -> PResult<'a, ListView<'a, &'a str>> {
        ListView::parse(
            input,
            MAX_INIT_STATE_TYPES,
            ErrorKind::TooManyInitStateTypes,
            "init state types",
            |i| ascii_var_string(i, MAX_INIT_STATE_TYPE_LEN),
        )
    }
}

impl<'a> Payload<'a> for GetInitState<'a> {
    const COMMAND: Command = Command::GetInitState;
    type Owned = GetInitState<'static>;

    fn decode(input: &'a [u8], pv: u32) -> PResult<'a, Self> {
        require_pver(Self::COMMAND, pv)?;
        let (i, types) = list(
            input,
            MAX_INIT_STATE_TYPES,
            ErrorKind::TooManyInitStateTypes,
            "init state types",
            1,
            |i| {
                let (i, s) = ascii_var_string(i, MAX_INIT_STATE_TYPE_LEN)?;
                Ok((i, Cow::Borrowed(s)))
            },
        )?;
        Ok((i, GetInitState { types }))
    }

    fn encode<B: BufMut>(&self, buf: &mut B, pv: u32) -> Result<(), Error> {
        require_pver(Self::COMMAND, pv)?;
        check_count(
            self.types.len() as u64,
            MAX_INIT_STATE_TYPES,
            ErrorKind::TooManyInitStateTypes,
            "init state types",
        )?;
        for t in &self.types {
            check_count(
                t.len() as u64,
                MAX_INIT_STATE_TYPE_LEN,
                ErrorKind::InitStateTypeTooLong,
                "init state type length",
            )?;
            if !is_strict_ascii(t.as_bytes()) {
                return Err(Error::invalid(
                    ErrorKind::MalformedStrictString,
                    "init state type is not strict ASCII",
                ));
            }
        }
        put_var_int(buf, self.types.len() as u64);
        for t in &self.types {
            put_var_bytes(buf, t.as_bytes());
        }
        Ok(())
    }

    fn serialized_size(&self, _pver: u32) -> usize {
        var_int_size(self.types.len() as u64)
            + self
                .types
                .iter()
                .map(|t| var_bytes_size(t.as_bytes()))
                .sum::<usize>()
    }

    fn max_payload_length(pv: u32) -> u32 {
        if pv < pver::INIT_STATE {
            return 0;
        }
        let per_type = var_int_size(MAX_INIT_STATE_TYPE_LEN) + MAX_INIT_STATE_TYPE_LEN as usize;
        (var_int_size(MAX_INIT_STATE_TYPES) + MAX_INIT_STATE_TYPES as usize * per_type) as u32
    }

    fn into_owned(self) -> GetInitState<'static> {
        GetInitState {
            types: self
                .types
                .into_iter()
                .map(|t| Cow::Owned(t.into_owned()))
                .collect(),
        }
    }
}

/// `initstate`: the tip state asked for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct InitState {
    /// Hashes of the tip blocks.
    #[cfg_attr(feature = "serde", serde(rename = "BlockHashes"))]
    pub block_hashes: Vec<Hash>,
    /// Votes on the tip blocks.
    #[cfg_attr(feature = "serde", serde(rename = "VoteHashes"))]
    pub vote_hashes: Vec<Hash>,
    /// Treasury spends in the mempool.
    #[cfg_attr(feature = "serde", serde(rename = "TSpendHashes"))]
    pub tspend_hashes: Vec<Hash>,
}

/// The three hash lists, with their limits and error codes, in wire order.
const LISTS: [(u64, ErrorKind, &str); 3] = [
    (
        MAX_IS_BLOCKS_AT_HEAD_PER_MSG,
        ErrorKind::TooManyBlocks,
        "tip block hashes",
    ),
    (
        MAX_IS_VOTES_AT_HEAD_PER_MSG,
        ErrorKind::TooManyVotes,
        "vote hashes",
    ),
    (
        MAX_IS_TSPENDS_AT_HEAD_PER_MSG,
        ErrorKind::TooManyTSpends,
        "treasury spend hashes",
    ),
];

/// An `initstate` payload with its hash lists read in place: the zero-copy
/// form of [`InitState`], with its checks and errors. Each list within its limit
/// (ErrTooManyBlocks, ErrTooManyVotes, ErrTooManyTSpends), as dcrd's
/// `MsgInitState.BtcDecode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InitStateView<'a> {
    /// Hashes of the tip blocks.
    pub block_hashes: ListView<'a, Hash>,
    /// Votes on the tip blocks.
    pub vote_hashes: ListView<'a, Hash>,
    /// Treasury spends in the mempool.
    pub tspend_hashes: ListView<'a, Hash>,
}

impl<'a> InitStateView<'a> {
    /// Reads the fields from the front of `input` (no version gate).
    pub fn parse(input: &'a [u8]) -> PResult<'a, InitStateView<'a>> {
        let [blocks, votes, tspends] = LISTS;
        let one = |i, (max, kind, what): (u64, ErrorKind, &'static str)| {
            ListView::parse(i, max, kind, what, hash)
        };
        let (i, block_hashes) = one(input, blocks)?;
        let (i, vote_hashes) = one(i, votes)?;
        let (i, tspend_hashes) = one(i, tspends)?;
        Ok((
            i,
            InitStateView {
                block_hashes,
                vote_hashes,
                tspend_hashes,
            },
        ))
    }
}

impl InitState {
    fn lists(&self) -> [&Vec<Hash>; 3] {
        [&self.block_hashes, &self.vote_hashes, &self.tspend_hashes]
    }
}

impl<'a> Payload<'a> for InitState {
    const COMMAND: Command = Command::InitState;
    type Owned = InitState;

    fn decode(input: &'a [u8], pv: u32) -> PResult<'a, Self> {
        require_pver(Self::COMMAND, pv)?;
        let mut out: [Vec<Hash>; 3] = Default::default();
        let mut i = input;
        for (slot, (max, kind, what)) in out.iter_mut().zip(LISTS) {
            let (r, hashes) = list(i, max, kind, what, HASH_SIZE, hash)?;
            *slot = hashes;
            i = r;
        }
        let [block_hashes, vote_hashes, tspend_hashes] = out;
        Ok((
            i,
            InitState {
                block_hashes,
                vote_hashes,
                tspend_hashes,
            },
        ))
    }

    fn encode<B: BufMut>(&self, buf: &mut B, pv: u32) -> Result<(), Error> {
        require_pver(Self::COMMAND, pv)?;
        for (l, (max, kind, what)) in self.lists().into_iter().zip(LISTS) {
            check_count(l.len() as u64, max, kind, what)?;
        }
        for l in self.lists() {
            put_var_int(buf, l.len() as u64);
            for h in l {
                buf.put_slice(&h.0);
            }
        }
        Ok(())
    }

    fn serialized_size(&self, _pver: u32) -> usize {
        self.lists()
            .iter()
            .map(|l| var_int_size(l.len() as u64) + l.len() * HASH_SIZE)
            .sum()
    }

    fn max_payload_length(pv: u32) -> u32 {
        if pv < pver::INIT_STATE {
            return 0;
        }
        LISTS
            .iter()
            .map(|(max, _, _)| (var_int_size(*max) + *max as usize * HASH_SIZE) as u32)
            .sum()
    }

    fn into_owned(self) -> InitState {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn hashes(max: usize) -> impl Strategy<Value = Vec<Hash>> {
        proptest::collection::vec(any::<[u8; 32]>().prop_map(Hash), 0..=max)
    }

    proptest! {
        #[test]
        fn initstate_round_trip(b in hashes(8), v in hashes(40), t in hashes(7)) {
            let m = InitState { block_hashes: b, vote_hashes: v, tspend_hashes: t };
            let mut buf = Vec::new();
            m.encode(&mut buf, 8).unwrap();
            prop_assert_eq!(buf.len(), m.serialized_size(8));
            prop_assert_eq!(InitState::decode(&buf, 8).unwrap().1, m);
        }

        #[test]
        fn getinitstate_round_trip(types in proptest::collection::vec("[ -~]{0,32}", 0..32)) {
            let m = GetInitState { types: types.into_iter().map(Cow::Owned).collect() };
            let mut buf = Vec::new();
            m.encode(&mut buf, 8).unwrap();
            prop_assert_eq!(buf.len(), m.serialized_size(8));
            prop_assert_eq!(GetInitState::decode(&buf, 8).unwrap().1, m);
        }
    }

    fn kind<T: std::fmt::Debug>(r: PResult<'_, T>) -> ErrorKind {
        r.unwrap_err().kind()
    }

    #[test]
    fn limits_and_versions() {
        assert_eq!(
            kind(InitState::decode(&[0], 7)),
            ErrorKind::MsgInvalidForPVer
        );
        assert_eq!(kind(InitState::decode(&[9], 8)), ErrorKind::TooManyBlocks);
        assert_eq!(
            kind(InitState::decode(&[0, 41], 8)),
            ErrorKind::TooManyVotes
        );
        assert_eq!(
            kind(InitState::decode(&[0, 0, 8], 8)),
            ErrorKind::TooManyTSpends
        );
        assert_eq!(
            kind(GetInitState::decode(&[33], 8)),
            ErrorKind::TooManyInitStateTypes
        );
        assert_eq!(
            kind(GetInitState::decode(&[1, 1, 0x7f], 8)),
            ErrorKind::MalformedStrictString
        );
        let long = GetInitState {
            types: vec![Cow::Owned("x".repeat(33))],
        };
        assert_eq!(
            long.encode(&mut Vec::new(), 8).unwrap_err().kind(),
            ErrorKind::InitStateTypeTooLong
        );
        assert_eq!(
            <InitState as Payload>::max_payload_length(8),
            1 + 256 + 1 + 1280 + 1 + 224
        );
    }
}
