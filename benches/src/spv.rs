//! What the light client benches share: a peer set connected to fixture
//! peers over loopback, a sync of it into a fresh store, and a sampler of
//! the heap's peak while the sync runs.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use dcr_peer::wire::CurrencyNet;
use dcr_peer::{Hooks, PeerSet, PeerSetConfig, RecentNonces};
use dcr_spv::{params, WatchList};
use dcr_spv_net::{LightClient, SyncConfig, SyncReport};

/// A folder under the system's temporary folder, removed when dropped.
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    /// A new, empty folder named after `name`, this process and a counter.
    pub fn new(name: &str) -> TempDir {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("dcr-bench-{name}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create the bench's folder");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A peer set of one connection to each of `addrs` (simnet), with the
/// default set configuration.
pub async fn set_of(addrs: &[SocketAddr]) -> PeerSet {
    let set = PeerSet::new(PeerSetConfig::default());
    for a in addrs {
        let hooks = Hooks::new().with_nonces(RecentNonces::new());
        let config = dcr_peer::Config::new(CurrencyNet::SimNet);
        let p = dcr_peer::net::connect(&a.to_string(), config, hooks)
            .await
            .expect("connect to a fixture peer");
        set.add(p);
    }
    set
}

/// What one sync took.
pub struct Synced {
    /// Its report.
    pub report: SyncReport,
    /// Wall time from the first request to the last filter stored.
    pub took: Duration,
}

/// Syncs `set` into a fresh store with nothing watched (headers and every
/// filter, proven); `filter_batch` filters per `getcfsv2`.
pub async fn sync(set: PeerSet, filter_batch: u32) -> Synced {
    let dir = TempDir::new("spv");
    let mut config = SyncConfig::new(params::simnet().clone(), &dir.0);
    config.filter_batch = filter_batch;
    let client = LightClient::open(config, set, WatchList::new()).expect("open the store");
    let t = Instant::now();
    let report = client.run(|_| {}).await.expect("the sync completes");
    Synced {
        report,
        took: t.elapsed(),
    }
}

/// Samples `read` (a byte count) every millisecond on a thread of its own
/// until stopped; the highest value seen.
pub struct PeakSampler {
    stop: Arc<AtomicBool>,
    peak: Arc<AtomicIsize>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl PeakSampler {
    /// Starts sampling.
    pub fn start(read: fn() -> isize) -> PeakSampler {
        let stop = Arc::new(AtomicBool::new(false));
        let peak = Arc::new(AtomicIsize::new(read()));
        let (s, p) = (stop.clone(), peak.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                p.fetch_max(read(), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(1));
            }
        });
        PeakSampler {
            stop,
            peak,
            thread: Some(thread),
        }
    }

    /// Stops sampling; the peak.
    pub fn stop(mut self) -> isize {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        self.peak.load(Ordering::Relaxed)
    }
}

/// `--name VALUE` among `args`, parsed.
pub fn arg<T: std::str::FromStr>(args: &[String], name: &str) -> Option<T> {
    let i = args.iter().position(|a| a == name)?;
    args.get(i + 1)?.parse().ok()
}

/// Whether the bench runs small: `--quick`, or `--test` (as `cargo test
/// --benches` runs it).
pub fn quick(args: &[String]) -> bool {
    args.iter().any(|a| a == "--quick" || a == "--test")
}

/// Mebibytes, for printing.
pub fn mib(bytes: impl Into<f64>) -> f64 {
    bytes.into() / (1024.0 * 1024.0)
}
