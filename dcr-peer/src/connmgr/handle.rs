//! The handle to a running connection manager, and the commands it sends
//! the actor.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::{broadcast, mpsc, oneshot};

use super::actor::Actor;
use super::addrbook::AddressSource;
use super::config::{BanInfo, ManagerConfig, ManagerError, ManagerEvent};
use crate::error::PeerError;
use crate::peer::Peer;
use crate::stats::PeerStats;

/// Commands the handle sends the actor.
pub(super) enum Cmd {
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
