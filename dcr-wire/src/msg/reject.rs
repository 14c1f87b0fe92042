//! `reject`: why a peer refused a message. Removed at protocol version 9
//! ([`pver::REMOVE_REJECT`]); older peers still send it.

#[allow(unused_imports)]
use crate::prelude::*;
use alloc::borrow::Cow;
use core::fmt;

use bytes::BufMut;

use super::{require_pver, Command, Payload};
use crate::error::{Error, ErrorKind};
use crate::hash::{Hash, HASH_SIZE};
use crate::primitives::{
    ascii_var_string, hash, is_strict_ascii, put_var_bytes, u8, var_bytes_size, PResult,
};
use crate::protocol::{pver, MAX_MESSAGE_PAYLOAD};

/// The reason code of a `reject`. Any byte is accepted on the wire; the
/// constants are the values the protocol defines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct RejectCode(pub u8);

impl RejectCode {
    /// The message could not be parsed.
    pub const MALFORMED: RejectCode = RejectCode(0x01);
    /// The block or transaction broke a consensus rule.
    pub const INVALID: RejectCode = RejectCode(0x10);
    /// The message used an outdated version.
    pub const OBSOLETE: RejectCode = RejectCode(0x11);
    /// The item was already known.
    pub const DUPLICATE: RejectCode = RejectCode(0x12);
    /// The transaction broke a policy (standardness) rule.
    pub const NONSTANDARD: RejectCode = RejectCode(0x40);
    /// An output was below the dust threshold.
    pub const DUST: RejectCode = RejectCode(0x41);
    /// The fee was too low.
    pub const INSUFFICIENT_FEE: RejectCode = RejectCode(0x42);
    /// The block conflicts with a checkpoint.
    pub const CHECKPOINT: RejectCode = RejectCode(0x43);

    /// The protocol's name for a defined code (`REJECT_INVALID`, ...).
    pub fn name(self) -> Option<&'static str> {
        Some(match self {
            RejectCode::MALFORMED => "REJECT_MALFORMED",
            RejectCode::INVALID => "REJECT_INVALID",
            RejectCode::OBSOLETE => "REJECT_OBSOLETE",
            RejectCode::DUPLICATE => "REJECT_DUPLICATE",
            RejectCode::NONSTANDARD => "REJECT_NONSTANDARD",
            RejectCode::DUST => "REJECT_DUST",
            RejectCode::INSUFFICIENT_FEE => "REJECT_INSUFFICIENTFEE",
            RejectCode::CHECKPOINT => "REJECT_CHECKPOINT",
            _ => return None,
        })
    }
}

impl fmt::Display for RejectCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "Unknown RejectCode ({})", self.0),
        }
    }
}

/// `reject`. Valid below protocol version 9.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct Reject<'a> {
    /// The command of the refused message (`"tx"`, `"block"`, ...).
    /// Printable ASCII only.
    #[cfg_attr(feature = "serde", serde(rename = "Cmd"))]
    pub cmd: Cow<'a, str>,
    /// Why it was refused.
    #[cfg_attr(feature = "serde", serde(rename = "Code"))]
    pub code: RejectCode,
    /// Free-form explanation. Printable ASCII only; the protocol sets no
    /// length limit beyond the payload's.
    #[cfg_attr(feature = "serde", serde(rename = "Reason"))]
    pub reason: Cow<'a, str>,
    /// The refused block or transaction. Only on the wire when `cmd` is
    /// `block` or `tx`; zero otherwise (and ignored when encoding).
    #[cfg_attr(feature = "serde", serde(rename = "Hash"))]
    pub hash: Hash,
}

impl<'a> Reject<'a> {
    /// Whether a reject for `cmd` carries the hash of the refused item.
    pub fn has_hash(cmd: &str) -> bool {
        cmd == Command::Block.as_str() || cmd == Command::Tx.as_str()
    }

    /// The encoding checks after the version: command, then reason.
    fn validate(&self) -> Result<(), Error> {
        if !is_strict_ascii(self.cmd.as_bytes()) {
            return Err(Error::invalid(
                ErrorKind::MalformedStrictString,
                "reject command is not strict ASCII",
            ));
        }
        if !is_strict_ascii(self.reason.as_bytes()) {
            return Err(Error::invalid(
                ErrorKind::MalformedStrictString,
                "reject reason is not strict ASCII",
            ));
        }
        Ok(())
    }
}

/// A strict-ASCII var-string bounded only by the payload limit.
fn text(input: &[u8]) -> PResult<'_, &str> {
    ascii_var_string(input, u64::from(MAX_MESSAGE_PAYLOAD))
}

impl<'a> Payload<'a> for Reject<'a> {
    const COMMAND: Command = Command::Reject;
    type Owned = Reject<'static>;

    fn decode(input: &'a [u8], pver: u32) -> PResult<'a, Self> {
        require_pver(Self::COMMAND, pver)?;
        let (i, cmd) = text(input)?;
        let (i, code) = u8(i)?;
        let (i, reason) = text(i)?;
        let (i, item) = if Reject::has_hash(cmd) {
            hash(i)?
        } else {
            (i, Hash::ZERO)
        };
        let msg = Reject {
            cmd: Cow::Borrowed(cmd),
            code: RejectCode(code),
            reason: Cow::Borrowed(reason),
            hash: item,
        };
        Ok((i, msg))
    }

    fn encode<B: BufMut>(&self, buf: &mut B, pver: u32) -> Result<(), Error> {
        require_pver(Self::COMMAND, pver)?;
        self.validate()?;
        put_var_bytes(buf, self.cmd.as_bytes());
        buf.put_u8(self.code.0);
        put_var_bytes(buf, self.reason.as_bytes());
        if Reject::has_hash(&self.cmd) {
            buf.put_slice(&self.hash.0);
        }
        Ok(())
    }

    fn serialized_size(&self, _pver: u32) -> usize {
        let hash = if Reject::has_hash(&self.cmd) {
            HASH_SIZE
        } else {
            0
        };
        var_bytes_size(self.cmd.as_bytes()) + 1 + var_bytes_size(self.reason.as_bytes()) + hash
    }

    fn max_payload_length(pver: u32) -> u32 {
        if pver >= pver::REMOVE_REJECT {
            return 0;
        }
        MAX_MESSAGE_PAYLOAD
    }

    fn into_owned(self) -> Self::Owned {
        Reject {
            cmd: Cow::Owned(self.cmd.into_owned()),
            code: self.code,
            reason: Cow::Owned(self.reason.into_owned()),
            hash: self.hash,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn decode(b: &[u8], pver: u32) -> Result<Reject<'_>, Error> {
        let (rest, m) = Reject::decode(b, pver)?;
        crate::primitives::expect_end(rest)?;
        Ok(m)
    }

    fn sample(cmd: &'static str) -> Reject<'static> {
        Reject {
            cmd: Cow::Borrowed(cmd),
            code: RejectCode::INVALID,
            reason: Cow::Borrowed("bad"),
            hash: Hash([7; 32]),
        }
    }

    #[test]
    fn only_below_v9() {
        let m = sample("tx");
        let mut b = Vec::new();
        m.encode(&mut b, pver::REMOVE_REJECT - 1).unwrap();
        assert_eq!(decode(&b, pver::REMOVE_REJECT - 1).unwrap(), m);
        for p in [pver::REMOVE_REJECT, pver::CURRENT] {
            let e = m.encode(&mut Vec::new(), p).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::MsgInvalidForPVer);
            assert_eq!(
                decode(&b, p).unwrap_err().kind(),
                ErrorKind::MsgInvalidForPVer
            );
            assert_eq!(Reject::max_payload_length(p), 0);
        }
        assert_eq!(Reject::max_payload_length(1), MAX_MESSAGE_PAYLOAD);
    }

    #[test]
    fn hash_only_for_block_and_tx() {
        for (cmd, with_hash) in [
            ("block", true),
            ("tx", true),
            ("inv", false),
            ("txs", false),
        ] {
            let m = sample(cmd);
            let mut b = Vec::new();
            m.encode(&mut b, 1).unwrap();
            assert_eq!(b.len(), m.serialized_size(1));
            let d = decode(&b, 1).unwrap();
            let expect = if with_hash { m.hash } else { Hash::ZERO };
            assert_eq!(d.hash, expect);
            assert_eq!(
                b.len(),
                1 + cmd.len() + 1 + 4 + if with_hash { 32 } else { 0 }
            );
        }
    }

    #[test]
    fn strict_ascii_both_ways() {
        let mut m = sample("inv");
        m.reason = Cow::Borrowed("tab\there");
        let mut out = Vec::new();
        assert_eq!(
            m.encode(&mut out, 1).unwrap_err().kind(),
            ErrorKind::MalformedStrictString
        );
        m = sample("é");
        assert_eq!(
            m.encode(&mut out, 1).unwrap_err().kind(),
            ErrorKind::MalformedStrictString
        );
        assert!(out.is_empty());
        assert_eq!(
            decode(&[1, 0x80, 0, 0], 1).unwrap_err().kind(),
            ErrorKind::MalformedStrictString
        );
        assert_eq!(
            decode(&[1, b'a', 0, 1, 0x19], 1).unwrap_err().kind(),
            ErrorKind::MalformedStrictString
        );
    }

    #[test]
    fn code_names() {
        assert_eq!(
            RejectCode::INSUFFICIENT_FEE.to_string(),
            "REJECT_INSUFFICIENTFEE"
        );
        assert_eq!(RejectCode(0x99).to_string(), "Unknown RejectCode (153)");
    }

    proptest! {
        #[test]
        fn round_trip(
            cmd in prop_oneof![Just("block".to_string()), Just("tx".to_string()), "[ -~]{0,12}"],
            code in any::<u8>(),
            reason in "[ -~]{0,64}",
            h in any::<[u8; 32]>(),
            p in pver::INITIAL..pver::REMOVE_REJECT,
        ) {
            let hash = if Reject::has_hash(&cmd) { Hash(h) } else { Hash::ZERO };
            let m = Reject { cmd: cmd.into(), code: RejectCode(code), reason: reason.into(), hash };
            let mut b = Vec::new();
            m.encode(&mut b, p).unwrap();
            prop_assert_eq!(b.len(), m.serialized_size(p));
            prop_assert_eq!(decode(&b, p).unwrap(), m);
        }
    }
}
