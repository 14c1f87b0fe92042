#![doc = include_str!("../README.md")]
// `no_std` (with `alloc`) unless the default `std` feature is on; only the
// blocking stream reader and the constructors that read the clock need it.
#![cfg_attr(not(feature = "std"), no_std)]
// No unsafe code: the vectorised BLAKE-256, the one part that needs it, is
// the dcr-blake256 crate.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

/// What the standard prelude gives, from `alloc`, so every module reads
/// the same with and without `std`.
mod prelude {
    pub(crate) use alloc::borrow::ToOwned;
    pub(crate) use alloc::string::String;
    pub(crate) use alloc::vec::Vec;
    #[cfg(not(feature = "std"))]
    pub(crate) use alloc::{format, vec};
}

// Every item has one path: the modules below are private and their items
// are re-exported here by name, except the public modules `msg` (limits,
// constants and helpers of the messages), `params` (chain parameters),
// `merkle` and `primitives`.
mod error;
mod frame;
mod hash;
pub mod merkle;
pub mod msg;
pub mod params;
pub mod primitives;
mod protocol;
#[cfg(feature = "serde")]
mod serde_impls;
#[cfg(feature = "std")]
mod stream;

pub use error::{assert_read_once, ByteCount, Counted, Error, ErrorKind, Report};
pub use frame::{
    decode_frame, encode_frame, frame_to_vec, split_frame, verify_checksum, write_frame, Frame,
    FrameBuf, FrameHeader, Split,
};
pub use hash::{
    blake256, blake256_many, checksum, Hash, HashInput, Hasher, ParseHashError, HASH_SIZE,
};
pub use msg::addr::{Addr, AddrV2};
pub use msg::block::{Block, BlockTxHashes, RawTxs, TxLoc, TxTree};
pub use msg::cfilter::{
    CFHeaders, CFHeadersView, CFTypes, CFilter, CFilterV2, CFilterV2View, CFiltersV2, FilterType,
    GetCFHeaders, GetCFHeadersView, GetCFilter, GetCFilterV2, GetCFsV2,
};
pub use msg::empty::{GetAddr, GetCFTypes, GetMiningState, MemPool, SendHeaders, VerAck};
pub use msg::header::{BlockHeader, HeaderList, Headers};
pub use msg::initstate::{GetInitState, InitState, InitStateView};
pub use msg::inv::{GetData, Inv, InvList, InvType, InvVect, NotFound};
pub use msg::list::{ListIter, ListView};
pub use msg::locator::{BlockLocatorView, GetBlocks, GetHeaders};
pub use msg::mining::{MiningState, MiningStateView};
pub use msg::mix::{
    Fixed, MixCiphertexts, MixCiphertextsView, MixConfirm, MixConfirmView, MixDCNet, MixDCNetView,
    MixFactoredPoly, MixFactoredPolyView, MixKeyExchange, MixKeyExchangeView, MixMessage, MixMsg,
    MixPairReq, MixPairReqUtxo, MixPairReqView, MixSecrets, MixSecretsView, MixSlotReserve,
    MixSlotReserveView, MixVect, MixVects, SessionHeader,
};
pub use msg::netaddr::{NetAddress, NetAddressType, NetAddressV2, NetAddressV2Host};
pub use msg::reject::{Reject, RejectCode};
pub use msg::set::{Command, Message, ParseCommandError, Payload};
pub use msg::simple::{FeeFilter, Ping, Pong};
pub use msg::tx::{OutPoint, RawTx, Tx, TxHashes, TxIn, TxInputs, TxOut, TxOutputs, TxSerType};
pub use msg::version::Version;
pub use msg::view::MessageView;
pub use protocol::{
    pver, CurrencyNet, ParseNetError, ServiceFlags, COMMAND_SIZE, MAX_MESSAGE_PAYLOAD,
    MESSAGE_HEADER_SIZE,
};
#[cfg(feature = "std")]
pub use stream::{read_message, write_message, ReadMessage, StreamError, StreamErrorCause};
