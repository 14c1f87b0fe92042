//! Following the tip after the sync, over loopback against fixture
//! peers that announce new blocks: by `headers` and by `inv`, a
//! reorganization below the stored tip, a header that breaks a rule (its
//! announcer banned with the reason), a header far below the tip (its
//! announcer disconnected, not banned), a branch with less work (ignored),
//! and a flood of announcements (bounded, the honest peer still heard).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use dcr_peer::wire::{CurrencyNet, Hash};
use dcr_peer::{Hooks, PeerEvent, PeerSet, PeerSetConfig, RecentNonces};
use dcr_spv::{params, WatchList};
use dcr_spv_net::fixture::{filler_script, serve_at, Behaviour, Fixture, FixtureChain};
use dcr_spv_net::{BanReason, LightClient, Progress, SyncConfig, SyncReport};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

const NET: CurrencyNet = CurrencyNet::SimNet;

fn watched() -> Vec<u8> {
    let mut s = vec![0x76, 0xa9, 0x14];
    s.extend_from_slice(&[0xab; 20]);
    s.extend_from_slice(&[0x88, 0xac]);
    s
}

/// Pays the watched script at the heights given, a filler elsewhere.
fn pay_at(heights: &'static [u32]) -> impl Fn(u32) -> Vec<u8> {
    move |h| {
        if heights.contains(&h) {
            watched()
        } else {
            filler_script(h)
        }
    }
}

const PAID_AT: &[u32] = &[5, 17, 40];

async fn fixture(last_octet: u8, chain: &FixtureChain) -> Fixture {
    let ip = IpAddr::from([127, 0, 0, last_octet]);
    serve_at(ip, NET, Arc::new(chain.clone()), Behaviour::Honest)
        .await
        .unwrap()
}

/// A following client over peers connected to `addrs`, its progress on a
/// channel, stopped by the sender.
struct Follower {
    progress: mpsc::UnboundedReceiver<Progress>,
    seen: Vec<Progress>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<SyncReport>,
    set: PeerSet,
}

/// Timeouts short enough for the silent peers' tests, long enough that
/// a busy machine does not get an honest peer swapped out (several
/// tests have only one).
fn set_config() -> PeerSetConfig {
    let mut c = PeerSetConfig::default();
    c.min_timeout = Duration::from_secs(1);
    c.request_timeout = Duration::from_secs(5);
    c.initial_timeout = Duration::from_secs(2);
    c
}

/// A peer set connected to `addrs`, and their messages.
async fn connect(addrs: &[SocketAddr]) -> (PeerSet, mpsc::Receiver<PeerEvent>) {
    let set = PeerSet::new(set_config());
    let (events, rx) = mpsc::channel::<PeerEvent>(64);
    for a in addrs {
        let hooks = Hooks::new()
            .with_nonces(RecentNonces::new())
            .with_events(events.clone());
        let p = dcr_peer::net::connect(&a.to_string(), dcr_peer::Config::new(NET), hooks)
            .await
            .unwrap();
        set.add(p);
    }
    (set, rx)
}

impl Follower {
    async fn start(addrs: &[SocketAddr], dir: &std::path::Path) -> Follower {
        let (set, rx) = connect(addrs).await;
        Follower::over(set, rx, dir)
    }

    /// As [`Follower::start`], but every message the peers receive is
    /// held back from the follower until the returned sender fires (a
    /// follower that reads its events late, as on a busy machine).
    async fn start_late(
        addrs: &[SocketAddr],
        dir: &std::path::Path,
    ) -> (Follower, oneshot::Sender<()>) {
        let (set, mut rx) = connect(addrs).await;
        let (release, released) = oneshot::channel::<()>();
        let (tx, late) = mpsc::channel::<PeerEvent>(64);
        tokio::spawn(async move {
            let mut held = Vec::new();
            let mut released = std::pin::pin!(released);
            loop {
                tokio::select! {
                    ev = rx.recv() => match ev {
                        Some(ev) => held.push(ev),
                        None => return,
                    },
                    _ = &mut released => break,
                }
            }
            for ev in held {
                if tx.send(ev).await.is_err() {
                    return;
                }
            }
            while let Some(ev) = rx.recv().await {
                if tx.send(ev).await.is_err() {
                    return;
                }
            }
        });
        (Follower::over(set, late, dir), release)
    }

    /// A follower over `set`, whose peers' messages come on `events`.
    fn over(set: PeerSet, events: mpsc::Receiver<PeerEvent>, dir: &std::path::Path) -> Follower {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
        let mut config = SyncConfig::new(params::simnet().clone(), dir);
        config.filter_batch = 4;
        let mut watch = WatchList::new();
        watch.add_script(watched());
        let client = LightClient::open(config, set.clone(), watch).unwrap();
        let (tx, progress) = mpsc::unbounded_channel();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let stopped = async {
                let _ = stopped.await;
            };
            client
                .follow(events, stopped, move |p| {
                    let _ = tx.send(p.clone());
                })
                .await
                .unwrap()
        });
        Follower {
            progress,
            seen: Vec::new(),
            stop: Some(stop),
            task,
            set,
        }
    }

    /// Waits (at most 30 s) for progress `want` accepts; returns it.
    async fn until(&mut self, what: &str, want: impl Fn(&Progress) -> bool) -> Progress {
        let wait = async {
            loop {
                let p = self.progress.recv().await.expect("the follower runs");
                self.seen.push(p.clone());
                if want(&p) {
                    return p;
                }
            }
        };
        match tokio::time::timeout(Duration::from_secs(30), wait).await {
            Ok(p) => p,
            Err(_) => panic!("no {what}; seen {:#?}", self.seen),
        }
    }

    async fn tip(&mut self, height: u32) -> Progress {
        self.until(
            &format!("tip {height}"),
            |p| matches!(p, Progress::Tip { height: h, .. } if *h == height),
        )
        .await
    }

    async fn stop(mut self) -> (SyncReport, Vec<Progress>) {
        let _ = self.stop.take().unwrap().send(());
        let r = tokio::time::timeout(Duration::from_secs(10), self.task)
            .await
            .expect("stops when told")
            .unwrap();
        while let Ok(p) = self.progress.try_recv() {
            self.seen.push(p);
        }
        (r, self.seen)
    }
}

fn found_heights(r: &SyncReport) -> Vec<u32> {
    r.found.iter().map(|f| f.height).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_blocks_announced_by_headers_and_by_inv_are_followed_and_matched() {
    let chain = FixtureChain::build(params::simnet(), 60, pay_at(PAID_AT));
    let a = fixture(1, &chain).await;
    let dir = tempfile::tempdir().unwrap();
    let mut f = Follower::start(&[a.addr], dir.path()).await;
    f.tip(60).await;
    // Three more blocks, the second paying the watched script.
    let longer = Arc::new(chain.fork(60, 3, pay_at(&[62])));
    a.switch(longer.clone()).await;
    // By headers, as dcrd announces to a peer that sent sendheaders.
    a.announce_headers(vec![longer.headers[61]]).await;
    let Progress::Tip { hash, .. } = f.tip(61).await else {
        unreachable!()
    };
    assert_eq!(hash, longer.hashes[61]);
    // By inv, as to the others: the client asks for the headers.
    a.announce_inv(&[longer.hashes[63]]).await;
    f.tip(63).await;
    let (r, seen) = f.stop().await;
    assert_eq!((r.tip_height, r.tip_hash), (63, longer.hashes[63]));
    assert_eq!(found_heights(&r), [5, 17, 40, 62]);
    assert_eq!((r.filters, r.proven), (64, 63));
    assert!(r.banned.is_empty());
    assert!(
        seen.iter().any(
            |p| matches!(p, Progress::Found(x) if x.height == 62 && x.block == longer.hashes[62])
        ),
        "{seen:#?}"
    );
    assert!(!seen
        .iter()
        .any(|p| matches!(p, Progress::Reorganized { .. })));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_announced_branch_with_more_work_reorganizes_below_the_stored_tip() {
    let chain = FixtureChain::build(params::simnet(), 60, pay_at(PAID_AT));
    let a = fixture(1, &chain).await;
    let dir = tempfile::tempdir().unwrap();
    let mut f = Follower::start(&[a.addr], dir.path()).await;
    f.tip(60).await;
    // Another branch from block 50, longer than ours; it pays the
    // watched script at 55 and not at... the old 40 stays (below the
    // fork).
    let fork = Arc::new(chain.fork(50, 20, pay_at(&[55])));
    a.switch(fork.clone()).await;
    // Only its tip is announced: an orphan, its headers asked for.
    a.announce_headers(vec![fork.headers[70]]).await;
    f.until("the reorganization", |p| {
        matches!(p, Progress::Reorganized { fork: 50 })
    })
    .await;
    f.tip(70).await;
    let (r, _) = f.stop().await;
    assert_eq!((r.tip_height, r.tip_hash), (70, fork.hashes[70]));
    assert_eq!(found_heights(&r), [5, 17, 40, 55]);
    assert!(r.banned.is_empty());
    // The store holds the new branch: a run from it resumes at 70.
    let b = fixture(2, &fork).await;
    let set = PeerSet::new(PeerSetConfig::default());
    let hooks = Hooks::new().with_nonces(RecentNonces::new());
    set.add(
        dcr_peer::net::connect(&b.addr.to_string(), dcr_peer::Config::new(NET), hooks)
            .await
            .unwrap(),
    );
    let client = LightClient::open(
        SyncConfig::new(params::simnet().clone(), dir.path()),
        set,
        WatchList::new(),
    )
    .unwrap();
    let r = tokio::time::timeout(Duration::from_secs(30), client.run(|_| {}))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((r.resumed_headers, r.headers), (70, 0));
    assert_eq!(r.tip_hash, fork.hashes[70]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_announcer_of_a_bad_header_is_banned_and_less_work_is_ignored() {
    let chain = FixtureChain::build(params::simnet(), 60, pay_at(PAID_AT));
    let honest = fixture(1, &chain).await;
    let weaker = fixture(2, &chain).await;
    let liar = fixture(3, &chain).await;
    let dir = tempfile::tempdir().unwrap();
    let mut f = Follower::start(&[honest.addr, weaker.addr, liar.addr], dir.path()).await;
    f.tip(60).await;
    // A branch from 55 with less work than ours: kept aside, no fault.
    let side = chain.fork(55, 3, pay_at(&[57]));
    weaker.switch(Arc::new(side.clone())).await;
    weaker
        .announce_headers(side.headers[56..=58].to_vec())
        .await;
    f.until("the weaker branch kept aside", |p| {
        matches!(p, Progress::SideHeaders { count: 3 })
    })
    .await;
    // A header extending our tip whose proof of work fails: a ban.
    liar.announce_headers(vec![chain.bad_tip()]).await;
    let Progress::Banned { addr, reason } = f
        .until("the liar's ban", |p| matches!(p, Progress::Banned { .. }))
        .await
    else {
        unreachable!()
    };
    assert_eq!(addr, liar.addr);
    assert!(matches!(reason, BanReason::Header(_)), "{reason:?}");
    // The honest peer's next block is followed.
    let longer = Arc::new(chain.fork(60, 1, filler_script));
    honest.switch(longer.clone()).await;
    honest.announce_headers(vec![longer.headers[61]]).await;
    f.tip(61).await;
    let weaker_peer = f
        .set
        .peers()
        .into_iter()
        .find(|p| p.addr() == weaker.addr)
        .expect("the peer on less work stays");
    assert!(weaker_peer.is_connected());
    let (r, seen) = f.stop().await;
    assert_eq!(r.tip_hash, longer.hashes[61]);
    assert_eq!(r.banned.len(), 1, "{:?}", r.banned);
    assert_eq!(r.side_headers, 3, "{seen:#?}");
    // Nothing of the weaker branch was matched or followed.
    assert_eq!(found_heights(&r), PAID_AT);
    assert!(!seen
        .iter()
        .any(|p| matches!(p, Progress::Reorganized { .. })));
}

/// Has `honest` mine one block on `chain` and announce it by headers;
/// waits until the follower reports it as its tip, with `honest` still
/// connected. Returns the new tip's hash.
async fn next_block_followed(f: &mut Follower, honest: &Fixture, chain: &FixtureChain) -> Hash {
    let tip = chain.height();
    let longer = Arc::new(chain.fork(tip, 1, filler_script));
    honest.switch(longer.clone()).await;
    honest
        .announce_headers(vec![longer.headers[tip as usize + 1]])
        .await;
    f.tip(tip + 1).await;
    assert!(f
        .set
        .peers()
        .iter()
        .any(|p| p.addr() == honest.addr && p.is_connected()));
    longer.hashes[tip as usize + 1]
}

/// Waits (at most 30 s) until `addr`'s peer in `set` is disconnected or
/// gone from it.
async fn until_disconnected(set: &PeerSet, addr: SocketAddr) {
    let wait = async {
        while set
            .peers()
            .iter()
            .any(|p| p.addr() == addr && p.is_connected())
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(30), wait)
        .await
        .expect("the peer is disconnected");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_announcer_of_a_header_far_below_the_tip_is_disconnected_not_banned() {
    use dcr_spv::announce::MAX_ANNOUNCED_TIP_DELTA;
    let tip = MAX_ANNOUNCED_TIP_DELTA + 40;
    let chain = FixtureChain::build(params::simnet(), tip, pay_at(PAID_AT));
    let honest = fixture(1, &chain).await;
    let stale = fixture(2, &chain).await;
    let dir = tempfile::tempdir().unwrap();
    let mut f = Follower::start(&[honest.addr, stale.addr], dir.path()).await;
    f.tip(tip).await;
    // A main-chain header one past dcrwallet's maxAnnHeaderTipDelta
    // below the tip: known, but announcing it is a protocol error.
    let old = (tip - MAX_ANNOUNCED_TIP_DELTA - 1) as usize;
    stale.announce_headers(vec![chain.headers[old]]).await;
    until_disconnected(&f.set, stale.addr).await;
    // Not a ban: the address may connect again.
    assert!(!f.set.is_banned(stale.addr.ip()));
    // The honest peer's next block is still followed.
    let next = next_block_followed(&mut f, &honest, &chain).await;
    let (r, seen) = f.stop().await;
    assert_eq!(r.tip_hash, next);
    assert!(r.banned.is_empty(), "{:?}", r.banned);
    assert!(r.swapped_out.is_empty(), "{:?}", r.swapped_out);
    assert!(
        !seen.iter().any(|p| matches!(p, Progress::Banned { .. })),
        "{seen:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_to_the_sync_read_late_are_not_taken_for_announcements() {
    use dcr_spv::announce::MAX_ANNOUNCED_TIP_DELTA;
    // One answer of the sync's carries headers from height 1, far more
    // than the announcement bound below the tip it leads to.
    let tip = MAX_ANNOUNCED_TIP_DELTA + 40;
    let chain = FixtureChain::build(params::simnet(), tip, pay_at(PAID_AT));
    let honest = fixture(1, &chain).await;
    let dir = tempfile::tempdir().unwrap();
    let (mut f, release) = Follower::start_late(&[honest.addr], dir.path()).await;
    f.tip(tip).await;
    // Only now does the follower read the messages of the sync: each
    // answered one of its requests, none is an announcement.
    let _ = release.send(());
    let next = next_block_followed(&mut f, &honest, &chain).await;
    let (r, _) = f.stop().await;
    assert_eq!(r.tip_hash, next);
    assert!(r.banned.is_empty(), "{:?}", r.banned);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_announcements_costs_one_entry_and_the_tip_is_still_followed() {
    let chain = FixtureChain::build(params::simnet(), 60, pay_at(PAID_AT));
    let honest = fixture(1, &chain).await;
    let flooder = fixture(2, &chain).await;
    let dir = tempfile::tempdir().unwrap();
    let mut f = Follower::start(&[honest.addr, flooder.addr], dir.path()).await;
    f.tip(60).await;
    // Thousands of inv messages naming blocks no one has: each one only
    // merges into the flooder's one entry (at most one getheaders out),
    // and the flooder answers it with nothing new.
    let flood = async {
        for i in 0..5_000u32 {
            let mut h = [0u8; 32];
            h[..4].copy_from_slice(&i.to_le_bytes());
            h[31] = 0xee;
            flooder.announce_inv(&[Hash(h)]).await;
        }
    };
    let longer = Arc::new(chain.fork(60, 2, filler_script));
    let announce = async {
        honest.switch(longer.clone()).await;
        honest.announce_headers(vec![longer.headers[61]]).await;
        honest.announce_headers(vec![longer.headers[62]]).await;
    };
    tokio::join!(flood, announce);
    f.tip(62).await;
    // The flooder is not a liar (unknown blocks are no fault): connected.
    assert!(f
        .set
        .peers()
        .iter()
        .any(|p| p.addr() == flooder.addr && p.is_connected()));
    let (r, _) = f.stop().await;
    assert_eq!(r.tip_hash, longer.hashes[62]);
    assert!(r.banned.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_peer_is_swapped_out_not_banned_and_the_tip_still_followed() {
    let chain = FixtureChain::build(params::simnet(), 60, pay_at(PAID_AT));
    let honest = fixture(1, &chain).await;
    let silent = serve_at(
        IpAddr::from([127, 0, 0, 2]),
        NET,
        Arc::new(chain.clone()),
        Behaviour::Silent,
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut f = Follower::start(&[honest.addr, silent.addr], dir.path()).await;
    f.tip(60).await;
    let longer = Arc::new(chain.fork(60, 1, pay_at(&[61])));
    honest.switch(longer.clone()).await;
    honest.announce_inv(&[longer.hashes[61]]).await;
    f.tip(61).await;
    let (r, _) = f.stop().await;
    assert_eq!(found_heights(&r), [5, 17, 40, 61]);
    assert!(r.banned.is_empty(), "{:?}", r.banned);
    assert_eq!(r.swapped_out, [silent.addr]);
}

/// The peers are the connection manager's choice (automatic outbound
/// from an address source, as without `--connect`; `LocalSource`
/// because dcrd's book refuses loopback addresses, and automatic
/// outbound switched on because dcrd has none on simnet): the silent one
/// is swapped out, and the follower syncs and follows the honest one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peers_chosen_by_a_connection_manager_are_followed_and_a_silent_one_swapped_out() {
    use dcr_peer::connmgr::{ConnManager, LocalSource, ManagerConfig};
    let chain = FixtureChain::build(params::simnet(), 60, pay_at(PAID_AT));
    let honest = fixture(1, &chain).await;
    let silent = serve_at(
        IpAddr::from([127, 0, 0, 2]),
        NET,
        Arc::new(chain.clone()),
        Behaviour::Silent,
    )
    .await
    .unwrap();
    let mut cfg = ManagerConfig::new(dcr_peer::Config::new(NET));
    cfg.target_outbound = 2;
    cfg.source = Some(Arc::new(LocalSource::new(&[honest.addr, silent.addr])));
    cfg.rules.automatic_outbound = true;
    let (events, rx) = mpsc::channel::<PeerEvent>(64);
    cfg.events = Some(events);
    let manager = ConnManager::start(cfg).await.unwrap();
    let set = PeerSet::follow(manager.clone(), set_config())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut f = Follower::over(set, rx, dir.path());
    f.tip(60).await;
    let longer = Arc::new(chain.fork(60, 1, pay_at(&[61])));
    honest.switch(longer.clone()).await;
    honest.announce_headers(vec![longer.headers[61]]).await;
    f.tip(61).await;
    // The manager may dial the silent peer late (a busy machine): it is
    // asked for headers whenever it joins, as dcrwallet asks each new
    // peer (`peerStartup`), and swapped out at its leash.
    let swapped = async {
        while !f.set.swapped_out().contains(&silent.addr) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(30), swapped)
        .await
        .expect("the silent peer is swapped out");
    let (r, _) = f.stop().await;
    assert_eq!(found_heights(&r), [5, 17, 40, 61]);
    assert!(r.banned.is_empty(), "{:?}", r.banned);
    assert!(r.swapped_out.contains(&silent.addr), "{:?}", r.swapped_out);
    assert!(!r.swapped_out.contains(&honest.addr), "{:?}", r.swapped_out);
    manager.shutdown(Duration::from_secs(5)).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_left_seven_blocks_behind_is_disconnected_and_an_echoing_one_kept() {
    // dcrwallet's `disconnectStragglers` at each new tip: a peer's height
    // is the higher of its advertised one and its last header's. `first`
    // announces each new block, `echo` announces it again once it is
    // known (as every dcrd does), `quiet` stays at 60 and says nothing.
    let chain = FixtureChain::build(params::simnet(), 60, pay_at(PAID_AT));
    let first = fixture(1, &chain).await;
    let echo = fixture(2, &chain).await;
    let quiet = fixture(3, &chain).await;
    let dir = tempfile::tempdir().unwrap();
    let mut f = Follower::start(&[first.addr, echo.addr, quiet.addr], dir.path()).await;
    f.tip(60).await;
    let longer = Arc::new(chain.fork(60, 7, filler_script));
    first.switch(longer.clone()).await;
    echo.switch(longer.clone()).await;
    for h in 61..=67u32 {
        first
            .announce_headers(vec![longer.headers[h as usize]])
            .await;
        f.tip(h).await;
        echo.announce_headers(vec![longer.headers[h as usize]])
            .await;
        if h < 67 {
            // Six below at most: everyone kept.
            assert!(f.set.peers().iter().all(|p| p.is_connected()), "at {h}");
        }
    }
    until_disconnected(&f.set, quiet.addr).await;
    assert!(!f.set.is_banned(quiet.addr.ip()));
    let kept = |addr| {
        f.set
            .peers()
            .iter()
            .any(|p| p.addr() == addr && p.is_connected())
    };
    assert!(kept(first.addr) && kept(echo.addr));
    let (r, _) = f.stop().await;
    assert_eq!(r.tip_hash, longer.hashes[67]);
    assert!(r.banned.is_empty(), "{:?}", r.banned);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_announcer_of_orphan_after_orphan_is_disconnected_not_banned() {
    // dcrwallet's `ReceivedOrphanHeader`: each announced header whose
    // parent is unknown adds 10 to a score halved every minute; above
    // 100 the announcer is disconnected. Each orphan here is sent once
    // the previous one has been answered (asked for headers, the peer
    // answers from its chain, where our tip is its tip).
    let chain = FixtureChain::build(params::simnet(), 60, pay_at(PAID_AT));
    let honest = fixture(1, &chain).await;
    let dripper = fixture(2, &chain).await;
    let dir = tempfile::tempdir().unwrap();
    let mut f = Follower::start(&[honest.addr, dripper.addr], dir.path()).await;
    f.tip(60).await;
    // Headers of a branch we never see, every other one: none connects
    // to what we know, nor to the one before.
    let unseen = chain.fork(50, 40, filler_script);
    let mut sent = 0;
    for h in (52..=90).step_by(2) {
        let still = f
            .set
            .peers()
            .iter()
            .any(|p| p.addr() == dripper.addr && p.is_connected());
        if !still {
            break;
        }
        dripper.announce_headers(vec![unseen.headers[h]]).await;
        sent += 1;
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    until_disconnected(&f.set, dripper.addr).await;
    assert!(sent > 10, "ten orphans are tolerated: {sent}");
    assert!(!f.set.is_banned(dripper.addr.ip()));
    // The honest peer's next block is still followed.
    let longer = Arc::new(chain.fork(60, 1, filler_script));
    honest.switch(longer.clone()).await;
    honest.announce_headers(vec![longer.headers[61]]).await;
    f.tip(61).await;
    let (r, _) = f.stop().await;
    assert_eq!(r.tip_hash, longer.hashes[61]);
    assert!(r.banned.is_empty(), "{:?}", r.banned);
}
