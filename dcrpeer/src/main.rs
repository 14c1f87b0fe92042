//! `dcrpeer`: the command-line tool. `dcrpeer --help` lists the commands,
//! `dcrpeer COMMAND --help` explains one.
//!
//! Every value is checked while the command line is parsed, before any
//! network work: a bad one is a usage error, exit status 2. A failure while
//! running is one line on stderr and exit status 1. Output to a closed pipe
//! (`dcrpeer demo | head -1`) ends the program quietly.

// The doc comments on the command-line types are the `--help` text, written
// for a terminal, where `[IPv6]:PORT` is notation, not a link.
#![allow(rustdoc::broken_intra_doc_links)]

mod args;
mod bench;
mod capture;
mod jsonio;
mod spv;

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use args::{count, Source, Target};
use capture::CaptureFile;
use clap::{Args, Parser, Subcommand};
use dcr_node::chain::{load_chain_dir, load_demo_chain, ChainSource};
use dcr_node::demo::run_demo;
use dcr_node::serve::{
    answer_as_client, node_config, serve_welcomed, serve_with, serving_config, serving_hooks,
    welcome, DisconnectOnly, ManagerSanctions, Served,
};
use dcr_node::store::ChainStore;
use dcr_node::sync::{fetch_blocks, sync_headers, Progress};
use dcr_peer::proxy::{Proxy, ProxyAuth};
use dcr_peer::{Hooks, Peer, PeerError, PeerEvent, PeerStats};
use dcr_wire::{pver, Command, CurrencyNet, Hash};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use jsonio::{decode_json, encode_json, Input};
use serde_json::json;
use tokio::sync::mpsc;

/// Writes a line to stdout; a closed pipe ends the program quietly (exit 0),
/// as a reader that has seen enough (`| head -1`) is no failure.
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::write_line(format_args!($($arg)*))
    };
}

fn write_line(args: std::fmt::Arguments<'_>) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_fmt(args).and_then(|()| out.write_all(b"\n")) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("dcrpeer: cannot write output: {e}");
        std::process::exit(1);
    }
}

/// Talk to Decred nodes: sync from them, serve them, crawl the network,
/// and decode or encode wire messages.
///
/// Logs go to stderr; set RUST_LOG (e.g. RUST_LOG=debug) for more.
#[derive(Parser, Debug)]
#[command(name = "dcrpeer", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Serve a chain on 127.0.0.1 and sync it with a second peer, in one
    /// process (no network needed).
    Demo(DemoArgs),
    /// Handshake with a node, sync its headers, optionally fetch the last
    /// N blocks.
    Connect(ConnectArgs),
    /// Accept peers and serve headers and blocks from a chain.
    Listen(ListenArgs),
    /// Connect to a seed, ask every peer for addresses, connect to what is
    /// learned; print the peers found.
    Crawl(CrawlArgs),
    /// Keep peers up with the connection manager and print what happens
    /// until Ctrl-C.
    Node(NodeArgs),
    /// Sync as a light client: headers, every filter proven against its
    /// header, the blocks of the watched scripts; print the tip, the
    /// counts and each transaction found.
    Spv(spv::SpvArgs),
    /// Print a message as JSON: the reference's fields, and beside them
    /// ("hashes") the block and proof-of-work hashes of headers and blocks
    /// and the hashes of transactions.
    Decode(DecodeArgs),
    /// Build a message (or a whole frame) from its JSON and print it as hex.
    ///
    /// Any command, in the layout decode prints (its "hashes" are ignored).
    /// Every field is required; unknown fields and numbers out of range are
    /// refused, naming the field.
    Encode(EncodeArgs),
    /// Decode throughput on your data (a capture, frames, blocks as hex or
    /// raw, a folder of them) or the built-in blocks: MB/s, messages/s, ns
    /// and allocations per message, per command and level of work.
    Bench(bench::BenchArgs),
}

/// The network option, one default for every command that talks to nodes.
#[derive(Args, Debug, Clone, Copy)]
struct NetArg {
    /// The network: mainnet, testnet, simnet or regnet. Its magic is on
    /// every frame and it gives the default port (9108, 19108, 18555,
    /// 18655).
    #[arg(long, value_name = "NET", default_value = "mainnet")]
    net: CurrencyNet,
}

#[derive(Args, Debug)]
struct DemoArgs {
    /// Build a chain of N blocks in memory instead of loading the corpus's.
    #[arg(long, value_name = "N")]
    built: Option<u32>,
    /// Print the report as one JSON object.
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
struct ConnectArgs {
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
    /// After the handshake, print every message received until Ctrl-C.
    #[arg(long, conflicts_with_all = ["blocks", "locator", "json"])]
    listen_only: bool,
    /// Print what was learned as one JSON object.
    #[arg(long)]
    json: bool,
    /// Record every frame sent and received, the handshakes' included, in
    /// this frame capture (docs/CAPTURE.md), appended to when it exists;
    /// read it with `dcrpeer decode --file` or `dcrpeer bench`.
    #[arg(long, value_name = "FILE", value_parser = args::out_path)]
    capture: Option<PathBuf>,
}

#[derive(Args, Debug)]
struct ListenArgs {
    /// Where to listen (default: 127.0.0.1 and the network's port).
    #[arg(long, value_name = "IP:PORT", value_parser = args::bind_addr)]
    bind: Option<SocketAddr>,
    #[command(flatten)]
    net: NetArg,
    /// A folder of block files to serve (default: the demo chain).
    #[arg(long, value_name = "DIR")]
    chain: Option<PathBuf>,
    /// Record every frame sent and received, the handshakes' included, in
    /// this frame capture (docs/CAPTURE.md), appended to when it exists;
    /// read it with `dcrpeer decode --file` or `dcrpeer bench`.
    #[arg(long, value_name = "FILE", value_parser = args::out_path)]
    capture: Option<PathBuf>,
}

#[derive(Args, Debug)]
struct CrawlArgs {
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
    /// Print the peers found as a JSON array.
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
struct NodeArgs {
    /// Connect only to this peer, kept connected (repeatable; dcrd's
    /// --connect): no other outbound peers are chosen.
    #[arg(long = "connect", value_name = "HOST[:PORT]", value_parser = args::target, conflicts_with = "addpeer")]
    connect: Vec<Target>,
    /// A peer to keep connected besides those chosen from the address
    /// book (repeatable; dcrd's --addpeer).
    #[arg(long = "addpeer", value_name = "HOST[:PORT]", value_parser = args::target)]
    addpeer: Vec<Target>,
    /// Where to accept peers (repeatable).
    #[arg(long = "listen", value_name = "IP:PORT", value_parser = args::bind_addr)]
    listen: Vec<SocketAddr>,
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
    /// Record every frame sent and received, the handshakes' included, in
    /// this frame capture (docs/CAPTURE.md), appended to when it exists;
    /// read it with `dcrpeer decode --file` or `dcrpeer bench`.
    #[arg(long, value_name = "FILE", value_parser = args::out_path)]
    capture: Option<PathBuf>,
}

/// Where the bytes to decode come from.
#[derive(Args, Debug)]
#[group(required = true, multiple = false)]
struct BytesIn {
    /// The bytes as hex digits.
    #[arg(long, value_name = "HEX", value_parser = args::hex_bytes)]
    hex: Option<args::HexBytes>,
    /// A file holding the bytes; `-` reads standard input.
    #[arg(long, value_name = "PATH", value_parser = args::source)]
    file: Option<Source>,
}

#[derive(Args, Debug)]
struct DecodeArgs {
    #[command(flatten)]
    input: BytesIn,
    /// The protocol version to decode at.
    #[arg(long, value_name = "N", default_value_t = pver::CURRENT)]
    pver: u32,
    #[command(flatten)]
    net: NetArg,
    /// The input is a whole frame (the default).
    #[arg(long, conflicts_with = "payload")]
    frame: bool,
    /// The input is a payload alone, of the message --command names.
    #[arg(long, requires = "command")]
    payload: bool,
    /// The payload's command (with --payload), as on the wire: ping,
    /// getheaders, ...
    #[arg(long, value_name = "NAME", requires = "payload")]
    command: Option<Command>,
    /// Print JSON on one line. A frame capture (docs/CAPTURE.md) given to
    /// --file is printed frame by frame: a line of text each, or with
    /// --json a JSON object each.
    #[arg(long)]
    json: bool,
}

/// Where the JSON to encode comes from.
#[derive(Args, Debug)]
#[group(required = true, multiple = false)]
struct JsonIn {
    /// The message as JSON: {"command": ..., "fields": {...}}.
    #[arg(long, value_name = "JSON")]
    json: Option<String>,
    /// A file holding the JSON; `-` reads standard input.
    #[arg(long, value_name = "PATH", value_parser = args::source)]
    file: Option<Source>,
}

#[derive(Args, Debug)]
struct EncodeArgs {
    #[command(flatten)]
    input: JsonIn,
    /// The protocol version to encode at.
    #[arg(long, value_name = "N", default_value_t = pver::CURRENT)]
    pver: u32,
    #[command(flatten)]
    net: NetArg,
    /// Print the payload alone, not a whole frame.
    #[arg(long)]
    payload: bool,
}

fn main() -> ExitCode {
    // Usage errors: clap prints them and exits with status 2; --help and
    // --version exit 0.
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // The whole chain, each cause once: "a: b: c".
            eprintln!("dcrpeer: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cmd: Cmd) -> anyhow::Result<()> {
    let rt = || {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|e| anyhow!("cannot start the runtime: {e}"))
    };
    match cmd {
        Cmd::Demo(a) => rt()?.block_on(demo(a)),
        // The runtime, and with it every peer, is gone before the capture
        // is closed.
        Cmd::Connect(a) => {
            let path = a.capture.clone();
            let report = !a.json;
            capture::around(path.as_deref(), report, |c| rt()?.block_on(connect(a, c)))
        }
        Cmd::Listen(a) => {
            let path = a.capture.clone();
            capture::around(path.as_deref(), true, |c| rt()?.block_on(listen(a, c)))
        }
        Cmd::Crawl(a) => rt()?.block_on(crawl(a)),
        Cmd::Node(a) => {
            let path = a.capture.clone();
            capture::around(path.as_deref(), true, |c| rt()?.block_on(node(a, c)))
        }
        Cmd::Spv(a) => rt()?.block_on(spv::run(a)),
        Cmd::Decode(a) => decode(a),
        Cmd::Encode(a) => encode(a),
        Cmd::Bench(a) => bench::run(a),
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
    say!("{who}:");
    say!("  address        {} ({:?})", s.addr, s.direction);
    say!("  user agent     {}", s.user_agent);
    say!(
        "  protocol       {} (remote {})",
        s.protocol_version,
        s.remote_protocol_version
    );
    say!("  services       {:#x}", s.services.0);
    say!(
        "  height         {} (starting {})",
        s.counters.last_block_height,
        s.starting_height
    );
    say!(
        "  sent           {}, {}",
        count(s.counters.messages_sent, "message"),
        count(s.counters.bytes_sent, "byte")
    );
    say!(
        "  received       {}, {}",
        count(s.counters.messages_received, "message"),
        count(s.counters.bytes_received, "byte")
    );
    say!("  time offset    {} s", s.time_offset);
    match s.counters.ping_rtt {
        Some(rtt) => say!("  ping rtt       {:.3} ms", rtt.as_secs_f64() * 1e3),
        None => say!("  ping rtt       (no ping answered yet)"),
    }
}

fn to_json<T: serde::Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

async fn demo(a: DemoArgs) -> anyhow::Result<()> {
    let (source, blocks) = match a.built {
        Some(n) => (ChainSource::Built, dcr_node::chain::build_chain(n)),
        None => load_demo_chain()?,
    };
    let chain_from = match &source {
        ChainSource::Corpus(dir) => dir.display().to_string(),
        ChainSource::Built => "built in memory".to_string(),
    };
    if !a.json {
        match &source {
            ChainSource::Corpus(_) => {
                say!(
                    "chain: {} from {chain_from}",
                    count(blocks.len() as u64, "block")
                )
            }
            ChainSource::Built => say!(
                "chain: {} built in memory (no corpus found)",
                count(blocks.len() as u64, "block")
            ),
        }
    }
    let bar = progress_bar();
    let report = run_demo(blocks, |p| show(&bar, p)).await?;
    bar.finish_and_clear();
    let s = &report.sync;
    let secs = s.elapsed.as_secs_f64().max(1e-9);
    if a.json {
        let doc = json!({
            "chain": chain_from,
            "blocks": s.blocks,
            "headers": s.headers,
            "transactions": s.transactions,
            "bytes": s.bytes,
            "messages": s.messages,
            "seconds": secs,
            "tip": s.tip.to_string(),
            "roots": {
                "separate": s.separate_roots,
                "combined": s.combined_roots,
                "genesis": s.genesis_roots,
            },
            "client": to_json(&report.client),
            "server": to_json(&report.server),
        });
        say!("{doc}");
        return Ok(());
    }
    say!("synced over loopback TCP from an in-process serving peer");
    say!("blocks:          {}", s.blocks);
    say!("headers:         {}", s.headers);
    say!("transactions:    {}", s.transactions);
    say!("bytes:           {}", s.bytes);
    say!("time:            {:.3} ms", secs * 1e3);
    say!("messages/s:      {:.0}", s.messages as f64 / secs);
    say!("MB/s:            {:.1}", s.bytes as f64 / secs / 1e6);
    say!("tip:             {}", s.tip);
    say!(
        "checked:         every block hash, chain link and header root ({} separate-tree, {} combined, {} genesis)",
        s.separate_roots,
        s.combined_roots,
        s.genesis_roots
    );
    print_stats("client peer", &report.client);
    print_stats("server peer", &report.server);
    Ok(())
}

/// Says what went wrong while connecting to `target` (the proxy's failures
/// name the proxy): a connection closed during the handshake says so, and
/// that a node of another network does this.
fn connect_error(target: &str, net: CurrencyNet, e: &PeerError) -> anyhow::Error {
    let closed = |e: &std::io::Error| {
        matches!(
            e.kind(),
            std::io::ErrorKind::UnexpectedEof
                | std::io::ErrorKind::ConnectionReset
                | std::io::ErrorKind::BrokenPipe
        )
    };
    let closed_early = match e {
        PeerError::Io(io) => closed(io),
        PeerError::Codec(dcr_peer::CodecError::Io(io)) => closed(io),
        _ => false,
    };
    if closed_early {
        return anyhow!(
            "{target}: the connection closed during the handshake: is it a {} node? (check --net)",
            net.name().to_ascii_lowercase()
        );
    }
    anyhow!("{target}: {e}")
}

/// Dials `target` (through the proxy of `cfg` when set) and runs the
/// handshake.
async fn dial(
    target: &str,
    net: CurrencyNet,
    cfg: dcr_peer::Config,
    hooks: Hooks,
) -> anyhow::Result<Peer> {
    let limit = 2 * dcr_peer::net::DEFAULT_DIAL_TIMEOUT + cfg.handshake_timeout;
    tokio::time::timeout(limit, dcr_peer::net::connect(target, cfg, hooks))
        .await
        .map_err(|_| anyhow!("{target}: timed out"))?
        .map_err(|e| connect_error(target, net, &e))
}

/// `hooks`, recording into `capture` when there is one.
fn captured(hooks: Hooks, capture: Option<&CaptureFile>) -> Hooks {
    match capture {
        Some(c) => c.wire(hooks),
        None => hooks,
    }
}

async fn connect(a: ConnectArgs, capture: Option<&CaptureFile>) -> anyhow::Result<()> {
    let net = a.net.net;
    let target = a.target.with_port(net);
    let (tx, events) = mpsc::channel::<PeerEvent>(1024);
    let mut cfg = node_config(net, "dcrpeer");
    cfg.proxy = a.proxy.map(|p| match a.tor_isolation {
        true => p.with_auth(ProxyAuth::Isolated),
        false => p,
    });
    // dcrd asks for our initial state and drops us unanswered.
    let mut events = answer_as_client(events, 1024);
    let hooks = captured(Hooks::new().with_events(tx), capture);
    let peer = dial(&target, net, cfg, hooks).await?;
    let r = peer
        .remote_version()
        .context("no version received")?
        .clone();
    if !a.json {
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
        return listen_only(&peer, &mut events).await;
    }
    let locator = vec![a.locator.unwrap_or(Hash::ZERO)];
    let bar = progress_bar();
    let mut progress = |p| show(&bar, p);
    let started = Instant::now();
    let headers = sync_headers(&peer, &mut events, locator, &mut progress).await?;
    bar.finish_and_clear();
    let header_secs = started.elapsed().as_secs_f64();
    let tip = headers.hashes.last().copied();
    if !a.json {
        say!(
            "headers:         {} in {header_secs:.1} s",
            headers.hashes.len()
        );
        match tip {
            Some(tip) => say!("tip:             {tip} (height {})", headers.tip_height),
            None => say!("tip:             {} (no newer headers)", headers.base),
        }
    }
    let mut fetched = None;
    if a.blocks > 0 {
        let from = headers.hashes.len().saturating_sub(a.blocks);
        let bar = progress_bar();
        let mut progress = |p| show(&bar, p);
        let r = fetch_blocks(&peer, &mut events, &headers.hashes[from..], &mut progress).await?;
        bar.finish_and_clear();
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
            "remote": {
                "user_agent": r.user_agent,
                "protocol_version": r.protocol_version,
                "negotiated_version": peer.protocol_version(),
                "services": r.services.0,
                "starting_height": r.starting_height,
                "time_offset": r.time_offset,
            },
            "headers": {
                "count": headers.hashes.len(),
                "base": headers.base.to_string(),
                "tip": tip.map(|t| t.to_string()),
                "tip_height": tip.map(|_| headers.tip_height),
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
    peer.disconnect();
    peer.wait_for_disconnect().await;
    Ok(())
}

async fn listen_only(peer: &Peer, events: &mut mpsc::Receiver<PeerEvent>) -> anyhow::Result<()> {
    say!("listening; Ctrl-C to stop");
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            ev = events.recv() => match ev {
                Some(ev) => say!("{} {}", ev.message.command(), jsonio::message_json(&ev.message)["fields"]),
                None => break,
            },
            reason = peer.wait_for_disconnect() => {
                bail!("peer disconnected: {reason}");
            }
        }
    }
    peer.disconnect();
    peer.wait_for_disconnect().await;
    Ok(())
}

async fn listen(a: ListenArgs, capture: Option<&CaptureFile>) -> anyhow::Result<()> {
    let net = a.net.net;
    let bind = a.bind.unwrap_or_else(|| {
        SocketAddr::from((std::net::Ipv4Addr::LOCALHOST, args::default_port(net)))
    });
    let blocks = match &a.chain {
        Some(dir) => load_chain_dir(dir)?,
        None => load_demo_chain()?.1,
    };
    let chain = Arc::new(ChainStore::new(blocks)?);
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .map_err(|e| anyhow!("cannot listen on {bind}: {e}"))?;
    let local = listener.local_addr()?;
    let (tx, rx) = mpsc::channel(1024);
    let cfg = serving_config(net, "dcrpeer");
    let hooks = captured(serving_hooks(&chain).with_events(tx), capture);
    say!(
        "listening on {local} ({}), serving {}; Ctrl-C to stop",
        net.name(),
        count(chain.len() as u64, "block")
    );
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
    // dcrd's --maxpeers (125) bounds the peers held, handshakes included.
    let limits = dcr_peer::admission::Limits {
        max_peers: Some(dcr_peer::connmgr::DEFAULT_MAX_PEERS),
        ..Default::default()
    };
    let mut peers = dcr_peer::net::serve_with(listener, cfg, hooks, limits);
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => return Ok(()),
            p = peers.recv() => match p {
                Some(p) => {
                    // Full: the serving loop welcomes the peer at its
                    // first message instead.
                    let _ = peer_tx.try_send(p.clone());
                    let ua = p.remote_version().map(|r| r.user_agent.clone()).unwrap_or_default();
                    say!("peer {} connected: {ua} (protocol {})", p.addr(), p.protocol_version());
                    tokio::spawn(async move {
                        let reason = p.wait_for_disconnect().await;
                        say!("peer {} disconnected: {reason}", p.addr());
                    });
                }
                None => bail!("listener stopped"),
            }
        }
    }
}

/// The first address `target` resolves to, with the network's port when it
/// names none.
async fn resolve(target: &Target, net: CurrencyNet) -> anyhow::Result<SocketAddr> {
    let with_port = target.with_port(net);
    let mut addrs = tokio::net::lookup_host(with_port.as_str())
        .await
        .map_err(|e| anyhow!("{target}: {e}"))?;
    addrs.next().ok_or_else(|| anyhow!("{target}: no address"))
}

async fn crawl(a: CrawlArgs) -> anyhow::Result<()> {
    let net = a.net.net;
    let seed = resolve(&a.seed, net).await?;
    let json = a.json;
    // The table's header comes with its first row: a crawl that finds
    // nothing prints only its verdict.
    let mut header = !json;
    let rows = dcr_peer::connmgr::crawl(
        seed,
        node_config(net, "dcrpeer"),
        Hooks::new(),
        a.max as usize,
        Duration::from_secs(a.duration),
        Duration::from_secs(a.duration.min(15)),
        |r| {
            if json {
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
    .await?;
    if json {
        let doc: Vec<serde_json::Value> = rows
            .iter()
            .map(|r| json!({ "addr": r.addr, "stats": to_json(&r.stats) }))
            .collect();
        say!("{}", serde_json::Value::Array(doc));
    } else {
        say!("{} found", count(rows.len() as u64, "peer"));
    }
    Ok(())
}

async fn node(a: NodeArgs, capture: Option<&CaptureFile>) -> anyhow::Result<()> {
    use dcr_peer::connmgr::{ConnManager, ManagerConfig, ManagerEvent as E, Whitelist};
    let net = a.net.net;
    let blocks = match &a.chain {
        Some(dir) => load_chain_dir(dir)?,
        None => load_demo_chain()?.1,
    };
    let chain = Arc::new(ChainStore::new(blocks)?);
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
    for c in a.connect.iter().chain(&a.addpeer) {
        cfg.persistent.push(resolve(c, net).await?);
    }
    cfg.listen = a.listen;
    // dcrd's server queues `sendheaders` to every peer before anything
    // else; the serving rules answer the rest.
    cfg.on_peer = Some(Arc::new(|p: &Peer| {
        let _ = welcome(p);
    }));
    let (tx, mut events) = mpsc::channel::<PeerEvent>(1024);
    cfg.events = Some(tx);
    let m = ConnManager::start(cfg).await?;
    // The manager answers the address messages from its book; the serving
    // rules take everything else, their verdicts applied to the manager's
    // ban list.
    let (serve_tx, serve_rx) = mpsc::channel::<PeerEvent>(1024);
    tokio::spawn(async move {
        while let Some(ev) = events.recv().await {
            if matches!(
                ev.message,
                dcr_wire::Message::Addr(_)
                    | dcr_wire::Message::AddrV2(_)
                    | dcr_wire::Message::GetAddr(_)
            ) {
                continue;
            }
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
    for a in m.listen_addrs() {
        say!("listening on {a}");
    }
    let mut events = m.subscribe();
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            ev = events.recv() => match ev {
                Ok(E::Connected(s)) => say!("connected {} {} ({:?})", s.addr, s.user_agent, s.direction),
                Ok(E::Disconnected { addr, reason, .. }) => say!("disconnected {addr}: {reason}"),
                Ok(E::Banned { ip, .. }) => say!("banned {ip}"),
                Ok(E::DialFailed { addr, error }) => say!("dial {addr} failed: {error}"),
                Ok(_) => {}
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(_) => break,
            }
        }
    }
    m.shutdown(Duration::from_secs(10)).await?;
    Ok(())
}

fn decode(a: DecodeArgs) -> anyhow::Result<()> {
    let bytes = match (a.input.hex, a.input.file) {
        (Some(b), _) => b.0,
        (None, Some(src)) => src.read()?,
        (None, None) => bail!("give the input with --hex or --file"),
    };
    if a.command.is_none() && dcr_peer::capture::looks_like_capture(&bytes) {
        return capture::print(&bytes, a.json);
    }
    let input = match a.command {
        Some(c) => Input::Payload(c),
        None => Input::Frame(a.net.net),
    };
    let doc = decode_json(&bytes, input, a.pver)?;
    if a.json {
        say!("{doc}");
        return Ok(());
    }
    say!("{}", serde_json::to_string_pretty(&doc)?);
    Ok(())
}

fn encode(a: EncodeArgs) -> anyhow::Result<()> {
    let text = match (a.input.json, a.input.file) {
        (Some(j), _) => j,
        (None, Some(src)) => {
            String::from_utf8(src.read()?).map_err(|_| anyhow!("the JSON is not UTF-8"))?
        }
        (None, None) => bail!("give the message with --json or --file"),
    };
    let doc: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| anyhow!("bad JSON: {e}"))?;
    let net = (!a.payload).then_some(a.net.net);
    say!("{}", hex::encode(encode_json(&doc, a.pver, net)?));
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }
}
