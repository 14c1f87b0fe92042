//! How far behind our tip a peer may be and still be kept: dcrwallet's
//! stragglers (`spv/sync.go`).
//!
//! dcrwallet refuses a peer whose `version` advertises a height more than
//! [`STRAGGLER_LIMIT`] blocks below its tip (`setRequiredHeight`,
//! `LocalPeer.RequirePeerHeight`, checked in `ConnectOutbound`), and each
//! time its tip moves it disconnects every peer whose height, the higher
//! of the one it advertised and that of the last header it sent, is more
//! than that below the new tip (`disconnectStragglers`). Such a peer
//! serves neither the headers nor the filters at the tip, and holds a
//! place an up-to-date peer could take; it is not banned, and a later
//! connection may find it caught up.
//!
//! I/O-free: the caller knows the heights and does the disconnecting.

/// How many blocks below our tip a peer may be (dcrwallet
/// `stragglerLimit`, and the `tipHeight - 6` of `setRequiredHeight`).
pub const STRAGGLER_LIMIT: u32 = 6;

/// Whether a peer at `peer_height` (the higher of its advertised height
/// and that of the last header it sent) is more than [`STRAGGLER_LIMIT`]
/// blocks below `tip`. dcrwallet `disconnectStragglers`.
pub fn is_straggler(peer_height: i64, tip: u32) -> bool {
    i64::from(tip) - peer_height > i64::from(STRAGGLER_LIMIT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_peer_more_than_six_blocks_below_the_tip_is_a_straggler() {
        assert!(!is_straggler(40, 40));
        assert!(!is_straggler(50, 40), "ahead of us");
        assert!(!is_straggler(34, 40), "six below: kept");
        assert!(is_straggler(33, 40), "seven below");
        assert!(is_straggler(0, 7));
        assert!(!is_straggler(0, 6), "a young chain keeps everyone");
        // A version may carry a negative height: behind everything.
        assert!(is_straggler(-1, 6));
        assert!(!is_straggler(-1, 5));
    }
}
