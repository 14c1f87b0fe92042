//! The peer: a handle to one connection whose handshake is done, and the
//! one task that runs it.
//!
//! [`Peer::start`] runs the version handshake on any byte stream (in the
//! caller's task, [`handshake`]), then spawns the connection's one task
//! ([`driver`]), which owns the socket and the connection's
//! [`Session`](crate::fsm::session::Session), and returns a [`Peer`], a
//! cheap clonable handle. The handle talks to the task through a bounded
//! channel; what callers read back (stats, known inventory) the task
//! publishes in atomics and in two small locks that the message path never
//! waits on.

mod driver;
mod handshake;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime};

use dcr_wire::msg::{MAX_ADDR_PER_MSG, MAX_ADDR_PER_V2_MSG};
use dcr_wire::{
    pver, Addr, AddrV2, GetData, Hash, Inv, InvVect, Message, NetAddress, NetAddressV2, Reject,
    Version,
};
use rand::seq::SliceRandom;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{mpsc, oneshot, Notify};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{debug, Instrument};

use crate::config::Config;
use crate::error::{DisconnectReason, PeerError};
use crate::fsm::handshake::{Direction, HandshakeError, RemoteVersion};
use crate::fsm::inventory::KnownInventory;
use crate::fsm::session::{Limits, Locator, Outgoing, OutputBudget, Session};
use crate::stats::{PeerCounters, PeerStats};
use crate::sync::{lock, now};

/// What the handle asks of the connection's task.
pub(crate) enum Cmd {
    /// A frame to write (already counted in the output budget).
    Frame(Outgoing),
    /// Inventory for the next trickle.
    Inventory(InvVect),
    /// A locator request, sent unless it repeats the previous one.
    Locator(Locator, Vec<Hash>, Hash),
    /// A ping with this nonce, timed like the keep-alive's.
    Ping(u64),
}

/// What the handshake established.
#[derive(Debug, Clone)]
pub(crate) struct Negotiated {
    pub protocol_version: u32,
    pub remote: RemoteVersion,
}

/// Counters the task updates per message, read by [`Peer::stats`].
#[derive(Debug, Default)]
pub(crate) struct Traffic {
    pub bytes_sent: AtomicU64,
    pub bytes_received: AtomicU64,
    pub messages_sent: AtomicU64,
    pub messages_received: AtomicU64,
    /// Microseconds since the Unix epoch; 0 for never.
    pub last_send: AtomicU64,
    pub last_recv: AtomicU64,
    pub last_block_height: AtomicI64,
    pub pending_requests: AtomicUsize,
    pub wants_headers: AtomicBool,
}

/// What changes rarely (once per ping): published by the task under a
/// lock no message waits on.
#[derive(Debug, Default, Clone)]
pub(crate) struct PingStats {
    pub last_ping_nonce: Option<u64>,
    pub last_ping_time: Option<SystemTime>,
    pub ping_rtt: Option<Duration>,
}

fn micros(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

fn from_micros(us: u64) -> Option<SystemTime> {
    (us != 0).then(|| SystemTime::UNIX_EPOCH + Duration::from_micros(us))
}

pub(crate) struct Shared {
    pub id: u64,
    pub addr: SocketAddr,
    pub direction: Direction,
    pub config: Config,
    pub connected_at: SystemTime,
    pub negotiated: OnceLock<Negotiated>,
    pub traffic: Traffic,
    pub ping: Mutex<PingStats>,
    /// The local end of the connection, when the stream is a TCP socket.
    pub local_addr: Option<SocketAddr>,
    /// The block the remote last announced, as the caller records it.
    pub announced: Mutex<Option<Hash>>,
    /// The known-inventory filter: the handle's synchronous queries need
    /// it, the task takes it on `inv` and trickles only.
    pub known: Arc<Mutex<KnownInventory>>,
    pub budget: Arc<OutputBudget>,
    pub cmd_tx: mpsc::Sender<Cmd>,
    /// Signalled when queued output was written, for waiting senders.
    pub room: Notify,
    /// Senders waiting on `room` (the task signals only when there are).
    pub waiters: AtomicUsize,
    pub cancel: CancellationToken,
    pub reason: OnceLock<DisconnectReason>,
    pub tasks: TaskTracker,
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
    /// Runs the handshake on `stream` (connected to `addr`) and starts the
    /// peer's task. Fails when the configuration is unusable, the remote
    /// breaks the handshake, or it does not complete within
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
        // Known for TCP sockets (what `net` hands in); other streams have
        // no address of their own to report.
        let local = (&stream as &dyn std::any::Any)
            .downcast_ref::<tokio::net::TcpStream>()
            .and_then(|s| s.local_addr().ok());
        let (peer, cmds) = Peer::new(addr, local, direction, config);
        let cfg = &peer.inner.config;
        let mut conn = driver::Conn::new(stream, cfg.net, cfg.protocol_version);
        let span = tracing::debug_span!("handshake", addr = %addr);
        let outcome = tokio::time::timeout(
            cfg.handshake_timeout,
            handshake::run(&peer, &mut conn).instrument(span),
        )
        .await
        .unwrap_or(Err(PeerError::HandshakeTimeout));
        let delayed = match outcome {
            Ok(delayed) => delayed,
            Err(e) => {
                peer.disconnect_with(e.to_reason());
                return Err(e);
            }
        };
        let pv = peer.protocol_version();
        conn.set_protocol_version(pv);
        let limits = Limits {
            net: cfg.net,
            pver: pv,
            idle_timeout: cfg.idle_timeout,
            ping_interval: cfg.ping_interval,
            stall_timeout: cfg.stall_timeout,
            trickle_interval: cfg.trickle_interval,
            write_timeout: cfg.write_timeout,
            max_owed_pongs: cfg.priority_queue_size,
        };
        let session = Session::new(
            limits,
            peer.inner.budget.clone(),
            peer.inner.known.clone(),
            rand::random(),
            now(),
        );
        let span = tracing::debug_span!("peer", id = peer.id(), addr = %addr);
        let tasks = &peer.inner.tasks;
        tasks.spawn(driver::run(peer.clone(), conn, session, cmds, delayed).instrument(span));
        tasks.close();
        cfg.listeners.on_verack(&peer);
        debug!(peer = %addr, pver = pv, "handshake complete");
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

    fn new(
        addr: SocketAddr,
        local_addr: Option<SocketAddr>,
        direction: Direction,
        config: Config,
    ) -> (Peer, mpsc::Receiver<Cmd>) {
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        let (cmd_tx, cmd_rx) = mpsc::channel(config.send_queue_size);
        let known = KnownInventory::new(config.max_known_inventory, config.known_inventory_ttl);
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
            known: Arc::new(Mutex::new(known)),
            budget: Arc::new(OutputBudget::new(
                config.max_queued_bytes,
                config.send_queue_size,
            )),
            cmd_tx,
            room: Notify::new(),
            waiters: AtomicUsize::new(0),
            cancel: CancellationToken::new(),
            reason: OnceLock::new(),
            tasks: TaskTracker::new(),
            config,
        };
        (
            Peer {
                inner: Arc::new(shared),
            },
            cmd_rx,
        )
    }

    /// Our version message for this connection, with a fresh nonce that is
    /// remembered for self-connection detection (the reference's
    /// `localVersionMsg`). Fails when the host-to-address hook refuses.
    pub(crate) fn local_version(&self) -> Result<Version<'static>, HandshakeError> {
        let c = &self.inner.config;
        let height = c.newest_block.as_ref().map_or(0, |f| f().1);
        let you = self.remote_for_version()?;
        let me = NetAddress::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0, c.services);
        let nonce = rand::random::<u64>();
        c.nonces.remember(nonce);
        let mut v = Version::new(me, you, nonce, i32::try_from(height).unwrap_or(i32::MAX));
        v.protocol_version = c.protocol_version as i32;
        v.services = c.services;
        v.disable_relay_tx = c.disable_relay_tx;
        // Validated with the configuration.
        v.user_agent = std::borrow::Cow::Owned(c.user_agent().unwrap_or_default().into_bytes());
        Ok(v)
    }

    /// The remote's address as our version gives it: an inbound remote's
    /// own address (the handshake machine adds the services its version
    /// reported); an outbound one's through [`Config::host_to_addr`] when
    /// set; the unspecified address and port 0 when it may be our proxy's.
    fn remote_for_version(&self) -> Result<NetAddress, HandshakeError> {
        let c = &self.inner.config;
        let addr = self.inner.addr;
        let mut you = match (&c.host_to_addr, self.direction()) {
            (Some(hook), Direction::Outbound) => {
                let na = hook(
                    &addr.ip().to_string(),
                    addr.port(),
                    dcr_wire::ServiceFlags::NONE,
                )
                .map_err(HandshakeError::Refused)?;
                // Only IPs fit the version's address form; the reference
                // writes anything else as zeros.
                let ip = na.ip_addr().unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
                NetAddress::new(ip, na.port, na.services)
            }
            _ => NetAddress::new(addr.ip(), addr.port(), dcr_wire::ServiceFlags::NONE),
        };
        if let Some(proxy) = &c.proxy {
            let proxy_host = proxy
                .addr
                .rsplit_once(':')
                .map(|(h, _)| h.trim_matches(['[', ']']));
            if proxy_host.is_none_or(|h| h == you.ip.to_canonical().to_string()) {
                you = NetAddress::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0, you.services);
            }
        }
        Ok(you)
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

    /// Our end of the connection: known when the stream is a
    /// `tokio::net::TcpStream` (as [`crate::net`] makes them), `None` for
    /// other streams (the reference's `LocalAddr`, which is nil once
    /// disconnected; this one stays as it was).
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
        let ping = lock(&self.inner.ping).clone();
        let counters = PeerCounters {
            bytes_sent: t.bytes_sent.load(Ordering::Relaxed),
            bytes_received: t.bytes_received.load(Ordering::Relaxed),
            messages_sent: t.messages_sent.load(Ordering::Relaxed),
            messages_received: t.messages_received.load(Ordering::Relaxed),
            last_send: from_micros(t.last_send.load(Ordering::Relaxed)),
            last_recv: from_micros(t.last_recv.load(Ordering::Relaxed)),
            last_ping_nonce: ping.last_ping_nonce,
            last_ping_time: ping.last_ping_time,
            ping_rtt: ping.ping_rtt,
            last_block_height: t.last_block_height.load(Ordering::Relaxed),
            wants_headers: t.wants_headers.load(Ordering::Relaxed),
        };
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

    fn reason_or_requested(&self) -> DisconnectReason {
        self.disconnect_reason()
            .unwrap_or(DisconnectReason::Requested)
    }

    fn disconnected_error(&self) -> PeerError {
        PeerError::Disconnected(self.reason_or_requested())
    }

    // ---- outbound queue -------------------------------------------------------

    /// Encodes `msg` at the negotiated version.
    fn frame(&self, msg: &Message<'_>) -> Result<Outgoing, PeerError> {
        Ok(Outgoing::encode(
            msg,
            self.inner.config.net,
            self.protocol_version(),
        )?)
    }

    /// Counts `out` in the output budget and hands it to the task through
    /// `permit`. Passing the budget ends the peer, as the reference does.
    fn send_counted(&self, permit: mpsc::Permit<'_, Cmd>, out: Outgoing) -> Result<(), PeerError> {
        if let Err(v) = self.inner.budget.reserve(out.frame.len()) {
            self.disconnect_with(DisconnectReason::Protocol(v));
            return Err(self.disconnected_error());
        }
        permit.send(Cmd::Frame(out));
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
    /// [`crate::ProtocolViolation::QueuedOutput`] (the reference's rule).
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

    /// Sends `msg`, waiting for room in the queue (by count and by bytes:
    /// backpressure instead of the disconnect) and then until it has been
    /// written.
    pub async fn send_message(&self, msg: &Message<'_>) -> Result<(), PeerError> {
        let (tx, rx) = oneshot::channel();
        let mut out = self.frame(msg)?;
        out.done = Some(tx);
        self.enqueue_wait(out).await?;
        rx.await.unwrap_or_else(|_| Err(self.disconnected_error()))
    }

    /// Queues `msg`, waiting for room in the queue (by count and by bytes)
    /// but not for the write.
    pub async fn queue_message_wait(&self, msg: &Message<'_>) -> Result<(), PeerError> {
        self.enqueue_wait(self.frame(msg)?).await
    }

    async fn enqueue_wait(&self, out: Outgoing) -> Result<(), PeerError> {
        let cancel = &self.inner.cancel;
        let permit = tokio::select! {
            p = self.inner.cmd_tx.reserve() => p.map_err(|_| self.disconnected_error())?,
            _ = cancel.cancelled() => return Err(self.disconnected_error()),
        };
        let len = out.frame.len();
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
        self.send_counted(permit, out)
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

    /// True when the peer is known to have `iv`.
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
    /// reference suppresses duplicates.
    pub fn push_get_headers(&self, locator: Vec<Hash>, stop: Hash) -> Result<(), PeerError> {
        self.command(Cmd::Locator(Locator::GetHeaders, locator, stop))
    }

    /// Sends `getblocks`, suppressing a repeat of the previous request.
    pub fn push_get_blocks(&self, locator: Vec<Hash>, stop: Hash) -> Result<(), PeerError> {
        self.command(Cmd::Locator(Locator::GetBlocks, locator, stop))
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

impl Traffic {
    /// A frame of `bytes` was read.
    pub(crate) fn count_read(&self, bytes: usize) {
        self.bytes_received
            .fetch_add(bytes as u64, Ordering::Relaxed);
        self.messages_received.fetch_add(1, Ordering::Relaxed);
        self.last_recv
            .store(micros(SystemTime::now()), Ordering::Relaxed);
    }

    /// A frame of `bytes` was written.
    pub(crate) fn count_write(&self, bytes: usize) {
        self.bytes_sent.fetch_add(bytes as u64, Ordering::Relaxed);
        self.messages_sent.fetch_add(1, Ordering::Relaxed);
        self.last_send
            .store(micros(SystemTime::now()), Ordering::Relaxed);
    }
}
