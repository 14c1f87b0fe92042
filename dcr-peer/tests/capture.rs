//! Frame captures of real peers over loopback TCP (`Hooks::with_capture`):
//! every frame each side sent and received, the handshake's included, in
//! order, byte for byte what the other side has; what a misbehaving
//! remote sent that never became a frame. Every test is bounded in time.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use dcr_peer::capture::{CaptureSink, Direction, FlushPolicy, Records};
use dcr_peer::wire::{
    frame_to_vec, split_frame, Command, Message, Ping, Split, MESSAGE_HEADER_SIZE,
};
use dcr_peer::PeerEvent;
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;

const LIMIT: Duration = Duration::from_secs(10);

/// A record read back: connection, direction, frame.
type Rec = (u32, Direction, Vec<u8>);

fn read_back(path: &Path) -> Vec<Rec> {
    let bytes = std::fs::read(path).unwrap();
    Records::new(&bytes)
        .unwrap()
        .map(|r| {
            let r = r.expect("a whole capture");
            assert_eq!(r.magic, NET.magic());
            (r.conn, r.direction, r.frame.to_vec())
        })
        .collect()
}

/// The frames of `recs` going `dir`.
fn going(recs: &[Rec], dir: Direction) -> Vec<Vec<u8>> {
    recs.iter()
        .filter(|r| r.1 == dir)
        .map(|r| r.2.clone())
        .collect()
}

/// The command of a whole, checked frame.
fn command(frame: &[u8]) -> Command {
    match split_frame(frame, NET, 12).expect("a valid frame") {
        Split::Frame { frame: f, consumed } => {
            assert_eq!(consumed, frame.len(), "one frame a record");
            f.header.command
        }
        Split::Incomplete { .. } => panic!("a cut frame"),
    }
}

fn sink(path: &Path) -> Arc<CaptureSink> {
    let (sink, torn) = CaptureSink::open_file(path, FlushPolicy::default()).unwrap();
    assert!(torn.is_none());
    Arc::new(sink)
}

/// Pings `n` times from `peer` and waits for each pong on `events`.
async fn ping_pong(peer: &dcr_peer::Peer, events: &mut mpsc::Receiver<PeerEvent>, n: u64) {
    for nonce in 0..n {
        peer.queue_message(&Message::Ping(Ping { nonce })).unwrap();
        loop {
            let ev = tokio::time::timeout(LIMIT, events.recv())
                .await
                .expect("a pong in time")
                .expect("connected");
            if matches!(ev.message, Message::Pong(p) if p.nonce == nonce) {
                break;
            }
        }
    }
}

#[tokio::test]
async fn each_side_captures_every_frame_the_other_captured_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let (path_a, path_b) = (dir.path().join("a.dcrcap"), dir.path().join("b.dcrcap"));
    let (sink_a, sink_b) = (sink(&path_a), sink(&path_b));
    let (tx, mut events) = mpsc::channel(64);
    let a = Node {
        config: config(),
        hooks: hooks().with_capture(sink_a.clone()).with_events(tx),
    };
    let b = Node {
        config: config(),
        hooks: hooks().with_capture(sink_b.clone()),
    };
    let (out, inb) = pair(a, b).await;
    ping_pong(&out, &mut events, 5).await;
    out.queue_message_wait(&inv_of(0, 300)).await.unwrap();
    inb.queue_message_wait(&big_headers()).await.unwrap();
    // The last frame each way has arrived before either side stops.
    received(&inb, 5 + 1 + 2).await;
    received(&out, 5 + 1 + 2).await;
    out.disconnect();
    disconnected_within(&out, LIMIT).await;
    disconnected_within(&inb, LIMIT).await;
    let stats_a = tokio::task::spawn_blocking(move || sink_a.close())
        .await
        .unwrap()
        .unwrap();
    let stats_b = tokio::task::spawn_blocking(move || sink_b.close())
        .await
        .unwrap()
        .unwrap();

    let (ra, rb) = (read_back(&path_a), read_back(&path_b));
    assert!(
        ra.iter().chain(&rb).all(|r| r.0 == 0),
        "one connection each"
    );
    assert_eq!(stats_a.records, ra.len() as u64);
    assert_eq!((stats_a.connections, stats_b.connections), (1, 1));
    assert_eq!((stats_a.dropped, stats_b.dropped), (0, 0));
    // Byte for byte and in order, what one side sent is what the other
    // received.
    assert_eq!(going(&ra, Direction::Sent), going(&rb, Direction::Received));
    assert_eq!(going(&ra, Direction::Received), going(&rb, Direction::Sent));
    let commands = |recs: &[Rec], dir| -> Vec<Command> {
        going(recs, dir).iter().map(|f| command(f)).collect()
    };
    let mut sent_by_a = vec![Command::Version, Command::VerAck];
    sent_by_a.extend([Command::Ping; 5]);
    sent_by_a.push(Command::Inv);
    assert_eq!(commands(&ra, Direction::Sent), sent_by_a);
    let mut sent_by_b = vec![Command::Version, Command::VerAck];
    sent_by_b.extend([Command::Pong; 5]);
    sent_by_b.push(Command::Headers);
    assert_eq!(commands(&rb, Direction::Sent), sent_by_b);
    // Both directions interleave as they happened: the outbound side's
    // version goes first, each ping comes before its pong.
    let order: Vec<(Direction, Command)> = ra.iter().map(|r| (r.1, command(&r.2))).collect();
    assert_eq!(order[0], (Direction::Sent, Command::Version));
    for i in 0..5 {
        let ping = order
            .iter()
            .enumerate()
            .filter(|(_, o)| o.1 == Command::Ping)
            .nth(i)
            .unwrap()
            .0;
        let pong = order
            .iter()
            .enumerate()
            .filter(|(_, o)| o.1 == Command::Pong)
            .nth(i)
            .unwrap()
            .0;
        assert!(ping < pong, "{order:?}");
    }
    // The handshake's frames are exactly as the wire has them.
    let version = &going(&ra, Direction::Sent)[0];
    let (msg, _) = dcr_peer::wire::decode_frame(version, NET, 12).unwrap();
    assert_eq!(frame_to_vec(&msg, NET, 12).unwrap(), *version);
}

#[tokio::test]
async fn peers_sharing_a_sink_get_a_connection_number_each() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shared.dcrcap");
    let sink = sink(&path);
    let with_sink = || Node {
        config: config(),
        hooks: hooks().with_capture(sink.clone()),
    };
    let mut peers = Vec::new();
    for _ in 0..2 {
        let (out, inb) = pair(with_sink(), with_sink()).await;
        out.queue_message_wait(&Message::Ping(Ping { nonce: 9 }))
            .await
            .unwrap();
        received(&inb, 3).await;
        received(&out, 3).await;
        peers.extend([out, inb]);
    }
    for p in &peers {
        p.disconnect();
        disconnected_within(p, LIMIT).await;
    }
    let closing = sink.clone();
    let stats = tokio::task::spawn_blocking(move || closing.close())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stats.connections, 4);
    let recs = read_back(&path);
    let mut numbers: Vec<u32> = recs.iter().map(|r| r.0).collect();
    numbers.sort();
    numbers.dedup();
    assert_eq!(numbers, [0, 1, 2, 3]);
    // Each connection's records are a whole conversation of its own: it
    // sends version and verack first, and receives them.
    for n in numbers {
        let mine: Vec<&Rec> = recs.iter().filter(|r| r.0 == n).collect();
        let sent: Vec<Command> = mine
            .iter()
            .filter(|r| r.1 == Direction::Sent)
            .map(|r| command(&r.2))
            .collect();
        let got: Vec<Command> = mine
            .iter()
            .filter(|r| r.1 == Direction::Received)
            .map(|r| command(&r.2))
            .collect();
        assert_eq!(sent[..2], [Command::Version, Command::VerAck], "{n}");
        assert_eq!(got[..2], [Command::Version, Command::VerAck], "{n}");
        let pings = sent.iter().chain(&got).filter(|c| **c == Command::Ping);
        assert_eq!(pings.count(), 1, "{n}: {sent:?} {got:?}");
    }
}

/// Runs a hand-driven remote against a capturing inbound peer: the
/// handshake, then `bytes` as they are, then the remote hangs up. Returns
/// the peer's records.
async fn remote_sends(bytes: Vec<u8>) -> Vec<Rec> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("raw.dcrcap");
    let sink = sink(&path);
    let node = Node {
        config: config(),
        hooks: hooks().with_capture(sink.clone()),
    };
    let (mut raw, peer) = raw_client(node).await;
    raw.get_mut().write_all(&bytes).await.unwrap();
    raw.get_mut().flush().await.unwrap();
    drop(raw);
    disconnected_within(&peer, LIMIT).await;
    drop(peer);
    tokio::task::spawn_blocking(move || sink.close())
        .await
        .unwrap()
        .unwrap();
    read_back(&path)
}

#[tokio::test]
async fn what_a_remote_sent_that_never_became_a_frame_is_captured() {
    let ping = frame_to_vec(&Message::Ping(Ping { nonce: 3 }), NET, 12).unwrap();

    // A payload that fails its checksum: header and payload.
    let mut bad_sum = ping.clone();
    bad_sum[MESSAGE_HEADER_SIZE] ^= 1;
    let recs = remote_sends([&ping[..], &bad_sum].concat()).await;
    let got = going(&recs, Direction::Received);
    assert_eq!(got[got.len() - 2], ping, "the good frame first");
    assert_eq!(got[got.len() - 1], bad_sum, "then the bad one, whole");

    // A header the peer refuses (an unknown command): the 24 bytes, and
    // none of what followed them.
    let unknown = [announce("nosuchcmd", 8), vec![0xaa; 8]].concat();
    let recs = remote_sends(unknown.clone()).await;
    let got = going(&recs, Direction::Received);
    assert_eq!(got.last().unwrap(), &unknown[..MESSAGE_HEADER_SIZE]);

    // A frame cut short by the remote hanging up: what came of it.
    let cut = &ping[..MESSAGE_HEADER_SIZE + 5];
    let recs = remote_sends(cut.to_vec()).await;
    let got = going(&recs, Direction::Received);
    assert_eq!(got.last().unwrap(), cut);
    // Part of a header.
    let recs = remote_sends(ping[..10].to_vec()).await;
    let got = going(&recs, Direction::Received);
    assert_eq!(got.last().unwrap(), &ping[..10]);
    // The handshake before it all, both ways.
    let sent: Vec<Command> = going(&recs, Direction::Sent)
        .iter()
        .map(|f| command(f))
        .collect();
    assert_eq!(sent, [Command::Version, Command::VerAck]);
    assert_eq!(
        recs.iter().filter(|r| r.1 == Direction::Received).count(),
        3
    );
}
