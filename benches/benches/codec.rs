//! Codec throughput: every message type, real blocks, a full-size block,
//! headers, transactions, framing and hashing.
//!
//! `cargo bench -p dcr-benches --bench codec`

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use dcr_benches::{real_blocks, representative_messages, round_trips, synthetic_block};
use dcr_blake256::{digest_many_on, many_kernels, Compression};
use dcr_wire::merkle::{check_block_roots_with, merkle_root_in_place};
use dcr_wire::{
    blake256, frame_to_vec, pver, split_frame, Block, BlockHeader, CurrencyNet, Hash, HashInput,
    Message, MessageView, Payload, RawTx, Split, Tx, TxSerType,
};

fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
}

fn messages(c: &mut Criterion) {
    let mut g = c.benchmark_group("message");
    for (command, pv, payload) in representative_messages() {
        assert!(
            round_trips(command, pv, &payload),
            "{command} does not round-trip"
        );
        let msg = Message::decode(command, &payload, pv).expect("decodes");
        g.throughput(Throughput::Bytes(payload.len() as u64));
        g.bench_with_input(BenchmarkId::new("decode", command), &payload, |b, p| {
            b.iter(|| Message::decode(command, black_box(p), pv).map(|m| black_box(m.command())))
        });
        // The zero-copy decode of the same payload (lists read in place).
        g.bench_with_input(BenchmarkId::new("view", command), &payload, |b, p| {
            b.iter(|| {
                MessageView::decode(command, black_box(p), pv).map(|v| black_box(v.command()))
            })
        });
        let mut out = Vec::with_capacity(payload.len());
        g.bench_with_input(BenchmarkId::new("encode", command), &msg, |b, m| {
            b.iter(|| {
                out.clear();
                m.encode(&mut out, pv).map(|_| black_box(out.len()))
            })
        });
    }
    g.finish();
}

fn blocks(c: &mut Criterion) {
    let (chain, mainnet) = real_blocks();
    let mut g = c.benchmark_group("block");
    if !chain.is_empty() {
        let total: usize = chain.iter().map(Vec::len).sum();
        g.throughput(Throughput::Bytes(total as u64));
        g.bench_function("decode/chain-169-blocks-stream", |b| {
            b.iter(|| {
                for raw in &chain {
                    black_box(
                        Block::from_bytes(black_box(raw), pver::CURRENT)
                            .map(|b| b.txs.len())
                            .ok(),
                    );
                }
            })
        });
        g.bench_function("decode+hash-all-txs+roots/chain-169-blocks-stream", |b| {
            b.iter(|| {
                for raw in &chain {
                    black_box(decode_hash_and_check(raw));
                }
            })
        });
        g.bench_function("decode+owned/chain-169-blocks-stream", |b| {
            b.iter(|| {
                for raw in &chain {
                    let block = Block::from_bytes(raw, pver::CURRENT).expect("decodes");
                    let owned: Vec<Tx<'static>> =
                        block.txs.iter().map(|t| t.into_owned()).collect();
                    black_box(owned.len());
                }
            })
        });
        // Per block: the largest one of the chain.
        let biggest = chain.iter().max_by_key(|b| b.len()).expect("non-empty");
        g.throughput(Throughput::Bytes(biggest.len() as u64));
        g.bench_function("decode/chain-largest", |b| {
            b.iter(|| Block::from_bytes(black_box(biggest), pver::CURRENT).map(|b| b.txs.len()))
        });
    }
    if let Some(raw) = mainnet.first() {
        g.throughput(Throughput::Bytes(raw.len() as u64));
        g.bench_function("decode/mainnet-432100", |b| {
            b.iter(|| Block::from_bytes(black_box(raw), pver::CURRENT).map(|b| b.txs.len()))
        });
        g.bench_function("decode+hash-all-txs/mainnet-432100", |b| {
            b.iter(|| {
                let block = Block::from_bytes(raw, pver::CURRENT).expect("decodes");
                for t in block.txs.raw_txs().chain(block.stake_txs.raw_txs()) {
                    black_box(t.full_hash());
                }
            })
        });
        g.bench_function("decode+hash-all-txs-many/mainnet-432100", |b| {
            b.iter(|| {
                let block = Block::from_bytes(raw, pver::CURRENT).expect("decodes");
                black_box(block.tx_hashes())
            })
        });
        g.bench_function("decode+hash-all-txs+roots/mainnet-432100", |b| {
            b.iter(|| black_box(decode_hash_and_check(raw)))
        });
    }
    let big = synthetic_block(1_300_000);
    g.throughput(Throughput::Bytes(big.len() as u64));
    g.bench_function("decode/synthetic-1.3MB", |b| {
        b.iter(|| Block::from_bytes(black_box(&big), pver::CURRENT).map(|b| b.txs.len()))
    });
    g.bench_function("decode+hash-all-txs+roots/synthetic-1.3MB", |b| {
        b.iter(|| black_box(decode_hash_and_check(&big)))
    });
    let frame = frame_to_vec(
        &Message::Block(Block::from_bytes(&big, pver::CURRENT).expect("decodes")),
        CurrencyNet::MainNet,
        pver::CURRENT,
    )
    .expect("frames");
    g.throughput(Throughput::Bytes(frame.len() as u64));
    g.bench_function("frame-split+checksum+decode/synthetic-1.3MB", |b| {
        b.iter(
            || match split_frame(black_box(&frame), CurrencyNet::MainNet, pver::CURRENT) {
                // The splitter verifies the checksum before handing it out.
                Ok(Split::Frame { frame, .. }) => {
                    black_box(frame.message(pver::CURRENT).map(|m| m.command()).ok());
                }
                _ => unreachable!("a whole frame"),
            },
        )
    });
    g.bench_function("checksum-only/synthetic-1.3MB", |b| {
        b.iter(|| blake256(black_box(&frame[24..])))
    });
    g.finish();
}

/// Decodes a block, hashes every transaction (prefix, witness and full
/// hash, many at a time) and checks its header's roots against them: what
/// a node does with each block it receives. True when the roots match.
fn decode_hash_and_check(raw: &[u8]) -> bool {
    let block = Block::from_bytes(raw, pver::CURRENT).expect("decodes");
    let hashes = block.tx_hashes();
    check_block_roots_with(&block, &hashes).is_some()
}

/// Many independent messages hashed at once, on each kernel this CPU runs
/// ("single" is one message after the other), and merkle roots.
fn many(c: &mut Criterion) {
    let mut g = c.benchmark_group("many");
    // 64 B: a merkle parent or a full hash; 180 B: a header; 300 B and
    // 1 KiB: transaction parts.
    for size in [64usize, 180, 300, 1024] {
        let count = 1024;
        let data: Vec<u8> = (0..size * count).map(|i| (i * 7 + 1) as u8).collect();
        let inputs: Vec<HashInput<'_>> = data.chunks_exact(size).map(HashInput::new).collect();
        let mut out = vec![Hash::ZERO; count];
        g.throughput(Throughput::Bytes(data.len() as u64));
        for kernel in many_kernels() {
            g.bench_function(
                BenchmarkId::new(format!("blake256x{count}/{kernel}"), size),
                |b| b.iter(|| digest_many_on(kernel, black_box(&inputs), &mut out)),
            );
        }
    }
    let leaves: Vec<Hash> = (0..4096u32).map(|i| blake256(&i.to_le_bytes())).collect();
    g.throughput(Throughput::Elements(4096));
    g.bench_function("merkle-root/4096", |b| {
        b.iter(|| merkle_root_in_place(black_box(leaves.clone())))
    });
    g.finish();
}

fn parts(c: &mut Criterion) {
    let (chain, mainnet) = real_blocks();
    let mut g = c.benchmark_group("parts");
    let header = BlockHeader::default().to_bytes();
    g.throughput(Throughput::Bytes(header.len() as u64));
    g.bench_function("header/decode", |b| {
        b.iter(|| BlockHeader::parse(black_box(&header)).map(|(_, h)| h.height))
    });
    let source = mainnet.first().or(chain.last());
    if let Some(raw) = source {
        let block = Block::from_bytes(raw, pver::CURRENT).expect("decodes");
        if let Some(tx) = block.txs.iter().max_by_key(|t| t.size_as(TxSerType::Full)) {
            for ser in [
                TxSerType::Full,
                TxSerType::NoWitness,
                TxSerType::OnlyWitness,
            ] {
                let bytes = tx.to_bytes_as(ser);
                g.throughput(Throughput::Bytes(bytes.len() as u64));
                g.bench_with_input(
                    BenchmarkId::new("tx/decode", format!("{ser:?}")),
                    &bytes,
                    |b, bytes| b.iter(|| Tx::from_bytes(black_box(bytes)).map(|t| t.inputs.len())),
                );
            }
            let full = tx.to_bytes_as(TxSerType::Full);
            let raw_tx = RawTx::parse(&full).expect("parses").1;
            g.throughput(Throughput::Bytes(full.len() as u64));
            g.bench_function("hash/tx-prefix-from-bytes", |b| {
                b.iter(|| black_box(raw_tx).tx_hash())
            });
            g.bench_function("hash/tx-full-from-bytes", |b| {
                b.iter(|| black_box(raw_tx).full_hash())
            });
            g.bench_function("hash/tx-prefix-reserialized", |b| {
                b.iter(|| black_box(&tx).tx_hash())
            });
        }
        g.throughput(Throughput::Bytes(180));
        g.bench_function("hash/block", |b| {
            b.iter(|| black_box(&block.header).block_hash())
        });
    }
    // The sizes of the reference's own BLAKE-256 benchmarks (32 B to 16 KiB), a block
    // header (180 B) and 1 MiB.
    for size in [32usize, 64, 180, 1024, 8192, 16384, 1 << 20] {
        let data = vec![0xa5u8; size];
        g.throughput(Throughput::Bytes(size as u64));
        g.bench_with_input(BenchmarkId::new("blake256", size), &data, |b, d| {
            b.iter(|| blake256(black_box(d)))
        });
        // Each compression on its own, one-shot as `blake256` hashes.
        for c in Compression::available() {
            g.bench_with_input(
                BenchmarkId::new(format!("blake256-single/{}", c.name()), size),
                &data,
                |b, d| b.iter(|| c.digest(black_box(d))),
            );
        }
        g.bench_with_input(
            BenchmarkId::new("blake256-blake-hash-crate", size),
            &data,
            |b, d| b.iter(|| <blake_hash::Blake256 as blake_hash::Digest>::digest(black_box(d))),
        );
    }
    g.finish();
}

/// `dcrpeer bench --builtin`'s figures, the same work on the same data
/// (`dcr_node::bench`): each level over each built-in set, one
/// pass over its messages per iteration.
fn levels(c: &mut Criterion) {
    levels_by(c, "levels");
}

/// [`levels`] timed by the process's CPU time (`dcrpeer bench --clock
/// cpu`), which a machine busy with other work does not stretch.
fn levels_cpu(c: &mut Criterion<dcr_benches::ProcessCpuTime>) {
    levels_by(c, "levels-cpu");
}

fn levels_by<M: criterion::measurement::Measurement>(c: &mut Criterion<M>, name: &str) {
    use dcr_node::bench::{builtin, work, Level};
    let Some(dir) = dcr_benches::corpus() else {
        eprintln!("benches: corpus not found, the levels benches skipped");
        return;
    };
    let sets = builtin(&dir).expect("the corpus reads");
    let mut g = c.benchmark_group(name);
    for set in &sets {
        g.throughput(Throughput::Bytes(set.bytes() as u64));
        for level in Level::ALL {
            g.bench_function(format!("{level}/{}", set.name), |b| {
                b.iter(|| {
                    for m in &set.msgs {
                        let _ = black_box(work(level, m, set.payload(m)));
                    }
                })
            });
        }
    }
    g.finish();
}

/// The portable compression against the `blake-hash` crate it replaced,
/// timed by the process's CPU time, so that a machine busy with other work
/// stretches neither side: one-shot digests of the sizes `parts` uses up
/// to 16 KiB (`portable` is `parts/blake256-single/portable`'s function).
fn blake256_cpu(c: &mut Criterion<dcr_benches::ProcessCpuTime>) {
    let mut g = c.benchmark_group("blake256-cpu");
    for size in [32usize, 64, 180, 1024, 16384] {
        let data = vec![0xa5u8; size];
        g.throughput(Throughput::Bytes(size as u64));
        g.bench_with_input(BenchmarkId::new("portable", size), &data, |b, d| {
            b.iter(|| Compression::PORTABLE.digest(black_box(d)))
        });
        g.bench_with_input(BenchmarkId::new("blake-hash-crate", size), &data, |b, d| {
            b.iter(|| <blake_hash::Blake256 as blake_hash::Digest>::digest(black_box(d)))
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = config();
    targets = messages, blocks, many, parts, levels
}
criterion_group! {
    name = cpu_benches;
    config = config().with_measurement(dcr_benches::ProcessCpuTime);
    targets = levels_cpu, blake256_cpu
}
criterion_main!(benches, cpu_benches);
