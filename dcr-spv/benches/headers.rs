//! Header checks on one core: decoding `headers` messages and taking every
//! header into a [`HeaderChain`] (block hash in multi-lane batches, proof of
//! work, link, height, median time, difficulty and stake difficulty).
//!
//! `cargo bench -p dcr-spv --bench headers`
//!
//! Two synthetic chains of 20,000 headers (mined before measuring):
//! - `ema`: regnet's parameters with DCP-0001 in force, so every header has
//!   its bits checked under the EMA rules (a retarget every 8 blocks) and
//!   its stake difficulty under DCP-0001's; BLAKE-256 proof of work;
//! - `asert`: simnet's, where DCP-0011 is forced: BLAKE3 proof of work and
//!   an ASERT computation for every header (about half the block hashes
//!   meet the target too, so only the other half need their BLAKE3 hash);
//! - `asert-blake3-only`: the same with every block hash missing its
//!   target, as on mainnet since DCP-0011: every header's BLAKE3 hash is
//!   checked.
//!
//! Then the parts on the same headers: decoding, the block hash and the
//! BLAKE3 proof-of-work hash, one by one and in multi-lane batches (and on
//! each BLAKE3 kernel this CPU runs, `pow-hash-v2-kernel/NAME`).
//!
//! Times are this thread's CPU time (Linux `/proc/thread-self/schedstat`),
//! not wall time: on a machine shared with other work, wall time counts
//! the time others run too, while the target is per core. Set
//! `DCR_BENCH_WALL=1` for wall time.

use std::hint::black_box;
use std::time::Duration;

use criterion::measurement::{Measurement, ValueFormatter};
use criterion::{BenchmarkId, Criterion, Throughput};
use dcr_spv::params::{self, Activation};
use dcr_spv::synthetic::ChainBuilder;
use dcr_spv::{HeaderChain, Params};
use dcr_wire::{BlockHeader, Headers, Payload};

const HEADERS: usize = 20_000;

/// The chain as `headers` messages of 2,000, serialized; with
/// `blake3_only`, every header's block hash misses its target.
fn messages(p: &Params, blake3_only: bool) -> Vec<Vec<u8>> {
    let mut b = ChainBuilder::new(p);
    b.blake3_only = blake3_only;
    let headers = b.extend(HEADERS);
    headers
        .chunks(2000)
        .map(|c| {
            let mut out = Vec::new();
            Headers {
                headers: c.to_vec(),
            }
            .encode(&mut out, 12)
            .expect("encodes");
            out
        })
        .collect()
}

fn sync(p: &Params, msgs: &[Vec<u8>]) -> u32 {
    let mut chain = HeaderChain::new(p.clone());
    for m in msgs {
        let (_, headers) = Headers::decode(m, 12).expect("decodes");
        let out = chain.accept(&headers.headers, None);
        assert!(out.rejected.is_none(), "{:?}", out.rejected);
    }
    chain.height()
}

/// CPU time of the calling thread, in nanoseconds.
fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// Criterion measurement of the thread's CPU time.
struct ThreadCpu;

struct NanosFormatter;

impl ValueFormatter for NanosFormatter {
    fn scale_values(&self, typical: f64, values: &mut [f64]) -> &'static str {
        let (div, unit) = if typical >= 1e6 {
            (1e6, "ms")
        } else if typical >= 1e3 {
            (1e3, "µs")
        } else {
            (1.0, "ns")
        };
        values.iter_mut().for_each(|v| *v /= div);
        unit
    }

    fn scale_throughputs(&self, typical: f64, t: &Throughput, values: &mut [f64]) -> &'static str {
        let n = match t {
            Throughput::Elements(n)
            | Throughput::Bytes(n)
            | Throughput::BytesDecimal(n)
            | Throughput::Bits(n)
            | Throughput::ElementsAndBytes { elements: n, .. } => *n as f64,
        };
        // values are ns per iteration: elements per second.
        values.iter_mut().for_each(|v| *v = n * 1e9 / *v / 1e6);
        let _ = typical;
        "Melem/s (CPU)"
    }

    fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
        "ns"
    }
}

impl Measurement for ThreadCpu {
    type Intermediate = u64;
    type Value = u64;

    fn start(&self) -> u64 {
        thread_cpu_ns()
    }

    fn end(&self, i: u64) -> u64 {
        thread_cpu_ns().saturating_sub(i)
    }

    fn add(&self, a: &u64, b: &u64) -> u64 {
        a + b
    }

    fn zero(&self) -> u64 {
        0
    }

    fn to_f64(&self, v: &u64) -> f64 {
        *v as f64
    }

    fn formatter(&self) -> &dyn ValueFormatter {
        &NanosFormatter
    }
}

fn header_checks<M: Measurement>(c: &mut Criterion<M>) {
    let mut ema = params::regnet().clone();
    ema.dcp0001 = Activation::Forced;
    let cases = [
        ("ema", ema, false),
        ("asert", params::simnet().clone(), false),
        ("asert-blake3-only", params::simnet().clone(), true),
    ];
    let mut g = c.benchmark_group("headers");
    g.throughput(Throughput::Elements(HEADERS as u64));
    for (name, p, blake3_only) in &cases {
        let msgs = messages(p, *blake3_only);
        assert_eq!(sync(p, &msgs), HEADERS as u32);
        g.bench_with_input(BenchmarkId::new("decode+check", name), &msgs, |b, m| {
            b.iter(|| black_box(sync(p, m)))
        });
    }
    // The parts: decoding alone, and hashing alone (one by one and in
    // batches), for the same 20,000 headers.
    let msgs = messages(&cases[0].1, false);
    g.bench_function("decode-only", |b| {
        b.iter(|| {
            msgs.iter()
                .map(|m| {
                    Headers::decode(m, 12)
                        .map(|(_, h)| h.headers.len())
                        .unwrap_or(0)
                })
                .sum::<usize>()
        })
    });
    let headers: Vec<BlockHeader> = msgs
        .iter()
        .flat_map(|m| {
            Headers::decode(m, 12)
                .map(|(_, h)| h.headers)
                .unwrap_or_default()
        })
        .collect();
    g.bench_function("block-hash-one-by-one", |b| {
        b.iter(|| {
            headers
                .iter()
                .map(|h| h.block_hash().0[0] as u64)
                .sum::<u64>()
        })
    });
    let bytes: Vec<[u8; 180]> = headers.iter().map(BlockHeader::to_bytes).collect();
    g.bench_function("block-hash-batched", |b| {
        let inputs: Vec<dcr_wire::HashInput<'_>> =
            bytes.iter().map(|h| dcr_wire::HashInput::new(h)).collect();
        let mut out = vec![dcr_wire::Hash::ZERO; inputs.len()];
        b.iter(|| {
            dcr_wire::blake256_many(&inputs, &mut out);
            out[0].0[0]
        })
    });
    g.bench_function("pow-hash-v2-one-by-one", |b| {
        b.iter(|| {
            headers
                .iter()
                .map(|h| h.pow_hash_v2().0[0] as u64)
                .sum::<u64>()
        })
    });
    // The same hashes from the serialized headers, one by one (the
    // `blake3` crate) and in multi-lane batches (what the chain uses).
    g.bench_function("pow-hash-v2-one-by-one-serialized", |b| {
        b.iter(|| {
            bytes
                .iter()
                .map(|h| blake3::hash(h).as_bytes()[0] as u64)
                .sum::<u64>()
        })
    });
    g.bench_function("pow-hash-v2-batched", |b| {
        let refs: Vec<&[u8; 180]> = bytes.iter().collect();
        let mut out = vec![dcr_wire::Hash::ZERO; refs.len()];
        b.iter(|| {
            BlockHeader::pow_hashes_v2(&refs, &mut out);
            out[0].0[0]
        })
    });
    // Each multi-lane kernel this CPU runs, by name.
    for kernel in dcr_blake256::blake3::kernels() {
        g.bench_with_input(
            BenchmarkId::new("pow-hash-v2-kernel", kernel),
            &bytes,
            |b, bytes| {
                let mut out = vec![[0u8; 32]; bytes.len()];
                b.iter(|| {
                    let ran = dcr_blake256::blake3::hash_many_on(kernel, bytes, &mut out);
                    assert_eq!(ran, Ok(true));
                    out[0][0]
                })
            },
        );
    }
    g.finish();
}

fn main() {
    let wall = std::env::var_os("DCR_BENCH_WALL").is_some();
    if wall {
        let mut c = Criterion::default()
            .sample_size(20)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(3))
            .configure_from_args();
        header_checks(&mut c);
        c.final_summary();
    } else {
        let mut c = Criterion::default()
            .with_measurement(ThreadCpu)
            .sample_size(20)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(3))
            .configure_from_args();
        header_checks(&mut c);
        c.final_summary();
    }
}
