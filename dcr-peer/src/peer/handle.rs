//! The handle to a connected peer: its identity and state, its stats, its
//! disconnect, and the outbound queue, inventory and push helpers callers
//! use. The connection's task (`driver.rs`) does the work; the handle
//! shares with it the state in [`Shared`].

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Instant, SystemTime};

use dcr_wire::msg::{MAX_ADDR_PER_MSG, MAX_ADDR_PER_V2_MSG};
use dcr_wire::{
    pver, Addr, AddrV2, GetBlocks, GetData, GetHeaders, Hash, Inv, InvVect, Message, NetAddress,
    NetAddressV2, Reject,
};
use futures_util::task::AtomicWaker;
use rand::seq::SliceRandom;
use tokio::sync::{mpsc, oneshot, Notify, Semaphore};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::debug;

use super::queue::{Outgoing, OutputBudget};
use crate::config::Config;
use crate::error::{DisconnectReason, PeerError};
use crate::fsm::handshake::{Direction, RemoteVersion};
use crate::fsm::inventory::KnownInventory;
use crate::fsm::session::{Frame, Locator, Queued};
use crate::fsm::stall::{Awaited, RequestId};
use crate::request::{Kind, RequestError, Response};
use crate::stats::{PeerStats, PingStats, Traffic};
use crate::sync::{lock, now};

/// The known-inventory filter of a peer, with a keyed hasher several
/// times cheaper than the standard SipHash on these 36-byte keys, which
/// every received `inv` entry pays.
pub(crate) type Known = KnownInventory<foldhash::fast::RandomState>;

/// What the handle asks of the connection's task.
pub(crate) enum Cmd {
    /// A frame to write (already counted in the output budget).
    Frame(Outgoing),
    /// Inventory for the next trickle.
    Inventory(InvVect),
    /// A locator request (its first locator hash and stop, and the frame
    /// counted in the output budget), sent unless it repeats the previous
    /// one. Boxed: every slot of the channel is as large as the largest
    /// command, and the channel allocates its slots 32 at a time for every
    /// peer, idle or not.
    Locator(Box<(Locator, (Hash, Hash), Outgoing)>),
    /// A ping with this nonce, timed like the keep-alive's.
    Ping(u64),
    /// A typed request: its frame (counted in the output budget), what
    /// answers it, and where the answer goes. Boxed, as the locator is.
    Request(Box<RequestCmd>),
}

/// A typed request on its way to the connection's task.
pub(crate) struct RequestCmd {
    pub id: RequestId,
    pub awaited: Awaited,
    /// The caller's deadline.
    pub deadline: Instant,
    pub out: Outgoing,
    pub kind: Kind,
    pub reply: oneshot::Sender<Result<Response, RequestError>>,
}

/// The receiving end the connection's task takes: the handle's commands.
pub(crate) struct Inbox {
    pub cmds: mpsc::Receiver<Cmd>,
}

/// What the handshake established.
#[derive(Debug, Clone)]
pub(crate) struct Negotiated {
    pub protocol_version: u32,
    pub remote: RemoteVersion,
}

/// What the handle and the connection's task share.
pub(crate) struct Shared {
    pub id: u64,
    pub addr: SocketAddr,
    pub direction: Direction,
    pub config: Config,
    pub connected_at: SystemTime,
    pub negotiated: OnceLock<Negotiated>,
    pub traffic: Traffic,
    pub ping: Mutex<PingStats>,
    /// The local end of the connection, for the sockets `net` made.
    pub local_addr: Option<SocketAddr>,
    /// The block the remote last announced, as the caller records it.
    pub announced: Mutex<Option<Hash>>,
    /// The known-inventory filter: the handle's synchronous queries need
    /// it, the task takes it on `inv` and trickles only.
    pub known: Mutex<Known>,
    pub budget: OutputBudget,
    pub cmd_tx: mpsc::Sender<Cmd>,
    /// Signalled when queued output was written, for waiting senders.
    pub room: Notify,
    /// Senders waiting on `room` (the task signals only when there are).
    pub waiters: AtomicUsize,
    pub cancel: CancellationToken,
    pub reason: OnceLock<DisconnectReason>,
    pub tasks: TaskTracker,
    /// Slots for typed requests ([`Config::max_requests_in_flight`]):
    /// each caller holds one until its answer, its error or its drop.
    /// Held here, not in an `Arc` of its own: the semaphore allocates
    /// nothing (its waiters live in their futures), its `Arc` did.
    pub request_slots: Semaphore,
    /// The next typed request's id.
    pub next_request: AtomicU64,
    /// The ids of dropped requests, for the task to forget them, and the
    /// task's waker to say so. A list that allocates at the first cancel,
    /// not a channel (tokio's unbounded channel allocates its first block
    /// for every peer, idle or not). Bounded: an id goes in before its
    /// caller's slot is freed, and the task empties the list at every
    /// turn, so it holds at most one id per slot and those the task has
    /// not yet seen; none goes in for a request the task never got, nor
    /// once the connection is closing (no task drains it then).
    pub cancels: Mutex<Vec<RequestId>>,
    /// Set after each id pushed (then the task is woken): the task takes
    /// the list's lock only when it is set.
    pub cancels_pending: AtomicBool,
    pub cancels_waker: AtomicWaker,
}

/// A connected Decred peer. Clones share the connection.
#[derive(Clone)]
pub struct Peer {
    pub(crate) inner: Arc<Shared>,
}

impl std::fmt::Debug for Peer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Peer")
            .field("id", &self.inner.id)
            .field("addr", &self.inner.addr)
            .field("direction", &self.inner.direction)
            .finish()
    }
}

impl Peer {
    /// The handle of a new connection to `addr` (its handshake not yet
    /// run), and the receiving end of its command channel, for the task.
    pub(super) fn new(
        addr: SocketAddr,
        local_addr: Option<SocketAddr>,
        direction: Direction,
        config: Config,
    ) -> (Peer, Inbox) {
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        let (cmd_tx, cmd_rx) = mpsc::channel(config.send_queue_size);
        let known = Known::new(config.max_known_inventory, config.known_inventory_ttl);
        let shared = Shared {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            addr,
            direction,
            connected_at: SystemTime::now(),
            negotiated: OnceLock::new(),
            traffic: Traffic::default(),
            ping: Mutex::default(),
            local_addr,
            announced: Mutex::new(None),
            known: Mutex::new(known),
            budget: OutputBudget::new(config.max_queued_bytes, config.send_queue_size),
            cmd_tx,
            room: Notify::new(),
            waiters: AtomicUsize::new(0),
            cancel: CancellationToken::new(),
            reason: OnceLock::new(),
            tasks: TaskTracker::new(),
            request_slots: Semaphore::new(config.max_requests_in_flight),
            next_request: AtomicU64::new(1),
            cancels: Mutex::new(Vec::new()),
            cancels_pending: AtomicBool::new(false),
            cancels_waker: AtomicWaker::new(),
            config,
        };
        let inbox = Inbox { cmds: cmd_rx };
        (
            Peer {
                inner: Arc::new(shared),
            },
            inbox,
        )
    }

    // ---- identity and state -------------------------------------------------

    /// Process-unique id of this connection.
    pub fn id(&self) -> u64 {
        self.inner.id
    }

    /// The remote's address.
    pub fn addr(&self) -> SocketAddr {
        self.inner.addr
    }

    /// Our end of the connection: known for the peers [`crate::net`]
    /// dials and accepts (it knows their sockets), `None` for a stream
    /// handed to [`Peer::start`] (the reference's `LocalAddr`, which is nil
    /// once disconnected; this one stays as it was).
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.inner.local_addr
    }

    /// Which side opened the connection.
    pub fn direction(&self) -> Direction {
        self.inner.direction
    }

    /// True when the remote connected to us.
    pub fn is_inbound(&self) -> bool {
        self.inner.direction == Direction::Inbound
    }

    /// The configuration the peer runs with.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The negotiated protocol version (our maximum until the remote's
    /// version arrives).
    pub fn protocol_version(&self) -> u32 {
        self.inner
            .negotiated
            .get()
            .map_or(self.inner.config.protocol_version, |n| n.protocol_version)
    }

    /// What the remote's version message said.
    pub fn remote_version(&self) -> Option<&RemoteVersion> {
        self.inner.negotiated.get().map(|n| &n.remote)
    }

    /// True until the peer has disconnected.
    pub fn is_connected(&self) -> bool {
        !self.inner.cancel.is_cancelled()
    }

    /// A snapshot of the peer's counters and negotiated state.
    pub fn stats(&self) -> PeerStats {
        let remote = self.remote_version();
        let t = &self.inner.traffic;
        let counters = t.counters(&lock(&self.inner.ping));
        PeerStats {
            id: self.inner.id,
            addr: self.inner.addr,
            direction: self.inner.direction,
            services: remote.map_or(dcr_wire::ServiceFlags::NONE, |r| r.services),
            user_agent: remote.map_or_else(String::new, |r| r.user_agent.clone()),
            protocol_version: self.protocol_version(),
            remote_protocol_version: remote.map_or(0, |r| r.protocol_version),
            starting_height: remote.map_or(0, |r| r.starting_height),
            time_offset: remote.map_or(0, |r| r.time_offset),
            connected_at: self.inner.connected_at,
            counters,
            known_inventory: lock(&self.inner.known).len(),
            send_queue_len: self.inner.budget.frames(),
            queued_bytes: self.inner.budget.bytes(),
            pending_requests: t.pending_requests.load(Ordering::Relaxed),
            connected: self.is_connected(),
        }
    }

    /// The best height we know the remote has (its starting height until
    /// [`Peer::update_last_block_height`] raises it; the reference's
    /// `LastBlock`).
    pub fn last_block(&self) -> i64 {
        self.inner.traffic.last_block_height.load(Ordering::Relaxed)
    }

    /// The block the remote last announced, as recorded with
    /// [`Peer::update_last_announced_block`] (the reference's peer
    /// version 2 kept this; the sync logic that reads announcements sets
    /// it).
    pub fn last_announced_block(&self) -> Option<Hash> {
        *lock(&self.inner.announced)
    }

    /// Records the block the remote announced last.
    pub fn update_last_announced_block(&self, hash: Hash) {
        *lock(&self.inner.announced) = Some(hash);
    }

    /// Records a newer best height for the remote (never lowers it).
    pub fn update_last_block_height(&self, height: i64) {
        self.inner
            .traffic
            .last_block_height
            .fetch_max(height, Ordering::Relaxed);
    }

    // ---- disconnect ---------------------------------------------------------

    /// Disconnects the peer; the first reason recorded wins.
    pub fn disconnect(&self) {
        self.disconnect_with(DisconnectReason::Requested);
    }

    pub(crate) fn disconnect_with(&self, reason: DisconnectReason) {
        if self.inner.reason.set(reason.clone()).is_ok() {
            debug!(peer = %self.inner.addr, %reason, "disconnecting");
        }
        self.inner.cancel.cancel();
    }

    /// A token cancelled when the peer disconnects, for tying other work to
    /// the peer's life (a child token: cancelling it does not disconnect).
    pub fn cancellation_token(&self) -> CancellationToken {
        self.inner.cancel.child_token()
    }

    /// How many of the peer's tasks are still running: 1 while connected,
    /// 0 once it has fully shut down.
    pub fn running_tasks(&self) -> usize {
        self.inner.tasks.len()
    }

    /// Why the peer disconnected, once it has.
    pub fn disconnect_reason(&self) -> Option<DisconnectReason> {
        self.inner.reason.get().cloned()
    }

    /// Waits until the peer has disconnected and its task has ended;
    /// returns why it disconnected.
    pub async fn wait_for_disconnect(&self) -> DisconnectReason {
        self.inner.cancel.cancelled().await;
        self.inner.tasks.wait().await;
        self.reason_or_requested()
    }

    pub(crate) fn reason_or_requested(&self) -> DisconnectReason {
        self.disconnect_reason()
            .unwrap_or(DisconnectReason::Requested)
    }

    pub(crate) fn disconnected_error(&self) -> PeerError {
        PeerError::Disconnected(self.reason_or_requested())
    }

    // ---- outbound queue -------------------------------------------------------

    /// Encodes `msg` at the negotiated version.
    pub(crate) fn frame(&self, msg: &Message<'_>) -> Result<Outgoing, PeerError> {
        Ok(Queued {
            // A large frame goes into a kept buffer (`send_buffers`).
            frame: Frame::encode_with(
                msg,
                self.inner.config.net,
                self.protocol_version(),
                crate::send_buffers::take,
            )?,
            receipt: None,
        })
    }

    /// Counts `out` in the output budget and hands it to the task through
    /// `permit`. Passing the budget ends the peer, as the reference does.
    fn send_counted(&self, permit: mpsc::Permit<'_, Cmd>, out: Outgoing) -> Result<(), PeerError> {
        self.reserve(&out)?;
        permit.send(Cmd::Frame(out));
        Ok(())
    }

    /// Hands typed request `cmd` to the task, waiting for room in the
    /// queue (by count and by bytes) as [`Peer::send_message`] does.
    pub(crate) async fn enqueue_request(&self, cmd: RequestCmd) -> Result<(), PeerError> {
        let permit = self.wait_for_room(cmd.out.frame.bytes.len()).await?;
        self.reserve(&cmd.out)?;
        permit.send(Cmd::Request(Box::new(cmd)));
        Ok(())
    }

    /// Counts `out` in the output budget; passing it ends the peer (our
    /// own limit, not the remote's fault).
    fn reserve(&self, out: &Outgoing) -> Result<(), PeerError> {
        if let Err(failure) = self.inner.budget.reserve(out.frame.bytes.len()) {
            self.disconnect_with(DisconnectReason::Local(failure));
            return Err(self.disconnected_error());
        }
        Ok(())
    }

    fn try_enqueue(&self, out: Outgoing) -> Result<(), PeerError> {
        let permit = self.try_command()?;
        if self.inner.budget.is_full() {
            return Err(PeerError::QueueFull);
        }
        self.send_counted(permit, out)
    }

    /// Room for one command without waiting.
    fn try_command(&self) -> Result<mpsc::Permit<'_, Cmd>, PeerError> {
        if !self.is_connected() {
            return Err(self.disconnected_error());
        }
        self.inner.cmd_tx.try_reserve().map_err(|e| match e {
            mpsc::error::TrySendError::Full(()) => PeerError::QueueFull,
            mpsc::error::TrySendError::Closed(()) => self.disconnected_error(),
        })
    }

    /// Queues `msg` for sending without waiting. Pings and pongs go ahead
    /// of other messages. Fails at once when the message cannot be encoded
    /// at the negotiated version, the queue is full
    /// ([`Config::send_queue_size`]) or the peer is gone. Output past
    /// [`Config::max_queued_bytes`] ends the peer with
    /// [`crate::LocalFailure::QueuedOutput`] (the reference's rule).
    pub fn queue_message(&self, msg: &Message<'_>) -> Result<(), PeerError> {
        self.try_enqueue(self.frame(msg)?)
    }

    /// Like [`Peer::queue_message`], and returns a receiver that yields
    /// `Ok(())` once the frame was written to the socket, or an error if the
    /// peer disconnected first.
    pub fn queue_message_notify(
        &self,
        msg: &Message<'_>,
    ) -> Result<oneshot::Receiver<Result<(), PeerError>>, PeerError> {
        let (tx, rx) = oneshot::channel();
        let mut out = self.frame(msg)?;
        out.receipt = Some(tx);
        self.try_enqueue(out)?;
        Ok(rx)
    }

    /// Sends `msg`, waiting for room in the queue (by count and by bytes:
    /// backpressure instead of the disconnect) and then until it has been
    /// written.
    pub async fn send_message(&self, msg: &Message<'_>) -> Result<(), PeerError> {
        let (tx, rx) = oneshot::channel();
        let mut out = self.frame(msg)?;
        out.receipt = Some(tx);
        self.enqueue_wait(out).await?;
        rx.await.unwrap_or_else(|_| Err(self.disconnected_error()))
    }

    /// Queues `msg`, waiting for room in the queue (by count and by bytes)
    /// but not for the write.
    pub async fn queue_message_wait(&self, msg: &Message<'_>) -> Result<(), PeerError> {
        self.enqueue_wait(self.frame(msg)?).await
    }

    async fn enqueue_wait(&self, out: Outgoing) -> Result<(), PeerError> {
        let permit = self.wait_for_room(out.frame.bytes.len()).await?;
        self.send_counted(permit, out)
    }

    /// A slot of the command channel, once a frame of `len` bytes fits in
    /// the output budget.
    async fn wait_for_room(&self, len: usize) -> Result<mpsc::Permit<'_, Cmd>, PeerError> {
        let cancel = &self.inner.cancel;
        let permit = tokio::select! {
            p = self.inner.cmd_tx.reserve() => p.map_err(|_| self.disconnected_error())?,
            _ = cancel.cancelled() => return Err(self.disconnected_error()),
        };
        let budget = &self.inner.budget;
        while !budget.has_room(len) {
            let notified = self.inner.room.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            self.inner.waiters.fetch_add(1, Ordering::SeqCst);
            let room = budget.has_room(len);
            if !room {
                tokio::select! {
                    _ = &mut notified => {}
                    _ = cancel.cancelled() => {}
                }
            }
            self.inner.waiters.fetch_sub(1, Ordering::SeqCst);
            if cancel.is_cancelled() {
                return Err(self.disconnected_error());
            }
        }
        Ok(permit)
    }

    /// Hands a command that carries no frame to the task; a full queue
    /// refuses it.
    fn command(&self, cmd: Cmd) -> Result<(), PeerError> {
        self.try_command()?.send(cmd);
        Ok(())
    }

    // ---- inventory ----------------------------------------------------------

    /// Adds `iv` to the known-inventory filter: it will not be announced to
    /// this peer.
    pub fn add_known_inventory(&self, iv: InvVect) {
        lock(&self.inner.known).add(iv, now());
    }

    /// True when the peer is known to have `iv`; a hit makes it the
    /// filter's most recent entry, as dcrd's `IsKnownInventory` does.
    pub fn is_known_inventory(&self, iv: &InvVect) -> bool {
        lock(&self.inner.known).contains(iv, now())
    }

    /// Queues `iv` for the next trickle (batched into `inv` messages at a
    /// random wait of up to [`Config::trickle_interval`]), unless the peer
    /// already knows it. A peer
    /// [`MAX_TRICKLE_QUEUE`](crate::fsm::inventory::MAX_TRICKLE_QUEUE)
    /// announcements behind gets no more until it catches up, and a full
    /// command queue drops the announcement too.
    pub fn queue_inventory(&self, iv: InvVect) {
        if self.is_known_inventory(&iv) {
            return;
        }
        if self.command(Cmd::Inventory(iv)).is_err() {
            debug!(peer = %self.inner.addr, "queue full, announcement dropped");
        }
    }

    /// Announces `iv` at once in its own `inv`, unless the peer already
    /// knows it; it becomes known.
    pub fn queue_inventory_immediate(&self, iv: InvVect) -> Result<(), PeerError> {
        {
            let mut known = lock(&self.inner.known);
            let t = now();
            if known.contains(&iv, t) {
                return Ok(());
            }
            known.add(iv, t);
        }
        self.queue_message(&Message::Inv(Inv { inv_list: vec![iv] }))
    }

    // ---- push helpers ---------------------------------------------------------

    /// Sends `getheaders` for `locator` up to `stop`, unless it repeats the
    /// previous request (same first locator hash and stop), as the
    /// reference suppresses duplicates. A request that cannot be encoded
    /// (more than 500 locator hashes) is refused here, with
    /// [`PeerError::Encode`], and the peer carries on.
    pub fn push_get_headers(&self, locator: Vec<Hash>, stop: Hash) -> Result<(), PeerError> {
        self.push_locator(Locator::GetHeaders, locator, stop)
    }

    /// Sends `getblocks`, suppressing a repeat of the previous request;
    /// refused as [`Peer::push_get_headers`] is.
    pub fn push_get_blocks(&self, locator: Vec<Hash>, stop: Hash) -> Result<(), PeerError> {
        self.push_locator(Locator::GetBlocks, locator, stop)
    }

    /// A locator request encoded at the negotiated version (the message
    /// carries it) and handed to the task, which drops a repeat.
    fn push_locator(&self, kind: Locator, locator: Vec<Hash>, stop: Hash) -> Result<(), PeerError> {
        let first = locator.first().copied().unwrap_or(Hash::ZERO);
        let protocol_version = self.protocol_version();
        let msg = match kind {
            Locator::GetHeaders => Message::GetHeaders(GetHeaders {
                protocol_version,
                block_locator_hashes: locator,
                hash_stop: stop,
            }),
            Locator::GetBlocks => Message::GetBlocks(GetBlocks {
                protocol_version,
                block_locator_hashes: locator,
                hash_stop: stop,
            }),
        };
        let out = self.frame(&msg)?;
        let permit = self.try_command()?;
        self.reserve(&out)?;
        permit.send(Cmd::Locator(Box::new((kind, (first, stop), out))));
        Ok(())
    }

    /// Sends `reject`, which exists only below protocol version 9: at or
    /// above it nothing is sent and `Ok(false)` returned, as the reference
    /// silently skips it.
    pub fn push_reject(&self, reject: &Reject<'_>) -> Result<bool, PeerError> {
        if self.protocol_version() >= pver::REMOVE_REJECT {
            return Ok(false);
        }
        self.queue_message(&Message::Reject(reject.clone()))?;
        Ok(true)
    }

    /// Sends a ping with a random nonce; the pong is matched and timed like
    /// the keep-alive's.
    pub fn push_ping(&self) -> Result<u64, PeerError> {
        let nonce = rand::random();
        self.command(Cmd::Ping(nonce))?;
        Ok(nonce)
    }

    /// Sends `getdata` for `items`.
    pub fn push_get_data(&self, items: Vec<InvVect>) -> Result<(), PeerError> {
        self.queue_message(&Message::GetData(GetData { inv_list: items }))
    }

    /// Sends addresses in the form the negotiated version uses (`addrv2`
    /// from version 12, `addr` below), at most one message's worth chosen
    /// at random when more are given, as the reference does. Returns how
    /// many were sent.
    pub fn push_addresses(&self, addrs: &[NetAddressV2]) -> Result<usize, PeerError> {
        if addrs.is_empty() {
            return Ok(0);
        }
        let mut rng = rand::rng();
        if self.protocol_version() >= pver::ADDR_V2 {
            let mut list = addrs.to_vec();
            if list.len() as u64 > MAX_ADDR_PER_V2_MSG {
                list.shuffle(&mut rng);
                list.truncate(MAX_ADDR_PER_V2_MSG as usize);
            }
            let n = list.len();
            self.queue_message(&Message::AddrV2(AddrV2 { addr_list: list }))?;
            return Ok(n);
        }
        // The old form carries only IP addresses.
        let mut list: Vec<NetAddress> = addrs
            .iter()
            .filter_map(NetAddressV2::to_net_address)
            .collect();
        if list.is_empty() {
            return Ok(0);
        }
        if list.len() as u64 > MAX_ADDR_PER_MSG {
            list.shuffle(&mut rng);
            list.truncate(MAX_ADDR_PER_MSG as usize);
        }
        let n = list.len();
        self.queue_message(&Message::Addr(Addr { addr_list: list }))?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every peer's command channel allocates its slots 32 at a time,
    /// each as large as the largest command: no command may be much
    /// larger than a frame (about 2 KiB per idle peer once was).
    #[test]
    fn a_command_is_no_larger_than_a_frame_and_its_tag() {
        assert!(
            std::mem::size_of::<Cmd>() <= std::mem::size_of::<Outgoing>() + 8,
            "{} bytes",
            std::mem::size_of::<Cmd>()
        );
    }
}
