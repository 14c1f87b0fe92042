//! The connection's one task: it owns the socket and the
//! [`Session`], and moves bytes, commands and time through it.
//!
//! One poll loop serves every source in turn: commands from the handle,
//! due timers, frames read, and frames written (several at once, as
//! vectored writes). Reading goes on while a write is pending, so two peers
//! that both send large messages and neither reads cannot deadlock; a
//! received ping is answered from the same task, without a wake-up of
//! another. Reading pauses only while a full event channel has not taken
//! the last message (up to [`crate::Config::event_timeout`]).

use std::collections::HashMap;
use std::future::{poll_fn, Future};
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime};

use dcr_wire::{Command, Message, COMMAND_SIZE, MESSAGE_HEADER_SIZE};
use rand::rngs::StdRng;
use rand::RngExt;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio::time::Sleep;
use tokio_util::sync::{PollSender, WaitForCancellationFutureOwned};
use tracing::{debug, warn};

use super::conn::{self, Conn};
use super::handle::{Cmd, Inbox, Known, Peer, RequestCmd};
use super::queue::{Outgoing, WrittenTx};
use crate::codec::RawFrame;
use crate::error::{DisconnectReason, PeerError};
use crate::fsm::session::{Frame, Host, LocalFailure, ProtocolViolation, Session, Update};
use crate::fsm::stall::{RequestId, Resolution};
use crate::hooks::Hooks;
use crate::listeners::{dispatch, PeerEvent};
use crate::request::{data_item, DataItem, Kind, RequestError, Response};
use crate::sync::{lock, now};

/// Frames handed to one vectored write at most.
const WRITE_BATCH: usize = 64;
/// Rounds of the loop before the task yields to others.
const ROUNDS: usize = 32;
/// A listener call longer than this is logged.
const SLOW_LISTENER: Duration = Duration::from_secs(1);

/// What the connection's session borrows: the peer's shared output bound
/// and known-inventory filter, its negotiated version, and a random
/// number generator of the task's own.
#[derive(Debug)]
pub(crate) struct SessionHost {
    pub peer: Peer,
    pub rng: StdRng,
    /// The pong answering the ping read last, made from the ping's own
    /// frame (see [`pong_of_ping`]): its encoding then hashes nothing.
    pub pong: Option<(u64, [u8; PONG_FRAME])>,
}

/// Bytes of a ping's or a pong's frame: the header and the 8-byte nonce.
const PONG_FRAME: usize = MESSAGE_HEADER_SIZE + 8;

/// The frame of the pong answering the ping whose frame arrived as
/// `header` (its 24 bytes as read) and `payload`, and the nonce: the
/// ping's frame with its command made `pong`. A pong's payload is the
/// ping's nonce, byte for byte, so its length and its checksum are the
/// ping's, already checked on arrival; the answer costs no second hash.
/// `None` for a payload that is not a bare nonce.
fn pong_of_ping(
    header: &[u8; MESSAGE_HEADER_SIZE],
    payload: &[u8],
) -> Option<(u64, [u8; PONG_FRAME])> {
    let nonce: [u8; 8] = payload.try_into().ok()?;
    let mut frame = [0u8; PONG_FRAME];
    frame[..MESSAGE_HEADER_SIZE].copy_from_slice(header);
    let name = Command::Pong.as_str().as_bytes();
    frame[4..4 + COMMAND_SIZE].fill(0);
    frame[4..4 + name.len()].copy_from_slice(name);
    frame[MESSAGE_HEADER_SIZE..].copy_from_slice(&nonce);
    Some((u64::from_le_bytes(nonce), frame))
}

impl Host for SessionHost {
    type Receipt = WrittenTx;
    type Hasher = foldhash::fast::RandomState;

    fn encode(&self, msg: &Message<'_>) -> Result<Frame, dcr_wire::Error> {
        if let (Message::Pong(p), Some((nonce, frame))) = (msg, &self.pong) {
            if p.nonce == *nonce {
                return Ok(Frame {
                    command: Command::Pong,
                    bytes: frame.to_vec(),
                    request: None,
                    answer_to: None,
                });
            }
        }
        Frame::encode_with(
            msg,
            self.peer.inner.config.net,
            self.peer.protocol_version(),
            crate::send_buffers::take,
        )
    }

    fn reserve(&self, bytes: usize) -> Result<(), LocalFailure> {
        self.peer.inner.budget.reserve(bytes)
    }

    fn release(&self, bytes: usize) {
        self.peer.inner.budget.release(bytes);
    }

    fn known<T>(&self, f: impl FnOnce(&mut Known) -> T) -> T {
        f(&mut lock(&self.peer.inner.known))
    }

    fn random(&mut self) -> u64 {
        self.rng.random()
    }
}

/// The connection's task: runs the connection until it ends, then reports
/// the end to whoever waits on queued frames and closes the socket.
///
/// The driver is built here, before the future, so the future holds it
/// once: an `async fn` keeps its arguments beside the locals they move
/// into, and every peer's task would carry its session and connection
/// twice.
pub(super) fn run<S>(
    peer: Peer,
    hooks: Hooks,
    conn: Conn<S>,
    session: Session<SessionHost>,
    inbox: Inbox,
    delayed: Vec<RawFrame>,
) -> impl Future<Output = ()>
where
    S: AsyncRead + AsyncWrite,
{
    let events = hooks.events.clone();
    let mut d = Driver {
        hooks,
        cancelled: Box::pin(peer.inner.cancel.clone().cancelled_owned()),
        sleep: Box::pin(tokio::time::sleep_until(session.next_wakeup().into())),
        peer,
        conn,
        session,
        cmds: inbox.cmds,
        replies: HashMap::new(),
        events_poll: events.clone().map(PollSender::new),
        events,
        held_event: None,
        unflushed: false,
        published_ping: None,
        done: Vec::new(),
        waker: None,
        sleep_armed: false,
        cmds_armed: false,
    };
    async move {
        let reason = match d.deliver_delayed(delayed) {
            Ok(()) => poll_fn(|cx| d.poll_run(cx)).await,
            Err(reason) => reason,
        };
        d.peer.disconnect_with(reason);
        d.close().await;
    }
}

struct Driver<S> {
    peer: Peer,
    hooks: Hooks,
    conn: Conn<S>,
    session: Session<SessionHost>,
    cmds: mpsc::Receiver<Cmd>,
    /// Where each outstanding typed request's answer goes.
    replies: HashMap<RequestId, Reply>,
    cancelled: Pin<Box<WaitForCancellationFutureOwned>>,
    sleep: Pin<Box<Sleep>>,
    events: Option<mpsc::Sender<PeerEvent>>,
    events_poll: Option<PollSender<PeerEvent>>,
    /// A message the full event channel has not taken yet, and when the
    /// consumer counts as too slow.
    held_event: Option<(PeerEvent, tokio::time::Instant)>,
    /// Bytes written since the last flush.
    unflushed: bool,
    /// The ping nonce last published in the stats.
    published_ping: Option<u64>,
    /// The frames a write completed, kept empty between writes so that
    /// its allocation is reused.
    done: Vec<Outgoing>,
    /// The waker the cancel's future was last polled with.
    waker: Option<std::task::Waker>,
    /// The timer was polled with `waker` since its last reset and did not
    /// fire: it will wake the task at its deadline.
    sleep_armed: bool,
    /// The command channel's last poll was pending, made with budget and
    /// `waker`: the channel holds the waker until a command comes.
    cmds_armed: bool,
}

impl<S: AsyncRead + AsyncWrite> Driver<S> {
    fn poll_run(&mut self, cx: &mut Context<'_>) -> Poll<DisconnectReason> {
        // Once a poll: its waker stays registered, and a busy poll is
        // bounded by the rounds. Polled again only for another waker: the
        // one it holds wakes this task at the cancel, and the flag says
        // so (a poll takes two locks and registers the waker anew; the
        // flag, one lock).
        if self.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            if self.peer.inner.cancel.is_cancelled() {
                return Poll::Ready(DisconnectReason::Requested);
            }
        } else {
            if self.cancelled.as_mut().poll(cx).is_ready() {
                return Poll::Ready(DisconnectReason::Requested);
            }
            // The timer and the channel too hold an older waker, if any.
            self.sleep_armed = false;
            self.cmds_armed = false;
            self.waker = Some(cx.waker().clone());
        }
        for _ in 0..ROUNDS {
            match self.round(cx) {
                Ok(true) => continue,
                Ok(false) => return Poll::Pending,
                Err(reason) => return Poll::Ready(reason),
            }
        }
        // Busy: let the runtime's other tasks in, then carry on.
        cx.waker().wake_by_ref();
        Poll::Pending
    }

    /// One pass over every source; true when another pass is needed: a
    /// source that made progress and may have more without registering
    /// the task's waker (the timer fired, or reading paused on a held
    /// event). Every other source ends its pass pending, so its waker is
    /// registered: the commands, the cancels and the socket were read until
    /// pending, and the writes went on until the session ran dry or the
    /// socket pushed back.
    ///
    /// The clock is read once a pass (and once after each listener call, to
    /// time it): every rule's time in the pass is that reading, which is
    /// at most the pass's own work behind the true time.
    fn round(&mut self, cx: &mut Context<'_>) -> Result<bool, DisconnectReason> {
        let mut now = now();
        self.take_commands(cx, now)?;
        self.session.poll(now)?;
        self.resolve_timeouts();
        let mut again = self.deliver_held_event(cx)?;
        if self.held_event.is_none() {
            self.read(cx, &mut now)?;
        }
        self.write(cx, now)?;
        let mut wake = self.session.next_wakeup().into();
        if let Some((_, deadline)) = &self.held_event {
            wake = std::cmp::min(wake, *deadline);
            // Reading paused on the event: the channel's room must be
            // polled (and its waker registered) before this poll ends.
            again = true;
        }
        if self.sleep.deadline() != wake {
            self.sleep.as_mut().reset(wake);
            self.sleep_armed = false;
        }
        // A timer this task's waker waits on, unchanged since, cannot have
        // fired before its deadline: it is polled again only from then. A
        // poll the task's budget refuses registers no waker (the runtime
        // polls the task again), so only a poll with budget arms it.
        if !self.sleep_armed || now >= wake.into_std() {
            let budget = tokio::task::coop::has_budget_remaining();
            let fired = self.sleep.as_mut().poll(cx).is_ready();
            self.sleep_armed = budget && !fired;
            again |= fired;
        }
        Ok(again)
    }

    // ---- commands ---------------------------------------------------------------

    /// Takes what the handle asked for (bounded by the channel, and frames
    /// by the output budget).
    fn take_commands(
        &mut self,
        cx: &mut Context<'_>,
        now: Instant,
    ) -> Result<(), DisconnectReason> {
        // A channel that ended its last poll pending holds this task's
        // waker until a command comes: while it is empty, polling it again
        // would only register the same waker anew.
        if self.cmds_armed && self.cmds.is_empty() {
            self.cancels(cx);
            return Ok(());
        }
        loop {
            // A poll the task's budget refuses registers no waker (the
            // runtime polls the task again): only a pending poll made with
            // budget left arms the channel.
            let budget = tokio::task::coop::has_budget_remaining();
            let cmd = match self.cmds.poll_recv(cx) {
                Poll::Ready(Some(cmd)) => cmd,
                Poll::Ready(None) => break,
                Poll::Pending => {
                    self.cmds_armed = budget;
                    break;
                }
            };
            self.cmds_armed = false;
            match cmd {
                Cmd::Frame(out) => self.session.queue(out),
                Cmd::Inventory(iv) => {
                    if !self.session.queue_inventory(iv, now) {
                        debug!("trickle queue full, announcement dropped");
                    }
                }
                Cmd::Locator(request) => {
                    let (kind, key, out) = *request;
                    if !self.session.locator_request(kind, key, out) {
                        debug!(?kind, "duplicate locator request suppressed");
                    }
                }
                Cmd::Ping(nonce) => self.session.ping(nonce)?,
                Cmd::Request(cmd) => self.request(*cmd),
            }
        }
        self.cancels(cx);
        Ok(())
    }

    /// The typed requests whose callers gave up since the last pass. After
    /// the commands, so a request sent and dropped at once is known before
    /// its cancel. The waker first, so a cancel pushed after the list was
    /// read wakes the task again.
    fn cancels(&mut self, cx: &mut Context<'_>) {
        let shared = &self.peer.inner;
        shared.cancels_waker.register(cx.waker());
        // The flag is set after each push: seen clear, any id pushed since
        // sets it and wakes the task again.
        if shared.cancels_pending.load(Ordering::Relaxed)
            && shared.cancels_pending.swap(false, Ordering::Acquire)
        {
            for id in lock(&shared.cancels).drain(..) {
                self.session.cancel(id);
                self.replies.remove(&id);
            }
        }
    }

    // ---- typed requests -------------------------------------------------------

    /// A typed request: into the session's table and queue; its reply
    /// kept for the answer.
    fn request(&mut self, cmd: RequestCmd) {
        let RequestCmd {
            id,
            awaited,
            deadline,
            out,
            kind,
            reply,
        } = cmd;
        let len = out.frame.bytes.len();
        if reply.is_closed() {
            // Its caller left before the task saw it (its cancel may have
            // been drained already): nobody waits, so nothing is sent and
            // no table holds it.
            self.peer.inner.budget.release(len);
            return;
        }
        if self.session.request(id, awaited, deadline, out).is_err() {
            // Ids come from one counter: a duplicate is impossible, and
            // would be refused rather than mixed up.
            self.peer.inner.budget.release(len);
            let _ = reply.send(Err(RequestError::Timeout));
            return;
        }
        let items = match &kind {
            Kind::Data(asked) => vec![None; asked.len()],
            _ => Vec::new(),
        };
        self.replies.insert(id, Reply { kind, items, reply });
    }

    /// Typed requests whose deadline passed at the last poll.
    fn resolve_timeouts(&mut self) {
        for r in self.session.take_resolved() {
            if let Resolution::TimedOut(id) = r {
                if let Some(reply) = self.replies.remove(&id) {
                    let _ = reply.reply.send(Err(RequestError::Timeout));
                }
            }
        }
    }

    /// Hands `msg` to the typed requests it answers: the message moves to
    /// its last user and is cloned for the others (`uses` counts them,
    /// the event channel included).
    fn answer(
        &mut self,
        answered: Vec<Resolution>,
        msg: &mut Option<Message<'static>>,
        uses: &mut usize,
    ) {
        for r in answered {
            let Resolution::Answered {
                id,
                index,
                done,
                rtt,
            } = r
            else {
                continue;
            };
            *uses -= 1;
            let Some(reply) = self.replies.get_mut(&id) else {
                continue;
            };
            let take = |msg: &mut Option<Message<'static>>, last: bool| {
                if last {
                    msg.take()
                } else {
                    msg.clone()
                }
            };
            match &reply.kind {
                Kind::Data(asked) => {
                    let Some(&iv) = asked.get(index) else {
                        continue;
                    };
                    let item = match msg.as_ref() {
                        // A `notfound` answers many vectors: no copy of it.
                        Some(Message::NotFound(_)) => Some(DataItem::NotFound(iv)),
                        _ => take(msg, *uses == 0).map(|m| data_item(iv, m)),
                    };
                    if let Some(slot) = reply.items.get_mut(index) {
                        *slot = item;
                    }
                    if done {
                        if let Some(reply) = self.replies.remove(&id) {
                            let items = reply.items.into_iter().flatten().collect();
                            let _ = reply.reply.send(Ok(Response::Data(items)));
                        }
                    }
                }
                kind => {
                    let response = take(msg, *uses == 0).and_then(|m| kind.response(m, rtt));
                    if let (true, Some(reply)) = (done, self.replies.remove(&id)) {
                        let _ = reply.reply.send(response.ok_or(RequestError::Timeout));
                    }
                }
            }
        }
    }

    /// The ping written last, if its nonce is not yet in the stats: its
    /// nonce and the wall time (a ping is timed from its write).
    fn publish_ping(&mut self) {
        let outstanding = self.session.ping_state().outstanding().map(|(n, _)| n);
        if outstanding.is_some() && outstanding != self.published_ping {
            self.published_ping = outstanding;
            let mut p = lock(&self.peer.inner.ping);
            p.last_ping_nonce = outstanding;
            p.last_ping_time = Some(SystemTime::now());
        }
    }

    // ---- reading ----------------------------------------------------------------

    /// Reads and handles frames until the socket is pending (or an event
    /// is held); `now` moves on with each listener call.
    fn read(&mut self, cx: &mut Context<'_>, now: &mut Instant) -> Result<(), DisconnectReason> {
        while self.held_event.is_none() {
            match self.conn.poll_frame(cx) {
                Poll::Pending => break,
                Poll::Ready(Err(e)) => {
                    conn::read_failed(&self.peer, &*self.hooks.listeners, &e);
                    return Err(DisconnectReason::from_codec(e, self.conn.pending_command()));
                }
                Poll::Ready(Ok(frame)) => {
                    if frame.header.command == Command::Ping {
                        let header = self.conn.header_bytes();
                        self.session.host_mut().pong = pong_of_ping(header, &frame.payload);
                    }
                    let pver = self.peer.protocol_version();
                    let msg = conn::read(&self.peer, &*self.hooks.listeners, &frame, pver, *now)
                        .map_err(|error| undecodable(&frame, error))?;
                    *now = self.receive(&frame, msg, *now)?;
                }
            }
        }
        Ok(())
    }

    /// The frames that arrived before the handshake completed: read and
    /// shown to the listeners then, handled now.
    fn deliver_delayed(&mut self, delayed: Vec<RawFrame>) -> Result<(), DisconnectReason> {
        let pver = self.peer.protocol_version();
        let mut now = now();
        for frame in &delayed {
            let msg = frame
                .message(pver)
                .map_err(|error| undecodable(frame, error))?;
            now = self.receive(frame, msg, now)?;
        }
        Ok(())
    }

    /// One received message at `now`: the session's rules, the listeners,
    /// the event. Returns the time after the listeners, which timed them
    /// (from `now`: the message's decoding counts with them, microseconds
    /// beside the stall deadline they extend).
    fn receive(
        &mut self,
        frame: &RawFrame,
        msg: Message<'_>,
        now: Instant,
    ) -> Result<Instant, DisconnectReason> {
        let peer = &self.peer;
        let listeners = &*self.hooks.listeners;
        debug!(command = %frame.command(), bytes = frame.wire_len(), "received");
        let update = self.session.on_receive(&msg, now)?;
        let answered: Vec<Resolution> = self.session.take_resolved().collect();
        match update {
            Some(Update::Rtt(rtt)) => {
                // Answered: no ping waits any more (dcrd's `handlePongMsg`
                // zeroes `lastPingNonce`).
                let mut p = lock(&peer.inner.ping);
                p.ping_rtt = Some(rtt);
                p.last_ping_nonce = None;
            }
            Some(Update::WantsHeaders) => {
                peer.inner
                    .traffic
                    .wants_headers
                    .store(true, Ordering::Relaxed);
            }
            None => {}
        }
        dispatch(listeners, peer, &msg);
        let after = crate::sync::now();
        let spent = after.saturating_duration_since(now);
        if spent > SLOW_LISTENER {
            warn!(peer = %peer.addr(), command = %frame.command(), ?spent, "slow listener holds up the peer");
        }
        self.session.on_handler_time(spent);
        self.publish_pending();
        if answered.is_empty() {
            // No typed request takes it: the event channel alone, if any,
            // gets the message, made owned straight into its event.
            if self.events.is_some() {
                let event = PeerEvent {
                    peer: self.peer.clone(),
                    message: msg.into_owned(),
                    answered: false,
                };
                self.send_event(event);
            }
            return Ok(after);
        }
        let is_answer = answered
            .iter()
            .any(|r| matches!(r, Resolution::Answered { .. }));
        let mut uses = answered.len() + usize::from(self.events.is_some());
        let mut owned = Some(msg.into_owned());
        self.answer(answered, &mut owned, &mut uses);
        if let (true, Some(message)) = (self.events.is_some(), owned) {
            let event = PeerEvent {
                peer: self.peer.clone(),
                message,
                answered: is_answer,
            };
            self.send_event(event);
        }
        Ok(after)
    }

    /// Hands `event` to the event channel; a full channel has it held
    /// (and reading paused) until it takes it or the consumer's time is
    /// up.
    fn send_event(&mut self, event: PeerEvent) {
        let Some(events) = &self.events else { return };
        match events.try_send(event) {
            Ok(()) | Err(mpsc::error::TrySendError::Closed(_)) => {}
            Err(mpsc::error::TrySendError::Full(event)) => {
                let deadline = tokio::time::Instant::now() + self.peer.inner.config.event_timeout;
                self.held_event = Some((event, deadline));
            }
        }
    }

    /// Offers the held event to the channel again; a consumer that leaves
    /// it full past the deadline ends the peer.
    fn deliver_held_event(&mut self, cx: &mut Context<'_>) -> Result<bool, DisconnectReason> {
        let (Some(_), Some(sender)) = (&self.held_event, &mut self.events_poll) else {
            return Ok(false);
        };
        match sender.poll_reserve(cx) {
            Poll::Ready(Ok(())) => {
                if let Some((event, _)) = self.held_event.take() {
                    // A closed channel drops it, as `try_send` does.
                    let _ = sender.send_item(event);
                }
                Ok(true)
            }
            Poll::Ready(Err(_)) => {
                self.held_event = None;
                Ok(true)
            }
            Poll::Pending => match &self.held_event {
                Some((_, deadline)) if tokio::time::Instant::now() >= *deadline => {
                    Err(DisconnectReason::SlowConsumer)
                }
                _ => Ok(false),
            },
        }
    }

    // ---- writing ----------------------------------------------------------------

    /// Writes what the session holds, several frames per write, until the
    /// socket pushes back; flushes once it runs dry.
    fn write(&mut self, cx: &mut Context<'_>, now: Instant) -> Result<(), DisconnectReason> {
        loop {
            if self.session.is_idle() {
                if self.unflushed {
                    if let Poll::Ready(r) = self.conn.io.as_mut().poll_flush(cx) {
                        r.map_err(|e| DisconnectReason::Io(e.kind()))?;
                        self.unflushed = false;
                    }
                }
                return Ok(());
            }
            // One frame (a ping, a pong, the usual case) goes by a plain
            // write, with no list of slices to fill: the kernel's vectored
            // path costs more for one slice.
            let io = self.conn.io.as_mut();
            let polled = if self.session.queued_frames() == 1 {
                let one = self.session.unwritten(1).next().unwrap_or_default();
                io.poll_write(cx, one)
            } else {
                let mut slices = [IoSlice::new(&[]); WRITE_BATCH];
                let mut count = 0;
                for (slot, frame) in slices.iter_mut().zip(self.session.unwritten(WRITE_BATCH)) {
                    *slot = IoSlice::new(frame);
                    count += 1;
                }
                io.poll_write_vectored(cx, &slices[..count])
            };
            let written = match polled {
                Poll::Pending => {
                    self.session.blocked(now);
                    return Ok(());
                }
                Poll::Ready(Ok(0)) => {
                    return Err(self.write_failed(io::ErrorKind::WriteZero.into()))
                }
                Poll::Ready(Ok(n)) => n,
                Poll::Ready(Err(e)) => return Err(self.write_failed(e)),
            };
            self.unflushed = true;
            // The list of frames completed is kept between writes: no
            // allocation per write.
            let mut done = std::mem::take(&mut self.done);
            if let Err(e) = self.session.wrote_into(written, now, &mut done) {
                // As before the list was kept: the frames completed before
                // the error are dropped with it, their receipts unsent.
                done.clear();
                self.done = done;
                return Err(e.into());
            }
            self.publish_pending();
            self.publish_ping();
            for out in done.drain(..) {
                self.written(out, now);
            }
            self.done = done;
            let inner = &self.peer.inner;
            if inner.waiters.load(Ordering::SeqCst) > 0 {
                inner.room.notify_waiters();
            }
        }
    }

    /// Writing failed: the listeners hear of it, the peer ends.
    fn write_failed(&self, e: io::Error) -> DisconnectReason {
        conn::write_failed(&self.peer, &*self.hooks.listeners, &e);
        DisconnectReason::Io(e.kind())
    }

    /// A frame reached the socket at `now`.
    fn written(&mut self, out: Outgoing, now: Instant) {
        let frame = &out.frame;
        debug!(command = %frame.command, bytes = frame.bytes.len(), "sent");
        self.conn.wrote(
            &self.peer,
            &*self.hooks.listeners,
            frame.command,
            &frame.bytes,
            now,
        );
        if let Some(done) = out.receipt {
            let _ = done.send(Ok(()));
        }
        crate::send_buffers::give(out.frame.bytes);
    }

    fn publish_pending(&self) {
        self.peer
            .inner
            .traffic
            .pending_requests
            .store(self.session.pending_requests(), Ordering::Relaxed);
    }

    // ---- the end ----------------------------------------------------------------

    /// Tells everyone waiting on an unwritten frame why it never will be,
    /// and closes the socket (a remote that stopped reading gets a second).
    async fn close(&mut self) {
        let reason = self
            .peer
            .disconnect_reason()
            .unwrap_or(DisconnectReason::Requested);
        let fail = |out: Outgoing| {
            if let Some(done) = out.receipt {
                let _ = done.send(Err(PeerError::Disconnected(reason.clone())));
            }
        };
        self.session.drain().into_iter().for_each(fail);
        let gone = || Err(RequestError::Disconnected(reason.clone()));
        for (_, reply) in self.replies.drain() {
            let _ = reply.reply.send(gone());
        }
        self.cmds.close();
        while let Ok(cmd) = self.cmds.try_recv() {
            match cmd {
                Cmd::Frame(out) => {
                    self.peer.inner.budget.release(out.frame.bytes.len());
                    fail(out);
                }
                Cmd::Request(r) => {
                    self.peer.inner.budget.release(r.out.frame.bytes.len());
                    let _ = r.reply.send(gone());
                }
                _ => {}
            }
        }
        self.peer.inner.room.notify_waiters();
        let _ = tokio::time::timeout(Duration::from_secs(1), self.conn.io.shutdown()).await;
    }
}

/// Where a typed request's answer goes, and the parts of a `getdata`
/// answered so far.
struct Reply {
    kind: Kind,
    items: Vec<Option<DataItem>>,
    reply: tokio::sync::oneshot::Sender<Result<Response, RequestError>>,
}

/// A frame whose message did not decode: the remote's violation.
fn undecodable(frame: &RawFrame, error: dcr_wire::Error) -> DisconnectReason {
    DisconnectReason::Protocol(ProtocolViolation::Undecodable {
        command: Some(frame.command()),
        error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use dcr_wire::{frame_to_vec, pver, CurrencyNet, Ping, Pong};

    /// The pong made from a ping's frame is, byte for byte, the pong the
    /// encoder makes, on every network and for any nonce; a payload that
    /// is not a bare nonce makes none.
    #[test]
    fn a_pong_made_from_its_ping_is_the_encoded_pong() {
        let nets = [
            CurrencyNet::MainNet,
            CurrencyNet::TestNet3,
            CurrencyNet::SimNet,
        ];
        for net in nets {
            for nonce in [0, 1, 0x0102_0304_0506_0708, u64::MAX] {
                let ping =
                    frame_to_vec(&Message::Ping(Ping { nonce }), net, pver::CURRENT).unwrap();
                let header: &[u8; MESSAGE_HEADER_SIZE] =
                    ping[..MESSAGE_HEADER_SIZE].try_into().unwrap();
                let (n, pong) = pong_of_ping(header, &ping[MESSAGE_HEADER_SIZE..]).unwrap();
                let want =
                    frame_to_vec(&Message::Pong(Pong { nonce }), net, pver::CURRENT).unwrap();
                assert_eq!(n, nonce);
                assert_eq!(pong.as_slice(), want.as_slice(), "{net:?} {nonce}");
            }
        }
        let ping = frame_to_vec(&Message::Ping(Ping { nonce: 9 }), CurrencyNet::SimNet, 1).unwrap();
        let header: &[u8; MESSAGE_HEADER_SIZE] = ping[..MESSAGE_HEADER_SIZE].try_into().unwrap();
        assert!(pong_of_ping(header, &[0; 7]).is_none());
        assert!(pong_of_ping(header, &[0; 9]).is_none());
    }
}
