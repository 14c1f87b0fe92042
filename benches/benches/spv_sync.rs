//! The light client's sync over loopback: 1,000,000 synthetic simnet
//! headers, each committing to its version 2 filter (DCP-0005), served by
//! a fixture peer in this process; the client checks every header, fetches
//! every filter in `getcfsv2` batches of 100, proves each against its
//! header and stores headers and filters on disk (a fresh folder under the
//! system's temporary folder).
//!
//! `cargo bench -p dcr-benches --bench spv_sync` (`-- --headers N`,
//! `-- --runs N`, `-- --conns N` for connections to the server, default 1;
//! `-- --quick`: 5,000 headers, one run, as CI runs it).
//!
//! Printed per run: the sync's wall time and headers per second; the
//! heap's peak above the baseline taken with the server's chain built,
//! sampled every millisecond (what the sync holds at once: the client's
//! header chain, which keeps every main-chain header's facts and index in
//! memory, its filter window, and the answers in flight), also per header;
//! the heap left once the client is dropped (a leak would show there);
//! resident memory before and after.
//! Building the chain (mining a million headers and their filters) is
//! timed apart and not part of the figure.

use std::sync::Arc;
use std::time::Instant;

use dcr_benches::rss;
use dcr_benches::spv::{arg, mib, quick, set_of, sync, PeakSampler};
use dcr_peer::wire::CurrencyNet;
use dcr_spv::params;
use dcr_spv_net::fixture::{serve, Behaviour, FixtureChain};

/// Counts live heap bytes for the memory figures.
#[global_allocator]
static GLOBAL: dcr_counting_alloc::Counting = dcr_counting_alloc::Counting;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let quick = quick(&args);
    let n: u32 = arg(&args, "--headers").unwrap_or(if quick { 5_000 } else { 1_000_000 });
    let runs: usize = arg(&args, "--runs").unwrap_or(if quick { 1 } else { 3 });
    let conns: usize = arg(&args, "--conns").unwrap_or(1);
    let t = Instant::now();
    let chain = Arc::new(FixtureChain::headers_only(params::simnet(), n));
    println!(
        "spv_sync: built {n} headers with filters in {:.1} s (not timed below)",
        t.elapsed().as_secs_f64()
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let server = serve(CurrencyNet::SimNet, chain.clone(), Behaviour::Honest)
            .await
            .expect("serve");
        for run in 1..=runs {
            let addrs = vec![server.addr; conns];
            let set = set_of(&addrs).await;
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            let (heap0, rss0) = (dcr_counting_alloc::live(), rss());
            let sampler = PeakSampler::start(dcr_counting_alloc::live);
            let synced = sync(set.clone(), 100).await;
            let peak = sampler.stop();
            let kept = dcr_counting_alloc::live() - heap0;
            let r = &synced.report;
            assert_eq!(r.tip_height, n, "synced to the tip");
            assert_eq!(r.filters, n + 1, "every filter stored");
            assert_eq!(r.proven, n, "every filter after genesis proven");
            let secs = synced.took.as_secs_f64();
            println!(
                "spv_sync run {run}: {n} headers + {} filters in {secs:.2} s \
                 ({:.0} headers/s); heap peak +{:.1} MiB ({:.0} B/header), \
                 +{:.1} MiB once the client is dropped; RSS {:.0} -> {:.0} MiB",
                r.filters,
                f64::from(n) / secs,
                mib((peak - heap0) as f64),
                (peak - heap0) as f64 / f64::from(n),
                mib(kept as f64),
                mib(rss0 as f64),
                mib(rss() as f64),
            );
            for p in set.peers() {
                p.disconnect();
            }
        }
        server.task.abort();
    });
}
