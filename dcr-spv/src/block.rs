//! A fetched block proved against its header: the header is the one the
//! chain holds (same hash) and the transactions are the ones it commits to
//! (merkle roots); then the transactions that concern the watch list.
//!
//! Sources: dcrwallet `spv/sync.go` (`scanChain`: `validate.MerkleRoots`,
//! else `validate.DCP0005MerkleRoot`, else the peer is disconnected) and
//! `spv/rescan.go` (`rescanBlock`); the roots are dcr-wire's
//! (`merkle::check_block_roots`, dcrd `standalone` merkle rules).

use dcr_wire::merkle::{check_block_roots_with, MerkleRule};
use dcr_wire::msg::tree;
use dcr_wire::{Block, Hash};

use crate::watch::{MatchedTx, WatchList};

/// Why a block does not match its header (the peer that sent it is to be
/// banned).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlockError {
    /// The bytes are no block (the wire's decode error).
    #[error("the block does not decode")]
    Decode(#[source] dcr_wire::Error),
    /// A block other than the one asked for.
    #[error("block {got} is not the block {expected} asked for")]
    WrongBlock {
        /// The hash asked for.
        expected: Hash,
        /// The hash of the block's header.
        got: Hash,
    },
    /// The transactions are not those the header commits to: neither the
    /// separate regular and stake roots nor DCP-0005's combined root.
    #[error("transactions of block {block} do not match its merkle roots")]
    MerkleRoots {
        /// The block.
        block: Hash,
    },
}

/// A block proved against its header, with what concerns the watch list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedBlock {
    /// The block's hash.
    pub hash: Hash,
    /// Which root rule its header follows.
    pub rule: MerkleRule,
    /// Transactions that concern the watch list: stake tree first, then
    /// regular, as dcrwallet scans them.
    pub matches: Vec<MatchedTx>,
}

/// Proves a block (`bytes`, a `block` message's payload at protocol
/// version `pver`) against the hash of the header the chain holds, and
/// matches its transactions against `watch` (which learns the outputs they
/// pay).
pub fn check_block(
    bytes: &[u8],
    pver: u32,
    expected: &Hash,
    watch: &mut WatchList,
) -> Result<CheckedBlock, BlockError> {
    let block = Block::from_bytes(bytes, pver).map_err(BlockError::Decode)?;
    check_decoded_block(&block, expected, watch)
}

/// [`check_block`] for a block already decoded (a typed request's
/// answer).
pub fn check_decoded_block(
    block: &Block<'_>,
    expected: &Hash,
    watch: &mut WatchList,
) -> Result<CheckedBlock, BlockError> {
    let hash = block.block_hash();
    if hash != *expected {
        return Err(BlockError::WrongBlock {
            expected: *expected,
            got: hash,
        });
    }
    let hashes = block.tx_hashes();
    let rule = match check_block_roots_with(block, &hashes) {
        Some(MerkleRule::Genesis) if block.header.height != 0 => None,
        r => r,
    }
    .ok_or(BlockError::MerkleRoots { block: hash })?;
    let stake = block
        .stake_txs
        .iter()
        .zip(hashes.stake.iter().map(|h| h.tx))
        .map(|(t, h)| (h, t));
    let mut matches = watch.check_tree(stake, tree::STAKE);
    let regular = block
        .txs
        .iter()
        .zip(hashes.regular.iter().map(|h| h.tx))
        .map(|(t, h)| (h, t));
    matches.extend(watch.check_tree(regular, tree::REGULAR));
    Ok(CheckedBlock {
        hash,
        rule,
        matches,
    })
}
