//! Two real peers (or a peer and a hand-driven remote) over loopback TCP.
//! Every test is bounded in time.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use dcr_peer::wire::{
    Command, ErrorKind, GetData, GetHeaders, GetInitState, Hash, InitState, InvType, InvVect,
    Message, NotFound, Ping, Pong, ServiceFlags, Version,
};
use dcr_peer::{
    Direction, DisconnectReason, HandshakeError, Listeners, Peer, PeerError, Refusal, StallError,
};
use futures_util::SinkExt;

const LIMIT: Duration = Duration::from_secs(10);

/// Records every message received after the handshake.
#[derive(Default, Clone)]
struct Recorder(Arc<Mutex<Vec<Message<'static>>>>);

impl Listeners for Recorder {
    fn on_message(&self, _peer: &Peer, msg: &Message<'_>) {
        self.0.lock().unwrap().push(msg.clone().into_owned());
    }
}

impl Recorder {
    fn commands(&self) -> Vec<&'static str> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .map(|m| m.command().as_str())
            .collect()
    }

    async fn wait_for(&self, pred: impl Fn(&[Message<'static>]) -> bool) {
        tokio::time::timeout(LIMIT, async {
            loop {
                if pred(&self.0.lock().unwrap()) {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await
        .expect("condition not reached in time")
    }
}

#[tokio::test]
async fn handshake_negotiates_the_lower_version_and_records_the_remote() {
    let mut a = node();
    a.config.user_agent_name = "alpha".into();
    a.config.user_agent_version = "0.1".into();
    a.config.services = ServiceFlags::NODE_NETWORK;
    a.hooks.newest_block = Some(Arc::new(|| (Hash::ZERO, 1234)));
    let mut b = node();
    b.config.protocol_version = 10;
    let (out, inb) = pair(a, b).await;
    assert_eq!(out.protocol_version(), 10);
    assert_eq!(inb.protocol_version(), 10);
    assert_eq!(out.direction(), Direction::Outbound);
    assert!(inb.is_inbound());
    let remote = inb.remote_version().unwrap();
    assert_eq!(remote.protocol_version, 12);
    assert_eq!(remote.starting_height, 1234);
    assert!(
        remote.user_agent.ends_with("alpha:0.1/"),
        "{}",
        remote.user_agent
    );
    assert!(remote.services.contains(ServiceFlags::NODE_NETWORK));
    assert!(remote.time_offset.abs() <= 2);
    let s = out.stats();
    assert_eq!(
        (s.counters.messages_sent, s.counters.messages_received),
        (2, 2),
        "version+verack each way"
    );
    assert_eq!(s.remote_protocol_version, 10);
    assert!(s.counters.bytes_sent > 0 && s.counters.bytes_received > 0 && s.connected);
    out.disconnect();
    assert_eq!(
        disconnected_within(&out, LIMIT).await,
        DisconnectReason::Requested
    );
    assert_eq!(
        disconnected_within(&inb, LIMIT).await,
        DisconnectReason::RemoteClosed
    );
    assert!(matches!(
        out.queue_message(&Message::Ping(Ping { nonce: 1 })),
        Err(PeerError::Disconnected(DisconnectReason::Requested))
    ));
}

#[tokio::test]
async fn self_connection_is_refused() {
    let a = node();
    let mut b = node();
    b.hooks.nonces = a.hooks.nonces.clone();
    let (out, inb) = pair_result(a, b).await;
    assert!(
        matches!(
            inb,
            Err(PeerError::Handshake(HandshakeError::SelfConnection))
        ),
        "{inb:?}"
    );
    // The side whose nonce came back learns why its connection closed.
    assert!(
        matches!(
            out,
            Err(PeerError::Handshake(HandshakeError::SelfConnection))
        ),
        "{out:?}"
    );
}

/// Two peers with the default wiring (the process-wide nonce set), one
/// dialling the other, as a node dialling its own listener does: both
/// say it is a self-connection, not "unexpected end of file".
#[tokio::test]
async fn two_default_peers_of_one_process_are_a_self_connection() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let inbound = tokio::spawn(async move {
        dcr_peer::net::accept(&listener, config(), dcr_peer::Hooks::new()).await
    });
    let out = dcr_peer::net::connect(&addr.to_string(), config(), dcr_peer::Hooks::new()).await;
    let inb = inbound.await.unwrap();
    for (side, r) in [("outbound", &out), ("inbound", &inb)] {
        let Err(e) = r else {
            panic!("{side}: connected to itself")
        };
        assert!(
            matches!(e, PeerError::Handshake(HandshakeError::SelfConnection)),
            "{side}: {e:?}"
        );
        assert_eq!(
            dcr_peer::wire::Report(e).to_string(),
            "the handshake failed: connected to ourselves (our own nonce came back)"
        );
    }
}

#[tokio::test]
async fn old_protocol_versions_and_hook_refusals_fail_the_handshake() {
    let mut a = node();
    a.config.protocol_version = 8;
    let (_, inb) = pair_result(a, node()).await;
    assert!(
        matches!(
            inb,
            Err(PeerError::Handshake(HandshakeError::ProtocolTooOld(8)))
        ),
        "{inb:?}"
    );

    struct Refuse;
    impl Listeners for Refuse {
        fn on_version(&self, _: &Peer, v: &Version<'_>) -> Result<(), Refusal> {
            Err(Refusal::ProtocolVersion {
                theirs: v.protocol_version as u32,
                required: 13,
            })
        }
    }
    let (_, inb) = pair_result(node(), node().with_listeners(Refuse)).await;
    match inb {
        Err(PeerError::Handshake(HandshakeError::Refused(r))) => assert_eq!(
            r,
            Refusal::ProtocolVersion {
                theirs: 12,
                required: 13
            }
        ),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_silent_connection_is_dropped_at_the_handshake_deadline() {
    let mut server = node();
    server.config.handshake_timeout = Duration::from_millis(300);
    let (_sock, inbound) = raw_socket(server).await;
    let r = tokio::time::timeout(LIMIT, inbound).await.unwrap().unwrap();
    assert!(matches!(r, Err(PeerError::HandshakeTimeout)), "{r:?}");
}

#[tokio::test]
async fn pings_are_answered_and_rtt_recorded() {
    let mut a = node();
    a.config.ping_interval = Duration::from_millis(50);
    let rec = Recorder::default();
    let (out, _inb) = pair(a, node().with_listeners(rec.clone())).await;
    rec.wait_for(|m| m.iter().any(|m| matches!(m, Message::Ping(_))))
        .await;
    until(|| out.stats().counters.ping_rtt.is_some()).await;
    let s = out.stats();
    // The nonce is that of a later ping awaiting its pong, if any.
    assert!(s.counters.last_ping_time.is_some());
    assert!(s.counters.ping_rtt.unwrap() < Duration::from_secs(1));
}

/// Every ping written goes into the stats, as dcrd's `outHandler` records
/// every ping it sends: a typed `ping` and a ping queued as a message each
/// set the last nonce and time, and their pong the RTT and clears the
/// nonce (dcrd's `handlePongMsg`). Before, only the keep-alive's and
/// `push_ping`'s did.
#[tokio::test]
async fn every_ping_sent_is_in_the_stats() {
    let (out, _inb) = pair(node(), node()).await;
    assert_eq!(out.stats().counters.ping_rtt, None);
    let rtt = tokio::time::timeout(LIMIT, out.ping())
        .await
        .unwrap()
        .unwrap();
    // The stats are set before the answer is handed over.
    let c = out.stats().counters;
    assert_eq!(c.ping_rtt, Some(rtt));
    assert!(c.last_ping_time.is_some());
    assert_eq!(c.last_ping_nonce, None, "answered: nothing awaits a pong");

    let (out, _inb) = pair(node(), node()).await;
    out.queue_message(&Message::Ping(Ping { nonce: 77 }))
        .unwrap();
    until(|| out.stats().counters.ping_rtt.is_some()).await;
    let c = out.stats().counters;
    assert!(c.last_ping_time.is_some() && c.last_ping_nonce.is_none());
}

#[tokio::test]
async fn send_notification_fires_once_written() {
    let rec = Recorder::default();
    let (out, _inb) = pair(node(), node().with_listeners(rec.clone())).await;
    let done = out
        .queue_message_notify(&Message::Ping(Ping { nonce: 99 }))
        .unwrap();
    tokio::time::timeout(LIMIT, done)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    out.send_message(&Message::Ping(Ping { nonce: 100 }))
        .await
        .unwrap();
    rec.wait_for(|m| m.len() == 2).await;
    assert_eq!(rec.commands(), ["ping", "ping"]);
}

#[tokio::test]
async fn inventory_is_trickled_in_batches_and_never_repeated() {
    let mut a = node();
    a.config.trickle_interval = Duration::from_millis(20);
    let rec = Recorder::default();
    let (out, inb) = pair(a, node().with_listeners(rec.clone())).await;
    for n in 0..2500 {
        out.queue_inventory(iv(n));
    }
    rec.wait_for(|m| m.len() == 3).await;
    let sizes: Vec<usize> = rec
        .0
        .lock()
        .unwrap()
        .iter()
        .map(|m| match m {
            Message::Inv(i) => i.inv_list.len(),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(sizes, [1000, 1000, 500]);
    // Everything announced is known to the announcer now: nothing goes
    // again. The filter holds the latest 1000 (its default size). The
    // receiver marks nothing it is told, as dcrd's peer: that is its
    // owner's rule (dcrd's sync manager).
    assert!(out.is_known_inventory(&iv(2499)));
    assert!(!out.is_known_inventory(&iv(42)));
    assert!(!inb.is_known_inventory(&iv(2499)));
    out.queue_inventory(iv(2400));
    out.queue_inventory_immediate(iv(2450)).unwrap();
    out.queue_inventory_immediate(iv(9_000)).unwrap();
    rec.wait_for(|m| m.len() == 4).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(rec.0.lock().unwrap().len(), 4);
    let last = rec.0.lock().unwrap()[3].clone();
    match last {
        Message::Inv(i) => assert_eq!(i.inv_list, [iv(9_000)]),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn known_inventory_filter_stays_bounded_however_much_is_marked() {
    let mut server = node();
    server.config.max_known_inventory = 500;
    let (mut raw, peer) = raw_client(server).await;
    for batch in 0..20u32 {
        let inv_list: Vec<_> = (0..1000).map(|n| iv(batch * 1000 + n)).collect();
        // The owner marks what it is told (as dcrd's sync manager does).
        for v in &inv_list {
            peer.add_known_inventory(*v);
        }
        raw.send(&Message::Inv(dcr_peer::wire::Inv { inv_list }))
            .await
            .unwrap();
    }
    received(&peer, 22).await;
    assert_eq!(peer.stats().known_inventory, 500);
    assert!(peer.is_known_inventory(&iv(19_999)));
    assert!(!peer.is_known_inventory(&iv(0)));
}

#[tokio::test]
async fn duplicate_getheaders_is_suppressed() {
    let rec = Recorder::default();
    let (out, _inb) = pair(node(), node().with_listeners(rec.clone())).await;
    let loc = vec![Hash([1; 32])];
    out.push_get_headers(loc.clone(), Hash::ZERO).unwrap();
    out.push_get_headers(loc, Hash::ZERO).unwrap();
    out.push_get_headers(vec![Hash([2; 32])], Hash::ZERO)
        .unwrap();
    rec.wait_for(|m| m.len() == 2).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(rec.commands(), ["getheaders", "getheaders"]);
}

/// A request we cannot encode is refused to whoever asked, at the call,
/// and the peer carries on: the fault is ours, not the remote's (the
/// reference's `getheaders` takes at most 500 locator hashes).
#[tokio::test]
async fn a_request_we_cannot_encode_is_refused_at_the_call_and_the_peer_stays() {
    let rec = Recorder::default();
    let (out, inb) = pair(node(), node().with_listeners(rec.clone())).await;
    let too_long: Vec<Hash> = (0..501u32)
        .map(|n| {
            let mut h = [0u8; 32];
            h[..4].copy_from_slice(&n.to_le_bytes());
            Hash(h)
        })
        .collect();
    for push in [Peer::push_get_headers, Peer::push_get_blocks] {
        let refused = push(&out, too_long.clone(), Hash::ZERO);
        assert!(
            matches!(&refused, Err(PeerError::Encode(e)) if e.kind() == ErrorKind::TooManyLocators),
            "{refused:?}"
        );
    }
    // Still connected both ways, and nothing was queued for it.
    out.send_message(&Message::Ping(Ping { nonce: 5 }))
        .await
        .unwrap();
    rec.wait_for(|m| m.len() == 1).await;
    assert_eq!(rec.commands(), ["ping"]);
    assert!(out.is_connected() && inb.is_connected());
    assert_eq!(out.stats().queued_bytes, 0);
    // The most it takes goes.
    out.push_get_headers(too_long[..500].to_vec(), Hash::ZERO)
        .unwrap();
    rec.wait_for(|m| m.len() == 2).await;
    assert_eq!(rec.commands(), ["ping", "getheaders"]);
    assert_eq!(out.disconnect_reason(), None);
}

#[tokio::test]
async fn an_idle_remote_is_dropped() {
    let mut server = node();
    server.config.idle_timeout = Duration::from_millis(300);
    server.config.ping_interval = Duration::from_secs(3600);
    let (_raw, peer) = raw_client(server).await;
    assert_eq!(
        disconnected_within(&peer, LIMIT).await,
        DisconnectReason::Idle
    );
}

/// A peer with a 200 ms stall timeout (checked every 100 ms) that has sent
/// `request` to a raw remote (the request has arrived).
async fn requested(request: Message<'static>) -> (Raw, Peer) {
    let mut server = node();
    server.config.stall_timeout = Duration::from_millis(200);
    let (mut raw, peer) = raw_client(server).await;
    peer.queue_message(&request).unwrap();
    let arrived = next_message(&mut raw).await.expect("the request arrives");
    assert_eq!(arrived.command(), request.command());
    (raw, peer)
}

fn getdata(list: &[InvVect]) -> Message<'static> {
    Message::GetData(GetData {
        inv_list: list.to_vec(),
    })
}

fn vector(inv_type: InvType, hash: Hash) -> InvVect {
    InvVect { inv_type, hash }
}

/// Well past the 200 ms deadline and its 100 ms tick.
async fn past_the_deadline() {
    tokio::time::sleep(Duration::from_millis(800)).await;
}

#[tokio::test]
async fn an_unanswered_getinitstate_stalls_the_peer() {
    let (_raw, peer) = requested(Message::GetInitState(GetInitState::default())).await;
    assert_eq!(
        disconnected_within(&peer, LIMIT).await,
        DisconnectReason::Stalled(StallError::Command(Command::InitState))
    );
}

#[tokio::test]
async fn an_answered_getinitstate_does_not_stall() {
    let (mut raw, peer) = requested(Message::GetInitState(GetInitState::default())).await;
    raw.send(&Message::InitState(InitState::default()))
        .await
        .unwrap();
    past_the_deadline().await;
    assert!(peer.is_connected(), "{:?}", peer.disconnect_reason());
    assert_eq!(peer.stats().pending_requests, 0);
}

/// dcrd's server answers nothing to these when it has nothing to give, so
/// they get no deadline (the reference's table).
#[tokio::test]
async fn requests_without_a_certain_answer_never_stall() {
    for request in [
        Message::GetHeaders(GetHeaders::default()),
        Message::GetBlocks(Default::default()),
        Message::MemPool(Default::default()),
        Message::GetMiningState(Default::default()),
        Message::GetCFilterV2(Default::default()),
        Message::GetCFsV2(Default::default()),
    ] {
        let command = request.command();
        let (_raw, peer) = requested(request).await;
        past_the_deadline().await;
        assert!(
            peer.is_connected(),
            "{command}: {:?}",
            peer.disconnect_reason()
        );
        assert_eq!(peer.stats().pending_requests, 0, "{command}");
    }
}

/// A `getdata` for a mixing message is answered by the message with that
/// hash, whichever of the eight it is.
#[tokio::test]
async fn a_mixing_message_answers_its_getdata() {
    let answer = Message::MixConfirm(dcr_peer::wire::MixConfirm {
        seen_dc_nets: vec![Hash([4; 32])],
        ..Default::default()
    });
    let hash = dcr_peer::wire::msg::mix_hash(&answer).unwrap();
    let (mut raw, peer) = requested(getdata(&[vector(InvType::MIX, hash)])).await;
    raw.send(&answer).await.unwrap();
    past_the_deadline().await;
    assert!(peer.is_connected(), "{:?}", peer.disconnect_reason());
    assert_eq!(peer.stats().pending_requests, 0);
}

/// A partial answer clears what it answers: a block and a `notfound` for
/// two of three vectors leave the third to stall the peer.
#[tokio::test]
async fn a_partial_answer_leaves_the_rest_pending() {
    let block = dcr_peer::wire::Block::default();
    let got = vector(InvType::BLOCK, block.block_hash());
    let missing = vector(InvType::TX, Hash([7; 32]));
    let never = vector(InvType::TX, Hash([8; 32]));
    let (mut raw, peer) = requested(getdata(&[got, missing, never])).await;
    raw.send(&Message::Block(block)).await.unwrap();
    raw.send(&Message::NotFound(NotFound {
        inv_list: vec![missing],
    }))
    .await
    .unwrap();
    assert_eq!(
        disconnected_within(&peer, LIMIT).await,
        DisconnectReason::Stalled(StallError::Data(never))
    );
}

#[tokio::test]
async fn notifications_report_a_disconnect() {
    let mut server = node();
    server.config.write_timeout = Duration::from_millis(300);
    let (_raw, peer) = raw_client(server).await;
    let big = big_headers();
    let mut waiters = Vec::new();
    for _ in 0..40 {
        if let Ok(rx) = peer.queue_message_notify(&big) {
            waiters.push(rx);
        }
    }
    disconnected_within(&peer, LIMIT).await;
    let mut failed = 0;
    for rx in waiters {
        if let Ok(Err(PeerError::Disconnected(_))) = rx.await {
            failed += 1;
        }
    }
    assert!(failed > 0, "queued messages must learn of the disconnect");
}

#[tokio::test]
async fn connect_through_a_socks5_proxy() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};
    // A minimal SOCKS5 proxy: no auth, CONNECT to an IPv4 address.
    let proxy = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy_addr = proxy.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut c, _) = proxy.accept().await.unwrap();
        let mut greet = [0u8; 3];
        c.read_exact(&mut greet).await.unwrap();
        c.write_all(&[5, 0]).await.unwrap();
        let mut req = [0u8; 10];
        c.read_exact(&mut req).await.unwrap();
        assert_eq!(&req[..4], &[5, 1, 0, 1]);
        let ip = std::net::Ipv4Addr::new(req[4], req[5], req[6], req[7]);
        let port = u16::from_be_bytes([req[8], req[9]]);
        let mut upstream = TcpStream::connect((ip, port)).await.unwrap();
        c.write_all(&[5, 0, 0, 1, 127, 0, 0, 1, 0, 0])
            .await
            .unwrap();
        let _ = tokio::io::copy_bidirectional(&mut c, &mut upstream).await;
    });
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let target = listener.local_addr().unwrap();
    let server = tokio::spawn(async move { accept(&listener, node()).await });
    let mut client = node();
    client.config.proxy = Some(proxy_addr.to_string().into());
    let out = tokio::time::timeout(LIMIT, connect(&target.to_string(), client))
        .await
        .unwrap()
        .unwrap();
    let inb = server.await.unwrap().unwrap();
    assert_eq!(out.protocol_version(), 12);
    assert!(inb.remote_version().is_some());
}

#[tokio::test]
async fn no_task_outlives_its_peer() {
    let (out, inb) = pair(node(), node()).await;
    out.disconnect();
    tokio::time::timeout(LIMIT, out.wait_for_disconnect())
        .await
        .unwrap();
    tokio::time::timeout(LIMIT, inb.wait_for_disconnect())
        .await
        .unwrap();
    assert_eq!((out.running_tasks(), inb.running_tasks()), (0, 0));
}

#[tokio::test]
async fn events_reach_an_async_consumer_and_a_stalled_one_is_bounded() {
    let (tx, mut rx) = tokio::sync::mpsc::channel(16);
    let mut b = node();
    b.hooks.events = Some(tx);
    let (out, inb) = pair(node(), b).await;
    out.queue_message(&Message::Ping(Ping { nonce: 5 }))
        .unwrap();
    let ev = tokio::time::timeout(LIMIT, rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ev.peer.id(), inb.id());
    assert_eq!(ev.message, Message::Ping(Ping { nonce: 5 }));

    // A consumer that never reads: the reader waits at most the event
    // timeout, then the peer is dropped.
    let (tx, _rx) = tokio::sync::mpsc::channel(1);
    let mut b = node();
    b.hooks.events = Some(tx);
    b.config.event_timeout = Duration::from_millis(200);
    let (out, inb) = pair(node(), b).await;
    for n in 0..3 {
        out.queue_message(&Message::Ping(Ping { nonce: n }))
            .unwrap();
    }
    assert_eq!(
        disconnected_within(&inb, LIMIT).await,
        DisconnectReason::SlowConsumer
    );
}

#[tokio::test]
async fn peer_events_are_a_stream() {
    use futures_util::StreamExt;
    let (tx, mut events) = dcr_peer::PeerEvents::channel(16);
    let mut b = node();
    b.hooks.events = Some(tx);
    let (out, inb) = pair(node(), b).await;
    for nonce in [7, 8] {
        out.queue_message(&Message::Ping(Ping { nonce })).unwrap();
    }
    for nonce in [7, 8] {
        let ev = tokio::time::timeout(LIMIT, events.next())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(ev.peer.id(), inb.id());
        assert_eq!(ev.message, Message::Ping(Ping { nonce }));
    }
}

#[tokio::test]
async fn push_helpers_follow_the_negotiated_version() {
    use dcr_peer::wire::{NetAddressV2, Reject, RejectCode};
    let rec = Recorder::default();
    let mut b = node();
    b.config.protocol_version = 11;
    let (out, _inb) = pair(node(), b.with_listeners(rec.clone())).await;
    // Below 12 addresses go as `addr`, at most 1000, chosen at random.
    let addrs: Vec<NetAddressV2> = (0..1500u32)
        .map(|n| {
            NetAddressV2::new(
                std::net::Ipv4Addr::from(0x0a00_0000 + n).into(),
                9108,
                ServiceFlags::NONE,
                1,
            )
        })
        .collect();
    assert_eq!(out.push_addresses(&addrs).unwrap(), 1000);
    // reject no longer exists at 11: nothing is sent.
    let reject = Reject {
        cmd: "tx".into(),
        code: RejectCode::INVALID,
        reason: "bad".into(),
        hash: Hash::ZERO,
    };
    assert!(!out.push_reject(&reject).unwrap());
    let nonce = out.push_ping().unwrap();
    rec.wait_for(|m| m.len() == 2).await;
    let msgs = rec.0.lock().unwrap().clone();
    // The ping overtakes the addresses: pings and pongs have priority.
    assert_eq!(msgs[0], Message::Ping(Ping { nonce }));
    match &msgs[1] {
        Message::Addr(a) => assert_eq!(a.addr_list.len(), 1000),
        other => panic!("{other:?}"),
    }
    until(|| out.stats().counters.ping_rtt.is_some()).await;
}

#[tokio::test]
async fn each_peer_reports_both_ends_of_its_connection() {
    let (out, inb) = pair(node(), node()).await;
    assert_eq!(out.local_addr(), Some(inb.addr()));
    assert_eq!(inb.local_addr(), Some(out.addr()));
}

#[tokio::test]
async fn the_remote_s_last_block_and_last_announcement() {
    let mut b = node();
    b.hooks.newest_block = Some(Arc::new(|| (Hash([1; 32]), 500)));
    let (out, _inb) = pair(node(), b).await;
    assert_eq!(out.last_block(), 500, "its starting height");
    out.update_last_block_height(400);
    assert_eq!(out.last_block(), 500, "never lowered");
    out.update_last_block_height(501);
    assert_eq!(out.stats().counters.last_block_height, 501);
    assert_eq!(out.last_announced_block(), None);
    out.update_last_announced_block(Hash([9; 32]));
    assert_eq!(out.last_announced_block(), Some(Hash([9; 32])));
}

/// What the read and write hooks were given: read messages' commands and
/// read errors' kinds, written frames decoded back.
#[derive(Default, Clone)]
struct Wire {
    read: Arc<Mutex<Vec<Result<Message<'static>, String>>>>,
    written: Arc<Mutex<Vec<(usize, Message<'static>)>>>,
}

impl Listeners for Wire {
    fn on_read(&self, _: &Peer, _: usize, msg: Result<&Message<'_>, &dcr_peer::CodecError>) {
        let entry = msg.map(|m| m.clone().into_owned()).map_err(|e| match e {
            dcr_peer::CodecError::Wire(w) => format!("{:?}", w.kind()),
            dcr_peer::CodecError::Io(io) => format!("{:?}", io.kind()),
        });
        self.read.lock().unwrap().push(entry);
    }

    fn on_write(
        &self,
        peer: &Peer,
        bytes: usize,
        msg: Result<dcr_peer::SentFrame<'_>, &std::io::Error>,
    ) {
        let frame = msg.expect("writes succeed here");
        let decoded = frame.message(peer.protocol_version()).unwrap();
        self.written
            .lock()
            .unwrap()
            .push((bytes, decoded.into_owned()));
    }
}

/// The read and write hooks carry the message, or the error, as the
/// reference's `OnRead` and `OnWrite` do.
#[tokio::test]
async fn read_and_write_hooks_carry_messages_and_errors() {
    let wire = Wire::default();
    let (mut raw, peer) = raw_client(node().with_listeners(wire.clone())).await;
    raw.send(&Message::Ping(Ping { nonce: 77 })).await.unwrap();
    let pong = next_message(&mut raw).await;
    assert!(
        matches!(pong, Some(Message::Pong(p)) if p.nonce == 77),
        "{pong:?}"
    );
    // A frame whose payload does not match its checksum.
    let mut bad = dcr_peer::wire::frame_to_vec(&Message::Ping(Ping { nonce: 1 }), NET, 12).unwrap();
    bad[20] ^= 0xff;
    let mut sock = raw.into_inner();
    tokio::io::AsyncWriteExt::write_all(&mut sock, &bad)
        .await
        .unwrap();
    disconnected_within(&peer, LIMIT).await;
    let read = wire.read.lock().unwrap().clone();
    // The handshake's version and verack, the ping, then the error.
    assert_eq!(read.len(), 4, "{read:?}");
    assert_eq!(read[2], Ok(Message::Ping(Ping { nonce: 77 })));
    assert_eq!(read[3], Err("PayloadChecksum".to_string()));
    let written = wire.written.lock().unwrap().clone();
    let pongs: Vec<_> = written
        .iter()
        .filter(|(_, m)| matches!(m, Message::Pong(_)))
        .collect();
    assert_eq!(pongs.len(), 1);
    assert_eq!(pongs[0], &(32, Message::Pong(Pong { nonce: 77 })));
    assert_eq!(written[0].1.command(), Command::Version);
}

/// Both peers send large messages at once, far more than the socket
/// buffers hold: each peer's task keeps reading while its own writes are
/// pending, so neither side waits on the other forever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_sides_sending_large_messages_do_not_deadlock() {
    let (a, b) = pair(node(), node()).await;
    let big = big_headers();
    let send_all = |p: Peer| {
        let big = big.clone();
        tokio::spawn(async move {
            for _ in 0..40 {
                p.send_message(&big).await.unwrap();
            }
        })
    };
    let (sa, sb) = (send_all(a.clone()), send_all(b.clone()));
    tokio::time::timeout(LIMIT, async {
        sa.await.unwrap();
        sb.await.unwrap();
    })
    .await
    .expect("both directions finish");
    // 40 messages of about 360 KB each way (14 MB, more than the loopback
    // socket buffers hold) arrived.
    received(&a, 40).await;
    received(&b, 40).await;
    assert!(a.is_connected() && b.is_connected());
}
