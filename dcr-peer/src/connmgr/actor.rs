//! The connection manager's actor: one task that owns every connection
//! and dials, accepts and registers peers, asking [`super::policy`] for
//! every decision.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use dcr_wire::{GetAddr, Message, NetAddressV2};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio::time::{sleep_until, Instant};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{debug, info};

use super::addrbook::{learnable, seed_addresses};
use super::config::{ManagerConfig, ManagerError, ManagerEvent};
use super::handle::Cmd;
use super::policy::{
    admit_inbound, misbehaviour_score, outbound_group_in_use, BanList, InboundCounts, RetrySchedule,
};
use crate::admission::{self, AddressGroup, PendingPool};
use crate::config::Config;
use crate::error::{DisconnectReason, PeerError};
use crate::fsm::handshake::Direction;
use crate::hooks::Hooks;
use crate::listeners::PeerEvent;
use crate::peer::Peer;

/// How often the actor checks its targets and schedules.
const MAINTAIN_TICK: Duration = Duration::from_millis(250);
/// How long a listener waits after a failed accept (out of descriptors
/// and the like) before accepting again.
const ACCEPT_RETRY: Duration = Duration::from_millis(50);
/// Addresses sent at most in answer to `getaddr` (the reference's
/// maximum per `addr` message).
const GETADDR_REPLY_MAX: usize = 1000;

/// The first id of whitelisted handshakes, far from the pool's own.
const WHITELISTED_IDS: u64 = 1 << 63;

/// The pending pool's bounds for this manager: at most its inbound limit
/// (and the admission module's maximum), at most its per-host limit from
/// one address.
fn pending_limits(cfg: &ManagerConfig) -> admission::Limits {
    let d = admission::Limits::default();
    let capacity = d.capacity.min(cfg.max_inbound).max(1);
    admission::Limits {
        capacity,
        per_address: d.per_address.min(cfg.max_per_host).max(1),
        per_group: d.per_group.min(capacity),
        pressure: capacity / 2,
        pressure_timeout: d.pressure_timeout,
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
    /// An inbound handshake ended: its place in the pending pool, its
    /// address, and the peer or why not.
    Inbound(u64, SocketAddr, Result<Peer, PeerError>),
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

pub(super) struct Actor {
    cfg: ManagerConfig,
    events: broadcast::Sender<ManagerEvent>,
    listeners: Vec<TcpListener>,
    peers: HashMap<u64, Connected>,
    /// Addresses being dialed (outbound, until their handshake is done).
    dialing: HashSet<SocketAddr>,
    /// Inbound connections still in their handshake: counted against the
    /// inbound limit, never against the outbound target (an inbound flood
    /// must not stop us dialing out).
    handshaking: HashMap<u64, SocketAddr>,
    /// Their places, with the means to end each: a newcomer displaces the
    /// oldest of the crowdest group instead of being refused, as
    /// [`crate::net::serve`] admits (see [`crate::admission`]).
    pending: PendingPool<(SocketAddr, CancellationToken)>,
    /// Ids for whitelisted handshakes, which take no place in the pool
    /// (counted from [`WHITELISTED_IDS`], apart from the pool's).
    whitelisted_ids: u64,
    persistent: HashMap<SocketAddr, RetrySchedule>,
    bans: BanList,
    tasks: TaskTracker,
    stop: CancellationToken,
    notes_tx: mpsc::Sender<Note>,
    notes_rx: mpsc::Receiver<Note>,
    peer_events: mpsc::Receiver<PeerEvent>,
    peer_config: Config,
    /// The peers' hooks, their events coming to the actor.
    peer_hooks: Hooks,
}

impl Actor {
    pub(super) fn new(
        cfg: ManagerConfig,
        events: broadcast::Sender<ManagerEvent>,
        listeners: Vec<TcpListener>,
    ) -> Actor {
        let (notes_tx, notes_rx) = mpsc::channel(256);
        let (pe_tx, peer_events) = mpsc::channel(1024);
        let peer_config = cfg.peer.clone();
        let peer_hooks = cfg.hooks.clone().with_events(pe_tx);
        cfg.source.add(&seed_addresses(&cfg.seeds));
        let now = Instant::now();
        let persistent = cfg
            .persistent
            .iter()
            .map(|a| (*a, RetrySchedule::now(now)))
            .collect();
        let bans = BanList::new(cfg.ban_threshold, cfg.ban_duration, &cfg.whitelist);
        let pending = PendingPool::new(pending_limits(&cfg));
        Actor {
            cfg,
            events,
            listeners,
            peers: HashMap::new(),
            dialing: HashSet::new(),
            handshaking: HashMap::new(),
            pending,
            whitelisted_ids: WHITELISTED_IDS,
            persistent,
            bans,
            tasks: TaskTracker::new(),
            stop: CancellationToken::new(),
            notes_tx,
            notes_rx,
            peer_events,
            peer_config,
            peer_hooks,
        }
    }

    fn emit(&self, ev: ManagerEvent) {
        let _ = self.events.send(ev);
    }

    pub(super) async fn run(mut self, mut cmds: mpsc::Receiver<Cmd>) {
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
                            tokio::time::sleep(ACCEPT_RETRY).await;
                        }
                    }
                }
            });
        }
        let mut tick = tokio::time::interval(MAINTAIN_TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            // Only addresses not already in hand: those are skipped by
            // `maintain`, and a due time left in the past would spin here.
            let next_retry = self
                .persistent
                .iter()
                .filter(|(a, _)| !self.taken(**a))
                .filter_map(|(_, r)| r.due)
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
                    Note::Dialed(_, _, Ok(p), _) | Note::Inbound(_, _, Ok(p)) => p.disconnect(),
                    _ => {}
                },
            }
        }
        for c in std::mem::take(&mut self.peers).into_values() {
            c.peer.wait_for_disconnect().await;
        }
    }

    fn is_banned(&self, ip: std::net::IpAddr) -> bool {
        self.bans.is_banned(ip, Instant::now())
    }

    fn taken(&self, addr: SocketAddr) -> bool {
        self.dialing.contains(&addr)
            || self.handshaking.values().any(|a| *a == addr)
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
                    .or_insert(RetrySchedule::now(Instant::now()));
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
                let _ = reply.send(self.bans.bans(Instant::now()));
            }
            Cmd::Score(ip, reply) => {
                let _ = reply.send(self.bans.score(ip, Instant::now()));
            }
            Cmd::Misbehaving(ip, p, t) => self.add_score(ip, p, t, "reported misbehaviour"),
            Cmd::Shutdown(_) => unreachable!("handled by the loop"),
        }
    }

    fn add_score(&mut self, ip: std::net::IpAddr, persistent: u32, transient: u32, why: &str) {
        let now = Instant::now();
        let banned = self.bans.add(ip, persistent, transient, now);
        debug!(%ip, score = self.bans.score(ip, now), why, "misbehaviour");
        if let Some(until) = banned {
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
        let hooks = self.peer_hooks.clone();
        let timeout = self.cfg.dial_timeout;
        let stop = self.stop.clone();
        self.tasks.spawn(async move {
            let target = addr.to_string();
            let r = tokio::select! {
                _ = stop.cancelled() => return,
                r = tokio::time::timeout(timeout, crate::net::connect(&target, cfg, hooks)) => r,
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
        self.bans.forget_expired(now);
        for expired in self.pending.expire(now.into_std()) {
            self.end_pending(expired);
        }
        // Persistent peers due for a (re)connect.
        let due: Vec<SocketAddr> = self
            .persistent
            .iter()
            .filter(|(a, r)| r.is_due(now) && !self.taken(**a))
            .map(|(a, _)| *a)
            .collect();
        for a in due {
            match self.bans.banned_until(a.ip(), now) {
                // A banned persistent peer waits for its ban to end.
                Some(until) => {
                    if let Some(r) = self.persistent.get_mut(&a) {
                        r.wait_for_ban(until);
                    }
                }
                None => {
                    if let Some(r) = self.persistent.get_mut(&a) {
                        r.due = None;
                    }
                    self.dial(a, true, None);
                }
            }
        }
        // Fill the outbound target from the address source.
        let mut guard = 0;
        while self.outbound_count() < self.cfg.target_outbound && guard < self.cfg.target_outbound {
            guard += 1;
            let bans = self.bans.banned(now);
            let groups = self.outbound_groups();
            let skip = |a: SocketAddr| {
                self.taken(a)
                    || bans.contains(&a.ip())
                    || self.persistent.contains_key(&a)
                    || outbound_group_in_use(a, &groups)
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
                        if let Some(r) = self.persistent.get_mut(&addr) {
                            r.connected();
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
                        let error = std::sync::Arc::new(e);
                        self.emit(ManagerEvent::DialFailed {
                            addr,
                            error: error.clone(),
                        });
                        if let Some(r) = reply {
                            let _ = r.send(Err(ManagerError::Dial { addr, error }));
                        }
                        self.schedule_retry(addr);
                    }
                }
            }
            Note::Accepted(stream, addr) => self.accepted(stream, addr),
            Note::Inbound(id, addr, result) => {
                self.pending.remove(id);
                let displaced = self.handshaking.remove(&id).is_none();
                match result {
                    // Displaced or expired meanwhile, or banned while it
                    // was handshaking, or the inbound places filled up:
                    // not taken after all.
                    Ok(peer)
                        if displaced
                            || self.is_banned(addr.ip())
                            || (self.inbound_count() >= self.cfg.max_inbound
                                && !self.bans.is_whitelisted(addr.ip())) =>
                    {
                        peer.disconnect()
                    }
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
        let (base, max) = (self.cfg.retry_base, self.cfg.retry_max);
        if let Some(r) = self.persistent.get_mut(&addr) {
            let wait = r.failed(Instant::now(), base, max);
            debug!(%addr, ?wait, "persistent peer retry scheduled");
        }
    }

    fn score_reason(&mut self, ip: std::net::IpAddr, reason: &DisconnectReason) {
        let points = misbehaviour_score(reason);
        if points > 0 {
            self.add_score(ip, 0, points, "disconnect");
        }
    }

    /// The address groups of outbound peers and dials (persistent ones
    /// included: they too are somebody's group).
    fn outbound_groups(&self) -> HashSet<AddressGroup> {
        self.peers
            .values()
            .filter(|c| c.peer.direction() == Direction::Outbound)
            .map(|c| c.addr)
            .chain(self.dialing.iter().copied())
            .map(|a| AddressGroup::of(a.ip()))
            .collect()
    }

    /// Inbound peers connected.
    fn inbound_count(&self) -> usize {
        self.peers.values().filter(|c| c.peer.is_inbound()).count()
    }

    /// Ends the pending handshake `(addr, token)` (displaced or expired).
    fn end_pending(&mut self, (addr, token): (SocketAddr, CancellationToken)) {
        token.cancel();
        self.handshaking.retain(|_, a| *a != addr);
        debug!(%addr, "pending inbound handshake ended to make room");
    }

    fn accepted(&mut self, stream: TcpStream, addr: SocketAddr) {
        let ip = addr.ip();
        let white = self.bans.is_whitelisted(ip);
        // The inbound limit counts connected peers: connections still in
        // their handshake are bounded by the pending pool, where a newcomer
        // displaces the most crowded group's oldest instead of being
        // refused. The per-host limit counts every connection of the host,
        // so a host flooding handshakes only ever refuses itself.
        let counts = InboundCounts {
            inbound: self.inbound_count(),
            same_host: self.peers.values().filter(|c| c.addr.ip() == ip).count()
                + self
                    .dialing
                    .iter()
                    .chain(self.handshaking.values())
                    .filter(|a| a.ip() == ip)
                    .count(),
        };
        let admitted = admit_inbound(
            self.is_banned(ip),
            white,
            counts,
            self.cfg.max_inbound,
            self.cfg.max_per_host,
        );
        if let Err(why) = admitted {
            debug!(%addr, ?why, "inbound refused");
            return; // dropping the stream closes it
        }
        let token = self.stop.child_token();
        let id = if white {
            // Bypasses the pool as it bypasses the limits.
            self.whitelisted_ids += 1;
            self.whitelisted_ids
        } else {
            match self
                .pending
                .admit(ip, Instant::now().into_std(), (addr, token.clone()))
            {
                Ok((id, displaced)) => {
                    if let Some(victim) = displaced {
                        self.end_pending(victim);
                    }
                    id
                }
                Err(why) => {
                    debug!(%addr, ?why, "inbound refused: the pending pool is settled");
                    return;
                }
            }
        };
        self.handshaking.insert(id, addr);
        let notes = self.notes_tx.clone();
        let cfg = self.peer_config.clone();
        let hooks = self.peer_hooks.clone();
        self.tasks.spawn(async move {
            let _ = stream.set_nodelay(true);
            let r = tokio::select! {
                _ = token.cancelled() => return,
                r = {
                    let local = stream.local_addr().ok();
                    Peer::start_on(stream, (addr, local), Direction::Inbound, cfg, hooks)
                } => r,
            };
            if let Err(mpsc::error::SendError(Note::Inbound(_, _, Ok(p)))) =
                notes.send(Note::Inbound(id, addr, r)).await
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
                self.learn(ev.peer.addr().ip(), &v2);
            }
            Message::AddrV2(a) => self.learn(ev.peer.addr().ip(), &a.addr_list),
            Message::GetAddr(_) => {
                // As the reference: answered for inbound peers only (an
                // outbound one could fingerprint us) and once per connection
                // (so a peer cannot make us send our book again and again).
                if let Some(c) = self.peers.get_mut(&ev.peer.id()) {
                    if c.peer.is_inbound() && !c.answered_getaddr {
                        c.answered_getaddr = true;
                        let _ = ev
                            .peer
                            .push_addresses(&self.cfg.source.known(GETADDR_REPLY_MAX));
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

    /// Addresses the peer at `source` sent.
    fn learn(&mut self, source: std::net::IpAddr, addrs: &[NetAddressV2]) {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let addrs = learnable(addrs, self.cfg.accept_local_addresses, now);
        self.cfg.source.add_from(source, &addrs);
        for a in &addrs {
            if let Some(ip) = a.ip_addr() {
                self.emit(ManagerEvent::AddressLearned(SocketAddr::new(ip, a.port)));
            }
        }
    }
}
