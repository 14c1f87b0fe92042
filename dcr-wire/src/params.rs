//! Chain parameters of each network: what a light client needs to find
//! peers, recognise the chain and check its proof of work and stake.
//!
//! Every value is dcrd's, from `chaincfg/{mainnet,testnet,simnet,regnet}params.go`
//! (the reference's `chaincfg.Params`); the field documentation names the
//! reference's field. The genesis blocks are built here from the same
//! parameters, and the tests hash them to the genesis hashes.
//!
//! dcrd no longer keeps manual checkpoints (`Params.Checkpoints` is
//! deprecated and empty); [`Params::assume_valid`] and
//! [`Params::min_known_chain_work`] took their place and are here.
//!
//! ```
//! use dcr_wire::CurrencyNet;
//!
//! let main = CurrencyNet::MainNet.params();
//! assert_eq!(main.default_port, 9108);
//! assert_eq!(
//!     main.genesis_hash.to_string(),
//!     "298e5cc3d985bfe7f81dc135f360abe089edd4396b86d2de66b0cef42b21d980"
//! );
//! assert_eq!(main.genesis_block().header.block_hash(), main.genesis_hash);
//! ```

#[allow(unused_imports)]
use crate::prelude::*;
use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::{format, vec};
use core::time::Duration;

use crate::hash::{Hash, HASH_SIZE};
use crate::msg::block::Block;
use crate::msg::header::BlockHeader;
use crate::msg::tx::{OutPoint, Tx, TxIn, TxOut};
use crate::protocol::CurrencyNet;

/// A DNS seed: a host that answers with addresses of the network's nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DnsSeed {
    /// The host name.
    pub host: &'static str,
    /// Whether it supports filtering by service flags (the `x` subdomain
    /// prefix), the reference's `HasFiltering`.
    pub has_filtering: bool,
}

/// A consensus rule change that the stakeholders vote on (the reference's
/// `ConsensusDeployment`), as far as a light client needs it to tell when
/// the rule is in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deployment {
    /// The agenda's vote id (`"headercommitments"`, `"blake3pow"`).
    pub vote_id: &'static str,
    /// The stake version whose votes carry the agenda (the key of
    /// `Params.Deployments`).
    pub stake_version: u32,
    /// The vote bits of the agenda (`Vote.Mask`).
    pub mask: u16,
    /// The bits of its "yes" choice.
    pub yes_bits: u16,
    /// Unix time (seconds) from which it may be voted on (`StartTime`).
    pub start_time: u64,
    /// Unix time (seconds) after which it expires (`ExpireTime`).
    pub expire_time: u64,
    /// True where the network forces the "yes" choice, so the rule is in
    /// force from the start (`ForcedChoiceID: "yes"`, simnet).
    pub forced_yes: bool,
}

/// The parameters of one network (the reference's `chaincfg.Params`, the
/// part a node or light client on the wire needs; subsidy and address
/// encoding are left out).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Params {
    /// The network (and so its frame magic).
    pub net: CurrencyNet,
    /// The reference's short name (`Name`): `"mainnet"`, `"testnet3"`,
    /// `"simnet"`, `"regnet"`.
    pub name: &'static str,
    /// The port nodes listen on (`DefaultPort`).
    pub default_port: u16,
    /// The DNS seeds (`DNSSeeds`; none for simnet and regnet).
    pub dns_seeds: &'static [DnsSeed],
    /// The hash of the genesis block (`GenesisHash`); see
    /// [`Params::genesis_block`].
    pub genesis_hash: Hash,

    // Proof of work.
    /// The highest proof-of-work hash value, as a big-endian 256-bit number
    /// (`PowLimit`).
    pub pow_limit: [u8; 32],
    /// [`Params::pow_limit`] in compact form, as headers' `bits` carry it
    /// (`PowLimitBits`; slightly below the limit itself).
    pub pow_limit_bits: u32,
    /// Whether the difficulty drops to the limit when no block came for
    /// [`Params::min_diff_reduction_time`] (`ReduceMinDifficulty`; testnet).
    pub reduce_min_difficulty: bool,
    /// See [`Params::reduce_min_difficulty`] (`MinDiffReductionTime`; zero
    /// where it does not apply).
    pub min_diff_reduction_time: Duration,
    /// The largest block size the network allows, per block version
    /// schedule (`MaximumBlockSizes`, bytes).
    pub maximum_block_sizes: &'static [u32],
    /// The largest transaction size (`MaxTxSize`, bytes).
    pub max_tx_size: u32,
    /// The time one block should take (`TargetTimePerBlock`).
    pub target_time_per_block: Duration,
    /// Version 1 difficulty (BLAKE-256 proof of work): the smoothing alpha
    /// of the exponential moving average (`WorkDiffAlpha`).
    pub work_diff_alpha: i64,
    /// Version 1 difficulty: blocks per window (`WorkDiffWindowSize`).
    pub work_diff_window_size: i64,
    /// Version 1 difficulty: windows averaged (`WorkDiffWindows`).
    pub work_diff_windows: i64,
    /// Version 1 difficulty: the time one window should take
    /// (`TargetTimespan`, time per block × window size).
    pub target_timespan: Duration,
    /// Version 1 difficulty: the most the difficulty may change at one
    /// retarget, as a factor (`RetargetAdjustmentFactor`).
    pub retarget_adjustment_factor: i64,
    /// Version 2 difficulty (DCP-0011, BLAKE3 proof of work with ASERT):
    /// the compact difficulty of the anchor, the block before the rule's
    /// activation (`WorkDiffV2Blake3StartBits`).
    pub work_diff_v2_blake3_start_bits: u32,
    /// Version 2 difficulty: the ASERT half-life in seconds
    /// (`WorkDiffV2HalfLifeSecs`).
    pub work_diff_v2_half_life_secs: i64,

    // Where dcrd keeps checkpoints now.
    /// A block known valid, whose ancestors skip some checks
    /// (`AssumeValid`); `None` where the network has none.
    pub assume_valid: Option<Hash>,
    /// The least total work a chain must have to be taken as current, as a
    /// big-endian 256-bit number (`MinKnownChainWork`); `None` where the
    /// network has none.
    pub min_known_chain_work: Option<[u8; 32]>,

    // Voting on rule changes.
    /// Votes needed in an interval for an agenda to be decided
    /// (`RuleChangeActivationQuorum`).
    pub rule_change_activation_quorum: u32,
    /// With the divisor, the share of non-abstaining votes a choice needs
    /// (`RuleChangeActivationMultiplier`; 3 of 4).
    pub rule_change_activation_multiplier: u32,
    /// See [`Params::rule_change_activation_multiplier`]
    /// (`RuleChangeActivationDivisor`).
    pub rule_change_activation_divisor: u32,
    /// Blocks per voting interval (`RuleChangeActivationInterval`).
    pub rule_change_activation_interval: u32,
    /// DCP-0005, header commitments: from its activation the header's stake
    /// root commits to the version 2 filter (`VoteIDHeaderCommitments`).
    pub header_commitments: Deployment,
    /// DCP-0011, the BLAKE3 proof of work with the ASERT difficulty
    /// (`VoteIDBlake3Pow`); see [`Params::work_diff_v2_blake3_start_bits`].
    pub blake3_pow: Deployment,

    // Proof of stake.
    /// The lowest stake difficulty, in atoms (`MinimumStakeDiff`).
    pub minimum_stake_diff: i64,
    /// Target number of live tickets (`TicketPoolSize`, in units of
    /// blocks' worth of votes).
    pub ticket_pool_size: u16,
    /// Votes per block (`TicketsPerBlock`).
    pub tickets_per_block: u16,
    /// Blocks before a ticket may vote (`TicketMaturity`).
    pub ticket_maturity: u16,
    /// Blocks after which an unvoted ticket expires (`TicketExpiry`).
    pub ticket_expiry: u32,
    /// Blocks before a coinbase may be spent (`CoinbaseMaturity`).
    pub coinbase_maturity: u16,
    /// Blocks before a ticket purchase's change may be spent
    /// (`SStxChangeMaturity`).
    pub sstx_change_maturity: u16,
    /// Stake difficulty smoothing (`StakeDiffAlpha`).
    pub stake_diff_alpha: i64,
    /// Blocks per stake difficulty window (`StakeDiffWindowSize`).
    pub stake_diff_window_size: i64,
    /// Stake difficulty windows averaged (`StakeDiffWindows`).
    pub stake_diff_windows: i64,
    /// Blocks per stake version interval (`StakeVersionInterval`).
    pub stake_version_interval: i64,
    /// Most new tickets per block (`MaxFreshStakePerBlock`).
    pub max_fresh_stake_per_block: u8,
    /// Height from which tickets may be bought (`StakeEnabledHeight`).
    pub stake_enabled_height: i64,
    /// Height from which blocks must carry votes (`StakeValidationHeight`).
    pub stake_validation_height: i64,
}

/// A hash from its display-order hex (checked when the constants are built).
const fn hash(display: &str) -> Hash {
    let mut be = big_endian(display);
    let mut i = 0;
    while i < HASH_SIZE / 2 {
        let t = be[i];
        be[i] = be[HASH_SIZE - 1 - i];
        be[HASH_SIZE - 1 - i] = t;
        i += 1;
    }
    Hash(be)
}

/// 32 bytes from 64 hex digits, as written.
const fn big_endian(hex: &str) -> [u8; 32] {
    let s = hex.as_bytes();
    assert!(s.len() == 64, "64 hex digits");
    let mut out = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        out[i] = (digit(s[2 * i]) << 4) | digit(s[2 * i + 1]);
        i += 1;
    }
    out
}

const fn digit(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        _ => panic!("lower-case hex digit"),
    }
}

/// `2^bits - 1` as a big-endian 256-bit number.
const fn ones(bits: usize) -> [u8; 32] {
    let mut out = [0u8; 32];
    let mut i = 0;
    while i < bits {
        out[31 - i / 8] |= 1 << (i % 8);
        i += 1;
    }
    out
}

const MINUTE: u64 = 60;

/// The two agendas' shared settings: bits 1 and 2, "yes" bit 2.
const fn agenda(
    vote_id: &'static str,
    stake_version: u32,
    start_time: u64,
    expire_time: u64,
    forced_yes: bool,
) -> Deployment {
    Deployment {
        vote_id,
        stake_version,
        mask: 0x0006,
        yes_bits: 0x0004,
        start_time,
        expire_time,
        forced_yes,
    }
}

/// Go's `math.MaxInt64`, the "never expires" of the test networks.
const NEVER: u64 = i64::MAX as u64;

/// The main network.
pub static MAINNET: Params = Params {
    net: CurrencyNet::MainNet,
    name: "mainnet",
    default_port: 9108,
    dns_seeds: &[
        DnsSeed {
            host: "mainnet-seed.decred.mindcry.org",
            has_filtering: true,
        },
        DnsSeed {
            host: "mainnet-seed.decred.netpurgatory.com",
            has_filtering: true,
        },
        DnsSeed {
            host: "mainnet-seed.decred.org",
            has_filtering: true,
        },
    ],
    genesis_hash: hash("298e5cc3d985bfe7f81dc135f360abe089edd4396b86d2de66b0cef42b21d980"),
    pow_limit: ones(224),
    pow_limit_bits: 0x1d00_ffff,
    reduce_min_difficulty: false,
    min_diff_reduction_time: Duration::ZERO,
    maximum_block_sizes: &[393_216],
    max_tx_size: 393_216,
    target_time_per_block: Duration::from_secs(5 * MINUTE),
    work_diff_alpha: 1,
    work_diff_window_size: 144,
    work_diff_windows: 20,
    target_timespan: Duration::from_secs(5 * MINUTE * 144),
    retarget_adjustment_factor: 4,
    work_diff_v2_blake3_start_bits: 0x1b00_a5a6,
    work_diff_v2_half_life_secs: 43_200,
    assume_valid: Some(hash(
        "458d6a8e11c916d4149ca8bc5c7aaaaf16cc61971b0c20764c07edf85df44eb6",
    )),
    min_known_chain_work: Some(big_endian(
        "000000000000000000000000000000000000000000243868232c14b8224643b6",
    )),
    rule_change_activation_quorum: 4032,
    rule_change_activation_multiplier: 3,
    rule_change_activation_divisor: 4,
    rule_change_activation_interval: 2016 * 4,
    header_commitments: agenda("headercommitments", 7, 1_567_641_600, 1_599_264_000, false),
    blake3_pow: agenda("blake3pow", 10, 1_682_294_400, 1_745_452_800, false),
    minimum_stake_diff: 200_000_000,
    ticket_pool_size: 8192,
    tickets_per_block: 5,
    ticket_maturity: 256,
    ticket_expiry: 40_960,
    coinbase_maturity: 256,
    sstx_change_maturity: 1,
    stake_diff_alpha: 1,
    stake_diff_window_size: 144,
    stake_diff_windows: 20,
    stake_version_interval: 144 * 2 * 7,
    max_fresh_stake_per_block: 20,
    stake_enabled_height: 256 + 256,
    stake_validation_height: 4096,
};

/// The public test network, version 3.
pub static TESTNET3: Params = Params {
    net: CurrencyNet::TestNet3,
    name: "testnet3",
    default_port: 19108,
    dns_seeds: &[
        DnsSeed {
            host: "testnet-seed.decred.mindcry.org",
            has_filtering: true,
        },
        DnsSeed {
            host: "testnet-seed.decred.netpurgatory.com",
            has_filtering: true,
        },
        DnsSeed {
            host: "testnet-seed.decred.org",
            has_filtering: true,
        },
    ],
    genesis_hash: hash("a649dce53918caf422e9c711c858837e08d626ecfcd198969b24f7b634a49bac"),
    pow_limit: ones(232),
    pow_limit_bits: 0x1e00_ffff,
    reduce_min_difficulty: true,
    min_diff_reduction_time: Duration::from_secs(10 * MINUTE),
    maximum_block_sizes: &[1_310_720],
    max_tx_size: 1_000_000,
    target_time_per_block: Duration::from_secs(2 * MINUTE),
    work_diff_alpha: 1,
    work_diff_window_size: 144,
    work_diff_windows: 20,
    target_timespan: Duration::from_secs(2 * MINUTE * 144),
    retarget_adjustment_factor: 4,
    work_diff_v2_blake3_start_bits: 0x1e00_ffff,
    work_diff_v2_half_life_secs: 720,
    assume_valid: Some(hash(
        "e5d29f04aa33d19dfe4935ca2e70d8f640a7263b653f57ce600b6829d6f2cf48",
    )),
    min_known_chain_work: Some(big_endian(
        "000000000000000000000000000000000000000000000000f377240e146195df",
    )),
    rule_change_activation_quorum: 2520,
    rule_change_activation_multiplier: 3,
    rule_change_activation_divisor: 4,
    rule_change_activation_interval: 5040,
    header_commitments: agenda("headercommitments", 8, 1_567_641_600, 1_599_264_000, false),
    blake3_pow: agenda("blake3pow", 11, 1_682_294_400, 1_745_452_800, false),
    minimum_stake_diff: 20_000_000,
    ticket_pool_size: 1024,
    tickets_per_block: 5,
    ticket_maturity: 16,
    ticket_expiry: 6144,
    coinbase_maturity: 16,
    sstx_change_maturity: 1,
    stake_diff_alpha: 1,
    stake_diff_window_size: 144,
    stake_diff_windows: 20,
    stake_version_interval: 144 * 2 * 7,
    max_fresh_stake_per_block: 20,
    stake_enabled_height: 16 + 16,
    stake_validation_height: 768,
};

/// The simulation network, for private testing.
pub static SIMNET: Params = Params {
    net: CurrencyNet::SimNet,
    name: "simnet",
    default_port: 18555,
    dns_seeds: &[],
    genesis_hash: hash("6bef82c645999585f7255cb02672921ac2f5492820090cd635fe3a59d16b4f87"),
    pow_limit: ones(255),
    pow_limit_bits: 0x207f_ffff,
    reduce_min_difficulty: false,
    min_diff_reduction_time: Duration::ZERO,
    maximum_block_sizes: &[1_000_000, 1_310_720],
    max_tx_size: 1_000_000,
    target_time_per_block: Duration::from_secs(1),
    work_diff_alpha: 1,
    work_diff_window_size: 8,
    work_diff_windows: 4,
    target_timespan: Duration::from_secs(8),
    retarget_adjustment_factor: 4,
    work_diff_v2_blake3_start_bits: 0x207f_ffff,
    work_diff_v2_half_life_secs: 6,
    assume_valid: None,
    min_known_chain_work: None,
    rule_change_activation_quorum: 160,
    rule_change_activation_multiplier: 3,
    rule_change_activation_divisor: 4,
    rule_change_activation_interval: 320,
    header_commitments: agenda("headercommitments", 8, 0, NEVER, true),
    blake3_pow: agenda("blake3pow", 11, 0, NEVER, true),
    minimum_stake_diff: 20_000,
    ticket_pool_size: 64,
    tickets_per_block: 5,
    ticket_maturity: 16,
    ticket_expiry: 384,
    coinbase_maturity: 16,
    sstx_change_maturity: 1,
    stake_diff_alpha: 1,
    stake_diff_window_size: 8,
    stake_diff_windows: 8,
    stake_version_interval: 8 * 2 * 7,
    max_fresh_stake_per_block: 20,
    stake_enabled_height: 16 + 16,
    stake_validation_height: 16 + 64 * 2,
};

/// The regression test network.
pub static REGNET: Params = Params {
    net: CurrencyNet::RegNet,
    name: "regnet",
    default_port: 18655,
    dns_seeds: &[],
    genesis_hash: hash("2ced94b4ae95bba344cfa043268732d230649c640f92dce2d9518823d3057cb0"),
    pow_limit: ones(255),
    pow_limit_bits: 0x207f_ffff,
    reduce_min_difficulty: false,
    min_diff_reduction_time: Duration::ZERO,
    maximum_block_sizes: &[1_000_000, 1_310_720],
    max_tx_size: 1_000_000,
    target_time_per_block: Duration::from_secs(1),
    work_diff_alpha: 1,
    work_diff_window_size: 8,
    work_diff_windows: 4,
    target_timespan: Duration::from_secs(8),
    retarget_adjustment_factor: 4,
    work_diff_v2_blake3_start_bits: 0x207f_ffff,
    work_diff_v2_half_life_secs: 6,
    assume_valid: None,
    min_known_chain_work: None,
    rule_change_activation_quorum: 160,
    rule_change_activation_multiplier: 3,
    rule_change_activation_divisor: 4,
    rule_change_activation_interval: 320,
    header_commitments: agenda("headercommitments", 8, 0, NEVER, false),
    blake3_pow: agenda("blake3pow", 11, 0, NEVER, false),
    minimum_stake_diff: 20_000,
    ticket_pool_size: 64,
    tickets_per_block: 5,
    ticket_maturity: 16,
    ticket_expiry: 384,
    coinbase_maturity: 16,
    sstx_change_maturity: 1,
    stake_diff_alpha: 1,
    stake_diff_window_size: 8,
    stake_diff_windows: 8,
    stake_version_interval: 8 * 2 * 7,
    max_fresh_stake_per_block: 20,
    stake_enabled_height: 16 + 16,
    stake_validation_height: 16 + 64 * 2,
};

/// The output script of the mainnet, testnet3 and regnet genesis coinbase.
const GENESIS_PK_SCRIPT: [u8; 32] = [
    0x80, 0x16, 0x79, 0xe9, 0x85, 0x61, 0xad, 0xa9, 0x6c, 0xae, 0xc2, 0x94, 0x9a, 0x5d, 0x41, 0xc4,
    0xca, 0xb3, 0x85, 0x1e, 0xb7, 0x40, 0xd9, 0x51, 0xc1, 0x0e, 0xcb, 0xcf, 0x26, 0x5c, 0x1f, 0xd9,
];

/// The simnet genesis coinbase's signature script (a push of the bits,
/// then of a newspaper headline, as in Bitcoin's genesis).
const SIMNET_SIG_SCRIPT: &[u8] =
    b"\x04\xff\xff\x00\x1d\x01\x04\x45The Times 03/Jan/2009 Chancellor on brink of second bailout for banks";

/// The simnet genesis coinbase's output script (a pay-to-pubkey).
const SIMNET_PK_SCRIPT: [u8; 67] = [
    0x41, 0x04, 0x67, 0x8a, 0xfd, 0xb0, 0xfe, 0x55, 0x48, 0x27, 0x19, 0x67, 0xf1, 0xa6, 0x71, 0x30,
    0xb7, 0x10, 0x5c, 0xd6, 0xa8, 0x28, 0xe0, 0x39, 0x09, 0xa6, 0x79, 0x62, 0xe0, 0xea, 0x1f, 0x61,
    0xde, 0xb6, 0x49, 0xf6, 0xbc, 0x3f, 0x4c, 0xef, 0x38, 0xc4, 0xf3, 0x55, 0x04, 0xe5, 0x1e, 0xc1,
    0x12, 0xde, 0x5c, 0x38, 0x4d, 0xf7, 0xba, 0x0b, 0x8d, 0x57, 0x8a, 0x4c, 0x70, 0x2b, 0x6b, 0xf1,
    0x1d, 0x5f, 0xac,
];

impl Params {
    /// The parameters of `net`.
    pub fn of(net: CurrencyNet) -> &'static Params {
        match net {
            CurrencyNet::MainNet => &MAINNET,
            CurrencyNet::TestNet3 => &TESTNET3,
            CurrencyNet::SimNet => &SIMNET,
            CurrencyNet::RegNet => &REGNET,
        }
    }

    /// The genesis block, as the reference defines it (`GenesisBlock`): one
    /// coinbase transaction, no stake transactions. Its header hashes to
    /// [`Params::genesis_hash`].
    ///
    /// Its merkle root is the coinbase's full hash (`TxHashFull`), except
    /// on testnet3, whose genesis was defined with the transaction hash
    /// (`TxHash`) and keeps it, since correcting it would change the block
    /// hash.
    pub fn genesis_block(&self) -> Block<'static> {
        let coinbase_in = OutPoint::new(Hash::ZERO, u32::MAX, 0);
        let mut tx = Tx::new();
        let (input, output) = match self.net {
            // Simnet's input leaves the witness fields at Go's zero values.
            CurrencyNet::SimNet => (
                TxIn {
                    value_in: 0,
                    block_height: 0,
                    block_index: 0,
                    ..TxIn::new(coinbase_in, 0, SIMNET_SIG_SCRIPT)
                },
                TxOut::new(0, &SIMNET_PK_SCRIPT[..]),
            ),
            _ => (
                TxIn::new(coinbase_in, -1, &[0u8, 0][..]),
                TxOut::new(0, &GENESIS_PK_SCRIPT[..]),
            ),
        };
        tx.inputs = vec![input];
        tx.outputs = vec![output];
        let merkle_root = match self.net {
            CurrencyNet::TestNet3 => tx.tx_hash(),
            _ => tx.full_hash(),
        };
        let (version, timestamp, sbits, nonce, stake_version) = match self.net {
            CurrencyNet::MainNet => (1, 1_454_954_400, 200_000_000, 0, 0),
            CurrencyNet::TestNet3 => (6, 1_533_513_600, 20_000_000, 0x18ae_a41a, 6),
            CurrencyNet::SimNet => (1, 1_401_292_357, 0, 0, 0),
            CurrencyNet::RegNet => (1, 1_538_524_800, 0, 0, 0),
        };
        let bits = match self.net {
            // Mainnet's genesis starts at difficulty 32767, not the limit.
            CurrencyNet::MainNet => 0x1b01_ffff,
            _ => self.pow_limit_bits,
        };
        let header = BlockHeader {
            version,
            merkle_root,
            bits,
            sbits,
            timestamp,
            nonce,
            stake_version,
            ..BlockHeader::default()
        };
        Block::new(header, &[tx], &[])
    }
}

impl CurrencyNet {
    /// The network's chain parameters.
    pub fn params(self) -> &'static Params {
        Params::of(self)
    }

    /// The port the network's nodes listen on by default (9108, 19108,
    /// 18555, 18655): for addresses given without one.
    pub fn default_port(self) -> u16 {
        self.params().default_port
    }

    /// `addr` as `host:port`, with [`CurrencyNet::default_port`] where it
    /// names no port: `"127.0.0.1"` becomes `"127.0.0.1:9108"` on mainnet,
    /// `"::1"` and `"[::1]"` become `"[::1]:9108"`, a host name gets the
    /// port the same way, and an address with a port is returned as given.
    /// What a dialer that takes `host:port` (`TcpStream::connect`) needs
    /// for the addresses people type.
    ///
    /// ```
    /// use dcr_wire::CurrencyNet;
    ///
    /// let net = CurrencyNet::SimNet;
    /// assert_eq!(net.with_default_port("127.0.0.1"), "127.0.0.1:18555");
    /// assert_eq!(net.with_default_port("::1"), "[::1]:18555");
    /// assert_eq!(net.with_default_port("node.example:1234"), "node.example:1234");
    /// ```
    pub fn with_default_port(self, addr: &str) -> String {
        let port = self.default_port();
        if let Some(inner) = addr.strip_prefix('[') {
            // A bracketed IPv6 address, with a port or without.
            return match inner.strip_suffix(']') {
                Some(_) => format!("{addr}:{port}"),
                None => addr.to_owned(),
            };
        }
        match addr.matches(':').count() {
            // A host or IPv4 address without a port.
            0 => format!("{addr}:{port}"),
            // `host:port`.
            1 => addr.to_owned(),
            // An IPv6 address without brackets cannot carry a port.
            _ => format!("[{addr}]:{port}"),
        }
    }
}

/// The target a compact difficulty (a header's `bits`) stands for, as a
/// big-endian 256-bit number: the reference's `CompactToBig` for the
/// values a target can take. `None` for a value that is negative or does
/// not fit in 256 bits (a zero mantissa is the zero target, sign or not).
///
/// ```
/// use dcr_wire::params::{target_from_compact, MAINNET};
///
/// let t = target_from_compact(MAINNET.pow_limit_bits).unwrap();
/// assert_eq!(t[..6], [0, 0, 0, 0, 0xff, 0xff]);
/// assert!(t <= MAINNET.pow_limit);
/// ```
pub fn target_from_compact(bits: u32) -> Option<[u8; 32]> {
    let mantissa = bits & 0x007f_ffff;
    let negative = bits & 0x0080_0000 != 0;
    let exponent = (bits >> 24) as usize;
    let mut out = [0u8; 32];
    if mantissa == 0 {
        return Some(out);
    }
    if negative {
        return None;
    }
    // The number is mantissa × 256^(exponent − 3).
    let bytes = mantissa.to_be_bytes(); // [0, m2, m1, m0]
    for (k, b) in bytes[1..].iter().enumerate() {
        // Byte k of the 3-byte mantissa lands exponent − 1 − k bytes above
        // the least significant byte; below 256^0 it is shifted out.
        let Some(pos) = exponent.checked_sub(1 + k) else {
            continue;
        };
        if pos >= 32 {
            if *b != 0 {
                return None;
            }
            continue;
        }
        out[31 - pos] = *b;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msg::tx::TxSerType;

    #[test]
    fn genesis_blocks_hash_to_the_genesis_hashes() {
        for net in CurrencyNet::ALL {
            let p = net.params();
            assert_eq!(p.net, net);
            let block = p.genesis_block();
            assert_eq!(block.header.block_hash(), p.genesis_hash, "{net}");
            // It round-trips, and its merkle root is its coinbase's hash.
            let mut bytes = Vec::new();
            crate::Payload::encode(&block, &mut bytes, crate::pver::CURRENT).unwrap();
            assert_eq!(
                Block::from_bytes(&bytes, crate::pver::CURRENT),
                Ok(block.clone())
            );
            let tx = block.txs.iter().next().expect("a coinbase");
            assert_eq!(tx.ser_type, TxSerType::Full);
            let root = if net == CurrencyNet::TestNet3 {
                tx.tx_hash()
            } else {
                tx.full_hash()
            };
            assert_eq!(block.header.merkle_root, root, "{net}");
            assert!(block.stake_txs.is_empty());
        }
    }

    #[test]
    fn ports_names_and_lookups() {
        let ports: Vec<u16> = CurrencyNet::ALL.map(CurrencyNet::default_port).into();
        assert_eq!(ports, [9108, 19108, 18555, 18655]);
        for net in CurrencyNet::ALL {
            let p = Params::of(net);
            assert!(core::ptr::eq(p, net.params()));
            assert_eq!(CurrencyNet::from_name(p.name), Some(net), "{}", p.name);
        }
        assert!(SIMNET.dns_seeds.is_empty() && REGNET.dns_seeds.is_empty());
        assert_eq!(MAINNET.dns_seeds.len(), 3);
    }

    #[test]
    fn addresses_get_the_default_port() {
        let net = CurrencyNet::MainNet;
        for (given, want) in [
            ("127.0.0.1", "127.0.0.1:9108"),
            ("127.0.0.1:1", "127.0.0.1:1"),
            ("::1", "[::1]:9108"),
            ("[::1]", "[::1]:9108"),
            ("[::1]:7", "[::1]:7"),
            ("fe80::1:2", "[fe80::1:2]:9108"),
            ("localhost", "localhost:9108"),
            ("seed.example.org:19108", "seed.example.org:19108"),
        ] {
            let got = net.with_default_port(given);
            assert_eq!(got, want, "{given}");
            // What an IP becomes parses as a socket address.
            if given.parse::<core::net::IpAddr>().is_ok() {
                let sa: core::net::SocketAddr = got.parse().expect("a socket address");
                assert_eq!(sa.port(), 9108);
            }
        }
        assert_eq!(
            CurrencyNet::RegNet.with_default_port("10.0.0.1"),
            "10.0.0.1:18655"
        );
    }

    #[test]
    fn pow_limits_and_their_compact_forms() {
        // The limits are 2^224 - 1, 2^232 - 1, 2^255 - 1: so many leading
        // zero bits, then ones.
        for (p, zeros) in [(&MAINNET, 32), (&TESTNET3, 24), (&SIMNET, 1), (&REGNET, 1)] {
            let lead = p
                .pow_limit
                .iter()
                .position(|&b| b != 0)
                .map_or(256, |i| 8 * i as u32 + p.pow_limit[i].leading_zeros());
            assert_eq!(lead, zeros, "{}", p.name);
            let ones: u32 = p.pow_limit.iter().map(|b| b.count_ones()).sum();
            assert_eq!(ones, 256 - zeros, "{}", p.name);
            // The compact form is the limit rounded down.
            let t = target_from_compact(p.pow_limit_bits).expect("positive");
            assert!(t <= p.pow_limit, "{}", p.name);
        }
        // As the reference's comments spell them out.
        let testnet = target_from_compact(TESTNET3.pow_limit_bits).unwrap();
        assert_eq!(testnet[..6], [0, 0, 0, 0xff, 0xff, 0]);
        let mut want = [0u8; 32];
        want[4] = 0xff;
        want[5] = 0xff;
        assert_eq!(target_from_compact(0x1d00_ffff), Some(want));
        want = [0; 32];
        want[0] = 0x7f;
        want[1] = 0xff;
        want[2] = 0xff;
        assert_eq!(target_from_compact(0x207f_ffff), Some(want));
        // Mainnet's genesis difficulty, 0x1b01ffff: 0x01ffff × 256^24.
        want = [0; 32];
        want[5] = 0x01;
        want[6] = 0xff;
        want[7] = 0xff;
        assert_eq!(target_from_compact(0x1b01_ffff), Some(want));
        // Small exponents shift the mantissa out; negative and too large
        // values are no target.
        assert_eq!(
            target_from_compact(0x0112_3456),
            Some({
                let mut w = [0u8; 32];
                w[31] = 0x12;
                w
            })
        );
        assert_eq!(target_from_compact(0x0180_0000), Some([0; 32]));
        assert_eq!(target_from_compact(0x0181_0000), None);
        assert_eq!(target_from_compact(0x2200_ffff), None);
        assert_eq!(
            target_from_compact(0x2100_ffff).map(|t| t[..2] == [0xff, 0xff]),
            Some(true)
        );
    }

    #[test]
    fn difficulty_and_stake_relations_hold() {
        for p in [&MAINNET, &TESTNET3, &SIMNET, &REGNET] {
            // The reference's own comments state these relations.
            assert_eq!(
                p.target_timespan,
                p.target_time_per_block * p.work_diff_window_size as u32,
                "{}",
                p.name
            );
            assert_eq!(
                p.stake_enabled_height,
                i64::from(p.coinbase_maturity) + i64::from(p.ticket_maturity)
            );
            assert_eq!(p.max_fresh_stake_per_block, 4 * p.tickets_per_block as u8);
            assert_eq!(
                p.rule_change_activation_quorum,
                p.rule_change_activation_interval * u32::from(p.tickets_per_block) / 10
            );
            assert_eq!(p.header_commitments.vote_id, "headercommitments");
            assert_eq!(p.blake3_pow.vote_id, "blake3pow");
            assert!(p.blake3_pow.stake_version > p.header_commitments.stake_version);
            assert_eq!(p.assume_valid.is_some(), p.min_known_chain_work.is_some());
        }
        assert!(SIMNET.blake3_pow.forced_yes && !REGNET.blake3_pow.forced_yes);
        assert_eq!(MAINNET.work_diff_v2_half_life_secs, 144 * 300);
    }
}
