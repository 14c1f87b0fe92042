//! `dcrpeer spv`: a light client's sync from the network, with every
//! filter proven against its header, printing the tip, the counts and
//! each transaction found for the watched scripts and addresses.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context};
use clap::Args;
use dcr_node::serve::{answer_as_client, node_config, welcome};
use dcr_peer::connmgr::{ConnManager, ManagerConfig, ManagerEvent};
use dcr_peer::{Peer, PeerEvent, PeerSet, PeerSetConfig};
use dcr_spv::{Params, WatchList};
use dcr_spv_net::{Found, LightClient, Progress, SyncConfig, SyncReport};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::json;
use tokio::sync::mpsc;

use crate::args::{self, Target};
use crate::interrupt::{pressed, Interrupted};
use crate::output::Usage;

#[derive(Args, Debug)]
pub struct SpvArgs {
    /// Sync from this node only, kept connected, redialed when lost,
    /// unless banned (repeatable; dcrd's --connect). Without it, peers are
    /// chosen from the address book in --datadir (peers.json, as `dcrpeer
    /// node --datadir` keeps it) and the network's DNS seeds; dcrd chooses
    /// none on simnet and regnet, where --connect is needed.
    #[arg(long = "connect", value_name = "HOST[:PORT]", value_parser = args::target)]
    connect: Vec<Target>,
    /// Outbound peers to choose from the address book (without
    /// --connect).
    #[arg(
        long,
        value_name = "N",
        default_value_t = 8,
        conflicts_with = "connect"
    )]
    target: usize,
    #[command(flatten)]
    net: super::NetArg,
    /// An address (P2PKH or P2SH of the network) or an output script in
    /// hex to look for (repeatable).
    #[arg(long = "watch", value_name = "SCRIPT|ADDRESS")]
    watch: Vec<String>,
    /// Where headers and filters are kept across runs (a new sync starts
    /// where the last one stopped).
    #[arg(long, value_name = "DIR")]
    datadir: PathBuf,
    /// Blocks per `getcfsv2` request (1 to 100).
    #[arg(long, value_name = "N", default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=100))]
    filter_batch: u32,
    /// Print the report as one JSON object (with --follow: one JSON
    /// object a line, an event each).
    #[arg(long)]
    json: bool,
    /// After the sync, keep following the tip: each block the peers
    /// announce is checked, its filter proven and matched; print each new
    /// tip, reorganization and match as it comes, until Ctrl-C (status
    /// 130, after the report).
    #[arg(long)]
    follow: bool,
}

impl SpvArgs {
    /// Whether the run keeps going until Ctrl-C (it then handles the
    /// signal itself, to close the store and print its report).
    pub fn follows(&self) -> bool {
        self.follow
    }
}

/// The watch list from `--watch` values: addresses of `params`' network,
/// else output scripts in hex.
fn watch_list(values: &[String], params: &Params) -> anyhow::Result<WatchList> {
    let mut watch = WatchList::new();
    for v in values {
        if watch.add_address(v, params).is_ok() {
            continue;
        }
        match hex::decode(v) {
            Ok(script) if !script.is_empty() => watch.add_script(script),
            _ => {
                return Err(Usage(format!(
                    "--watch {v}: neither a {} address nor a hex script",
                    params.name
                ))
                .into())
            }
        }
    }
    Ok(watch)
}

/// The progress bar: drawn on stderr when both stdout and stderr are a
/// terminal and the report is not JSON; hidden otherwise (a pipe or a
/// file gets the report alone).
fn bar(json: bool) -> ProgressBar {
    let bar = ProgressBar::new(0);
    if json || !std::io::stdout().is_terminal() || !std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar.set_style(
        ProgressStyle::with_template("{msg:>8} [{bar:40}] {pos}/{len} {per_sec}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar
}

/// The addresses of the network's DNS seeds (dcrd's `DNSSeeds`), at the
/// default port; a seed that does not answer in 10 s is skipped.
async fn dns_seeds(net: dcr_wire::CurrencyNet) -> Vec<SocketAddr> {
    let p = dcr_wire::params::Params::of(net);
    let mut seeds = Vec::new();
    for seed in p.dns_seeds {
        let lookup = tokio::net::lookup_host((seed.host, p.default_port));
        match tokio::time::timeout(Duration::from_secs(10), lookup).await {
            Ok(Ok(addrs)) => seeds.extend(addrs),
            Ok(Err(e)) => tracing::info!(seed = seed.host, error = %e, "DNS seed not resolved"),
            Err(_) => tracing::info!(seed = seed.host, "DNS seed did not answer"),
        }
    }
    seeds
}

pub async fn run(a: SpvArgs) -> anyhow::Result<()> {
    let net = a.net.net;
    let params = Params::for_net(net).ok_or_else(|| anyhow!("no chain parameters for {net:?}"))?;
    let watch = watch_list(&a.watch, params)?;
    let mut cfg = ManagerConfig::new(node_config(net, "dcrpeer"));
    if a.connect.is_empty() {
        if !cfg.rules.automatic_outbound {
            return Err(Usage(format!(
                "{}: give the nodes to sync from with --connect (dcrd chooses no peers \
                 from an address book on simnet and regnet)",
                params.name
            ))
            .into());
        }
        cfg.target_outbound = a.target;
        cfg.datadir = Some(a.datadir.clone());
        cfg.seeds = dns_seeds(net).await;
    } else {
        cfg = cfg.connect_only();
        for t in &a.connect {
            cfg.persistent.push(crate::crawl::resolve(t, net).await?);
        }
    }
    // dcrd asks every peer for its initial state and drops it unanswered.
    let (tx, events) = mpsc::channel::<PeerEvent>(1024);
    cfg.events = Some(tx);
    let mut answered = answer_as_client(events, 64);
    let announcements = if a.follow {
        // Block announcements as headers, as dcrwallet asks of its peers
        // (dcrd's server.go `OnSendHeaders`); inv otherwise.
        cfg.on_peer = Some(Arc::new(|p: &Peer| {
            let _ = welcome(p);
        }));
        Some(answered)
    } else {
        tokio::spawn(async move { while answered.recv().await.is_some() {} });
        None
    };
    let connect_only = !a.connect.is_empty();
    let (manager, mut manager_events) = ConnManager::start_subscribed(cfg).await?;
    if connect_only {
        // The nodes given are dialed until they answer; a failed dial is
        // said (as `node` says it), or the sync waits without a word for
        // a node that is down or a port mistyped.
        tokio::spawn(async move {
            use tokio::sync::broadcast::error::RecvError;
            loop {
                match manager_events.recv().await {
                    Ok(ManagerEvent::DialFailed { addr, error }) => {
                        let probe = addr.to_string();
                        let why = crate::dial::explain(&error, net, Some(&probe)).await;
                        tracing::warn!("dial {addr} failed: {why}; trying again");
                    }
                    Ok(_) | Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => break,
                }
            }
        });
    }
    let set = PeerSet::follow(manager.clone(), PeerSetConfig::default()).await?;
    let mut config = SyncConfig::new(params.clone(), &a.datadir);
    config.filter_batch = a.filter_batch;
    let client = LightClient::open(config, set, watch)
        .with_context(|| format!("{}", a.datadir.display()))?;
    let started = Instant::now();
    let json = a.json;
    let bar = bar(json);
    let report = if let Some(announcements) = announcements {
        client
            .follow(announcements, pressed(), |p| {
                show(&bar, p, json);
                tell(&bar, p, json);
            })
            .await
    } else {
        client.run(|p| show(&bar, p, json)).await
    }
    .map_err(|e| anyhow!("sync: {e}"));
    bar.finish_and_clear();
    let _ = manager.shutdown(Duration::from_secs(10)).await;
    let report = report?;
    if json && a.follow {
        let mut doc = to_json(&report, started.elapsed());
        if let Some(o) = doc.as_object_mut() {
            o.insert("event".to_string(), json!("stopped"));
        }
        say!("{doc}");
    } else if json {
        say!("{}", to_json(&report, started.elapsed()));
    } else {
        print(&report, started.elapsed());
    }
    if a.follow {
        // Only Ctrl-C ends a follow.
        return Err(Interrupted.into());
    }
    Ok(())
}

/// With --follow: prints each tip reached, reorganization and match as
/// it happens (text, or one JSON event a line).
fn tell(bar: &ProgressBar, p: &Progress, json: bool) {
    let line = match p {
        Progress::Tip { height, hash } if json => {
            json!({ "event": "tip", "height": height, "hash": hash.to_string() }).to_string()
        }
        Progress::Tip { height, hash } => format!("tip {hash} (height {height})"),
        Progress::Found(f) if json => {
            let mut doc = found_json(f);
            if let Some(o) = doc.as_object_mut() {
                o.insert("event".to_string(), json!("found"));
            }
            doc.to_string()
        }
        Progress::Found(f) => format!(
            "found height {} block {} tx {} (tree {}, outputs {:?}, spends {})",
            f.height,
            f.block,
            f.tx.hash,
            f.tx.tree,
            f.tx.outputs,
            f.tx.spends.len()
        ),
        Progress::Reorganized { fork } if json => {
            json!({ "event": "reorganized", "fork": fork }).to_string()
        }
        Progress::Banned { addr, reason } if json => json!({
            "event": "banned",
            "addr": addr.to_string(),
            "reason": reason.to_string(),
        })
        .to_string(),
        // Said by `show` in text.
        _ => return,
    };
    bar.suspend(|| say!("{line}"));
}

fn found_json(f: &Found) -> serde_json::Value {
    json!({
        "height": f.height,
        "block": f.block.to_string(),
        "tx": f.tx.hash.to_string(),
        "tree": f.tx.tree,
        "index": f.tx.index,
        "outputs": f.tx.outputs,
        "spends": f.tx.spends.iter().map(|o| format!("{}:{}", o.hash, o.index)).collect::<Vec<_>>(),
    })
}

/// Moves the bar; prints what was found and who was banned as it
/// happens (not with `--json`, whose object has them).
fn show(bar: &ProgressBar, p: &Progress, json: bool) {
    match p {
        Progress::Headers { height } => {
            bar.set_message("headers");
            bar.set_length(u64::from(*height));
            bar.set_position(u64::from(*height));
        }
        Progress::Filters { height, tip } => {
            bar.set_message("filters");
            bar.set_length(u64::from(*tip));
            bar.set_position(u64::from(*height));
        }
        Progress::Banned { addr, reason } if !json => {
            bar.suspend(|| say!("banned {addr}: {reason}"));
        }
        Progress::Reorganized { fork } if !json => {
            bar.suspend(|| say!("reorganized at height {fork}"));
        }
        _ => {}
    }
}

fn print(r: &SyncReport, took: Duration) {
    say!("tip:             {} (height {})", r.tip_hash, r.tip_height);
    say!(
        "headers:         {} new, {} from the store",
        r.headers,
        r.resumed_headers
    );
    say!(
        "filters:         {} stored, {} proven against their headers",
        r.filters,
        r.proven
    );
    say!("side headers:    {} (less work, ignored)", r.side_headers);
    say!("blocks:          {} fetched and proven", r.blocks);
    say!("time:            {:.1} s", took.as_secs_f64());
    if r.banned_dropped > 0 {
        say!("banned:          {} more before these", r.banned_dropped);
    }
    for (addr, reason) in &r.banned {
        say!("banned:          {addr}: {reason}");
    }
    if r.swapped_dropped > 0 {
        say!("swapped out:     {} more before these", r.swapped_dropped);
    }
    for addr in &r.swapped_out {
        say!("swapped out:     {addr} (silent or slow)");
    }
    say!("found:           {}", r.found.len());
    for f in &r.found {
        say!(
            "  height {} block {} tx {} (tree {}, outputs {:?}, spends {})",
            f.height,
            f.block,
            f.tx.hash,
            f.tx.tree,
            f.tx.outputs,
            f.tx.spends.len()
        );
    }
}

fn to_json(r: &SyncReport, took: Duration) -> serde_json::Value {
    json!({
        "tip": { "height": r.tip_height, "hash": r.tip_hash.to_string() },
        "headers": r.headers,
        "resumed_headers": r.resumed_headers,
        "filters": r.filters,
        "proven": r.proven,
        "side_headers": r.side_headers,
        "blocks": r.blocks,
        "seconds": took.as_secs_f64(),
        "found": r.found.iter().map(found_json).collect::<Vec<_>>(),
        "banned": r.banned.iter().map(|(a, reason)| json!({
            "addr": a.to_string(),
            "reason": reason.to_string(),
        })).collect::<Vec<_>>(),
        "banned_dropped": r.banned_dropped,
        "swapped_out": r.swapped_out.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
        "swapped_dropped": r.swapped_dropped,
    })
}
