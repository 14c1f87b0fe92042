//! Counters a peer keeps: as the connection's task updates them
//! (`Traffic`, `PingStats`), and the snapshot the handle hands out
//! ([`PeerStats`]).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use dcr_wire::ServiceFlags;

use crate::fsm::handshake::Direction;

/// What a peer's tasks count as it runs: traffic, pings and what the
/// remote told us since the handshake. Part of every [`PeerStats`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PeerCounters {
    /// Bytes written, frame headers included.
    pub bytes_sent: u64,
    /// Bytes read, frame headers included.
    pub bytes_received: u64,
    /// Messages written.
    pub messages_sent: u64,
    /// Messages read.
    pub messages_received: u64,
    /// When we last wrote a message.
    pub last_send: Option<SystemTime>,
    /// When we last read a message.
    pub last_recv: Option<SystemTime>,
    /// The nonce of the ping written last while it awaits its pong;
    /// `None` before the first ping and once it is answered (dcrd's
    /// `LastPingNonce`, 0 then). Every ping written counts, whatever sent
    /// it.
    pub last_ping_nonce: Option<u64>,
    /// When the last ping was written (kept once it is answered).
    pub last_ping_time: Option<SystemTime>,
    /// Round-trip time of the last answered ping.
    pub ping_rtt: Option<Duration>,
    /// The best height we know the remote has (starting height until
    /// updated with [`crate::Peer::update_last_block_height`]).
    pub last_block_height: i64,
    /// The remote sent `sendheaders`: announce blocks to it with headers.
    pub wants_headers: bool,
}

/// A consistent copy of a peer's state at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PeerStats {
    /// Process-unique id of this connection.
    pub id: u64,
    /// The remote's address.
    pub addr: SocketAddr,
    /// Which side opened the connection.
    pub direction: Direction,
    /// Services the remote advertised.
    pub services: ServiceFlags,
    /// The remote's user agent.
    pub user_agent: String,
    /// The negotiated protocol version.
    pub protocol_version: u32,
    /// The version the remote advertised.
    pub remote_protocol_version: u32,
    /// The remote's best height when it connected.
    pub starting_height: i64,
    /// Remote clock minus ours at the handshake, in seconds.
    pub time_offset: i64,
    /// When the connection was made.
    pub connected_at: SystemTime,
    /// Traffic, pings and heights.
    pub counters: PeerCounters,
    /// Entries in the known-inventory filter.
    pub known_inventory: usize,
    /// Frames queued and not yet written.
    pub send_queue_len: usize,
    /// Bytes of those frames (bounded by
    /// [`crate::Config::max_queued_bytes`]).
    pub queued_bytes: u64,
    /// Requests waiting for an answer (stall tracking).
    pub pending_requests: usize,
    /// False once the peer has disconnected.
    pub connected: bool,
}

/// Counters the task updates per message, read by
/// [`Peer::stats`](crate::Peer::stats).
#[derive(Debug, Default)]
pub(crate) struct Traffic {
    pub bytes_sent: AtomicU64,
    pub bytes_received: AtomicU64,
    pub messages_sent: AtomicU64,
    pub messages_received: AtomicU64,
    /// Microseconds since the Unix epoch; 0 for never.
    pub last_send: AtomicU64,
    pub last_recv: AtomicU64,
    pub last_block_height: AtomicI64,
    pub pending_requests: AtomicUsize,
    pub wants_headers: AtomicBool,
}

/// What changes rarely (once per ping): published by the task under a
/// lock no message waits on.
#[derive(Debug, Default, Clone)]
pub(crate) struct PingStats {
    pub last_ping_nonce: Option<u64>,
    pub last_ping_time: Option<SystemTime>,
    pub ping_rtt: Option<Duration>,
}

fn micros(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

fn from_micros(us: u64) -> Option<SystemTime> {
    (us != 0).then(|| SystemTime::UNIX_EPOCH + Duration::from_micros(us))
}

impl Traffic {
    /// A frame of `bytes` was read.
    pub(crate) fn count_read(&self, bytes: usize) {
        self.bytes_received
            .fetch_add(bytes as u64, Ordering::Relaxed);
        self.messages_received.fetch_add(1, Ordering::Relaxed);
        self.last_recv
            .store(micros(SystemTime::now()), Ordering::Relaxed);
    }

    /// The counters as they are now, with the ping stats `ping`.
    pub(crate) fn counters(&self, ping: &PingStats) -> PeerCounters {
        PeerCounters {
            bytes_sent: self.bytes_sent.load(Ordering::Relaxed),
            bytes_received: self.bytes_received.load(Ordering::Relaxed),
            messages_sent: self.messages_sent.load(Ordering::Relaxed),
            messages_received: self.messages_received.load(Ordering::Relaxed),
            last_send: from_micros(self.last_send.load(Ordering::Relaxed)),
            last_recv: from_micros(self.last_recv.load(Ordering::Relaxed)),
            last_ping_nonce: ping.last_ping_nonce,
            last_ping_time: ping.last_ping_time,
            ping_rtt: ping.ping_rtt,
            last_block_height: self.last_block_height.load(Ordering::Relaxed),
            wants_headers: self.wants_headers.load(Ordering::Relaxed),
        }
    }

    /// A frame of `bytes` was written.
    pub(crate) fn count_write(&self, bytes: usize) {
        self.bytes_sent.fetch_add(bytes as u64, Ordering::Relaxed);
        self.messages_sent.fetch_add(1, Ordering::Relaxed);
        self.last_send
            .store(micros(SystemTime::now()), Ordering::Relaxed);
    }
}

/// `Direction` by the names of its variants, as a derive would give it
/// (the type lives in the I/O-free `fsm`, which knows nothing of serde).
#[cfg(feature = "serde")]
mod direction_serde {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use crate::fsm::handshake::Direction;

    #[derive(Serialize, Deserialize)]
    #[serde(remote = "Direction")]
    enum DirectionDef {
        Inbound,
        Outbound,
    }

    impl Serialize for Direction {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            DirectionDef::serialize(self, s)
        }
    }

    impl<'de> Deserialize<'de> for Direction {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            DirectionDef::deserialize(d)
        }
    }
}

#[cfg(all(test, feature = "serde"))]
mod serde_tests {
    use std::time::{Duration, SystemTime};

    use dcr_wire::ServiceFlags;

    use super::{PeerCounters, PeerStats};
    use crate::Direction;

    #[test]
    fn stats_round_trip_through_json() {
        let at = SystemTime::UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
        let stats = PeerStats {
            id: 7,
            addr: "127.0.0.1:9108".parse().unwrap(),
            direction: Direction::Outbound,
            services: ServiceFlags::NODE_NETWORK,
            user_agent: "/dcrwire:1.0.0/".into(),
            protocol_version: 12,
            remote_protocol_version: 11,
            starting_height: 100,
            time_offset: -2,
            connected_at: at,
            counters: PeerCounters {
                bytes_sent: 10,
                messages_sent: 1,
                last_send: Some(at),
                ping_rtt: Some(Duration::from_micros(250)),
                last_block_height: 101,
                ..PeerCounters::default()
            },
            known_inventory: 3,
            send_queue_len: 0,
            queued_bytes: 0,
            pending_requests: 1,
            connected: true,
        };
        let json = serde_json::to_value(&stats).unwrap();
        assert_eq!(json["addr"], "127.0.0.1:9108");
        assert_eq!(json["direction"], "Outbound");
        assert_eq!(json["services"], 1);
        assert_eq!(json["counters"]["last_block_height"], 101);
        let back: PeerStats = serde_json::from_value(json).unwrap();
        assert_eq!(back, stats);
    }
}
