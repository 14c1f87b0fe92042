//! The peer set over loopback: requests routed to peers that can answer,
//! retried elsewhere on a timeout, a `notfound` or a disconnect, a silent
//! peer swapped out (not banned), a member that never answered held to
//! one request and a short leash, a request holding up its caller hedged,
//! a job spread over every peer within their request slots, and a set
//! following a connection manager.

mod common;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{hooks, manager_config, NET};
use dcr_peer::connmgr::ConnManager;
use dcr_peer::wire::{
    pver, CFilterV2, CFiltersV2, Hash, InvType, InvVect, Message, NotFound, ServiceFlags,
};
use dcr_peer::{
    Config, DataItem, HeadOfLine, Peer, PeerEvent, PeerSet, PeerSetConfig, PeerSetError, Request,
    RequestError, Response, SWAPPED_KEPT,
};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// How a test remote answers.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Behaviour {
    /// Every filter request, after this long; `getdata` with the blocks'
    /// `notfound`.
    Answers(Duration),
    /// Nothing at all (pings aside: the peer answers them itself).
    Silent,
    /// The first this many requests at once, then nothing.
    Stalls(usize),
}

/// A remote on loopback: its address, the requests it received, and the
/// most it held unanswered at once.
struct Remote {
    addr: SocketAddr,
    received: Arc<AtomicUsize>,
    most_pending: Arc<AtomicUsize>,
    peers: Arc<Mutex<Vec<Peer>>>,
}

async fn remote(behaviour: Behaviour, pv: u32, services: ServiceFlags) -> Remote {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, mut rx) = mpsc::channel::<PeerEvent>(1024);
    let mut cfg = Config::new(NET);
    cfg.services = services;
    cfg.protocol_version = pv;
    let mut accepted = dcr_peer::net::serve(listener, cfg, hooks().with_events(tx));
    let peers = Arc::new(Mutex::new(Vec::new()));
    let kept = peers.clone();
    tokio::spawn(async move {
        while let Some(p) = accepted.recv().await {
            kept.lock().unwrap().push(p);
        }
    });
    let received = Arc::new(AtomicUsize::new(0));
    let most_pending = Arc::new(AtomicUsize::new(0));
    let (r, m) = (received.clone(), most_pending.clone());
    let pending = Arc::new(AtomicUsize::new(0));
    tokio::spawn(async move {
        while let Some(PeerEvent { peer, message, .. }) = rx.recv().await {
            let answer = match &message {
                Message::GetCFilterV2(g) => Message::CFilterV2(filter(g.block_hash)),
                Message::GetCFsV2(g) => Message::CFiltersV2(CFiltersV2 {
                    cfilters: vec![filter(g.start_hash), filter(g.end_hash)],
                }),
                Message::GetData(g) => Message::NotFound(NotFound {
                    inv_list: g.inv_list.clone(),
                }),
                _ => continue,
            };
            let n = r.fetch_add(1, Ordering::SeqCst);
            let delay = match behaviour {
                Behaviour::Answers(delay) => delay,
                Behaviour::Stalls(answered) if n < answered => Duration::ZERO,
                Behaviour::Stalls(_) | Behaviour::Silent => continue,
            };
            let now = pending.fetch_add(1, Ordering::SeqCst) + 1;
            m.fetch_max(now, Ordering::SeqCst);
            let pending = pending.clone();
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                pending.fetch_sub(1, Ordering::SeqCst);
                let _ = peer.queue_message(&answer);
            });
        }
    });
    Remote {
        addr,
        received,
        most_pending,
        peers,
    }
}

fn filter(block: Hash) -> CFilterV2<'static> {
    CFilterV2 {
        block_hash: block,
        ..Default::default()
    }
}

fn quick() -> Behaviour {
    Behaviour::Answers(Duration::from_millis(2))
}

fn full() -> ServiceFlags {
    ServiceFlags::NODE_NETWORK
}

async fn dial(addr: SocketAddr, max_in_flight: usize) -> Peer {
    let mut cfg = Config::new(NET);
    cfg.max_requests_in_flight = max_in_flight;
    dcr_peer::net::connect(&addr.to_string(), cfg, hooks())
        .await
        .unwrap()
}

fn fast_config() -> PeerSetConfig {
    let mut c = PeerSetConfig::default();
    c.min_timeout = Duration::from_millis(200);
    c.request_timeout = Duration::from_secs(5);
    c.initial_timeout = Duration::from_secs(1);
    c
}

fn cfilter(n: u8) -> Request {
    Request::CFilterV2(Hash([n; 32]))
}

#[tokio::test]
async fn requests_go_only_to_peers_that_can_answer_them() {
    let modern = remote(quick(), pver::CURRENT, full()).await;
    let old = remote(quick(), pver::MIX, full()).await;
    let wallet = remote(quick(), pver::CURRENT, ServiceFlags::NONE).await;
    let set = PeerSet::new(fast_config());
    for r in [&modern, &old, &wallet] {
        assert!(set.add(dial(r.addr, 8).await));
    }
    let batch = Request::CFiltersV2 {
        start: Hash([1; 32]),
        end: Hash([2; 32]),
    };
    for _ in 0..20 {
        let a = set.call(batch.clone()).await.unwrap();
        assert_eq!(a.peer.addr(), modern.addr);
        assert!(matches!(a.response, Response::CFiltersV2(f) if f.len() == 2));
        // A single filter: protocol 10 will do, a node without a chain
        // will not.
        let one = set.call(cfilter(3)).await.unwrap();
        assert_ne!(one.peer.addr(), wallet.addr);
    }
    // More single filters at once than the modern peer has slots (8):
    // the older one takes the rest.
    let answers: Vec<_> =
        futures_util::StreamExt::collect::<Vec<_>>(set.call_all((0..40).map(cfilter), 16)).await;
    for (_, a) in &answers {
        assert_ne!(a.as_ref().unwrap().peer.addr(), wallet.addr);
    }
    assert_eq!(wallet.received.load(Ordering::SeqCst), 0);
    assert!(
        old.received.load(Ordering::SeqCst) > 0,
        "both able peers share single filters"
    );
    // With only the peer that lacks services left, nobody can take it.
    let mut short = fast_config();
    short.request_timeout = Duration::from_millis(300);
    let lone = PeerSet::new(short);
    lone.add(dial(wallet.addr, 8).await);
    assert_eq!(
        lone.call(cfilter(1)).await.unwrap_err(),
        PeerSetError::NoPeers
    );
}

#[tokio::test]
async fn a_silent_peer_is_swapped_out_and_its_requests_answered_elsewhere() {
    let silent = remote(Behaviour::Silent, pver::CURRENT, full()).await;
    let good = remote(quick(), pver::CURRENT, full()).await;
    let set = PeerSet::new(fast_config());
    let quiet = dial(silent.addr, 8).await;
    set.add(quiet.clone());
    set.add(dial(good.addr, 8).await);
    // Learn what answers take, then a job of many requests.
    set.call(cfilter(0)).await.unwrap();
    let answers: Vec<_> =
        futures_util::StreamExt::collect::<Vec<_>>(set.call_all((1..=60).map(cfilter), 16)).await;
    assert_eq!(answers.len(), 60);
    for (_, a) in &answers {
        assert_eq!(a.as_ref().unwrap().peer.addr(), good.addr);
    }
    // The silent peer got some, timed out on them, and was swapped out:
    // disconnected, not banned, and out of the set. (If it drew the first
    // call, hedged, that attempt runs on to its leash, which may end a
    // little after this short job.)
    assert!(silent.received.load(Ordering::SeqCst) > 0);
    let until = tokio::time::Instant::now() + Duration::from_secs(2);
    while quiet.is_connected() && tokio::time::Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(!quiet.is_connected());
    assert_eq!(
        quiet.disconnect_reason(),
        Some(dcr_peer::DisconnectReason::Requested)
    );
    assert_eq!(set.len(), 1);
    assert!(!set.is_banned(silent.addr.ip()));
    assert_eq!(set.swapped_out(), [quiet.addr()]);
}

/// A silent peer that takes a kind's first request (no answer time known
/// yet, so the attempt may wait the whole initial timeout): at
/// `hedge_after` the request goes to a second peer too, whose answer ends
/// the call.
#[tokio::test]
async fn a_first_request_to_a_silent_peer_is_hedged_on_another() {
    for hedge in [true, false] {
        let silent = remote(Behaviour::Silent, pver::CURRENT, full()).await;
        let good = remote(quick(), pver::CURRENT, full()).await;
        let mut config = fast_config();
        config.initial_timeout = Duration::from_secs(3);
        config.hedge_after = if hedge {
            Duration::from_millis(200)
        } else {
            Duration::MAX
        };
        let set = PeerSet::new(config);
        // The silent peer alone: it takes the request.
        set.add(dial(silent.addr, 8).await);
        let started = tokio::time::Instant::now();
        let call = tokio::spawn({
            let set = set.clone();
            async move { set.call(cfilter(7)).await }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        set.add(dial(good.addr, 8).await);
        let answer = call.await.unwrap().unwrap();
        let took = started.elapsed();
        assert_eq!(answer.peer.addr(), good.addr);
        assert_eq!(silent.received.load(Ordering::SeqCst), 1);
        if hedge {
            assert!(
                took >= Duration::from_millis(200) && took < Duration::from_secs(1),
                "{took:?}"
            );
        } else {
            // Without hedging the call waits out the silent attempt.
            assert!(took >= Duration::from_secs(3), "{took:?}");
        }
    }
}

/// A member that has not answered anything yet holds one request of the
/// set (probation), and its attempt is given up at its short leash
/// (`min_first_timeout`), not at the `min_timeout` of a member that has
/// answered: a silent member costs one request one leash, once.
#[tokio::test]
async fn a_member_that_never_answered_holds_one_request_on_a_short_leash() {
    let silent = remote(Behaviour::Silent, pver::CURRENT, full()).await;
    let good = remote(quick(), pver::CURRENT, full()).await;
    let mut config = fast_config();
    config.min_timeout = Duration::from_secs(3);
    config.min_first_timeout = Duration::from_millis(300);
    let set = PeerSet::new(config);
    let quiet = dial(silent.addr, 8).await;
    set.add(quiet.clone());
    set.add(dial(good.addr, 8).await);
    // Answers timed on the good member alone.
    let good_addr = good.addr;
    set.call_where(cfilter(0), |p| p.addr() == good_addr)
        .await
        .unwrap();
    let started = tokio::time::Instant::now();
    let answers: Vec<_> =
        futures_util::StreamExt::collect::<Vec<_>>(set.call_all((1..=60).map(cfilter), 16)).await;
    let took = started.elapsed();
    for (_, a) in &answers {
        assert_eq!(a.as_ref().unwrap().peer.addr(), good.addr);
    }
    assert_eq!(
        silent.received.load(Ordering::SeqCst),
        1,
        "no second request before a first answer"
    );
    assert!(!quiet.is_connected());
    assert_eq!(set.swapped_out(), [quiet.addr()]);
    assert!(!set.is_banned(silent.addr.ip()));
    // Its one request waited out the leash, not the 3 s.
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_secs(2),
        "{took:?}"
    );
}

/// When the head of the line is marked.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Mark {
    AtStart,
    After(Duration),
    Never,
}

/// A call that holds up its caller (`HeadOfLine`), on a member that has
/// answered before and now sits on it: hedged on another member once out
/// `hedge_factor` times the typical answer (at least `hedge_min`), long
/// before its attempt times out, and on a member that has answered, not
/// on one that never did. Unmarked, it waits the attempt out.
#[tokio::test]
async fn a_call_holding_up_its_caller_is_hedged_well_before_its_timeout() {
    for mark in [
        Mark::AtStart,
        Mark::After(Duration::from_millis(400)),
        Mark::Never,
    ] {
        let staller = remote(Behaviour::Stalls(1), pver::CURRENT, full()).await;
        let good = remote(quick(), pver::CURRENT, full()).await;
        let silent = remote(Behaviour::Silent, pver::CURRENT, full()).await;
        let mut config = fast_config();
        config.min_timeout = Duration::from_secs(2);
        config.hedge_min = Duration::from_millis(50);
        let set = PeerSet::new(config);
        for r in [&staller, &good, &silent] {
            set.add(dial(r.addr, 8).await);
        }
        let (staller_addr, good_addr) = (staller.addr, good.addr);
        set.call_where(cfilter(0), |p| p.addr() == staller_addr)
            .await
            .unwrap();
        set.call_where(cfilter(1), |p| p.addr() == good_addr)
            .await
            .unwrap();
        // The call starts on the staller; the others may take it later.
        let open = Arc::new(AtomicBool::new(false));
        let head = if mark == Mark::AtStart {
            HeadOfLine::marked()
        } else {
            HeadOfLine::new()
        };
        tokio::spawn({
            let (open, head) = (open.clone(), head.clone());
            async move {
                tokio::time::sleep(Duration::from_millis(10)).await;
                open.store(true, Ordering::SeqCst);
                if let Mark::After(d) = mark {
                    tokio::time::sleep(d).await;
                    head.mark();
                }
            }
        });
        let started = tokio::time::Instant::now();
        let eligible = |p: &Peer| p.addr() == staller_addr || open.load(Ordering::SeqCst);
        let answer = set.call_ordered(cfilter(2), eligible, &head).await.unwrap();
        let took = started.elapsed();
        assert_eq!(staller.received.load(Ordering::SeqCst), 2, "{mark:?}");
        match mark {
            Mark::AtStart => {
                assert_eq!(answer.peer.addr(), good.addr);
                assert!(
                    took >= Duration::from_millis(50) && took < Duration::from_millis(400),
                    "{took:?}"
                );
                assert_eq!(silent.received.load(Ordering::SeqCst), 0);
            }
            Mark::After(d) => {
                assert_eq!(answer.peer.addr(), good.addr);
                assert!(took >= d && took < d * 2, "{took:?}");
                assert_eq!(silent.received.load(Ordering::SeqCst), 0);
            }
            Mark::Never => {
                assert_ne!(answer.peer.addr(), staller.addr);
                assert!(took >= Duration::from_secs(2), "{took:?}");
            }
        }
        // Slow, not silent from the start: one timeout pauses it, at most.
        assert!(!set.swapped_out().contains(&staller_addr), "{mark:?}");
    }
}

/// A hedge that wins over the attempt of a member that never answered
/// does not call that attempt off: it runs on to its leash, and the
/// member is swapped out there. Called off, it would leave the silent
/// member untested, free to take the next request, and the next, each
/// held up until hedged, and never swapped out.
#[tokio::test]
async fn a_hedge_won_over_a_member_on_probation_lets_its_attempt_run_to_the_leash() {
    let silent = remote(Behaviour::Silent, pver::CURRENT, full()).await;
    let good = remote(quick(), pver::CURRENT, full()).await;
    let mut config = fast_config();
    config.min_first_timeout = Duration::from_millis(500);
    config.hedge_min = Duration::from_millis(30);
    let set = PeerSet::new(config);
    let quiet = dial(silent.addr, 8).await;
    set.add(quiet.clone());
    set.add(dial(good.addr, 8).await);
    let (silent_addr, good_addr) = (silent.addr, good.addr);
    set.call_where(cfilter(0), |p| p.addr() == good_addr)
        .await
        .unwrap();
    let open = Arc::new(AtomicBool::new(false));
    tokio::spawn({
        let open = open.clone();
        async move {
            tokio::time::sleep(Duration::from_millis(10)).await;
            open.store(true, Ordering::SeqCst);
        }
    });
    let started = tokio::time::Instant::now();
    let eligible = |p: &Peer| p.addr() == silent_addr || open.load(Ordering::SeqCst);
    let answer = set
        .call_ordered(cfilter(1), eligible, &HeadOfLine::marked())
        .await
        .unwrap();
    assert_eq!(answer.peer.addr(), good.addr);
    assert!(started.elapsed() < Duration::from_millis(400));
    // The call is over; the silent member's attempt is not.
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(!quiet.is_connected());
    assert_eq!(set.swapped_out(), [quiet.addr()]);
    assert_eq!(silent.received.load(Ordering::SeqCst), 1);
}

/// A call waiting for a member busy elsewhere ends as soon as that member
/// leaves the set, instead of waiting its whole deadline for another that
/// could take it.
#[tokio::test]
async fn a_call_whose_only_candidate_leaves_ends_at_once() {
    let silent = remote(Behaviour::Silent, pver::CURRENT, full()).await;
    let good = remote(quick(), pver::CURRENT, full()).await;
    let set = PeerSet::new(fast_config());
    let quiet = dial(silent.addr, 1).await;
    set.add(quiet.clone());
    set.add(dial(good.addr, 8).await);
    // Its one slot taken outside the set.
    let busy = tokio::spawn({
        let quiet = quiet.clone();
        async move { quiet.call(cfilter(0), Duration::from_secs(10)).await }
    });
    let silent_addr = silent.addr;
    let waiting = tokio::spawn({
        let set = set.clone();
        async move {
            set.call_where(cfilter(1), |p| p.addr() == silent_addr)
                .await
        }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!waiting.is_finished());
    set.swap_out(&quiet);
    let ended = tokio::time::timeout(Duration::from_secs(1), waiting)
        .await
        .expect("ends once its only candidate left, not at its deadline (5 s)")
        .unwrap();
    assert_eq!(ended.unwrap_err(), PeerSetError::NoPeers);
    assert!(busy.await.unwrap().is_err());
}

#[tokio::test]
async fn notfound_and_disconnects_send_the_request_to_another_peer() {
    let a = remote(quick(), pver::CURRENT, full()).await;
    let b = remote(quick(), pver::CURRENT, full()).await;
    let set = PeerSet::new(fast_config());
    set.add(dial(a.addr, 8).await);
    set.add(dial(b.addr, 8).await);
    // A `getdata` answers `notfound` as an item: that is an answer. A
    // one-block request that both peers lack tries each once.
    let block = InvVect {
        inv_type: InvType::BLOCK,
        hash: Hash([5; 32]),
    };
    let items = set.call(Request::Data(vec![block])).await.unwrap();
    assert!(matches!(items.response, Response::Data(d) if d == [DataItem::NotFound(block)]));
    let missing = set.get_block(block.hash).await.unwrap_err();
    assert_eq!(
        missing,
        PeerSetError::Failed {
            attempts: 2,
            last: RequestError::NotFound(block)
        }
    );
    assert_eq!(set.len(), 2, "notfound costs a peer nothing");
    // A peer that leaves mid-request: the request goes to the other.
    let slow = remote(
        Behaviour::Answers(Duration::from_secs(3)),
        pver::CURRENT,
        full(),
    )
    .await;
    let set = PeerSet::new(fast_config());
    set.add(dial(slow.addr, 8).await);
    let asked = tokio::spawn({
        let set = set.clone();
        async move { set.call(cfilter(9)).await }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    set.add(dial(a.addr, 8).await);
    for p in slow.peers.lock().unwrap().iter() {
        p.disconnect();
    }
    let answer = asked.await.unwrap().unwrap();
    assert_eq!(answer.peer.addr(), a.addr);
    assert_eq!(set.len(), 1);
}

#[tokio::test]
async fn a_job_spreads_over_every_peer_within_their_slots() {
    let mut remotes = Vec::new();
    for _ in 0..4 {
        remotes.push(
            remote(
                Behaviour::Answers(Duration::from_millis(20)),
                pver::CURRENT,
                full(),
            )
            .await,
        );
    }
    let set = PeerSet::new(fast_config());
    for r in &remotes {
        set.add(dial(r.addr, 3).await);
    }
    let answers = futures_util::StreamExt::collect::<Vec<_>>(
        set.call_all((0..120).map(|n| cfilter(n as u8)), 64),
    )
    .await;
    let mut by_peer: HashMap<SocketAddr, usize> = HashMap::new();
    let mut places: Vec<usize> = Vec::new();
    for (i, a) in answers {
        *by_peer.entry(a.unwrap().peer.addr()).or_default() += 1;
        places.push(i);
    }
    places.sort_unstable();
    assert_eq!(places, (0..120).collect::<Vec<_>>());
    // Every peer took part, none held more than its three slots.
    assert_eq!(by_peer.len(), 4);
    for r in &remotes {
        assert!(r.most_pending.load(Ordering::SeqCst) <= 3);
        assert!(r.received.load(Ordering::SeqCst) >= 10);
    }
}

#[tokio::test]
async fn a_set_follows_its_manager_and_bans_through_it() {
    let a = remote(quick(), pver::CURRENT, full()).await;
    let b = remote(quick(), pver::CURRENT, full()).await;
    let mut cfg = manager_config();
    cfg.target_outbound = 0;
    cfg.persistent = vec![a.addr];
    let m = ConnManager::start(cfg).await.unwrap();
    let set = PeerSet::follow(m.clone(), fast_config()).await.unwrap();
    assert!(set.wait_for(1, Duration::from_secs(10)).await);
    m.connect(b.addr).await.unwrap();
    assert!(set.wait_for(2, Duration::from_secs(10)).await);
    let answer = set.call(cfilter(1)).await.unwrap();
    // The caller finds the answer wrong: the peer is banned by the
    // manager and leaves the set.
    let culprit = answer.peer.clone();
    set.ban(&culprit, "test: a wrong answer").await;
    assert!(!set.peers().iter().any(|p| p.id() == culprit.id()));
    let banned = m.bans().await.unwrap();
    assert!(banned.iter().any(|b| b.ip == culprit.addr().ip()));
    m.shutdown(Duration::from_secs(10)).await.unwrap();
}

#[tokio::test]
async fn a_wait_past_what_the_clock_holds_is_for_ever_not_a_panic() {
    let set = PeerSet::new(PeerSetConfig::default());
    assert!(set.wait_for(0, Duration::MAX).await);
}

/// A set without a manager keeps a banned IP out while its ban lasts
/// ([`PeerSetConfig::ban_duration`], dcrd's `--banduration`), and lets it
/// back once the ban ends: its ban list is dcrd's expiring one, not a set
/// that grows by one IP per ban forever.
#[tokio::test]
async fn a_ban_of_the_set_keeps_the_ip_out_while_it_lasts_then_ends() {
    let r = remote(quick(), pver::CURRENT, full()).await;
    let mut config = fast_config();
    config.ban_duration = Duration::from_millis(600);
    let set = PeerSet::new(config);
    let peer = dial(r.addr, 3).await;
    assert!(set.add(peer.clone()));
    set.ban(&peer, "test: a wrong answer").await;
    assert!(set.is_empty());
    assert!(set.is_banned(r.addr.ip()));
    // While the ban lasts, another connection from the IP is refused.
    let again = dial(r.addr, 3).await;
    assert!(!set.add(again.clone()));
    tokio::time::sleep(Duration::from_millis(700)).await;
    // The ban ended: the IP is let back.
    assert!(!set.is_banned(r.addr.ip()));
    assert!(set.add(again));
    assert_eq!(set.len(), 1);
}

/// The swapped-out list keeps the newest [`SWAPPED_KEPT`] and counts the
/// rest: a follower swaps peers out for days, and the list grew with each
/// (it kept the oldest and lost the rest without a count before).
#[tokio::test]
async fn the_swapped_out_list_keeps_the_newest_and_counts_the_rest() {
    let r = remote(quick(), pver::CURRENT, full()).await;
    let set = PeerSet::new(fast_config());
    let total = SWAPPED_KEPT + 8;
    let mut order = Vec::new();
    let mut dialled = Vec::new();
    for i in 0..total {
        // The remote's side of each connection: a distinct address (the
        // dialler's port) for each.
        dialled.push(dial(r.addr, 1).await);
        let p = loop {
            if let Some(p) = r.peers.lock().unwrap().get(i).cloned() {
                break p;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        };
        assert!(set.add(p.clone()));
        set.swap_out(&p);
        order.push(p.addr());
        assert!(set.swapped_out().len() <= SWAPPED_KEPT);
    }
    assert_eq!(
        order.iter().collect::<std::collections::HashSet<_>>().len(),
        total
    );
    assert_eq!(set.swapped_out(), order[total - SWAPPED_KEPT..]);
    assert_eq!(set.swapped_dropped(), 8);
    // Swapped out, not banned: the IP may join again.
    assert!(!set.is_banned(r.addr.ip()));
    assert!(set.add(dial(r.addr, 1).await));
    drop(dialled);
}
