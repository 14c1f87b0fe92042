//! A global allocator that counts, for the binaries that measure memory:
//! the peer's hardening tests (live heap under floods), the benches
//! (allocations per decode, heap per peer) and `dcrpeer bench`
//! (allocations per message).
//!
//! Install it in the binary that measures, then read the counters:
//!
//! ```
//! #[global_allocator]
//! static GLOBAL: dcr_counting_alloc::Counting = dcr_counting_alloc::Counting;
//!
//! let before = dcr_counting_alloc::thread_allocations();
//! let v = vec![0u8; 100];
//! assert_eq!(dcr_counting_alloc::thread_allocations() - before, 1);
//! # drop(v);
//! ```
//!
//! Every `alloc` and every `realloc` (which may move the block) counts as
//! an allocation; `dealloc` and `realloc` keep the live byte count right.
//! The process-wide counters take every thread's calls; the per-thread
//! one only the caller's, for a measurement that other threads (libtest's
//! own, a runtime's workers) must not disturb. Where `Counting` is not the
//! global allocator every counter stays 0.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicIsize, AtomicU64, Ordering::Relaxed};

/// The counting allocator: the system allocator with counters beside it.
pub struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);
static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
static ALLOCATED: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// This thread's allocations. A `const` thread local without `Drop`
    /// never allocates itself, so the allocator may touch it.
    static THREAD_ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

/// Allocations made so far in the whole process (`alloc` and `realloc`
/// calls).
pub fn allocations() -> u64 {
    ALLOCATIONS.load(Relaxed)
}

/// Allocations made so far by the calling thread.
pub fn thread_allocations() -> u64 {
    THREAD_ALLOCATIONS.with(Cell::get)
}

/// Bytes asked for so far in the whole process: the sizes of every
/// `alloc`, and of the growth of every `realloc` that grows.
pub fn allocated_bytes() -> u64 {
    ALLOCATED.load(Relaxed)
}

/// Heap bytes live now.
pub fn live() -> isize {
    LIVE.load(Relaxed)
}

fn count(grown: usize) {
    ALLOCATIONS.fetch_add(1, Relaxed);
    ALLOCATED.fetch_add(grown as u64, Relaxed);
    // Fails only while the thread is being torn down; not counted then.
    let _ = THREAD_ALLOCATIONS.try_with(|a| a.set(a.get() + 1));
}

// SAFETY: every call is forwarded unchanged to the system allocator; only
// counters are updated beside it, and they never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        LIVE.fetch_add(layout.size() as isize, Relaxed);
        // SAFETY: the caller's layout is passed on unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        LIVE.fetch_add(layout.size() as isize, Relaxed);
        // SAFETY: the caller's layout is passed on unchanged.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Relaxed);
        // SAFETY: `ptr` was allocated by this allocator with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size.saturating_sub(layout.size()));
        LIVE.fetch_add(new_size as isize - layout.size() as isize, Relaxed);
        // SAFETY: as for `GlobalAlloc::realloc`, forwarded unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[global_allocator]
    static GLOBAL: Counting = Counting;

    #[test]
    fn counts_allocations_reallocations_and_live_bytes() {
        let (calls, bytes) = (thread_allocations(), allocated_bytes());
        let mut v: Vec<u8> = Vec::with_capacity(100);
        assert_eq!(thread_allocations() - calls, 1);
        assert!(allocated_bytes() - bytes >= 100);
        v.extend_from_slice(&[1; 100]);
        v.reserve_exact(1000); // a realloc
        assert_eq!(thread_allocations() - calls, 2);
        assert!(allocated_bytes() - bytes >= 1100);
        // Live bytes are process-wide: other test threads may allocate,
        // but this block's 1100 bytes are among them until dropped.
        assert!(live() >= 1100);
        let z = vec![0u64; 64]; // alloc_zeroed
        assert_eq!(thread_allocations() - calls, 3);
        drop((v, z));
        assert!(allocations() >= 3);
    }
}
