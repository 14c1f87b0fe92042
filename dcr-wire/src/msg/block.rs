//! The `block` message: a header and two transaction trees (regular and
//! stake).
//!
//! Decoding validates every transaction but keeps each tree as the slice of
//! bytes it occupies ([`TxTree`]): no script, signature or input list is
//! copied or allocated. Transactions are read on demand with
//! [`TxTree::iter`] (structured, borrowing) or [`TxTree::raw_txs`]
//! (allocation-free, with hashes computed from the bytes).

#[allow(unused_imports)]
use crate::prelude::*;
use alloc::borrow::Cow;

use bytes::BufMut;

use super::header::{BlockHeader, BLOCK_HEADER_SIZE};
use super::tx::{
    max_block_payload, prefix_hashes_many, tx_hashes_many, RawTx, Tx, TxHashes, MIN_TX_PAYLOAD,
};
use super::{require_pver, Command, Payload};
use crate::error::{Error, ErrorKind};
use crate::hash::Hash;
use crate::primitives::{count, put_var_int, var_int_size, PResult};

/// Most blocks one message may ask for or announce (the reference's
/// `MaxBlocksPerMsg`: the inventory a `getblocks` answer carries at most).
pub const MAX_BLOCKS_PER_MSG: u64 = 500;

/// Most transactions one tree of a block could hold at `pver`: half of what
/// the largest block could carry at the smallest transaction size.
pub fn max_tx_per_tree(pver: u32) -> u64 {
    (u64::from(max_block_payload(pver)) / u64::from(MIN_TX_PAYLOAD)) / 2 + 1
}

/// Where one transaction sits in a serialized block: `start` is its byte
/// offset from the first header byte, `len` its serialized length (the
/// reference's `TxLoc`, TxStart and TxLen).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TxLoc {
    /// Byte offset of the transaction from the block's first byte.
    pub start: usize,
    /// Serialized length of the transaction in bytes.
    pub len: usize,
}

impl TxLoc {
    /// The byte range, for slicing the serialized block.
    pub fn range(&self) -> core::ops::Range<usize> {
        self.start..self.start + self.len
    }
}

/// A block: its header and its regular and stake transaction trees.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct Block<'a> {
    /// The block header.
    #[cfg_attr(feature = "serde", serde(rename = "Header"))]
    pub header: BlockHeader,
    /// The regular transaction tree.
    #[cfg_attr(feature = "serde", serde(rename = "Transactions", with = "tree_serde"))]
    pub txs: TxTree<'a>,
    /// The stake transaction tree (tickets, votes, revocations, ...).
    #[cfg_attr(
        feature = "serde",
        serde(rename = "STransactions", with = "tree_serde")
    )]
    pub stake_txs: TxTree<'a>,
}

impl<'a> Block<'a> {
    /// Builds a block from structured transactions.
    pub fn new(header: BlockHeader, txs: &[Tx<'_>], stake_txs: &[Tx<'_>]) -> Block<'static> {
        Block {
            header,
            txs: TxTree::from_txs(txs),
            stake_txs: TxTree::from_txs(stake_txs),
        }
    }

    /// The block hash (the header's hash).
    pub fn block_hash(&self) -> Hash {
        self.header.block_hash()
    }

    /// The header's version 1 proof-of-work hash (equal to the block hash);
    /// see [`BlockHeader::pow_hash_v1`].
    pub fn pow_hash_v1(&self) -> Hash {
        self.header.pow_hash_v1()
    }

    /// The header's version 2 proof-of-work hash (BLAKE3, DCP-0011); see
    /// [`BlockHeader::pow_hash_v2`].
    pub fn pow_hash_v2(&self) -> Hash {
        self.header.pow_hash_v2()
    }

    /// Where every transaction of each tree sits in the block's
    /// serialization: (regular tree, stake tree), in order. The
    /// reference's `MsgBlock.DeserializeTxLoc` gives the same for the
    /// bytes it decodes; here, decode with [`Block::from_bytes`] and ask.
    pub fn tx_locs(&self) -> (Vec<TxLoc>, Vec<TxLoc>) {
        let regular = self.txs.tx_locs(BLOCK_HEADER_SIZE);
        let stake = self
            .stake_txs
            .tx_locs(BLOCK_HEADER_SIZE + self.txs.serialized_size());
        (regular, stake)
    }

    /// The prefix, witness and full hashes of every transaction of both
    /// trees, hashed together many at a time (see [`tx_hashes_many`]).
    pub fn tx_hashes(&self) -> BlockTxHashes {
        let mut txs: smallvec::SmallVec<[RawTx<'_>; 16]> =
            smallvec::SmallVec::with_capacity(self.txs.len() + self.stake_txs.len());
        txs.extend(self.txs.raw_txs());
        let regular = txs.len();
        txs.extend(self.stake_txs.raw_txs());
        let mut all = tx_hashes_many(&txs);
        let stake = all.split_off(regular.min(all.len()));
        BlockTxHashes {
            regular: all,
            stake,
        }
    }

    /// Decodes a whole serialized block (trailing bytes are an error).
    pub fn from_bytes(bytes: &'a [u8], pver: u32) -> Result<Block<'a>, Error> {
        let (rest, b) = <Block as Payload>::decode(bytes, pver)?;
        crate::primitives::expect_end(rest)?;
        Ok(b)
    }
}

/// The hashes of every transaction of a block, tree by tree, in order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BlockTxHashes {
    /// The regular tree's transactions, in order.
    pub regular: Vec<TxHashes>,
    /// The stake tree's transactions, in order.
    pub stake: Vec<TxHashes>,
}

/// One transaction tree of a block: validated serialized transactions,
/// back to back, and how many there are.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TxTree<'a> {
    len: usize,
    bytes: Cow<'a, [u8]>,
}

impl<'a> TxTree<'a> {
    /// Reads a count (at most [`max_tx_per_tree`]) and that many
    /// transactions, validating each without allocating.
    fn parse(input: &'a [u8], pver: u32, what: &'static str) -> PResult<'a, TxTree<'a>> {
        let (start, n) = count(input, max_tx_per_tree(pver), ErrorKind::TooManyTxs, what)?;
        let mut rest = start;
        for _ in 0..n {
            let (r, _) = RawTx::parse(rest)?;
            rest = r;
        }
        let used = start.len() - rest.len();
        Ok((
            rest,
            TxTree {
                len: n,
                bytes: Cow::Borrowed(&start[..used]),
            },
        ))
    }

    /// Serializes structured transactions (each in its own serialization
    /// type) into a tree.
    pub fn from_txs(txs: &[Tx<'_>]) -> TxTree<'static> {
        let mut bytes = Vec::with_capacity(txs.iter().map(|t| t.size_as(t.ser_type)).sum());
        for tx in txs {
            tx.write_as(&mut bytes, tx.ser_type);
        }
        TxTree {
            len: txs.len(),
            bytes: Cow::Owned(bytes),
        }
    }

    /// Number of transactions.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when the tree holds no transaction.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The serialized transactions, back to back (without the count).
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The transactions as allocation-free views.
    pub fn raw_txs(&self) -> RawTxs<'_> {
        RawTxs {
            rest: &self.bytes,
            left: self.len,
        }
    }

    /// Locations of the transactions when the tree (its count first) is
    /// serialized from byte `offset` on.
    fn tx_locs(&self, offset: usize) -> Vec<TxLoc> {
        let mut start = offset + var_int_size(self.len as u64);
        self.raw_txs()
            .map(|tx| {
                let loc = TxLoc {
                    start,
                    len: tx.bytes().len(),
                };
                start += loc.len;
                loc
            })
            .collect()
    }

    /// The transactions, structured (their scripts borrow from the tree).
    pub fn iter(&self) -> impl Iterator<Item = Tx<'_>> + '_ {
        self.raw_txs().map(|raw| raw.to_tx())
    }

    /// The transaction hashes, in order, hashed many at a time.
    pub fn tx_hashes(&self) -> Vec<Hash> {
        prefix_hashes_many(&self.raw_txs().collect::<Vec<_>>())
    }

    /// The prefix, witness and full hashes of every transaction, in order,
    /// hashed many at a time.
    pub fn hashes(&self) -> Vec<TxHashes> {
        tx_hashes_many(&self.raw_txs().collect::<Vec<_>>())
    }

    fn serialized_size(&self) -> usize {
        var_int_size(self.len as u64) + self.bytes.len()
    }

    fn write<B: BufMut + ?Sized>(&self, buf: &mut B) {
        put_var_int(buf, self.len as u64);
        buf.put_slice(&self.bytes);
    }

    fn into_owned(self) -> TxTree<'static> {
        TxTree {
            len: self.len,
            bytes: Cow::Owned(self.bytes.into_owned()),
        }
    }
}

/// A tree as the reference shows it: its transactions, each with its
/// fields. Read back, the transactions are serialized (each in its own
/// serialization type) into a new tree.
#[cfg(feature = "serde")]
mod tree_serde {
    #[allow(unused_imports)]
    use crate::prelude::*;

    use serde::{Deserialize, Deserializer, Serializer};

    use super::TxTree;
    use crate::Tx;

    pub(super) fn serialize<S: Serializer>(t: &TxTree<'_>, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(t.iter())
    }

    pub(super) fn deserialize<'de, 'a, D: Deserializer<'de>>(d: D) -> Result<TxTree<'a>, D::Error> {
        Vec::<Tx<'static>>::deserialize(d).map(|txs| TxTree::from_txs(&txs))
    }
}

/// Iterator over the transactions of a [`TxTree`].
#[derive(Debug, Clone)]
pub struct RawTxs<'t> {
    rest: &'t [u8],
    left: usize,
}

impl<'t> Iterator for RawTxs<'t> {
    type Item = RawTx<'t>;

    fn next(&mut self) -> Option<RawTx<'t>> {
        if self.left == 0 {
            return None;
        }
        // The tree was validated when it was built, so this parse succeeds;
        // should it not, the iteration ends instead of panicking.
        match RawTx::parse(self.rest) {
            Ok((rest, tx)) => {
                self.rest = rest;
                self.left -= 1;
                Some(tx)
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

impl ExactSizeIterator for RawTxs<'_> {}

impl<'a> Payload<'a> for Block<'a> {
    const COMMAND: Command = Command::Block;
    type Owned = Block<'static>;

    fn decode(input: &'a [u8], pver: u32) -> PResult<'a, Self> {
        require_pver(Self::COMMAND, pver)?;
        let (i, header) = BlockHeader::parse(input)?;
        let (i, txs) = TxTree::parse(i, pver, "transactions in a block")?;
        let (i, stake_txs) = TxTree::parse(i, pver, "stake transactions in a block")?;
        Ok((
            i,
            Block {
                header,
                txs,
                stake_txs,
            },
        ))
    }

    fn encode<B: BufMut>(&self, buf: &mut B, pver: u32) -> Result<(), Error> {
        require_pver(Self::COMMAND, pver)?;
        self.header.write(buf);
        self.txs.write(buf);
        self.stake_txs.write(buf);
        Ok(())
    }

    fn serialized_size(&self, _pver: u32) -> usize {
        BLOCK_HEADER_SIZE + self.txs.serialized_size() + self.stake_txs.serialized_size()
    }

    fn max_payload_length(pver: u32) -> u32 {
        max_block_payload(pver)
    }

    fn into_owned(self) -> Block<'static> {
        Block {
            header: self.header,
            txs: self.txs.into_owned(),
            stake_txs: self.stake_txs.into_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msg::header::tests::arb_header;
    use crate::msg::tx::tests::arb_tx;
    use crate::protocol::pver;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn tx_locs_slice_out_each_transaction(
            txs in proptest::collection::vec(arb_tx(), 0..4),
            stxs in proptest::collection::vec(arb_tx(), 0..4),
        ) {
            let block = Block::new(BlockHeader::default(), &txs, &stxs);
            let mut buf = Vec::new();
            block.encode(&mut buf, pver::CURRENT).unwrap();
            let (locs, slocs) = Block::from_bytes(&buf, pver::CURRENT).unwrap().tx_locs();
            prop_assert_eq!((locs.len(), slocs.len()), (txs.len(), stxs.len()));
            for (loc, tx) in locs.iter().chain(&slocs).zip(txs.iter().chain(&stxs)) {
                prop_assert_eq!(&Tx::from_bytes(&buf[loc.range()]).unwrap(), tx);
            }
            // The locations cover the trees exactly: the regular tree ends
            // where the stake tree's count starts, the stake tree ends the
            // block.
            let stake_count_at = locs.last().map_or(BLOCK_HEADER_SIZE + 1, |l| l.range().end);
            let stake_end = slocs.last().map_or(stake_count_at + 1, |l| l.range().end);
            prop_assert_eq!(stake_end, buf.len());
        }

        #[test]
        fn block_round_trip(
            header in arb_header(),
            txs in proptest::collection::vec(arb_tx(), 0..4),
            stxs in proptest::collection::vec(arb_tx(), 0..4),
        ) {
            let block = Block::new(header, &txs, &stxs);
            let mut buf = Vec::new();
            block.encode(&mut buf, pver::CURRENT).unwrap();
            prop_assert_eq!(buf.len(), block.serialized_size(pver::CURRENT));
            let back = Block::from_bytes(&buf, pver::CURRENT).unwrap();
            prop_assert_eq!(&back, &block);
            prop_assert_eq!(back.txs.iter().collect::<Vec<_>>(), txs.clone());
            prop_assert_eq!(back.stake_txs.tx_hashes(), stxs.iter().map(|t| t.tx_hash()).collect::<Vec<_>>());
        }

        #[test]
        fn batched_hashes_match_one_by_one(
            txs in proptest::collection::vec(arb_tx(), 0..24),
            stxs in proptest::collection::vec(arb_tx(), 0..12),
        ) {
            let block = Block::new(BlockHeader::default(), &txs, &stxs);
            let one = |t: &Tx<'_>| TxHashes {
                tx: t.tx_hash(),
                witness: t.witness_hash(),
                full: t.full_hash(),
            };
            let all = block.tx_hashes();
            prop_assert_eq!(&all.regular, &txs.iter().map(one).collect::<Vec<_>>());
            prop_assert_eq!(&all.stake, &stxs.iter().map(one).collect::<Vec<_>>());
            prop_assert_eq!(block.txs.hashes(), all.regular.clone());
            prop_assert_eq!(
                block.txs.tx_hashes(),
                all.regular.iter().map(|h| h.tx).collect::<Vec<_>>()
            );
        }
    }

    #[test]
    fn tree_count_limit_depends_on_version() {
        assert_eq!(max_tx_per_tree(3), 1_000_000 / 15 / 2 + 1);
        assert_eq!(max_tx_per_tree(4), 1_310_720 / 15 / 2 + 1);
        let mut b = BlockHeader::default().to_bytes().to_vec();
        b.push(0xfd);
        b.extend_from_slice(&((max_tx_per_tree(3) + 1) as u16).to_le_bytes());
        let e = Block::decode(&b, 3).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::TooManyTxs);
    }

    #[test]
    fn decoding_borrows_the_trees() {
        let tx = Tx {
            version: 1,
            ..Tx::default()
        };
        let block = Block::new(BlockHeader::default(), &[tx.clone(), tx], &[]);
        let mut buf = Vec::new();
        block.encode(&mut buf, pver::CURRENT).unwrap();
        let back = Block::from_bytes(&buf, pver::CURRENT).unwrap();
        assert!(matches!(back.txs.bytes, Cow::Borrowed(_)));
        assert_eq!(back.txs.len(), 2);
        assert!(back.stake_txs.is_empty());
    }
}
