//! The message set: the [`Payload`] trait every message implements (decode,
//! encode, exact serialized size, command, and maximum payload at a
//! protocol version), the one protocol-version gate, and the `messages!`
//! list from which [`Command`], [`Message`], their dispatch and
//! [`for_each_message!`](crate::for_each_message) are generated.

#[allow(unused_imports)]
use crate::prelude::*;
use core::fmt;

use bytes::BufMut;

use super::addr::{Addr, AddrV2};
use super::block::Block;
use super::cfilter::{
    CFHeaders, CFTypes, CFilter, CFilterV2, CFiltersV2, GetCFHeaders, GetCFilter, GetCFilterV2,
    GetCFsV2,
};
use super::empty::{GetAddr, GetCFTypes, GetMiningState, MemPool, SendHeaders, VerAck};
use super::header::Headers;
use super::initstate::{GetInitState, InitState};
use super::inv::{GetData, Inv, NotFound};
use super::locator::{GetBlocks, GetHeaders};
use super::mining::MiningState;
use super::mix::{
    MixCiphertexts, MixConfirm, MixDCNet, MixFactoredPoly, MixKeyExchange, MixPairReq, MixSecrets,
    MixSlotReserve,
};
use super::reject::Reject;
use super::simple::{FeeFilter, Ping, Pong};
use super::tx::Tx;
use super::version::Version;
use crate::error::Error;
use crate::primitives::{expect_end, PResult};
use crate::protocol::pver;

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
}

/// The one protocol-version gate: `command` exists at `pver` when
/// [`Command::is_valid_at`] says so (the range in the `messages!` list);
/// elsewhere both decoding and encoding it answer ErrMsgInvalidForPVer.
/// Every message's `decode` and `encode` start with it.
#[inline]
pub(crate) fn require_pver(command: Command, pver: u32) -> Result<(), Error> {
    if !command.is_valid_at(pver) {
        return Err(Error::InvalidForVersion {
            command: command.as_str(),
            pver,
        });
    }
    Ok(())
}

/// Declares the message set once: the `Command` enum, the `Message` enum,
/// their dispatch, the protocol versions each message exists at, and the
/// exported [`for_each_message!`](crate::for_each_message) all come from
/// this one list. Each entry is `Variant(Type) = "command", versions,
/// handler;`: `versions` is the range of protocol versions at which the
/// reference decodes and encodes the message (`..` for all), `handler` the
/// conventional name of a callback for it (the reference's
/// `MessageListeners` field, in snake case).
///
/// The leading `$` is passed in so the exported macro can have
/// metavariables of its own.
macro_rules! messages {
    ($d:tt $( $variant:ident ($name:ident $(<$lt:lifetime>)?) = $cmd:literal, $versions:expr, $handler:ident; )*) => {
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

            /// Whether the message exists at protocol version `pver`: the
            /// reference decodes and encodes it there. Elsewhere both
            /// answer ErrMsgInvalidForPVer.
            pub fn is_valid_at(self, pver: u32) -> bool {
                use core::ops::RangeBounds;
                match self {
                    $( Command::$variant => ($versions).contains(&pver), )*
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
                        $( Command::$variant => <$name $(<$lt>)? as Payload<'a>>::max_payload_length(pver), )*
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
        ///
        /// With the `serde` feature a message travels as its command and its
        /// fields, the layout `dcrpeer decode` prints and the shared corpus
        /// holds: `{"command": "ping", "fields": {"Nonce": 7}}`.
        #[derive(Debug, Clone, PartialEq)]
        #[cfg_attr(feature = "serde", derive(serde::Serialize))]
        #[cfg_attr(feature = "serde", serde(tag = "command", content = "fields"))]
        #[non_exhaustive]
        pub enum Message<'a> {
            $(
                #[doc = concat!("A `", $cmd, "` message.")]
                #[cfg_attr(feature = "serde", serde(rename = $cmd))]
                $variant($name $(<$lt>)?),
            )*
        }

        /// What [`Message`]'s `Deserialize` reads before it names the
        /// field of an error.
        #[cfg(feature = "serde")]
        #[derive(serde::Deserialize)]
        #[serde(tag = "command", content = "fields", deny_unknown_fields)]
        enum Tagged<'a> {
            $(
                #[serde(rename = $cmd)]
                $variant($name $(<$lt>)?),
            )*
        }

        /// Reads `{"command": ..., "fields": {...}}`. Every field is
        /// required, unknown fields are refused, and an error names the
        /// field it is about by its path (`fields.Nonce: ...`). Byte fields
        /// come back owned. Whether the message exists at a protocol
        /// version is for [`Message::encode`] to say.
        #[cfg(feature = "serde")]
        impl<'de> serde::Deserialize<'de> for Message<'_> {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let tagged: Tagged<'_> = serde_path_to_error::deserialize(d)
                    .map_err(crate::serde_impls::with_path)?;
                Ok(match tagged {
                    $( Tagged::$variant(m) => Message::$variant(m), )*
                })
            }
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
                        let (rest, m) = <$name $(<$lt>)? as Payload<'a>>::decode(payload, pver)
                            .map_err(|e| e.while_reading(concat!("a `", $cmd, "` message")))?;
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
        }

        /// Calls the macro named `callback` with the list of every message,
        /// in the order of [`Command::ALL`], so code outside this crate
        /// (a listener trait, a dispatcher) need not repeat it. Each entry
        /// is
        ///
        /// ```text
        /// Variant(Type) = "command", handler;
        /// ```
        ///
        /// where `Type` is the message's type as named in this crate
        /// (`Block<'a>` for one that borrows its input, `Ping` otherwise),
        /// and `handler` the conventional name of a callback for it, the
        /// reference's `MessageListeners` field in snake case
        /// (`on_get_headers`).
        ///
        /// ```
        /// macro_rules! commands {
        ///     ($($variant:ident($($ty:tt)*) = $cmd:literal, $handler:ident;)*) => {
        ///         [$($cmd),*]
        ///     };
        /// }
        /// let all: &[&str] = &dcr_wire::for_each_message!(commands);
        /// assert_eq!(all.len(), dcr_wire::Command::ALL.len());
        /// assert_eq!(all[0], "version");
        /// ```
        #[macro_export]
        macro_rules! for_each_message {
            ($d callback:ident) => {
                $d callback! { $( $variant($name $(<$lt>)?) = $cmd, $handler; )* }
            };
        }

        $(
            impl<'a> From<$name $(<$lt>)?> for Message<'a> {
                fn from(m: $name $(<$lt>)?) -> Self {
                    Message::$variant(m)
                }
            }
        )*
    };
}

messages! { $
    Version(Version<'a>) = "version", .., on_version;
    VerAck(VerAck) = "verack", pver::INITIAL.., on_verack;
    GetAddr(GetAddr) = "getaddr", pver::INITIAL.., on_get_addr;
    Addr(Addr) = "addr", ..pver::ADDR_V2, on_addr;
    AddrV2(AddrV2) = "addrv2", pver::ADDR_V2.., on_addr_v2;
    GetBlocks(GetBlocks) = "getblocks", .., on_get_blocks;
    Inv(Inv) = "inv", .., on_inv;
    GetData(GetData) = "getdata", .., on_get_data;
    NotFound(NotFound) = "notfound", .., on_not_found;
    Block(Block<'a>) = "block", .., on_block;
    Tx(Tx<'a>) = "tx", .., on_tx;
    GetHeaders(GetHeaders) = "getheaders", .., on_get_headers;
    Headers(Headers) = "headers", .., on_headers;
    Ping(Ping) = "ping", .., on_ping;
    Pong(Pong) = "pong", .., on_pong;
    MemPool(MemPool) = "mempool", pver::INITIAL.., on_mem_pool;
    MiningState(MiningState) = "miningstate", .., on_mining_state;
    GetMiningState(GetMiningState) = "getminings", pver::INITIAL.., on_get_mining_state;
    Reject(Reject<'a>) = "reject", ..pver::REMOVE_REJECT, on_reject;
    SendHeaders(SendHeaders) = "sendheaders", pver::SEND_HEADERS.., on_send_headers;
    FeeFilter(FeeFilter) = "feefilter", pver::FEE_FILTER.., on_fee_filter;
    GetCFilter(GetCFilter) = "getcfilter", pver::NODE_CF.., on_get_cfilter;
    GetCFHeaders(GetCFHeaders) = "getcfheaders", pver::NODE_CF.., on_get_cf_headers;
    GetCFTypes(GetCFTypes) = "getcftypes", pver::NODE_CF.., on_get_cf_types;
    CFilter(CFilter<'a>) = "cfilter", pver::NODE_CF.., on_cfilter;
    CFHeaders(CFHeaders) = "cfheaders", pver::NODE_CF.., on_cf_headers;
    CFTypes(CFTypes<'a>) = "cftypes", pver::NODE_CF.., on_cf_types;
    GetCFilterV2(GetCFilterV2) = "getcfilterv2", pver::CFILTER_V2.., on_get_cfilter_v2;
    CFilterV2(CFilterV2<'a>) = "cfilterv2", pver::CFILTER_V2.., on_cfilter_v2;
    GetCFsV2(GetCFsV2) = "getcfsv2", pver::BATCHED_CFILTERS_V2.., on_get_cfs_v2;
    CFiltersV2(CFiltersV2<'a>) = "cfiltersv2", pver::BATCHED_CFILTERS_V2.., on_cfilters_v2;
    GetInitState(GetInitState<'a>) = "getinitstate", pver::INIT_STATE.., on_get_init_state;
    InitState(InitState) = "initstate", pver::INIT_STATE.., on_init_state;
    MixPairReq(MixPairReq<'a>) = "mixpairreq", pver::MIX.., on_mix_pair_req;
    MixKeyExchange(MixKeyExchange<'a>) = "mixkeyxchg", pver::MIX.., on_mix_key_exchange;
    MixCiphertexts(MixCiphertexts<'a>) = "mixcphrtxt", pver::MIX.., on_mix_ciphertexts;
    MixSlotReserve(MixSlotReserve<'a>) = "mixslotres", pver::MIX.., on_mix_slot_reserve;
    MixFactoredPoly(MixFactoredPoly<'a>) = "mixfactpoly", pver::MIX.., on_mix_factored_poly;
    MixDCNet(MixDCNet<'a>) = "mixdcnet", pver::MIX.., on_mix_dc_net;
    MixConfirm(MixConfirm<'a>) = "mixconfirm", pver::MIX.., on_mix_confirm;
    MixSecrets(MixSecrets<'a>) = "mixsecrets", pver::MIX.., on_mix_secrets;
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
impl core::str::FromStr for Command {
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

    #[test]
    fn the_gate_refuses_both_ways_where_a_message_does_not_exist() {
        // Messages with no payload check nothing but the gate: at every
        // version they decode exactly where `is_valid_at` says so.
        for c in [
            Command::VerAck,
            Command::SendHeaders,
            Command::GetCFTypes,
            Command::GetMiningState,
        ] {
            for p in 0..=pver::CURRENT + 1 {
                let got = Message::decode(c, &[], p);
                assert_eq!(got.is_ok(), c.is_valid_at(p), "{c} at {p}");
                if let Err(e) = got {
                    assert_eq!(
                        e,
                        Error::InvalidForVersion {
                            command: c.as_str(),
                            pver: p
                        }
                    );
                }
            }
        }
        // Both directions, messages that went away and came in.
        let addr = Message::Addr(crate::Addr::default());
        let reject = Message::Reject(crate::Reject {
            cmd: "tx".into(),
            code: crate::RejectCode(1),
            reason: "".into(),
            hash: crate::Hash::ZERO,
        });
        let fee = Message::FeeFilter(crate::FeeFilter { min_fee: 1 });
        for (m, valid) in [
            (&addr, pver::INITIAL..pver::ADDR_V2),
            (&reject, pver::INITIAL..pver::REMOVE_REJECT),
            (&fee, pver::FEE_FILTER..pver::CURRENT + 1),
        ] {
            for p in pver::INITIAL..=pver::CURRENT {
                let mut out = Vec::new();
                let e = m.encode(&mut out, p);
                assert_eq!(valid.contains(&p), m.command().is_valid_at(p));
                assert_eq!(e.is_ok(), valid.contains(&p), "{} at {p}", m.command());
                if e.is_err() {
                    assert!(out.is_empty());
                }
            }
        }
        // Messages that exist everywhere exist at version 0 too, as in the
        // reference, which checks no version for them.
        assert!(Command::Ping.is_valid_at(0));
        assert!(!Command::VerAck.is_valid_at(0));
    }

    #[test]
    fn for_each_message_hands_out_the_list() {
        macro_rules! entries {
            ($($variant:ident($name:ident $(<$lt:lifetime>)?) = $cmd:literal, $handler:ident;)*) => {
                [$((Command::$variant, $cmd, stringify!($handler), stringify!($name))),*]
            };
        }
        let all = for_each_message!(entries);
        assert_eq!(all.len(), Command::ALL.len());
        for ((c, cmd, handler, name), want) in all.iter().zip(Command::ALL) {
            assert_eq!(c, want);
            assert_eq!(c.as_str(), *cmd);
            assert!(handler.starts_with("on_"), "{handler}");
            // The handler is the variant in snake case.
            let snake: String = handler[3..].split('_').collect();
            assert_eq!(snake, name.to_ascii_lowercase(), "{handler}");
            assert_eq!(format!("{c:?}"), *name);
        }
    }
}
