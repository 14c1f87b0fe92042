//! The blocking reader and writer (`read_message` / `write_message`, the
//! reference's `ReadMessageN` / `WriteMessageN`) on whole block frames, and
//! the two proof-of-work hashes of a header.
//!
//! `cargo bench -p dcr-benches --bench blocking`; the reference's side is
//! `codecbench -test.bench 'Block/ReadMessageN/(mainnet|synth)'`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use dcr_benches::{real_blocks, synthetic_block};
use dcr_wire::{
    frame_to_vec, pver, read_message, write_message, Block, BlockHeader, CurrencyNet, Message,
};

fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
}

fn block_frame(raw: &[u8]) -> Vec<u8> {
    let block = Block::from_bytes(raw, pver::CURRENT).expect("decodes");
    frame_to_vec(&Message::Block(block), CurrencyNet::MainNet, pver::CURRENT).expect("frames")
}

fn blocking(c: &mut Criterion) {
    let (_, mainnet) = real_blocks();
    let mut g = c.benchmark_group("blocking");
    let mut cases = vec![("synthetic-1.3MB", block_frame(&synthetic_block(1_300_000)))];
    if let Some(raw) = mainnet.first() {
        cases.push(("mainnet-432100", block_frame(raw)));
    }
    for (name, frame) in &cases {
        g.throughput(Throughput::Bytes(frame.len() as u64));
        g.bench_function(format!("read_message/{name}"), |b| {
            b.iter(|| {
                let mut r = black_box(&frame[..]);
                read_message(&mut r, CurrencyNet::MainNet, pver::CURRENT)
                    .map(|m| m.bytes_read)
                    .expect("reads")
            })
        });
        let msg = read_message(&mut &frame[..], CurrencyNet::MainNet, pver::CURRENT)
            .expect("reads")
            .message;
        let mut out = Vec::with_capacity(frame.len());
        g.bench_function(format!("write_message/{name}"), |b| {
            b.iter(|| {
                out.clear();
                write_message(
                    &mut out,
                    black_box(&msg),
                    CurrencyNet::MainNet,
                    pver::CURRENT,
                )
                .expect("writes")
            })
        });
    }
    g.finish();

    let header = match mainnet.first() {
        Some(raw) => BlockHeader::from_bytes(&raw[..180]).expect("a header"),
        None => BlockHeader::default(),
    };
    let mut g = c.benchmark_group("pow-hash");
    g.throughput(Throughput::Bytes(180));
    g.bench_function("v1-blake256/header", |b| {
        b.iter(|| black_box(&header).pow_hash_v1())
    });
    g.bench_function("v2-blake3/header", |b| {
        b.iter(|| black_box(&header).pow_hash_v2())
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = config();
    targets = blocking
}
criterion_main!(benches);
