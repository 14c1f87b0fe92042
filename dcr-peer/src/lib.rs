//! # dcr-peer
//!
//! A Decred peer on tokio, built over `dcr-wire`, behaving on the wire as
//! dcrd's `peer` package does.
//!
//! - [`codec::FrameCodec`]: a `tokio_util` codec turning a socket into a
//!   stream of checksummed frames (payloads are `Bytes`, decoded without
//!   copying) and a sink for messages, with a bounded read buffer.
//! - [`Peer`]: one connection after the version handshake, with an outbound
//!   queue (priority for pings and pongs, backpressure, send
//!   notifications), inventory trickling with a known-inventory filter,
//!   ping keep-alive, idle and stall detection, listeners for every message
//!   ([`Listeners`]), stats snapshots and push helpers.
//! - [`net`]: dialing (directly or through a SOCKS5 proxy) and accepting.
//! - [`fsm`]: the protocol rules as plain state machines, driven by events
//!   and a clock, which the peer's one task per connection only feeds.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod codec;
pub mod config;
pub mod connmgr;
pub mod error;
pub mod fsm;
pub mod listeners;
pub mod net;
mod peer;
pub mod stats;
mod sync;

pub use codec::{CodecError, FrameCodec, RawFrame};
pub use config::{Config, ConfigError};
pub use dcr_wire as wire;
pub use error::{DisconnectReason, PeerError, ProtocolViolation};
pub use fsm::handshake::{Direction, HandshakeError, RecentNonces, RemoteVersion};
pub use fsm::stall::StallError;
pub use listeners::{Listeners, NoListeners, PeerEvent, PeerEvents, SentFrame};
pub use peer::Peer;
pub use stats::{PeerCounters, PeerStats};
