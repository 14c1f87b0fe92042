//! Decoding a block copies no script bytes and allocates nothing: measured
//! with a counting global allocator on the real blocks of the corpus.

use dcr_counting_alloc::thread_allocations;
use dcr_wire::{pver, Block};

#[global_allocator]
static GLOBAL: dcr_counting_alloc::Counting = dcr_counting_alloc::Counting;

/// What `f` returns and how many allocations this thread made running it.
/// Per thread, because other threads allocate at times of their own:
/// libtest's main thread, waiting on its channel for the test's result,
/// once allocated inside a measured window.
fn allocations_during<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let before = thread_allocations();
    let out = f();
    (out, (thread_allocations() - before) as usize)
}

fn within(outer: &[u8], inner: &[u8]) -> bool {
    let o = outer.as_ptr_range();
    let i = inner.as_ptr_range();
    inner.is_empty() || (o.start <= i.start && i.end <= o.end)
}

#[test]
fn block_decode_allocates_nothing_and_borrows_scripts() {
    let Some(dir) = dcr_tests::corpus_dir() else {
        return;
    };
    let mut blocks = Vec::new();
    for f in ["chain-0-168.bin", "mainnet-432100.bin"] {
        blocks.extend(
            dcr_tests::read_block_file(&dir.join("wire/blocks").join(f)).expect("block file"),
        );
    }
    assert_eq!(blocks.len(), 170);
    let mut total_allocs = 0;
    let mut scripts = 0;
    for bytes in &blocks {
        let (block, allocs) = allocations_during(|| Block::from_bytes(bytes, pver::CURRENT));
        let block = block.expect("real block decodes");
        total_allocs += allocs;
        // Hashing from the views allocates nothing either.
        let (_, hash_allocs) = allocations_during(|| {
            block
                .txs
                .raw_txs()
                .chain(block.stake_txs.raw_txs())
                .map(|t| t.tx_hash().0[0] ^ t.full_hash().0[0])
                .fold(0u8, |a, b| a ^ b)
        });
        assert_eq!(hash_allocs, 0, "hashing a block's transactions allocated");
        for tx in block.txs.iter().chain(block.stake_txs.iter()) {
            for i in &tx.inputs {
                assert!(
                    within(bytes, &i.signature_script),
                    "signature script copied"
                );
                scripts += 1;
            }
            for o in &tx.outputs {
                assert!(within(bytes, &o.pk_script), "pk script copied");
                scripts += 1;
            }
        }
    }
    dcr_tests::report(&format!(
        "zero-copy: {} blocks decoded with {} allocations; {} scripts borrowed",
        blocks.len(),
        total_allocs,
        scripts
    ));
    assert_eq!(total_allocs, 0, "block decoding allocated");
}
