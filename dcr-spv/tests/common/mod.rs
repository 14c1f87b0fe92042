//! Shared helpers of dcr-spv's integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

use dcr_wire::{Block, BlockHeader};

/// The conformance corpus folder (`$DCR_TESTDATA`, else
/// `../shared/testdata` beside the workspace). `None`, after saying why,
/// when it is missing; a panic instead when `CI` is set, so that CI cannot
/// pass by skipping.
pub fn corpus_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("DCR_TESTDATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/testdata"));
    if dir.join("wire").is_dir() {
        return Some(dir);
    }
    let ci = std::env::var("CI").is_ok_and(|v| !matches!(v.as_str(), "" | "false" | "0"));
    assert!(!ci, "corpus not found at {} with CI set", dir.display());
    eprintln!("SKIPPED: corpus not found at {}", dir.display());
    None
}

/// The serialized blocks of the corpus's 169-block test chain (heights 0 to
/// 168), each as its bytes.
pub fn corpus_chain() -> Option<Vec<Vec<u8>>> {
    let data = std::fs::read(corpus_dir()?.join("wire/blocks/chain-0-168.bin")).ok()?;
    let mut out = Vec::new();
    let mut rest = &data[..];
    while rest.len() >= 4 {
        let len = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        out.push(rest[4..4 + len].to_vec());
        rest = &rest[4 + len..];
    }
    Some(out)
}

/// The headers of the corpus chain.
pub fn corpus_headers() -> Option<Vec<BlockHeader>> {
    Some(
        corpus_chain()?
            .iter()
            .map(|b| Block::from_bytes(b, 12).expect("corpus block").header)
            .collect(),
    )
}

/// The parameters dcrd's own test (`TestBlockchainFunctions` in
/// `internal/blockchain/chain_test.go`) validates this chain with: regnet's,
/// with the legacy genesis block the chain starts from.
pub fn corpus_params(genesis: &BlockHeader) -> dcr_spv::Params {
    let mut p = dcr_spv::params::regnet().clone();
    p.genesis_header = *genesis;
    p.genesis_hash = genesis.block_hash();
    p
}

/// One block of the simnet vectors made by `tests/data/gen_vectors.py`.
pub struct SimnetBlock {
    pub height: u32,
    pub hash: String,
    pub header: Vec<u8>,
    pub block: Vec<u8>,
    pub filter: Vec<u8>,
    pub proof_index: u32,
    pub proof_hashes: Vec<String>,
}

/// The simnet chain of the vectors.
pub fn simnet_chain() -> (String, Vec<SimnetBlock>) {
    let text = include_str!("../data/simnet-chain.json");
    let v: serde_json::Value = serde_json::from_str(text).expect("vector file");
    let blocks = v["blocks"]
        .as_array()
        .expect("blocks")
        .iter()
        .map(|b| SimnetBlock {
            height: b["height"].as_u64().expect("height") as u32,
            hash: b["hash"].as_str().expect("hash").to_string(),
            header: hex::decode(b["header"].as_str().expect("header")).expect("hex"),
            block: hex::decode(b["block"].as_str().expect("block")).expect("hex"),
            filter: hex::decode(b["filter"].as_str().expect("filter")).expect("hex"),
            proof_index: b["proof_index"].as_u64().expect("index") as u32,
            proof_hashes: b["proof_hashes"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|h| h.as_str().unwrap_or("").to_string())
                        .collect()
                })
                .unwrap_or_default(),
        })
        .collect();
    (
        v["mining_address"].as_str().expect("address").to_string(),
        blocks,
    )
}
