//! dcrd's server rules for what a peer sends, without I/O: each message
//! in, what to send back and a [`Verdict`] out (dcrd `server.go`,
//! `serverPeer.On*`). The runner ([`super::serve_with`]) applies the
//! verdicts in order, stops at the first that ends the peer, and only then
//! carries out the actions, as dcrd's handlers return early when
//! `addBanScore` bans.
//!
//! | message | rule (dcrd handler) |
//! | --- | --- |
//! | `getheaders` | empty `headers` while the tip has less work than the network's `MinKnownChainWork`; else [`ChainStore::locate_headers`] (`OnGetHeaders`) |
//! | `getblocks` | `inv` of [`ChainStore::locate_blocks`] less known inventory, nothing when none is left; a full answer sets the continue hash (`OnGetBlocks`) |
//! | `getdata` | empty: ban; score 0/(n·99/50000); more than 1000 waiting: disconnect; more than 100,000 items waiting: disconnect; else served in turn (`OnGetData`) |
//! | `getinitstate` | a second one: ban; else an empty `initstate` (`OnGetInitState`) |
//! | `getminings` | from version 8: ban; a second one: ban; else nothing (`OnGetMiningState`) |
//! | `initstate` | a second initial state: ban (`OnInitState`) |
//! | `miningstate` | from version 8: ban; a second initial state: ban (`OnMiningState`) |
//! | `mempool` | score 0/33; the inventory of an empty mempool is nothing (`OnMemPool`) |
//! | `getaddr` | never on simnet or regnet, nor to outbound peers, once per connection (`OnGetAddr`) |
//! | `getcfilter`, `getcfheaders`, `getcftypes` | from version 6: ban; below: disconnect (`enforceNodeCFFlag`) |
//! | `getcfilterv2` | the block's filter and proof, if held; else nothing (`OnGetCFilterV2`) |
//! | `getcfsv2` | the filters from start to end when start is an ancestor of end, at most 100, all held; else nothing (`OnGetCFiltersV2`) |
//! | `inv` | empty: ban (`OnInv`); else its block, tx and mix vectors marked known to the peer ([`announced`], the sync manager's `OnInv`) |
//! | `notfound` | ignored once disconnecting; an unknown type: disconnect; blocks 20·n persistent, txs and mix 10·n transient (`OnNotFound`) |
//! | `addr` | ignored on simnet and regnet; empty: ban (`OnAddr`) |
//! | `addrv2` | ignored on simnet and regnet or once disconnecting; an entry typed IPv6 holding an IPv4-mapped address: ban (`OnAddrV2`) |
//! | mix messages | ignored: not kept, not relayed, not scored (dcrd's `onMixMessage` hands them to its mix pool, which bans for malformed ones; this node has none, so it takes no part in mixing) |
//! | `block` | disconnect: this node requests no blocks, and dcrd's sync manager disconnects a peer that sends one it did not request (`SyncManager.OnBlock`) |
//! | `headers`, `tx` | ignored (dcrd hands them to its sync manager; this node serves a fixed chain) |

use dcr_wire::msg::MAX_CFILTERS_V2_PER_BATCH;
use dcr_wire::msg::MAX_INV_PER_MSG;
use dcr_wire::{
    pver, Addr, AddrV2, CFiltersV2, Command, CurrencyNet, GetData, Hash, Headers, InitState, Inv,
    InvType, InvVect, Message, NetAddressV2Host, NotFound,
};

use super::verdict::{Offence, Verdict};
use crate::store::{ChainStore, MAX_BLOCKS_PER_GETBLOCKS};
use crate::work::{min_known_chain_work, Work};

/// `getdata` messages one peer may have waiting to be served (dcrd's
/// `maxConcurrentGetDataReqs`); one more disconnects it.
pub const MAX_CONCURRENT_GETDATA: usize = 1000;

/// Data items (`getdata` entries) one peer may have waiting (dcrd's
/// `maxPendingGetDataItemReqs`, two full messages); more disconnect it.
pub const MAX_PENDING_DATA_ITEMS: usize = 2 * MAX_INV_PER_MSG as usize;

/// What the rules remember of one connection (dcrd's `serverPeer`
/// fields of the same names).
#[derive(Debug, Clone, Default)]
pub struct PeerState {
    /// `initStateSent`: a `getinitstate` was answered.
    init_state_sent: bool,
    /// `getMiningStateSent`: a `getminings` was answered.
    mining_state_sent: bool,
    /// `initStateReceived`: an `initstate` or `miningstate` came.
    init_state_received: bool,
    /// `addrsSent`: a `getaddr` was answered.
    addresses_sent: bool,
}

/// What the rules need to know of the peer and its connection now.
pub struct PeerView<'a> {
    /// The peer's network.
    pub net: CurrencyNet,
    /// The negotiated protocol version.
    pub pver: u32,
    /// Whether the peer dialled us.
    pub inbound: bool,
    /// Whether the peer is still connected (not disconnecting).
    pub connected: bool,
    /// `getdata` messages waiting to be served.
    pub waiting_getdata: usize,
    /// Data items of those messages not yet served.
    pub pending_items: usize,
    /// Whether the peer is known to have an inventory item (the peer's
    /// known-inventory filter).
    pub known_inventory: &'a dyn Fn(&InvVect) -> bool,
}

/// What to do for a peer once the verdicts have left it connected.
#[derive(Debug, Clone, PartialEq)]
// Actions live as long as one message's handling: boxing the message
// would add an allocation to every answer.
#[allow(clippy::large_enum_variant)]
pub enum Action {
    /// Queue this message.
    Send(Message<'static>),
    /// Queue these items to be served in turn ([`lookup`]), after the
    /// `getdata` messages already waiting.
    ServeData(Vec<InvVect>),
    /// Remember the last block of a full `getblocks` answer: once it is
    /// served, an `inv` of the tip follows (dcrd's `continueHash`).
    SetContinue(Hash),
    /// Send the peer our known addresses (at most one message's worth).
    PushAddresses,
    /// Mark these vectors known to the peer, so they are never announced
    /// back to it ([`announced`]).
    MarkKnown(Vec<InvVect>),
}

/// The verdicts on a message, to apply in order, and the actions that
/// follow when the peer is still there.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    /// In dcrd's order; the first that ends the peer ends the handling.
    pub verdicts: Vec<Verdict>,
    /// To carry out in order.
    pub actions: Vec<Action>,
}

impl Outcome {
    fn send(m: Message<'static>) -> Outcome {
        Outcome {
            verdicts: Vec::new(),
            actions: vec![Action::Send(m)],
        }
    }

    fn verdict(v: Verdict) -> Outcome {
        Outcome {
            verdicts: vec![v],
            actions: Vec::new(),
        }
    }

    fn nothing() -> Outcome {
        Outcome::default()
    }
}

/// The score dcrd adds for a `getdata` of `n` items: `n·99/50000`
/// transient, in integer arithmetic on 32 bits (fewer than 506 items score
/// nothing).
pub fn get_data_score(n: usize) -> u32 {
    (n as u32).wrapping_mul(99) / MAX_INV_PER_MSG as u32
}

/// dcrd's handling of `msg` from a peer `view` describes, with the state
/// `state` kept for it, on `chain`.
pub fn on_message(
    chain: &ChainStore,
    state: &mut PeerState,
    view: &PeerView<'_>,
    msg: &Message<'_>,
) -> Outcome {
    match msg {
        Message::GetHeaders(m) => Outcome::send(Message::Headers(Headers {
            headers: get_headers(chain, view.net, &m.block_locator_hashes, &m.hash_stop),
        })),
        Message::GetBlocks(m) => get_blocks(chain, view, &m.block_locator_hashes, &m.hash_stop),
        Message::GetData(GetData { inv_list }) => get_data(view, inv_list),
        Message::GetInitState(_) => get_init_state(state),
        Message::GetMiningState(_) => {
            if view.pver >= pver::INIT_STATE {
                return Outcome::verdict(Verdict::Ban(Offence::Withdrawn {
                    command: Command::GetMiningState,
                    pver: view.pver,
                    withdrawn: pver::INIT_STATE,
                }));
            }
            if std::mem::replace(&mut state.mining_state_sent, true) {
                return Outcome::verdict(Verdict::Ban(Offence::SecondStateRequest {
                    command: Command::GetMiningState,
                }));
            }
            // A mining state with no block is not sent (`pushMiningStateMsg`).
            Outcome::nothing()
        }
        Message::MiningState(_) => {
            if view.pver >= pver::INIT_STATE {
                return Outcome::verdict(Verdict::Ban(Offence::Withdrawn {
                    command: Command::MiningState,
                    pver: view.pver,
                    withdrawn: pver::INIT_STATE,
                }));
            }
            initial_state_received(state, Command::MiningState)
        }
        Message::InitState(_) => initial_state_received(state, Command::InitState),
        Message::MemPool(_) => Outcome::verdict(Verdict::Score {
            persistent: 0,
            transient: 33,
            reason: Offence::MemPool,
        }),
        Message::GetAddr(_) => {
            // Simnet and regnet share no addresses, lest they become
            // public networks; outbound peers get none (fingerprinting);
            // each peer gets them once.
            if is_private_net(view.net)
                || !view.inbound
                || std::mem::replace(&mut state.addresses_sent, true)
            {
                return Outcome::nothing();
            }
            Outcome {
                verdicts: Vec::new(),
                actions: vec![Action::PushAddresses],
            }
        }
        Message::GetCFilter(_) | Message::GetCFHeaders(_) | Message::GetCFTypes(_) => {
            let command = msg.command();
            if view.pver >= pver::NODE_CF {
                Outcome::verdict(Verdict::Ban(Offence::Withdrawn {
                    command,
                    pver: view.pver,
                    withdrawn: pver::NODE_CF,
                }))
            } else {
                Outcome::verdict(Verdict::Disconnect(Offence::UnsupportedFilterRequest {
                    command,
                }))
            }
        }
        Message::GetCFilterV2(m) => match chain.filter(&m.block_hash) {
            Some(f) => Outcome::send(Message::CFilterV2(f.message(m.block_hash))),
            None => Outcome::nothing(),
        },
        Message::GetCFsV2(m) => match filters(chain, &m.start_hash, &m.end_hash) {
            Some(answer) => Outcome::send(answer),
            None => Outcome::nothing(),
        },
        Message::Inv(Inv { inv_list }) if inv_list.is_empty() => {
            Outcome::verdict(Verdict::Ban(Offence::EmptyInv))
        }
        Message::Inv(Inv { inv_list }) => announced(inv_list),
        Message::NotFound(NotFound { inv_list }) => not_found(view, inv_list),
        // dcrd's sync manager disconnects a peer that sends a block it did
        // not request (`SyncManager.OnBlock`), before looking at the block;
        // this node requests none.
        Message::Block(b) => Outcome::verdict(Verdict::Disconnect(Offence::UnrequestedBlock(
            b.header.block_hash(),
        ))),
        Message::Addr(Addr { addr_list }) => {
            if is_private_net(view.net) {
                return Outcome::nothing();
            }
            if addr_list.is_empty() {
                return Outcome::verdict(Verdict::Ban(Offence::EmptyAddr));
            }
            Outcome::nothing()
        }
        Message::AddrV2(AddrV2 { addr_list }) => {
            if is_private_net(view.net) || !view.connected {
                return Outcome::nothing();
            }
            if addr_list.iter().any(|a| !fits_its_type(&a.host)) {
                return Outcome::verdict(Verdict::Ban(Offence::InvalidAddrV2));
            }
            Outcome::nothing()
        }
        _ => Outcome::nothing(),
    }
}

/// A non-empty `inv`, as dcrd's sync manager takes it (`netsync`
/// `SyncManager.OnInv`): every block, transaction and mix vector is
/// marked known to the peer, in order, so that it is never announced back;
/// other types are passed over. dcrd's peer marks nothing itself, and
/// neither does `dcr-peer`. What the sync manager then requests needs a
/// validating chain or a mempool, which this node does not have.
pub fn announced(inv_list: &[InvVect]) -> Outcome {
    let known: Vec<InvVect> = inv_list
        .iter()
        .filter(|iv| matches!(iv.inv_type, InvType::BLOCK | InvType::TX | InvType::MIX))
        .copied()
        .collect();
    Outcome {
        verdicts: Vec::new(),
        actions: if known.is_empty() {
            Vec::new()
        } else {
            vec![Action::MarkKnown(known)]
        },
    }
}

/// `OnGetInitState`: a second request is banned; the first gets an empty
/// `initstate`. Below stake validation dcrd answers empty; above, the
/// head blocks, votes and treasury spends come from its mempool, which
/// this node does not have: empty as well. Every node owes this answer,
/// serving or not (dcrd drops a peer that leaves its request unanswered
/// for 30 s).
pub fn get_init_state(state: &mut PeerState) -> Outcome {
    if std::mem::replace(&mut state.init_state_sent, true) {
        return Outcome::verdict(Verdict::Ban(Offence::SecondStateRequest {
            command: Command::GetInitState,
        }));
    }
    Outcome::send(Message::InitState(InitState::default()))
}

/// Simnet and regnet: networks that exchange no addresses.
fn is_private_net(net: CurrencyNet) -> bool {
    matches!(net, CurrencyNet::SimNet | CurrencyNet::RegNet)
}

/// Whether dcrd's address manager takes an `addrv2` host as typed
/// (`NewNetAddressFromParams`): the wire already holds each type's size,
/// so the one refusal left is an IPv4-mapped address typed IPv6, whose
/// bytes derive the IPv4 type.
fn fits_its_type(host: &NetAddressV2Host) -> bool {
    match host {
        NetAddressV2Host::Ipv6(v6) => v6.to_ipv4_mapped().is_none(),
        NetAddressV2Host::Ipv4(_) | NetAddressV2Host::TorV3(_) => true,
    }
}

/// A second initial state (`initstate` or `miningstate`) is banned; the
/// first is recorded (dcrd then asks the peer for what it lists, which a
/// node without a mempool does not need).
fn initial_state_received(state: &mut PeerState, command: Command) -> Outcome {
    if std::mem::replace(&mut state.init_state_received, true) {
        return Outcome::verdict(Verdict::Ban(Offence::SecondInitialState { command }));
    }
    Outcome::nothing()
}

/// `OnGetHeaders`: nothing while the chain has less work than the
/// network is known to have, else the located headers.
pub fn get_headers(
    chain: &ChainStore,
    net: CurrencyNet,
    locator: &[Hash],
    stop: &Hash,
) -> Vec<dcr_wire::BlockHeader> {
    if below_min_known_work(chain.tip_work(), net) {
        return Vec::new();
    }
    chain.locate_headers(locator, stop)
}

/// Whether `work` is below what `net`'s chain is known to have.
pub fn below_min_known_work(work: Work, net: CurrencyNet) -> bool {
    min_known_chain_work(net).is_some_and(|min| work < min)
}

/// `OnGetBlocks`.
fn get_blocks(chain: &ChainStore, view: &PeerView<'_>, locator: &[Hash], stop: &Hash) -> Outcome {
    let inv_list: Vec<InvVect> = chain
        .locate_blocks(locator, stop)
        .into_iter()
        .map(|hash| InvVect {
            inv_type: InvType::BLOCK,
            hash,
        })
        .filter(|iv| !(view.known_inventory)(iv))
        .collect();
    let Some(last) = inv_list.last() else {
        return Outcome::nothing();
    };
    let mut actions = Vec::with_capacity(2);
    if inv_list.len() == MAX_BLOCKS_PER_GETBLOCKS {
        actions.push(Action::SetContinue(last.hash));
    }
    actions.push(Action::Send(Message::Inv(Inv { inv_list })));
    Outcome {
        verdicts: Vec::new(),
        actions,
    }
}

/// `OnGetData`, in dcrd's order: the empty ban, the score, the count of
/// waiting messages, the count of waiting items.
fn get_data(view: &PeerView<'_>, items: &[InvVect]) -> Outcome {
    if items.is_empty() {
        return Outcome::verdict(Verdict::Ban(Offence::EmptyGetData));
    }
    let mut out = Outcome::default();
    let score = get_data_score(items.len());
    if score > 0 {
        out.verdicts.push(Verdict::Score {
            persistent: 0,
            transient: score,
            reason: Offence::GetData { items: items.len() },
        });
    }
    if view.waiting_getdata + 1 > MAX_CONCURRENT_GETDATA {
        out.verdicts
            .push(Verdict::Disconnect(Offence::TooManyGetData {
                max: MAX_CONCURRENT_GETDATA,
            }));
        return out;
    }
    if view.pending_items + items.len() > MAX_PENDING_DATA_ITEMS {
        out.verdicts
            .push(Verdict::Disconnect(Offence::TooManyDataItems {
                new: items.len(),
                pending: view.pending_items,
                max: MAX_PENDING_DATA_ITEMS,
            }));
        return out;
    }
    out.actions.push(Action::ServeData(items.to_vec()));
    out
}

/// `OnNotFound`.
fn not_found(view: &PeerView<'_>, items: &[InvVect]) -> Outcome {
    if !view.connected {
        return Outcome::nothing();
    }
    let (mut blocks, mut txs, mut mix) = (0usize, 0usize, 0usize);
    for iv in items {
        match iv.inv_type {
            InvType::BLOCK => blocks += 1,
            InvType::TX => txs += 1,
            InvType::MIX => mix += 1,
            other => return Outcome::verdict(Verdict::Disconnect(Offence::NotFoundType(other))),
        }
    }
    let mut out = Outcome::default();
    if blocks > 0 {
        out.verdicts.push(Verdict::Score {
            persistent: 20u32.wrapping_mul(blocks as u32),
            transient: 0,
            reason: Offence::BlocksNotFound(blocks),
        });
    }
    if txs > 0 {
        out.verdicts.push(Verdict::Score {
            persistent: 0,
            transient: 10u32.wrapping_mul(txs as u32),
            reason: Offence::TxsNotFound(txs),
        });
    }
    if mix > 0 {
        out.verdicts.push(Verdict::Score {
            persistent: 0,
            transient: 10u32.wrapping_mul(mix as u32),
            reason: Offence::MixNotFound(mix),
        });
    }
    out
}

/// `LocateCFiltersV2`: every filter from `start` to `end` with its proof,
/// or `None` when a block is unknown, `start` is not an ancestor of `end`,
/// there are more than 100, or a filter is not held.
fn filters(chain: &ChainStore, start: &Hash, end: &Hash) -> Option<Message<'static>> {
    let hashes = chain.range(start, end, MAX_CFILTERS_V2_PER_BATCH as usize)?;
    let cfilters = hashes
        .into_iter()
        .map(|h| chain.filter(&h).map(|f| f.message(h)))
        .collect::<Option<Vec<_>>>()?;
    Some(Message::CFiltersV2(CFiltersV2 { cfilters }))
}

/// What a `getdata` item finds (dcrd `handleServeGetData`).
#[derive(Debug, Clone, PartialEq)]
pub enum Lookup<'a> {
    /// A block held, on any branch: sent.
    Block(&'a bytes::Bytes),
    /// A block, transaction or mix message not held (this node has no
    /// mempool and no mix pool): listed in the one `notfound` that
    /// follows the batch.
    NotFound,
    /// Another type: logged and skipped, no `notfound` entry. As in dcrd,
    /// the item stays counted among the peer's pending items.
    Skipped,
}

/// The answer to one `getdata` item.
pub fn lookup<'a>(chain: &'a ChainStore, iv: &InvVect) -> Lookup<'a> {
    match iv.inv_type {
        InvType::BLOCK => chain
            .block(&iv.hash)
            .map_or(Lookup::NotFound, Lookup::Block),
        InvType::TX | InvType::MIX => Lookup::NotFound,
        _ => Lookup::Skipped,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::{build_branch, build_chain};
    use dcr_wire::{
        GetAddr, GetBlocks, GetCFHeaders, GetCFTypes, GetCFilter, GetCFilterV2, GetCFsV2,
        GetHeaders, GetInitState, GetMiningState, MemPool, MiningState, NetAddressV2, ServiceFlags,
    };
    use std::net::{IpAddr, Ipv6Addr};

    fn chain() -> ChainStore {
        let main = build_chain(12);
        let mut all = main.clone();
        all.extend(build_branch(&main[8], 2, 0xf0));
        ChainStore::new(all).unwrap()
    }

    fn nothing_known(_: &InvVect) -> bool {
        false
    }

    fn view(net: CurrencyNet) -> PeerView<'static> {
        PeerView {
            net,
            pver: pver::CURRENT,
            inbound: true,
            connected: true,
            waiting_getdata: 0,
            pending_items: 0,
            known_inventory: &nothing_known,
        }
    }

    fn ask(chain: &ChainStore, state: &mut PeerState, v: &PeerView<'_>, m: Message<'_>) -> Outcome {
        on_message(chain, state, v, &m)
    }

    fn once(m: Message<'_>) -> Outcome {
        ask(
            &chain(),
            &mut PeerState::default(),
            &view(CurrencyNet::SimNet),
            m,
        )
    }

    fn ban(o: Offence) -> Outcome {
        Outcome::verdict(Verdict::Ban(o))
    }

    fn block(hash: Hash) -> InvVect {
        InvVect {
            inv_type: InvType::BLOCK,
            hash,
        }
    }

    #[test]
    fn l10_getheaders_is_always_answered() {
        let c = chain();
        let tip = c.tip().0;
        let got = once(Message::GetHeaders(GetHeaders {
            protocol_version: pver::CURRENT,
            block_locator_hashes: vec![tip],
            hash_stop: Hash::ZERO,
        }));
        assert_eq!(got, Outcome::send(Message::Headers(Headers::default())));
    }

    #[test]
    fn l11_too_little_work_answers_empty_headers_on_mainnet_and_testnet() {
        let c = chain();
        for net in [CurrencyNet::MainNet, CurrencyNet::TestNet3] {
            assert!(get_headers(&c, net, &[Hash([1; 32])], &Hash::ZERO).is_empty());
            assert!(below_min_known_work(c.tip_work(), net));
        }
        for net in [CurrencyNet::SimNet, CurrencyNet::RegNet] {
            assert_eq!(
                get_headers(&c, net, &[Hash([1; 32])], &Hash::ZERO).len(),
                11
            );
        }
        // Work at the minimum is enough; one less is not.
        let min = min_known_chain_work(CurrencyNet::TestNet3).unwrap();
        assert!(!below_min_known_work(min, CurrencyNet::TestNet3));
        assert!(below_min_known_work(
            min - Work::from(1u8),
            CurrencyNet::TestNet3
        ));
    }

    #[test]
    fn l12_getblocks_leaves_out_known_blocks_and_sends_nothing_when_none_is_left() {
        let c = chain();
        let h = |n| c.main_hash(n).unwrap();
        let known = |iv: &InvVect| iv.hash == c.main_hash(9).unwrap();
        let mut v = view(CurrencyNet::SimNet);
        v.known_inventory = &known;
        let req = |stop| {
            Message::GetBlocks(GetBlocks {
                protocol_version: pver::CURRENT,
                block_locator_hashes: vec![h(7)],
                hash_stop: stop,
            })
        };
        let got = ask(&c, &mut PeerState::default(), &v, req(Hash::ZERO));
        assert_eq!(
            got.actions,
            vec![Action::Send(Message::Inv(Inv {
                inv_list: vec![block(h(8)), block(h(10)), block(h(11))]
            }))]
        );
        // Up to the stop h9, which the peer knows: h8 alone.
        let got = ask(&c, &mut PeerState::default(), &v, req(h(9)));
        assert_eq!(
            got.actions,
            vec![Action::Send(Message::Inv(Inv {
                inv_list: vec![block(h(8))]
            }))]
        );
        // Every block known: no message at all.
        let known_all = |_: &InvVect| true;
        v.known_inventory = &known_all;
        assert_eq!(
            ask(&c, &mut PeerState::default(), &v, req(Hash::ZERO)),
            Outcome::nothing()
        );
    }

    #[test]
    fn l12_s12_a_full_getblocks_answer_sets_the_continue_hash() {
        let c = ChainStore::new(build_chain(600)).unwrap();
        let got = ask(
            &c,
            &mut PeerState::default(),
            &view(CurrencyNet::SimNet),
            Message::GetBlocks(GetBlocks {
                protocol_version: pver::CURRENT,
                block_locator_hashes: vec![c.main_hash(0).unwrap()],
                hash_stop: Hash::ZERO,
            }),
        );
        assert_eq!(
            got.actions[0],
            Action::SetContinue(c.main_hash(500).unwrap())
        );
        assert!(
            matches!(&got.actions[1], Action::Send(Message::Inv(i)) if i.inv_list.len() == 500)
        );
    }

    #[test]
    fn s2_an_empty_getdata_is_banned() {
        assert_eq!(
            once(Message::GetData(GetData { inv_list: vec![] })),
            ban(Offence::EmptyGetData)
        );
    }

    #[test]
    fn s3_getdata_scores_n_99_50000_transient() {
        assert_eq!(get_data_score(505), 0);
        assert_eq!(get_data_score(506), 1);
        assert_eq!(get_data_score(50_000), 99);
        let items = vec![block(Hash([5; 32])); 50_000];
        let got = once(Message::GetData(GetData {
            inv_list: items.clone(),
        }));
        assert_eq!(
            got.verdicts,
            vec![Verdict::Score {
                persistent: 0,
                transient: 99,
                reason: Offence::GetData { items: 50_000 }
            }]
        );
        assert_eq!(got.actions, vec![Action::ServeData(items)]);
        // A small request scores nothing at all.
        let got = once(Message::GetData(GetData {
            inv_list: vec![block(Hash([5; 32]))],
        }));
        assert!(got.verdicts.is_empty());
    }

    #[test]
    fn s4_s5_getdata_beyond_1000_messages_or_100000_items_disconnects() {
        let c = chain();
        let one = || {
            Message::GetData(GetData {
                inv_list: vec![block(Hash([5; 32]))],
            })
        };
        let mut v = view(CurrencyNet::SimNet);
        v.waiting_getdata = 999;
        assert_eq!(
            ask(&c, &mut PeerState::default(), &v, one()).actions.len(),
            1
        );
        v.waiting_getdata = 1000;
        assert_eq!(
            ask(&c, &mut PeerState::default(), &v, one()),
            Outcome::verdict(Verdict::Disconnect(Offence::TooManyGetData { max: 1000 }))
        );
        let mut v = view(CurrencyNet::SimNet);
        v.pending_items = 100_000;
        assert_eq!(
            ask(&c, &mut PeerState::default(), &v, one()),
            Outcome::verdict(Verdict::Disconnect(Offence::TooManyDataItems {
                new: 1,
                pending: 100_000,
                max: 100_000
            }))
        );
        v.pending_items = 99_999;
        assert!(ask(&c, &mut PeerState::default(), &v, one())
            .verdicts
            .is_empty());
    }

    #[test]
    fn s6_s7_s8_s9_getdata_items_find_side_blocks_and_nothing_else() {
        let c = chain();
        let main = c.main_hash(3).unwrap();
        assert!(matches!(lookup(&c, &block(main)), Lookup::Block(_)));
        // The side branch's blocks (built off height 8).
        let all = build_chain(12);
        let side = build_branch(&all[8], 2, 0xf0);
        let side_hash = dcr_wire::Block::from_bytes(&side[1], pver::CURRENT)
            .unwrap()
            .block_hash();
        assert!(matches!(lookup(&c, &block(side_hash)), Lookup::Block(_)));
        assert_eq!(lookup(&c, &block(Hash([1; 32]))), Lookup::NotFound);
        for t in [InvType::TX, InvType::MIX] {
            let iv = InvVect {
                inv_type: t,
                hash: main,
            };
            assert_eq!(lookup(&c, &iv), Lookup::NotFound);
        }
        for t in [InvType::ERROR, InvType::FILTERED_BLOCK, InvType(99)] {
            let iv = InvVect {
                inv_type: t,
                hash: main,
            };
            assert_eq!(lookup(&c, &iv), Lookup::Skipped);
        }
    }

    #[test]
    fn s13_s14_getinitstate_is_answered_empty_once_then_banned() {
        let c = chain();
        let v = view(CurrencyNet::SimNet);
        let mut s = PeerState::default();
        let req = || Message::GetInitState(GetInitState::default());
        assert_eq!(
            ask(&c, &mut s, &v, req()),
            Outcome::send(Message::InitState(InitState::default()))
        );
        assert_eq!(
            ask(&c, &mut s, &v, req()),
            ban(Offence::SecondStateRequest {
                command: Command::GetInitState
            })
        );
    }

    #[test]
    fn s15_getminings_is_banned_from_version_8_and_a_second_below() {
        assert_eq!(
            once(Message::GetMiningState(GetMiningState)),
            ban(Offence::Withdrawn {
                command: Command::GetMiningState,
                pver: pver::CURRENT,
                withdrawn: 8
            })
        );
        let c = chain();
        let mut v = view(CurrencyNet::SimNet);
        v.pver = 7;
        let mut s = PeerState::default();
        let req = || Message::GetMiningState(GetMiningState);
        assert_eq!(ask(&c, &mut s, &v, req()), Outcome::nothing());
        assert_eq!(
            ask(&c, &mut s, &v, req()),
            ban(Offence::SecondStateRequest {
                command: Command::GetMiningState
            })
        );
    }

    #[test]
    fn s16_s17_a_second_initial_state_or_a_miningstate_from_version_8_is_banned() {
        let c = chain();
        let v = view(CurrencyNet::SimNet);
        assert_eq!(
            once(Message::MiningState(MiningState::default())),
            ban(Offence::Withdrawn {
                command: Command::MiningState,
                pver: pver::CURRENT,
                withdrawn: 8
            })
        );
        let mut s = PeerState::default();
        let init = || Message::InitState(InitState::default());
        assert_eq!(ask(&c, &mut s, &v, init()), Outcome::nothing());
        assert_eq!(
            ask(&c, &mut s, &v, init()),
            ban(Offence::SecondInitialState {
                command: Command::InitState
            })
        );
        // Below 8, a miningstate after an initstate is the second one.
        let mut old = view(CurrencyNet::SimNet);
        old.pver = 7;
        let mut s = PeerState::default();
        assert_eq!(ask(&c, &mut s, &old, init()), Outcome::nothing());
        assert_eq!(
            ask(
                &c,
                &mut s,
                &old,
                Message::MiningState(MiningState::default())
            ),
            ban(Offence::SecondInitialState {
                command: Command::MiningState
            })
        );
    }

    #[test]
    fn s18_mempool_scores_33_transient() {
        assert_eq!(
            once(Message::MemPool(MemPool)),
            Outcome::verdict(Verdict::Score {
                persistent: 0,
                transient: 33,
                reason: Offence::MemPool
            })
        );
    }

    #[test]
    fn s19_getcfilterv2_answers_held_filters_only() {
        let c = chain();
        let h5 = c.main_hash(5).unwrap();
        let got = once(Message::GetCFilterV2(GetCFilterV2 { block_hash: h5 }));
        let want = c.filter(&h5).unwrap().message(h5);
        assert_eq!(got, Outcome::send(Message::CFilterV2(want)));
        let unknown = once(Message::GetCFilterV2(GetCFilterV2 {
            block_hash: Hash([2; 32]),
        }));
        assert_eq!(unknown, Outcome::nothing());
    }

    #[test]
    fn s20_getcfsv2_answers_a_whole_ancestry_of_at_most_100() {
        let c = chain();
        let h = |n| c.main_hash(n).unwrap();
        let req = |s, e| {
            Message::GetCFsV2(GetCFsV2 {
                start_hash: s,
                end_hash: e,
            })
        };
        match once(req(h(1), h(10))).actions.as_slice() {
            [Action::Send(Message::CFiltersV2(f))] => {
                let got: Vec<Hash> = f.cfilters.iter().map(|f| f.block_hash).collect();
                assert_eq!(got, (1..=10).map(h).collect::<Vec<_>>());
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(once(req(h(10), h(1))), Outcome::nothing());
        assert_eq!(once(req(Hash([3; 32]), h(1))), Outcome::nothing());
        // Through the side branch: its filters are not held.
        let all = build_chain(12);
        let side = build_branch(&all[8], 2, 0xf0);
        let f10 = dcr_wire::Block::from_bytes(&side[1], pver::CURRENT)
            .unwrap()
            .block_hash();
        assert_eq!(once(req(h(5), f10)), Outcome::nothing());
        // 101 blocks: nothing.
        let long = ChainStore::new(build_chain(102)).unwrap();
        let lh = |n| long.main_hash(n).unwrap();
        let v = view(CurrencyNet::SimNet);
        assert_eq!(
            ask(&long, &mut PeerState::default(), &v, req(lh(0), lh(100))),
            Outcome::nothing()
        );
        assert_eq!(
            ask(&long, &mut PeerState::default(), &v, req(lh(1), lh(100)))
                .actions
                .len(),
            1
        );
    }

    #[test]
    fn s22_version_1_filter_requests_are_banned_from_version_6() {
        let c = chain();
        let requests = [
            Message::GetCFilter(GetCFilter {
                block_hash: Hash::ZERO,
                filter_type: dcr_wire::FilterType(0),
            }),
            Message::GetCFHeaders(GetCFHeaders::default()),
            Message::GetCFTypes(GetCFTypes),
        ];
        for r in requests {
            let command = r.command();
            assert_eq!(
                ask(
                    &c,
                    &mut PeerState::default(),
                    &view(CurrencyNet::SimNet),
                    r.clone()
                ),
                ban(Offence::Withdrawn {
                    command,
                    pver: pver::CURRENT,
                    withdrawn: 6
                })
            );
            let mut old = view(CurrencyNet::SimNet);
            old.pver = 5;
            assert_eq!(
                ask(&c, &mut PeerState::default(), &old, r),
                Outcome::verdict(Verdict::Disconnect(Offence::UnsupportedFilterRequest {
                    command
                }))
            );
        }
    }

    #[test]
    fn s23_an_empty_inv_is_banned() {
        assert_eq!(
            once(Message::Inv(Inv { inv_list: vec![] })),
            ban(Offence::EmptyInv)
        );
        // A non-empty one is no offence.
        assert!(once(Message::Inv(Inv {
            inv_list: vec![block(Hash([1; 32]))]
        }))
        .verdicts
        .is_empty());
    }

    #[test]
    fn s26_notfound_scores_blocks_persistent_and_the_rest_transient() {
        let iv = |t, n: u8| InvVect {
            inv_type: t,
            hash: Hash([n; 32]),
        };
        let mut items: Vec<InvVect> = (0..6).map(|n| iv(InvType::BLOCK, n)).collect();
        items.extend((0..3).map(|n| iv(InvType::TX, n)));
        items.push(iv(InvType::MIX, 9));
        let got = once(Message::NotFound(NotFound {
            inv_list: items.clone(),
        }));
        assert_eq!(
            got.verdicts,
            vec![
                Verdict::Score {
                    persistent: 120,
                    transient: 0,
                    reason: Offence::BlocksNotFound(6)
                },
                Verdict::Score {
                    persistent: 0,
                    transient: 30,
                    reason: Offence::TxsNotFound(3)
                },
                Verdict::Score {
                    persistent: 0,
                    transient: 10,
                    reason: Offence::MixNotFound(1)
                },
            ]
        );
        // An unknown type anywhere: disconnect, nothing scored.
        items.push(iv(InvType(7), 1));
        assert_eq!(
            once(Message::NotFound(NotFound {
                inv_list: items.clone()
            })),
            Outcome::verdict(Verdict::Disconnect(Offence::NotFoundType(InvType(7))))
        );
        // Once disconnecting: ignored.
        let mut v = view(CurrencyNet::SimNet);
        v.connected = false;
        assert_eq!(
            ask(
                &chain(),
                &mut PeerState::default(),
                &v,
                Message::NotFound(NotFound { inv_list: items })
            ),
            Outcome::nothing()
        );
    }

    #[test]
    fn s25_s27_what_dcrd_hands_to_its_sync_manager_or_mix_pool_is_ignored() {
        use dcr_wire::{MixPairReq, Tx};
        for m in [
            Message::MixPairReq(MixPairReq::default()),
            Message::Headers(Headers::default()),
            Message::Tx(Tx::new()),
        ] {
            assert_eq!(once(m), Outcome::nothing());
        }
    }

    #[test]
    fn s25_an_inv_marks_its_block_tx_and_mix_vectors_known_in_order() {
        let v = |t: u32, n: u8| InvVect {
            inv_type: InvType(t),
            hash: Hash([n; 32]),
        };
        let inv = vec![
            v(2, 1),
            v(0, 2),
            v(1, 3),
            v(3, 4),
            v(4, 5),
            v(9, 6),
            v(2, 7),
        ];
        assert_eq!(
            once(Message::Inv(Inv { inv_list: inv })),
            Outcome {
                verdicts: Vec::new(),
                actions: vec![Action::MarkKnown(vec![v(2, 1), v(1, 3), v(4, 5), v(2, 7)])],
            }
        );
        // Nothing of a type the sync manager passes over: no action at all.
        assert_eq!(
            once(Message::Inv(Inv {
                inv_list: vec![v(3, 1), v(0, 2)],
            })),
            Outcome::nothing()
        );
    }

    #[test]
    fn s31_an_unrequested_block_disconnects_without_a_ban() {
        let main = build_chain(3);
        let block = dcr_wire::Block::from_bytes(&main[2], pver::CURRENT).unwrap();
        let hash = block.header.block_hash();
        let got = once(Message::Block(block));
        assert_eq!(
            got,
            Outcome::verdict(Verdict::Disconnect(Offence::UnrequestedBlock(hash)))
        );
        // A disconnect, not a ban: dcrd disconnects whitelisted peers too.
        assert!(got.verdicts[0].disconnects_whitelisted());
    }

    #[test]
    fn a1_a3_getaddr_is_answered_once_to_inbound_peers_off_simnet_and_regnet() {
        let c = chain();
        let get = || Message::GetAddr(GetAddr);
        for net in [CurrencyNet::SimNet, CurrencyNet::RegNet] {
            assert_eq!(
                ask(&c, &mut PeerState::default(), &view(net), get()),
                Outcome::nothing()
            );
        }
        let v = view(CurrencyNet::TestNet3);
        let mut s = PeerState::default();
        assert_eq!(
            ask(&c, &mut s, &v, get()).actions,
            vec![Action::PushAddresses]
        );
        assert_eq!(ask(&c, &mut s, &v, get()), Outcome::nothing());
        let mut out = view(CurrencyNet::MainNet);
        out.inbound = false;
        assert_eq!(
            ask(&c, &mut PeerState::default(), &out, get()),
            Outcome::nothing()
        );
    }

    #[test]
    fn a6_a7_a9_addresses_are_ignored_on_simnet_and_bad_ones_banned_elsewhere() {
        let c = chain();
        let empty_v1 = || Message::Addr(Addr { addr_list: vec![] });
        let mapped: Ipv6Addr = "::ffff:8.8.8.8".parse().unwrap();
        let bad = NetAddressV2 {
            timestamp: 1,
            services: ServiceFlags::NONE,
            host: NetAddressV2Host::Ipv6(mapped),
            port: 1,
        };
        let good = NetAddressV2::new(IpAddr::from([8, 8, 8, 8]), 1, ServiceFlags::NONE, 1);
        let v2 = |list: Vec<NetAddressV2>| Message::AddrV2(AddrV2 { addr_list: list });
        for net in [CurrencyNet::SimNet, CurrencyNet::RegNet] {
            let v = view(net);
            assert_eq!(
                ask(&c, &mut PeerState::default(), &v, empty_v1()),
                Outcome::nothing()
            );
            assert_eq!(
                ask(&c, &mut PeerState::default(), &v, v2(vec![bad])),
                Outcome::nothing()
            );
        }
        let v = view(CurrencyNet::TestNet3);
        assert_eq!(
            ask(&c, &mut PeerState::default(), &v, empty_v1()),
            ban(Offence::EmptyAddr)
        );
        assert_eq!(
            ask(&c, &mut PeerState::default(), &v, v2(vec![good, bad])),
            ban(Offence::InvalidAddrV2)
        );
        assert_eq!(
            ask(&c, &mut PeerState::default(), &v, v2(vec![good])),
            Outcome::nothing()
        );
        let native = NetAddressV2::new("2001:db8::1".parse().unwrap(), 1, ServiceFlags::NONE, 1);
        assert_eq!(
            ask(&c, &mut PeerState::default(), &v, v2(vec![native])),
            Outcome::nothing()
        );
    }
}
