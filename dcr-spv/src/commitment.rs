//! Header commitments (DCP-0005): how a header commits to its block's
//! version 2 filter, and how filters from before the commitments are
//! checked.
//!
//! Since DCP-0005 a header's `stake_root` field holds the commitment root:
//! the merkle root of the commitments, of which there is one today, the
//! filter hash, at leaf index 0 (dcrd `internal/blockchain/headercmt.go`,
//! `CalcCommitmentRootV1`, `HeaderCmtFilterIndex`). A peer sends the proof
//! with the filter; [`verify_inclusion_proof`] is dcrd's
//! `standalone.VerifyInclusionProof`, used as dcrwallet's
//! `validate.CFilterV2HeaderCommitment` uses it. Filters of blocks before
//! the activation are checked as dcrwallet's
//! `ValidatePreDCP0005CFilters` checks them: BLAKE-256 over all of them, in
//! height order, against a hash known in advance ([`PreCommitmentSet`]).

use dcr_wire::{blake256, Hash, Hasher};

use crate::params::Params;

/// The proof index of the filter commitment (dcrd
/// `HeaderCmtFilterIndex`).
pub const FILTER_PROOF_INDEX: u32 = 0;

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
/// node with itself); `None` for an index out of range. For servers and
/// tests.
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

/// How a filter stands against its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Commitment {
    /// The header commits to it and the proof holds.
    Proven,
    /// The block predates the commitments on a network with a known hash
    /// of all such filters: the filter is checked with the rest of the set
    /// ([`PreCommitmentSet`]).
    BeforeCommitments,
    /// Nothing a light client holds can check it: the genesis block, a
    /// network whose activation is decided by votes not yet known from
    /// headers, or a pre-commitment block of a network without a set hash.
    Unverifiable,
}

/// Why a filter fails against its header (a peer that sends it is to be
/// banned).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid header inclusion proof for the filter of block {block}")]
pub struct ProofError {
    /// The block.
    pub block: Hash,
}

/// Checks a filter against the header of its block (dcrwallet
/// `validate.CFilterV2HeaderCommitment`): from DCP-0005's activation the
/// filter hash must prove into the header's commitment root.
pub fn check_commitment(
    params: &Params,
    height: u32,
    block: &Hash,
    commitment_root: &Hash,
    filter_data: &[u8],
    proof_index: u32,
    proof: &[Hash],
) -> Result<Commitment, ProofError> {
    match params.dcp0005.active_at(height, params) {
        Some(true) => {
            let leaf = crate::gcs::filter_hash(filter_data);
            if verify_inclusion_proof(commitment_root, &leaf, proof_index, proof) {
                Ok(Commitment::Proven)
            } else {
                Err(ProofError { block: *block })
            }
        }
        Some(false) if height > 0 && params.pre_dcp0005_cfilter_set_hash.is_some() => {
            Ok(Commitment::BeforeCommitments)
        }
        _ => Ok(Commitment::Unverifiable),
    }
}

/// The check of all filters before DCP-0005 as one set (dcrwallet
/// `ValidatePreDCP0005CFilters` and `validate.PreDCP0005CFilterHash`):
/// BLAKE-256 of every filter from genesis up to the block before activation,
/// back to back, against the network's known hash. Feed filters in height
/// order.
#[derive(Clone)]
pub struct PreCommitmentSet {
    hasher: Hasher,
    next_height: u32,
    end: u32,
    expected: Hash,
}

/// What the pre-commitment set says once complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PreCommitmentError {
    /// A filter out of height order.
    #[error("filter for height {got} fed where {expected} was due")]
    OutOfOrder {
        /// The height due.
        expected: u32,
        /// The height fed.
        got: u32,
    },
    /// The set's hash is not the known one: some filter of the set is
    /// wrong, and nothing tells which (dcrwallet's answer is its
    /// `repaircfilters` tool: import known-good filters).
    #[error("hash of the filters before header commitments is {got}, expected {expected}")]
    Mismatch {
        /// The known hash.
        expected: Hash,
        /// The hash of the filters received.
        got: Hash,
    },
}

impl PreCommitmentSet {
    /// The set of `params`' network; `None` where there is none to check.
    pub fn new(params: &Params) -> Option<PreCommitmentSet> {
        let expected = params.pre_dcp0005_cfilter_set_hash?;
        let crate::params::Activation::At(end) = params.dcp0005 else {
            return None;
        };
        Some(PreCommitmentSet {
            hasher: Hasher::new(),
            next_height: 0,
            end,
            expected,
        })
    }

    /// The height of the next filter due; the set is complete when it
    /// reaches the activation height.
    pub fn next_height(&self) -> u32 {
        self.next_height
    }

    /// Adds the filter of block `height`. Returns `Ok(true)` when that
    /// completed the set and its hash is the known one.
    pub fn add(&mut self, height: u32, filter_data: &[u8]) -> Result<bool, PreCommitmentError> {
        if height != self.next_height || height >= self.end {
            return Err(PreCommitmentError::OutOfOrder {
                expected: self.next_height,
                got: height,
            });
        }
        self.hasher.update(filter_data);
        self.next_height += 1;
        if self.next_height < self.end {
            return Ok(false);
        }
        let got = self.hasher.clone().finish();
        if got == self.expected {
            Ok(true)
        } else {
            Err(PreCommitmentError::Mismatch {
                expected: self.expected,
                got,
            })
        }
    }
}

impl std::fmt::Debug for PreCommitmentSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreCommitmentSet")
            .field("next_height", &self.next_height)
            .field("end", &self.end)
            .finish()
    }
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
        assert_eq!(generate_inclusion_proof(&l, 0), Some(vec![]));
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

    #[test]
    fn pre_commitment_set_in_order() {
        let mut p = crate::params::mainnet().clone();
        p.dcp0005 = crate::params::Activation::At(3);
        let mut h = Hasher::new();
        h.update(b"f0").update(b"").update(b"f2");
        p.pre_dcp0005_cfilter_set_hash = Some(h.finish());
        let mut set = PreCommitmentSet::new(&p).unwrap();
        assert_eq!(
            set.add(1, b""),
            Err(PreCommitmentError::OutOfOrder {
                expected: 0,
                got: 1
            })
        );
        assert_eq!(set.add(0, b"f0"), Ok(false));
        assert_eq!(set.add(1, b""), Ok(false));
        assert_eq!(set.add(2, b"f2"), Ok(true));
        let mut bad = PreCommitmentSet::new(&p).unwrap();
        bad.add(0, b"f0").unwrap();
        bad.add(1, b"x").unwrap();
        assert!(matches!(
            bad.add(2, b"f2"),
            Err(PreCommitmentError::Mismatch { .. })
        ));
    }
}
