//! The sync driver: one task that feeds dcr-spv's state machines from a
//! peer set and stores what they release.
//!
//! What it does with each answer, in the order of dcr-spv's "what the
//! networking side must do":
//!
//! - `headers` go to [`HeaderChain::accept`]; a rejection is judged by
//!   its verdict (a header breaking a rule bans its peer); connected
//!   headers are appended to the [`Store`]; a reorganization truncates the
//!   store and rolls [`FilterSync`] back to the fork (and what was found
//!   above it no longer stands). Headers are asked for ahead of the
//!   checks: a full answer sends the next request at once. The header
//!   sync is done when every member of the set has answered from the tip
//!   that it has nothing more (a peer on a chain with less work is heard
//!   and ignored: its headers go to a side chain).
//! - Filters are asked for in batches ([`FilterSync::next_batch`]) as
//!   `getcfsv2` where a member speaks protocol 11, else one by one as
//!   `getcfilterv2`, several at once, spread over the set; an answer is
//!   checked by [`FilterSync::receive`] (a refused one bans its peer and
//!   the batch is asked again elsewhere); released filters are stored,
//!   matched against the watch list, and the blocks that match are
//!   fetched and proven ([`check_decoded_block`], a bad one bans its
//!   peer), in height order, as the watch list learns from each.
//! - Silence and slowness are the peer set's: the request goes to
//!   another peer and the silent one is swapped out, never banned. The
//!   requests that hold up in-order progress are marked as such
//!   ([`HeadOfLine`]): the header request, and the filter batch of the
//!   lowest heights outstanding (the filters after it wait to be
//!   released); the set hedges those on another peer once they are out
//!   well beyond the typical answer.
//! - A peer more than six blocks below the tip, by the higher of the
//!   height it advertised and that of the last header it sent, is
//!   disconnected, not banned ([`dcr_spv::peering`], dcrwallet's
//!   stragglers): it serves nothing at the tip and holds a place.
//! - The store is made durable ([`Store::sync`]) at least every second
//!   and at the end; a crash loses at most that, and the store's
//!   checksums cut any torn record. On a restart, stored headers are
//!   replayed into the chain and filters resume after the last stored
//!   one; stored filters are matched again against the watch list.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use dcr_peer::connmgr::DynamicBanScore;
use dcr_peer::{Answer, HeadOfLine, Peer, PeerSet, PeerSetError, Request, Response};
use dcr_spv::chain::Rejection;
use dcr_spv::commitment::Commitment;
use dcr_spv::filters::{FilterBatch, Released};
use dcr_spv::{
    check_decoded_block, FilterSync, HeaderChain, HeadersOutcome, Misbehaviour, Params, Store,
    Verdict, WatchList,
};
use dcr_wire::msg::MAX_BLOCK_HEADERS_PER_MSG;
use dcr_wire::{pver, Block, BlockHeader, CFilterV2, Hash, ServiceFlags};
use futures_util::future::{AbortHandle, Abortable};
use futures_util::stream::FuturesUnordered;
use futures_util::StreamExt;
use tracing::{debug, info, warn};

use crate::report::{BanReason, Found, Progress, SyncReport};

/// How a sync runs.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SyncConfig {
    /// The network's parameters.
    pub params: Params,
    /// Where the store lives.
    pub datadir: PathBuf,
    /// Blocks per `getcfsv2` (at most 100, dcrd's
    /// `MaxCFiltersV2PerBatch`).
    pub filter_batch: u32,
    /// Filter requests out at once.
    pub filters_in_flight: usize,
    /// Block requests out at once.
    pub blocks_in_flight: usize,
    /// Filter heights held in memory ahead of the last released one; the
    /// rest of the headers wait on disk.
    pub feed_window: usize,
    /// How long to wait for the first peer.
    pub peer_wait: Duration,
    /// How often the store is made durable.
    pub sync_every: Duration,
}

impl SyncConfig {
    /// The defaults for `params`, storing in `datadir`.
    pub fn new(params: Params, datadir: impl Into<PathBuf>) -> SyncConfig {
        SyncConfig {
            params,
            datadir: datadir.into(),
            filter_batch: 100,
            filters_in_flight: 16,
            blocks_in_flight: 8,
            feed_window: 20_000,
            peer_wait: Duration::from_secs(30),
            sync_every: Duration::from_secs(1),
        }
    }
}

/// Why a sync stopped short.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SyncError {
    /// The store failed.
    #[error("the store failed")]
    Store(#[from] std::io::Error),
    /// No peer joined the set in time.
    #[error("no peer to sync from")]
    NoPeers,
    /// Every peer has said it has nothing more, and the chain still has
    /// less work than the network is known to have: not done, and not to
    /// be trusted.
    #[error("the best chain the peers offer has less work than the network is known to have")]
    BelowMinimumWork,
}

/// How often a header request waiting for a peer looks whether any
/// member is left to ask.
const NOBODY_LEFT_CHECK: Duration = Duration::from_millis(50);

/// What came back for a request of the sync.
enum Done {
    Headers(Result<Answer, PeerSetError>),
    Filters(FilterBatch, Result<Answer, PeerSetError>),
    Block(u32, Hash, Result<(Peer, Block<'static>), PeerSetError>),
    /// A pause after no peer could take a request.
    Waited,
}

type Pending = FuturesUnordered<Pin<Box<dyn std::future::Future<Output = Done> + Send>>>;

/// A light client's sync from a peer set: [`LightClient::run`] syncs
/// until every peer has nothing more and every filter is proven and
/// matched.
pub struct LightClient {
    config: SyncConfig,
    set: PeerSet,
    watch: WatchList,
    chain: HeaderChain,
    filters: FilterSync,
    store: Store,
    report: SyncReport,
    /// Peers that said they have nothing after the current tip.
    asked_at_tip: HashSet<u64>,
    headers_in_flight: bool,
    /// The height of the first locator hash of the header request out
    /// (or last sent).
    headers_asked_from: u32,
    /// The locator of the header request out (or last sent).
    headers_locator: Vec<Hash>,
    /// Filter requests out, by id, how to call each off (a request for
    /// blocks a reorganization removed must not keep a peer busy, nor
    /// count against it when it has no answer), and its head-of-line
    /// mark (set on the one of the lowest heights).
    filter_requests: HashMap<u64, (FilterBatch, AbortHandle, HeadOfLine)>,
    /// Matched blocks not yet proven, in height order.
    matched: VecDeque<(u32, Hash)>,
    /// Of those, the ones asked for, and the ones received.
    block_requests: HashSet<u32>,
    fetched: BTreeMap<u32, (Peer, Block<'static>)>,
    last_sync: Instant,
    /// How far each peer's chain is known to share ours (from its
    /// headers answers); its version's height until it answered. Shared
    /// with the filter requests waiting for a peer.
    reach: Arc<Mutex<HashMap<u64, u32>>>,
    /// The height of the highest header each peer has sent (answers and
    /// announcements alike, before any check: dcrwallet's `LastHeight`).
    heard: HashMap<u64, u32>,
    /// Each announcer's orphan score (dcrwallet `ReceivedOrphanHeader`).
    orphan_scores: HashMap<u64, DynamicBanScore>,
    /// Peers banned by this sync (their late answers are dropped): the
    /// newest [`BANNED_IDS_KEPT`], and those departed are forgotten at
    /// each tip.
    banned: BannedIds,
    /// Progress not yet given to the caller.
    progress: Vec<Progress>,
    /// Following the tip ([`LightClient::follow`]) and past the first
    /// sync: announcements are checked as they come.
    following: bool,
    /// The last tip reported done ([`Progress::Tip`]).
    reported_tip: Option<Hash>,
}

impl LightClient {
    /// Opens the store in `config.datadir` and replays what it holds:
    /// stored headers go through the chain's checks again (without the
    /// clock rule), filters resume after the last stored one, and stored
    /// filters are matched against `watch` again.
    pub fn open(
        config: SyncConfig,
        set: PeerSet,
        watch: WatchList,
    ) -> Result<LightClient, SyncError> {
        let params = config.params.clone();
        let (mut store, recovered) = Store::open(&config.datadir, &params.genesis_hash)?;
        if recovered.headers_cut > 0 || recovered.filters_cut > 0 {
            // A torn write cuts part of one record; more is damage. Either
            // way the rest is fetched again, and the user should know.
            warn!(datadir = %config.datadir.display(), headers_bytes = recovered.headers_cut,
                filters_bytes = recovered.filters_cut,
                "the store ended in bytes that are no valid record (a torn write, or damage): cut, to be fetched again");
        }
        let mut chain = HeaderChain::new(params.clone());
        let mut kept = 0u32;
        for batch in recovered.headers.chunks(MAX_BLOCK_HEADERS_PER_MSG as usize) {
            let outcome = chain.accept(batch, None);
            kept += outcome.connected.len() as u32;
            if outcome.rejected.is_some() {
                break;
            }
        }
        if kept < store.headers_height() {
            // Rules tightened, or a file edited: keep what still passes.
            warn!(datadir = %config.datadir.display(), kept, stored = store.headers_height(),
                "stored headers no longer pass the checks: the store is cut to those that do");
            store.truncate(kept)?;
        }
        let resumed = store.filters_end().min(kept + 1);
        let mut filters = FilterSync::new(params, resumed);
        filters.set_max_ahead(2 * config.filters_in_flight * config.filter_batch as usize);
        let mut client = LightClient {
            report: SyncReport {
                resumed_headers: kept,
                ..SyncReport::default()
            },
            config,
            set,
            watch,
            chain,
            filters,
            store,
            asked_at_tip: HashSet::new(),
            headers_in_flight: false,
            headers_asked_from: 0,
            headers_locator: Vec::new(),
            filter_requests: HashMap::new(),
            matched: VecDeque::new(),
            block_requests: HashSet::new(),
            fetched: BTreeMap::new(),
            last_sync: Instant::now(),
            reach: Arc::default(),
            heard: HashMap::new(),
            orphan_scores: HashMap::new(),
            banned: BannedIds::default(),
            progress: Vec::new(),
            following: false,
            reported_tip: None,
        };
        client.rescan_stored(resumed)?;
        Ok(client)
    }

    /// Matches the stored filters below `end` against the watch list.
    fn rescan_stored(&mut self, end: u32) -> Result<(), SyncError> {
        if self.watch.is_empty() {
            return Ok(());
        }
        let mut height = 0;
        while height < end {
            let headers = if height == 0 {
                let p = &self.config.params;
                vec![(p.genesis_header, p.genesis_hash)]
            } else {
                self.store.read_headers(height, 2000)?
            };
            if headers.is_empty() {
                break;
            }
            for (h, hash) in headers {
                if h.height >= end {
                    break;
                }
                if let Some(data) = self.store.read_filter(h.height)? {
                    let key = dcr_spv::gcs::key(&h.merkle_root);
                    let f = dcr_spv::gcs::Filter::from_bytes(&data);
                    if f.is_ok_and(|f| self.watch.matches_filter(&f, &key)) {
                        self.matched.push_back((h.height, hash));
                    }
                }
                height = h.height + 1;
            }
        }
        Ok(())
    }

    /// The header chain.
    pub fn chain(&self) -> &HeaderChain {
        &self.chain
    }

    /// Syncs until every peer has nothing more to offer and every filter
    /// up to the tip is proven, stored and matched; `on_progress` hears of
    /// each step.
    pub async fn run(
        mut self,
        on_progress: impl FnMut(&Progress) + Send,
    ) -> Result<SyncReport, SyncError> {
        self.drive(None, std::future::pending(), on_progress)
            .await?;
        if self.chain.below_min_known_work() {
            return Err(SyncError::BelowMinimumWork);
        }
        Ok(self.finish())
    }

    /// Syncs as [`LightClient::run`], then follows the tip until `stop`
    /// completes: each block the peers announce (unasked `headers`, or an
    /// `inv` naming blocks, as dcrd sends to peers that did or did not
    /// send `sendheaders`) is checked by [`dcr_spv::announce::judge`] and
    /// the chain's rules, the chain reorganizes to the most work (the
    /// store and the filters roll back to the fork), the new blocks'
    /// filters are fetched, proven, stored and matched, and matching
    /// blocks fetched and proven. `on_progress` hears
    /// [`Progress::Tip`] each time all of that is done at a new tip,
    /// [`Progress::Reorganized`], [`Progress::Found`] and
    /// [`Progress::Banned`] as they happen.
    ///
    /// `events` is the peers' message channel ([`dcr_peer::Hooks::events`],
    /// or the connection manager's `events`): every message the peers
    /// receive, answers included; this drains it at once and keeps at most
    /// one pending announcement per peer, so a peer that floods
    /// announcements costs bounded memory and at most one `getheaders` at
    /// a time. Ask the peers for header announcements by sending them
    /// `sendheaders` (dcrwallet does, after its first sync); without it
    /// dcrd announces by `inv` and the headers are asked for.
    ///
    /// Cancel-safe: dropping the future loses at most the last
    /// [`SyncConfig::sync_every`] of the store, whose checksums cut a
    /// torn record; completing `stop` makes the store durable and returns
    /// the report of everything done.
    pub async fn follow(
        mut self,
        events: tokio::sync::mpsc::Receiver<dcr_peer::PeerEvent>,
        stop: impl std::future::Future<Output = ()> + Send,
        on_progress: impl FnMut(&Progress) + Send,
    ) -> Result<SyncReport, SyncError> {
        let (inbox, _reader) = crate::inbox::open(events);
        self.drive(Some(inbox), stop, on_progress).await?;
        Ok(self.finish())
    }

    /// The report at the end.
    fn finish(mut self) -> SyncReport {
        let tip = self.chain.tip();
        self.report.tip_height = tip.height;
        self.report.tip_hash = tip.hash;
        self.report.swapped_out = self.set.swapped_out();
        self.report.swapped_dropped = self.set.swapped_dropped();
        self.report
    }

    /// The loop of [`LightClient::run`] (no `inbox`: ends when done) and
    /// [`LightClient::follow`] (ends when `stop` completes).
    async fn drive(
        &mut self,
        inbox: Option<Arc<crate::inbox::Inbox>>,
        stop: impl std::future::Future<Output = ()> + Send,
        mut on_progress: impl FnMut(&Progress) + Send,
    ) -> Result<(), SyncError> {
        let mut stop = std::pin::pin!(stop);
        tokio::select! {
            joined = self.set.wait_for(1, self.config.peer_wait) => if !joined {
                return Err(SyncError::NoPeers);
            },
            () = &mut stop => return Ok(()),
        }
        let mut pending = Pending::new();
        loop {
            self.disconnect_stragglers();
            self.feed()?;
            self.dispatch(&mut pending);
            self.mark_head_of_line();
            if self.is_done() {
                self.report_tip();
                if inbox.is_some() {
                    self.following = true;
                }
            }
            for p in self.progress.drain(..) {
                on_progress(&p);
            }
            if pending.is_empty() {
                if inbox.is_none() && self.is_done() {
                    break;
                }
                // Nothing out and nothing to ask: wait for a peer (or,
                // following, for an announcement).
                pending.push(Box::pin(async {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    Done::Waited
                }));
            }
            let announced = async {
                match &inbox {
                    Some(i) => i.added.notified().await,
                    None => std::future::pending().await,
                }
            };
            let done = tokio::select! {
                d = pending.next() => d,
                () = announced => {
                    if let Some(i) = &inbox {
                        for (peer, a) in i.take() {
                            self.on_announcement(&peer, a).await?;
                        }
                    }
                    None
                }
                () = &mut stop => break,
            };
            match done {
                Some(Done::Headers(r)) => self.on_headers(r, &mut pending).await?,
                Some(Done::Filters(batch, r)) => self.on_filters(batch, r).await?,
                Some(Done::Block(height, hash, r)) => self.on_block(height, hash, r).await,
                Some(Done::Waited) | None => {}
            }
            self.process_blocks().await;
            if self.last_sync.elapsed() >= self.config.sync_every {
                self.store.sync()?;
                self.last_sync = Instant::now();
                // Not only at a new tip: on a stalled chain the set's
                // peers keep changing while no tip comes.
                self.forget_departed_peers();
            }
        }
        self.store.sync()?;
        for p in self.progress.drain(..) {
            on_progress(&p);
        }
        Ok(())
    }

    /// Reports the tip once everything up to it is done, each tip once.
    fn report_tip(&mut self) {
        let tip = self.chain.tip();
        if self.reported_tip == Some(tip.hash) || self.chain.below_min_known_work() {
            return;
        }
        self.reported_tip = Some(tip.hash);
        self.progress.push(Progress::Tip {
            height: tip.height,
            hash: tip.hash,
        });
        self.forget_departed();
    }

    /// Forgets what is kept per peer for peers no longer in the set: a
    /// follower runs for days while the connection manager replaces its
    /// peers, and each would otherwise leave an entry behind. The ids of
    /// banned peers go too (their late answers are in by a new tip).
    fn forget_departed(&mut self) {
        let members = self.forget_departed_peers();
        self.banned.0.retain(|id| members.contains(id));
    }

    /// Forgets the reach, the heights heard, the orphan scores and the
    /// "nothing after the tip" of peers no longer in the set (each [`SyncConfig::sync_every`] and at each
    /// tip): what is kept is at most the members and those gone within
    /// the last second. Before, only a new tip pruned them, so on a
    /// stalled chain every peer swapped in and out left its entries for
    /// as long as the stall lasted. Returns the members.
    fn forget_departed_peers(&mut self) -> HashSet<u64> {
        let members: HashSet<u64> = self.set.peers().iter().map(Peer::id).collect();
        self.asked_at_tip.retain(|id| members.contains(id));
        self.heard.retain(|id, _| members.contains(id));
        self.orphan_scores.retain(|id, _| members.contains(id));
        lock(&self.reach).retain(|id, _| members.contains(id));
        members
    }

    /// Acts on what `peer` announced, as [`dcr_spv::announce::judge`]
    /// says. Before the first sync is done, anything new only has the
    /// peer asked again (its headers come in order from the sync's own
    /// requests).
    async fn on_announcement(
        &mut self,
        peer: &Peer,
        announced: crate::inbox::Pending,
    ) -> Result<(), SyncError> {
        use crate::inbox::Pending as P;
        use dcr_spv::announce::{judge, Action, Announced};
        if self.banned.contains(&peer.id()) || !peer.is_connected() {
            return Ok(());
        }
        match &announced {
            P::Headers(h) => self.heard_from(peer, h),
            P::Blocks(b) => {
                // Blocks we know: the announcer has them.
                let known = b.iter().filter_map(|h| self.chain.main_height(h)).max();
                if let Some(height) = known {
                    self.heard_up_to(peer, height);
                }
            }
            P::Ask => {}
        }
        let (action, headers) = match &announced {
            P::Headers(h) => (judge(&self.chain, Announced::Headers(h)), h.as_slice()),
            P::Blocks(b) => (judge(&self.chain, Announced::Blocks(b)), &[][..]),
            P::Ask => (Action::AskHeaders, &[][..]),
        };
        match action {
            Action::Ignore => {}
            Action::TooOld { height } => {
                info!(peer = %peer.addr(), height, tip = self.chain.height(),
                    "announced a header far below the tip; disconnecting");
                peer.disconnect();
            }
            Action::AskHeaders if matches!(announced, P::Headers(_)) => {
                // Headers that do not connect: an orphan.
                if !self.orphan_announced(peer) {
                    self.asked_at_tip.remove(&peer.id());
                }
            }
            Action::AskHeaders => {
                self.asked_at_tip.remove(&peer.id());
            }
            Action::Accept { .. } if !self.following => {
                self.asked_at_tip.remove(&peer.id());
            }
            Action::Accept { from } => {
                let batch = &headers[from..];
                let before = self.chain.tip().hash;
                let outcome = self.chain.accept(batch, Some(unix_now()));
                self.apply(batch, &outcome)?;
                match outcome.rejected {
                    None => {
                        if let Some(h) = batch
                            .last()
                            .and_then(|h| self.chain.main_height(&h.block_hash()))
                        {
                            lock(&self.reach).insert(peer.id(), h);
                        }
                    }
                    Some((_, Rejection::Orphan { .. })) => {
                        if !self.orphan_announced(peer) {
                            self.asked_at_tip.remove(&peer.id());
                        }
                    }
                    Some((_, rejection)) => self.judge_headers(peer, rejection).await,
                }
                if self.chain.tip().hash != before {
                    self.progress.push(Progress::Headers {
                        height: self.chain.height(),
                    });
                }
            }
        }
        Ok(())
    }

    /// Adds an orphan announcement to `peer`'s score; above the limit
    /// disconnects it (no ban) and returns true. dcrwallet
    /// `ReceivedOrphanHeader`, except that an orphan from a peer asked
    /// for headers and not yet answered does not count. A flood of
    /// announcements reaches here as one merged entry of the inbox,
    /// whose cost is already bounded; this bounds the peer that sends
    /// them one at a time, each costing a `getheaders`.
    fn orphan_announced(&mut self, peer: &Peer) -> bool {
        use dcr_spv::announce::{ORPHAN_SCORE, ORPHAN_SCORE_LIMIT};
        if !self.asked_at_tip.contains(&peer.id()) {
            // It owes an answer to our `getheaders` (asked since it last
            // said it had nothing more): what it announces until then
            // may connect through that answer. dcrd announces each block
            // of a catch-up or a reorganization as it becomes its tip,
            // faster than the answer comes back.
            return false;
        }
        let score =
            self.orphan_scores
                .entry(peer.id())
                .or_default()
                .increase(0, ORPHAN_SCORE, unix_now());
        if score <= ORPHAN_SCORE_LIMIT {
            return false;
        }
        info!(peer = %peer.addr(), score,
            "too many orphan headers announced; disconnecting");
        peer.disconnect();
        true
    }

    /// True once the headers are done and everything up to the tip is
    /// proven, stored and matched.
    fn is_done(&self) -> bool {
        self.headers_done()
            && !self.headers_in_flight
            && self.filters.next_height() > self.chain.height()
            && self.filter_requests.is_empty()
            && self.matched.is_empty()
    }

    /// Every member has said it has nothing after the tip.
    fn headers_done(&self) -> bool {
        let peers = self.set.peers();
        !peers.is_empty()
            && peers
                .iter()
                .filter(|p| serves_chain(p))
                .all(|p| self.asked_at_tip.contains(&p.id()))
    }

    // ---- asking ---------------------------------------------------------------

    fn dispatch(&mut self, pending: &mut Pending) {
        if !self.headers_in_flight && !self.headers_done() {
            self.ask_headers(pending, self.chain.locator(), self.chain.height());
        }
        let batched = self
            .set
            .peers()
            .iter()
            .any(|p| serves_chain(p) && p.protocol_version() >= pver::BATCHED_CFILTERS_V2);
        let max = if batched { self.config.filter_batch } else { 1 };
        while self.filter_requests.len() < self.config.filters_in_flight {
            let Some(batch) = self.filters.next_batch(max) else {
                break;
            };
            let request = if batch.count > 1 {
                Request::CFiltersV2 {
                    start: batch.start,
                    end: batch.end,
                }
            } else {
                Request::CFilterV2(batch.start)
            };
            let (stop, registration) = AbortHandle::new_pair();
            let head = HeadOfLine::new();
            self.filter_requests
                .insert(batch.id, (batch, stop, head.clone()));
            let set = self.set.clone();
            // Asked of peers whose chain reaches the batch (dcrd says
            // nothing for blocks it lacks).
            let end = batch.start_height + batch.count - 1;
            let reach = self.reach.clone();
            let call = async move {
                let able = |p: &Peer| LightClient::reaches(&reach, p, end);
                Done::Filters(batch, set.call_ordered(request, able, &head).await)
            };
            pending.push(Box::pin(async move {
                Abortable::new(call, registration)
                    .await
                    .unwrap_or(Done::Waited)
            }));
        }
        for &(height, hash) in self.matched.iter().take(self.config.blocks_in_flight) {
            if self.block_requests.contains(&height) || self.fetched.contains_key(&height) {
                continue;
            }
            self.block_requests.insert(height);
            let set = self.set.clone();
            pending.push(Box::pin(async move {
                Done::Block(height, hash, set.get_block(hash).await)
            }));
        }
    }

    /// Marks the filter request of the lowest heights out as the head of
    /// the line: the filters after it are released only once it is in.
    fn mark_head_of_line(&self) {
        let head = self
            .filter_requests
            .values()
            .min_by_key(|(b, _, _)| b.start_height);
        if let Some((_, _, head)) = head {
            head.mark();
        }
    }

    /// Whether `peer`'s chain reaches `height` on ours, by `reach`.
    fn reaches(reach: &Mutex<HashMap<u64, u32>>, peer: &Peer, height: u32) -> bool {
        match lock(reach).get(&peer.id()) {
            Some(r) => *r >= height,
            None => peer.last_block() >= i64::from(height),
        }
    }

    /// Asks a member not yet heard from at this tip for the headers after
    /// `locator`. The header sync waits on it alone: it is the head of
    /// the line from the start. When every member not yet heard from
    /// leaves the set while it waits (a silent one swapped out), it ends:
    /// the sync then asks whoever joined since, or is done. `from` is the
    /// height of the locator's first hash.
    fn ask_headers(&mut self, pending: &mut Pending, locator: Vec<Hash>, from: u32) {
        self.headers_in_flight = true;
        self.headers_asked_from = from;
        self.headers_locator.clone_from(&locator);
        let set = self.set.clone();
        let asked = Arc::new(self.asked_at_tip.clone());
        let request = Request::Headers {
            locator,
            stop: Hash::ZERO,
        };
        pending.push(Box::pin(async move {
            let head = HeadOfLine::marked();
            let unasked = |p: &Peer| !asked.contains(&p.id());
            let call = set.call_ordered(request, unasked, &head);
            let nobody_left = async {
                loop {
                    tokio::time::sleep(NOBODY_LEFT_CHECK).await;
                    if !set.peers().iter().any(|p| serves_chain(p) && unasked(p)) {
                        return;
                    }
                }
            };
            tokio::select! {
                r = call => Done::Headers(r),
                () = nobody_left => Done::Headers(Err(PeerSetError::NoPeers)),
            }
        }));
    }

    /// Moves headers from the store into the filter fetcher, keeping at
    /// most the feed window in memory.
    fn feed(&mut self) -> Result<(), SyncError> {
        while self.filters.pending() < self.config.feed_window
            && self.filters.headers_end() <= self.chain.height()
        {
            let from = self.filters.headers_end();
            if from == 0 {
                let p = &self.config.params;
                self.filters
                    .add_headers([(&p.genesis_header, p.genesis_hash)]);
                continue;
            }
            let room = self.config.feed_window - self.filters.pending();
            let headers = self.store.read_headers(from, room.min(10_000))?;
            if headers.is_empty() {
                break;
            }
            self.filters
                .add_headers(headers.iter().map(|(h, hash)| (h, *hash)));
        }
        Ok(())
    }

    // ---- answers ----------------------------------------------------------------

    async fn on_headers(
        &mut self,
        r: Result<Answer, PeerSetError>,
        pending: &mut Pending,
    ) -> Result<(), SyncError> {
        self.headers_in_flight = false;
        let answer = match r {
            Ok(a) => a,
            Err(e) => {
                debug!(error = %e, "no headers answer");
                return Ok(());
            }
        };
        let Response::Headers(headers) = answer.response else {
            return Ok(());
        };
        if self.banned.contains(&answer.peer.id()) {
            return Ok(());
        }
        if !dcr_spv::answer::starts_after_locator(&headers, &self.headers_locator) {
            // Not of our chain from any point we know (another genesis
            // block, say): asked again, it would answer the same for ever.
            // Disconnected, not banned (dcrwallet `receivedHeaders`).
            info!(peer = %answer.peer.addr(),
                "headers that do not connect to the locator sent; disconnecting");
            answer.peer.disconnect();
            return Ok(());
        }
        let advertised = answer
            .peer
            .remote_version()
            .map_or(0, |v| v.starting_height);
        if dcr_spv::answer::too_few_headers(&headers, advertised) {
            // A protocol fault, not a broken rule: disconnected, not banned
            // (dcrwallet `receivedHeaders`); the set asks another.
            info!(peer = %answer.peer.addr(), sent = headers.len(), advertised,
                "too few headers: the answer stops below the peer's own height; disconnecting");
            answer.peer.disconnect();
            return Ok(());
        }
        let heard = self.heard.get(&answer.peer.id()).copied().unwrap_or(0);
        if dcr_spv::answer::withholds_headers(&headers, self.headers_asked_from, advertised, heard)
        {
            // Its chain is above our locator, yet it sends nothing: it
            // overstated its height or cannot serve headers. Disconnected,
            // not banned (dcrwallet `getHeaders`); the set asks another.
            info!(peer = %answer.peer.addr(), advertised, asked_from = self.headers_asked_from,
                "no headers through the advertised height; disconnecting");
            answer.peer.disconnect();
            return Ok(());
        }
        self.heard_from(&answer.peer, &headers);
        let full = headers.len() >= MAX_BLOCK_HEADERS_PER_MSG as usize;
        if full {
            // Ask for the next ones while these are checked.
            if let Some(last) = headers.last() {
                let mut locator = vec![last.block_hash()];
                locator.extend(self.chain.locator());
                locator.truncate(500);
                self.ask_headers(pending, locator, last.height);
            }
        }
        let before = self.chain.tip().hash;
        let outcome = self.chain.accept(&headers, Some(unix_now()));
        self.apply(&headers, &outcome)?;
        if outcome.rejected.is_none() {
            // How far its chain shares ours: the filters it can serve.
            let on_ours = headers
                .iter()
                .rev()
                .find_map(|h| self.chain.main_height(&h.block_hash()));
            let reach = match on_ours {
                Some(h) => h,
                // Nothing after our tip.
                None if headers.is_empty() => self.chain.height(),
                None => 0,
            };
            lock(&self.reach).insert(answer.peer.id(), reach);
        }
        // Whether the answer's headers were all taken, or stopped at one
        // that is no fault of the peer's (an orphan, a clock ahead of
        // ours, side chains at their bound).
        let no_fault = match outcome.rejected {
            None => true,
            Some((_, rejection)) => {
                let ignored = rejection.verdict() == Verdict::Ignore;
                self.judge_headers(&answer.peer, rejection).await;
                ignored
            }
        };
        if self.chain.tip().hash != before {
            if !self.following {
                // A new tip: every peer may have more after it. (Once
                // following, peers announce what they have.)
                self.asked_at_tip.clear();
            }
            self.progress.push(Progress::Headers {
                height: self.chain.height(),
            });
        }
        if !full && no_fault {
            // It has nothing after what it sent that we can take now:
            // heard at this tip. (Asked again, it would say the same: a
            // peer whose tip we cannot take yet must not hold the sync.)
            self.asked_at_tip.insert(answer.peer.id());
        }
        Ok(())
    }

    /// Records that `peer` sent `headers` (dcrwallet `receivedHeaders`
    /// tracks the height of the last).
    fn heard_from(&mut self, peer: &Peer, headers: &[BlockHeader]) {
        if let Some(last) = headers.last() {
            self.heard_up_to(peer, last.height);
        }
    }

    fn heard_up_to(&mut self, peer: &Peer, height: u32) {
        let h = self.heard.entry(peer.id()).or_default();
        *h = (*h).max(height);
    }

    /// Disconnects (no ban) every peer more than
    /// [`dcr_spv::peering::STRAGGLER_LIMIT`] blocks below our tip by the
    /// higher of its advertised height and its last header's: it can
    /// serve nothing at the tip and holds a place another peer could
    /// take. dcrwallet `disconnectStragglers` at each new tip, and
    /// `RequirePeerHeight` for a peer that joins.
    fn disconnect_stragglers(&mut self) {
        let tip = self.chain.height();
        for p in self.set.peers() {
            let Some(advertised) = p.remote_version().map(|v| v.starting_height) else {
                continue;
            };
            let heard = self.heard.get(&p.id()).map_or(0, |&h| i64::from(h));
            let height = advertised.max(heard);
            if dcr_spv::peering::is_straggler(height, tip) && p.is_connected() {
                info!(peer = %p.addr(), height, tip,
                    "a straggler: more than six blocks below our tip; disconnecting");
                p.disconnect();
            }
        }
    }

    /// Stores what `outcome` connected, after undoing a reorganization.
    fn apply(&mut self, batch: &[BlockHeader], outcome: &HeadersOutcome) -> Result<(), SyncError> {
        self.report.side_headers += outcome.side as u32;
        if outcome.side > 0 {
            self.progress.push(Progress::SideHeaders {
                count: outcome.side as u32,
            });
        }
        if let Some(fork) = outcome.fork_height() {
            self.reorganize(fork)?;
        }
        let connected: Vec<(BlockHeader, Hash)> =
            outcome.headers(batch).map(|(h, hash)| (*h, hash)).collect();
        if !connected.is_empty() {
            self.store.append_headers(&connected)?;
            self.report.headers += connected.len() as u32;
        }
        Ok(())
    }

    /// Blocks above `fork` left the main chain.
    fn reorganize(&mut self, fork: u32) -> Result<(), SyncError> {
        info!(fork, "reorganization");
        self.store.truncate(fork)?;
        self.filters.rollback(fork);
        // Requests for blocks no longer on the chain: forgotten, and
        // any part of them still wanted asked again.
        let stale: Vec<u64> = self
            .filter_requests
            .iter()
            .filter(|(_, (b, _, _))| b.start_height + b.count - 1 > fork)
            .map(|(id, _)| *id)
            .collect();
        for id in stale {
            self.filters.cancel(id);
            if let Some((_, stop, _)) = self.filter_requests.remove(&id) {
                stop.abort();
            }
        }
        self.matched.retain(|(h, _)| *h <= fork);
        self.fetched.retain(|h, _| *h <= fork);
        self.report.found.retain(|f| f.height <= fork);
        self.progress.push(Progress::Reorganized { fork });
        Ok(())
    }

    async fn judge_headers(&mut self, peer: &Peer, rejection: Rejection) {
        match (rejection.verdict(), rejection) {
            (Verdict::Ban, Rejection::Invalid(e)) => self.ban(peer, BanReason::Header(e)).await,
            (_, r) => debug!(peer = %peer.addr(), reason = %r, "headers not taken"),
        }
    }

    async fn on_filters(
        &mut self,
        batch: FilterBatch,
        r: Result<Answer, PeerSetError>,
    ) -> Result<(), SyncError> {
        debug!(
            id = batch.id,
            start = batch.start_height,
            count = batch.count,
            ok = r.is_ok(),
            "filters answered"
        );
        if self.filter_requests.remove(&batch.id).is_none() {
            // Asked before a reorganization: nothing of it stands.
            return Ok(());
        }
        let answer = match r {
            Ok(a) => a,
            Err(e) => {
                debug!(error = %e, "filters not fetched; asked again");
                self.filters.cancel(batch.id);
                return Ok(());
            }
        };
        if self.banned.contains(&answer.peer.id()) {
            // Sent before its ban: nothing it says is taken.
            self.filters.cancel(batch.id);
            return Ok(());
        }
        let received: Vec<CFilterV2<'static>> = match answer.response {
            Response::CFiltersV2(f) => f,
            Response::CFilterV2(f) => vec![f],
            _ => Vec::new(),
        };
        match self.filters.receive(batch.id, &received) {
            Ok(released) => self.released(released)?,
            Err(e) => self.ban(&answer.peer, BanReason::Filter(e)).await,
        }
        Ok(())
    }

    /// Stores released filters and matches them.
    fn released(&mut self, released: Released) -> Result<(), SyncError> {
        let Some(last) = released.filters.last().map(|f| f.height) else {
            return Ok(());
        };
        self.store.append_filters(
            released
                .filters
                .iter()
                .map(|f| (f.height, &f.hash, f.data.as_slice())),
        )?;
        for f in &released.filters {
            self.report.filters += 1;
            if f.commitment == Commitment::Proven {
                self.report.proven += 1;
            }
            if !self.watch.is_empty() && self.watch.matches_filter(&f.filter(), &f.key) {
                self.matched.push_back((f.height, f.hash));
            }
        }
        self.progress.push(Progress::Filters {
            height: last,
            tip: self.chain.height(),
        });
        Ok(())
    }

    async fn on_block(
        &mut self,
        height: u32,
        hash: Hash,
        r: Result<(Peer, Block<'static>), PeerSetError>,
    ) {
        self.block_requests.remove(&height);
        let still = self.matched.iter().any(|m| *m == (height, hash));
        match r {
            Ok(got) if still => {
                self.fetched.insert(height, got);
            }
            Ok(_) => {}
            Err(e) => debug!(height, error = %e, "block not fetched; asked again"),
        }
    }

    /// Proves the fetched blocks at the front of the matched queue, in
    /// height order (the watch list learns the outputs of each).
    async fn process_blocks(&mut self) {
        while let Some(&(height, hash)) = self.matched.front() {
            let Some((peer, block)) = self.fetched.remove(&height) else {
                return;
            };
            match check_decoded_block(&block, &hash, &mut self.watch) {
                Ok(checked) => {
                    self.matched.pop_front();
                    self.report.blocks += 1;
                    for tx in checked.matches {
                        let found = Found {
                            height,
                            block: hash,
                            tx,
                        };
                        self.progress.push(Progress::Found(found.clone()));
                        self.report.found.push(found);
                    }
                }
                Err(e) => self.ban(&peer, BanReason::Block(e)).await,
            }
        }
    }

    async fn ban(&mut self, peer: &Peer, reason: BanReason) {
        if !self.banned.insert(peer.id()) {
            return;
        }
        self.set.ban(peer, &reason.to_string()).await;
        self.asked_at_tip.remove(&peer.id());
        self.progress.push(Progress::Banned {
            addr: peer.addr(),
            reason: reason.clone(),
        });
        self.report.record_ban(peer.addr(), reason);
    }
}

/// Connection ids of the peers a sync banned, the newest
/// [`BANNED_IDS_KEPT`]. The set drops a banned peer and refuses its IP
/// while the ban lasts, so an id only matters for answers already on
/// their way when it was banned: at most the requests in flight, far
/// fewer than the bans kept. Before, a follower kept one id per ban
/// between tips, and forever while no new tip came.
#[derive(Debug, Default)]
struct BannedIds(VecDeque<u64>);

/// Ids of banned peers a sync remembers.
const BANNED_IDS_KEPT: usize = 256;

impl BannedIds {
    /// Remembers `id`, forgetting the oldest beyond [`BANNED_IDS_KEPT`];
    /// false when it was already there.
    fn insert(&mut self, id: u64) -> bool {
        if self.contains(&id) {
            return false;
        }
        if self.0.len() >= BANNED_IDS_KEPT {
            self.0.pop_front();
        }
        self.0.push_back(id);
        true
    }

    fn contains(&self, id: &u64) -> bool {
        self.0.contains(id)
    }
}

/// The local clock in Unix seconds, for the future-timestamp rule.
fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A peer that has a chain to serve (`SFNodeNetwork`).
fn serves_chain(p: &Peer) -> bool {
    p.remote_version()
        .is_some_and(|r| r.services.0 & ServiceFlags::NODE_NETWORK.0 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Peers that came and went while no tip came leave nothing behind
    /// once the periodic prune runs; the ids of banned peers stay, for
    /// their late answers.
    #[test]
    fn departed_peers_are_forgotten_without_a_new_tip() {
        let dir = tempfile::tempdir().unwrap();
        let config = SyncConfig::new(dcr_spv::params::simnet().clone(), dir.path());
        let set = PeerSet::new(dcr_peer::PeerSetConfig::default());
        let mut client = LightClient::open(config, set, WatchList::new()).unwrap();
        for id in 0..10_000u64 {
            client.asked_at_tip.insert(id);
            lock(&client.reach).insert(id, 7);
        }
        client.banned.insert(3);
        client.forget_departed_peers();
        assert!(client.asked_at_tip.is_empty());
        assert!(lock(&client.reach).is_empty());
        assert!(client.banned.contains(&3));
    }

    #[test]
    fn banned_ids_keep_the_newest_within_their_bound() {
        let mut b = BannedIds::default();
        let total = BANNED_IDS_KEPT as u64 + 1000;
        for id in 0..total {
            assert!(b.insert(id));
            assert!(!b.insert(id));
            assert!(b.0.len() <= BANNED_IDS_KEPT);
        }
        assert!((1000..total).all(|id| b.contains(&id)));
        assert!((0..1000).all(|id| !b.contains(&id)));
    }
}
