//! BLAKE-256, differentially: the one-shot hash, the streaming hasher fed in
//! pieces (vectorised and portable compressions) and the `blake-hash` crate
//! all agree. The first two bytes choose where the input is cut.
#![no_main]

use blake_hash::Digest;
use dcr_wire::{blake256, Hasher};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (cuts, msg) = data.split_at(data.len().min(2));
    let want: [u8; 32] = blake_hash::Blake256::digest(msg).into();
    assert_eq!(blake256(msg).0, want);
    let mut points: Vec<usize> = cuts
        .iter()
        .map(|&c| usize::from(c) * msg.len() / 255)
        .collect();
    points.sort_unstable();
    for mut h in [Hasher::new(), Hasher::portable()] {
        let mut at = 0;
        for &p in &points {
            h.update(&msg[at..p]);
            at = p;
        }
        h.update(&msg[at..]);
        assert_eq!(h.finish().0, want);
    }
});
