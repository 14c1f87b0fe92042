//! The stake difficulty (ticket price, a header's `sbits`): the original
//! algorithm of Decred's launch and DCP-0001's, both computed from header
//! fields alone (pool size and fresh stake of ancestors).
//!
//! Sources: dcrd `internal/blockchain/difficulty.go`
//! (`calcNextRequiredStakeDifficultyV1`, `mergeDifficulty`,
//! `calcNextRequiredStakeDifficultyV2`, `calcNextStakeDiffV2`,
//! `estimateSupply`, `sumPurchasedTickets`) and dcrwallet
//! `wallet/difficulty.go` (`nextRequiredDCP0001PoSDifficulty`, the same over
//! headers). Which algorithm applies follows [`Params::dcp0001`].

use crate::facts::{Ancestors, BlockFacts};
use crate::params::Params;
use crate::pow::U256;

/// Go's `big.Int.Int64` of a value given as sign and magnitude: the low 64
/// bits of the magnitude, negated for a negative value.
fn go_int64(negative: bool, magnitude: U256) -> i64 {
    let low = magnitude.as_limbs()[0] as i64;
    if negative {
        low.wrapping_neg()
    } else {
        low
    }
}

/// `a / b` rounded up (`b` non-zero).
fn ceil_div(a: U256, b: U256) -> U256 {
    let (q, r) = a.div_rem(b);
    if r.is_zero() {
        q
    } else {
        q + U256::from(1u8)
    }
}

/// dcrd's `estimateSupply`: the coins in existence by `height`, assuming
/// full subsidies. Stops adding once the subsidy has decayed to zero, which
/// changes no result and bounds the work.
pub fn estimate_supply(params: &Params, height: i64) -> i64 {
    if height <= 0 {
        return 0;
    }
    let mut supply = params.block_one_subsidy;
    let reductions = height / params.subsidy_reduction_interval;
    let mut subsidy = params.base_subsidy;
    let mut i = 0;
    while i < reductions && subsidy != 0 {
        supply = supply.wrapping_add(params.subsidy_reduction_interval.wrapping_mul(subsidy));
        subsidy = subsidy.wrapping_mul(params.mul_subsidy) / params.div_subsidy;
        i += 1;
    }
    supply =
        supply.wrapping_add((1 + height % params.subsidy_reduction_interval).wrapping_mul(subsidy));
    supply.wrapping_sub(params.base_subsidy.wrapping_mul(2))
}

/// Tickets bought in the `count` blocks ending at `start` (dcrd
/// `sumPurchasedTickets`).
fn sum_purchased(branch: &impl Ancestors, start: Option<BlockFacts>, count: i64) -> i64 {
    let mut sum = 0i64;
    let mut node = start;
    let mut n = 0;
    while let Some(b) = node {
        if n >= count {
            break;
        }
        sum += i64::from(b.fresh_stake);
        node = b.height.checked_sub(1).and_then(|h| branch.at(h));
        n += 1;
    }
    sum
}

/// DCP-0001's formula (dcrd `calcNextStakeDiffV2`).
pub fn calc_next_stake_diff_v2(
    params: &Params,
    next_height: i64,
    cur_diff: i64,
    prev_pool_size_all: i64,
    cur_pool_size_all: i64,
) -> i64 {
    let votes = i64::from(params.tickets_per_block);
    let pool = i64::from(params.ticket_pool_size);
    let maturity = i64::from(params.ticket_maturity);
    let target_all = votes * (pool + maturity);
    // cur_diff * cur^2 / prev / target, with signs as Go's big.Int carries
    // them: the pool sizes are never negative (sums of u32 and u8), so only
    // cur_diff's sign matters; the divisions are Euclidean.
    let cur = U256::from(cur_pool_size_all.unsigned_abs());
    let mag = U256::from(cur_diff.unsigned_abs()) * cur * cur;
    let negative = cur_diff < 0 && !mag.is_zero();
    let prev = U256::from(prev_pool_size_all.unsigned_abs());
    let target = U256::from(target_all.unsigned_abs());
    let next = if negative {
        // Euclidean division of a negative value by positive divisors rounds
        // away from zero.
        go_int64(true, ceil_div(ceil_div(mag, prev), target))
    } else {
        go_int64(false, mag / prev / target)
    };
    let max = estimate_supply(params, next_height) / pool;
    next.min(max).max(params.minimum_stake_diff)
}

/// The stake difficulty the block after `cur_branch`'s tip must have under
/// DCP-0001 (dcrd `calcNextRequiredStakeDifficultyV2`).
pub fn next_stake_diff_v2(params: &Params, cur_branch: &impl Ancestors) -> i64 {
    let cur = cur_branch.tip();
    let next_height = i64::from(cur.height) + 1;
    if next_height < i64::from(params.coinbase_maturity) + 1 {
        return params.minimum_stake_diff;
    }
    let interval = params.stake_diff_window_size;
    if next_height % interval != 0 {
        return cur.sbits;
    }
    let maturity = i64::from(params.ticket_maturity);
    let prev_retarget = u32::try_from(next_height - interval - 1)
        .ok()
        .and_then(|h| cur_branch.at(h));
    let prev_pool = prev_retarget.map_or(0, |b| i64::from(b.pool_size));
    let prev_immature = sum_purchased(cur_branch, prev_retarget, maturity);
    let prev_all = prev_pool + prev_immature;
    if prev_all == 0 {
        return cur.sbits;
    }
    let immature = sum_purchased(cur_branch, Some(cur), maturity);
    let cur_all = i64::from(cur.pool_size) + immature;
    calc_next_stake_diff_v2(params, next_height, cur.sbits, prev_all, cur_all)
}

/// dcrd's `mergeDifficulty`, for positive inputs; `None` where the
/// reference would divide by zero.
fn merge_difficulty(old: i64, new1: i64, new2: i64) -> Option<i64> {
    if old <= 0 || new1 <= 0 || new2 < 0 {
        return None;
    }
    let old_u = U256::from(old as u64);
    let n1 = (old_u << 32usize) / U256::from(new1 as u64);
    let n2 = (U256::from(new2 as u64) << 32usize) / old_u;
    if n1.is_zero() {
        return None;
    }
    let summed = (((n2 << 32usize) / n1) * old_u) >> 32usize;
    Some(go_int64(false, summed))
}

/// One half of the original algorithm: an exponentially weighted average of
/// a per-window measure, scaled from `old_diff` and clamped to the retarget
/// factor. `measure(window_end)` gives a window's value in 32.32 fixed
/// point before weighting.
fn weighted_retarget(params: &Params, old_diff: i64, mut measure: impl FnMut(i64) -> u128) -> i64 {
    let windows = params.stake_diff_windows;
    let alpha = params.stake_diff_alpha;
    let max_retarget = params.retarget_adjustment_factor;
    let mut sum: u128 = 0;
    let mut weights: u64 = 0;
    for period in 0..windows {
        let shift = ((windows - period) * alpha) as u32;
        sum += measure(period) << shift;
        weights += 1 << shift;
    }
    let avg = U256::from(sum / u128::from(weights));
    let product = avg * U256::from(old_diff.unsigned_abs());
    // Go's right shift of a negative number rounds toward negative infinity.
    let next = if old_diff < 0 && !product.is_zero() {
        go_int64(true, ceil_div(product, U256::from(1u64 << 32)))
    } else {
        go_int64(false, product >> 32usize)
    };
    if old_diff == 0 {
        next
    } else if next == 0 {
        old_diff / max_retarget
    } else if next / old_diff > max_retarget - 1 {
        old_diff.wrapping_mul(max_retarget)
    } else if old_diff / next > max_retarget - 1 {
        old_diff / max_retarget
    } else {
        next
    }
}

/// The stake difficulty the block after `cur_branch`'s tip must have under
/// the original algorithm (dcrd `calcNextRequiredStakeDifficultyV1`);
/// `None` where the reference would divide by zero, which no chain that
/// started from the minimum stake difficulty reaches.
pub fn next_stake_diff_v1(params: &Params, cur_branch: &impl Ancestors) -> Option<i64> {
    let cur = cur_branch.tip();
    let start_height = i64::from(params.coinbase_maturity) + 1;
    if i64::from(cur.height) < start_height {
        return Some(params.minimum_stake_diff);
    }
    let old = cur.sbits;
    let window = params.stake_diff_window_size;
    if (i64::from(cur.height) + 1) % window != 0 {
        return Some(old);
    }
    if old == 0 {
        // The reference returns the pool-size half here, which scales zero.
        return Some(0);
    }
    // The branch walked back one block per step from the tip, staying at
    // genesis, as dcrd's loop does.
    let node_at = |steps: i64| {
        let h = (i64::from(cur.height) - steps).max(0) as u32;
        cur_branch.at(h)
    };
    let weight = i64::from(params.ticket_pool_size_weight);
    let target_pool = i64::from(params.tickets_per_block) * i64::from(params.ticket_pool_size);
    let mut missing = false;
    let pool_diff = weighted_retarget(params, old, |period| {
        // The window's last node: dcrd samples the pool size at the node it
        // has reached when the window closes.
        let Some(n) = node_at((period + 1) * window - 1) else {
            missing = true;
            return 0;
        };
        let skew = ((i64::from(n.pool_size) - target_pool) * weight + target_pool).max(1);
        ((skew as u128) << 32) / target_pool as u128
    });
    let target_window = window * i64::from(params.tickets_per_block);
    let fresh_diff = weighted_retarget(params, old, |period| {
        let mut fresh = 0i64;
        for step in period * window..(period + 1) * window {
            match node_at(step) {
                Some(n) => fresh += i64::from(n.fresh_stake),
                None => missing = true,
            }
        }
        ((fresh.max(1) as u128) << 32) / target_window as u128
    });
    if missing {
        return None;
    }
    let max_retarget = params.retarget_adjustment_factor;
    let mut next = merge_difficulty(old, pool_diff, fresh_diff)?;
    if next == 0 {
        next = old / max_retarget;
    } else if next / old > max_retarget - 1 {
        next = old.wrapping_mul(max_retarget);
    } else if old / next > max_retarget - 1 {
        next = old / max_retarget;
    }
    Some(next.max(params.minimum_stake_diff))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params;

    #[test]
    fn supply_estimate_counts_block_one_and_reductions() {
        let p = params::mainnet();
        assert_eq!(estimate_supply(p, 0), 0);
        // Height 1: block one's ledger plus one base subsidy, less the two
        // base subsidies that blocks 0 and 1 do not pay.
        assert_eq!(
            estimate_supply(p, 1),
            168_000_000_000_000 + 2 * 3_119_582_664 - 2 * 3_119_582_664
        );
        // After one reduction interval the subsidy is 100/101 of the base.
        let s = estimate_supply(p, 6144);
        let expected = 168_000_000_000_000 + 6144 * 3_119_582_664 + 3_119_582_664 * 100 / 101
            - 2 * 3_119_582_664;
        assert_eq!(s, expected);
        // Simnet's subsidy decays to zero; far heights stay finite and flat.
        let sim = params::simnet();
        assert_eq!(
            estimate_supply(sim, 10_000_000),
            estimate_supply(sim, 20_000_000)
        );
    }

    #[test]
    fn dcp0001_formula_and_clamps() {
        let p = params::mainnet();
        let target_all = 5 * (8192 + 256);
        // A pool at its target size and unchanged: the price stays.
        assert_eq!(
            calc_next_stake_diff_v2(p, 200_000, 10_000_000_000, target_all, target_all),
            10_000_000_000
        );
        // A pool that doubled: four times the price (2x for the change, 2x
        // for being twice the target), below the supply cap.
        assert_eq!(
            calc_next_stake_diff_v2(p, 200_000, 10_000_000_000, target_all, 2 * target_all),
            40_000_000_000
        );
        // Never below the minimum.
        assert_eq!(
            calc_next_stake_diff_v2(p, 200_000, 1, 100, 1),
            p.minimum_stake_diff
        );
        // Never above supply / pool size.
        let cap = estimate_supply(p, 200_000) / 8192;
        assert_eq!(
            calc_next_stake_diff_v2(p, 200_000, 1 << 40, target_all, 4 * target_all),
            cap
        );
    }

    #[test]
    fn merge_refuses_division_by_zero() {
        assert_eq!(merge_difficulty(100, 0, 100), None);
        assert_eq!(merge_difficulty(0, 1, 100), None);
        // Equal scalings leave the difficulty: old * (new2/old) / (old/new1).
        assert_eq!(merge_difficulty(1000, 1000, 1000), Some(1000));
        assert_eq!(merge_difficulty(1000, 2000, 2000), Some(4000));
    }
}
