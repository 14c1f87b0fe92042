//! Filters, their header commitments, matching and blocks, against a simnet
//! chain mined by the reference (tests/data/simnet-chain.json: each block
//! with the filter and proof dcrd's `getcfilterv2` returned).

mod common;

use std::borrow::Cow;

use dcr_spv::commitment::{verify_inclusion_proof, Commitment};
use dcr_spv::filters::{FilterError, FilterSync};
use dcr_spv::gcs::{self, Filter};
use dcr_spv::watch::{address_script, WatchList};
use dcr_spv::{check_block, params, BlockError, HeaderChain, Misbehaviour, Verdict};
use dcr_wire::merkle::MerkleRule;
use dcr_wire::{Block, BlockHeader, CFilterV2, Hash};

struct Vectors {
    address: String,
    headers: Vec<BlockHeader>,
    hashes: Vec<Hash>,
    blocks: Vec<Vec<u8>>,
    filters: Vec<CFilterV2<'static>>,
}

fn vectors() -> Vectors {
    let (address, blocks) = common::simnet_chain();
    let headers: Vec<BlockHeader> = blocks
        .iter()
        .map(|b| BlockHeader::from_bytes(&b.header).unwrap())
        .collect();
    let hashes: Vec<Hash> = blocks.iter().map(|b| b.hash.parse().unwrap()).collect();
    let filters = blocks
        .iter()
        .zip(&hashes)
        .map(|(b, h)| CFilterV2 {
            block_hash: *h,
            data: Cow::Owned(b.filter.clone()),
            proof_index: b.proof_index,
            proof_hashes: b.proof_hashes.iter().map(|p| p.parse().unwrap()).collect(),
        })
        .collect();
    Vectors {
        address,
        headers,
        hashes,
        blocks: blocks.into_iter().map(|b| b.block).collect(),
        filters,
    }
}

#[test]
fn every_reference_filter_proves_into_its_header() {
    let v = vectors();
    for (i, f) in v.filters.iter().enumerate().skip(1) {
        let leaf = gcs::filter_hash(&f.data);
        assert!(
            verify_inclusion_proof(
                &v.headers[i].stake_root,
                &leaf,
                f.proof_index,
                &f.proof_hashes
            ),
            "height {i}"
        );
    }
}

#[test]
fn our_filter_builder_makes_the_references_bytes() {
    // These blocks spend nothing: each filter holds the regular tree's
    // output scripts (blockcf2.Regular), and nothing from the stake tree's
    // treasurybase. Rebuilding from them gives dcrd's bytes exactly.
    let v = vectors();
    for (i, bytes) in v.blocks.iter().enumerate().skip(1) {
        let block = Block::from_bytes(bytes, 12).unwrap();
        let mut items: Vec<Vec<u8>> = Vec::new();
        for tx in block.txs.iter() {
            for o in &tx.outputs {
                if o.version == 0 && !o.pk_script.is_empty() && o.pk_script.len() <= 16384 {
                    items.push(o.pk_script.to_vec());
                }
            }
        }
        let key = gcs::key(&block.header.merkle_root);
        assert_eq!(
            gcs::build(&key, &items),
            v.filters[i].data.as_ref(),
            "height {i}"
        );
    }
}

#[test]
fn filter_sync_checks_and_releases_in_order() {
    let v = vectors();
    let p = params::simnet();
    let mut chain = HeaderChain::new(p.clone());
    let out = chain.accept(&v.headers[1..], None);
    assert_eq!(out.rejected, None);
    let mut sync = FilterSync::new(p.clone(), 0);
    sync.add_headers(std::iter::once((&v.headers[0], v.hashes[0])));
    sync.add_headers(out.headers(&v.headers[1..]));
    assert_eq!(sync.pending(), 65);

    // Two requests out at once; the second answered first is held back.
    let a = sync.next_batch(40).unwrap();
    let b = sync.next_batch(100).unwrap();
    assert_eq!(
        (a.start_height, a.count, b.start_height, b.count),
        (0, 40, 40, 25)
    );
    assert_eq!((a.start, b.end), (v.hashes[0], v.hashes[64]));
    assert_eq!(sync.next_batch(100), None);
    let rb = sync.receive(b.id, &v.filters[40..]).unwrap();
    assert!(rb.filters.is_empty());
    let ra = sync.receive(a.id, &v.filters[..40]).unwrap();
    assert_eq!(ra.filters.len(), 65);
    assert!(ra
        .filters
        .iter()
        .enumerate()
        .all(|(i, f)| f.height == i as u32));
    // Genesis has no commitment to check; every later filter is proven.
    assert_eq!(ra.filters[0].commitment, Commitment::Unverifiable);
    assert!(ra.filters[1..]
        .iter()
        .all(|f| f.commitment == Commitment::Proven));
    assert_eq!(sync.next_height(), 65);
    // An answer to nothing asked.
    assert_eq!(
        sync.receive(a.id, &v.filters[..1]),
        Err(FilterError::Unrequested(a.id))
    );
}

#[test]
fn bad_filters_are_refused_and_asked_again() {
    let v = vectors();
    let p = params::simnet();
    let mut sync = FilterSync::new(p.clone(), 1);
    sync.add_headers(v.headers[1..].iter().zip(v.hashes[1..].iter().copied()));
    let batch = sync.next_batch(10).unwrap();
    let good = &v.filters[1..11];

    // An altered filter fails its proof.
    let mut bad = good.to_vec();
    let mut data = bad[3].data.to_vec();
    let last = data.len() - 1;
    data[last] ^= 1;
    bad[3].data = Cow::Owned(data);
    let e = sync.receive(batch.id, &bad).unwrap_err();
    assert!(matches!(e, FilterError::Proof(_)), "{e:?}");
    assert_eq!(e.verdict(), Verdict::Ban);
    // The request was handed back: the same blocks go out again.
    let again = sync.next_batch(10).unwrap();
    assert_eq!((again.start_height, again.count), (1, 10));
    // Another block's filter in its place, and a short answer.
    let mut swapped = good.to_vec();
    swapped.swap(0, 1);
    assert!(matches!(
        sync.receive(again.id, &swapped),
        Err(FilterError::WrongBlock { .. })
    ));
    let again = sync.next_batch(10).unwrap();
    assert_eq!(
        sync.receive(again.id, &good[..9]),
        Err(FilterError::Count {
            expected: 10,
            got: 9
        })
    );
    // A peer that times out: cancelled, handed to the next.
    let again = sync.next_batch(10).unwrap();
    sync.cancel(again.id);
    let again = sync.next_batch(10).unwrap();
    assert_eq!(sync.receive(again.id, good).unwrap().filters.len(), 10);
}

#[test]
fn rollback_forgets_disconnected_blocks() {
    let v = vectors();
    let p = params::simnet();
    let mut sync = FilterSync::new(p.clone(), 1);
    sync.add_headers(v.headers[1..].iter().zip(v.hashes[1..].iter().copied()));
    let b = sync.next_batch(20).unwrap();
    sync.receive(b.id, &v.filters[1..21]).unwrap();
    assert_eq!(sync.next_height(), 21);
    // A reorg back to 30 keeps released filters; back to 10 drops some.
    assert!(!sync.rollback(30));
    assert_eq!(sync.headers_end(), 31);
    assert!(sync.rollback(10));
    assert_eq!((sync.next_height(), sync.headers_end()), (11, 11));
}

#[test]
fn watch_list_finds_the_mining_address_in_filters_and_blocks() {
    let v = vectors();
    let p = params::simnet();
    let script = address_script(&v.address, p).unwrap();
    let mut watch = WatchList::new();
    watch.add_address(&v.address, p).unwrap();
    let mut stranger = WatchList::new();
    stranger.add_script(dcr_spv::watch::p2pkh_script(&[0x55; 20]));
    let mut found = 0;
    for (i, bytes) in v.blocks.iter().enumerate().skip(1) {
        let f = Filter::from_bytes(&v.filters[i].data).unwrap();
        let key = gcs::key(&v.headers[i].merkle_root);
        let checked = check_block(bytes, 12, &v.hashes[i], &mut watch).unwrap();
        assert_eq!(checked.rule, MerkleRule::Combined);
        let pays = Block::from_bytes(bytes, 12)
            .unwrap()
            .txs
            .iter()
            .any(|tx| tx.outputs.iter().any(|o| o.pk_script.as_ref() == script));
        // The filter says "maybe" exactly where the block pays the address
        // (no false negatives; a false positive is a 1 in 784931 chance).
        assert_eq!(watch.matches_filter(&f, &key), pays, "height {i}");
        assert_eq!(!checked.matches.is_empty(), pays, "height {i}");
        assert!(!stranger.matches_filter(&f, &key));
        found += usize::from(pays);
    }
    assert!(found >= 60, "{found}");
}

#[test]
fn blocks_that_do_not_match_their_header_are_refused() {
    let v = vectors();
    let mut watch = WatchList::new();
    let bytes = &v.blocks[10];
    // Another block than the one asked for.
    assert_eq!(
        check_block(&v.blocks[11], 12, &v.hashes[10], &mut watch),
        Err(BlockError::WrongBlock {
            expected: v.hashes[10],
            got: v.hashes[11]
        })
    );
    // The header kept but a transaction changed: the roots fail. (The last
    // bytes are in the stake tree's last transaction.)
    let block = Block::from_bytes(bytes, 12).unwrap();
    let mut tx = block.txs.iter().next().unwrap();
    tx.outputs[0].value += 1;
    let rest: Vec<_> = block.txs.iter().skip(1).collect();
    let mut txs = vec![tx];
    txs.extend(rest);
    let stake: Vec<_> = block.stake_txs.iter().collect();
    let forged = Block::new(block.header, &txs, &stake);
    let mut forged_bytes = Vec::new();
    dcr_wire::Payload::encode(&forged, &mut forged_bytes, 12).unwrap();
    let e = check_block(&forged_bytes, 12, &v.hashes[10], &mut watch).unwrap_err();
    assert_eq!(
        e,
        BlockError::MerkleRoots {
            block: v.hashes[10]
        }
    );
    assert_eq!(e.verdict(), Verdict::Ban);
    // Bytes that are no block.
    assert!(matches!(
        check_block(&bytes[..100], 12, &v.hashes[10], &mut watch),
        Err(BlockError::Decode(_))
    ));
}
