//! Synthetic header chains that pass every rule: for tests, benchmarks and
//! in-process servers on private networks (simnet, regnet), whose proof of
//! work limit lets about half of all hashes pass.
//!
//! Each header gets the bits and stake difficulty the rules require (from
//! this crate's own calculators) and a nonce that solves it under the hash
//! the network's rules expect. Nothing here is consensus code; real chains
//! check against dcrd's (see the crate's tests).

use dcr_wire::{BlockHeader, Hash};

use crate::difficulty::{next_blake256_bits, next_blake3_bits_from_anchor};
use crate::facts::{BlockFacts, Slice};
use crate::params::{Activation, Params};
use crate::pow::check_proof_of_work;
use crate::stakediff::{next_stake_diff_v1, next_stake_diff_v2};

/// Builds one branch of headers from genesis (or from a copy of another
/// builder's branch, for forks).
#[derive(Debug, Clone)]
pub struct ChainBuilder {
    params: Params,
    headers: Vec<BlockHeader>,
    facts: Vec<BlockFacts>,
    /// Seconds between blocks (the network's target by default).
    pub spacing: u32,
    /// Where BLAKE3 is the proof of work, take only nonces whose block
    /// hash (BLAKE-256) misses the target, so every header needs its
    /// BLAKE3 hash checked, as on mainnet since DCP-0011 (simnet's limit
    /// lets half of the BLAKE-256 hashes pass too). Off by default.
    pub blake3_only: bool,
}

impl ChainBuilder {
    /// A branch holding the network's genesis block.
    pub fn new(params: &Params) -> ChainBuilder {
        let g = params.genesis_header;
        ChainBuilder {
            facts: vec![BlockFacts::new(&g, params.genesis_hash)],
            headers: vec![g],
            spacing: params.target_time_per_block.max(1) as u32,
            blake3_only: false,
            params: params.clone(),
        }
    }

    /// The headers so far, genesis first.
    pub fn headers(&self) -> &[BlockHeader] {
        &self.headers
    }

    /// A builder for a fork: this branch cut back to `height`.
    pub fn fork_at(&self, height: u32) -> ChainBuilder {
        let mut b = self.clone();
        b.headers.truncate(height as usize + 1);
        b.facts.truncate(height as usize + 1);
        b
    }

    /// Mines the next header: `fill` sets any fields it likes (roots,
    /// stake counts, extra data) before the builder sets the link, height,
    /// timestamp, bits, stake difficulty and nonce.
    pub fn next(&mut self, fill: impl FnOnce(&mut BlockHeader)) -> BlockHeader {
        let p = &self.params;
        let Some(branch) = Slice::new(&self.facts) else {
            return BlockHeader::default();
        };
        let prev = self.facts[self.facts.len() - 1];
        let height = prev.height + 1;
        let mut h = BlockHeader {
            version: 1,
            vote_bits: 1,
            ..BlockHeader::default()
        };
        fill(&mut h);
        h.prev_block = prev.hash;
        h.height = height;
        h.timestamp = prev.timestamp.max(h.timestamp) + self.spacing;
        if i64::from(height) >= p.stake_validation_height && h.voters == 0 {
            h.voters = p.tickets_per_block;
        }
        let blake3 = p.dcp0011 == Activation::Forced;
        h.bits = if blake3 {
            match self.facts.get(1) {
                Some(anchor) if prev.height > 0 => next_blake3_bits_from_anchor(p, &prev, anchor),
                _ => p.work_diff_v2_blake3_start_bits,
            }
        } else {
            next_blake256_bits(p, &branch, i64::from(h.timestamp)).unwrap_or(p.pow_limit_bits)
        };
        h.sbits = match p.dcp0001.active_at(height, p) {
            Some(true) => next_stake_diff_v2(p, &branch),
            Some(false) => next_stake_diff_v1(p, &branch).unwrap_or(p.minimum_stake_diff),
            None => h.sbits,
        };
        for nonce in 0u32.. {
            h.nonce = nonce;
            let pow = if blake3 {
                h.pow_hash_v2()
            } else {
                h.block_hash()
            };
            let v1_passes = || check_proof_of_work(&h.block_hash(), h.bits, p.pow_limit).is_ok();
            if check_proof_of_work(&pow, h.bits, p.pow_limit).is_ok()
                && !(blake3 && self.blake3_only && v1_passes())
            {
                break;
            }
        }
        let hash = h.block_hash();
        self.facts.push(BlockFacts::new(&h, hash));
        self.headers.push(h);
        h
    }

    /// Mines `n` headers with default contents.
    pub fn extend(&mut self, n: usize) -> Vec<BlockHeader> {
        (0..n).map(|_| self.next(|_| {})).collect()
    }

    /// The tip's hash.
    pub fn tip_hash(&self) -> Hash {
        self.facts[self.facts.len() - 1].hash
    }
}
