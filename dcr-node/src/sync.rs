//! Syncing a chain from a peer, as a light client does: every header with
//! `getheaders`, then every block with `getdata`, checking each block's
//! hash, its link to the previous block and its header's merkle and stake
//! roots against its transactions.

use std::time::{Duration, Instant};

use dcr_peer::{Peer, PeerError, PeerEvent};
use dcr_wire::merkle::{check_block_roots, MerkleRule};
use dcr_wire::msg::MAX_BLOCK_HEADERS_PER_MSG;
use dcr_wire::{Hash, InvType, InvVect, Message, Payload};
use tokio::sync::mpsc;

/// Blocks requested per `getdata`.
pub const BLOCK_WINDOW: usize = 128;
/// Most headers a sync accepts (128 MiB of hashes; mainnet has about a
/// million blocks): a peer serving an endless fake chain is cut off here.
pub const MAX_SYNC_HEADERS: usize = 4_000_000;
/// How long a request may take to be answered in full. One deadline per
/// request, not per message: a peer that keeps sending other messages
/// (pings, announcements) cannot keep the sync waiting.
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(60);

/// What the sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncReport {
    pub headers: usize,
    pub blocks: usize,
    pub transactions: usize,
    pub bytes: usize,
    /// Messages received while syncing.
    pub messages: usize,
    pub tip: Hash,
    /// Blocks whose roots follow each rule.
    pub separate_roots: usize,
    pub combined_roots: usize,
    pub genesis_roots: usize,
    pub elapsed: Duration,
}

/// Why a sync stopped: the peer went away, was too slow, or sent
/// something that does not check out.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SyncError {
    /// The request could not be queued.
    #[error("{0}")]
    Peer(#[from] PeerError),
    /// The peer disconnected before it answered.
    #[error("peer disconnected")]
    Disconnected,
    /// The peer did not answer a request in full within
    /// [`ANSWER_TIMEOUT`].
    #[error("no answer from the peer")]
    NoAnswer,
    /// The peer sent more than [`MAX_SYNC_HEADERS`] headers.
    #[error("peer sent more than {MAX_SYNC_HEADERS} headers")]
    TooManyHeaders,
    /// A header's previous-block hash is not the header before it.
    #[error("header at height {0} does not link to its parent")]
    HeaderUnlinked(u32),
    /// A header's height does not follow the one before it.
    #[error("header at height {height} follows height {after}")]
    HeightGap {
        /// Its height.
        height: u32,
        /// The height before it.
        after: u32,
    },
    /// The peer answered `notfound` for blocks (how many).
    #[error("peer lacks {0} blocks")]
    NotFound(usize),
    /// A block other than the one asked for next.
    #[error("expected block {expected}, got {got}")]
    WrongBlock {
        /// The block asked for.
        expected: Hash,
        /// The block sent.
        got: Hash,
    },
    /// A block's previous-block hash is not the block before it.
    #[error("block {0} does not link to its parent")]
    BlockUnlinked(Hash),
    /// A block's header roots do not match its transactions.
    #[error("block {0}: merkle roots do not match its transactions")]
    BadRoots(Hash),
}

/// Progress of a sync, for a progress display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    Headers(usize),
    Blocks { done: usize, total: usize },
}

/// The next message, if it comes before `deadline`.
async fn next(
    events: &mut mpsc::Receiver<PeerEvent>,
    deadline: tokio::time::Instant,
) -> Result<Message<'static>, SyncError> {
    match tokio::time::timeout_at(deadline, events.recv()).await {
        Ok(Some(ev)) => Ok(ev.message),
        Ok(None) => Err(SyncError::Disconnected),
        Err(_) => Err(SyncError::NoAnswer),
    }
}

/// Headers learned from a peer.
#[derive(Debug, Clone, Default)]
pub struct HeaderChain {
    /// The block the first header builds on: a locator hash, or the
    /// genesis block when the locator matched nothing.
    pub base: Hash,
    /// Hashes of the headers, in height order.
    pub hashes: Vec<Hash>,
    /// Height of the last header.
    pub tip_height: u32,
    pub messages: usize,
}

/// Fetches every header after `locator` (an unknown locator such as the
/// zero hash makes the peer start after its genesis block, as dcrd
/// does), asking again after each full answer of 2000, and checks that
/// each links to the one before.
pub async fn sync_headers(
    peer: &Peer,
    events: &mut mpsc::Receiver<PeerEvent>,
    locator: Vec<Hash>,
    progress: &mut impl FnMut(Progress),
) -> Result<HeaderChain, SyncError> {
    let mut chain = HeaderChain::default();
    let mut locator = locator;
    let mut prev: Option<Hash> = None;
    loop {
        peer.push_get_headers(locator, Hash::ZERO)?;
        let deadline = tokio::time::Instant::now() + ANSWER_TIMEOUT;
        let headers = loop {
            chain.messages += 1;
            if let Message::Headers(h) = next(events, deadline).await? {
                break h.headers;
            }
        };
        if chain.hashes.len() + headers.len() > MAX_SYNC_HEADERS {
            return Err(SyncError::TooManyHeaders);
        }
        for h in &headers {
            match prev {
                None => chain.base = h.prev_block,
                Some(p) if h.prev_block != p => return Err(SyncError::HeaderUnlinked(h.height)),
                Some(_) if h.height != chain.tip_height.wrapping_add(1) => {
                    return Err(SyncError::HeightGap {
                        height: h.height,
                        after: chain.tip_height,
                    });
                }
                Some(_) => {}
            }
            let hash = h.block_hash();
            prev = Some(hash);
            chain.hashes.push(hash);
            chain.tip_height = h.height;
        }
        progress(Progress::Headers(chain.hashes.len()));
        match prev {
            Some(last) if headers.len() as u64 == MAX_BLOCK_HEADERS_PER_MSG => locator = vec![last],
            _ => return Ok(chain),
        }
    }
}

/// Fetches the blocks `hashes` (in chain order) with `getdata` and checks
/// each: its hash, its link to the previous one, its merkle roots.
pub async fn fetch_blocks(
    peer: &Peer,
    events: &mut mpsc::Receiver<PeerEvent>,
    hashes: &[Hash],
    progress: &mut impl FnMut(Progress),
) -> Result<SyncReport, SyncError> {
    let mut report = SyncReport::default();
    let total = hashes.len();
    let mut prev: Option<Hash> = None;
    for window in hashes.chunks(BLOCK_WINDOW) {
        let items = window
            .iter()
            .map(|&hash| InvVect {
                inv_type: InvType::BLOCK,
                hash,
            })
            .collect();
        peer.push_get_data(items)?;
        let deadline = tokio::time::Instant::now() + ANSWER_TIMEOUT;
        let mut got = 0;
        while got < window.len() {
            report.messages += 1;
            let block = match next(events, deadline).await? {
                Message::Block(b) => b,
                Message::NotFound(n) => return Err(SyncError::NotFound(n.inv_list.len())),
                _ => continue,
            };
            let expected = window[got];
            let hash = block.block_hash();
            if hash != expected {
                return Err(SyncError::WrongBlock {
                    expected,
                    got: hash,
                });
            }
            if let Some(p) = prev {
                if block.header.prev_block != p {
                    return Err(SyncError::BlockUnlinked(hash));
                }
            }
            match check_block_roots(&block) {
                Some(MerkleRule::SeparateTrees) => report.separate_roots += 1,
                Some(MerkleRule::Combined) => report.combined_roots += 1,
                Some(MerkleRule::Genesis) => report.genesis_roots += 1,
                None => return Err(SyncError::BadRoots(hash)),
            }
            report.transactions += block.txs.len() + block.stake_txs.len();
            report.bytes += Payload::serialized_size(&block, peer.protocol_version());
            report.blocks += 1;
            prev = Some(hash);
            got += 1;
            progress(Progress::Blocks {
                done: report.blocks,
                total,
            });
        }
    }
    report.tip = prev.unwrap_or_default();
    Ok(report)
}

/// Syncs a whole chain from `peer`: every header from its genesis, then
/// every block, the genesis block included.
pub async fn sync_chain(
    peer: &Peer,
    events: &mut mpsc::Receiver<PeerEvent>,
    mut progress: impl FnMut(Progress),
) -> Result<SyncReport, SyncError> {
    let start = Instant::now();
    let headers = sync_headers(peer, events, vec![Hash::ZERO], &mut progress).await?;
    let mut all = Vec::with_capacity(headers.hashes.len() + 1);
    all.push(headers.base);
    all.extend_from_slice(&headers.hashes);
    let mut report = fetch_blocks(peer, events, &all, &mut progress).await?;
    report.headers = headers.hashes.len();
    report.messages += headers.messages;
    report.elapsed = start.elapsed();
    Ok(report)
}
