//! Block announcements waiting for the light client: at most one entry
//! per peer, whatever the peers send.
//!
//! The peers' event channel carries every message they receive (the
//! answers to our own requests too). A task of its own drains it at
//! once, keeps the `headers` and block `inv` messages that answer none
//! of the client's requests (an answer, [`dcr_peer::PeerEvent::answered`],
//! is its request's), and drops the rest, so the channel never fills
//! and no peer is cut off as a slow consumer while the client is busy.
//! What it keeps is merged per peer ([`Pending::merge`]): headers that
//! continue the ones waiting are appended up to one message's worth,
//! block hashes up to [`MAX_BLOCKS`]; anything else turns the entry
//! into [`Pending::Ask`] (ask that peer for headers). A peer that floods
//! announcements therefore costs one bounded entry, and at most one
//! headers request at a time.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use dcr_peer::{Peer, PeerEvent};
use dcr_wire::msg::MAX_BLOCK_HEADERS_PER_MSG;
use dcr_wire::{BlockHeader, Hash, InvType, Message};
use tokio::sync::{mpsc, Notify};

use crate::sync::lock;

/// Block hashes kept per peer before the entry becomes an
/// [`Pending::Ask`].
pub const MAX_BLOCKS: usize = 64;

/// What a peer announced and the client has not looked at yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Pending {
    /// Headers, in chain order.
    Headers(Vec<BlockHeader>),
    /// Hashes of announced blocks.
    Blocks(Vec<Hash>),
    /// More than one entry holds: ask the peer for headers.
    Ask,
}

impl Pending {
    /// The announcement in `message`, if it is one.
    fn of(message: &Message<'_>) -> Option<Pending> {
        match message {
            Message::Headers(h) => Some(Pending::Headers(h.headers.to_vec())),
            Message::Inv(inv) => {
                let blocks: Vec<Hash> = inv
                    .inv_list
                    .iter()
                    .filter(|iv| iv.inv_type == InvType::BLOCK)
                    .map(|iv| iv.hash)
                    .collect();
                match blocks.len() {
                    0 => None,
                    n if n > MAX_BLOCKS => Some(Pending::Ask),
                    _ => Some(Pending::Blocks(blocks)),
                }
            }
            _ => None,
        }
    }

    /// This entry with `next` after it, within the bounds.
    fn merge(self, next: Pending) -> Pending {
        match (self, next) {
            (Pending::Headers(mut a), Pending::Headers(b)) => {
                let continues = match (a.last(), b.first()) {
                    (Some(last), Some(first)) => first.prev_block == last.block_hash(),
                    _ => true,
                };
                if continues && a.len() + b.len() <= MAX_BLOCK_HEADERS_PER_MSG as usize {
                    a.extend(b);
                    Pending::Headers(a)
                } else {
                    Pending::Ask
                }
            }
            (Pending::Blocks(mut a), Pending::Blocks(b)) if a.len() + b.len() <= MAX_BLOCKS => {
                a.extend(b);
                Pending::Blocks(a)
            }
            _ => Pending::Ask,
        }
    }
}

#[derive(Default)]
pub(crate) struct Inbox {
    waiting: Mutex<HashMap<u64, (Peer, Pending)>>,
    /// Signalled when an entry is added (a permit is kept when no one
    /// waits).
    pub(crate) added: Notify,
}

impl Inbox {
    fn put(&self, peer: Peer, pending: Pending) {
        let mut w = lock(&self.waiting);
        let merged = match w.remove(&peer.id()) {
            Some((_, old)) => old.merge(pending),
            None => pending,
        };
        w.insert(peer.id(), (peer, merged));
        drop(w);
        self.added.notify_one();
    }

    /// Every entry, emptying the inbox.
    pub(crate) fn take(&self) -> Vec<(Peer, Pending)> {
        lock(&self.waiting).drain().map(|(_, e)| e).collect()
    }
}

/// Drains `events` into `inbox` until the channel closes or the inbox is
/// dropped.
pub(crate) fn spawn_reader(
    mut events: mpsc::Receiver<PeerEvent>,
    inbox: Weak<Inbox>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        while let Some(ev) = events.recv().await {
            // An answer to the client's own request is its caller's, not
            // an announcement, however late this task reads it.
            if ev.answered {
                continue;
            }
            let Some(pending) = Pending::of(&ev.message) else {
                continue;
            };
            let Some(inbox) = inbox.upgrade() else { return };
            inbox.put(ev.peer, pending);
        }
    })
}

/// Aborts a task when dropped (the client's future may be dropped at any
/// await).
pub(crate) struct AbortOnDrop(pub(crate) tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A new inbox and its reader of `events`.
pub(crate) fn open(events: mpsc::Receiver<PeerEvent>) -> (Arc<Inbox>, AbortOnDrop) {
    let inbox = Arc::new(Inbox::default());
    let task = spawn_reader(events, Arc::downgrade(&inbox));
    (inbox, AbortOnDrop(task))
}

#[cfg(test)]
mod tests {
    use super::*;
    use dcr_spv::params;
    use dcr_spv::synthetic::ChainBuilder;
    use dcr_wire::{Headers, Inv, InvVect};

    fn headers(n: usize) -> Vec<BlockHeader> {
        let mut b = ChainBuilder::new(params::simnet());
        b.extend(n);
        b.headers()[1..].to_vec()
    }

    #[test]
    fn continuing_headers_are_appended_others_become_an_ask() {
        let h = headers(6);
        let a = Pending::Headers(h[0..2].to_vec());
        let merged = a.clone().merge(Pending::Headers(h[2..4].to_vec()));
        assert_eq!(merged, Pending::Headers(h[0..4].to_vec()));
        // A gap.
        assert_eq!(a.merge(Pending::Headers(h[3..4].to_vec())), Pending::Ask);
        let blocks = Pending::Blocks(vec![h[0].block_hash()]);
        assert_eq!(
            blocks
                .clone()
                .merge(Pending::Blocks(vec![h[1].block_hash()])),
            Pending::Blocks(vec![h[0].block_hash(), h[1].block_hash()])
        );
        assert_eq!(
            blocks.merge(Pending::Headers(h[0..1].to_vec())),
            Pending::Ask
        );
        assert_eq!(
            Pending::Ask.merge(Pending::Headers(h[0..1].to_vec())),
            Pending::Ask
        );
    }

    #[test]
    fn an_entry_never_outgrows_its_bound() {
        let mut p = Pending::Blocks(Vec::new());
        for i in 0..=MAX_BLOCKS as u8 {
            p = p.merge(Pending::Blocks(vec![Hash([i; 32])]));
        }
        assert_eq!(p, Pending::Ask);
        let many = Inv {
            inv_list: (0..=MAX_BLOCKS as u8)
                .map(|i| InvVect {
                    inv_type: InvType::BLOCK,
                    hash: Hash([i; 32]),
                })
                .collect(),
        };
        assert_eq!(Pending::of(&Message::Inv(many)), Some(Pending::Ask));
        let tx_only = Inv {
            inv_list: vec![InvVect {
                inv_type: InvType::TX,
                hash: Hash::ZERO,
            }],
        };
        assert_eq!(Pending::of(&Message::Inv(tx_only)), None);
        let h = headers(1);
        assert_eq!(
            Pending::of(&Message::Headers(Headers { headers: h.clone() })),
            Some(Pending::Headers(h))
        );
    }
}
