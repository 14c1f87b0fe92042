//! What capturing a frame costs the peer that records it: one
//! `CaptureConn::record` (the clock, the record's CRC-32, the copy into the
//! sink's buffer under its lock) of a ping, a 1,000-entry inv and a 1 MB
//! block frame, into a sink whose writer drops the bytes (the file's own
//! cost is the writer thread's, not the peer's; `--bench peer --
//! --capture` measures it whole). Before the timings it prints the
//! allocations per record after a warm-up, counted by a counting global
//! allocator (the whole process: the writer thread's included).
//!
//! `cargo bench -p dcr-benches --bench capture`

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use dcr_benches::synthetic_block;
use dcr_peer::capture::{CaptureSink, Direction, FlushPolicy};
use dcr_wire::{
    frame_to_vec, pver, Block, CurrencyNet, Hash, Inv, InvType, InvVect, Message, Ping,
    MESSAGE_HEADER_SIZE,
};

#[global_allocator]
static GLOBAL: dcr_tests::Counting = dcr_tests::Counting;

const NET: CurrencyNet = CurrencyNet::SimNet;

/// The frames: (name, whole frame).
fn frames() -> Vec<(&'static str, Vec<u8>)> {
    let inv = Message::Inv(Inv {
        inv_list: (0..1000u32)
            .map(|n| InvVect {
                inv_type: InvType::TX,
                hash: Hash([n as u8; 32]),
            })
            .collect(),
    });
    let raw = synthetic_block(1_000_000);
    let block = Message::Block(Block::from_bytes(&raw, pver::CURRENT).expect("decodes"));
    [
        ("ping", Message::Ping(Ping { nonce: 7 })),
        ("inv x1000", inv),
        ("block ~1 MB", block),
    ]
    .into_iter()
    .map(|(name, msg)| (name, frame_to_vec(&msg, NET, pver::CURRENT).expect("frame")))
    .collect()
}

fn sink() -> Arc<CaptureSink> {
    Arc::new(CaptureSink::new(std::io::sink(), FlushPolicy::default()).expect("sink"))
}

/// Allocations per record once the buffers have grown: `n` records after
/// as many to warm up.
fn allocations_per_record(frame: &[u8], n: u64) -> f64 {
    let sink = sink();
    let conn = sink.connection(NET);
    let (head, payload) = frame.split_at(MESSAGE_HEADER_SIZE);
    for _ in 0..n {
        conn.record(Direction::Received, &[head, payload]);
    }
    sink.flush().expect("flush");
    let before = dcr_tests::allocations();
    for _ in 0..n {
        conn.record(Direction::Received, &[head, payload]);
    }
    sink.flush().expect("flush");
    (dcr_tests::allocations() - before) as f64 / n as f64
}

fn capture(c: &mut Criterion) {
    let frames = frames();
    for (name, frame) in &frames {
        let n = if frame.len() > 100_000 { 200 } else { 20_000 };
        println!(
            "capture {name} ({} bytes): {:.3} allocations per record ({n} records after {n})",
            frame.len(),
            allocations_per_record(frame, n)
        );
    }
    let mut g = c.benchmark_group("capture");
    g.measurement_time(Duration::from_secs(2));
    g.warm_up_time(Duration::from_millis(500));
    g.sample_size(20);
    let sink = sink();
    let conn = sink.connection(NET);
    for (name, frame) in &frames {
        let (head, payload) = frame.split_at(MESSAGE_HEADER_SIZE);
        g.throughput(Throughput::Bytes(frame.len() as u64));
        g.bench_function(format!("record/{name}"), |b| {
            b.iter(|| conn.record(Direction::Received, black_box(&[head, payload])))
        });
    }
    g.finish();
    let stats = sink.close().expect("close");
    println!(
        "capture: {} records written, {} dropped (the writer behind)",
        stats.records, stats.dropped
    );
}

criterion_group!(benches, capture);
criterion_main!(benches);
