//! The light client's decoders and state machines on arbitrary input:
//! filter bytes (decode, match), headers (a regnet header chain taking
//! whatever 180-byte records the input holds), proofs, and addresses. None
//! may panic; a filter built from items must match each of them.
#![no_main]

use dcr_spv::commitment::verify_inclusion_proof;
use dcr_spv::gcs::{self, Filter};
use dcr_spv::{params, HeaderChain};
use dcr_wire::{BlockHeader, Hash};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let key = [data.first().copied().unwrap_or(0); 16];
    if let Ok(f) = Filter::from_bytes(data) {
        let _ = f.matches(&key, b"item");
        let _ = f.matches_any(&key, &[b"item".as_slice(), data]);
    }
    let items: Vec<&[u8]> = data.chunks(7).collect();
    let built = gcs::build(&key, &items);
    let f = Filter::from_bytes(&built).expect("built filters decode");
    for it in items.iter().filter(|i| !i.is_empty()) {
        assert!(f.matches(&key, it));
    }
    let headers: Vec<BlockHeader> = data
        .chunks_exact(180)
        .filter_map(|c| BlockHeader::from_bytes(c).ok())
        .collect();
    let mut chain = HeaderChain::new(params::regnet().clone());
    let _ = chain.accept(&headers, Some(0));
    let proof: Vec<Hash> = data
        .chunks_exact(32)
        .map(|c| Hash(c.try_into().unwrap_or([0; 32])))
        .collect();
    let _ = verify_inclusion_proof(&Hash::ZERO, &Hash::ZERO, data.len() as u32, &proof);
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = dcr_spv::watch::address_script(s, params::mainnet());
    }
});
