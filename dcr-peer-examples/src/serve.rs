//! Serving a chain to peers the way dcrd's server (`server.go`, the
//! `serverPeer.On*` handlers) answers them when it has nothing more to
//! give than a chain: no mempool, no mixing pool, no committed filters and
//! an address book of its own choosing.
//!
//! | request | answer (the reference's handler) |
//! | --- | --- |
//! | `getheaders` | `headers` from the chain, empty when nothing follows the locator (`OnGetHeaders`) |
//! | `getblocks` | `inv` of up to 500 blocks the peer is not known to have; nothing when there are none (`OnGetBlocks`) |
//! | `getdata` | each block held; one `notfound` for every block, tx and mix item not held; other types skipped (`handleServeGetData`) |
//! | `getinitstate` | an empty `initstate`: the tip state comes from a mempool (`OnGetInitState`) |
//! | `mempool` | nothing: an inventory of an empty mempool (`OnMemPool`) |
//! | `getaddr` | the known addresses, once, to inbound peers, never on simnet or regnet (`OnGetAddr`) |
//! | `getcfilterv2`, `getcfsv2` | nothing: no filter is held (`OnGetCFilterV2`, `OnGetCFiltersV2`) |
//!
//! Where the reference bans and disconnects, the peer is disconnected (this
//! server keeps no ban list): an empty `getdata`, a second `getinitstate`,
//! `getminings` (replaced by `getinitstate` at version 8; peers below 9
//! are refused at the handshake), and the
//! withdrawn version 1 filter requests (`getcfilter`, `getcfheaders`,
//! `getcftypes`, `enforceNodeCFFlag`). Like the reference, a peer with more
//! than 100,000 requested data items unanswered is disconnected; so is one
//! with more than [`REQUESTS_PER_PEER`] requests of any kind waiting (the
//! reference allows 1,000 `getdata` and blocks its reader on the rest).
//! The reference also keeps a decaying ban score, raised by every
//! `mempool` (33) and by large `getdata` (99 per 50,000 items), and bans
//! past 100. This server keeps no scores: the two bounds above are all
//! that limit a greedy peer.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use dcr_peer::{Config, Peer, PeerError, PeerEvent};
use dcr_wire::msg::MAX_INV_PER_MSG;
use dcr_wire::{
    pver, Block, CurrencyNet, GetData, Hash, Headers, InitState, Inv, InvType, InvVect, Message,
    NetAddressV2, NotFound, ServiceFlags,
};
use tokio::sync::mpsc;
use tracing::{debug, info, warn};

use crate::store::{ChainStore, MAX_BLOCKS_PER_GETBLOCKS};

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

/// Requests one peer may have waiting; a peer with more is disconnected.
pub const REQUESTS_PER_PEER: usize = 64;

/// Data items (`getdata` entries) one peer may have waiting; a peer with
/// more is disconnected (the reference's `maxPendingGetDataItemReqs`).
pub const MAX_PENDING_DATA_ITEMS: usize = 2 * MAX_INV_PER_MSG as usize;

/// What a serving node has to give.
#[derive(Debug, Clone)]
pub struct Served {
    pub chain: Arc<ChainStore>,
    /// Answered to `getaddr` (once per inbound peer, not on simnet or
    /// regnet); at most one message's worth, chosen at random, is sent.
    pub addresses: Vec<NetAddressV2>,
}

impl Served {
    /// A node that knows `chain` and no addresses.
    pub fn new(chain: Arc<ChainStore>) -> Served {
        Served {
            chain,
            addresses: Vec::new(),
        }
    }
}

/// Answers the requests arriving on `events` from `chain` until every
/// sender is gone (a node that knows no addresses).
pub async fn serve_chain(chain: Arc<ChainStore>, events: mpsc::Receiver<PeerEvent>) {
    serve(Arc::new(Served::new(chain)), events).await
}

/// Answers the requests arriving on `events` until every sender is gone.
/// Each peer is served by its own task, in order: block messages wait for
/// queue room, so a slow client slows its own answers, never another
/// peer's, and never grows its queue.
pub async fn serve(node: Arc<Served>, mut events: mpsc::Receiver<PeerEvent>) {
    let mut workers: HashMap<u64, Worker> = HashMap::new();
    while let Some(PeerEvent { peer, message }) = events.recv().await {
        if !is_request(&message) {
            info!(peer = %peer.addr(), command = %message.command(), "received");
            continue;
        }
        workers.retain(|_, w| !w.requests.is_closed());
        let worker = workers
            .entry(peer.id())
            .or_insert_with(|| Worker::spawn(node.clone(), peer.clone()));
        if let Err(reason) = worker.submit(message) {
            drop_peer(&peer, &reason);
        }
    }
}

/// The requests a serving node answers (or refuses); the rest are logged.
fn is_request(m: &Message<'_>) -> bool {
    matches!(
        m,
        Message::GetHeaders(_)
            | Message::GetBlocks(_)
            | Message::GetData(_)
            | Message::GetInitState(_)
            | Message::GetMiningState(_)
            | Message::MemPool(_)
            | Message::GetAddr(_)
            | Message::GetCFilter(_)
            | Message::GetCFHeaders(_)
            | Message::GetCFTypes(_)
            | Message::GetCFilterV2(_)
            | Message::GetCFsV2(_)
    )
}

/// The answer to a peer's `getinitstate`, which every node owes, serving
/// or not: dcrd asks each peer once its chain is current and drops one
/// that has not answered in 30 s ("deadline exceeded for initstate"). Tip
/// blocks, their votes and treasury spends all come from a mempool, so
/// without one the reference's answer is empty. `already_sent` records the
/// answer; a second request is one the reference bans for.
fn init_state(already_sent: &mut bool) -> Result<Message<'static>, String> {
    if std::mem::replace(already_sent, true) {
        return Err("sent more than one getinitstate".into());
    }
    Ok(Message::InitState(InitState::default()))
}

/// Passes `events` on, answering on the way what a node that serves
/// nothing still owes its peers: `getinitstate` (see `init_state` in this module). For
/// clients such as `dcrpeer connect` and `dcrpeer node`, whose consumers
/// read only what they asked for; the channel returned holds `capacity`
/// events.
pub fn answer_as_client(
    mut events: mpsc::Receiver<PeerEvent>,
    capacity: usize,
) -> mpsc::Receiver<PeerEvent> {
    let (tx, rx) = mpsc::channel(capacity);
    tokio::spawn(async move {
        // The peers answered, while they are connected.
        let mut answered: HashMap<u64, Peer> = HashMap::new();
        while let Some(event) = events.recv().await {
            if let Message::GetInitState(_) = event.message {
                let peer = &event.peer;
                answered.retain(|_, p| p.is_connected());
                let mut sent = answered.insert(peer.id(), peer.clone()).is_some();
                match init_state(&mut sent) {
                    Ok(answer) => {
                        if let Err(e) = peer.queue_message(&answer) {
                            debug!(peer = %peer.addr(), error = %e, "cannot answer");
                        }
                    }
                    Err(reason) => drop_peer(peer, &reason),
                }
            }
            if tx.send(event).await.is_err() {
                return;
            }
        }
    });
    rx
}

/// Disconnects a peer that broke one of the reference's rules (which would
/// also ban it).
fn drop_peer(peer: &Peer, reason: &str) {
    warn!(peer = %peer.addr(), reason, "misbehaving peer; disconnecting");
    peer.disconnect();
}

/// The queue of one peer's requests and the count of data items in it.
struct Worker {
    requests: mpsc::Sender<Message<'static>>,
    pending_items: Arc<AtomicUsize>,
}

impl Worker {
    fn spawn(node: Arc<Served>, peer: Peer) -> Worker {
        let (requests, rx) = mpsc::channel(REQUESTS_PER_PEER);
        let pending_items = Arc::new(AtomicUsize::new(0));
        let server = PeerServer {
            node,
            peer,
            pending_items: pending_items.clone(),
            init_state_sent: false,
            addresses_sent: false,
            continue_hash: None,
        };
        tokio::spawn(server.run(rx));
        Worker {
            requests,
            pending_items,
        }
    }

    /// Queues `request`, or says why the peer must go.
    fn submit(&self, request: Message<'static>) -> Result<(), String> {
        let items = match &request {
            Message::GetData(GetData { inv_list }) if inv_list.is_empty() => {
                return Err("sent an empty getdata request".into());
            }
            Message::GetData(GetData { inv_list }) => inv_list.len(),
            _ => 0,
        };
        // Only this task adds; the peer's task only takes away.
        let pending = self.pending_items.load(Ordering::Acquire);
        if pending + items > MAX_PENDING_DATA_ITEMS {
            return Err(format!(
                "exceeded the pending data items allowed (new {items}, pending {pending}, max {MAX_PENDING_DATA_ITEMS})"
            ));
        }
        self.pending_items.fetch_add(items, Ordering::AcqRel);
        self.requests.try_send(request).map_err(|_| {
            self.pending_items.fetch_sub(items, Ordering::AcqRel);
            format!("exceeded the {REQUESTS_PER_PEER} requests allowed to wait")
        })
    }
}

/// Why a request got no answer.
enum Failure {
    /// The peer broke a rule; it is disconnected.
    Misbehaved(String),
    /// The answer could not be queued (the peer is going).
    Unsent(PeerError),
}

impl From<PeerError> for Failure {
    fn from(e: PeerError) -> Self {
        Failure::Unsent(e)
    }
}

/// One peer's requests, answered in order, and what the reference's
/// `serverPeer` remembers about them.
struct PeerServer {
    node: Arc<Served>,
    peer: Peer,
    pending_items: Arc<AtomicUsize>,
    init_state_sent: bool,
    addresses_sent: bool,
    /// The last block of a full `getblocks` answer: when the peer fetches
    /// it, an `inv` of the tip tells it to ask for the next batch.
    continue_hash: Option<Hash>,
}

impl PeerServer {
    /// Answers requests until the peer disconnects.
    async fn run(mut self, mut requests: mpsc::Receiver<Message<'static>>) {
        loop {
            let request = tokio::select! {
                r = requests.recv() => match r {
                    Some(r) => r,
                    None => return,
                },
                _ = self.peer.wait_for_disconnect() => return,
            };
            match self.answer(&request).await {
                Ok(()) => {}
                Err(Failure::Misbehaved(reason)) => return drop_peer(&self.peer, &reason),
                Err(Failure::Unsent(e)) => {
                    debug!(peer = %self.peer.addr(), error = %e, "cannot answer");
                }
            }
        }
    }

    async fn answer(&mut self, request: &Message<'static>) -> Result<(), Failure> {
        let pv = self.peer.protocol_version();
        match request {
            Message::GetHeaders(m) => {
                let headers = self
                    .node
                    .chain
                    .locate_headers(&m.block_locator_hashes, &m.hash_stop);
                debug!(peer = %self.peer.addr(), count = headers.len(), "headers");
                self.send(Message::Headers(Headers { headers })).await
            }
            Message::GetBlocks(m) => {
                self.answer_get_blocks(&m.block_locator_hashes, &m.hash_stop)
                    .await
            }
            Message::GetData(m) => self.serve_data(&m.inv_list).await,
            Message::GetInitState(_) => {
                let answer = init_state(&mut self.init_state_sent).map_err(Failure::Misbehaved)?;
                self.send(answer).await
            }
            // Replaced by getinitstate at version 8; the handshake refuses
            // peers below 9, so every getminings here is one the reference
            // bans for (its once-per-peer rule and its empty answer below
            // version 8 cannot be reached).
            Message::GetMiningState(_) => Err(Failure::Misbehaved(format!(
                "sent getminings request with protocol version {pv} >= {}",
                pver::INIT_STATE
            ))),
            // An inventory of an empty mempool is no message at all.
            Message::MemPool(_) => Ok(()),
            Message::GetAddr(_) => self.answer_get_addr(),
            Message::GetCFilter(_) | Message::GetCFHeaders(_) | Message::GetCFTypes(_) => {
                // Version 1 filters are served by no node any more; these
                // decode only from version 6, where the reference bans.
                Err(Failure::Misbehaved(format!(
                    "sent {} request with protocol version {pv} >= {}",
                    request.command(),
                    pver::NODE_CF
                )))
            }
            // No committed filters are kept: the reference ignores requests
            // for filters it does not have.
            Message::GetCFilterV2(_) | Message::GetCFsV2(_) => Ok(()),
            _ => Ok(()),
        }
    }

    async fn send(&self, m: Message<'_>) -> Result<(), Failure> {
        Ok(self.peer.queue_message_wait(&m).await?)
    }

    async fn answer_get_blocks(&mut self, locator: &[Hash], stop: &Hash) -> Result<(), Failure> {
        let inv_list: Vec<InvVect> = self
            .node
            .chain
            .locate_blocks(locator, stop)
            .into_iter()
            .map(|hash| InvVect {
                inv_type: InvType::BLOCK,
                hash,
            })
            .filter(|iv| !self.peer.is_known_inventory(iv))
            .collect();
        let Some(last) = inv_list.last() else {
            return Ok(());
        };
        if inv_list.len() == MAX_BLOCKS_PER_GETBLOCKS {
            self.continue_hash = Some(last.hash);
        }
        self.send(Message::Inv(Inv { inv_list })).await
    }

    fn answer_get_addr(&mut self) -> Result<(), Failure> {
        // Simnet and regnet share no addresses, lest they become public
        // networks; outbound peers get none (fingerprinting); and each
        // peer gets them once.
        let net = self.peer.config().net;
        if matches!(net, CurrencyNet::SimNet | CurrencyNet::RegNet)
            || !self.peer.is_inbound()
            || std::mem::replace(&mut self.addresses_sent, true)
        {
            return Ok(());
        }
        self.peer.push_addresses(&self.node.addresses)?;
        Ok(())
    }

    /// Sends each block asked for in turn, then one `notfound` for every
    /// block, transaction and mix message not held.
    async fn serve_data(&mut self, items: &[InvVect]) -> Result<(), Failure> {
        let mut missing = Vec::new();
        for iv in items {
            self.pending_items.fetch_sub(1, Ordering::AcqRel);
            let raw = match iv.inv_type {
                InvType::BLOCK => self.node.chain.block(&iv.hash),
                // No mempool and no mixing pool: never held.
                InvType::TX | InvType::MIX => None,
                other => {
                    warn!(peer = %self.peer.addr(), inv_type = other.0, "unknown type in getdata");
                    continue;
                }
            };
            let Some(raw) = raw else {
                missing.push(*iv);
                continue;
            };
            // The store validated every block when it was built.
            let block =
                Block::from_bytes(raw, self.peer.protocol_version()).map_err(PeerError::from)?;
            self.send(Message::Block(block)).await?;
            if self.continue_hash == Some(iv.hash) {
                self.continue_hash = None;
                let tip = InvVect {
                    inv_type: InvType::BLOCK,
                    hash: self.node.chain.tip().0,
                };
                self.send(Message::Inv(Inv {
                    inv_list: vec![tip],
                }))
                .await?;
            }
        }
        if !missing.is_empty() {
            self.send(Message::NotFound(NotFound { inv_list: missing }))
                .await?;
        }
        Ok(())
    }
}
