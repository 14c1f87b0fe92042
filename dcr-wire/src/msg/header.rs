//! The 180-byte block header and the `headers` message.

#[allow(unused_imports)]
use crate::prelude::*;
use bytes::BufMut;

use super::{require_pver, Command, Payload};
use crate::error::{Error, ErrorKind};
use crate::hash::{blake256, Hash};
use crate::primitives::{
    array, check_count, count, hash, i32_le, i64_le, put_var_int, u16_le, u32_le, u8, var_int,
    var_int_size, PResult,
};

/// Serialized size of a block header.
pub const BLOCK_HEADER_SIZE: usize = 180;

/// Most headers one `headers` message may carry.
pub const MAX_BLOCK_HEADERS_PER_MSG: u64 = 2000;

/// A Decred block header. Its BLAKE-256 is the block hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct BlockHeader {
    /// Block version.
    #[cfg_attr(
        feature = "serde",
        serde(rename = "Version", deserialize_with = "crate::serde_impls::int")
    )]
    pub version: i32,
    /// Hash of the previous block.
    #[cfg_attr(feature = "serde", serde(rename = "PrevBlock"))]
    pub prev_block: Hash,
    /// Merkle root of the regular transaction tree.
    #[cfg_attr(feature = "serde", serde(rename = "MerkleRoot"))]
    pub merkle_root: Hash,
    /// Merkle root of the stake transaction tree.
    #[cfg_attr(feature = "serde", serde(rename = "StakeRoot"))]
    pub stake_root: Hash,
    /// Votes on the previous block and on agendas.
    #[cfg_attr(
        feature = "serde",
        serde(rename = "VoteBits", deserialize_with = "crate::serde_impls::int")
    )]
    pub vote_bits: u16,
    /// State of the lottery (ticket selection) after this block.
    #[cfg_attr(
        feature = "serde",
        serde(rename = "FinalState", with = "crate::serde_impls::hex::array")
    )]
    pub final_state: [u8; 6],
    /// Number of votes in the block.
    #[cfg_attr(
        feature = "serde",
        serde(rename = "Voters", deserialize_with = "crate::serde_impls::int")
    )]
    pub voters: u16,
    /// Number of new tickets in the block.
    #[cfg_attr(
        feature = "serde",
        serde(rename = "FreshStake", deserialize_with = "crate::serde_impls::int")
    )]
    pub fresh_stake: u8,
    /// Number of revocations in the block.
    #[cfg_attr(
        feature = "serde",
        serde(rename = "Revocations", deserialize_with = "crate::serde_impls::int")
    )]
    pub revocations: u8,
    /// Number of live tickets.
    #[cfg_attr(
        feature = "serde",
        serde(rename = "PoolSize", deserialize_with = "crate::serde_impls::int")
    )]
    pub pool_size: u32,
    /// Proof-of-work difficulty target, compact form.
    #[cfg_attr(
        feature = "serde",
        serde(rename = "Bits", deserialize_with = "crate::serde_impls::int")
    )]
    pub bits: u32,
    /// Stake difficulty (ticket price) in atoms.
    #[cfg_attr(
        feature = "serde",
        serde(rename = "SBits", deserialize_with = "crate::serde_impls::int")
    )]
    pub sbits: i64,
    /// Block height.
    #[cfg_attr(
        feature = "serde",
        serde(rename = "Height", deserialize_with = "crate::serde_impls::int")
    )]
    pub height: u32,
    /// Serialized block size in bytes.
    #[cfg_attr(
        feature = "serde",
        serde(rename = "Size", deserialize_with = "crate::serde_impls::int")
    )]
    pub size: u32,
    /// Block time, Unix seconds (32 bits on the wire).
    #[cfg_attr(
        feature = "serde",
        serde(rename = "Timestamp", with = "crate::serde_impls::time")
    )]
    pub timestamp: u32,
    /// Proof-of-work nonce.
    #[cfg_attr(
        feature = "serde",
        serde(rename = "Nonce", deserialize_with = "crate::serde_impls::int")
    )]
    pub nonce: u32,
    /// Extra nonce space and miner data.
    #[cfg_attr(
        feature = "serde",
        serde(rename = "ExtraData", with = "crate::serde_impls::hex::array")
    )]
    pub extra_data: [u8; 32],
    /// Stake version the miner's votes use.
    #[cfg_attr(
        feature = "serde",
        serde(rename = "StakeVersion", deserialize_with = "crate::serde_impls::int")
    )]
    pub stake_version: u32,
}

impl BlockHeader {
    /// Parses the 180 header bytes. Headers carry no version-dependent
    /// fields.
    pub fn parse(input: &[u8]) -> PResult<'_, BlockHeader> {
        Self::parse_fields(input).map_err(|e| e.while_reading("a block header"))
    }

    #[inline(always)]
    fn parse_fields(input: &[u8]) -> PResult<'_, BlockHeader> {
        let (i, version) = i32_le(input)?;
        let (i, prev_block) = hash(i)?;
        let (i, merkle_root) = hash(i)?;
        let (i, stake_root) = hash(i)?;
        let (i, vote_bits) = u16_le(i)?;
        let (i, final_state) = array::<6>(i)?;
        let (i, voters) = u16_le(i)?;
        let (i, fresh_stake) = u8(i)?;
        let (i, revocations) = u8(i)?;
        let (i, pool_size) = u32_le(i)?;
        let (i, bits) = u32_le(i)?;
        let (i, sbits) = i64_le(i)?;
        let (i, height) = u32_le(i)?;
        let (i, size) = u32_le(i)?;
        let (i, timestamp) = u32_le(i)?;
        let (i, nonce) = u32_le(i)?;
        let (i, extra_data) = array::<32>(i)?;
        let (i, stake_version) = u32_le(i)?;
        Ok((
            i,
            BlockHeader {
                version,
                prev_block,
                merkle_root,
                stake_root,
                vote_bits,
                final_state,
                voters,
                fresh_stake,
                revocations,
                pool_size,
                bits,
                sbits,
                height,
                size,
                timestamp,
                nonce,
                extra_data,
                stake_version,
            },
        ))
    }

    /// Decodes exactly the 180 header bytes (the reference's
    /// `BlockHeader.FromBytes`; a shorter input is
    /// [`Error::UnexpectedEof`], a longer one [`ErrorKind::TrailingBytes`]).
    pub fn from_bytes(bytes: &[u8]) -> Result<BlockHeader, Error> {
        let (rest, h) = BlockHeader::parse(bytes)?;
        crate::primitives::expect_end(rest)?;
        Ok(h)
    }

    /// Writes the 180 header bytes.
    pub fn write<B: BufMut + ?Sized>(&self, buf: &mut B) {
        buf.put_i32_le(self.version);
        buf.put_slice(&self.prev_block.0);
        buf.put_slice(&self.merkle_root.0);
        buf.put_slice(&self.stake_root.0);
        buf.put_u16_le(self.vote_bits);
        buf.put_slice(&self.final_state);
        buf.put_u16_le(self.voters);
        buf.put_u8(self.fresh_stake);
        buf.put_u8(self.revocations);
        buf.put_u32_le(self.pool_size);
        buf.put_u32_le(self.bits);
        buf.put_i64_le(self.sbits);
        buf.put_u32_le(self.height);
        buf.put_u32_le(self.size);
        buf.put_u32_le(self.timestamp);
        buf.put_u32_le(self.nonce);
        buf.put_slice(&self.extra_data);
        buf.put_u32_le(self.stake_version);
    }

    /// The serialized header.
    pub fn to_bytes(&self) -> [u8; BLOCK_HEADER_SIZE] {
        let mut out = [0u8; BLOCK_HEADER_SIZE];
        self.write(&mut &mut out[..]);
        out
    }

    /// The block hash: BLAKE-256 of the serialized header.
    pub fn block_hash(&self) -> Hash {
        blake256(&self.to_bytes())
    }

    /// The version 1 proof-of-work hash: BLAKE-256 of the 180 serialized
    /// header bytes, so always equal to [`block_hash`](Self::block_hash).
    /// Decred's proof of work used it from launch until DCP-0011 (the
    /// reference's `BlockHeader.PowHashV1`).
    pub fn pow_hash_v1(&self) -> Hash {
        self.block_hash()
    }

    /// The version 2 proof-of-work hash of DCP-0011 (mainnet's since 2023):
    /// BLAKE3 with a 32-byte output over the 180 serialized header bytes
    /// (the reference's `BlockHeader.PowHashV2`). Only the proof of work
    /// uses it; blocks are still named by [`block_hash`](Self::block_hash).
    pub fn pow_hash_v2(&self) -> Hash {
        Hash(*blake3::hash(&self.to_bytes()).as_bytes())
    }

    /// [`pow_hash_v2`](Self::pow_hash_v2) of many serialized headers at
    /// once: `out[i]` receives the hash of `serialized[i]` (only the first
    /// `min(serialized.len(), out.len())` are hashed). A header is one
    /// BLAKE3 chunk, so the headers are hashed side by side in the lanes
    /// of a vector where the CPU has AVX2 (8) or AVX-512F (16)
    /// (`dcr_blake256::blake3`), several times the throughput of hashing
    /// them one by one, which the latency of each hash's G chain bounds.
    pub fn pow_hashes_v2(serialized: &[&[u8; BLOCK_HEADER_SIZE]], out: &mut [Hash]) {
        // 180 bytes are within one chunk: the batch cannot be refused.
        let hashed = dcr_blake256::blake3::hash_many(serialized, out);
        debug_assert!(hashed.is_ok());
    }
}

impl Default for BlockHeader {
    fn default() -> Self {
        BlockHeader {
            version: 0,
            prev_block: Hash::ZERO,
            merkle_root: Hash::ZERO,
            stake_root: Hash::ZERO,
            vote_bits: 0,
            final_state: [0; 6],
            voters: 0,
            fresh_stake: 0,
            revocations: 0,
            pool_size: 0,
            bits: 0,
            sbits: 0,
            height: 0,
            size: 0,
            timestamp: 0,
            nonce: 0,
            extra_data: [0; 32],
            stake_version: 0,
        }
    }
}

/// A header of a `headers` message and its transaction count, which
/// must be zero: a single zero byte (a longer var-int of zero is not
/// canonical).
const HEADERS_ENTRY_SIZE: usize = BLOCK_HEADER_SIZE + 1;

/// The block headers of a `headers` payload, read in place: a zero-copy
/// view that allocates nothing; each header is parsed as it is taken.
/// Checked as [`Headers`]' decoder checks it (it collects this view): a
/// var-int count of at most [`MAX_BLOCK_HEADERS_PER_MSG`]
/// (ErrTooManyHeaders) and that many headers, each followed by a
/// transaction count of zero (ErrHeaderContainsTxs), as dcrd's
/// `MsgHeaders.BtcDecode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HeaderList<'a> {
    /// The headers' bytes, each with its zero count byte.
    bytes: &'a [u8],
}

impl<'a> HeaderList<'a> {
    /// Reads a counted list of headers from the front of `input`.
    pub fn parse(input: &'a [u8]) -> PResult<'a, HeaderList<'a>> {
        let (rest, n) = count(
            input,
            MAX_BLOCK_HEADERS_PER_MSG,
            ErrorKind::TooManyHeaders,
            "block headers",
        )?;
        // At most 2000 headers: no overflow.
        let size = n * HEADERS_ENTRY_SIZE;
        let found = rest.split_at_checked(size).filter(|(bytes, _)| {
            let (entries, _) = bytes.as_chunks::<HEADERS_ENTRY_SIZE>();
            entries.iter().all(|e| e[BLOCK_HEADER_SIZE] == 0)
        });
        let Some((bytes, rest)) = found else {
            // Short, or a count that is not a single zero: the error of
            // the first header at fault, as reading header by header
            // gives it.
            let mut r = rest;
            for _ in 0..n {
                r = Self::entry(r)?;
            }
            return Err(Error::eof(size.saturating_sub(rest.len())));
        };
        Ok((rest, HeaderList { bytes }))
    }

    /// One header and its transaction count, checked; what follows.
    fn entry(input: &[u8]) -> Result<&[u8], Error> {
        let (r, _) = BlockHeader::parse(input)?;
        let (r, txs) = var_int(r)?;
        if txs > 0 {
            return Err(Error::invalid(
                ErrorKind::HeaderContainsTxs,
                "block headers may not contain transactions",
            ));
        }
        Ok(r)
    }

    /// Number of headers.
    pub fn len(&self) -> usize {
        self.bytes.len() / HEADERS_ENTRY_SIZE
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The headers, in chain order, each parsed as it is taken.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = BlockHeader> + 'a {
        let (entries, _) = self.bytes.as_chunks::<HEADERS_ENTRY_SIZE>();
        entries.iter().map(|e| {
            // 180 bytes always parse: every field is fixed-size.
            BlockHeader::parse(e).map(|(_, h)| h).unwrap_or_default()
        })
    }

    /// The bytes the headers were read from (without the count), each
    /// header followed by its zero byte.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }
}

/// `headers`: block headers answering `getheaders`. On the wire each header
/// is followed by a transaction count that must be zero.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct Headers {
    /// The headers, in chain order.
    #[cfg_attr(feature = "serde", serde(rename = "Headers"))]
    pub headers: Vec<BlockHeader>,
}

impl<'a> Payload<'a> for Headers {
    const COMMAND: Command = Command::Headers;
    type Owned = Headers;

    fn decode(input: &'a [u8], pver: u32) -> PResult<'a, Self> {
        require_pver(Self::COMMAND, pver)?;
        let (i, list) = HeaderList::parse(input)?;
        let mut headers = Vec::with_capacity(list.len());
        headers.extend(list.iter());
        Ok((i, Headers { headers }))
    }

    fn encode<B: BufMut>(&self, buf: &mut B, pver: u32) -> Result<(), Error> {
        require_pver(Self::COMMAND, pver)?;
        check_count(
            self.headers.len() as u64,
            MAX_BLOCK_HEADERS_PER_MSG,
            ErrorKind::TooManyHeaders,
            "block headers",
        )?;
        put_var_int(buf, self.headers.len() as u64);
        for h in &self.headers {
            h.write(buf);
            put_var_int(buf, 0);
        }
        Ok(())
    }

    fn serialized_size(&self, _pver: u32) -> usize {
        var_int_size(self.headers.len() as u64) + self.headers.len() * (BLOCK_HEADER_SIZE + 1)
    }

    fn max_payload_length(_pver: u32) -> u32 {
        (var_int_size(MAX_BLOCK_HEADERS_PER_MSG)
            + (BLOCK_HEADER_SIZE + 1) * MAX_BLOCK_HEADERS_PER_MSG as usize) as u32
    }

    fn into_owned(self) -> Self::Owned {
        self
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    pub fn arb_header() -> impl Strategy<Value = BlockHeader> {
        (
            (
                any::<i32>(),
                any::<[u8; 32]>(),
                any::<[u8; 32]>(),
                any::<[u8; 32]>(),
            ),
            (
                any::<u16>(),
                any::<[u8; 6]>(),
                any::<u16>(),
                any::<u8>(),
                any::<u8>(),
            ),
            (
                any::<u32>(),
                any::<u32>(),
                any::<i64>(),
                any::<u32>(),
                any::<u32>(),
            ),
            (any::<u32>(), any::<u32>(), any::<[u8; 32]>(), any::<u32>()),
        )
            .prop_map(|(a, b, c, d)| BlockHeader {
                version: a.0,
                prev_block: Hash(a.1),
                merkle_root: Hash(a.2),
                stake_root: Hash(a.3),
                vote_bits: b.0,
                final_state: b.1,
                voters: b.2,
                fresh_stake: b.3,
                revocations: b.4,
                pool_size: c.0,
                bits: c.1,
                sbits: c.2,
                height: c.3,
                size: c.4,
                timestamp: d.0,
                nonce: d.1,
                extra_data: d.2,
                stake_version: d.3,
            })
    }

    proptest! {
        #[test]
        fn pow_hashes_v2_in_a_batch_are_each_headers(
            headers in proptest::collection::vec(arb_header(), 0..40),
        ) {
            let bytes: Vec<[u8; BLOCK_HEADER_SIZE]> =
                headers.iter().map(BlockHeader::to_bytes).collect();
            let refs: Vec<&[u8; BLOCK_HEADER_SIZE]> = bytes.iter().collect();
            let mut got = vec![Hash::ZERO; refs.len()];
            BlockHeader::pow_hashes_v2(&refs, &mut got);
            let want: Vec<Hash> = headers.iter().map(BlockHeader::pow_hash_v2).collect();
            prop_assert_eq!(got, want);
        }

        #[test]
        fn headers_round_trip(headers in proptest::collection::vec(arb_header(), 0..20)) {
            let msg = Headers { headers };
            let mut buf = Vec::new();
            msg.encode(&mut buf, 12).unwrap();
            prop_assert_eq!(buf.len(), msg.serialized_size(12));
            let (rest, back) = Headers::decode(&buf, 12).unwrap();
            prop_assert!(rest.is_empty());
            prop_assert_eq!(back, msg);
        }
    }

    #[test]
    fn pow_hashes_cover_the_serialized_header() {
        let h = BlockHeader {
            height: 7,
            nonce: 9,
            ..BlockHeader::default()
        };
        let bytes = h.to_bytes();
        assert_eq!(h.pow_hash_v1(), blake256(&bytes));
        assert_eq!(h.pow_hash_v1(), h.block_hash());
        assert_eq!(h.pow_hash_v2().0, *blake3::hash(&bytes).as_bytes());
        assert_ne!(h.pow_hash_v2(), h.pow_hash_v1());
    }

    #[test]
    fn header_is_180_bytes() {
        assert_eq!(BlockHeader::default().to_bytes().len(), BLOCK_HEADER_SIZE);
        let e = BlockHeader::parse(&[0u8; 179]).unwrap_err();
        assert_eq!(e, Error::eof(1).while_reading("a block header"));
        assert_eq!(
            BlockHeader::from_bytes(&[0u8; 179]),
            Err(Error::eof(1).while_reading("a block header"))
        );
        assert_eq!(
            BlockHeader::from_bytes(&[0u8; 181]).unwrap_err().kind(),
            ErrorKind::TrailingBytes
        );
        assert_eq!(
            BlockHeader::from_bytes(&[0u8; 180]),
            Ok(BlockHeader::default())
        );
    }

    #[test]
    fn header_with_transactions_refused() {
        let mut buf = vec![1u8];
        BlockHeader::default().write(&mut buf);
        buf.push(1);
        let e = Headers::decode(&buf, 12).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::HeaderContainsTxs);
    }

    #[test]
    fn too_many_headers() {
        let e = Headers::decode(&[0xfd, 0xd1, 0x07], 12).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::TooManyHeaders);
        let msg = Headers {
            headers: vec![BlockHeader::default(); 2001],
        };
        let mut buf = Vec::new();
        assert_eq!(
            msg.encode(&mut buf, 12).unwrap_err().kind(),
            ErrorKind::TooManyHeaders
        );
        assert!(buf.is_empty());
    }
}
