//! Typed requests (`dcr_peer::Peer::call` and its methods) against our
//! own serving node over loopback: each request gets the answer dcrd's
//! server gives (`server.go`, `serverPeer.On*`), and the requests dcrd
//! leaves unanswered end at the caller's deadline with the connection
//! still up.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use dcr_node::chain::build_chain;
use dcr_node::serve::{
    node_config, serve_with, serving_config, serving_hooks, DisconnectOnly, Served,
};
use dcr_node::store::{ChainStore, MAX_BLOCKS_PER_GETBLOCKS};
use dcr_peer::wire::{CurrencyNet, Hash, InvType, InvVect};
use dcr_peer::{DataItem, Hooks, Peer, RecentNonces, Request, RequestError};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

const NET: CurrencyNet = CurrencyNet::SimNet;
const SHORT: Duration = Duration::from_millis(300);

/// A serving node of 600 blocks on loopback.
async fn server() -> (SocketAddr, Arc<ChainStore>) {
    let chain = Arc::new(ChainStore::new(build_chain(600)).unwrap());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::channel(64);
    let hooks = serving_hooks(&chain)
        .with_events(tx)
        .with_nonces(RecentNonces::new());
    let node = Arc::new(Served::new(chain.clone()));
    tokio::spawn(serve_with(node, rx, None, DisconnectOnly::default()));
    let mut accepted = dcr_peer::net::serve(listener, serving_config(NET, "server"), hooks);
    tokio::spawn(async move { while accepted.recv().await.is_some() {} });
    (addr, chain)
}

async fn client(addr: SocketAddr) -> Peer {
    let hooks = Hooks::new().with_nonces(RecentNonces::new());
    dcr_peer::net::connect(&addr.to_string(), node_config(NET, "client"), hooks)
        .await
        .unwrap()
}

fn main_hashes(chain: &ChainStore) -> Vec<Hash> {
    (0..chain.len() as u32)
        .map(|h| chain.main_hash(h).unwrap())
        .collect()
}

#[tokio::test]
async fn headers_blocks_and_data_come_back_as_dcrd_serves_them() {
    let (addr, chain) = server().await;
    let peer = client(addr).await;
    let hashes = main_hashes(&chain);
    // From genesis: every header after it, up to one message's 2000.
    let headers = peer.get_headers(vec![hashes[0]], Hash::ZERO).await.unwrap();
    let got: Vec<Hash> = headers.iter().map(|h| h.block_hash()).collect();
    assert_eq!(got, hashes[1..]);
    // From the tip: nothing after it, and dcrd says so (an empty
    // `headers`).
    let tip = peer
        .get_headers(vec![hashes[599]], Hash::ZERO)
        .await
        .unwrap();
    assert!(tip.is_empty());
    // `getblocks`: at most 500 hashes.
    let blocks = peer.get_blocks(vec![hashes[0]], Hash::ZERO).await.unwrap();
    assert_eq!(blocks, hashes[1..=MAX_BLOCKS_PER_GETBLOCKS]);
    // `getdata`: a block, and one the node lacks.
    let unknown = InvVect {
        inv_type: InvType::BLOCK,
        hash: Hash([0xee; 32]),
    };
    let want = InvVect {
        inv_type: InvType::BLOCK,
        hash: hashes[10],
    };
    let items = peer.get_data(vec![want, unknown]).await.unwrap();
    assert!(matches!(&items[0], DataItem::Block(b) if b.block_hash() == hashes[10]));
    assert_eq!(items[1], DataItem::NotFound(unknown));
    assert_eq!(
        peer.get_block(unknown.hash).await,
        Err(RequestError::NotFound(unknown))
    );
    let rtt = peer.ping().await.unwrap();
    assert!(rtt < Duration::from_secs(5));
}

#[tokio::test]
async fn filters_are_served_and_unknown_ones_end_at_the_deadline() {
    let (addr, chain) = server().await;
    let peer = client(addr).await;
    let hashes = main_hashes(&chain);
    let one = peer.get_cfilter_v2(hashes[7]).await.unwrap();
    assert_eq!(one.block_hash, hashes[7]);
    assert_eq!(*one.data, chain.filter(&hashes[7]).unwrap().data[..]);
    let batch = peer.get_cfilters_v2(hashes[1], hashes[100]).await.unwrap();
    let got: Vec<Hash> = batch.iter().map(|f| f.block_hash).collect();
    assert_eq!(got, hashes[1..=100]);
    // dcrd says nothing for a block it lacks, or a range it cannot
    // serve (more than 100): the request ends, the connection stays.
    let missing = peer.call(Request::CFilterV2(Hash([0xee; 32])), SHORT).await;
    assert_eq!(missing, Err(RequestError::Timeout));
    let too_long = Request::CFiltersV2 {
        start: hashes[1],
        end: hashes[101],
    };
    assert_eq!(peer.call(too_long, SHORT).await, Err(RequestError::Timeout));
    // `getblocks` from the tip: nothing to say, so silence.
    let nothing = Request::Blocks {
        locator: vec![hashes[599]],
        stop: Hash::ZERO,
    };
    assert_eq!(peer.call(nothing, SHORT).await, Err(RequestError::Timeout));
    assert!(peer.is_connected());
    assert!(peer.get_cfilter_v2(hashes[599]).await.is_ok());
}

#[tokio::test]
async fn the_initial_state_is_answered_once_and_a_second_request_ends_the_peer() {
    let (addr, _) = server().await;
    let peer = client(addr).await;
    let state = peer
        .get_init_state(vec!["headblocks".into()])
        .await
        .unwrap();
    assert!(state.block_hashes.is_empty());
    // dcrd bans a peer that asks twice; the request ends with it.
    let again = peer
        .call(
            Request::InitState(vec!["headblocks".into()]),
            Duration::from_secs(10),
        )
        .await;
    assert!(
        matches!(again, Err(RequestError::Disconnected(_))),
        "{again:?}"
    );
    assert!(matches!(
        peer.call(Request::Ping, SHORT).await,
        Err(RequestError::Disconnected(_))
    ));
}
