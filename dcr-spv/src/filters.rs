//! Fetching version 2 filters for the main chain: which to ask for, and
//! whether what came back is what the headers commit to.
//!
//! [`FilterSync`] is an I/O-free manager in the manner of nakamoto's
//! `cbfmgr`: it is told the main chain's new blocks ([`add_headers`]) and
//! reorganizations ([`rollback`]), hands out requests ([`next_batch`]: a
//! `getcfsv2` range of at most 100 blocks for peers of protocol 11 and up,
//! or a single block for `getcfilterv2`), and checks each answer
//! ([`receive`]) before releasing the filters in height order. Several
//! requests may be out at once, to several peers; a request that a peer
//! does not answer is handed back ([`cancel`]) and goes to the next one.
//!
//! Sources: dcrwallet `spv/sync.go` and `spv/backend.go` (`CFiltersV2`,
//! each filter checked with `validate.CFilterV2HeaderCommitment`), dcrd
//! `server.go` (`OnGetCFiltersV2`: the range is start to end inclusive, at
//! most `wire.MaxCFiltersV2PerBatch`).
//!
//! [`add_headers`]: FilterSync::add_headers
//! [`rollback`]: FilterSync::rollback
//! [`next_batch`]: FilterSync::next_batch
//! [`receive`]: FilterSync::receive
//! [`cancel`]: FilterSync::cancel

use std::collections::VecDeque;

use dcr_wire::msg::MAX_CFILTERS_V2_PER_BATCH;
use dcr_wire::{BlockHeader, CFilterV2, Hash};

use crate::commitment::{check_commitment, Commitment, PreCommitmentError, PreCommitmentSet};
use crate::gcs::{self, Filter};
use crate::params::Params;

/// Heights past the lowest unfinished one that requests may reach, by
/// default: it bounds the filters held while a slower request is out.
pub const DEFAULT_MAX_AHEAD: usize = 1000;

/// One request for filters: blocks `start_height ..= start_height + count -
/// 1`, from `start` to `end` (equal for one block).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FilterBatch {
    /// Names the request in [`FilterSync::receive`] and
    /// [`FilterSync::cancel`].
    pub id: u64,
    /// Height of the first block.
    pub start_height: u32,
    /// Number of blocks.
    pub count: u32,
    /// Hash of the first block (`getcfsv2`'s start, `getcfilterv2`'s hash).
    pub start: Hash,
    /// Hash of the last block (`getcfsv2`'s end).
    pub end: Hash,
}

/// A filter checked against its header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedFilter {
    /// The block's height.
    pub height: u32,
    /// The block's hash.
    pub hash: Hash,
    /// The filter key (from the header's merkle root).
    pub key: [u8; gcs::KEY_SIZE],
    /// The filter's serialization.
    pub data: Vec<u8>,
    /// How it stands against the header.
    pub commitment: Commitment,
}

impl CheckedFilter {
    /// The filter, read from its bytes (which were checked to decode).
    pub fn filter(&self) -> Filter<'_> {
        Filter::from_bytes(&self.data).unwrap_or(Filter::EMPTY)
    }
}

/// Why an answer is refused. All are the sending peer's fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    /// No request of that id is out.
    #[error("no filter request {0} is outstanding")]
    Unrequested(u64),
    /// Fewer or more filters than blocks asked for.
    #[error("{got} filters for a request of {expected}")]
    Count {
        /// Blocks asked for.
        expected: u32,
        /// Filters received.
        got: usize,
    },
    /// A filter for a block other than the one due at its place.
    #[error("filter for block {got} where {expected} was due")]
    WrongBlock {
        /// The block due.
        expected: Hash,
        /// The block the filter names.
        got: Hash,
    },
    /// The filter's item count does not decode.
    #[error("filter for block {0} does not decode")]
    Decode(Hash),
    /// The filter does not prove into its header's commitment root.
    #[error(transparent)]
    Proof(#[from] crate::commitment::ProofError),
}

#[derive(Debug, Clone)]
enum State {
    Wanted,
    InFlight(u64),
    Done(Box<CheckedFilter>),
}

#[derive(Debug, Clone)]
struct Pending {
    hash: Hash,
    key: [u8; gcs::KEY_SIZE],
    root: Hash,
    state: State,
}

/// What [`FilterSync::receive`] releases.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Released {
    /// Checked filters now complete in height order (store them, match
    /// them), lowest first.
    pub filters: Vec<CheckedFilter>,
    /// Set when these filters completed the set of filters before header
    /// commitments: its verdict. A mismatch names no peer (dcrwallet's
    /// answer is to import known-good filters); the caller refetches that
    /// range from other peers.
    pub pre_commitment: Option<Result<(), PreCommitmentError>>,
}

/// The filter fetching manager of one main chain.
#[derive(Debug)]
pub struct FilterSync {
    params: Params,
    /// Blocks from `base` on whose filters are not yet released.
    queue: VecDeque<Pending>,
    base: u32,
    next_id: u64,
    pre_set: Option<PreCommitmentSet>,
    max_ahead: usize,
}

impl FilterSync {
    /// A manager whose next filter to release is that of block
    /// `next_height` (0 for a new client; one past the last stored filter
    /// when resuming). The filters before header commitments are checked
    /// as a set only when it starts from genesis, or once
    /// [`pre_commitment_set`](Self::pre_commitment_set) has been fed the
    /// stored ones.
    pub fn new(params: Params, next_height: u32) -> FilterSync {
        let pre_set = PreCommitmentSet::new(&params);
        FilterSync {
            params,
            queue: VecDeque::new(),
            base: next_height,
            next_id: 1,
            pre_set,
            max_ahead: DEFAULT_MAX_AHEAD,
        }
    }

    /// Sets how far past the lowest unfinished height requests may reach.
    pub fn set_max_ahead(&mut self, heights: usize) {
        self.max_ahead = heights.max(1);
    }

    /// The set of filters before header commitments, to feed stored
    /// filters to after a restart.
    pub fn pre_commitment_set(&mut self) -> Option<&mut PreCommitmentSet> {
        self.pre_set.as_mut()
    }

    /// The height of the next filter to release.
    pub fn next_height(&self) -> u32 {
        self.base
    }

    /// Blocks whose filters are known to be needed (the headers given, not
    /// yet released).
    pub fn pending(&self) -> usize {
        self.queue.len()
    }

    /// The height after the last block given.
    pub fn headers_end(&self) -> u32 {
        self.base + self.queue.len() as u32
    }

    /// Adds main chain blocks, in height order, as the header chain
    /// connects them. Blocks below [`headers_end`](Self::headers_end) are
    /// skipped (already known); a gap ends the call (the caller feeds the
    /// missing ones from its store first).
    pub fn add_headers<'a>(&mut self, blocks: impl IntoIterator<Item = (&'a BlockHeader, Hash)>) {
        for (h, hash) in blocks {
            let end = self.headers_end();
            if h.height < end {
                continue;
            }
            if h.height > end {
                break;
            }
            self.queue.push_back(Pending {
                hash,
                key: gcs::key(&h.merkle_root),
                root: h.stake_root,
                state: State::Wanted,
            });
        }
    }

    /// Forgets blocks above `fork_height` after a reorganization. Returns
    /// whether filters already released are among them (the caller drops
    /// those from its store; they are fetched again for the new blocks).
    pub fn rollback(&mut self, fork_height: u32) -> bool {
        let keep = (fork_height + 1).saturating_sub(self.base) as usize;
        self.queue.truncate(keep);
        if fork_height + 1 < self.base {
            self.base = fork_height + 1;
            if let Some(set) = &self.pre_set {
                if set.next_height() > self.base {
                    self.pre_set = PreCommitmentSet::new(&self.params).filter(|_| self.base == 0);
                }
            }
            return true;
        }
        false
    }

    /// The next request for at most `max` blocks (capped at the 100 of one
    /// `cfiltersv2`), or `None` when every wanted filter is out or the
    /// window ahead of the lowest unfinished height is full. `max` 1 makes a
    /// `getcfilterv2` request.
    pub fn next_batch(&mut self, max: u32) -> Option<FilterBatch> {
        let max = max.clamp(1, MAX_CFILTERS_V2_PER_BATCH as u32) as usize;
        let limit = self.queue.len().min(self.max_ahead);
        let first = (0..limit).find(|&i| matches!(self.queue[i].state, State::Wanted))?;
        let mut last = first;
        while last + 1 < limit
            && last + 1 - first < max
            && matches!(self.queue[last + 1].state, State::Wanted)
        {
            last += 1;
        }
        let id = self.next_id;
        self.next_id += 1;
        for p in self.queue.range_mut(first..=last) {
            p.state = State::InFlight(id);
        }
        Some(FilterBatch {
            id,
            start_height: self.base + first as u32,
            count: (last - first + 1) as u32,
            start: self.queue[first].hash,
            end: self.queue[last].hash,
        })
    }

    fn batch_range(&self, id: u64) -> Option<std::ops::Range<usize>> {
        let first = self
            .queue
            .iter()
            .position(|p| matches!(p.state, State::InFlight(i) if i == id))?;
        let len = self
            .queue
            .range(first..)
            .take_while(|p| matches!(p.state, State::InFlight(i) if i == id))
            .count();
        Some(first..first + len)
    }

    /// Hands a request back (its peer timed out, left, or was found
    /// misbehaving): its blocks are wanted again.
    pub fn cancel(&mut self, id: u64) {
        if let Some(r) = self.batch_range(id) {
            for p in self.queue.range_mut(r) {
                p.state = State::Wanted;
            }
        }
    }

    /// Checks the answer to request `id` (the filters of a `cfiltersv2`, or
    /// the one `cfilterv2`): one filter per block, in order, each for its
    /// block, decoding, and proving into its header. A refused answer puts
    /// the request back (the peer is to be banned); an accepted one
    /// releases whatever is now complete in height order.
    pub fn receive(&mut self, id: u64, filters: &[CFilterV2<'_>]) -> Result<Released, FilterError> {
        let range = self.batch_range(id).ok_or(FilterError::Unrequested(id))?;
        let checked = self.check_answer(range.clone(), filters);
        let checked = match checked {
            Ok(c) => c,
            Err(e) => {
                self.cancel(id);
                return Err(e);
            }
        };
        for (p, c) in self.queue.range_mut(range).zip(checked) {
            p.state = State::Done(Box::new(c));
        }
        Ok(self.release())
    }

    fn check_answer(
        &self,
        range: std::ops::Range<usize>,
        filters: &[CFilterV2<'_>],
    ) -> Result<Vec<CheckedFilter>, FilterError> {
        if filters.len() != range.len() {
            return Err(FilterError::Count {
                expected: range.len() as u32,
                got: filters.len(),
            });
        }
        let mut out = Vec::with_capacity(filters.len());
        for (i, f) in range.zip(filters) {
            let p = &self.queue[i];
            if f.block_hash != p.hash {
                return Err(FilterError::WrongBlock {
                    expected: p.hash,
                    got: f.block_hash,
                });
            }
            Filter::from_bytes(&f.data).map_err(|_| FilterError::Decode(p.hash))?;
            let height = self.base + i as u32;
            let commitment = check_commitment(
                &self.params,
                height,
                &p.hash,
                &p.root,
                &f.data,
                f.proof_index,
                &f.proof_hashes,
            )?;
            out.push(CheckedFilter {
                height,
                hash: p.hash,
                key: p.key,
                data: f.data.to_vec(),
                commitment,
            });
        }
        Ok(out)
    }

    fn release(&mut self) -> Released {
        let mut out = Released::default();
        while matches!(self.queue.front().map(|p| &p.state), Some(State::Done(_))) {
            let Some(Pending {
                state: State::Done(c),
                ..
            }) = self.queue.pop_front()
            else {
                break;
            };
            self.base += 1;
            if let Some(set) = &mut self.pre_set {
                // Genesis is in the set too, though no rule names its
                // filter; proven filters are past the set's end.
                if c.commitment != Commitment::Proven && set.next_height() == c.height {
                    match set.add(c.height, &c.data) {
                        Ok(false) => {}
                        Ok(true) => out.pre_commitment = Some(Ok(())),
                        Err(e) => out.pre_commitment = Some(Err(e)),
                    }
                }
            }
            out.filters.push(*c);
        }
        out
    }
}
