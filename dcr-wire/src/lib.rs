//! # dcr-wire
//!
//! The Decred peer-to-peer wire protocol: every message of protocol
//! versions 1 to 12, decoded with `nom` into views that borrow the input
//! (scripts, signatures, filters and mixing payloads are slices, not
//! copies) and encoded back byte for byte as dcrd's Go `wire` package
//! writes them. Verdicts on bad input follow the reference too: every
//! error has the reference's error code as its [`ErrorKind`].
//!
//! ```
//! use dcr_wire::{decode_frame, frame_to_vec, pver, CurrencyNet, Message, Ping};
//!
//! let ping = Message::Ping(Ping { nonce: 0x0123_4567_89ab_cdef });
//! let bytes = frame_to_vec(&ping, CurrencyNet::MainNet, pver::CURRENT).unwrap();
//! let (decoded, used) = decode_frame(&bytes, CurrencyNet::MainNet, pver::CURRENT).unwrap();
//! assert_eq!(decoded, ping);
//! assert_eq!(used, bytes.len());
//! ```

// Unsafe code is refused everywhere except the one audited module that calls
// CPU vector instructions (the BLAKE-256 compression in `blake`).
#![deny(unsafe_code)]
#![warn(missing_docs)]

mod blake;
pub mod error;
pub mod frame;
pub mod hash;
#[cfg(feature = "json")]
pub mod json;
pub mod merkle;
pub mod msg;
pub mod primitives;
pub mod protocol;
#[cfg(feature = "serde")]
mod serde_impls;
pub mod stream;

pub use error::{Error, ErrorKind};
pub use frame::{
    decode_frame, encode_frame, frame_to_vec, split_frame, write_frame, Frame, FrameBuf,
    FrameHeader, Split,
};
pub use hash::{blake256, checksum, Hash, Hasher, HASH_SIZE};
pub use msg::*;
pub use protocol::{
    pver, CurrencyNet, ParseNetError, ServiceFlags, COMMAND_SIZE, MAX_MESSAGE_PAYLOAD,
    MESSAGE_HEADER_SIZE,
};
pub use stream::{read_message, write_message, ReadMessage, StreamError, StreamErrorCause};
