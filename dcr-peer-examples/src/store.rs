//! A chain held in memory for serving: raw blocks with their headers and an
//! index by hash, and the locator rules the reference's server answers
//! `getheaders` and `getblocks` with.

use std::collections::HashMap;

use dcr_wire::msg::MAX_BLOCK_HEADERS_PER_MSG;
use dcr_wire::{pver, Block, BlockHeader, Hash};

/// Most block hashes in one answer to `getblocks` (the reference's).
pub const MAX_BLOCKS_PER_GETBLOCKS: usize = 500;

/// A validated chain: every block decodes and links to the one before.
#[derive(Debug, Clone)]
pub struct ChainStore {
    blocks: Vec<bytes::Bytes>,
    headers: Vec<BlockHeader>,
    hashes: Vec<Hash>,
    index: HashMap<Hash, usize>,
}

impl ChainStore {
    /// Checks and indexes `blocks` (height order, the first is the genesis).
    pub fn new(blocks: Vec<Vec<u8>>) -> Result<ChainStore, String> {
        let mut store = ChainStore {
            blocks: Vec::with_capacity(blocks.len()),
            headers: Vec::with_capacity(blocks.len()),
            hashes: Vec::with_capacity(blocks.len()),
            index: HashMap::with_capacity(blocks.len()),
        };
        for (height, raw) in blocks.into_iter().enumerate() {
            let block = Block::from_bytes(&raw, pver::CURRENT)
                .map_err(|e| format!("block {height}: {e}"))?;
            if let Some(prev) = store.hashes.last() {
                if block.header.prev_block != *prev {
                    return Err(format!(
                        "block {height} does not link to block {}",
                        height - 1
                    ));
                }
            }
            let hash = block.block_hash();
            store.headers.push(block.header);
            store.hashes.push(hash);
            store.index.insert(hash, height);
            store.blocks.push(bytes::Bytes::from(raw));
        }
        if store.blocks.is_empty() {
            return Err("empty chain".into());
        }
        Ok(store)
    }

    pub fn len(&self) -> usize {
        self.blocks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.blocks.is_empty()
    }

    pub fn tip(&self) -> (Hash, i64) {
        (
            self.hashes[self.hashes.len() - 1],
            self.hashes.len() as i64 - 1,
        )
    }

    /// The serialized block with `hash`.
    pub fn block(&self, hash: &Hash) -> Option<&bytes::Bytes> {
        self.index.get(hash).map(|&h| &self.blocks[h])
    }

    /// Total size of all blocks.
    pub fn total_bytes(&self) -> usize {
        self.blocks.iter().map(|b| b.len()).sum()
    }

    /// Where an answer starts: after the first locator hash we know, or
    /// after the genesis block when we know none (as the reference does).
    fn start_after(&self, locator: &[Hash]) -> usize {
        locator
            .iter()
            .find_map(|h| self.index.get(h))
            .map_or(1, |&h| h + 1)
    }

    /// Headers after the locator, up to and including `stop` (zero: no
    /// stop), at most 2000.
    pub fn locate_headers(&self, locator: &[Hash], stop: &Hash) -> Vec<BlockHeader> {
        self.locate(locator, stop, MAX_BLOCK_HEADERS_PER_MSG as usize)
            .map(|h| self.headers[h])
            .collect()
    }

    /// Block hashes after the locator, up to `stop`, at most 500.
    pub fn locate_blocks(&self, locator: &[Hash], stop: &Hash) -> Vec<Hash> {
        self.locate(locator, stop, MAX_BLOCKS_PER_GETBLOCKS)
            .map(|h| self.hashes[h])
            .collect()
    }

    fn locate(
        &self,
        locator: &[Hash],
        stop: &Hash,
        max: usize,
    ) -> impl Iterator<Item = usize> + '_ {
        let start = self.start_after(locator);
        let end = self
            .index
            .get(stop)
            .map_or(self.len(), |&h| h + 1)
            .max(start);
        (start..end.min(self.len())).take(max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::build_chain;

    #[test]
    fn locators() {
        let c = ChainStore::new(build_chain(10)).unwrap();
        assert_eq!(c.locate_headers(&[], &Hash::ZERO).len(), 9);
        let h3 = c.hashes[3];
        let got = c.locate_headers(&[Hash([9; 32]), h3], &Hash::ZERO);
        assert_eq!(got.first().map(|h| h.height), Some(4));
        assert_eq!(
            c.locate_blocks(&[h3], &c.hashes[5]),
            vec![c.hashes[4], c.hashes[5]]
        );
        assert!(c.locate_headers(&[c.tip().0], &Hash::ZERO).is_empty());
        assert!(ChainStore::new(vec![]).is_err());
        let mut broken = build_chain(3);
        broken.swap(1, 2);
        assert!(ChainStore::new(broken).is_err());
    }
}
