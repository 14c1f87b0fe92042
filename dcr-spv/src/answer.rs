//! What a `headers` answer to the client's `getheaders` must look like,
//! beyond the header rules: dcrwallet's `receivedHeaders`
//! (`p2p/peering.go`), rule by rule, and where each lives here.
//!
//! | dcrwallet's check | its verdict | here |
//! | --- | --- | --- |
//! | the first header's parent is one of the locator hashes sent | disconnect | [`starts_after_locator`]; the caller disconnects, no ban (dcr-peer's request table is laxer: it also takes an answer starting at a block 1, where dcrd starts when it knows no locator hash, which is how a peer of another chain answers) |
//! | the headers follow one another (parent and height) | disconnect | [`crate::HeaderChain::accept`]: `HeaderError::BadLink` / `BadHeight`, a ban |
//! | fewer than a full message (2000) only when the last reaches the height the peer advertised in its `version` | disconnect ("peer sent too few headers") | [`too_few_headers`]; the caller disconnects, no ban |
//! | (`spv/backend.go` `getHeaders`) no headers at all only when the locator reaches the advertised height, or the peer has sent headers up to it | disconnect ("peer did not provide headers through advertised height") | [`withholds_headers`]; the caller disconnects, no ban |
//!
//! dcrwallet's other "received unrequested …" disconnects are not
//! followed, for a stated reason: docs/LIGHT.md, "What the networking
//! side does not do".
//!
//! I/O-free: the caller acts on the answer.

use dcr_wire::msg::MAX_BLOCK_HEADERS_PER_MSG;
use dcr_wire::{BlockHeader, Hash};

/// Whether `headers`, a peer's answer to a `getheaders` with `locator`,
/// starts after one of the locator's hashes (or is empty). A peer whose
/// chain shares none of them, the genesis block included, serves another
/// chain: dcrd answers it from its own block 1. dcrwallet
/// `receivedHeaders`: "peer sent headers that do not connect to block
/// locators".
pub fn starts_after_locator(headers: &[BlockHeader], locator: &[Hash]) -> bool {
    headers
        .first()
        .is_none_or(|first| locator.contains(&first.prev_block))
}

/// Whether `headers`, a peer's answer to `getheaders`, stops short: fewer
/// than a full message while its last header is below `advertised_height`
/// (the `last_block` of the peer's `version`). Such a peer drips headers:
/// every answer would cost the client a round trip for a few of them.
/// An empty answer is not too few (the peer has nothing after the
/// locator). dcrwallet `receivedHeaders`: "peer sent too few headers".
pub fn too_few_headers(headers: &[BlockHeader], advertised_height: i64) -> bool {
    match headers.last() {
        Some(last) => {
            headers.len() < MAX_BLOCK_HEADERS_PER_MSG as usize
                && i64::from(last.height) < advertised_height
        }
        None => false,
    }
}

/// Whether an empty answer withholds headers: the peer advertised in
/// its `version` a height above `asked_from` (the height of the first
/// hash of the locator it was sent), and no header it sent so far
/// reached that height (`heard`: the highest height it sent, 0 for
/// none). A peer whose chain is above our locator always has headers to
/// send after it; an empty answer means it overstated its height, or has
/// too little work to serve headers (dcrd's `OnGetHeaders` below
/// `MinKnownChainWork`): either way it serves the client nothing.
/// dcrwallet `getHeaders` (`spv/backend.go`): "peer did not provide
/// headers through advertised height".
pub fn withholds_headers(
    headers: &[BlockHeader],
    asked_from: u32,
    advertised_height: i64,
    heard: u32,
) -> bool {
    headers.is_empty()
        && i64::from(asked_from) < advertised_height
        && i64::from(heard) < advertised_height
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(heights: std::ops::Range<u32>) -> Vec<BlockHeader> {
        heights
            .map(|height| BlockHeader {
                height,
                ..BlockHeader::default()
            })
            .collect()
    }

    #[test]
    fn an_answer_starts_after_a_locator_hash() {
        let locator = [Hash([3; 32]), Hash([2; 32]), Hash([0; 32])];
        let after = |prev: Hash| {
            vec![BlockHeader {
                prev_block: prev,
                ..BlockHeader::default()
            }]
        };
        assert!(starts_after_locator(&after(Hash([3; 32])), &locator));
        // After an older one (the peer forked from us there).
        assert!(starts_after_locator(&after(Hash([0; 32])), &locator));
        // After a block we never named: another chain.
        assert!(!starts_after_locator(&after(Hash([9; 32])), &locator));
        assert!(starts_after_locator(&[], &locator));
    }

    #[test]
    fn a_short_answer_must_reach_the_advertised_height() {
        // Reaches it, or goes past it (blocks found since the handshake).
        assert!(!too_few_headers(&at(1..11), 10));
        assert!(!too_few_headers(&at(1..31), 10));
        // Stops below it.
        assert!(too_few_headers(&at(1..10), 10));
        assert!(too_few_headers(&at(1..2), 500));
        // Nothing after the locator: not a drip.
        assert!(!too_few_headers(&[], 500));
        // A full message may stop anywhere: the next request follows.
        let full = MAX_BLOCK_HEADERS_PER_MSG as u32;
        assert!(!too_few_headers(&at(1..full + 1), i64::from(full) * 10));
        assert!(too_few_headers(&at(1..full), i64::from(full) * 10));
        // A peer that advertised nothing (0, or negative) never drips.
        assert!(!too_few_headers(&at(1..2), 0));
        assert!(!too_few_headers(&at(1..2), -1));
    }

    #[test]
    fn an_empty_answer_must_come_from_the_advertised_height() {
        // Asked from 30, it advertised 60 and sent nothing up to it.
        assert!(withholds_headers(&[], 30, 60, 0));
        assert!(withholds_headers(&[], 30, 60, 59));
        // It sent headers up to its height before: nothing more is fair
        // (dcrwallet: `LastHeight() < InitialHeight()`).
        assert!(!withholds_headers(&[], 30, 60, 60));
        // Our locator reaches its height: nothing to send.
        assert!(!withholds_headers(&[], 60, 60, 0));
        assert!(!withholds_headers(&[], 61, 60, 0));
        // Headers sent: `too_few_headers` judges those.
        assert!(!withholds_headers(&at(31..32), 30, 60, 0));
        // No height advertised.
        assert!(!withholds_headers(&[], 0, 0, 0));
        assert!(!withholds_headers(&[], 0, -1, 0));
    }
}
