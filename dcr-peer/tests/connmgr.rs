//! The connection manager on loopback: outbound target, replacement,
//! no duplicate connections, inbound limits, persistent reconnects with
//! backoff, bans, graceful shutdown, and a crawl of a small network.

mod common;

use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use dcr_peer::connmgr::{
    crawl, AddressBook, AddressSource, ConnManager, ManagerConfig, ManagerError, ManagerEvent,
};
use dcr_peer::wire::Message;
use dcr_peer::{DisconnectReason, LocalFailure, Peer, PeerError};
use futures_util::SinkExt;
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpSocket};

const LIMIT: Duration = Duration::from_secs(20);

/// A node that accepts peers and keeps them (until told otherwise).
struct Node {
    addr: SocketAddr,
    peers: Arc<Mutex<Vec<Peer>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Node {
    async fn start(bind: &str) -> Node {
        let listener = TcpListener::bind(bind).await.unwrap();
        let addr = listener.local_addr().unwrap();
        Node::on(listener, addr)
    }

    fn on(listener: TcpListener, addr: SocketAddr) -> Node {
        let peers = Arc::new(Mutex::new(Vec::new()));
        let keep = peers.clone();
        let mut rx = dcr_peer::net::serve(listener, config(), hooks());
        let task = tokio::spawn(async move {
            while let Some(p) = rx.recv().await {
                keep.lock().unwrap().push(p);
            }
        });
        Node { addr, peers, task }
    }

    fn count(&self) -> usize {
        self.peers
            .lock()
            .unwrap()
            .iter()
            .filter(|p| p.is_connected())
            .count()
    }

    async fn stop(self) {
        self.task.abort();
        let peers = std::mem::take(&mut *self.peers.lock().unwrap());
        for p in &peers {
            p.disconnect();
        }
        for p in peers {
            p.wait_for_disconnect().await;
        }
    }
}

/// A manager keeping one outbound peer, seeded with `node` alone (and not
/// asking it for addresses).
fn one_seed(node: &Node) -> ManagerConfig {
    let mut cfg = manager_config();
    cfg.target_outbound = 1;
    cfg.seeds = vec![node.addr];
    cfg.get_addr_on_connect = false;
    cfg
}

async fn peers_of(m: &ConnManager) -> Vec<dcr_peer::PeerStats> {
    m.peers().await.unwrap()
}

/// Waits until the manager holds at least `n` peers.
async fn until_peers(m: &ConnManager, n: usize) {
    tokio::time::timeout(LIMIT, async {
        while peers_of(m).await.len() < n {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("fewer than {n} peers in time"));
}

#[test]
fn keeps_the_outbound_target_and_replaces_lost_peers() {
    serial(async {
        let mut nodes = Vec::new();
        for _ in 0..20 {
            nodes.push(Node::start("127.0.0.1:0").await);
        }
        let mut cfg = manager_config();
        cfg.target_outbound = 8;
        cfg.seeds = nodes.iter().map(|n| n.addr).collect();
        cfg.get_addr_on_connect = false;
        let m = ConnManager::start(cfg).await.unwrap();
        until_peers(&m, 8).await;
        let first = peers_of(&m).await;
        let addrs: HashSet<SocketAddr> = first.iter().map(|s| s.addr).collect();
        assert_eq!(addrs.len(), 8, "eight distinct addresses");
        // The handles are those of the peers listed, and live.
        let handles = m.connected().await.unwrap();
        let ids: HashSet<u64> = handles.iter().map(Peer::id).collect();
        assert_eq!(ids, first.iter().map(|s| s.id).collect());
        assert!(handles.iter().all(Peer::is_connected));
        // Never more than one connection per node.
        assert!(nodes.iter().all(|n| n.count() <= 1));
        // A node drops its peer: the manager replaces it.
        let victim = nodes.iter().find(|n| n.count() == 1).unwrap();
        for p in victim.peers.lock().unwrap().iter() {
            p.disconnect();
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        until_peers(&m, 8).await;
        let now: HashSet<SocketAddr> = peers_of(&m).await.iter().map(|s| s.addr).collect();
        assert_eq!(now.len(), 8);
        assert!(nodes.iter().all(|n| n.count() <= 1));
        // Asking for an address already connected is refused.
        let taken = *now.iter().next().unwrap();
        assert!(m.connect(taken).await.is_err());
        m.shutdown(LIMIT).await.unwrap();
        for n in nodes {
            n.stop().await;
        }
    })
}

async fn connect_from(ip: [u8; 4], to: SocketAddr) -> Result<Peer, dcr_peer::PeerError> {
    let sock = TcpSocket::new_v4().unwrap();
    sock.bind(SocketAddr::from((ip, 0))).unwrap();
    let stream = sock.connect(to).await?;
    let mut c = config();
    c.handshake_timeout = Duration::from_secs(2);
    Peer::outbound(stream, to, c, hooks()).await
}

#[test]
fn inbound_limits_and_the_whitelist() {
    serial(async {
        let mut cfg = manager_config();
        cfg.target_outbound = 0;
        cfg.listen = vec!["127.0.0.1:0".parse().unwrap()];
        cfg.max_inbound = 3;
        cfg.max_per_host = 2;
        cfg.whitelist = vec![IpAddr::from([127, 0, 0, 9])];
        let m = ConnManager::start(cfg).await.unwrap();
        let at = m.listen_addrs()[0];
        let a1 = connect_from([127, 0, 0, 2], at).await.unwrap();
        let a2 = connect_from([127, 0, 0, 2], at).await.unwrap();
        // A third from the same host is refused.
        assert!(connect_from([127, 0, 0, 2], at).await.is_err());
        let b1 = connect_from([127, 0, 0, 3], at).await.unwrap();
        // Three inbound: the limit. A fourth host is refused...
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(connect_from([127, 0, 0, 4], at).await.is_err());
        // ...but a whitelisted one is not, even past both limits.
        let w1 = connect_from([127, 0, 0, 9], at).await.unwrap();
        let w2 = connect_from([127, 0, 0, 9], at).await.unwrap();
        let w3 = connect_from([127, 0, 0, 9], at).await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(peers_of(&m).await.len(), 6);
        m.shutdown(LIMIT).await.unwrap();
        for p in [a1, a2, b1, w1, w2, w3] {
            tokio::time::timeout(LIMIT, p.wait_for_disconnect())
                .await
                .unwrap();
        }
    })
}

/// Connections still in their handshake hold at most the inbound limit's
/// places (newcomers displace the oldest of their group), and never count
/// against the outbound target.
#[test]
fn silent_inbound_handshakes_are_limited_and_do_not_block_dialing() {
    serial(async {
        let node = Node::start("127.0.0.1:0").await;
        let mut cfg = one_seed(&node);
        cfg.listen = vec!["127.0.0.1:0".parse().unwrap()];
        cfg.max_inbound = 2;
        let m = ConnManager::start(cfg).await.unwrap();
        let at = m.listen_addrs()[0];
        // Five silent connections from five hosts of one group (so the
        // per-host limit is not what refuses them): two places, so three are
        // closed at once (each newcomer displaces the oldest).
        let mut silent = Vec::new();
        for host in 2..7u8 {
            let sock = TcpSocket::new_v4().unwrap();
            sock.bind(SocketAddr::from(([127, 0, 0, host], 0))).unwrap();
            silent.push(sock.connect(at).await.unwrap());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let mut closed = 0;
        for s in &mut silent {
            let mut b = [0u8; 1];
            if let Ok(Ok(0)) =
                tokio::time::timeout(Duration::from_millis(300), s.read(&mut b)).await
            {
                closed += 1;
            }
        }
        assert_eq!(closed, 3, "connections closed at once");
        // The outbound target is still met while both handshakes hang.
        until(|| node.count() == 1).await;
        m.shutdown(LIMIT).await.unwrap();
    })
}

#[test]
fn a_persistent_peer_is_reconnected_with_backoff() {
    serial(async {
        let node = Node::start("127.0.0.1:0").await;
        let addr = node.addr;
        let mut cfg = manager_config();
        cfg.target_outbound = 0;
        cfg.persistent = vec![addr];
        cfg.retry_base = Duration::from_millis(100);
        cfg.retry_max = Duration::from_secs(2);
        let m = ConnManager::start(cfg).await.unwrap();
        let mut events = m.subscribe();
        until(|| node.count() == 1).await;
        // The node goes away: connection lost, then refused dials.
        node.stop().await;
        let mut failures = Vec::new();
        let started = Instant::now();
        // One deadline for the whole wait: other events keep arriving, so a
        // timeout per event would never fire.
        tokio::time::timeout(LIMIT, async {
            while failures.len() < 4 {
                if let ManagerEvent::DialFailed { addr: a, .. } = events.recv().await.unwrap() {
                    if a == addr {
                        failures.push(started.elapsed());
                    }
                }
            }
        })
        .await
        .expect("four failed dials in time");
        // Gaps grow (doubling, less at most a quarter of jitter).
        let gaps: Vec<Duration> = failures.windows(2).map(|w| w[1] - w[0]).collect();
        assert!(
            gaps[1] > gaps[0].mul_f64(1.2) && gaps[2] > gaps[1].mul_f64(1.2),
            "{gaps:?}"
        );
        // The node restarts on the same address: the manager comes back.
        let listener = TcpListener::bind(addr).await.unwrap();
        let node = Node::on(listener, addr);
        until(|| node.count() == 1).await;
        m.shutdown(LIMIT).await.unwrap();
        node.stop().await;
    })
}

#[test]
fn a_repeat_offender_is_banned() {
    serial(async {
        // A node on 127.0.0.5 that answers the handshake, then sends garbage.
        let listener = TcpListener::bind("127.0.0.5:0").await.unwrap();
        let bad = listener.local_addr().unwrap();
        let served = Arc::new(Mutex::new(0usize));
        let count = served.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, peer_addr)) = listener.accept().await else {
                    return;
                };
                *count.lock().unwrap() += 1;
                tokio::spawn(async move {
                    let mut raw =
                        tokio_util::codec::Framed::new(stream, dcr_peer::FrameCodec::new(NET, 12));
                    let _ = peer_addr;
                    if next_message(&mut raw).await.is_none() {
                        return;
                    }
                    let _ = raw
                        .send(&dcr_peer::wire::Message::Version(raw_version(
                            12,
                            rand_nonce(),
                        )))
                        .await;
                    let _ = raw
                        .send(&dcr_peer::wire::Message::VerAck(dcr_peer::wire::VerAck))
                        .await;
                    let _ = next_message(&mut raw).await;
                    let mut s = raw.into_inner();
                    use tokio::io::AsyncWriteExt;
                    let _ = s.write_all(b"garbage garbage garbage garbage").await;
                    tokio::time::sleep(Duration::from_secs(1)).await;
                });
            }
        });
        let mut cfg = manager_config();
        cfg.target_outbound = 0;
        cfg.persistent = vec![bad];
        cfg.retry_base = Duration::from_millis(50);
        cfg.ban_duration = Duration::from_secs(2);
        cfg.listen = vec!["127.0.0.1:0".parse().unwrap()];
        let m = ConnManager::start(cfg).await.unwrap();
        let mut events = m.subscribe();
        let banned_at = tokio::time::timeout(LIMIT, async {
            loop {
                if let ManagerEvent::Banned { ip, .. } = events.recv().await.unwrap() {
                    assert_eq!(ip, bad.ip());
                    break Instant::now();
                }
            }
        })
        .await
        .expect("banned in time");
        // Violations weigh 50 and decay a little between attempts: two or three
        // reach the threshold of 100.
        let served_before = *served.lock().unwrap();
        assert!(
            (2..=3).contains(&served_before),
            "{served_before} connections before the ban"
        );
        assert_eq!(m.bans().await.unwrap().len(), 1);
        // Meanwhile its inbound attempts are refused...
        let at = m.listen_addrs()[0];
        assert!(connect_from([127, 0, 0, 5], at).await.is_err());
        // ...and it is not dialled again until the ban expires.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert_eq!(*served.lock().unwrap(), served_before);
        until(|| *served.lock().unwrap() > served_before).await;
        assert!(banned_at.elapsed() >= Duration::from_secs(2));
        m.shutdown(LIMIT).await.unwrap();
    })
}

/// Our own failures are not the remote's: a peer we end because output
/// we queued passed our own bound is not scored, while the remote's
/// violations are (the test above).
#[test]
fn our_own_failures_are_not_scored_against_the_remote() {
    serial(async {
        let node = Node::start("127.0.0.1:0").await;
        let mut cfg = one_seed(&node);
        cfg.target_outbound = 0;
        cfg.peer.max_queued_bytes = 1000;
        let m = ConnManager::start(cfg).await.unwrap();
        let mut events = m.subscribe();
        let peer = m.connect(node.addr).await.unwrap();
        let big = Message::Headers(dcr_peer::wire::Headers {
            headers: vec![dcr_peer::wire::BlockHeader::default(); 100],
        });
        let refused = peer.queue_message(&big);
        assert!(
            matches!(
                refused,
                Err(PeerError::Disconnected(DisconnectReason::Local(
                    LocalFailure::QueuedOutput { max: 1000, .. }
                )))
            ),
            "{refused:?}"
        );
        let reason = tokio::time::timeout(LIMIT, async {
            loop {
                if let ManagerEvent::Disconnected { reason, .. } = events.recv().await.unwrap() {
                    break reason;
                }
            }
        })
        .await
        .expect("the peer goes");
        assert!(reason.is_local() && !reason.is_misbehaviour(), "{reason}");
        assert_eq!(m.score(node.addr.ip()).await.unwrap(), 0);
        assert!(m.bans().await.unwrap().is_empty());
        m.shutdown(LIMIT).await.unwrap();
        node.stop().await;
    })
}

fn rand_nonce() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

#[test]
fn graceful_shutdown_with_fifty_peers() {
    serial(async {
        let sockets = tcp_sockets();
        let tasks = alive_tasks();
        let mut nodes = Vec::new();
        for _ in 0..50 {
            nodes.push(Node::start("127.0.0.1:0").await);
        }
        let mut cfg = manager_config();
        cfg.target_outbound = 50;
        cfg.seeds = nodes.iter().map(|n| n.addr).collect();
        cfg.listen = vec!["127.0.0.1:0".parse().unwrap()];
        let m = ConnManager::start(cfg).await.unwrap();
        until_peers(&m, 50).await;
        let t = Instant::now();
        m.shutdown(Duration::from_secs(10)).await.unwrap();
        // Well inside the deadline it was given (which it would report).
        assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
        assert!(m.peers().await.is_err(), "the manager is gone");
        for n in nodes {
            until(|| n.count() == 0).await;
            n.stop().await;
        }
        drop(m);
        // Sockets and tasks are released asynchronously: give them a moment.
        let settled = eventually(|| tcp_sockets() <= sockets && alive_tasks() <= tasks).await;
        assert!(
            settled,
            "TCP sockets {sockets} before, {} after; tasks {tasks} before, {} after",
            tcp_sockets(),
            alive_tasks()
        );
    })
}

#[test]
fn the_crawler_finds_every_node() {
    serial(async {
        // 30 nodes, each knowing only the next two (a ring): managers that
        // dial nobody but answer getaddr from their books.
        const N: usize = 30;
        let mut listeners = Vec::new();
        for _ in 0..N {
            listeners.push(TcpListener::bind("127.0.0.1:0").await.unwrap());
        }
        let addrs: Vec<SocketAddr> = listeners.iter().map(|l| l.local_addr().unwrap()).collect();
        drop(listeners);
        let mut nodes = Vec::new();
        for (i, addr) in addrs.iter().enumerate() {
            let book = Arc::new(AddressBook::default());
            book.add_socket_addrs(&[addrs[(i + 1) % N], addrs[(i + 2) % N]]);
            let mut cfg = manager_config();
            cfg.target_outbound = 0;
            cfg.listen = vec![*addr];
            cfg.source = book as Arc<dyn AddressSource>;
            nodes.push(ConnManager::start(cfg).await.unwrap());
        }
        let rows = crawl(
            addrs[0],
            config(),
            hooks(),
            8,
            LIMIT,
            Duration::from_secs(3),
            |_| {},
        )
        .await
        .unwrap();
        let found: HashSet<SocketAddr> = rows.iter().map(|r| r.addr).collect();
        let all: HashSet<SocketAddr> = addrs.iter().copied().collect();
        assert_eq!(
            found,
            all,
            "missing {:?}",
            all.difference(&found).collect::<Vec<_>>()
        );
        assert!(rows
            .iter()
            .all(|r| r.stats.protocol_version == 12 && !r.stats.user_agent.is_empty()));
        for n in nodes {
            n.shutdown(LIMIT).await.unwrap();
        }
    })
}

/// The reference's retry schedule with its real durations (5 s doubling),
/// on tokio's paused clock: minutes of backoff pass in an instant.
#[tokio::test(start_paused = true)]
#[allow(clippy::await_holding_lock)]
async fn persistent_backoff_follows_the_schedule_in_paused_time() {
    // Alone in a paused current-thread runtime: the guard is held across
    // awaits on purpose, no other task of this test can want it.
    let _one = serial_lock();
    // A port nobody listens on: every dial is refused at once.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let mut cfg = manager_config();
    cfg.target_outbound = 0;
    cfg.persistent = vec![closed];
    let m = ConnManager::start(cfg).await.unwrap();
    let mut events = m.subscribe();
    let mut at = Vec::new();
    // Paused time: ten minutes of it pass in an instant if all goes well.
    tokio::time::timeout(Duration::from_secs(600), async {
        while at.len() < 6 {
            if let ManagerEvent::DialFailed { .. } = events.recv().await.unwrap() {
                at.push(tokio::time::Instant::now());
            }
        }
    })
    .await
    .expect("six failed dials");
    let gaps: Vec<f64> = at.windows(2).map(|w| (w[1] - w[0]).as_secs_f64()).collect();
    // 5, 10, 20, 40, 80 s, each less up to a quarter of jitter (plus the
    // manager's 250 ms tick).
    for (i, g) in gaps.iter().enumerate() {
        let full = 5.0 * f64::from(1u32 << i);
        assert!(
            *g <= full + 0.3 && *g >= full * 0.75,
            "gap {i}: {g} s, schedule {full} s ({gaps:?})"
        );
    }
    m.shutdown(LIMIT).await.unwrap();
}

/// As the reference: `getaddr` is answered once per inbound connection.
#[test]
fn getaddr_is_answered_once_per_connection() {
    serial(async {
        let book = Arc::new(AddressBook::default());
        book.add_socket_addrs(
            &(1..=5u16)
                .map(|p| SocketAddr::from(([10, 0, 0, 1], p)))
                .collect::<Vec<_>>(),
        );
        let mut cfg = manager_config();
        cfg.target_outbound = 0;
        cfg.listen = vec!["127.0.0.1:0".parse().unwrap()];
        cfg.source = book as Arc<dyn AddressSource>;
        let m = ConnManager::start(cfg).await.unwrap();
        let mut raw = raw_connect(m.listen_addrs()[0]).await;
        for _ in 0..3 {
            raw.send(&dcr_peer::wire::Message::GetAddr(dcr_peer::wire::GetAddr))
                .await
                .unwrap();
        }
        let mut answers = Vec::new();
        let _ = tokio::time::timeout(Duration::from_millis(500), async {
            while let Some(msg) = next_message(&mut raw).await {
                if let dcr_peer::wire::Message::AddrV2(a) = msg {
                    answers.push(a.addr_list.len());
                }
            }
        })
        .await;
        assert_eq!(answers, [5], "one answer with the whole book");
        m.shutdown(LIMIT).await.unwrap();
    })
}

#[test]
fn the_event_stream_reports_a_connection_and_ends_at_shutdown() {
    use futures_util::StreamExt;
    serial(async {
        let node = Node::start("127.0.0.1:0").await;
        let m = ConnManager::start(one_seed(&node)).await.unwrap();
        let mut events = m.events();
        let connected = tokio::time::timeout(LIMIT, async {
            loop {
                if let Some(ManagerEvent::Connected(stats)) = events.next().await {
                    return stats;
                }
            }
        })
        .await
        .expect("a Connected event");
        assert_eq!(connected.addr, node.addr);
        m.shutdown(LIMIT).await.unwrap();
        // The handle is still alive, yet the stream ends: the manager is
        // gone.
        tokio::time::timeout(LIMIT, async { while events.next().await.is_some() {} })
            .await
            .expect("the stream ends after shutdown");
        assert_eq!(events.missed(), 0);
        assert!(m.subscribe().recv().await.is_err());
        node.stop().await;
    })
}

#[test]
fn a_crawl_from_a_dead_seed_fails_at_once() {
    serial(async {
        let dead = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let started = Instant::now();
        let long = Duration::from_secs(120);
        let r = crawl(dead, config(), hooks(), 4, long, long, |_| {}).await;
        match r {
            Err(ManagerError::SeedUnreachable { seed, .. }) => assert_eq!(seed, dead),
            other => panic!("expected SeedUnreachable, got {other:?}"),
        }
        // Nothing left to try: not a wait for the duration.
        assert!(started.elapsed() < LIMIT, "{:?}", started.elapsed());
    })
}

/// The connection manager admits inbound connections as `net::serve`
/// does: with a thousand silent connections from other address groups in
/// their handshake, a good peer still gets in within 2 s (5 s when the
/// attackers share its group), and every attacker is closed, displaced at
/// once or cut at the shorter deadline under pressure.
#[test]
fn silent_inbound_floods_cannot_keep_a_peer_out_of_the_manager() {
    serial(async {
        let mut cfg = manager_config();
        cfg.peer.handshake_timeout = Duration::from_secs(8);
        cfg.target_outbound = 0;
        cfg.listen = vec!["127.0.0.1:0".parse().unwrap()];
        let m = ConnManager::start(cfg).await.unwrap();
        let at = m.listen_addrs()[0];
        let good_within = |limit: Duration| async move {
            let started = Instant::now();
            let p = tokio::time::timeout(
                limit,
                dcr_peer::net::connect(&at.to_string(), config(), hooks()),
            )
            .await
            .unwrap_or_else(|_| panic!("a good peer kept out for {limit:?}"))
            .expect("handshake");
            let took = started.elapsed();
            p.disconnect();
            took
        };
        let mut socks = Vec::new();
        for n in 0..1000 {
            socks.push(idle_from(attacker(n, 1, 8), at).await);
        }
        good_within(Duration::from_secs(2)).await;
        for n in 0..300 {
            socks.push(idle_from(attacker(n, 0, 1), at).await);
        }
        good_within(Duration::from_secs(5)).await;
        assert_all_closed_within(&mut socks, Duration::from_secs(12)).await;
        m.shutdown(LIMIT).await.unwrap();
    })
}
