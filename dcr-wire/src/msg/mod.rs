//! Every message of the Decred wire protocol, one module per message family,
//! each with the same verbs (the [`Payload`] trait): decode, encode, exact
//! serialized size, command, and maximum payload at a protocol version.

use std::fmt;

use bytes::BufMut;

use crate::error::Error;
use crate::primitives::{expect_end, PResult};

pub mod addr;
pub mod block;
pub mod cfilter;
pub mod empty;
pub mod header;
pub mod initstate;
pub mod inv;
pub mod locator;
pub mod mining;
pub mod mix;
pub mod netaddr;
pub mod reject;
pub mod simple;
pub mod tx;
pub mod version;

pub use addr::{Addr, AddrV2};
pub use block::{Block, BlockTxHashes, RawTxs, TxLoc, TxTree};
pub use cfilter::{
    CFHeaders, CFTypes, CFilter, CFilterV2, CFiltersV2, FilterType, GetCFHeaders, GetCFilter,
    GetCFilterV2, GetCFsV2,
};
pub use empty::{GetAddr, GetCFTypes, GetMiningState, MemPool, SendHeaders, VerAck};
pub use header::{BlockHeader, Headers};
pub use initstate::{GetInitState, InitState};
pub use inv::{GetData, Inv, InvType, InvVect, NotFound};
pub use locator::{GetBlocks, GetHeaders};
pub use mining::MiningState;
pub use mix::{
    MixCiphertexts, MixConfirm, MixDCNet, MixFactoredPoly, MixKeyExchange, MixMessage, MixPairReq,
    MixPairReqUtxo, MixSecrets, MixSlotReserve, MixVect, MixVects,
};
pub use netaddr::{NetAddress, NetAddressType, NetAddressV2, NetAddressV2Host};
pub use reject::{Reject, RejectCode};
pub use simple::{FeeFilter, Ping, Pong};
pub use tx::{
    prefix_hashes_many, tx_hashes_many, OutPoint, RawTx, Tx, TxHashes, TxIn, TxOut, TxSerType,
};
pub use version::Version;

/// The verbs every message has. `'a` is the lifetime of the bytes a decoded
/// message borrows from; [`Payload::Owned`] is the same message detached
/// from them.
pub trait Payload<'a>: Sized + Clone + PartialEq + fmt::Debug {
    /// The message's command.
    const COMMAND: Command;

    /// The same message with every borrowed field owned.
    type Owned: Payload<'static>;

    /// Parses the payload at protocol version `pver`, borrowing byte fields
    /// from `input`. Returns what follows the message (the caller decides
    /// whether leftovers are an error; [`Message::decode`] says they are).
    fn decode(input: &'a [u8], pver: u32) -> PResult<'a, Self>;

    /// Writes the payload for protocol version `pver`. Every check (fields
    /// valid at this version, counts within limits) runs before the first
    /// byte is written, so on error `buf` is unchanged.
    fn encode<B: BufMut>(&self, buf: &mut B, pver: u32) -> Result<(), Error>;

    /// The exact number of bytes [`Payload::encode`] writes at `pver`.
    fn serialized_size(&self, pver: u32) -> usize;

    /// The largest payload this message may have at `pver` (0 where the
    /// message does not exist at that version and the reference says so).
    fn max_payload_length(pver: u32) -> u32;

    /// Copies every borrowed field so the message outlives its input.
    fn into_owned(self) -> Self::Owned;

    /// The message's fields as the reference's decoded Go struct renders
    /// them: Go field names, hashes in display order, byte fields as hex.
    #[cfg(feature = "json")]
    fn to_json(&self) -> serde_json::Value;
}

/// The one protocol-version gate: `command` exists from `since` on, and
/// both decoding and encoding it below that answer ErrMsgInvalidForPVer.
pub(crate) fn require_pver(command: Command, pver: u32, since: u32) -> Result<(), Error> {
    if pver < since {
        return Err(Error::InvalidForVersion {
            command: command.as_str(),
            pver,
        });
    }
    Ok(())
}

/// Declares the message set once: the `Command` enum, the `Message` enum
/// and their dispatch all come from this one list.
macro_rules! messages {
    ($( $variant:ident ($ty:ty) = $cmd:literal, )*) => {
        /// A message command, as carried in the 12-byte command field.
        ///
        /// Non-exhaustive: a future protocol version may add commands.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum Command {
            $(
                #[doc = concat!("`", $cmd, "`.")]
                $variant,
            )*
        }

        impl Command {
            /// Every command the protocol has ever had.
            pub const ALL: &'static [Command] = &[ $( Command::$variant, )* ];

            /// The command string (`"version"`, `"getcfsv2"`, ...).
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( Command::$variant => $cmd, )*
                }
            }

            /// Looks up a command string (without NUL padding).
            pub fn from_name(name: &[u8]) -> Option<Command> {
                match name {
                    $( n if n == $cmd.as_bytes() => Some(Command::$variant), )*
                    _ => None,
                }
            }

            /// The largest payload the message may carry at `pver`.
            pub fn max_payload_length(self, pver: u32) -> u32 {
                #[allow(clippy::extra_unused_lifetimes)]
                fn dispatch<'a>(c: Command, pver: u32) -> u32 {
                    match c {
                        $( Command::$variant => <$ty as Payload<'a>>::max_payload_length(pver), )*
                    }
                }
                dispatch(self, pver)
            }
        }

        /// Any message, borrowing its byte fields from the input it was
        /// decoded from (`Message<'static>` owns them).
        ///
        /// Non-exhaustive: a future protocol version may add messages, so a
        /// `match` outside this crate needs a `_` arm.
        #[derive(Debug, Clone, PartialEq)]
        #[non_exhaustive]
        pub enum Message<'a> {
            $(
                #[doc = concat!("A `", $cmd, "` message.")]
                $variant($ty),
            )*
        }

        impl<'a> Message<'a> {
            /// The message's command.
            pub fn command(&self) -> Command {
                match self {
                    $( Message::$variant(_) => Command::$variant, )*
                }
            }

            /// Decodes a complete payload of `command` at `pver`; bytes left
            /// over after the message are an error (ErrTrailingBytes).
            pub fn decode(command: Command, payload: &'a [u8], pver: u32) -> Result<Message<'a>, Error> {
                match command {
                    $( Command::$variant => {
                        let (rest, m) = <$ty as Payload<'a>>::decode(payload, pver)?;
                        expect_end(rest)?;
                        Ok(Message::$variant(m))
                    } )*
                }
            }

            /// Writes the payload (not the frame) at `pver`.
            pub fn encode<B: BufMut>(&self, buf: &mut B, pver: u32) -> Result<(), Error> {
                match self {
                    $( Message::$variant(m) => m.encode(buf, pver), )*
                }
            }

            /// The exact payload size at `pver`.
            pub fn serialized_size(&self, pver: u32) -> usize {
                match self {
                    $( Message::$variant(m) => m.serialized_size(pver), )*
                }
            }

            /// Detaches the message from its input.
            pub fn into_owned(self) -> Message<'static> {
                match self {
                    $( Message::$variant(m) => Message::$variant(m.into_owned()), )*
                }
            }

            /// The fields in the reference's JSON layout.
            #[cfg(feature = "json")]
            pub fn to_json(&self) -> serde_json::Value {
                match self {
                    $( Message::$variant(m) => m.to_json(), )*
                }
            }
        }

        $(
            impl<'a> From<$ty> for Message<'a> {
                fn from(m: $ty) -> Self {
                    Message::$variant(m)
                }
            }
        )*
    };
}

messages! {
    Version(Version<'a>) = "version",
    VerAck(VerAck) = "verack",
    GetAddr(GetAddr) = "getaddr",
    Addr(Addr) = "addr",
    AddrV2(AddrV2) = "addrv2",
    GetBlocks(GetBlocks) = "getblocks",
    Inv(Inv) = "inv",
    GetData(GetData) = "getdata",
    NotFound(NotFound) = "notfound",
    Block(Block<'a>) = "block",
    Tx(Tx<'a>) = "tx",
    GetHeaders(GetHeaders) = "getheaders",
    Headers(Headers) = "headers",
    Ping(Ping) = "ping",
    Pong(Pong) = "pong",
    MemPool(MemPool) = "mempool",
    MiningState(MiningState) = "miningstate",
    GetMiningState(GetMiningState) = "getminings",
    Reject(Reject<'a>) = "reject",
    SendHeaders(SendHeaders) = "sendheaders",
    FeeFilter(FeeFilter) = "feefilter",
    GetCFilter(GetCFilter) = "getcfilter",
    GetCFHeaders(GetCFHeaders) = "getcfheaders",
    GetCFTypes(GetCFTypes) = "getcftypes",
    CFilter(CFilter<'a>) = "cfilter",
    CFHeaders(CFHeaders) = "cfheaders",
    CFTypes(CFTypes<'a>) = "cftypes",
    GetCFilterV2(GetCFilterV2) = "getcfilterv2",
    CFilterV2(CFilterV2<'a>) = "cfilterv2",
    GetCFsV2(GetCFsV2) = "getcfsv2",
    CFiltersV2(CFiltersV2<'a>) = "cfiltersv2",
    GetInitState(GetInitState<'a>) = "getinitstate",
    InitState(InitState) = "initstate",
    MixPairReq(MixPairReq<'a>) = "mixpairreq",
    MixKeyExchange(MixKeyExchange<'a>) = "mixkeyxchg",
    MixCiphertexts(MixCiphertexts<'a>) = "mixcphrtxt",
    MixSlotReserve(MixSlotReserve<'a>) = "mixslotres",
    MixFactoredPoly(MixFactoredPoly<'a>) = "mixfactpoly",
    MixDCNet(MixDCNet<'a>) = "mixdcnet",
    MixConfirm(MixConfirm<'a>) = "mixconfirm",
    MixSecrets(MixSecrets<'a>) = "mixsecrets",
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A command string no message has.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown command {0:?}")]
pub struct ParseCommandError(pub String);

/// Parses the command string exactly as it travels (`"getheaders"`, not
/// `"GetHeaders"`), as [`Command::from_name`].
impl std::str::FromStr for Command {
    type Err = ParseCommandError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Command::from_name(s.as_bytes()).ok_or_else(|| ParseCommandError(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_fit_and_round_trip() {
        assert_eq!(Command::ALL.len(), 41);
        for &c in Command::ALL {
            assert!(c.as_str().len() <= crate::protocol::COMMAND_SIZE);
            assert_eq!(Command::from_name(c.as_str().as_bytes()), Some(c));
        }
        assert_eq!(Command::from_name(b"nope"), None);
        for &c in Command::ALL {
            assert_eq!(c.as_str().parse::<Command>(), Ok(c));
        }
        assert_eq!(
            "Ping".parse::<Command>(),
            Err(ParseCommandError("Ping".into()))
        );
    }
}
