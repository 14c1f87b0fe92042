//! The payload checksum (BLAKE-256) under the conditions a peer hashes in,
//! beside the tight loop the peer bench's hashing bound is timed by
//! (`dcr_benches::floors::hash_time`): two threads hashing at once, data
//! cold from many other buffers, and idle gaps between hashes. It tells
//! whether the bench's in-place hashing runs slower than the bound because
//! of one of these (BENCHMARKS.md, "Where the default layout's spread
//! comes from").
//!
//!     cargo bench -p dcr-benches --bench hash_conditions [-- --payload BYTES] [--quick]
//!
//! Prints µs per checksum of a `--payload`-byte buffer (36,003: an `inv` of
//! 1,000 vectors) for each condition.

use std::time::{Duration, Instant};

use dcr_wire::checksum;

/// µs per checksum over `n` checksums of `bufs` in turn, with `gap` of
/// sleep before each (not timed).
fn per_hash(bufs: &[Vec<u8>], n: usize, gap: Duration) -> f64 {
    let mut hashing = Duration::ZERO;
    for i in 0..n {
        if !gap.is_zero() {
            std::thread::sleep(gap);
        }
        let t = Instant::now();
        std::hint::black_box(checksum(std::hint::black_box(&bufs[i % bufs.len()])));
        hashing += t.elapsed();
    }
    hashing.as_secs_f64() * 1e6 / n as f64
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let payload = args
        .iter()
        .position(|a| a == "--payload")
        .and_then(|i| args.get(i + 1)?.parse().ok())
        .unwrap_or(36_003usize);
    let n = if args.iter().any(|a| a == "--quick") {
        200
    } else {
        5_000
    };
    let one = vec![vec![7u8; payload]];
    println!("payload {payload} bytes, {n} checksums per line");
    println!(
        "tight loop, one buffer: {:.1} us",
        per_hash(&one, n, Duration::ZERO)
    );
    let two: Vec<f64> = (0..2)
        .map(|_| {
            let one = one.clone();
            std::thread::spawn(move || per_hash(&one, n, Duration::ZERO))
        })
        .map(|t| t.join().expect("hashing thread"))
        .collect();
    println!("two threads at once: {:.1} and {:.1} us", two[0], two[1]);
    for count in [8usize, 128, 512] {
        let bufs: Vec<Vec<u8>> = (0..count).map(|i| vec![i as u8; payload]).collect();
        println!(
            "{count} buffers in turn ({} KiB): {:.1} us",
            count * payload / 1024,
            per_hash(&bufs, n, Duration::ZERO)
        );
    }
    for gap in [5u64, 20, 50, 100] {
        println!(
            "{gap} us asleep before each: {:.1} us",
            per_hash(&one, n, Duration::from_micros(gap))
        );
    }
}
