//! Allocations per decode, counted by a counting global allocator: the
//! zero-copy path and the conversion to owned values, for each real block
//! and the synthetic full-size block; then each command's zero-copy view
//! (`MessageView::decode`) over every valid message of the corpus.
//!
//! `cargo bench -p dcr-benches --bench allocs`

use dcr_benches::{real_blocks, synthetic_block};
use dcr_counting_alloc::{allocated_bytes, thread_allocations};
use dcr_wire::{pver, Block, Payload, Tx};

#[global_allocator]
static GLOBAL: dcr_counting_alloc::Counting = dcr_counting_alloc::Counting;

/// What `f` returns, with the allocations (`alloc` and `realloc`) this
/// thread made running it and the bytes they asked for.
fn count<T>(f: impl FnOnce() -> T) -> (T, usize, usize) {
    let (a, b) = (thread_allocations(), allocated_bytes());
    let out = f();
    (
        out,
        (thread_allocations() - a) as usize,
        (allocated_bytes() - b) as usize,
    )
}

fn report(name: &str, blocks: &[Vec<u8>]) {
    if blocks.is_empty() {
        return;
    }
    let (mut zc, mut zc_bytes, mut owned, mut owned_bytes, mut max_zc) = (0, 0, 0, 0, 0);
    for raw in blocks {
        let (block, n, b) = count(|| Block::from_bytes(raw, pver::CURRENT).expect("decodes"));
        zc += n;
        zc_bytes += b;
        max_zc = max_zc.max(n);
        let (_, n, b) = count(|| {
            let txs: Vec<Tx<'static>> = block
                .txs
                .iter()
                .chain(block.stake_txs.iter())
                .map(|t| t.into_owned())
                .collect();
            txs.len()
        });
        owned += n;
        owned_bytes += b;
    }
    let k = blocks.len() as f64;
    println!(
        "{name}: zero-copy {:.1} allocations/block (max {max_zc}, {:.0} bytes); owned {:.1} allocations/block ({:.0} bytes) over {} blocks",
        zc as f64 / k,
        zc_bytes as f64 / k,
        owned as f64 / k,
        owned_bytes as f64 / k,
        blocks.len()
    );
}

/// Allocations of each command's view, per valid corpus message: mean and
/// most, and how many messages (BENCHMARKS.md, "Every message read in
/// place").
fn views() {
    let Some(dir) = dcr_tests::corpus_dir() else {
        println!("views: corpus not found, skipped");
        return;
    };
    let mut per = std::collections::BTreeMap::<String, (usize, usize, usize)>::new();
    for r in dcr_tests::valid_messages(&dir) {
        let (view, n, _) = count(|| dcr_wire::MessageView::decode(r.command, &r.payload, r.pver));
        assert!(view.is_ok(), "{:?} pver {} decodes", r.command, r.pver);
        let e = per.entry(r.command.to_string()).or_default();
        (e.0, e.1, e.2) = (e.0 + 1, e.1 + n, e.2.max(n));
    }
    for (command, (messages, sum, most)) in per {
        println!(
            "view {command}: {:.2} allocations/message (most {most}) over {messages} messages",
            sum as f64 / messages as f64
        );
    }
}

fn main() {
    let (chain, mainnet) = real_blocks();
    report("chain-0-168", &chain);
    report("mainnet-432100", &mainnet);
    report("synthetic-1.3MB", &[synthetic_block(1_300_000)]);
    views();
}
