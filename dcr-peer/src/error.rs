//! Why a peer failed to start, refused a message, or went away.

use std::fmt;
use std::io;

use crate::codec::CodecError;
use crate::config::ConfigError;
use crate::fsm::handshake::HandshakeError;
use crate::fsm::stall::StallError;

/// Why a peer disconnected. Recorded once, at the first cause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DisconnectReason {
    /// We asked for it ([`crate::Peer::disconnect`]).
    Requested,
    /// The remote closed the connection.
    RemoteClosed,
    /// Nothing received within the idle timeout.
    Idle,
    /// A request went unanswered past its deadline.
    Stalled(StallError),
    /// A write did not complete in time: the remote is not reading.
    WriteTimeout,
    /// The remote made us owe more pongs than the priority queue holds.
    PongFlood,
    /// The remote broke the protocol (bad frame, bad message, message out
    /// of place).
    Protocol(String),
    /// Our event consumer left its channel full past the event timeout.
    SlowConsumer,
    /// The handshake failed or timed out.
    Handshake(String),
    /// The connection failed.
    Io(String),
}

impl fmt::Display for DisconnectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DisconnectReason::Requested => f.write_str("disconnect requested"),
            DisconnectReason::RemoteClosed => f.write_str("remote closed the connection"),
            DisconnectReason::Idle => f.write_str("idle timeout"),
            DisconnectReason::Stalled(e) => write!(f, "stalled: {e}"),
            DisconnectReason::WriteTimeout => f.write_str("write timed out"),
            DisconnectReason::PongFlood => f.write_str("too many unanswered pings"),
            DisconnectReason::Protocol(e) => write!(f, "protocol violation: {e}"),
            DisconnectReason::SlowConsumer => f.write_str("event consumer too slow"),
            DisconnectReason::Handshake(e) => write!(f, "handshake failed: {e}"),
            DisconnectReason::Io(e) => write!(f, "i/o: {e}"),
        }
    }
}

/// Errors of the peer API.
#[derive(Debug, thiserror::Error)]
pub enum PeerError {
    #[error("configuration: {0}")]
    Config(#[from] ConfigError),
    #[error("handshake: {0}")]
    Handshake(#[from] HandshakeError),
    #[error("handshake did not complete within its deadline")]
    HandshakeTimeout,
    #[error("connect timed out")]
    ConnectTimeout,
    #[error("i/o: {0}")]
    Io(#[from] io::Error),
    #[error("{0}")]
    Codec(#[from] CodecError),
    #[error("proxy: {0}")]
    Proxy(String),
    #[error("cannot encode message: {0}")]
    Encode(#[from] dcr_wire::Error),
    #[error("outbound queue is full")]
    QueueFull,
    #[error("peer disconnected: {0}")]
    Disconnected(DisconnectReason),
}
