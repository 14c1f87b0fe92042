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

use dcr_wire::{Hash, Hasher};

use crate::params::Params;

pub use dcr_gcs::proof::{generate_inclusion_proof, verify_inclusion_proof, FILTER_PROOF_INDEX};

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
