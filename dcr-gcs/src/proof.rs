//! Header commitments (DCP-0005): how a block header commits to its
//! block's version 2 filter, and the merkle inclusion proofs that show it.
//!
//! Since DCP-0005 a header's `stake_root` field holds the commitment root:
//! the merkle root of the header commitments, of which there is one today,
//! the filter hash, at leaf [`FILTER_PROOF_INDEX`] (dcrd
//! `internal/blockchain/headercmt.go`: `HeaderCmtFilterIndex`,
//! `v1Leaves`, `CalcCommitmentRootV1`). A serving node sends the proof
//! beside the filter (`FilterByBlockHash`, `LocateCFiltersV2`:
//! [`generate_inclusion_proof`] over [`commitment_leaves_v1`]); a light
//! client checks it ([`verify_inclusion_proof`]). Both are dcrd's
//! `blockchain/standalone` `GenerateInclusionProof` and
//! `VerifyInclusionProof`.

use dcr_wire::{blake256, Hash};

/// The proof index of the filter commitment (dcrd
/// `HeaderCmtFilterIndex`).
pub const FILTER_PROOF_INDEX: u32 = 0;

/// The leaves of a version 1 header commitment: the filter hash alone
/// (dcrd `headerCommitmentData.v1Leaves`).
pub fn commitment_leaves_v1(filter_hash: Hash) -> [Hash; 1] {
    [filter_hash]
}

/// The commitment root a version 1 header carries: the merkle root of one
/// leaf is that leaf (dcrd `CalcCommitmentRootV1`).
pub fn commitment_root_v1(filter_hash: Hash) -> Hash {
    filter_hash
}

fn parent(left: &Hash, right: &Hash) -> Hash {
    let mut both = [0u8; 64];
    both[..32].copy_from_slice(&left.0);
    both[32..].copy_from_slice(&right.0);
    blake256(&both)
}

/// Whether `leaf` at `leaf_index`, with the sibling hashes of `proof` from
/// the bottom up, hashes up to `root` (dcrd
/// `standalone.VerifyInclusionProof`): proofs of more than 32 hashes and
/// indexes beyond `2^len - 1` fail.
pub fn verify_inclusion_proof(root: &Hash, leaf: &Hash, leaf_index: u32, proof: &[Hash]) -> bool {
    if proof.len() > 32 {
        return false;
    }
    let max_index = ((1u64 << proof.len()) - 1) as u32;
    if leaf_index > max_index {
        return false;
    }
    let mut index = leaf_index;
    let mut node = *leaf;
    for sibling in proof {
        node = if index & 1 != 0 {
            parent(sibling, &node)
        } else {
            parent(&node, sibling)
        };
        index >>= 1;
    }
    node == *root
}

/// The proof for `leaves[leaf_index]` of the merkle tree over `leaves`
/// (dcrd `standalone.GenerateInclusionProof`, an odd level pairing its last
/// node with itself); `None` for an index out of range.
pub fn generate_inclusion_proof(leaves: &[Hash], leaf_index: u32) -> Option<Vec<Hash>> {
    if leaf_index as usize >= leaves.len() {
        return None;
    }
    let mut level = leaves.to_vec();
    let mut index = leaf_index as usize;
    let mut proof = Vec::new();
    while level.len() > 1 {
        if level.len() % 2 == 1 {
            level.push(level[level.len() - 1]);
        }
        proof.push(level[index ^ 1]);
        level = level
            .chunks_exact(2)
            .map(|p| parent(&p[0], &p[1]))
            .collect();
        index /= 2;
    }
    Some(proof)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn leaves(n: usize) -> Vec<Hash> {
        (0..n as u32).map(|i| blake256(&i.to_le_bytes())).collect()
    }

    #[test]
    fn one_leaf_needs_no_proof() {
        // Today's header commitment: the root is the filter hash itself.
        let l = leaves(1);
        assert_eq!(commitment_root_v1(l[0]), l[0]);
        assert_eq!(
            generate_inclusion_proof(&commitment_leaves_v1(l[0]), FILTER_PROOF_INDEX),
            Some(vec![])
        );
        assert!(verify_inclusion_proof(&l[0], &l[0], 0, &[]));
        assert!(!verify_inclusion_proof(&l[0], &l[0], 1, &[]));
        assert!(!verify_inclusion_proof(&Hash::ZERO, &l[0], 0, &[]));
    }

    #[test]
    fn proofs_verify_against_dcr_wire_merkle_roots() {
        for n in 1..40 {
            let l = leaves(n);
            let root = dcr_wire::merkle::merkle_root_in_place(l.clone());
            for i in 0..n as u32 {
                let proof = generate_inclusion_proof(&l, i).unwrap();
                assert!(
                    verify_inclusion_proof(&root, &l[i as usize], i, &proof),
                    "{n} {i}"
                );
                // Any other leaf, index or sibling fails.
                let other = blake256(b"other");
                assert!(!verify_inclusion_proof(&root, &other, i, &proof));
                if n > 1 {
                    // (A last odd leaf is its own sibling: both sides hash
                    // alike there.)
                    if proof[0] != l[i as usize] {
                        assert!(!verify_inclusion_proof(
                            &root,
                            &l[i as usize],
                            i ^ 1,
                            &proof
                        ));
                    }
                    let mut bad = proof.clone();
                    bad[0].0[0] ^= 1;
                    assert!(!verify_inclusion_proof(&root, &l[i as usize], i, &bad));
                }
            }
            assert_eq!(generate_inclusion_proof(&l, n as u32), None);
        }
    }

    #[test]
    fn proof_bounds() {
        let l = leaves(4);
        let proof = generate_inclusion_proof(&l, 3).unwrap();
        let root = dcr_wire::merkle::merkle_root_in_place(l.clone());
        // Index past 2^len - 1.
        assert!(!verify_inclusion_proof(&root, &l[3], 4, &proof));
        // More than 32 hashes.
        assert!(!verify_inclusion_proof(&root, &l[3], 3, &[Hash::ZERO; 33]));
    }

    proptest! {
        #[test]
        fn arbitrary_proofs_never_panic(
            index in any::<u32>(),
            proof in proptest::collection::vec(any::<[u8; 32]>().prop_map(Hash), 0..40),
        ) {
            let _ = verify_inclusion_proof(&Hash::ZERO, &Hash::ZERO, index, &proof);
        }
    }
}
