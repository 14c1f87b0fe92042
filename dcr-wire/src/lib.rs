#![doc = include_str!("../README.md")]
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
pub use hash::{blake256, blake256_many, checksum, Hash, HashInput, Hasher, HASH_SIZE};
#[doc(hidden)]
pub use hash::{blake256_compressions, blake256_many_kernels, blake256_many_on, blake256_on};
pub use msg::*;
pub use protocol::{
    pver, CurrencyNet, ParseNetError, ServiceFlags, COMMAND_SIZE, MAX_MESSAGE_PAYLOAD,
    MESSAGE_HEADER_SIZE,
};
pub use stream::{read_message, write_message, ReadMessage, StreamError, StreamErrorCause};
