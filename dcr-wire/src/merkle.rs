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
use crate::msg::{Block, TxTree};

/// The merkle root of `leaves`, computed in place (the vector is consumed
/// as scratch space).
pub fn merkle_root_in_place(mut leaves: Vec<Hash>) -> Hash {
    if leaves.is_empty() {
        return Hash::ZERO;
    }
    while leaves.len() > 1 {
        if leaves.len() % 2 == 1 {
            let last = leaves[leaves.len() - 1];
            leaves.push(last);
        }
        for i in 0..leaves.len() / 2 {
            leaves[i] = combine(&leaves[2 * i], &leaves[2 * i + 1]);
        }
        leaves.truncate(leaves.len() / 2);
    }
    leaves[0]
}

/// The merkle root of a transaction tree (leaves: full hashes, computed from
/// the received bytes).
pub fn tx_tree_merkle_root(tree: &TxTree<'_>) -> Hash {
    let mut leaves = Vec::with_capacity(tree.len() + 1);
    leaves.extend(tree.raw_txs().map(|tx| tx.full_hash()));
    merkle_root_in_place(leaves)
}

/// The combined root of both trees: BLAKE-256 of the regular root followed
/// by the stake root.
pub fn combined_tx_tree_merkle_root(block: &Block<'_>) -> Hash {
    combine(
        &tx_tree_merkle_root(&block.txs),
        &tx_tree_merkle_root(&block.stake_txs),
    )
}

/// BLAKE-256 of two hashes one after the other: a merkle parent, and the
/// combined root of the regular and stake roots.
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
    let regular = tx_tree_merkle_root(&block.txs);
    let stake = tx_tree_merkle_root(&block.stake_txs);
    if block.header.merkle_root == regular && block.header.stake_root == stake {
        return Some(MerkleRule::SeparateTrees);
    }
    if block.header.merkle_root == combine(&regular, &stake) {
        return Some(MerkleRule::Combined);
    }
    let genesis = block.header.height == 0
        && block.txs.len() == 1
        && block.txs.raw_txs().next().map(|t| t.tx_hash()) == Some(block.header.merkle_root);
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
