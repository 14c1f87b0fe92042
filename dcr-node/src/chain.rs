//! Chains to serve: block files read from a folder (the shared corpus's
//! among them), or a small chain built in memory (valid hashes and links,
//! not mined), so the demo runs on any machine.

use std::borrow::Cow;
use std::io;
use std::path::{Path, PathBuf};

use dcr_wire::{pver, Block, BlockHeader, OutPoint, Payload, Tx, TxIn, TxOut, TxSerType};

/// The corpus folder for this crate's unit tests: `$DCR_TESTDATA`, else
/// `../shared/testdata` beside the workspace the tests run in. Tests only:
/// a program finds the corpus from where it is installed (`dcrpeer`'s
/// `corpus` module), never from the tree it was built in.
#[cfg(test)]
fn find_corpus() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("DCR_TESTDATA").map(PathBuf::from),
        Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/testdata")),
    ];
    candidates
        .into_iter()
        .flatten()
        .find(|d| d.join("wire/blocks/chain-0-168.bin").is_file())
}

/// Why block files could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// A file or folder could not be read.
    #[error("cannot read {}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// A record of this file runs past its end.
    #[error("{}: {record}", path.display())]
    Truncated {
        /// The file.
        path: PathBuf,
        /// Where and how.
        record: TruncatedRecord,
    },
    /// The folder holds no block.
    #[error("no blocks in {}", .0.display())]
    Empty(PathBuf),
}

/// A block record that runs past the end of its file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TruncatedRecord {
    /// Fewer than the four bytes of a record's length are left.
    #[error("truncated: {} at byte {offset}, too few for a record length", dcr_wire::ByteCount(*remaining as u64))]
    Length {
        /// Which record (from 0).
        index: usize,
        /// Where it starts in the file.
        offset: usize,
        /// The bytes left there.
        remaining: usize,
    },
    /// A record's length claims more bytes than are left.
    #[error(
        "truncated: block record {index} at byte {offset} claims {}, {} left",
        dcr_wire::ByteCount(*claimed as u64),
        dcr_wire::ByteCount(*remaining as u64)
    )]
    Block {
        /// Which record (from 0).
        index: usize,
        /// Where it starts in the file.
        offset: usize,
        /// Its length field.
        claimed: usize,
        /// The bytes left after the length field.
        remaining: usize,
    },
}

/// The block records of a block file, `[u32 little-endian length][serialized
/// block]` repeated (the corpus's `wire/blocks/*.bin`, `dcrpeer listen
/// --chain DIR`): each block borrowed from `data`, in order, then the
/// first record that runs past the end, if one does. The one reader of the
/// format in the workspace; [`block_records_file`] writes it.
pub fn block_records(data: &[u8]) -> BlockRecords<'_> {
    BlockRecords {
        rest: data,
        offset: 0,
        index: 0,
    }
}

/// The iterator of [`block_records`].
#[derive(Debug, Clone)]
pub struct BlockRecords<'a> {
    rest: &'a [u8],
    offset: usize,
    index: usize,
}

impl<'a> Iterator for BlockRecords<'a> {
    type Item = Result<&'a [u8], TruncatedRecord>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let (index, offset, remaining) = (self.index, self.offset, self.rest.len());
        let record = match self.rest.split_first_chunk::<4>() {
            None => Err(TruncatedRecord::Length {
                index,
                offset,
                remaining,
            }),
            Some((len, body)) => {
                let claimed = u32::from_le_bytes(*len) as usize;
                match body.split_at_checked(claimed) {
                    Some((block, rest)) => {
                        self.rest = rest;
                        self.offset += 4 + claimed;
                        self.index += 1;
                        return Some(Ok(block));
                    }
                    None => Err(TruncatedRecord::Block {
                        index,
                        offset,
                        claimed,
                        remaining: body.len(),
                    }),
                }
            }
        };
        // Nothing more after a truncated record.
        self.rest = &[];
        Some(record)
    }
}

/// Splits a block file into its blocks ([`block_records`], copied).
pub fn split_block_records(data: &[u8]) -> Result<Vec<Vec<u8>>, TruncatedRecord> {
    block_records(data).map(|r| r.map(<[u8]>::to_vec)).collect()
}

/// A block file holding `blocks`, as [`block_records`] reads it.
///
/// # Panics
/// If a block is 4 GiB or more (no block comes near).
pub fn block_records_file<B: AsRef<[u8]>>(blocks: &[B]) -> Vec<u8> {
    let mut out = Vec::with_capacity(blocks.iter().map(|b| 4 + b.as_ref().len()).sum());
    for b in blocks {
        let b = b.as_ref();
        let len = u32::try_from(b.len()).expect("a block under 4 GiB");
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(b);
    }
    out
}

/// Reads the file at `path`.
fn read(path: &Path) -> Result<Vec<u8>, LoadError> {
    std::fs::read(path).map_err(|source| LoadError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// The blocks of the block file at `path`.
pub fn load_block_file(path: &Path) -> Result<Vec<Vec<u8>>, LoadError> {
    split_block_records(&read(path)?).map_err(|record| LoadError::Truncated {
        path: path.into(),
        record,
    })
}

/// Reads every `*.bin` block file (`[u32 LE length][block]` records) of
/// `dir`, or of `dir/wire/blocks` when `dir` is a corpus folder, in name
/// order.
pub fn load_chain_dir(dir: &Path) -> Result<Vec<Vec<u8>>, LoadError> {
    let corpus = dir.join("wire/blocks/chain-0-168.bin");
    if corpus.is_file() {
        return load_block_file(&corpus);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|source| LoadError::Io {
            path: dir.to_path_buf(),
            source,
        })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "bin"))
        .collect();
    files.sort();
    let mut blocks = Vec::new();
    for f in files {
        blocks.extend(load_block_file(&f)?);
    }
    if blocks.is_empty() {
        return Err(LoadError::Empty(dir.to_path_buf()));
    }
    Ok(blocks)
}

/// Builds `n` linked blocks from a genesis block, each with one
/// coinbase-like transaction, at simnet's easiest difficulty.
pub fn build_chain(n: u32) -> Vec<Vec<u8>> {
    let mut blocks: Vec<Vec<u8>> = Vec::with_capacity(n as usize);
    let mut prev = dcr_wire::Hash::ZERO;
    for height in 0..n {
        let (hash, bytes) = build_block(prev, height, 0);
        prev = hash;
        blocks.push(bytes);
    }
    blocks
}

/// Builds `n` blocks on top of the serialized block `parent`, as
/// [`build_chain`] does; `tag` makes them differ from other branches on
/// the same parent.
pub fn build_branch(parent: &[u8], n: u32, tag: u8) -> Vec<Vec<u8>> {
    let Ok(p) = Block::from_bytes(parent, pver::CURRENT) else {
        return Vec::new();
    };
    let mut prev = p.block_hash();
    (1..=n)
        .map(|i| {
            let (hash, bytes) = build_block(prev, p.header.height + i, tag);
            prev = hash;
            bytes
        })
        .collect()
}

/// One block at `height` on `prev` with a coinbase-like transaction
/// paying a script that names the height and `tag`.
fn build_block(prev: dcr_wire::Hash, height: u32, tag: u8) -> (dcr_wire::Hash, Vec<u8>) {
    let script = height.to_le_bytes().to_vec();
    let tx = Tx {
        ser_type: TxSerType::Full,
        version: 1,
        inputs: vec![TxIn {
            previous_out_point: OutPoint {
                index: u32::MAX,
                ..OutPoint::default()
            },
            sequence: u32::MAX,
            value_in: -1,
            block_index: u32::MAX,
            signature_script: Cow::Owned(script),
            ..TxIn::default()
        }],
        outputs: vec![TxOut {
            value: 5_000_000_000,
            version: 0,
            pk_script: Cow::Owned(vec![0x76, 0xa9, 0x14, height as u8, tag, 0x88, 0xac]),
        }],
        lock_time: 0,
        expiry: 0,
    };
    let header = BlockHeader {
        version: 1,
        prev_block: prev,
        // One transaction: the root is its full hash.
        merkle_root: tx.full_hash(),
        // Simnet's proof-of-work limit: each block adds work.
        bits: 0x207f_ffff,
        height,
        timestamp: 1_700_000_000 + height * 300 + u32::from(tag),
        ..BlockHeader::default()
    };
    let block = Block::new(header, &[tx], &[]);
    let mut bytes = Vec::with_capacity(block.serialized_size(pver::CURRENT));
    // Built from valid parts: encoding cannot fail.
    let _ = block.encode(&mut bytes, pver::CURRENT);
    (block.block_hash(), bytes)
}

/// The corpus chain's blocks for unit tests, or `None` after saying why
/// when the corpus is not on this machine; with `CI` set a missing corpus
/// fails instead (the workspace tests' rule), so CI never passes by
/// skipping.
#[cfg(test)]
pub(crate) fn corpus_chain_for_tests() -> Option<Vec<Vec<u8>>> {
    match find_corpus() {
        Some(dir) => Some(load_chain_dir(&dir).expect("the corpus chain loads")),
        None => {
            let ci = std::env::var("CI").is_ok_and(|v| !matches!(v.as_str(), "" | "false" | "0"));
            assert!(!ci, "conformance corpus not found (CI is set)");
            eprintln!("SKIPPED: conformance corpus not found (set DCR_TESTDATA)");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_truncated_record_names_its_file() {
        let dir = std::env::temp_dir().join(format!("dcr-node-chain-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("a.bin");
        std::fs::write(&file, [9, 0, 0, 0, 1]).unwrap();
        let err = load_chain_dir(&dir).unwrap_err();
        assert!(matches!(&err, LoadError::Truncated { path, .. } if *path == file));
        assert_eq!(
            err.to_string(),
            format!(
                "{}: truncated: block record 0 at byte 0 claims 9 bytes, 1 byte left",
                file.display()
            )
        );
        std::fs::write(&file, []).unwrap();
        assert!(matches!(load_chain_dir(&dir), Err(LoadError::Empty(_))));
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(matches!(
            load_chain_dir(&dir),
            Err(LoadError::Io { path, .. }) if path == dir
        ));
    }

    #[test]
    fn built_chain_links() {
        let blocks = build_chain(5);
        assert_eq!(blocks.len(), 5);
        let mut prev = dcr_wire::Hash::ZERO;
        for (h, raw) in blocks.iter().enumerate() {
            let b = Block::from_bytes(raw, pver::CURRENT).unwrap();
            assert_eq!(b.header.prev_block, prev);
            assert_eq!(b.header.height as usize, h);
            prev = b.block_hash();
        }
    }
}
