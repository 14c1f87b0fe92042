//! `dcrpeer crawl`: the peers reachable from a seed, printed as they are
//! found.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::anyhow;
use clap::Args;
use dcr_node::serve::node_config;
use dcr_peer::connmgr::ManagerError;
use dcr_peer::Hooks;
use dcr_wire::CurrencyNet;
use serde_json::json;

use crate::args::{self, count, Target};
use crate::output::{event, to_json};
use crate::NetArg;

#[derive(Args, Debug)]
pub struct CrawlArgs {
    /// The node to start from.
    #[arg(long, value_name = "HOST[:PORT]", value_parser = args::target)]
    seed: Target,
    #[command(flatten)]
    net: NetArg,
    /// Peers connected at once.
    #[arg(long, value_name = "N", default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..))]
    max: u32,
    /// Stop after this many seconds even if addresses are left to try.
    #[arg(long, value_name = "SECS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    duration: u64,
    /// Print a JSON line per peer found ({"event":"peer",...}) as it is
    /// found, and one at the end ({"event":"done","peers":N}).
    #[arg(long)]
    json: bool,
}

/// The first address `target` resolves to, with the network's port when it
/// names none.
pub async fn resolve(target: &Target, net: CurrencyNet) -> anyhow::Result<SocketAddr> {
    let with_port = target.with_port(net);
    let mut addrs = tokio::net::lookup_host(with_port.as_str())
        .await
        .map_err(|e| anyhow!("{target}: {e}"))?;
    addrs.next().ok_or_else(|| anyhow!("{target}: no address"))
}

pub async fn run(a: CrawlArgs) -> anyhow::Result<()> {
    let net = a.net.net;
    let seed = resolve(&a.seed, net).await?;
    let json = a.json;
    // The table's header comes with its first row: a crawl that finds
    // nothing prints only its verdict.
    let mut header = !json;
    let found = dcr_peer::connmgr::crawl(
        seed,
        node_config(net, "dcrpeer"),
        Hooks::new(),
        a.max as usize,
        Duration::from_secs(a.duration),
        Duration::from_secs(a.duration.min(15)),
        |r| {
            if json {
                event(
                    "peer",
                    json!({ "addr": r.addr.to_string(), "stats": to_json(&r.stats) }),
                );
                return;
            }
            if std::mem::take(&mut header) {
                say!(
                    "{:<22} {:<40} {:>5} {:>18} {:>8} {:>9}",
                    "address",
                    "user agent",
                    "pver",
                    "services",
                    "height",
                    "rtt ms"
                );
            }
            let s = &r.stats;
            say!(
                "{:<22} {:<40} {:>5} {:>#18x} {:>8} {:>9}",
                r.addr.to_string(),
                s.user_agent,
                s.remote_protocol_version,
                s.services.0,
                s.starting_height,
                s.counters
                    .ping_rtt
                    .map_or("-".to_string(), |d| format!("{:.1}", d.as_secs_f64() * 1e3))
            );
        },
    )
    .await;
    let rows = match found {
        Ok(rows) => rows,
        // Said as `connect` says it: the same dial, the same reasons.
        Err(ManagerError::SeedUnreachable { seed, error }) => {
            let why = crate::dial::explain(&error, net, Some(&seed.to_string())).await;
            if crate::dial::closed_during_handshake(&error) {
                return Err(anyhow!("seed {seed}: {why}"));
            }
            return Err(anyhow!("seed {seed} unreachable: {why}"));
        }
        Err(e) => return Err(e.into()),
    };
    if json {
        event("done", json!({ "peers": rows.len() }));
    } else {
        say!("{} found", count(rows.len() as u64, "peer"));
    }
    Ok(())
}
