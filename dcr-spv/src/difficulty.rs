//! The proof-of-work difficulty rules: the exponential moving average of
//! Decred's launch (BLAKE-256 era) and the ASERT algorithm of DCP-0011
//! (BLAKE3 era), and how a client holding only headers tells which one a
//! header follows.
//!
//! Sources: dcrd `internal/blockchain/difficulty.go` (`calcNextBlake256Diff`,
//! `findPrevTestNetDifficulty`, `calcNextBlake3DiffFromAnchor`,
//! `calcNextBlake3Diff`), `internal/blockchain/validate.go`
//! (`checkDifficultyPositional`) and dcrwallet `wallet/difficulty.go`, which
//! carries the same code over headers only.

use dcr_wire::{BlockHeader, CurrencyNet, Hash};

use crate::facts::{Ancestors, BlockFacts, HashedHeader};
use crate::params::{Activation, Params};
use crate::pow::{calc_asert_diff, check_pow_hash, compact_to_target, target_to_compact};
use crate::pow::{Compact, Target, U256, U512};

/// Which difficulty algorithm an expected value came from; it prints as
/// its name (`EMA`, `ASERT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// The exponential moving average of the BLAKE-256 era.
    Ema,
    /// DCP-0011's absolutely scheduled exponentially weighted target.
    Asert,
}

impl core::fmt::Display for Algorithm {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Algorithm::Ema => "EMA",
            Algorithm::Asert => "ASERT",
        })
    }
}

/// A header's bits differ from what the rules require (dcrd
/// `ErrUnexpectedDifficulty`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "block difficulty of {got:#010x} is not the expected value of {expected:#010x} ({algorithm})"
)]
pub struct DifficultyError {
    /// The bits the rules require.
    pub expected: u32,
    /// The bits in the header.
    pub got: u32,
    /// The algorithm that gave `expected`.
    pub algorithm: Algorithm,
}

/// The last ASERT anchor found to match, tried first for later headers
/// (dcrd's and dcrwallet's `cachedBlake3WorkDiffCandidateAnchor`).
#[derive(Debug, Clone, Default)]
pub struct AnchorCache {
    candidate: Option<BlockFacts>,
}

/// The bits the block after `prev` must have under the BLAKE-256 era rules
/// (dcrd `calcNextBlake256Diff`; `new_time` is the new block's timestamp,
/// read on the testnet only). `None` when `prev`'s own bits are no valid
/// target, which a checked chain never holds.
pub fn next_blake256_bits(
    params: &Params,
    prev_branch: &impl Ancestors,
    new_time: i64,
) -> Option<u32> {
    let prev = prev_branch.tip();
    let next_height = i64::from(prev.height) + 1;
    let is_testnet3 = params.net == CurrencyNet::TestNet3;
    if next_height % params.work_diff_window_size != 0 {
        if params.reduce_min_difficulty
            && (!is_testnet3 || next_height < i64::from(params.testnet_max_diff_activation_height))
        {
            if new_time > i64::from(prev.timestamp) + params.min_diff_reduction_time {
                return Some(params.pow_limit_bits);
            }
            return Some(find_prev_testnet_bits(params, prev_branch));
        }
        return Some(prev.bits);
    }
    let Compact::Target(old) = compact_to_target(prev.bits) else {
        return None;
    };
    let windows = params.work_diff_windows;
    let alpha = params.work_diff_alpha;
    let timespan = i128::from(params.target_timespan);

    // Per window, (elapsed << 32) / timespan, weighted by 2^((windows -
    // window) * alpha): dcrd's big integers, which never exceed 128 bits
    // for timestamps of 32 bits and the networks' window counts.
    let mut weighted_sum: i128 = 0;
    let mut weights: u64 = 0;
    let mut older_time: i64 = 0;
    let mut recent_time = i64::from(prev.timestamp);
    let mut old_height = i64::from(prev.height);
    for i in 0..=windows {
        if i != 0 {
            let period = i - 1;
            let time_difference = if old_height == 0 {
                params.target_timespan
            } else {
                recent_time - older_time
            };
            let shift = ((windows - period) * alpha) as u32;
            let adjusted = (i128::from(time_difference) << 32).div_euclid(timespan) << shift;
            weighted_sum += adjusted;
            weights += 1u64 << shift;
            recent_time = older_time;
        }
        if i == windows {
            break;
        }
        old_height = if old_height > params.work_diff_window_size {
            old_height - params.work_diff_window_size
        } else {
            0
        };
        if old_height != 0 {
            older_time = i64::from(prev_branch.at(old_height as u32)?.timestamp);
        }
    }
    let factor = weighted_sum.div_euclid(i128::from(weights));

    let raf = U256::from(params.retarget_adjustment_factor as u64);
    let max = U512::from(old.0) * U512::from(raf);
    let min = U512::from(old.0 / raf);
    let next: U512 = if factor < 0 {
        // A negative product stays negative after the shift: below the
        // minimum, which replaces it.
        min
    } else {
        let n: U512 = (U512::from(factor as u128) * U512::from(old.0)) >> 32usize;
        if n.is_zero() {
            U512::from(params.pow_limit.0)
        } else if n > max {
            max
        } else if n < min {
            min
        } else {
            n
        }
    };
    let mut next = if next > U512::from(params.pow_limit.0) {
        params.pow_limit.0
    } else {
        U256::from(next)
    };
    if let Some(min_target) = params.min_testnet_target() {
        let applies =
            !is_testnet3 || next_height >= i64::from(params.testnet_max_diff_activation_height);
        if applies && next < min_target.0 {
            next = min_target.0;
        }
    }
    Some(target_to_compact(Target(next)))
}

/// The bits of the last block before `prev_branch`'s tip (inclusive) that
/// did not use the testnet's minimum-difficulty exception (dcrd
/// `findPrevTestNetDifficulty`).
fn find_prev_testnet_bits(params: &Params, branch: &impl Ancestors) -> u32 {
    let per_retarget = params.work_diff_window_size * params.work_diff_windows;
    let mut node = Some(branch.tip());
    while let Some(n) = node {
        if i64::from(n.height) % per_retarget == 0 || n.bits != params.pow_limit_bits {
            return n.bits;
        }
        node = n.height.checked_sub(1).and_then(|h| branch.at(h));
    }
    params.pow_limit_bits
}

/// The bits the block after `prev` must have under DCP-0011, counting from
/// `anchor` (dcrd `calcNextBlake3DiffFromAnchor`), with the testnet's
/// hardest-target rule, which the reference applies by comparing compact
/// values.
pub fn next_blake3_bits_from_anchor(
    params: &Params,
    prev: &BlockFacts,
    anchor: &BlockFacts,
) -> u32 {
    let time_delta = i64::from(prev.timestamp) - i64::from(anchor.timestamp);
    let height_delta = i64::from(prev.height) - i64::from(anchor.height);
    let next = calc_asert_diff(
        params.work_diff_v2_blake3_start_bits,
        params.pow_limit,
        params.target_time_per_block,
        time_delta,
        height_delta,
        params.work_diff_v2_half_life_secs,
    )
    // A negative height delta (an anchor above prev) cannot happen for an
    // ancestor; the reference would panic. The limit is then as good as any.
    .unwrap_or(params.pow_limit_bits);
    match params.min_testnet_target().map(target_to_compact) {
        Some(min_bits) if next < min_bits => min_bits,
        _ => next,
    }
}

/// dcrd's and dcrwallet's `calcWantHeight`: the height of the final block of
/// the rule change interval before the one `height` falls in.
pub fn calc_want_height(stake_validation_height: i64, interval: i64, height: i64) -> i64 {
    let offset = stake_validation_height % interval;
    let adjusted = height - offset - 1;
    (adjusted - ((adjusted + 1) % interval)) + offset
}

/// The lowest block version and height a block under DCP-0011 can have
/// where its activation is not forced: the agenda's version (10 on
/// mainnet, 11 elsewhere) and the first height at which a vote can have
/// activated it (two rule change intervals past stake validation).
fn blake3_era_bounds(params: &Params) -> (u32, i64) {
    let min_version = if params.net == CurrencyNet::MainNet {
        10
    } else {
        11
    };
    let first_possible =
        params.stake_validation_height + 2 * params.rule_change_activation_interval;
    (min_version, first_possible)
}

/// Whether a header could be under DCP-0011 by its version and height
/// alone, where the agenda is voted: [`check_difficulty`] then reads its
/// BLAKE3 proof-of-work hash (`Activation::Forced` chains are told by the
/// parameters and never ask).
pub(crate) fn possibly_blake3(params: &Params, header: &BlockHeader) -> bool {
    let (min_version, first_possible) = blake3_era_bounds(params);
    header.version as u32 >= min_version && i64::from(header.height) >= first_possible
}

/// Checks a header's bits against the difficulty rules, seeing only headers
/// (dcrd `checkDifficultyPositional`, dcrwallet `checkDifficultyPositional`).
///
/// Where DCP-0011 is forced, ASERT applies, anchored at block 1. Elsewhere
/// the agenda's outcome is in votes a header chain does not hold, so a
/// header passes when its bits match EMA, or — if it could be under DCP-0011
/// at all (version and height) and is solved with BLAKE3 — ASERT from one of
/// the possible anchors: the final blocks of earlier rule change intervals.
/// `prev_branch` ends at the header's parent.
pub fn check_difficulty(
    params: &Params,
    hashed: &HashedHeader<'_>,
    prev_branch: &impl Ancestors,
    cache: &mut AnchorCache,
) -> Result<(), DifficultyError> {
    let header = hashed.header;
    let prev = prev_branch.tip();
    let asert_error = |expected| DifficultyError {
        expected,
        got: header.bits,
        algorithm: Algorithm::Asert,
    };
    if params.dcp0011 == Activation::Forced {
        let expected = if prev.height == 0 {
            params.work_diff_v2_blake3_start_bits
        } else {
            match prev_branch.at(1) {
                Some(anchor) => next_blake3_bits_from_anchor(params, &prev, &anchor),
                None => params.work_diff_v2_blake3_start_bits,
            }
        };
        return if header.bits == expected {
            Ok(())
        } else {
            Err(asert_error(expected))
        };
    }
    let svh = params.stake_validation_height;
    let rcai = params.rule_change_activation_interval;
    let (min_version, first_possible) = blake3_era_bounds(params);
    if possibly_blake3(params, header) && check_pow_hash(&hashed.pow_hash_v2(), header.bits).is_ok()
    {
        if let Some(c) = cache.candidate {
            if prev_branch.contains(&c)
                && header.bits == next_blake3_bits_from_anchor(params, &prev, &c)
            {
                return Ok(());
            }
        }
        let final_height = calc_want_height(svh, rcai, i64::from(header.height));
        let mut candidate = u32::try_from(final_height)
            .ok()
            .and_then(|h| prev_branch.at(h));
        while let Some(c) = candidate {
            if (c.version as u32) < min_version || i64::from(c.height) < first_possible - 1 {
                break;
            }
            if header.bits == next_blake3_bits_from_anchor(params, &prev, &c) {
                cache.candidate = Some(c);
                return Ok(());
            }
            candidate = prev_branch.relative(&c, rcai);
        }
    }
    let expected = next_blake256_bits(params, prev_branch, i64::from(header.timestamp))
        .unwrap_or(params.pow_limit_bits);
    if header.bits == expected {
        Ok(())
    } else {
        Err(DifficultyError {
            expected,
            got: header.bits,
            algorithm: Algorithm::Ema,
        })
    }
}

impl AnchorCache {
    /// The cached anchor's hash, if any.
    pub fn anchor(&self) -> Option<Hash> {
        self.candidate.map(|c| c.hash)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::Slice;
    use crate::params;
    use dcr_wire::BlockHeader;

    fn facts(height: u32, timestamp: u32, bits: u32) -> BlockFacts {
        BlockFacts {
            hash: Hash([height as u8; 32]),
            height,
            timestamp,
            bits,
            sbits: 0,
            version: 1,
            pool_size: 0,
            fresh_stake: 0,
        }
    }

    #[test]
    fn want_height_is_the_end_of_the_previous_interval() {
        // Mainnet: svh 4096, interval 8064. Intervals end at 4096 + k*8064 - 1
        // ... the final block before the interval holding the height.
        assert_eq!(calc_want_height(4096, 8064, 4096 + 8064), 4095 + 8064);
        assert_eq!(calc_want_height(4096, 8064, 4096 + 8064 + 1), 4095 + 8064);
        assert_eq!(
            calc_want_height(4096, 8064, 4096 + 2 * 8064 - 1),
            4095 + 8064
        );
        assert_eq!(
            calc_want_height(4096, 8064, 4096 + 2 * 8064),
            4095 + 2 * 8064
        );
    }

    #[test]
    fn ema_keeps_bits_between_retargets_and_at_target_pace() {
        let p = params::regnet();
        // Steady one-second blocks at the limit: every retarget keeps it.
        let chain: Vec<_> = (0..40)
            .map(|h| facts(h, 1000 + h, p.pow_limit_bits))
            .collect();
        for tip in 1..40 {
            let branch = Slice::new(&chain[..tip]).unwrap();
            assert_eq!(
                next_blake256_bits(p, &branch, 0),
                Some(p.pow_limit_bits),
                "after {tip}"
            );
        }
        // Not at a window boundary: the parent's bits, whatever they are.
        let mut odd = chain.clone();
        odd[9].bits = 0x1f00ffff;
        assert_eq!(
            next_blake256_bits(p, &Slice::new(&odd[..10]).unwrap(), 0),
            Some(0x1f00ffff)
        );
    }

    #[test]
    fn ema_fast_blocks_raise_difficulty_within_the_factor() {
        let p = params::regnet();
        // Blocks four times faster than the target, in windows that do not
        // reach genesis: a quarter of the old target, the harder end.
        let mut chain: Vec<_> = (0..40)
            .map(|h| facts(h, 1000 + h / 4, 0x1f00ffff))
            .collect();
        let bits = next_blake256_bits(p, &Slice::new(&chain).unwrap(), 0).unwrap();
        let Compact::Target(old) = compact_to_target(0x1f00ffff) else {
            panic!()
        };
        let Compact::Target(new) = compact_to_target(bits) else {
            panic!()
        };
        assert_eq!(new.0, old.0 / U256::from(4u8));
        // Very slow blocks: the easier end, capped by the limit.
        for (h, f) in chain.iter_mut().enumerate() {
            f.timestamp = 1000 + 1000 * h as u32;
        }
        let bits = next_blake256_bits(p, &Slice::new(&chain).unwrap(), 0).unwrap();
        let Compact::Target(new) = compact_to_target(bits) else {
            panic!()
        };
        assert_eq!(new.0, old.0 * U256::from(4u8));
        // Timestamps running backwards give a negative average: the minimum.
        for (h, f) in chain.iter_mut().enumerate() {
            f.timestamp = 1_000_000 - 1000 * h as u32;
        }
        let bits = next_blake256_bits(p, &Slice::new(&chain).unwrap(), 0).unwrap();
        let Compact::Target(new) = compact_to_target(bits) else {
            panic!()
        };
        assert_eq!(new.0, old.0 / U256::from(4u8));
    }

    #[test]
    fn testnet_minimum_difficulty_exception() {
        let p = params::testnet3();
        let limit = p.pow_limit_bits;
        let mut chain: Vec<_> = (0..10)
            .map(|h| facts(h, 1000 + 120 * h, 0x1c00ffff))
            .collect();
        chain[8].bits = limit;
        chain[9].bits = limit;
        let branch = Slice::new(&chain).unwrap();
        // Over ten minutes after the parent: the limit.
        assert_eq!(
            next_blake256_bits(p, &branch, 1000 + 120 * 9 + 601),
            Some(limit)
        );
        // Within them: the last bits that were not the exception.
        assert_eq!(
            next_blake256_bits(p, &branch, 1000 + 120 * 9 + 600),
            Some(0x1c00ffff)
        );
    }

    #[test]
    fn forced_blake3_anchors_at_block_one() {
        let p = params::simnet();
        let chain: Vec<_> = (0..5)
            .map(|h| facts(h, 1000 + h, p.pow_limit_bits))
            .collect();
        let header = |bits, height| BlockHeader {
            bits,
            height,
            ..BlockHeader::default()
        };
        let mut cache = AnchorCache::default();
        // Block 1: the start bits.
        let b = Slice::new(&chain[..1]).unwrap();
        assert_eq!(
            check_difficulty(
                p,
                &HashedHeader::hash(&header(p.pow_limit_bits, 1)),
                &b,
                &mut cache
            ),
            Ok(())
        );
        // Later blocks on schedule from block 1: the start bits again.
        let b = Slice::new(&chain[..5]).unwrap();
        assert_eq!(
            check_difficulty(
                p,
                &HashedHeader::hash(&header(p.pow_limit_bits, 5)),
                &b,
                &mut cache
            ),
            Ok(())
        );
        assert_eq!(
            check_difficulty(
                p,
                &HashedHeader::hash(&header(0x2000ffff, 5)),
                &b,
                &mut cache
            ),
            Err(DifficultyError {
                expected: p.pow_limit_bits,
                got: 0x2000ffff,
                algorithm: Algorithm::Asert
            })
        );
    }
}
