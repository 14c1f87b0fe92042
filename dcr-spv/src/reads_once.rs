//! One value of every variant of every error type of the crate, nested
//! ones through their sources, each chain checked against the workspace's
//! convention (docs/ERRORS.md) with `dcr_wire::Report::fault`.

use dcr_wire::{every_variant, Hash, Report};

use crate::block::BlockError;
use crate::chain::Rejection;
use crate::check::HeaderError;
use crate::commitment::{PreCommitmentError, ProofError};
use crate::difficulty::{Algorithm, DifficultyError};
use crate::filters::FilterError;
use crate::pow::PowError;
use crate::watch::AddressError;

fn pow_errors() -> Vec<PowError> {
    vec![
        PowError::TargetNotPositive { bits: 0 },
        PowError::TargetAboveLimit { bits: 0x2100_ffff },
        PowError::HighHash {
            hash: Hash::ZERO,
            bits: 0x1d00_ffff,
        },
    ]
}

fn difficulty_errors() -> Vec<DifficultyError> {
    [Algorithm::Ema, Algorithm::Asert]
        .into_iter()
        .map(|algorithm| DifficultyError {
            expected: 1,
            got: 2,
            algorithm,
        })
        .collect()
}

fn header_errors() -> Vec<HeaderError> {
    let mut all = vec![
        HeaderError::BadLink {
            hash: Hash::ZERO,
            expected_prev: Hash::ZERO,
        },
        HeaderError::BadHeight {
            expected: 1,
            got: 2,
        },
        HeaderError::StakeDifficulty {
            expected: 1,
            got: 2,
        },
        HeaderError::TimeTooOld { median: 2, got: 1 },
        HeaderError::TestnetTimeTooOld { min: 2, got: 1 },
        HeaderError::TimeTooNew { now: 1, got: 2 },
        HeaderError::EarlyStakeTx { height: 1 },
        HeaderError::EarlyVoteBits { height: 1, got: 1 },
        HeaderError::EarlyFinalState { height: 1 },
        HeaderError::NotEnoughVotes { min: 3, got: 1 },
        HeaderError::TooManyVotes { max: 5, got: 6 },
        HeaderError::TooManyFreshStake { max: 20, got: 21 },
        HeaderError::Checkpoint {
            height: 1,
            hash: Hash::ZERO,
        },
        HeaderError::ForkTooOld {
            height: 1,
            checkpoint: 2,
        },
    ];
    all.extend(pow_errors().into_iter().map(HeaderError::Pow));
    all.extend(difficulty_errors().into_iter().map(HeaderError::Difficulty));
    all
}

use dcr_wire::assert_read_once as check;

#[test]
fn every_error_of_the_crate_reads_once() {
    let pow = pow_errors();
    every_variant!(
        pow,
        PowError::TargetNotPositive { .. },
        PowError::TargetAboveLimit { .. },
        PowError::HighHash { .. },
    );
    check(&pow);
    check(&difficulty_errors());

    let headers = header_errors();
    every_variant!(
        headers,
        HeaderError::BadLink { .. },
        HeaderError::BadHeight { .. },
        HeaderError::Pow(_),
        HeaderError::Difficulty(_),
        HeaderError::StakeDifficulty { .. },
        HeaderError::TimeTooOld { .. },
        HeaderError::TestnetTimeTooOld { .. },
        HeaderError::TimeTooNew { .. },
        HeaderError::EarlyStakeTx { .. },
        HeaderError::EarlyVoteBits { .. },
        HeaderError::EarlyFinalState { .. },
        HeaderError::NotEnoughVotes { .. },
        HeaderError::TooManyVotes { .. },
        HeaderError::TooManyFreshStake { .. },
        HeaderError::Checkpoint { .. },
        HeaderError::ForkTooOld { .. },
    );
    check(&headers);

    let mut rejections = vec![
        Rejection::Orphan {
            hash: Hash::ZERO,
            prev: Hash::ZERO,
        },
        Rejection::SideChainsFull { hash: Hash::ZERO },
    ];
    rejections.extend(header_errors().into_iter().map(Rejection::Invalid));
    every_variant!(
        rejections,
        Rejection::Invalid(_),
        Rejection::Orphan { .. },
        Rejection::SideChainsFull { .. },
    );
    check(&rejections);

    let blocks = [
        BlockError::Decode(dcr_wire::Error::eof(4).while_reading("a block header")),
        BlockError::WrongBlock {
            expected: Hash::ZERO,
            got: Hash::ZERO,
        },
        BlockError::MerkleRoots { block: Hash::ZERO },
    ];
    every_variant!(
        blocks,
        BlockError::Decode(_),
        BlockError::WrongBlock { .. },
        BlockError::MerkleRoots { .. },
    );
    check(&blocks);

    let filters = [
        FilterError::Unrequested(1),
        FilterError::Count {
            expected: 2,
            got: 1,
        },
        FilterError::WrongBlock {
            expected: Hash::ZERO,
            got: Hash::ZERO,
        },
        FilterError::Decode(Hash::ZERO),
        FilterError::Proof(ProofError { block: Hash::ZERO }),
    ];
    every_variant!(
        filters,
        FilterError::Unrequested(_),
        FilterError::Count { .. },
        FilterError::WrongBlock { .. },
        FilterError::Decode(_),
        FilterError::Proof(_),
    );
    check(&filters);

    let commitments = [
        PreCommitmentError::OutOfOrder {
            expected: 1,
            got: 2,
        },
        PreCommitmentError::Mismatch {
            expected: Hash::ZERO,
            got: Hash::ZERO,
        },
    ];
    every_variant!(
        commitments,
        PreCommitmentError::OutOfOrder { .. },
        PreCommitmentError::Mismatch { .. },
    );
    check(&commitments);

    let addresses = [
        AddressError::Base58,
        AddressError::Length(1),
        AddressError::Checksum,
        AddressError::Prefix([0, 0], "mainnet"),
    ];
    every_variant!(
        addresses,
        AddressError::Base58,
        AddressError::Length(_),
        AddressError::Checksum,
        AddressError::Prefix(..),
    );
    check(&addresses);
}

/// The old messages: "block does not decode: {0}" with nothing as the
/// source, "1 filters", "1 votes", "decodes to 1 bytes", "(Asert)".
#[test]
fn messages_read_as_sentences_with_their_plurals() {
    let e = BlockError::Decode(dcr_wire::Error::eof(4).while_reading("a block header"));
    assert_eq!(
        Report(&e).messages(),
        [
            "the block does not decode",
            "input ended while reading a block header"
        ]
    );
    assert_eq!(
        FilterError::Count {
            expected: 2,
            got: 1
        }
        .to_string(),
        "1 filter for a request of 2"
    );
    assert_eq!(
        HeaderError::NotEnoughVotes { min: 3, got: 1 }.to_string(),
        "block commits to 1 vote, at least 3 are required"
    );
    assert_eq!(
        AddressError::Length(1).to_string(),
        "address decodes to 1 byte, expected 26"
    );
    assert!(difficulty_errors()[1].to_string().ends_with("(ASERT)"));
}
