//! What a sync tells its caller: progress as it goes, the report at the
//! end, and why a peer was banned.

use std::fmt;
use std::net::SocketAddr;

/// Banned peers a [`SyncReport`] lists: the newest (a follower runs for
/// days and may ban a peer every few minutes; each ban is also given as
/// [`Progress::Banned`] when it happens), those before them counted in
/// [`SyncReport::banned_dropped`]. dcrwallet keeps no such list; 256 is
/// as many as the swapped-out peers kept ([`dcr_peer::SWAPPED_KEPT`]).
pub const BANNED_KEPT: usize = 256;

use dcr_spv::watch::MatchedTx;
use dcr_spv::{BlockError, FilterError, HeaderError};
use dcr_wire::Hash;

/// Why a peer was banned: the rule its answer broke (each is the peer's
/// fault; [`dcr_spv::Misbehaviour`] says which failures are).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BanReason {
    /// A header it sent breaks a consensus rule (proof of work,
    /// difficulty, link, checkpoint, ...).
    Header(HeaderError),
    /// A filter it sent does not prove into its header, does not decode,
    /// or answers another request.
    Filter(FilterError),
    /// A block it sent does not match its header's merkle roots.
    Block(BlockError),
}

impl fmt::Display for BanReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BanReason::Header(e) => write!(f, "bad header: {e}"),
            BanReason::Filter(e) => write!(f, "bad filter: {e}"),
            BanReason::Block(e) => write!(f, "bad block: {e}"),
        }
    }
}

/// A transaction found for the watch list, in a block proven against its
/// header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The block's height.
    pub height: u32,
    /// The block's hash.
    pub block: Hash,
    /// The transaction and what of it concerns the list.
    pub tx: MatchedTx,
}

/// What happened, as it happens.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Progress {
    /// The header chain's tip moved.
    Headers {
        /// Its height.
        height: u32,
    },
    /// Filters are proven and stored up to this height.
    Filters {
        /// The last height released.
        height: u32,
        /// The header chain's height.
        tip: u32,
    },
    /// Everything up to this tip is checked, proven, stored and matched
    /// (once per tip; when following, at each new tip).
    Tip {
        /// Its height.
        height: u32,
        /// Its hash.
        hash: Hash,
    },
    /// Headers were kept on a side chain with less work than the main
    /// chain: checked, not followed, no fault of their sender.
    SideHeaders {
        /// How many of the batch.
        count: u32,
    },
    /// A transaction was found.
    Found(Found),
    /// A peer was banned.
    Banned {
        /// Its address.
        addr: SocketAddr,
        /// The rule it broke.
        reason: BanReason,
    },
    /// The chain reorganized: blocks above `fork` left the main chain
    /// (and what was found in them no longer stands).
    Reorganized {
        /// The last block both chains share.
        fork: u32,
    },
}

/// The outcome of a sync.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// The tip's height.
    pub tip_height: u32,
    /// The tip's hash.
    pub tip_hash: Hash,
    /// Headers the store held when the sync started (resumed from).
    pub resumed_headers: u32,
    /// Headers connected by this sync.
    pub headers: u32,
    /// Filters stored by this sync.
    pub filters: u32,
    /// Of these, filters proven against their headers' commitments
    /// (DCP-0005); the others predate the commitments or are the genesis
    /// block's.
    pub proven: u32,
    /// Headers of side chains with less work, kept and not followed.
    pub side_headers: u32,
    /// Blocks fetched (their filters matched) and proven against their
    /// headers.
    pub blocks: u32,
    /// What was found, in chain order.
    pub found: Vec<Found>,
    /// Peers banned, and why: the newest [`BANNED_KEPT`], oldest first.
    pub banned: Vec<(SocketAddr, BanReason)>,
    /// Peers banned before those in `banned`, no longer listed.
    pub banned_dropped: u64,
    /// Peers swapped out for silence or slowness (not banned): the newest
    /// [`dcr_peer::SWAPPED_KEPT`], oldest first.
    pub swapped_out: Vec<SocketAddr>,
    /// Peers swapped out before those in `swapped_out`, no longer listed.
    pub swapped_dropped: u64,
}

impl SyncReport {
    /// Lists a ban, the oldest listed dropped (and counted) beyond
    /// [`BANNED_KEPT`].
    pub(crate) fn record_ban(&mut self, addr: SocketAddr, reason: BanReason) {
        if self.banned.len() >= BANNED_KEPT {
            let excess = self.banned.len() + 1 - BANNED_KEPT;
            self.banned.drain(..excess);
            self.banned_dropped += excess as u64;
        }
        self.banned.push((addr, reason));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ban_list_keeps_the_newest_and_counts_the_rest() {
        let mut r = SyncReport::default();
        let reason = BanReason::Block(dcr_spv::BlockError::MerkleRoots {
            block: Hash::default(),
        });
        let addr = |i: u32| SocketAddr::from((std::net::Ipv4Addr::from(i), 9108));
        let total = BANNED_KEPT as u32 + 1000;
        for i in 0..total {
            r.record_ban(addr(i), reason.clone());
            assert!(r.banned.len() <= BANNED_KEPT);
        }
        assert_eq!(r.banned_dropped, 1000);
        let listed: Vec<SocketAddr> = r.banned.iter().map(|(a, _)| *a).collect();
        let newest: Vec<SocketAddr> = (1000..total).map(addr).collect();
        assert_eq!(listed, newest);
    }
}
