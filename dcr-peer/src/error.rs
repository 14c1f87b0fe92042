//! Why a peer failed to start, refused a message, or went away.
//!
//! [`DisconnectReason`] is typed all the way down, so a caller (the
//! connection manager's ban scores, a crawler's statistics) matches on
//! kinds, never on strings; and it tells our own failures
//! ([`DisconnectReason::is_local`]) from the remote's misbehaviour
//! ([`DisconnectReason::is_misbehaviour`]), so only the remote's is ever
//! held against it.

use std::fmt;
use std::io;

use dcr_wire::Command;

use crate::codec::CodecError;
use crate::config::ConfigError;
use crate::fsm::handshake::HandshakeError;
use crate::fsm::session::{LocalFailure, ProtocolViolation, SessionError};
use crate::fsm::stall::StallError;

/// Why a peer disconnected. Recorded once, at the first cause.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DisconnectReason {
    /// We closed it ([`crate::Peer::disconnect`], or the handle's owner
    /// shut down).
    Requested,
    /// The remote closed the connection.
    RemoteClosed,
    /// The handshake machine refused the remote (wrong first message, a
    /// connection to ourselves, a version too old, the version hook's no).
    Handshake(HandshakeError),
    /// The handshake did not complete within [`crate::Config::handshake_timeout`].
    HandshakeTimeout,
    /// The remote broke the protocol.
    Protocol(ProtocolViolation),
    /// A request went unanswered past its deadline, or too many were left
    /// unanswered.
    Stalled(StallError),
    /// Nothing received within [`crate::Config::idle_timeout`].
    Idle,
    /// One message could not be written within its write deadline: the
    /// remote is not reading.
    WriteTimeout,
    /// Our event consumer left its channel full past
    /// [`crate::Config::event_timeout`].
    SlowConsumer,
    /// The connection failed with this I/O error.
    Io(io::ErrorKind),
    /// We failed: a message of ours did not encode, or output we queued
    /// passed our own bound. Never the remote's fault.
    Local(LocalFailure),
}

impl fmt::Display for DisconnectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DisconnectReason::Requested => f.write_str("disconnect requested"),
            DisconnectReason::RemoteClosed => f.write_str("remote closed the connection"),
            DisconnectReason::Handshake(e) => write!(f, "handshake failed: {e}"),
            DisconnectReason::HandshakeTimeout => f.write_str("handshake timed out"),
            DisconnectReason::Protocol(e) => write!(f, "protocol violation: {e}"),
            DisconnectReason::Stalled(e) => write!(f, "stalled: {e}"),
            DisconnectReason::Idle => f.write_str("idle timeout"),
            DisconnectReason::WriteTimeout => f.write_str("write timed out"),
            DisconnectReason::SlowConsumer => f.write_str("event consumer too slow"),
            DisconnectReason::Io(kind) => write!(f, "the connection failed ({kind})"),
            DisconnectReason::Local(failure) => write!(f, "local failure: {failure}"),
        }
    }
}

impl From<SessionError> for DisconnectReason {
    fn from(e: SessionError) -> Self {
        match e {
            SessionError::Protocol(v) => DisconnectReason::Protocol(v),
            SessionError::Stalled(e) => DisconnectReason::Stalled(e),
            SessionError::Idle => DisconnectReason::Idle,
            SessionError::WriteTimeout => DisconnectReason::WriteTimeout,
            SessionError::Local(failure) => DisconnectReason::Local(failure),
        }
    }
}

impl DisconnectReason {
    /// The reason a failed read or a refused frame gives.
    pub(crate) fn from_codec(e: CodecError, command: Option<Command>) -> Self {
        match e {
            CodecError::Io(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                DisconnectReason::RemoteClosed
            }
            CodecError::Io(e) => DisconnectReason::Io(e.kind()),
            CodecError::Wire(error) => {
                DisconnectReason::Protocol(ProtocolViolation::Undecodable { command, error })
            }
        }
    }

    /// True when the remote did something a well-behaved peer never does
    /// (the connection manager scores these).
    pub fn is_misbehaviour(&self) -> bool {
        matches!(
            self,
            DisconnectReason::Protocol(_)
                | DisconnectReason::Handshake(_)
                | DisconnectReason::Stalled(_)
        )
    }

    /// True when we ended the connection for a reason of our own: asked
    /// to, our event consumer too slow, or a [`LocalFailure`]. Never the
    /// remote's fault.
    pub fn is_local(&self) -> bool {
        matches!(
            self,
            DisconnectReason::Requested
                | DisconnectReason::SlowConsumer
                | DisconnectReason::Local(_)
        )
    }
}

/// Errors of the peer API.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PeerError {
    #[error("the configuration cannot work")]
    /// The configuration cannot work.
    Config(#[from] ConfigError),
    #[error("the handshake failed")]
    /// The version handshake failed.
    Handshake(#[from] HandshakeError),
    #[error("handshake did not complete within its deadline")]
    /// The handshake took longer than [`crate::Config::handshake_timeout`].
    HandshakeTimeout,
    #[error("connect timed out")]
    /// The TCP connection was not established in time.
    ConnectTimeout,
    #[error("the connection failed")]
    /// The socket failed.
    Io(#[from] io::Error),
    #[error(transparent)]
    /// A frame did not decode, or the connection failed while reading.
    Codec(#[from] CodecError),
    #[error(transparent)]
    /// The SOCKS5 proxy failed or refused (the error names the proxy).
    Proxy(#[from] crate::proxy::ProxyError),
    #[error("cannot encode a message")]
    /// A message could not be encoded.
    Encode(#[from] dcr_wire::Error),
    #[error("outbound queue is full")]
    /// The outbound queue holds [`crate::Config::send_queue_size`] frames.
    QueueFull,
    #[error("peer disconnected: {0}")]
    /// The peer is gone, and why.
    Disconnected(DisconnectReason),
}

impl PeerError {
    /// The disconnect reason a failed handshake records.
    pub(crate) fn to_reason(&self) -> DisconnectReason {
        match self {
            PeerError::Handshake(e) => DisconnectReason::Handshake(e.clone()),
            PeerError::HandshakeTimeout => DisconnectReason::HandshakeTimeout,
            PeerError::Io(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                DisconnectReason::RemoteClosed
            }
            PeerError::Io(e) => DisconnectReason::Io(e.kind()),
            PeerError::Codec(CodecError::Io(e)) => DisconnectReason::Io(e.kind()),
            PeerError::Codec(CodecError::Wire(e)) => {
                DisconnectReason::Protocol(ProtocolViolation::Undecodable {
                    command: None,
                    error: e.clone(),
                })
            }
            // Our own message (the version, or a handshake reply) did not
            // encode: our failure.
            PeerError::Encode(e) => DisconnectReason::Local(LocalFailure::Encode {
                command: None,
                error: e.clone(),
            }),
            PeerError::Disconnected(r) => r.clone(),
            _ => DisconnectReason::Requested,
        }
    }
}
