//! Serving a chain to peers: answers `getheaders`, `getblocks` and
//! `getdata` from a [`ChainStore`], as a node does for syncing clients.

use std::collections::HashMap;
use std::sync::Arc;

use dcr_peer::{Config, Peer, PeerEvent};
use dcr_wire::{
    Block, CurrencyNet, Headers, Inv, InvType, InvVect, Message, NotFound, ServiceFlags,
};
use tokio::sync::mpsc;
use tracing::{debug, info};

use crate::store::ChainStore;

/// Settings for a node of these tools named `name` (its user agent carries
/// the crate's version).
pub fn node_config(net: CurrencyNet, name: &str) -> Config {
    let mut c = Config::new(net);
    c.user_agent_name = name.into();
    c.user_agent_version = env!("CARGO_PKG_VERSION").into();
    c
}

/// Settings for a node that serves `chain`: its tip is the height it
/// announces, and it advertises full blocks (`SFNodeNetwork`). Full nodes
/// require that service of the peers they dial: dcrd drops an outbound
/// peer without it right after the version exchange.
pub fn serving_config(net: CurrencyNet, name: &str, chain: &ChainStore) -> Config {
    let mut c = node_config(net, name);
    c.services = ServiceFlags::NODE_NETWORK;
    let tip = chain.tip();
    c.newest_block = Some(Arc::new(move || tip));
    c
}

/// Requests one peer may have waiting; more are dropped (and logged).
const REQUESTS_PER_PEER: usize = 16;

/// Answers the requests arriving on `events` until every sender is gone.
/// Each peer is served by its own task, in order: block messages wait for
/// queue room, so a slow client slows its own answers, never another
/// peer's, and never grows its queue.
pub async fn serve_chain(chain: Arc<ChainStore>, mut events: mpsc::Receiver<PeerEvent>) {
    let mut workers: HashMap<u64, mpsc::Sender<Message<'static>>> = HashMap::new();
    while let Some(PeerEvent { peer, message }) = events.recv().await {
        if !matches!(
            message,
            Message::GetHeaders(_) | Message::GetBlocks(_) | Message::GetData(_)
        ) {
            info!(peer = %peer.addr(), command = %message.command(), "received");
            continue;
        }
        workers.retain(|_, w| !w.is_closed());
        let worker = workers.entry(peer.id()).or_insert_with(|| {
            let (tx, rx) = mpsc::channel(REQUESTS_PER_PEER);
            tokio::spawn(serve_peer(chain.clone(), peer.clone(), rx));
            tx
        });
        if worker.try_send(message).is_err() {
            debug!(peer = %peer.addr(), "requests pile up; one dropped");
        }
    }
}

/// Answers one peer's requests in order until it disconnects.
async fn serve_peer(
    chain: Arc<ChainStore>,
    peer: Peer,
    mut requests: mpsc::Receiver<Message<'static>>,
) {
    loop {
        let request = tokio::select! {
            r = requests.recv() => match r {
                Some(r) => r,
                None => return,
            },
            _ = peer.wait_for_disconnect() => return,
        };
        let answer = match &request {
            Message::GetHeaders(m) => {
                let headers = chain.locate_headers(&m.block_locator_hashes, &m.hash_stop);
                debug!(peer = %peer.addr(), count = headers.len(), "headers");
                peer.queue_message_wait(&Message::Headers(Headers { headers }))
                    .await
            }
            Message::GetBlocks(m) => {
                let inv_list = chain
                    .locate_blocks(&m.block_locator_hashes, &m.hash_stop)
                    .into_iter()
                    .map(|hash| InvVect {
                        inv_type: InvType::BLOCK,
                        hash,
                    })
                    .collect();
                peer.queue_message_wait(&Message::Inv(Inv { inv_list }))
                    .await
            }
            Message::GetData(m) => serve_data(&chain, &peer, &m.inv_list).await,
            _ => Ok(()),
        };
        if let Err(e) = answer {
            debug!(peer = %peer.addr(), error = %e, "cannot answer");
        }
    }
}

async fn serve_data(
    chain: &ChainStore,
    peer: &Peer,
    items: &[InvVect],
) -> Result<(), dcr_peer::PeerError> {
    let mut missing = Vec::new();
    for iv in items {
        let raw = (iv.inv_type == InvType::BLOCK)
            .then(|| chain.block(&iv.hash))
            .flatten();
        let Some(raw) = raw else {
            missing.push(*iv);
            continue;
        };
        // The store validated every block when it was built.
        let block = Block::from_bytes(raw, peer.protocol_version())?;
        peer.queue_message_wait(&Message::Block(block)).await?;
    }
    if !missing.is_empty() {
        peer.queue_message_wait(&Message::NotFound(NotFound { inv_list: missing }))
            .await?;
    }
    Ok(())
}
