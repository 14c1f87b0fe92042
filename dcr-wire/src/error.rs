//! The one error type of the crate.
//!
//! Every failure maps to an [`ErrorKind`] named after the reference's error
//! code (dcrd `wire.ErrorCode`), so callers (and the conformance tests) can
//! compare verdicts with the Go implementation kind for kind. Input that ends
//! early is a single kind, [`ErrorKind::UnexpectedEof`], covering both of the
//! reference's `io.EOF` and `io.ErrUnexpectedEOF`.
//!
//! How the crate's errors read (every error type here, [`Error`],
//! [`StreamError`](crate::StreamError), the parse errors, follows it): an
//! error that wraps another either gives it as its `source()` and does not
//! repeat it in its own message (`#[source]` or `#[from]`, no `{0}`), or is
//! that error (`#[error(transparent)]`); never both. So a report that prints
//! the chain, as anyhow's `Caused by:` does, reads every sentence once. A
//! count reads with its plural: "1 byte", "2 bytes" ([`ByteCount`],
//! [`Counted`]). The whole workspace follows the same convention
//! (docs/ERRORS.md); [`Report`] prints a chain and checks it.

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
    /// Input ended early, while reading `reading` where known. The message
    /// says what was being read, not how many bytes the field in hand
    /// lacked: that is `needed`, a lower bound.
    #[error("input ended {}", Reading(*reading))]
    UnexpectedEof {
        /// Bytes missing from the field being read (at least; 1 when
        /// unknown).
        needed: usize,
        /// What was being read (`"a block header"`, `"a \`ping\` message"`),
        /// where known.
        reading: Option<&'static str>,
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
    #[error("payload of {} exceeds the maximum of {}", ByteCount(*len), ByteCount(*max))]
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
    #[error("command {} long, at most 12 allowed", ByteCount(*len as u64))]
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
    #[error("{} after the payload", Trailing(*count))]
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

    /// Input that ended `needed` bytes short of the field in hand (what was
    /// being read is added by the caller that knows, with
    /// [`Error::while_reading`]).
    pub fn eof(needed: usize) -> Error {
        Error::UnexpectedEof {
            needed,
            reading: None,
        }
    }

    /// Says what was being read when the input ended, unless an inner
    /// parser already said it (the innermost structure wins). Other errors
    /// are returned as they are.
    pub fn while_reading(self, what: &'static str) -> Error {
        match self {
            Error::UnexpectedEof {
                needed,
                reading: None,
            } => Error::UnexpectedEof {
                needed,
                reading: Some(what),
            },
            other => other,
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

/// An error and its sources on one line, outermost first: `a: b: c`.
///
/// The workspace's errors say each thing once (docs/ERRORS.md): a message
/// never repeats its `source()`, so printing an error alone gives only its
/// own sentence, and this prints the whole story. [`Report::fault`] checks
/// the convention (the tests of every error type call it).
#[derive(Clone, Copy)]
pub struct Report<'a>(pub &'a (dyn core::error::Error + 'static));

impl<'a> Report<'a> {
    /// The message of the error and of each of its sources, outermost
    /// first.
    pub fn messages(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut at = Some(self.0);
        while let Some(e) = at {
            out.push(alloc::string::ToString::to_string(e));
            at = e.source();
        }
        out
    }

    /// What breaks the convention in this chain, if anything: an empty
    /// message, a message that repeats one of its sources' messages, or a
    /// message showing a value's debug form (`Os { code: 111, .. }`)
    /// instead of a sentence.
    pub fn fault(&self) -> Option<String> {
        let messages = self.messages();
        for (i, outer) in messages.iter().enumerate() {
            if outer.trim().is_empty() {
                return Some(alloc::format!("level {i} of the chain has no message"));
            }
            if let Some(debug) = DEBUG_FORMS.iter().find(|d| outer.contains(*d)) {
                return Some(alloc::format!(
                    "{outer:?} shows a debug form ({debug:?}), not a sentence"
                ));
            }
            if let Some(inner) = messages[i + 1..]
                .iter()
                .find(|m| outer.contains(m.as_str()))
            {
                return Some(alloc::format!("{outer:?} repeats its source {inner:?}"));
            }
        }
        None
    }
}

/// Panics with every chain of `samples` that breaks the convention
/// ([`Report::fault`]): the one check of the workspace's reads-once tests.
///
/// # Panics
///
/// When any sample's chain has a fault, listing them all.
pub fn assert_read_once<E: core::error::Error + 'static>(samples: &[E]) {
    let faults: Vec<String> = samples.iter().filter_map(|e| Report(e).fault()).collect();
    assert!(faults.is_empty(), "{faults:#?}");
}

/// Text that only a `{:?}` of a standard type prints.
const DEBUG_FORMS: [&str; 4] = ["Os {", "Kind(", "Custom {", "SimpleMessage"];

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.0, f)?;
        let mut at = self.0.source();
        while let Some(e) = at {
            write!(f, ": {e}")?;
            at = e.source();
        }
        Ok(())
    }
}

impl fmt::Debug for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Asserts that a test's samples of an error type hold one value of every
/// variant, and that the list of variants is complete: the patterns are
/// matched without a wildcard, so a new variant does not compile until it
/// is named here (use it in the crate that defines the type, where
/// `#[non_exhaustive]` does not apply).
///
/// ```
/// #[derive(Debug)]
/// enum Failure {
///     Closed,
///     Refused(u8),
/// }
/// let samples = [Failure::Closed, Failure::Refused(1)];
/// dcr_wire::every_variant!(samples, Failure::Closed, Failure::Refused(_));
/// ```
#[macro_export]
macro_rules! every_variant {
    ($samples:expr, $($variant:pat),+ $(,)?) => {{
        let names: &[&str] = &[$(stringify!($variant)),+];
        let mut seen: ::std::collections::BTreeSet<&str> = ::std::collections::BTreeSet::new();
        for sample in $samples.iter() {
            seen.insert(match sample {
                $($variant => stringify!($variant)),+
            });
        }
        for name in names {
            assert!(seen.contains(name), "no sample of {name}");
        }
    }};
}

/// "while reading X", or "early" where nothing says what.
struct Reading(Option<&'static str>);

impl fmt::Display for Reading {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(what) => write!(f, "while reading {what}"),
            None => f.write_str("early"),
        }
    }
}

/// A byte count with its plural, for messages: "1 byte", "2 bytes".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteCount(pub u64);

impl fmt::Display for ByteCount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            1 => f.write_str("1 byte"),
            n => write!(f, "{n} bytes"),
        }
    }
}

/// A count of anything with its noun's singular or plural, for messages:
/// `Counted(1, "block", "blocks")` reads "1 block", 2 reads "2 blocks".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counted(pub u64, pub &'static str, pub &'static str);

impl fmt::Display for Counted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let noun = if self.0 == 1 { self.1 } else { self.2 };
        write!(f, "{} {noun}", self.0)
    }
}

/// "1 trailing byte", "2 trailing bytes".
struct Trailing(usize);

impl fmt::Display for Trailing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            1 => f.write_str("1 trailing byte"),
            n => write!(f, "{n} trailing bytes"),
        }
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

    /// One error of every variant and type the crate has.
    fn every_error() -> Vec<Box<dyn core::error::Error>> {
        let mut all: Vec<Box<dyn core::error::Error>> = vec![
            Box::new(Error::eof(4)),
            Box::new(Error::eof(4).while_reading("a block header")),
            Box::new(Error::NonCanonicalVarInt {
                discriminant: 0xfd,
                value: 1,
            }),
            Box::new(Error::limit(
                ErrorKind::TooManyAddrs,
                "addresses",
                1001,
                1000,
            )),
            Box::new(Error::PayloadTooLarge { len: 1, max: 0 }),
            Box::new(Error::WrongNetwork { magic: 1 }),
            Box::new(Error::MalformedCommand { raw: [0xff; 12] }),
            Box::new(Error::UnknownCommand {
                raw: *b"nope\0\0\0\0\0\0\0\0",
            }),
            Box::new(Error::CommandTooLong { len: 13 }),
            Box::new(Error::PayloadChecksum {
                expected: [1; 4],
                actual: [2; 4],
            }),
            Box::new(Error::TrailingBytes { count: 1 }),
            Box::new(Error::InvalidForVersion {
                command: "addr",
                pver: 12,
            }),
            Box::new(Error::invalid(ErrorKind::InvalidMsg, "no reason")),
            Box::new("x".parse::<crate::Hash>().unwrap_err()),
            Box::new("x".parse::<crate::CurrencyNet>().unwrap_err()),
            Box::new("x".parse::<crate::Command>().unwrap_err()),
        ];
        #[cfg(feature = "std")]
        {
            use crate::{pver, read_message, write_message, CurrencyNet, Message, Ping};
            // A stream that ends inside a frame, one with a bad frame, and
            // a writer that fails.
            let frame =
                crate::frame_to_vec(&Message::Ping(Ping { nonce: 1 }), CurrencyNet::MainNet, 1)
                    .unwrap();
            let mut short = &frame[..30];
            let e = read_message(&mut short, CurrencyNet::MainNet, pver::CURRENT).unwrap_err();
            assert!(matches!(e.cause, crate::StreamErrorCause::Io(_)));
            all.push(Box::new(e));
            let mut wrong = &frame[..];
            let e = read_message(&mut wrong, CurrencyNet::TestNet3, pver::CURRENT).unwrap_err();
            assert!(matches!(e.cause, crate::StreamErrorCause::Wire(_)));
            all.push(Box::new(e));
            struct Refuses;
            impl std::io::Write for Refuses {
                fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                    Err(std::io::Error::new(
                        std::io::ErrorKind::ConnectionRefused,
                        "refused",
                    ))
                }
                fn flush(&mut self) -> std::io::Result<()> {
                    Ok(())
                }
            }
            let ping = Message::Ping(Ping { nonce: 1 });
            let e = write_message(&mut Refuses, &ping, CurrencyNet::MainNet, 1).unwrap_err();
            all.push(Box::new(e));
        }
        all
    }

    #[test]
    fn every_chain_reads_each_sentence_once() {
        let errors: Vec<Error> = every_error()
            .iter()
            .filter_map(|e| e.downcast_ref::<Error>().cloned())
            .collect();
        crate::every_variant!(
            errors,
            Error::UnexpectedEof { .. },
            Error::NonCanonicalVarInt { .. },
            Error::LimitExceeded { .. },
            Error::PayloadTooLarge { .. },
            Error::WrongNetwork { .. },
            Error::MalformedCommand { .. },
            Error::UnknownCommand { .. },
            Error::CommandTooLong { .. },
            Error::PayloadChecksum { .. },
            Error::TrailingBytes { .. },
            Error::InvalidForVersion { .. },
            Error::Invalid { .. },
        );
        #[cfg(feature = "std")]
        {
            let all = every_error();
            let causes: Vec<&crate::StreamErrorCause> = all
                .iter()
                .filter_map(|e| e.downcast_ref::<crate::StreamError>())
                .map(|e| &e.cause)
                .collect();
            crate::every_variant!(
                causes,
                crate::StreamErrorCause::Io(_),
                crate::StreamErrorCause::Wire(_),
            );
        }
        for e in every_error() {
            if let Some(fault) = Report(e.as_ref()).fault() {
                panic!("{fault}");
            }
        }
    }

    #[test]
    fn a_report_gives_the_chain_once() {
        let e = Error::eof(1);
        assert_eq!(Report(&e).to_string(), "input ended early");
        assert_eq!(Report(&e).fault(), None);
    }

    #[test]
    fn counts_read_with_their_plural() {
        assert_eq!(
            Error::TrailingBytes { count: 1 }.to_string(),
            "1 trailing byte after the payload"
        );
        assert_eq!(
            Error::TrailingBytes { count: 2 }.to_string(),
            "2 trailing bytes after the payload"
        );
        assert_eq!(
            Error::PayloadTooLarge { len: 1, max: 0 }.to_string(),
            "payload of 1 byte exceeds the maximum of 0 bytes"
        );
        assert_eq!(
            Error::CommandTooLong { len: 13 }.to_string(),
            "command 13 bytes long, at most 12 allowed"
        );
    }

    #[test]
    fn input_that_ends_says_what_was_being_read() {
        use crate::{pver, Block, Command, Message};
        let e = Block::from_bytes(&[], pver::CURRENT).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::UnexpectedEof);
        assert_eq!(e.to_string(), "input ended while reading a block header");
        let e = Message::decode(Command::Ping, &[1, 2], pver::CURRENT).unwrap_err();
        assert_eq!(e.to_string(), "input ended while reading a `ping` message");
        let e = crate::decode_frame(&[0xf9], crate::CurrencyNet::MainNet, 1).unwrap_err();
        assert_eq!(e.to_string(), "input ended while reading a frame");
        // A bare parser does not know; the innermost structure that does
        // wins over the outer ones.
        assert_eq!(Error::eof(3).to_string(), "input ended early");
        let e = Error::eof(3).while_reading("a transaction");
        assert_eq!(e.clone().while_reading("a `tx` message"), e);
        // Other errors are left alone.
        let t = Error::TrailingBytes { count: 1 };
        assert_eq!(t.clone().while_reading("x"), t);
    }
}
