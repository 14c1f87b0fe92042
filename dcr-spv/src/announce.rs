//! Block announcements after the sync: what a peer's unsolicited
//! `headers` or block `inv` asks of a light client that follows the tip.
//!
//! dcrd announces each new block to a peer that sent it `sendheaders` as
//! a `headers` message, and to the others as an `inv` (server.go
//! `OnSendHeaders`, `handleRelayInvMsg`). dcrwallet's `spv/sync.go`
//! answers them (`handleBlockInvs`, `handleBlockAnnouncements`):
//!
//! | announcement | what to do | dcrwallet |
//! | --- | --- | --- |
//! | headers whose first is more than [`MAX_ANNOUNCED_TIP_DELTA`] below the tip | disconnect the announcer (no ban) | `maxAnnHeaderTipDelta`, "peer announced old header" |
//! | headers all known (main or side chain) | nothing | leading known headers skipped |
//! | headers whose first extends an unknown block | ask the announcer for headers after our locator; each adds [`ORPHAN_SCORE`] to a decaying score of the announcer, which is disconnected (not banned) above [`ORPHAN_SCORE_LIMIT`] | `ReceivedOrphanHeader`, `HeadersAsync` |
//! | other headers | check them from the first unknown one, as any headers ([`HeaderChain::accept`]): a broken rule bans the announcer, less work goes to a side chain, more work reorganizes | `ValidateHeaderChainDifficulties`, `EvaluateBestChain` |
//! | `inv` of blocks all known | nothing | |
//! | `inv` naming an unknown block | ask the announcer for headers after our locator | `handleBlockInvs` fetches the blocks; we ask for their headers, which the chain checks before anything is fetched |
//!
//! I/O-free: [`judge`] reads the chain and says what to do; the caller
//! does it.

use dcr_wire::{BlockHeader, Hash};

use crate::chain::HeaderChain;

/// How far below the tip an announced header may start (dcrwallet's
/// `maxAnnHeaderTipDelta`).
pub const MAX_ANNOUNCED_TIP_DELTA: u32 = 256;

/// What an announcement of headers that do not connect (an orphan) adds
/// to its announcer's score: the transient part of dcrd's dynamic ban
/// score, halved every minute (dcrwallet `ReceivedOrphanHeader`:
/// `banThreshold / 10`).
pub const ORPHAN_SCORE: u32 = 10;

/// Above this score the announcer is disconnected, not banned
/// (dcrwallet's `banThreshold`: "ban score reached due to orphan
/// header"): more than ten orphans within about a minute. Each orphan
/// costs the client a `getheaders`; an honest peer announces one rarely
/// (its previous announcement lost, or a reorganization of its own).
pub const ORPHAN_SCORE_LIMIT: u32 = 100;

/// A block announcement as a peer sent it.
#[derive(Debug, Clone, Copy)]
pub enum Announced<'a> {
    /// A `headers` message nobody asked for (the peer sent `sendheaders`
    /// before, or is answering a request the caller does not track).
    Headers(&'a [BlockHeader]),
    /// The block hashes of an `inv` message (its other items left out).
    Blocks(&'a [Hash]),
}

/// What to do with an announcement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Nothing in it is new.
    Ignore,
    /// Check the headers from this index on with
    /// [`HeaderChain::accept`] (the ones before are known).
    Accept {
        /// The first header not known.
        from: usize,
    },
    /// Something new that does not connect (or an `inv`): ask the
    /// announcer for the headers after [`HeaderChain::locator`].
    AskHeaders,
    /// The announcement starts too far below the tip: disconnect the
    /// announcer (not a ban: dcrwallet treats it as a protocol error).
    TooOld {
        /// The first announced header's height.
        height: u32,
    },
}

/// What `announced` asks of `chain`'s owner; see the module's table.
pub fn judge(chain: &HeaderChain, announced: Announced<'_>) -> Action {
    match announced {
        Announced::Headers(headers) => {
            let Some(first) = headers.first() else {
                return Action::Ignore;
            };
            let tip = chain.height();
            if first.height < tip && tip - first.height > MAX_ANNOUNCED_TIP_DELTA {
                return Action::TooOld {
                    height: first.height,
                };
            }
            // A known block's ancestors are known: when the last is, all
            // are (one hash for the common case, an answer seen twice).
            if headers
                .last()
                .is_some_and(|h| chain.contains(&h.block_hash()))
            {
                return Action::Ignore;
            }
            if !chain.contains(&first.prev_block) {
                return Action::AskHeaders;
            }
            let from = headers
                .iter()
                .position(|h| !chain.contains(&h.block_hash()))
                .unwrap_or(headers.len());
            Action::Accept { from }
        }
        Announced::Blocks(hashes) => {
            if hashes.iter().all(|h| chain.contains(h)) {
                Action::Ignore
            } else {
                Action::AskHeaders
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params;
    use crate::synthetic::ChainBuilder;

    /// A chain holding the first `n` blocks of a synthetic simnet chain
    /// of `total`, with the builder's headers.
    fn chain(n: usize, total: u32) -> (HeaderChain, Vec<BlockHeader>) {
        let p = params::simnet();
        let mut b = ChainBuilder::new(p);
        for _ in 0..total {
            b.next(|_| {});
        }
        let headers = b.headers().to_vec();
        let mut c = HeaderChain::new(p.clone());
        let outcome = c.accept(&headers[1..=n], None);
        assert!(outcome.rejected.is_none());
        (c, headers)
    }

    #[test]
    fn new_headers_are_checked_from_the_first_unknown() {
        let (c, h) = chain(10, 14);
        assert_eq!(
            judge(&c, Announced::Headers(&h[11..13])),
            Action::Accept { from: 0 }
        );
        // Known ones first (an announcement overlapping our tip).
        assert_eq!(
            judge(&c, Announced::Headers(&h[9..13])),
            Action::Accept { from: 2 }
        );
    }

    #[test]
    fn known_headers_and_blocks_are_ignored() {
        let (c, h) = chain(10, 14);
        assert_eq!(judge(&c, Announced::Headers(&h[5..11])), Action::Ignore);
        assert_eq!(judge(&c, Announced::Headers(&[])), Action::Ignore);
        let known = [h[10].block_hash(), h[3].block_hash()];
        assert_eq!(judge(&c, Announced::Blocks(&known)), Action::Ignore);
    }

    #[test]
    fn headers_that_do_not_connect_and_unknown_blocks_ask_for_headers() {
        let (c, h) = chain(10, 14);
        // Block 12 without 11: an orphan.
        assert_eq!(
            judge(&c, Announced::Headers(&h[12..13])),
            Action::AskHeaders
        );
        let unknown = [h[10].block_hash(), h[13].block_hash()];
        assert_eq!(judge(&c, Announced::Blocks(&unknown)), Action::AskHeaders);
    }

    #[test]
    fn an_announcement_far_below_the_tip_is_too_old() {
        let total = MAX_ANNOUNCED_TIP_DELTA + 20;
        let (c, h) = chain(total as usize, total);
        // Exactly the bound below the tip: still judged (known: ignored).
        let at_bound = (total - MAX_ANNOUNCED_TIP_DELTA) as usize;
        assert_eq!(
            judge(&c, Announced::Headers(&h[at_bound..=at_bound])),
            Action::Ignore
        );
        let below = at_bound - 1;
        assert_eq!(
            judge(&c, Announced::Headers(&h[below..=below])),
            Action::TooOld {
                height: below as u32
            }
        );
    }
}
