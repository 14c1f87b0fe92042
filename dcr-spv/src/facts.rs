//! What the header rules read about earlier blocks, and how they reach them.

use dcr_wire::{BlockHeader, Hash};

/// The fields of one block header that the difficulty, stake difficulty and
/// timestamp rules read about ancestors (dcrd keeps the same in its
/// `blockNode`), with the block's hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockFacts {
    /// The block's hash.
    pub hash: Hash,
    /// Its height.
    pub height: u32,
    /// Its timestamp, Unix seconds.
    pub timestamp: u32,
    /// Its difficulty bits.
    pub bits: u32,
    /// Its stake difficulty, atoms.
    pub sbits: i64,
    /// Its block version.
    pub version: i32,
    /// Its ticket pool size.
    pub pool_size: u32,
    /// Its count of new tickets.
    pub fresh_stake: u8,
}

impl BlockFacts {
    /// The facts of a header whose hash is known.
    pub fn new(header: &BlockHeader, hash: Hash) -> BlockFacts {
        BlockFacts {
            hash,
            height: header.height,
            timestamp: header.timestamp,
            bits: header.bits,
            sbits: header.sbits,
            version: header.version,
            pool_size: header.pool_size,
            fresh_stake: header.fresh_stake,
        }
    }
}

/// A branch of the chain seen from its tip: the tip and each of its
/// ancestors by height. The rules take the tip to be the parent of the
/// header they check.
pub trait Ancestors {
    /// The tip of the branch.
    fn tip(&self) -> BlockFacts;

    /// The block of this branch at `height`; `None` above the tip (dcrd's
    /// `blockNode.Ancestor`) or where the branch does not reach so far back.
    fn at(&self, height: u32) -> Option<BlockFacts>;

    /// The ancestor `distance` blocks before `from` (dcrd
    /// `RelativeAncestor`).
    fn relative(&self, from: &BlockFacts, distance: i64) -> Option<BlockFacts> {
        let h = i64::from(from.height) - distance;
        u32::try_from(h).ok().and_then(|h| self.at(h))
    }

    /// Whether `node` is on this branch (dcrd `IsAncestorOf`, also true for
    /// the tip itself).
    fn contains(&self, node: &BlockFacts) -> bool {
        self.at(node.height).is_some_and(|n| n.hash == node.hash)
    }
}

/// A whole branch held in order: element `i` is the block at height
/// `first + i`, the last is the tip.
#[derive(Debug, Clone, Copy)]
pub struct Slice<'a> {
    blocks: &'a [BlockFacts],
}

impl<'a> Slice<'a> {
    /// The branch of these blocks (consecutive heights, oldest first);
    /// `None` when empty.
    pub fn new(blocks: &'a [BlockFacts]) -> Option<Slice<'a>> {
        (!blocks.is_empty()).then_some(Slice { blocks })
    }
}

impl Ancestors for Slice<'_> {
    fn tip(&self) -> BlockFacts {
        self.blocks[self.blocks.len() - 1]
    }

    fn at(&self, height: u32) -> Option<BlockFacts> {
        let first = self.blocks.first()?.height;
        let i = height.checked_sub(first)? as usize;
        self.blocks.get(i).copied()
    }
}

/// A header with its block hash, and its BLAKE3 proof-of-work hash computed
/// at most once, when a rule first needs it.
#[derive(Debug)]
pub struct HashedHeader<'a> {
    /// The header.
    pub header: &'a BlockHeader,
    /// Its block hash (the BLAKE-256 proof-of-work hash).
    pub hash: Hash,
    /// Its serialization, when the caller has it at hand.
    bytes: Option<&'a [u8]>,
    pow_v2: std::cell::OnceCell<Hash>,
}

impl<'a> HashedHeader<'a> {
    /// A header whose block hash is known (computed in a batch, say).
    pub fn new(header: &'a BlockHeader, hash: Hash) -> HashedHeader<'a> {
        HashedHeader {
            header,
            hash,
            bytes: None,
            pow_v2: std::cell::OnceCell::new(),
        }
    }

    /// A header whose block hash and 180-byte serialization are known.
    pub fn with_bytes(header: &'a BlockHeader, hash: Hash, bytes: &'a [u8]) -> HashedHeader<'a> {
        HashedHeader {
            bytes: Some(bytes),
            ..HashedHeader::new(header, hash)
        }
    }

    /// The same header with its version 2 proof-of-work hash already
    /// computed (in a batch, say: [`BlockHeader::pow_hashes_v2`]), or
    /// `None` to compute it when first asked. The caller vouches that
    /// `pow_v2` is the hash of this header.
    pub fn with_pow_hash_v2(self, pow_v2: Option<Hash>) -> HashedHeader<'a> {
        let cell = std::cell::OnceCell::new();
        if let Some(h) = pow_v2 {
            let _ = cell.set(h);
        }
        HashedHeader {
            pow_v2: cell,
            ..self
        }
    }

    /// A header, hashing it.
    pub fn hash(header: &'a BlockHeader) -> HashedHeader<'a> {
        HashedHeader::new(header, header.block_hash())
    }

    /// The version 2 proof-of-work hash (BLAKE3, DCP-0011).
    pub fn pow_hash_v2(&self) -> Hash {
        *self.pow_v2.get_or_init(|| match self.bytes {
            Some(b) => Hash(*blake3::hash(b).as_bytes()),
            None => self.header.pow_hash_v2(),
        })
    }
}
