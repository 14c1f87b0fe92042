//! The demo chain: real blocks from the shared corpus when it is present,
//! otherwise a small chain built in memory (valid hashes and links, not
//! mined), so the demo runs on any machine.

use std::borrow::Cow;
use std::io;
use std::path::{Path, PathBuf};

use dcr_wire::{pver, Block, BlockHeader, OutPoint, Payload, Tx, TxIn, TxOut, TxSerType};

/// Where the demo chain came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainSource {
    /// The corpus folder the blocks were read from.
    Corpus(PathBuf),
    /// Built in memory.
    Built,
}

/// The corpus folder: `$DCR_TESTDATA`, else `../shared/testdata` from the
/// current directory or from the workspace this tool was built in.
pub fn find_corpus() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("DCR_TESTDATA").map(PathBuf::from),
        Some(PathBuf::from("../shared/testdata")),
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
    /// A record's length runs past the end of this file.
    #[error("{}: {TruncatedRecord}", .0.display())]
    Truncated(PathBuf),
    /// The folder holds no block.
    #[error("no blocks in {}", .0.display())]
    Empty(PathBuf),
}

/// A block record whose length runs past the end of its file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("truncated block record")]
pub struct TruncatedRecord;

/// Reads the file at `path`.
fn read(path: &Path) -> Result<Vec<u8>, LoadError> {
    std::fs::read(path).map_err(|source| LoadError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Splits a corpus block file: `[u32 LE length][block]` records.
pub fn split_block_records(data: &[u8]) -> Result<Vec<Vec<u8>>, TruncatedRecord> {
    let mut out = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        let len_bytes: [u8; 4] = rest
            .get(..4)
            .and_then(|b| b.try_into().ok())
            .ok_or(TruncatedRecord)?;
        let len = u32::from_le_bytes(len_bytes) as usize;
        let block = rest.get(4..4 + len).ok_or(TruncatedRecord)?;
        out.push(block.to_vec());
        rest = &rest[4 + len..];
    }
    Ok(out)
}

/// The records of the block file at `path`.
fn load_file(path: &Path) -> Result<Vec<Vec<u8>>, LoadError> {
    split_block_records(&read(path)?).map_err(|TruncatedRecord| LoadError::Truncated(path.into()))
}

/// The demo chain's serialized blocks, from the corpus or built.
pub fn load_demo_chain() -> Result<(ChainSource, Vec<Vec<u8>>), LoadError> {
    if let Some(dir) = find_corpus() {
        let blocks = load_file(&dir.join("wire/blocks/chain-0-168.bin"))?;
        return Ok((ChainSource::Corpus(dir), blocks));
    }
    Ok((ChainSource::Built, build_chain(32)))
}

/// Reads every `*.bin` block file (`[u32 LE length][block]` records) of
/// `dir`, or of `dir/wire/blocks` when `dir` is a corpus folder, in name
/// order.
pub fn load_chain_dir(dir: &Path) -> Result<Vec<Vec<u8>>, LoadError> {
    let corpus = dir.join("wire/blocks/chain-0-168.bin");
    if corpus.is_file() {
        return load_file(&corpus);
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
        blocks.extend(load_file(&f)?);
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
        assert!(matches!(&err, LoadError::Truncated(f) if *f == file));
        assert_eq!(
            err.to_string(),
            format!("{}: truncated block record", file.display())
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
