//! Proof-of-work sums, for picking the main chain and for the
//! `minKnownWork` rule of `getheaders` (dcrd
//! `blockchain/standalone/pow.go` `CalcWork`, `CompactToBig`; the sums are
//! dcrd's `uint256` work sums).
//!
//! To move: the networks' `MinKnownChainWork` belongs with the chain
//! parameters dcr-wire is gaining (branch `wire`); it stays here, marked,
//! until they land.

use dcr_wire::CurrencyNet;
use ruint::Uint;

/// Cumulative proof of work: an unsigned 256-bit number.
pub type Work = Uint<256, 4>;

/// The work a block with difficulty `bits` represents: 2^256 divided by
/// its target plus one (dcrd `CalcWork`), zero for a target that is not
/// positive. `bits` is dcrd's compact form: a base-256 exponent in the
/// top byte, a sign at bit 23, the mantissa in the low 23 bits.
pub fn calc_work(bits: u32) -> Work {
    let mantissa = bits & 0x007f_ffff;
    let negative = bits & 0x0080_0000 != 0;
    let exponent = bits >> 24;
    let target = if exponent <= 3 {
        Work::from(mantissa >> (8 * (3 - exponent)))
    } else {
        let shift = 8 * (exponent as usize - 3);
        let m = Work::from(mantissa);
        // A target of 2^256 or more: the quotient is zero.
        if m.bit_len() + shift > 256 {
            return Work::ZERO;
        }
        m << shift
    };
    if negative || target.is_zero() {
        return Work::ZERO;
    }
    // floor(2^256 / (t + 1)) = floor((2^256 - 1 - t) / (t + 1)) + 1, with
    // t + 1 at most 2^256 - 1 here (the target is below 2^256 and has at
    // most 23 significant bits).
    (Work::MAX - target) / (target + Work::from(1u8)) + Work::from(1u8)
}

/// The least cumulative work a chain of `net` is known to have (dcrd
/// `chaincfg.Params.MinKnownChainWork`: mainnet block 1030629, testnet
/// block 1790621); `None` on simnet and regnet, whose chains are made
/// on the spot. A node whose tip has less answers `getheaders` with
/// nothing (`OnGetHeaders`).
///
/// To move with the chain parameters (see the module documentation).
pub fn min_known_chain_work(net: CurrencyNet) -> Option<Work> {
    match net {
        // 0x243868232c14b8224643b6
        CurrencyNet::MainNet => Some(Work::from_limbs([0x232c_14b8_2246_43b6, 0x24_3868, 0, 0])),
        // 0xf377240e146195df
        CurrencyNet::TestNet3 => Some(Work::from_limbs([0xf377_240e_1461_95df, 0, 0, 0])),
        CurrencyNet::SimNet | CurrencyNet::RegNet => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_of_compact_targets() {
        // Simnet's and regnet's limit, 2^255 - 1 in compact form: 2^256 /
        // 2^255 = 2.
        assert_eq!(calc_work(0x207f_ffff), Work::from(2u8));
        // Mainnet's limit 0x1d00ffff: 2^256 / (0xffff·2^208 + 1).
        let t = Work::from(0xffffu32) << 208;
        let want = (Work::MAX - t) / (t + Work::from(1u8)) + Work::from(1u8);
        assert_eq!(calc_work(0x1d00_ffff), want);
        assert_eq!(calc_work(0x1d00_ffff), Work::from(0x1_0001_0001u64));
        // Zero, negative and past 2^256: no work.
        assert_eq!(calc_work(0), Work::ZERO);
        assert_eq!(calc_work(0x0100_0000), Work::ZERO);
        assert_eq!(calc_work(0x1d80_ffff), Work::ZERO);
        assert_eq!(calc_work(0x2301_0000), Work::ZERO);
        // Small exponents shift the mantissa right: 0x0212_3456 is the
        // target 0x1234. The quotient q of 2^256 by d leaves a remainder
        // 2^256 - q·d in [0, d).
        let q = calc_work(0x0212_3456);
        let d = Work::from(0x1235u32);
        let prod = q.checked_mul(d).unwrap();
        assert!(Work::MAX - prod < d - Work::from(1u8));
    }

    #[test]
    fn minimum_known_work_is_set_on_the_public_networks_only() {
        assert_eq!(
            min_known_chain_work(CurrencyNet::TestNet3),
            Some(Work::from(0xf377_240e_1461_95dfu64))
        );
        let main = min_known_chain_work(CurrencyNet::MainNet).unwrap();
        assert_eq!(
            Some(main),
            Work::from_str_radix("243868232c14b8224643b6", 16).ok()
        );
        assert_eq!(min_known_chain_work(CurrencyNet::SimNet), None);
        assert_eq!(min_known_chain_work(CurrencyNet::RegNet), None);
    }
}
