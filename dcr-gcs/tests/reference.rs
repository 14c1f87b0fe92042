//! Filters built here are the bytes dcrd serves: blocks a simnet dcrd
//! mined, with the filters its `getcfilterv2` RPC returned for them
//! (`simnet-filters.json`). These blocks spend nothing, so each filter
//! holds its regular tree's output scripts (version 0, not empty, at most
//! 16,384 bytes), keyed by the merkle root.

use dcr_wire::{pver, Block};

#[test]
fn coinbase_filters_are_the_references_bytes() {
    let doc: serde_json::Value = serde_json::from_str(include_str!("simnet-filters.json")).unwrap();
    let blocks = doc["blocks"].as_array().unwrap();
    assert_eq!(blocks.len(), 3);
    for b in blocks {
        let raw = hex::decode(b["block"].as_str().unwrap()).unwrap();
        let want = hex::decode(b["filter"].as_str().unwrap()).unwrap();
        let block = Block::from_bytes(&raw, pver::CURRENT).unwrap();
        let mut items: Vec<Vec<u8>> = Vec::new();
        for tx in block.txs.iter() {
            for o in &tx.outputs {
                if o.version == 0 && !o.pk_script.is_empty() && o.pk_script.len() <= 16384 {
                    items.push(o.pk_script.to_vec());
                }
            }
        }
        let key = dcr_gcs::key(&block.header.merkle_root);
        let got = dcr_gcs::build(&key, &items);
        assert_eq!(
            hex::encode(&got),
            hex::encode(&want),
            "height {}",
            b["height"]
        );
        let f = dcr_gcs::Filter::from_bytes(&got).unwrap();
        assert!(items.iter().all(|i| f.matches(&key, i)));
    }
}
