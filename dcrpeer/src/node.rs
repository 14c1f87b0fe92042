//! `dcrpeer node`: peers kept up by the connection manager, a chain served
//! to them, and what happens printed as it happens: peers connecting and
//! leaving, bans, failed dials (said as `connect` says them), blocks
//! announced or sent by peers.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use dcr_node::serve::{
    serve_welcomed, serving_config, serving_hooks, welcome, ManagerSanctions, Served,
};
use dcr_peer::connmgr::{ConnManager, ManagerConfig, ManagerEvent as E, Whitelist};
use dcr_peer::{Peer, PeerEvent};
use dcr_wire::{InvType, Message};
use serde_json::json;
use tokio::sync::mpsc;

use crate::args::{self, BindAddr, Target};
use crate::capture::CaptureFile;
use crate::connect::captured;
use crate::crawl::resolve;
use crate::interrupt::{pressed, Interrupted};
use crate::output::{connected_json, event};
use crate::NetArg;

#[derive(Args, Debug)]
pub struct NodeArgs {
    /// Connect only to this peer, kept connected (repeatable; dcrd's
    /// --connect): no other outbound peers are chosen.
    #[arg(long = "connect", value_name = "HOST[:PORT]", value_parser = args::target, conflicts_with = "addpeer")]
    connect: Vec<Target>,
    /// A peer to keep connected besides those chosen from the address
    /// book (repeatable; dcrd's --addpeer).
    #[arg(long = "addpeer", value_name = "HOST[:PORT]", value_parser = args::target)]
    addpeer: Vec<Target>,
    /// Where to accept peers: IP or IP:PORT, the port defaulting to the
    /// network's (repeatable).
    #[arg(long = "listen", value_name = "IP[:PORT]", value_parser = args::bind_addr)]
    listen: Vec<BindAddr>,
    #[command(flatten)]
    net: NetArg,
    /// Outbound peers to choose from the address book (not on simnet or
    /// regnet, nor with --connect).
    #[arg(long, value_name = "N", default_value_t = 8)]
    target: usize,
    /// Peers at most, inbound and outbound (persistent ones aside).
    #[arg(long, value_name = "N", default_value_t = dcr_peer::connmgr::DEFAULT_MAX_PEERS)]
    maxpeers: usize,
    /// Connections with one IP at most; 0: no limit (loopback and
    /// whitelisted addresses are exempt).
    #[arg(long, value_name = "N", default_value_t = dcr_peer::connmgr::DEFAULT_MAX_PER_HOST)]
    maxsameip: usize,
    /// An IP or CIDR prefix never banned and exempt from the connection
    /// limits (repeatable).
    #[arg(long, value_name = "IP|PREFIX", value_parser = args::whitelist_entry)]
    whitelist: Vec<ipnet::IpNet>,
    /// Neither score nor ban misbehaving peers.
    #[arg(long)]
    nobanning: bool,
    /// A ban score above this bans.
    #[arg(long, value_name = "N", default_value_t = dcr_peer::connmgr::DEFAULT_BAN_THRESHOLD)]
    banthreshold: u32,
    /// How long a ban lasts, in seconds (at least 1).
    #[arg(long, value_name = "SECS", default_value_t = 24 * 3600, value_parser = clap::value_parser!(u64).range(1..))]
    banduration: u64,
    /// Keep the address book (peers.json) in this folder: loaded at
    /// start, saved every 10 minutes and at shutdown.
    #[arg(long, value_name = "DIR")]
    datadir: Option<PathBuf>,
    /// A folder of block files to serve (default: the demo chain).
    #[arg(long, value_name = "DIR")]
    chain: Option<PathBuf>,
    /// Print a JSON line per event (listening, connected, disconnected,
    /// banned, dial_failed, block) instead of text.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub capture: args::CaptureArg,
}

/// Prints the blocks a peer's message tells of: announced (`inv`,
/// `headers`) or sent (`block`).
fn print_blocks(ev: &PeerEvent, json: bool) {
    let from = ev.peer.addr();
    let say_block = |hash: String, height: Option<u32>, how: &str| {
        if json {
            event(
                "block",
                json!({ "hash": hash, "height": height, "peer": from.to_string(), "via": how }),
            );
        } else {
            let height = height.map_or(String::new(), |h| format!(" (height {h})"));
            let verb = match how {
                "block" => "received from",
                _ => "announced by",
            };
            say!("block {hash}{height} {verb} {from}");
        }
    };
    match &ev.message {
        Message::Inv(inv) => {
            for iv in inv
                .inv_list
                .iter()
                .filter(|iv| iv.inv_type == InvType::BLOCK)
            {
                say_block(iv.hash.to_string(), None, "inv");
            }
        }
        Message::Headers(h) => {
            for h in &h.headers {
                say_block(h.block_hash().to_string(), Some(h.height), "headers");
            }
        }
        Message::Block(b) => say_block(b.block_hash().to_string(), Some(b.header.height), "block"),
        _ => {}
    }
}

pub async fn run(a: NodeArgs, capture: Option<&CaptureFile>) -> anyhow::Result<()> {
    let net = a.net.net;
    let json = a.json;
    let chain = crate::listen::chain_or_demo(a.chain.as_deref())?;
    let mut cfg = ManagerConfig::new(serving_config(net, "dcrpeer"));
    cfg.hooks = captured(serving_hooks(&chain), capture);
    cfg.target_outbound = a.target;
    cfg.max_peers = a.maxpeers;
    cfg.max_per_host = a.maxsameip;
    cfg.whitelist = Whitelist::new(a.whitelist);
    cfg.no_banning = a.nobanning;
    cfg.ban_threshold = a.banthreshold;
    cfg.ban_duration = Duration::from_secs(a.banduration);
    cfg.datadir = a.datadir;
    if !a.connect.is_empty() {
        cfg = cfg.connect_only();
    }
    // dcrd's config normalizes --connect and --addpeer to host:port (the
    // network's port when none is given) and drops repeats
    // (`normalizeAddresses`) before its server adds them, so a peer given
    // twice is one persistent peer, not a refusal, and the limit of 8
    // counts distinct peers.
    let mut given = std::collections::HashSet::new();
    for c in a.connect.iter().chain(&a.addpeer) {
        if given.insert(c.with_port(net)) {
            cfg.persistent.push(resolve(c, net).await?);
        }
    }
    cfg.listen = a.listen.iter().map(|b| b.with_port(net)).collect();
    // dcrd's server queues `sendheaders` to every peer before anything
    // else; the serving rules answer the rest.
    cfg.on_peer = Some(Arc::new(|p: &Peer| {
        let _ = welcome(p);
    }));
    let (tx, mut events) = mpsc::channel::<PeerEvent>(1024);
    cfg.events = Some(tx);
    // Subscribed from the start: the first outbound peers and a peer that
    // connects as soon as it reads the listening addresses are printed too.
    let (m, mut manager_events) = ConnManager::start_subscribed(cfg).await?;
    // The manager answers the address messages from its book; the serving
    // rules take everything else, their verdicts applied to the manager's
    // ban list.
    let (serve_tx, serve_rx) = mpsc::channel::<PeerEvent>(1024);
    tokio::spawn(async move {
        while let Some(ev) = events.recv().await {
            if matches!(
                ev.message,
                Message::Addr(_) | Message::AddrV2(_) | Message::GetAddr(_)
            ) {
                continue;
            }
            print_blocks(&ev, json);
            if serve_tx.send(ev).await.is_err() {
                return;
            }
        }
    });
    tokio::spawn(serve_welcomed(
        Arc::new(Served::new(chain)),
        serve_rx,
        ManagerSanctions::new(m.clone()),
    ));
    for addr in m.listen_addrs() {
        if json {
            event(
                "listening",
                json!({ "addr": addr.to_string(), "net": net.name() }),
            );
        } else {
            say!("listening on {addr}");
        }
    }
    let outcome = loop {
        tokio::select! {
            () = pressed() => break Err(Interrupted.into()),
            ev = manager_events.recv() => match ev {
                Ok(E::Connected(s)) => {
                    if json {
                        event("connected", connected_json(
                            s.addr, s.direction, &s.user_agent, s.protocol_version, s.starting_height,
                        ));
                    } else {
                        say!(
                            "peer {} connected: {} ({:?}, protocol {}, height {})",
                            s.addr, s.user_agent, s.direction, s.protocol_version, s.starting_height
                        );
                    }
                }
                Ok(E::Disconnected { addr, reason, .. }) => {
                    if json {
                        event("disconnected", json!({
                            "addr": addr.to_string(),
                            "reason": reason.to_string(),
                        }));
                    } else {
                        say!("peer {addr} disconnected: {reason}");
                    }
                }
                Ok(E::Banned { ip, until }) => {
                    let secs = until.saturating_duration_since(tokio::time::Instant::now()).as_secs();
                    if json {
                        event("banned", json!({ "ip": ip.to_string(), "seconds": secs }));
                    } else {
                        say!("banned {ip} for {}", crate::args::count(secs, "second"));
                    }
                }
                Ok(E::DialFailed { addr, error }) => {
                    // Said as `connect` says it; a silent second
                    // connection may be needed to say it, so it comes
                    // when known.
                    tokio::spawn(async move {
                        let why = crate::dial::explain(&error, net, Some(&addr.to_string())).await;
                        if json {
                            event("dial_failed", json!({ "addr": addr.to_string(), "error": why }));
                        } else {
                            say!("dial {addr} failed: {why}");
                        }
                    });
                }
                Ok(_) => {}
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(_) => break Ok(()),
            }
        }
    };
    m.shutdown(Duration::from_secs(10)).await?;
    outcome
}
