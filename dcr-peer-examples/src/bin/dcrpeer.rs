//! `dcrpeer`: the command-line tool. Run `dcrpeer help` for the commands.
//!
//! Errors are one line on stderr and a non-zero exit status.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use dcr_peer::{Peer, PeerEvent, PeerStats};
use dcr_peer_examples::chain::{load_chain_dir, load_demo_chain, ChainSource};
use dcr_peer_examples::demo::run_demo;
use dcr_peer_examples::jsonio::{decode_json, encode_json, Input};
use dcr_peer_examples::serve::{answer_as_client, node_config, serve_chain, serving_config};
use dcr_peer_examples::store::ChainStore;
use dcr_peer_examples::sync::{fetch_blocks, sync_headers, Progress};
use dcr_wire::{pver, Command, CurrencyNet, Hash};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::sync::mpsc;

const USAGE: &str = "usage:
  dcrpeer demo [--built N]
      serve a chain on 127.0.0.1 and sync it with a second peer, in one process
  dcrpeer connect HOST[:PORT] [--net NET] [--proxy socks5://HOST:PORT] [--locator HASH] [--blocks N] [--listen-only]
      handshake with a node, sync its headers, optionally fetch the last N blocks
  dcrpeer listen [--bind ADDR] [--net NET] [--chain DIR]
      accept peers and serve headers and blocks from a chain
  dcrpeer crawl --seed HOST:PORT [--net NET] [--max N] [--duration SECS]
      connect, ask every peer for addresses, connect to what is learned; print the peers found
  dcrpeer node [--connect HOST:PORT]... [--listen ADDR]... [--net NET] [--target N]
      keep peers up with the connection manager and print what happens until Ctrl-C
  dcrpeer decode [--pver N] [--net NET] (--hex HEX | --file PATH) [--frame | --payload --command NAME]
      print a message as JSON: the reference's fields, and beside them (\"hashes\") the block
      and proof-of-work hashes of headers and blocks and the hashes of transactions
  dcrpeer encode [--pver N] [--net NET | --payload] (--json JSON | --file PATH)
NET is mainnet, testnet, simnet or regnet (default mainnet; demo uses simnet).
Logs go to stderr; set RUST_LOG (e.g. RUST_LOG=debug) for more.";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let result = run(&args);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("dcrpeer: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &[String]) -> Result<(), String> {
    let rest = args.get(1..).unwrap_or_default();
    let rt = || {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the runtime: {e}"))
    };
    match args.first().map(String::as_str) {
        Some("demo") => rt()?.block_on(demo(rest)),
        Some("connect") => rt()?.block_on(connect(rest)),
        Some("listen") => rt()?.block_on(listen(rest)),
        Some("crawl") => rt()?.block_on(crawl(rest)),
        Some("node") => rt()?.block_on(node(rest)),
        Some("decode") => decode(rest),
        Some("encode") => encode(rest),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            Ok(())
        }
        Some(other) => Err(format!("unknown command {other:?}; run `dcrpeer help`")),
        None => Err("no command given; run `dcrpeer help`".into()),
    }
}

/// Options of one command: `--name value` pairs and `--flag`s.
struct Opts<'a> {
    args: &'a [String],
    positional: Vec<&'a str>,
}

impl<'a> Opts<'a> {
    fn parse(args: &'a [String], flags: &[&str], valued: &[&str]) -> Result<Opts<'a>, String> {
        let mut positional = Vec::new();
        let mut i = 0;
        while i < args.len() {
            let a = args[i].as_str();
            if valued.contains(&a) {
                if i + 1 >= args.len() {
                    return Err(format!("{a} needs a value"));
                }
                i += 2;
                continue;
            }
            if !flags.contains(&a) {
                if a.starts_with("--") {
                    return Err(format!("unknown option {a}; run `dcrpeer help`"));
                }
                positional.push(a);
            }
            i += 1;
        }
        Ok(Opts { args, positional })
    }

    fn value(&self, name: &str) -> Option<&'a str> {
        self.args
            .iter()
            .position(|a| a == name)
            .and_then(|i| self.args.get(i + 1))
            .map(String::as_str)
    }

    fn flag(&self, name: &str) -> bool {
        self.args.iter().any(|a| a == name)
    }

    fn number<T: std::str::FromStr>(&self, name: &str, default: T) -> Result<T, String> {
        match self.value(name) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|_| format!("{name} takes a number, not {v:?}")),
        }
    }

    fn net(&self, default: CurrencyNet) -> Result<CurrencyNet, String> {
        match self.value("--net") {
            None => Ok(default),
            Some(v) => CurrencyNet::from_name(v).ok_or_else(|| format!("unknown network {v:?}")),
        }
    }
}

fn default_port(net: CurrencyNet) -> u16 {
    match net {
        CurrencyNet::MainNet => 9108,
        CurrencyNet::TestNet3 => 19108,
        CurrencyNet::SimNet => 18555,
        CurrencyNet::RegNet => 18655,
    }
}

/// `target` with the network's default port when it names none: a host
/// name, an IPv4 or an IPv6 address (bare or in brackets).
fn with_default_port(target: &str, net: CurrencyNet) -> String {
    if target.parse::<std::net::SocketAddr>().is_ok() {
        return target.to_string();
    }
    let bare = target.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<std::net::IpAddr>() {
        return std::net::SocketAddr::new(ip, default_port(net)).to_string();
    }
    match target.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') && port.parse::<u16>().is_ok() => {
            target.to_string()
        }
        _ => format!("{target}:{}", default_port(net)),
    }
}

fn progress_bar() -> ProgressBar {
    let bar = ProgressBar::new(0);
    if !std::io::stdout().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar.set_style(
        ProgressStyle::with_template("{msg:>8} [{bar:40}] {pos}/{len} {per_sec}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar
}

fn show(bar: &ProgressBar, p: Progress) {
    match p {
        Progress::Headers(n) => {
            bar.set_message("headers");
            bar.set_length(n as u64);
            bar.set_position(n as u64);
        }
        Progress::Blocks { done, total } => {
            bar.set_message("blocks");
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        }
    }
}

fn print_stats(who: &str, s: &PeerStats) {
    println!("{who}:");
    println!("  address        {} ({:?})", s.addr, s.direction);
    println!("  user agent     {}", s.user_agent);
    println!(
        "  protocol       {} (remote {})",
        s.protocol_version, s.remote_protocol_version
    );
    println!("  services       {:#x}", s.services.0);
    println!(
        "  height         {} (starting {})",
        s.counters.last_block_height, s.starting_height
    );
    println!(
        "  sent           {} messages, {} bytes",
        s.counters.messages_sent, s.counters.bytes_sent
    );
    println!(
        "  received       {} messages, {} bytes",
        s.counters.messages_received, s.counters.bytes_received
    );
    println!("  time offset    {} s", s.time_offset);
    match s.counters.ping_rtt {
        Some(rtt) => println!("  ping rtt       {:.3} ms", rtt.as_secs_f64() * 1e3),
        None => println!("  ping rtt       (no ping answered yet)"),
    }
}

async fn demo(args: &[String]) -> Result<(), String> {
    let o = Opts::parse(args, &[], &["--built"])?;
    let (source, blocks) = match o.value("--built") {
        Some(_) => (
            ChainSource::Built,
            dcr_peer_examples::chain::build_chain(o.number("--built", 32)?),
        ),
        None => load_demo_chain()?,
    };
    match &source {
        ChainSource::Corpus(dir) => {
            println!("chain: {} blocks from {}", blocks.len(), dir.display())
        }
        ChainSource::Built => println!(
            "chain: {} blocks built in memory (no corpus found)",
            blocks.len()
        ),
    }
    let bar = progress_bar();
    let report = run_demo(blocks, |p| show(&bar, p)).await?;
    bar.finish_and_clear();
    let s = &report.sync;
    let secs = s.elapsed.as_secs_f64().max(1e-9);
    println!("synced over loopback TCP from an in-process serving peer");
    println!("blocks:          {}", s.blocks);
    println!("headers:         {}", s.headers);
    println!("transactions:    {}", s.transactions);
    println!("bytes:           {}", s.bytes);
    println!("time:            {:.3} ms", secs * 1e3);
    println!("messages/s:      {:.0}", s.messages as f64 / secs);
    println!("MB/s:            {:.1}", s.bytes as f64 / secs / 1e6);
    println!("tip:             {}", s.tip);
    println!(
        "checked:         every block hash, chain link and header root ({} separate-tree, {} combined, {} genesis)",
        s.separate_roots, s.combined_roots, s.genesis_roots
    );
    print_stats("client peer", &report.client);
    print_stats("server peer", &report.server);
    Ok(())
}

async fn connect(args: &[String]) -> Result<(), String> {
    let o = Opts::parse(
        args,
        &["--listen-only"],
        &["--net", "--proxy", "--blocks", "--locator"],
    )?;
    let net = o.net(CurrencyNet::MainNet)?;
    let target = o.positional.first().ok_or("connect needs HOST[:PORT]")?;
    let target = with_default_port(target, net);
    let (tx, events) = mpsc::channel::<PeerEvent>(1024);
    let mut cfg = node_config(net, "dcrpeer");
    cfg.events = Some(tx);
    // dcrd asks for our initial state and drops us unanswered.
    let mut events = answer_as_client(events, 1024);
    if let Some(proxy) = o.value("--proxy") {
        cfg.proxy = Some(proxy.trim_start_matches("socks5://").to_string());
    }
    let peer = tokio::time::timeout(
        Duration::from_secs(40),
        dcr_peer::net::connect(&target, cfg),
    )
    .await
    .map_err(|_| format!("{target}: timed out"))?
    .map_err(|e| format!("{target}: {e}"))?;
    let r = peer.remote_version().ok_or("no version received")?;
    println!("connected to {target}");
    println!("  user agent     {}", r.user_agent);
    println!(
        "  protocol       {} (negotiated {})",
        r.protocol_version,
        peer.protocol_version()
    );
    println!("  services       {:#x}", r.services.0);
    println!("  height         {}", r.starting_height);
    println!("  time offset    {} s", r.time_offset);
    if o.flag("--listen-only") {
        return listen_only(&peer, &mut events).await;
    }
    let locator = match o.value("--locator") {
        Some(h) => vec![h
            .parse::<Hash>()
            .map_err(|_| format!("bad --locator hash {h:?}"))?],
        None => vec![Hash::ZERO],
    };
    let bar = progress_bar();
    let mut progress = |p| show(&bar, p);
    let started = Instant::now();
    let headers = sync_headers(&peer, &mut events, locator, &mut progress).await?;
    bar.finish_and_clear();
    println!(
        "headers:         {} in {:.1} s",
        headers.hashes.len(),
        started.elapsed().as_secs_f64()
    );
    match headers.hashes.last() {
        Some(tip) => println!("tip:             {tip} (height {})", headers.tip_height),
        None => println!("tip:             {} (no newer headers)", headers.base),
    }
    let n: usize = o.number("--blocks", 0)?;
    if n > 0 {
        let from = headers.hashes.len().saturating_sub(n);
        let bar = progress_bar();
        let mut progress = |p| show(&bar, p);
        let r = fetch_blocks(&peer, &mut events, &headers.hashes[from..], &mut progress).await?;
        bar.finish_and_clear();
        println!(
            "blocks:          {} ({} transactions, {} bytes), every hash, link and root checked",
            r.blocks, r.transactions, r.bytes
        );
    }
    peer.disconnect();
    peer.wait_for_disconnect().await;
    Ok(())
}

async fn listen_only(peer: &Peer, events: &mut mpsc::Receiver<PeerEvent>) -> Result<(), String> {
    println!("listening; Ctrl-C to stop");
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            ev = events.recv() => match ev {
                Some(ev) => println!("{} {}", ev.message.command(), ev.message.to_json()),
                None => break,
            },
            reason = peer.wait_for_disconnect() => {
                return Err(format!("peer disconnected: {reason}"));
            }
        }
    }
    peer.disconnect();
    peer.wait_for_disconnect().await;
    Ok(())
}

async fn listen(args: &[String]) -> Result<(), String> {
    let o = Opts::parse(args, &[], &["--bind", "--net", "--chain"])?;
    let net = o.net(CurrencyNet::SimNet)?;
    let bind = o.value("--bind").map_or_else(
        || format!("127.0.0.1:{}", default_port(net)),
        str::to_string,
    );
    let blocks = match o.value("--chain") {
        Some(dir) => load_chain_dir(&PathBuf::from(dir))?,
        None => load_demo_chain()?.1,
    };
    let chain = Arc::new(ChainStore::new(blocks)?);
    let listener = tokio::net::TcpListener::bind(&bind)
        .await
        .map_err(|e| format!("cannot listen on {bind}: {e}"))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    let (tx, rx) = mpsc::channel(1024);
    let mut cfg = serving_config(net, "dcrpeer", &chain);
    cfg.events = Some(tx);
    println!(
        "listening on {local} ({}), serving {} blocks; Ctrl-C to stop",
        net.name(),
        chain.len()
    );
    tokio::spawn(serve_chain(chain, rx));
    let mut peers = dcr_peer::net::serve(listener, cfg);
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => return Ok(()),
            p = peers.recv() => match p {
                Some(p) => {
                    let ua = p.remote_version().map(|r| r.user_agent.clone()).unwrap_or_default();
                    println!("peer {} connected: {ua} (protocol {})", p.addr(), p.protocol_version());
                    tokio::spawn(async move {
                        let reason = p.wait_for_disconnect().await;
                        println!("peer {} disconnected: {reason}", p.addr());
                    });
                }
                None => return Err("listener stopped".into()),
            }
        }
    }
}

fn resolve(target: &str, net: CurrencyNet) -> Result<std::net::SocketAddr, String> {
    use std::net::ToSocketAddrs;
    let with_port = with_default_port(target, net);
    with_port
        .to_socket_addrs()
        .map_err(|e| format!("{target}: {e}"))?
        .next()
        .ok_or_else(|| format!("{target}: no address"))
}

async fn crawl(args: &[String]) -> Result<(), String> {
    let o = Opts::parse(args, &[], &["--seed", "--net", "--max", "--duration"])?;
    let net = o.net(CurrencyNet::MainNet)?;
    let seed = resolve(
        o.value("--seed").ok_or("crawl needs --seed HOST:PORT")?,
        net,
    )?;
    let max: usize = o.number("--max", 16)?;
    let secs: u64 = o.number("--duration", 60)?;
    println!(
        "{:<22} {:<40} {:>5} {:>18} {:>8} {:>9}",
        "address", "user agent", "pver", "services", "height", "rtt ms"
    );
    let rows = dcr_peer::connmgr::crawl(
        seed,
        node_config(net, "dcrpeer"),
        max,
        Duration::from_secs(secs),
        Duration::from_secs(secs.min(15)),
        |r| {
            let s = &r.stats;
            println!(
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
    .await
    .map_err(|e| e.to_string())?;
    println!("{} peers found", rows.len());
    Ok(())
}

async fn node(args: &[String]) -> Result<(), String> {
    let o = Opts::parse(args, &[], &["--connect", "--listen", "--net", "--target"])?;
    let net = o.net(CurrencyNet::MainNet)?;
    let values = |name: &str| -> Vec<&str> {
        args.windows(2)
            .filter(|w| w[0] == name)
            .map(|w| w[1].as_str())
            .collect()
    };
    let mut cfg = dcr_peer::connmgr::ManagerConfig::new(node_config(net, "dcrpeer"));
    cfg.target_outbound = o.number("--target", 8)?;
    for c in values("--connect") {
        cfg.persistent.push(resolve(c, net)?);
    }
    for l in values("--listen") {
        cfg.listen.push(
            l.parse()
                .map_err(|_| format!("--listen takes IP:PORT, not {l:?}"))?,
        );
    }
    // Pointed at a test network on this machine or LAN: learn its
    // addresses too (they are refused by default).
    cfg.accept_local_addresses = cfg
        .persistent
        .iter()
        .any(|a| !dcr_peer::connmgr::is_routable(a.ip()));
    // dcrd asks every peer for its initial state and drops it unanswered;
    // nothing else received is used.
    let (tx, events) = mpsc::channel::<PeerEvent>(1024);
    cfg.events = Some(tx);
    let mut answered = answer_as_client(events, 16);
    tokio::spawn(async move { while answered.recv().await.is_some() {} });
    let m = dcr_peer::connmgr::ConnManager::start(cfg)
        .await
        .map_err(|e| e.to_string())?;
    for a in m.listen_addrs() {
        println!("listening on {a}");
    }
    let mut events = m.subscribe();
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            ev = events.recv() => match ev {
                Ok(dcr_peer::connmgr::ManagerEvent::Connected(s)) => println!("connected {} {} ({:?})", s.addr, s.user_agent, s.direction),
                Ok(dcr_peer::connmgr::ManagerEvent::Disconnected { addr, reason, .. }) => println!("disconnected {addr}: {reason}"),
                Ok(dcr_peer::connmgr::ManagerEvent::Banned { ip, .. }) => println!("banned {ip}"),
                Ok(dcr_peer::connmgr::ManagerEvent::DialFailed { addr, error }) => println!("dial {addr} failed: {error}"),
                Ok(_) => {}
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(_) => break,
            }
        }
    }
    m.shutdown(Duration::from_secs(10))
        .await
        .map_err(|e| e.to_string())
}

fn read_input(o: &Opts<'_>) -> Result<Vec<u8>, String> {
    if let Some(h) = o.value("--hex") {
        return hex::decode(h.trim()).map_err(|e| format!("bad hex: {e}"));
    }
    if let Some(p) = o.value("--file") {
        return std::fs::read(p).map_err(|e| format!("{p}: {e}"));
    }
    Err("give the input with --hex or --file".into())
}

fn decode(args: &[String]) -> Result<(), String> {
    let o = Opts::parse(
        args,
        &["--frame", "--payload"],
        &["--pver", "--net", "--hex", "--file", "--command"],
    )?;
    let pv = o.number("--pver", pver::CURRENT)?;
    let bytes = read_input(&o)?;
    let input = if o.flag("--payload") {
        let name = o.value("--command").ok_or("--payload needs --command")?;
        Input::Payload(
            Command::from_name(name.as_bytes())
                .ok_or_else(|| format!("unknown command {name:?}"))?,
        )
    } else {
        Input::Frame(o.net(CurrencyNet::MainNet)?)
    };
    let doc = decode_json(&bytes, input, pv)?;
    println!(
        "{}",
        serde_json::to_string_pretty(&doc).map_err(|e| e.to_string())?
    );
    Ok(())
}

fn encode(args: &[String]) -> Result<(), String> {
    let o = Opts::parse(
        args,
        &["--payload"],
        &["--pver", "--net", "--json", "--file"],
    )?;
    let pv = o.number("--pver", pver::CURRENT)?;
    let text = match (o.value("--json"), o.value("--file")) {
        (Some(j), _) => j.to_string(),
        (None, Some(p)) => std::fs::read_to_string(p).map_err(|e| format!("{p}: {e}"))?,
        (None, None) => return Err("give the message with --json or --file".into()),
    };
    let doc: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("bad JSON: {e}"))?;
    let net = if o.flag("--payload") {
        None
    } else {
        Some(o.net(CurrencyNet::MainNet)?)
    };
    println!("{}", hex::encode(encode_json(&doc, pv, net)?));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_ports() {
        let n = CurrencyNet::MainNet;
        assert_eq!(with_default_port("node.example", n), "node.example:9108");
        assert_eq!(with_default_port("node.example:1", n), "node.example:1");
        assert_eq!(with_default_port("10.0.0.1", n), "10.0.0.1:9108");
        assert_eq!(with_default_port("::1", n), "[::1]:9108");
        assert_eq!(with_default_port("[::1]", n), "[::1]:9108");
        assert_eq!(with_default_port("[::1]:5", n), "[::1]:5");
        assert_eq!(with_default_port("x", CurrencyNet::SimNet), "x:18555");
    }
}
