#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod admission;
pub mod capture;
pub mod codec;
pub mod config;
pub mod connmgr;
pub mod error;
pub mod fsm;
pub mod listeners;
pub mod net;
mod peer;
pub mod proxy;
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
