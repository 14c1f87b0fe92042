//! The handle's side of the outbound queue: a frame with the channel that
//! hears when it is written ([`Outgoing`]), and the bound on output queued
//! for one peer ([`OutputBudget`]), which the handle and the connection's
//! task share.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use tokio::sync::oneshot;

use crate::error::PeerError;
use crate::fsm::session::{LocalFailure, Queued};

/// Where a frame's "written" notification goes.
pub(crate) type WrittenTx = oneshot::Sender<Result<(), PeerError>>;

/// A frame waiting to be written, with whoever waits for it.
pub(crate) type Outgoing = Queued<WrittenTx>;

/// The bytes and frames queued for one peer but not yet written, shared
/// by the handle (which adds what callers queue) and the session (which
/// adds what it answers and subtracts what is written). Passing the bound
/// ends the peer, as the reference does; callers that can wait use
/// [`OutputBudget::has_room`] first and so never pass it.
#[derive(Debug)]
pub(crate) struct OutputBudget {
    bytes: AtomicU64,
    frames: AtomicUsize,
    max: u64,
    max_frames: usize,
}

impl OutputBudget {
    /// A budget of `max` bytes; callers may queue `max_frames` frames
    /// (what the session adds itself is not refused by count).
    pub fn new(max: u64, max_frames: usize) -> Self {
        OutputBudget {
            bytes: AtomicU64::new(0),
            frames: AtomicUsize::new(0),
            max,
            max_frames,
        }
    }

    /// True when callers have queued as many frames as they may.
    pub fn is_full(&self) -> bool {
        self.frames() >= self.max_frames
    }

    /// Counts a frame of `len` bytes as queued; past the bound, the
    /// failure that ends the peer (the frame is not counted then): ours,
    /// not the remote's.
    pub fn reserve(&self, len: usize) -> Result<(), LocalFailure> {
        let len = len as u64;
        let queued = self.bytes.fetch_add(len, Ordering::SeqCst) + len;
        if queued > self.max {
            self.bytes.fetch_sub(len, Ordering::SeqCst);
            return Err(LocalFailure::QueuedOutput {
                queued,
                max: self.max,
            });
        }
        self.frames.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    /// A frame of `len` bytes left the queue (written or dropped).
    pub fn release(&self, len: usize) {
        self.bytes.fetch_sub(len as u64, Ordering::SeqCst);
        self.frames.fetch_sub(1, Ordering::SeqCst);
    }

    /// True when a frame of `len` bytes fits under both bounds now, or
    /// when nothing is queued (a single frame larger than the bound is
    /// still let through alone, and then refused by
    /// [`OutputBudget::reserve`]).
    pub fn has_room(&self, len: usize) -> bool {
        let queued = self.bytes.load(Ordering::SeqCst);
        queued == 0 || (queued + len as u64 <= self.max && !self.is_full())
    }

    /// Bytes queued.
    pub fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::SeqCst)
    }

    /// Frames queued.
    pub fn frames(&self) -> usize {
        self.frames.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_lets_waiters_in_below_both_bounds() {
        let b = OutputBudget::new(100, 2);
        assert!(
            b.has_room(1000),
            "an empty queue takes one frame of any size"
        );
        b.reserve(60).unwrap();
        assert!(b.has_room(40) && !b.has_room(41));
        b.reserve(10).unwrap();
        assert!(b.is_full() && !b.has_room(1));
        b.release(60);
        assert!(b.has_room(90));
    }

    #[test]
    fn passing_the_byte_bound_is_refused_and_not_counted() {
        let b = OutputBudget::new(100, 10);
        b.reserve(90).unwrap();
        assert_eq!(
            b.reserve(20),
            Err(LocalFailure::QueuedOutput {
                queued: 110,
                max: 100
            })
        );
        assert_eq!((b.bytes(), b.frames()), (90, 1));
    }
}
