//! The session's one request → answer table: which requests are
//! outstanding, which received message answers which of them, the
//! deadlines the stall rules set, and the deadlines callers of typed
//! requests set.
//!
//! **Stall rules.** The deadlines are the reference's stall handler
//! (`maybeAddDeadline`, `maybeRemoveDeadline` and `checkDeadlines` in
//! dcrd's `peer/peer.go`), read at the corpus commit:
//!
//! | we send | deadline for | cleared by |
//! | --- | --- | --- |
//! | `getdata` | each vector | `block` (its hash as `MSG_BLOCK`), `tx` (its prefix hash as `MSG_TX`), any of the eight mixing messages (its hash as `MSG_MIX`), a `notfound` entry naming the vector |
//! | `getinitstate` | the `initstate` | `initstate` |
//!
//! Nothing else gets a deadline, because nothing else has a certain
//! answer: dcrd's server stays silent for `getblocks` it has nothing to
//! say to, for `mempool` and `getminings` when empty, and for filter
//! requests of blocks it lacks (`OnGetCFilterV2`, `OnGetCFiltersV2`);
//! the reference removed its `getheaders` deadline too. Pings are not
//! tracked either: during a sync their pongs wait behind the backlog. A
//! partial answer clears what it answers and leaves the rest pending; a
//! vector of a type no message answers (`MSG_FILTERED_BLOCK`, unknown
//! types) is cleared only by `notfound`, as in the reference.
//!
//! Deadlines are checked only on a tick ([`STALL_TICK`]) and are pushed
//! back by the time our own message handlers took since the last tick (the
//! caller reports it), so a slow callback of ours is never blamed on the
//! peer; the offset starts over at every tick.
//!
//! **Typed requests.** A caller's request carries a [`RequestId`] and
//! says what answers it ([`Awaited`]); the table returns the id with each
//! answer ([`Resolution`]), so whoever holds the caller's channel can
//! hand the message over. How a message is matched:
//!
//! | request | answered by |
//! | --- | --- |
//! | `getheaders` | the first `headers` that starts after one of its locator hashes (its first header's parent is in the locator; or it is block 1, where dcrd starts when it knows no locator hash; or it is the stop block asked for alone with an empty locator), or that is empty; outstanding ones are tried in the order sent |
//! | `getblocks` | the next `inv` holding only blocks, in the order sent (an announcement of blocks arriving meanwhile is taken as the answer: both list blocks the peer has) |
//! | `getdata` | each vector as the stall table clears it: `block`, `tx`, mixing message or `notfound` entry; the request is done when every vector is |
//! | `getcfilterv2` | the `cfilterv2` for its block |
//! | `getcfsv2` | the `cfiltersv2` whose first filter is for its start block |
//! | `getinitstate` | the next `initstate` |
//! | `ping` | the `pong` with its nonce; the round trip is timed from the moment the ping was written |
//!
//! Each typed request also has the caller's deadline: when it passes, the
//! request ends ([`Resolution::TimedOut`]) and the connection carries on.
//! For the requests dcrd may leave unanswered this is the only limit; a
//! `getdata` or `getinitstate` keeps its stall deadline as well, because
//! the reference owes it an answer. A request its caller gives up on
//! ([`RequestTable::cancel`]) is forgotten; a stall deadline it started
//! stays, for the same reason.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::fmt;
use std::time::{Duration, Instant};

use dcr_wire::msg::mix_hash;
use dcr_wire::msg::MAX_INV_PER_MSG;
use dcr_wire::{Command, Hash, InvType, InvVect, Message};

/// How often deadlines are checked (the reference's `stallTickInterval`);
/// a shorter stall timeout checks at half of it.
pub const STALL_TICK: Duration = Duration::from_secs(15);

/// Most data requests that may be outstanding at once: a `getdata` that
/// would leave more unanswered ends the peer (the reference's burst
/// limit, one and a half messages' worth).
pub const MAX_PENDING_DATA: usize = (MAX_INV_PER_MSG + MAX_INV_PER_MSG / 2) as usize;

/// Why the stall tracker wants the peer gone.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StallError {
    /// A data request was not answered in time.
    Data(InvVect),
    /// A command request was not answered in time (the answer's command).
    Command(Command),
    /// More data requests outstanding than are tracked.
    TooManyPending,
}

impl fmt::Display for StallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StallError::Data(iv) => write!(
                f,
                "no answer to {} {} before its deadline",
                iv.inv_type, iv.hash
            ),
            StallError::Command(c) => write!(f, "no {c} before its deadline"),
            StallError::TooManyPending => write!(
                f,
                "more than {MAX_PENDING_DATA} data requests left unanswered"
            ),
        }
    }
}

impl std::error::Error for StallError {}

/// A sent message that starts deadlines: the stall table's left column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// `getdata`: one deadline per vector.
    Data(Vec<InvVect>),
    /// A request answered by one message with this command.
    Command(Command),
}

impl Request {
    /// The deadline-bearing request `msg` is, if it is one.
    pub fn of(msg: &Message<'_>) -> Option<Request> {
        match msg {
            Message::GetData(m) => Some(Request::Data(m.inv_list.clone())),
            Message::GetInitState(_) => Some(Request::Command(Command::InitState)),
            _ => None,
        }
    }
}

/// Names a typed request: its caller chooses it, unique among the
/// connection's outstanding requests, and the table gives it back with
/// each answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(pub u64);

/// What answers a typed request (the typed table's right column).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Awaited {
    /// A `headers` answering `getheaders` with this locator and stop.
    Headers {
        /// The locator sent.
        locator: Vec<Hash>,
        /// The stop hash sent.
        stop: Hash,
    },
    /// An `inv` of blocks answering `getblocks`.
    Blocks,
    /// One answer per vector of a `getdata`, in the order given.
    Data(Vec<InvVect>),
    /// The `cfilterv2` of this block.
    CFilter(Hash),
    /// The `cfiltersv2` starting at this block.
    CFilters(Hash),
    /// An `initstate`.
    InitState,
    /// The `pong` with this nonce.
    Pong(u64),
}

/// What became of a typed request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    /// The message just received answers part `index` of it (the vector
    /// at that place of a `getdata`; 0 for the others); `done` when no
    /// part is left, and the request is forgotten.
    Answered {
        /// The request.
        id: RequestId,
        /// The part answered.
        index: usize,
        /// Nothing of the request is left.
        done: bool,
        /// The round trip of a ping, from when it was written.
        rtt: Option<Duration>,
    },
    /// The caller's deadline passed first; the request is forgotten.
    TimedOut(RequestId),
}

/// Why a typed request was refused by the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableError {
    /// A request of this id is already outstanding.
    DuplicateId(RequestId),
}

/// The FIFO kinds: answers that name nothing of their request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fifo {
    Headers = 0,
    Blocks = 1,
    InitState = 2,
}

/// One outstanding vector: the stall deadline once its `getdata` was
/// written, and the typed requests waiting for it (id and place).
#[derive(Debug, Clone, Default)]
struct DataEntry {
    deadline: Option<Instant>,
    waiters: Vec<(RequestId, usize)>,
}

/// One outstanding typed request.
#[derive(Debug, Clone)]
struct TypedRequest {
    awaited: Awaited,
    /// Parts not yet answered.
    remaining: usize,
    deadline: Instant,
    /// When its frame was written (pings are timed from it).
    written: Option<Instant>,
}

/// The request → answer table of one connection.
#[derive(Debug, Clone)]
pub struct RequestTable {
    timeout: Duration,
    tick: Duration,
    next_tick: Instant,
    /// Time our handlers took since the last tick.
    offset: Duration,
    pending_data: HashMap<InvVect, DataEntry>,
    /// Vectors with a stall deadline.
    data_deadlines: usize,
    pending_cmds: HashMap<Command, Instant>,
    /// The typed requests' side, made at the first typed request: most
    /// peers never get one, and every peer carries this field (boxed,
    /// it costs an idle peer one pointer instead of its maps).
    typed: Option<Box<Typed>>,
    /// Resolutions not yet taken.
    resolved: Vec<Resolution>,
}

/// The typed requests of one connection: each request, and the indexes
/// its answer is found by.
#[derive(Debug, Clone, Default)]
struct Typed {
    by_id: HashMap<RequestId, TypedRequest>,
    /// Requests whose answers name nothing of them, in the order sent.
    fifo: [VecDeque<RequestId>; 3],
    /// `cfilterv2` and `cfiltersv2` waiters by the block the answer
    /// names.
    by_block: HashMap<(Command, Hash), Vec<RequestId>>,
    /// `pong` waiters by nonce.
    pings: HashMap<u64, RequestId>,
    deadlines: BTreeSet<(Instant, RequestId)>,
}

impl RequestTable {
    /// A table whose stall ticks start at `now`.
    pub fn new(timeout: Duration, now: Instant) -> Self {
        let tick = STALL_TICK.min(timeout / 2).max(Duration::from_millis(10));
        RequestTable {
            timeout,
            tick,
            next_tick: now + tick,
            offset: Duration::ZERO,
            pending_data: HashMap::new(),
            data_deadlines: 0,
            pending_cmds: HashMap::new(),
            typed: None,
            resolved: Vec::new(),
        }
    }

    // ---- the stall rules ---------------------------------------------------

    /// We wrote `req` at `now`: start its deadlines.
    pub fn on_send(&mut self, req: &Request, now: Instant) -> Result<(), StallError> {
        let deadline = now + self.timeout;
        match req {
            Request::Data(list) => {
                if self.data_deadlines + list.len() > MAX_PENDING_DATA {
                    return Err(StallError::TooManyPending);
                }
                for iv in list {
                    let e = self.pending_data.entry(*iv).or_default();
                    if e.deadline.is_none() {
                        self.data_deadlines += 1;
                    }
                    e.deadline = Some(deadline);
                }
            }
            Request::Command(answer) => {
                self.pending_cmds.insert(*answer, deadline);
            }
        }
        Ok(())
    }

    /// We received `msg`: clear what it answers (the stall table's right
    /// column) and resolve the typed requests it answers (taken with
    /// [`take_resolved`](Self::take_resolved)). Hashes are computed only
    /// while data requests are pending.
    pub fn on_receive(&mut self, msg: &Message<'_>, now: Instant) {
        if !self.pending_data.is_empty() {
            match msg {
                Message::Block(b) => self.data_answered(InvType::BLOCK, b.block_hash()),
                Message::Tx(t) => self.data_answered(InvType::TX, t.tx_hash()),
                Message::NotFound(n) => {
                    for iv in &n.inv_list {
                        self.data_answered(iv.inv_type, iv.hash);
                    }
                }
                // The eight mixing messages answer by their own hash.
                other => {
                    if let Some(hash) = mix_hash(other) {
                        self.data_answered(InvType::MIX, hash);
                    }
                }
            }
        }
        match msg {
            Message::InitState(_) => {
                self.pending_cmds.remove(&Command::InitState);
                self.fifo_answered(Fifo::InitState, |_| true);
            }
            Message::Headers(h) => {
                let first = h.headers.first();
                self.fifo_answered(Fifo::Headers, |a| headers_answer(a, first));
            }
            Message::Inv(inv) if is_block_list(&inv.inv_list) => {
                self.fifo_answered(Fifo::Blocks, |_| true);
            }
            Message::CFilterV2(f) => self.block_answered(Command::CFilterV2, f.block_hash),
            Message::CFiltersV2(fs) => {
                if let Some(first) = fs.cfilters.first() {
                    self.block_answered(Command::CFiltersV2, first.block_hash);
                }
            }
            Message::Pong(p) => {
                let Some(typed) = self.typed.as_deref_mut() else {
                    return;
                };
                if let Some(id) = typed.pings.remove(&p.nonce) {
                    let rtt = typed
                        .by_id
                        .get(&id)
                        .and_then(|t| t.written)
                        .map(|w| now.saturating_duration_since(w));
                    self.part_answered(id, 0, rtt);
                }
            }
            _ => {}
        }
    }

    /// The vector `(inv_type, hash)` was answered: its stall deadline is
    /// cleared and its typed waiters resolved.
    fn data_answered(&mut self, inv_type: InvType, hash: Hash) {
        let iv = InvVect { inv_type, hash };
        let Some(e) = self.pending_data.remove(&iv) else {
            return;
        };
        if e.deadline.is_some() {
            self.data_deadlines -= 1;
        }
        for (id, index) in e.waiters {
            self.part_answered(id, index, None);
        }
    }

    /// The first request of kind `fifo`, in the order sent, whose awaited
    /// answer `fits` is answered.
    fn fifo_answered(&mut self, fifo: Fifo, fits: impl Fn(&Awaited) -> bool) {
        let Some(typed) = self.typed.as_deref_mut() else {
            return;
        };
        let queue = &typed.fifo[fifo as usize];
        let found = queue
            .iter()
            .position(|id| typed.by_id.get(id).is_some_and(|t| fits(&t.awaited)));
        if let Some(at) = found {
            if let Some(id) = typed.fifo[fifo as usize].remove(at) {
                self.part_answered(id, 0, None);
            }
        }
    }

    fn block_answered(&mut self, command: Command, hash: Hash) {
        let Some(typed) = self.typed.as_deref_mut() else {
            return;
        };
        if let Some(ids) = typed.by_block.remove(&(command, hash)) {
            for id in ids {
                self.part_answered(id, 0, None);
            }
        }
    }

    /// Part `index` of request `id` is answered; the request is forgotten
    /// once nothing is left of it.
    fn part_answered(&mut self, id: RequestId, index: usize, rtt: Option<Duration>) {
        let Some(t) = self.typed.as_deref_mut().and_then(|t| t.by_id.get_mut(&id)) else {
            return;
        };
        t.remaining = t.remaining.saturating_sub(1);
        let done = t.remaining == 0;
        self.resolved.push(Resolution::Answered {
            id,
            index,
            done,
            rtt,
        });
        if done {
            self.forget(id);
        }
    }

    /// Our handlers took `spent`: deadlines checked at the next tick move
    /// back by that much.
    pub fn on_handler_time(&mut self, spent: Duration) {
        self.offset += spent;
    }

    /// When the table next needs the clock: the next stall tick while a
    /// stall deadline is pending, the earliest typed deadline, else never.
    pub fn next_check(&self) -> Option<Instant> {
        let tick = (self.pending() > 0).then_some(self.next_tick);
        let typed = self.typed.as_ref().and_then(|t| t.deadlines.first());
        let typed = typed.map(|(d, _)| *d);
        match (tick, typed) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// At `now`: typed requests past their deadline end
    /// ([`Resolution::TimedOut`]); when a stall tick is due, checks every
    /// stall deadline (pushed back by the handler time since the last
    /// tick) and starts the offset over.
    pub fn poll(&mut self, now: Instant) -> Result<(), StallError> {
        while let Some(&(deadline, id)) = self.typed.as_ref().and_then(|t| t.deadlines.first()) {
            if deadline > now {
                break;
            }
            self.forget(id);
            self.resolved.push(Resolution::TimedOut(id));
        }
        if now < self.next_tick {
            return Ok(());
        }
        // Ticks that passed with nothing pending checked nothing.
        while self.next_tick <= now {
            self.next_tick += self.tick;
        }
        let offset = std::mem::take(&mut self.offset);
        let late = |d: &Instant| now >= *d + offset;
        if let Some((cmd, _)) = self.pending_cmds.iter().find(|(_, d)| late(d)) {
            return Err(StallError::Command(*cmd));
        }
        let data = self.pending_data.iter();
        if let Some((iv, _)) = data
            .filter_map(|(iv, e)| Some((iv, e.deadline?)))
            .find(|(_, d)| late(d))
        {
            return Err(StallError::Data(*iv));
        }
        Ok(())
    }

    /// Number of outstanding requests with a stall deadline.
    pub fn pending(&self) -> usize {
        self.data_deadlines + self.pending_cmds.len()
    }

    // ---- typed requests ----------------------------------------------------

    /// A typed request `id`, waiting for `awaited` until `deadline`.
    /// Registered when queued, so no answer can come before it. The
    /// first one makes the table's typed side.
    pub fn add(
        &mut self,
        id: RequestId,
        awaited: Awaited,
        deadline: Instant,
    ) -> Result<(), TableError> {
        let typed = self.typed.get_or_insert_with(Box::default);
        if typed.by_id.contains_key(&id) {
            return Err(TableError::DuplicateId(id));
        }
        let mut remaining = 1;
        match &awaited {
            Awaited::Headers { .. } => typed.fifo[Fifo::Headers as usize].push_back(id),
            Awaited::Blocks => typed.fifo[Fifo::Blocks as usize].push_back(id),
            Awaited::InitState => typed.fifo[Fifo::InitState as usize].push_back(id),
            Awaited::Data(list) => {
                remaining = list.len();
                for (index, iv) in list.iter().enumerate() {
                    let e = self.pending_data.entry(*iv).or_default();
                    e.waiters.push((id, index));
                }
            }
            Awaited::CFilter(h) => {
                let key = (Command::CFilterV2, *h);
                typed.by_block.entry(key).or_default().push(id);
            }
            Awaited::CFilters(h) => {
                let key = (Command::CFiltersV2, *h);
                typed.by_block.entry(key).or_default().push(id);
            }
            Awaited::Pong(nonce) => {
                typed.pings.insert(*nonce, id);
            }
        }
        typed.by_id.insert(
            id,
            TypedRequest {
                awaited,
                remaining,
                deadline,
                written: None,
            },
        );
        if remaining == 0 {
            // Nothing asked, nothing to wait for.
            self.part_answered(id, 0, None);
        } else {
            typed.deadlines.insert((deadline, id));
        }
        Ok(())
    }

    /// The frame of typed request `id` was written at `now`.
    pub fn written(&mut self, id: RequestId, now: Instant) {
        if let Some(t) = self.typed.as_deref_mut().and_then(|t| t.by_id.get_mut(&id)) {
            t.written.get_or_insert(now);
        }
    }

    /// The caller gave up on `id`: it is forgotten (any stall deadline its
    /// frame started stays).
    pub fn cancel(&mut self, id: RequestId) {
        self.forget(id);
    }

    /// Removes every trace of typed request `id`.
    fn forget(&mut self, id: RequestId) {
        let Some(typed) = self.typed.as_deref_mut() else {
            return;
        };
        let Some(t) = typed.by_id.remove(&id) else {
            return;
        };
        typed.deadlines.remove(&(t.deadline, id));
        let fifo = |f: Fifo, q: &mut [VecDeque<RequestId>; 3]| q[f as usize].retain(|i| *i != id);
        match t.awaited {
            Awaited::Headers { .. } => fifo(Fifo::Headers, &mut typed.fifo),
            Awaited::Blocks => fifo(Fifo::Blocks, &mut typed.fifo),
            Awaited::InitState => fifo(Fifo::InitState, &mut typed.fifo),
            Awaited::Data(list) => {
                for iv in list {
                    let empty = match self.pending_data.get_mut(&iv) {
                        Some(e) => {
                            e.waiters.retain(|(i, _)| *i != id);
                            e.waiters.is_empty() && e.deadline.is_none()
                        }
                        None => false,
                    };
                    if empty {
                        self.pending_data.remove(&iv);
                    }
                }
            }
            Awaited::CFilter(h) => typed.unwait_block((Command::CFilterV2, h), id),
            Awaited::CFilters(h) => typed.unwait_block((Command::CFiltersV2, h), id),
            Awaited::Pong(nonce) => {
                typed.pings.remove(&nonce);
            }
        }
    }

    /// What became of typed requests since the last call, in order.
    pub fn take_resolved(&mut self) -> std::vec::Drain<'_, Resolution> {
        self.resolved.drain(..)
    }

    /// Typed requests outstanding.
    pub fn typed_len(&self) -> usize {
        self.typed.as_ref().map_or(0, |t| t.by_id.len())
    }

    /// Whether the typed side was made (a typed request came).
    pub fn has_typed(&self) -> bool {
        self.typed.is_some()
    }
}

impl Typed {
    fn unwait_block(&mut self, key: (Command, Hash), id: RequestId) {
        if let Some(ids) = self.by_block.get_mut(&key) {
            ids.retain(|i| *i != id);
            if ids.is_empty() {
                self.by_block.remove(&key);
            }
        }
    }
}

/// Whether a `headers` message whose first header is `first` answers a
/// `getheaders` awaiting `awaited` (see the module's table).
fn headers_answer(awaited: &Awaited, first: Option<&dcr_wire::BlockHeader>) -> bool {
    let Awaited::Headers { locator, stop } = awaited else {
        return false;
    };
    let Some(first) = first else {
        // Nothing after the locator: an answer to any.
        return true;
    };
    if locator.is_empty() {
        return first.block_hash() == *stop;
    }
    first.height == 1 || locator.contains(&first.prev_block)
}

/// An `inv` listing blocks only (a `getblocks` answer).
fn is_block_list(list: &[InvVect]) -> bool {
    !list.is_empty() && list.iter().all(|iv| iv.inv_type == InvType::BLOCK)
}

#[cfg(test)]
mod tests {
    use super::*;
    use dcr_wire::MixConfirm;
    use dcr_wire::{
        GetBlocks, GetCFilterV2, GetCFsV2, GetData, GetHeaders, GetInitState, GetMiningState, Hash,
        InitState, MemPool, NotFound, Ping,
    };
    use std::borrow::Cow;

    /// The reference's stall timeout.
    const T: Duration = Duration::from_secs(30);

    fn iv(t: InvType, n: u8) -> InvVect {
        InvVect {
            inv_type: t,
            hash: Hash([n; 32]),
        }
    }

    fn getdata(list: &[InvVect]) -> Message<'static> {
        Message::GetData(GetData {
            inv_list: list.to_vec(),
        })
    }

    fn tracker_with(msg: &Message<'_>, t0: Instant) -> RequestTable {
        let mut s = RequestTable::new(T, t0);
        s.on_send(&Request::of(msg).expect("a tracked request"), t0)
            .unwrap();
        s
    }

    /// The first tick at or after the deadline of a request sent at `t0`.
    fn past_deadline(t0: Instant) -> Instant {
        t0 + Duration::from_secs(30)
    }

    #[test]
    fn only_getdata_and_getinitstate_get_deadlines() {
        let untracked = [
            Message::GetHeaders(GetHeaders::default()),
            Message::GetBlocks(GetBlocks::default()),
            Message::MemPool(MemPool),
            Message::GetMiningState(GetMiningState),
            Message::GetCFilterV2(GetCFilterV2::default()),
            Message::GetCFsV2(GetCFsV2::default()),
            Message::Ping(Ping { nonce: 1 }),
        ];
        for m in &untracked {
            assert_eq!(Request::of(m), None, "{}", m.command());
        }
        assert_eq!(
            Request::of(&Message::GetInitState(GetInitState::default())),
            Some(Request::Command(Command::InitState))
        );
        let list = [iv(InvType::BLOCK, 1), iv(InvType::MIX, 2)];
        assert_eq!(
            Request::of(&getdata(&list)),
            Some(Request::Data(list.to_vec()))
        );
    }

    #[test]
    fn unanswered_getinitstate_stalls_at_the_first_tick_past_its_deadline() {
        let t0 = Instant::now();
        let mut s = tracker_with(&Message::GetInitState(GetInitState::default()), t0);
        // Ticks at 15 s and 30 s: the first finds it in time.
        assert_eq!(s.next_check(), Some(t0 + STALL_TICK));
        assert_eq!(s.poll(t0 + STALL_TICK), Ok(()));
        assert_eq!(
            s.poll(past_deadline(t0)),
            Err(StallError::Command(Command::InitState))
        );
    }

    #[test]
    fn initstate_answers_getinitstate() {
        let t0 = Instant::now();
        let mut s = tracker_with(&Message::GetInitState(GetInitState::default()), t0);
        s.on_receive(&Message::InitState(InitState::default()), t0);
        assert_eq!(s.pending(), 0);
        assert_eq!(s.next_check(), None);
        assert_eq!(s.poll(t0 + Duration::from_secs(300)), Ok(()));
    }

    #[test]
    fn handler_time_pushes_deadlines_back_until_the_next_tick() {
        let t0 = Instant::now();
        let mut s = tracker_with(&Message::GetInitState(GetInitState::default()), t0);
        assert_eq!(s.poll(t0 + STALL_TICK), Ok(()));
        s.on_handler_time(Duration::from_secs(5));
        assert_eq!(s.poll(past_deadline(t0)), Ok(()));
        // The offset was used up at that tick.
        assert_eq!(
            s.poll(t0 + Duration::from_secs(45)),
            Err(StallError::Command(Command::InitState))
        );
    }

    #[test]
    fn a_block_clears_its_block_vector_only() {
        let block = dcr_wire::Block::default();
        let hash = block.block_hash();
        let want = InvVect {
            inv_type: InvType::BLOCK,
            hash,
        };
        // The same hash as a transaction is a different request.
        let other = InvVect {
            inv_type: InvType::TX,
            hash,
        };
        let t0 = Instant::now();
        let mut s = tracker_with(&getdata(&[want, other]), t0);
        s.on_receive(&Message::Block(block), t0);
        assert_eq!(s.pending(), 1);
        assert_eq!(s.poll(past_deadline(t0)), Err(StallError::Data(other)));
    }

    #[test]
    fn a_tx_clears_its_prefix_hash_vector() {
        let tx = dcr_wire::Tx::default();
        let want = InvVect {
            inv_type: InvType::TX,
            hash: tx.tx_hash(),
        };
        let t0 = Instant::now();
        let mut s = tracker_with(&getdata(&[want]), t0);
        s.on_receive(&Message::Tx(tx), t0);
        assert_eq!(s.pending(), 0);
    }

    #[test]
    fn a_mixing_message_clears_its_mix_vector() {
        let msg = Message::MixConfirm(MixConfirm {
            seen_dc_nets: vec![Hash([3; 32])],
            ..Default::default()
        });
        let want = InvVect {
            inv_type: InvType::MIX,
            hash: mix_hash(&msg).unwrap(),
        };
        let unrelated = iv(InvType::MIX, 7);
        let t0 = Instant::now();
        let mut s = tracker_with(&getdata(&[want, unrelated]), t0);
        s.on_receive(&msg, t0);
        assert_eq!(s.pending(), 1);
        assert_eq!(s.poll(past_deadline(t0)), Err(StallError::Data(unrelated)));
    }

    #[test]
    fn notfound_clears_the_entries_it_names_and_a_partial_answer_leaves_the_rest() {
        let (a, b, c) = (
            iv(InvType::BLOCK, 1),
            iv(InvType::FILTERED_BLOCK, 2),
            iv(InvType(99), 3),
        );
        let t0 = Instant::now();
        let mut s = tracker_with(&getdata(&[a, b, c]), t0);
        s.on_receive(
            &Message::NotFound(NotFound {
                inv_list: vec![b, c],
            }),
            t0,
        );
        assert_eq!(s.pending(), 1);
        assert_eq!(s.poll(past_deadline(t0)), Err(StallError::Data(a)));
    }

    #[test]
    fn other_messages_clear_nothing() {
        let t0 = Instant::now();
        let mut s = tracker_with(&getdata(&[iv(InvType::BLOCK, 1)]), t0);
        s.on_receive(&Message::Headers(Default::default()), t0);
        s.on_receive(&Message::InitState(InitState::default()), t0);
        s.on_receive(
            &Message::GetInitState(GetInitState {
                types: vec![Cow::Borrowed("x")],
            }),
            t0,
        );
        assert_eq!(s.pending(), 1);
    }

    #[test]
    fn too_many_pending_requests() {
        let t0 = Instant::now();
        let mut s = RequestTable::new(T, t0);
        let inv_list: Vec<InvVect> = (0..MAX_PENDING_DATA as u32 + 1)
            .map(|n| {
                let mut h = [0u8; 32];
                h[..4].copy_from_slice(&n.to_le_bytes());
                InvVect {
                    inv_type: InvType::TX,
                    hash: Hash(h),
                }
            })
            .collect();
        assert_eq!(
            s.on_send(&Request::Data(inv_list), t0),
            Err(StallError::TooManyPending)
        );
    }

    // ---- typed requests ------------------------------------------------------

    const LATER: Duration = Duration::from_secs(10);

    fn answered(id: u64, index: usize, done: bool) -> Resolution {
        Resolution::Answered {
            id: RequestId(id),
            index,
            done,
            rtt: None,
        }
    }

    fn resolved(s: &mut RequestTable) -> Vec<Resolution> {
        s.take_resolved().collect()
    }

    fn header(prev: Hash, height: u32) -> dcr_wire::BlockHeader {
        dcr_wire::BlockHeader {
            prev_block: prev,
            height,
            ..Default::default()
        }
    }

    fn headers_msg(list: Vec<dcr_wire::BlockHeader>) -> Message<'static> {
        Message::Headers(dcr_wire::Headers { headers: list })
    }

    #[test]
    fn headers_answer_the_getheaders_whose_locator_they_continue() {
        let t0 = Instant::now();
        let mut s = RequestTable::new(T, t0);
        let (a, b) = (Hash([1; 32]), Hash([2; 32]));
        let locator = |h: Hash| Awaited::Headers {
            locator: vec![h, Hash([9; 32])],
            stop: Hash::ZERO,
        };
        s.add(RequestId(1), locator(a), t0 + LATER).unwrap();
        s.add(RequestId(2), locator(b), t0 + LATER).unwrap();
        // An announcement that continues neither locator is no answer.
        s.on_receive(&headers_msg(vec![header(Hash([7; 32]), 50)]), t0);
        assert_eq!(resolved(&mut s), []);
        // Answers go to the request they continue, whatever the order.
        s.on_receive(&headers_msg(vec![header(b, 20)]), t0);
        assert_eq!(resolved(&mut s), [answered(2, 0, true)]);
        // Starting after the shared genesis hash, or at block 1 (dcrd
        // starts there when it knows no locator hash), answers too.
        s.on_receive(&headers_msg(vec![header(Hash([3; 32]), 1)]), t0);
        assert_eq!(resolved(&mut s), [answered(1, 0, true)]);
        assert_eq!(s.typed_len(), 0);
        // An empty answer ("nothing after your locator") answers the
        // oldest.
        s.add(RequestId(3), locator(a), t0 + LATER).unwrap();
        s.add(RequestId(4), locator(b), t0 + LATER).unwrap();
        s.on_receive(&headers_msg(vec![]), t0);
        assert_eq!(resolved(&mut s), [answered(3, 0, true)]);
        // An empty locator asks for the stop block alone.
        let lone = header(a, 5);
        let stop = lone.block_hash();
        let empty = Awaited::Headers {
            locator: vec![],
            stop,
        };
        s.cancel(RequestId(4));
        s.add(RequestId(5), empty, t0 + LATER).unwrap();
        s.on_receive(&headers_msg(vec![header(b, 5)]), t0);
        assert_eq!(resolved(&mut s), []);
        s.on_receive(&headers_msg(vec![lone]), t0);
        assert_eq!(resolved(&mut s), [answered(5, 0, true)]);
    }

    #[test]
    fn getdata_parts_resolve_one_by_one_and_notfound_is_an_answer() {
        let block = dcr_wire::Block::default();
        let tx = dcr_wire::Tx::default();
        let want = [
            InvVect {
                inv_type: InvType::BLOCK,
                hash: block.block_hash(),
            },
            iv(InvType::BLOCK, 9),
            InvVect {
                inv_type: InvType::TX,
                hash: tx.tx_hash(),
            },
        ];
        let t0 = Instant::now();
        let mut s = RequestTable::new(T, t0);
        s.add(RequestId(7), Awaited::Data(want.to_vec()), t0 + LATER)
            .unwrap();
        // Registered at queue time; the stall deadlines start when written.
        assert_eq!(s.pending(), 0);
        s.on_send(&Request::Data(want.to_vec()), t0).unwrap();
        assert_eq!(s.pending(), 3);
        s.on_receive(&Message::Tx(tx), t0);
        s.on_receive(&Message::Block(block), t0);
        assert_eq!(
            resolved(&mut s),
            [answered(7, 2, false), answered(7, 0, false)]
        );
        s.on_receive(
            &Message::NotFound(NotFound {
                inv_list: vec![want[1]],
            }),
            t0,
        );
        assert_eq!(resolved(&mut s), [answered(7, 1, true)]);
        assert_eq!((s.pending(), s.typed_len()), (0, 0));
    }

    #[test]
    fn a_cancelled_getdata_keeps_its_stall_deadline() {
        let want = [iv(InvType::BLOCK, 1)];
        let t0 = Instant::now();
        let mut s = RequestTable::new(T, t0);
        s.add(RequestId(1), Awaited::Data(want.to_vec()), t0 + LATER)
            .unwrap();
        s.on_send(&Request::Data(want.to_vec()), t0).unwrap();
        s.cancel(RequestId(1));
        assert_eq!(s.typed_len(), 0);
        // The reference owes the answer still: the stall rule holds.
        assert_eq!(s.poll(past_deadline(t0)), Err(StallError::Data(want[0])));
        // A cancelled request that was never written leaves nothing.
        let mut s = RequestTable::new(T, t0);
        s.add(RequestId(1), Awaited::Data(want.to_vec()), t0 + LATER)
            .unwrap();
        s.cancel(RequestId(1));
        assert!(s.pending_data.is_empty());
        assert_eq!(s.next_check(), None);
    }

    #[test]
    fn filters_answer_by_block_and_batches_by_their_start() {
        let t0 = Instant::now();
        let mut s = RequestTable::new(T, t0);
        let (a, b) = (Hash([1; 32]), Hash([2; 32]));
        s.add(RequestId(1), Awaited::CFilter(a), t0 + LATER)
            .unwrap();
        s.add(RequestId(2), Awaited::CFilters(a), t0 + LATER)
            .unwrap();
        let filter = |h: Hash| dcr_wire::CFilterV2 {
            block_hash: h,
            ..Default::default()
        };
        s.on_receive(&Message::CFilterV2(filter(b)), t0);
        let batch = |hs: &[Hash]| {
            Message::CFiltersV2(dcr_wire::CFiltersV2 {
                cfilters: hs.iter().map(|h| filter(*h)).collect(),
            })
        };
        // A batch naming the block second is not the one that starts
        // there; an empty batch answers nothing.
        s.on_receive(&batch(&[b, a]), t0);
        s.on_receive(&batch(&[]), t0);
        assert_eq!(resolved(&mut s), []);
        s.on_receive(&batch(&[a, b]), t0);
        s.on_receive(&Message::CFilterV2(filter(a)), t0);
        assert_eq!(
            resolved(&mut s),
            [answered(2, 0, true), answered(1, 0, true)]
        );
        assert!(s.typed.as_ref().is_some_and(|t| t.by_block.is_empty()));
    }

    #[test]
    fn getblocks_is_answered_by_an_inv_of_blocks_only() {
        let t0 = Instant::now();
        let mut s = RequestTable::new(T, t0);
        s.add(RequestId(1), Awaited::Blocks, t0 + LATER).unwrap();
        let inv = |list: Vec<InvVect>| Message::Inv(dcr_wire::Inv { inv_list: list });
        s.on_receive(&inv(vec![iv(InvType::TX, 1)]), t0);
        s.on_receive(&inv(vec![iv(InvType::BLOCK, 1), iv(InvType::TX, 2)]), t0);
        s.on_receive(&inv(vec![]), t0);
        assert_eq!(resolved(&mut s), []);
        s.on_receive(&inv(vec![iv(InvType::BLOCK, 1), iv(InvType::BLOCK, 2)]), t0);
        assert_eq!(resolved(&mut s), [answered(1, 0, true)]);
    }

    #[test]
    fn initstate_answers_both_the_stall_rule_and_the_typed_request() {
        let t0 = Instant::now();
        let mut s = tracker_with(&Message::GetInitState(GetInitState::default()), t0);
        s.add(RequestId(4), Awaited::InitState, t0 + LATER).unwrap();
        s.on_receive(&Message::InitState(InitState::default()), t0);
        assert_eq!(resolved(&mut s), [answered(4, 0, true)]);
        assert_eq!(s.pending(), 0);
    }

    #[test]
    fn a_pong_answers_its_ping_with_the_time_since_it_was_written() {
        let t0 = Instant::now();
        let mut s = RequestTable::new(T, t0);
        s.add(RequestId(1), Awaited::Pong(77), t0 + LATER).unwrap();
        s.written(RequestId(1), t0 + Duration::from_millis(5));
        s.on_receive(&Message::Ping(Ping { nonce: 77 }), t0);
        s.on_receive(&Message::Pong(dcr_wire::Pong { nonce: 78 }), t0);
        assert_eq!(resolved(&mut s), []);
        let at = t0 + Duration::from_millis(45);
        s.on_receive(&Message::Pong(dcr_wire::Pong { nonce: 77 }), at);
        assert_eq!(
            resolved(&mut s),
            [Resolution::Answered {
                id: RequestId(1),
                index: 0,
                done: true,
                rtt: Some(Duration::from_millis(40)),
            }]
        );
    }

    #[test]
    fn a_typed_request_times_out_at_its_deadline_and_the_peer_stays() {
        let t0 = Instant::now();
        let mut s = RequestTable::new(T, t0);
        let soon = t0 + Duration::from_millis(250);
        s.add(RequestId(1), Awaited::CFilter(Hash([1; 32])), soon)
            .unwrap();
        s.add(RequestId(2), Awaited::Blocks, t0 + LATER).unwrap();
        // No stall deadline: the next check is the typed deadline.
        assert_eq!(s.pending(), 0);
        assert_eq!(s.next_check(), Some(soon));
        assert_eq!(s.poll(soon - Duration::from_millis(1)), Ok(()));
        assert_eq!(resolved(&mut s), []);
        assert_eq!(s.poll(soon), Ok(()));
        assert_eq!(resolved(&mut s), [Resolution::TimedOut(RequestId(1))]);
        assert_eq!(s.next_check(), Some(t0 + LATER));
        // A late answer is no answer.
        s.on_receive(
            &Message::CFilterV2(dcr_wire::CFilterV2 {
                block_hash: Hash([1; 32]),
                ..Default::default()
            }),
            soon,
        );
        assert_eq!(resolved(&mut s), []);
        assert_eq!(s.typed_len(), 1);
    }

    #[test]
    fn ids_are_unique_and_an_empty_getdata_is_done_at_once() {
        let t0 = Instant::now();
        let mut s = RequestTable::new(T, t0);
        s.add(RequestId(1), Awaited::Blocks, t0 + LATER).unwrap();
        assert_eq!(
            s.add(RequestId(1), Awaited::InitState, t0 + LATER),
            Err(TableError::DuplicateId(RequestId(1)))
        );
        s.add(RequestId(2), Awaited::Data(vec![]), t0 + LATER)
            .unwrap();
        assert_eq!(resolved(&mut s), [answered(2, 0, true)]);
        assert_eq!(s.typed_len(), 1);
    }

    #[test]
    fn the_typed_side_is_made_at_the_first_typed_request_only() {
        let t0 = Instant::now();
        let mut s = RequestTable::new(T, t0);
        // The stall rules alone, every answer a typed request could
        // wait for, a poll and a cancel: nothing typed is made.
        let list = [iv(InvType::BLOCK, 1)];
        s.on_send(&Request::of(&getdata(&list)).unwrap(), t0)
            .unwrap();
        for msg in [
            Message::Pong(dcr_wire::Pong { nonce: 7 }),
            headers_msg(vec![]),
            Message::InitState(InitState::default()),
            Message::CFilterV2(dcr_wire::CFilterV2::default()),
            Message::NotFound(NotFound {
                inv_list: list.to_vec(),
            }),
        ] {
            s.on_receive(&msg, t0);
        }
        assert_eq!(s.poll(t0 + LATER), Ok(()));
        s.cancel(RequestId(1));
        s.written(RequestId(1), t0);
        assert!(!s.has_typed());
        assert_eq!(s.typed_len(), 0);
        assert_eq!(s.next_check(), None);
        // The first typed request makes it, and it answers as before.
        s.add(RequestId(2), Awaited::Pong(7), t0 + LATER).unwrap();
        assert!(s.has_typed());
        s.on_receive(&Message::Pong(dcr_wire::Pong { nonce: 7 }), t0);
        assert_eq!(resolved(&mut s), [answered(2, 0, true)]);
    }
}
