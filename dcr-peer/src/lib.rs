//! # dcr-peer
//!
//! A Decred peer on tokio, built over `dcr-wire`. So far: the frame codec
//! ([`codec::FrameCodec`]) that turns a socket into a stream of checksummed
//! frames and a sink for messages. The handshake, peer tasks and connection
//! manager are tracked by the peer issue.

pub mod codec;
pub mod fsm;

pub use codec::{CodecError, FrameCodec, RawFrame};
pub use dcr_wire as wire;
