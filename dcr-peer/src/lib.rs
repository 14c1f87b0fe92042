//! # dcr-peer
//!
//! A Decred peer on tokio, built over `dcr-wire`. Not written yet: the
//! codec, handshake and peer tasks are tracked by the peer issue. Only the
//! re-export of the wire crate exists so far.

pub use dcr_wire as wire;
