//! One connection's protocol rules after the handshake, I/O-free.
//!
//! A [`Session`] takes what happens (a message received, a command from the
//! peer's handle, bytes written, the clock) and keeps what must follow:
//! the frames to write, in order, and the reason to disconnect. The
//! connection driver (`peer/driver.rs`) only moves bytes and time through
//! it. Every rule of the reference's in, out, queue and stall handlers
//! (dcrd's `peer/peer.go`) that concerns one connection lives here or in
//! the machines it owns:
//!
//! | rule | reference | here |
//! | --- | --- | --- |
//! | one `version`, one `verack` | `processInboundMessage` | [`Session::on_receive`] |
//! | answer a ping with its nonce | `handlePingMsg` | [`Session::on_receive`], pong ahead of other output |
//! | pongs owed and not read are bounded | (beyond the reference) | [`Session::on_receive`], [`ProtocolViolation::PongFlood`] |
//! | ping every interval, RTT of the last one | `outHandler`, `handlePongMsg` | [`PingState`] |
//! | remember `sendheaders` | `OnSendHeaders` / `WantsHeaders` | [`Session::wants_headers`] |
//! | inventory the remote announced is not marked known here: the node's sync manager does it | `OnInv` is only a listener call | the owner, e.g. `dcr-node`'s serving rules |
//! | trickle batches at a random 100–500 ms, skip known | `queueHandler` | [`Session::poll`], [`Trickle`] |
//! | request deadlines | `stallHandler` | [`RequestTable`] |
//! | typed requests matched to their answers, with the caller's deadline | (beyond the reference) | [`Session::request`], [`RequestTable`] |
//! | repeated `getheaders`/`getblocks` suppressed | `PushGetHeadersMsg`, `PushGetBlocksMsg` | [`Session::locator_request`] (the caller encodes the request, so one that cannot be encoded is refused to whoever asked) |
//! | idle timeout | `readMessage`'s read deadline | [`Session::poll`] |
//! | write deadline: 20 s + 1 s per 256 KiB | `writeMessage` | [`Session::wrote`], [`Session::poll`] |
//! | queued output bound (40 MiB) | `queueOutMsg` | [`Host::reserve`] |
//!
//! What the session shares with its connection's handle (the bound on
//! queued output, the known-inventory filter) and what it cannot decide
//! alone (the frame encoding at the negotiated version, random numbers)
//! it borrows from its [`Host`] for the moment a rule needs them. The
//! session itself holds no lock, atomic or channel.
//!
//! The session ends a connection for the remote's faults
//! ([`ProtocolViolation`], [`StallError`], silence, not reading) and for
//! our own ([`LocalFailure`]), which are never counted against the
//! remote.

use std::collections::VecDeque;
use std::fmt;
use std::hash::BuildHasher;
use std::time::{Duration, Instant};

use dcr_wire::{
    ByteCount, Command, Counted, CurrencyNet, Hash, Inv, InvVect, Message, Ping, Pong,
    MESSAGE_HEADER_SIZE,
};

use super::inventory::{KnownInventory, Trickle};
use super::ping::PingState;
use super::stall::{Awaited, Request, RequestId, RequestTable, Resolution, StallError, TableError};

/// Bytes of a message that earn one more second of write time (the
/// reference's `writeStallBytesPerSec`: the largest message gets about two
/// more minutes).
pub const WRITE_BYTES_PER_SEC: usize = 256 * 1024;

/// A frame to write: its command, its bytes (header included), and the
/// deadlines it starts once written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The frame's command.
    pub command: Command,
    /// The whole frame, header included.
    pub bytes: Vec<u8>,
    /// The deadlines to start once it is written.
    pub request: Option<Request>,
    /// The typed request it carries, if any (pings are timed from its
    /// write).
    pub answer_to: Option<RequestId>,
}

impl Frame {
    /// `msg` framed for `net` at `pver`, in a vector of its own.
    pub fn encode(msg: &Message<'_>, net: CurrencyNet, pver: u32) -> Result<Self, dcr_wire::Error> {
        Self::encode_with(msg, net, pver, Vec::with_capacity)
    }

    /// `msg` framed for `net` at `pver`, in the empty vector `buffer`
    /// gives for the frame's size (the peer's kept buffers, so that a
    /// large frame does not fault its pages in again each time).
    pub fn encode_with(
        msg: &Message<'_>,
        net: CurrencyNet,
        pver: u32,
        buffer: impl FnOnce(usize) -> Vec<u8>,
    ) -> Result<Self, dcr_wire::Error> {
        let mut bytes = buffer(dcr_wire::MESSAGE_HEADER_SIZE + msg.serialized_size(pver));
        dcr_wire::encode_frame(msg, net, pver, &mut bytes)?;
        Ok(Frame {
            command: msg.command(),
            bytes,
            request: Request::of(msg),
            answer_to: None,
        })
    }
}

/// A frame in the session's queue, with what the caller that queued it
/// wants back once it is written or dropped (nothing for the frames the
/// session adds itself).
#[derive(Debug)]
pub struct Queued<R> {
    /// The frame.
    pub frame: Frame,
    /// The caller's receipt.
    pub receipt: Option<R>,
}

/// What a session borrows from the connection that runs it.
///
/// The bound on queued output and the known-inventory filter are shared
/// with the connection's handle, which adds to them from other tasks; the
/// host keeps them behind whatever synchronisation that needs. The frame
/// encoding uses the negotiated protocol version, which the host owns.
pub trait Host {
    /// What a caller attaches to a frame it queues (the peer's: where to
    /// say it was written).
    type Receipt;
    /// The known-inventory filter's hasher.
    type Hasher: BuildHasher + Default;

    /// `msg` as a frame for the connection's network, at its negotiated
    /// protocol version.
    fn encode(&self, msg: &Message<'_>) -> Result<Frame, dcr_wire::Error>;
    /// Counts `bytes` more of queued output; past the bound, why the peer
    /// ends (the bytes are not counted then).
    fn reserve(&self, bytes: usize) -> Result<(), LocalFailure>;
    /// `bytes` of queued output were written or dropped.
    fn release(&self, bytes: usize);
    /// Runs `f` on the connection's known-inventory filter.
    fn known<T>(&self, f: impl FnOnce(&mut KnownInventory<Self::Hasher>) -> T) -> T;
    /// A random number: ping nonces and trickle waits are drawn from it.
    fn random(&mut self) -> u64;
}

/// What the remote did wrong. The session raises all but
/// [`ProtocolViolation::Undecodable`], which the connection's reader
/// raises before a message reaches it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProtocolViolation {
    /// A second `version` after the handshake (the reference allows one).
    DuplicateVersion,
    /// A second `verack` after the handshake.
    DuplicateVerAck,
    /// A frame or message that does not decode: the frame's command when
    /// its header was readable, and the wire error with its kind.
    Undecodable {
        /// The frame's command, when its header was readable.
        command: Option<Command>,
        /// The wire error.
        error: dcr_wire::Error,
    },
    /// The remote made us owe more pongs than allowed
    /// ([`Limits::max_owed_pongs`]) without reading them.
    PongFlood {
        /// Pongs owed.
        owed: usize,
    },
}

/// A failure of ours, not the remote's: it ends the connection, but the
/// remote did nothing wrong, so it is never scored against it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LocalFailure {
    /// A message of ours did not encode (its command when known, and the
    /// wire error). The requests callers make are encoded, and refused,
    /// at the call; this is what the connection itself could not encode.
    Encode {
        /// The message's command, when known.
        command: Option<Command>,
        /// The wire error.
        error: dcr_wire::Error,
    },
    /// Output we queued passed our bound on it (the reference's 40 MiB
    /// rule): the remote reads too slowly for what we send it, or we send
    /// too much; either way memory stays bounded.
    QueuedOutput {
        /// Bytes queued.
        queued: u64,
        /// The bound, in bytes.
        max: u64,
    },
}

impl fmt::Display for LocalFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LocalFailure::Encode {
                command: Some(c),
                error,
            } => write!(f, "cannot encode our {c}: {error}"),
            LocalFailure::Encode {
                command: None,
                error,
            } => write!(f, "cannot encode our message: {error}"),
            LocalFailure::QueuedOutput { queued, max } => {
                write!(
                    f,
                    "{} of output queued, over the {} allowed",
                    ByteCount(*queued),
                    ByteCount(*max)
                )
            }
        }
    }
}

impl fmt::Display for ProtocolViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProtocolViolation::DuplicateVersion => f.write_str("duplicate version message"),
            ProtocolViolation::DuplicateVerAck => f.write_str("duplicate verack message"),
            ProtocolViolation::Undecodable {
                command: Some(c),
                error,
            } => write!(f, "undecodable {c}: {error}"),
            ProtocolViolation::Undecodable {
                command: None,
                error,
            } => write!(f, "bad frame: {error}"),
            ProtocolViolation::PongFlood { owed } => {
                write!(
                    f,
                    "{} owed and not read (ping flood)",
                    Counted(*owed as u64, "pong", "pongs")
                )
            }
        }
    }
}

/// Why the session ends the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionError {
    /// The remote broke the protocol.
    Protocol(ProtocolViolation),
    /// A request went unanswered past its deadline, or too many were left
    /// unanswered.
    Stalled(StallError),
    /// Nothing received within the idle timeout.
    Idle,
    /// One frame could not be written within its write deadline.
    WriteTimeout,
    /// We failed.
    Local(LocalFailure),
}

impl From<LocalFailure> for SessionError {
    fn from(f: LocalFailure) -> Self {
        SessionError::Local(f)
    }
}

impl From<ProtocolViolation> for SessionError {
    fn from(v: ProtocolViolation) -> Self {
        SessionError::Protocol(v)
    }
}

impl From<StallError> for SessionError {
    fn from(e: StallError) -> Self {
        SessionError::Stalled(e)
    }
}

/// The limits and timers a session applies (from the peer's
/// configuration).
#[derive(Debug, Clone)]
pub struct Limits {
    /// Silence after which the peer is dropped.
    pub idle_timeout: Duration,
    /// Time between our pings.
    pub ping_interval: Duration,
    /// Time a request may wait for its answer.
    pub stall_timeout: Duration,
    /// Upper bound of the random trickle wait; the lower is a fifth of it.
    pub trickle_interval: Duration,
    /// Base time one write may take.
    pub write_timeout: Duration,
    /// Pongs that may be owed and not yet written.
    pub max_owed_pongs: usize,
}

/// A locator request kind, for duplicate suppression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Locator {
    /// A `getheaders`.
    GetHeaders,
    /// A `getblocks`.
    GetBlocks,
}

/// Something the session learned that the peer's stats show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Update {
    /// A pong answered our ping after this long.
    Rtt(Duration),
    /// The remote asked for headers announcements.
    WantsHeaders,
}

/// One connection's protocol state after the handshake.
#[derive(Debug)]
pub struct Session<H: Host> {
    limits: Limits,
    host: H,
    ping: PingState,
    requests: RequestTable,
    trickle: Trickle,
    trickle_due: Option<Instant>,
    prev_locator: [Option<(Hash, Hash)>; 2],
    last_recv: Instant,
    wants_headers: bool,
    /// Pings and pongs, written before other frames.
    urgent: VecDeque<Queued<H::Receipt>>,
    normal: VecDeque<Queued<H::Receipt>>,
    /// Pongs in `urgent` (ours and any a caller queued).
    owed_pongs: usize,
    /// The frame being written: which queue it came from, bytes of it
    /// written, and its write deadline.
    head: Option<Head>,
}

#[derive(Debug, Clone, Copy)]
struct Head {
    urgent: bool,
    written: usize,
    deadline: Instant,
}

impl<H: Host> Session<H> {
    /// A session starting at `now` under `limits`, borrowing from `host`.
    pub fn new(limits: Limits, host: H, now: Instant) -> Self {
        Session {
            ping: PingState::new(limits.ping_interval, now),
            requests: RequestTable::new(limits.stall_timeout, now),
            limits,
            host,
            trickle: Trickle::default(),
            trickle_due: None,
            prev_locator: [None, None],
            last_recv: now,
            wants_headers: false,
            urgent: VecDeque::new(),
            normal: VecDeque::new(),
            owed_pongs: 0,
            head: None,
        }
    }

    // ---- input -------------------------------------------------------------

    /// A message arrived at `now`. Clears what it answers, answers what
    /// must be answered, and says what the stats learn; a violation ends
    /// the peer.
    pub fn on_receive(
        &mut self,
        msg: &Message<'_>,
        now: Instant,
    ) -> Result<Option<Update>, SessionError> {
        self.last_recv = now;
        self.requests.on_receive(msg, now);
        let violation = match msg {
            Message::Version(_) => ProtocolViolation::DuplicateVersion,
            Message::VerAck(_) => ProtocolViolation::DuplicateVerAck,
            Message::Ping(p) => {
                if self.owed_pongs >= self.limits.max_owed_pongs {
                    ProtocolViolation::PongFlood {
                        owed: self.owed_pongs + 1,
                    }
                } else {
                    self.push_urgent(&Message::Pong(Pong { nonce: p.nonce }))?;
                    self.owed_pongs += 1;
                    return Ok(None);
                }
            }
            Message::Pong(p) => return Ok(self.ping.on_pong(p.nonce, now).map(Update::Rtt)),
            Message::SendHeaders(_) => {
                self.wants_headers = true;
                return Ok(Some(Update::WantsHeaders));
            }
            _ => return Ok(None),
        };
        Err(SessionError::Protocol(violation))
    }

    /// Our handlers took `spent` on a received message: stall deadlines
    /// move back by as much.
    pub fn on_handler_time(&mut self, spent: Duration) {
        self.requests.on_handler_time(spent);
    }

    /// A frame a caller queued (already counted in the host's bound).
    pub fn queue(&mut self, out: Queued<H::Receipt>) {
        if matches!(out.frame.command, Command::Ping | Command::Pong) {
            self.owed_pongs += usize::from(out.frame.command == Command::Pong);
            self.urgent.push_back(out);
        } else {
            self.normal.push_back(out);
        }
    }

    /// A typed request `id` (its frame `out`, encoded by the caller and
    /// counted in the host's bound), answered by `awaited`, ending at
    /// `deadline` unless answered first. Queued like any frame (a ping
    /// ahead of the rest); what becomes of it is taken with
    /// [`Session::take_resolved`]. Refused, and nothing queued, when the
    /// id is already outstanding.
    pub fn request(
        &mut self,
        id: RequestId,
        awaited: Awaited,
        deadline: Instant,
        mut out: Queued<H::Receipt>,
    ) -> Result<(), TableError> {
        self.requests.add(id, awaited, deadline)?;
        out.frame.answer_to = Some(id);
        self.queue(out);
        Ok(())
    }

    /// The caller of typed request `id` gave up: it is forgotten (its
    /// frame, if not yet written, still goes out).
    pub fn cancel(&mut self, id: RequestId) {
        self.requests.cancel(id);
    }

    /// What became of typed requests since the last call: answered by a
    /// message received, or timed out at a poll.
    pub fn take_resolved(&mut self) -> impl Iterator<Item = Resolution> + '_ {
        self.requests.take_resolved()
    }

    /// Typed requests outstanding.
    pub fn typed_requests(&self) -> usize {
        self.requests.typed_len()
    }

    /// A ping with `nonce` the handle asked for, ahead of other output
    /// (timed from its write, as every ping is).
    pub fn ping(&mut self, nonce: u64) -> Result<(), SessionError> {
        self.push_urgent(&Message::Ping(Ping { nonce }))
    }

    /// Inventory to announce at the next trickle, unless known; says
    /// whether it was queued (a full trickle queue drops it).
    pub fn queue_inventory(&mut self, iv: InvVect, now: Instant) -> bool {
        let queued = self.host.known(|known| self.trickle.push(iv, known, now));
        if queued && self.trickle_due.is_none() {
            self.trickle_due = Some(now + self.trickle_wait());
        }
        queued
    }

    /// A random wait from a fifth of the trickle interval to all of it.
    fn trickle_wait(&mut self) -> Duration {
        let max = self.limits.trickle_interval;
        let min = max / 5;
        let span = (max - min).as_nanos() as u64;
        min + Duration::from_nanos(self.host.random() % span.saturating_add(1))
    }

    /// A `getheaders` or `getblocks` (`out`, encoded by the caller and
    /// counted in the host's bound) whose locator starts with `first` and
    /// stops at `stop`; queued unless it repeats the previous one of its
    /// kind (same first locator hash and stop), which is dropped, and its
    /// bytes released, as the reference drops it. Says whether it was
    /// queued.
    pub fn locator_request(
        &mut self,
        kind: Locator,
        (first, stop): (Hash, Hash),
        out: Queued<H::Receipt>,
    ) -> bool {
        let prev = &mut self.prev_locator[kind as usize];
        if *prev == Some((first, stop)) {
            self.host.release(out.frame.bytes.len());
            return false;
        }
        *prev = Some((first, stop));
        self.normal.push_back(out);
        true
    }
    // ---- time ------------------------------------------------------------------

    /// At `now`: pings when due, trickles when due, checks the stall,
    /// idle and write deadlines.
    pub fn poll(&mut self, now: Instant) -> Result<(), SessionError> {
        // A frame waiting to be written has its deadline running.
        self.start_head(now);
        if now >= self.last_recv + self.limits.idle_timeout {
            return Err(SessionError::Idle);
        }
        if self.head.is_some_and(|h| now >= h.deadline) {
            return Err(SessionError::WriteTimeout);
        }
        self.requests.poll(now)?;
        if now >= self.ping.next_due() {
            let nonce = self.host.random();
            if let Some(nonce) = self.ping.poll(now, nonce) {
                self.push_urgent(&Message::Ping(Ping { nonce }))?;
            }
        }
        if self.trickle_due.is_some_and(|t| now >= t) {
            self.trickle_due = None;
            let trickle = &mut self.trickle;
            let batches = self.host.known(|known| trickle.drain(known, now));
            for inv_list in batches {
                let out = self.encode(&Message::Inv(Inv { inv_list }))?;
                self.normal.push_back(out);
            }
        }
        Ok(())
    }

    /// When [`Session::poll`] must next run.
    pub fn next_wakeup(&self) -> Instant {
        let mut t = (self.last_recv + self.limits.idle_timeout).min(self.ping.next_due());
        for d in [
            self.head.map(|h| h.deadline),
            self.requests.next_check(),
            self.trickle_due,
        ]
        .into_iter()
        .flatten()
        {
            t = t.min(d);
        }
        t
    }

    // ---- output ------------------------------------------------------------------

    /// The frames to write next, in order, at most `max` of them: the head
    /// from its first unwritten byte, then pings and pongs, then the rest.
    pub fn unwritten(&self, max: usize) -> impl Iterator<Item = &[u8]> {
        let (head, written, skip_urgent, skip_normal) = match self.head {
            Some(h) if h.urgent => (self.urgent.front(), h.written, 1, 0),
            Some(h) => (self.normal.front(), h.written, 0, 1),
            None => (None, 0, 0, 0),
        };
        let rest = self.urgent.iter().skip(skip_urgent);
        let rest = rest.chain(self.normal.iter().skip(skip_normal));
        head.map(|o| &o.frame.bytes[written..])
            .into_iter()
            .chain(rest.map(|o| &o.frame.bytes[..]))
            .take(max)
    }

    /// True when nothing waits to be written.
    pub fn is_idle(&self) -> bool {
        self.urgent.is_empty() && self.normal.is_empty()
    }

    /// The socket took nothing at `now`: the frame waiting to be written
    /// has its write deadline running from then, if it had none yet.
    pub fn blocked(&mut self, now: Instant) {
        self.start_head(now);
    }

    /// Makes the next frame the head, with its write deadline from `now`:
    /// pings and pongs first, then the rest in order.
    fn start_head(&mut self, now: Instant) -> Option<Head> {
        if self.head.is_none() {
            let urgent = !self.urgent.is_empty();
            let front = if urgent {
                self.urgent.front()
            } else {
                self.normal.front()
            }?;
            let allowance = (front.frame.bytes.len() / WRITE_BYTES_PER_SEC) as u64;
            self.head = Some(Head {
                urgent,
                written: 0,
                deadline: now + self.limits.write_timeout + Duration::from_secs(allowance),
            });
        }
        self.head
    }

    /// `n` bytes of [`Session::unwritten`] were written at `now`. Returns
    /// the frames completed, in order; each has left the host's bound and
    /// started its deadlines.
    pub fn wrote(
        &mut self,
        n: usize,
        now: Instant,
    ) -> Result<Vec<Queued<H::Receipt>>, SessionError> {
        let mut done = Vec::new();
        self.wrote_into(n, now, &mut done)?;
        Ok(done)
    }

    /// [`Session::wrote`], appending the frames completed to `done`: a
    /// caller that keeps `done` between writes allocates nothing per
    /// write. On an error, `done` holds the frames completed before it.
    pub fn wrote_into(
        &mut self,
        mut n: usize,
        now: Instant,
        done: &mut Vec<Queued<H::Receipt>>,
    ) -> Result<(), SessionError> {
        while let Some(head) = self.start_head(now) {
            let queue = if head.urgent {
                &mut self.urgent
            } else {
                &mut self.normal
            };
            let left = queue.front().map_or(0, |o| o.frame.bytes.len()) - head.written;
            if n < left {
                self.head = Some(Head {
                    written: head.written + n,
                    ..head
                });
                break;
            }
            n -= left;
            self.head = None;
            let Some(out) = queue.pop_front() else { break };
            self.host.release(out.frame.bytes.len());
            match out.frame.command {
                Command::Pong => self.owed_pongs -= 1,
                // Every ping written is the one its pong times, whoever
                // queued it: the keep-alive, the handle, a typed request.
                Command::Ping => {
                    if let Some(nonce) = ping_nonce(&out.frame.bytes) {
                        self.ping.sent(nonce, now);
                    }
                }
                _ => {}
            }
            if let Some(id) = out.frame.answer_to {
                self.requests.written(id, now);
            }
            if let Some(req) = &out.frame.request {
                self.requests.on_send(req, now)?;
            }
            done.push(out);
        }
        Ok(())
    }

    /// Everything still queued, for the driver to report the disconnect
    /// to its waiters; the host's bound is released.
    pub fn drain(&mut self) -> Vec<Queued<H::Receipt>> {
        self.head = None;
        self.owed_pongs = 0;
        let all: Vec<_> = self.urgent.drain(..).chain(self.normal.drain(..)).collect();
        for o in &all {
            self.host.release(o.frame.bytes.len());
        }
        all
    }

    // ---- state ----------------------------------------------------------------------

    /// Frames waiting in the session (not counting the handle's channel).
    pub fn queued_frames(&self) -> usize {
        self.urgent.len() + self.normal.len()
    }

    /// Requests waiting for an answer.
    pub fn pending_requests(&self) -> usize {
        self.requests.pending()
    }

    /// The remote sent `sendheaders`.
    pub fn wants_headers(&self) -> bool {
        self.wants_headers
    }

    /// The ping machine (outstanding nonce, last RTT).
    pub fn ping_state(&self) -> &PingState {
        &self.ping
    }

    /// Vectors waiting for the next trickle.
    pub fn trickle_len(&self) -> usize {
        self.trickle.len()
    }

    /// The host the session borrows from.
    pub fn host(&self) -> &H {
        &self.host
    }

    /// The host, to change what it lends (the connection's task tells it
    /// what it read).
    pub fn host_mut(&mut self) -> &mut H {
        &mut self.host
    }

    /// A frame of ours, counted in the host's bound.
    fn encode(&self, msg: &Message<'_>) -> Result<Queued<H::Receipt>, SessionError> {
        let frame = self
            .host
            .encode(msg)
            .map_err(|error| LocalFailure::Encode {
                command: Some(msg.command()),
                error,
            })?;
        self.host.reserve(frame.bytes.len())?;
        Ok(Queued {
            frame,
            receipt: None,
        })
    }

    fn push_urgent(&mut self, msg: &Message<'_>) -> Result<(), SessionError> {
        let out = self.encode(msg)?;
        self.urgent.push_back(out);
        Ok(())
    }
}

/// The nonce of a ping's frame (its header, then the 8-byte nonce); `None`
/// for a frame of any other length.
fn ping_nonce(frame: &[u8]) -> Option<u64> {
    let payload: [u8; 8] = frame.get(MESSAGE_HEADER_SIZE..)?.try_into().ok()?;
    Some(u64::from_le_bytes(payload))
}

#[cfg(test)]
mod tests {
    use std::cell::{Cell, RefCell};
    use std::hash::RandomState;

    use super::*;
    use crate::fsm::inventory::tests::{iv, TTL};
    use crate::fsm::inventory::MAX_INV_TRICKLE_SIZE;
    use dcr_wire::{pver, GetData, Headers, SendHeaders, VerAck};

    const NET: CurrencyNet = CurrencyNet::SimNet;
    /// The reference's bound on queued output.
    const MAX_QUEUED: u64 = 40 << 20;

    fn limits() -> Limits {
        Limits {
            idle_timeout: Duration::from_secs(120),
            ping_interval: Duration::from_secs(107),
            stall_timeout: Duration::from_secs(30),
            trickle_interval: Duration::from_millis(500),
            write_timeout: Duration::from_secs(20),
            max_owed_pongs: 4,
        }
    }

    /// A single-threaded host: a byte bound, a filter, and random numbers
    /// from a fixed sequence.
    #[derive(Debug)]
    struct TestHost {
        bytes: Cell<u64>,
        max: u64,
        known: RefCell<KnownInventory>,
        draws: u64,
    }

    impl Host for TestHost {
        type Receipt = ();
        type Hasher = RandomState;

        fn encode(&self, msg: &Message<'_>) -> Result<Frame, dcr_wire::Error> {
            Frame::encode(msg, NET, pver::CURRENT)
        }

        fn reserve(&self, bytes: usize) -> Result<(), LocalFailure> {
            let queued = self.bytes.get() + bytes as u64;
            if queued > self.max {
                return Err(LocalFailure::QueuedOutput {
                    queued,
                    max: self.max,
                });
            }
            self.bytes.set(queued);
            Ok(())
        }

        fn release(&self, bytes: usize) {
            self.bytes.set(self.bytes.get() - bytes as u64);
        }

        fn known<T>(&self, f: impl FnOnce(&mut KnownInventory) -> T) -> T {
            f(&mut self.known.borrow_mut())
        }

        fn random(&mut self) -> u64 {
            self.draws = self
                .draws
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            self.draws >> 1
        }
    }

    struct Fixture {
        s: Session<TestHost>,
        t0: Instant,
    }

    impl Fixture {
        /// Bytes counted in the host's bound.
        fn queued_bytes(&self) -> u64 {
            self.s.host().bytes.get()
        }

        /// A frame a caller queues: counted, then handed over.
        fn queue(&mut self, frame: Frame) {
            self.s.host().reserve(frame.bytes.len()).unwrap();
            self.s.queue(Queued {
                frame,
                receipt: Some(()),
            });
        }

        fn knows(&self, iv: &InvVect, now: Instant) -> bool {
            self.s.host().known(|k| k.contains(iv, now))
        }
    }

    fn fixture(limits: Limits, max_bytes: u64) -> Fixture {
        let host = TestHost {
            bytes: Cell::new(0),
            max: max_bytes,
            known: RefCell::new(KnownInventory::new(1000, TTL)),
            draws: 7,
        };
        let t0 = Instant::now();
        Fixture {
            s: Session::new(limits, host, t0),
            t0,
        }
    }

    fn session() -> Fixture {
        fixture(limits(), MAX_QUEUED)
    }

    fn at(f: &Fixture, ms: u64) -> Instant {
        f.t0 + Duration::from_millis(ms)
    }

    /// Writes everything at `now`; the messages written, decoded.
    fn flush(s: &mut Session<TestHost>, now: Instant) -> Vec<Message<'static>> {
        let bytes: Vec<u8> = s.unwritten(usize::MAX).flatten().copied().collect();
        let done = s.wrote(bytes.len(), now).unwrap();
        assert!(s.is_idle());
        done.iter()
            .map(|o| {
                let (msg, _) = dcr_wire::decode_frame(&o.frame.bytes, NET, pver::CURRENT)
                    .expect("a frame we encoded decodes");
                msg.into_owned()
            })
            .collect()
    }

    fn frame_of(msg: &Message<'_>) -> Frame {
        Frame::encode(msg, NET, pver::CURRENT).unwrap()
    }

    #[test]
    fn a_second_version_or_verack_is_a_violation() {
        let mut f = session();
        let addr = dcr_wire::NetAddress::new(
            std::net::Ipv4Addr::LOCALHOST.into(),
            1,
            dcr_wire::ServiceFlags::NONE,
        );
        let v = Message::Version(dcr_wire::Version::new(addr, addr, 1, 0));
        assert_eq!(
            f.s.on_receive(&v, f.t0),
            Err(SessionError::Protocol(ProtocolViolation::DuplicateVersion))
        );
        assert_eq!(
            f.s.on_receive(&Message::VerAck(VerAck), f.t0),
            Err(SessionError::Protocol(ProtocolViolation::DuplicateVerAck))
        );
    }

    #[test]
    fn a_ping_is_answered_with_its_nonce_ahead_of_queued_output() {
        let mut f = session();
        f.queue(frame_of(&Message::Headers(Headers::default())));
        f.s.on_receive(&Message::Ping(Ping { nonce: 42 }), f.t0)
            .unwrap();
        let sent = flush(&mut f.s, f.t0);
        assert_eq!(sent[0], Message::Pong(Pong { nonce: 42 }));
        assert_eq!(sent[1].command(), Command::Headers);
        assert_eq!(f.queued_bytes(), 0, "written output leaves the bound");
    }

    #[test]
    fn a_frame_being_written_is_finished_before_a_pong_jumps_in() {
        let mut f = session();
        let headers = frame_of(&Message::Headers(Headers::default()));
        let len = headers.bytes.len();
        f.queue(headers);
        assert!(f.s.wrote(1, f.t0).unwrap().is_empty());
        f.s.on_receive(&Message::Ping(Ping { nonce: 1 }), f.t0)
            .unwrap();
        let order: Vec<usize> = f.s.unwritten(8).map(<[u8]>::len).collect();
        assert_eq!(order, [len - 1, 32]);
        let done = f.s.wrote(len - 1, f.t0).unwrap();
        assert_eq!(done[0].frame.command, Command::Headers);
        assert_eq!(flush(&mut f.s, f.t0), [Message::Pong(Pong { nonce: 1 })]);
    }

    #[test]
    fn pongs_owed_past_the_bound_are_a_ping_flood() {
        let mut f = session();
        for n in 0..4 {
            f.s.on_receive(&Message::Ping(Ping { nonce: n }), f.t0)
                .unwrap();
        }
        assert_eq!(
            f.s.on_receive(&Message::Ping(Ping { nonce: 9 }), f.t0),
            Err(SessionError::Protocol(ProtocolViolation::PongFlood {
                owed: 5
            }))
        );
        // Written pongs are no longer owed.
        let mut f = session();
        for n in 0..10 {
            f.s.on_receive(&Message::Ping(Ping { nonce: n }), f.t0)
                .unwrap();
            flush(&mut f.s, f.t0);
        }
    }

    #[test]
    fn keep_alive_pings_on_schedule_and_times_the_pong() {
        let mut f = session();
        f.s.poll(at(&f, 106_999)).unwrap();
        assert!(f.s.is_idle());
        assert_eq!(f.s.next_wakeup(), at(&f, 107_000));
        f.s.poll(at(&f, 107_000)).unwrap();
        let t = at(&f, 107_000);
        let sent = flush(&mut f.s, t);
        let Message::Ping(p) = sent[0] else {
            panic!("{sent:?}")
        };
        // A pong that is not ours is ignored; ours gives the RTT.
        let other = Message::Pong(Pong { nonce: p.nonce ^ 1 });
        assert_eq!(f.s.on_receive(&other, at(&f, 107_010)), Ok(None));
        assert_eq!(
            f.s.on_receive(&Message::Pong(Pong { nonce: p.nonce }), at(&f, 107_250)),
            Ok(Some(Update::Rtt(Duration::from_millis(250))))
        );
    }

    /// Every ping is timed from its write, whoever queued it: the
    /// handle's ping, a ping frame queued like any message, a typed ping
    /// (dcrd's `outHandler` sets `lastPingNonce` and `lastPingTime` for
    /// every ping it takes from its send queue). Queued is not timed; the
    /// ping written last is the one its pong times.
    #[test]
    fn every_ping_written_is_timed_whoever_queued_it() {
        let mut f = session();
        let pong = |n| Message::Pong(Pong { nonce: n });
        // The handle's ping: not timed until written.
        f.s.ping(11).unwrap();
        assert_eq!(f.s.ping_state().outstanding(), None);
        let t = at(&f, 100);
        flush(&mut f.s, t);
        assert_eq!(f.s.ping_state().outstanding(), Some((11, at(&f, 100))));
        assert_eq!(
            f.s.on_receive(&pong(11), at(&f, 130)),
            Ok(Some(Update::Rtt(Duration::from_millis(30))))
        );
        // A ping queued as a message.
        f.queue(frame_of(&Message::Ping(Ping { nonce: 22 })));
        assert_eq!(f.s.ping_state().outstanding(), None);
        let t = at(&f, 200);
        flush(&mut f.s, t);
        assert_eq!(
            f.s.on_receive(&pong(22), at(&f, 240)),
            Ok(Some(Update::Rtt(Duration::from_millis(40))))
        );
        // A typed ping: its request and the stats time the same write.
        let ping = frame_of(&Message::Ping(Ping { nonce: 33 }));
        f.s.host().reserve(ping.bytes.len()).unwrap();
        let out = Queued {
            frame: ping,
            receipt: None,
        };
        f.s.request(RequestId(1), Awaited::Pong(33), at(&f, 60_000), out)
            .unwrap();
        let t = at(&f, 300);
        flush(&mut f.s, t);
        assert_eq!(
            f.s.on_receive(&pong(33), at(&f, 350)),
            Ok(Some(Update::Rtt(Duration::from_millis(50))))
        );
        // Two pings written: the second's pong times it, the first's is
        // ignored.
        f.s.ping(44).unwrap();
        let t = at(&f, 400);
        flush(&mut f.s, t);
        f.s.ping(55).unwrap();
        let t = at(&f, 410);
        flush(&mut f.s, t);
        assert_eq!(f.s.on_receive(&pong(44), at(&f, 420)), Ok(None));
        assert_eq!(
            f.s.on_receive(&pong(55), at(&f, 470)),
            Ok(Some(Update::Rtt(Duration::from_millis(60))))
        );
    }

    #[test]
    fn sendheaders_is_remembered() {
        let mut f = session();
        assert!(!f.s.wants_headers());
        assert_eq!(
            f.s.on_receive(&Message::SendHeaders(SendHeaders), f.t0),
            Ok(Some(Update::WantsHeaders))
        );
        assert!(f.s.wants_headers());
    }

    #[test]
    fn a_silent_remote_is_idle_after_the_idle_timeout() {
        let mut quiet = limits();
        quiet.ping_interval = Duration::from_secs(3600);
        let mut f2 = fixture(quiet, MAX_QUEUED);
        f2.s.on_receive(&Message::Headers(Headers::default()), at(&f2, 10_000))
            .unwrap();
        assert_eq!(f2.s.poll(at(&f2, 129_999)), Ok(()));
        assert_eq!(f2.s.next_wakeup(), at(&f2, 130_000));
        assert_eq!(f2.s.poll(at(&f2, 130_000)), Err(SessionError::Idle));
    }

    #[test]
    fn a_write_gets_twenty_seconds_and_one_more_per_256_kib() {
        let mut f = session();
        let mut frame = frame_of(&Message::Headers(Headers::default()));
        frame.bytes = vec![0u8; 3 * WRITE_BYTES_PER_SEC + 1];
        f.queue(frame);
        f.s.poll(f.t0).unwrap();
        assert_eq!(f.s.next_wakeup(), at(&f, 23_000));
        f.s.wrote(1000, at(&f, 10_000)).unwrap();
        assert_eq!(f.s.poll(at(&f, 22_999)), Ok(()));
        assert_eq!(f.s.poll(at(&f, 23_000)), Err(SessionError::WriteTimeout));
    }

    #[test]
    fn a_write_the_socket_refuses_outright_still_has_its_deadline() {
        let mut f = session();
        f.s.on_receive(&Message::Ping(Ping { nonce: 3 }), f.t0)
            .unwrap();
        f.s.blocked(at(&f, 1_000));
        assert_eq!(f.s.next_wakeup(), at(&f, 21_000));
        assert_eq!(f.s.poll(at(&f, 21_000)), Err(SessionError::WriteTimeout));
    }

    #[test]
    fn inventory_the_remote_announces_is_left_to_the_owner_to_mark() {
        // dcrd's peer hands `inv` to `OnInv` and marks nothing: its sync
        // manager marks block, tx and mix vectors (`netsync` `OnInv`).
        let mut f = session();
        f.s.on_receive(
            &Message::Inv(Inv {
                inv_list: vec![iv(1)],
            }),
            f.t0,
        )
        .unwrap();
        assert!(!f.knows(&iv(1), f.t0));
        f.s.host().known(|k| k.add(iv(1), f.t0));
        assert!(!f.s.queue_inventory(iv(1), f.t0));
        assert!(f.s.queue_inventory(iv(2), f.t0));
        // Trickled after a random 100 to 500 ms.
        let due = f.s.next_wakeup();
        assert!(due >= at(&f, 100) && due <= at(&f, 500), "{:?}", due - f.t0);
        f.s.poll(due - Duration::from_nanos(1)).unwrap();
        assert!(f.s.is_idle());
        f.s.poll(due).unwrap();
        assert_eq!(
            flush(&mut f.s, due),
            [Message::Inv(Inv {
                inv_list: vec![iv(2)]
            })]
        );
        assert!(f.knows(&iv(2), due));
    }

    #[test]
    fn a_trickle_goes_out_in_messages_of_at_most_a_thousand() {
        let mut f = session();
        for n in 0..2_500 {
            f.s.queue_inventory(iv(n), f.t0);
        }
        let due = f.s.next_wakeup();
        f.s.poll(due).unwrap();
        let sizes: Vec<usize> = flush(&mut f.s, due)
            .iter()
            .map(|m| match m {
                Message::Inv(i) => i.inv_list.len(),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(sizes, [MAX_INV_TRICKLE_SIZE, MAX_INV_TRICKLE_SIZE, 500]);
    }

    #[test]
    fn a_repeated_locator_request_is_suppressed_per_kind() {
        let mut f = session();
        let loc = vec![Hash([1; 32]), Hash([2; 32])];
        // A request as the handle makes it: encoded, counted, handed over.
        let mut request = |kind, locator: Vec<Hash>, stop| {
            let msg = match kind {
                Locator::GetHeaders => Message::GetHeaders(dcr_wire::GetHeaders {
                    protocol_version: pver::CURRENT,
                    block_locator_hashes: locator.clone(),
                    hash_stop: stop,
                }),
                Locator::GetBlocks => Message::GetBlocks(dcr_wire::GetBlocks {
                    protocol_version: pver::CURRENT,
                    block_locator_hashes: locator.clone(),
                    hash_stop: stop,
                }),
            };
            let frame = frame_of(&msg);
            f.s.host().reserve(frame.bytes.len()).unwrap();
            let out = Queued {
                frame,
                receipt: None,
            };
            f.s.locator_request(kind, (locator[0], stop), out)
        };
        assert!(request(Locator::GetHeaders, loc.clone(), Hash::ZERO));
        // Same first hash and stop: a repeat, whatever follows.
        assert!(!request(
            Locator::GetHeaders,
            vec![Hash([1; 32])],
            Hash::ZERO
        ));
        assert!(request(Locator::GetBlocks, loc.clone(), Hash::ZERO));
        assert!(request(Locator::GetHeaders, loc, Hash([9; 32])));
        let sent: Vec<Command> = flush(&mut f.s, f.t0).iter().map(Message::command).collect();
        assert_eq!(
            sent,
            [Command::GetHeaders, Command::GetBlocks, Command::GetHeaders]
        );
        // The repeat dropped left the bound with the rest.
        assert_eq!(f.queued_bytes(), 0);
    }

    #[test]
    fn deadlines_start_when_the_request_is_written() {
        let mut f = session();
        f.queue(frame_of(&Message::GetData(GetData {
            inv_list: vec![iv(1)],
        })));
        assert_eq!(f.s.pending_requests(), 0);
        let t = at(&f, 5_000);
        flush(&mut f.s, t);
        assert_eq!(f.s.pending_requests(), 1);
        // Ticks every 15 s from the start: 15 s is early, 45 s late.
        f.s.poll(at(&f, 30_000)).unwrap();
        assert!(matches!(
            f.s.poll(at(&f, 45_000)),
            Err(SessionError::Stalled(_))
        ));
    }

    #[test]
    fn typed_requests_are_queued_timed_from_their_write_and_time_out() {
        let mut f = session();
        let ping = frame_of(&Message::Ping(Ping { nonce: 5 }));
        f.s.host().reserve(ping.bytes.len()).unwrap();
        let out = Queued {
            frame: ping,
            receipt: None,
        };
        f.s.request(RequestId(1), Awaited::Pong(5), at(&f, 60_000), out)
            .unwrap();
        let filter = frame_of(&Message::GetCFilterV2(dcr_wire::GetCFilterV2::default()));
        f.s.host().reserve(filter.bytes.len()).unwrap();
        let out = Queued {
            frame: filter,
            receipt: None,
        };
        f.s.request(
            RequestId(2),
            Awaited::CFilter(Hash::ZERO),
            at(&f, 3_000),
            out,
        )
        .unwrap();
        assert_eq!(f.s.typed_requests(), 2);
        // The earliest typed deadline wakes the session.
        assert_eq!(f.s.next_wakeup(), at(&f, 3_000));
        let t = at(&f, 100);
        let sent = flush(&mut f.s, t);
        assert_eq!(sent[0], Message::Ping(Ping { nonce: 5 }));
        f.s.on_receive(&Message::Pong(Pong { nonce: 5 }), at(&f, 350))
            .unwrap();
        let answered: Vec<Resolution> = f.s.take_resolved().collect();
        assert_eq!(
            answered,
            [Resolution::Answered {
                id: RequestId(1),
                index: 0,
                done: true,
                rtt: Some(Duration::from_millis(250)),
            }]
        );
        // The silent request ends at its deadline; the session goes on.
        assert_eq!(f.s.poll(at(&f, 3_000)), Ok(()));
        let ended: Vec<Resolution> = f.s.take_resolved().collect();
        assert_eq!(ended, [Resolution::TimedOut(RequestId(2))]);
        assert_eq!(f.s.typed_requests(), 0);
        assert_eq!(f.s.pending_requests(), 0);
    }

    #[test]
    fn output_the_session_adds_counts_against_the_byte_bound() {
        let mut f = fixture(limits(), 100);
        f.s.on_receive(&Message::Ping(Ping { nonce: 1 }), f.t0)
            .unwrap();
        f.s.on_receive(&Message::Ping(Ping { nonce: 2 }), f.t0)
            .unwrap();
        f.s.on_receive(&Message::Ping(Ping { nonce: 3 }), f.t0)
            .unwrap();
        assert_eq!(
            f.s.on_receive(&Message::Ping(Ping { nonce: 4 }), f.t0),
            Err(SessionError::Local(LocalFailure::QueuedOutput {
                queued: 128,
                max: 100
            }))
        );
        assert_eq!(f.queued_bytes(), 96);
        f.s.drain();
        assert_eq!(f.queued_bytes(), 0);
    }
}
