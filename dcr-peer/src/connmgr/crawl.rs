//! A crawler over the connection manager: every node reachable from a
//! seed, found by following `addr` answers.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use dcr_wire::{Message, NetAddressV2};
use tokio::sync::{broadcast, mpsc};
use tokio::time::{sleep_until, Instant};

use super::book::Candidate;
use super::book::{AddressSource, LocalSource};
use super::config::{ManagerConfig, ManagerEvent};
use super::error::ManagerError;
use super::handle::ConnManager;
use super::policy::NetworkRules;
use crate::addrmgr::{is_routable, TypeFilter};
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
/// `duration`, or once nothing new has turned up for `quiet` since the
/// seed answered, whichever comes first.
///
/// Errors: [`ManagerError::SeedUnreachable`] when the seed cannot be
/// reached and nothing was found; [`ManagerError::SeedSilent`] when
/// `duration` ends before the seed has answered or failed.
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
    // A crawler is no dcrd server: it dials and asks for addresses on any
    // network, and lists nodes whatever services they offer.
    cfg.rules = NetworkRules {
        exchange_addresses: true,
        automatic_outbound: true,
    };
    cfg.required_services = dcr_wire::ServiceFlags::NONE;
    cfg.target_outbound = max;
    cfg.max_peers = cfg.max_peers.max(max);
    // Crawling a test network on this machine or LAN: follow its local
    // addresses too.
    let source = Arc::new(CrawlSource::new(seed, !is_routable(seed.ip())));
    cfg.source = Some(source.clone());
    // Messages come here after the manager has learned from them, so a
    // node's `addr` answer means its addresses are in the book.
    let (answers_tx, mut answers) = mpsc::channel::<PeerEvent>(256);
    cfg.events = Some(answers_tx);
    // Subscribed from the start: the seed's connection can complete
    // before a later subscriber would see it, and a dial never reported
    // would keep the crawl from ending until `quiet` (and the seed out of
    // the rows).
    let (mgr, mut events) = ConnManager::start_subscribed(cfg).await?;
    let mut found: HashMap<SocketAddr, CrawlRow> = HashMap::new();
    // However long it was given: `--duration` takes any u64 seconds.
    let end = crate::sync::after(Instant::now(), duration);
    let mut last_new = Instant::now();
    // Dials that ended (connected or failed), against the attempts the
    // source counts: equal when none is in flight.
    let mut settled = 0usize;
    let mut seed_error = None;
    // Nothing can turn up before the seed has answered or failed: the
    // quiet rule waits for it (a seed that accepts and says nothing
    // fails at its handshake deadline, and the crawl with it).
    let mut seed_settled = false;
    let mut check = tokio::time::interval(EXHAUSTION_CHECK);
    loop {
        let wake = match seed_settled {
            true => end.min(last_new + quiet),
            false => end,
        };
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
                    seed_settled |= stats.addr == seed;
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
                        seed_settled = true;
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
    if found.is_empty() && !seed_settled {
        // The time ran out with the seed's handshake still open: nothing
        // was crawled, which is no result.
        return Err(ManagerError::SeedSilent {
            seed,
            within: duration,
        });
    }
    let mut rows: Vec<CrawlRow> = found.into_values().collect();
    rows.sort_by_key(|r| r.addr);
    Ok(rows)
}

/// How often the crawl checks whether anything is left to try.
const EXHAUSTION_CHECK: Duration = Duration::from_millis(100);

/// The crawler's address source: every address is tried once; local
/// addresses are followed only when crawling from a local seed.
struct CrawlSource {
    book: LocalSource,
    local: bool,
}

impl CrawlSource {
    fn new(seed: SocketAddr, local: bool) -> CrawlSource {
        CrawlSource {
            book: LocalSource::new(&[seed]),
            local,
        }
    }

    /// True when every address known has been tried and all `settled`
    /// of the attempts have ended.
    fn exhausted(&self, settled: usize) -> bool {
        let all = self.book.all().len();
        let untried = self.book.untried().len();
        untried == 0 && all <= settled
    }
}

impl AddressSource for CrawlSource {
    fn get_address(&self) -> Option<Candidate> {
        use rand::seq::IndexedRandom;
        let untried = self.book.untried();
        let addr = *untried.choose(&mut rand::rng())?;
        Some(Candidate {
            addr,
            last_attempt: None,
        })
    }

    fn attempt(&self, addr: SocketAddr) {
        self.book.attempt(addr);
    }

    fn good(&self, addr: SocketAddr) {
        self.book.good(addr);
    }

    fn set_services(&self, addr: SocketAddr, services: dcr_wire::ServiceFlags) {
        self.book.set_services(addr, services);
    }

    fn add_addresses(&self, addrs: &[NetAddressV2], source: &NetAddressV2) {
        self.add_relayed(addrs, source);
    }

    fn add_relayed(&self, addrs: &[NetAddressV2], source: &NetAddressV2) {
        let kept: Vec<NetAddressV2> = addrs
            .iter()
            .filter(|a| self.local || a.ip_addr().is_some_and(is_routable))
            .copied()
            .collect();
        self.book.add_relayed(&kept, source);
    }

    fn address_cache(&self, filter: TypeFilter) -> Vec<NetAddressV2> {
        self.book.address_cache(filter)
    }

    fn need_more_addresses(&self) -> bool {
        true
    }
}
