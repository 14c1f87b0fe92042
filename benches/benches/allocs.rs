//! Allocations per decode, counted by a counting global allocator: the
//! zero-copy path and the conversion to owned values, for each real block
//! and the synthetic full-size block.
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

fn main() {
    let (chain, mainnet) = real_blocks();
    report("chain-0-168", &chain);
    report("mainnet-432100", &mainnet);
    report("synthetic-1.3MB", &[synthetic_block(1_300_000)]);
}
