//! A set of peers that answers typed requests: each request goes to a
//! ready peer, and to another when that one fails.
//!
//! [`PeerSet::call`] picks, among the members that can answer (protocol
//! version and services, [`Request::check_support`]), have a free request
//! slot ([`crate::Config::max_requests_in_flight`]) and are not paused,
//! the cheaper of two drawn at random, the cost being its typical answer
//! time times its outstanding requests plus one (zebra's
//! `peer_set/set.rs`: power of two choices over PeakEWMA load). An attempt
//! that takes more than a few times what answers of its kind take is
//! given up ([`PeerSetConfig`]); on a timeout, a `notfound` or a
//! disconnect the request goes to another member, up to
//! [`PeerSetConfig::max_attempts`]. What a failure costs the peer:
//!
//! | failure | the peer |
//! | --- | --- |
//! | timeout (silence or slowness) | paused ([`PeerSetConfig::pause`], 2 s); after [`PeerSetConfig::swap_out_after`] (2) in a row, swapped out: disconnected, not banned (the connection manager dials another) |
//! | `notfound` | nothing: it does not have it |
//! | disconnected | out of the set |
//! | a wrong answer (the caller's verdict, [`PeerSet::ban`]) | banned through the connection manager, disconnected |
//!
//! Hedging: an attempt is hedged (the request goes to a second member
//! too, and the first answer wins) while no answer of its kind has been
//! timed, after [`PeerSetConfig::hedge_after`] (250 ms: a silent peer
//! drawn first costs that, not the initial timeout); and, once answers
//! are timed, when its call holds up the caller's in-order progress
//! ([`HeadOfLine`], [`PeerSet::call_ordered`]: the oldest outstanding
//! filter batch of a sync, its header request) and it has been out
//! [`PeerSetConfig::hedge_factor`] (3) times the typical answer of its
//! kind (of any kind while none of its own is timed), at least
//! [`PeerSetConfig::hedge_min`] (20 ms; on a member that has not answered
//! anything yet, once the typical answer). The losing
//! attempt is called off, unless its member has not answered anything
//! yet: that one runs on to its leash, the evidence whether the member is
//! silent.
//!
//! Probation: a member that has not answered anything yet holds at most
//! one of the set's requests, and its attempt is given a short leash (the
//! typical answer times the timeout factor, at least
//! [`PeerSetConfig::min_first_timeout`], 200 ms, instead of 500 ms); at
//! its first timeout it is swapped out. A silent member therefore holds
//! one request for one leash, and that request is hedged as soon as it
//! holds up the job; it never gets a second.
//!
//! [`PeerSet::call_all`] spreads a large job (the filters of a long range,
//! say) over the members, as many requests at once as asked.
//! [`PeerSet::follow`] keeps the set in step with a
//! [`ConnManager`]: peers join as they
//! connect and leave as they go.

mod choose;
mod follow;

use std::collections::{HashMap, HashSet, VecDeque};
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use futures_core::Stream;
use futures_util::stream::FuturesUnordered;
use futures_util::StreamExt;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use tokio::sync::Notify;
use tokio::time::Instant;
use tracing::{debug, info, warn};

use crate::connmgr::policy::BanList;
use crate::connmgr::{ConnManager, Whitelist};
use crate::peer::Peer;
use crate::request::{DataItem, Request, RequestError, Response};
use crate::sync::lock;
use choose::{
    attempt_timeout, hedge_delay, kind_of, on_answer, on_failure, power_of_two, takes_more,
    Candidate, Consequence, Ewma, MemberStats, KINDS,
};
use dcr_wire::{Block, Hash, InvType, InvVect};

pub use choose::PeerSetConfig;

/// How often a waiting call looks again (pauses end, slots free up
/// outside the set).
const RECHECK: Duration = Duration::from_millis(50);
/// Swapped-out peers remembered for [`PeerSet::swapped_out`]: the newest
/// (a follower swaps peers out for days; the report needs the recent
/// ones, and [`PeerSet::swapped_dropped`] counts the rest). dcrd keeps no
/// such list; 256 is twice dcrd's 125 peers.
pub const SWAPPED_KEPT: usize = 256;

/// An answer and the peer that gave it (to ban, if the caller finds it
/// wrong).
#[derive(Debug, Clone)]
pub struct Answer {
    /// The peer that answered.
    pub peer: Peer,
    /// Its answer.
    pub response: Response,
}

/// Why a call of the set has no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PeerSetError {
    /// No member could take the request before the call's deadline (none
    /// connected, none able to answer it, or all busy or paused).
    #[error("no peer could take the request")]
    NoPeers,
    /// Every peer tried failed; the last one's error.
    #[error("{} tried, the last failed", dcr_wire::Counted(*attempts as u64, "peer", "peers"))]
    Failed {
        /// Peers tried.
        attempts: usize,
        /// The last failure.
        #[source]
        last: RequestError,
    },
}

/// Marks the call whose answer a caller's in-order progress waits for
/// (the oldest outstanding filter batch of a sync, say: the filters after
/// it are held until it is in). Such a call is hedged well before its
/// attempt times out ([`PeerSetConfig::hedge_factor`]). A caller marks a
/// call when it becomes the head of its line, which may be after the call
/// started; clones share the mark.
#[derive(Debug, Clone, Default)]
pub struct HeadOfLine(Arc<HeadMark>);

#[derive(Debug, Default)]
struct HeadMark {
    marked: AtomicBool,
    /// Wakes the call when marked.
    notify: Notify,
}

impl HeadOfLine {
    /// Not marked (yet).
    pub fn new() -> HeadOfLine {
        HeadOfLine::default()
    }

    /// Marked from the start (a request nothing else runs beside, such as
    /// a sync's `getheaders`).
    pub fn marked() -> HeadOfLine {
        let h = HeadOfLine::default();
        h.mark();
        h
    }

    /// Marks it: the caller's progress now waits on this call.
    pub fn mark(&self) {
        if !self.0.marked.swap(true, Ordering::SeqCst) {
            self.0.notify.notify_waiters();
        }
    }

    /// Whether it is marked.
    pub fn is_marked(&self) -> bool {
        self.0.marked.load(Ordering::SeqCst)
    }
}

/// What an attempt yields: its peer, when it started, and its result.
type AttemptOutput = (Peer, Instant, Result<Response, RequestError>);

/// One attempt of a call, with its member and start: when another
/// attempt's answer wins, whether to call it off or let it run on.
struct Attempt {
    peer: Peer,
    started: Instant,
    future: Pin<Box<dyn Future<Output = Result<Response, RequestError>> + Send>>,
}

impl Future for Attempt {
    type Output = AttemptOutput;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<AttemptOutput> {
        let this = &mut *self;
        this.future
            .as_mut()
            .poll(cx)
            .map(|r| (this.peer.clone(), this.started, r))
    }
}

struct Member {
    peer: Peer,
    stats: MemberStats,
}

struct State {
    members: HashMap<u64, Member>,
    /// Typical answer time of each kind of request.
    typical: [Ewma; KINDS],
    /// IPs this set banned, kept out of it for
    /// [`PeerSetConfig::ban_duration`] (at most
    /// [`crate::connmgr::policy::MAX_BANS`], the soonest to end dropped
    /// first): dcrd's `peerState.banned` with its expiry. Without a
    /// manager the only ban; with one, the manager bans too.
    banned: BanList,
    /// Addresses of the peers swapped out, in order (the newest
    /// [`SWAPPED_KEPT`]).
    swapped: VecDeque<std::net::SocketAddr>,
    /// Swapped-out peers no longer in `swapped`.
    swapped_dropped: u64,
    rng: StdRng,
}

struct Inner {
    config: PeerSetConfig,
    state: Mutex<State>,
    /// Signalled when a member joins or a request ends.
    changed: Notify,
    manager: Option<ConnManager>,
}

/// A set of peers answering typed requests. Clones share the set.
#[derive(Clone)]
pub struct PeerSet {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for PeerSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PeerSet")
            .field("members", &self.len())
            .finish()
    }
}

impl PeerSet {
    /// An empty set; peers join with [`PeerSet::add`].
    pub fn new(config: PeerSetConfig) -> PeerSet {
        PeerSet::build(config, None)
    }

    fn build(config: PeerSetConfig, manager: Option<ConnManager>) -> PeerSet {
        let ban_duration = config.ban_duration;
        PeerSet {
            inner: Arc::new(Inner {
                config,
                state: Mutex::new(State {
                    members: HashMap::new(),
                    typical: Default::default(),
                    banned: BanList::new(u32::MAX, ban_duration, false, Whitelist::default()),
                    swapped: VecDeque::new(),
                    swapped_dropped: 0,
                    rng: StdRng::seed_from_u64(rand::random()),
                }),
                changed: Notify::new(),
                manager,
            }),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &PeerSetConfig {
        &self.inner.config
    }

    /// Adds a connected peer (a disconnected one, one already in, or one
    /// whose IP this set banned is ignored). Returns whether it joined.
    pub fn add(&self, peer: Peer) -> bool {
        if !peer.is_connected() {
            return false;
        }
        let mut s = lock(&self.inner.state);
        if s.banned.is_banned(peer.addr().ip(), Instant::now())
            || s.members.contains_key(&peer.id())
        {
            return false;
        }
        debug!(peer = %peer.addr(), "joins the peer set");
        s.members.insert(
            peer.id(),
            Member {
                peer,
                stats: MemberStats::default(),
            },
        );
        drop(s);
        self.inner.changed.notify_waiters();
        true
    }

    /// Removes the peer with this id (it stays connected).
    pub fn remove(&self, id: u64) -> Option<Peer> {
        lock(&self.inner.state).members.remove(&id).map(|m| m.peer)
    }

    /// The members.
    pub fn peers(&self) -> Vec<Peer> {
        let s = lock(&self.inner.state);
        s.members.values().map(|m| m.peer.clone()).collect()
    }

    /// How many members the set has.
    pub fn len(&self) -> usize {
        lock(&self.inner.state).members.len()
    }

    /// True when the set has no member.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Waits until the set has at least `n` members, at most `limit`;
    /// says whether it has.
    pub async fn wait_for(&self, n: usize, limit: Duration) -> bool {
        let deadline = crate::sync::after(Instant::now(), limit);
        loop {
            let changed = self.inner.changed.notified();
            if self.len() >= n {
                return true;
            }
            let wake = (Instant::now() + RECHECK).min(deadline);
            tokio::select! {
                _ = changed => {}
                _ = tokio::time::sleep_until(wake) => {}
            }
            if Instant::now() >= deadline {
                return self.len() >= n;
            }
        }
    }

    /// Sends `request` to a ready member and returns its answer, trying
    /// others as the module documentation says.
    pub async fn call(&self, request: Request) -> Result<Answer, PeerSetError> {
        self.call_where(request, |_| true).await
    }

    /// [`PeerSet::call`] among the members `eligible` accepts (peers
    /// known to be on a chain long enough, say).
    pub async fn call_where(
        &self,
        request: Request,
        eligible: impl Fn(&Peer) -> bool,
    ) -> Result<Answer, PeerSetError> {
        self.call_checked(request, eligible, |_| Ok(()), None).await
    }

    /// [`PeerSet::call_where`] for a caller that takes answers in order:
    /// once `head` is marked (now or while the call runs), an attempt out
    /// [`PeerSetConfig::hedge_factor`] times the typical answer is hedged
    /// on another ready member (one that has answered, if any is ready).
    pub async fn call_ordered(
        &self,
        request: Request,
        eligible: impl Fn(&Peer) -> bool,
        head: &HeadOfLine,
    ) -> Result<Answer, PeerSetError> {
        self.call_checked(request, eligible, |_| Ok(()), Some(head))
            .await
    }

    /// One block, from a member that has it: a `notfound` sends the
    /// request to another, as a timeout does.
    pub async fn get_block(&self, hash: Hash) -> Result<(Peer, Block<'static>), PeerSetError> {
        let iv = InvVect {
            inv_type: InvType::BLOCK,
            hash,
        };
        let found = |r: &Response| match r {
            Response::Data(items) if matches!(items.as_slice(), [DataItem::Block(_)]) => Ok(()),
            _ => Err(RequestError::NotFound(iv)),
        };
        let answer = self
            .call_checked(Request::Data(vec![iv]), |_| true, found, None)
            .await?;
        match answer.response {
            Response::Data(mut items) => match items.pop() {
                Some(DataItem::Block(b)) => Ok((answer.peer, b)),
                _ => Err(PeerSetError::NoPeers),
            },
            _ => Err(PeerSetError::NoPeers),
        }
    }

    /// [`PeerSet::call_where`], with `check` turning an answer into a
    /// failure of its peer (a `notfound`, say) that sends the request on,
    /// and `head` marking a call that holds up its caller. At most two
    /// attempts run at once: the second only as a hedge
    /// ([`hedge_delay`]). When one answers, the other is called off,
    /// unless its member is on probation (it runs on: [`PeerSet::probe`]).
    async fn call_checked(
        &self,
        request: Request,
        eligible: impl Fn(&Peer) -> bool,
        check: impl Fn(&Response) -> Result<(), RequestError>,
        head: Option<&HeadOfLine>,
    ) -> Result<Answer, PeerSetError> {
        let config = &self.inner.config;
        let deadline = crate::sync::after(Instant::now(), config.request_timeout);
        let kind = kind_of(&request);
        let max_attempts = config.max_attempts.max(1);
        let mut tried = HashSet::new();
        let mut last = None;
        let mut running: FuturesUnordered<Attempt> = FuturesUnordered::new();
        // No hedge before this (a hedge found no ready member).
        let mut next_hedge_try = Instant::now();
        let answer = loop {
            if running.is_empty() {
                if tried.len() >= max_attempts {
                    break None;
                }
                let Some(peer) = self
                    .choose(&request, &eligible, &tried, deadline, false)
                    .await
                else {
                    break None;
                };
                tried.insert(peer.id());
                running.push(self.start_attempt(peer, request.clone(), kind));
            }
            // Registered before the mark is read: a mark after wakes it.
            let marked = head.map(|h| h.0.notify.notified());
            let hedge_at = match running.iter().next() {
                Some(only) if running.len() == 1 && tried.len() < max_attempts => {
                    let is_head = head.is_some_and(HeadOfLine::is_marked);
                    let (typical, any_kind, answered) = {
                        let s = lock(&self.inner.state);
                        let m = s.members.get(&only.peer.id());
                        let any_kind = mean(s.typical.iter().filter_map(Ewma::get));
                        let answered = m.is_some_and(|m| m.stats.has_answered());
                        (s.typical[kind].get(), any_kind, answered)
                    };
                    hedge_delay(config, typical, any_kind, is_head, answered)
                        .and_then(|d| only.started.checked_add(d))
                        .map(|t| t.max(next_hedge_try))
                }
                _ => None,
            };
            // Looked at again now and then: the typical answer moves.
            let recheck = Instant::now() + RECHECK;
            let wake = hedge_at.map_or(recheck, |t| t.min(recheck));
            tokio::select! {
                Some((peer, started, result)) = running.next() => {
                    match result.and_then(|r| check(&r).map(|()| r)) {
                        Ok(response) => {
                            self.answered(&peer, kind, started.elapsed());
                            break Some(Answer { peer, response });
                        }
                        Err(e) => {
                            debug!(peer = %peer.addr(), kind, took = ?started.elapsed(), "attempt failed");
                            self.failed(&peer, &e);
                            let retry = e.is_retryable();
                            last = Some(e);
                            if !retry {
                                break None;
                            }
                        }
                    }
                }
                _ = tokio::time::sleep_until(wake) => {
                    let now = Instant::now();
                    if hedge_at.is_some_and(|t| t <= now) {
                        // Only a member ready now: a hedge does not wait.
                        match self.choose(&request, &eligible, &tried, now, true).await {
                            Some(peer) => {
                                debug!(peer = %peer.addr(), kind, "hedged: asked of a second peer too");
                                tried.insert(peer.id());
                                running.push(self.start_attempt(peer, request.clone(), kind));
                            }
                            None => next_hedge_try = now + RECHECK,
                        }
                    }
                }
                _ = async {
                    match marked {
                        Some(m) => m.await,
                        None => std::future::pending().await,
                    }
                } => {}
            }
        };
        for attempt in running {
            if self.on_probation(&attempt.peer) {
                self.probe(attempt, kind);
            }
            // Else dropped: called off.
        }
        match (answer, last) {
            (Some(answer), _) => Ok(answer),
            (None, Some(last)) => Err(PeerSetError::Failed {
                attempts: tried.len(),
                last,
            }),
            (None, None) => Err(PeerSetError::NoPeers),
        }
    }

    /// An attempt of `request` on `peer`, starting now ([`PeerSet::attempt`]).
    fn start_attempt(&self, peer: Peer, request: Request, kind: usize) -> Attempt {
        let started = Instant::now();
        let set = self.clone();
        let p = peer.clone();
        Attempt {
            peer,
            started,
            future: Box::pin(async move { set.attempt(&p, request, kind, started).await }),
        }
    }

    /// Whether `peer` is a member that has not answered anything yet.
    fn on_probation(&self, peer: &Peer) -> bool {
        lock(&self.inner.state)
            .members
            .get(&peer.id())
            .is_some_and(|m| !m.stats.has_answered())
    }

    /// Lets the attempt of a member on probation run on after its call
    /// got its answer elsewhere, to its leash: calling it off would leave
    /// a silent member untested and free to take the next request. Its
    /// answer or its timeout counts as any other's (a timeout swaps it
    /// out); meanwhile it holds its one request slot, so it takes nothing
    /// more of the job.
    fn probe(&self, attempt: Attempt, kind: usize) {
        let set = self.clone();
        tokio::spawn(async move {
            let (peer, started, result) = attempt.await;
            match result {
                Ok(_) => set.answered(&peer, kind, started.elapsed()),
                Err(e) => {
                    debug!(peer = %peer.addr(), kind, took = ?started.elapsed(), "probe failed");
                    set.failed(&peer, &e);
                }
            }
        });
    }

    /// Sends every request of `requests`, `concurrency` at a time, each
    /// as [`PeerSet::call`] does; yields each with its place in the
    /// input, as they complete.
    pub fn call_all<I>(
        &self,
        requests: I,
        concurrency: usize,
    ) -> impl Stream<Item = (usize, Result<Answer, PeerSetError>)> + Send + 'static
    where
        I: IntoIterator<Item = Request>,
        I::IntoIter: Send + 'static,
    {
        let set = self.clone();
        futures_util::stream::iter(requests.into_iter().enumerate())
            .map(move |(i, r)| {
                let set = set.clone();
                async move { (i, set.call(r).await) }
            })
            .buffer_unordered(concurrency.max(1))
    }

    /// The peer for the next attempt: of the members that can answer, are
    /// eligible, untried, not paused and have a free slot (one, on
    /// probation: [`takes_more`]), the cheaper of two at random; for a
    /// `hedge`, of those that have answered before if any is ready. Waits
    /// for one until `deadline`; `None` when none came, or every member
    /// that could answer was tried or left the set.
    async fn choose(
        &self,
        request: &Request,
        eligible: &impl Fn(&Peer) -> bool,
        tried: &HashSet<u64>,
        deadline: Instant,
        hedge: bool,
    ) -> Option<Peer> {
        // Whether a member that could take it was seen while waiting.
        let mut seen = false;
        loop {
            let changed = self.inner.changed.notified();
            {
                let now = Instant::now().into_std();
                let mut s = lock(&self.inner.state);
                s.members.retain(|_, m| m.peer.is_connected());
                let mut untried = 0;
                let mut ready: Vec<(Peer, Candidate, bool)> = Vec::new();
                for m in s.members.values() {
                    let p = &m.peer;
                    let services = p.remote_version().map(|r| r.services);
                    let able = services
                        .is_some_and(|sv| request.check_support(p.protocol_version(), sv).is_ok());
                    if !able || !eligible(p) || tried.contains(&p.id()) {
                        continue;
                    }
                    untried += 1;
                    let paused = m.stats.paused_until.is_some_and(|t| t > now);
                    let in_flight = p.requests_in_flight();
                    let answered = m.stats.has_answered();
                    if paused || !takes_more(answered, in_flight, p.config().max_requests_in_flight)
                    {
                        continue;
                    }
                    let latency = m.stats.latency.get();
                    ready.push((p.clone(), Candidate { in_flight, latency }, answered));
                }
                // Every member that could take it tried, or gone since
                // (a set with none yet waits for one to join).
                if untried == 0 && !s.members.is_empty() && (!tried.is_empty() || seen) {
                    return None;
                }
                seen |= untried > 0;
                if hedge && ready.iter().any(|r| r.2) {
                    ready.retain(|r| r.2);
                }
                // A member not yet timed counts as a typical one: the
                // kind's typical answer, else the members' own answer
                // times (so the first requests of a kind spread over the
                // set instead of all going to the one member timed on
                // another kind), else 100 ms.
                let typical = s.typical[kind_of(request)]
                    .get()
                    .or_else(|| mean(ready.iter().filter_map(|(_, c, _)| c.latency)))
                    .unwrap_or(Duration::from_millis(100));
                let cands: Vec<Candidate> = ready.iter().map(|(_, c, _)| *c).collect();
                let draws = (s.rng.random(), s.rng.random());
                if let Some(i) = power_of_two(&cands, typical, draws) {
                    return Some(ready.swap_remove(i).0);
                }
            }
            if Instant::now() >= deadline {
                return None;
            }
            let wake = (Instant::now() + RECHECK).min(deadline);
            tokio::select! {
                _ = changed => {}
                _ = tokio::time::sleep_until(wake) => {}
            }
        }
    }

    /// One attempt on `peer`, given up once it has taken longer than
    /// [`PeerSetConfig::timeout_factor`] times what answers of its kind
    /// take (re-read as answers come in), at least the minimum: the short
    /// one while the peer has not answered anything yet.
    async fn attempt(
        &self,
        peer: &Peer,
        request: Request,
        kind: usize,
        started: Instant,
    ) -> Result<Response, RequestError> {
        let config = &self.inner.config;
        let call = peer.call(request, config.request_timeout);
        tokio::pin!(call);
        loop {
            let (typical, answered) = {
                let s = lock(&self.inner.state);
                let answered = s
                    .members
                    .get(&peer.id())
                    .is_some_and(|m| m.stats.has_answered());
                (s.typical[kind].get(), answered)
            };
            let limit = crate::sync::after(started, attempt_timeout(config, typical, answered));
            if Instant::now() >= limit {
                return Err(RequestError::Timeout);
            }
            let wake = (Instant::now() + RECHECK).min(limit);
            tokio::select! {
                r = &mut call => return r,
                _ = tokio::time::sleep_until(wake) => {}
            }
        }
    }

    fn answered(&self, peer: &Peer, kind: usize, took: Duration) {
        let mut s = lock(&self.inner.state);
        s.typical[kind].add(took);
        if let Some(m) = s.members.get_mut(&peer.id()) {
            on_answer(&mut m.stats, took);
        }
        drop(s);
        self.inner.changed.notify_waiters();
    }

    fn failed(&self, peer: &Peer, error: &RequestError) {
        let now = Instant::now().into_std();
        let consequence = {
            let mut s = lock(&self.inner.state);
            let config = &self.inner.config;
            match s.members.get_mut(&peer.id()) {
                Some(m) => on_failure(config, &mut m.stats, error, now),
                None => Consequence::None,
            }
        };
        debug!(peer = %peer.addr(), %error, ?consequence, "request failed");
        match consequence {
            Consequence::SwapOut => self.swap_out(peer),
            Consequence::Remove => {
                self.remove(peer.id());
            }
            Consequence::None | Consequence::Pause(_) => {}
        }
        self.inner.changed.notify_waiters();
    }

    /// Disconnects `peer` and drops it from the set, without holding
    /// anything against it: the connection manager dials another.
    pub fn swap_out(&self, peer: &Peer) {
        info!(peer = %peer.addr(), "silent or slow peer swapped out");
        if self.remove(peer.id()).is_some() {
            let mut s = lock(&self.inner.state);
            if s.swapped.len() >= SWAPPED_KEPT {
                s.swapped.pop_front();
                s.swapped_dropped += 1;
            }
            s.swapped.push_back(peer.addr());
        }
        peer.disconnect();
    }

    /// Bans `peer` for `reason` (an answer that breaks a rule): through
    /// the connection manager when the set follows one (its ban list,
    /// persistent peers included), else in this set; it is disconnected
    /// and dropped.
    pub async fn ban(&self, peer: &Peer, reason: &str) {
        warn!(peer = %peer.addr(), reason, "banning misbehaving peer");
        self.remove(peer.id());
        {
            let mut s = lock(&self.inner.state);
            let now = Instant::now();
            s.banned.forget_expired(now);
            s.banned.ban(peer.addr().ip(), now);
        }
        if let Some(m) = &self.inner.manager {
            if !m.ban_peer(peer, reason) {
                debug!(peer = %peer.addr(), "not banned by the manager (whitelisted, or banning off); out of the set");
            }
        }
        peer.disconnect();
    }

    /// The peers this set swapped out (silent or slow), oldest first:
    /// the newest [`SWAPPED_KEPT`].
    pub fn swapped_out(&self) -> Vec<std::net::SocketAddr> {
        lock(&self.inner.state).swapped.iter().copied().collect()
    }

    /// Peers swapped out beyond the newest [`SWAPPED_KEPT`], no longer
    /// listed by [`PeerSet::swapped_out`].
    pub fn swapped_dropped(&self) -> u64 {
        lock(&self.inner.state).swapped_dropped
    }

    /// Whether this set's ban of `ip` is in force.
    pub fn is_banned(&self, ip: IpAddr) -> bool {
        lock(&self.inner.state).banned.is_banned(ip, Instant::now())
    }
}

/// The mean of `durations`, if there is any.
fn mean(durations: impl Iterator<Item = Duration>) -> Option<Duration> {
    let (sum, n) = durations.fold((Duration::ZERO, 0u32), |(s, n), d| (s + d, n + 1));
    (n > 0).then(|| sum / n)
}
