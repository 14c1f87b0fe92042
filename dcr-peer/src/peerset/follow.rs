//! A peer set kept in step with a connection manager: its peers join as
//! they connect, leave as they go, and bans go through the manager.

use std::sync::Arc;

use tokio::sync::broadcast::error::RecvError;
use tracing::debug;

use super::{PeerSet, PeerSetConfig};
use crate::connmgr::{ConnManager, ManagerError, ManagerEvent};

impl PeerSet {
    /// A set of `manager`'s peers: those connected now, and each one that
    /// connects later, until the manager stops. A peer the set swaps out
    /// is disconnected, and the manager replaces it as it replaces any
    /// lost peer; one the set bans is banned by the manager.
    pub async fn follow(
        manager: ConnManager,
        config: PeerSetConfig,
    ) -> Result<PeerSet, ManagerError> {
        // Subscribed first: no peer connects unseen between the two.
        let mut events = manager.subscribe();
        let set = PeerSet::build(config, Some(manager.clone()));
        for p in manager.connected().await? {
            set.add(p);
        }
        let weak = Arc::downgrade(&set.inner);
        tokio::spawn(async move {
            loop {
                let resync = match events.recv().await {
                    Ok(ManagerEvent::Connected(_)) | Err(RecvError::Lagged(_)) => true,
                    Ok(ManagerEvent::Disconnected { id, .. }) => {
                        let Some(inner) = weak.upgrade() else { return };
                        PeerSet { inner }.remove(id);
                        false
                    }
                    Ok(_) => false,
                    Err(RecvError::Closed) => return,
                };
                if !resync {
                    continue;
                }
                let Ok(peers) = manager.connected().await else {
                    return;
                };
                let Some(inner) = weak.upgrade() else { return };
                let set = PeerSet { inner };
                for p in peers {
                    if set.add(p) {
                        debug!("peer set follows a new peer");
                    }
                }
            }
        });
        Ok(set)
    }
}
