//! Transactions: the `tx` message, its three serializations, and hashing.
//!
//! A Decred transaction is split into a *prefix* (inputs' outpoints and
//! sequences, outputs, lock time, expiry) and a *witness* (inputs' values,
//! block heights and indexes, signature scripts). The upper 16 bits of the
//! version word say which parts a serialization holds:
//!
//! | ser type | holds |
//! | --- | --- |
//! | [`TxSerType::Full`] (0) | prefix, then witness |
//! | [`TxSerType::NoWitness`] (1) | prefix only: what the tx hash covers |
//! | [`TxSerType::OnlyWitness`] (2) | witness only |
//!
//! Because the prefix bytes sit unchanged inside a full serialization (only
//! the version word differs), [`RawTx`] hashes a received transaction
//! straight from its bytes, without re-serializing it.

#[allow(unused_imports)]
use crate::prelude::*;
use alloc::borrow::Cow;

use bytes::BufMut;

use super::{require_pver, Command, Payload};
use crate::error::{Error, ErrorKind};
use crate::hash::{blake256, Hash, HashInput, Hasher};
use crate::primitives::{
    count, hash, i64_le, put_var_bytes, put_var_int, u16_le, u32_le, u8, var_bytes, var_bytes_size,
    var_int, var_int_size, PResult,
};
use crate::protocol::{pver, MAX_MESSAGE_PAYLOAD};
use dcr_blake256::digest_many;

/// The largest block (and so transaction) payload up to protocol version 3.
pub const MAX_BLOCK_PAYLOAD_V3: u32 = 1_000_000;
/// The largest block (and so transaction) payload from protocol version 4.
pub const MAX_BLOCK_PAYLOAD: u32 = 1_310_720;

/// Smallest serialized input prefix plus witness: outpoint (32 + 4 + 1),
/// sequence (4), value (8), height (4), index (4), empty script length (1)
/// would be 58, but the reference bounds input counts by 11 + 32 bytes.
const MIN_TX_IN_PAYLOAD: u32 = 11 + 32;
/// Most inputs one message could hold: the count limit for ErrTooManyTxs.
pub const MAX_TX_IN_PER_MESSAGE: u64 = (MAX_MESSAGE_PAYLOAD / MIN_TX_IN_PAYLOAD) as u64 + 1;
/// Smallest output: value (8), script version (2), empty script length (1)
/// is 11; the reference bounds output counts by 9 bytes.
const MIN_TX_OUT_PAYLOAD: u32 = 9;
/// Most outputs one message could hold: the count limit for ErrTooManyTxs.
pub const MAX_TX_OUT_PER_MESSAGE: u64 = (MAX_MESSAGE_PAYLOAD / MIN_TX_OUT_PAYLOAD) as u64 + 1;
/// Smallest serialized transaction, used to bound per-tree counts.
pub const MIN_TX_PAYLOAD: u32 = 4 + 1 + 1 + 1 + 4 + 4;

/// Smallest byte footprint of one input in a prefix (outpoint + sequence).
const TX_IN_PREFIX_SIZE: usize = 32 + 4 + 1 + 4;
/// Fixed part of one input's witness (value, height, index).
const TX_IN_WITNESS_FIXED: usize = 8 + 4 + 4;
/// Fixed part of one output (value, script version).
const TX_OUT_FIXED: usize = 8 + 2;

/// The initial transaction version, what [`Tx::new`] sets (the
/// reference's `TxVersion`).
pub const TX_VERSION: u16 = 1;
/// The transaction version that enables sequence locks (BIP 68 style
/// relative lock times; `TxVersionSeqLock`).
pub const TX_VERSION_SEQ_LOCK: u16 = 2;
/// The transaction version that enables the decentralized treasury
/// (`TxVersionTreasury`).
pub const TX_VERSION_TREASURY: u16 = 3;

/// The largest sequence number, what [`TxIn::new`] sets: final, and no
/// relative lock time (`MaxTxInSequenceNum`).
pub const MAX_TX_IN_SEQUENCE_NUM: u32 = 0xffff_ffff;
/// The largest output index an outpoint can name (`MaxPrevOutIndex`); a
/// coinbase's input spends the null outpoint, whose index is this.
pub const MAX_PREV_OUT_INDEX: u32 = 0xffff_ffff;
/// The expiry of a transaction that never expires (`NoExpiryValue`).
pub const NO_EXPIRY_VALUE: u32 = 0;
/// An input's value when it is not known (`NullValueIn`).
pub const NULL_VALUE_IN: i64 = -1;
/// An input's block height when it is not known; it names the genesis
/// block (`NullBlockHeight`).
pub const NULL_BLOCK_HEIGHT: u32 = 0;
/// An input's block index when it is not known, what [`TxIn::new`] sets
/// (`NullBlockIndex`).
pub const NULL_BLOCK_INDEX: u32 = 0xffff_ffff;
/// The default public-key script version, extended Decred script, what
/// [`TxOut::new`] sets (`DefaultPkScriptVersion`).
pub const DEFAULT_PK_SCRIPT_VERSION: u16 = 0;

/// Set in an input's sequence number, the number is not a relative lock
/// time (`SequenceLockTimeDisabled`).
pub const SEQUENCE_LOCK_TIME_DISABLED: u32 = 1 << 31;
/// Set in an input's sequence number, its relative lock time counts units
/// of 512 seconds rather than blocks (`SequenceLockTimeIsSeconds`).
pub const SEQUENCE_LOCK_TIME_IS_SECONDS: u32 = 1 << 22;
/// Masks the relative lock time out of a sequence number
/// (`SequenceLockTimeMask`).
pub const SEQUENCE_LOCK_TIME_MASK: u32 = 0x0000_ffff;
/// Seconds are shifted right by this to give a time-based relative lock
/// time: its granularity is 2^9 = 512 seconds
/// (`SequenceLockTimeGranularity`).
pub const SEQUENCE_LOCK_TIME_GRANULARITY: u32 = 9;

/// Which parts of a transaction a serialization holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TxSerType {
    /// Prefix and witness.
    #[default]
    Full,
    /// Prefix only.
    NoWitness,
    /// Witness only.
    OnlyWitness,
}

impl TxSerType {
    /// The value carried in the version word's upper 16 bits.
    pub fn to_u16(self) -> u16 {
        match self {
            TxSerType::Full => 0,
            TxSerType::NoWitness => 1,
            TxSerType::OnlyWitness => 2,
        }
    }

    /// The serialization type for a version word's upper 16 bits.
    pub fn from_u16(v: u16) -> Option<TxSerType> {
        match v {
            0 => Some(TxSerType::Full),
            1 => Some(TxSerType::NoWitness),
            2 => Some(TxSerType::OnlyWitness),
            _ => None,
        }
    }

    fn has_prefix(self) -> bool {
        self != TxSerType::OnlyWitness
    }

    fn has_witness(self) -> bool {
        self != TxSerType::NoWitness
    }
}

/// The serialization type as its number (`SerType`: 0 full, 1 no
/// witness, 2 witness only).
#[cfg(feature = "serde")]
impl serde::Serialize for TxSerType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u16(self.to_u16())
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for TxSerType {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v: u16 = crate::serde_impls::int(d)?;
        TxSerType::from_u16(v).ok_or_else(|| {
            serde::de::Error::custom(format_args!(
                "unknown serialization type {v} (0 full, 1 no witness, 2 witness only)"
            ))
        })
    }
}

/// Transaction tree an outpoint refers to (the reference's `TxTree*`).
pub mod tree {
    /// A tree not known yet, typically for a transaction not yet in a
    /// block.
    pub const UNKNOWN: i8 = -1;
    /// The regular transaction tree.
    pub const REGULAR: i8 = 0;
    /// The stake transaction tree.
    pub const STAKE: i8 = 1;
}

/// A reference to an output of an earlier transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct OutPoint {
    /// Hash of the transaction holding the output.
    #[cfg_attr(feature = "serde", serde(rename = "Hash"))]
    pub hash: Hash,
    /// Index of the output in that transaction.
    #[cfg_attr(
        feature = "serde",
        serde(rename = "Index", deserialize_with = "crate::serde_impls::int")
    )]
    pub index: u32,
    /// Tree of that transaction (see [`tree`]).
    #[cfg_attr(
        feature = "serde",
        serde(rename = "Tree", deserialize_with = "crate::serde_impls::int")
    )]
    pub tree: i8,
}

/// A transaction input. Prefix fields (outpoint, sequence) and witness
/// fields (value, height, index, script) live in different parts of the
/// serialization; a serialization without a part leaves its fields zero.
///
/// Build one with [`TxIn::new`], which sets the reference's defaults.
/// `Default` gives every field zero (sequence 0, block index 0): what the
/// decoder starts from, not a standard input.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct TxIn<'a> {
    /// The output this input spends.
    #[cfg_attr(feature = "serde", serde(rename = "PreviousOutPoint"))]
    pub previous_out_point: OutPoint,
    /// Sequence number (relative lock time when enabled).
    #[cfg_attr(
        feature = "serde",
        serde(rename = "Sequence", deserialize_with = "crate::serde_impls::int")
    )]
    pub sequence: u32,
    /// Amount of the output being spent, in atoms (-1 when unknown).
    #[cfg_attr(
        feature = "serde",
        serde(rename = "ValueIn", deserialize_with = "crate::serde_impls::int")
    )]
    pub value_in: i64,
    /// Height of the block holding the spent output.
    #[cfg_attr(
        feature = "serde",
        serde(rename = "BlockHeight", deserialize_with = "crate::serde_impls::int")
    )]
    pub block_height: u32,
    /// Index of the spent transaction in its block.
    #[cfg_attr(
        feature = "serde",
        serde(rename = "BlockIndex", deserialize_with = "crate::serde_impls::int")
    )]
    pub block_index: u32,
    /// Borrowed from the input when decoded.
    #[cfg_attr(
        feature = "serde",
        serde(rename = "SignatureScript", with = "crate::serde_impls::hex::bytes")
    )]
    pub signature_script: Cow<'a, [u8]>,
}

/// A transaction output. [`TxOut::new`] sets the default script version;
/// `Default` gives value 0, script version 0 and an empty script.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct TxOut<'a> {
    /// Amount in atoms.
    #[cfg_attr(
        feature = "serde",
        serde(rename = "Value", deserialize_with = "crate::serde_impls::int")
    )]
    pub value: i64,
    /// Script version.
    #[cfg_attr(
        feature = "serde",
        serde(rename = "Version", deserialize_with = "crate::serde_impls::int")
    )]
    pub version: u16,
    /// Borrowed from the input when decoded.
    #[cfg_attr(
        feature = "serde",
        serde(rename = "PkScript", with = "crate::serde_impls::hex::bytes")
    )]
    pub pk_script: Cow<'a, [u8]>,
}

/// A transaction (also the `tx` message).
///
/// Build one with [`Tx::new`] (version [`TX_VERSION`], full
/// serialization), as the reference's `NewMsgTx`. `Default` gives version
/// 0, which is not a standard transaction version; it is what the decoder
/// starts from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct Tx<'a> {
    /// Which parts this value was decoded from / will be encoded as.
    #[cfg_attr(feature = "serde", serde(rename = "SerType"))]
    pub ser_type: TxSerType,
    /// Transaction version (lower 16 bits of the version word).
    #[cfg_attr(
        feature = "serde",
        serde(rename = "Version", deserialize_with = "crate::serde_impls::int")
    )]
    pub version: u16,
    /// Inputs (prefix part).
    #[cfg_attr(feature = "serde", serde(rename = "TxIn"))]
    pub inputs: Vec<TxIn<'a>>,
    /// Outputs.
    #[cfg_attr(feature = "serde", serde(rename = "TxOut"))]
    pub outputs: Vec<TxOut<'a>>,
    /// Block height or time before which the transaction is not final.
    #[cfg_attr(
        feature = "serde",
        serde(rename = "LockTime", deserialize_with = "crate::serde_impls::int")
    )]
    pub lock_time: u32,
    /// Block height after which the transaction can no longer be mined
    /// (0: never expires).
    #[cfg_attr(
        feature = "serde",
        serde(rename = "Expiry", deserialize_with = "crate::serde_impls::int")
    )]
    pub expiry: u32,
}

/// What [`walk`] reports while it reads a transaction, so that the
/// structured decoder and the allocation-free scanner share one reader.
trait TxVisitor<'a> {
    fn ser_type(&mut self, _ser_type: TxSerType) {}
    fn prefix_inputs(&mut self, _n: usize, _available: usize) {}
    fn prefix_input(&mut self, _out_point: OutPoint, _sequence: u32) {}
    fn outputs(&mut self, _n: usize, _available: usize) {}
    fn output(&mut self, _out: TxOut<'a>) {}
    fn lock_time_expiry(&mut self, _lock_time: u32, _expiry: u32) {}
    fn witness_inputs(&mut self, _n: usize, _available: usize) {}
    fn witness_input(
        &mut self,
        _i: usize,
        _value: i64,
        _height: u32,
        _index: u32,
        _script: &'a [u8],
    ) {
    }
}

/// Where the parts of a serialized transaction are, as offsets into it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Layout {
    ser_type: TxSerType,
    version: u16,
    /// Offset of the witness section (its input count) in a full
    /// serialization; the end for the others.
    witness_start: usize,
    /// Total length.
    len: usize,
}

impl OutPoint {
    /// Serialized size: hash, index, tree.
    pub const SIZE: usize = 32 + 4 + 1;

    /// The outpoint naming output `index` of transaction `hash` in `tree`
    /// (the reference's `NewOutPoint`).
    pub fn new(hash: Hash, index: u32, tree: i8) -> OutPoint {
        OutPoint { hash, index, tree }
    }

    /// Reads an outpoint: hash, little-endian index, tree byte (the
    /// reference's `ReadOutPoint`). Fewer than [`OutPoint::SIZE`] bytes is
    /// [`Error::UnexpectedEof`].
    pub fn parse(i: &[u8]) -> PResult<'_, OutPoint> {
        Self::parse_fields(i).map_err(|e| e.while_reading("an outpoint"))
    }

    #[inline(always)]
    fn parse_fields(i: &[u8]) -> PResult<'_, OutPoint> {
        let (i, hash) = hash(i)?;
        let (i, index) = u32_le(i)?;
        let (i, tree) = u8(i)?;
        Ok((
            i,
            OutPoint {
                hash,
                index,
                tree: tree as i8,
            },
        ))
    }

    /// Writes the [`OutPoint::SIZE`] bytes (the reference's
    /// `WriteOutPoint`).
    pub fn write<B: BufMut + ?Sized>(&self, buf: &mut B) {
        buf.put_slice(&self.hash.0);
        buf.put_u32_le(self.index);
        buf.put_u8(self.tree as u8);
    }
}

impl core::fmt::Display for OutPoint {
    /// `hash:index`, the hash in display order (the reference's
    /// `OutPoint.String`).
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}:{}", self.hash, self.index)
    }
}

impl<'a> TxIn<'a> {
    /// Bytes the input takes in a prefix serialization: outpoint and
    /// sequence, always 41 (`TxIn.SerializeSizePrefix`).
    pub fn serialized_size_prefix(&self) -> usize {
        TX_IN_PREFIX_SIZE
    }

    /// Bytes the input takes in a witness serialization: value, block
    /// height, block index and the length-prefixed signature script
    /// (`TxIn.SerializeSizeWitness`).
    pub fn serialized_size_witness(&self) -> usize {
        TX_IN_WITNESS_FIXED + var_bytes_size(&self.signature_script)
    }

    /// An input spending `previous_out_point`, worth `value_in` atoms
    /// ([`NULL_VALUE_IN`] when unknown), as the reference's `NewTxIn`
    /// builds it: sequence [`MAX_TX_IN_SEQUENCE_NUM`], block height
    /// [`NULL_BLOCK_HEIGHT`], block index [`NULL_BLOCK_INDEX`].
    pub fn new(
        previous_out_point: OutPoint,
        value_in: i64,
        signature_script: impl Into<Cow<'a, [u8]>>,
    ) -> TxIn<'a> {
        TxIn {
            previous_out_point,
            sequence: MAX_TX_IN_SEQUENCE_NUM,
            value_in,
            block_height: NULL_BLOCK_HEIGHT,
            block_index: NULL_BLOCK_INDEX,
            signature_script: signature_script.into(),
        }
    }
}

impl<'a> TxOut<'a> {
    /// An output of `value` atoms locked by `pk_script`, script version
    /// [`DEFAULT_PK_SCRIPT_VERSION`] (the reference's `NewTxOut`).
    pub fn new(value: i64, pk_script: impl Into<Cow<'a, [u8]>>) -> TxOut<'a> {
        TxOut {
            value,
            version: DEFAULT_PK_SCRIPT_VERSION,
            pk_script: pk_script.into(),
        }
    }

    /// Reads an output; the script is borrowed.
    pub(crate) fn parse(i: &'a [u8]) -> PResult<'a, TxOut<'a>> {
        let (i, value) = i64_le(i)?;
        let (i, version) = u16_le(i)?;
        let (i, script) = var_bytes(
            i,
            MAX_MESSAGE_PAYLOAD.into(),
            "transaction output public key script",
        )?;
        Ok((
            i,
            TxOut {
                value,
                version,
                pk_script: Cow::Borrowed(script),
            },
        ))
    }

    pub(crate) fn write<B: BufMut + ?Sized>(&self, buf: &mut B) {
        buf.put_i64_le(self.value);
        buf.put_u16_le(self.version);
        put_var_bytes(buf, &self.pk_script);
    }

    /// Serialized size of the output.
    pub fn serialized_size(&self) -> usize {
        TX_OUT_FIXED + var_bytes_size(&self.pk_script)
    }

    /// Copies the script so the output no longer borrows.
    pub fn into_owned(self) -> TxOut<'static> {
        TxOut {
            value: self.value,
            version: self.version,
            pk_script: Cow::Owned(self.pk_script.into_owned()),
        }
    }
}

/// Reads one transaction, reporting its parts to `v`, and returns its
/// layout. Checks, in the reference's order, the serialization type, the
/// input and output count limits, script lengths, and that a full
/// serialization's witness has one entry per input.
fn walk<'a, V: TxVisitor<'a>>(input: &'a [u8], v: &mut V) -> PResult<'a, Layout> {
    let (mut i, word) = u32_le(input)?;
    let version = word as u16;
    let Some(ser_type) = TxSerType::from_u16((word >> 16) as u16) else {
        return Err(Error::invalid(
            ErrorKind::UnknownTxType,
            "unsupported transaction serialization type",
        ));
    };
    v.ser_type(ser_type);
    let mut prefix_inputs = 0;
    if ser_type.has_prefix() {
        let (r, n) = count(
            i,
            MAX_TX_IN_PER_MESSAGE,
            ErrorKind::TooManyTxs,
            "transaction inputs",
        )?;
        v.prefix_inputs(n, r.len() / TX_IN_PREFIX_SIZE);
        i = r;
        for _ in 0..n {
            let (r, op) = OutPoint::parse(i)?;
            let (r, sequence) = u32_le(r)?;
            v.prefix_input(op, sequence);
            i = r;
        }
        prefix_inputs = n;
        let (r, n) = count(
            i,
            MAX_TX_OUT_PER_MESSAGE,
            ErrorKind::TooManyTxs,
            "transaction outputs",
        )?;
        v.outputs(n, r.len() / (TX_OUT_FIXED + 1));
        i = r;
        for _ in 0..n {
            let (r, out) = TxOut::parse(i)?;
            v.output(out);
            i = r;
        }
        let (r, lock_time) = u32_le(i)?;
        let (r, expiry) = u32_le(r)?;
        v.lock_time_expiry(lock_time, expiry);
        i = r;
    }
    let witness_start = input.len() - i.len();
    if ser_type.has_witness() {
        let (r, n) = var_int(i)?;
        if ser_type == TxSerType::Full && n != prefix_inputs as u64 {
            return Err(Error::limit(
                ErrorKind::MismatchedWitnessCount,
                "witness inputs (must equal prefix inputs)",
                n,
                prefix_inputs as u64,
            ));
        }
        crate::primitives::check_count(
            n,
            MAX_TX_IN_PER_MESSAGE,
            ErrorKind::TooManyTxs,
            "transaction inputs",
        )?;
        let n = n as usize;
        v.witness_inputs(n, r.len() / (TX_IN_WITNESS_FIXED + 1));
        i = r;
        for idx in 0..n {
            let (r, value) = i64_le(i)?;
            let (r, height) = u32_le(r)?;
            let (r, index) = u32_le(r)?;
            let (r, script) = var_bytes(
                r,
                MAX_MESSAGE_PAYLOAD.into(),
                "transaction input signature script",
            )?;
            v.witness_input(idx, value, height, index, script);
            i = r;
        }
    }
    let len = input.len() - i.len();
    Ok((
        i,
        Layout {
            ser_type,
            version,
            witness_start: if ser_type == TxSerType::Full {
                witness_start
            } else {
                len
            },
            len,
        },
    ))
}

/// Builds a [`Tx`] from what [`walk`] reports.
#[derive(Default)]
struct Builder<'a> {
    tx: Tx<'a>,
}

impl<'a> TxVisitor<'a> for Builder<'a> {
    fn ser_type(&mut self, ser_type: TxSerType) {
        self.tx.ser_type = ser_type;
    }
    fn lock_time_expiry(&mut self, lock_time: u32, expiry: u32) {
        self.tx.lock_time = lock_time;
        self.tx.expiry = expiry;
    }
    fn prefix_inputs(&mut self, n: usize, available: usize) {
        self.tx.inputs.reserve_exact(n.min(available));
    }
    fn prefix_input(&mut self, previous_out_point: OutPoint, sequence: u32) {
        self.tx.inputs.push(TxIn {
            previous_out_point,
            sequence,
            ..TxIn::default()
        });
    }
    fn outputs(&mut self, n: usize, available: usize) {
        self.tx.outputs.reserve_exact(n.min(available));
    }
    fn output(&mut self, out: TxOut<'a>) {
        self.tx.outputs.push(out);
    }
    fn witness_inputs(&mut self, n: usize, available: usize) {
        if self.tx.ser_type == TxSerType::OnlyWitness {
            self.tx.inputs.reserve_exact(n.min(available));
        }
    }
    fn witness_input(
        &mut self,
        i: usize,
        value_in: i64,
        block_height: u32,
        block_index: u32,
        script: &'a [u8],
    ) {
        if self.tx.ser_type == TxSerType::OnlyWitness {
            self.tx.inputs.push(TxIn::default());
        }
        // `walk` guarantees one witness per prefix input in a full
        // serialization, so `i` is in range; `get_mut` keeps that a
        // non-panicking guarantee.
        if let Some(input) = self.tx.inputs.get_mut(i) {
            input.value_in = value_in;
            input.block_height = block_height;
            input.block_index = block_index;
            input.signature_script = Cow::Borrowed(script);
        }
    }
}

/// Reads nothing into memory: used to find and validate transactions.
struct Scanner;
impl TxVisitor<'_> for Scanner {}

impl<'a> Tx<'a> {
    /// An empty transaction as the reference's `NewMsgTx` builds it:
    /// version [`TX_VERSION`], full serialization, no inputs or outputs,
    /// lock time 0 (valid at once), expiry [`NO_EXPIRY_VALUE`].
    pub fn new() -> Tx<'a> {
        Tx {
            ser_type: TxSerType::Full,
            version: TX_VERSION,
            inputs: Vec::new(),
            outputs: Vec::new(),
            lock_time: 0,
            expiry: NO_EXPIRY_VALUE,
        }
    }

    /// Decodes one transaction in any serialization (transactions carry no
    /// protocol-version-dependent fields).
    pub fn parse(input: &'a [u8]) -> PResult<'a, Tx<'a>> {
        let mut b = Builder::default();
        let (rest, layout) = walk(input, &mut b).map_err(|e| e.while_reading("a transaction"))?;
        b.tx.version = layout.version;
        Ok((rest, b.tx))
    }

    /// Decodes a complete serialization (trailing bytes are an error).
    pub fn from_bytes(bytes: &'a [u8]) -> Result<Tx<'a>, Error> {
        let (rest, tx) = Tx::parse(bytes)?;
        crate::primitives::expect_end(rest)?;
        Ok(tx)
    }

    /// The version word: version in the low 16 bits, serialization type in
    /// the high 16.
    fn version_word(&self, ser_type: TxSerType) -> u32 {
        u32::from(self.version) | (u32::from(ser_type.to_u16()) << 16)
    }

    fn prefix_size(&self) -> usize {
        var_int_size(self.inputs.len() as u64)
            + self.inputs.len() * TX_IN_PREFIX_SIZE
            + var_int_size(self.outputs.len() as u64)
            + self
                .outputs
                .iter()
                .map(TxOut::serialized_size)
                .sum::<usize>()
            + 8
    }

    fn witness_size(&self) -> usize {
        var_int_size(self.inputs.len() as u64)
            + self
                .inputs
                .iter()
                .map(TxIn::serialized_size_witness)
                .sum::<usize>()
    }

    /// Serialized size as `ser_type`.
    pub fn size_as(&self, ser_type: TxSerType) -> usize {
        4 + match ser_type {
            TxSerType::Full => self.prefix_size() + self.witness_size(),
            TxSerType::NoWitness => self.prefix_size(),
            TxSerType::OnlyWitness => self.witness_size(),
        }
    }

    fn write_prefix<B: BufMut + ?Sized>(&self, buf: &mut B) {
        put_var_int(buf, self.inputs.len() as u64);
        for i in &self.inputs {
            i.previous_out_point.write(buf);
            buf.put_u32_le(i.sequence);
        }
        put_var_int(buf, self.outputs.len() as u64);
        for o in &self.outputs {
            o.write(buf);
        }
        buf.put_u32_le(self.lock_time);
        buf.put_u32_le(self.expiry);
    }

    fn write_witness<B: BufMut + ?Sized>(&self, buf: &mut B) {
        put_var_int(buf, self.inputs.len() as u64);
        for i in &self.inputs {
            buf.put_i64_le(i.value_in);
            buf.put_u32_le(i.block_height);
            buf.put_u32_le(i.block_index);
            put_var_bytes(buf, &i.signature_script);
        }
    }

    /// Writes the transaction as `ser_type` (whatever [`Tx::ser_type`] is).
    pub fn write_as<B: BufMut + ?Sized>(&self, buf: &mut B, ser_type: TxSerType) {
        buf.put_u32_le(self.version_word(ser_type));
        if ser_type.has_prefix() {
            self.write_prefix(buf);
        }
        if ser_type.has_witness() {
            self.write_witness(buf);
        }
    }

    /// The transaction serialized as `ser_type`.
    pub fn to_bytes_as(&self, ser_type: TxSerType) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.size_as(ser_type));
        self.write_as(&mut out, ser_type);
        out
    }

    /// Byte offset of every output's public-key script in the
    /// serialization (full or prefix-only: the prefix comes first in both),
    /// in output order; empty when there are no outputs, as for a
    /// witness-only transaction (the reference's `MsgTx.PkScriptLocs`).
    /// Script `i` is `bytes[locs[i]..locs[i] + outputs[i].pk_script.len()]`.
    pub fn pk_script_locs(&self) -> Vec<usize> {
        let mut at = 4
            + var_int_size(self.inputs.len() as u64)
            + self.inputs.len() * TX_IN_PREFIX_SIZE
            + var_int_size(self.outputs.len() as u64);
        self.outputs
            .iter()
            .map(|o| {
                at += TX_OUT_FIXED + var_int_size(o.pk_script.len() as u64);
                let loc = at;
                at += o.pk_script.len();
                loc
            })
            .collect()
    }

    /// The transaction hash: BLAKE-256 of the prefix serialization.
    pub fn tx_hash(&self) -> Hash {
        blake256(&self.to_bytes_as(TxSerType::NoWitness))
    }

    /// BLAKE-256 of the witness-only serialization.
    pub fn witness_hash(&self) -> Hash {
        blake256(&self.to_bytes_as(TxSerType::OnlyWitness))
    }

    /// The full hash: BLAKE-256 of tx hash followed by witness hash.
    pub fn full_hash(&self) -> Hash {
        full_hash(&self.tx_hash(), &self.witness_hash())
    }
}

/// The three hashes of one transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TxHashes {
    /// The transaction hash: BLAKE-256 of the prefix serialization.
    pub tx: Hash,
    /// BLAKE-256 of the witness-only serialization.
    pub witness: Hash,
    /// The full hash (the merkle leaf): BLAKE-256 of `tx` then `witness`.
    pub full: Hash,
}

/// The prefix, witness and full hashes of every one of `txs`, in order,
/// hashed many at a time ([`crate::blake256_many`]): first the prefixes
/// and witnesses of all of them read from their bytes, then the full
/// hashes, which are 64-byte messages. The same as [`RawTx::tx_hash`],
/// [`RawTx::witness_hash`] and [`RawTx::full_hash`] one by one.
pub fn tx_hashes_many(txs: &[RawTx<'_>]) -> Vec<TxHashes> {
    let parts = part_hashes(txs, &[TxSerType::NoWitness, TxSerType::OnlyWitness]);
    // Prefix and witness hashes lie interleaved, so each transaction's
    // pair is one contiguous 64-byte message.
    let (pairs, _) = parts.as_flattened().as_chunks::<64>();
    let mut full: Scratch<Hash> = smallvec::smallvec![Hash::ZERO; pairs.len()];
    dcr_blake256::digest_many_64(pairs, &mut full);
    parts
        .chunks_exact(2)
        .zip(full)
        .map(|(p, full)| TxHashes {
            tx: Hash(p[0]),
            witness: Hash(p[1]),
            full,
        })
        .collect()
}

/// The prefix hashes of `txs`, many at a time; see [`tx_hashes_many`].
pub fn prefix_hashes_many(txs: &[RawTx<'_>]) -> Vec<Hash> {
    part_hashes(txs, &[TxSerType::NoWitness])
        .into_iter()
        .map(Hash)
        .collect()
}

/// BLAKE-256 of the `parts` serializations (`NoWitness` for the prefix,
/// `OnlyWitness` for the witness) of every transaction: transaction-major,
/// `parts.len()` digests each.
fn part_hashes(txs: &[RawTx<'_>], parts: &[TxSerType]) -> Scratch<[u8; 32]> {
    let words: Scratch<[u8; 4]> = txs
        .iter()
        .flat_map(|t| parts.iter().map(|p| t.version_word(*p)))
        .collect();
    let mut missing = Vec::new();
    let inputs: Scratch<HashInput<'_>> = txs
        .iter()
        .flat_map(|t| parts.iter().map(move |p| (t, *p)))
        .zip(&words)
        .enumerate()
        .map(|(i, ((t, p), word))| {
            t.part_input(p, word).unwrap_or_else(|| {
                missing.push((i, *t, p));
                HashInput::default()
            })
        })
        .collect();
    let mut out: Scratch<[u8; 32]> = smallvec::smallvec![[0u8; 32]; inputs.len()];
    digest_many(&inputs, &mut out);
    // Parts the bytes do not hold (never the case in a block, whose
    // transactions are full serializations) are re-serialized one by one.
    for (i, t, p) in missing {
        let h = match p {
            TxSerType::OnlyWitness => t.witness_hash(),
            _ => t.tx_hash(),
        };
        out[i] = h.0;
    }
    out
}

/// Scratch space of batched hashing: on the stack for up to 32 entries
/// (the parts of 16 transactions), on the heap beyond.
type Scratch<T> = smallvec::SmallVec<[T; 32]>;

fn full_hash(prefix: &Hash, witness: &Hash) -> Hash {
    let mut h = Hasher::new();
    h.update(&prefix.0).update(&witness.0);
    h.finish()
}

/// The largest `tx` (and `block`) payload at `pver`.
pub fn max_block_payload(pver: u32) -> u32 {
    if pver < pver::MAX_BLOCK_SIZE {
        MAX_BLOCK_PAYLOAD_V3
    } else {
        MAX_BLOCK_PAYLOAD
    }
}

impl<'a> Payload<'a> for Tx<'a> {
    const COMMAND: Command = Command::Tx;
    type Owned = Tx<'static>;

    fn decode(input: &'a [u8], pver: u32) -> PResult<'a, Self> {
        require_pver(Self::COMMAND, pver)?;
        Tx::parse(input)
    }

    fn encode<B: BufMut>(&self, buf: &mut B, pver: u32) -> Result<(), Error> {
        require_pver(Self::COMMAND, pver)?;
        self.write_as(buf, self.ser_type);
        Ok(())
    }

    fn serialized_size(&self, _pver: u32) -> usize {
        self.size_as(self.ser_type)
    }

    fn max_payload_length(pver: u32) -> u32 {
        max_block_payload(pver)
    }

    fn into_owned(self) -> Tx<'static> {
        Tx {
            ser_type: self.ser_type,
            version: self.version,
            inputs: self
                .inputs
                .into_iter()
                .map(|i| TxIn {
                    previous_out_point: i.previous_out_point,
                    sequence: i.sequence,
                    value_in: i.value_in,
                    block_height: i.block_height,
                    block_index: i.block_index,
                    signature_script: Cow::Owned(i.signature_script.into_owned()),
                })
                .collect(),
            outputs: self.outputs.into_iter().map(TxOut::into_owned).collect(),
            lock_time: self.lock_time,
            expiry: self.expiry,
        }
    }
}

/// A validated serialized transaction, borrowed from a block or message:
/// hashes and sizes come straight from its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawTx<'a> {
    bytes: &'a [u8],
    layout: Layout,
}

impl<'a> RawTx<'a> {
    /// Finds and validates one transaction at the start of `input`, without
    /// allocating. Returns it and what follows.
    pub fn parse(input: &'a [u8]) -> PResult<'a, RawTx<'a>> {
        let (rest, layout) =
            walk(input, &mut Scanner).map_err(|e| e.while_reading("a transaction"))?;
        Ok((
            rest,
            RawTx {
                bytes: &input[..layout.len],
                layout,
            },
        ))
    }

    /// The serialized bytes.
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// Serialization type.
    pub fn ser_type(&self) -> TxSerType {
        self.layout.ser_type
    }

    /// Decodes the structured transaction (scripts stay borrowed).
    pub fn to_tx(&self) -> Tx<'a> {
        // Already validated by `parse`; a failure here would be a bug, and
        // still answers with an empty transaction rather than a panic.
        Tx::parse(self.bytes).map(|(_, tx)| tx).unwrap_or_default()
    }

    /// The version word of the `ser_type` serialization of this
    /// transaction, as it is hashed.
    fn version_word(&self, ser_type: TxSerType) -> [u8; 4] {
        (u32::from(self.layout.version) | (u32::from(ser_type.to_u16()) << 16)).to_le_bytes()
    }

    fn hash_part(&self, ser_type: TxSerType, part: &[u8]) -> Hash {
        let mut h = Hasher::new();
        h.update(&self.version_word(ser_type)).update(part);
        h.finish()
    }

    /// What the prefix hash (`TxSerType::NoWitness`) or the witness hash
    /// (`TxSerType::OnlyWitness`) covers, when the received bytes hold it:
    /// `word` is that serialization's version word, the rest is read in
    /// place. `None` when the part must be re-serialized (a witness-only
    /// transaction's prefix, a prefix-only one's witness).
    fn part_input<'w>(&self, part: TxSerType, word: &'w [u8; 4]) -> Option<HashInput<'w>>
    where
        'a: 'w,
    {
        let held = match (self.layout.ser_type, part) {
            (have, want) if have == want => self.bytes.get(4..)?,
            (TxSerType::Full, TxSerType::NoWitness) => {
                self.bytes.get(4..self.layout.witness_start)?
            }
            (TxSerType::Full, TxSerType::OnlyWitness) => {
                self.bytes.get(self.layout.witness_start..)?
            }
            _ => return None,
        };
        Some(HashInput::split(word, held))
    }

    /// The transaction hash (BLAKE-256 of the prefix serialization), read
    /// from the received bytes: the prefix is hashed in place, behind a
    /// rewritten version word.
    pub fn tx_hash(&self) -> Hash {
        match self.layout.ser_type {
            TxSerType::NoWitness => blake256(self.bytes),
            TxSerType::Full => self.hash_part(
                TxSerType::NoWitness,
                &self.bytes[4..self.layout.witness_start],
            ),
            TxSerType::OnlyWitness => self.to_tx().tx_hash(),
        }
    }

    /// BLAKE-256 of the witness-only serialization, from the received bytes
    /// where they hold the witness.
    pub fn witness_hash(&self) -> Hash {
        match self.layout.ser_type {
            TxSerType::OnlyWitness => blake256(self.bytes),
            TxSerType::Full => self.hash_part(
                TxSerType::OnlyWitness,
                &self.bytes[self.layout.witness_start..],
            ),
            TxSerType::NoWitness => self.to_tx().witness_hash(),
        }
    }

    /// The full hash: BLAKE-256 of tx hash followed by witness hash.
    pub fn full_hash(&self) -> Hash {
        full_hash(&self.tx_hash(), &self.witness_hash())
    }
}

impl<'a> RawTx<'a> {
    /// Transaction version (lower 16 bits of the version word).
    pub fn version(&self) -> u16 {
        self.layout.version
    }

    /// The prefix after the version word: the input count onward (empty in
    /// a witness-only serialization).
    fn prefix(&self) -> &'a [u8] {
        if self.layout.ser_type.has_prefix() {
            self.bytes.get(4..self.layout.witness_start).unwrap_or(&[])
        } else {
            &[]
        }
    }

    /// The witness from its input count (empty in a prefix-only
    /// serialization).
    fn witness(&self) -> &'a [u8] {
        match self.layout.ser_type {
            TxSerType::NoWitness => &[],
            TxSerType::OnlyWitness => self.bytes.get(4..).unwrap_or(&[]),
            TxSerType::Full => self.bytes.get(self.layout.witness_start..).unwrap_or(&[]),
        }
    }

    /// Lock time and expiry: the prefix's last 8 bytes (both 0 in a
    /// witness-only serialization, as [`Tx::parse`] leaves them).
    fn lock_time_expiry(&self) -> (u32, u32) {
        let p = self.prefix();
        let word = |back: usize| {
            p.len()
                .checked_sub(back)
                .and_then(|i| p.get(i..i + 4))
                .and_then(|b| b.try_into().ok())
                .map_or(0, u32::from_le_bytes)
        };
        (word(8), word(4))
    }

    /// Block height or time before which the transaction is not final.
    pub fn lock_time(&self) -> u32 {
        self.lock_time_expiry().0
    }

    /// Block height after which the transaction can no longer be mined.
    pub fn expiry(&self) -> u32 {
        self.lock_time_expiry().1
    }

    /// The inputs, each read from the bytes as it is taken: the same
    /// values as the `inputs` of [`RawTx::to_tx`], without allocating (the
    /// fields a serialization lacks are zero, the script borrowed).
    pub fn inputs(&self) -> TxInputs<'a> {
        let counted = |part: &'a [u8]| var_int(part).ok();
        let prefix = counted(self.prefix());
        let witness = counted(self.witness());
        let left = prefix.or(witness).map_or(0, |(_, n)| n as usize);
        TxInputs {
            prefix: prefix.map(|(r, _)| r),
            witness: witness.map(|(r, _)| r),
            left,
        }
    }

    /// The outputs, each read from the bytes as it is taken, scripts
    /// borrowed (none in a witness-only serialization).
    pub fn outputs(&self) -> TxOutputs<'a> {
        let after_inputs = var_int(self.prefix()).ok().and_then(|(r, n)| {
            let skip = usize::try_from(n).ok()?.checked_mul(TX_IN_PREFIX_SIZE)?;
            var_int(r.get(skip..)?).ok()
        });
        let (rest, left) = after_inputs.map_or((&[][..], 0), |(r, n)| (r, n as usize));
        TxOutputs { rest, left }
    }
}

/// The inputs of a [`RawTx`], read in place ([`RawTx::inputs`]).
#[derive(Debug, Clone)]
pub struct TxInputs<'a> {
    /// The next prefix input, when the serialization has a prefix.
    prefix: Option<&'a [u8]>,
    /// The next witness entry, when it has a witness.
    witness: Option<&'a [u8]>,
    left: usize,
}

impl<'a> TxInputs<'a> {
    fn read(&mut self) -> Result<TxIn<'a>, Error> {
        let mut input = TxIn::default();
        if let Some(p) = self.prefix {
            let (r, op) = OutPoint::parse(p)?;
            let (r, sequence) = u32_le(r)?;
            (input.previous_out_point, input.sequence) = (op, sequence);
            self.prefix = Some(r);
        }
        if let Some(w) = self.witness {
            let (r, value_in) = i64_le(w)?;
            let (r, block_height) = u32_le(r)?;
            let (r, block_index) = u32_le(r)?;
            let (r, script) = var_bytes(
                r,
                MAX_MESSAGE_PAYLOAD.into(),
                "transaction input signature script",
            )?;
            input.value_in = value_in;
            input.block_height = block_height;
            input.block_index = block_index;
            input.signature_script = Cow::Borrowed(script);
            self.witness = Some(r);
        }
        Ok(input)
    }
}

impl<'a> Iterator for TxInputs<'a> {
    type Item = TxIn<'a>;

    fn next(&mut self) -> Option<TxIn<'a>> {
        if self.left == 0 {
            return None;
        }
        // The bytes were validated by `RawTx::parse`: a failure here would
        // be a bug, and ends the list rather than panicking.
        let input = self.read().ok();
        self.left = if input.is_some() { self.left - 1 } else { 0 };
        input
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for TxInputs<'_> {}

/// The outputs of a [`RawTx`], read in place ([`RawTx::outputs`]).
#[derive(Debug, Clone)]
pub struct TxOutputs<'a> {
    rest: &'a [u8],
    left: usize,
}

impl<'a> Iterator for TxOutputs<'a> {
    type Item = TxOut<'a>;

    fn next(&mut self) -> Option<TxOut<'a>> {
        if self.left == 0 {
            return None;
        }
        // Validated by `RawTx::parse`, as for the inputs.
        match TxOut::parse(self.rest) {
            Ok((rest, out)) => {
                self.rest = rest;
                self.left -= 1;
                Some(out)
            }
            Err(_) => {
                self.left = 0;
                None
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for TxOutputs<'_> {}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    fn arb_bytes() -> impl Strategy<Value = Cow<'static, [u8]>> {
        proptest::collection::vec(any::<u8>(), 0..40).prop_map(Cow::Owned)
    }

    pub fn arb_tx_as(ser_type: TxSerType) -> impl Strategy<Value = Tx<'static>> {
        let input = (any::<[u8; 32]>(), any::<u32>(), any::<i8>(), any::<u32>())
            .prop_flat_map(|p| {
                (
                    Just(p),
                    any::<i64>(),
                    any::<u32>(),
                    any::<u32>(),
                    arb_bytes(),
                )
            })
            .prop_map(move |((h, idx, tree, seq), value_in, bh, bi, script)| {
                let mut i = TxIn {
                    previous_out_point: OutPoint {
                        hash: Hash(h),
                        index: idx,
                        tree,
                    },
                    sequence: seq,
                    value_in,
                    block_height: bh,
                    block_index: bi,
                    signature_script: script,
                };
                if !ser_type.has_prefix() {
                    i.previous_out_point = OutPoint::default();
                    i.sequence = 0;
                }
                if !ser_type.has_witness() {
                    i = TxIn {
                        previous_out_point: i.previous_out_point,
                        sequence: i.sequence,
                        ..TxIn::default()
                    };
                }
                i
            });
        let output =
            (any::<i64>(), any::<u16>(), arb_bytes()).prop_map(|(value, version, pk_script)| {
                TxOut {
                    value,
                    version,
                    pk_script,
                }
            });
        (
            any::<u16>(),
            proptest::collection::vec(input, 0..5),
            proptest::collection::vec(output, 0..5),
            any::<u32>(),
            any::<u32>(),
        )
            .prop_map(move |(version, inputs, mut outputs, lock_time, expiry)| {
                let prefix = ser_type.has_prefix();
                if !prefix {
                    outputs.clear();
                }
                Tx {
                    ser_type,
                    version,
                    inputs,
                    outputs,
                    lock_time: if prefix { lock_time } else { 0 },
                    expiry: if prefix { expiry } else { 0 },
                }
            })
    }

    pub fn arb_tx() -> impl Strategy<Value = Tx<'static>> {
        prop_oneof![
            arb_tx_as(TxSerType::Full),
            arb_tx_as(TxSerType::NoWitness),
            arb_tx_as(TxSerType::OnlyWitness)
        ]
    }

    proptest! {
        #[test]
        fn tx_round_trip(tx in arb_tx()) {
            let mut buf = Vec::new();
            tx.encode(&mut buf, pver::CURRENT).unwrap();
            prop_assert_eq!(buf.len(), tx.serialized_size(pver::CURRENT));
            let back = Tx::from_bytes(&buf).unwrap();
            prop_assert_eq!(&back, &tx);
            let (rest, raw) = RawTx::parse(&buf).unwrap();
            prop_assert!(rest.is_empty());
            prop_assert_eq!(raw.bytes(), &buf[..]);
            prop_assert_eq!(raw.tx_hash(), tx.tx_hash());
            prop_assert_eq!(raw.witness_hash(), tx.witness_hash());
        }

        #[test]
        fn pk_script_locs_point_at_the_scripts(tx in arb_tx()) {
            let bytes = tx.to_bytes_as(tx.ser_type);
            let locs = tx.pk_script_locs();
            prop_assert_eq!(locs.len(), tx.outputs.len());
            for (at, out) in locs.iter().zip(&tx.outputs) {
                prop_assert_eq!(&bytes[*at..at + out.pk_script.len()], &out.pk_script[..]);
            }
        }

        #[test]
        fn prefix_hash_from_full_bytes(tx in arb_tx_as(TxSerType::Full)) {
            let full = tx.to_bytes_as(TxSerType::Full);
            let prefix = tx.to_bytes_as(TxSerType::NoWitness);
            let (_, raw) = RawTx::parse(&full).unwrap();
            prop_assert_eq!(raw.tx_hash(), blake256(&prefix));
            prop_assert_eq!(raw.witness_hash(), blake256(&tx.to_bytes_as(TxSerType::OnlyWitness)));
        }
    }

    fn kind(bytes: &[u8]) -> ErrorKind {
        Tx::parse(bytes).unwrap_err().kind()
    }

    #[test]
    fn unknown_serialization_type() {
        assert_eq!(kind(&[1, 0, 3, 0]), ErrorKind::UnknownTxType);
    }

    #[test]
    fn input_and_output_count_limits() {
        let mut b = vec![1, 0, 0, 0, 0xfe];
        b.extend_from_slice(&((MAX_TX_IN_PER_MESSAGE + 1) as u32).to_le_bytes());
        assert_eq!(kind(&b), ErrorKind::TooManyTxs);
        let mut b = vec![1, 0, 1, 0, 0, 0xfe];
        b.extend_from_slice(&((MAX_TX_OUT_PER_MESSAGE + 1) as u32).to_le_bytes());
        assert_eq!(kind(&b), ErrorKind::TooManyTxs);
        assert_eq!(MAX_TX_IN_PER_MESSAGE, 780_336);
        assert_eq!(MAX_TX_OUT_PER_MESSAGE, 3_728_271);
    }

    #[test]
    fn witness_count_must_match_prefix() {
        // Full tx, no inputs, no outputs, lock time, expiry, then a witness
        // claiming one input.
        let mut b = vec![1, 0, 0, 0, 0, 0];
        b.extend_from_slice(&[0; 8]);
        b.push(1);
        assert_eq!(kind(&b), ErrorKind::MismatchedWitnessCount);
    }

    #[test]
    fn huge_script_length_refused_without_allocating() {
        // Prefix tx with one output whose script claims 2^40 bytes.
        let mut b = vec![1, 0, 1, 0, 0, 1];
        b.extend_from_slice(&[0; 10]);
        b.push(0xff);
        b.extend_from_slice(&(1u64 << 40).to_le_bytes());
        assert_eq!(kind(&b), ErrorKind::VarBytesTooLong);
    }

    #[test]
    fn constructors_set_the_reference_defaults() {
        let tx = Tx::new();
        assert_eq!((tx.version, tx.ser_type), (1, TxSerType::Full));
        assert_eq!((tx.lock_time, tx.expiry), (0, 0));
        assert!(tx.inputs.is_empty() && tx.outputs.is_empty());
        // Default is the decoder's zero state, not the reference's default.
        assert_eq!(Tx::default().version, 0);

        let op = OutPoint::new(Hash([7; 32]), 3, tree::STAKE);
        let input = TxIn::new(op, 5000, vec![0x51]);
        assert_eq!(input.previous_out_point, op);
        assert_eq!(input.sequence, 0xffff_ffff);
        assert_eq!(input.value_in, 5000);
        assert_eq!(input.block_height, 0);
        assert_eq!(input.block_index, 0xffff_ffff);
        assert_eq!(&input.signature_script[..], &[0x51]);
        assert_eq!(TxIn::default().sequence, 0);
        assert_eq!(TxIn::default().block_index, 0);

        let out = TxOut::new(42, &[0x6a][..]);
        assert_eq!(
            (out.value, out.version, &out.pk_script[..]),
            (42, 0, &[0x6a][..])
        );
    }

    #[test]
    fn outpoint_display_read_and_write() {
        let mut h = [0u8; 32];
        h[31] = 0xab;
        let op = OutPoint::new(Hash(h), 4_294_967_295, tree::REGULAR);
        let text = op.to_string();
        assert_eq!(text, format!("ab{}:4294967295", "0".repeat(62)));
        let mut buf = Vec::new();
        op.write(&mut buf);
        assert_eq!(buf.len(), OutPoint::SIZE);
        assert_eq!(OutPoint::parse(&buf), Ok((&[][..], op)));
        assert_eq!(
            OutPoint::parse(&buf[..36]).unwrap_err(),
            Error::eof(1).while_reading("an outpoint")
        );
    }

    #[test]
    fn input_part_sizes_add_up() {
        let input = TxIn::new(OutPoint::default(), 1, vec![0u8; 300]);
        assert_eq!(input.serialized_size_prefix(), 41);
        // 8 + 4 + 4, a 3-byte length, 300 script bytes.
        assert_eq!(input.serialized_size_witness(), 319);
        let tx = Tx {
            inputs: vec![input.clone(), input],
            ..Tx::new()
        };
        // Version word and input count of each part, lock time and expiry,
        // the output count.
        assert_eq!(
            tx.size_as(TxSerType::Full),
            4 + 1 + 2 * 41 + 1 + 8 + 1 + 2 * 319
        );
    }

    #[test]
    fn sequence_lock_time_values() {
        // A time-based lock of 1024 seconds, as the reference encodes one.
        let seq = SEQUENCE_LOCK_TIME_IS_SECONDS | (1024 >> SEQUENCE_LOCK_TIME_GRANULARITY);
        assert_eq!(seq, 0x0040_0002);
        assert_eq!(seq & SEQUENCE_LOCK_TIME_MASK, 2);
        assert_eq!(SEQUENCE_LOCK_TIME_DISABLED, 0x8000_0000);
        assert_ne!(MAX_TX_IN_SEQUENCE_NUM & SEQUENCE_LOCK_TIME_DISABLED, 0);
    }

    #[test]
    fn block_payload_limits_by_version() {
        assert_eq!(max_block_payload(3), 1_000_000);
        assert_eq!(max_block_payload(4), 1_310_720);
    }
}
