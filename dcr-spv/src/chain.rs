//! The header chain: every header checked against the rules of
//! [`crate::check`], the main chain chosen by most cumulative work, side
//! chains kept in bounded memory, reorganizations reported.
//!
//! An I/O-free state machine: [`HeaderChain::accept`] takes the headers a
//! peer sent and returns what happened ([`HeadersOutcome`]); the caller
//! stores what was connected, asks for more, and scores the peer from the
//! typed [`Rejection`].
//!
//! Sources: chain selection and work are dcrd's (`CalcWork`, the block
//! index's `betterCandidate`: more work wins); the side chain bookkeeping
//! plays the part of dcrwallet's `wallet/sidechains.go` (`SidechainForest`,
//! `EvaluateBestChain`); locators follow dcrd's `blockLocator`.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use dcr_wire::msg::BLOCK_HEADER_SIZE;
use dcr_wire::{blake256_many, BlockHeader, Hash, HashInput};

use crate::check::{check_positional, check_sanity, may_read_pow_hash_v2, HeaderError};
use crate::difficulty::AnchorCache;
use crate::facts::{Ancestors, BlockFacts, HashedHeader};
use crate::params::Params;
use crate::pow::calc_work;

/// Side chain headers kept at most, by default.
pub const DEFAULT_MAX_SIDE_HEADERS: usize = 4096;

/// Block hashes are uniformly random: their first eight bytes serve as the
/// map's hash, with no hashing.
#[derive(Default)]
pub(crate) struct PrefixHasher(u64);

impl Hasher for PrefixHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut b = [0u8; 8];
        let n = bytes.len().min(8);
        b[..n].copy_from_slice(&bytes[..n]);
        self.0 ^= u64::from_le_bytes(b);
    }

    fn write_usize(&mut self, _: usize) {}
}

pub(crate) type HashIndex<V> = HashMap<Hash, V, BuildHasherDefault<PrefixHasher>>;

/// A header kept off the main chain.
#[derive(Debug, Clone)]
struct SideNode {
    header: BlockHeader,
    facts: BlockFacts,
    work: u128,
    /// The height of the main chain block the branch leaves from.
    fork_height: u32,
}

/// Why a header was not taken. [`Invalid`](Self::Invalid) breaks a
/// consensus rule (the peer that sent it misbehaves, except for
/// [`HeaderError::TimeTooNew`]); the others are no fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// The header breaks a rule.
    #[error(transparent)]
    Invalid(#[from] HeaderError),
    /// Its parent is unknown: ask again with a locator (dcrwallet's orphan
    /// headers, answered with `getheaders`).
    #[error("header {hash} extends an unknown block {prev}")]
    Orphan {
        /// The header's hash.
        hash: Hash,
        /// The unknown parent.
        prev: Hash,
    },
    /// A side chain header that does not fit the side chain bound: it
    /// forks from the oldest point and is dropped.
    #[error("header {hash} dropped: side chain headers are at their bound")]
    SideChainsFull {
        /// The header's hash.
        hash: Hash,
    },
}

/// A block that joined the main chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Connected {
    /// Its height.
    pub height: u32,
    /// Its hash.
    pub hash: Hash,
    /// Where its header is: the batch given to
    /// [`HeaderChain::accept`], or a side chain header the outcome carries.
    source: Source,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Batch(usize),
    Side(usize),
}

/// What [`HeaderChain::accept`] did with a batch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeadersOutcome {
    /// Blocks that joined the main chain, oldest first (to store, and to
    /// fetch filters for; [`headers`](Self::headers) gives their headers).
    pub connected: Vec<Connected>,
    /// Headers of connected blocks that came from side chains in a
    /// reorganization (the others are in the batch).
    side_headers: Vec<BlockHeader>,
    /// Blocks that left the main chain in a reorganization, highest first.
    pub disconnected: Vec<(u32, Hash)>,
    /// Headers kept on side chains (less work than the main chain: no
    /// fault of the sender, and no use yet).
    pub side: usize,
    /// Headers already known.
    pub duplicates: usize,
    /// The first header not taken and why, with its index in the batch;
    /// the rest of the batch was not looked at.
    pub rejected: Option<(usize, Rejection)>,
}

impl HeadersOutcome {
    /// The connected blocks' headers with their hashes, oldest first;
    /// `batch` is the slice given to [`HeaderChain::accept`].
    pub fn headers<'a>(
        &'a self,
        batch: &'a [BlockHeader],
    ) -> impl Iterator<Item = (&'a BlockHeader, Hash)> + 'a {
        self.connected.iter().filter_map(move |c| {
            let h = match c.source {
                Source::Batch(i) => batch.get(i)?,
                Source::Side(i) => self.side_headers.get(i)?,
            };
            Some((h, c.hash))
        })
    }

    /// The height of the last block common to the old and new main chains
    /// when a reorganization happened.
    pub fn fork_height(&self) -> Option<u32> {
        self.disconnected.last().map(|(h, _)| h - 1)
    }
}

/// A branch: the main chain up to `fork`, then side nodes.
struct Branch<'a> {
    main: &'a [BlockFacts],
    side: Vec<BlockFacts>,
}

impl Ancestors for Branch<'_> {
    fn tip(&self) -> BlockFacts {
        match self.side.last() {
            Some(f) => *f,
            None => self.main[self.main.len() - 1],
        }
    }

    fn at(&self, height: u32) -> Option<BlockFacts> {
        let h = height as usize;
        if h < self.main.len() {
            return Some(self.main[h]);
        }
        self.side.get(h - self.main.len()).copied()
    }
}

/// The header chain of one network.
///
/// Memory: per main chain block, its [`BlockFacts`] and cumulative work
/// (80 bytes) and an index entry (about 45 bytes): some 125 MB for a
/// million blocks. Side chains hold at most
/// [`max_side_headers`](Self::set_max_side_headers) full headers.
pub struct HeaderChain {
    params: Params,
    main: Vec<BlockFacts>,
    work: Vec<u128>,
    index: HashIndex<u32>,
    side: HashIndex<SideNode>,
    max_side: usize,
    anchors: AnchorCache,
    fork_reject_below: Option<u32>,
    scratch: Vec<u8>,
    /// The last bits whose work was computed, and that work: bits change
    /// only at retargets before DCP-0011.
    last_work: (u32, u128),
}

impl HeaderChain {
    /// A chain holding the network's genesis block.
    pub fn new(params: Params) -> HeaderChain {
        let genesis = BlockFacts::new(&params.genesis_header, params.genesis_hash);
        let mut index = HashIndex::default();
        index.insert(genesis.hash, 0);
        HeaderChain {
            work: vec![calc_work(genesis.bits)],
            main: vec![genesis],
            index,
            side: HashIndex::default(),
            max_side: DEFAULT_MAX_SIDE_HEADERS,
            anchors: AnchorCache::default(),
            fork_reject_below: None,
            scratch: Vec::new(),
            last_work: (0, 0),
            params,
        }
    }

    /// Sets the most side chain headers kept.
    pub fn set_max_side_headers(&mut self, max: usize) {
        self.max_side = max;
    }

    /// The network's parameters.
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// The main chain's tip.
    pub fn tip(&self) -> BlockFacts {
        self.main[self.main.len() - 1]
    }

    /// The main chain's height.
    pub fn height(&self) -> u32 {
        self.tip().height
    }

    /// The main chain's cumulative work (dcrd `workSum`, saturating at
    /// 2^128; see [`calc_work`]).
    pub fn work(&self) -> u128 {
        self.work[self.work.len() - 1]
    }

    /// Whether the main chain has less work than the network is known to
    /// have (`MinKnownChainWork`): until then, a sync is not done and a
    /// tip is not to be trusted.
    pub fn below_min_known_work(&self) -> bool {
        self.work() < self.params.min_known_chain_work
    }

    /// The main chain block at `height`.
    pub fn at(&self, height: u32) -> Option<BlockFacts> {
        self.main.get(height as usize).copied()
    }

    /// The main chain height of a block, if it is on the main chain.
    pub fn main_height(&self, hash: &Hash) -> Option<u32> {
        self.index.get(hash).copied()
    }

    /// Whether a block is known (main or side chain).
    pub fn contains(&self, hash: &Hash) -> bool {
        self.index.contains_key(hash) || self.side.contains_key(hash)
    }

    /// Side chain headers held.
    pub fn side_len(&self) -> usize {
        self.side.len()
    }

    /// A block locator for `getheaders`: the tip, then back one block at a
    /// time for ten, then doubling the step, ending with genesis (dcrd
    /// `blockLocator`).
    pub fn locator(&self) -> Vec<Hash> {
        let mut out = Vec::new();
        let mut h = i64::from(self.height());
        let mut step = 1;
        while h > 0 {
            out.push(self.main[h as usize].hash);
            if out.len() >= 10 {
                step *= 2;
            }
            h -= step;
        }
        out.push(self.main[0].hash);
        out
    }

    /// Checks and takes a batch of headers, in chain order, as one `headers`
    /// message brings them. `now` is the local clock (Unix seconds) for the
    /// future-timestamp rule, or `None` to skip it (headers read back from
    /// storage).
    pub fn accept(&mut self, headers: &[BlockHeader], now: Option<i64>) -> HeadersOutcome {
        let bytes = self.serialize(headers);
        let hashes = hash_batch(&bytes);
        let pow_v2 = pow_hashes_v2(&self.params, headers, &hashes, &bytes);
        let mut out = HeadersOutcome {
            connected: Vec::with_capacity(headers.len()),
            ..HeadersOutcome::default()
        };
        self.main.reserve(headers.len());
        self.work.reserve(headers.len());
        self.index.reserve(headers.len());
        let records = bytes.chunks_exact(BLOCK_HEADER_SIZE);
        let batch = headers.iter().zip(hashes).zip(records).zip(pow_v2);
        for (i, (((header, hash), b), v2)) in batch.enumerate() {
            let hashed = HashedHeader::with_bytes(header, hash, b).with_pow_hash_v2(v2);
            if let Err(r) = self.accept_one(i, &hashed, now, &mut out) {
                out.rejected = Some((i, r));
                break;
            }
        }
        self.scratch = bytes;
        out
    }

    /// The batch serialized back to back, in the chain's reused buffer.
    fn serialize(&mut self, headers: &[BlockHeader]) -> Vec<u8> {
        let mut bytes = std::mem::take(&mut self.scratch);
        bytes.clear();
        bytes.reserve(headers.len() * BLOCK_HEADER_SIZE);
        for h in headers {
            h.write(&mut bytes);
        }
        bytes
    }

    fn accept_one(
        &mut self,
        index: usize,
        hashed: &HashedHeader<'_>,
        now: Option<i64>,
        out: &mut HeadersOutcome,
    ) -> Result<(), Rejection> {
        let (header, hash) = (hashed.header, hashed.hash);
        let prev = header.prev_block;
        let tip_height = self.height();
        // Extending the tip, a header cannot already be on the main chain
        // (its hash would be its own ancestor's): only the side chains are
        // asked, which saves the main index two random reads per header.
        let extends_tip = prev == self.main[tip_height as usize].hash;
        let known = if extends_tip {
            self.side.contains_key(&hash)
        } else {
            self.contains(&hash)
        };
        if known {
            out.duplicates += 1;
            return Ok(());
        }
        let parent_main = if extends_tip {
            Some(tip_height)
        } else {
            self.index.get(&prev).copied()
        };
        if parent_main.is_none() && !self.side.contains_key(&prev) {
            return Err(Rejection::Orphan { hash, prev });
        }
        check_sanity(&self.params, hashed, now)?;
        if let Some(below) = self.fork_reject_below {
            if header.height < below {
                return Err(HeaderError::ForkTooOld {
                    height: header.height,
                    checkpoint: below,
                }
                .into());
            }
        }
        let work = self.work_of(header.bits);
        if parent_main == Some(tip_height) {
            // The common case: extending the main chain's tip.
            let branch = Branch {
                main: &self.main,
                side: Vec::new(),
            };
            check_positional(&self.params, hashed, &branch, &mut self.anchors)?;
            self.push_main(BlockFacts::new(header, hash), work);
            out.connected.push(Connected {
                height: header.height,
                hash,
                source: Source::Batch(index),
            });
            return Ok(());
        }
        // A side chain: gather it back to the main chain.
        let (fork_height, side) = match parent_main {
            Some(h) => (h, Vec::new()),
            None => self.side_branch(&prev)?,
        };
        let branch = Branch {
            main: &self.main[..=fork_height as usize],
            side: side.iter().map(|n| n.facts).collect(),
        };
        check_positional(&self.params, hashed, &branch, &mut self.anchors)?;
        let parent_work = side
            .last()
            .map_or(self.work[fork_height as usize], |n| n.work);
        let node = SideNode {
            header: *header,
            facts: BlockFacts::new(header, hash),
            work: parent_work.saturating_add(work),
            fork_height,
        };
        if node.work > self.work() {
            self.reorganize(fork_height, side, (node, index), out);
            return Ok(());
        }
        self.insert_side(node)?;
        out.side += 1;
        Ok(())
    }

    fn work_of(&mut self, bits: u32) -> u128 {
        if self.last_work.0 != bits {
            self.last_work = (bits, calc_work(bits));
        }
        self.last_work.1
    }

    fn push_main(&mut self, facts: BlockFacts, work: u128) {
        let total = self.work().saturating_add(work);
        self.index.insert(facts.hash, facts.height);
        self.main.push(facts);
        self.work.push(total);
        if let (None, Some(av)) = (self.fork_reject_below, self.params.assume_valid) {
            if facts.hash == av {
                // dcrd maybeSetForkRejectionCheckpoint: two weeks of blocks
                // before the assumed valid block.
                let h = i64::from(facts.height) - self.params.expected_blocks_in_two_weeks();
                self.fork_reject_below = Some(h.max(0) as u32);
            }
        }
    }

    /// The side nodes from the main chain up to `tip` (oldest first) and the
    /// height they fork from.
    fn side_branch(&self, tip: &Hash) -> Result<(u32, Vec<SideNode>), Rejection> {
        let mut nodes = Vec::new();
        let mut at = *tip;
        while let Some(n) = self.side.get(&at) {
            nodes.push(n.clone());
            at = n.header.prev_block;
        }
        nodes.reverse();
        match self.index.get(&at) {
            Some(&h) => Ok((h, nodes)),
            // Unreachable while eviction removes whole trees; an orphan
            // otherwise.
            None => Err(Rejection::Orphan {
                hash: *tip,
                prev: at,
            }),
        }
    }

    fn insert_side(&mut self, node: SideNode) -> Result<(), Rejection> {
        let hash = node.facts.hash;
        let fork = node.fork_height;
        self.side.insert(hash, node);
        while self.side.len() > self.max_side {
            // Drop every branch leaving from the oldest fork point: whole
            // trees go, so no side node loses its parent.
            let Some(oldest) = self.side.values().map(|n| n.fork_height).min() else {
                break;
            };
            self.side.retain(|_, n| n.fork_height != oldest);
            if oldest == fork && !self.side.contains_key(&hash) {
                return Err(Rejection::SideChainsFull { hash });
            }
        }
        Ok(())
    }

    fn reorganize(
        &mut self,
        fork_height: u32,
        side: Vec<SideNode>,
        (new, index): (SideNode, usize),
        out: &mut HeadersOutcome,
    ) {
        // The old branch is dropped, not kept: its full headers are not
        // held in memory, and a peer that extends it again resends them.
        while self.height() > fork_height {
            let Some(f) = self.main.pop() else { break };
            self.work.pop();
            self.index.remove(&f.hash);
            out.disconnected.push((f.height, f.hash));
        }
        let last = side.len();
        for (i, n) in side.into_iter().chain(std::iter::once(new)).enumerate() {
            self.side.remove(&n.facts.hash);
            self.index.insert(n.facts.hash, n.facts.height);
            self.main.push(n.facts);
            self.work.push(n.work);
            let source = if i == last {
                Source::Batch(index)
            } else {
                out.side_headers.push(n.header);
                Source::Side(out.side_headers.len() - 1)
            };
            out.connected.push(Connected {
                height: n.facts.height,
                hash: n.facts.hash,
                source,
            });
        }
        // Side branches that left from the dropped blocks hang from nothing
        // now: they go too. Those leaving from below the fork still reach
        // the main chain (through the new blocks, for those that grew from
        // the winning branch; their fork height then names a lower block
        // than their real fork, which only groups them for eviction).
        self.side.retain(|_, n| n.fork_height <= fork_height);
    }
}

/// The block hashes of headers serialized back to back, many at a time.
fn hash_batch(bytes: &[u8]) -> Vec<Hash> {
    let inputs: Vec<HashInput<'_>> = bytes
        .chunks_exact(BLOCK_HEADER_SIZE)
        .map(HashInput::new)
        .collect();
    let mut hashes = vec![Hash::ZERO; inputs.len()];
    blake256_many(&inputs, &mut hashes);
    hashes
}

/// The version 2 proof-of-work hashes (BLAKE3) of the headers whose checks
/// may read them ([`may_read_pow_hash_v2`]), many at a time; `None` for
/// the others. `bytes` holds the headers serialized back to back and
/// `hashes` their block hashes.
fn pow_hashes_v2(
    params: &Params,
    headers: &[BlockHeader],
    hashes: &[Hash],
    bytes: &[u8],
) -> Vec<Option<Hash>> {
    let records = bytes.chunks_exact(BLOCK_HEADER_SIZE);
    let mut wanted = Vec::new();
    let mut at = Vec::new();
    for (i, ((header, hash), b)) in headers.iter().zip(hashes).zip(records).enumerate() {
        if let Some(b) = b.first_chunk() {
            if may_read_pow_hash_v2(params, header, hash) {
                wanted.push(b);
                at.push(i);
            }
        }
    }
    let mut out = vec![None; headers.len()];
    if wanted.is_empty() {
        return out;
    }
    let mut v2 = vec![Hash::ZERO; wanted.len()];
    BlockHeader::pow_hashes_v2(&wanted, &mut v2);
    for (i, h) in at.into_iter().zip(v2) {
        out[i] = Some(h);
    }
    out
}

impl std::fmt::Debug for HeaderChain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HeaderChain")
            .field("network", &self.params.name)
            .field("height", &self.height())
            .field("tip", &self.tip().hash)
            .field("side", &self.side.len())
            .finish()
    }
}
