//! What a networking layer does with each way a peer's answer can fail:
//! one place that maps every typed reason to a verdict.
//!
//! dcrwallet disconnects a peer whose headers fail the difficulty checks,
//! whose filter fails its proof, or whose block fails its merkle roots
//! (`spv/sync.go`: `rp.Disconnect(err)`); dcrd's server bans for rule
//! violations. A chain with less work is not a fault (it goes to a side
//! chain, [`crate::HeadersOutcome::side`]), nor is an unknown parent (the
//! answer is a fresh `getheaders`), a clock disagreement, or silence (the
//! request goes to another peer).

use crate::block::BlockError;
use crate::chain::Rejection;
use crate::check::HeaderError;
use crate::filters::FilterError;

/// What to do with the peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// It sent data that breaks consensus rules or answers something it
    /// was not asked: disconnect and ban.
    Ban,
    /// Nothing wrong that is its fault: keep it, drop the data, ask again
    /// where that helps (an orphan header: `getheaders` with a locator).
    Ignore,
}

/// A typed reason with its verdict.
pub trait Misbehaviour {
    /// What the networking layer does with the peer that caused it.
    fn verdict(&self) -> Verdict;
}

impl Misbehaviour for HeaderError {
    fn verdict(&self) -> Verdict {
        match self {
            // Valid later: dcrd rejects such a block now, but clocks differ.
            HeaderError::TimeTooNew { .. } => Verdict::Ignore,
            _ => Verdict::Ban,
        }
    }
}

impl Misbehaviour for Rejection {
    fn verdict(&self) -> Verdict {
        match self {
            Rejection::Invalid(e) => e.verdict(),
            Rejection::Orphan { .. } | Rejection::SideChainsFull { .. } => Verdict::Ignore,
        }
    }
}

impl Misbehaviour for FilterError {
    fn verdict(&self) -> Verdict {
        Verdict::Ban
    }
}

impl Misbehaviour for BlockError {
    fn verdict(&self) -> Verdict {
        Verdict::Ban
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dcr_wire::Hash;

    #[test]
    fn verdicts() {
        let h = Hash::ZERO;
        assert_eq!(
            Rejection::Invalid(HeaderError::BadHeight {
                expected: 1,
                got: 2
            })
            .verdict(),
            Verdict::Ban
        );
        assert_eq!(
            Rejection::Invalid(HeaderError::TimeTooNew { now: 0, got: 9999 }).verdict(),
            Verdict::Ignore
        );
        assert_eq!(
            Rejection::Orphan { hash: h, prev: h }.verdict(),
            Verdict::Ignore
        );
        assert_eq!(
            Rejection::SideChainsFull { hash: h }.verdict(),
            Verdict::Ignore
        );
        assert_eq!(FilterError::Unrequested(3).verdict(), Verdict::Ban);
        assert_eq!(BlockError::MerkleRoots { block: h }.verdict(), Verdict::Ban);
    }
}
