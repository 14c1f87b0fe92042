//! The one error type of the crate.
//!
//! Every failure maps to an [`ErrorKind`] named after the reference's error
//! code (dcrd `wire.ErrorCode`), so callers (and the conformance tests) can
//! compare verdicts with the Go implementation kind for kind. Input that ends
//! early is a single kind, [`ErrorKind::UnexpectedEof`], covering both of the
//! reference's `io.EOF` and `io.ErrUnexpectedEOF`.

#[allow(unused_imports)]
use crate::prelude::*;
use core::fmt;

/// The kind of a wire error, one per reference error code plus
/// [`ErrorKind::UnexpectedEof`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Input ended before a field was complete (`EOF` / `ErrUnexpectedEOF`).
    UnexpectedEof,
    /// A var-int used a longer encoding than its value needs.
    NonCanonicalVarInt,
    /// A variable-length string is longer than its field allows.
    VarStringTooLong,
    /// A variable-length byte array is longer than its field allows.
    VarBytesTooLong,
    /// A command string does not fit the 12-byte command field.
    CmdTooLong,
    /// A payload exceeds 32 MiB or its message's maximum.
    PayloadTooLarge,
    /// The frame's magic belongs to another network.
    WrongNetwork,
    /// The command field is not printable ASCII followed by NUL padding.
    MalformedCmd,
    /// The command is not one the protocol has.
    UnknownCmd,
    /// The payload does not match the checksum in its header.
    PayloadChecksum,
    /// Bytes remain after a complete payload.
    TrailingBytes,
    /// More addresses than an address message may carry.
    TooManyAddrs,
    /// More transactions than a block may carry.
    TooManyTxs,
    /// The message (or a field of it) does not exist at the protocol version.
    MsgInvalidForPVer,
    /// A committed filter larger than allowed.
    FilterTooLarge,
    /// More filter inclusion proof hashes than allowed.
    TooManyProofs,
    /// More filter types than a `cftypes` message may list.
    TooManyFilterTypes,
    /// More block locator hashes than allowed.
    TooManyLocators,
    /// More inventory vectors than an inventory message may carry.
    TooManyVectors,
    /// More block headers than a `headers` message may carry.
    TooManyHeaders,
    /// A header in a `headers` message claims transactions.
    HeaderContainsTxs,
    /// More votes than a mining state may list.
    TooManyVotes,
    /// More block hashes than a mining state may list.
    TooManyBlocks,
    /// A transaction's witness count differs from its input count.
    MismatchedWitnessCount,
    /// A transaction serialization type the protocol does not define.
    UnknownTxType,
    /// A prefix was read from a witness-only transaction.
    ReadInPrefixFromWitnessOnlyTx,
    /// A message breaks a rule that has no more specific code.
    InvalidMsg,
    /// A user agent longer than the version message allows.
    UserAgentTooLong,
    /// More filter headers than a `cfheaders` message may carry.
    TooManyFilterHeaders,
    /// A string that must be printable ASCII is not.
    MalformedStrictString,
    /// More initial state types than a `getinitstate` may ask for.
    TooManyInitStateTypes,
    /// An initial state type string longer than allowed.
    InitStateTypeTooLong,
    /// More treasury spends than an initial state may carry.
    TooManyTSpends,
    /// More mixing pair requests than allowed.
    TooManyManyMixPairReqs,
    /// A mixing pair request's script class longer than allowed.
    MixPairReqScriptClassTooLong,
    /// More unspent outputs in a mixing pair request than allowed.
    TooManyMixPairReqUTXOs,
    /// More previous mixing message hashes than allowed.
    TooManyPrevMixMsgs,
    /// More committed filters than a `cfiltersv2` message may carry.
    TooManyCFilters,
    /// Fewer addresses than the message requires (an empty `addrv2`).
    TooFewAddrs,
    /// An `addrv2` address type the protocol does not define.
    UnknownNetAddrType,
    /// A timestamp the reference cannot represent as a time.
    InvalidTimestamp,
}

impl ErrorKind {
    /// Every kind, in the reference's code order (with `UnexpectedEof` first).
    pub const ALL: [ErrorKind; 41] = [
        ErrorKind::UnexpectedEof,
        ErrorKind::NonCanonicalVarInt,
        ErrorKind::VarStringTooLong,
        ErrorKind::VarBytesTooLong,
        ErrorKind::CmdTooLong,
        ErrorKind::PayloadTooLarge,
        ErrorKind::WrongNetwork,
        ErrorKind::MalformedCmd,
        ErrorKind::UnknownCmd,
        ErrorKind::PayloadChecksum,
        ErrorKind::TrailingBytes,
        ErrorKind::TooManyAddrs,
        ErrorKind::TooManyTxs,
        ErrorKind::MsgInvalidForPVer,
        ErrorKind::FilterTooLarge,
        ErrorKind::TooManyProofs,
        ErrorKind::TooManyFilterTypes,
        ErrorKind::TooManyLocators,
        ErrorKind::TooManyVectors,
        ErrorKind::TooManyHeaders,
        ErrorKind::HeaderContainsTxs,
        ErrorKind::TooManyVotes,
        ErrorKind::TooManyBlocks,
        ErrorKind::MismatchedWitnessCount,
        ErrorKind::UnknownTxType,
        ErrorKind::ReadInPrefixFromWitnessOnlyTx,
        ErrorKind::InvalidMsg,
        ErrorKind::UserAgentTooLong,
        ErrorKind::TooManyFilterHeaders,
        ErrorKind::MalformedStrictString,
        ErrorKind::TooManyInitStateTypes,
        ErrorKind::InitStateTypeTooLong,
        ErrorKind::TooManyTSpends,
        ErrorKind::TooManyManyMixPairReqs,
        ErrorKind::MixPairReqScriptClassTooLong,
        ErrorKind::TooManyMixPairReqUTXOs,
        ErrorKind::TooManyPrevMixMsgs,
        ErrorKind::TooManyCFilters,
        ErrorKind::TooFewAddrs,
        ErrorKind::UnknownNetAddrType,
        ErrorKind::InvalidTimestamp,
    ];

    /// The reference's name for this kind (`"ErrTooManyAddrs"`, ...);
    /// `"ErrUnexpectedEOF"` for input that ended early.
    pub fn reference_name(self) -> &'static str {
        use ErrorKind::*;
        match self {
            UnexpectedEof => "ErrUnexpectedEOF",
            NonCanonicalVarInt => "ErrNonCanonicalVarInt",
            VarStringTooLong => "ErrVarStringTooLong",
            VarBytesTooLong => "ErrVarBytesTooLong",
            CmdTooLong => "ErrCmdTooLong",
            PayloadTooLarge => "ErrPayloadTooLarge",
            WrongNetwork => "ErrWrongNetwork",
            MalformedCmd => "ErrMalformedCmd",
            UnknownCmd => "ErrUnknownCmd",
            PayloadChecksum => "ErrPayloadChecksum",
            TrailingBytes => "ErrTrailingBytes",
            TooManyAddrs => "ErrTooManyAddrs",
            TooManyTxs => "ErrTooManyTxs",
            MsgInvalidForPVer => "ErrMsgInvalidForPVer",
            FilterTooLarge => "ErrFilterTooLarge",
            TooManyProofs => "ErrTooManyProofs",
            TooManyFilterTypes => "ErrTooManyFilterTypes",
            TooManyLocators => "ErrTooManyLocators",
            TooManyVectors => "ErrTooManyVectors",
            TooManyHeaders => "ErrTooManyHeaders",
            HeaderContainsTxs => "ErrHeaderContainsTxs",
            TooManyVotes => "ErrTooManyVotes",
            TooManyBlocks => "ErrTooManyBlocks",
            MismatchedWitnessCount => "ErrMismatchedWitnessCount",
            UnknownTxType => "ErrUnknownTxType",
            ReadInPrefixFromWitnessOnlyTx => "ErrReadInPrefixFromWitnessOnlyTx",
            InvalidMsg => "ErrInvalidMsg",
            UserAgentTooLong => "ErrUserAgentTooLong",
            TooManyFilterHeaders => "ErrTooManyFilterHeaders",
            MalformedStrictString => "ErrMalformedStrictString",
            TooManyInitStateTypes => "ErrTooManyInitStateTypes",
            InitStateTypeTooLong => "ErrInitStateTypeTooLong",
            TooManyTSpends => "ErrTooManyTSpends",
            TooManyManyMixPairReqs => "ErrTooManyManyMixPairReqs",
            MixPairReqScriptClassTooLong => "ErrMixPairReqScriptClassTooLong",
            TooManyMixPairReqUTXOs => "ErrTooManyMixPairReqUTXOs",
            TooManyPrevMixMsgs => "ErrTooManyPrevMixMsgs",
            TooManyCFilters => "ErrTooManyCFilters",
            TooFewAddrs => "ErrTooFewAddrs",
            UnknownNetAddrType => "ErrUnknownNetAddrType",
            InvalidTimestamp => "ErrInvalidTimestamp",
        }
    }

    /// Looks a kind up by the reference's name. `"EOF"` and
    /// `"ErrUnexpectedEOF"` both give [`ErrorKind::UnexpectedEof`].
    pub fn from_reference_name(name: &str) -> Option<ErrorKind> {
        if name == "EOF" {
            return Some(ErrorKind::UnexpectedEof);
        }
        ErrorKind::ALL
            .iter()
            .copied()
            .find(|k| k.reference_name() == name)
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.reference_name())
    }
}

/// A decode or encode failure.
///
/// The variants carry the numbers a caller needs to act on (how many bytes
/// are missing, which count exceeded which limit); [`Error::kind`] gives the
/// reference's error code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Input ended early; `needed` more bytes would have completed the field.
    #[error("input ended early: {needed} more bytes needed")]
    UnexpectedEof {
        /// Bytes missing (at least; 1 when unknown).
        needed: usize,
    },

    /// A var-int used a longer encoding than its value needs.
    #[error("non-canonical var-int: discriminant {discriminant:#x} encodes {value:#x}")]
    NonCanonicalVarInt {
        /// The first byte, which chose the encoding's width.
        discriminant: u8,
        /// The value, which a shorter encoding could carry.
        value: u64,
    },

    /// A count or length prefix exceeded the limit the reference enforces for
    /// that field. `kind` names which limit (ErrTooManyAddrs,
    /// ErrVarBytesTooLong, ...).
    #[error("{kind}: {what} is {count}, maximum {max}")]
    LimitExceeded {
        /// The reference's code for this limit.
        kind: ErrorKind,
        /// What was counted (`"addresses"`, `"bytes"`, ...).
        what: &'static str,
        /// The count or length the input claimed.
        count: u64,
        /// The largest allowed.
        max: u64,
    },

    /// A message's payload is larger than 32 MiB or than its own maximum at
    /// the protocol version.
    #[error("payload of {len} bytes exceeds the maximum of {max} bytes")]
    PayloadTooLarge {
        /// The payload length the header claims, in bytes.
        len: u64,
        /// The largest allowed, in bytes.
        max: u64,
    },

    /// The frame's magic is not the expected network's.
    #[error("message from another network (magic {magic:#010x})")]
    WrongNetwork {
        /// The magic the frame carries.
        magic: u32,
    },

    /// The command field holds bytes other than printable ASCII before its
    /// NUL padding.
    #[error("malformed command field")]
    MalformedCommand {
        /// The command field as received.
        raw: [u8; 12],
    },

    /// The command is well formed but not one this protocol knows.
    #[error("unknown command {:?}", String::from_utf8_lossy(trim_nul(raw)))]
    UnknownCommand {
        /// The command field as received.
        raw: [u8; 12],
    },

    /// A command string is longer than the 12 bytes a frame can hold.
    #[error("command {len} bytes long, at most 12 allowed")]
    CommandTooLong {
        /// The command string's length in bytes.
        len: usize,
    },

    /// The payload's checksum does not match its header.
    #[error("payload checksum {actual:02x?} does not match header {expected:02x?}")]
    PayloadChecksum {
        /// The checksum in the header.
        expected: [u8; 4],
        /// The first four bytes of the payload's double BLAKE-256.
        actual: [u8; 4],
    },

    /// A payload decoded completely with bytes left over.
    #[error("{count} trailing bytes after the payload")]
    TrailingBytes {
        /// How many bytes were left over.
        count: usize,
    },

    /// The message (or a field of it) does not exist at this protocol version.
    #[error("{command} message invalid for protocol version {pver}")]
    InvalidForVersion {
        /// The message's command string.
        command: &'static str,
        /// The protocol version in use.
        pver: u32,
    },

    /// Any other rule of the reference, with its code.
    #[error("{kind}: {reason}")]
    Invalid {
        /// The reference's code.
        kind: ErrorKind,
        /// Which rule, in words.
        reason: &'static str,
    },
}

impl Error {
    /// The reference error code this failure corresponds to.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::UnexpectedEof { .. } => ErrorKind::UnexpectedEof,
            Error::NonCanonicalVarInt { .. } => ErrorKind::NonCanonicalVarInt,
            Error::LimitExceeded { kind, .. } => *kind,
            Error::PayloadTooLarge { .. } => ErrorKind::PayloadTooLarge,
            Error::WrongNetwork { .. } => ErrorKind::WrongNetwork,
            Error::MalformedCommand { .. } => ErrorKind::MalformedCmd,
            Error::UnknownCommand { .. } => ErrorKind::UnknownCmd,
            Error::CommandTooLong { .. } => ErrorKind::CmdTooLong,
            Error::PayloadChecksum { .. } => ErrorKind::PayloadChecksum,
            Error::TrailingBytes { .. } => ErrorKind::TrailingBytes,
            Error::InvalidForVersion { .. } => ErrorKind::MsgInvalidForPVer,
            Error::Invalid { kind, .. } => *kind,
        }
    }

    /// Shorthand for [`Error::LimitExceeded`].
    pub fn limit(kind: ErrorKind, what: &'static str, count: u64, max: u64) -> Error {
        Error::LimitExceeded {
            kind,
            what,
            count,
            max,
        }
    }

    /// Shorthand for [`Error::Invalid`].
    pub fn invalid(kind: ErrorKind, reason: &'static str) -> Error {
        Error::Invalid { kind, reason }
    }
}

fn trim_nul(raw: &[u8]) -> &[u8] {
    let end = raw.iter().rposition(|&b| b != 0).map_or(0, |p| p + 1);
    &raw[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for k in ErrorKind::ALL {
            assert_eq!(ErrorKind::from_reference_name(k.reference_name()), Some(k));
        }
        assert_eq!(
            ErrorKind::from_reference_name("EOF"),
            Some(ErrorKind::UnexpectedEof)
        );
        assert_eq!(ErrorKind::from_reference_name("ErrNope"), None);
    }

    #[test]
    fn kinds_of_variants() {
        assert_eq!(
            Error::limit(ErrorKind::TooManyAddrs, "addresses", 1001, 1000).kind(),
            ErrorKind::TooManyAddrs
        );
        assert_eq!(
            Error::UnknownCommand {
                raw: *b"foo\0\0\0\0\0\0\0\0\0"
            }
            .to_string(),
            "unknown command \"foo\""
        );
    }
}
