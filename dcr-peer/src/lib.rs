#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod accept;
pub mod addrmgr;
pub mod admission;
pub mod capture;
pub mod codec;
pub mod config;
pub mod connmgr;
pub mod error;
pub mod fsm;
pub mod hooks;
pub mod listeners;
pub mod net;
mod nonces;
mod peer;
pub mod peerset;
pub mod proxy;
#[cfg(test)]
mod reads_once;
pub mod request;
mod send_buffers;
pub mod stats;
mod sync;

pub use codec::{CodecError, FrameCodec, RawFrame};
pub use config::{Config, ConfigError};
pub use dcr_wire as wire;
pub use error::{DisconnectReason, PeerError};
pub use fsm::handshake::{Direction, HandshakeError, Refusal, RemoteVersion};
pub use fsm::session::{LocalFailure, ProtocolViolation};
pub use fsm::stall::StallError;
pub use hooks::Hooks;
pub use listeners::{Listeners, NoListeners, PeerEvent, PeerEvents, SentFrame};
pub use nonces::RecentNonces;
pub use peer::Peer;
pub use peerset::{Answer, HeadOfLine, PeerSet, PeerSetConfig, PeerSetError, SWAPPED_KEPT};
pub use request::{DataItem, Request, RequestError, Response, Unsupported};
pub use stats::{PeerCounters, PeerStats};
