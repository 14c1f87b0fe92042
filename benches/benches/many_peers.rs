//! Ten thousand connected peers in one process: how long they take to
//! connect, what each costs (resident memory, heap, tasks), how long a
//! ping to every one of them takes to be answered, how long shutting them
//! all down takes, and whether the heap returns to its baseline.
//!
//! `cargo bench -p dcr-benches --bench many_peers` (`-- --peers N` for
//! another count). The measured process accepts the peers; their remote
//! ends run in a second process (this binary again, with `--dial`), so the
//! measured process holds one socket per peer and stays under the file
//! descriptor limit of the build machine (20,000).

use std::io::{BufRead, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use dcr_benches::rss;
use dcr_peer::wire::CurrencyNet;
use dcr_peer::{Config, Hooks, Peer, RecentNonces};
use tokio::net::TcpListener;

/// Counts live heap bytes, to see the heap come back after shutdown.
#[global_allocator]
static GLOBAL: dcr_counting_alloc::Counting = dcr_counting_alloc::Counting;

fn config() -> Config {
    Config::new(CurrencyNet::SimNet)
}

/// One node's wiring: its own nonces (the dialling process and the
/// measured one are two nodes).
fn hooks() -> Hooks {
    Hooks::new().with_nonces(RecentNonces::new())
}

fn arg<T: std::str::FromStr>(args: &[String], name: &str) -> Option<T> {
    let i = args.iter().position(|a| a == name)?;
    args.get(i + 1)?.parse().ok()
}

/// The remote ends: dials `n` outbound peers to `addr` (a few hundred
/// handshakes at a time), says "ready", and holds them until its standard
/// input closes.
async fn dial(addr: String, n: usize) {
    let mut peers = Vec::with_capacity(n);
    let mut pending = tokio::task::JoinSet::new();
    let mut started = 0;
    while peers.len() < n {
        while started < n && pending.len() < 256 {
            let addr = addr.clone();
            pending.spawn(async move { dcr_peer::net::connect(&addr, config(), hooks()).await });
            started += 1;
        }
        if let Some(done) = pending.join_next().await {
            peers.push(done.expect("dial task").expect("connect"));
        }
    }
    println!("ready");
    std::io::stdout().flush().expect("stdout");
    tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        let _ = std::io::stdin().lock().read_line(&mut line);
    })
    .await
    .expect("stdin");
    for p in &peers {
        p.disconnect();
    }
}

async fn measure(n: usize) {
    let metrics = tokio::runtime::Handle::current().metrics();
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    let mut incoming = dcr_peer::net::serve(listener, config(), hooks());
    // Settle the runtime and allocator before the baselines.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (heap0, rss0, tasks0) = (dcr_counting_alloc::live(), rss(), metrics.num_alive_tasks());

    let t = Instant::now();
    let mut child = Command::new(std::env::current_exe().expect("exe"))
        .args(["--dial", &addr, "--peers", &n.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("remote process");
    let mut peers: Vec<Peer> = Vec::with_capacity(n);
    while peers.len() < n {
        peers.push(incoming.recv().await.expect("accepting"));
    }
    let connect = t.elapsed();
    let mut ready = String::new();
    let stdout = child.stdout.take().expect("child stdout");
    tokio::task::spawn_blocking(move || {
        std::io::BufReader::new(stdout)
            .read_line(&mut ready)
            .map(|_| ready)
    })
    .await
    .expect("join")
    .expect("ready line");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let heap = dcr_counting_alloc::live() - heap0;
    let resident = rss().saturating_sub(rss0);
    let tasks = metrics.num_alive_tasks() - tasks0;
    println!(
        "connect: {n} peers in {:.2} s ({:.0} handshakes/s)",
        connect.as_secs_f64(),
        n as f64 / connect.as_secs_f64()
    );
    println!(
        "per peer: {:.1} KiB resident, {:.1} KiB heap, {:.2} tasks ({:.1} MiB resident in all)",
        resident as f64 / n as f64 / 1024.0,
        heap as f64 / n as f64 / 1024.0,
        tasks as f64 / n as f64,
        resident as f64 / (1 << 20) as f64
    );

    let t = Instant::now();
    for p in &peers {
        p.push_ping().expect("ping");
    }
    // Each peer's first ping: written, and its pong in (the nonce is
    // cleared when it is answered).
    let answered = |p: &Peer| {
        let c = p.stats().counters;
        c.last_ping_time.is_some() && c.last_ping_nonce.is_none() && c.ping_rtt.is_some()
    };
    let mut waiting: Vec<Peer> = peers.to_vec();
    while !waiting.is_empty() {
        tokio::time::sleep(Duration::from_millis(5)).await;
        waiting.retain(|p| !answered(p));
        assert!(t.elapsed() < Duration::from_secs(60), "pings unanswered");
    }
    println!(
        "ping: all {n} answered in {:.1} ms",
        t.elapsed().as_secs_f64() * 1e3
    );

    let t = Instant::now();
    for p in &peers {
        p.disconnect();
    }
    for p in &peers {
        p.wait_for_disconnect().await;
    }
    println!(
        "shutdown: all {n} ended in {:.1} ms",
        t.elapsed().as_secs_f64() * 1e3
    );
    drop(peers);
    drop(incoming);
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(b"done\n");
    }
    let _ = child.wait();
    tokio::time::sleep(Duration::from_millis(500)).await;
    println!(
        "after: heap {:+.1} KiB from its baseline, tasks {:+}, resident {:+.1} MiB",
        (dcr_counting_alloc::live() - heap0) as f64 / 1024.0,
        metrics.num_alive_tasks() as i64 - tasks0 as i64,
        (rss() as f64 - rss0 as f64) / (1 << 20) as f64
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--test" || a == "--quick");
    let n = arg(&args, "--peers").unwrap_or(if quick { 50 } else { 10_000 });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    match arg::<String>(&args, "--dial") {
        Some(addr) => rt.block_on(dial(addr, n)),
        None => rt.block_on(async move { tokio::spawn(measure(n)).await.expect("bench") }),
    }
}
