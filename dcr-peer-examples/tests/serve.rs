//! Serving a chain to several peers at once: one that stops reading holds
//! up only its own answers.

use std::sync::Arc;
use std::time::Duration;

use dcr_peer::wire::{
    frame_to_vec, pver, CurrencyNet, GetData, InvType, InvVect, Message, NetAddress, ServiceFlags,
    VerAck, Version,
};
use dcr_peer::RecentNonces;
use dcr_peer_examples::chain::build_chain;
use dcr_peer_examples::serve::{node_config, serve_chain, serving_config};
use dcr_peer_examples::store::ChainStore;
use dcr_peer_examples::sync::sync_headers;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

const NET: CurrencyNet = CurrencyNet::SimNet;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_reads_does_not_hold_up_another() {
    let chain = Arc::new(ChainStore::new(build_chain(32)).unwrap());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::channel(64);
    let mut server = serving_config(NET, "server", &chain);
    server.events = Some(tx);
    server.nonces = RecentNonces::new();
    tokio::spawn(serve_chain(chain.clone(), rx));
    let mut accepted = dcr_peer::net::serve(listener, server);
    tokio::spawn(async move {
        let mut peers = Vec::new();
        while let Some(p) = accepted.recv().await {
            peers.push(p);
        }
    });

    // Client A handshakes blind (it never reads a byte), then asks for the
    // tip block 100,000 times (all the reference lets one peer have
    // pending): tens of megabytes of answers that fill its socket and hold
    // its answering task.
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
        inv_list: vec![tip; 50_000],
    });
    let greedy = frame_to_vec(&greedy, NET, pver::CURRENT).unwrap();
    for _ in 0..2 {
        a.write_all(&greedy).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(500)).await;

    // Client B syncs every header meanwhile, promptly.
    let (etx, mut erx) = mpsc::channel(64);
    let mut client = node_config(NET, "client");
    client.events = Some(etx);
    client.nonces = RecentNonces::new();
    let b = dcr_peer::net::connect(&addr.to_string(), client)
        .await
        .unwrap();
    let synced = tokio::time::timeout(
        // Under the old single serving task this waited for the other
        // client's write timeout (20 s and more).
        Duration::from_secs(10),
        sync_headers(&b, &mut erx, Vec::new(), &mut |_| {}),
    )
    .await
    .expect("answered while the other client is stuck")
    .unwrap();
    assert_eq!(synced.hashes.len(), chain.len() - 1);
    drop(a);
}
