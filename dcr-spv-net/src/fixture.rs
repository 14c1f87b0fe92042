//! A serving peer for tests and benchmarks: a chain of headers that pass
//! every rule, each committing to its filter (DCP-0005), served over a
//! real connection as dcrd serves them (`getheaders`, `getcfilterv2`,
//! `getcfsv2`, `getdata` for blocks, `getinitstate`), honestly or with
//! one of the faults a light client must survive ([`Behaviour`]).
//!
//! Not a node: it keeps everything in memory and answers from it.
//! [`FixtureChain::build`] makes a chain with blocks (one coinbase each,
//! paying a script of the caller's choice), [`FixtureChain::headers_only`]
//! a long one without (for benchmarks), [`FixtureChain::from_parts`] wraps
//! a chain someone else made (a real node's).

use std::borrow::Cow;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::SystemTime;

use dcr_peer::{Config, Hooks, Peer, PeerEvent, RecentNonces};
use dcr_spv::gcs;
use dcr_spv::pow::check_proof_of_work;
use dcr_spv::synthetic::ChainBuilder;
use dcr_spv::Params;
use dcr_wire::msg::MAX_BLOCK_HEADERS_PER_MSG;
use dcr_wire::{
    pver, Block, BlockHeader, CFilterV2, CFiltersV2, CurrencyNet, Hash, Headers, InitState, Inv,
    InvType, InvVect, Message, NotFound, OutPoint, ServiceFlags, Tx, TxIn, TxOut,
};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// A chain to serve: headers from genesis, each block's filter, and the
/// blocks themselves when kept.
#[derive(Debug, Clone)]
pub struct FixtureChain {
    /// The network.
    pub params: Params,
    /// Headers, genesis first.
    pub headers: Vec<BlockHeader>,
    /// Their hashes.
    pub hashes: Vec<Hash>,
    /// Each block's filter (the genesis block's is empty).
    pub filters: Vec<Vec<u8>>,
    /// Serialized blocks by hash (none for a headers-only chain).
    pub blocks: HashMap<Hash, Vec<u8>>,
    index: HashMap<Hash, u32>,
    /// A header extending the tip whose proof of work fails.
    bad_tip: BlockHeader,
    /// A valid header two past the tip: its parent is never served
    /// (chains made by [`FixtureChain::build`] and forks only).
    orphan: Option<BlockHeader>,
    /// A valid header extending the tip, stamped three hours ahead of
    /// the clock when the chain was made (chains made by
    /// [`FixtureChain::build`] and forks only).
    future_tip: Option<BlockHeader>,
    /// The builder of a chain made here, for forks.
    builder: Option<ChainBuilder>,
}

/// A coinbase-like transaction at `height` paying `script`.
fn coinbase(height: u32, script: &[u8]) -> Tx<'static> {
    let mut tx = Tx::new();
    let mut input = TxIn::new(
        OutPoint::new(Hash::ZERO, u32::MAX, 0),
        5_000_000_000,
        height.to_le_bytes().to_vec(),
    );
    input.block_height = height;
    tx.inputs.push(input);
    tx.outputs.push(TxOut::new(5_000_000_000, script.to_vec()));
    tx
}

/// A P2PKH script no one watches, different at each height.
pub fn filler_script(height: u32) -> Vec<u8> {
    let mut s = vec![0x76, 0xa9, 0x14];
    s.extend_from_slice(&height.to_le_bytes());
    s.extend_from_slice(&[0x11; 16]);
    s.extend_from_slice(&[0x88, 0xac]);
    s
}

impl FixtureChain {
    /// `n` blocks on `params`' genesis, block `h` paying `pay(h)` from
    /// its coinbase; its filter holds that script, its header commits to
    /// the filter (a version 1 commitment root: the filter hash) and to
    /// the block (DCP-0005's combined merkle root).
    pub fn build(params: &Params, n: u32, pay: impl Fn(u32) -> Vec<u8>) -> FixtureChain {
        FixtureChain::extend(ChainBuilder::new(params), params, n, pay, true)
    }

    /// A fork of this chain: its first `at` blocks (genesis included),
    /// then `n` blocks of its own paying `pay`.
    pub fn fork(&self, at: u32, n: u32, pay: impl Fn(u32) -> Vec<u8>) -> FixtureChain {
        let mut builder = match &self.builder {
            Some(b) => b.fork_at(at),
            None => ChainBuilder::new(&self.params),
        };
        // Blocks of its own from the fork on, whatever they pay.
        builder.spacing += 1;
        let mut fork = FixtureChain::extend(builder, &self.params, n, pay, true);
        // The shared part keeps its blocks and filters.
        for h in 1..=at as usize {
            fork.filters[h] = self.filters[h].clone();
            if let Some(b) = self.blocks.get(&self.hashes[h]) {
                fork.blocks.insert(self.hashes[h], b.clone());
            }
        }
        fork
    }

    /// `n` headers on `params`' genesis with filters and no blocks: the
    /// long chains of benchmarks.
    pub fn headers_only(params: &Params, n: u32) -> FixtureChain {
        FixtureChain::extend(ChainBuilder::new(params), params, n, filler_script, false)
    }

    fn extend(
        mut builder: ChainBuilder,
        params: &Params,
        n: u32,
        pay: impl Fn(u32) -> Vec<u8>,
        with_blocks: bool,
    ) -> FixtureChain {
        let start = builder.headers().len() as u32;
        let mut blocks = HashMap::new();
        let mut filters = vec![Vec::new(); start as usize];
        for height in start..start + n {
            let script = pay(height);
            let (merkle_root, block) = if with_blocks {
                let block = Block::new(BlockHeader::default(), &[coinbase(height, &script)], &[]);
                (
                    dcr_wire::merkle::combined_tx_tree_merkle_root(&block),
                    Some(block),
                )
            } else {
                (dcr_wire::blake256(&height.to_le_bytes()), None)
            };
            let filter = gcs::build(&gcs::key(&merkle_root), &[&script]);
            let commitment = gcs::proof::commitment_root_v1(gcs::filter_hash(&filter));
            let header = builder.next(|h| {
                h.merkle_root = merkle_root;
                h.stake_root = commitment;
            });
            if let Some(mut block) = block {
                block.header = header;
                let mut bytes = Vec::new();
                // Built from valid parts: encoding cannot fail.
                let _ = dcr_wire::Message::Block(block).encode(&mut bytes, pver::CURRENT);
                blocks.insert(header.block_hash(), bytes);
            }
            filters.push(filter);
        }
        let bad_tip = bad_proof_of_work(&mut builder.clone(), params);
        let headers = builder.headers().to_vec();
        let mut chain = FixtureChain::assemble(params.clone(), headers, filters, blocks, bad_tip);
        let mut ahead = builder.clone();
        ahead.next(|_| {});
        chain.orphan = Some(ahead.next(|_| {}));
        let three_hours_ahead = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
            + 3 * 3600;
        chain.future_tip = Some(
            builder
                .clone()
                .next(|h| h.timestamp = u32::try_from(three_hours_ahead).unwrap_or(u32::MAX)),
        );
        chain.builder = Some(builder);
        chain
    }

    /// A chain made elsewhere: `headers` from genesis, a filter for each,
    /// and whatever blocks are at hand.
    pub fn from_parts(
        params: Params,
        headers: Vec<BlockHeader>,
        filters: Vec<Vec<u8>>,
        blocks: HashMap<Hash, Vec<u8>>,
    ) -> FixtureChain {
        let tip = headers.last().copied().unwrap_or(params.genesis_header);
        let mut bad_tip = BlockHeader {
            prev_block: tip.block_hash(),
            height: tip.height + 1,
            timestamp: tip.timestamp + 1,
            ..tip
        };
        fail_proof_of_work(&mut bad_tip, &params);
        FixtureChain::assemble(params, headers, filters, blocks, bad_tip)
    }

    fn assemble(
        params: Params,
        headers: Vec<BlockHeader>,
        filters: Vec<Vec<u8>>,
        blocks: HashMap<Hash, Vec<u8>>,
        bad_tip: BlockHeader,
    ) -> FixtureChain {
        let hashes: Vec<Hash> = headers.iter().map(BlockHeader::block_hash).collect();
        let index = hashes
            .iter()
            .enumerate()
            .map(|(i, h)| (*h, i as u32))
            .collect();
        FixtureChain {
            params,
            headers,
            hashes,
            filters,
            blocks,
            index,
            bad_tip,
            orphan: None,
            future_tip: None,
            builder: None,
        }
    }

    /// The tip's height.
    pub fn height(&self) -> u32 {
        self.headers.len() as u32 - 1
    }

    /// A header extending the tip whose proof of work fails (what
    /// [`Behaviour::BadProofOfWork`] serves).
    pub fn bad_tip(&self) -> BlockHeader {
        self.bad_tip
    }

    /// The headers after the first locator hash on this chain (after
    /// genesis when none is), up to `stop` or 2000 (dcrd's
    /// `LocateHeaders`).
    pub fn locate(&self, locator: &[Hash], stop: &Hash) -> &[BlockHeader] {
        let start = locator
            .iter()
            .find_map(|h| self.index.get(h))
            .map_or(1, |h| h + 1) as usize;
        let mut end = (start + MAX_BLOCK_HEADERS_PER_MSG as usize).min(self.headers.len());
        if let Some(&s) = self.index.get(stop) {
            if s as usize >= start {
                end = end.min(s as usize + 1);
            }
        }
        self.headers.get(start..end).unwrap_or(&[])
    }

    fn cfilter(&self, height: u32, alter: bool) -> CFilterV2<'static> {
        let mut data = self.filters[height as usize].clone();
        if alter && height > 0 {
            // Still a filter (the count is intact), no longer the one
            // committed to.
            match data.last_mut() {
                Some(b) => *b ^= 0x01,
                None => data = vec![0x00],
            }
        }
        CFilterV2 {
            block_hash: self.hashes[height as usize],
            data: Cow::Owned(data),
            proof_index: gcs::proof::FILTER_PROOF_INDEX,
            proof_hashes: Vec::new(),
        }
    }
}

/// The next header of `builder`'s chain, with a nonce its proof of work
/// fails under either hash.
fn bad_proof_of_work(builder: &mut ChainBuilder, params: &Params) -> BlockHeader {
    let mut h = builder.next(|_| {});
    fail_proof_of_work(&mut h, params);
    h
}

fn fail_proof_of_work(h: &mut BlockHeader, params: &Params) {
    for nonce in 0u32.. {
        h.nonce = nonce;
        let v1 = check_proof_of_work(&h.block_hash(), h.bits, params.pow_limit).is_err();
        let v2 = check_proof_of_work(&h.pow_hash_v2(), h.bits, params.pow_limit).is_err();
        if v1 && v2 {
            return;
        }
    }
}

/// How a fixture peer behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    /// Answers as dcrd does.
    Honest,
    /// Serves every filter after genesis altered: it decodes, and does
    /// not prove into its header.
    AlterFilters,
    /// Whenever its answer to `getheaders` reaches its tip (or is empty
    /// there), adds a header extending the tip whose proof of work fails.
    BadProofOfWork,
    /// Whenever its answer to `getheaders` reaches its tip (or is empty
    /// there), answers with one valid header whose parent it never serves
    /// instead: an orphan, as no dcrd sends.
    OrphanAtTip,
    /// Whenever its answer to `getheaders` reaches its tip (or is empty
    /// there), adds a valid header extending the tip stamped three hours
    /// ahead of the clock (dcrd's limit is two): valid later, not now.
    FutureTip,
    /// Answers `getheaders` with one header at a time (its first), below
    /// the height it advertised: a peer that drips headers.
    DripHeaders,
    /// Completes the handshake and answers nothing (pings aside, which
    /// the connection answers itself).
    Silent,
    /// Answers everything but filter requests, which it leaves
    /// unanswered: a peer that passes the first checks and then sits on
    /// its share of the job.
    SilentOnFilters,
}

/// A fixture peer listening on loopback.
#[derive(Debug)]
pub struct Fixture {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its task.
    pub task: tokio::task::JoinHandle<()>,
    control: mpsc::Sender<Control>,
}

/// What a test has a running fixture do.
#[derive(Debug)]
enum Control {
    /// Serve this chain from now on.
    Switch(Arc<FixtureChain>),
    /// Send this to every connected peer.
    Send(Box<Message<'static>>),
}

impl Fixture {
    /// Serves `chain` from now on (a longer one, or a fork), announcing
    /// nothing.
    pub async fn switch(&self, chain: Arc<FixtureChain>) {
        let _ = self.control.send(Control::Switch(chain)).await;
    }

    /// Announces `headers` to every connected peer as a `headers`
    /// message (dcrd's announcement to a peer that sent `sendheaders`).
    pub async fn announce_headers(&self, headers: Vec<BlockHeader>) {
        let m = Message::Headers(Headers { headers });
        let _ = self.control.send(Control::Send(Box::new(m))).await;
    }

    /// Announces `blocks` to every connected peer as an `inv` (dcrd's
    /// announcement to the others).
    pub async fn announce_inv(&self, blocks: &[Hash]) {
        let inv_list = blocks
            .iter()
            .map(|&hash| InvVect {
                inv_type: InvType::BLOCK,
                hash,
            })
            .collect();
        let m = Message::Inv(Inv { inv_list });
        let _ = self.control.send(Control::Send(Box::new(m))).await;
    }
}

/// Serves `chain` on 127.0.0.1 (any port) as `behaviour` says.
pub async fn serve(
    net: CurrencyNet,
    chain: Arc<FixtureChain>,
    behaviour: Behaviour,
) -> std::io::Result<Fixture> {
    serve_at(IpAddr::from([127, 0, 0, 1]), net, chain, behaviour).await
}

/// [`serve`] on `ip` (any port). A connection manager bans by IP, as
/// dcrd does: fixtures meant to be banned while others stay need
/// addresses of their own (127.0.0.2, 127.0.0.3, ... are loopback too).
pub async fn serve_at(
    ip: IpAddr,
    net: CurrencyNet,
    chain: Arc<FixtureChain>,
    behaviour: Behaviour,
) -> std::io::Result<Fixture> {
    let listener = TcpListener::bind(SocketAddr::new(ip, 0)).await?;
    let addr = listener.local_addr()?;
    let (tx, mut rx) = mpsc::channel::<PeerEvent>(1024);
    let mut config = Config::new(net);
    config.services = ServiceFlags::NODE_NETWORK;
    config.user_agent_name = "fixture".into();
    let tip = chain.height() as i32;
    let hooks = Hooks::new()
        .with_events(tx)
        .with_nonces(RecentNonces::new())
        .with_newest_block(move || (Hash::ZERO, i64::from(tip)));
    let mut accepted = dcr_peer::net::serve(listener, config, hooks);
    let (control, mut controls) = mpsc::channel::<Control>(16);
    let task = tokio::spawn(async move {
        let mut chain = chain;
        // Tests that keep only the address drop the controls.
        let mut controlled = true;
        let mut peers: Vec<Peer> = Vec::new();
        loop {
            tokio::select! {
                p = accepted.recv() => match p {
                    Some(p) => peers.push(p),
                    None => return,
                },
                c = controls.recv(), if controlled => match c {
                    Some(Control::Switch(c)) => chain = c,
                    Some(Control::Send(m)) => {
                        peers.retain(Peer::is_connected);
                        for p in &peers {
                            let _ = p.queue_message_wait(&m).await;
                        }
                    }
                    None => controlled = false,
                },
                ev = rx.recv() => match ev {
                    Some(ev) if behaviour != Behaviour::Silent => answer(&chain, behaviour, ev).await,
                    Some(_) => {}
                    None => return,
                },
            }
        }
    });
    Ok(Fixture {
        addr,
        task,
        control,
    })
}

/// Answers one message as dcrd would, with `behaviour`'s fault.
async fn answer(chain: &FixtureChain, behaviour: Behaviour, ev: PeerEvent) {
    let alter = behaviour == Behaviour::AlterFilters;
    let filters = behaviour != Behaviour::SilentOnFilters;
    let reply = match &ev.message {
        Message::GetHeaders(g) => {
            let mut headers = chain.locate(&g.block_locator_hashes, &g.hash_stop).to_vec();
            let to_tip = match headers.last() {
                Some(h) => h.height == chain.height(),
                None => g.block_locator_hashes.first() == chain.hashes.last(),
            };
            if behaviour == Behaviour::DripHeaders {
                headers.truncate(1);
            }
            if to_tip && headers.len() < 2000 {
                match (behaviour, chain.orphan, chain.future_tip) {
                    (Behaviour::BadProofOfWork, _, _) => headers.push(chain.bad_tip),
                    (Behaviour::OrphanAtTip, Some(orphan), _) => headers = vec![orphan],
                    (Behaviour::FutureTip, _, Some(future)) => headers.push(future),
                    _ => {}
                }
            }
            Some(Message::Headers(Headers { headers }))
        }
        Message::GetCFilterV2(_) | Message::GetCFsV2(_) if !filters => None,
        Message::GetCFilterV2(g) => chain
            .index
            .get(&g.block_hash)
            .map(|&h| Message::CFilterV2(chain.cfilter(h, alter))),
        Message::GetCFsV2(g) => {
            match (chain.index.get(&g.start_hash), chain.index.get(&g.end_hash)) {
                (Some(&s), Some(&e)) if s <= e && e - s < 100 => {
                    Some(Message::CFiltersV2(CFiltersV2 {
                        cfilters: (s..=e).map(|h| chain.cfilter(h, alter)).collect(),
                    }))
                }
                _ => None,
            }
        }
        Message::GetData(g) => {
            let mut missing = Vec::new();
            for iv in &g.inv_list {
                let block = (iv.inv_type == InvType::BLOCK)
                    .then(|| chain.blocks.get(&iv.hash))
                    .flatten()
                    .and_then(|raw| Block::from_bytes(raw, pver::CURRENT).ok());
                match block {
                    Some(b) => {
                        let _ = ev.peer.queue_message_wait(&Message::Block(b)).await;
                    }
                    None => missing.push(*iv),
                }
            }
            (!missing.is_empty()).then_some(Message::NotFound(NotFound { inv_list: missing }))
        }
        Message::GetInitState(_) => Some(Message::InitState(InitState::default())),
        _ => None,
    };
    if let Some(m) = reply {
        let _ = ev.peer.queue_message_wait(&m).await;
    }
}
