//! Committed filters.
//!
//! Version 1 (`getcfilter`, `getcfheaders`, `cfilter`, `cfheaders`,
//! `cftypes`; `getcftypes` is in `empty`): from protocol version 6. dcrd no
//! longer serves them, but its codec still reads them at every later
//! version, and so does this one.
//!
//! Version 2 (`getcfilterv2`, `cfilterv2` from protocol version 7; the
//! batched `getcfsv2`, `cfiltersv2` from 11): a filter with the inclusion
//! proof of its commitment in the block header.

#[allow(unused_imports)]
use crate::prelude::*;
use alloc::borrow::Cow;

use bytes::BufMut;

use super::list::ListView;
use super::locator::MAX_BLOCK_LOCATORS_PER_MSG;
use super::{require_pver, Command, Payload};
use crate::error::{Error, ErrorKind};
use crate::hash::{Hash, HASH_SIZE};
use crate::primitives::{
    check_count, hash, hashes_size, list, put_hashes, put_var_bytes, put_var_int, u32_le, u8,
    var_bytes, var_bytes_size, var_int_size, PResult,
};

/// Largest filter, in bytes.
pub const MAX_CFILTER_DATA_SIZE: u64 = 256 * 1024;
/// Serialized size of one version 1 filter header: a hash, exactly
/// (the reference's `MaxCFHeaderPayload`).
pub const MAX_CF_HEADER_PAYLOAD: usize = HASH_SIZE;
/// Most filter headers in one `cfheaders`.
pub const MAX_CF_HEADERS_PER_MSG: u64 = 2000;
/// Most filter types in one `cftypes`.
pub const MAX_FILTER_TYPES_PER_MSG: u64 = 256;
/// Most proof hashes with one version 2 filter.
pub const MAX_HEADER_PROOF_HASHES: u64 = 32;
/// Most filters in one `cfiltersv2` batch.
pub const MAX_CFILTERS_V2_PER_BATCH: u64 = 100;

/// A version 1 committed filter's type, one byte on the wire (the
/// reference's `FilterType`). Values other than the two named are carried
/// as they are: the codec does not judge them, as the reference's does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct FilterType(pub u8);

impl FilterType {
    /// The regular filter (`GCSFilterRegular`).
    pub const REGULAR: FilterType = FilterType(0);
    /// The extended filter (`GCSFilterExtended`).
    pub const EXTENDED: FilterType = FilterType(1);
}

impl From<u8> for FilterType {
    fn from(v: u8) -> Self {
        FilterType(v)
    }
}

impl From<FilterType> for u8 {
    fn from(t: FilterType) -> u8 {
        t.0
    }
}

fn filter_type(i: &[u8]) -> PResult<'_, FilterType> {
    let (i, t) = u8(i)?;
    Ok((i, FilterType(t)))
}

/// A filter's data: var-bytes of at most [`MAX_CFILTER_DATA_SIZE`].
fn filter_data(i: &[u8]) -> PResult<'_, &[u8]> {
    var_bytes(i, MAX_CFILTER_DATA_SIZE, "filter data")
}

fn hashes<'a>(
    i: &'a [u8],
    max: u64,
    kind: ErrorKind,
    what: &'static str,
) -> PResult<'a, Vec<Hash>> {
    list(i, max, kind, what, HASH_SIZE, hash)
}

/// The same list read in place, for the views.
fn hashes_view<'a>(
    i: &'a [u8],
    max: u64,
    kind: ErrorKind,
    what: &'static str,
) -> PResult<'a, ListView<'a, Hash>> {
    ListView::parse(i, max, kind, what, hash)
}

fn check_data(data: &[u8]) -> Result<(), Error> {
    check_count(
        data.len() as u64,
        MAX_CFILTER_DATA_SIZE,
        ErrorKind::VarBytesTooLong,
        "filter data",
    )?;
    Ok(())
}

/// Implements the parts of `Payload` that every filter message shares.
macro_rules! owned_payload {
    () => {
        fn into_owned(self) -> Self::Owned {
            self
        }
    };
}

/// `getcfilter`: asks for a block's version 1 filter.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct GetCFilter {
    /// The block whose filter is asked for.
    #[cfg_attr(feature = "serde", serde(rename = "BlockHash"))]
    pub block_hash: Hash,
    /// Which filter (regular or extended).
    #[cfg_attr(feature = "serde", serde(rename = "FilterType"))]
    pub filter_type: FilterType,
}

impl<'a> Payload<'a> for GetCFilter {
    const COMMAND: Command = Command::GetCFilter;
    type Owned = GetCFilter;

    fn decode(input: &'a [u8], pv: u32) -> PResult<'a, Self> {
        require_pver(Self::COMMAND, pv)?;
        let (i, block_hash) = hash(input)?;
        let (i, filter_type) = filter_type(i)?;
        Ok((
            i,
            GetCFilter {
                block_hash,
                filter_type,
            },
        ))
    }

    fn encode<B: BufMut>(&self, buf: &mut B, pv: u32) -> Result<(), Error> {
        require_pver(Self::COMMAND, pv)?;
        buf.put_slice(&self.block_hash.0);
        buf.put_u8(self.filter_type.0);
        Ok(())
    }

    fn serialized_size(&self, _pver: u32) -> usize {
        HASH_SIZE + 1
    }

    fn max_payload_length(_pver: u32) -> u32 {
        HASH_SIZE as u32 + 1
    }

    owned_payload!();
}

/// `getcfheaders`: asks for version 1 filter headers after a locator.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct GetCFHeaders {
    /// Block locator: hashes from the tip back, sparser with depth.
    #[cfg_attr(feature = "serde", serde(rename = "BlockLocatorHashes"))]
    pub block_locator_hashes: Vec<Hash>,
    /// The last block wanted.
    #[cfg_attr(feature = "serde", serde(rename = "HashStop"))]
    pub hash_stop: Hash,
    /// Which filter (regular or extended).
    #[cfg_attr(feature = "serde", serde(rename = "FilterType"))]
    pub filter_type: FilterType,
}

/// A `getcfheaders` payload with its locator read in place: the zero-copy
/// form of [`GetCFHeaders`], with its checks and errors. At most
/// [`MAX_BLOCK_LOCATORS_PER_MSG`] hashes (ErrTooManyLocators).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GetCFHeadersView<'a> {
    /// Block locator: hashes from the tip back, sparser with depth.
    pub block_locator_hashes: ListView<'a, Hash>,
    /// The last block wanted.
    pub hash_stop: Hash,
    /// Which filter (regular or extended).
    pub filter_type: FilterType,
}

impl<'a> GetCFHeadersView<'a> {
    /// Reads the fields from the front of `input` (no version gate).
    pub fn parse(input: &'a [u8]) -> PResult<'a, GetCFHeadersView<'a>> {
        let (i, block_locator_hashes) = hashes_view(
            input,
            MAX_BLOCK_LOCATORS_PER_MSG,
            ErrorKind::TooManyLocators,
            "block locator hashes",
        )?;
        let (i, hash_stop) = hash(i)?;
        let (i, filter_type) = filter_type(i)?;
        Ok((
            i,
            GetCFHeadersView {
                block_locator_hashes,
                hash_stop,
                filter_type,
            },
        ))
    }
}

impl<'a> Payload<'a> for GetCFHeaders {
    const COMMAND: Command = Command::GetCFHeaders;
    type Owned = GetCFHeaders;

    fn decode(input: &'a [u8], pv: u32) -> PResult<'a, Self> {
        require_pver(Self::COMMAND, pv)?;
        let (i, block_locator_hashes) = hashes(
            input,
            MAX_BLOCK_LOCATORS_PER_MSG,
            ErrorKind::TooManyLocators,
            "block locator hashes",
        )?;
        let (i, hash_stop) = hash(i)?;
        let (i, filter_type) = filter_type(i)?;
        Ok((
            i,
            GetCFHeaders {
                block_locator_hashes,
                hash_stop,
                filter_type,
            },
        ))
    }

    fn encode<B: BufMut>(&self, buf: &mut B, pv: u32) -> Result<(), Error> {
        require_pver(Self::COMMAND, pv)?;
        check_count(
            self.block_locator_hashes.len() as u64,
            MAX_BLOCK_LOCATORS_PER_MSG,
            ErrorKind::TooManyLocators,
            "block locator hashes",
        )?;
        put_hashes(buf, &self.block_locator_hashes);
        buf.put_slice(&self.hash_stop.0);
        buf.put_u8(self.filter_type.0);
        Ok(())
    }

    fn serialized_size(&self, _pver: u32) -> usize {
        hashes_size(&self.block_locator_hashes) + HASH_SIZE + 1
    }

    fn max_payload_length(_pver: u32) -> u32 {
        (var_int_size(MAX_BLOCK_LOCATORS_PER_MSG)
            + MAX_BLOCK_LOCATORS_PER_MSG as usize * HASH_SIZE
            + HASH_SIZE
            + 1) as u32
    }

    owned_payload!();
}

/// `cfilter`: a block's version 1 filter.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct CFilter<'a> {
    /// The block the filter belongs to.
    #[cfg_attr(feature = "serde", serde(rename = "BlockHash"))]
    pub block_hash: Hash,
    /// Which filter (regular or extended).
    #[cfg_attr(feature = "serde", serde(rename = "FilterType"))]
    pub filter_type: FilterType,
    /// Borrowed from the input when decoded.
    #[cfg_attr(
        feature = "serde",
        serde(rename = "Data", with = "crate::serde_impls::hex::bytes")
    )]
    pub data: Cow<'a, [u8]>,
}

impl<'a> Payload<'a> for CFilter<'a> {
    const COMMAND: Command = Command::CFilter;
    type Owned = CFilter<'static>;

    fn decode(input: &'a [u8], pv: u32) -> PResult<'a, Self> {
        require_pver(Self::COMMAND, pv)?;
        let (i, block_hash) = hash(input)?;
        let (i, filter_type) = filter_type(i)?;
        let (i, data) = filter_data(i)?;
        Ok((
            i,
            CFilter {
                block_hash,
                filter_type,
                data: Cow::Borrowed(data),
            },
        ))
    }

    fn encode<B: BufMut>(&self, buf: &mut B, pv: u32) -> Result<(), Error> {
        require_pver(Self::COMMAND, pv)?;
        check_data(&self.data)?;
        buf.put_slice(&self.block_hash.0);
        buf.put_u8(self.filter_type.0);
        put_var_bytes(buf, &self.data);
        Ok(())
    }

    fn serialized_size(&self, _pver: u32) -> usize {
        HASH_SIZE + 1 + var_bytes_size(&self.data)
    }

    fn max_payload_length(_pver: u32) -> u32 {
        (var_int_size(MAX_CFILTER_DATA_SIZE) + MAX_CFILTER_DATA_SIZE as usize + HASH_SIZE + 1)
            as u32
    }

    fn into_owned(self) -> CFilter<'static> {
        CFilter {
            block_hash: self.block_hash,
            filter_type: self.filter_type,
            data: Cow::Owned(self.data.into_owned()),
        }
    }
}

/// `cfheaders`: version 1 filter headers.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct CFHeaders {
    /// The last block the headers cover.
    #[cfg_attr(feature = "serde", serde(rename = "StopHash"))]
    pub stop_hash: Hash,
    /// Which filter (regular or extended).
    #[cfg_attr(feature = "serde", serde(rename = "FilterType"))]
    pub filter_type: FilterType,
    /// The filter header hashes, in block order.
    #[cfg_attr(feature = "serde", serde(rename = "HeaderHashes"))]
    pub header_hashes: Vec<Hash>,
}

/// A `cfheaders` payload with its hashes read in place: the zero-copy form
/// of [`CFHeaders`], with its checks and errors. At most [`MAX_CF_HEADERS_PER_MSG`]
/// hashes (ErrTooManyFilterHeaders).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CFHeadersView<'a> {
    /// The last block the headers cover.
    pub stop_hash: Hash,
    /// Which filter (regular or extended).
    pub filter_type: FilterType,
    /// The filter header hashes, in block order.
    pub header_hashes: ListView<'a, Hash>,
}

impl<'a> CFHeadersView<'a> {
    /// Reads the fields from the front of `input` (no version gate).
    pub fn parse(input: &'a [u8]) -> PResult<'a, CFHeadersView<'a>> {
        let (i, stop_hash) = hash(input)?;
        let (i, filter_type) = filter_type(i)?;
        let (i, header_hashes) = hashes_view(
            i,
            MAX_CF_HEADERS_PER_MSG,
            ErrorKind::TooManyFilterHeaders,
            "filter headers",
        )?;
        Ok((
            i,
            CFHeadersView {
                stop_hash,
                filter_type,
                header_hashes,
            },
        ))
    }
}

impl<'a> Payload<'a> for CFHeaders {
    const COMMAND: Command = Command::CFHeaders;
    type Owned = CFHeaders;

    fn decode(input: &'a [u8], pv: u32) -> PResult<'a, Self> {
        require_pver(Self::COMMAND, pv)?;
        let (i, stop_hash) = hash(input)?;
        let (i, filter_type) = filter_type(i)?;
        let (i, header_hashes) = hashes(
            i,
            MAX_CF_HEADERS_PER_MSG,
            ErrorKind::TooManyFilterHeaders,
            "filter headers",
        )?;
        Ok((
            i,
            CFHeaders {
                stop_hash,
                filter_type,
                header_hashes,
            },
        ))
    }

    fn encode<B: BufMut>(&self, buf: &mut B, pv: u32) -> Result<(), Error> {
        require_pver(Self::COMMAND, pv)?;
        check_count(
            self.header_hashes.len() as u64,
            MAX_CF_HEADERS_PER_MSG,
            ErrorKind::TooManyFilterHeaders,
            "filter headers",
        )?;
        buf.put_slice(&self.stop_hash.0);
        buf.put_u8(self.filter_type.0);
        put_hashes(buf, &self.header_hashes);
        Ok(())
    }

    fn serialized_size(&self, _pver: u32) -> usize {
        HASH_SIZE + 1 + hashes_size(&self.header_hashes)
    }

    fn max_payload_length(_pver: u32) -> u32 {
        (HASH_SIZE
            + 1
            + var_int_size(MAX_CF_HEADERS_PER_MSG)
            + MAX_CF_HEADERS_PER_MSG as usize * HASH_SIZE) as u32
    }

    owned_payload!();
}

/// `cftypes`: the version 1 filter types a node serves (one byte each).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct CFTypes<'a> {
    /// Borrowed from the input when decoded.
    #[cfg_attr(
        feature = "serde",
        serde(rename = "SupportedFilters", with = "crate::serde_impls::hex::bytes")
    )]
    pub supported_filters: Cow<'a, [u8]>,
}

impl CFTypes<'_> {
    /// The supported filter types, in order.
    pub fn filter_types(&self) -> impl Iterator<Item = FilterType> + '_ {
        self.supported_filters.iter().copied().map(FilterType)
    }
}

impl<'a> Payload<'a> for CFTypes<'a> {
    const COMMAND: Command = Command::CFTypes;
    type Owned = CFTypes<'static>;

    fn decode(input: &'a [u8], pv: u32) -> PResult<'a, Self> {
        require_pver(Self::COMMAND, pv)?;
        let (i, n) = crate::primitives::count(
            input,
            MAX_FILTER_TYPES_PER_MSG,
            ErrorKind::TooManyFilterTypes,
            "filter types",
        )?;
        let (i, types) = crate::primitives::take(i, n)?;
        Ok((
            i,
            CFTypes {
                supported_filters: Cow::Borrowed(types),
            },
        ))
    }

    fn encode<B: BufMut>(&self, buf: &mut B, pv: u32) -> Result<(), Error> {
        require_pver(Self::COMMAND, pv)?;
        check_count(
            self.supported_filters.len() as u64,
            MAX_FILTER_TYPES_PER_MSG,
            ErrorKind::TooManyFilterTypes,
            "filter types",
        )?;
        put_var_bytes(buf, &self.supported_filters);
        Ok(())
    }

    fn serialized_size(&self, _pver: u32) -> usize {
        var_bytes_size(&self.supported_filters)
    }

    fn max_payload_length(_pver: u32) -> u32 {
        (var_int_size(MAX_FILTER_TYPES_PER_MSG) + MAX_FILTER_TYPES_PER_MSG as usize) as u32
    }

    fn into_owned(self) -> CFTypes<'static> {
        CFTypes {
            supported_filters: Cow::Owned(self.supported_filters.into_owned()),
        }
    }
}

/// `getcfilterv2`: asks for a block's version 2 filter.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct GetCFilterV2 {
    /// The block whose version 2 filter is asked for.
    #[cfg_attr(feature = "serde", serde(rename = "BlockHash"))]
    pub block_hash: Hash,
}

impl<'a> Payload<'a> for GetCFilterV2 {
    const COMMAND: Command = Command::GetCFilterV2;
    type Owned = GetCFilterV2;

    fn decode(input: &'a [u8], pv: u32) -> PResult<'a, Self> {
        require_pver(Self::COMMAND, pv)?;
        let (i, block_hash) = hash(input)?;
        Ok((i, GetCFilterV2 { block_hash }))
    }

    fn encode<B: BufMut>(&self, buf: &mut B, pv: u32) -> Result<(), Error> {
        require_pver(Self::COMMAND, pv)?;
        buf.put_slice(&self.block_hash.0);
        Ok(())
    }

    fn serialized_size(&self, _pver: u32) -> usize {
        HASH_SIZE
    }

    fn max_payload_length(_pver: u32) -> u32 {
        HASH_SIZE as u32
    }

    owned_payload!();
}

/// `cfilterv2`: a block's version 2 filter with the proof that the header
/// commits to it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct CFilterV2<'a> {
    /// The block the filter belongs to.
    #[cfg_attr(feature = "serde", serde(rename = "BlockHash"))]
    pub block_hash: Hash,
    /// Borrowed from the input when decoded.
    #[cfg_attr(
        feature = "serde",
        serde(rename = "Data", with = "crate::serde_impls::hex::bytes")
    )]
    pub data: Cow<'a, [u8]>,
    /// Leaf index of the filter in the header commitment tree.
    #[cfg_attr(
        feature = "serde",
        serde(rename = "ProofIndex", deserialize_with = "crate::serde_impls::int")
    )]
    pub proof_index: u32,
    /// The inclusion proof: sibling hashes from the leaf up.
    #[cfg_attr(feature = "serde", serde(rename = "ProofHashes"))]
    pub proof_hashes: Vec<Hash>,
}

/// A `cfilterv2` payload read in place, its data and proof borrowed: the
/// zero-copy form of [`CFilterV2`], with its checks and errors, and the item of a
/// `cfiltersv2` batch. Data of at most [`MAX_CFILTER_DATA_SIZE`] bytes
/// (ErrVarBytesTooLong) and at most [`MAX_HEADER_PROOF_HASHES`] proof
/// hashes (ErrTooManyProofs), as dcrd's `MsgCFilterV2.BtcDecode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CFilterV2View<'a> {
    /// The block the filter belongs to.
    pub block_hash: Hash,
    /// The filter's bytes.
    pub data: &'a [u8],
    /// Leaf index of the filter in the header commitment tree.
    pub proof_index: u32,
    /// The inclusion proof: sibling hashes from the leaf up.
    pub proof_hashes: ListView<'a, Hash>,
}

impl<'a> CFilterV2View<'a> {
    /// Reads the fields from the front of `input` (no version gate).
    pub fn parse(input: &'a [u8]) -> PResult<'a, CFilterV2View<'a>> {
        let (i, block_hash) = hash(input)?;
        let (i, data) = filter_data(i)?;
        let (i, proof_index) = u32_le(i)?;
        let (i, proof_hashes) = hashes_view(
            i,
            MAX_HEADER_PROOF_HASHES,
            ErrorKind::TooManyProofs,
            "proof hashes",
        )?;
        Ok((
            i,
            CFilterV2View {
                block_hash,
                data,
                proof_index,
                proof_hashes,
            },
        ))
    }
}

/// The filter with its proof collected (one allocation); the data stays
/// borrowed.
impl<'a> From<CFilterV2View<'a>> for CFilterV2<'a> {
    fn from(v: CFilterV2View<'a>) -> CFilterV2<'a> {
        CFilterV2 {
            block_hash: v.block_hash,
            data: Cow::Borrowed(v.data),
            proof_index: v.proof_index,
            proof_hashes: v.proof_hashes.to_vec(),
        }
    }
}

impl<'a> CFilterV2<'a> {
    /// Reads the fields (no version gate: `cfiltersv2` reuses this).
    fn parse(input: &'a [u8]) -> PResult<'a, CFilterV2<'a>> {
        let (i, block_hash) = hash(input)?;
        let (i, data) = filter_data(i)?;
        let (i, proof_index) = u32_le(i)?;
        let (i, proof_hashes) = hashes(
            i,
            MAX_HEADER_PROOF_HASHES,
            ErrorKind::TooManyProofs,
            "proof hashes",
        )?;
        Ok((
            i,
            CFilterV2 {
                block_hash,
                data: Cow::Borrowed(data),
                proof_index,
                proof_hashes,
            },
        ))
    }

    fn check(&self) -> Result<(), Error> {
        check_data(&self.data)?;
        check_count(
            self.proof_hashes.len() as u64,
            MAX_HEADER_PROOF_HASHES,
            ErrorKind::TooManyProofs,
            "proof hashes",
        )?;
        Ok(())
    }

    fn write<B: BufMut + ?Sized>(&self, buf: &mut B) {
        buf.put_slice(&self.block_hash.0);
        put_var_bytes(buf, &self.data);
        buf.put_u32_le(self.proof_index);
        put_hashes(buf, &self.proof_hashes);
    }

    fn size(&self) -> usize {
        HASH_SIZE + var_bytes_size(&self.data) + 4 + hashes_size(&self.proof_hashes)
    }

    fn max_size() -> u32 {
        (HASH_SIZE
            + var_int_size(MAX_CFILTER_DATA_SIZE)
            + MAX_CFILTER_DATA_SIZE as usize
            + 4
            + var_int_size(MAX_HEADER_PROOF_HASHES)
            + MAX_HEADER_PROOF_HASHES as usize * HASH_SIZE) as u32
    }
}

impl<'a> Payload<'a> for CFilterV2<'a> {
    const COMMAND: Command = Command::CFilterV2;
    type Owned = CFilterV2<'static>;

    fn decode(input: &'a [u8], pv: u32) -> PResult<'a, Self> {
        require_pver(Self::COMMAND, pv)?;
        CFilterV2::parse(input)
    }

    fn encode<B: BufMut>(&self, buf: &mut B, pv: u32) -> Result<(), Error> {
        require_pver(Self::COMMAND, pv)?;
        self.check()?;
        self.write(buf);
        Ok(())
    }

    fn serialized_size(&self, _pver: u32) -> usize {
        self.size()
    }

    fn max_payload_length(_pver: u32) -> u32 {
        CFilterV2::max_size()
    }

    fn into_owned(self) -> CFilterV2<'static> {
        CFilterV2 {
            block_hash: self.block_hash,
            data: Cow::Owned(self.data.into_owned()),
            proof_index: self.proof_index,
            proof_hashes: self.proof_hashes,
        }
    }
}

/// `getcfsv2`: asks for the version 2 filters of a range of blocks.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct GetCFsV2 {
    /// The first block of the range.
    #[cfg_attr(feature = "serde", serde(rename = "StartHash"))]
    pub start_hash: Hash,
    /// The last block of the range.
    #[cfg_attr(feature = "serde", serde(rename = "EndHash"))]
    pub end_hash: Hash,
}

impl<'a> Payload<'a> for GetCFsV2 {
    const COMMAND: Command = Command::GetCFsV2;
    type Owned = GetCFsV2;

    fn decode(input: &'a [u8], pv: u32) -> PResult<'a, Self> {
        require_pver(Self::COMMAND, pv)?;
        let (i, start_hash) = hash(input)?;
        let (i, end_hash) = hash(i)?;
        Ok((
            i,
            GetCFsV2 {
                start_hash,
                end_hash,
            },
        ))
    }

    fn encode<B: BufMut>(&self, buf: &mut B, pv: u32) -> Result<(), Error> {
        require_pver(Self::COMMAND, pv)?;
        buf.put_slice(&self.start_hash.0);
        buf.put_slice(&self.end_hash.0);
        Ok(())
    }

    fn serialized_size(&self, _pver: u32) -> usize {
        2 * HASH_SIZE
    }

    fn max_payload_length(_pver: u32) -> u32 {
        2 * HASH_SIZE as u32
    }

    owned_payload!();
}

/// `cfiltersv2`: a batch of version 2 filters.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct CFiltersV2<'a> {
    /// The filters, in block order.
    #[cfg_attr(feature = "serde", serde(rename = "CFilters"))]
    pub cfilters: Vec<CFilterV2<'a>>,
}

impl<'a> CFiltersV2<'a> {
    /// Reads a batch's filters in place, from the front of `input` (no
    /// version gate): at most [`MAX_CFILTERS_V2_PER_BATCH`]
    /// (ErrTooManyCFilters), each a [`CFilterV2View`]. The zero-copy form
    /// of the message, with its decoder's checks and errors.
    pub fn parse_view(input: &'a [u8]) -> PResult<'a, ListView<'a, CFilterV2View<'a>>> {
        ListView::parse(
            input,
            MAX_CFILTERS_V2_PER_BATCH,
            ErrorKind::TooManyCFilters,
            "filters in a batch",
            CFilterV2View::parse,
        )
    }
}

impl<'a> Payload<'a> for CFiltersV2<'a> {
    const COMMAND: Command = Command::CFiltersV2;
    type Owned = CFiltersV2<'static>;

    fn decode(input: &'a [u8], pv: u32) -> PResult<'a, Self> {
        require_pver(Self::COMMAND, pv)?;
        let (i, cfilters) = list(
            input,
            MAX_CFILTERS_V2_PER_BATCH,
            ErrorKind::TooManyCFilters,
            "filters in a batch",
            HASH_SIZE + 1 + 4 + 1,
            CFilterV2::parse,
        )?;
        Ok((i, CFiltersV2 { cfilters }))
    }

    fn encode<B: BufMut>(&self, buf: &mut B, pv: u32) -> Result<(), Error> {
        require_pver(Self::COMMAND, pv)?;
        check_count(
            self.cfilters.len() as u64,
            MAX_CFILTERS_V2_PER_BATCH,
            ErrorKind::TooManyCFilters,
            "filters in a batch",
        )?;
        for f in &self.cfilters {
            f.check()?;
        }
        put_var_int(buf, self.cfilters.len() as u64);
        for f in &self.cfilters {
            f.write(buf);
        }
        Ok(())
    }

    fn serialized_size(&self, _pver: u32) -> usize {
        var_int_size(self.cfilters.len() as u64)
            + self.cfilters.iter().map(CFilterV2::size).sum::<usize>()
    }

    fn max_payload_length(_pver: u32) -> u32 {
        var_int_size(MAX_CFILTERS_V2_PER_BATCH) as u32
            + CFilterV2::max_size() * MAX_CFILTERS_V2_PER_BATCH as u32
    }

    fn into_owned(self) -> CFiltersV2<'static> {
        CFiltersV2 {
            cfilters: self.cfilters.into_iter().map(Payload::into_owned).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn filter_types() {
        assert_eq!((FilterType::REGULAR.0, FilterType::EXTENDED.0), (0, 1));
        let t = CFTypes {
            supported_filters: Cow::Borrowed(&[0, 1, 7]),
        };
        let got: Vec<FilterType> = t.filter_types().collect();
        assert_eq!(
            got,
            [FilterType::REGULAR, FilterType::EXTENDED, FilterType(7)]
        );
        assert_eq!(u8::from(FilterType::from(7)), 7);
    }

    fn arb_hashes(max: usize) -> impl Strategy<Value = Vec<Hash>> {
        proptest::collection::vec(any::<[u8; 32]>().prop_map(Hash), 0..=max)
    }

    fn arb_cfilter_v2() -> impl Strategy<Value = CFilterV2<'static>> {
        (
            any::<[u8; 32]>(),
            proptest::collection::vec(any::<u8>(), 0..64),
            any::<u32>(),
            arb_hashes(5),
        )
            .prop_map(|(h, d, idx, proofs)| CFilterV2 {
                block_hash: Hash(h),
                data: Cow::Owned(d),
                proof_index: idx,
                proof_hashes: proofs,
            })
    }

    fn round_trip<M: for<'x> Payload<'x> + Eq + std::fmt::Debug>(m: &M, pv: u32) {
        let mut buf = Vec::new();
        m.encode(&mut buf, pv).unwrap();
        assert_eq!(buf.len(), m.serialized_size(pv));
        let (rest, back) = M::decode(&buf, pv).unwrap();
        assert!(rest.is_empty());
        assert_eq!(&back, m);
    }

    proptest! {
        #[test]
        fn v2_round_trips(fs in proptest::collection::vec(arb_cfilter_v2(), 0..5), a in any::<[u8; 32]>(), b in any::<[u8; 32]>()) {
            let batch = CFiltersV2 { cfilters: fs.clone() };
            let mut buf = Vec::new();
            batch.encode(&mut buf, 11).unwrap();
            prop_assert_eq!(buf.len(), batch.serialized_size(11));
            prop_assert_eq!(&CFiltersV2::decode(&buf, 11).unwrap().1, &batch);
            for f in fs {
                let mut buf = Vec::new();
                f.encode(&mut buf, 7).unwrap();
                prop_assert_eq!(&CFilterV2::decode(&buf, 7).unwrap().1, &f);
            }
            round_trip(&GetCFsV2 { start_hash: Hash(a), end_hash: Hash(b) }, 11);
            round_trip(&GetCFilterV2 { block_hash: Hash(a) }, 7);
        }

        #[test]
        fn v1_round_trips(h in any::<[u8; 32]>(), t in any::<u8>(), hs in arb_hashes(10), d in proptest::collection::vec(any::<u8>(), 0..64)) {
            round_trip(&GetCFilter { block_hash: Hash(h), filter_type: FilterType(t) }, 6);
            round_trip(&GetCFHeaders { block_locator_hashes: hs.clone(), hash_stop: Hash(h), filter_type: FilterType(t) }, 6);
            round_trip(&CFHeaders { stop_hash: Hash(h), filter_type: FilterType(t), header_hashes: hs }, 6);
            let f = CFilter { block_hash: Hash(h), filter_type: FilterType(t), data: Cow::Owned(d.clone()) };
            let mut buf = Vec::new();
            f.encode(&mut buf, 6).unwrap();
            prop_assert_eq!(&CFilter::decode(&buf, 6).unwrap().1, &f);
            let c = CFTypes { supported_filters: Cow::Owned(d) };
            let mut buf = Vec::new();
            c.encode(&mut buf, 6).unwrap();
            prop_assert_eq!(&CFTypes::decode(&buf, 6).unwrap().1, &c);
        }
    }

    fn kind<T: std::fmt::Debug>(r: PResult<'_, T>) -> ErrorKind {
        r.unwrap_err().kind()
    }

    #[test]
    fn versions_and_limits() {
        assert_eq!(
            kind(GetCFilter::decode(&[0; 33], 5)),
            ErrorKind::MsgInvalidForPVer
        );
        assert_eq!(
            kind(GetCFilterV2::decode(&[0; 32], 6)),
            ErrorKind::MsgInvalidForPVer
        );
        assert_eq!(
            kind(GetCFsV2::decode(&[0; 64], 10)),
            ErrorKind::MsgInvalidForPVer
        );
        assert_eq!(
            kind(CFiltersV2::decode(&[101], 11)),
            ErrorKind::TooManyCFilters
        );
        assert_eq!(
            kind(CFTypes::decode(&[0xfd, 0x01, 0x01], 6)),
            ErrorKind::TooManyFilterTypes
        );
        let mut b = vec![0u8; 33];
        b.extend_from_slice(&[0xfd, 0xd1, 0x07]);
        assert_eq!(
            kind(CFHeaders::decode(&b, 6)),
            ErrorKind::TooManyFilterHeaders
        );
        let mut b = vec![0u8; 32];
        b.extend_from_slice(&[0xfe, 0x01, 0x00, 0x04, 0x00]);
        assert_eq!(kind(CFilterV2::decode(&b, 7)), ErrorKind::VarBytesTooLong);
        let mut b = vec![0u8; 32];
        b.extend_from_slice(&[0, 0, 0, 0, 0, 33]);
        assert_eq!(kind(CFilterV2::decode(&b, 7)), ErrorKind::TooManyProofs);
        assert_eq!(<CFiltersV2 as Payload>::max_payload_length(11), 26_321_001);
    }
}
