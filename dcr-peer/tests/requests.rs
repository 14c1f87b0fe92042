//! Typed requests on a real peer whose remote is driven by hand, on the
//! fake clock (tokio's paused time: timeouts pass without waiting): each
//! answer matched to its question, the caller's deadline ending a request
//! and never the connection, cancellation, the bound on requests in
//! flight, the refusals that send nothing, and the listeners seeing every
//! answer as before.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use dcr_peer::wire::{
    pver, Block, BlockHeader, CFilterV2, CFiltersV2, CurrencyNet, Hash, Headers, InitState, Inv,
    InvType, InvVect, Message, NetAddress, NotFound, Pong, ServiceFlags, Tx, VerAck, Version,
};
use dcr_peer::{
    Config, DataItem, DisconnectReason, FrameCodec, Hooks, Listeners, Peer, Request, RequestError,
    Response, Unsupported,
};
use futures_util::{SinkExt, StreamExt};
use tokio::io::DuplexStream;
use tokio_util::codec::Framed;

const NET: CurrencyNet = CurrencyNet::SimNet;
const SECOND: Duration = Duration::from_secs(1);

type Remote = Framed<DuplexStream, FrameCodec>;

/// Counts the `headers` messages a listener sees.
#[derive(Default)]
struct CountHeaders(Arc<AtomicUsize>);

impl Listeners for CountHeaders {
    fn on_headers(&self, _: &Peer, _: &Headers) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Our peer over an in-memory pipe to a remote driven by hand, which
/// speaks `pver` and advertises `services`.
async fn connected(
    pver: u32,
    services: ServiceFlags,
    config: Config,
    hooks: Hooks,
) -> (Peer, Remote) {
    let (ours, theirs) = tokio::io::duplex(1 << 20);
    let addr = "127.0.0.1:18555".parse().unwrap();
    let start = tokio::spawn(Peer::outbound(ours, addr, config, hooks));
    let mut remote = Framed::new(theirs, FrameCodec::new(NET, pver));
    let a = NetAddress::new("127.0.0.1".parse().unwrap(), 0, ServiceFlags::NONE);
    let mut v = Version::new(a, a, 0xfeed, 0);
    v.protocol_version = pver as i32;
    v.services = services;
    // dcrd's outbound order: version out, version in, verack in, verack
    // out.
    assert!(matches!(next(&mut remote).await, Message::Version(_)));
    remote.send(&Message::Version(v)).await.unwrap();
    remote.send(&Message::VerAck(VerAck)).await.unwrap();
    assert!(matches!(next(&mut remote).await, Message::VerAck(_)));
    (start.await.unwrap().unwrap(), remote)
}

async fn peer_and_remote() -> (Peer, Remote) {
    connected(
        pver::CURRENT,
        ServiceFlags::NODE_NETWORK,
        Config::new(NET),
        Hooks::new(),
    )
    .await
}

/// The next message the remote reads.
async fn next(remote: &mut Remote) -> Message<'static> {
    let frame = remote.next().await.expect("open").expect("a frame");
    let pv = remote.codec().protocol_version();
    frame.message(pv).unwrap().into_owned()
}

fn header(prev: Hash, height: u32) -> BlockHeader {
    BlockHeader {
        prev_block: prev,
        height,
        ..Default::default()
    }
}

fn filter(block: Hash) -> CFilterV2<'static> {
    CFilterV2 {
        block_hash: block,
        ..Default::default()
    }
}

#[tokio::test(start_paused = true)]
async fn each_answer_reaches_its_own_question() {
    let seen = Arc::new(AtomicUsize::new(0));
    let hooks = Hooks::new().with_listeners(CountHeaders(seen.clone()));
    let (peer, mut remote) = connected(
        pver::CURRENT,
        ServiceFlags::NODE_NETWORK,
        Config::new(NET),
        hooks,
    )
    .await;
    let (a, b) = (Hash([1; 32]), Hash([2; 32]));
    let p = peer.clone();
    let headers_a = tokio::spawn(async move { p.get_headers(vec![a], Hash::ZERO).await });
    let p = peer.clone();
    let filter_b = tokio::spawn(async move { p.get_cfilter_v2(b).await });
    let p = peer.clone();
    let batch = tokio::spawn(async move { p.get_cfilters_v2(a, b).await });
    for _ in 0..3 {
        next(&mut remote).await;
    }
    // Answered out of order, with an announcement in between that
    // continues no locator.
    remote
        .send(&Message::CFiltersV2(CFiltersV2 {
            cfilters: vec![filter(a), filter(b)],
        }))
        .await
        .unwrap();
    remote
        .send(&Message::Headers(Headers {
            headers: vec![header(Hash([9; 32]), 77)],
        }))
        .await
        .unwrap();
    remote.send(&Message::CFilterV2(filter(b))).await.unwrap();
    remote
        .send(&Message::Headers(Headers {
            headers: vec![header(a, 5), header(Hash([5; 32]), 6)],
        }))
        .await
        .unwrap();
    let got = headers_a.await.unwrap().unwrap();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].prev_block, a);
    assert_eq!(filter_b.await.unwrap().unwrap().block_hash, b);
    let batch = batch.await.unwrap().unwrap();
    assert_eq!(
        batch.iter().map(|f| f.block_hash).collect::<Vec<_>>(),
        [a, b]
    );
    // The listener saw both `headers`, the answer and the announcement.
    assert_eq!(seen.load(Ordering::SeqCst), 2);
    assert_eq!(peer.requests_in_flight(), 0);
}

#[tokio::test(start_paused = true)]
async fn the_deadline_ends_the_request_and_the_connection_carries_on() {
    let (peer, mut remote) = peer_and_remote().await;
    let started = tokio::time::Instant::now();
    let asked = peer.call(Request::CFilterV2(Hash([3; 32])), 5 * SECOND);
    let (answer, msg) = tokio::join!(asked, next(&mut remote));
    assert!(matches!(msg, Message::GetCFilterV2(_)));
    assert_eq!(answer, Err(RequestError::Timeout));
    assert_eq!(started.elapsed(), 5 * SECOND);
    // Still connected, and its slot is free again.
    assert!(peer.is_connected());
    assert_eq!(peer.requests_in_flight(), 0);
    // The late answer is no answer: the next request gets its own.
    remote
        .send(&Message::CFilterV2(filter(Hash([3; 32]))))
        .await
        .unwrap();
    let p = peer.clone();
    let again = tokio::spawn(async move { p.get_cfilter_v2(Hash([4; 32])).await });
    assert!(matches!(next(&mut remote).await, Message::GetCFilterV2(_)));
    remote
        .send(&Message::CFilterV2(filter(Hash([4; 32]))))
        .await
        .unwrap();
    assert_eq!(again.await.unwrap().unwrap().block_hash, Hash([4; 32]));
}

#[tokio::test(start_paused = true)]
async fn getdata_resolves_each_vector_and_notfound_is_an_item() {
    let (peer, mut remote) = peer_and_remote().await;
    let block = Block::default();
    let tx = Tx::default();
    let missing = InvVect {
        inv_type: InvType::BLOCK,
        hash: Hash([8; 32]),
    };
    let want = vec![
        InvVect {
            inv_type: InvType::BLOCK,
            hash: block.block_hash(),
        },
        missing,
        InvVect {
            inv_type: InvType::TX,
            hash: tx.tx_hash(),
        },
    ];
    let p = peer.clone();
    let asked = tokio::spawn(async move { p.get_data(want).await });
    assert!(matches!(next(&mut remote).await, Message::GetData(_)));
    remote.send(&Message::Tx(tx.clone())).await.unwrap();
    remote
        .send(&Message::NotFound(NotFound {
            inv_list: vec![missing],
        }))
        .await
        .unwrap();
    remote.send(&Message::Block(block.clone())).await.unwrap();
    let items = asked.await.unwrap().unwrap();
    assert_eq!(
        items,
        [
            DataItem::Block(block),
            DataItem::NotFound(missing),
            DataItem::Tx(tx)
        ]
    );
    // One block asked for and not found is an error of its own kind.
    let p = peer.clone();
    let one = tokio::spawn(async move { p.get_block(missing.hash).await });
    assert!(matches!(next(&mut remote).await, Message::GetData(_)));
    remote
        .send(&Message::NotFound(NotFound {
            inv_list: vec![missing],
        }))
        .await
        .unwrap();
    assert_eq!(one.await.unwrap(), Err(RequestError::NotFound(missing)));
}

#[tokio::test(start_paused = true)]
async fn dropping_a_request_frees_its_slot_and_the_bound_holds_the_rest() {
    let mut config = Config::new(NET);
    config.max_requests_in_flight = 2;
    let (tx, mut events) = tokio::sync::mpsc::channel(16);
    let (peer, mut remote) = connected(
        pver::CURRENT,
        ServiceFlags::NODE_NETWORK,
        config,
        Hooks::new().with_events(tx),
    )
    .await;
    let hashes: Vec<Hash> = (1..=3).map(|n| Hash([n; 32])).collect();
    let spawn = |h: Hash| {
        let p = peer.clone();
        tokio::spawn(async move { p.get_cfilter_v2(h).await })
    };
    let first = spawn(hashes[0]);
    let second = spawn(hashes[1]);
    next(&mut remote).await;
    next(&mut remote).await;
    assert_eq!(peer.requests_in_flight(), 2);
    // The third waits for a slot: nothing of it is written yet.
    let third = spawn(hashes[2]);
    tokio::time::sleep(SECOND).await;
    assert!(tokio::time::timeout(SECOND, next(&mut remote))
        .await
        .is_err());
    // Dropping the first frees its slot: the third goes out.
    first.abort();
    assert!(first.await.unwrap_err().is_cancelled());
    assert!(
        matches!(next(&mut remote).await, Message::GetCFilterV2(m) if m.block_hash == hashes[2])
    );
    // The answer to the dropped request reaches the event channel alone,
    // as a message no request took; the others reach their callers (and
    // the channel too, marked as answers).
    for h in &hashes {
        remote.send(&Message::CFilterV2(filter(*h))).await.unwrap();
    }
    assert_eq!(second.await.unwrap().unwrap().block_hash, hashes[1]);
    assert_eq!(third.await.unwrap().unwrap().block_hash, hashes[2]);
    for h in &hashes {
        let ev = events.recv().await.unwrap();
        assert!(matches!(ev.message, Message::CFilterV2(f) if f.block_hash == *h));
        assert_eq!(ev.answered, *h != hashes[0], "{h:?}");
    }
    assert_eq!(peer.requests_in_flight(), 0);
}

#[tokio::test(start_paused = true)]
async fn what_the_remote_cannot_answer_is_refused_before_anything_is_sent() {
    // Protocol 10: no batched filters; no `SFNodeNetwork`: no chain.
    let (peer, mut remote) = connected(
        pver::MIX,
        ServiceFlags::NONE,
        Config::new(NET),
        Hooks::new(),
    )
    .await;
    let batch = peer.get_cfilters_v2(Hash::ZERO, Hash::ZERO).await;
    assert_eq!(
        batch,
        Err(RequestError::Unsupported(Unsupported::Version {
            needs: pver::BATCHED_CFILTERS_V2,
            negotiated: pver::MIX
        }))
    );
    let headers = peer.get_headers(vec![], Hash::ZERO).await;
    assert!(matches!(
        headers,
        Err(RequestError::Unsupported(Unsupported::Services { .. }))
    ));
    // A request that cannot be encoded is refused at the call.
    let tx = InvVect {
        inv_type: InvType::TX,
        hash: Hash::ZERO,
    };
    let too_many = Request::Data(vec![tx; 50_001]);
    assert!(matches!(
        peer.call(too_many, SECOND).await,
        Err(RequestError::Encode(_))
    ));
    // Nothing went out; a ping does, and its pong gives the round trip.
    let p = peer.clone();
    let ping = tokio::spawn(async move { p.ping().await });
    let Message::Ping(ping_msg) = next(&mut remote).await else {
        panic!("a ping was the first thing written")
    };
    tokio::time::sleep(Duration::from_millis(40)).await;
    remote
        .send(&Message::Pong(Pong {
            nonce: ping_msg.nonce,
        }))
        .await
        .unwrap();
    let rtt = ping.await.unwrap().unwrap();
    assert!(rtt >= Duration::from_millis(40) && rtt < SECOND, "{rtt:?}");
    assert!(peer.is_connected());
}

#[tokio::test(start_paused = true)]
async fn a_disconnect_ends_every_request_with_its_reason() {
    let (peer, mut remote) = peer_and_remote().await;
    let p = peer.clone();
    let blocks = tokio::spawn(async move { p.get_blocks(vec![Hash::ZERO], Hash::ZERO).await });
    let p = peer.clone();
    let state = tokio::spawn(async move { p.get_init_state(vec!["headblocks".into()]).await });
    next(&mut remote).await;
    next(&mut remote).await;
    drop(remote);
    let closed = Err(RequestError::Disconnected(DisconnectReason::RemoteClosed));
    assert_eq!(blocks.await.unwrap(), closed);
    assert_eq!(
        state.await.unwrap(),
        closed.clone().map(|_: Vec<Hash>| InitState::default())
    );
    // And a request after it fails at once.
    assert!(matches!(
        peer.ping().await,
        Err(RequestError::Disconnected(_))
    ));
}

#[tokio::test(start_paused = true)]
async fn getblocks_and_initstate_take_their_answers() {
    let (peer, mut remote) = peer_and_remote().await;
    let p = peer.clone();
    let blocks = tokio::spawn(async move { p.get_blocks(vec![Hash::ZERO], Hash::ZERO).await });
    next(&mut remote).await;
    // A transaction announcement is no answer to `getblocks`.
    let tx_iv = InvVect {
        inv_type: InvType::TX,
        hash: Hash([1; 32]),
    };
    remote
        .send(&Message::Inv(Inv {
            inv_list: vec![tx_iv],
        }))
        .await
        .unwrap();
    let list: Vec<InvVect> = (1..=3)
        .map(|n| InvVect {
            inv_type: InvType::BLOCK,
            hash: Hash([n; 32]),
        })
        .collect();
    remote
        .send(&Message::Inv(Inv {
            inv_list: list.clone(),
        }))
        .await
        .unwrap();
    assert_eq!(
        blocks.await.unwrap().unwrap(),
        list.iter().map(|iv| iv.hash).collect::<Vec<_>>()
    );
    let p = peer.clone();
    let state = tokio::spawn(async move {
        p.call(Request::InitState(vec!["tspends".into()]), 10 * SECOND)
            .await
    });
    assert!(matches!(next(&mut remote).await, Message::GetInitState(_)));
    let answer = InitState {
        tspend_hashes: vec![Hash([4; 32])],
        ..Default::default()
    };
    remote
        .send(&Message::InitState(answer.clone()))
        .await
        .unwrap();
    assert_eq!(state.await.unwrap(), Ok(Response::InitState(answer)));
}
