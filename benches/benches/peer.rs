//! Peer throughput over loopback TCP inside one process: handshake
//! latency, ping/pong round trips, one-way inv and block throughput, CPU
//! time per message, and memory per idle connected pair. Fixed, bounded
//! iterations; prints one line per figure, and after each figure its
//! floors, the same traffic with no peer logic (`dcr_benches::floors`).
//!
//! `cargo bench -p dcr-benches --bench peer` (add `-- --pairs N` to change
//! the idle-pair count, the default being 1000; `-- --split-nodes` to run
//! each peer on its own thread and runtime instead of both in one;
//! `-- --one-thread` to run both on one thread; `-- --no-floors` to skip the
//! floors, for a profile of the figures alone; `-- --capture` to have both
//! peers of every pair record every frame into one frame capture, a file
//! in the temporary folder removed at the end, to measure what capturing
//! costs; `-- --capture-null` to capture the same way into a writer that
//! drops the bytes, which leaves the peers' own part of that cost).

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use dcr_benches::floors::{self, Cores};
use dcr_benches::{rss, synthetic_block};
use dcr_peer::capture::{CaptureSink, FlushPolicy};
use dcr_peer::wire::{
    frame_to_vec, pver, Block, CurrencyNet, Hash, Inv, InvType, InvVect, Message, Ping, Pong,
};
use dcr_peer::{Config, Hooks, Listeners, Peer, PeerEvent, RecentNonces};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

fn config() -> Config {
    let mut c = Config::new(CurrencyNet::SimNet);
    c.send_queue_size = 64;
    c
}

/// A node's wiring: its own nonces, so the two peers of a pair do not
/// take each other for themselves; the capture, with `--capture`.
fn hooks() -> Hooks {
    let hooks = Hooks::new().with_nonces(RecentNonces::new());
    match CAPTURE.get() {
        Some((sink, _)) => hooks.with_capture(sink.clone()),
        None => hooks,
    }
}

/// Set with `--capture`: the sink every peer records into, and its file.
static CAPTURE: OnceLock<(Arc<CaptureSink>, std::path::PathBuf)> = OnceLock::new();

/// With `--capture`: what the capture holds so far (after a figure).
fn capture_line() {
    if let Some((sink, path)) = CAPTURE.get() {
        // Everything recorded so far reaches the file (the writer's time is
        // not the figure's: the figure is taken before).
        let flushed = sink.flush();
        let s = sink.stats();
        println!(
            "capture: {} records, {:.1} MB written to {} so far, {} dropped{}",
            s.records,
            s.bytes as f64 / 1e6,
            path.display(),
            s.dropped,
            flushed
                .err()
                .map_or(String::new(), |e| format!(", failed: {e}"))
        );
    }
}

/// Where the accepting peer of each pair runs with `--split-nodes`: its own
/// thread with a current-thread runtime, while the dialling peer runs on the
/// main thread's, as two nodes would (they meet only through the socket).
/// Unset by default: both peers share one multi-thread runtime, as peers of
/// one application do.
static REMOTE: OnceLock<tokio::runtime::Handle> = OnceLock::new();

/// Unset with `--no-floors`: each figure is followed by its floors.
static FLOORS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

fn floors_wanted() -> bool {
    FLOORS.load(Ordering::Relaxed)
}

/// Starts the remote node's thread and runtime; it runs until the process
/// exits.
fn start_remote_node() -> tokio::runtime::Handle {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        tx.send(rt.handle().clone()).expect("handle");
        rt.block_on(std::future::pending::<()>());
    });
    rx.recv().expect("remote runtime")
}

/// A dialling peer wired to `a` connected to an accepting one wired to `b`.
async fn pair(a: Hooks, b: Hooks) -> (Peer, Peer) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    let server = match REMOTE.get() {
        Some(remote) => {
            // The listener must be registered with the runtime that polls it.
            let listener = listener.into_std().expect("std listener");
            remote.spawn(async move {
                let listener = TcpListener::from_std(listener).expect("listener");
                dcr_peer::net::accept(&listener, config(), b).await
            })
        }
        None => tokio::spawn(async move { dcr_peer::net::accept(&listener, config(), b).await }),
    };
    let client = dcr_peer::net::connect(&addr, config(), a)
        .await
        .expect("connect");
    (client, server.await.expect("join").expect("accept"))
}

/// CPU time (user + system) of the process so far.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i)?.parse::<u64>().ok())
        .sum();
    Duration::from_millis(ticks * 10) // USER_HZ is 100 on Linux
}

/// Counts messages and bytes received, and wakes a waiter when the count
/// reaches its target (waiting must not spin: the CPU time per message is
/// measured).
#[derive(Clone, Default)]
struct Counter(Arc<CounterInner>);

#[derive(Default)]
struct CounterInner {
    messages: AtomicUsize,
    bytes: AtomicU64,
    target: AtomicUsize,
    reached: tokio::sync::Notify,
}

impl Listeners for Counter {
    fn on_read(&self, _: &Peer, bytes: usize, _: Result<&Message<'_>, &dcr_peer::CodecError>) {
        let c = &self.0;
        c.bytes.fetch_add(bytes as u64, Ordering::Relaxed);
        // SeqCst here and in `wait_for`: each side writes one atomic and
        // then reads the other's, and only a single total order guarantees
        // that at least one of them sees the other's write (no lost wake-up).
        let n = c.messages.fetch_add(1, Ordering::SeqCst) + 1;
        if n == c.target.load(Ordering::SeqCst) {
            c.reached.notify_one();
        }
    }
}

async fn wait_for(counter: &Counter, n: usize) {
    let c = &counter.0;
    c.target.store(n, Ordering::SeqCst);
    // The count may have got there before the target was set.
    if c.messages.load(Ordering::SeqCst) < n {
        c.reached.notified().await;
    }
}

async fn handshakes(n: usize) {
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        let (a, b) = pair(hooks(), hooks()).await;
        times.push(t.elapsed());
        a.disconnect();
        a.wait_for_disconnect().await;
        b.wait_for_disconnect().await;
    }
    times.sort();
    println!(
        "handshake latency: median {:.1} us, p90 {:.1} us ({n} handshakes)",
        times[n / 2].as_secs_f64() * 1e6,
        times[n * 9 / 10].as_secs_f64() * 1e6
    );
    if !floors_wanted() {
        return;
    }
    let bare = floors::bare_connects(n, REMOTE.get())
        .await
        .expect("loopback connects");
    println!(
        "handshake floor: bare TCP connect median {:.1} us, p90 {:.1} us ({n} connects and accepts, same layout)",
        bare[n / 2].as_secs_f64() * 1e6,
        bare[n * 9 / 10].as_secs_f64() * 1e6
    );
}

async fn ping_pong(n: usize) {
    let (tx, mut rx) = mpsc::channel::<PeerEvent>(16);
    let (client, _server) = pair(hooks().with_events(tx), hooks()).await;
    let cpu0 = cpu_time();
    let t = Instant::now();
    for nonce in 0..n as u64 {
        client
            .queue_message(&Message::Ping(Ping { nonce }))
            .expect("queue");
        loop {
            match rx.recv().await.map(|e| e.message) {
                Some(Message::Pong(p)) if p.nonce == nonce => break,
                Some(_) => continue,
                None => panic!("disconnected"),
            }
        }
    }
    let secs = t.elapsed().as_secs_f64();
    let cpu = cpu_time() - cpu0;
    println!(
        "ping/pong: {:.0} round trips/s ({n} sequential, {:.1} us each, {:.1} us CPU each, both peers)",
        n as f64 / secs,
        secs / n as f64 * 1e6,
        cpu.as_secs_f64() / n as f64 * 1e6
    );
    capture_line();
    if !floors_wanted() {
        return;
    }
    // The same frames with no peer logic.
    let net = CurrencyNet::SimNet;
    let ping = frame_to_vec(&Message::Ping(Ping { nonce: 1 }), net, pver::CURRENT).expect("frame");
    let pong = frame_to_vec(&Message::Pong(Pong { nonce: 1 }), net, pver::CURRENT).expect("frame");
    for (cores, name) in [(Cores::One, "one core"), (Cores::Two, "two cores")] {
        let (ping, pong) = (ping.clone(), pong.clone());
        let rate =
            tokio::task::spawn_blocking(move || floors::blocking_ping_pong(&ping, &pong, n, cores))
                .await
                .expect("floor thread");
        match rate {
            Ok(r) => println!(
                "ping/pong floor: blocking std::net, {name}: {r:.0} round trips/s ({:.1} us each, two threads pinned)",
                1e6 / r
            ),
            Err(e) => println!("ping/pong floor: blocking std::net, {name}: not measured ({e})"),
        }
    }
    let r = floors::async_echo(&ping, &pong, n, REMOTE.get())
        .await
        .expect("loopback echo");
    println!(
        "ping/pong floor: async echo, same layout: {r:.0} round trips/s ({:.1} us each, tokio, no peer logic)",
        1e6 / r
    );
}

async fn one_way(name: &str, msg: &Message<'_>, n: usize) {
    let counter = Counter::default();
    let (client, _server) = pair(hooks(), hooks().with_listeners(counter.clone())).await;
    let base = counter.0.messages.load(Ordering::Acquire);
    let cpu0 = cpu_time();
    let t = Instant::now();
    for _ in 0..n {
        client.queue_message_wait(msg).await.expect("queue");
    }
    wait_for(&counter, base + n).await;
    let secs = t.elapsed().as_secs_f64();
    let cpu = cpu_time() - cpu0;
    let bytes = counter.0.bytes.load(Ordering::Relaxed) as f64;
    println!(
        "{name}: {:.0} messages/s, {:.1} MB/s, {:.1} us CPU per message (both peers, encode+checksum+decode) ({n} messages)",
        n as f64 / secs,
        bytes / secs / 1e6,
        cpu.as_secs_f64() / n as f64 * 1e6
    );
    capture_line();
    if !floors_wanted() {
        return;
    }
    // The hashing bound: the payload's checksum, made by the sender and
    // checked by the receiver.
    let mut payload = Vec::with_capacity(msg.serialized_size(pver::CURRENT));
    msg.encode(&mut payload, pver::CURRENT).expect("encodes");
    let t = floors::hash_time(&payload, Duration::from_millis(300)).as_secs_f64();
    println!(
        "{name} floor: hashing bound {:.0} messages/s with each side on a core of its own, {:.0} on one; {:.1} us CPU per message (a {}-byte checksum made and checked, {:.2} ns per byte)",
        1.0 / t,
        0.5 / t,
        2.0 * t * 1e6,
        payload.len(),
        t * 1e9 / payload.len() as f64
    );
}

async fn idle_pairs(n: usize) {
    // Warm the allocator and runtime first so the baseline is fair.
    let (a, b) = pair(hooks(), hooks()).await;
    drop((a, b));
    tokio::time::sleep(Duration::from_millis(100)).await;
    let before = rss();
    let mut peers = Vec::with_capacity(2 * n);
    for _ in 0..n {
        let (a, b) = pair(hooks(), hooks()).await;
        peers.push(a);
        peers.push(b);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = rss();
    println!(
        "idle pairs: {n} pairs connected, {:.1} KiB resident per pair ({:.1} MiB total growth)",
        (after.saturating_sub(before)) as f64 / n as f64 / 1024.0,
        (after.saturating_sub(before)) as f64 / (1 << 20) as f64
    );
    for p in &peers {
        p.disconnect();
    }
    for p in &peers {
        p.wait_for_disconnect().await;
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // Under `cargo test --benches` criterion-style flags arrive; run small.
    let quick = args.iter().any(|a| a == "--test" || a == "--quick");
    let pairs = args
        .iter()
        .position(|a| a == "--pairs")
        .and_then(|i| args.get(i + 1)?.parse().ok())
        .unwrap_or(if quick { 20 } else { 1000 });
    // `--only NAME` runs one part: handshake, ping, inv, block, idle.
    let only = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1).cloned());
    let run = move |part: &str| only.as_deref().is_none_or(|o| o == part);
    let split = args.iter().any(|a| a == "--split-nodes");
    if args.iter().any(|a| a == "--no-floors") {
        FLOORS.store(false, Ordering::Relaxed);
    }
    let one_thread = args.iter().any(|a| a == "--one-thread");
    if args.iter().any(|a| a == "--capture") {
        let path =
            std::env::temp_dir().join(format!("dcr-peer-bench-{}.dcrcap", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let (sink, _) =
            CaptureSink::open_file(&path, FlushPolicy::default()).expect("capture file");
        println!("capture: every frame of both peers into {}", path.display());
        let _ = CAPTURE.set((Arc::new(sink), path));
    } else if args.iter().any(|a| a == "--capture-null") {
        let sink = CaptureSink::new(std::io::sink(), FlushPolicy::default()).expect("capture");
        println!("capture: every frame of both peers, into a writer that drops them");
        let _ = CAPTURE.set((Arc::new(sink), "(nowhere)".into()));
    }
    let (rt, layout) = if split {
        REMOTE.get_or_init(start_remote_node);
        (
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build(),
            "each peer on its own thread and current-thread runtime, as two nodes (--split-nodes)",
        )
    } else if one_thread {
        (
            tokio::runtime::Builder::new_current_thread().enable_all().build(),
            "both peers on one thread: no cross-thread wake-ups, the stack's own cost (--one-thread)",
        )
    } else {
        (
            tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build(),
            "both peers in one multi-thread runtime",
        )
    };
    let rt = rt.expect("runtime");
    println!("layout: {layout}");
    // The work runs as a task of the runtime, as the reference's runs in a
    // goroutine: its wake-ups are the runtime's own, not a hop to the
    // thread blocked in `block_on`.
    let work = async move {
        let scale = if quick { 20 } else { 1 };
        if run("handshake") {
            handshakes(200 / scale).await;
        }
        if run("ping") {
            ping_pong(20_000 / scale).await;
        }
        if run("inv") {
            let inv = Message::Inv(Inv {
                inv_list: (0..1000u32)
                    .map(|n| InvVect {
                        inv_type: InvType::TX,
                        hash: Hash([n as u8; 32]),
                    })
                    .collect(),
            });
            one_way("inv x1000", &inv, 20_000 / scale).await;
        }
        if run("block") {
            let raw = synthetic_block(1_000_000);
            let block = Message::Block(Block::from_bytes(&raw, pver::CURRENT).expect("decodes"));
            one_way("block ~1 MB", &block, 400 / scale).await;
        }
        if run("idle") {
            idle_pairs(pairs).await;
        }
    };
    rt.block_on(async { tokio::spawn(work).await.expect("bench task") });
    drop(rt);
    if let Some((sink, path)) = CAPTURE.get() {
        let closed = sink.close();
        println!("capture: closed: {closed:?}");
        let _ = std::fs::remove_file(path);
    }
}
