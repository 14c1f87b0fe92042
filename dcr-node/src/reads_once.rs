//! One value of every variant of every error type of the crate, nested
//! ones through their sources, each chain checked against the workspace's
//! convention (docs/ERRORS.md) with `dcr_wire::Report::fault`.

use std::io;

use dcr_peer::PeerError;
use dcr_wire::{every_variant, Command, Hash, InvType, OutPoint, Report};

use crate::bench::{InputError, Place, WorkError};
use crate::cfilter::MissingPrevScript;
use crate::chain::{LoadError, TruncatedRecord};
use crate::demo::DemoError;
use crate::serve::verdict::Offence;
use crate::store::StoreError;
use crate::sync::SyncError;

fn wire() -> dcr_wire::Error {
    dcr_wire::Error::eof(4).while_reading("a block header")
}

fn refused() -> PeerError {
    PeerError::Io(io::Error::from_raw_os_error(111))
}

fn store_errors() -> Vec<StoreError> {
    vec![
        StoreError::Block {
            index: 1,
            error: wire(),
        },
        StoreError::Unlinked {
            hash: Hash::ZERO,
            height: 2,
        },
        StoreError::Height {
            hash: Hash::ZERO,
            height: 2,
            parent_height: 0,
        },
        StoreError::Empty,
    ]
}

fn sync_errors() -> Vec<SyncError> {
    vec![
        SyncError::Peer(refused()),
        SyncError::Disconnected,
        SyncError::NoAnswer,
        SyncError::TooManyHeaders,
        SyncError::HeaderUnlinked(2),
        SyncError::HeightGap {
            height: 3,
            after: 1,
        },
        SyncError::NotFound(1),
        SyncError::WrongBlock {
            expected: Hash::ZERO,
            got: Hash::ZERO,
        },
        SyncError::BlockUnlinked(Hash::ZERO),
        SyncError::BadRoots(Hash::ZERO),
    ]
}

fn cancelled() -> tokio::task::JoinError {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let task = rt.spawn(std::future::pending::<()>());
    task.abort();
    rt.block_on(task).unwrap_err()
}

fn demo_errors() -> Vec<DemoError> {
    let mut all = vec![
        DemoError::Bind(io::Error::from_raw_os_error(98)),
        DemoError::Connect(refused()),
        DemoError::Accept(refused()),
        DemoError::Server(cancelled()),
        DemoError::Incomplete { synced: 1, held: 2 },
        DemoError::Ping(PeerError::QueueFull),
    ];
    all.extend(store_errors().into_iter().map(DemoError::Chain));
    all.extend(sync_errors().into_iter().map(DemoError::Sync));
    all
}

fn offences() -> Vec<Offence> {
    vec![
        Offence::EmptyGetData,
        Offence::GetData { items: 1 },
        Offence::TooManyGetData { max: 1000 },
        Offence::TooManyDataItems {
            new: 1,
            pending: 2,
            max: 3,
        },
        Offence::SecondStateRequest {
            command: Command::GetInitState,
        },
        Offence::SecondInitialState {
            command: Command::InitState,
        },
        Offence::Withdrawn {
            command: Command::GetMiningState,
            pver: 8,
            withdrawn: 8,
        },
        Offence::UnsupportedFilterRequest {
            command: Command::GetCFilter,
        },
        Offence::EmptyInv,
        Offence::MemPool,
        Offence::NotFoundType(InvType(9)),
        Offence::BlocksNotFound(1),
        Offence::TxsNotFound(1),
        Offence::MixNotFound(1),
        Offence::EmptyAddr,
        Offence::InvalidAddrV2,
        Offence::UnrequestedBlock(Hash::ZERO),
        Offence::Malformed("input ended early".into()),
    ]
}

fn truncated_records() -> Vec<TruncatedRecord> {
    vec![
        TruncatedRecord::Length {
            index: 0,
            offset: 0,
            remaining: 1,
        },
        TruncatedRecord::Block {
            index: 0,
            offset: 0,
            claimed: 1,
            remaining: 0,
        },
    ]
}

fn load_errors() -> Vec<LoadError> {
    let mut all = vec![
        LoadError::Io {
            path: "/nowhere/chain-0-168.bin".into(),
            source: io::Error::from_raw_os_error(2),
        },
        LoadError::Empty("/nowhere".into()),
    ];
    all.extend(
        truncated_records()
            .into_iter()
            .map(|record| LoadError::Truncated {
                path: "/nowhere/chain-0-168.bin".into(),
                record,
            }),
    );
    all
}

fn places() -> Vec<Place> {
    vec![
        Place::Line(3),
        Place::Frame {
            index: 1,
            offset: 24,
            command: Some(Command::Ping),
        },
        Place::BlockRecord {
            index: 1,
            offset: 4,
        },
        Place::CaptureRecord(2),
        Place::Command(Command::Block),
        Place::Block {
            set: "mainnet",
            index: 1,
        },
    ]
}

fn input_errors() -> Vec<InputError> {
    let leaves = || {
        vec![
            InputError::Read {
                path: "/nowhere/x.hex".into(),
                source: io::Error::from_raw_os_error(2),
            },
            InputError::EmptyFile,
            InputError::EmptyFolder,
            InputError::NoMessages,
            InputError::WrongNetwork {
                what: "a frame",
                found: dcr_wire::CurrencyNet::TestNet3,
                want: dcr_wire::CurrencyNet::MainNet,
            },
            InputError::UnknownMagic(1),
            InputError::NotRecords(9),
            InputError::FrameCut(1),
            InputError::AfterFrame(1),
            InputError::ShortFrame(1),
            InputError::FrameLength {
                header: 1,
                payload: 2,
            },
            InputError::Frame(wire()),
            InputError::NotBlock(wire()),
            InputError::Checks(WorkError::Decode(wire())),
            InputError::Unrecognised {
                records: Box::new(InputError::Truncated(truncated_records()[0])),
                raw: wire(),
            },
            InputError::NotUtf8,
            InputError::Hex(hex::FromHexError::OddLength),
            InputError::Json(serde_json::from_str::<u8>("x").unwrap_err()),
            InputError::Rpc("{\"code\":-5}".into()),
            InputError::NoResult,
            InputError::NoHexLines,
            InputError::Capture(dcr_peer::capture::CaptureError::Closed),
        ]
    };
    let mut all = leaves();
    all.extend(truncated_records().into_iter().map(InputError::Truncated));
    all.extend(load_errors().into_iter().map(InputError::Corpus));
    for place in places() {
        all.extend(
            leaves()
                .into_iter()
                .map(|e| InputError::At(place, Box::new(e))),
        );
    }
    all.extend(leaves().into_iter().map(|e| InputError::In {
        path: "/nowhere/x.hex".into(),
        source: Box::new(InputError::At(Place::Line(2), Box::new(e))),
    }));
    all
}

use dcr_wire::assert_read_once as check;

#[test]
fn every_error_of_the_crate_reads_once() {
    let store = store_errors();
    every_variant!(
        store,
        StoreError::Block { .. },
        StoreError::Unlinked { .. },
        StoreError::Height { .. },
        StoreError::Empty,
    );
    check(&store);

    let sync = sync_errors();
    every_variant!(
        sync,
        SyncError::Peer(_),
        SyncError::Disconnected,
        SyncError::NoAnswer,
        SyncError::TooManyHeaders,
        SyncError::HeaderUnlinked(_),
        SyncError::HeightGap { .. },
        SyncError::NotFound(_),
        SyncError::WrongBlock { .. },
        SyncError::BlockUnlinked(_),
        SyncError::BadRoots(_),
    );
    check(&sync);

    let demo = demo_errors();
    every_variant!(
        demo,
        DemoError::Chain(_),
        DemoError::Bind(_),
        DemoError::Connect(_),
        DemoError::Accept(_),
        DemoError::Server(_),
        DemoError::Sync(_),
        DemoError::Incomplete { .. },
        DemoError::Ping(_),
    );
    check(&demo);

    let records = truncated_records();
    every_variant!(
        records,
        TruncatedRecord::Length { .. },
        TruncatedRecord::Block { .. },
    );
    check(&records);
    let load = load_errors();
    every_variant!(
        load,
        LoadError::Io { .. },
        LoadError::Truncated { .. },
        LoadError::Empty(_),
    );
    check(&load);

    let offences = offences();
    every_variant!(
        offences,
        Offence::EmptyGetData,
        Offence::GetData { .. },
        Offence::TooManyGetData { .. },
        Offence::TooManyDataItems { .. },
        Offence::SecondStateRequest { .. },
        Offence::SecondInitialState { .. },
        Offence::Withdrawn { .. },
        Offence::UnsupportedFilterRequest { .. },
        Offence::EmptyInv,
        Offence::MemPool,
        Offence::NotFoundType(_),
        Offence::BlocksNotFound(_),
        Offence::TxsNotFound(_),
        Offence::MixNotFound(_),
        Offence::EmptyAddr,
        Offence::InvalidAddrV2,
        Offence::UnrequestedBlock(_),
        Offence::Malformed(_),
    );
    check(&offences);

    check(&[MissingPrevScript {
        prev_out: OutPoint {
            hash: Hash::ZERO,
            index: 0,
            tree: 0,
        },
        tx: Hash::ZERO,
        input: 0,
    }]);
    let work = [
        WorkError::Decode(wire()),
        WorkError::Checksum {
            expected: [0; 4],
            actual: [1; 4],
        },
    ];
    every_variant!(work, WorkError::Decode(_), WorkError::Checksum { .. });
    check(&work);

    let places = places();
    every_variant!(
        places,
        Place::Line(_),
        Place::Frame { .. },
        Place::BlockRecord { .. },
        Place::CaptureRecord(_),
        Place::Command(_),
        Place::Block { .. },
    );
    let input = input_errors();
    every_variant!(
        input,
        InputError::Read { .. },
        InputError::In { .. },
        InputError::At(..),
        InputError::EmptyFile,
        InputError::EmptyFolder,
        InputError::NoMessages,
        InputError::WrongNetwork { .. },
        InputError::UnknownMagic(_),
        InputError::Truncated(_),
        InputError::Corpus(_),
        InputError::NotRecords(_),
        InputError::FrameCut(_),
        InputError::AfterFrame(_),
        InputError::ShortFrame(_),
        InputError::FrameLength { .. },
        InputError::Frame(_),
        InputError::NotBlock(_),
        InputError::Checks(_),
        InputError::Unrecognised { .. },
        InputError::NotUtf8,
        InputError::Hex(_),
        InputError::Json(_),
        InputError::Rpc(_),
        InputError::NoResult,
        InputError::NoHexLines,
        InputError::Capture(_),
    );
    check(&input);
}

/// The old messages printed their source as well: `cannot read
/// {path}: {source}` and then, as the cause, the source again.
#[test]
fn a_file_that_cannot_be_read_reads_once() {
    let e = LoadError::Io {
        path: "/nowhere/x.bin".into(),
        source: io::Error::from_raw_os_error(2),
    };
    assert_eq!(
        Report(&e).to_string(),
        "cannot read /nowhere/x.bin: No such file or directory (os error 2)"
    );
    let e = DemoError::Connect(refused());
    assert_eq!(
        Report(&e).messages(),
        [
            "the client could not connect",
            "the connection failed",
            "Connection refused (os error 111)"
        ]
    );
}

/// Counts read with their plural, as dcrd's `pickNoun` gives them.
#[test]
fn counts_read_with_their_plural() {
    assert_eq!(Offence::BlocksNotFound(1).to_string(), "1 block not found");
    assert_eq!(Offence::BlocksNotFound(2).to_string(), "2 blocks not found");
    assert_eq!(
        Offence::TxsNotFound(1).to_string(),
        "1 transaction not found"
    );
    assert_eq!(
        Offence::MixNotFound(3).to_string(),
        "3 mix messages not found"
    );
    assert_eq!(SyncError::NotFound(1).to_string(), "peer lacks 1 block");
    assert_eq!(
        truncated_records()[0].to_string(),
        "truncated: 1 byte at byte 0, too few for a record length"
    );
    assert_eq!(
        truncated_records()[1].to_string(),
        "truncated: block record 0 at byte 0 claims 1 byte, 0 bytes left"
    );
    assert_eq!(
        DemoError::Incomplete { synced: 0, held: 1 }.to_string(),
        "synced 0 of 1 block"
    );
}
