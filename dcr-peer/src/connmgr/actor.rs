//! The connection manager's actor: one task that owns every connection
//! and dials, accepts and registers peers, asking [`super::policy`] for
//! every decision.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use dcr_wire::{GetAddr, Message, NetAddressV2};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio::time::{sleep_until, Instant};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{debug, info};

use super::addrbook::{learnable, seed_addresses};
use super::config::{BanInfo, ManagerConfig, ManagerError, ManagerEvent};
use super::policy::{
    admit_inbound, keep_inbound, keep_outbound, may_dial, misbehaviour_score, outbound_candidate,
    pending_limits, BanList, InboundCounts, InboundPlace, KeptInbound, RetrySchedule,
};
use crate::accept::{next_connection, Handshaken, Handshakes};
use crate::admission::AddressGroup;
use crate::config::Config;
use crate::error::{DisconnectReason, PeerError};
use crate::fsm::handshake::Direction;
use crate::hooks::Hooks;
use crate::listeners::PeerEvent;
use crate::peer::Peer;
use crate::stats::PeerStats;

/// How often the actor checks its targets and schedules.
const MAINTAIN_TICK: Duration = Duration::from_millis(250);
/// Addresses sent at most in answer to `getaddr` (the reference's
/// maximum per `addr` message).
const GETADDR_REPLY_MAX: usize = 1000;

/// What the handle asks of the actor.
pub(super) enum Cmd {
    AddPersistent(SocketAddr),
    RemovePersistent(SocketAddr),
    Connect(SocketAddr, oneshot::Sender<Result<Peer, ManagerError>>),
    Disconnect(u64),
    Peers(oneshot::Sender<Vec<PeerStats>>),
    Handles(oneshot::Sender<Vec<Peer>>),
    Bans(oneshot::Sender<Vec<BanInfo>>),
    Score(IpAddr, oneshot::Sender<u32>),
    Misbehaving(IpAddr, u32, u32),
    Shutdown(oneshot::Sender<()>),
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
    /// Inbound connections still in their handshake, on the path
    /// [`crate::net::serve`] takes too: a newcomer displaces the oldest of
    /// the most crowded group instead of being refused (see
    /// [`crate::admission`]). Counted against the per-host limit, never
    /// against the outbound target (an inbound flood must not stop us
    /// dialing out).
    inbound: Handshakes,
    /// Where their handshakes end.
    handshaken: mpsc::Receiver<Handshaken>,
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
        let (tasks, stop) = (TaskTracker::new(), CancellationToken::new());
        let (handshaken_tx, handshaken) = mpsc::channel(256);
        let inbound = Handshakes::new(
            pending_limits(cfg.max_inbound, cfg.max_per_host),
            peer_config.clone(),
            peer_hooks.clone(),
            stop.clone(),
            tasks.clone(),
            handshaken_tx,
        );
        Actor {
            cfg,
            events,
            listeners,
            peers: HashMap::new(),
            dialing: HashSet::new(),
            inbound,
            handshaken,
            persistent,
            bans,
            tasks,
            stop,
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
                    let (s, a) = tokio::select! {
                        _ = stop.cancelled() => return,
                        accepted = next_connection(&l) => accepted,
                    };
                    if notes.send(Note::Accepted(s, a)).await.is_err() {
                        return;
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
                Some(h) = self.handshaken.recv() => self.handshaken(h),
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
        self.inbound.drain();
        let tasks = self.tasks.clone();
        let done = tasks.wait();
        tokio::pin!(done);
        loop {
            tokio::select! {
                _ = &mut done => break,
                Some(note) = self.notes_rx.recv() => {
                    if let Note::Dialed(_, _, Ok(p), _) = note {
                        p.disconnect();
                    }
                }
                Some(Handshaken { result: Ok(p), .. }) = self.handshaken.recv() => p.disconnect(),
            }
        }
        for c in std::mem::take(&mut self.peers).into_values() {
            c.peer.wait_for_disconnect().await;
        }
    }

    fn is_banned(&self, ip: IpAddr) -> bool {
        self.bans.is_banned(ip, Instant::now())
    }

    /// True when `addr` is connected, being dialed or in its handshake.
    fn taken(&self, addr: SocketAddr) -> bool {
        self.dialing.contains(&addr)
            || self.inbound.addrs().any(|a| a == addr)
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
            Cmd::Connect(a, reply) => match may_dial(a, self.is_banned(a.ip()), self.taken(a)) {
                Ok(()) => self.dial(a, false, Some(reply)),
                Err(refused) => {
                    let _ = reply.send(Err(refused));
                }
            },
            Cmd::Disconnect(id) => {
                if let Some(c) = self.peers.get(&id) {
                    c.peer.disconnect();
                }
            }
            Cmd::Peers(reply) => {
                let _ = reply.send(self.peers.values().map(|c| c.peer.stats()).collect());
            }
            Cmd::Handles(reply) => {
                let _ = reply.send(self.peers.values().map(|c| c.peer.clone()).collect());
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
        self.inbound.expire(now.into_std());
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
                let persistent = self.persistent.contains_key(&a);
                !outbound_candidate(a, self.taken(a), &bans, persistent, &groups)
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
                        let connected = self.peers.values().any(|c| c.addr == addr);
                        if let Err(refused) =
                            keep_outbound(addr, self.is_banned(addr.ip()), connected)
                        {
                            peer.disconnect();
                            if let Some(r) = reply {
                                let _ = r.send(Err(refused));
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

    /// An inbound connection accepted: admitted to its handshake if the
    /// policy takes it.
    fn accepted(&mut self, stream: TcpStream, addr: SocketAddr) {
        let ip = addr.ip();
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
                    .copied()
                    .chain(self.inbound.addrs())
                    .filter(|a| a.ip() == ip)
                    .count(),
        };
        let admitted = admit_inbound(
            self.is_banned(ip),
            self.bans.is_whitelisted(ip),
            counts,
            self.cfg.max_inbound,
            self.cfg.max_per_host,
        );
        let exempt = match admitted {
            Ok(place) => place == InboundPlace::Exempt,
            Err(why) => {
                debug!(%addr, ?why, "inbound refused");
                return; // dropping the stream closes it
            }
        };
        let now = Instant::now().into_std();
        if let Err(why) = self.inbound.admit(stream, addr, exempt, now) {
            debug!(%addr, ?why, "inbound refused: the pending pool is settled");
        }
    }

    /// An inbound handshake ended: the peer is kept if the policy says so.
    fn handshaken(&mut self, h: Handshaken) {
        let Handshaken { id, addr, result } = h;
        let displaced = !self.inbound.finish(id);
        match result {
            Ok(peer) => {
                let now = KeptInbound {
                    displaced,
                    banned: self.is_banned(addr.ip()),
                    whitelisted: self.bans.is_whitelisted(addr.ip()),
                    inbound: self.inbound_count(),
                };
                match keep_inbound(now, self.cfg.max_inbound) {
                    Ok(()) => self.register(peer, addr, false),
                    Err(why) => {
                        debug!(%addr, ?why, "inbound peer not kept");
                        peer.disconnect();
                    }
                }
            }
            Err(e) => {
                debug!(%addr, error = %e, "inbound handshake failed");
                self.score_reason(addr.ip(), &e.to_reason());
            }
        }
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
