//! Merkle roots of transaction trees, by the rules of dcrd's
//! `blockchain/standalone` package: leaves are the transactions' full hashes
//! (prefix and witness), an odd level repeats its last node, each parent is
//! BLAKE-256 of its two children, and an empty tree has the zero hash.
//!
//! Which root a header commits to depends on the block: before header
//! commitments (DCP-0005) the merkle root covers the regular tree and the
//! stake root the stake tree; from then on the merkle root is the
//! combined root of both trees (and the stake root field holds the
//! commitment root, which covers the committed filter, not transactions).

use crate::hash::{blake256, Hash};
#[allow(unused_imports)]
use crate::prelude::*;
use crate::{Block, BlockTxHashes, TxHashes, TxTree};
use dcr_blake256::digest_many_64;

/// The merkle root of `leaves` (the vector is consumed as scratch space).
pub fn merkle_root_in_place(leaves: Vec<Hash>) -> Hash {
    let [root] = merkle_roots([leaves.into_iter().map(|h| h.0).collect()]);
    root
}

/// The roots of several trees, computed level by level with the nodes of
/// every tree's level hashed together, many at a time
/// ([`crate::blake256_many`]): each parent is a 64-byte message, its two
/// children side by side in the level's buffer.
fn merkle_roots<const K: usize>(mut trees: [Vec<[u8; 32]>; K]) -> [Hash; K] {
    // The levels of all trees still above their root, back to back, when
    // more than one is (one alone is hashed where it lies).
    let mut levels: Vec<[u8; 32]> = Vec::new();
    let mut parents: Vec<[u8; 32]> = Vec::new();
    loop {
        let mut active = 0;
        for level in trees.iter_mut().filter(|t| t.len() > 1) {
            if level.len() % 2 == 1 {
                let last = level[level.len() - 1];
                level.push(last);
            }
            active += 1;
        }
        let pairs: &[[u8; 32]] = match active {
            0 => break,
            1 => trees.iter().find(|t| t.len() > 1).map_or(&[], |t| t),
            _ => {
                levels.clear();
                for level in trees.iter().filter(|t| t.len() > 1) {
                    levels.extend_from_slice(level);
                }
                &levels
            }
        };
        let (msgs, _) = pairs.as_flattened().as_chunks::<64>();
        parents.clear();
        parents.resize(msgs.len(), [0; 32]);
        digest_many_64(msgs, &mut parents);
        let mut done = parents.iter();
        for level in trees.iter_mut().filter(|t| t.len() > 1) {
            let n = level.len() / 2;
            level.clear();
            level.extend(done.by_ref().take(n));
        }
    }
    trees.map(|t| t.first().map_or(Hash::ZERO, |h| Hash(*h)))
}

fn leaves(hashes: &[TxHashes]) -> Vec<[u8; 32]> {
    hashes.iter().map(|h| h.full.0).collect()
}

/// The merkle root of a transaction tree (leaves: full hashes, computed from
/// the received bytes).
pub fn tx_tree_merkle_root(tree: &TxTree<'_>) -> Hash {
    let [root] = merkle_roots([leaves(&tree.hashes())]);
    root
}

/// The regular and stake trees' roots of a block whose transactions were
/// hashed ([`Block::tx_hashes`]), both trees at once.
pub fn tree_roots(hashes: &BlockTxHashes) -> (Hash, Hash) {
    let [regular, stake] = merkle_roots([leaves(&hashes.regular), leaves(&hashes.stake)]);
    (regular, stake)
}

/// The combined root of both trees: BLAKE-256 of the regular root followed
/// by the stake root.
pub fn combined_tx_tree_merkle_root(block: &Block<'_>) -> Hash {
    let (regular, stake) = tree_roots(&block.tx_hashes());
    combine(&regular, &stake)
}

/// BLAKE-256 of two hashes one after the other: the combined root of the
/// regular and stake roots (merkle parents are the same, hashed in
/// batches by [`merkle_roots`]).
fn combine(left: &Hash, right: &Hash) -> Hash {
    let mut both = [0u8; 64];
    both[..32].copy_from_slice(&left.0);
    both[32..].copy_from_slice(&right.0);
    blake256(&both)
}

/// Which commitment rule a block's header follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MerkleRule {
    /// Merkle root over the regular tree, stake root over the stake tree.
    SeparateTrees,
    /// Header commitments (DCP-0005): merkle root over both trees.
    Combined,
    /// A genesis block: its header is hard-coded in the chain parameters
    /// with the coinbase's prefix hash as merkle root, and the reference
    /// never validates it against the rules above.
    Genesis,
}

/// Checks a block's header roots against its transactions and says which
/// rule they follow; `None` when neither matches (the transactions are not
/// the ones the header commits to).
pub fn check_block_roots(block: &Block<'_>) -> Option<MerkleRule> {
    check_block_roots_with(block, &block.tx_hashes())
}

/// [`check_block_roots`] with the transactions already hashed (by
/// [`Block::tx_hashes`]), for a caller that needs the hashes too.
pub fn check_block_roots_with(block: &Block<'_>, hashes: &BlockTxHashes) -> Option<MerkleRule> {
    let (regular, stake) = tree_roots(hashes);
    if block.header.merkle_root == regular && block.header.stake_root == stake {
        return Some(MerkleRule::SeparateTrees);
    }
    if block.header.merkle_root == combine(&regular, &stake) {
        return Some(MerkleRule::Combined);
    }
    let genesis = block.header.height == 0
        && hashes.regular.len() == 1
        && hashes.regular.first().map(|t| t.tx) == Some(block.header.merkle_root);
    genesis.then_some(MerkleRule::Genesis)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(b: u8) -> Hash {
        Hash([b; 32])
    }

    fn parent(a: Hash, b: Hash) -> Hash {
        combine(&a, &b)
    }

    /// The tree one parent at a time with the single-stream hash.
    fn one_by_one(mut level: Vec<Hash>) -> Hash {
        if level.is_empty() {
            return Hash::ZERO;
        }
        while level.len() > 1 {
            if level.len() % 2 == 1 {
                level.push(level[level.len() - 1]);
            }
            level = level.chunks_exact(2).map(|p| parent(p[0], p[1])).collect();
        }
        level[0]
    }

    fn distinct(n: usize, seed: u32) -> Vec<Hash> {
        (0..n as u32)
            .map(|i| blake256(&(i ^ seed.rotate_left(16)).to_le_bytes()))
            .collect()
    }

    #[test]
    fn batched_levels_match_one_parent_at_a_time() {
        for n in (0..70).chain([127, 128, 129, 255, 1000, 4096]) {
            let leaves = distinct(n, 1);
            assert_eq!(
                merkle_root_in_place(leaves.clone()),
                one_by_one(leaves),
                "{n} leaves"
            );
        }
        // Two trees of different heights hashed together level by level.
        for (a, b) in [(0, 5), (1, 1), (3, 17), (100, 2), (33, 0), (64, 65)] {
            let (x, y) = (distinct(a, 2), distinct(b, 3));
            let roots = merkle_roots([
                x.iter().map(|h| h.0).collect(),
                y.iter().map(|h| h.0).collect(),
            ]);
            assert_eq!(roots, [one_by_one(x), one_by_one(y)], "{a} and {b} leaves");
        }
    }

    #[test]
    fn shapes() {
        assert_eq!(merkle_root_in_place(vec![]), Hash::ZERO);
        assert_eq!(merkle_root_in_place(vec![h(1)]), h(1));
        assert_eq!(merkle_root_in_place(vec![h(1), h(2)]), parent(h(1), h(2)));
        // Three leaves: the third is paired with itself.
        assert_eq!(
            merkle_root_in_place(vec![h(1), h(2), h(3)]),
            parent(parent(h(1), h(2)), parent(h(3), h(3)))
        );
    }
}
