//! The handle to a running connection manager: it starts the actor and
//! sends it commands.

use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use tokio_stream::wrappers::BroadcastStream;

use super::actor::{Actor, Cmd};
use super::addrbook::AddressSource;
use super::config::{BanInfo, ManagerConfig, ManagerError, ManagerEvent};
use crate::error::PeerError;
use crate::peer::Peer;
use crate::stats::PeerStats;

/// Events kept for each subscriber that has not yet taken them.
const EVENT_BACKLOG: usize = 1024;

/// The manager's events as a stream, from [`ConnManager::events`].
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
        let (ev_tx, _) = broadcast::channel(EVENT_BACKLOG);
        let handle = ConnManager {
            cmd: cmd_tx,
            listening: Arc::new(listening),
            events: ev_tx.downgrade(),
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

    /// Events from now on, as the broadcast channel's receiver (which
    /// reports lagging as an error, and `Closed` once the manager has
    /// stopped).
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

    /// Keeps a connection to `addr`, reconnecting with backoff.
    pub async fn add_persistent(&self, addr: SocketAddr) -> Result<(), ManagerError> {
        self.cmd
            .send(Cmd::AddPersistent(addr))
            .await
            .map_err(|_| ManagerError::Stopped)
    }

    /// Stops keeping a connection to `addr`: an open one stays, but is not
    /// reconnected once it drops.
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

    /// Handles of every connected peer (for callers that talk to them:
    /// a peer set, say). A peer connected later is announced by
    /// [`ManagerEvent::Connected`]; take its handle from here then.
    pub async fn connected(&self) -> Result<Vec<Peer>, ManagerError> {
        self.call(Cmd::Handles).await
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
