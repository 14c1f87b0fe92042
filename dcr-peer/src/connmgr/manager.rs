//! The connection manager's actor and its handle.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use dcr_wire::{GetAddr, Message, NetAddressV2};
use rand::Rng;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio::time::{sleep_until, Instant};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{debug, info};

use super::addrbook::{seed_addresses, AddressBook, AddressSource};
use super::score::BanScore;
use crate::config::Config;
use crate::error::{DisconnectReason, PeerError};
use crate::fsm::handshake::Direction;
use crate::listeners::PeerEvent;
use crate::peer::Peer;
use crate::stats::PeerStats;

/// How the manager behaves. `ManagerConfig::new(peer_config)` gives
/// dcrd-like defaults.
#[derive(Clone)]
pub struct ManagerConfig {
    /// The configuration every peer gets (network, user agent, ...). Its
    /// `events` channel is taken over by the manager; use
    /// [`ManagerConfig::events`] to receive messages.
    pub peer: Config,
    /// Outbound peers to keep connected (dcrd: 8).
    pub target_outbound: usize,
    /// Inbound peers accepted at most (dcrd: 125 total minus outbound).
    pub max_inbound: usize,
    /// Connections from one IP at most (dcrd's --maxsameip: 5).
    pub max_per_host: usize,
    /// IPs that bypass the inbound limits and are never banned.
    pub whitelist: Vec<IpAddr>,
    /// Where to accept inbound peers.
    pub listen: Vec<SocketAddr>,
    /// Addresses to start the address book with.
    pub seeds: Vec<SocketAddr>,
    /// Peers always reconnected.
    pub persistent: Vec<SocketAddr>,
    pub dial_timeout: Duration,
    /// First retry delay for a persistent peer; doubles per failure.
    pub retry_base: Duration,
    /// Retry delays never exceed this.
    pub retry_max: Duration,
    /// Misbehaviour score at which an address is banned (dcrd: 100).
    pub ban_threshold: u32,
    /// How long a ban lasts (dcrd: 24 h).
    pub ban_duration: Duration,
    /// Ask every new outbound peer for addresses.
    pub get_addr_on_connect: bool,
    /// Where addresses come from (default: a fresh [`AddressBook`]).
    pub source: Arc<dyn AddressSource>,
    /// Messages received by any peer, forwarded after the manager's own
    /// handling (addr, addrv2, getaddr).
    pub events: Option<mpsc::Sender<PeerEvent>>,
    /// Learn loopback, private and link-local addresses from peers too. Off
    /// by default, as in the reference: a public peer must not be able to
    /// make us dial into our own network. On for test networks on one
    /// machine or LAN.
    pub accept_local_addresses: bool,
}

impl ManagerConfig {
    pub fn new(peer: Config) -> Self {
        ManagerConfig {
            peer,
            target_outbound: 8,
            max_inbound: 117,
            max_per_host: 5,
            whitelist: Vec::new(),
            listen: Vec::new(),
            seeds: Vec::new(),
            persistent: Vec::new(),
            dial_timeout: crate::net::DEFAULT_DIAL_TIMEOUT,
            retry_base: Duration::from_secs(5),
            retry_max: Duration::from_secs(300),
            ban_threshold: 100,
            ban_duration: Duration::from_secs(24 * 3600),
            get_addr_on_connect: true,
            source: Arc::new(AddressBook::default()),
            events: None,
            accept_local_addresses: false,
        }
    }
}

/// What happened, for the user.
#[derive(Debug, Clone)]
pub enum ManagerEvent {
    Connected(PeerStats),
    Disconnected {
        addr: SocketAddr,
        id: u64,
        reason: DisconnectReason,
    },
    AddressLearned(SocketAddr),
    Banned {
        ip: IpAddr,
        until: Instant,
    },
    /// An outbound connection attempt failed.
    DialFailed {
        addr: SocketAddr,
        error: String,
    },
}

/// A ban in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BanInfo {
    pub ip: IpAddr,
    pub remaining: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum ManagerError {
    #[error("connection manager stopped")]
    Stopped,
    #[error("cannot listen on {0}: {1}")]
    Listen(SocketAddr, std::io::Error),
    #[error("{0}")]
    Peer(#[from] PeerError),
    #[error("{0} is banned")]
    Banned(IpAddr),
    #[error("already connected or connecting to {0}")]
    Duplicate(SocketAddr),
}

enum Cmd {
    AddPersistent(SocketAddr),
    RemovePersistent(SocketAddr),
    Connect(SocketAddr, oneshot::Sender<Result<Peer, ManagerError>>),
    Disconnect(u64),
    Peers(oneshot::Sender<Vec<PeerStats>>),
    Bans(oneshot::Sender<Vec<BanInfo>>),
    Score(IpAddr, oneshot::Sender<u32>),
    Misbehaving(IpAddr, u32, u32),
    Shutdown(oneshot::Sender<()>),
}

/// The delay before retry number `attempt` (0 for the first retry):
/// `base * 2^attempt`, at most `max`, less up to a quarter at random so
/// peers restarted together do not retry in step.
pub fn backoff(base: Duration, max: Duration, attempt: u32) -> Duration {
    let full = base.saturating_mul(1u32 << attempt.min(16)).min(max);
    let jitter = rand::thread_rng().gen_range(0.0..0.25);
    full.mul_f64(1.0 - jitter)
}

/// A handle to a running connection manager. Clones share it.
#[derive(Clone)]
pub struct ConnManager {
    cmd: mpsc::Sender<Cmd>,
    listening: Arc<Vec<SocketAddr>>,
    events: broadcast::Sender<ManagerEvent>,
    source: Arc<dyn AddressSource>,
}

impl ConnManager {
    /// Binds the listeners and starts the manager.
    pub async fn start(cfg: ManagerConfig) -> Result<ConnManager, ManagerError> {
        cfg.peer.validate().map_err(PeerError::from)?;
        let mut listeners = Vec::new();
        for addr in &cfg.listen {
            listeners.push(
                TcpListener::bind(addr)
                    .await
                    .map_err(|e| ManagerError::Listen(*addr, e))?,
            );
        }
        let listening = listeners
            .iter()
            .filter_map(|l| l.local_addr().ok())
            .collect();
        let (cmd_tx, cmd_rx) = mpsc::channel(64);
        let (ev_tx, _) = broadcast::channel(1024);
        let handle = ConnManager {
            cmd: cmd_tx,
            listening: Arc::new(listening),
            events: ev_tx.clone(),
            source: cfg.source.clone(),
        };
        let actor = Actor::new(cfg, ev_tx, listeners);
        tokio::spawn(actor.run(cmd_rx));
        Ok(handle)
    }

    /// The addresses the listeners are bound to.
    pub fn listen_addrs(&self) -> &[SocketAddr] {
        &self.listening
    }

    /// Events from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<ManagerEvent> {
        self.events.subscribe()
    }

    /// The address source in use.
    pub fn addresses(&self) -> &Arc<dyn AddressSource> {
        &self.source
    }

    async fn call<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<T>) -> Cmd,
    ) -> Result<T, ManagerError> {
        let (tx, rx) = oneshot::channel();
        self.cmd
            .send(make(tx))
            .await
            .map_err(|_| ManagerError::Stopped)?;
        rx.await.map_err(|_| ManagerError::Stopped)
    }

    pub async fn add_persistent(&self, addr: SocketAddr) -> Result<(), ManagerError> {
        self.cmd
            .send(Cmd::AddPersistent(addr))
            .await
            .map_err(|_| ManagerError::Stopped)
    }

    pub async fn remove_persistent(&self, addr: SocketAddr) -> Result<(), ManagerError> {
        self.cmd
            .send(Cmd::RemovePersistent(addr))
            .await
            .map_err(|_| ManagerError::Stopped)
    }

    /// Connects to `addr` now (counted as outbound, not persistent).
    pub async fn connect(&self, addr: SocketAddr) -> Result<Peer, ManagerError> {
        self.call(|tx| Cmd::Connect(addr, tx)).await?
    }

    /// Disconnects the peer with this id.
    pub async fn disconnect(&self, id: u64) -> Result<(), ManagerError> {
        self.cmd
            .send(Cmd::Disconnect(id))
            .await
            .map_err(|_| ManagerError::Stopped)
    }

    /// Stats of every connected peer.
    pub async fn peers(&self) -> Result<Vec<PeerStats>, ManagerError> {
        self.call(Cmd::Peers).await
    }

    /// Bans in force.
    pub async fn bans(&self) -> Result<Vec<BanInfo>, ManagerError> {
        self.call(Cmd::Bans).await
    }

    /// The misbehaviour score of an IP now.
    pub async fn score(&self, ip: IpAddr) -> Result<u32, ManagerError> {
        self.call(|tx| Cmd::Score(ip, tx)).await
    }

    /// Reports misbehaviour the manager cannot see (a bad block, say).
    pub async fn misbehaving(
        &self,
        ip: IpAddr,
        persistent: u32,
        transient: u32,
    ) -> Result<(), ManagerError> {
        self.cmd
            .send(Cmd::Misbehaving(ip, persistent, transient))
            .await
            .map_err(|_| ManagerError::Stopped)
    }

    /// Disconnects every peer, stops accepting and dialing, and waits for
    /// every task to end (or `deadline`).
    pub async fn shutdown(&self, deadline: Duration) -> Result<(), ManagerError> {
        tokio::time::timeout(deadline, self.call(Cmd::Shutdown))
            .await
            .map_err(|_| ManagerError::Stopped)?
    }
}

/// Results the actor's helper tasks report.
enum Note {
    Dialed(
        SocketAddr,
        bool,
        Result<Peer, PeerError>,
        Option<oneshot::Sender<Result<Peer, ManagerError>>>,
    ),
    Accepted(TcpStream, SocketAddr),
    Inbound(SocketAddr, Result<Peer, PeerError>),
    Gone(Peer, DisconnectReason),
}

struct Connected {
    peer: Peer,
    /// The address it is known by: the dialed one (outbound) or the
    /// remote's socket address (inbound).
    addr: SocketAddr,
    persistent: bool,
    /// This peer's `getaddr` has been answered.
    answered_getaddr: bool,
}

struct Actor {
    cfg: ManagerConfig,
    events: broadcast::Sender<ManagerEvent>,
    listeners: Vec<TcpListener>,
    peers: HashMap<u64, Connected>,
    /// Addresses being dialed (outbound, until their handshake is done).
    dialing: HashSet<SocketAddr>,
    /// Inbound connections still in their handshake: counted against the
    /// inbound limit, never against the outbound target (an inbound flood
    /// must not stop us dialing out).
    handshaking: HashSet<SocketAddr>,
    persistent: HashMap<SocketAddr, (u32, Option<Instant>)>,
    scores: HashMap<IpAddr, BanScore>,
    bans: HashMap<IpAddr, Instant>,
    tasks: TaskTracker,
    stop: CancellationToken,
    notes_tx: mpsc::Sender<Note>,
    notes_rx: mpsc::Receiver<Note>,
    peer_events: mpsc::Receiver<PeerEvent>,
    peer_config: Config,
}

impl Actor {
    fn new(
        cfg: ManagerConfig,
        events: broadcast::Sender<ManagerEvent>,
        listeners: Vec<TcpListener>,
    ) -> Actor {
        let (notes_tx, notes_rx) = mpsc::channel(256);
        let (pe_tx, peer_events) = mpsc::channel(1024);
        let mut peer_config = cfg.peer.clone();
        peer_config.events = Some(pe_tx);
        cfg.source.add(&seed_addresses(&cfg.seeds));
        let persistent = cfg
            .persistent
            .iter()
            .map(|a| (*a, (0, Some(Instant::now()))))
            .collect();
        Actor {
            cfg,
            events,
            listeners,
            peers: HashMap::new(),
            dialing: HashSet::new(),
            handshaking: HashSet::new(),
            persistent,
            scores: HashMap::new(),
            bans: HashMap::new(),
            tasks: TaskTracker::new(),
            stop: CancellationToken::new(),
            notes_tx,
            notes_rx,
            peer_events,
            peer_config,
        }
    }

    fn emit(&self, ev: ManagerEvent) {
        let _ = self.events.send(ev);
    }

    async fn run(mut self, mut cmds: mpsc::Receiver<Cmd>) {
        for l in std::mem::take(&mut self.listeners) {
            let notes = self.notes_tx.clone();
            let stop = self.stop.clone();
            self.tasks.spawn(async move {
                loop {
                    let accepted = tokio::select! {
                        _ = stop.cancelled() => return,
                        r = l.accept() => r,
                    };
                    match accepted {
                        Ok((s, a)) => {
                            if notes.send(Note::Accepted(s, a)).await.is_err() {
                                return;
                            }
                        }
                        Err(e) => {
                            debug!(error = %e, "accept failed");
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                    }
                }
            });
        }
        let mut tick = tokio::time::interval(Duration::from_millis(250));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            // Only addresses not already in hand: those are skipped by
            // `maintain`, and a due time left in the past would spin here.
            let next_retry = self
                .persistent
                .iter()
                .filter(|(a, _)| !self.taken(**a))
                .filter_map(|(_, (_, at))| *at)
                .min();
            tokio::select! {
                cmd = cmds.recv() => match cmd {
                    Some(Cmd::Shutdown(done)) => {
                        self.shutdown().await;
                        let _ = done.send(());
                        return;
                    }
                    Some(c) => self.command(c),
                    None => {
                        self.shutdown().await;
                        return;
                    }
                },
                Some(note) = self.notes_rx.recv() => self.note(note),
                Some(ev) = self.peer_events.recv() => self.peer_event(ev),
                _ = sleep_until(next_retry.unwrap_or_else(|| Instant::now() + Duration::from_secs(3600))), if next_retry.is_some() => self.maintain(),
                _ = tick.tick() => self.maintain(),
            }
        }
    }

    async fn shutdown(&mut self) {
        info!(peers = self.peers.len(), "connection manager shutting down");
        // Stop accepting and dialing, then end every peer.
        self.stop.cancel();
        self.tasks.close();
        for c in self.peers.values() {
            c.peer.disconnect();
        }
        // Peers still handshaking are reported through the notes; end them
        // as they come until every helper task is gone.
        let tasks = self.tasks.clone();
        let done = tasks.wait();
        tokio::pin!(done);
        loop {
            tokio::select! {
                _ = &mut done => break,
                Some(note) = self.notes_rx.recv() => match note {
                    Note::Dialed(_, _, Ok(p), _) | Note::Inbound(_, Ok(p)) => p.disconnect(),
                    _ => {}
                },
            }
        }
        for c in std::mem::take(&mut self.peers).into_values() {
            c.peer.wait_for_disconnect().await;
        }
    }

    fn is_banned(&mut self, ip: IpAddr) -> bool {
        let now = Instant::now();
        match self.bans.get(&ip) {
            Some(until) if *until > now => !self.cfg.whitelist.contains(&ip),
            Some(_) => {
                self.bans.remove(&ip);
                false
            }
            None => false,
        }
    }

    fn taken(&self, addr: SocketAddr) -> bool {
        self.dialing.contains(&addr)
            || self.handshaking.contains(&addr)
            || self.peers.values().any(|c| c.addr == addr)
    }

    fn outbound_count(&self) -> usize {
        self.peers
            .values()
            .filter(|c| c.peer.direction() == Direction::Outbound)
            .count()
            + self
                .dialing
                .iter()
                .filter(|a| !self.persistent.contains_key(a))
                .count()
    }

    fn command(&mut self, c: Cmd) {
        match c {
            Cmd::AddPersistent(a) => {
                self.persistent
                    .entry(a)
                    .or_insert((0, Some(Instant::now())));
                if let Some(c) = self.peers.values_mut().find(|c| c.addr == a) {
                    c.persistent = true;
                }
            }
            Cmd::RemovePersistent(a) => {
                self.persistent.remove(&a);
                if let Some(c) = self.peers.values_mut().find(|c| c.addr == a) {
                    c.persistent = false;
                }
            }
            Cmd::Connect(a, reply) => {
                if self.is_banned(a.ip()) {
                    let _ = reply.send(Err(ManagerError::Banned(a.ip())));
                } else if self.taken(a) {
                    let _ = reply.send(Err(ManagerError::Duplicate(a)));
                } else {
                    self.dial(a, false, Some(reply));
                }
            }
            Cmd::Disconnect(id) => {
                if let Some(c) = self.peers.get(&id) {
                    c.peer.disconnect();
                }
            }
            Cmd::Peers(reply) => {
                let _ = reply.send(self.peers.values().map(|c| c.peer.stats()).collect());
            }
            Cmd::Bans(reply) => {
                let now = Instant::now();
                let _ = reply.send(
                    self.bans
                        .iter()
                        .filter(|(_, u)| **u > now)
                        .map(|(ip, u)| BanInfo {
                            ip: *ip,
                            remaining: *u - now,
                        })
                        .collect(),
                );
            }
            Cmd::Score(ip, reply) => {
                let v = self
                    .scores
                    .get(&ip)
                    .map_or(0, |s| s.value(Instant::now().into_std()));
                let _ = reply.send(v);
            }
            Cmd::Misbehaving(ip, p, t) => self.add_score(ip, p, t, "reported misbehaviour"),
            Cmd::Shutdown(_) => unreachable!("handled by the loop"),
        }
    }

    fn add_score(&mut self, ip: IpAddr, persistent: u32, transient: u32, why: &str) {
        if self.cfg.whitelist.contains(&ip) {
            return;
        }
        let score = self.scores.entry(ip).or_default().add(
            persistent,
            transient,
            Instant::now().into_std(),
        );
        debug!(%ip, score, why, "misbehaviour");
        if score >= self.cfg.ban_threshold {
            let until = Instant::now() + self.cfg.ban_duration;
            self.bans.insert(ip, until);
            self.scores.remove(&ip);
            info!(%ip, "banned");
            for c in self.peers.values().filter(|c| c.addr.ip() == ip) {
                c.peer.disconnect();
            }
            self.emit(ManagerEvent::Banned { ip, until });
        }
    }

    /// Starts a connection attempt to `addr`.
    fn dial(
        &mut self,
        addr: SocketAddr,
        persistent: bool,
        reply: Option<oneshot::Sender<Result<Peer, ManagerError>>>,
    ) {
        self.dialing.insert(addr);
        self.cfg.source.attempted(addr);
        let notes = self.notes_tx.clone();
        let cfg = self.peer_config.clone();
        let timeout = self.cfg.dial_timeout;
        let stop = self.stop.clone();
        self.tasks.spawn(async move {
            let target = addr.to_string();
            let r = tokio::select! {
                _ = stop.cancelled() => return,
                r = tokio::time::timeout(timeout, crate::net::connect(&target, cfg)) => r,
            };
            let r = r.unwrap_or(Err(PeerError::ConnectTimeout));
            if let Err(mpsc::error::SendError(Note::Dialed(_, _, Ok(p), _))) =
                notes.send(Note::Dialed(addr, persistent, r, reply)).await
            {
                p.disconnect();
            }
        });
    }

    fn maintain(&mut self) {
        let now = Instant::now();
        // Forget what no longer counts, so neither map grows with every
        // address that ever misbehaved.
        self.bans.retain(|_, until| *until > now);
        let now_std = now.into_std();
        self.scores.retain(|_, s| s.value(now_std) > 0);
        // Persistent peers due for a (re)connect.
        let due: Vec<SocketAddr> = self
            .persistent
            .iter()
            .filter(|(a, (_, at))| at.is_some_and(|t| t <= now) && !self.taken(**a))
            .map(|(a, _)| *a)
            .collect();
        for a in due {
            let banned_until = if self.is_banned(a.ip()) {
                self.bans.get(&a.ip()).copied()
            } else {
                None
            };
            if let Some(p) = self.persistent.get_mut(&a) {
                // A banned persistent peer waits for its ban to end.
                p.1 = banned_until;
            }
            if banned_until.is_none() {
                self.dial(a, true, None);
            }
        }
        // Fill the outbound target from the address source.
        let mut guard = 0;
        while self.outbound_count() < self.cfg.target_outbound && guard < self.cfg.target_outbound {
            guard += 1;
            let bans: HashSet<IpAddr> = self
                .bans
                .iter()
                .filter(|(_, u)| **u > now)
                .map(|(ip, _)| *ip)
                .collect();
            let skip = |a: SocketAddr| {
                self.taken(a) || bans.contains(&a.ip()) || self.persistent.contains_key(&a)
            };
            let Some(addr) = self.cfg.source.next_address(&skip) else {
                break;
            };
            self.dial(addr, false, None);
        }
    }

    fn note(&mut self, n: Note) {
        match n {
            Note::Dialed(addr, persistent, result, reply) => {
                self.dialing.remove(&addr);
                match result {
                    Ok(peer) => {
                        if self.is_banned(addr.ip()) || self.peers.values().any(|c| c.addr == addr)
                        {
                            peer.disconnect();
                            if let Some(r) = reply {
                                let _ = r.send(Err(ManagerError::Duplicate(addr)));
                            }
                            return;
                        }
                        self.cfg.source.good(addr);
                        if let Some(p) = self.persistent.get_mut(&addr) {
                            p.0 = 0;
                        }
                        if self.cfg.get_addr_on_connect {
                            let _ = peer.queue_message(&Message::GetAddr(GetAddr));
                        }
                        self.register(peer.clone(), addr, persistent);
                        if let Some(r) = reply {
                            let _ = r.send(Ok(peer));
                        }
                    }
                    Err(e) => {
                        debug!(%addr, error = %e, "dial failed");
                        self.cfg.source.failed(addr);
                        self.emit(ManagerEvent::DialFailed {
                            addr,
                            error: e.to_string(),
                        });
                        if let Some(r) = reply {
                            let _ = r.send(Err(e.into()));
                        }
                        self.schedule_retry(addr);
                    }
                }
            }
            Note::Accepted(stream, addr) => self.accepted(stream, addr),
            Note::Inbound(addr, result) => {
                self.handshaking.remove(&addr);
                match result {
                    // Banned while it was handshaking: not taken after all.
                    Ok(peer) if self.is_banned(addr.ip()) => peer.disconnect(),
                    Ok(peer) => self.register(peer, addr, false),
                    Err(e) => {
                        debug!(%addr, error = %e, "inbound handshake failed");
                        self.score_reason(addr.ip(), &e.to_reason());
                    }
                }
            }
            Note::Gone(peer, reason) => {
                let Some(c) = self.peers.remove(&peer.id()) else {
                    return;
                };
                info!(addr = %c.addr, %reason, "peer disconnected");
                self.score_reason(c.addr.ip(), &reason);
                if c.persistent {
                    self.schedule_retry(c.addr);
                }
                self.emit(ManagerEvent::Disconnected {
                    addr: c.addr,
                    id: peer.id(),
                    reason,
                });
            }
        }
    }

    fn schedule_retry(&mut self, addr: SocketAddr) {
        if let Some((attempt, at)) = self.persistent.get_mut(&addr) {
            let wait = backoff(self.cfg.retry_base, self.cfg.retry_max, *attempt);
            *attempt = attempt.saturating_add(1);
            *at = Some(Instant::now() + wait);
            debug!(%addr, ?wait, "persistent peer retry scheduled");
        }
    }

    /// Scores a disconnect by its reason: protocol violations and floods
    /// weigh most, stalls less, ordinary departures nothing.
    fn score_reason(&mut self, ip: IpAddr, reason: &DisconnectReason) {
        let points = match reason {
            DisconnectReason::Protocol(_) => 50,
            DisconnectReason::Stalled(_)
            | DisconnectReason::Handshake(_)
            | DisconnectReason::HandshakeTimeout => 25,
            _ => 0,
        };
        if points > 0 {
            self.add_score(ip, 0, points, "disconnect");
        }
    }

    fn accepted(&mut self, stream: TcpStream, addr: SocketAddr) {
        let ip = addr.ip();
        let white = self.cfg.whitelist.contains(&ip);
        let inbound =
            self.peers.values().filter(|c| c.peer.is_inbound()).count() + self.handshaking.len();
        let same_host = self.peers.values().filter(|c| c.addr.ip() == ip).count()
            + self
                .dialing
                .iter()
                .chain(&self.handshaking)
                .filter(|a| a.ip() == ip)
                .count();
        let refuse = if self.is_banned(ip) {
            Some("banned")
        } else if white {
            None
        } else if inbound >= self.cfg.max_inbound {
            Some("inbound limit")
        } else if same_host >= self.cfg.max_per_host {
            Some("per-host limit")
        } else {
            None
        };
        if let Some(why) = refuse {
            debug!(%addr, why, "inbound refused");
            return; // dropping the stream closes it
        }
        self.handshaking.insert(addr);
        let notes = self.notes_tx.clone();
        let cfg = self.peer_config.clone();
        let stop = self.stop.clone();
        self.tasks.spawn(async move {
            let _ = stream.set_nodelay(true);
            let r = tokio::select! {
                _ = stop.cancelled() => return,
                r = Peer::inbound(stream, addr, cfg) => r,
            };
            if let Err(mpsc::error::SendError(Note::Inbound(_, Ok(p)))) =
                notes.send(Note::Inbound(addr, r)).await
            {
                p.disconnect();
            }
        });
    }

    fn register(&mut self, peer: Peer, addr: SocketAddr, persistent: bool) {
        info!(%addr, direction = ?peer.direction(), "peer connected");
        self.emit(ManagerEvent::Connected(peer.stats()));
        let notes = self.notes_tx.clone();
        let p = peer.clone();
        self.tasks.spawn(async move {
            let reason = p.wait_for_disconnect().await;
            let _ = notes.send(Note::Gone(p, reason)).await;
        });
        self.peers.insert(
            peer.id(),
            Connected {
                peer,
                addr,
                persistent,
                answered_getaddr: false,
            },
        );
    }

    fn peer_event(&mut self, ev: PeerEvent) {
        match &ev.message {
            Message::Addr(a) => {
                let v2: Vec<NetAddressV2> = a
                    .addr_list
                    .iter()
                    .map(|n| {
                        NetAddressV2::new(
                            n.ip_addr(),
                            n.port,
                            n.services,
                            u64::from(n.timestamp.unwrap_or(0)),
                        )
                    })
                    .collect();
                self.learn(&v2);
            }
            Message::AddrV2(a) => self.learn(&a.addr_list),
            Message::GetAddr(_) => {
                // As the reference: answered for inbound peers only (an
                // outbound one could fingerprint us) and once per connection
                // (so a peer cannot make us send our book again and again).
                if let Some(c) = self.peers.get_mut(&ev.peer.id()) {
                    if c.peer.is_inbound() && !c.answered_getaddr {
                        c.answered_getaddr = true;
                        let _ = ev.peer.push_addresses(&self.cfg.source.known(1000));
                    }
                }
            }
            _ => {}
        }
        // Never block the manager on a slow consumer: what does not fit is
        // dropped and logged.
        if let Some(tx) = &self.cfg.events {
            if let Err(mpsc::error::TrySendError::Full(ev)) = tx.try_send(ev) {
                tracing::warn!(peer = %ev.peer.addr(), command = %ev.message.command(), "event channel full, message dropped");
            }
        }
    }

    fn learn(&mut self, addrs: &[NetAddressV2]) {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let addrs = learnable(addrs, self.cfg.accept_local_addresses, now);
        self.cfg.source.add(&addrs);
        for a in &addrs {
            if let Some(ip) = a.ip_addr() {
                self.emit(ManagerEvent::AddressLearned(SocketAddr::new(ip, a.port)));
            }
        }
    }
}

/// The addresses a peer sent that are worth keeping, at Unix time `now`:
/// routable ones only (unless `accept_local`), and a time over a day ahead
/// replaced by five days ago, as the reference does, so such an address is
/// among the first to go.
fn learnable(addrs: &[NetAddressV2], accept_local: bool, now: u64) -> Vec<NetAddressV2> {
    addrs
        .iter()
        .filter(|a| accept_local || a.ip_addr().is_some_and(is_routable))
        .map(|a| {
            let mut a = *a;
            if a.timestamp > now.saturating_add(24 * 3600) {
                a.timestamp = now.saturating_sub(5 * 24 * 3600);
            }
            a
        })
        .collect()
}

/// Whether `ip` is reachable across the internet: not unspecified,
/// loopback, private (RFC 1918, RFC 4193), shared (RFC 6598), link-local or
/// documentation space.
pub fn is_routable(ip: IpAddr) -> bool {
    match ip.to_canonical() {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_unspecified()
                || v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_broadcast()
                || v4.is_documentation()
                || (a == 100 && (64..128).contains(&b)))
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            !(v6.is_unspecified()
                || v6.is_loopback()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || first == 0x2001 && v6.segments()[1] == 0x0db8)
        }
    }
}

/// One node found by [`crawl`].
#[derive(Debug, Clone)]
pub struct CrawlRow {
    pub addr: SocketAddr,
    pub stats: PeerStats,
}

/// Crawls the network from `seed`: connects, asks every peer for
/// addresses, connects to what it learns (up to `max` at once), and
/// returns every node it completed a handshake with, stopping after
/// `duration` or once nothing new has turned up for `quiet`.
pub async fn crawl(
    seed: SocketAddr,
    peer: Config,
    max: usize,
    duration: Duration,
    quiet: Duration,
    mut on_found: impl FnMut(&CrawlRow),
) -> Result<Vec<CrawlRow>, ManagerError> {
    let mut cfg = ManagerConfig::new(peer);
    cfg.seeds = vec![seed];
    // Crawling a test network on this machine or LAN: follow its addresses.
    cfg.accept_local_addresses = !is_routable(seed.ip());
    cfg.target_outbound = max;
    cfg.retry_base = Duration::from_millis(200);
    cfg.source = Arc::new(CrawlSource::default());
    let mgr = ConnManager::start(cfg).await?;
    let mut events = mgr.subscribe();
    let mut found: HashMap<SocketAddr, CrawlRow> = HashMap::new();
    let end = Instant::now() + duration;
    let mut last_new = Instant::now();
    loop {
        let wake = end.min(last_new + quiet);
        tokio::select! {
            _ = sleep_until(wake) => break,
            ev = events.recv() => match ev {
                Ok(ManagerEvent::Connected(stats)) => {
                    // Found: drop it again so the next address gets a slot.
                    let addr = stats.addr;
                    if let std::collections::hash_map::Entry::Vacant(v) = found.entry(addr) {
                        let row = v.insert(CrawlRow { addr, stats: stats.clone() });
                        on_found(row);
                        last_new = Instant::now();
                    }
                    let m = mgr.clone();
                    let id = stats.id;
                    tokio::spawn(async move {
                        // Leave time for its addresses to arrive first.
                        tokio::time::sleep(Duration::from_millis(300)).await;
                        let _ = m.disconnect(id).await;
                    });
                }
                Ok(ManagerEvent::AddressLearned(_)) => last_new = Instant::now(),
                Ok(_) => {}
                Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => break,
            }
        }
    }
    mgr.shutdown(Duration::from_secs(10)).await?;
    let mut rows: Vec<CrawlRow> = found.into_values().collect();
    rows.sort_by_key(|r| r.addr);
    Ok(rows)
}

/// The crawler's address source: every address is tried once.
#[derive(Default)]
struct CrawlSource {
    book: AddressBook,
    tried: std::sync::Mutex<HashSet<SocketAddr>>,
}

impl AddressSource for CrawlSource {
    fn next_address(&self, skip: &dyn Fn(SocketAddr) -> bool) -> Option<SocketAddr> {
        let tried = crate::sync::lock(&self.tried).clone();
        self.book.next_address(&|a| skip(a) || tried.contains(&a))
    }

    fn attempted(&self, addr: SocketAddr) {
        crate::sync::lock(&self.tried).insert(addr);
        self.book.attempted(addr);
    }

    fn good(&self, addr: SocketAddr) {
        self.book.good(addr);
    }

    fn failed(&self, addr: SocketAddr) {
        self.book.failed(addr);
    }

    fn add(&self, addrs: &[NetAddressV2]) {
        self.book.add(addrs);
    }

    fn known(&self, max: usize) -> Vec<NetAddressV2> {
        self.book.known(max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dcr_wire::ServiceFlags;

    #[test]
    fn backoff_doubles_with_jitter_and_caps() {
        let base = Duration::from_secs(5);
        let max = Duration::from_secs(300);
        for attempt in 0..6 {
            let full = base * (1 << attempt);
            for _ in 0..50 {
                let d = backoff(base, max, attempt);
                assert!(d <= full && d > full.mul_f64(0.74), "{attempt}: {d:?}");
            }
        }
        for _ in 0..50 {
            let d = backoff(base, max, 40);
            assert!(d <= max && d > max.mul_f64(0.74));
        }
    }

    #[test]
    fn routable_addresses() {
        for ip in ["8.8.8.8", "2a01:4f8::1", "::ffff:1.2.3.4"] {
            assert!(is_routable(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "0.0.0.0",
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.1.1",
            "100.64.0.1",
            "192.0.2.1",
            "255.255.255.255",
            "::",
            "::1",
            "fd00::1",
            "fe80::1",
            "2001:db8::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(!is_routable(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn learnable_drops_local_addresses_and_dates_the_future_back() {
        let now = 1_800_000_000;
        let at = |ip: &str, t: u64| {
            NetAddressV2::new(ip.parse().unwrap(), 9108, ServiceFlags::NODE_NETWORK, t)
        };
        let sent = [
            at("8.8.8.8", now),
            at("192.168.1.1", now),
            at("1.1.1.1", now + 2 * 24 * 3600),
        ];
        let kept = learnable(&sent, false, now);
        assert_eq!(kept.len(), 2);
        assert_eq!(kept[0], sent[0]);
        assert_eq!(kept[1].timestamp, now - 5 * 24 * 3600);
        assert_eq!(learnable(&sent, true, now).len(), 3);
    }
}
