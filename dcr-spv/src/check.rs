//! The rules a header must satisfy given only earlier headers: each is a
//! function of the header and the branch it extends, returning a typed
//! [`HeaderError`].
//!
//! Sources: dcrd `internal/blockchain/validate.go` (`checkBlockHeaderSanity`,
//! `checkProofOfWorkSanity`, `checkBlockHeaderPositional`,
//! `checkDifficultyPositional`, the stake difficulty of
//! `checkBlockHeaderContext`), dcrwallet `wallet/difficulty.go`
//! (`validateHeaderChainDifficulties`) and `wallet/checkpoints.go`.

use dcr_wire::{BlockHeader, Hash};

use crate::difficulty::{check_difficulty, possibly_blake3, AnchorCache, DifficultyError};
use crate::facts::{Ancestors, HashedHeader};
use crate::params::{Activation, Params};
use crate::pow::{check_pow_range, PowError, Target};
use crate::stakediff::{next_stake_diff_v1, next_stake_diff_v2};

/// dcrd's `MaxTimeOffsetSeconds`: how far past the local clock a header's
/// timestamp may be.
pub const MAX_TIME_OFFSET_SECONDS: i64 = 2 * 60 * 60;

/// dcrd's `medianTimeBlocks`.
pub const MEDIAN_TIME_BLOCKS: usize = 11;

/// Why a header is refused. Every variant but [`TimeTooNew`](Self::TimeTooNew)
/// is a consensus violation that no honest node relays (see
/// [`crate::Misbehaviour`] for what a networking layer does with each).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    /// The header's parent is not the block it claims to extend (a batch
    /// of headers that does not link up).
    #[error("header {hash} does not link to the previous header {expected_prev}")]
    BadLink {
        /// The header's hash.
        hash: Hash,
        /// The hash it should have named as parent.
        expected_prev: Hash,
    },
    /// The height is not the parent's plus one (dcrd `ErrBadBlockHeight`).
    #[error("block header commits to height {got}, its chain height is {expected}")]
    BadHeight {
        /// The chain height.
        expected: u32,
        /// The header's height field.
        got: u32,
    },
    /// Proof of work fails under both hashes (dcrd `checkProofOfWorkSanity`).
    #[error(transparent)]
    Pow(#[from] PowError),
    /// The bits differ from the difficulty rules.
    #[error(transparent)]
    Difficulty(#[from] DifficultyError),
    /// The stake difficulty differs from the rules (dcrd
    /// `ErrUnexpectedDifficulty` on `SBits`).
    #[error("block stake difficulty of {got} is not the expected value of {expected}")]
    StakeDifficulty {
        /// The required stake difficulty.
        expected: i64,
        /// The header's.
        got: i64,
    },
    /// The timestamp is not after the median of the last eleven blocks
    /// (dcrd `ErrTimeTooOld`).
    #[error("block timestamp {got} is not after the median time {median}")]
    TimeTooOld {
        /// The median time past.
        median: u32,
        /// The header's timestamp.
        got: u32,
    },
    /// The testnet's one-minute spacing at maximum difficulty (dcrd
    /// `ErrTimeTooOld`, testnet branch).
    #[error("testnet block timestamp {got} is before the required {min}")]
    TestnetTimeTooOld {
        /// The earliest allowed.
        min: u32,
        /// The header's timestamp.
        got: u32,
    },
    /// More than two hours past the local clock (dcrd `ErrTimeTooNew`): not
    /// invalid forever, only for now.
    #[error("block timestamp {got} is too far in the future (now {now})")]
    TimeTooNew {
        /// The local time given.
        now: i64,
        /// The header's timestamp.
        got: u32,
    },
    /// Votes or revocations before stake validation height (dcrd
    /// `ErrInvalidEarlyStakeTx`).
    #[error(
        "block at height {height} commits to stake transactions before stake validation height"
    )]
    EarlyStakeTx {
        /// The header's height.
        height: u32,
    },
    /// Vote bits other than 0x0001 before stake validation height (dcrd
    /// `ErrInvalidEarlyVoteBits`).
    #[error("block at height {height} has vote bits {got:#06x} before stake validation height")]
    EarlyVoteBits {
        /// The header's height.
        height: u32,
        /// Its vote bits.
        got: u16,
    },
    /// A non-zero final state before stake validation height (dcrd
    /// `ErrInvalidEarlyFinalState`).
    #[error("block at height {height} has a final state before stake validation height")]
    EarlyFinalState {
        /// The header's height.
        height: u32,
    },
    /// Fewer votes than a majority of the tickets per block (dcrd
    /// `ErrNotEnoughVotes`).
    #[error("block commits to {}, at least {min} are required", dcr_wire::Counted(u64::from(*got), "vote", "votes"))]
    NotEnoughVotes {
        /// The majority.
        min: u16,
        /// The header's voters.
        got: u16,
    },
    /// More votes than tickets per block (dcrd `ErrTooManyVotes`).
    #[error("block commits to {got} votes, at most {max} are allowed")]
    TooManyVotes {
        /// Tickets per block.
        max: u16,
        /// The header's voters.
        got: u16,
    },
    /// More ticket purchases than allowed (dcrd `ErrTooManySStxs`).
    #[error("block commits to {got} ticket purchases, at most {max} are allowed")]
    TooManyFreshStake {
        /// The limit.
        max: u8,
        /// The header's fresh stake.
        got: u8,
    },
    /// A different block at a checkpoint's height (dcrwallet
    /// `BadCheckpoint`, dcrd `ErrBadMaxDiffCheckpoint`).
    #[error("block {hash} at height {height} does not match the checkpoint")]
    Checkpoint {
        /// The height.
        height: u32,
        /// The header's hash.
        hash: Hash,
    },
    /// A fork from before the fork rejection point (dcrd `ErrForkTooOld`).
    #[error("block at height {height} forks the chain before height {checkpoint}")]
    ForkTooOld {
        /// The header's height.
        height: u32,
        /// The height below which forks are refused.
        checkpoint: u32,
    },
}

/// Vote bits every block before stake validation height carries (dcrd
/// `earlyVoteBitsValue`).
const EARLY_VOTE_BITS: u16 = 0x0001;

/// The context-free rules (dcrd `checkBlockHeaderSanity`): proof of work
/// under either hash (`checkProofOfWorkSanity`; dcrwallet
/// `validateHeaderChainDifficulties` tries the BLAKE-256 hash, then BLAKE3),
/// the clock (`now`, Unix seconds, when given), and the stake counts.
pub fn check_sanity(
    params: &Params,
    hashed: &HashedHeader<'_>,
    now: Option<i64>,
) -> Result<(), HeaderError> {
    let header = hashed.header;
    let target = check_pow_range(header.bits, params.pow_limit)?;
    if Target::from_hash(&hashed.hash) > target {
        let v2 = hashed.pow_hash_v2();
        if Target::from_hash(&v2) > target {
            return Err(PowError::HighHash {
                hash: v2,
                bits: header.bits,
            }
            .into());
        }
    }
    if let Some(now) = now {
        if i64::from(header.timestamp) > now.saturating_add(MAX_TIME_OFFSET_SECONDS) {
            return Err(HeaderError::TimeTooNew {
                now,
                got: header.timestamp,
            });
        }
    }
    check_stake_counts(params, header)
}

/// Whether the rules may read the header's version 2 proof-of-work hash
/// (BLAKE3), from the header and its block hash alone: [`check_sanity`]
/// when the block hash misses a target in range, [`check_difficulty`] when
/// the header could be under DCP-0011 on a chain where it is voted. A batch
/// of headers computes these hashes ahead, many at a time
/// ([`HashedHeader::with_pow_hash_v2`]); the rules still ask
/// [`HashedHeader::pow_hash_v2`], which hashes any header this missed, so
/// the rules' outcome does not depend on it.
pub fn may_read_pow_hash_v2(params: &Params, header: &BlockHeader, hash: &Hash) -> bool {
    let v1_misses = check_pow_range(header.bits, params.pow_limit)
        .is_ok_and(|target| Target::from_hash(hash) > target);
    v1_misses || (params.dcp0011 != Activation::Forced && possibly_blake3(params, header))
}

fn check_stake_counts(params: &Params, header: &BlockHeader) -> Result<(), HeaderError> {
    let svh = params.stake_validation_height;
    let height = header.height;
    if i64::from(height) < svh {
        if header.voters > 0 || header.revocations > 0 {
            return Err(HeaderError::EarlyStakeTx { height });
        }
        if header.vote_bits != EARLY_VOTE_BITS {
            return Err(HeaderError::EarlyVoteBits {
                height,
                got: header.vote_bits,
            });
        }
        if header.final_state != [0; 6] {
            return Err(HeaderError::EarlyFinalState { height });
        }
    } else {
        let majority = params.tickets_per_block / 2 + 1;
        if header.voters < majority {
            return Err(HeaderError::NotEnoughVotes {
                min: majority,
                got: header.voters,
            });
        }
    }
    if header.voters > params.tickets_per_block {
        return Err(HeaderError::TooManyVotes {
            max: params.tickets_per_block,
            got: header.voters,
        });
    }
    if header.fresh_stake > params.max_fresh_stake_per_block {
        return Err(HeaderError::TooManyFreshStake {
            max: params.max_fresh_stake_per_block,
            got: header.fresh_stake,
        });
    }
    Ok(())
}

/// The median timestamp of the branch's last eleven blocks (dcrd
/// `CalcPastMedianTime`, including its choice of the upper middle for an
/// even count near genesis).
pub fn past_median_time(branch: &impl Ancestors) -> u32 {
    let tip = branch.tip();
    let mut times = [0u32; MEDIAN_TIME_BLOCKS];
    let mut n = 0;
    let mut height = Some(tip.height);
    while let Some(h) = height {
        if n == MEDIAN_TIME_BLOCKS {
            break;
        }
        let Some(b) = branch.at(h) else { break };
        times[n] = b.timestamp;
        n += 1;
        height = h.checked_sub(1);
    }
    let times = &mut times[..n];
    times.sort_unstable();
    times[n / 2]
}

/// The rules that need the headers before this one (dcrd
/// `checkBlockHeaderPositional` and, for the stake difficulty, the part of
/// `checkBlockHeaderContext` that reads headers only): the link, height,
/// median time, the testnet spacing, the difficulty bits, the stake
/// difficulty where the algorithm in force is known from headers, and
/// checkpoints. `prev_branch` ends at the header's parent.
pub fn check_positional(
    params: &Params,
    hashed: &HashedHeader<'_>,
    prev_branch: &impl Ancestors,
    anchors: &mut AnchorCache,
) -> Result<(), HeaderError> {
    let header = hashed.header;
    let hash = &hashed.hash;
    let prev = prev_branch.tip();
    if header.prev_block != prev.hash {
        return Err(HeaderError::BadLink {
            hash: *hash,
            expected_prev: prev.hash,
        });
    }
    let height = prev.height + 1;
    if header.height != height {
        return Err(HeaderError::BadHeight {
            expected: height,
            got: header.height,
        });
    }
    let median = past_median_time(prev_branch);
    if header.timestamp <= median {
        return Err(HeaderError::TimeTooOld {
            median,
            got: header.timestamp,
        });
    }
    if let Some(min_target) = params.min_testnet_target() {
        let min_bits = crate::pow::target_to_compact(min_target);
        if header.bits <= min_bits && height >= params.testnet_max_diff_activation_height {
            let min = prev.timestamp.saturating_add(60);
            if header.timestamp < min {
                return Err(HeaderError::TestnetTimeTooOld {
                    min,
                    got: header.timestamp,
                });
            }
        }
    }
    check_difficulty(params, hashed, prev_branch, anchors)?;
    let expected_sbits = match params.dcp0001.active_at(height, params) {
        Some(true) => Some(next_stake_diff_v2(params, prev_branch)),
        Some(false) => next_stake_diff_v1(params, prev_branch),
        None => None,
    };
    if let Some(expected) = expected_sbits {
        if header.sbits != expected {
            return Err(HeaderError::StakeDifficulty {
                expected,
                got: header.sbits,
            });
        }
    }
    for c in params.checkpoints {
        if c.height == height && c.hash != *hash {
            return Err(HeaderError::Checkpoint {
                height,
                hash: *hash,
            });
        }
    }
    Ok(())
}
