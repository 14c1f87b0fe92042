//! Helpers shared by the loopback tests: peer pairs over real TCP and a
//! hand-driven "raw" remote for behaviours a well-behaved peer never shows.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use dcr_peer::connmgr::ManagerConfig;
use dcr_peer::wire::{
    CurrencyNet, Hash, Inv, InvType, InvVect, Message, NetAddress, ServiceFlags, VerAck, Version,
};
use dcr_peer::{Config, FrameCodec, Hooks, Listeners, Peer, PeerError, RecentNonces};
use futures_util::{SinkExt, StreamExt};
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio_util::codec::Framed;

pub const NET: CurrencyNet = CurrencyNet::SimNet;

/// How long the waiting helpers below wait before giving up.
pub const WAIT: Duration = Duration::from_secs(20);

/// Polls `f` every 10 ms until it holds; false if [`WAIT`] passes first.
pub async fn eventually(mut f: impl FnMut() -> bool) -> bool {
    tokio::time::timeout(WAIT, async {
        while !f() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .is_ok()
}

/// Waits until `f` holds; the test fails if [`WAIT`] passes first.
pub async fn until(f: impl FnMut() -> bool) {
    assert!(eventually(f).await, "condition not reached in time");
}

/// Waits until `peer` has read at least `n` messages (handshake included).
pub async fn received(peer: &Peer, n: u64) {
    until(|| peer.stats().counters.messages_received >= n).await;
}

/// TCP sockets this process has open (listening, connected or closing),
/// from the socket inodes in /proc/self/fd matched against the kernel's
/// TCP tables. Only sockets count: the epoll and event descriptors of
/// other tests' runtimes, which come and go while a test runs, do not, so
/// a test comparing two counts measures its own connections. Linux only
/// (elsewhere the tests that count would compare zero with zero).
pub fn tcp_sockets() -> usize {
    let ours: std::collections::HashSet<u64> = std::fs::read_dir("/proc/self/fd")
        .expect("/proc/self/fd: socket counts need Linux")
        .filter_map(|e| {
            let link = std::fs::read_link(e.ok()?.path()).ok()?;
            let link = link.to_str()?;
            link.strip_prefix("socket:[")?
                .strip_suffix(']')?
                .parse()
                .ok()
        })
        .collect();
    ["/proc/self/net/tcp", "/proc/self/net/tcp6"]
        .iter()
        .filter_map(|t| std::fs::read_to_string(t).ok())
        .flat_map(|table| {
            table
                .lines()
                .skip(1)
                .filter_map(|l| l.split_whitespace().nth(9)?.parse::<u64>().ok())
                .collect::<Vec<_>>()
        })
        .filter(|inode| ours.contains(inode))
        .count()
}

/// Held by the tests of a binary that must not overlap (they measure
/// memory, sockets or tasks of the whole process).
pub static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Takes [`SERIAL`] (a test that panicked holding it does not poison the
/// others).
pub fn serial_lock() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs `test` alone: takes [`SERIAL`], runs `test` on a fresh runtime
/// with two workers, and shuts that runtime down (dropping its tasks and
/// their sockets) before letting the next test in. With
/// `#[tokio::test]` the runtime outlives the lock: the next test would
/// start while the last one's sockets were still being closed.
pub fn serial<F: std::future::Future>(test: F) -> F::Output {
    let _alone = serial_lock();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("test runtime");
    let out = rt.block_on(test);
    rt.shutdown_timeout(Duration::from_secs(10));
    out
}

/// Tasks alive on the current tokio runtime.
pub fn alive_tasks() -> usize {
    tokio::runtime::Handle::current()
        .metrics()
        .num_alive_tasks()
}

/// The configuration of a test node: the test network's defaults.
pub fn config() -> Config {
    Config::new(NET)
}

/// The wiring of one node of a test: its own nonce set, so two nodes in
/// one process do not take each other for themselves.
pub fn hooks() -> Hooks {
    Hooks::new().with_nonces(RecentNonces::new())
}

/// A connection manager's configuration for a test, its peers wired as
/// one node of their own.
pub fn manager_config() -> ManagerConfig {
    let mut cfg = ManagerConfig::new(config());
    cfg.hooks = hooks();
    cfg
}

/// The configuration of a test node that serves blocks (`SFNodeNetwork`),
/// as a connection manager requires of the peers it dials.
pub fn full_node_config() -> Config {
    let mut c = config();
    c.services = ServiceFlags::NODE_NETWORK;
    c
}

/// One node of a test: its configuration and its wiring.
#[derive(Clone)]
pub struct Node {
    pub config: Config,
    pub hooks: Hooks,
}

/// A node with [`config`] and [`hooks`].
pub fn node() -> Node {
    Node {
        config: config(),
        hooks: hooks(),
    }
}

impl Node {
    /// The node with these listeners.
    pub fn with_listeners(mut self, listeners: impl Listeners) -> Node {
        self.hooks = self.hooks.with_listeners(listeners);
        self
    }
}

/// Accepts one inbound peer on `listener` as `node`.
pub async fn accept(listener: &TcpListener, node: Node) -> Result<Peer, PeerError> {
    dcr_peer::net::accept(listener, node.config, node.hooks).await
}

/// Dials `addr` as `node`.
pub async fn connect(addr: &str, node: Node) -> Result<Peer, PeerError> {
    dcr_peer::net::connect(addr, node.config, node.hooks).await
}

/// An outbound peer `a` connected to an inbound peer `b`.
pub async fn pair(a: Node, b: Node) -> (Peer, Peer) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let inbound = tokio::spawn(async move { accept(&listener, b).await });
    let out = connect(&addr.to_string(), a).await.unwrap();
    let inb = inbound.await.unwrap().unwrap();
    (out, inb)
}

/// Both ends of a failed handshake.
pub async fn pair_result(a: Node, b: Node) -> (Result<Peer, PeerError>, Result<Peer, PeerError>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let inbound = tokio::spawn(async move { accept(&listener, b).await });
    let out = connect(&addr.to_string(), a).await;
    (out, inbound.await.unwrap())
}

pub type Raw = Framed<TcpStream, FrameCodec>;

/// A version message for a raw remote.
pub fn raw_version(pver: u32, nonce: u64) -> Version<'static> {
    let a = NetAddress::new("127.0.0.1".parse().unwrap(), 0, ServiceFlags::NONE);
    let mut v = Version::new(a, a, nonce, 0);
    v.protocol_version = pver as i32;
    v
}

/// Reads the next message (skipping pings, which it answers).
pub async fn next_message(raw: &mut Raw) -> Option<Message<'static>> {
    loop {
        let frame = raw.next().await?.ok()?;
        let pv = raw.codec().protocol_version();
        let msg = frame.message(pv).ok()?.into_owned();
        if let Message::Ping(p) = &msg {
            let pong = Message::Pong(dcr_peer::wire::Pong { nonce: p.nonce });
            raw.send(&pong).await.ok()?;
            continue;
        }
        return Some(msg);
    }
}

/// Connects a raw client to an inbound peer served by `server` and runs the
/// handshake by hand. Returns the raw end and the server's peer.
pub async fn raw_client(server: Node) -> (Raw, Peer) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let inbound = tokio::spawn(async move { accept(&listener, server).await });
    let raw = raw_connect(addr).await;
    let peer = inbound.await.unwrap().unwrap();
    (raw, peer)
}

/// Connects to `addr` and runs the handshake by hand (our side speaks
/// version 12 with nonce 7).
pub async fn raw_connect(addr: SocketAddr) -> Raw {
    raw_handshake(TcpStream::connect(addr).await.unwrap()).await
}

/// As [`raw_connect`], from the loopback address `from`.
pub async fn raw_connect_from(from: [u8; 4], addr: SocketAddr) -> Raw {
    raw_handshake(idle_from(from, addr).await).await
}

/// Runs the handshake by hand on `stream`.
pub async fn raw_handshake(stream: TcpStream) -> Raw {
    raw_handshake_on(stream, NET, ServiceFlags::NONE).await
}

/// Runs the handshake by hand on `stream` on `net`, advertising
/// `services`.
pub async fn raw_handshake_on(stream: TcpStream, net: CurrencyNet, services: ServiceFlags) -> Raw {
    let mut raw = Framed::new(stream, FrameCodec::new(net, 12));
    let mut v = raw_version(12, 7);
    v.services = services;
    raw.send(&Message::Version(v)).await.unwrap();
    let first = next_message(&mut raw).await;
    assert!(matches!(first, Some(Message::Version(_))), "{first:?}");
    let second = next_message(&mut raw).await;
    assert!(matches!(second, Some(Message::VerAck(_))), "{second:?}");
    raw.send(&Message::VerAck(VerAck)).await.unwrap();
    raw
}

/// Answers a dial by hand on the accepted `stream` on `net`, advertising
/// `services`: reads the version, sends ours and a verack, reads theirs.
pub async fn raw_accept_on(stream: TcpStream, net: CurrencyNet, services: ServiceFlags) -> Raw {
    let mut raw = Framed::new(stream, FrameCodec::new(net, 12));
    let first = next_message(&mut raw).await;
    assert!(matches!(first, Some(Message::Version(_))), "{first:?}");
    let mut v = raw_version(12, 7);
    v.services = services;
    raw.send(&Message::Version(v)).await.unwrap();
    raw.send(&Message::VerAck(VerAck)).await.unwrap();
    let second = next_message(&mut raw).await;
    assert!(matches!(second, Some(Message::VerAck(_))), "{second:?}");
    raw
}

/// A raw TCP connection to a fresh listener whose accepted connection is
/// handed to an inbound peer with `server` (handshake not done).
pub async fn raw_socket(
    server: Node,
) -> (TcpStream, tokio::task::JoinHandle<Result<Peer, PeerError>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let inbound = tokio::spawn(async move { accept(&listener, server).await });
    (TcpStream::connect(addr).await.unwrap(), inbound)
}

/// Waits for `peer` to disconnect, failing the test after `limit`.
pub async fn disconnected_within(peer: &Peer, limit: Duration) -> dcr_peer::DisconnectReason {
    tokio::time::timeout(limit, peer.wait_for_disconnect())
        .await
        .expect("peer should have disconnected in time")
}

/// A transaction inventory vector numbered `n`.
pub fn iv(n: u32) -> InvVect {
    let mut h = [0u8; 32];
    h[..4].copy_from_slice(&n.to_le_bytes());
    InvVect {
        inv_type: InvType::TX,
        hash: Hash(h),
    }
}

/// An `inv` of `count` entries numbered from `first`.
pub fn inv_of(first: u32, count: u32) -> Message<'static> {
    Message::Inv(Inv {
        inv_list: (first..first + count).map(iv).collect(),
    })
}

/// A frame header for `command` announcing `len` payload bytes, with a
/// zero checksum (for remotes that never finish the payload).
pub fn announce(command: &str, len: u32) -> Vec<u8> {
    let mut name = [0u8; 12];
    name[..command.len()].copy_from_slice(command.as_bytes());
    let mut header = Vec::with_capacity(24);
    header.extend_from_slice(&NET.magic().to_le_bytes());
    header.extend_from_slice(&name);
    header.extend_from_slice(&len.to_le_bytes());
    header.extend_from_slice(&[0; 4]);
    header
}

/// A `headers` message of 2000 headers, about 360 KB: a few fill the
/// socket buffers of a remote that does not read.
pub fn big_headers() -> Message<'static> {
    Message::Headers(dcr_peer::wire::Headers {
        headers: vec![dcr_peer::wire::BlockHeader::default(); 2000],
    })
}

// ---- attackers from other address groups ----------------------------------
// 127.0.0.0/8 is all loopback on Linux, so attackers bind addresses in /16
// groups of their own (127.1.0.0/16, ...) while good clients come from
// 127.0.0.1.

/// Opens an idle connection to `to` from `from` (any loopback address).
pub async fn idle_from(from: [u8; 4], to: SocketAddr) -> TcpStream {
    let s = TcpSocket::new_v4().unwrap();
    s.bind(SocketAddr::from((from, 0))).unwrap();
    s.connect(to).await.unwrap()
}

/// The `n`th attacker address: spread over `groups` /16 groups starting at
/// 127.`first`.0.0, 200 addresses per group at most.
pub fn attacker(n: usize, first: u8, groups: usize) -> [u8; 4] {
    let group = first + (n % groups) as u8;
    let host = n / groups % 200;
    [127, group, (host / 100) as u8, (host % 100 + 1) as u8]
}

/// Asserts the server closes every connection in `socks` within `limit`.
pub async fn assert_all_closed_within(socks: &mut [TcpStream], limit: Duration) {
    let open = still_open(socks, tokio::time::Instant::now() + limit).await;
    assert_eq!(open, 0, "attackers' connections still open");
}

/// Waits until every connection in `socks` has been closed by the server
/// (end of stream or reset; what it sent before is read and dropped), at
/// most until `deadline`; returns how many are still open then.
pub async fn still_open(socks: &mut [TcpStream], deadline: tokio::time::Instant) -> usize {
    let mut open = 0;
    for s in socks.iter_mut() {
        let mut b = [0u8; 512];
        loop {
            match tokio::time::timeout_at(deadline, s.read(&mut b)).await {
                Ok(Ok(0)) | Ok(Err(_)) => break,
                Ok(Ok(_)) => continue,
                Err(_) => {
                    open += 1;
                    break;
                }
            }
        }
    }
    open
}
