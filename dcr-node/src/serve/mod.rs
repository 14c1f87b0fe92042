//! Serving a chain to peers the way dcrd's server (`server.go`, the
//! `serverPeer.On*` handlers) answers them when it has a chain and no
//! mempool and no mixing pool.
//!
//! The rules are I/O-free ([`rules`]: a message in, the answer and a
//! [`Verdict`] out); this module runs them for every peer of an event
//! channel and applies the verdicts through a [`Sanctions`] seam
//! ([`verdict`]). Like dcrd:
//!
//! - every request but `getdata` is answered as it arrives, in order,
//!   queued without waiting (dcrd answers them in the peer's input
//!   handler); the peer's own output bound (dcrd's 40 MiB) is what stops
//!   a remote that asks and never reads;
//! - `getdata` messages wait in a queue of their own, at most
//!   [`MAX_CONCURRENT_GETDATA`] of them and [`MAX_PENDING_DATA_ITEMS`]
//!   items, served in turn by a task per peer that waits for room in the
//!   peer's queue before each block (dcrd's `serveGetData`), so a slow
//!   client slows its own blocks, never another peer's;
//! - each peer is sent `sendheaders` before anything else (dcrd's
//!   `serverPeer.Run`, [`welcome`]): as soon as it is handed over on the
//!   channel of new peers, or before the first answer, whichever comes
//!   first.

pub mod rules;
pub mod verdict;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use dcr_peer::{Config, Hooks, Peer, PeerError, PeerEvent};
use dcr_wire::{
    Block, CurrencyNet, Hash, Inv, InvType, InvVect, Message, NetAddressV2, NotFound, SendHeaders,
    ServiceFlags,
};
use tokio::sync::mpsc;
use tracing::{debug, info, warn};

pub use rules::{
    Action, Lookup, Outcome, PeerState, PeerView, MAX_CONCURRENT_GETDATA, MAX_PENDING_DATA_ITEMS,
};
pub use verdict::{
    verdict_for_disconnect, ConnectionScore, DisconnectOnly, Fate, ManagerSanctions, Offence,
    Sanctions, Verdict, DEFAULT_BAN_THRESHOLD,
};

use crate::store::ChainStore;

/// Settings for a node of these tools named `name` (its user agent carries
/// the crate's version).
pub fn node_config(net: CurrencyNet, name: &str) -> Config {
    let mut c = Config::new(net);
    c.user_agent_name = name.into();
    c.user_agent_version = env!("CARGO_PKG_VERSION").into();
    c
}

/// Settings for a node that serves a chain: it advertises full blocks
/// (`SFNodeNetwork`). Full nodes require that service of the peers they
/// dial: dcrd drops an outbound peer without it right after the version
/// exchange.
pub fn serving_config(net: CurrencyNet, name: &str) -> Config {
    let mut c = node_config(net, name);
    c.services = ServiceFlags::NODE_NETWORK;
    c
}

/// The wiring of a node that serves `chain`: its tip is the height its
/// version message announces.
pub fn serving_hooks(chain: &ChainStore) -> Hooks {
    let tip = chain.tip();
    Hooks::new().with_newest_block(move || tip)
}

/// What a serving node has to give.
#[derive(Debug, Clone)]
pub struct Served {
    /// The blocks, their filters and the locator rules.
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

/// What dcrd's server sends every peer, inbound and outbound, once its
/// handshake is done and before anything else (`serverPeer.Run`): a
/// `sendheaders`, asking for block announcements as headers. The serving
/// loop sends it to each peer it serves; other nodes around a peer call
/// it themselves.
pub fn welcome(peer: &Peer) -> Result<(), PeerError> {
    peer.queue_message(&Message::SendHeaders(SendHeaders))
}

/// Answers the requests arriving on `events` from `chain` until every
/// sender is gone (a node that knows no addresses).
pub async fn serve_chain(chain: Arc<ChainStore>, events: mpsc::Receiver<PeerEvent>) {
    serve(Arc::new(Served::new(chain)), events).await
}

/// [`serve_with`] the sanctions of a node without a ban list
/// ([`DisconnectOnly`]), told of peers by their first message only.
pub async fn serve(node: Arc<Served>, events: mpsc::Receiver<PeerEvent>) {
    serve_with(node, events, None, DisconnectOnly::default()).await
}

/// How many events and peers handed over go by between sweeps of
/// departed peers' state.
const SWEEP_EVERY: usize = 256;

/// Answers what arrives on `events` by dcrd's rules until every sender is
/// gone, applying verdicts through `sanctions`: in order, stopping at the
/// first that ends the peer, before any answer. Peers handed over on
/// `peers` as their handshake completes are sent `sendheaders` at once;
/// any other peer just before its first answer.
pub async fn serve_with(
    node: Arc<Served>,
    events: mpsc::Receiver<PeerEvent>,
    peers: Option<mpsc::Receiver<Peer>>,
    sanctions: impl Sanctions,
) {
    run(node, events, peers, true, sanctions).await
}

/// [`serve_with`] for peers their owner has already sent [`welcome`] as
/// their handshake completed (the connection manager's per-peer hook,
/// which runs before the manager sends the peer anything, as dcrd queues
/// `sendheaders` before `AddPeer`): nothing is sent unasked.
pub async fn serve_welcomed(
    node: Arc<Served>,
    events: mpsc::Receiver<PeerEvent>,
    sanctions: impl Sanctions,
) {
    run(node, events, None, false, sanctions).await
}

async fn run(
    node: Arc<Served>,
    mut events: mpsc::Receiver<PeerEvent>,
    mut peers: Option<mpsc::Receiver<Peer>>,
    welcome: bool,
    mut sanctions: impl Sanctions,
) {
    let mut conns: HashMap<u64, Conn> = HashMap::new();
    let mut since_sweep = 0;
    loop {
        let (peer, message) = tokio::select! {
            p = async { peers.as_mut()?.recv().await }, if peers.is_some() => {
                match p {
                    Some(p) => {
                        conns.entry(p.id()).or_insert_with(|| Conn::new(p.clone(), welcome));
                        // Peers handed over count toward the sweep as
                        // events do: a stream of peers that handshake and
                        // leave without a message is swept too.
                        sweep_every(&mut since_sweep, &mut conns, &mut sanctions);
                    }
                    None => peers = None,
                }
                continue;
            }
            ev = events.recv() => match ev {
                Some(PeerEvent { peer, message, .. }) => (peer, message),
                None => return,
            },
        };
        sweep_every(&mut since_sweep, &mut conns, &mut sanctions);
        let conn = conns
            .entry(peer.id())
            .or_insert_with(|| Conn::new(peer.clone(), welcome));
        let outcome = conn.on_message(&node.chain, &message);
        if outcome == Outcome::default() {
            info!(peer = %peer.addr(), command = %message.command(), "received");
            continue;
        }
        let mut fate = Fate::Kept;
        for v in &outcome.verdicts {
            fate = sanctions.apply(&peer, v);
            if fate != Fate::Kept {
                break;
            }
        }
        match fate {
            Fate::Kept => {}
            Fate::Gone => {
                conns.remove(&peer.id());
                sanctions.forget(peer.id());
                continue;
            }
            Fate::Stopped => continue,
        }
        for action in outcome.actions {
            if let Err(e) = conn.act(&node, action) {
                debug!(peer = %peer.addr(), error = %dcr_wire::Report(&e), "cannot answer");
            }
        }
    }
}

/// Counts one event or peer handed over; every [`SWEEP_EVERY`], forgets
/// the connections that are gone (theirs and their sanctions' state):
/// what is kept is at most the connected peers and those gone within the
/// last [`SWEEP_EVERY`] arrivals.
fn sweep_every(
    since_sweep: &mut usize,
    conns: &mut HashMap<u64, Conn>,
    sanctions: &mut impl Sanctions,
) {
    *since_sweep += 1;
    if *since_sweep < SWEEP_EVERY {
        return;
    }
    *since_sweep = 0;
    conns.retain(|id, c| {
        let keep = c.peer.is_connected();
        if !keep {
            sanctions.forget(*id);
        }
        keep
    });
}

/// One connection: the rules' state and the `getdata` queue.
struct Conn {
    peer: Peer,
    state: PeerState,
    /// Started at the first `getdata`.
    worker: Option<Worker>,
    shared: Arc<Shared>,
}

/// What the connection's `getdata` task shares with the rules.
#[derive(Default)]
struct Shared {
    /// Data items queued and not yet served (dcrd's
    /// `numPendingGetDataItemReqs`).
    pending_items: AtomicUsize,
    /// The last block of a full `getblocks` answer (dcrd's
    /// `continueHash`).
    continue_hash: Mutex<Option<Hash>>,
}

impl Shared {
    fn continue_hash(&self) -> std::sync::MutexGuard<'_, Option<Hash>> {
        self.continue_hash
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The queue of one peer's `getdata` messages, served by its own task.
struct Worker {
    requests: mpsc::Sender<Vec<InvVect>>,
}

impl Conn {
    /// A connection first seen: the peer is sent `sendheaders` unless
    /// its owner sent it (`send_welcome` false).
    fn new(peer: Peer, send_welcome: bool) -> Conn {
        if send_welcome {
            if let Err(e) = welcome(&peer) {
                debug!(peer = %peer.addr(), error = %dcr_wire::Report(&e), "cannot send sendheaders");
            }
        }
        Conn {
            peer,
            state: PeerState::default(),
            worker: None,
            shared: Arc::new(Shared::default()),
        }
    }

    fn on_message(&mut self, chain: &ChainStore, msg: &Message<'_>) -> Outcome {
        let peer = &self.peer;
        let waiting = self
            .worker
            .as_ref()
            .map_or(0, |w| w.requests.max_capacity() - w.requests.capacity());
        let known = |iv: &InvVect| peer.is_known_inventory(iv);
        let view = PeerView {
            net: peer.config().net,
            pver: peer.protocol_version(),
            inbound: peer.is_inbound(),
            connected: peer.is_connected(),
            waiting_getdata: waiting,
            pending_items: self.shared.pending_items.load(Ordering::Acquire),
            known_inventory: &known,
        };
        rules::on_message(chain, &mut self.state, &view, msg)
    }

    fn act(&mut self, node: &Arc<Served>, action: Action) -> Result<(), PeerError> {
        match action {
            Action::Send(m) => self.peer.queue_message(&m),
            Action::SetContinue(h) => {
                *self.shared.continue_hash() = Some(h);
                Ok(())
            }
            Action::PushAddresses => self.peer.push_addresses(&node.addresses).map(|_| ()),
            Action::MarkKnown(vectors) => {
                for iv in vectors {
                    self.peer.add_known_inventory(iv);
                }
                Ok(())
            }
            Action::ServeData(items) => {
                let n = items.len();
                let worker = self.worker.get_or_insert_with(|| {
                    let (requests, rx) = mpsc::channel(MAX_CONCURRENT_GETDATA);
                    let server = DataServer {
                        node: node.clone(),
                        peer: self.peer.clone(),
                        shared: self.shared.clone(),
                    };
                    tokio::spawn(server.run(rx));
                    Worker { requests }
                });
                self.shared.pending_items.fetch_add(n, Ordering::AcqRel);
                // The rules checked the room: only a peer gone fails here.
                if worker.requests.try_send(items).is_err() {
                    self.shared.pending_items.fetch_sub(n, Ordering::AcqRel);
                }
                Ok(())
            }
        }
    }
}

/// Serves one peer's `getdata` messages in turn (dcrd's `serveGetData`
/// and `handleServeGetData`).
struct DataServer {
    node: Arc<Served>,
    peer: Peer,
    shared: Arc<Shared>,
}

impl DataServer {
    async fn run(self, mut requests: mpsc::Receiver<Vec<InvVect>>) {
        loop {
            let items = tokio::select! {
                r = requests.recv() => match r {
                    Some(r) => r,
                    None => return,
                },
                _ = self.peer.wait_for_disconnect() => return,
            };
            if let Err(e) = self.serve(&items).await {
                debug!(peer = %self.peer.addr(), error = %dcr_wire::Report(&e), "cannot answer");
            }
        }
    }

    /// Sends each block asked for in turn, waiting for room in the peer's
    /// queue, then one `notfound` for every block, transaction and mix
    /// message not held.
    async fn serve(&self, items: &[InvVect]) -> Result<(), PeerError> {
        let mut missing = Vec::new();
        for iv in items {
            match rules::lookup(&self.node.chain, iv) {
                Lookup::Block(raw) => {
                    // The store validated every block when it was built.
                    let block = Block::from_bytes(raw, self.peer.protocol_version())?;
                    self.shared.pending_items.fetch_sub(1, Ordering::AcqRel);
                    self.peer.queue_message_wait(&Message::Block(block)).await?;
                    let continues = {
                        let mut c = self.shared.continue_hash();
                        (*c == Some(iv.hash)).then(|| c.take()).is_some()
                    };
                    if continues {
                        let tip = InvVect {
                            inv_type: InvType::BLOCK,
                            hash: self.node.chain.tip().0,
                        };
                        self.peer.queue_message(&Message::Inv(Inv {
                            inv_list: vec![tip],
                        }))?;
                    }
                }
                Lookup::NotFound => {
                    self.shared.pending_items.fetch_sub(1, Ordering::AcqRel);
                    missing.push(*iv);
                }
                Lookup::Skipped => {
                    warn!(peer = %self.peer.addr(), inv_type = iv.inv_type.0, "unknown type in getdata");
                }
            }
        }
        if !missing.is_empty() {
            self.peer
                .queue_message(&Message::NotFound(NotFound { inv_list: missing }))?;
        }
        Ok(())
    }
}

/// Passes `events` on, answering on the way what a node that serves
/// nothing still owes its peers: `getinitstate` (an empty `initstate`,
/// once; a second one disconnects). dcrd asks each peer once its chain is
/// current and drops one that has not answered in 30 s ("deadline
/// exceeded for initstate"). For clients such as `dcrpeer connect` and
/// `dcrpeer node`, whose consumers read only what they asked for; the
/// channel returned holds `capacity` events.
pub fn answer_as_client(
    mut events: mpsc::Receiver<PeerEvent>,
    capacity: usize,
) -> mpsc::Receiver<PeerEvent> {
    let (tx, rx) = mpsc::channel(capacity);
    tokio::spawn(async move {
        // The peers answered, while they are connected.
        let mut answered: HashMap<u64, (Peer, PeerState)> = HashMap::new();
        while let Some(event) = events.recv().await {
            if let Message::GetInitState(_) = event.message {
                let peer = &event.peer;
                answered.retain(|_, (p, _)| p.is_connected());
                let (_, state) = answered
                    .entry(peer.id())
                    .or_insert_with(|| (peer.clone(), PeerState::default()));
                let outcome = rules::get_init_state(state);
                if let Some(v) = outcome.verdicts.first() {
                    warn!(peer = %peer.addr(), reason = %v.offence(), "misbehaving peer; disconnecting");
                    peer.disconnect();
                }
                for a in outcome.actions {
                    if let Action::Send(m) = a {
                        if let Err(e) = peer.queue_message(&m) {
                            debug!(peer = %peer.addr(), error = %dcr_wire::Report(&e), "cannot answer");
                        }
                    }
                }
            }
            if tx.send(event).await.is_err() {
                return;
            }
        }
    });
    rx
}
