//! A scripted raw-socket remote that misbehaves: every case must end in a
//! disconnect with the right reason, promptly, without a panic.

mod common;

use std::net::IpAddr;
use std::time::Duration;

use common::*;
use dcr_peer::wire::{frame_to_vec, Message, Ping, VerAck, MESSAGE_HEADER_SIZE};
use dcr_peer::wire::{Command, ErrorKind, ServiceFlags, Version};
use dcr_peer::{
    DisconnectReason, FrameCodec, HandshakeError, PeerError, ProtocolViolation, Refusal,
};
use futures_util::SinkExt;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::codec::Framed;

const LIMIT: Duration = Duration::from_secs(10);

fn ping_frame(net: dcr_peer::wire::CurrencyNet) -> Vec<u8> {
    frame_to_vec(&Message::Ping(Ping { nonce: 1 }), net, 12).unwrap()
}

/// Completes the handshake by hand, writes `bytes`, and returns why the
/// peer disconnected.
async fn after_handshake(bytes: &[u8]) -> DisconnectReason {
    let (raw, peer) = raw_client(node()).await;
    let mut stream = raw.into_inner();
    stream.write_all(bytes).await.unwrap();
    disconnected_within(&peer, LIMIT).await
}

/// Asserts an undecodable frame or message with the reference's error kind.
fn undecodable(reason: DisconnectReason, kind: ErrorKind) {
    match reason {
        DisconnectReason::Protocol(ProtocolViolation::Undecodable { error, .. }) => {
            assert_eq!(error.kind(), kind, "{error}")
        }
        other => panic!("expected an undecodable message ({kind:?}), got {other:?}"),
    }
}

#[tokio::test]
async fn wrong_magic() {
    undecodable(
        after_handshake(&ping_frame(dcr_peer::wire::CurrencyNet::MainNet)).await,
        ErrorKind::WrongNetwork,
    );
}

#[tokio::test]
async fn bad_checksum() {
    let mut f = ping_frame(NET);
    f[20] ^= 0xff;
    undecodable(after_handshake(&f).await, ErrorKind::PayloadChecksum);
}

#[tokio::test]
async fn length_over_the_message_maximum_is_refused_before_the_payload() {
    let mut f = ping_frame(NET);
    // A ping announcing 1 MiB: refused on its header alone.
    f[16..20].copy_from_slice(&(1u32 << 20).to_le_bytes());
    f.truncate(MESSAGE_HEADER_SIZE);
    undecodable(after_handshake(&f).await, ErrorKind::PayloadTooLarge);
}

#[tokio::test]
async fn unknown_command() {
    let mut f = ping_frame(NET);
    f[4..16].copy_from_slice(b"bogus\0\0\0\0\0\0\0");
    undecodable(after_handshake(&f).await, ErrorKind::UnknownCmd);
}

#[tokio::test]
async fn garbage_after_the_handshake() {
    let garbage: Vec<u8> = (0..200u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    assert!(matches!(
        after_handshake(&garbage).await,
        DisconnectReason::Protocol(_)
    ));
}

#[tokio::test]
async fn malformed_payload() {
    // A ping with a 4-byte payload and a valid checksum: too short.
    let payload = [1u8, 2, 3, 4];
    let mut f = Vec::new();
    f.extend_from_slice(&NET.magic().to_le_bytes());
    f.extend_from_slice(b"ping\0\0\0\0\0\0\0\0");
    f.extend_from_slice(&4u32.to_le_bytes());
    f.extend_from_slice(&dcr_peer::wire::checksum(&payload));
    f.extend_from_slice(&payload);
    match after_handshake(&f).await {
        DisconnectReason::Protocol(ProtocolViolation::Undecodable {
            command: Some(Command::Ping),
            error,
        }) => assert_eq!(error.kind(), ErrorKind::UnexpectedEof, "{error}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn duplicate_version() {
    let (mut raw, peer) = raw_client(node()).await;
    raw.send(&Message::Version(raw_version(12, 5)))
        .await
        .unwrap();
    assert_eq!(
        disconnected_within(&peer, LIMIT).await,
        DisconnectReason::Protocol(ProtocolViolation::DuplicateVersion)
    );
}

#[tokio::test]
async fn verack_before_version() {
    let (sock, inbound) = raw_socket(node()).await;
    let mut raw = tokio_util::codec::Framed::new(sock, dcr_peer::FrameCodec::new(NET, 12));
    raw.send(&Message::VerAck(VerAck)).await.unwrap();
    let r = tokio::time::timeout(LIMIT, inbound).await.unwrap().unwrap();
    assert!(
        matches!(
            r,
            Err(PeerError::Handshake(HandshakeError::NotVersion("verack")))
        ),
        "{r:?}"
    );
}

/// The version an inbound peer with `server` answers a raw client with.
async fn answered_version(server: Node) -> Version<'static> {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { accept(&listener, server).await });
    let mut raw = Framed::new(
        TcpStream::connect(addr).await.unwrap(),
        FrameCodec::new(NET, 12),
    );
    let mut ours = raw_version(12, 7);
    ours.services = ServiceFlags::NODE_NETWORK | ServiceFlags::NODE_CF;
    raw.send(&Message::Version(ours)).await.unwrap();
    match next_message(&mut raw).await {
        Some(Message::Version(v)) => v,
        other => panic!("no version from the server: {other:?}"),
    }
}

/// The address we tell the remote it has, as the reference's
/// `localVersionMsg`: its own, with the services it reported; the
/// unspecified address and port 0 when it may be our proxy (its IP is the
/// proxy's, compared as IP addresses, or the proxy has no port); a proxy
/// given by name masks nothing, since an IP is never that name.
#[tokio::test]
async fn version_masks_the_remote_address_behind_a_proxy() {
    for (proxy, masked) in [
        ("proxy.invalid:9050", false),
        ("127.0.0.1:9050", true),
        // The same IP written as IPv4-mapped IPv6: the same proxy.
        ("[::ffff:127.0.0.1]:9050", true),
        ("10.9.9.9:9050", false),
        ("no-port", true),
    ] {
        let mut server = node();
        server.config.proxy = Some(proxy.into());
        let v = answered_version(server).await;
        let you = v.addr_you;
        if masked {
            assert_eq!(
                (you.ip.to_canonical(), you.port),
                (std::net::Ipv4Addr::UNSPECIFIED.into(), 0),
                "proxy {proxy}"
            );
        } else {
            assert_eq!(
                you.ip.to_canonical(),
                std::net::IpAddr::from(std::net::Ipv4Addr::LOCALHOST),
                "proxy {proxy}"
            );
            assert_ne!(you.port, 0, "proxy {proxy}");
        }
        assert_eq!(
            you.services,
            ServiceFlags::NODE_NETWORK | ServiceFlags::NODE_CF,
            "the services the remote reported, proxy {proxy}"
        );
    }
}

/// The host-to-address hook decides what an outbound peer's version gives
/// the remote (an onion address becomes the unspecified IP with its port,
/// as the reference writes it); its refusal fails the handshake; inbound
/// peers do not use it.
#[tokio::test]
async fn the_host_to_address_hook_applies_to_outbound_peers() {
    use dcr_peer::wire::{NetAddressV2, NetAddressV2Host};
    let seen = |hook: dcr_peer::hooks::HostToAddrFn| async move {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut c = node();
        c.hooks.host_to_addr = Some(hook);
        let dial = tokio::spawn(async move { connect(&addr.to_string(), c).await });
        let (sock, _) = listener.accept().await.unwrap();
        let mut raw = Framed::new(sock, FrameCodec::new(NET, 12));
        let first = next_message(&mut raw).await;
        (first, dial)
    };
    let onion = NetAddressV2 {
        timestamp: 0,
        services: ServiceFlags::NODE_NETWORK,
        host: NetAddressV2Host::TorV3([5; 32]),
        port: 9108,
    };
    let (first, _dial) = seen(std::sync::Arc::new(move |ip: IpAddr, _port, _services| {
        assert_eq!(ip, IpAddr::from(std::net::Ipv4Addr::LOCALHOST));
        Ok(onion)
    }))
    .await;
    let Some(Message::Version(v)) = first else {
        panic!("{first:?}")
    };
    assert_eq!(
        v.addr_you.ip.to_canonical(),
        std::net::IpAddr::from(std::net::Ipv4Addr::UNSPECIFIED)
    );
    assert_eq!(
        (v.addr_you.port, v.addr_you.services),
        (9108, ServiceFlags::NODE_NETWORK)
    );

    let (first, dial) = seen(std::sync::Arc::new(|_, _, _| Err(Refusal::NoAddress))).await;
    assert!(first.is_none(), "nothing is sent: {first:?}");
    assert!(matches!(
        dial.await.unwrap(),
        Err(PeerError::Handshake(HandshakeError::Refused(
            Refusal::NoAddress
        )))
    ));

    let server = node();
    let server = Node {
        hooks: server
            .hooks
            .with_host_to_addr(|_, _, _| Err(Refusal::Policy("not for inbound"))),
        ..server
    };
    let v = answered_version(server).await;
    assert_eq!(
        v.addr_you.ip.to_canonical(),
        std::net::IpAddr::from(std::net::Ipv4Addr::LOCALHOST)
    );
}
