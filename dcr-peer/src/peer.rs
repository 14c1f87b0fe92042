//! The peer: a handle to one connection whose handshake is done and whose
//! three tasks (read, write, queue handling) run until it disconnects.
//!
//! [`Peer::start`] runs the version handshake on any byte stream, then
//! spawns the tasks and returns a [`Peer`], a cheap clonable handle. The
//! protocol rules live in the [`crate::fsm`] machines; the tasks in
//! [`crate::tasks`] only move frames, timers and messages through them.

use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use dcr_wire::msg::addr::{MAX_ADDR_PER_MSG, MAX_ADDR_PER_V2_MSG};
use dcr_wire::{
    pver, Addr, AddrV2, Command, GetBlocks, GetData, GetHeaders, Hash, Inv, InvVect, Message,
    NetAddress, NetAddressV2, Ping, Reject, Version,
};
use rand::seq::SliceRandom;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::debug;

use crate::config::Config;
use crate::error::{DisconnectReason, PeerError};
use crate::fsm::handshake::{Direction, RemoteVersion};
use crate::fsm::inventory::{KnownInventory, Trickle, MAX_TRICKLE_QUEUE};
use crate::fsm::ping::PingState;
use crate::fsm::stall::{is_tracked_request, StallTracker};
use crate::stats::{PeerCounters, PeerStats};

/// Nonces of our recent version messages: a version that carries one of
/// them is a connection to ourselves. One set per node: by default every
/// peer of the process shares [`RecentNonces::global`]; a process that runs
/// several nodes (tests, the demo) gives each its own.
#[derive(Debug, Default)]
pub struct RecentNonces(Mutex<VecDeque<u64>>);

impl RecentNonces {
    /// How many recent nonces are remembered.
    pub const CAPACITY: usize = 128;

    pub fn new() -> Arc<RecentNonces> {
        Arc::new(RecentNonces::default())
    }

    /// The process-wide set.
    pub fn global() -> Arc<RecentNonces> {
        static GLOBAL: OnceLock<Arc<RecentNonces>> = OnceLock::new();
        GLOBAL.get_or_init(RecentNonces::new).clone()
    }

    pub fn remember(&self, nonce: u64) {
        let mut n = lock(&self.0);
        if n.len() == Self::CAPACITY {
            n.pop_front();
        }
        n.push_back(nonce);
    }

    pub fn contains(&self, nonce: u64) -> bool {
        lock(&self.0).contains(&nonce)
    }
}

/// Locks a mutex, recovering from a panicked holder (the state stays
/// usable: every critical section leaves it consistent).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The current time on tokio's clock (paused in tests), as the std
/// `Instant` the state machines take.
pub(crate) fn now() -> std::time::Instant {
    tokio::time::Instant::now().into_std()
}

/// `msg` framed for `net` at `pv`, in one exactly sized buffer.
pub(crate) fn encode_frame_bytes(
    msg: &Message<'_>,
    net: dcr_wire::CurrencyNet,
    pv: u32,
) -> Result<Bytes, dcr_wire::Error> {
    // The vector is exactly sized; turning it into `Bytes` copies nothing.
    dcr_wire::frame_to_vec(msg, net, pv).map(Bytes::from)
}

/// Records a ping we sent at `now` (keep-alive or pushed): its nonce and
/// time go in the stats.
pub(crate) fn record_ping(st: &mut State, nonce: u64) {
    st.counters.last_ping_nonce = Some(nonce);
    st.counters.last_ping_time = Some(SystemTime::now());
}

/// A frame waiting to be written.
pub(crate) struct Outgoing {
    pub command: Command,
    pub frame: Bytes,
    /// A request to start a stall deadline for once written.
    pub request: Option<Message<'static>>,
    pub done: Option<oneshot::Sender<Result<(), PeerError>>>,
}

/// Mutable protocol state, behind one lock held only briefly.
pub(crate) struct State {
    pub counters: PeerCounters,
    pub known: KnownInventory,
    pub trickle: Trickle,
    pub stall: StallTracker,
    /// Time spent in our listeners since the stall deadlines were set.
    pub stall_offset: Duration,
    pub ping: PingState,
    pub prev_get_headers: Option<(Hash, Hash)>,
    pub prev_get_blocks: Option<(Hash, Hash)>,
}

/// What the handshake established.
#[derive(Debug, Clone)]
pub(crate) struct Negotiated {
    pub protocol_version: u32,
    pub remote: RemoteVersion,
}

pub(crate) struct Inner {
    pub id: u64,
    pub addr: SocketAddr,
    pub direction: Direction,
    pub config: Config,
    pub connected_at: SystemTime,
    pub negotiated: OnceLock<Negotiated>,
    pub state: Mutex<State>,
    pub send_tx: mpsc::Sender<Outgoing>,
    pub prio_tx: mpsc::Sender<Outgoing>,
    pub cancel: CancellationToken,
    pub reason: OnceLock<DisconnectReason>,
    pub tasks: TaskTracker,
}

/// A connected Decred peer. Clones share the connection.
#[derive(Clone)]
pub struct Peer {
    pub(crate) inner: Arc<Inner>,
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

/// The receiving ends of a new peer's queues, for its write task.
pub(crate) struct Queues {
    pub send_rx: mpsc::Receiver<Outgoing>,
    pub prio_rx: mpsc::Receiver<Outgoing>,
}

impl Peer {
    /// Runs the handshake on `stream` (connected to `addr`) and starts the
    /// peer. Fails when the configuration is unusable, the remote breaks
    /// the handshake, or it does not complete within
    /// [`Config::handshake_timeout`].
    pub async fn start<S>(
        stream: S,
        addr: SocketAddr,
        direction: Direction,
        config: Config,
    ) -> Result<Peer, PeerError>
    where
        S: AsyncRead + AsyncWrite + Send + 'static,
    {
        config.validate()?;
        let (peer, queues) = Peer::new(addr, direction, config);
        crate::tasks::run(peer.clone(), stream, queues).await?;
        Ok(peer)
    }

    /// Starts an outbound peer on a connected stream.
    pub async fn outbound<S>(stream: S, addr: SocketAddr, config: Config) -> Result<Peer, PeerError>
    where
        S: AsyncRead + AsyncWrite + Send + 'static,
    {
        Peer::start(stream, addr, Direction::Outbound, config).await
    }

    /// Starts an inbound peer on an accepted stream.
    pub async fn inbound<S>(stream: S, addr: SocketAddr, config: Config) -> Result<Peer, PeerError>
    where
        S: AsyncRead + AsyncWrite + Send + 'static,
    {
        Peer::start(stream, addr, Direction::Inbound, config).await
    }

    fn new(addr: SocketAddr, direction: Direction, config: Config) -> (Peer, Queues) {
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        let (send_tx, send_rx) = mpsc::channel(config.send_queue_size);
        let (prio_tx, prio_rx) = mpsc::channel(config.priority_queue_size);
        let t = now();
        let state = State {
            counters: PeerCounters::default(),
            known: KnownInventory::new(config.max_known_inventory, config.known_inventory_ttl),
            trickle: Trickle::default(),
            stall: StallTracker::new(config.stall_timeout),
            stall_offset: Duration::ZERO,
            ping: PingState::new(config.ping_interval, t),
            prev_get_headers: None,
            prev_get_blocks: None,
        };
        let inner = Inner {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            addr,
            direction,
            config,
            connected_at: SystemTime::now(),
            negotiated: OnceLock::new(),
            state: Mutex::new(state),
            send_tx,
            prio_tx,
            cancel: CancellationToken::new(),
            reason: OnceLock::new(),
            tasks: TaskTracker::new(),
        };
        (
            Peer {
                inner: Arc::new(inner),
            },
            Queues { send_rx, prio_rx },
        )
    }

    /// Our version message for this connection, with a fresh nonce that is
    /// remembered for self-connection detection.
    pub(crate) fn local_version(&self) -> Version<'static> {
        let c = &self.inner.config;
        let nonce = rand::random::<u64>();
        c.nonces.remember(nonce);
        let height = c.newest_block.as_ref().map_or(0, |f| f().1);
        let their_ip = self.remote_ip_for_version();
        let you = NetAddress::new(
            their_ip,
            self.inner.addr.port(),
            dcr_wire::ServiceFlags::NONE,
        );
        let me = NetAddress::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0, c.services);
        let mut v = Version::new(me, you, nonce, i32::try_from(height).unwrap_or(i32::MAX));
        v.protocol_version = c.protocol_version as i32;
        v.services = c.services;
        v.disable_relay_tx = c.disable_relay_tx;
        // Validated with the configuration.
        v.user_agent = std::borrow::Cow::Owned(c.user_agent().unwrap_or_default().into_bytes());
        v
    }

    /// The remote's address as we tell it in our version: unroutable when
    /// the connection is to our proxy (so the proxy's address is not
    /// leaked), or when the proxy is given by name and so cannot be told
    /// apart (the reference errs on the same side), else as the
    /// host-to-address hook maps it.
    fn remote_ip_for_version(&self) -> IpAddr {
        let c = &self.inner.config;
        let ip = self.inner.addr.ip();
        if let Some(proxy) = &c.proxy {
            if proxy.parse::<SocketAddr>().map_or(true, |p| p.ip() == ip) {
                return IpAddr::V4(Ipv4Addr::UNSPECIFIED);
            }
        }
        c.host_to_addr
            .as_ref()
            .and_then(|f| f(&ip.to_string()))
            .unwrap_or(ip)
    }

    // ---- identity and state -------------------------------------------------

    pub fn id(&self) -> u64 {
        self.inner.id
    }

    pub fn addr(&self) -> SocketAddr {
        self.inner.addr
    }

    pub fn direction(&self) -> Direction {
        self.inner.direction
    }

    pub fn is_inbound(&self) -> bool {
        self.inner.direction == Direction::Inbound
    }

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

    pub fn is_connected(&self) -> bool {
        !self.inner.cancel.is_cancelled()
    }

    /// A snapshot of the peer's counters and negotiated state.
    pub fn stats(&self) -> PeerStats {
        let remote = self.remote_version();
        let st = lock(&self.inner.state);
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
            counters: st.counters.clone(),
            known_inventory: st.known.len(),
            send_queue_len: self.inner.config.send_queue_size - self.inner.send_tx.capacity(),
            pending_requests: st.stall.pending(),
            connected: self.is_connected(),
        }
    }

    /// Records a newer best height for the remote (never lowers it).
    pub fn update_last_block_height(&self, height: i64) {
        let mut st = lock(&self.inner.state);
        st.counters.last_block_height = st.counters.last_block_height.max(height);
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

    /// How many of the peer's tasks are still running (0 once it has fully
    /// shut down).
    pub fn running_tasks(&self) -> usize {
        self.inner.tasks.len()
    }

    /// Why the peer disconnected, once it has.
    pub fn disconnect_reason(&self) -> Option<DisconnectReason> {
        self.inner.reason.get().cloned()
    }

    /// Waits until the peer has disconnected and all its tasks have ended;
    /// returns why it disconnected.
    pub async fn wait_for_disconnect(&self) -> DisconnectReason {
        self.inner.cancel.cancelled().await;
        self.inner.tasks.wait().await;
        self.disconnect_reason()
            .unwrap_or(DisconnectReason::Requested)
    }

    // ---- outbound queue -------------------------------------------------------

    /// Encodes `msg` at the negotiated version into a frame for the queue.
    fn frame(&self, msg: &Message<'_>) -> Result<Outgoing, PeerError> {
        let frame = encode_frame_bytes(msg, self.inner.config.net, self.protocol_version())?;
        // Kept so its deadline starts once it is written.
        let request = is_tracked_request(msg.command()).then(|| msg.clone().into_owned());
        Ok(Outgoing {
            command: msg.command(),
            frame,
            request,
            done: None,
        })
    }

    fn channel_for(&self, command: Command) -> &mpsc::Sender<Outgoing> {
        match command {
            Command::Ping | Command::Pong => &self.inner.prio_tx,
            _ => &self.inner.send_tx,
        }
    }

    fn try_enqueue(&self, out: Outgoing) -> Result<(), PeerError> {
        if let Some(r) = self.inner.reason.get() {
            return Err(PeerError::Disconnected(r.clone()));
        }
        self.channel_for(out.command)
            .try_send(out)
            .map_err(|e| match e {
                mpsc::error::TrySendError::Full(_) => PeerError::QueueFull,
                mpsc::error::TrySendError::Closed(_) => self.disconnected_error(),
            })
    }

    fn disconnected_error(&self) -> PeerError {
        PeerError::Disconnected(
            self.disconnect_reason()
                .unwrap_or(DisconnectReason::Requested),
        )
    }

    /// Queues `msg` for sending without waiting. Pings and pongs go ahead
    /// of other messages. Fails at once when the message cannot be encoded
    /// at the negotiated version, the queue is full
    /// ([`Config::send_queue_size`]) or the peer is gone.
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
        out.done = Some(tx);
        self.try_enqueue(out)?;
        Ok(rx)
    }

    /// Sends `msg`, waiting for room in the queue (backpressure) and then
    /// until it has been written.
    pub async fn send_message(&self, msg: &Message<'_>) -> Result<(), PeerError> {
        let (tx, rx) = oneshot::channel();
        let mut out = self.frame(msg)?;
        out.done = Some(tx);
        self.enqueue_wait(out).await?;
        rx.await.unwrap_or_else(|_| Err(self.disconnected_error()))
    }

    /// Queues `msg`, waiting for room in the queue but not for the write.
    pub async fn queue_message_wait(&self, msg: &Message<'_>) -> Result<(), PeerError> {
        self.enqueue_wait(self.frame(msg)?).await
    }

    async fn enqueue_wait(&self, out: Outgoing) -> Result<(), PeerError> {
        let chan = self.channel_for(out.command).clone();
        tokio::select! {
            r = chan.send(out) => r.map_err(|_| self.disconnected_error()),
            _ = self.inner.cancel.cancelled() => Err(self.disconnected_error()),
        }
    }

    // ---- inventory ----------------------------------------------------------

    /// Adds `iv` to the known-inventory filter: it will not be announced to
    /// this peer.
    pub fn add_known_inventory(&self, iv: InvVect) {
        lock(&self.inner.state).known.add(iv, now());
    }

    /// True when the peer is known to have `iv`.
    pub fn is_known_inventory(&self, iv: &InvVect) -> bool {
        lock(&self.inner.state).known.contains(iv, now())
    }

    /// Queues `iv` for the next trickle (batched into `inv` messages at
    /// the trickle interval), unless the peer already knows it. A peer
    /// [`MAX_TRICKLE_QUEUE`] announcements behind gets no more until it
    /// catches up.
    pub fn queue_inventory(&self, iv: InvVect) {
        let mut st = lock(&self.inner.state);
        let State { trickle, known, .. } = &mut *st;
        if !trickle.push(iv, known, now()) && trickle.len() >= MAX_TRICKLE_QUEUE {
            debug!(peer = %self.inner.addr, "trickle queue full, announcement dropped");
        }
    }

    /// Announces `iv` at once in its own `inv`, unless the peer already
    /// knows it; it becomes known.
    pub fn queue_inventory_immediate(&self, iv: InvVect) -> Result<(), PeerError> {
        {
            let mut st = lock(&self.inner.state);
            let t = now();
            if st.known.contains(&iv, t) {
                return Ok(());
            }
            st.known.add(iv, t);
        }
        self.queue_message(&Message::Inv(Inv { inv_list: vec![iv] }))
    }

    // ---- push helpers ---------------------------------------------------------

    /// Sends `getheaders` for `locator` up to `stop`, unless it repeats the
    /// previous request (same first locator hash and stop), as the
    /// reference suppresses duplicates.
    pub fn push_get_headers(&self, locator: Vec<Hash>, stop: Hash) -> Result<(), PeerError> {
        self.push_locator_request(
            locator,
            stop,
            |st| &mut st.prev_get_headers,
            Message::GetHeaders,
        )
    }

    /// Sends `getblocks`, suppressing a repeat of the previous request.
    pub fn push_get_blocks(&self, locator: Vec<Hash>, stop: Hash) -> Result<(), PeerError> {
        self.push_locator_request(
            locator,
            stop,
            |st| &mut st.prev_get_blocks,
            |m| {
                Message::GetBlocks(GetBlocks {
                    protocol_version: m.protocol_version,
                    block_locator_hashes: m.block_locator_hashes,
                    hash_stop: m.hash_stop,
                })
            },
        )
    }

    /// The duplicate suppression both locator requests share: `prev` picks
    /// the remembered previous request, `make` the message.
    fn push_locator_request(
        &self,
        locator: Vec<Hash>,
        stop: Hash,
        prev: fn(&mut State) -> &mut Option<(Hash, Hash)>,
        make: fn(GetHeaders) -> Message<'static>,
    ) -> Result<(), PeerError> {
        let key = (locator.first().copied().unwrap_or(Hash::ZERO), stop);
        if *prev(&mut lock(&self.inner.state)) == Some(key) {
            debug!(peer = %self.inner.addr, "duplicate locator request suppressed");
            return Ok(());
        }
        let msg = make(GetHeaders {
            protocol_version: self.protocol_version(),
            block_locator_hashes: locator,
            hash_stop: stop,
        });
        self.queue_message(&msg)?;
        *prev(&mut lock(&self.inner.state)) = Some(key);
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
        let nonce = {
            let mut st = lock(&self.inner.state);
            let nonce = rand::random();
            st.ping.sent(nonce, now());
            record_ping(&mut st, nonce);
            nonce
        };
        self.queue_message(&Message::Ping(Ping { nonce }))?;
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
        let mut rng = rand::thread_rng();
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
