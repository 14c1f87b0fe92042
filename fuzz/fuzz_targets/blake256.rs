//! BLAKE-256, differentially: the one-shot hash, the streaming hasher fed in
//! pieces (vectorised and portable compressions) and the `blake-hash` crate
//! all agree. The first two bytes choose where the input is cut.
//!
//! Then the multi-lane hashing: the input is cut into a batch of messages
//! (each cut also splits its message into head and body), hashed many at a
//! time on every kernel this CPU runs, and each digest is checked against
//! the one-shot hash.
#![no_main]

use blake_hash::Digest;
use dcr_wire::{blake256, blake256_many_kernels, blake256_many_on, Hash, HashInput, Hasher};
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
    batch(data);
});

/// Each message takes two leading bytes: its length (up to 1023, the rest
/// of the input at most) and where its head ends.
fn batch(mut data: &[u8]) {
    let mut inputs = Vec::new();
    while let [a, b, rest @ ..] = data {
        let len = (usize::from(*a) | usize::from(*b & 3) << 8).min(rest.len());
        let (msg, tail) = rest.split_at(len);
        let cut = usize::from(*b >> 2) * len / 63;
        inputs.push(HashInput::split(&msg[..cut], &msg[cut..]));
        data = tail;
    }
    let want: Vec<Hash> = inputs
        .iter()
        .map(|m| {
            let mut h = Hasher::portable();
            h.update(m.head).update(m.body);
            h.finish()
        })
        .collect();
    for kernel in blake256_many_kernels() {
        let mut got = vec![Hash::ZERO; inputs.len()];
        assert!(blake256_many_on(kernel, &inputs, &mut got));
        assert_eq!(got, want, "{kernel}");
    }
}
