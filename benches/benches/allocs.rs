//! Allocations per decode, counted by a counting global allocator: the
//! zero-copy path and the conversion to owned values, for each real block
//! and the synthetic full-size block.
//!
//! `cargo bench -p dcr-benches --bench allocs`

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use dcr_benches::{real_blocks, synthetic_block};
use dcr_wire::{pver, Block, Payload, Tx};

struct Counting;

static ALLOCS: AtomicUsize = AtomicUsize::new(0);
static BYTES: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller's layout is passed on unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated above with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn count<T>(f: impl FnOnce() -> T) -> (T, usize, usize) {
    let (a, b) = (ALLOCS.load(Ordering::SeqCst), BYTES.load(Ordering::SeqCst));
    let out = f();
    (
        out,
        ALLOCS.load(Ordering::SeqCst) - a,
        BYTES.load(Ordering::SeqCst) - b,
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
