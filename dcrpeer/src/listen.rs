//! `dcrpeer listen`: accept peers and serve them a chain, printing the
//! peers coming and going until Ctrl-C.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::anyhow;
use clap::Args;
use dcr_node::chain::load_chain_dir;
use dcr_node::serve::{serve_with, serving_config, serving_hooks, DisconnectOnly, Served};
use dcr_node::store::ChainStore;
use serde_json::json;
use tokio::sync::mpsc;

use crate::args::{self, count, BindAddr};
use crate::capture::CaptureFile;
use crate::connect::captured;
use crate::interrupt::{pressed, Interrupted};
use crate::output::{connected_json, event};
use crate::NetArg;

#[derive(Args, Debug)]
pub struct ListenArgs {
    /// Where to listen: IP or IP:PORT (default: 127.0.0.1; the port
    /// defaults to the network's; 0 takes any free port).
    #[arg(long, value_name = "IP[:PORT]", value_parser = args::bind_addr)]
    bind: Option<BindAddr>,
    #[command(flatten)]
    net: NetArg,
    /// A folder of block files to serve (default: the demo chain).
    #[arg(long, value_name = "DIR")]
    chain: Option<PathBuf>,
    /// Print a JSON line per event (listening, connected, disconnected)
    /// instead of text.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub capture: args::CaptureArg,
}

/// The chain in `dir`, or the demo chain.
pub fn chain_or_demo(dir: Option<&std::path::Path>) -> anyhow::Result<Arc<ChainStore>> {
    let blocks = match dir {
        Some(dir) => load_chain_dir(dir)?,
        None => crate::demo::chain()?.1,
    };
    Ok(Arc::new(ChainStore::new(blocks)?))
}

pub async fn run(a: ListenArgs, capture: Option<&CaptureFile>) -> anyhow::Result<()> {
    let net = a.net.net;
    let bind = a.bind.unwrap_or_else(BindAddr::loopback).with_port(net);
    let chain = chain_or_demo(a.chain.as_deref())?;
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .map_err(|e| anyhow!("cannot listen on {bind}: {e}"))?;
    let local = listener.local_addr()?;
    let (tx, rx) = mpsc::channel(1024);
    let cfg = serving_config(net, "dcrpeer");
    let hooks = captured(serving_hooks(&chain).with_events(tx), capture);
    let json = a.json;
    if json {
        event(
            "listening",
            json!({ "addr": local.to_string(), "net": net.name(), "blocks": chain.len() }),
        );
    } else {
        say!(
            "listening on {local} ({}), serving {}; Ctrl-C to stop",
            net.name(),
            count(chain.len() as u64, "block")
        );
    }
    // The serving loop is told of each peer as its handshake completes,
    // to send it `sendheaders` before anything else (dcrd's server).
    let (peer_tx, peer_rx) = mpsc::channel(64);
    let node = Arc::new(Served::new(chain));
    tokio::spawn(serve_with(
        node,
        rx,
        Some(peer_rx),
        DisconnectOnly::default(),
    ));
    // dcrd's --maxpeers (125) bounds the peers held, handshakes included,
    // and its --maxsameip (5) those of one host (loopback exempt).
    let limits = dcr_peer::admission::Limits {
        max_peers: Some(dcr_peer::connmgr::DEFAULT_MAX_PEERS),
        max_per_host: Some(dcr_peer::connmgr::DEFAULT_MAX_PER_HOST),
        ..Default::default()
    };
    let mut peers = dcr_peer::net::serve_with(listener, cfg, hooks, limits);
    loop {
        tokio::select! {
            () = pressed() => return Err(Interrupted.into()),
            p = peers.recv() => match p {
                Some(p) => {
                    // Full: the serving loop welcomes the peer at its
                    // first message instead.
                    let _ = peer_tx.try_send(p.clone());
                    let ua = p.remote_version().map(|r| r.user_agent.clone()).unwrap_or_default();
                    if json {
                        let height = p.remote_version().map_or(0, |r| r.starting_height);
                        event("connected", connected_json(
                            p.addr(), p.direction(), &ua, p.protocol_version(), height,
                        ));
                    } else {
                        say!("peer {} connected: {ua} (protocol {})", p.addr(), p.protocol_version());
                    }
                    tokio::spawn(async move {
                        let reason = p.wait_for_disconnect().await;
                        if json {
                            event("disconnected", json!({
                                "addr": p.addr().to_string(),
                                "reason": reason.to_string(),
                            }));
                        } else {
                            say!("peer {} disconnected: {reason}", p.addr());
                        }
                    });
                }
                None => anyhow::bail!("listener stopped"),
            }
        }
    }
}
