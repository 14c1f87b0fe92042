//! Stall detection: the request → answer table, the deadlines it sets and
//! the messages that clear them.
//!
//! The table is the reference's stall handler (`maybeAddDeadline`,
//! `maybeRemoveDeadline` and `checkDeadlines` in dcrd's `peer/peer.go`),
//! read at the corpus commit:
//!
//! | we send | deadline for | cleared by |
//! | --- | --- | --- |
//! | `getdata` | each vector | `block` (its hash as `MSG_BLOCK`), `tx` (its prefix hash as `MSG_TX`), any of the eight mixing messages (its hash as `MSG_MIX`), a `notfound` entry naming the vector |
//! | `getinitstate` | the `initstate` | `initstate` |
//!
//! Nothing else gets a deadline, because nothing else has a certain
//! answer: dcrd's server stays silent for `getheaders` or `getblocks` it
//! has no headers for, for `mempool` and `getminings` when empty, and for
//! filter requests of blocks it lacks (the reference removed its
//! `getheaders` deadline for exactly this reason). Pings are not tracked
//! either: during a sync their pongs wait behind the backlog. A partial
//! answer clears what it answers and leaves the rest pending; a vector of a
//! type no message answers (`MSG_FILTERED_BLOCK`, unknown types) is
//! cleared only by `notfound`, as in the reference.
//!
//! Deadlines are checked only on a tick ([`STALL_TICK`]) and are pushed
//! back by the time our own message handlers took since the last tick (the
//! caller reports it), so a slow callback of ours is never blamed on the
//! peer; the offset starts over at every tick.

use std::collections::HashMap;
use std::fmt;
use std::time::{Duration, Instant};

use dcr_wire::msg::mix_hash;
use dcr_wire::msg::MAX_INV_PER_MSG;
use dcr_wire::{Command, InvType, InvVect, Message};

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

/// A sent message that starts deadlines: the table's left column.
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

/// Outstanding requests and their deadlines.
#[derive(Debug, Clone)]
pub struct StallTracker {
    timeout: Duration,
    tick: Duration,
    next_tick: Instant,
    /// Time our handlers took since the last tick.
    offset: Duration,
    pending_data: HashMap<InvVect, Instant>,
    pending_cmds: HashMap<Command, Instant>,
}

impl StallTracker {
    /// A tracker whose ticks start at `now`.
    pub fn new(timeout: Duration, now: Instant) -> Self {
        let tick = STALL_TICK.min(timeout / 2).max(Duration::from_millis(10));
        StallTracker {
            timeout,
            tick,
            next_tick: now + tick,
            offset: Duration::ZERO,
            pending_data: HashMap::new(),
            pending_cmds: HashMap::new(),
        }
    }

    /// We wrote `req` at `now`: start its deadlines.
    pub fn on_send(&mut self, req: &Request, now: Instant) -> Result<(), StallError> {
        let deadline = now + self.timeout;
        match req {
            Request::Data(list) => {
                if self.pending_data.len() + list.len() > MAX_PENDING_DATA {
                    return Err(StallError::TooManyPending);
                }
                for iv in list {
                    self.pending_data.insert(*iv, deadline);
                }
            }
            Request::Command(answer) => {
                self.pending_cmds.insert(*answer, deadline);
            }
        }
        Ok(())
    }

    /// We received `msg`: clear what it answers (the table's right
    /// column). Hashes are computed only while data requests are pending.
    pub fn on_receive(&mut self, msg: &Message<'_>) {
        if !self.pending_data.is_empty() {
            let answered = match msg {
                Message::Block(b) => Some(InvVect {
                    inv_type: InvType::BLOCK,
                    hash: b.block_hash(),
                }),
                Message::Tx(t) => Some(InvVect {
                    inv_type: InvType::TX,
                    hash: t.tx_hash(),
                }),
                Message::NotFound(n) => {
                    for iv in &n.inv_list {
                        self.pending_data.remove(iv);
                    }
                    None
                }
                // The eight mixing messages answer by their own hash.
                other => mix_hash(other).map(|hash| InvVect {
                    inv_type: InvType::MIX,
                    hash,
                }),
            };
            if let Some(iv) = answered {
                self.pending_data.remove(&iv);
            }
        }
        if let Message::InitState(_) = msg {
            self.pending_cmds.remove(&Command::InitState);
        }
    }

    /// Our handlers took `spent`: deadlines checked at the next tick move
    /// back by that much.
    pub fn on_handler_time(&mut self, spent: Duration) {
        self.offset += spent;
    }

    /// When the tracker next needs the clock: the next tick while anything
    /// is pending, else never.
    pub fn next_check(&self) -> Option<Instant> {
        (self.pending() > 0).then_some(self.next_tick)
    }

    /// At `now`: when a tick is due, checks every deadline (pushed back by
    /// the handler time since the last tick) and starts the offset over.
    pub fn poll(&mut self, now: Instant) -> Result<(), StallError> {
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
        if let Some((iv, _)) = self.pending_data.iter().find(|(_, d)| late(d)) {
            return Err(StallError::Data(*iv));
        }
        Ok(())
    }

    /// Number of outstanding requests.
    pub fn pending(&self) -> usize {
        self.pending_data.len() + self.pending_cmds.len()
    }
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

    fn tracker_with(msg: &Message<'_>, t0: Instant) -> StallTracker {
        let mut s = StallTracker::new(T, t0);
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
        s.on_receive(&Message::InitState(InitState::default()));
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
        s.on_receive(&Message::Block(block));
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
        s.on_receive(&Message::Tx(tx));
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
        s.on_receive(&msg);
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
        s.on_receive(&Message::NotFound(NotFound {
            inv_list: vec![b, c],
        }));
        assert_eq!(s.pending(), 1);
        assert_eq!(s.poll(past_deadline(t0)), Err(StallError::Data(a)));
    }

    #[test]
    fn other_messages_clear_nothing() {
        let t0 = Instant::now();
        let mut s = tracker_with(&getdata(&[iv(InvType::BLOCK, 1)]), t0);
        s.on_receive(&Message::Headers(Default::default()));
        s.on_receive(&Message::InitState(InitState::default()));
        s.on_receive(&Message::GetInitState(GetInitState {
            types: vec![Cow::Borrowed("x")],
        }));
        assert_eq!(s.pending(), 1);
    }

    #[test]
    fn too_many_pending_requests() {
        let t0 = Instant::now();
        let mut s = StallTracker::new(T, t0);
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
}
