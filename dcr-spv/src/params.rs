//! Chain parameters of the four Decred networks: the subset of dcrd's
//! `chaincfg` that checking headers and filters needs.
//!
//! What the networks share with every other user of chain parameters
//! (the genesis block, proof-of-work limit, difficulty and stake
//! parameters, `AssumeValid`, `MinKnownChainWork`, the forced agendas)
//! comes from [`dcr_wire::params`], dcrd's `chaincfg` in one place; see
//! [`Params::from_wire`]. What only a light client needs is kept here: the
//! subsidy parameters of the stake difficulty's supply estimate, the
//! address prefixes, checkpoints, the activation heights dcrwallet
//! hard-codes ([`Activation`]), the pre-DCP-0005 filter set hashes and the
//! testnet's maximum-difficulty rule. Those values are dcrd's `chaincfg`
//! (`mainnetparams.go`, `testnetparams.go`, `simnetparams.go`,
//! `regnetparams.go`, `subsidytables.go` for the block one ledger totals)
//! and dcrwallet's (`validate/validate.go`, `deployments/deployments.go`),
//! at commit 036b7090, the commit of the conformance corpus.
//!
//! The genesis headers dcr-wire builds are checked here against the
//! reference's own bytes (dcrd's `getblockheader` for block 0 of each
//! network; see `tests/data/gen_vectors.py`).

use std::sync::LazyLock;

use dcr_wire::{BlockHeader, CurrencyNet, Hash};

use crate::pow::Target;

/// How a consensus change that headers depend on became active on a
/// network, as far as a client holding only headers can know.
///
/// dcrd learns an agenda's state from the votes inside blocks, which a light
/// client does not have; dcrwallet instead hard-codes the heights where the
/// agendas it needs activated on mainnet and testnet (its `deployments` and
/// `validate` packages), and treats agendas forced by the chain parameters
/// (`ForcedChoiceID`) as always active.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    /// Forced active by the chain parameters: in force for every block after
    /// genesis.
    Forced,
    /// Activated by a vote at a height hard-coded here, as dcrwallet
    /// hard-codes it.
    At(u32),
    /// Decided by a stakeholder vote whose outcome headers do not show.
    /// The change cannot be in force before the first height a vote could
    /// activate it ([`Params::first_vote_activation_height`]).
    Voted,
}

impl Activation {
    /// Whether the change is in force for the block at `height`: `Some` when
    /// headers decide it, `None` when only the votes could.
    pub fn active_at(self, height: u32, params: &Params) -> Option<bool> {
        match self {
            Activation::Forced => Some(height >= 1),
            Activation::At(h) => Some(height >= h),
            Activation::Voted if i64::from(height) < params.first_vote_activation_height() => {
                Some(false)
            }
            Activation::Voted => None,
        }
    }
}

/// A block a network's chain must contain: a header at `height` with any
/// other hash is refused (dcrwallet `wallet.CheckpointHash`, dcrd
/// `block962928Hash`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checkpoint {
    /// The block's height.
    pub height: u32,
    /// The block's hash.
    pub hash: Hash,
}

/// A network's parameters. Field names follow dcrd's `chaincfg.Params`;
/// durations are in seconds.
#[derive(Debug, Clone)]
pub struct Params {
    /// The network's name, as dcrd prints it ("mainnet", ...).
    pub name: &'static str,
    /// The network's magic (the wire's `CurrencyNet`).
    pub net: CurrencyNet,
    /// The genesis block's header.
    pub genesis_header: BlockHeader,
    /// The genesis block's hash.
    pub genesis_hash: Hash,
    /// The easiest target a block may have (`PowLimit`).
    pub pow_limit: Target,
    /// `PowLimit` in compact form (`PowLimitBits`).
    pub pow_limit_bits: u32,
    /// Whether blocks may drop to the easiest target after a pause
    /// (`ReduceMinDifficulty`, testnet only).
    pub reduce_min_difficulty: bool,
    /// The pause after which they may (`MinDiffReductionTime`).
    pub min_diff_reduction_time: i64,
    /// `TargetTimePerBlock`.
    pub target_time_per_block: i64,
    /// `WorkDiffAlpha`.
    pub work_diff_alpha: i64,
    /// `WorkDiffWindowSize`.
    pub work_diff_window_size: i64,
    /// `WorkDiffWindows`.
    pub work_diff_windows: i64,
    /// `TargetTimespan`.
    pub target_timespan: i64,
    /// `RetargetAdjustmentFactor`.
    pub retarget_adjustment_factor: i64,
    /// `WorkDiffV2Blake3StartBits`: the ASERT algorithm's starting bits.
    pub work_diff_v2_blake3_start_bits: u32,
    /// `WorkDiffV2HalfLifeSecs`.
    pub work_diff_v2_half_life_secs: i64,
    /// `BaseSubsidy`.
    pub base_subsidy: i64,
    /// `MulSubsidy`.
    pub mul_subsidy: i64,
    /// `DivSubsidy`.
    pub div_subsidy: i64,
    /// `SubsidyReductionInterval`.
    pub subsidy_reduction_interval: i64,
    /// `BlockOneSubsidy()`: the sum of the block one ledger.
    pub block_one_subsidy: i64,
    /// `RuleChangeActivationInterval`.
    pub rule_change_activation_interval: i64,
    /// `MinimumStakeDiff`.
    pub minimum_stake_diff: i64,
    /// `TicketPoolSize`.
    pub ticket_pool_size: u16,
    /// `TicketsPerBlock`.
    pub tickets_per_block: u16,
    /// `TicketMaturity`.
    pub ticket_maturity: u16,
    /// `CoinbaseMaturity`.
    pub coinbase_maturity: u16,
    /// `TicketPoolSizeWeight`.
    pub ticket_pool_size_weight: u16,
    /// `StakeDiffAlpha`.
    pub stake_diff_alpha: i64,
    /// `StakeDiffWindowSize`.
    pub stake_diff_window_size: i64,
    /// `StakeDiffWindows`.
    pub stake_diff_windows: i64,
    /// `MaxFreshStakePerBlock`.
    pub max_fresh_stake_per_block: u8,
    /// `StakeEnabledHeight`.
    pub stake_enabled_height: i64,
    /// `StakeValidationHeight`.
    pub stake_validation_height: i64,
    /// `PubKeyHashAddrID`: the prefix of P2PKH (secp256k1 ECDSA) addresses.
    pub pubkey_hash_addr_id: [u8; 2],
    /// `ScriptHashAddrID`: the prefix of P2SH addresses.
    pub script_hash_addr_id: [u8; 2],
    /// `AssumeValid`: a block known valid; dcrd rejects forks more than
    /// two weeks of blocks before it once it is known.
    pub assume_valid: Option<Hash>,
    /// `MinKnownChainWork`: the work a chain is known to have at least.
    pub min_known_chain_work: u128,
    /// Blocks the chain must contain.
    pub checkpoints: &'static [Checkpoint],
    /// DCP-0001: the stake difficulty algorithm of version 2.
    pub dcp0001: Activation,
    /// DCP-0005: header commitments (the stake root commits to the filter).
    pub dcp0005: Activation,
    /// DCP-0011: BLAKE3 proof of work and the ASERT difficulty.
    pub dcp0011: Activation,
    /// BLAKE-256 of every version 2 filter before DCP-0005, back to back,
    /// as dcrwallet's `validate.PreDCP0005CFilterHash` knows it.
    pub pre_dcp0005_cfilter_set_hash: Option<Hash>,
    /// The testnet's maximum-difficulty rule: the hardest target allowed
    /// is the limit shifted right by this, from
    /// `testnet_max_diff_activation_height` on (dcrd `maxTestDiffShift`).
    pub testnet_max_diff_shift: Option<u32>,
    /// dcrd's `testNet3MaxDiffActivationHeight`.
    pub testnet_max_diff_activation_height: u32,
}

impl Params {
    /// The first height at which a voted change could be in force: voting
    /// starts at stake validation height, takes one rule change interval
    /// and is locked in for another (the bound dcrd's
    /// `checkDifficultyPositional` uses for DCP-0011).
    pub fn first_vote_activation_height(&self) -> i64 {
        self.stake_validation_height + 2 * self.rule_change_activation_interval
    }

    /// dcrd's `expectedBlocksInTwoWeeks`.
    pub fn expected_blocks_in_two_weeks(&self) -> i64 {
        14 * 24 * 60 * 60 / self.target_time_per_block
    }

    /// The hardest target the testnet allows where its rule applies
    /// (dcrd `minTestNetTarget`).
    pub fn min_testnet_target(&self) -> Option<Target> {
        self.testnet_max_diff_shift
            .map(|s| Target(self.pow_limit.0 >> s as usize))
    }

    /// The parameters of the network with this magic.
    pub fn for_net(net: CurrencyNet) -> Option<&'static Params> {
        [mainnet(), testnet3(), simnet(), regnet()]
            .into_iter()
            .find(|p| p.net == net)
    }

    /// The parameters of `wire`'s network: every value dcr-wire has,
    /// converted (durations to seconds, big-endian numbers to targets and
    /// work), the agendas its `chaincfg` forces as [`Activation::Forced`]
    /// and the others as [`Activation::Voted`]; the light client's own
    /// values at dcrd's simnet defaults, for each network to set.
    pub fn from_wire(wire: &'static dcr_wire::params::Params) -> Params {
        let genesis_header = wire.genesis_block().header;
        let forced = |d: &dcr_wire::params::Deployment| {
            if d.forced_yes {
                Activation::Forced
            } else {
                Activation::Voted
            }
        };
        let secs = |d: std::time::Duration| d.as_secs() as i64;
        let work = wire.min_known_chain_work.map_or(0, |w| {
            // Decred's chain work fits in 128 bits for ages to come; more
            // saturates.
            if w[..16].iter().any(|&b| b != 0) {
                u128::MAX
            } else {
                u128::from_be_bytes(w[16..].try_into().unwrap_or_default())
            }
        });
        Params {
            name: wire.name,
            net: wire.net,
            genesis_hash: genesis_header.block_hash(),
            genesis_header,
            pow_limit: Target::from_be_bytes(wire.pow_limit),
            pow_limit_bits: wire.pow_limit_bits,
            reduce_min_difficulty: wire.reduce_min_difficulty,
            min_diff_reduction_time: secs(wire.min_diff_reduction_time),
            target_time_per_block: secs(wire.target_time_per_block),
            work_diff_alpha: wire.work_diff_alpha,
            work_diff_window_size: wire.work_diff_window_size,
            work_diff_windows: wire.work_diff_windows,
            target_timespan: secs(wire.target_timespan),
            retarget_adjustment_factor: wire.retarget_adjustment_factor,
            work_diff_v2_blake3_start_bits: wire.work_diff_v2_blake3_start_bits,
            work_diff_v2_half_life_secs: wire.work_diff_v2_half_life_secs,
            base_subsidy: 50_000_000_000,
            mul_subsidy: 100,
            div_subsidy: 101,
            subsidy_reduction_interval: 128,
            block_one_subsidy: 30_000_000_000_000,
            rule_change_activation_interval: i64::from(wire.rule_change_activation_interval),
            minimum_stake_diff: wire.minimum_stake_diff,
            ticket_pool_size: wire.ticket_pool_size,
            tickets_per_block: wire.tickets_per_block,
            ticket_maturity: wire.ticket_maturity,
            coinbase_maturity: wire.coinbase_maturity,
            ticket_pool_size_weight: 4,
            stake_diff_alpha: wire.stake_diff_alpha,
            stake_diff_window_size: wire.stake_diff_window_size,
            stake_diff_windows: wire.stake_diff_windows,
            max_fresh_stake_per_block: wire.max_fresh_stake_per_block,
            stake_enabled_height: wire.stake_enabled_height,
            stake_validation_height: wire.stake_validation_height,
            pubkey_hash_addr_id: [0, 0],
            script_hash_addr_id: [0, 0],
            assume_valid: wire.assume_valid,
            min_known_chain_work: work,
            checkpoints: &[],
            // No deployment in dcr-wire: DCP-0001 predates the agendas
            // dcrd still lists.
            dcp0001: Activation::Voted,
            dcp0005: forced(&wire.header_commitments),
            dcp0011: forced(&wire.blake3_pow),
            pre_dcp0005_cfilter_set_hash: None,
            testnet_max_diff_shift: None,
            testnet_max_diff_activation_height: 0,
        }
    }
}

fn hash(s: &str) -> Hash {
    s.parse().unwrap_or_default()
}

static MAINNET: LazyLock<Params> = LazyLock::new(|| Params {
    base_subsidy: 3_119_582_664,
    subsidy_reduction_interval: 6144,
    block_one_subsidy: 168_000_000_000_000,
    pubkey_hash_addr_id: [0x07, 0x3f],
    script_hash_addr_id: [0x07, 0x1a],
    // dcrwallet deployments.DCP0001.MainNetActivationHeight.
    dcp0001: Activation::At(149_248),
    // dcrwallet validate.DCP0005ActiveHeightMainNet.
    dcp0005: Activation::At(431_488),
    pre_dcp0005_cfilter_set_hash: Some(hash(
        "f95e09f9ded38f8d6c32e5158a1f286633881393659218c63f5ab0fc86b36c83",
    )),
    ..Params::from_wire(&dcr_wire::params::MAINNET)
});

static TESTNET3_CHECKPOINTS: LazyLock<[Checkpoint; 1]> = LazyLock::new(|| {
    [Checkpoint {
        height: 962_928,
        hash: hash("0000004fd1b267fd39111d456ff557137824538e6f6776168600e56002e23b93"),
    }]
});

static TESTNET3: LazyLock<Params> = LazyLock::new(|| Params {
    base_subsidy: 2_500_000_000,
    subsidy_reduction_interval: 2048,
    block_one_subsidy: 10_000_000_000_000,
    pubkey_hash_addr_id: [0x0f, 0x21],
    script_hash_addr_id: [0x0e, 0xfc],
    checkpoints: &*TESTNET3_CHECKPOINTS,
    // Forced in testnetparams.go; dcrwallet's TestNet3ActivationHeight 0.
    dcp0001: Activation::Forced,
    // dcrwallet validate.DCP0005ActiveHeightTestNet3.
    dcp0005: Activation::At(323_328),
    pre_dcp0005_cfilter_set_hash: Some(hash(
        "619c08f5adda6f834212bbdaee3002fdc4efed731477af6c0fed490bbe2488d0",
    )),
    testnet_max_diff_shift: Some(6),
    testnet_max_diff_activation_height: 962_928,
    ..Params::from_wire(&dcr_wire::params::TESTNET3)
});

static SIMNET: LazyLock<Params> = LazyLock::new(|| Params {
    pubkey_hash_addr_id: [0x0e, 0x91],
    script_hash_addr_id: [0x0e, 0x6c],
    // Every agenda is forced in simnetparams.go (dcr-wire forces
    // DCP-0005 and DCP-0011; DCP-0001 has no deployment there).
    dcp0001: Activation::Forced,
    ..Params::from_wire(&dcr_wire::params::SIMNET)
});

static REGNET: LazyLock<Params> = LazyLock::new(|| Params {
    pubkey_hash_addr_id: [0x0e, 0x00],
    script_hash_addr_id: [0x0d, 0xdb],
    ..Params::from_wire(&dcr_wire::params::REGNET)
});

/// Decred's main network.
pub fn mainnet() -> &'static Params {
    &MAINNET
}

/// The public test network, version 3.
pub fn testnet3() -> &'static Params {
    &TESTNET3
}

/// The simulation network (private chains; every agenda forced active).
pub fn simnet() -> &'static Params {
    &SIMNET
}

/// The regression test network (private chains; agendas voted).
pub fn regnet() -> &'static Params {
    &REGNET
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn genesis_hashes_are_the_references() {
        for (p, h) in [
            (
                mainnet(),
                "298e5cc3d985bfe7f81dc135f360abe089edd4396b86d2de66b0cef42b21d980",
            ),
            (
                testnet3(),
                "a649dce53918caf422e9c711c858837e08d626ecfcd198969b24f7b634a49bac",
            ),
            (
                simnet(),
                "6bef82c645999585f7255cb02672921ac2f5492820090cd635fe3a59d16b4f87",
            ),
            (
                regnet(),
                "2ced94b4ae95bba344cfa043268732d230649c640f92dce2d9518823d3057cb0",
            ),
        ] {
            assert_eq!(p.genesis_hash.to_string(), h, "{}", p.name);
            assert_eq!(p.genesis_header.height, 0);
            assert_eq!(Params::for_net(p.net).map(|q| q.name), Some(p.name));
        }
    }

    /// dcrd's `getblockheader` of block 0 on each network, serialized:
    /// dcr-wire's genesis blocks must give these bytes.
    #[test]
    fn genesis_headers_are_the_references_bytes() {
        for (p, hex) in [
            (mainnet(), "0100000000000000000000000000000000000000000000000000000000000000000000000dc101dfc3c6a2eb10ca0c5374e10d28feb53f7eabcc850511ceadb99174aa66000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000ffff011b00c2eb0b000000000000000000000000a0d7b85600000000000000000000000000000000000000000000000000000000000000000000000000000000"),
            (testnet3(), "0600000000000000000000000000000000000000000000000000000000000000000000002c0ad603d44a16698ac951fa22aab5e7b30293fa1d0ac72560cdfcc9eabcdfe7000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000ffff001e002d3101000000000000000000000000808f675b1aa4ae18000000000000000000000000000000000000000000000000000000000000000006000000"),
            (simnet(), "010000000000000000000000000000000000000000000000000000000000000000000000925629c5582bbfc3609d71a2f4a887443c80d54a1fe31e95e95d42f3e288945c000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000ffff7f20000000000000000000000000000000004506865300000000000000000000000000000000000000000000000000000000000000000000000000000000"),
            (regnet(), "0100000000000000000000000000000000000000000000000000000000000000000000000dc101dfc3c6a2eb10ca0c5374e10d28feb53f7eabcc850511ceadb99174aa66000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000ffff7f20000000000000000000000000000000008006b45b00000000000000000000000000000000000000000000000000000000000000000000000000000000"),
        ] {
            let bytes: Vec<u8> = (0..hex.len() / 2)
                .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
                .collect();
            assert_eq!(p.genesis_header.to_bytes()[..], bytes[..], "{}", p.name);
        }
    }

    /// What the light client takes from dcr-wire, and what it keeps.
    #[test]
    fn shared_values_come_from_dcr_wire() {
        for p in [mainnet(), testnet3(), simnet(), regnet()] {
            let w = dcr_wire::params::Params::of(p.net);
            assert_eq!(p.name, w.name);
            assert_eq!(p.genesis_hash, w.genesis_hash);
            assert_eq!(p.pow_limit.to_be_bytes(), w.pow_limit);
            assert_eq!(
                p.target_time_per_block as u64,
                w.target_time_per_block.as_secs()
            );
            assert_eq!(p.assume_valid, w.assume_valid);
            assert_eq!(p.stake_validation_height, w.stake_validation_height);
        }
        assert_eq!(
            mainnet().min_known_chain_work,
            0x0024_3868_232c_14b8_2246_43b6
        );
        assert_eq!(regnet().min_known_chain_work, 0);
        // Forced agendas of chaincfg; the rest voted, or at dcrwallet's
        // heights.
        assert_eq!(simnet().dcp0011, Activation::Forced);
        assert_eq!(regnet().dcp0005, Activation::Voted);
        assert_eq!(mainnet().dcp0005, Activation::At(431_488));
    }

    #[test]
    fn limits_match_their_compact_bits() {
        use crate::pow::{compact_to_target, target_to_compact, Compact};
        for p in [mainnet(), testnet3(), simnet(), regnet()] {
            assert_eq!(
                target_to_compact(p.pow_limit),
                p.pow_limit_bits,
                "{}",
                p.name
            );
            // The bits' own target is within the limit (it drops low bits).
            let Compact::Target(t) = compact_to_target(p.pow_limit_bits) else {
                panic!()
            };
            assert!(t <= p.pow_limit);
        }
        // dcrd: minTestNetTarget is the limit over 64.
        assert_eq!(
            testnet3().min_testnet_target().map(target_to_compact),
            Some(0x1d03ffff)
        );
    }

    #[test]
    fn activation_by_height() {
        let m = mainnet();
        assert_eq!(m.dcp0005.active_at(431_487, m), Some(false));
        assert_eq!(m.dcp0005.active_at(431_488, m), Some(true));
        assert_eq!(m.dcp0011.active_at(1, m), Some(false));
        assert_eq!(m.dcp0011.active_at(4096 + 2 * 8064, m), None);
        let s = simnet();
        assert_eq!(s.dcp0005.active_at(0, s), Some(false));
        assert_eq!(s.dcp0005.active_at(1, s), Some(true));
        assert_eq!(regnet().first_vote_activation_height(), 144 + 640);
    }
}
