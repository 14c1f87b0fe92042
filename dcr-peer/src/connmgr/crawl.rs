//! A crawler over the connection manager: every node reachable from a
//! seed, found by following `addr` answers.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use dcr_wire::{Message, NetAddressV2};
use tokio::sync::{broadcast, mpsc};
use tokio::time::{sleep_until, Instant};

use super::addrbook::{is_routable, AddressBook, AddressSource};
use super::config::{ManagerConfig, ManagerError, ManagerEvent};
use super::handle::ConnManager;
use crate::config::Config;
use crate::hooks::Hooks;
use crate::listeners::PeerEvent;
use crate::stats::PeerStats;

/// How long a found node that has not answered our `getaddr` is kept
/// connected; one that answers is let go at once.
const LINGER: Duration = Duration::from_secs(5);

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
/// returns every node it completed a handshake with. It stops once every
/// address learned has been tried and no connection is left, after
/// `duration`, or once nothing new has turned up for `quiet`, whichever
/// comes first.
///
/// Errors: [`ManagerError::SeedUnreachable`] when the seed cannot be
/// reached and nothing was found.
pub async fn crawl(
    seed: SocketAddr,
    peer: Config,
    hooks: Hooks,
    max: usize,
    duration: Duration,
    quiet: Duration,
    mut on_found: impl FnMut(&CrawlRow),
) -> Result<Vec<CrawlRow>, ManagerError> {
    let mut cfg = ManagerConfig::new(peer);
    cfg.hooks = hooks;
    cfg.seeds = vec![seed];
    // Crawling a test network on this machine or LAN: follow its addresses.
    cfg.accept_local_addresses = !is_routable(seed.ip());
    cfg.target_outbound = max;
    cfg.retry_base = Duration::from_millis(200);
    let source = Arc::new(CrawlSource::default());
    cfg.source = source.clone();
    // Messages come here after the manager has learned from them, so a
    // node's `addr` answer means its addresses are in the book.
    let (answers_tx, mut answers) = mpsc::channel::<PeerEvent>(256);
    cfg.events = Some(answers_tx);
    let mgr = ConnManager::start(cfg).await?;
    let mut events = mgr.subscribe();
    let mut found: HashMap<SocketAddr, CrawlRow> = HashMap::new();
    let end = Instant::now() + duration;
    let mut last_new = Instant::now();
    // Dials that ended (connected or failed), against the attempts the
    // source counts: equal when none is in flight.
    let mut settled = 0usize;
    let mut seed_error = None;
    let mut check = tokio::time::interval(EXHAUSTION_CHECK);
    loop {
        let wake = end.min(last_new + quiet);
        tokio::select! {
            _ = sleep_until(wake) => break,
            _ = check.tick() => {
                if source.exhausted(settled) && mgr.peers().await?.is_empty() {
                    break;
                }
            }
            Some(ev) = answers.recv() => {
                if matches!(ev.message, Message::Addr(_) | Message::AddrV2(_)) {
                    // Found what it knows: its slot goes to the next address.
                    ev.peer.disconnect();
                }
            }
            ev = events.recv() => match ev {
                Ok(ManagerEvent::Connected(stats)) => {
                    settled += 1;
                    // Found: drop it again so the next address gets a slot.
                    let addr = stats.addr;
                    if let std::collections::hash_map::Entry::Vacant(v) = found.entry(addr) {
                        let row = v.insert(CrawlRow { addr, stats: stats.clone() });
                        on_found(row);
                        last_new = Instant::now();
                    }
                    // Let go once it answers (below), or after a while.
                    let m = mgr.clone();
                    let id = stats.id;
                    tokio::spawn(async move {
                        tokio::time::sleep(LINGER).await;
                        let _ = m.disconnect(id).await;
                    });
                }
                Ok(ManagerEvent::AddressLearned(_)) => last_new = Instant::now(),
                Ok(ManagerEvent::DialFailed { addr, error }) => {
                    settled += 1;
                    if addr == seed {
                        seed_error = Some(error);
                    }
                }
                Ok(_) => {}
                Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => break,
            }
        }
    }
    mgr.shutdown(Duration::from_secs(10)).await?;
    if let (true, Some(error)) = (found.is_empty(), seed_error) {
        return Err(ManagerError::SeedUnreachable { seed, error });
    }
    let mut rows: Vec<CrawlRow> = found.into_values().collect();
    rows.sort_by_key(|r| r.addr);
    Ok(rows)
}

/// How often the crawl checks whether anything is left to try.
const EXHAUSTION_CHECK: Duration = Duration::from_millis(100);

/// The crawler's address source: every address is tried once.
#[derive(Default)]
struct CrawlSource {
    book: AddressBook,
    tried: std::sync::Mutex<HashSet<SocketAddr>>,
}

impl CrawlSource {
    /// True when every address known has been tried and all `settled`
    /// of the attempts have ended.
    fn exhausted(&self, settled: usize) -> bool {
        let tried = crate::sync::lock(&self.tried);
        tried.len() <= settled && self.book.next_address(&|a| tried.contains(&a)).is_none()
    }
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

    fn add_from(&self, source: std::net::IpAddr, addrs: &[NetAddressV2]) {
        self.book.add_from(source, addrs);
    }

    fn known(&self, max: usize) -> Vec<NetAddressV2> {
        self.book.known(max)
    }
}
