//! A crawler over the connection manager: every node reachable from a
//! seed, found by following `addr` answers.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use dcr_wire::NetAddressV2;
use tokio::sync::broadcast;
use tokio::time::{sleep_until, Instant};

use super::addrbook::{is_routable, AddressBook, AddressSource};
use super::config::{ManagerConfig, ManagerError, ManagerEvent};
use super::handle::ConnManager;
use crate::config::Config;
use crate::stats::PeerStats;

/// How long a found node is kept connected, so its answer to our
/// `getaddr` can arrive before its slot goes to the next address.
const LINGER: Duration = Duration::from_millis(300);

/// One node found by [`crawl`].
#[derive(Debug, Clone)]
pub struct CrawlRow {
    /// The address dialed.
    pub addr: SocketAddr,
    /// What the node told us in its handshake, and the traffic.
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
                        tokio::time::sleep(LINGER).await;
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
