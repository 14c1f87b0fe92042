//! BLAKE-256 (the dcr-blake256 crate, and dcr-wire's `blake256` on it),
//! differentially: the one-shot hash, every compression this CPU runs
//! (one-shot and the streaming hasher fed in pieces) and the `blake-hash`
//! crate all agree. The first two bytes choose where the input is cut.
//!
//! Then the multi-lane hashing: the input is cut into a batch of messages
//! (each cut also splits its message into head and body), hashed many at a
//! time on every kernel this CPU runs, and each digest is checked against
//! the one-shot hash.
//!
//! And the multi-lane BLAKE3 of one-chunk messages (`dcr_blake256::blake3`,
//! the batched proof-of-work hash of DCP-0011): the same batch, whole
//! messages, on every BLAKE3 kernel this CPU runs, against the `blake3`
//! crate.
#![no_main]

use blake_hash::Digest;
use dcr_blake256::{digest_many_on, many_kernels, Blake256, Compression, Message};
use dcr_wire::{blake256, Hash};
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
    for c in Compression::available() {
        assert_eq!(c.digest(msg), want, "{}", c.name());
        let mut h = Blake256::with_compression(c);
        let mut at = 0;
        for &p in &points {
            h.update(&msg[at..p]);
            at = p;
        }
        h.update(&msg[at..]);
        assert_eq!(h.finalize(), want, "{}", c.name());
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
        inputs.push(Message::split(&msg[..cut], &msg[cut..]));
        data = tail;
    }
    let want: Vec<Hash> = inputs
        .iter()
        .map(|m| {
            let mut h = Blake256::portable();
            h.update(m.head);
            h.update(m.body);
            Hash(h.finalize())
        })
        .collect();
    for kernel in many_kernels() {
        let mut got = vec![Hash::ZERO; inputs.len()];
        assert!(digest_many_on(kernel, &inputs, &mut got));
        assert_eq!(got, want, "{kernel}");
    }
    blake3_batch(&inputs);
}

/// BLAKE3 of the batch's messages (head and body together: at most 1,023
/// bytes, one chunk) on every kernel.
fn blake3_batch(inputs: &[Message<'_>]) {
    let whole: Vec<Vec<u8>> = inputs.iter().map(|m| [m.head, m.body].concat()).collect();
    let want: Vec<[u8; 32]> = whole.iter().map(|m| *blake3::hash(m).as_bytes()).collect();
    for kernel in dcr_blake256::blake3::kernels() {
        let mut got = vec![[0u8; 32]; whole.len()];
        assert_eq!(
            dcr_blake256::blake3::hash_many_on(kernel, &whole, &mut got),
            Ok(true)
        );
        assert_eq!(got, want, "blake3 {kernel}");
    }
}
