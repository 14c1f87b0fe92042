//! A chain held in memory for serving, as dcrd's block index holds it:
//! every block of every branch, keyed by hash with its parent and height,
//! and the main chain, the branch whose tip has the most cumulative work.
//! The locator rules dcrd's server answers `getheaders` and `getblocks`
//! with are here too ([`ChainStore::locate_headers`],
//! [`ChainStore::locate_blocks`]: dcrd `internal/blockchain/chain.go`
//! `locateInventory`).
//!
//! Lookups by hash see side branches (dcrd's `index.LookupNode`): a
//! `getdata` for a side block gets it, an empty locator whose stop hash is
//! a side block gets its header. Locators are searched on the main chain
//! only (`bestChain.Contains`). dcrd's `locateInventory`, rule by rule:
//!
//! - An empty locator asks for the stop block alone: `[stop]` when the
//!   index holds it, on any branch; nothing otherwise (a zero stop
//!   included).
//! - Otherwise the answer starts after the first locator hash, in the
//!   order sent, that is on the main chain (unknown and side-branch hashes
//!   are skipped); after the genesis block when there is none. Nothing
//!   when that is the tip.
//! - It runs to the stop block when the stop is on the main chain at or
//!   after the start; otherwise (unknown, side branch, behind the start)
//!   the stop is ignored and it runs to the tip.
//! - At most 2000 headers or 500 block hashes, along the main chain.

use std::collections::HashMap;

use dcr_wire::msg::MAX_BLOCK_HEADERS_PER_MSG;
use dcr_wire::{pver, Block, BlockHeader, Hash};

use crate::cfilter::{self, CommittedFilter, PrevScripts};
use crate::work::{calc_work, Work};

/// Most block hashes in one answer to `getblocks` (dcrd's
/// `wire.MaxBlocksPerMsg`).
pub const MAX_BLOCKS_PER_GETBLOCKS: usize = 500;

/// Why blocks do not make a chain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A block does not decode (its place among the blocks given).
    #[error("block {index}: {error}")]
    Block {
        /// Its place among the blocks given, from 0.
        index: usize,
        /// The wire error.
        error: dcr_wire::Error,
    },
    /// A block whose previous block is not held (and which is not the
    /// first, the genesis block).
    #[error("block {hash} at height {height} links to a block not held")]
    Unlinked {
        /// Its hash.
        hash: Hash,
        /// The height its header gives.
        height: u32,
    },
    /// A block whose height is not its parent's plus one.
    #[error("block {hash} claims height {height}, its parent is at {parent_height}")]
    Height {
        /// Its hash.
        hash: Hash,
        /// The height its header gives.
        height: u32,
        /// Its parent's height.
        parent_height: u32,
    },
    /// No block at all.
    #[error("empty chain")]
    Empty,
}

/// One block of the index (dcrd's `blockNode` with the block itself).
#[derive(Debug, Clone)]
struct Node {
    hash: Hash,
    header: BlockHeader,
    raw: bytes::Bytes,
    /// The parent's place in [`ChainStore::nodes`]; `None` for the
    /// genesis block.
    parent: Option<usize>,
    /// Cumulative work of the branch up to and including this block.
    work: Work,
    /// The version 2 filter, for blocks whose filter dcrd would have
    /// stored: those of the main chain (see [`ChainStore::filter`]).
    filter: Option<CommittedFilter>,
}

/// Blocks of any branch, indexed, with the main chain picked out.
#[derive(Debug, Clone)]
pub struct ChainStore {
    nodes: Vec<Node>,
    index: HashMap<Hash, usize>,
    /// The main chain: `main[h]` is the node at height `h`.
    main: Vec<usize>,
}

impl ChainStore {
    /// Checks and indexes `blocks`: the genesis block and blocks of any
    /// branch, in any order of height (the first block of the lowest
    /// height is the genesis block; every other block must link to one
    /// given, at its height plus one). The main chain ends at the tip with
    /// the most cumulative work; between equal tips, the one given first
    /// (dcrd keeps its tip against a rival of equal work). A block given
    /// twice counts once.
    ///
    /// Each main-chain block's version 2 committed filter is built here
    /// (dcrd builds it when it connects the block), from the block and
    /// the scripts of the outputs it spends.
    pub fn new(blocks: Vec<Vec<u8>>) -> Result<ChainStore, StoreError> {
        let mut decoded = Vec::with_capacity(blocks.len());
        for (index, raw) in blocks.into_iter().enumerate() {
            let header = Block::from_bytes(&raw, pver::CURRENT)
                .map_err(|error| StoreError::Block { index, error })?
                .header;
            decoded.push((header, raw));
        }
        // Parents before children; blocks of one height keep their order.
        decoded.sort_by_key(|(h, _)| h.height);
        let mut store = ChainStore {
            nodes: Vec::with_capacity(decoded.len()),
            index: HashMap::with_capacity(decoded.len()),
            main: Vec::new(),
        };
        for (header, raw) in decoded {
            let hash = header.block_hash();
            if store.index.contains_key(&hash) {
                continue;
            }
            let parent = if store.nodes.is_empty() {
                None
            } else {
                let Some(&p) = store.index.get(&header.prev_block) else {
                    return Err(StoreError::Unlinked {
                        hash,
                        height: header.height,
                    });
                };
                let parent_height = store.nodes[p].header.height;
                if header.height != parent_height.wrapping_add(1) {
                    return Err(StoreError::Height {
                        hash,
                        height: header.height,
                        parent_height,
                    });
                }
                Some(p)
            };
            let below = parent.map_or(Work::ZERO, |p| store.nodes[p].work);
            store.index.insert(hash, store.nodes.len());
            store.nodes.push(Node {
                hash,
                header,
                raw: bytes::Bytes::from(raw),
                parent,
                work: below.saturating_add(calc_work(header.bits)),
                filter: None,
            });
        }
        if store.nodes.is_empty() {
            return Err(StoreError::Empty);
        }
        // The first of the tips with the most work.
        let mut tip = 0;
        for (i, n) in store.nodes.iter().enumerate() {
            if n.work > store.nodes[tip].work {
                tip = i;
            }
        }
        let mut main = Vec::with_capacity(store.nodes[tip].header.height as usize + 1);
        let mut at = Some(tip);
        while let Some(i) = at {
            main.push(i);
            at = store.nodes[i].parent;
        }
        main.reverse();
        store.main = main;
        store.build_filters();
        Ok(store)
    }

    /// Builds the filter of every main-chain block, in height order, with
    /// the outputs of the blocks before it (and its own) at hand.
    fn build_filters(&mut self) {
        let mut outputs = PrevScripts::default();
        for h in 0..self.main.len() {
            let i = self.main[h];
            let node = &self.nodes[i];
            // Validated when indexed.
            let Ok(block) = Block::from_bytes(&node.raw, pver::CURRENT) else {
                continue;
            };
            outputs.add_block(&block);
            let filter = match cfilter::regular(&block, &outputs) {
                Ok(f) => Some(f),
                Err(e) => {
                    tracing::warn!(block = %node.hash, error = %e, "no committed filter");
                    None
                }
            };
            self.nodes[i].filter = filter;
        }
    }

    /// Blocks on the main chain, the genesis block included (the tip's
    /// height plus one).
    pub fn len(&self) -> usize {
        self.main.len()
    }

    /// Never true: a store holds at least the genesis block.
    pub fn is_empty(&self) -> bool {
        self.main.is_empty()
    }

    /// Blocks held on every branch.
    pub fn block_count(&self) -> usize {
        self.nodes.len()
    }

    /// The main chain's tip: its hash and height.
    pub fn tip(&self) -> (Hash, i64) {
        let n = self.tip_node();
        (n.hash, i64::from(n.header.height))
    }

    fn tip_node(&self) -> &Node {
        // `new` refuses an empty store.
        &self.nodes[self.main[self.main.len() - 1]]
    }

    /// The main chain tip's cumulative work (dcrd `ChainWork` of the best
    /// block).
    pub fn tip_work(&self) -> Work {
        self.tip_node().work
    }

    /// The hash of the main-chain block at `height`.
    pub fn main_hash(&self, height: u32) -> Option<Hash> {
        self.main.get(height as usize).map(|&i| self.nodes[i].hash)
    }

    /// The serialized block with `hash`, on any branch (dcrd
    /// `BlockByHash`).
    pub fn block(&self, hash: &Hash) -> Option<&bytes::Bytes> {
        self.index.get(hash).map(|&i| &self.nodes[i].raw)
    }

    /// The header of the block with `hash`, on any branch.
    pub fn header(&self, hash: &Hash) -> Option<&BlockHeader> {
        self.index.get(hash).map(|&i| &self.nodes[i].header)
    }

    /// Whether the block with `hash` is on the main chain.
    pub fn is_main(&self, hash: &Hash) -> bool {
        self.index.get(hash).is_some_and(|&i| self.on_main(i))
    }

    fn on_main(&self, i: usize) -> bool {
        let h = self.nodes[i].header.height as usize;
        self.main.get(h) == Some(&i)
    }

    /// The version 2 committed filter of the block with `hash`, if held
    /// (dcrd `FilterByBlockHash`). dcrd stores a block's filter when it
    /// connects the block, so a side block has one only if it was once on
    /// the main chain; blocks given to this store carry no such history,
    /// so side blocks have none (the filter of a block that was never
    /// connected, which dcrd never serves, is the common case: a side
    /// block arriving behind a longer chain).
    pub fn filter(&self, hash: &Hash) -> Option<&CommittedFilter> {
        self.index
            .get(hash)
            .and_then(|&i| self.nodes[i].filter.as_ref())
    }

    /// Total size of all blocks held.
    pub fn total_bytes(&self) -> usize {
        self.nodes.iter().map(|n| n.raw.len()).sum()
    }

    /// The ancestor of node `i` at `height`, if `height` is not above it
    /// (dcrd `blockNode.Ancestor`).
    fn ancestor(&self, mut i: usize, height: u32) -> Option<usize> {
        if height > self.nodes[i].header.height {
            return None;
        }
        // Down a side branch to the main chain, then by height.
        while !self.on_main(i) {
            if self.nodes[i].header.height == height {
                return Some(i);
            }
            i = self.nodes[i].parent?;
        }
        self.main.get(height as usize).copied()
    }

    /// The blocks from `start` to `end`, both included, when both are held,
    /// `start` is an ancestor of `end` (or `end` itself) and they are at
    /// most `max`: their hashes in height order (dcrd `LocateCFiltersV2`'s
    /// checks in its order, then its walk along parents from the end).
    /// `None` otherwise.
    pub fn range(&self, start: &Hash, end: &Hash, max: usize) -> Option<Vec<Hash>> {
        let (&s, &e) = (self.index.get(start)?, self.index.get(end)?);
        let start_height = self.nodes[s].header.height;
        if self.ancestor(e, start_height) != Some(s) {
            return None;
        }
        if (self.nodes[e].header.height - start_height) as usize >= max {
            return None;
        }
        let mut out = Vec::with_capacity((self.nodes[e].header.height - start_height) as usize + 1);
        let mut at = e;
        loop {
            out.push(self.nodes[at].hash);
            if at == s {
                break;
            }
            at = self.nodes[at].parent?;
        }
        out.reverse();
        Some(out)
    }

    /// Headers after the locator, up to and including `stop`, at most
    /// 2000 (dcrd `LocateHeaders`, by `locateInventory`'s rules: see the
    /// module documentation).
    pub fn locate_headers(&self, locator: &[Hash], stop: &Hash) -> Vec<BlockHeader> {
        self.locate(locator, stop, MAX_BLOCK_HEADERS_PER_MSG as usize)
            .into_iter()
            .map(|i| self.nodes[i].header)
            .collect()
    }

    /// Block hashes after the locator, up to and including `stop`, at
    /// most 500 (dcrd `LocateBlocks` with `wire.MaxBlocksPerMsg`, by the
    /// same rules).
    pub fn locate_blocks(&self, locator: &[Hash], stop: &Hash) -> Vec<Hash> {
        self.locate(locator, stop, MAX_BLOCKS_PER_GETBLOCKS)
            .into_iter()
            .map(|i| self.nodes[i].hash)
            .collect()
    }

    /// dcrd's `locateInventory` (the rules in the module documentation),
    /// at most `max` entries: the main-chain nodes to answer with.
    fn locate(&self, locator: &[Hash], stop: &Hash, max: usize) -> Vec<usize> {
        let stop_node = self.index.get(stop).copied();
        if locator.is_empty() {
            return stop_node.into_iter().collect();
        }
        let found = locator
            .iter()
            .filter_map(|h| self.index.get(h))
            .find(|&&i| self.on_main(i))
            .map_or(0, |&i| self.nodes[i].header.height as usize);
        let start = found + 1;
        let tip = self.main.len() - 1;
        if start > tip {
            return Vec::new();
        }
        let end = match stop_node {
            Some(s) if self.on_main(s) && self.nodes[s].header.height as usize >= start => {
                self.nodes[s].header.height as usize
            }
            _ => tip,
        };
        let total = (end - start + 1).min(max);
        self.main[start..start + total].to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::{build_branch, build_chain};

    /// A 10-block main chain (heights 0 to 9) and a two-block side branch
    /// off height 5 (heights 6 and 7).
    fn forked() -> (ChainStore, Vec<Hash>) {
        let main = build_chain(10);
        let side = build_branch(&main[5], 2, 0xf0);
        let side_hashes = side
            .iter()
            .map(|b| Block::from_bytes(b, pver::CURRENT).unwrap().block_hash())
            .collect();
        let mut all = main;
        all.extend(side);
        (ChainStore::new(all).unwrap(), side_hashes)
    }

    fn heights(c: &ChainStore, headers: &[BlockHeader]) -> Vec<u32> {
        headers
            .iter()
            .inspect(|h| assert!(c.is_main(&h.block_hash()) || h.height > 5))
            .map(|h| h.height)
            .collect()
    }

    fn h(c: &ChainStore, height: u32) -> Hash {
        c.main_hash(height).unwrap()
    }

    #[test]
    fn l1_an_empty_locator_asks_for_the_stop_block_alone() {
        let (c, _) = forked();
        assert_eq!(heights(&c, &c.locate_headers(&[], &h(&c, 7))), vec![7]);
        assert_eq!(c.locate_blocks(&[], &h(&c, 7)), vec![h(&c, 7)]);
        assert!(c.locate_headers(&[], &Hash::ZERO).is_empty());
        assert!(c.locate_headers(&[], &Hash([0xee; 32])).is_empty());
        assert!(c.locate_blocks(&[], &Hash::ZERO).is_empty());
    }

    #[test]
    fn l2_an_empty_locator_with_stop_genesis_gets_the_genesis_block() {
        let (c, _) = forked();
        assert_eq!(heights(&c, &c.locate_headers(&[], &h(&c, 0))), vec![0]);
        assert_eq!(c.locate_blocks(&[], &h(&c, 0)), vec![h(&c, 0)]);
    }

    #[test]
    fn l3_an_empty_locator_with_a_side_stop_gets_the_side_block() {
        let (c, side) = forked();
        let got = c.locate_headers(&[], &side[1]);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].block_hash(), side[1]);
        assert_eq!(c.locate_blocks(&[], &side[1]), vec![side[1]]);
    }

    #[test]
    fn l4_the_first_locator_hash_on_the_main_chain_is_the_start() {
        let (c, side) = forked();
        // Unknown and side-branch hashes are skipped, in the order sent.
        let locator = [side[1], Hash([9; 32]), side[0], h(&c, 3), h(&c, 8)];
        assert_eq!(
            heights(&c, &c.locate_headers(&locator, &Hash::ZERO)),
            vec![4, 5, 6, 7, 8, 9]
        );
        // Older first: the first one sent wins.
        assert_eq!(
            heights(&c, &c.locate_headers(&[h(&c, 3), h(&c, 8)], &Hash::ZERO)),
            vec![4, 5, 6, 7, 8, 9]
        );
        // None known: after the genesis block.
        assert_eq!(c.locate_headers(&[Hash([9; 32])], &Hash::ZERO).len(), 9);
        assert_eq!(c.locate_headers(&[side[0]], &Hash::ZERO).len(), 9);
    }

    #[test]
    fn l5_nothing_follows_the_tip() {
        let (c, _) = forked();
        assert!(c.locate_headers(&[c.tip().0], &Hash::ZERO).is_empty());
        assert!(c.locate_blocks(&[c.tip().0], &h(&c, 2)).is_empty());
    }

    #[test]
    fn l6_a_stop_on_the_main_chain_at_or_after_the_start_ends_the_answer() {
        let (c, _) = forked();
        assert_eq!(
            heights(&c, &c.locate_headers(&[h(&c, 3)], &h(&c, 6))),
            vec![4, 5, 6]
        );
        // The stop at the start itself: one entry.
        assert_eq!(c.locate_blocks(&[h(&c, 3)], &h(&c, 4)), vec![h(&c, 4)]);
    }

    #[test]
    fn l7_a_stop_behind_the_start_is_ignored() {
        let (c, _) = forked();
        // Behind the start, and the locator's own block.
        for stop in [h(&c, 1), h(&c, 3)] {
            assert_eq!(
                heights(&c, &c.locate_headers(&[h(&c, 3)], &stop)),
                vec![4, 5, 6, 7, 8, 9]
            );
            assert_eq!(c.locate_blocks(&[h(&c, 3)], &stop).len(), 6);
        }
    }

    #[test]
    fn l8_an_unknown_or_side_stop_is_ignored() {
        let (c, side) = forked();
        for stop in [Hash([7; 32]), side[0], side[1]] {
            assert_eq!(
                heights(&c, &c.locate_headers(&[h(&c, 3)], &stop)),
                vec![4, 5, 6, 7, 8, 9]
            );
        }
    }

    #[test]
    fn l9_answers_hold_at_most_2000_headers_and_500_hashes() {
        let c = ChainStore::new(build_chain(2_503)).unwrap();
        assert_eq!(c.locate_headers(&[h(&c, 0)], &Hash::ZERO).len(), 2_000);
        let got = c.locate_blocks(&[h(&c, 0)], &Hash::ZERO);
        assert_eq!(got.len(), 500);
        assert_eq!(got[499], h(&c, 500));
        assert_eq!(c.locate_headers(&[h(&c, 502)], &Hash::ZERO).len(), 2_000);
        assert_eq!(c.locate_headers(&[h(&c, 503)], &Hash::ZERO).len(), 1_999);
    }

    #[test]
    fn s6_s21_side_blocks_are_held_and_served_by_hash() {
        let (c, side) = forked();
        assert_eq!(c.block_count(), 12);
        assert_eq!(c.len(), 10);
        assert_eq!(c.tip().1, 9);
        for s in &side {
            assert!(c.block(s).is_some());
            assert!(!c.is_main(s));
            assert!(c.header(s).is_some());
        }
        assert!(c.block(&Hash([3; 32])).is_none());
    }

    #[test]
    fn the_main_chain_is_the_branch_with_the_most_work() {
        // The side branch outgrows the main chain: it becomes the main
        // chain, whatever the order the blocks come in.
        let main = build_chain(6);
        let side = build_branch(&main[2], 5, 0xf1);
        let side_tip = Block::from_bytes(&side[4], pver::CURRENT)
            .unwrap()
            .block_hash();
        let mut all: Vec<Vec<u8>> = side.iter().rev().cloned().collect();
        all.extend(main.iter().cloned());
        let c = ChainStore::new(all).unwrap();
        assert_eq!(c.tip(), (side_tip, 7));
        assert_eq!(c.block_count(), 11);
        // Equal work: the tip given first stays.
        let other = build_branch(&main[4], 1, 0xf2);
        let mut all = main.clone();
        all.extend(other.iter().cloned());
        let c = ChainStore::new(all).unwrap();
        assert_eq!(
            c.tip().0,
            Block::from_bytes(&main[5], pver::CURRENT)
                .unwrap()
                .block_hash()
        );
    }

    #[test]
    fn s19_main_chain_blocks_have_filters_side_blocks_none() {
        let (c, side) = forked();
        for height in 0..10 {
            let f = c.filter(&h(&c, height)).unwrap();
            // One coinbase output each, and no proof hashes beside the
            // only commitment.
            assert_eq!(dcr_gcs::Filter::from_bytes(&f.data).unwrap().n(), 1);
            assert!(f.proof_hashes.is_empty());
            assert_eq!(f.proof_index, 0);
        }
        for s in &side {
            assert!(c.filter(s).is_none());
        }
        assert!(c.filter(&Hash([4; 32])).is_none());
    }

    #[test]
    fn the_corpus_chain_loads_with_a_filter_per_block() {
        let Some(blocks) = crate::chain::corpus_chain_for_tests() else {
            return;
        };
        let c = ChainStore::new(blocks).unwrap();
        assert_eq!(c.len(), 169);
        for height in 0..169 {
            assert!(c.filter(&h(&c, height)).is_some(), "{height}");
        }
    }

    #[test]
    fn ranges_follow_ancestry() {
        let (c, side) = forked();
        let r = c.range(&h(&c, 2), &h(&c, 4), 100).unwrap();
        assert_eq!(r, vec![h(&c, 2), h(&c, 3), h(&c, 4)]);
        assert_eq!(c.range(&h(&c, 4), &h(&c, 4), 1).unwrap(), vec![h(&c, 4)]);
        assert_eq!(
            c.range(&h(&c, 4), &side[1], 4).unwrap(),
            vec![h(&c, 4), h(&c, 5), side[0], side[1]]
        );
        // Too many, reversed, off the branch, unknown.
        assert_eq!(c.range(&h(&c, 2), &h(&c, 4), 2), None);
        assert_eq!(c.range(&h(&c, 4), &h(&c, 2), 100), None);
        assert_eq!(c.range(&h(&c, 6), &side[1], 100), None);
        assert_eq!(c.range(&side[0], &h(&c, 8), 100), None);
        assert_eq!(c.range(&Hash([1; 32]), &h(&c, 8), 100), None);
    }

    #[test]
    fn blocks_that_make_no_chain_are_refused() {
        assert_eq!(ChainStore::new(vec![]).unwrap_err(), StoreError::Empty);
        // A block whose parent is not given.
        let main = build_chain(3);
        let orphan = build_branch(&main[2], 2, 0xf3).remove(1);
        let mut blocks = main.clone();
        blocks.push(orphan);
        assert!(matches!(
            ChainStore::new(blocks),
            Err(StoreError::Unlinked { height: 4, .. })
        ));
        // A height that does not follow its parent's.
        let mut gap = main.clone();
        gap.extend(build_branch(&main[2], 1, 0xf4).into_iter().map(|b| {
            use dcr_wire::Payload;
            let mut blk = Block::from_bytes(&b, pver::CURRENT).unwrap();
            blk.header.height = 9;
            let mut out = Vec::new();
            blk.encode(&mut out, pver::CURRENT).unwrap();
            out
        }));
        assert!(matches!(
            ChainStore::new(gap),
            Err(StoreError::Height {
                height: 9,
                parent_height: 2,
                ..
            })
        ));
        assert!(matches!(
            ChainStore::new(vec![main[0].clone(), vec![1, 2, 3]]),
            Err(StoreError::Block { index: 1, .. })
        ));
        // Given twice: held once.
        let mut twice = main.clone();
        twice.push(main[1].clone());
        assert_eq!(ChainStore::new(twice).unwrap().block_count(), 3);
    }
}
