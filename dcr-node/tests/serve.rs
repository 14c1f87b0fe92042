//! The server of `dcrpeer listen` and the demo over loopback: every
//! request dcrd sends a serving node, sent by a hand-driven client and
//! answered as dcrd's server (`server.go`, `serverPeer.On*`) answers when
//! it holds only a chain (the answer, its absence, or a disconnect), and
//! several peers served at once.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use dcr_node::chain::build_chain;
use dcr_node::serve::{
    node_config, serve_with, serving_config, serving_hooks, DisconnectOnly, Served,
};
use dcr_node::store::{ChainStore, MAX_BLOCKS_PER_GETBLOCKS};
use dcr_node::sync::sync_headers;
use dcr_peer::wire::{
    frame_to_vec, pver, CurrencyNet, GetAddr, GetBlocks, GetCFHeaders, GetCFTypes, GetCFilter,
    GetCFilterV2, GetCFsV2, GetData, GetHeaders, GetInitState, GetMiningState, Hash, Inv, InvType,
    InvVect, MemPool, Message, NetAddress, NetAddressV2, NotFound, ServiceFlags, VerAck, Version,
};
use dcr_peer::{FrameCodec, Hooks, RecentNonces};
use futures_util::{SinkExt, StreamExt};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_util::codec::Framed;

type Raw = Framed<TcpStream, FrameCodec>;

/// Longer than any answer takes on loopback.
const WAIT: Duration = Duration::from_secs(5);

/// A serving node on loopback: its address and chain (600 blocks, more
/// than one `getblocks` answer holds).
async fn server(net: CurrencyNet, addresses: Vec<NetAddressV2>) -> (SocketAddr, Arc<ChainStore>) {
    let chain = Arc::new(ChainStore::new(build_chain(600)).unwrap());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::channel(64);
    let cfg = serving_config(net, "server");
    let hooks = serving_hooks(&chain)
        .with_events(tx)
        .with_nonces(RecentNonces::new());
    let node = Served {
        chain: chain.clone(),
        addresses,
    };
    let (peer_tx, peer_rx) = mpsc::channel(64);
    tokio::spawn(serve_with(
        Arc::new(node),
        rx,
        Some(peer_rx),
        DisconnectOnly::default(),
    ));
    let mut accepted = dcr_peer::net::serve(listener, cfg, hooks);
    tokio::spawn(async move {
        while let Some(p) = accepted.recv().await {
            peer_tx.send(p).await.unwrap();
        }
    });
    (addr, chain)
}

/// Connects and runs the handshake by hand at the current version; the
/// server's first message after it is `sendheaders` (S1, dcrd's
/// `serverPeer.Run`).
async fn client(addr: SocketAddr, net: CurrencyNet) -> Raw {
    let stream = TcpStream::connect(addr).await.unwrap();
    let mut raw = Framed::new(stream, FrameCodec::new(net, pver::CURRENT));
    let here = NetAddress::new("127.0.0.1".parse().unwrap(), 0, ServiceFlags::NONE);
    let hello = Version::new(here, here, 0x5eed, 0);
    raw.send(&Message::Version(hello)).await.unwrap();
    assert!(matches!(next(&mut raw).await, Some(Message::Version(_))));
    assert!(matches!(next(&mut raw).await, Some(Message::VerAck(_))));
    raw.send(&Message::VerAck(VerAck)).await.unwrap();
    assert!(matches!(
        next(&mut raw).await,
        Some(Message::SendHeaders(_))
    ));
    raw
}

/// The next message (pings answered and skipped); `None` when the server
/// closed the connection. Fails the test if nothing comes within [`WAIT`].
async fn next(raw: &mut Raw) -> Option<Message<'static>> {
    tokio::time::timeout(WAIT, async {
        loop {
            let frame = raw.next().await?.ok()?;
            let msg = frame.message(pver::CURRENT).unwrap().into_owned();
            if let Message::Ping(p) = &msg {
                let pong = Message::Pong(dcr_peer::wire::Pong { nonce: p.nonce });
                raw.send(&pong).await.ok()?;
                continue;
            }
            return Some(msg);
        }
    })
    .await
    .expect("an answer or a close in time")
}

/// Sends `request` and returns its answer.
async fn ask(raw: &mut Raw, request: Message<'_>) -> Message<'static> {
    raw.send(&request).await.unwrap();
    next(raw).await.expect("an answer, not a close")
}

/// Sends `request`, then a `getheaders` from the tip, which is always
/// answered (with no headers): requests are answered in order, so an
/// answer to `request` would come first.
async fn assert_silent(raw: &mut Raw, chain: &ChainStore, request: Message<'_>) {
    let command = request.command();
    raw.send(&request).await.unwrap();
    let probe = GetHeaders {
        protocol_version: pver::CURRENT,
        block_locator_hashes: vec![chain.tip().0],
        hash_stop: Hash::ZERO,
    };
    match ask(raw, Message::GetHeaders(probe)).await {
        Message::Headers(h) if h.headers.is_empty() => {}
        other => panic!("{command} was answered: {other:?}"),
    }
}

/// Whether a ban score of `score` is `full` transient points scored since
/// `start`, decayed as dcrd decays them (halved every 60 s, counted in
/// whole seconds): at most `full`, at least what the time since `start`,
/// rounded up a second, leaves of it, less a point of rounding.
fn within_decay(score: u32, full: u32, start: Instant) -> bool {
    let secs = start.elapsed().as_secs() + 1;
    let least = (f64::from(full) * 0.5f64.powf(secs as f64 / 60.0)).floor() as u32;
    (least.saturating_sub(1)..=full).contains(&score)
}

/// Sends `request` and expects the server to close the connection with
/// nothing said.
async fn assert_disconnects(raw: &mut Raw, request: Message<'_>) {
    let command = request.command();
    raw.send(&request).await.unwrap();
    if let Some(m) = next(raw).await {
        panic!("{command}: {m:?} instead of a disconnect");
    }
}

const NET: CurrencyNet = CurrencyNet::SimNet;

fn block(hash: Hash) -> InvVect {
    InvVect {
        inv_type: InvType::BLOCK,
        hash,
    }
}

fn locator(hash: Hash) -> GetBlocks {
    GetBlocks {
        protocol_version: pver::CURRENT,
        block_locator_hashes: vec![hash],
        hash_stop: Hash::ZERO,
    }
}

/// The hash of the main-chain block at `height` in `chain`.
fn hash_at(chain: &ChainStore, height: usize) -> Hash {
    chain.main_hash(height as u32).unwrap()
}

#[tokio::test]
async fn getinitstate_gets_an_empty_initstate_once() {
    let (addr, _) = server(NET, vec![]).await;
    let mut raw = client(addr, NET).await;
    let types = ["headblocks", "headblockvotes", "tspends"].map(Into::into);
    let request = GetInitState {
        types: types.to_vec(),
    };
    match ask(&mut raw, Message::GetInitState(request.clone())).await {
        Message::InitState(s) => {
            assert!(s.block_hashes.is_empty() && s.vote_hashes.is_empty());
            assert!(s.tspend_hashes.is_empty());
        }
        other => panic!("{other:?}"),
    }
    // The reference bans a peer that asks twice.
    assert_disconnects(&mut raw, Message::GetInitState(request)).await;
}

#[tokio::test]
async fn getdata_sends_blocks_held_and_one_notfound_for_the_rest() {
    let (addr, chain) = server(NET, vec![]).await;
    let mut raw = client(addr, NET).await;
    let held = hash_at(&chain, 7);
    let unknown_block = block(Hash([7; 32]));
    let tx = InvVect {
        inv_type: InvType::TX,
        hash: Hash([1; 32]),
    };
    let mix = InvVect {
        inv_type: InvType::MIX,
        hash: Hash([2; 32]),
    };
    // Neither found nor reported: the reference skips unknown types.
    let filtered = InvVect {
        inv_type: InvType::FILTERED_BLOCK,
        hash: Hash([3; 32]),
    };
    let request = GetData {
        inv_list: vec![unknown_block, tx, block(held), filtered, mix],
    };
    match ask(&mut raw, Message::GetData(request)).await {
        Message::Block(b) => assert_eq!(b.block_hash(), held),
        other => panic!("{other:?}"),
    }
    match next(&mut raw).await {
        Some(Message::NotFound(n)) => assert_eq!(n.inv_list, vec![unknown_block, tx, mix]),
        other => panic!("{other:?}"),
    }
    // Nothing else followed.
    assert_silent(&mut raw, &chain, Message::MemPool(MemPool)).await;
    // An empty request is banned.
    let empty = GetData { inv_list: vec![] };
    assert_disconnects(&mut raw, Message::GetData(empty)).await;
}

/// A client that never reads, so its answers stay pending.
async fn blind_client(addr: SocketAddr) -> Raw {
    let stream = TcpStream::connect(addr).await.unwrap();
    let mut raw = Framed::new(stream, FrameCodec::new(NET, pver::CURRENT));
    let here = NetAddress::new("127.0.0.1".parse().unwrap(), 0, ServiceFlags::NONE);
    raw.send(&Message::Version(Version::new(here, here, 0x5eed, 0)))
        .await
        .unwrap();
    raw.send(&Message::VerAck(VerAck)).await.unwrap();
    raw
}

/// Reads everything the server sends until it closes; true when it does
/// within 20 s.
async fn closes(raw: &mut Raw) -> bool {
    tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(Ok(_)) = raw.next().await {}
    })
    .await
    .is_ok()
}

#[tokio::test]
async fn s3_a_second_50000_item_getdata_passes_the_score() {
    let (addr, chain) = server(NET, vec![]).await;
    let mut raw = blind_client(addr).await;
    let full = GetData {
        inv_list: vec![block(chain.tip().0); 50_000],
    };
    // 99 points, then 198: above 100.
    for _ in 0..2 {
        if raw.send(&Message::GetData(full.clone())).await.is_err() {
            break;
        }
    }
    assert!(closes(&mut raw).await, "still connected past the score");
}

#[tokio::test]
async fn s4_more_than_1000_waiting_getdata_messages_disconnect() {
    let (addr, chain) = server(NET, vec![]).await;
    let mut raw = blind_client(addr).await;
    // A first request of 50,000 blocks (99 points, under the ban) fills
    // the socket of a client that does not read and holds its answering
    // task; single-item requests (no points, 51,100 items in all, well
    // under the item limit) then wait behind it, and the 1001st is one
    // too many.
    let big = GetData {
        inv_list: vec![block(chain.tip().0); 50_000],
    };
    raw.send(&Message::GetData(big)).await.unwrap();
    let small = GetData {
        inv_list: vec![block(chain.tip().0)],
    };
    for _ in 0..1100 {
        if raw.send(&Message::GetData(small.clone())).await.is_err() {
            break;
        }
    }
    assert!(closes(&mut raw).await, "still connected past 1000 waiting");
}

#[tokio::test]
async fn s4_other_requests_are_all_answered_in_order_however_many() {
    let (addr, chain) = server(NET, vec![]).await;
    let mut raw = client(addr, NET).await;
    // 3000 requests sent before any answer is read (dcrd serves them in
    // its input handler; the old bound of 64 dropped this peer).
    let ask_from = |height: usize| GetHeaders {
        protocol_version: pver::CURRENT,
        block_locator_hashes: vec![hash_at(&chain, height)],
        hash_stop: hash_at(&chain, height + 1),
    };
    let mut frames = Vec::new();
    for i in 0..3000 {
        frames.extend(
            frame_to_vec(&Message::GetHeaders(ask_from(i % 598)), NET, pver::CURRENT).unwrap(),
        );
    }
    raw.get_mut().write_all(&frames).await.unwrap();
    for i in 0..3000 {
        match next(&mut raw).await {
            Some(Message::Headers(h)) => {
                assert_eq!(h.headers.len(), 1);
                assert_eq!(h.headers[0].height as usize, i % 598 + 1);
            }
            other => panic!("{i}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn getheaders_answers_from_the_chain_even_when_empty() {
    let (addr, chain) = server(NET, vec![]).await;
    let mut raw = client(addr, NET).await;
    // A locator nobody knows: everything after the genesis block.
    let from_genesis = GetHeaders {
        protocol_version: pver::CURRENT,
        block_locator_hashes: vec![Hash([9; 32])],
        hash_stop: Hash::ZERO,
    };
    match ask(&mut raw, Message::GetHeaders(from_genesis)).await {
        Message::Headers(h) => {
            let heights: Vec<u32> = h.headers.iter().map(|h| h.height).collect();
            assert_eq!(heights, (1..600).collect::<Vec<_>>());
        }
        other => panic!("{other:?}"),
    }
    let stop = hash_at(&chain, 12);
    let bounded = GetHeaders {
        protocol_version: pver::CURRENT,
        block_locator_hashes: vec![Hash([9; 32]), hash_at(&chain, 10)],
        hash_stop: stop,
    };
    match ask(&mut raw, Message::GetHeaders(bounded)).await {
        Message::Headers(h) => {
            let heights: Vec<u32> = h.headers.iter().map(|h| h.height).collect();
            assert_eq!(heights, vec![11, 12]);
        }
        other => panic!("{other:?}"),
    }
    // From the tip: an empty headers message (assert_silent's probe).
    assert_silent(&mut raw, &chain, Message::MemPool(MemPool)).await;
}

#[tokio::test]
async fn getblocks_answers_500_then_continues_when_the_last_is_fetched() {
    let (addr, chain) = server(NET, vec![]).await;
    let mut raw = client(addr, NET).await;
    let first = match ask(&mut raw, Message::GetBlocks(locator(Hash::ZERO))).await {
        Message::Inv(inv) => inv.inv_list,
        other => panic!("{other:?}"),
    };
    assert_eq!(first.len(), MAX_BLOCKS_PER_GETBLOCKS);
    assert_eq!(first[0], block(hash_at(&chain, 1)));
    let last = first[MAX_BLOCKS_PER_GETBLOCKS - 1];
    assert_eq!(last, block(hash_at(&chain, 500)));
    // Fetching the last block of a full answer brings an inv of the tip,
    // the legacy protocol's cue to ask for the next batch.
    let fetch = GetData {
        inv_list: vec![last],
    };
    match ask(&mut raw, Message::GetData(fetch.clone())).await {
        Message::Block(b) => assert_eq!(b.block_hash(), last.hash),
        other => panic!("{other:?}"),
    }
    match next(&mut raw).await {
        Some(Message::Inv(inv)) => assert_eq!(inv.inv_list, vec![block(chain.tip().0)]),
        other => panic!("{other:?}"),
    }
    // Once only.
    assert!(matches!(
        ask(&mut raw, Message::GetData(fetch)).await,
        Message::Block(_)
    ));
    // The rest, short of a full answer.
    match ask(&mut raw, Message::GetBlocks(locator(last.hash))).await {
        Message::Inv(inv) => assert_eq!(inv.inv_list.len(), 99),
        other => panic!("{other:?}"),
    }
    // Blocks the peer announced itself are left out; none left, no inv.
    let mut known = locator(hash_at(&chain, 597));
    known.hash_stop = hash_at(&chain, 598);
    let announced = Inv {
        inv_list: vec![block(hash_at(&chain, 598))],
    };
    raw.send(&Message::Inv(announced)).await.unwrap();
    assert_silent(&mut raw, &chain, Message::GetBlocks(known)).await;
    assert_silent(&mut raw, &chain, Message::GetBlocks(locator(chain.tip().0))).await;
}

/// The blocks a `getblocks` from the block at 597 offers (598 and 599, the tip, but
/// what the peer is known to have).
async fn offered_after_597(raw: &mut Raw, chain: &ChainStore) -> Vec<InvVect> {
    let mut get = locator(hash_at(chain, 597));
    get.hash_stop = Hash::ZERO;
    raw.send(&Message::GetBlocks(get)).await.unwrap();
    let probe = GetHeaders {
        protocol_version: pver::CURRENT,
        block_locator_hashes: vec![chain.tip().0],
        hash_stop: Hash::ZERO,
    };
    raw.send(&Message::GetHeaders(probe)).await.unwrap();
    match next(raw).await {
        Some(Message::Inv(inv)) => {
            assert!(matches!(next(raw).await, Some(Message::Headers(_))));
            inv.inv_list
        }
        // Nothing left to offer: no inv, straight to the probe's answer.
        Some(Message::Headers(_)) => Vec::new(),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn s25_announced_blocks_txs_and_mixes_are_known_until_forgotten() {
    let (addr, chain) = server(NET, vec![]).await;
    let mut raw = client(addr, NET).await;
    let (b598, b599) = (hash_at(&chain, 598), hash_at(&chain, 599));
    let typed = |t: InvType, n: u32| {
        let mut hash = [0xab; 32];
        hash[..4].copy_from_slice(&n.to_le_bytes());
        InvVect {
            inv_type: t,
            hash: Hash(hash),
        }
    };
    assert_eq!(
        offered_after_597(&mut raw, &chain).await,
        [block(b598), block(b599)]
    );
    // 599 announced as a block, 598 only as a transaction: a different
    // vector, so 598 is still offered.
    let announced = Inv {
        inv_list: vec![
            InvVect {
                inv_type: InvType::TX,
                hash: b598,
            },
            block(b599),
        ],
    };
    raw.send(&Message::Inv(announced)).await.unwrap();
    assert_eq!(offered_after_597(&mut raw, &chain).await, [block(b598)]);
    // Vectors of types the sync manager passes over are not marked: a
    // thousand of them forget nothing.
    let passed_over = Inv {
        inv_list: (0..1000)
            .map(|n| {
                typed(
                    if n % 2 == 0 {
                        InvType::ERROR
                    } else {
                        InvType::FILTERED_BLOCK
                    },
                    n,
                )
            })
            .collect(),
    };
    raw.send(&Message::Inv(passed_over)).await.unwrap();
    assert_eq!(offered_after_597(&mut raw, &chain).await, [block(b598)]);
    // A thousand marked ones fill the peer's filter (1000, dcrd's
    // `maxKnownInventory`): the oldest entries, 599 among them, are
    // forgotten.
    let flood = Inv {
        inv_list: (0..1000)
            .map(|n| {
                typed(
                    [InvType::BLOCK, InvType::TX, InvType::MIX][n as usize % 3],
                    n,
                )
            })
            .collect(),
    };
    raw.send(&Message::Inv(flood)).await.unwrap();
    assert_eq!(
        offered_after_597(&mut raw, &chain).await,
        [block(b598), block(b599)]
    );
}

#[tokio::test]
async fn getaddr_is_answered_once_to_inbound_peers_and_never_on_simnet() {
    let known = vec![NetAddressV2::new(
        "192.0.2.7".parse().unwrap(),
        9108,
        ServiceFlags::NODE_NETWORK,
        1_700_000_000,
    )];
    let (addr, chain) = server(CurrencyNet::MainNet, known.clone()).await;
    let mut raw = client(addr, CurrencyNet::MainNet).await;
    match ask(&mut raw, Message::GetAddr(GetAddr)).await {
        Message::AddrV2(a) => assert_eq!(a.addr_list, known),
        other => panic!("{other:?}"),
    }
    // Once per connection.
    let probe = GetHeaders {
        protocol_version: pver::CURRENT,
        block_locator_hashes: vec![chain.tip().0],
        hash_stop: Hash::ZERO,
    };
    raw.send(&Message::GetAddr(GetAddr)).await.unwrap();
    assert!(matches!(
        ask(&mut raw, Message::GetHeaders(probe)).await,
        Message::Headers(h) if h.headers.is_empty()
    ));

    // Simnet shares no addresses, lest it become a public network.
    let (addr, chain) = server(NET, known).await;
    let mut raw = client(addr, NET).await;
    assert_silent(&mut raw, &chain, Message::GetAddr(GetAddr)).await;
}

#[tokio::test]
async fn s18_mempool_goes_unanswered_and_the_fourth_quick_one_disconnects() {
    let (addr, chain) = server(NET, vec![]).await;
    let mut raw = client(addr, NET).await;
    // 33 points each: 33, 66, 99 are kept.
    for _ in 0..3 {
        assert_silent(&mut raw, &chain, Message::MemPool(MemPool)).await;
    }
    assert_disconnects(&mut raw, Message::MemPool(MemPool)).await;
}

#[tokio::test]
async fn s19_s20_committed_filters_are_served_with_their_proofs() {
    let (addr, chain) = server(NET, vec![]).await;
    let mut raw = client(addr, NET).await;
    let held = hash_at(&chain, 3);
    match ask(
        &mut raw,
        Message::GetCFilterV2(GetCFilterV2 { block_hash: held }),
    )
    .await
    {
        Message::CFilterV2(f) => {
            assert_eq!(f.block_hash, held);
            assert_eq!(f.data, chain.filter(&held).unwrap().data);
            assert_eq!((f.proof_index, f.proof_hashes.len()), (0, 0));
        }
        other => panic!("{other:?}"),
    }
    let unknown = GetCFilterV2 {
        block_hash: Hash([5; 32]),
    };
    assert_silent(&mut raw, &chain, Message::GetCFilterV2(unknown)).await;
    let range = GetCFsV2 {
        start_hash: held,
        end_hash: hash_at(&chain, 9),
    };
    match ask(&mut raw, Message::GetCFsV2(range)).await {
        Message::CFiltersV2(f) => {
            let got: Vec<Hash> = f.cfilters.iter().map(|f| f.block_hash).collect();
            assert_eq!(got, (3..=9).map(|h| hash_at(&chain, h)).collect::<Vec<_>>());
        }
        other => panic!("{other:?}"),
    }
    let reversed = GetCFsV2 {
        start_hash: hash_at(&chain, 9),
        end_hash: held,
    };
    assert_silent(&mut raw, &chain, Message::GetCFsV2(reversed)).await;
}

#[tokio::test]
async fn s23_s26_empty_inv_and_notfound_rules() {
    let (addr, chain) = server(NET, vec![]).await;
    // Five blocks not found: 100 points, kept (a ban takes more).
    let mut raw = client(addr, NET).await;
    let five = NotFound {
        inv_list: (0..5).map(|n| block(Hash([n; 32]))).collect(),
    };
    assert_silent(&mut raw, &chain, Message::NotFound(five)).await;
    // One more: 120.
    let one = NotFound {
        inv_list: vec![block(Hash([9; 32]))],
    };
    assert_disconnects(&mut raw, Message::NotFound(one)).await;
    // An unknown type: disconnected.
    let mut raw = client(addr, NET).await;
    let odd = NotFound {
        inv_list: vec![InvVect {
            inv_type: InvType(7),
            hash: Hash([1; 32]),
        }],
    };
    assert_disconnects(&mut raw, Message::NotFound(odd)).await;
    // An empty inv: banned.
    let mut raw = client(addr, NET).await;
    raw.get_mut()
        .write_all(&raw_frame(dcr_peer::wire::Command::Inv, &[0]))
        .await
        .unwrap();
    assert!(next(&mut raw).await.is_none());
}

/// `payload` framed as `command` as it is, for what the encoder refuses
/// to build (empty lists).
fn raw_frame(command: dcr_peer::wire::Command, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::new();
    dcr_peer::wire::write_frame(command, payload, NET, pver::CURRENT, &mut f)
        .expect("within the message's limit");
    f
}

#[tokio::test]
async fn getminings_and_version_1_filter_requests_disconnect() {
    let (addr, chain) = server(NET, vec![]).await;
    // getminings was replaced by getinitstate at version 8.
    let mut raw = client(addr, NET).await;
    assert_disconnects(&mut raw, Message::GetMiningState(GetMiningState)).await;
    // Version 1 filters are no longer served by anyone.
    let mut raw = client(addr, NET).await;
    let cfilter = GetCFilter {
        block_hash: hash_at(&chain, 1),
        filter_type: dcr_peer::wire::FilterType(0),
    };
    assert_disconnects(&mut raw, Message::GetCFilter(cfilter)).await;
    let mut raw = client(addr, NET).await;
    let cfheaders = GetCFHeaders {
        block_locator_hashes: vec![],
        hash_stop: Hash::ZERO,
        filter_type: dcr_peer::wire::FilterType(0),
    };
    assert_disconnects(&mut raw, Message::GetCFHeaders(cfheaders)).await;
    let mut raw = client(addr, NET).await;
    assert_disconnects(&mut raw, Message::GetCFTypes(GetCFTypes)).await;
}

/// A client (`dcrpeer connect`) serves nothing but still owes dcrd its
/// initial state: dcrd asks once its chain is current and drops a peer
/// that has not answered in 30 s.
#[tokio::test]
async fn a_client_answers_getinitstate_once() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::channel(16);
    let cfg = node_config(NET, "client");
    let hooks = Hooks::new()
        .with_events(tx)
        .with_nonces(RecentNonces::new());
    let client =
        tokio::spawn(async move { dcr_peer::net::connect(&addr.to_string(), cfg, hooks).await });
    let (stream, _) = listener.accept().await.unwrap();
    // The remote, as dcrd: it takes the client's version, answers, and
    // asks for the initial state.
    let mut raw = Framed::new(stream, FrameCodec::new(NET, pver::CURRENT));
    assert!(matches!(next(&mut raw).await, Some(Message::Version(_))));
    let here = NetAddress::new("127.0.0.1".parse().unwrap(), 0, ServiceFlags::NONE);
    raw.send(&Message::Version(Version::new(here, here, 0x5eed, 0)))
        .await
        .unwrap();
    raw.send(&Message::VerAck(VerAck)).await.unwrap();
    assert!(matches!(next(&mut raw).await, Some(Message::VerAck(_))));
    let peer = client.await.unwrap().unwrap();
    let mut events = dcr_node::serve::answer_as_client(rx, 16);
    let request = GetInitState { types: vec![] };
    match ask(&mut raw, Message::GetInitState(request.clone())).await {
        Message::InitState(s) => assert_eq!(s, Default::default()),
        other => panic!("{other:?}"),
    }
    // Passed on to the client's own reader as well.
    let seen = events.recv().await.unwrap();
    assert!(matches!(seen.message, Message::GetInitState(_)));
    assert_disconnects(&mut raw, Message::GetInitState(request)).await;
    drop(peer);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_reads_does_not_hold_up_another() {
    let (addr, chain) = server(NET, vec![]).await;

    // Client A handshakes blind (it never reads a byte), then asks for the
    // tip block nearly 100,000 times (all the reference lets one peer have
    // pending), in requests small enough to score nothing: megabytes of
    // answers that fill its socket and hold its answering task.
    let mut a = TcpStream::connect(addr).await.unwrap();
    let here = NetAddress::new("127.0.0.1".parse().unwrap(), 0, ServiceFlags::NONE);
    let hello = Message::Version(Version::new(here, here, 0x5eed, 0));
    a.write_all(&frame_to_vec(&hello, NET, pver::CURRENT).unwrap())
        .await
        .unwrap();
    a.write_all(&frame_to_vec(&Message::VerAck(VerAck), NET, pver::CURRENT).unwrap())
        .await
        .unwrap();
    let tip = InvVect {
        inv_type: InvType::BLOCK,
        hash: chain.tip().0,
    };
    let greedy = Message::GetData(GetData {
        inv_list: vec![tip; 505],
    });
    let greedy = frame_to_vec(&greedy, NET, pver::CURRENT).unwrap();
    for _ in 0..190 {
        a.write_all(&greedy).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(500)).await;

    // Client B syncs every header meanwhile, promptly.
    let (etx, mut erx) = mpsc::channel(64);
    let client = node_config(NET, "client");
    let hooks = Hooks::new()
        .with_events(etx)
        .with_nonces(RecentNonces::new());
    let b = dcr_peer::net::connect(&addr.to_string(), client, hooks)
        .await
        .unwrap();
    let synced = tokio::time::timeout(
        // Under the old single serving task this waited for the other
        // client's write timeout (20 s and more).
        Duration::from_secs(10),
        sync_headers(&b, &mut erx, vec![Hash::ZERO], &mut |_| {}),
    )
    .await
    .expect("answered while the other client is stuck")
    .unwrap();
    assert_eq!(synced.hashes.len(), chain.len() - 1);
    drop(a);
}

/// The sync client refuses headers whose heights jump, whoever sends
/// them (the store refuses such a chain before serving it, so a raw
/// server sends them here).
#[tokio::test]
async fn the_sync_client_refuses_a_height_gap() {
    use dcr_peer::wire::{Block, Headers};
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, mut rx) = mpsc::channel(16);
    let cfg = node_config(NET, "client");
    let hooks = Hooks::new()
        .with_events(tx)
        .with_nonces(RecentNonces::new());
    let client =
        tokio::spawn(async move { dcr_peer::net::connect(&addr.to_string(), cfg, hooks).await });
    let (stream, _) = listener.accept().await.unwrap();
    let mut raw = Framed::new(stream, FrameCodec::new(NET, pver::CURRENT));
    assert!(matches!(next(&mut raw).await, Some(Message::Version(_))));
    let here = NetAddress::new("127.0.0.1".parse().unwrap(), 0, ServiceFlags::NONE);
    raw.send(&Message::Version(Version::new(here, here, 0x5eed, 0)))
        .await
        .unwrap();
    raw.send(&Message::VerAck(VerAck)).await.unwrap();
    assert!(matches!(next(&mut raw).await, Some(Message::VerAck(_))));
    let peer = client.await.unwrap().unwrap();
    let mut headers: Vec<_> = build_chain(6)
        .iter()
        .map(|b| Block::from_bytes(b, pver::CURRENT).unwrap().header)
        .collect();
    // Heights 1, 2, then 13: relinked so only the height is wrong.
    headers.remove(0);
    for i in 2..headers.len() {
        headers[i].height += 10;
        headers[i].prev_block = headers[i - 1].block_hash();
    }
    let sync = tokio::spawn(async move {
        let r = sync_headers(&peer, &mut rx, vec![Hash::ZERO], &mut |_| {}).await;
        drop(peer);
        r
    });
    assert!(matches!(next(&mut raw).await, Some(Message::GetHeaders(_))));
    raw.send(&Message::Headers(Headers { headers }))
        .await
        .unwrap();
    let err = sync.await.unwrap().unwrap_err();
    assert!(
        matches!(
            err,
            dcr_node::sync::SyncError::HeightGap {
                height: 13,
                after: 2
            }
        ),
        "{err}"
    );
}

/// As dcrd's `handleServeGetData`, an item of an unknown type is skipped
/// without leaving the peer's count of pending items: a peer that asks
/// for 100,000 of them in all is disconnected at its next request.
#[tokio::test]
async fn s5_s9_skipped_items_stay_counted_as_in_dcrd() {
    let (addr, chain) = server(NET, vec![]).await;
    let mut raw = client(addr, NET).await;
    let odd = GetData {
        inv_list: vec![
            InvVect {
                inv_type: InvType(99),
                hash: Hash([1; 32]),
            };
            505
        ],
    };
    // 198 requests of 505 items (no score each): 99,990 items skipped.
    for _ in 0..198 {
        raw.send(&Message::GetData(odd.clone())).await.unwrap();
    }
    // Ten more items fit under 100,000: the block comes.
    let ten = GetData {
        inv_list: vec![block(hash_at(&chain, 4)); 10],
    };
    match ask(&mut raw, Message::GetData(ten)).await {
        Message::Block(b) => assert_eq!(b.block_hash(), hash_at(&chain, 4)),
        other => panic!("{other:?}"),
    }
    for _ in 0..9 {
        assert!(matches!(next(&mut raw).await, Some(Message::Block(_))));
    }
    // One more skipped item than the limit leaves room for.
    let one_odd = GetData {
        inv_list: vec![odd.inv_list[0]; 11],
    };
    assert_disconnects(&mut raw, Message::GetData(one_odd)).await;
}

/// A serving node run by a connection manager, as `dcrpeer node` runs it:
/// the manager's per-peer hook sends `sendheaders` (S1), the serving rules
/// answer, their verdicts go to the manager's ban list.
async fn managed_server(
    whitelist: &[&str],
) -> (SocketAddr, Arc<ChainStore>, dcr_peer::connmgr::ConnManager) {
    use dcr_peer::connmgr::{ConnManager, ManagerConfig, Whitelist};
    let chain = Arc::new(ChainStore::new(build_chain(30)).unwrap());
    let (tx, rx) = mpsc::channel(64);
    let mut cfg = ManagerConfig::new(serving_config(NET, "server"));
    cfg.hooks = serving_hooks(&chain).with_nonces(RecentNonces::new());
    cfg.listen = vec!["127.0.0.1:0".parse().unwrap()];
    cfg.whitelist = Whitelist::new(whitelist.iter().map(|w| Whitelist::parse_entry(w).unwrap()));
    cfg.events = Some(tx);
    cfg.on_peer = Some(Arc::new(|p: &dcr_peer::Peer| {
        let _ = dcr_node::serve::welcome(p);
    }));
    let m = ConnManager::start(cfg).await.unwrap();
    tokio::spawn(dcr_node::serve::serve_welcomed(
        Arc::new(Served::new(chain.clone())),
        rx,
        dcr_node::serve::ManagerSanctions::new(m.clone()),
    ));
    (m.listen_addrs()[0], chain, m)
}

/// The one peer's id on the manager's side.
async fn only_peer(m: &dcr_peer::connmgr::ConnManager) -> u64 {
    tokio::time::timeout(WAIT, async {
        loop {
            if let Some(p) = m.peers().await.unwrap().first() {
                return p.id;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .unwrap()
}

/// B2, B3, B8, B9, B11, S1 for `node`: every offence is scored on the
/// connection's one score while the peer stays (33, 66, 99), the fourth
/// quick `mempool` passes 100 and bans the address, which is then
/// refused (the old `node` neither scored these nor banned).
#[tokio::test]
async fn b11_node_scores_every_offence_and_bans_above_100() {
    let (addr, chain, m) = managed_server(&[]).await;
    let mut raw = client(addr, NET).await;
    let id = only_peer(&m).await;
    let start = Instant::now();
    for n in 1..=3u32 {
        assert_silent(&mut raw, &chain, Message::MemPool(MemPool)).await;
        // 33 each, less what the transient score has decayed since the
        // first (it halves every minute, in whole seconds as dcrd's).
        let score = m.score(id).await.unwrap();
        assert!(within_decay(score, 33 * n, start), "{score}");
    }
    assert_disconnects(&mut raw, Message::MemPool(MemPool)).await;
    let bans = m.bans().await.unwrap();
    assert_eq!(bans.len(), 1);
    assert_eq!(bans[0].ip, addr.ip());
    // Refused while banned.
    let stream = TcpStream::connect(addr).await.unwrap();
    let mut raw = Framed::new(stream, FrameCodec::new(NET, pver::CURRENT));
    assert!(next(&mut raw).await.is_none());
    m.shutdown(WAIT).await.unwrap();
}

/// B6: a whitelisted peer is scored but never banned; a ban offence ends
/// the request's handling and keeps the peer, unless the handler
/// disconnects by itself (a second `getinitstate`).
#[tokio::test]
async fn b6_a_whitelisted_peer_is_scored_never_banned() {
    let (addr, chain, m) = managed_server(&["127.0.0.0/8"]).await;
    let mut raw = client(addr, NET).await;
    let id = only_peer(&m).await;
    let start = Instant::now();
    for _ in 0..4 {
        assert_silent(&mut raw, &chain, Message::MemPool(MemPool)).await;
    }
    // 4 × 33 = 132 when all four land in one second, less what has decayed
    // since (above 100: a peer not whitelisted would have been banned).
    let score = m.score(id).await.unwrap();
    assert!(within_decay(score, 132, start), "{score}");
    assert_silent(
        &mut raw,
        &chain,
        Message::GetData(GetData {
            inv_list: Vec::new(),
        }),
    )
    .await;
    assert!(m.bans().await.unwrap().is_empty());
    assert!(matches!(
        ask(
            &mut raw,
            Message::GetInitState(GetInitState { types: Vec::new() })
        )
        .await,
        Message::InitState(_)
    ));
    assert_disconnects(
        &mut raw,
        Message::GetInitState(GetInitState { types: Vec::new() }),
    )
    .await;
    assert!(m.bans().await.unwrap().is_empty());
    m.shutdown(WAIT).await.unwrap();
}

/// Records the connections the server forgets.
struct Forgets(Arc<std::sync::Mutex<Vec<u64>>>);

impl dcr_node::serve::Sanctions for Forgets {
    fn apply(
        &mut self,
        _peer: &dcr_peer::Peer,
        _v: &dcr_node::serve::Verdict,
    ) -> dcr_node::serve::Fate {
        dcr_node::serve::Fate::Kept
    }
    fn forget(&mut self, peer_id: u64) {
        self.0.lock().unwrap().push(peer_id);
    }
}

/// Peers handed over as their handshake completes that leave without
/// sending anything are forgotten too: the server's per-connection state
/// is swept as peers arrive, not only as messages do (it grew by one
/// connection per such peer, never swept, before).
#[tokio::test]
async fn peers_that_leave_without_a_message_are_forgotten() {
    let chain = Arc::new(ChainStore::new(build_chain(10)).unwrap());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut accepted = dcr_peer::net::serve(
        listener,
        serving_config(CurrencyNet::SimNet, "remote"),
        Hooks::new().with_nonces(RecentNonces::new()),
    );
    tokio::spawn(async move { while accepted.recv().await.is_some() {} });
    let (_events_tx, events_rx) = mpsc::channel(16);
    let (peer_tx, peer_rx) = mpsc::channel(16);
    let forgotten = Arc::new(std::sync::Mutex::new(Vec::new()));
    let node = Served {
        chain: chain.clone(),
        addresses: Vec::new(),
    };
    tokio::spawn(serve_with(
        Arc::new(node),
        events_rx,
        Some(peer_rx),
        Forgets(forgotten.clone()),
    ));
    let dial = || async {
        dcr_peer::net::connect(
            &addr.to_string(),
            serving_config(CurrencyNet::SimNet, "server"),
            Hooks::new().with_nonces(RecentNonces::new()),
        )
        .await
        .unwrap()
    };
    // One peer stays; 600 come and go without a message.
    let stays = dial().await;
    peer_tx.send(stays.clone()).await.unwrap();
    let mut gone = Vec::new();
    for _ in 0..600 {
        let p = dial().await;
        p.disconnect();
        gone.push(p.id());
        peer_tx.send(p).await.unwrap();
    }
    let until = Instant::now() + WAIT;
    while forgotten.lock().unwrap().len() < 256 && Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let forgotten = forgotten.lock().unwrap().clone();
    assert!(forgotten.len() >= 256, "{} forgotten", forgotten.len());
    assert!(forgotten.iter().all(|id| gone.contains(id)));
    assert!(!forgotten.contains(&stays.id()));
}
