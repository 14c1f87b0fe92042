//! `dcrpeer connect`: a handshake with a node, its headers, optionally its
//! last blocks; or with `--listen-only`, every message it sends.

use std::time::Instant;

use anyhow::{bail, Context};
use clap::Args;
use dcr_node::serve::{answer_as_client, node_config};
use dcr_node::sync::{fetch_blocks, sync_headers};
use dcr_peer::proxy::{Proxy, ProxyAuth};
use dcr_peer::{Hooks, Peer, PeerEvent};
use dcr_wire::Hash;
use serde_json::json;
use tokio::sync::mpsc;

use crate::args::{self, count, Target};
use crate::capture::CaptureFile;
use crate::interrupt::{or_interrupted, pressed, Interrupted};
use crate::output::{event, to_json};
use crate::progress::Bar;
use crate::NetArg;

#[derive(Args, Debug)]
pub struct ConnectArgs {
    /// The node: HOST, HOST:PORT, IPv6 or [IPv6]:PORT (the network's port
    /// when none is given).
    #[arg(value_name = "HOST[:PORT]", value_parser = args::target)]
    target: Target,
    #[command(flatten)]
    net: NetArg,
    /// Connect through this SOCKS5 proxy, with a username and password
    /// when given (RFC 1929).
    #[arg(long, value_name = "socks5://[USER:PASS@]HOST:PORT", value_parser = args::proxy)]
    proxy: Option<Proxy>,
    /// Give the proxy fresh random credentials for this connection, so Tor
    /// puts it on a circuit of its own (as dcrd's --torisolation).
    #[arg(long, requires = "proxy")]
    tor_isolation: bool,
    /// Ask for headers after this block hash (default: after genesis).
    #[arg(long, value_name = "HASH")]
    locator: Option<Hash>,
    /// Fetch the last N blocks of the headers synced and check them.
    #[arg(long, value_name = "N", default_value_t = 0)]
    blocks: usize,
    /// After the handshake, print every message received until Ctrl-C
    /// (with --json, a JSON line each).
    #[arg(long, conflicts_with_all = ["blocks", "locator"])]
    listen_only: bool,
    /// Print what was learned as one JSON object (with --listen-only, a
    /// JSON line per event).
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub capture: args::CaptureArg,
}

/// `hooks`, recording into `capture` when there is one.
pub fn captured(hooks: Hooks, capture: Option<&CaptureFile>) -> Hooks {
    match capture {
        Some(c) => c.wire(hooks),
        None => hooks,
    }
}

pub async fn run(a: ConnectArgs, capture: Option<&CaptureFile>) -> anyhow::Result<()> {
    let net = a.net.net;
    let target = a.target.with_port(net);
    let (tx, events) = mpsc::channel::<PeerEvent>(1024);
    let mut cfg = node_config(net, "dcrpeer");
    cfg.proxy = a.proxy.clone().map(|p| match a.tor_isolation {
        true => p.with_auth(ProxyAuth::Isolated),
        false => p,
    });
    // dcrd asks for our initial state and drops us unanswered.
    let mut events = answer_as_client(events, 1024);
    let hooks = captured(Hooks::new().with_events(tx), capture);
    let peer = or_interrupted(crate::dial::dial(&target, net, cfg, hooks)).await?;
    let r = peer
        .remote_version()
        .context("no version received")?
        .clone();
    if a.json && a.listen_only {
        event(
            "connected",
            json!({
                "target": target,
                "net": net.name(),
                "remote": remote_json(&peer),
            }),
        );
    } else if !a.json {
        say!("connected to {target}");
        say!("  user agent     {}", r.user_agent);
        say!(
            "  protocol       {} (negotiated {})",
            r.protocol_version,
            peer.protocol_version()
        );
        say!("  services       {:#x}", r.services.0);
        say!("  height         {}", r.starting_height);
        say!("  time offset    {} s", r.time_offset);
    }
    if a.listen_only {
        return listen_only(&peer, &mut events, a.json).await;
    }
    let outcome = or_interrupted(sync(&a, &peer, &mut events, r.starting_height)).await;
    peer.disconnect();
    peer.wait_for_disconnect().await;
    outcome
}

/// The remote's version, as the JSON of `connect` gives it.
fn remote_json(peer: &Peer) -> serde_json::Value {
    let Some(r) = peer.remote_version() else {
        return serde_json::Value::Null;
    };
    json!({
        "user_agent": r.user_agent,
        "protocol_version": r.protocol_version,
        "negotiated_version": peer.protocol_version(),
        "services": r.services.0,
        "starting_height": r.starting_height,
        "time_offset": r.time_offset,
    })
}

/// Headers, then the blocks asked for, and the report.
async fn sync(
    a: &ConnectArgs,
    peer: &Peer,
    events: &mut mpsc::Receiver<PeerEvent>,
    starting_height: i64,
) -> anyhow::Result<()> {
    let net = a.net.net;
    let target = a.target.with_port(net);
    let locator = vec![a.locator.unwrap_or(Hash::ZERO)];
    // From genesis, the node's height is the number of headers to come.
    let expected = match a.locator {
        None => u64::try_from(starting_height).ok(),
        Some(_) => None,
    };
    let bar = Bar::new(expected);
    let mut progress = |p| bar.show(p);
    let started = Instant::now();
    let headers = sync_headers(peer, events, locator, &mut progress).await?;
    bar.finish();
    let header_secs = started.elapsed().as_secs_f64();
    // With no header after the locator, the tip is the locator's block.
    // From genesis (an unknown locator starts there), none means the node
    // has only its genesis block, or has blocks it does not serve yet (dcrd
    // answers nothing while it syncs).
    let genesis = net.params().genesis_hash;
    let (tip, tip_height, tip_note) = match (headers.hashes.last(), a.locator) {
        (Some(&tip), _) => (tip, Some(headers.tip_height), None),
        (None, None) if starting_height <= 0 => (
            genesis,
            Some(0),
            Some("the genesis block: the node has no other".to_string()),
        ),
        (None, None) => (
            genesis,
            Some(0),
            Some(format!(
                "the genesis block: the node announced height {starting_height} but sent no \
                 headers after genesis; is it still syncing?"
            )),
        ),
        (None, Some(locator)) => (
            locator,
            None,
            Some("the locator: the node sent no headers after it".to_string()),
        ),
    };
    let base = match headers.hashes.is_empty() {
        false => headers.base,
        true => a.locator.unwrap_or(genesis),
    };
    if !a.json {
        say!(
            "headers:         {} in {header_secs:.1} s",
            headers.hashes.len()
        );
        match (tip_height, &tip_note) {
            (Some(h), None) => say!("tip:             {tip} (height {h})"),
            (Some(h), Some(note)) => say!("tip:             {tip} (height {h}, {note})"),
            (None, note) => say!(
                "tip:             {tip} ({})",
                note.as_deref().unwrap_or_default()
            ),
        }
    }
    let mut fetched = None;
    if a.blocks > 0 {
        let from = headers.hashes.len().saturating_sub(a.blocks);
        let bar = Bar::new(None);
        let mut progress = |p| bar.show(p);
        let r = fetch_blocks(peer, events, &headers.hashes[from..], &mut progress).await?;
        bar.finish();
        if !a.json {
            say!(
                "blocks:          {} ({}, {}), every hash, link and root checked",
                r.blocks,
                count(r.transactions as u64, "transaction"),
                count(r.bytes as u64, "byte")
            );
        }
        fetched = Some(r);
    }
    if a.json {
        let doc = json!({
            "target": target,
            "net": net.name(),
            "remote": remote_json(peer),
            "headers": {
                "count": headers.hashes.len(),
                "base": base.to_string(),
                "tip": tip.to_string(),
                "tip_height": tip_height,
                "seconds": header_secs,
            },
            "blocks": fetched.as_ref().map(|r| json!({
                "count": r.blocks,
                "transactions": r.transactions,
                "bytes": r.bytes,
            })),
            "stats": to_json(&peer.stats()),
        });
        say!("{doc}");
    }
    Ok(())
}

async fn listen_only(
    peer: &Peer,
    events: &mut mpsc::Receiver<PeerEvent>,
    json: bool,
) -> anyhow::Result<()> {
    if !json {
        say!("listening; Ctrl-C to stop");
    }
    let outcome = loop {
        tokio::select! {
            () = pressed() => break Err(Interrupted.into()),
            ev = events.recv() => match ev {
                Some(ev) => {
                    let doc = crate::jsonio::message_json(&ev.message);
                    if json {
                        event("message", json!({
                            "command": ev.message.command().as_str(),
                            "fields": doc["fields"],
                        }));
                    } else {
                        say!("{} {}", ev.message.command(), doc["fields"]);
                    }
                }
                // The events end when the peer does: the remote went,
                // not Ctrl-C, so it is a failure with its reason, whichever
                // of the two the select saw first.
                None => {
                    let reason = peer.wait_for_disconnect().await;
                    bail!("peer disconnected: {reason}");
                }
            },
            reason = peer.wait_for_disconnect() => {
                bail!("peer disconnected: {reason}");
            }
        }
    };
    peer.disconnect();
    peer.wait_for_disconnect().await;
    outcome
}
