//! The handle to a running connection manager: it starts the actor and
//! sends it commands.

use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio::time::Instant;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use tokio_stream::wrappers::BroadcastStream;

use super::actor::{Actor, Cmd};
use super::book::{AddressBook, AddressSource};
use super::config::{ManagerConfig, ManagerEvent};
use super::error::{BanInfo, ManagerError};
use super::policy::BanList;
use super::shared::Shared;
use crate::error::PeerError;
use crate::peer::Peer;
use crate::stats::PeerStats;
use crate::sync::lock;

/// Events kept for each subscriber that has not yet taken them: a
/// consumer further behind loses the oldest (`ManagerEvents`).
pub const EVENT_BACKLOG: usize = 1024;

/// The manager's events as a stream, from [`ConnManager::events`] (or
/// from [`ConnManager::start_subscribed`]'s receiver, by `From`).
/// Events a slow consumer lost to the channel's bound are skipped and
/// counted, not surfaced as items.
#[derive(Debug)]
pub struct ManagerEvents {
    inner: BroadcastStream<ManagerEvent>,
    missed: u64,
}

impl ManagerEvents {
    fn new(rx: broadcast::Receiver<ManagerEvent>) -> Self {
        ManagerEvents {
            inner: BroadcastStream::new(rx),
            missed: 0,
        }
    }

    /// Events skipped so far because this consumer fell more than the
    /// backlog (1024 events) behind.
    pub fn missed(&self) -> u64 {
        self.missed
    }
}

/// The stream of a receiver, as from [`ConnManager::start_subscribed`]
/// (events from the first).
impl From<broadcast::Receiver<ManagerEvent>> for ManagerEvents {
    fn from(rx: broadcast::Receiver<ManagerEvent>) -> Self {
        ManagerEvents::new(rx)
    }
}

impl futures_core::Stream for ManagerEvents {
    type Item = ManagerEvent;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<ManagerEvent>> {
        loop {
            match futures_core::Stream::poll_next(Pin::new(&mut self.inner), cx) {
                Poll::Ready(Some(Ok(ev))) => return Poll::Ready(Some(ev)),
                Poll::Ready(Some(Err(BroadcastStreamRecvError::Lagged(n)))) => {
                    tracing::warn!(missed = n, "manager event consumer lagged");
                    self.missed += n;
                }
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

/// A handle to a running connection manager. Clones share it.
#[derive(Clone)]
pub struct ConnManager {
    cmd: mpsc::Sender<Cmd>,
    listening: Arc<Vec<SocketAddr>>,
    /// Weak, so that subscribers see the end of the events when the
    /// manager stops even while handles remain.
    events: broadcast::WeakSender<ManagerEvent>,
    source: Arc<dyn AddressSource>,
    shared: Arc<Shared>,
}

impl ConnManager {
    /// Binds the listeners, opens the address book and starts the manager.
    /// Fails on a configuration dcrd refuses (more than 8 persistent
    /// peers, one twice, more of one IP than the per-host limit), a
    /// listener that cannot bind, or a data directory that cannot be made.
    pub async fn start(cfg: ManagerConfig) -> Result<ConnManager, ManagerError> {
        Ok(ConnManager::start_subscribed(cfg).await?.0)
    }

    /// [`ConnManager::start`], with a receiver of its events from the
    /// very first: a subscriber made once `start` has returned can miss
    /// the first connections (the manager dials before the caller gets
    /// its handle back). Errors as [`ConnManager::start`].
    pub async fn start_subscribed(
        cfg: ManagerConfig,
    ) -> Result<(ConnManager, broadcast::Receiver<ManagerEvent>), ManagerError> {
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
        let source: Arc<dyn AddressSource> = match (&cfg.source, &cfg.datadir) {
            (Some(s), _) => s.clone(),
            (None, Some(dir)) => {
                std::fs::create_dir_all(dir).map_err(|e| ManagerError::DataDir(dir.clone(), e))?;
                let dir = dir.clone();
                let book = tokio::task::spawn_blocking(move || AddressBook::open(&dir))
                    .await
                    .map_err(|_| ManagerError::Stopped)?;
                Arc::new(book)
            }
            (None, None) => Arc::new(AddressBook::in_memory()),
        };
        let (cmd_tx, cmd_rx) = mpsc::channel(64);
        let (ev_tx, ev_rx) = broadcast::channel(EVENT_BACKLOG);
        let shared = Arc::new(Shared {
            bans: Mutex::new(BanList::new(
                cfg.ban_threshold,
                cfg.ban_duration,
                cfg.no_banning,
                cfg.whitelist.clone(),
            )),
            events: ev_tx.downgrade(),
            outbound: AtomicUsize::new(0),
            mix_capable: AtomicUsize::new(0),
        });
        let handle = ConnManager {
            cmd: cmd_tx,
            listening: Arc::new(listening),
            events: ev_tx.downgrade(),
            source: source.clone(),
            shared: shared.clone(),
        };
        let actor = Actor::new(cfg, ev_tx, listeners, source, shared)?;
        tokio::spawn(actor.run(cmd_rx));
        Ok((handle, ev_rx))
    }

    /// The addresses the listeners are bound to.
    pub fn listen_addrs(&self) -> &[SocketAddr] {
        &self.listening
    }

    /// Events from now on, as the broadcast channel's receiver (which
    /// reports lagging as an error, and `Closed` once the manager has
    /// stopped). Connections made before the call are not in it: take
    /// them from [`ConnManager::connected`], or start with
    /// [`ConnManager::start_subscribed`].
    pub fn subscribe(&self) -> broadcast::Receiver<ManagerEvent> {
        match self.events.upgrade() {
            Some(tx) => tx.subscribe(),
            // Stopped: a receiver that is closed from the start.
            None => broadcast::channel(1).1,
        }
    }

    /// Events from now on, as a [`Stream`](futures_core::Stream) that
    /// ends when the manager stops. The manager keeps the last 1024
    /// events for each subscriber; a consumer slower than that loses the
    /// oldest ones, which the stream skips and counts in
    /// [`ManagerEvents::missed`] (and logs at `warn`).
    pub fn events(&self) -> ManagerEvents {
        ManagerEvents::new(self.subscribe())
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

    /// Keeps a connection to `addr`, redialling it as dcrd does (at once
    /// when a connection lasted 5 s, else after a growing wait). Refused
    /// beyond 8 persistent peers, for an address already persistent,
    /// connected or being dialled, and past the per-host limit of
    /// persistent peers (dcrd's `AddPersistent`).
    pub async fn add_persistent(&self, addr: SocketAddr) -> Result<(), ManagerError> {
        self.call(|tx| Cmd::AddPersistent(addr, tx)).await?
    }

    /// Stops keeping a connection to `addr` and closes it, if open (dcrd's
    /// `Remove`).
    pub async fn remove_persistent(&self, addr: SocketAddr) -> Result<(), ManagerError> {
        self.cmd
            .send(Cmd::RemovePersistent(addr))
            .await
            .map_err(|_| ManagerError::Stopped)
    }

    /// Connects to `addr` now: a manual connection (dcrd's `Connect`),
    /// counted toward `max_peers` and the per-host limit, not toward the
    /// outbound target, not redialled.
    pub async fn connect(&self, addr: SocketAddr) -> Result<Peer, ManagerError> {
        self.call(|tx| Cmd::Connect(addr, tx)).await?
    }

    /// Disconnects the peer with this id (a persistent one is redialled).
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

    /// Handles of every connected peer (for callers that talk to them:
    /// a peer set, say). A peer connected later is announced by
    /// [`ManagerEvent::Connected`]; take its handle from here then.
    pub async fn connected(&self) -> Result<Vec<Peer>, ManagerError> {
        self.call(Cmd::Handles).await
    }

    /// Bans in force.
    pub async fn bans(&self) -> Result<Vec<BanInfo>, ManagerError> {
        Ok(lock(&self.shared.bans).bans(Instant::now()))
    }

    /// The misbehaviour score of the connection with this peer id now.
    pub async fn score(&self, id: u64) -> Result<u32, ManagerError> {
        Ok(lock(&self.shared.bans).score(id, crate::sync::unix_now()))
    }

    /// Whether `ip` is whitelisted.
    pub fn is_whitelisted(&self, ip: IpAddr) -> bool {
        lock(&self.shared.bans).is_whitelisted(ip)
    }

    /// Adds to `peer`'s score (dcrd's `addBanScore`): points that never
    /// decay and points that halve every minute. Above the threshold the
    /// peer's IP is banned and the peer disconnected (true), unless it is
    /// whitelisted (scored and logged only); with banning off nothing
    /// happens. One score per connection: a peer that reconnects starts
    /// at 0.
    pub fn add_ban_score(
        &self,
        peer: &Peer,
        persistent: u32,
        transient: u32,
        reason: &str,
    ) -> bool {
        self.shared
            .add_ban_score(peer, persistent, transient, reason)
    }

    /// Bans `peer`'s IP for the ban duration and disconnects it (dcrd's
    /// `BanPeer`; true when it did). A whitelisted peer is logged only and
    /// stays; with banning off nothing happens.
    pub fn ban_peer(&self, peer: &Peer, reason: &str) -> bool {
        self.shared.ban_peer(peer, reason)
    }

    /// Disconnects every peer, stops accepting and dialing, saves the
    /// address book, and waits for every task to end (or `deadline`).
    pub async fn shutdown(&self, deadline: Duration) -> Result<(), ManagerError> {
        tokio::time::timeout(deadline, self.call(Cmd::Shutdown))
            .await
            .map_err(|_| ManagerError::Stopped)?
    }
}

#[cfg(test)]
mod tests {
    use futures_util::StreamExt;

    use super::*;

    fn learned(n: u16) -> ManagerEvent {
        ManagerEvent::AddressLearned(SocketAddr::from(([127, 0, 0, 1], n)))
    }

    #[tokio::test]
    async fn a_lagging_stream_skips_and_counts_then_ends() {
        let (tx, rx) = broadcast::channel(EVENT_BACKLOG);
        let mut events = ManagerEvents::new(rx);
        let sent = EVENT_BACKLOG as u16 + 6;
        for n in 0..sent {
            tx.send(learned(n)).unwrap();
        }
        drop(tx);
        let mut got = Vec::new();
        while let Some(ManagerEvent::AddressLearned(a)) = events.next().await {
            got.push(a.port());
        }
        // The six oldest were lost to the bound; the rest arrive in order.
        assert_eq!(events.missed(), 6);
        assert_eq!(got, (6..sent).collect::<Vec<_>>());
    }
}
