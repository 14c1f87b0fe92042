//! The buffers large frames are encoded into and read into, kept for the
//! next large frame.
//!
//! A frame is encoded into a vector of its own, which waits in the queue
//! and is dropped once written. For a block (up to 1.3 MB) that drop
//! returns the memory to the system (the allocator trims it), and the next
//! block's vector faults every page in again: a page fault per 4 KiB,
//! each clearing its page, which cost as much as the copy of the payload
//! itself. So a written frame's vector of [`POOLED_MIN`] bytes or more
//! goes back to a small process-wide pool, and the next large frame is
//! encoded into it.
//!
//! The read side shares the pool: a connection whose read buffer grew for
//! a large frame gives it back once the frame is handled and nothing more
//! is waiting on the socket (so an idle peer does not keep the largest
//! frame it ever received), and takes a kept one, when there is one, for
//! the next large frame's payload. It takes only buffers that exist: a
//! remote that announces a large frame makes nothing new be allocated;
//! with the pool empty, the read buffer grows as the bytes arrive.
//!
//! The pool is bounded, and holds nothing until a large frame was sent:
//! at most [`POOL_BUFFERS`] vectors of at most [`POOLED_MAX`] bytes each,
//! whatever the number of peers. An idle peer holds no more than before,
//! and a small frame never touches the pool (no lock on the common path).
//! The reference has no such pool: Go's collector recycles the memory.

use std::sync::Mutex;

use crate::sync::lock;

/// The smallest frame whose buffer is pooled (smaller ones are ordinary
/// allocations the allocator serves from its own free lists).
pub(crate) const POOLED_MIN: usize = 64 * 1024;

/// The largest buffer kept: room for the largest block frame at the
/// current protocol version (1.3 MB) and its header.
pub(crate) const POOLED_MAX: usize = 2 << 20;

/// How many buffers are kept at most: the frames of a few peers sending
/// blocks at once.
pub(crate) const POOL_BUFFERS: usize = 4;

static POOL: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());

/// An empty vector with room for `len` bytes: one from the pool when the
/// frame is large and a kept buffer is large enough, else a new one (of
/// `len` rounded up to [`POOLED_MIN`], so that a slightly larger frame
/// later still fits it).
pub(crate) fn take(len: usize) -> Vec<u8> {
    if !(POOLED_MIN..=POOLED_MAX).contains(&len) {
        return Vec::with_capacity(len);
    }
    take_kept(len)
        .unwrap_or_else(|| Vec::with_capacity(len.next_multiple_of(POOLED_MIN).min(POOLED_MAX)))
}

/// A kept buffer with room for `len` bytes, if the pool has one: never a
/// new allocation (the read side takes its room for a large frame here,
/// so what a remote announces makes nothing new be allocated).
pub(crate) fn take_kept(len: usize) -> Option<Vec<u8>> {
    let mut pool = lock(&POOL);
    let i = pool.iter().position(|b| b.capacity() >= len)?;
    Some(pool.swap_remove(i))
}

/// Gives a written frame's buffer back: kept when it is large and the
/// pool has room (in place of a smaller one when full), else dropped.
pub(crate) fn give(mut buf: Vec<u8>) {
    if !(POOLED_MIN..=POOLED_MAX).contains(&buf.capacity()) {
        return;
    }
    buf.clear();
    let mut pool = lock(&POOL);
    if pool.len() < POOL_BUFFERS {
        pool.push(buf);
    } else if let Some(smallest) = pool.iter_mut().min_by_key(|b| b.capacity()) {
        if smallest.capacity() < buf.capacity() {
            // The smaller one is dropped after the lock is released.
            buf = std::mem::replace(smallest, buf);
        }
        drop(pool);
        drop(buf);
    }
}

/// Bytes the pool holds now.
#[cfg(test)]
pub(crate) fn held() -> usize {
    lock(&POOL).iter().map(Vec::capacity).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One test owns the pool (it is process-wide), so the others in this
    /// binary that send large frames cannot disturb it: none of them
    /// checks what it holds.
    #[test]
    fn the_pool_keeps_few_large_buffers_and_no_small_one() {
        // Small frames and oversized ones are plain allocations, never
        // kept.
        let small = take(1000);
        assert!(small.capacity() >= 1000 && small.capacity() < POOLED_MIN);
        let before = held();
        give(small);
        give(Vec::with_capacity(POOLED_MAX + 1));
        assert!(held() <= before.max(POOL_BUFFERS * POOLED_MAX));

        // A large frame's buffer comes back for the next large frame.
        let mut a = take(1_000_086);
        assert!(a.capacity() >= 1_000_086);
        a.extend_from_slice(&[7; 1000]);
        let ptr = a.as_ptr();
        give(a);
        let b = take(1_000_000);
        assert!(b.is_empty(), "a kept buffer is handed out empty");
        // (Another test may have taken it in between; then a new one.)
        if b.as_ptr() == ptr {
            assert!(b.capacity() >= 1_000_086);
        }

        // The read side's take never allocates: nothing kept is that
        // large.
        assert!(take_kept(POOLED_MAX + 1).is_none());

        // However many are given back, the pool keeps at most
        // POOL_BUFFERS of at most POOLED_MAX bytes.
        for _ in 0..3 * POOL_BUFFERS {
            give(Vec::with_capacity(POOLED_MAX));
        }
        assert!(lock(&POOL).len() <= POOL_BUFFERS);
        assert!(held() <= POOL_BUFFERS * POOLED_MAX);
    }
}
