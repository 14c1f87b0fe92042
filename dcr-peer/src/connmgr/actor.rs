//! The connection manager's actor: one task that owns every connection
//! and dials, accepts and registers peers, asking [`super::policy`] for
//! every decision, and makes dcrd's server's calls on the address book.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use dcr_wire::{pver, GetAddr, Message, NetAddressV2, ServiceFlags};
use rand::seq::SliceRandom;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio::time::{sleep_until, Instant};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{debug, info, warn};

use super::book::{net_address, unix_now, AddressSource};
use super::config::{ManagerConfig, ManagerEvent};
use super::error::ManagerError;
use super::known::KnownAddresses;
use super::policy::{
    self, admit_inbound, bans_on_disconnect, check_outbound_version, keep_inbound, keep_outbound,
    may_add_persistent, may_connect, needs_host_permit, outbound_group, pending_limits,
    pick_outbound, seed_timestamp, wants_outbound, InboundCheck, OutboundFailures, PeerCounts,
    Persistent,
};
use super::shared::Shared;
use crate::accept::{next_connection, Handshaken, Handshakes};
use crate::addrmgr::{from_addr_v1, from_addr_v2, GroupKey, TypeFilter, DUMP_ADDRESS_INTERVAL};
use crate::config::Config;
use crate::error::{DisconnectReason, PeerError};
use crate::hooks::Hooks;
use crate::listeners::PeerEvent;
use crate::peer::Peer;
use crate::stats::PeerStats;
use crate::sync::lock;

/// How often the actor checks its targets and schedules.
const MAINTAIN_TICK: Duration = Duration::from_millis(250);
/// Addresses sent at most in one `addr`/`addrv2` (the wire's maximum).
const MAX_ADDRESSES_PER_MESSAGE: usize = 1000;

/// What the handle asks of the actor.
pub(super) enum Cmd {
    AddPersistent(SocketAddr, oneshot::Sender<Result<(), ManagerError>>),
    RemovePersistent(SocketAddr),
    Connect(SocketAddr, oneshot::Sender<Result<Peer, ManagerError>>),
    Disconnect(u64),
    Peers(oneshot::Sender<Vec<PeerStats>>),
    Handles(oneshot::Sender<Vec<Peer>>),
    Shutdown(oneshot::Sender<()>),
}

/// What a connection is to the manager (dcrd's `ConnectionType`, with
/// its persistent manual connections apart).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Accepted.
    Inbound,
    /// Dialled to fill the outbound target.
    Outbound,
    /// Dialled on request (`connect`).
    Manual,
    /// Dialled and redialled for a persistent entry.
    Persistent,
}

impl Kind {
    /// Counted toward `max_peers` (persistent connections are not).
    fn is_normal(self) -> bool {
        !matches!(self, Kind::Persistent)
    }
}

/// Results the actor's helper tasks report.
enum Note {
    Dialed(
        SocketAddr,
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
    kind: Kind,
    whitelisted: bool,
    /// This peer's `getaddr` has been answered.
    answered_getaddr: bool,
    /// Addresses the peer is known to have.
    known: KnownAddresses,
}

pub(super) struct Actor {
    cfg: ManagerConfig,
    events: broadcast::Sender<ManagerEvent>,
    listeners: Vec<TcpListener>,
    source: Arc<dyn AddressSource>,
    shared: Arc<Shared>,
    peers: HashMap<u64, Connected>,
    /// Addresses being dialled, and for what.
    dialing: HashMap<SocketAddr, Kind>,
    /// Inbound connections still in their handshake, on the path
    /// [`crate::net::serve`] takes too: a newcomer displaces the oldest of
    /// the most crowded group instead of being refused (see
    /// [`crate::admission`]).
    inbound: Handshakes,
    /// Where their handshakes end.
    handshaken: mpsc::Receiver<Handshaken>,
    persistent: HashMap<SocketAddr, Persistent>,
    failures: OutboundFailures,
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
        source: Arc<dyn AddressSource>,
        shared: Arc<Shared>,
    ) -> Result<Actor, ManagerError> {
        let (notes_tx, notes_rx) = mpsc::channel(256);
        let (pe_tx, peer_events) = mpsc::channel(1024);
        let peer_config = cfg.peer.clone();
        let peer_hooks = cfg
            .hooks
            .clone()
            .with_events(pe_tx)
            .with_version_rule(version_rule(&cfg, &source, &shared));
        let now = Instant::now();
        let mut persistent = HashMap::new();
        for a in &cfg.persistent {
            let white = lock(&shared.bans).is_whitelisted(a.ip());
            let same = persistent
                .keys()
                .filter(|p: &&SocketAddr| p.ip() == a.ip())
                .count();
            may_add_persistent(
                *a,
                persistent.len(),
                persistent.contains_key(a),
                needs_host_permit(a.ip(), white, cfg.exempt_loopback, cfg.max_per_host),
                same,
                cfg.max_per_host,
            )?;
            persistent.insert(*a, Persistent::new(now));
        }
        // Seeding: not on simnet or regnet, nor with --connect (dcrd's
        // DisableSeeders).
        if cfg.rules.automatic_outbound && !cfg.seeds.is_empty() {
            let mut rng = rand::rng();
            let unix = unix_now();
            for s in &cfg.seeds {
                let na = net_address(
                    *s,
                    ServiceFlags::NODE_NETWORK,
                    seed_timestamp(unix, &mut rng),
                );
                source.add_addresses(&[na], &na);
            }
        }
        let (tasks, stop) = (TaskTracker::new(), CancellationToken::new());
        let (handshaken_tx, handshaken) = mpsc::channel(256);
        let inbound = Handshakes::new(
            pending_limits(cfg.max_peers, cfg.max_per_host, cfg.exempt_loopback),
            peer_config.clone(),
            peer_hooks.clone(),
            stop.clone(),
            tasks.clone(),
            handshaken_tx,
        );
        Ok(Actor {
            cfg,
            events,
            listeners,
            source,
            shared,
            peers: HashMap::new(),
            dialing: HashMap::new(),
            inbound,
            handshaken,
            persistent,
            failures: OutboundFailures::default(),
            tasks,
            stop,
            notes_tx,
            notes_rx,
            peer_events,
            peer_config,
            peer_hooks,
        })
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
        let mut save = tokio::time::interval_at(
            Instant::now() + DUMP_ADDRESS_INTERVAL,
            DUMP_ADDRESS_INTERVAL,
        );
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
                _ = save.tick() => {
                    let source = self.source.clone();
                    self.tasks.spawn_blocking(move || save_book(&*source));
                }
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
                    if let Note::Dialed(_, Ok(p), _) = note {
                        p.disconnect();
                    }
                }
                Some(Handshaken { result: Ok(p), .. }) = self.handshaken.recv() => p.disconnect(),
            }
        }
        for c in std::mem::take(&mut self.peers).into_values() {
            c.peer.wait_for_disconnect().await;
        }
        // dcrd saves its book as its address manager stops.
        let source = self.source.clone();
        let _ = tokio::task::spawn_blocking(move || save_book(&*source)).await;
    }

    fn is_banned(&self, ip: IpAddr) -> bool {
        lock(&self.shared.bans).is_banned(ip, Instant::now())
    }

    fn is_whitelisted(&self, ip: IpAddr) -> bool {
        lock(&self.shared.bans).is_whitelisted(ip)
    }

    /// True when `addr` is connected, being dialed or in its handshake.
    fn taken(&self, addr: SocketAddr) -> bool {
        self.dialing.contains_key(&addr)
            || self.inbound.addrs().any(|a| a == addr)
            || self.peers.values().any(|c| c.addr == addr)
    }

    /// Connections with `ip`: connected, being dialled or handshaking.
    fn same_host(&self, ip: IpAddr) -> usize {
        let ip = ip.to_canonical();
        let same = |a: &SocketAddr| a.ip().to_canonical() == ip;
        self.peers.values().filter(|c| same(&c.addr)).count()
            + self.dialing.keys().filter(|a| same(a)).count()
            + self.inbound.addrs().filter(same).count()
    }

    /// Whether a new connection with `ip` would pass the per-host limit.
    fn host_full(&self, ip: IpAddr) -> bool {
        needs_host_permit(
            ip,
            self.is_whitelisted(ip),
            self.cfg.exempt_loopback,
            self.cfg.max_per_host,
        ) && self.same_host(ip) >= self.cfg.max_per_host
    }

    /// The counts dcrd's semaphores keep.
    fn counts(&self) -> PeerCounts {
        let bans = lock(&self.shared.bans);
        let pending_inbound = self
            .inbound
            .exempt_addrs()
            .filter(|a| !bans.is_whitelisted(a.ip()))
            .count();
        let connected = self
            .peers
            .values()
            .filter(|c| c.kind.is_normal() && !c.whitelisted)
            .count();
        let dialing = self.dialing.values().filter(|k| k.is_normal()).count();
        let automatic = self
            .peers
            .values()
            .filter(|c| c.kind == Kind::Outbound)
            .count()
            + self
                .dialing
                .values()
                .filter(|k| **k == Kind::Outbound)
                .count();
        PeerCounts {
            normal: pending_inbound + connected + dialing,
            automatic,
        }
    }

    /// Outbound connections per address group: pending and connected
    /// automatic and manual ones, and every persistent entry (dcrd adds a
    /// persistent address's group when it is added).
    fn outbound_groups(&self) -> HashMap<GroupKey, usize> {
        let mut groups: HashMap<GroupKey, usize> = HashMap::new();
        let outbound = self
            .peers
            .values()
            .filter(|c| matches!(c.kind, Kind::Outbound | Kind::Manual))
            .map(|c| c.addr)
            .chain(
                self.dialing
                    .iter()
                    .filter(|(_, k)| matches!(k, Kind::Outbound | Kind::Manual))
                    .map(|(a, _)| *a),
            )
            .chain(self.persistent.keys().copied());
        for a in outbound {
            *groups.entry(outbound_group(a)).or_default() += 1;
        }
        groups
    }

    fn command(&mut self, c: Cmd) {
        match c {
            Cmd::AddPersistent(a, reply) => {
                let same = self
                    .persistent
                    .keys()
                    .filter(|p| p.ip().to_canonical() == a.ip().to_canonical())
                    .count();
                let checked = may_add_persistent(
                    a,
                    self.persistent.len(),
                    self.persistent.contains_key(&a) || self.taken(a),
                    needs_host_permit(
                        a.ip(),
                        self.is_whitelisted(a.ip()),
                        self.cfg.exempt_loopback,
                        self.cfg.max_per_host,
                    ),
                    same,
                    self.cfg.max_per_host,
                );
                if checked.is_ok() {
                    self.persistent.insert(a, Persistent::new(Instant::now()));
                }
                let _ = reply.send(checked);
            }
            Cmd::RemovePersistent(a) => {
                if self.persistent.remove(&a).is_some() {
                    // dcrd's `Remove` closes the connection too.
                    for c in self.peers.values() {
                        if c.addr == a && c.kind == Kind::Persistent {
                            c.peer.disconnect();
                        }
                    }
                }
            }
            Cmd::Connect(a, reply) => {
                let checked = may_connect(
                    a,
                    self.is_banned(a.ip()),
                    self.taken(a) || self.persistent.contains_key(&a),
                    self.host_full(a.ip()),
                    self.counts(),
                    self.cfg.max_peers,
                );
                match checked {
                    Ok(()) => self.dial(a, Kind::Manual, Some(reply)),
                    Err(refused) => {
                        let _ = reply.send(Err(refused));
                    }
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
            Cmd::Handles(reply) => {
                let _ = reply.send(self.peers.values().map(|c| c.peer.clone()).collect());
            }
            Cmd::Shutdown(_) => unreachable!("handled by the loop"),
        }
    }

    /// Starts a connection attempt to `addr`.
    fn dial(
        &mut self,
        addr: SocketAddr,
        kind: Kind,
        reply: Option<oneshot::Sender<Result<Peer, ManagerError>>>,
    ) {
        // dcrd's `attemptDcrdDial`: into the book, then `Attempt`.
        if self.cfg.rules.exchange_addresses {
            self.source.attempt(addr);
        }
        self.dialing.insert(addr, kind);
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
            if let Err(mpsc::error::SendError(Note::Dialed(_, Ok(p), _))) =
                notes.send(Note::Dialed(addr, r, reply)).await
            {
                p.disconnect();
            }
        });
    }

    fn maintain(&mut self) {
        let now = Instant::now();
        lock(&self.shared.bans).forget_expired(now);
        self.inbound.expire(now.into_std());
        self.redial_persistent(now);
        if self.cfg.rules.automatic_outbound {
            self.fill_outbound(now);
        }
    }

    /// Persistent peers due for a (re)connect (dcrd's `runPersistent`).
    fn redial_persistent(&mut self, now: Instant) {
        let due: Vec<SocketAddr> = self
            .persistent
            .iter()
            .filter(|(a, r)| r.is_due(now) && !self.taken(**a))
            .map(|(a, _)| *a)
            .collect();
        let mut rng = rand::rng();
        let (retry, max) = (self.cfg.retry_duration, self.cfg.retry_max);
        for a in due {
            // A banned host would be dialled and closed at once by dcrd
            // (`handleBannedConn`); here it is not dialled, and the attempt
            // counts as a connection not kept. So would a host at its
            // per-host limit (dcrd fails the attempt before dialling).
            let refused = self.is_banned(a.ip()) || self.host_full(a.ip());
            let Some(r) = self.persistent.get_mut(&a) else {
                continue;
            };
            r.attempting(now);
            if refused {
                let wait = r.ended(now, retry, max, &mut rng);
                debug!(addr = %a, ?wait, "persistent peer banned or at its host limit");
            } else {
                self.dial(a, Kind::Persistent, None);
            }
        }
    }

    /// Fills the automatic outbound target from the book (dcrd's
    /// `targetOutboundHandler`).
    fn fill_outbound(&mut self, now: Instant) {
        let port = policy::default_port(self.cfg.peer.net);
        for _ in 0..self.cfg.target_outbound {
            if !wants_outbound(self.counts(), self.cfg.target_outbound, self.cfg.max_peers)
                || !self.failures.ready(now)
            {
                return;
            }
            let banned = lock(&self.shared.bans).banned(now);
            let groups = self.outbound_groups();
            let source = self.source.clone();
            let picked = pick_outbound(
                || source.get_address(),
                &groups,
                |a| self.taken(a) || banned.contains(&a.ip()) || self.persistent.contains_key(&a),
                unix_now(),
                port,
            );
            let Some(c) = picked else {
                self.failures.failed(now, self.cfg.retry_duration);
                return;
            };
            if self.host_full(c.addr.ip()) {
                self.failures.failed(now, self.cfg.retry_duration);
                continue;
            }
            self.dial(c.addr, Kind::Outbound, None);
        }
    }

    fn note(&mut self, n: Note) {
        match n {
            Note::Dialed(addr, result, reply) => {
                let kind = self.dialing.remove(&addr).unwrap_or(Kind::Manual);
                let now = Instant::now();
                match result {
                    Ok(peer) => {
                        let connected = self.peers.values().any(|c| c.addr == addr);
                        let removed =
                            kind == Kind::Persistent && !self.persistent.contains_key(&addr);
                        let refused = keep_outbound(addr, connected).err().or_else(|| {
                            // dcrd's `handleBannedConn` on outbound
                            // connections, and a persistent entry removed
                            // while its dial ran.
                            (self.is_banned(addr.ip()) || removed)
                                .then_some(ManagerError::Banned(addr.ip()))
                        });
                        if let Some(refused) = refused {
                            peer.disconnect();
                            if let Some(r) = reply {
                                let _ = r.send(Err(refused));
                            }
                            self.persistent_ended(addr, kind, now);
                            return;
                        }
                        if kind == Kind::Outbound {
                            self.failures.succeeded();
                        }
                        self.register(peer.clone(), addr, kind);
                        if let Some(r) = reply {
                            let _ = r.send(Ok(peer));
                        }
                    }
                    Err(e) => {
                        debug!(%addr, error = %dcr_wire::Report(&e), "dial failed");
                        self.handshake_failed(addr, &e);
                        let error = Arc::new(e);
                        self.emit(ManagerEvent::DialFailed {
                            addr,
                            error: error.clone(),
                        });
                        if let Some(r) = reply {
                            let _ = r.send(Err(ManagerError::Dial { addr, error }));
                        }
                        if kind == Kind::Outbound {
                            self.failures.failed(now, self.cfg.retry_duration);
                        }
                        self.persistent_ended(addr, kind, now);
                    }
                }
            }
            Note::Accepted(stream, addr) => self.accepted(stream, addr),
            Note::Gone(peer, reason) => {
                let Some(c) = self.peers.remove(&peer.id()) else {
                    return;
                };
                info!(addr = %c.addr, %reason, "peer disconnected");
                lock(&self.shared.bans).forget(peer.id());
                if bans_on_disconnect(&reason) {
                    self.shared.ban_peer(&peer, "sent malformed wire message");
                }
                if c.kind != Kind::Inbound {
                    self.shared.outbound.fetch_sub(1, Ordering::AcqRel);
                    if peer.protocol_version() >= pver::MIX {
                        self.shared.mix_capable.fetch_sub(1, Ordering::AcqRel);
                    }
                }
                self.persistent_ended(c.addr, c.kind, Instant::now());
                self.emit(ManagerEvent::Disconnected {
                    addr: c.addr,
                    id: peer.id(),
                    reason,
                });
            }
        }
    }

    /// A persistent peer's attempt failed or its connection ended.
    fn persistent_ended(&mut self, addr: SocketAddr, kind: Kind, now: Instant) {
        if kind != Kind::Persistent {
            return;
        }
        let (retry, max) = (self.cfg.retry_duration, self.cfg.retry_max);
        if let Some(r) = self.persistent.get_mut(&addr) {
            let wait = r.ended(now, retry, max, &mut rand::rng());
            debug!(%addr, ?wait, retries = r.retries, "persistent peer redial scheduled");
        }
    }

    /// An inbound connection accepted: admitted to its handshake if the
    /// policy takes it.
    fn accepted(&mut self, stream: TcpStream, addr: SocketAddr) {
        let ip = addr.ip();
        let whitelisted = self.is_whitelisted(ip);
        let check = InboundCheck {
            banned: self.is_banned(ip),
            whitelisted,
            duplicate: self.taken(addr) || self.persistent.contains_key(&addr),
            needs_host_permit: needs_host_permit(
                ip,
                whitelisted,
                self.cfg.exempt_loopback,
                self.cfg.max_per_host,
            ),
            same_host: self.same_host(ip),
            normal: self.counts().normal,
        };
        if let Err(why) = admit_inbound(check, self.cfg.max_per_host, self.cfg.max_peers) {
            debug!(%addr, ?why, "inbound refused");
            return; // dropping the stream closes it
        }
        let limits = pending_limits(
            self.cfg.max_peers,
            self.cfg.max_per_host,
            self.cfg.exempt_loopback,
        );
        let exempt = crate::admission::exempt(ip, whitelisted, &limits);
        let now = Instant::now().into_std();
        if let Err(why) = self.inbound.admit(stream, addr, exempt, now) {
            debug!(%addr, ?why, "inbound refused: the pending pool is settled");
        }
    }

    /// A handshake, inbound or outbound, failed: dcrd's server sees its
    /// `version` and `verack` reads through the same `OnRead` that bans a
    /// peer whose message does not decode, so such a failure bans the
    /// address (S28, B8); every other failure (a refused version, a
    /// timeout, a message out of order) is a disconnect only (B10).
    fn handshake_failed(&mut self, addr: SocketAddr, e: &PeerError) {
        if bans_on_disconnect(&e.to_reason()) {
            self.shared
                .ban_addr(addr, "sent malformed wire message in the handshake");
        }
    }

    /// An inbound handshake ended: the peer is kept if the policy says so.
    /// A failed handshake is a disconnect only, unless a message of it did
    /// not decode ([`Actor::handshake_failed`]).
    fn handshaken(&mut self, h: Handshaken) {
        let Handshaken { id, addr, result } = h;
        let displaced = !self.inbound.finish(id);
        match result {
            Ok(peer) => match keep_inbound(
                displaced,
                self.is_banned(addr.ip()),
                self.is_whitelisted(addr.ip()),
                self.counts().normal,
                self.cfg.max_peers,
            ) {
                Ok(()) => self.register(peer, addr, Kind::Inbound),
                Err(why) => {
                    debug!(%addr, ?why, "inbound peer not kept");
                    peer.disconnect();
                }
            },
            Err(e) => {
                debug!(%addr, error = %dcr_wire::Report(&e), "inbound handshake failed");
                self.handshake_failed(addr, &e);
            }
        }
    }

    /// A peer whose handshake completed joins (dcrd's `serverPeer.Run` and
    /// `handleAddPeer`).
    fn register(&mut self, peer: Peer, addr: SocketAddr, kind: Kind) {
        info!(%addr, ?kind, "peer connected");
        if let Some(hook) = &self.cfg.on_peer {
            hook(&peer);
        }
        if kind != Kind::Inbound {
            self.shared.outbound.fetch_add(1, Ordering::AcqRel);
            if peer.protocol_version() >= pver::MIX {
                self.shared.mix_capable.fetch_add(1, Ordering::AcqRel);
            }
            let rules = self.cfg.rules;
            if policy::asks_for_addresses(rules, true, self.source.need_more_addresses()) {
                let _ = peer.queue_message(&Message::GetAddr(GetAddr));
            }
            if rules.exchange_addresses {
                self.source.good(addr);
            }
        }
        self.emit(ManagerEvent::Connected(peer.stats()));
        let notes = self.notes_tx.clone();
        let p = peer.clone();
        self.tasks.spawn(async move {
            let reason = p.wait_for_disconnect().await;
            let _ = notes.send(Note::Gone(p, reason)).await;
        });
        let whitelisted = self.is_whitelisted(addr.ip());
        self.peers.insert(
            peer.id(),
            Connected {
                peer,
                addr,
                kind,
                whitelisted,
                answered_getaddr: false,
                known: KnownAddresses::default(),
            },
        );
    }

    fn peer_event(&mut self, ev: PeerEvent) {
        match &ev.message {
            Message::Addr(a) => {
                let list: Vec<NetAddressV2> = a.addr_list.iter().map(from_addr_v1).collect();
                self.on_addresses(&ev.peer, list, false);
            }
            Message::AddrV2(a) => {
                let list: Result<Vec<NetAddressV2>, _> =
                    a.addr_list.iter().map(from_addr_v2).collect();
                match list {
                    Ok(list) => self.on_addresses(&ev.peer, list, true),
                    Err(_) if self.cfg.rules.exchange_addresses && ev.peer.is_connected() => {
                        self.shared
                            .ban_peer(&ev.peer, "sent invalid addrv2 message");
                    }
                    Err(_) => {}
                }
            }
            Message::GetAddr(_) => self.on_get_addr(&ev.peer),
            _ => {}
        }
        // Never block the manager on a slow consumer: what does not fit is
        // dropped and logged.
        if let Some(tx) = &self.cfg.events {
            if let Err(mpsc::error::TrySendError::Full(ev)) = tx.try_send(ev) {
                warn!(peer = %ev.peer.addr(), command = %ev.message.command(), "event channel full, message dropped");
            }
        }
    }

    /// Addresses a peer sent (dcrd's `OnAddr` and `OnAddrV2`): ignored on
    /// simnet and regnet; an empty `addr` bans (an empty `addrv2` does not
    /// decode); none learned from a disconnecting peer; each marked known
    /// to the peer, then handed to the book with the peer as source (the
    /// book sets times more than 10 minutes ahead 5 days back).
    fn on_addresses(&mut self, peer: &Peer, list: Vec<NetAddressV2>, v2: bool) {
        if !self.cfg.rules.exchange_addresses {
            return;
        }
        if list.is_empty() && !v2 {
            self.shared.ban_peer(peer, "sent an empty address list");
            return;
        }
        if !peer.is_connected() {
            return;
        }
        if let Some(c) = self.peers.get_mut(&peer.id()) {
            for na in &list {
                c.known.add(na);
            }
        }
        let source = net_address(peer.addr(), ServiceFlags::NONE, 0);
        self.source.add_relayed(&list, &source);
        for na in &list {
            if let Some(ip) = na.ip_addr() {
                self.emit(ManagerEvent::AddressLearned(SocketAddr::new(ip, na.port)));
            }
        }
    }

    /// A `getaddr` (dcrd's `OnGetAddr`): answered once per inbound peer,
    /// off simnet and regnet, from the book's address cache less what the
    /// peer is known to have, at most one message's worth chosen at random.
    fn on_get_addr(&mut self, peer: &Peer) {
        let rules = self.cfg.rules;
        let Some(c) = self.peers.get_mut(&peer.id()) else {
            return;
        };
        if !policy::answers_get_addr(rules, c.peer.is_inbound(), c.answered_getaddr) {
            return;
        }
        c.answered_getaddr = true;
        let pv = c.peer.protocol_version();
        let mut list: Vec<NetAddressV2> = self
            .source
            .address_cache(TypeFilter::for_protocol(pv))
            .into_iter()
            .filter(|na| !c.known.contains(na))
            .collect();
        if list.len() > MAX_ADDRESSES_PER_MESSAGE {
            list.shuffle(&mut rand::rng());
            list.truncate(MAX_ADDRESSES_PER_MESSAGE);
        }
        match c.peer.push_addresses(&list) {
            Ok(_) => {
                for na in &list {
                    c.known.add(na);
                }
            }
            Err(e) => {
                debug!(peer = %c.addr, error = %dcr_wire::Report(&e), "cannot answer getaddr")
            }
        }
    }
}

/// The rule the manager's peers run on the remote's version (dcrd's
/// `OnVersion`, outbound peers): the book learns the services first (V1),
/// then the mix-capable (V3) and services (V4) rules may refuse; then the
/// rule of the caller's hooks, if any.
fn version_rule(
    cfg: &ManagerConfig,
    source: &Arc<dyn AddressSource>,
    shared: &Arc<Shared>,
) -> impl Fn(&Peer, &dcr_wire::Version<'_>) -> Result<(), crate::Refusal> + Send + Sync + 'static {
    let source = source.clone();
    let shared = shared.clone();
    let exchange = cfg.rules.exchange_addresses;
    let required = cfg.required_services;
    // dcrd's `targetOutbound`: the automatic outbound target, at most
    // `--maxpeers` (`newServer`), which the mix-capable rule (V3) uses.
    let target = policy::outbound_target(cfg.target_outbound, cfg.max_peers);
    let theirs = cfg.hooks.version_rule.clone();
    move |peer, v| {
        if !peer.is_inbound() {
            if exchange {
                source.set_services(peer.addr(), v.services);
            }
            let pv = u32::try_from(v.protocol_version).unwrap_or(0);
            check_outbound_version(
                v.services,
                pv,
                shared.outbound.load(Ordering::Acquire),
                shared.mix_capable.load(Ordering::Acquire),
                target,
                required,
            )?;
        }
        match &theirs {
            Some(rule) => rule(peer, v),
            None => Ok(()),
        }
    }
}

/// Saves the book, logging a failure (dcrd logs and carries on).
fn save_book(source: &dyn AddressSource) {
    if let Err(e) = source.save() {
        warn!(error = %dcr_wire::Report(&e), "cannot save the address book");
    }
}
