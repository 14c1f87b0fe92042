//! One value of every variant of every error type of the crate, nested
//! ones through their sources, each chain checked against the workspace's
//! convention (docs/ERRORS.md): no message repeats one of its sources', no
//! debug forms, no empty messages. `every_variant!` names each type's
//! variants without a wildcard, so a new variant does not compile until it
//! has a sample here.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use dcr_wire::{every_variant, Command, Hash, InvType, InvVect, Report, ServiceFlags};

use crate::addrmgr::{AddrKey, AddrManagerError, AddressError, LoadError};
use crate::capture::{CaptureError, Corruption};
use crate::codec::CodecError;
use crate::config::ConfigError;
use crate::connmgr::ManagerError;
use crate::error::{DisconnectReason, PeerError};
use crate::fsm::handshake::{HandshakeError, Refusal};
use crate::fsm::session::{LocalFailure, ProtocolViolation};
use crate::fsm::stall::StallError;
use crate::proxy::{ParseProxyError, ProxyError};

/// The socket error of the issue: `Connection refused (os error 111)`.
fn refused() -> io::Error {
    io::Error::from_raw_os_error(111)
}

fn wire() -> dcr_wire::Error {
    dcr_wire::Error::eof(4).while_reading("a block header")
}

fn addr() -> SocketAddr {
    "192.0.2.1:9108".parse().unwrap()
}

fn codec_errors() -> Vec<CodecError> {
    vec![CodecError::Wire(wire()), CodecError::Io(refused())]
}

fn config_errors() -> Vec<ConfigError> {
    vec![
        ConfigError::UserAgent(wire()),
        ConfigError::ProtocolVersion(99),
        ConfigError::Zero("idle_timeout"),
        ConfigError::TooLong("idle_timeout"),
    ]
}

fn refusals() -> Vec<Refusal> {
    vec![
        Refusal::MissingServices(ServiceFlags(1)),
        Refusal::ProtocolVersion {
            theirs: 6,
            required: 9,
        },
        Refusal::NoAddress,
        Refusal::Policy("no peers from this range"),
    ]
}

fn handshake_errors() -> Vec<HandshakeError> {
    let mut all = vec![
        HandshakeError::NotVersion("ping"),
        HandshakeError::NotVerAck("ping"),
        HandshakeError::SelfConnection,
        HandshakeError::ProtocolTooOld(5),
    ];
    all.extend(refusals().into_iter().map(HandshakeError::Refused));
    all
}

fn stall_errors() -> Vec<StallError> {
    vec![
        StallError::Data(InvVect {
            inv_type: InvType::BLOCK,
            hash: Hash::ZERO,
        }),
        StallError::Command(Command::Headers),
        StallError::TooManyPending,
    ]
}

fn violations() -> Vec<ProtocolViolation> {
    vec![
        ProtocolViolation::DuplicateVersion,
        ProtocolViolation::DuplicateVerAck,
        ProtocolViolation::Undecodable {
            command: Some(Command::Block),
            error: wire(),
        },
        ProtocolViolation::Undecodable {
            command: None,
            error: wire(),
        },
        ProtocolViolation::PongFlood { owed: 2 },
    ]
}

fn local_failures() -> Vec<LocalFailure> {
    vec![
        LocalFailure::Encode {
            command: Some(Command::Tx),
            error: wire(),
        },
        LocalFailure::Encode {
            command: None,
            error: wire(),
        },
        LocalFailure::QueuedOutput { queued: 1, max: 0 },
    ]
}

fn disconnect_reasons() -> Vec<DisconnectReason> {
    let mut all = vec![
        DisconnectReason::Requested,
        DisconnectReason::RemoteClosed,
        DisconnectReason::HandshakeTimeout,
        DisconnectReason::Idle,
        DisconnectReason::WriteTimeout,
        DisconnectReason::SlowConsumer,
        DisconnectReason::Io(io::ErrorKind::ConnectionReset),
    ];
    all.extend(
        handshake_errors()
            .into_iter()
            .map(DisconnectReason::Handshake),
    );
    all.extend(violations().into_iter().map(DisconnectReason::Protocol));
    all.extend(stall_errors().into_iter().map(DisconnectReason::Stalled));
    all.extend(local_failures().into_iter().map(DisconnectReason::Local));
    all
}

fn proxy_errors() -> Vec<ProxyError> {
    let proxy = || "127.0.0.1:9050".to_string();
    vec![
        ProxyError::Unreachable {
            proxy: proxy(),
            source: refused(),
        },
        ProxyError::Io {
            proxy: proxy(),
            source: io::Error::from(io::ErrorKind::UnexpectedEof),
        },
        ProxyError::NotSocks5 {
            proxy: proxy(),
            version: 4,
        },
        ProxyError::NoAcceptableMethod { proxy: proxy() },
        ProxyError::AuthFailed { proxy: proxy() },
        ProxyError::ConnectFailed {
            proxy: proxy(),
            code: 5,
        },
        ProxyError::BadReply {
            proxy: proxy(),
            atyp: 9,
        },
        ProxyError::BadTarget {
            target: "nowhere".into(),
        },
        ProxyError::CredentialsTooLong { proxy: proxy() },
    ]
}

fn peer_errors() -> Vec<PeerError> {
    let mut all = vec![
        PeerError::HandshakeTimeout,
        PeerError::ConnectTimeout,
        PeerError::Io(refused()),
        PeerError::Io(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "stream ended inside a payload",
        )),
        PeerError::Encode(wire()),
        PeerError::QueueFull,
    ];
    all.extend(config_errors().into_iter().map(PeerError::Config));
    all.extend(handshake_errors().into_iter().map(PeerError::Handshake));
    all.extend(codec_errors().into_iter().map(PeerError::Codec));
    all.extend(proxy_errors().into_iter().map(PeerError::Proxy));
    all.extend(
        disconnect_reasons()
            .into_iter()
            .map(PeerError::Disconnected),
    );
    all
}

fn manager_errors() -> Vec<ManagerError> {
    let mut all = vec![
        ManagerError::Stopped,
        ManagerError::Listen(addr(), io::Error::from_raw_os_error(98)),
        ManagerError::Banned(addr().ip()),
        ManagerError::Duplicate(addr()),
        ManagerError::PerHostLimit(addr().ip()),
        ManagerError::PeerLimit(1),
        ManagerError::MaxPersistent(8),
        ManagerError::BadWhitelist("10.0.0.0/33".into()),
        ManagerError::DataDir("/nowhere".into(), io::Error::from_raw_os_error(13)),
    ];
    for e in peer_errors() {
        let e = Arc::new(e);
        all.push(ManagerError::Dial {
            addr: addr(),
            error: e.clone(),
        });
        all.push(ManagerError::SeedUnreachable {
            seed: addr(),
            error: e,
        });
    }
    all.push(ManagerError::SeedSilent {
        seed: addr(),
        within: std::time::Duration::from_secs(5),
    });
    all.extend(peer_errors().into_iter().map(ManagerError::Peer));
    all
}

fn load_errors() -> Vec<LoadError> {
    let key = || "192.0.2.1:9108".to_string();
    vec![
        LoadError::Io(io::Error::from_raw_os_error(2)),
        LoadError::TooLarge(1),
        LoadError::Json(serde_json::from_str::<u8>("x").unwrap_err()),
        LoadError::Version(3),
        LoadError::BadAddress("nowhere".into()),
        LoadError::NotListed {
            kind: "new",
            addr: key(),
        },
        LoadError::BucketOverflow {
            kind: "new",
            bucket: 1,
            max: 64,
        },
        LoadError::DuplicateInBucket(key(), 1),
        LoadError::TooManyRefs(key()),
        LoadError::TriedTwice(key()),
        LoadError::NoReferences(key()),
        LoadError::NewAndTried(key()),
    ]
}

fn addr_manager_errors() -> Vec<AddrManagerError> {
    let key = || AddrKey::parse("192.0.2.1:9108").unwrap();
    vec![
        AddrManagerError::NotFound(key()),
        AddrManagerError::NotNew(key()),
        AddrManagerError::NotRoutable(key()),
    ]
}

fn corruptions() -> Vec<Corruption> {
    vec![
        Corruption::Checksum {
            stored: 1,
            computed: 2,
        },
        Corruption::Length(u32::MAX),
        Corruption::Direction(7),
    ]
}

fn capture_errors() -> Vec<CaptureError> {
    let mut all = vec![
        CaptureError::BadMagic { found: vec![1, 2] },
        CaptureError::UnsupportedVersion { found: 9 },
        CaptureError::ReservedHeader { found: 1 },
        CaptureError::ShortHeader { have: 1 },
        CaptureError::TornTail {
            offset: 12,
            bytes: 1,
        },
        CaptureError::FrameTooLong { len: usize::MAX },
        CaptureError::Backlog { bytes: 1 },
        CaptureError::Closed,
        CaptureError::InUse,
        CaptureError::Io(io::Error::from_raw_os_error(28)),
    ];
    all.extend(
        corruptions()
            .into_iter()
            .map(|kind| CaptureError::Corrupt { offset: 12, kind }),
    );
    all
}

use dcr_wire::assert_read_once as check;

#[test]
fn every_error_of_the_crate_reads_once() {
    let codec = codec_errors();
    every_variant!(codec, CodecError::Wire(_), CodecError::Io(_));
    check(&codec);

    let config = config_errors();
    every_variant!(
        config,
        ConfigError::UserAgent(_),
        ConfigError::ProtocolVersion(_),
        ConfigError::Zero(_),
        ConfigError::TooLong(_),
    );
    check(&config);

    let refusals = refusals();
    every_variant!(
        refusals,
        Refusal::MissingServices(_),
        Refusal::ProtocolVersion { .. },
        Refusal::NoAddress,
        Refusal::Policy(_),
    );
    check(&refusals);

    let handshake = handshake_errors();
    every_variant!(
        handshake,
        HandshakeError::NotVersion(_),
        HandshakeError::NotVerAck(_),
        HandshakeError::SelfConnection,
        HandshakeError::ProtocolTooOld(_),
        HandshakeError::Refused(_),
    );
    check(&handshake);

    let stalls = stall_errors();
    every_variant!(
        stalls,
        StallError::Data(_),
        StallError::Command(_),
        StallError::TooManyPending,
    );
    check(&stalls);

    let proxy = proxy_errors();
    every_variant!(
        proxy,
        ProxyError::Unreachable { .. },
        ProxyError::Io { .. },
        ProxyError::NotSocks5 { .. },
        ProxyError::NoAcceptableMethod { .. },
        ProxyError::AuthFailed { .. },
        ProxyError::ConnectFailed { .. },
        ProxyError::BadReply { .. },
        ProxyError::BadTarget { .. },
        ProxyError::CredentialsTooLong { .. },
    );
    check(&proxy);
    check(&["x".parse::<crate::proxy::Proxy>().unwrap_err() as ParseProxyError]);

    // The reasons print inside PeerError::Disconnected (they are not
    // errors themselves): every one of them is checked there.
    let reasons = disconnect_reasons();
    every_variant!(
        reasons,
        DisconnectReason::Requested,
        DisconnectReason::RemoteClosed,
        DisconnectReason::Handshake(_),
        DisconnectReason::HandshakeTimeout,
        DisconnectReason::Protocol(_),
        DisconnectReason::Stalled(_),
        DisconnectReason::Idle,
        DisconnectReason::WriteTimeout,
        DisconnectReason::SlowConsumer,
        DisconnectReason::Io(_),
        DisconnectReason::Local(_),
    );
    let violations = violations();
    every_variant!(
        violations,
        ProtocolViolation::DuplicateVersion,
        ProtocolViolation::DuplicateVerAck,
        ProtocolViolation::Undecodable { .. },
        ProtocolViolation::PongFlood { .. },
    );
    let local = local_failures();
    every_variant!(
        local,
        LocalFailure::Encode { .. },
        LocalFailure::QueuedOutput { .. },
    );

    let peer = peer_errors();
    every_variant!(
        peer,
        PeerError::Config(_),
        PeerError::Handshake(_),
        PeerError::HandshakeTimeout,
        PeerError::ConnectTimeout,
        PeerError::Io(_),
        PeerError::Codec(_),
        PeerError::Proxy(_),
        PeerError::Encode(_),
        PeerError::QueueFull,
        PeerError::Disconnected(_),
    );
    check(&peer);

    let manager = manager_errors();
    every_variant!(
        manager,
        ManagerError::Stopped,
        ManagerError::Listen(..),
        ManagerError::Peer(_),
        ManagerError::Banned(_),
        ManagerError::Dial { .. },
        ManagerError::Duplicate(_),
        ManagerError::PerHostLimit(_),
        ManagerError::PeerLimit(_),
        ManagerError::MaxPersistent(_),
        ManagerError::BadWhitelist(_),
        ManagerError::DataDir(..),
        ManagerError::SeedUnreachable { .. },
        ManagerError::SeedSilent { .. },
    );
    check(&manager);

    let load = load_errors();
    every_variant!(
        load,
        LoadError::Io(_),
        LoadError::TooLarge(_),
        LoadError::Json(_),
        LoadError::Version(_),
        LoadError::BadAddress(_),
        LoadError::NotListed { .. },
        LoadError::BucketOverflow { .. },
        LoadError::DuplicateInBucket(..),
        LoadError::TooManyRefs(_),
        LoadError::TriedTwice(_),
        LoadError::NoReferences(_),
        LoadError::NewAndTried(_),
    );
    check(&load);

    let book = addr_manager_errors();
    every_variant!(
        book,
        AddrManagerError::NotFound(_),
        AddrManagerError::NotNew(_),
        AddrManagerError::NotRoutable(_),
    );
    check(&book);
    let address = [AddressError::MismatchedType, AddressError::UnknownType];
    every_variant!(
        address,
        AddressError::MismatchedType,
        AddressError::UnknownType
    );
    check(&address);

    let corruptions = corruptions();
    every_variant!(
        corruptions,
        Corruption::Checksum { .. },
        Corruption::Length(_),
        Corruption::Direction(_),
    );
    check(&corruptions);
    let capture = capture_errors();
    every_variant!(
        capture,
        CaptureError::BadMagic { .. },
        CaptureError::UnsupportedVersion { .. },
        CaptureError::ReservedHeader { .. },
        CaptureError::ShortHeader { .. },
        CaptureError::TornTail { .. },
        CaptureError::Corrupt { .. },
        CaptureError::FrameTooLong { .. },
        CaptureError::Backlog { .. },
        CaptureError::Closed,
        CaptureError::InUse,
        CaptureError::Io(_),
    );
    check(&capture);
}

/// The report, as an anyhow user saw it: `i/o: Connection
/// refused (os error 111)` and then, as its cause, `Connection refused
/// (os error 111)`.
#[test]
fn a_refused_connection_reads_once() {
    let e = ManagerError::Dial {
        addr: addr(),
        error: Arc::new(PeerError::Io(refused())),
    };
    assert_eq!(
        Report(&e).messages(),
        [
            "cannot connect to 192.0.2.1:9108",
            "the connection failed",
            "Connection refused (os error 111)"
        ]
    );
    let e = PeerError::Codec(CodecError::Io(refused()));
    assert_eq!(
        Report(&e).to_string(),
        "the connection failed: Connection refused (os error 111)"
    );
}

/// Counts read with their plural.
#[test]
fn counts_read_with_their_plural() {
    assert_eq!(
        CaptureError::ShortHeader { have: 1 }.to_string(),
        "the capture ends inside its 12-byte header, after 1 byte"
    );
    assert_eq!(
        CaptureError::Backlog { bytes: 1 }.to_string(),
        "the capture's writer is 1 byte behind; the record was dropped"
    );
    assert!(CaptureError::TornTail {
        offset: 12,
        bytes: 1
    }
    .to_string()
    .contains("(1 byte dropped)"));
    assert_eq!(
        LocalFailure::QueuedOutput { queued: 1, max: 0 }.to_string(),
        "1 byte of output queued, over the 0 bytes allowed"
    );
    assert!(LoadError::TooLarge(1)
        .to_string()
        .starts_with("a file of 1 byte "));
    assert_eq!(
        ManagerError::PeerLimit(1).to_string(),
        "a maximum of 1 peer is allowed"
    );
    assert_eq!(
        ManagerError::MaxPersistent(1).to_string(),
        "a maximum of 1 persistent peer is allowed"
    );
    assert_eq!(
        ProtocolViolation::PongFlood { owed: 1 }.to_string(),
        "1 pong owed and not read (ping flood)"
    );
}

/// The connection manager's events print as sentences: `DialFailed` used
/// to reach users as `Io(Os { code: 111, .. })`.
#[test]
fn every_manager_event_prints_as_a_sentence() {
    use crate::connmgr::ManagerEvent;
    use crate::stats::{PeerCounters, PeerStats};
    use crate::Direction;

    let stats = PeerStats {
        id: 1,
        addr: addr(),
        direction: Direction::Outbound,
        services: ServiceFlags(1),
        user_agent: "/dcrd:2.0.0/".into(),
        protocol_version: 12,
        remote_protocol_version: 12,
        starting_height: 0,
        time_offset: 0,
        connected_at: std::time::SystemTime::UNIX_EPOCH,
        counters: PeerCounters::default(),
        known_inventory: 0,
        send_queue_len: 0,
        queued_bytes: 0,
        pending_requests: 0,
        connected: true,
    };
    let mut events = vec![
        ManagerEvent::Connected(stats),
        ManagerEvent::AddressLearned(addr()),
        ManagerEvent::Banned {
            ip: addr().ip(),
            until: tokio::time::Instant::now() + std::time::Duration::from_secs(90),
        },
    ];
    for reason in disconnect_reasons() {
        events.push(ManagerEvent::Disconnected {
            addr: addr(),
            id: 1,
            reason,
        });
    }
    for e in peer_errors() {
        events.push(ManagerEvent::DialFailed {
            addr: addr(),
            error: Arc::new(e),
        });
    }
    every_variant!(
        events,
        ManagerEvent::Connected(_),
        ManagerEvent::Disconnected { .. },
        ManagerEvent::AddressLearned(_),
        ManagerEvent::Banned { .. },
        ManagerEvent::DialFailed { .. },
    );
    for event in &events {
        let text = event.to_string();
        assert!(
            !["Os {", "Kind(", "Custom {", "Some(", "Arc("]
                .iter()
                .any(|d| text.contains(d)),
            "{text}"
        );
    }
    let dial = ManagerEvent::DialFailed {
        addr: addr(),
        error: Arc::new(PeerError::Io(refused())),
    };
    assert_eq!(
        dial.to_string(),
        "cannot connect to 192.0.2.1:9108: the connection failed: Connection refused (os error 111)"
    );
    assert_eq!(
        events[0].to_string(),
        "connected to 192.0.2.1:9108 (outbound, /dcrd:2.0.0/)"
    );
}

#[test]
fn every_request_and_peer_set_error_reads_once() {
    use crate::peerset::PeerSetError;
    use crate::request::{RequestError, Unsupported};
    let unsupported = [
        Unsupported::Version {
            needs: 11,
            negotiated: 10,
        },
        Unsupported::Services {
            needs: ServiceFlags(1),
            has: ServiceFlags(0),
        },
    ];
    every_variant!(
        unsupported,
        Unsupported::Version { .. },
        Unsupported::Services { .. },
    );
    let mut requests = vec![
        RequestError::NotFound(InvVect {
            inv_type: InvType::BLOCK,
            hash: Hash::ZERO,
        }),
        RequestError::Timeout,
        RequestError::Encode(wire()),
    ];
    requests.extend(
        disconnect_reasons()
            .into_iter()
            .map(RequestError::Disconnected),
    );
    requests.extend(unsupported.iter().copied().map(RequestError::Unsupported));
    every_variant!(
        requests,
        RequestError::NotFound(_),
        RequestError::Timeout,
        RequestError::Disconnected(_),
        RequestError::Unsupported(_),
        RequestError::Encode(_),
    );
    check(&requests);
    let mut sets = vec![PeerSetError::NoPeers];
    sets.extend(
        requests
            .iter()
            .cloned()
            .map(|last| PeerSetError::Failed { attempts: 1, last }),
    );
    every_variant!(sets, PeerSetError::NoPeers, PeerSetError::Failed { .. });
    check(&sets);
    assert_eq!(
        Report(&sets[2]).to_string(),
        "1 peer tried, the last failed: no answer before the request's deadline"
    );
}
