//! `miningstate`: the blocks at the tip of a peer's chain and the votes it
//! holds for them, so a miner that just connected can start work at once.

#[allow(unused_imports)]
use crate::prelude::*;
use bytes::BufMut;

use super::list::ListView;
use super::{require_pver, Command, Payload};
use crate::error::{Error, ErrorKind};
use crate::hash::{Hash, HASH_SIZE};
use crate::primitives::{
    check_count, hash, hashes_size, list, put_hashes, u32_le, var_int_size, PResult,
};

/// Most block hashes one `miningstate` may carry.
pub const MAX_MS_BLOCKS_AT_HEAD_PER_MSG: u64 = 8;

/// Most vote hashes one `miningstate` may carry (five votes for each of the
/// blocks).
pub const MAX_MS_VOTES_AT_HEAD_PER_MSG: u64 = 40;

/// `miningstate`, the answer to `getminings`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct MiningState {
    /// Version of this message's content.
    #[cfg_attr(
        feature = "serde",
        serde(rename = "Version", deserialize_with = "crate::serde_impls::int")
    )]
    pub version: u32,
    /// Height of the blocks listed.
    #[cfg_attr(
        feature = "serde",
        serde(rename = "Height", deserialize_with = "crate::serde_impls::int")
    )]
    pub height: u32,
    /// Blocks at the tip, at most [`MAX_MS_BLOCKS_AT_HEAD_PER_MSG`]
    /// (ErrTooManyBlocks).
    #[cfg_attr(feature = "serde", serde(rename = "BlockHashes"))]
    pub block_hashes: Vec<Hash>,
    /// Votes on those blocks, at most [`MAX_MS_VOTES_AT_HEAD_PER_MSG`]
    /// (ErrTooManyVotes).
    #[cfg_attr(feature = "serde", serde(rename = "VoteHashes"))]
    pub vote_hashes: Vec<Hash>,
}

/// The `miningstate` content version the reference writes.
pub const MINING_STATE_VERSION: u32 = 1;

impl MiningState {
    /// An empty state with version [`MINING_STATE_VERSION`] and height 0,
    /// as the reference's `NewMsgMiningState` builds it. (`Default` gives
    /// version 0.)
    pub fn new() -> MiningState {
        MiningState {
            version: MINING_STATE_VERSION,
            ..MiningState::default()
        }
    }
}

/// A `miningstate` payload with its hash lists read in place: the
/// zero-copy form of [`MiningState`], with its checks and errors. At most
/// [`MAX_MS_BLOCKS_AT_HEAD_PER_MSG`] blocks (ErrTooManyBlocks) and
/// [`MAX_MS_VOTES_AT_HEAD_PER_MSG`] votes (ErrTooManyVotes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MiningStateView<'a> {
    /// Version of this message's content.
    pub version: u32,
    /// Height of the blocks listed.
    pub height: u32,
    /// Blocks at the tip.
    pub block_hashes: ListView<'a, Hash>,
    /// Votes on those blocks.
    pub vote_hashes: ListView<'a, Hash>,
}

impl<'a> MiningStateView<'a> {
    /// Reads the fields from the front of `input` (no version gate).
    pub fn parse(input: &'a [u8]) -> PResult<'a, MiningStateView<'a>> {
        let (i, version) = u32_le(input)?;
        let (i, height) = u32_le(i)?;
        let (i, block_hashes) = ListView::parse(
            i,
            MAX_MS_BLOCKS_AT_HEAD_PER_MSG,
            ErrorKind::TooManyBlocks,
            "block hashes",
            hash,
        )?;
        let (i, vote_hashes) = ListView::parse(
            i,
            MAX_MS_VOTES_AT_HEAD_PER_MSG,
            ErrorKind::TooManyVotes,
            "vote hashes",
            hash,
        )?;
        Ok((
            i,
            MiningStateView {
                version,
                height,
                block_hashes,
                vote_hashes,
            },
        ))
    }
}

fn check_blocks(n: usize) -> Result<(), Error> {
    check_count(
        n as u64,
        MAX_MS_BLOCKS_AT_HEAD_PER_MSG,
        ErrorKind::TooManyBlocks,
        "block hashes",
    )
}

fn check_votes(n: usize) -> Result<(), Error> {
    check_count(
        n as u64,
        MAX_MS_VOTES_AT_HEAD_PER_MSG,
        ErrorKind::TooManyVotes,
        "vote hashes",
    )
}

impl<'a> Payload<'a> for MiningState {
    const COMMAND: Command = Command::MiningState;
    type Owned = MiningState;

    fn decode(input: &'a [u8], pver: u32) -> PResult<'a, Self> {
        require_pver(Self::COMMAND, pver)?;
        let (i, version) = u32_le(input)?;
        let (i, height) = u32_le(i)?;
        let (i, block_hashes) = list(
            i,
            MAX_MS_BLOCKS_AT_HEAD_PER_MSG,
            ErrorKind::TooManyBlocks,
            "block hashes",
            HASH_SIZE,
            hash,
        )?;
        let (i, vote_hashes) = list(
            i,
            MAX_MS_VOTES_AT_HEAD_PER_MSG,
            ErrorKind::TooManyVotes,
            "vote hashes",
            HASH_SIZE,
            hash,
        )?;
        let msg = MiningState {
            version,
            height,
            block_hashes,
            vote_hashes,
        };
        Ok((i, msg))
    }

    fn encode<B: BufMut>(&self, buf: &mut B, pver: u32) -> Result<(), Error> {
        require_pver(Self::COMMAND, pver)?;
        check_blocks(self.block_hashes.len())?;
        check_votes(self.vote_hashes.len())?;
        buf.put_u32_le(self.version);
        buf.put_u32_le(self.height);
        put_hashes(buf, &self.block_hashes);
        put_hashes(buf, &self.vote_hashes);
        Ok(())
    }

    fn serialized_size(&self, _pver: u32) -> usize {
        4 + 4 + hashes_size(&self.block_hashes) + hashes_size(&self.vote_hashes)
    }

    fn max_payload_length(_pver: u32) -> u32 {
        let blocks = var_int_size(MAX_MS_BLOCKS_AT_HEAD_PER_MSG)
            + MAX_MS_BLOCKS_AT_HEAD_PER_MSG as usize * HASH_SIZE;
        let votes = var_int_size(MAX_MS_VOTES_AT_HEAD_PER_MSG)
            + MAX_MS_VOTES_AT_HEAD_PER_MSG as usize * HASH_SIZE;
        (4 + 4 + blocks + votes) as u32
    }

    fn into_owned(self) -> Self::Owned {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::primitives::put_var_int;
    use proptest::prelude::*;

    #[test]
    fn new_sets_the_reference_version() {
        let m = MiningState::new();
        assert_eq!((m.version, m.height), (1, 0));
        assert!(m.block_hashes.is_empty() && m.vote_hashes.is_empty());
        assert_eq!(MiningState::default().version, 0);
    }

    fn decode(b: &[u8]) -> Result<MiningState, Error> {
        let (rest, m) = MiningState::decode(b, 1)?;
        crate::primitives::expect_end(rest)?;
        Ok(m)
    }

    #[test]
    fn block_limit_checked_before_hashes() {
        let mut b = vec![1, 0, 0, 0, 2, 0, 0, 0];
        put_var_int(&mut b, MAX_MS_BLOCKS_AT_HEAD_PER_MSG + 1);
        assert_eq!(decode(&b).unwrap_err().kind(), ErrorKind::TooManyBlocks);
        let m = MiningState {
            block_hashes: vec![Hash::ZERO; 9],
            ..MiningState::default()
        };
        let mut out = Vec::new();
        assert_eq!(
            m.encode(&mut out, 1).unwrap_err().kind(),
            ErrorKind::TooManyBlocks
        );
        assert!(out.is_empty());
    }

    #[test]
    fn vote_limit_checked_before_hashes() {
        let mut b = vec![0u8; 8];
        put_var_int(&mut b, 0);
        put_var_int(&mut b, MAX_MS_VOTES_AT_HEAD_PER_MSG + 1);
        assert_eq!(decode(&b).unwrap_err().kind(), ErrorKind::TooManyVotes);
        let m = MiningState {
            vote_hashes: vec![Hash::ZERO; 41],
            ..MiningState::default()
        };
        let mut out = Vec::new();
        assert_eq!(
            m.encode(&mut out, 1).unwrap_err().kind(),
            ErrorKind::TooManyVotes
        );
        assert!(out.is_empty());
    }

    #[test]
    fn max_payload_length_matches_reference() {
        assert_eq!(MiningState::max_payload_length(1), 1546);
    }

    proptest! {
        #[test]
        fn round_trip(
            version in any::<u32>(),
            height in any::<u32>(),
            blocks in proptest::collection::vec(any::<[u8; 32]>(), 0..=8),
            votes in proptest::collection::vec(any::<[u8; 32]>(), 0..=40),
        ) {
            let m = MiningState {
                version,
                height,
                block_hashes: blocks.into_iter().map(Hash).collect(),
                vote_hashes: votes.into_iter().map(Hash).collect(),
            };
            let mut b = Vec::new();
            m.encode(&mut b, 1).unwrap();
            prop_assert_eq!(b.len(), m.serialized_size(1));
            prop_assert_eq!(decode(&b).unwrap(), m);
        }
    }
}
