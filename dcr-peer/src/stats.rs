//! Counters a peer keeps: as the connection's task updates them
//! (`Traffic`, `PingStats`), and the snapshot the handle hands out
//! ([`PeerStats`]).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime};

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
    /// When a frame was last written and read: the task's clock reading
    /// ([`crate::sync::now`]) as [`stamp`] keeps it; 0 for never. The
    /// task has the reading at hand, so counting a frame reads no clock;
    /// the wall time is made when the stats are read ([`wall_time`]).
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

/// The instant the stamps count from: an hour before the first use (or
/// the boot, if sooner), so that a reading the task took before that
/// use still counts from it.
fn stamp_base() -> Instant {
    static BASE: OnceLock<Instant> = OnceLock::new();
    *BASE.get_or_init(|| {
        let now = crate::sync::now();
        now.checked_sub(Duration::from_secs(3600)).unwrap_or(now)
    })
}

/// `at` as a stamp: microseconds after [`stamp_base`], plus one (0 is
/// never).
fn stamp(at: Instant) -> u64 {
    at.saturating_duration_since(stamp_base()).as_micros() as u64 + 1
}

/// The wall time of stamp `s`: now on the wall clock, less how long ago
/// `s` was on the task's clock.
fn wall_time(s: u64) -> Option<SystemTime> {
    if s == 0 {
        return None;
    }
    let at = stamp_base() + Duration::from_micros(s - 1);
    let ago = crate::sync::now().saturating_duration_since(at);
    let wall = SystemTime::now();
    Some(wall.checked_sub(ago).unwrap_or(wall))
}

impl Traffic {
    /// A frame of `bytes` was read at `at` (the task's clock).
    pub(crate) fn count_read(&self, bytes: usize, at: Instant) {
        self.bytes_received
            .fetch_add(bytes as u64, Ordering::Relaxed);
        self.messages_received.fetch_add(1, Ordering::Relaxed);
        self.last_recv.store(stamp(at), Ordering::Relaxed);
    }

    /// The counters as they are now, with the ping stats `ping`.
    pub(crate) fn counters(&self, ping: &PingStats) -> PeerCounters {
        PeerCounters {
            bytes_sent: self.bytes_sent.load(Ordering::Relaxed),
            bytes_received: self.bytes_received.load(Ordering::Relaxed),
            messages_sent: self.messages_sent.load(Ordering::Relaxed),
            messages_received: self.messages_received.load(Ordering::Relaxed),
            last_send: wall_time(self.last_send.load(Ordering::Relaxed)),
            last_recv: wall_time(self.last_recv.load(Ordering::Relaxed)),
            last_ping_nonce: ping.last_ping_nonce,
            last_ping_time: ping.last_ping_time,
            ping_rtt: ping.ping_rtt,
            last_block_height: self.last_block_height.load(Ordering::Relaxed),
            wants_headers: self.wants_headers.load(Ordering::Relaxed),
        }
    }

    /// A frame of `bytes` was written at `at` (the task's clock).
    pub(crate) fn count_write(&self, bytes: usize, at: Instant) {
        self.bytes_sent.fetch_add(bytes as u64, Ordering::Relaxed);
        self.messages_sent.fetch_add(1, Ordering::Relaxed);
        self.last_send.store(stamp(at), Ordering::Relaxed);
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The times of the last frames are the wall times they were counted
    /// at, though counting reads the task's clock alone.
    #[test]
    fn last_send_and_recv_are_wall_times() {
        let t = Traffic::default();
        let none = t.counters(&PingStats::default());
        assert_eq!((none.last_send, none.last_recv), (None, None));
        let now = crate::sync::now();
        t.count_read(32, now);
        t.count_write(32, now - Duration::from_secs(5));
        let c = t.counters(&PingStats::default());
        let wall = SystemTime::now();
        let ago = |at: Option<SystemTime>| wall.duration_since(at.unwrap()).unwrap_or_default();
        assert!(
            ago(c.last_recv) < Duration::from_secs(1),
            "{:?}",
            ago(c.last_recv)
        );
        let sent = ago(c.last_send);
        assert!(
            sent >= Duration::from_millis(4_999) && sent < Duration::from_secs(6),
            "{sent:?}"
        );
        assert_eq!((c.bytes_received, c.messages_sent), (32, 1));
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
