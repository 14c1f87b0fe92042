//! The header chain: extension, duplicates, orphans, invalid headers
//! mid-batch, reorganizations to the most work, ties, and the side chain
//! bound.

mod common;

use dcr_spv::chain::{HeaderChain, Rejection};
use dcr_spv::synthetic::ChainBuilder;
use dcr_spv::{params, HeaderError};

#[test]
fn corpus_chain_syncs_in_batches() {
    let Some(headers) = common::corpus_headers() else {
        return;
    };
    let p = common::corpus_params(&headers[0]);
    let mut chain = HeaderChain::new(p);
    for batch in headers[1..].chunks(50) {
        let out = chain.accept(batch, None);
        assert_eq!(out.rejected, None);
        assert_eq!(out.connected.len(), batch.len());
    }
    assert_eq!(chain.height(), 168);
    assert_eq!(chain.tip().hash, headers[168].block_hash());
    // Sending it all again: only duplicates.
    let out = chain.accept(&headers[1..], None);
    assert_eq!((out.duplicates, out.connected.len()), (168, 0));
    // The locator starts at the tip, steps back, and ends at genesis.
    let loc = chain.locator();
    assert_eq!(loc[0], headers[168].block_hash());
    assert_eq!(loc[9], headers[159].block_hash());
    assert_eq!(*loc.last().unwrap(), headers[0].block_hash());
    // Work is the sum of every block's work.
    let sum: u128 = headers
        .iter()
        .map(|h| dcr_spv::pow::calc_work(h.bits))
        .sum();
    assert_eq!(chain.work(), sum);
}

#[test]
fn invalid_header_stops_the_batch_with_its_reason() {
    let Some(headers) = common::corpus_headers() else {
        return;
    };
    let p = common::corpus_params(&headers[0]);
    let mut chain = HeaderChain::new(p);
    let mut batch = headers[1..40].to_vec();
    batch[20].sbits += 1;
    let out = chain.accept(&batch, None);
    assert_eq!(out.connected.len(), 20);
    let (i, r) = out.rejected.unwrap();
    assert_eq!(i, 20);
    // Either the changed header no longer meets its target, or it reaches
    // the stake difficulty rule.
    assert!(
        matches!(
            r,
            Rejection::Invalid(HeaderError::StakeDifficulty { .. })
                | Rejection::Invalid(HeaderError::Pow(_))
        ),
        "{r:?}"
    );
    assert_eq!(chain.height(), 20);
    // A header whose parent is unknown is an orphan, not a fault.
    let out = chain.accept(&headers[30..31], None);
    assert_eq!(
        out.rejected,
        Some((
            0,
            Rejection::Orphan {
                hash: headers[30].block_hash(),
                prev: headers[29].block_hash()
            }
        ))
    );
}

#[test]
fn reorganizes_to_more_work_and_keeps_first_seen_on_ties() {
    let p = params::regnet();
    let mut a = ChainBuilder::new(p);
    a.extend(30);
    let mut b = a.fork_at(20);
    // Different contents from A's blocks at the same heights.
    for _ in 0..10 {
        b.next(|h| h.extra_data[0] = 0xbb);
    }
    let mut chain = HeaderChain::new(p.clone());
    assert_eq!(chain.accept(&a.headers()[1..], None).connected.len(), 30);
    // B as long as A: same work, stays on the side.
    let out = chain.accept(&b.headers()[21..], None);
    assert_eq!((out.side, out.connected.len()), (10, 0));
    assert_eq!(chain.tip().hash, a.tip_hash());
    assert_eq!(chain.side_len(), 10);
    // One more block on B: B has more work, the chain switches.
    let next = b.next(|h| h.extra_data[0] = 0xbb);
    let batch = [next];
    let out = chain.accept(&batch, None);
    assert_eq!(out.disconnected.len(), 10);
    assert_eq!(out.disconnected[0], (30, a.tip_hash()));
    assert_eq!(out.fork_height(), Some(20));
    assert_eq!(out.connected.len(), 11);
    let connected: Vec<_> = out.headers(&batch).map(|(h, _)| *h).collect();
    assert_eq!(connected, b.headers()[21..]);
    assert_eq!(chain.tip().hash, b.tip_hash());
    assert_eq!(chain.height(), 31);
    // The old branch left memory; the side chain is empty.
    assert_eq!(chain.side_len(), 0);
    assert!(!chain.contains(&a.tip_hash()));
    // A extended by two more blocks is orphaned now (its blocks were
    // dropped); sent in full again it wins back.
    a.extend(2);
    let out = chain.accept(&a.headers()[31..], None);
    assert!(matches!(out.rejected, Some((0, Rejection::Orphan { .. }))));
    let out = chain.accept(&a.headers()[21..], None);
    assert_eq!(out.rejected, None);
    assert_eq!(out.disconnected.len(), 11);
    assert_eq!(chain.tip().hash, a.tip_hash());
}

#[test]
fn side_chains_are_bounded() {
    let p = params::regnet();
    let mut a = ChainBuilder::new(p);
    a.extend(40);
    let mut chain = HeaderChain::new(p.clone());
    chain.set_max_side_headers(8);
    chain.accept(&a.headers()[1..], None);
    // Forks of 5 headers from heights 10, 20, 30: the oldest goes first.
    let mut forks = Vec::new();
    for at in [10, 20, 30] {
        let mut f = a.fork_at(at);
        for _ in 0..5 {
            f.next(|h| h.extra_data[1] = at as u8);
        }
        forks.push(f);
    }
    let o = chain.accept(&forks[0].headers()[11..], None);
    assert_eq!((o.side, o.rejected), (5, None));
    let o = chain.accept(&forks[1].headers()[21..], None);
    // The eighth fits; the ninth evicts the fork from height 10.
    assert_eq!(o.side, 5);
    assert_eq!(chain.side_len(), 5);
    assert!(!chain.contains(&forks[0].tip_hash()));
    // Headers of a fork older than all kept ones are dropped themselves.
    let mut old = a.fork_at(5);
    old.next(|h| h.extra_data[2] = 9);
    let mut full = chain.accept(&forks[2].headers()[31..34], None);
    assert_eq!(full.side, 3);
    full = chain.accept(&old.headers()[6..], None);
    assert!(matches!(
        full.rejected,
        Some((0, Rejection::SideChainsFull { .. }))
    ));
    assert!(chain.side_len() <= 8);
}

#[test]
fn simnet_chain_of_the_reference_syncs() {
    let (_, blocks) = common::simnet_chain();
    let headers: Vec<_> = blocks
        .iter()
        .map(|b| dcr_wire::BlockHeader::from_bytes(&b.header).unwrap())
        .collect();
    let mut chain = HeaderChain::new(params::simnet().clone());
    let out = chain.accept(&headers[1..], None);
    assert_eq!(out.rejected, None);
    assert_eq!(chain.tip().hash.to_string(), blocks.last().unwrap().hash);
}

#[test]
fn synthetic_simnet_chains_pass_and_reorg() {
    // ASERT and BLAKE3 on a synthetic chain (the builder's own rules),
    // including a reorganization.
    let p = params::simnet();
    let mut a = ChainBuilder::new(p);
    a.extend(200);
    let mut chain = HeaderChain::new(p.clone());
    let out = chain.accept(&a.headers()[1..], None);
    assert_eq!(out.rejected, None);
    let mut b = a.fork_at(150);
    b.spacing = 2;
    b.extend(60);
    let out = chain.accept(&b.headers()[151..], None);
    assert_eq!(out.rejected, None);
    assert_eq!(chain.tip().hash, b.tip_hash());
}

#[test]
fn blake3_only_chains_need_every_pow_hash_v2_and_pass() {
    // Every block hash misses its target (as on mainnet since DCP-0011),
    // so every header's BLAKE3 hash is computed in the batch and checked.
    let p = params::simnet();
    let mut b = ChainBuilder::new(p);
    b.blake3_only = true;
    b.extend(300);
    for h in &b.headers()[1..] {
        assert!(dcr_spv::pow::check_proof_of_work(&h.block_hash(), h.bits, p.pow_limit).is_err());
        assert!(dcr_spv::check::may_read_pow_hash_v2(p, h, &h.block_hash()));
    }
    let mut chain = HeaderChain::new(p.clone());
    let out = chain.accept(&b.headers()[1..], None);
    assert_eq!(out.rejected, None);
    assert_eq!(chain.tip().hash, b.tip_hash());
}
