//! `mixpairreq`: a request to be paired into a mix: the amount and number
//! of outputs wanted, the UTXOs that fund them (each proven by a signature)
//! and an optional change output. Unlike the session messages it has no
//! session id or run: sessions are formed from these.

#[allow(unused_imports)]
use crate::prelude::*;
use alloc::borrow::Cow;

use bytes::BufMut;

use super::{fixed, invalid, mix_payload, own, Fixed};
use crate::error::{Error, ErrorKind};
use crate::msg::list::ListView;
use crate::primitives::{
    ascii_var_string, check_count, i64_le, is_strict_ascii, list, put_var_bytes, put_var_int,
    u16_le, u32_le, u8, var_bytes, var_bytes_size, var_int_size, PResult,
};
use crate::{OutPoint, TxOut};

/// Longest script class name.
pub const MAX_MIX_PAIR_REQ_SCRIPT_CLASS_LEN: u64 = 32;
/// Most UTXOs in one pair request.
pub const MAX_MIX_PAIR_REQ_UTXOS: u64 = 512;
/// Longest UTXO script (the consensus script size limit; P2SH only).
pub const MAX_MIX_PAIR_REQ_UTXO_SCRIPT_LEN: u64 = 16_384;
/// Longest UTXO public key.
pub const MAX_MIX_PAIR_REQ_UTXO_PUBKEY_LEN: u64 = 33;
/// Longest UTXO signature.
pub const MAX_MIX_PAIR_REQ_UTXO_SIGNATURE_LEN: u64 = 64;

/// Smallest serialized UTXO: outpoint, three empty var-bytes, opcode.
const MIN_UTXO_SIZE: usize = OutPoint::SIZE + 3 + 1;

/// One UTXO funding a pair request.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct MixPairReqUtxo<'a> {
    /// The output spent.
    #[cfg_attr(feature = "serde", serde(rename = "OutPoint"))]
    pub out_point: OutPoint,
    /// Redeem script (P2SH only), borrowed when decoded.
    #[cfg_attr(
        feature = "serde",
        serde(rename = "Script", with = "crate::serde_impls::hex::bytes")
    )]
    pub script: Cow<'a, [u8]>,
    /// Public key of the output, borrowed when decoded.
    #[cfg_attr(
        feature = "serde",
        serde(rename = "PubKey", with = "crate::serde_impls::hex::bytes")
    )]
    pub pub_key: Cow<'a, [u8]>,
    /// Signature proving ownership of the output.
    #[cfg_attr(
        feature = "serde",
        serde(rename = "Signature", with = "crate::serde_impls::hex::bytes")
    )]
    pub signature: Cow<'a, [u8]>,
    /// The opcode of the signature-checking operation.
    #[cfg_attr(
        feature = "serde",
        serde(rename = "Opcode", deserialize_with = "crate::serde_impls::int")
    )]
    pub opcode: u8,
}

impl<'a> MixPairReqUtxo<'a> {
    fn parse(i: &'a [u8]) -> PResult<'a, Self> {
        let (i, out_point) = OutPoint::parse(i)?;
        let (i, script) = var_bytes(i, MAX_MIX_PAIR_REQ_UTXO_SCRIPT_LEN, "UTXO script")?;
        let (i, pub_key) = var_bytes(i, MAX_MIX_PAIR_REQ_UTXO_PUBKEY_LEN, "UTXO public key")?;
        let (i, signature) = var_bytes(i, MAX_MIX_PAIR_REQ_UTXO_SIGNATURE_LEN, "UTXO signature")?;
        let (i, opcode) = u8(i)?;
        Ok((
            i,
            MixPairReqUtxo {
                out_point,
                script: Cow::Borrowed(script),
                pub_key: Cow::Borrowed(pub_key),
                signature: Cow::Borrowed(signature),
                opcode,
            },
        ))
    }

    fn check(&self) -> Result<(), Error> {
        for (field, len, max) in [
            (
                "UTXO script",
                self.script.len(),
                MAX_MIX_PAIR_REQ_UTXO_SCRIPT_LEN,
            ),
            (
                "UTXO public key",
                self.pub_key.len(),
                MAX_MIX_PAIR_REQ_UTXO_PUBKEY_LEN,
            ),
            (
                "UTXO signature",
                self.signature.len(),
                MAX_MIX_PAIR_REQ_UTXO_SIGNATURE_LEN,
            ),
        ] {
            check_count(len as u64, max, ErrorKind::VarBytesTooLong, field)?;
        }
        Ok(())
    }

    fn write<B: BufMut + ?Sized>(&self, buf: &mut B) {
        self.out_point.write(buf);
        put_var_bytes(buf, &self.script);
        put_var_bytes(buf, &self.pub_key);
        put_var_bytes(buf, &self.signature);
        buf.put_u8(self.opcode);
    }

    fn size(&self) -> usize {
        OutPoint::SIZE
            + var_bytes_size(&self.script)
            + var_bytes_size(&self.pub_key)
            + var_bytes_size(&self.signature)
            + 1
    }

    /// Copies the scripts and keys so the UTXO no longer borrows.
    pub fn into_owned(self) -> MixPairReqUtxo<'static> {
        MixPairReqUtxo {
            out_point: self.out_point,
            script: Cow::Owned(self.script.into_owned()),
            pub_key: Cow::Owned(self.pub_key.into_owned()),
            signature: Cow::Owned(self.signature.into_owned()),
            opcode: self.opcode,
        }
    }
}

/// `mixpairreq`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct MixPairReq<'a> {
    /// Signature by the identity over the message.
    #[cfg_attr(
        feature = "serde",
        serde(rename = "Signature", with = "crate::serde_impls::hex::fixed")
    )]
    pub signature: Fixed<'a, 64>,
    /// The sender's session identity key.
    #[cfg_attr(
        feature = "serde",
        serde(rename = "Identity", with = "crate::serde_impls::hex::fixed")
    )]
    pub identity: Fixed<'a, 33>,
    /// Block height after which the request expires.
    #[cfg_attr(
        feature = "serde",
        serde(rename = "Expiry", deserialize_with = "crate::serde_impls::int")
    )]
    pub expiry: u32,
    /// Amount of each mixed output, in atoms (never negative).
    #[cfg_attr(
        feature = "serde",
        serde(rename = "MixAmount", deserialize_with = "crate::serde_impls::int")
    )]
    pub mix_amount: i64,
    /// Script class of the mixed outputs (printable ASCII, at most 32).
    #[cfg_attr(feature = "serde", serde(rename = "ScriptClass"))]
    pub script_class: Cow<'a, str>,
    /// Version of the mixed transaction.
    #[cfg_attr(
        feature = "serde",
        serde(rename = "TxVersion", deserialize_with = "crate::serde_impls::int")
    )]
    pub tx_version: u16,
    /// Lock time of the mixed transaction.
    #[cfg_attr(
        feature = "serde",
        serde(rename = "LockTime", deserialize_with = "crate::serde_impls::int")
    )]
    pub lock_time: u32,
    /// Number of mixed outputs wanted.
    #[cfg_attr(
        feature = "serde",
        serde(rename = "MessageCount", deserialize_with = "crate::serde_impls::int")
    )]
    pub message_count: u32,
    /// Total value of the UTXOs, in atoms (never negative).
    #[cfg_attr(
        feature = "serde",
        serde(rename = "InputValue", deserialize_with = "crate::serde_impls::int")
    )]
    pub input_value: i64,
    /// The outputs funding the mix.
    #[cfg_attr(feature = "serde", serde(rename = "UTXOs"))]
    pub utxos: Vec<MixPairReqUtxo<'a>>,
    /// Where change goes, if any.
    #[cfg_attr(feature = "serde", serde(rename = "Change"))]
    pub change: Option<TxOut<'a>>,
    /// Request flags.
    #[cfg_attr(
        feature = "serde",
        serde(rename = "Flags", deserialize_with = "crate::serde_impls::int")
    )]
    pub flags: u8,
    /// Flags that must match for requests to pair.
    #[cfg_attr(
        feature = "serde",
        serde(rename = "PairingFlags", deserialize_with = "crate::serde_impls::int")
    )]
    pub pairing_flags: u8,
}

impl Default for MixPairReq<'_> {
    fn default() -> Self {
        MixPairReq {
            signature: Cow::Owned([0; 64]),
            identity: Cow::Owned([0; 33]),
            expiry: 0,
            mix_amount: 0,
            script_class: Cow::Borrowed(""),
            tx_version: 0,
            lock_time: 0,
            message_count: 0,
            input_value: 0,
            utxos: Vec::new(),
            change: None,
            flags: 0,
            pairing_flags: 0,
        }
    }
}

/// Size of the fixed fields around the variable ones.
const FIXED_SIZE: usize = 64 + 33 + 4 + 8 + 2 + 4 + 4 + 8 + 1 + 1 + 1;

/// `mixpairreq` read in place: the zero-copy form of [`MixPairReq`], with its checks
/// and errors. At most [`MAX_MIX_PAIR_REQ_UTXOS`] UTXOs
/// (ErrTooManyMixPairReqUTXOs); amounts never negative, a change flag of 0
/// or 1 (ErrInvalidMsg).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MixPairReqView<'a> {
    /// Signature by the identity over the message.
    pub signature: Fixed<'a, 64>,
    /// The sender's session identity key.
    pub identity: Fixed<'a, 33>,
    /// Block height after which the request expires.
    pub expiry: u32,
    /// Amount of each mixed output, in atoms (never negative).
    pub mix_amount: i64,
    /// Script class of the mixed outputs (printable ASCII, at most 32).
    pub script_class: &'a str,
    /// Version of the mixed transaction.
    pub tx_version: u16,
    /// Lock time of the mixed transaction.
    pub lock_time: u32,
    /// Number of mixed outputs wanted.
    pub message_count: u32,
    /// Total value of the UTXOs, in atoms (never negative).
    pub input_value: i64,
    /// The outputs funding the mix.
    pub utxos: ListView<'a, MixPairReqUtxo<'a>>,
    /// Where change goes, if any.
    pub change: Option<TxOut<'a>>,
    /// Request flags.
    pub flags: u8,
    /// Flags that must match for requests to pair.
    pub pairing_flags: u8,
}

impl<'a> From<MixPairReqView<'a>> for MixPairReq<'a> {
    fn from(v: MixPairReqView<'a>) -> Self {
        MixPairReq {
            signature: v.signature,
            identity: v.identity,
            expiry: v.expiry,
            mix_amount: v.mix_amount,
            script_class: Cow::Borrowed(v.script_class),
            tx_version: v.tx_version,
            lock_time: v.lock_time,
            message_count: v.message_count,
            input_value: v.input_value,
            utxos: v.utxos.to_vec(),
            change: v.change,
            flags: v.flags,
            pairing_flags: v.pairing_flags,
        }
    }
}

impl<'a> MixPairReq<'a> {
    fn parse(i: &'a [u8]) -> PResult<'a, Self> {
        let (i, signature) = fixed::<64>(i)?;
        let (i, identity) = fixed::<33>(i)?;
        let (i, expiry) = u32_le(i)?;
        let (i, mix_amount) = i64_le(i)?;
        if mix_amount < 0 {
            return Err(invalid("negative mixed amount"));
        }
        let (i, script_class) = ascii_var_string(i, MAX_MIX_PAIR_REQ_SCRIPT_CLASS_LEN)?;
        let (i, tx_version) = u16_le(i)?;
        let (i, lock_time) = u32_le(i)?;
        let (i, message_count) = u32_le(i)?;
        let (i, input_value) = i64_le(i)?;
        if input_value < 0 {
            return Err(invalid("negative input value"));
        }
        let (i, utxos) = list(
            i,
            MAX_MIX_PAIR_REQ_UTXOS,
            ErrorKind::TooManyMixPairReqUTXOs,
            "pair request UTXOs",
            MIN_UTXO_SIZE,
            MixPairReqUtxo::parse,
        )?;
        let (i, has_change) = u8(i)?;
        let (i, change) = match has_change {
            0 => (i, None),
            1 => {
                let (i, out) = TxOut::parse(i)?;
                (i, Some(out))
            }
            _ => return Err(invalid("invalid change output encoding")),
        };
        let (i, flags) = u8(i)?;
        let (i, pairing_flags) = u8(i)?;
        Ok((
            i,
            MixPairReq {
                signature,
                identity,
                expiry,
                mix_amount,
                script_class: Cow::Borrowed(script_class),
                tx_version,
                lock_time,
                message_count,
                input_value,
                utxos,
                change,
                flags,
                pairing_flags,
            },
        ))
    }
}

impl<'a> MixPairReqView<'a> {
    /// Reads the fields from the front of `i` (no version gate).
    pub fn parse(i: &'a [u8]) -> PResult<'a, Self> {
        let (i, signature) = fixed::<64>(i)?;
        let (i, identity) = fixed::<33>(i)?;
        let (i, expiry) = u32_le(i)?;
        let (i, mix_amount) = i64_le(i)?;
        if mix_amount < 0 {
            return Err(invalid("negative mixed amount"));
        }
        let (i, script_class) = ascii_var_string(i, MAX_MIX_PAIR_REQ_SCRIPT_CLASS_LEN)?;
        let (i, tx_version) = u16_le(i)?;
        let (i, lock_time) = u32_le(i)?;
        let (i, message_count) = u32_le(i)?;
        let (i, input_value) = i64_le(i)?;
        if input_value < 0 {
            return Err(invalid("negative input value"));
        }
        let (i, utxos) = ListView::parse(
            i,
            MAX_MIX_PAIR_REQ_UTXOS,
            ErrorKind::TooManyMixPairReqUTXOs,
            "pair request UTXOs",
            MixPairReqUtxo::parse,
        )?;
        let (i, has_change) = u8(i)?;
        let (i, change) = match has_change {
            0 => (i, None),
            1 => {
                let (i, out) = TxOut::parse(i)?;
                (i, Some(out))
            }
            _ => return Err(invalid("invalid change output encoding")),
        };
        let (i, flags) = u8(i)?;
        let (i, pairing_flags) = u8(i)?;
        Ok((
            i,
            MixPairReqView {
                signature,
                identity,
                expiry,
                mix_amount,
                script_class,
                tx_version,
                lock_time,
                message_count,
                input_value,
                utxos,
                change,
                flags,
                pairing_flags,
            },
        ))
    }
}

impl<'a> MixPairReq<'a> {
    /// The reference's encode checks, plus the ones that keep what we write
    /// decodable (negative amounts).
    fn check(&self) -> Result<(), Error> {
        check_count(
            self.script_class.len() as u64,
            MAX_MIX_PAIR_REQ_SCRIPT_CLASS_LEN,
            ErrorKind::MixPairReqScriptClassTooLong,
            "script class",
        )?;
        if !is_strict_ascii(self.script_class.as_bytes()) {
            return Err(Error::invalid(
                ErrorKind::MalformedStrictString,
                "script class is not strict ASCII",
            ));
        }
        check_count(
            self.utxos.len() as u64,
            MAX_MIX_PAIR_REQ_UTXOS,
            ErrorKind::TooManyMixPairReqUTXOs,
            "pair request UTXOs",
        )?;
        self.utxos.iter().try_for_each(MixPairReqUtxo::check)?;
        if self.mix_amount < 0 || self.input_value < 0 {
            return Err(invalid("negative amount"));
        }
        Ok(())
    }

    fn write<B: BufMut + ?Sized>(&self, buf: &mut B) {
        buf.put_slice(&self.signature[..]);
        buf.put_slice(&self.identity[..]);
        buf.put_u32_le(self.expiry);
        buf.put_i64_le(self.mix_amount);
        put_var_bytes(buf, self.script_class.as_bytes());
        buf.put_u16_le(self.tx_version);
        buf.put_u32_le(self.lock_time);
        buf.put_u32_le(self.message_count);
        buf.put_i64_le(self.input_value);
        put_var_int(buf, self.utxos.len() as u64);
        for u in &self.utxos {
            u.write(buf);
        }
        match &self.change {
            None => buf.put_u8(0),
            Some(out) => {
                buf.put_u8(1);
                out.write(buf);
            }
        }
        buf.put_u8(self.flags);
        buf.put_u8(self.pairing_flags);
    }

    fn size(&self) -> usize {
        FIXED_SIZE
            + var_bytes_size(self.script_class.as_bytes())
            + var_int_size(self.utxos.len() as u64)
            + self.utxos.iter().map(MixPairReqUtxo::size).sum::<usize>()
            + self.change.as_ref().map_or(0, TxOut::serialized_size)
    }

    fn into_owned(self) -> MixPairReq<'static> {
        MixPairReq {
            signature: own(self.signature),
            identity: own(self.identity),
            expiry: self.expiry,
            mix_amount: self.mix_amount,
            script_class: Cow::Owned(self.script_class.into_owned()),
            tx_version: self.tx_version,
            lock_time: self.lock_time,
            message_count: self.message_count,
            input_value: self.input_value,
            utxos: self
                .utxos
                .into_iter()
                .map(MixPairReqUtxo::into_owned)
                .collect(),
            change: self.change.map(TxOut::into_owned),
            flags: self.flags,
            pairing_flags: self.pairing_flags,
        }
    }
}

mix_payload!(MixPairReq, MixPairReq, 8_476_848);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msg::Payload;

    fn sample() -> MixPairReq<'static> {
        MixPairReq {
            script_class: Cow::Borrowed("P2PKH-secp256k1-v0"),
            mix_amount: 100_000,
            message_count: 2,
            input_value: 300_000,
            utxos: vec![MixPairReqUtxo {
                pub_key: Cow::Owned(vec![2; 33]),
                signature: Cow::Owned(vec![3; 64]),
                opcode: 0xac,
                ..Default::default()
            }],
            change: Some(TxOut {
                value: 99_000,
                version: 0,
                pk_script: Cow::Owned(vec![0x76, 0xa9]),
            }),
            ..Default::default()
        }
    }

    #[test]
    fn round_trip_with_change() {
        let m = sample();
        let mut buf = Vec::new();
        m.encode(&mut buf, 10).unwrap();
        assert_eq!(buf.len(), m.serialized_size(10));
        let (rest, back) = MixPairReq::decode(&buf, 10).unwrap();
        assert!(rest.is_empty());
        assert_eq!(back, m);
    }

    #[test]
    fn encode_checks_in_reference_order() {
        let mut m = sample();
        m.script_class = Cow::Owned("x".repeat(33));
        let mut buf = Vec::new();
        assert_eq!(
            m.encode(&mut buf, 10).unwrap_err().kind(),
            ErrorKind::MixPairReqScriptClassTooLong
        );
        m.script_class = Cow::Borrowed("caf\u{e9}");
        assert_eq!(
            m.encode(&mut buf, 10).unwrap_err().kind(),
            ErrorKind::MalformedStrictString
        );
        m.script_class = Cow::Borrowed("ok");
        m.utxos[0].signature = Cow::Owned(vec![0; 65]);
        assert_eq!(
            m.encode(&mut buf, 10).unwrap_err().kind(),
            ErrorKind::VarBytesTooLong
        );
        m.utxos[0].signature = Cow::Owned(vec![0; 64]);
        m.utxos = vec![m.utxos[0].clone(); MAX_MIX_PAIR_REQ_UTXOS as usize + 1];
        assert_eq!(
            m.encode(&mut buf, 10).unwrap_err().kind(),
            ErrorKind::TooManyMixPairReqUTXOs
        );
        // Two faults at once: the one the reference checks first wins.
        m.script_class = Cow::Owned("x".repeat(33));
        assert_eq!(
            m.encode(&mut buf, 10).unwrap_err().kind(),
            ErrorKind::MixPairReqScriptClassTooLong
        );
        assert!(buf.is_empty(), "nothing written on a refused encode");
    }

    #[test]
    fn bad_change_flag_and_negative_amounts() {
        let m = sample();
        let mut buf = Vec::new();
        m.encode(&mut buf, 10).unwrap();
        // The change flag sits before the change output, flags and pairing flags.
        let flag_at = buf.len() - 2 - m.change.as_ref().unwrap().serialized_size() - 1;
        buf[flag_at] = 2;
        let e = MixPairReq::decode(&buf, 10).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidMsg);
        let mut neg = sample();
        neg.mix_amount = -1;
        let mut out = Vec::new();
        assert_eq!(
            neg.encode(&mut out, 10).unwrap_err().kind(),
            ErrorKind::InvalidMsg
        );
    }
}
