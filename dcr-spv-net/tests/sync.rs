//! The light client over loopback against fixture peers and our own
//! serving node: headers, filters proven, the watched script's
//! transactions found (no more, no fewer), misbehaving peers banned with
//! their reason, a silent one swapped out, a reorganization followed, a
//! chain with less work ignored, and a restart resumed.

use std::sync::Arc;
use std::time::Duration;

use dcr_peer::wire::CurrencyNet;
use dcr_peer::{Hooks, PeerSet, PeerSetConfig, RecentNonces};
use dcr_spv::{params, WatchList};
use dcr_spv_net::fixture::{filler_script, serve, Behaviour, FixtureChain};
use dcr_spv_net::{BanReason, LightClient, SyncConfig, SyncReport};

const NET: CurrencyNet = CurrencyNet::SimNet;

/// The script the tests watch: paid at heights 5, 17 and 40.
fn watched() -> Vec<u8> {
    let mut s = vec![0x76, 0xa9, 0x14];
    s.extend_from_slice(&[0xab; 20]);
    s.extend_from_slice(&[0x88, 0xac]);
    s
}

const PAID_AT: [u32; 3] = [5, 17, 40];

fn pay(h: u32) -> Vec<u8> {
    if PAID_AT.contains(&h) {
        watched()
    } else {
        filler_script(h)
    }
}

fn watch() -> WatchList {
    let mut w = WatchList::new();
    w.add_script(watched());
    w
}

fn set_config() -> PeerSetConfig {
    let mut c = PeerSetConfig::default();
    c.min_timeout = Duration::from_millis(200);
    c.request_timeout = Duration::from_secs(5);
    c.initial_timeout = Duration::from_secs(1);
    c
}

/// A peer set connected to each of `addrs`.
async fn set_of(addrs: &[std::net::SocketAddr]) -> PeerSet {
    let set = PeerSet::new(set_config());
    for a in addrs {
        let hooks = Hooks::new().with_nonces(RecentNonces::new());
        let p = dcr_peer::net::connect(&a.to_string(), dcr_peer::Config::new(NET), hooks)
            .await
            .unwrap();
        set.add(p);
    }
    set
}

fn config(dir: &std::path::Path) -> SyncConfig {
    let mut c = SyncConfig::new(params::simnet().clone(), dir);
    // Small batches: many requests, spread over every peer.
    c.filter_batch = 4;
    c
}

async fn sync(set: PeerSet, dir: &std::path::Path) -> SyncReport {
    // RUST_LOG=dcr_spv_net=debug,dcr_peer::peerset=debug shows the steps.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let client = LightClient::open(config(dir), set, watch()).unwrap();
    tokio::time::timeout(Duration::from_secs(60), client.run(|_| {}))
        .await
        .expect("the sync ends")
        .unwrap()
}

fn found_heights(r: &SyncReport) -> Vec<u32> {
    r.found.iter().map(|f| f.height).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn syncs_proves_every_filter_and_finds_exactly_the_watched_payments() {
    let chain = Arc::new(FixtureChain::build(params::simnet(), 60, pay));
    let mut addrs = Vec::new();
    for _ in 0..3 {
        addrs.push(
            serve(NET, chain.clone(), Behaviour::Honest)
                .await
                .unwrap()
                .addr,
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let r = sync(set_of(&addrs).await, dir.path()).await;
    assert_eq!(r.tip_height, 60);
    assert_eq!(r.tip_hash, chain.hashes[60]);
    assert_eq!(r.headers, 60);
    // Genesis has no commitment; every other filter is proven.
    assert_eq!((r.filters, r.proven), (61, 60));
    assert_eq!(found_heights(&r), PAID_AT);
    assert_eq!(r.blocks, 3);
    for f in &r.found {
        assert_eq!(f.block, chain.hashes[f.height as usize]);
        assert_eq!(f.tx.outputs, [0]);
    }
    assert!(r.banned.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_peers_are_banned_a_silent_one_swapped_out_and_the_sync_completes() {
    // A bad answer is only caught when it is used, and a member that has
    // answered nothing yet takes one request at a time: on a job as short
    // as 60 blocks the honest peer could answer every filter batch before
    // the altered peer was asked for one. 400 blocks (100 batches) leave
    // every member its share.
    const TIP: u32 = 400;
    let chain = Arc::new(FixtureChain::build(params::simnet(), TIP, pay));
    let honest = serve(NET, chain.clone(), Behaviour::Honest).await.unwrap();
    let altered = serve(NET, chain.clone(), Behaviour::AlterFilters)
        .await
        .unwrap();
    let bad_pow = serve(NET, chain.clone(), Behaviour::BadProofOfWork)
        .await
        .unwrap();
    let silent = serve(NET, chain.clone(), Behaviour::Silent).await.unwrap();
    let set = set_of(&[honest.addr, altered.addr, bad_pow.addr, silent.addr]).await;
    let silent_peer = set
        .peers()
        .into_iter()
        .find(|p| p.addr() == silent.addr)
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let r = sync(set.clone(), dir.path()).await;
    assert_eq!(r.tip_height, TIP);
    assert_eq!((r.filters, r.proven), (TIP + 1, TIP));
    assert_eq!(found_heights(&r), PAID_AT);
    let banned: Vec<_> = r.banned.iter().map(|(a, _)| *a).collect();
    assert!(banned.contains(&altered.addr), "{:?}", r.banned);
    assert!(banned.contains(&bad_pow.addr), "{:?}", r.banned);
    assert_eq!(banned.len(), 2, "{:?}", r.banned);
    for (addr, reason) in &r.banned {
        match reason {
            BanReason::Filter(_) => assert_eq!(*addr, altered.addr),
            BanReason::Header(_) => assert_eq!(*addr, bad_pow.addr),
            other => panic!("{other:?}"),
        }
    }
    // The silent peer: out of the set and disconnected, not banned.
    assert!(!silent_peer.is_connected());
    assert_eq!(r.swapped_out, [silent.addr]);
    assert!(!set.is_banned(silent.addr.ip()) || silent.addr.ip() == honest.addr.ip());
    assert!(set.peers().iter().all(|p| p.addr() == honest.addr));
}

/// A member that answers headers and then sits on its filter requests:
/// each of them, once the filters after it wait on it, is marked as the
/// head of the line, and the set hedges it on the honest peer instead of
/// waiting out the attempt (10 s here; hedging while no answer is timed
/// is off, so only the head-of-line rule can help).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filter_requests_holding_up_the_release_are_hedged_not_waited_out() {
    let chain = Arc::new(FixtureChain::build(params::simnet(), 60, pay));
    let honest = serve(NET, chain.clone(), Behaviour::Honest).await.unwrap();
    let sitter = serve(NET, chain.clone(), Behaviour::SilentOnFilters)
        .await
        .unwrap();
    let mut c = set_config();
    c.min_timeout = Duration::from_secs(10);
    c.initial_timeout = Duration::from_secs(10);
    c.request_timeout = Duration::from_secs(30);
    c.hedge_after = Duration::MAX;
    let set = PeerSet::new(c);
    for a in [honest.addr, sitter.addr] {
        let hooks = Hooks::new().with_nonces(RecentNonces::new());
        let p = dcr_peer::net::connect(&a.to_string(), dcr_peer::Config::new(NET), hooks)
            .await
            .unwrap();
        set.add(p);
    }
    let dir = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let r = sync(set.clone(), dir.path()).await;
    let took = started.elapsed();
    assert_eq!(r.tip_height, 60);
    assert_eq!((r.filters, r.proven), (61, 60));
    assert_eq!(found_heights(&r), PAID_AT);
    assert!(r.banned.is_empty(), "{:?}", r.banned);
    assert!(took < Duration::from_secs(5), "{took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_resumes_and_a_longer_fork_reorganizes() {
    let first = FixtureChain::build(params::simnet(), 30, pay);
    let dir = tempfile::tempdir().unwrap();
    let a = serve(NET, Arc::new(first.clone()), Behaviour::Honest)
        .await
        .unwrap();
    let r = sync(set_of(&[a.addr]).await, dir.path()).await;
    assert_eq!((r.tip_height, r.resumed_headers), (30, 0));
    assert_eq!(found_heights(&r), [5, 17]);
    // The network moved on from block 20 on another branch, longer than
    // ours: the restart replays the store, reorganizes at 20, and finds
    // the payments of the new branch (its block 40) and not block 17's
    // twice.
    let fork = Arc::new(first.fork(20, 30, pay));
    let b = serve(NET, fork.clone(), Behaviour::Honest).await.unwrap();
    let r = sync(set_of(&[b.addr]).await, dir.path()).await;
    assert_eq!(r.resumed_headers, 30);
    assert_eq!((r.tip_height, r.tip_hash), (50, fork.hashes[50]));
    assert_eq!(r.headers, 30, "blocks 21 to 50 of the new branch");
    // Stored filters were matched again (5, 17), then the new branch's.
    assert_eq!(found_heights(&r), [5, 17, 40]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chain_with_less_work_is_ignored_not_banned() {
    let main = FixtureChain::build(params::simnet(), 40, pay);
    let shorter = Arc::new(main.fork(10, 20, filler_script));
    let a = serve(NET, Arc::new(main.clone()), Behaviour::Honest)
        .await
        .unwrap();
    let b = serve(NET, shorter, Behaviour::Honest).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let r = sync(set_of(&[a.addr, b.addr]).await, dir.path()).await;
    assert_eq!((r.tip_height, r.tip_hash), (40, main.hashes[40]));
    assert!(r.banned.is_empty());
    assert_eq!(found_heights(&r), [5, 17, 40]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_behind_us_is_heard_and_the_sync_completes() {
    let main = FixtureChain::build(params::simnet(), 40, pay);
    let behind = FixtureChain::from_parts(
        main.params.clone(),
        main.headers[..31].to_vec(),
        main.filters[..31].to_vec(),
        main.blocks.clone(),
    );
    let a = serve(NET, Arc::new(main.clone()), Behaviour::Honest)
        .await
        .unwrap();
    let b = serve(NET, Arc::new(behind), Behaviour::Honest)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let r = sync(set_of(&[a.addr, b.addr]).await, dir.path()).await;
    assert_eq!((r.tip_height, r.tip_hash), (40, main.hashes[40]));
    assert!(r.banned.is_empty());
    assert_eq!(found_heights(&r), [5, 17, 40]);
}

/// Our own serving node (dcr-node, dcrd's serving rules), holding the
/// blocks of `chain`: it builds each block's filter itself.
async fn dcr_node_server(chain: &FixtureChain) -> std::net::SocketAddr {
    use dcr_node::serve::{serve_with, serving_config, serving_hooks, DisconnectOnly, Served};
    let genesis = dcr_peer::wire::Block::new(chain.params.genesis_header, &[], &[]);
    let mut raw = Vec::new();
    dcr_peer::wire::Message::Block(genesis)
        .encode(&mut raw, dcr_peer::wire::pver::CURRENT)
        .unwrap();
    let mut blocks = vec![raw];
    for h in &chain.hashes[1..] {
        blocks.push(chain.blocks[h].clone());
    }
    let store = Arc::new(dcr_node::store::ChainStore::new(blocks).unwrap());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::mpsc::channel(64);
    let hooks = serving_hooks(&store)
        .with_events(tx)
        .with_nonces(RecentNonces::new());
    tokio::spawn(serve_with(
        Arc::new(Served::new(store)),
        rx,
        None,
        DisconnectOnly::default(),
    ));
    let mut accepted = dcr_peer::net::serve(listener, serving_config(NET, "node"), hooks);
    tokio::spawn(async move { while accepted.recv().await.is_some() {} });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn syncs_from_our_own_serving_node() {
    let chain = FixtureChain::build(params::simnet(), 60, pay);
    let addr = dcr_node_server(&chain).await;
    let dir = tempfile::tempdir().unwrap();
    let r = sync(set_of(&[addr]).await, dir.path()).await;
    assert_eq!((r.tip_height, r.tip_hash), (60, chain.hashes[60]));
    // dcr-node built every filter itself: each proves into its header.
    assert_eq!((r.filters, r.proven), (61, 60));
    assert_eq!(found_heights(&r), PAID_AT);
    assert!(r.banned.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tip_not_taken_yet_ends_its_peers_turn_and_the_sync_completes() {
    // A peer whose tip is stamped three hours ahead of our clock (valid
    // later, no fault) answers every request from our tip with that
    // header, which the chain cannot take now. It has been heard at the
    // tip: the sync must not ask it again and again for something it can
    // take (before, the sync never ended).
    let chain = Arc::new(FixtureChain::build(params::simnet(), 60, pay));
    let honest = serve(NET, chain.clone(), Behaviour::Honest).await.unwrap();
    let ahead = serve(NET, chain.clone(), Behaviour::FutureTip)
        .await
        .unwrap();
    // And one whose answer from the tip is an orphan: not an answer to
    // the locator sent (dcr-peer's request table, as dcrwallet's
    // `receivedHeaders` checks the first header's parent against the
    // locator), so the request times out and the peer is swapped out.
    let orphan = serve(NET, chain.clone(), Behaviour::OrphanAtTip)
        .await
        .unwrap();
    let set = set_of(&[honest.addr, ahead.addr, orphan.addr]).await;
    let dir = tempfile::tempdir().unwrap();
    let r = sync(set.clone(), dir.path()).await;
    assert_eq!((r.tip_height, r.tip_hash), (60, chain.hashes[60]));
    assert_eq!((r.filters, r.proven), (61, 60));
    assert_eq!(found_heights(&r), PAID_AT);
    assert!(r.banned.is_empty(), "{:?}", r.banned);
    assert_eq!(r.swapped_out, [orphan.addr]);
    // A clock ahead of ours is no fault: that peer stays.
    assert!(set
        .peers()
        .iter()
        .any(|p| p.addr() == ahead.addr && p.is_connected()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_that_drips_headers_is_disconnected_not_banned() {
    // It advertised its chain's height (60) and answers each
    // `getheaders` with one header: dcrwallet's "peer sent too few
    // headers". The honest peer is behind it (30), so the dripper is
    // asked for more whichever is asked first.
    let chain = Arc::new(FixtureChain::build(params::simnet(), 60, pay));
    let behind = Arc::new(chain.fork(30, 0, pay));
    let drip = serve(NET, chain.clone(), Behaviour::DripHeaders)
        .await
        .unwrap();
    let honest = serve(NET, behind, Behaviour::Honest).await.unwrap();
    let set = set_of(&[drip.addr, honest.addr]).await;
    let dripper = set
        .peers()
        .into_iter()
        .find(|p| p.addr() == drip.addr)
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let r = sync(set.clone(), dir.path()).await;
    assert_eq!((r.tip_height, r.tip_hash), (30, chain.hashes[30]));
    assert_eq!(found_heights(&r), [5, 17]);
    assert!(r.banned.is_empty(), "{:?}", r.banned);
    assert!(!set.is_banned(drip.addr.ip()));
    assert!(
        !dripper.is_connected(),
        "asked, the dripper answers one header below its 60"
    );
}

/// The peer of `set` at `addr`.
fn member(set: &PeerSet, addr: std::net::SocketAddr) -> dcr_peer::Peer {
    set.peers().into_iter().find(|p| p.addr() == addr).unwrap()
}

/// The first `n + 1` blocks of `chain`: a peer that has not heard of the
/// rest.
fn prefix(chain: &FixtureChain, n: usize) -> FixtureChain {
    FixtureChain::from_parts(
        chain.params.clone(),
        chain.headers[..=n].to_vec(),
        chain.filters[..=n].to_vec(),
        chain.blocks.clone(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_more_than_six_blocks_behind_is_disconnected_not_banned() {
    // dcrwallet's `disconnectStragglers`: six below the tip is kept,
    // seven below is disconnected; neither is banned.
    let main = FixtureChain::build(params::simnet(), 40, pay);
    let a = serve(NET, Arc::new(main.clone()), Behaviour::Honest)
        .await
        .unwrap();
    let six = serve(NET, Arc::new(prefix(&main, 34)), Behaviour::Honest)
        .await
        .unwrap();
    let seven = serve(NET, Arc::new(prefix(&main, 33)), Behaviour::Honest)
        .await
        .unwrap();
    let set = set_of(&[a.addr, six.addr, seven.addr]).await;
    let (kept, straggler) = (member(&set, six.addr), member(&set, seven.addr));
    let dir = tempfile::tempdir().unwrap();
    let r = sync(set.clone(), dir.path()).await;
    assert_eq!((r.tip_height, r.tip_hash), (40, main.hashes[40]));
    assert_eq!(found_heights(&r), [5, 17, 40]);
    assert!(r.banned.is_empty(), "{:?}", r.banned);
    assert!(!set.is_banned(seven.addr.ip()));
    assert!(
        !straggler.is_connected(),
        "seven blocks behind: disconnected"
    );
    assert!(kept.is_connected(), "six blocks behind: kept");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_that_sends_nothing_below_its_advertised_height_is_disconnected() {
    // It advertised 60 (its chain when it started listening) and then
    // serves 30: asked from our stored tip at 30, it has nothing to
    // send. dcrwallet's "peer did not provide headers through
    // advertised height". The honest peer is at 30.
    let main = FixtureChain::build(params::simnet(), 60, pay);
    let at_30 = Arc::new(prefix(&main, 30));
    let honest = serve(NET, at_30.clone(), Behaviour::Honest).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let r = sync(set_of(&[honest.addr]).await, dir.path()).await;
    assert_eq!(r.tip_height, 30);
    let liar = serve(NET, Arc::new(main.clone()), Behaviour::Honest)
        .await
        .unwrap();
    liar.switch(at_30.clone()).await;
    let set = set_of(&[liar.addr, honest.addr]).await;
    let withholder = member(&set, liar.addr);
    let r = sync(set.clone(), dir.path()).await;
    assert_eq!((r.tip_height, r.tip_hash), (30, main.hashes[30]));
    assert!(r.banned.is_empty(), "{:?}", r.banned);
    assert!(!set.is_banned(liar.addr.ip()));
    assert!(
        !withholder.is_connected(),
        "asked from 30, it sent nothing below its 60"
    );
    assert!(member(&set, honest.addr).is_connected());
}

/// A peer of this network serving another chain (another genesis block)
/// answers our locator from its own block 1, whose parent we never
/// named: disconnected at its first answer, not asked again for ever
/// (the sync never ended, hundreds of round trips a second: `dcrpeer spv
/// --connect` to `dcrpeer listen --net simnet`, whose demo chain is not
/// simnet's), and the sync completes from the honest peer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_of_another_chain_is_disconnected_not_asked_for_ever() {
    let main = Arc::new(FixtureChain::build(params::simnet(), 40, pay));
    let other = Arc::new(FixtureChain::build(params::regnet(), 40, filler_script));
    assert_ne!(other.hashes[0], main.hashes[0]);
    let a = serve(NET, main.clone(), Behaviour::Honest).await.unwrap();
    let b = serve(NET, other, Behaviour::Honest).await.unwrap();
    let set = set_of(&[a.addr, b.addr]).await;
    let stranger = set
        .peers()
        .into_iter()
        .find(|p| p.addr() == b.addr)
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let r = sync(set, dir.path()).await;
    assert_eq!((r.tip_height, r.tip_hash), (40, main.hashes[40]));
    assert_eq!(found_heights(&r), [5, 17, 40]);
    assert!(r.banned.is_empty(), "{:?}", r.banned);
    assert!(!stranger.is_connected());
}
