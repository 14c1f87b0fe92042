//! Every header rule against real headers: the corpus's 169-block chain
//! (validated by dcrd's own tests under regnet's parameters) and a simnet
//! chain mined by dcrd (tests/data). Each real header passes every rule;
//! each alteration fails with the reason that names the rule it breaks.

mod common;

use dcr_spv::check::{check_positional, check_sanity, may_read_pow_hash_v2, HeaderError};
use dcr_spv::difficulty::{Algorithm, AnchorCache, DifficultyError};
use dcr_spv::facts::{BlockFacts, HashedHeader, Slice};
use dcr_spv::pow::PowError;
use dcr_spv::Params;
use dcr_wire::BlockHeader;

fn facts(headers: &[BlockHeader]) -> Vec<BlockFacts> {
    headers
        .iter()
        .map(|h| BlockFacts::new(h, h.block_hash()))
        .collect()
}

/// Checks `header` as the child of the block at `height - 1` of `f`.
fn check_at(
    p: &Params,
    f: &[BlockFacts],
    height: usize,
    header: &BlockHeader,
) -> Result<(), HeaderError> {
    let hashed = HashedHeader::hash(header);
    check_sanity(p, &hashed, None)?;
    let branch = Slice::new(&f[..height]).expect("parent branch");
    check_positional(p, &hashed, &branch, &mut AnchorCache::default())
}

/// Checks `header` at the height it names.
fn check(p: &Params, f: &[BlockFacts], header: &BlockHeader) -> Result<(), HeaderError> {
    check_at(p, f, header.height as usize, header)
}

#[test]
fn corpus_chain_passes_every_rule() {
    let Some(headers) = common::corpus_headers() else {
        return;
    };
    assert_eq!(headers.len(), 169);
    let p = common::corpus_params(&headers[0]);
    let f = facts(&headers);
    for header in &headers[1..] {
        assert_eq!(check(&p, &f, header), Ok(()), "height {}", header.height);
    }
}

/// A header with `change` applied whose proof of work still holds (the
/// regnet limit lets half of all hashes pass; the nonce is searched).
fn altered(p: &Params, header: &BlockHeader, change: impl Fn(&mut BlockHeader)) -> BlockHeader {
    let mut h = *header;
    change(&mut h);
    for nonce in 0.. {
        h.nonce = nonce;
        if dcr_spv::pow::check_proof_of_work(&h.block_hash(), h.bits, p.pow_limit).is_ok() {
            return h;
        }
    }
    unreachable!()
}

#[test]
fn corpus_alterations_fail_with_their_reason() {
    let Some(headers) = common::corpus_headers() else {
        return;
    };
    let p = common::corpus_params(&headers[0]);
    let f = facts(&headers);
    let run = |h: &BlockHeader| check(&p, &f, h);

    // Difficulty: a retarget height (bits change there in this chain) and
    // an ordinary one.
    for height in [32usize, 33, 120] {
        let real = headers[height];
        let bad = altered(&p, &real, |h| h.bits = real.bits - 1);
        assert_eq!(
            run(&bad),
            Err(HeaderError::Difficulty(DifficultyError {
                expected: real.bits,
                got: real.bits - 1,
                algorithm: Algorithm::Ema
            })),
            "height {height}"
        );
    }
    // Stake difficulty: at a retarget (height 96, window 8) and between.
    for height in [96usize, 97, 168] {
        let real = headers[height];
        let bad = altered(&p, &real, |h| h.sbits = real.sbits + 1);
        assert_eq!(
            run(&bad),
            Err(HeaderError::StakeDifficulty {
                expected: real.sbits,
                got: real.sbits + 1
            }),
            "height {height}"
        );
    }
    // The link, the height, the median time.
    let real = headers[50];
    let bad = altered(&p, &real, |h| h.prev_block = headers[48].block_hash());
    assert!(matches!(run(&bad), Err(HeaderError::BadLink { .. })));
    let bad = altered(&p, &real, |h| h.height = 51);
    assert_eq!(
        check_at(&p, &f, 50, &bad),
        Err(HeaderError::BadHeight {
            expected: 50,
            got: 51
        })
    );
    let median = dcr_spv::check::past_median_time(&Slice::new(&f[..50]).unwrap());
    let bad = altered(&p, &real, |h| h.timestamp = median);
    assert_eq!(
        run(&bad),
        Err(HeaderError::TimeTooOld {
            median,
            got: median
        })
    );
    // Stake counts before stake validation height and after it.
    let bad = altered(&p, &real, |h| h.voters = 1);
    assert_eq!(run(&bad), Err(HeaderError::EarlyStakeTx { height: 50 }));
    let bad = altered(&p, &real, |h| h.vote_bits = 0);
    assert_eq!(
        run(&bad),
        Err(HeaderError::EarlyVoteBits { height: 50, got: 0 })
    );
    let bad = altered(&p, &real, |h| h.final_state = [1, 0, 0, 0, 0, 0]);
    assert_eq!(run(&bad), Err(HeaderError::EarlyFinalState { height: 50 }));
    let bad = altered(&p, &real, |h| h.fresh_stake = 21);
    assert_eq!(
        run(&bad),
        Err(HeaderError::TooManyFreshStake { max: 20, got: 21 })
    );
    let late = headers[150];
    let bad = altered(&p, &late, |h| h.voters = 2);
    assert_eq!(
        run(&bad),
        Err(HeaderError::NotEnoughVotes { min: 3, got: 2 })
    );
    let bad = altered(&p, &late, |h| h.voters = 6);
    assert_eq!(run(&bad), Err(HeaderError::TooManyVotes { max: 5, got: 6 }));
    // Proof of work: a nonce under which neither hash meets the target.
    let mut bad = headers[60];
    bad.nonce = (0..)
        .find(|&n| {
            bad.nonce = n;
            dcr_spv::pow::check_pow_hash(&bad.block_hash(), bad.bits).is_err()
                && dcr_spv::pow::check_pow_hash(&bad.pow_hash_v2(), bad.bits).is_err()
        })
        .unwrap();
    assert!(matches!(
        run(&bad),
        Err(HeaderError::Pow(PowError::HighHash { .. }))
    ));
    // Bits above the limit fail before anything else is computed.
    let bad = BlockHeader {
        bits: 0x2100ffff,
        ..headers[60]
    };
    assert_eq!(
        run(&bad),
        Err(HeaderError::Pow(PowError::TargetAboveLimit {
            bits: 0x2100ffff
        }))
    );
    // The future: two hours past the clock is the limit.
    let t = i64::from(real.timestamp);
    let hashed = HashedHeader::hash(&real);
    assert_eq!(check_sanity(&p, &hashed, Some(t - 7200)), Ok(()));
    assert_eq!(
        check_sanity(&p, &hashed, Some(t - 7201)),
        Err(HeaderError::TimeTooNew {
            now: t - 7201,
            got: real.timestamp
        })
    );
}

#[test]
fn simnet_chain_passes_asert_blake3_and_dcp0001() {
    let (_, blocks) = common::simnet_chain();
    let p = dcr_spv::params::simnet();
    let headers: Vec<BlockHeader> = blocks
        .iter()
        .map(|b| BlockHeader::from_bytes(&b.header).unwrap())
        .collect();
    assert_eq!(headers[0], p.genesis_header);
    let f = facts(&headers);
    for header in &headers[1..] {
        assert_eq!(check(p, &f, header), Ok(()), "height {}", header.height);
    }
    // ASERT: altering bits is refused under that algorithm.
    let real = headers[40];
    let mut bad = real;
    bad.bits = real.bits - 1;
    // Solve it again under BLAKE3 so only the difficulty rule can refuse.
    for nonce in 0.. {
        bad.nonce = nonce;
        if dcr_spv::pow::check_proof_of_work(&bad.pow_hash_v2(), bad.bits, p.pow_limit).is_ok() {
            break;
        }
    }
    assert_eq!(
        check(p, &f, &bad),
        Err(HeaderError::Difficulty(DifficultyError {
            expected: real.bits,
            got: real.bits - 1,
            algorithm: Algorithm::Asert
        }))
    );
}

/// Checks every header of `headers` (each the child of the one before) with
/// its version 2 proof-of-work hash given ahead: the true hash where
/// `may_read_pow_hash_v2` says the rules may read it, a hash that meets no
/// target elsewhere (or everywhere else, with `poison_predicted`, the
/// other way round). The first refusal, if any.
fn check_with_v2_ahead(
    p: &Params,
    headers: &[BlockHeader],
    poison_predicted: bool,
) -> Option<(u32, HeaderError)> {
    let f = facts(headers);
    let mut anchors = AnchorCache::default();
    let poison = dcr_wire::Hash([0xff; 32]);
    for (i, header) in headers.iter().enumerate().skip(1) {
        let hash = header.block_hash();
        let predicted = may_read_pow_hash_v2(p, header, &hash);
        let v2 = if predicted != poison_predicted {
            header.pow_hash_v2()
        } else {
            poison
        };
        let hashed = HashedHeader::new(header, hash).with_pow_hash_v2(Some(v2));
        let branch = Slice::new(&f[..i]).expect("parent branch");
        let checked = check_sanity(p, &hashed, None)
            .and_then(|()| check_positional(p, &hashed, &branch, &mut anchors));
        if let Err(e) = checked {
            return Some((header.height, e));
        }
    }
    None
}

#[test]
fn the_rules_read_no_pow_hash_v2_the_batch_did_not_compute() {
    // The header chain computes ahead, many at a time, the BLAKE3 hashes
    // of the headers `may_read_pow_hash_v2` names and lets the rest be
    // computed when asked. Here the rest are given a hash that fails every
    // target: every header still passes, so the rules never read one.
    let (_, blocks) = common::simnet_chain();
    let simnet: Vec<BlockHeader> = blocks
        .iter()
        .map(|b| BlockHeader::from_bytes(&b.header).unwrap())
        .collect();
    let p = dcr_spv::params::simnet();
    assert_eq!(check_with_v2_ahead(p, &simnet, false), None);
    // And the ones it names are read: poisoned, the chain is refused.
    assert!(matches!(
        check_with_v2_ahead(p, &simnet, true),
        Some((_, HeaderError::Pow(PowError::HighHash { .. })))
    ));
    if let Some(corpus) = common::corpus_headers() {
        let p = common::corpus_params(&corpus[0]);
        assert_eq!(check_with_v2_ahead(&p, &corpus, false), None);
    }
    // A chain where DCP-0011 is voted: headers that could be under it by
    // version and height are named even when their block hash meets the
    // target (the difficulty rule tries BLAKE3 first).
    let mut voted = dcr_spv::params::simnet().clone();
    voted.dcp0011 = dcr_spv::params::Activation::Voted;
    let late = BlockHeader {
        version: 11,
        height: 1_000_000,
        bits: voted.pow_limit_bits,
        ..BlockHeader::default()
    };
    let early = BlockHeader {
        version: 10,
        ..late
    };
    for h in [late, early] {
        let met = (0..)
            .map(|nonce| BlockHeader { nonce, ..h })
            .find(|h| {
                dcr_spv::pow::check_proof_of_work(&h.block_hash(), h.bits, voted.pow_limit).is_ok()
            })
            .unwrap();
        assert_eq!(
            may_read_pow_hash_v2(&voted, &met, &met.block_hash()),
            met.version == 11,
            "version {}",
            met.version
        );
        assert!(!may_read_pow_hash_v2(p, &met, &met.block_hash()));
    }
}
