//! BLAKE3 of many short messages at once: each message is at most one
//! chunk (1,024 bytes), hashed with the default (unkeyed) mode and a 32-byte
//! output, one message per 32-bit lane of a vector (8 lanes with AVX2, 16
//! with AVX-512F). The digests are the `blake3` crate's `hash`.
//!
//! Why here: Decred's version 2 proof of work (DCP-0011) is BLAKE3 of the
//! 180-byte block header, and a light client checks thousands of headers
//! per `headers` message. The `blake3` crate hashes many inputs at once only
//! when they are whole chunks (its public API hashes one input at a time
//! below that), so each header's BLAKE3 hash ran alone, bound by the
//! latency of its G chain — the very problem [`digest_many`](crate::digest_many)
//! solves for BLAKE-256. BLAKE3's compression is BLAKE-256's G function
//! (the same rotations, 16/12/8/7) with no constants xored into the
//! message, 7 rounds and a fixed message permutation, so its multi-lane
//! kernels are built from the same vector code (`batch::x86`, the one
//! audited unsafe module) rather than a second copy of it in another crate.
//!
//! A message of at most one chunk is a single chunk that is also the root:
//! its blocks are compressed with counter 0, the first with `CHUNK_START`,
//! the last (zero-padded, with its true length) with `CHUNK_END | ROOT`, and
//! the digest is the root compression's first eight output words, which
//! equal its new chaining value. So each lane runs the plain chunk chain and
//! the digest is what the lane's state holds after its last block.
//!
//! Scheduling: messages are taken in groups as wide as the kernel, all
//! lanes of a group in step; a message shorter than the longest of its group
//! has its digest taken after its own last block while the others go on
//! (its lane compresses a dummy block meanwhile). Headers, all 180 bytes,
//! waste nothing. A group of up to eight messages takes the 256-bit kernel
//! with AVX-512; one of one or two messages is hashed by the portable
//! compression, message after message.
//!
//! The kernel is chosen by the CPU's instruction sets, as for the
//! BLAKE-256 batches (which are not calibrated either: the widest is the
//! fastest on every machine measured). [`kernels`] names them all and
//! [`hash_many_on`] runs one by name, for benchmarks and differential tests.

use crate::batch::{LaneStates, MAX_LANES};
use crate::IV;

/// The most bytes one message may have: one BLAKE3 chunk.
pub const CHUNK_LEN: usize = 1024;

/// A BLAKE3 block.
pub(crate) const BLOCK_LEN: usize = 64;

/// Domain flags of the compression (the BLAKE3 specification, table 3).
pub(crate) const CHUNK_START: u32 = 1;
pub(crate) const CHUNK_END: u32 = 2;
pub(crate) const ROOT: u32 = 8;

/// BLAKE3's message permutation, applied between rounds.
const PERMUTATION: [usize; 16] = [2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8];

/// The message word each round reads at each position: round `r` reads
/// word `SCHEDULE[r][i]` where the first round reads word `i` (the
/// permutation applied `r` times), resolved at compile time.
pub(crate) const SCHEDULE: [[usize; 16]; 7] = {
    let mut s = [[0usize; 16]; 7];
    let mut i = 0;
    while i < 16 {
        s[0][i] = i;
        i += 1;
    }
    let mut r = 1;
    while r < 7 {
        let mut i = 0;
        while i < 16 {
            s[r][i] = s[r - 1][PERMUTATION[i]];
            i += 1;
        }
        r += 1;
    }
    s
};

/// A message longer than one chunk was given; nothing was hashed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LongMessage {
    /// Its position in the batch.
    pub index: usize,
    /// Its length in bytes (above [`CHUNK_LEN`]).
    pub len: usize,
}

impl core::fmt::Display for LongMessage {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "message {} has {} bytes, more than one BLAKE3 chunk ({CHUNK_LEN})",
            self.index, self.len
        )
    }
}

impl core::error::Error for LongMessage {}

/// One compression of the first `lanes` lanes: lane `l` folds `blocks[l]`
/// (`lens[l]` bytes of it are message, the rest zero) into its chaining
/// value with counter 0 and the flags `flags[l]`.
pub(crate) type KernelFn =
    fn(&mut LaneStates, &[&[u8; BLOCK_LEN]; MAX_LANES], &[u32; MAX_LANES], &[u32; MAX_LANES]);

/// A multi-lane BLAKE3 compression and how to schedule it.
#[derive(Clone, Copy)]
pub(crate) struct Kernel {
    pub(crate) name: &'static str,
    pub(crate) lanes: usize,
    pub(crate) compress: KernelFn,
    /// Groups of at most this many messages are hashed one after the
    /// other by the portable compression.
    pub(crate) drain_at: usize,
    /// A kernel with fewer (and cheaper) steps, for groups it holds whole.
    pub(crate) narrow: Option<&'static Kernel>,
}

impl Kernel {
    /// The narrowest of this kernel and its narrow companions with lanes
    /// for `count` messages.
    fn for_count(self, count: usize) -> Kernel {
        let mut k = self;
        while let Some(narrow) = k.narrow.filter(|n| count <= n.lanes) {
            k = *narrow;
        }
        k
    }
}

/// The widest multi-lane kernel this CPU runs, if any.
#[inline]
fn kernel() -> Option<Kernel> {
    #[cfg(target_arch = "x86_64")]
    {
        if detected!("avx512f") && detected!("avx512vl") && detected!("avx2") {
            return Some(crate::batch::blake3_x86::AVX512);
        }
        if detected!("avx2") {
            return Some(crate::batch::blake3_x86::AVX2);
        }
    }
    None
}

/// Every multi-lane kernel this CPU runs, fewest lanes first.
fn all_kernels() -> impl Iterator<Item = Kernel> {
    #[cfg(target_arch = "x86_64")]
    let all = {
        use crate::batch::blake3_x86 as x86;
        let avx2 = detected!("avx2");
        let avx512 = avx2 && detected!("avx512f") && detected!("avx512vl");
        [
            avx2.then_some(x86::AVX2),
            avx512.then_some(x86::AVX512_NARROW),
            avx512.then_some(x86::AVX512),
        ]
    };
    #[cfg(not(target_arch = "x86_64"))]
    let all: [Option<Kernel>; 0] = [];
    all.into_iter().flatten()
}

/// The BLAKE3 kernels this CPU runs, by name, narrowest first: `"single"`
/// (the portable compression, one message after the other, always there),
/// then `"avx2x8"`, `"avx512x8"`, `"avx512x16"` where the CPU has them.
/// [`hash_many`] uses the widest, and narrower ones for small groups.
pub fn kernels() -> impl Iterator<Item = &'static str> {
    core::iter::once("single").chain(all_kernels().map(|k| k.name))
}

/// BLAKE3 (32-byte output) of each of `msgs` into the same position of
/// `out`, many at once on the widest kernel this CPU runs. Only the first
/// `min(msgs.len(), out.len())` are hashed. Every message must be at most
/// [`CHUNK_LEN`] bytes; otherwise nothing is hashed and the first longer
/// one is named.
///
/// ```
/// let msgs: [&[u8]; 3] = [b"decred", &[7; 180], b""];
/// let mut out = [[0u8; 32]; 3];
/// dcr_blake256::blake3::hash_many(&msgs, &mut out).unwrap();
/// assert_eq!(out[0], dcr_blake256::blake3::hash_chunk(b"decred").unwrap());
/// ```
#[inline]
pub fn hash_many<M: AsRef<[u8]>, O: From<[u8; 32]>>(
    msgs: &[M],
    out: &mut [O],
) -> Result<(), LongMessage> {
    run(kernel(), msgs, out)
}

/// [`hash_many`] on one kernel of [`kernels`], named; `Ok(false)`, hashing
/// nothing, when this CPU does not run it.
pub fn hash_many_on<M: AsRef<[u8]>, O: From<[u8; 32]>>(
    kernel: &str,
    msgs: &[M],
    out: &mut [O],
) -> Result<bool, LongMessage> {
    if kernel == "single" {
        return run(None, msgs, out).map(|()| true);
    }
    match all_kernels().find(|k| k.name == kernel) {
        Some(k) => run(Some(k), msgs, out).map(|()| true),
        None => Ok(false),
    }
}

/// BLAKE3 (32-byte output) of one message of at most [`CHUNK_LEN`] bytes,
/// by the portable compression; `None` for a longer one.
pub fn hash_chunk(data: &[u8]) -> Option<[u8; 32]> {
    (data.len() <= CHUNK_LEN).then(|| chunk_portable(data))
}

/// The blocks of a message of `len` bytes: at least one (the empty message
/// is one empty block).
#[inline]
fn block_count(len: usize) -> usize {
    len.div_ceil(BLOCK_LEN).max(1)
}

/// The flags of block `j` of `count`.
#[inline]
fn flags_of(j: usize, count: usize) -> u32 {
    let mut f = 0;
    if j == 0 {
        f |= CHUNK_START;
    }
    if j + 1 == count {
        f |= CHUNK_END | ROOT;
    }
    f
}

fn run<M: AsRef<[u8]>, O: From<[u8; 32]>>(
    kernel: Option<Kernel>,
    msgs: &[M],
    out: &mut [O],
) -> Result<(), LongMessage> {
    let count = msgs.len().min(out.len());
    let msgs = &msgs[..count];
    if let Some((index, m)) = msgs
        .iter()
        .enumerate()
        .find(|(_, m)| m.as_ref().len() > CHUNK_LEN)
    {
        return Err(LongMessage {
            index,
            len: m.as_ref().len(),
        });
    }
    let Some(widest) = kernel else {
        for (m, o) in msgs.iter().zip(out.iter_mut()) {
            *o = O::from(chunk_portable(m.as_ref()));
        }
        return Ok(());
    };
    let n = widest.lanes.min(MAX_LANES);
    for (group, outs) in msgs.chunks(n).zip(out.chunks_mut(n)) {
        let k = widest.for_count(group.len());
        if group.len() <= k.drain_at {
            for (m, o) in group.iter().zip(outs.iter_mut()) {
                *o = O::from(chunk_portable(m.as_ref()));
            }
        } else {
            run_group(k, group, outs);
        }
    }
    Ok(())
}

/// A zero-padded last block, on a cache line of its own.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Tail([u8; BLOCK_LEN]);

/// Lanes with no block of their own this step compress this one; their
/// result is never read.
static IDLE: Tail = Tail([0; BLOCK_LEN]);

/// Hashes one group (at most `kernel.lanes` messages, each at most one
/// chunk) with all lanes in step.
fn run_group<M: AsRef<[u8]>, O: From<[u8; 32]>>(kernel: Kernel, group: &[M], outs: &mut [O]) {
    let mut state = LaneStates {
        h: [[0; MAX_LANES]; 8],
    };
    for (words, iv) in state.h.iter_mut().zip(IV) {
        *words = [iv; MAX_LANES];
    }
    let mut tails = [Tail([0; BLOCK_LEN]); MAX_LANES];
    let mut counts = [0usize; MAX_LANES];
    for ((c, t), m) in counts.iter_mut().zip(tails.iter_mut()).zip(group) {
        let m = m.as_ref();
        *c = block_count(m.len());
        let at = BLOCK_LEN * (*c - 1);
        t.0[..m.len() - at].copy_from_slice(&m[at..]);
    }
    let steps = counts.iter().copied().max().unwrap_or(0);
    for j in 0..steps {
        let mut blocks = [&IDLE.0; MAX_LANES];
        let mut lens = [0u32; MAX_LANES];
        let mut flags = [0u32; MAX_LANES];
        for (l, m) in group.iter().enumerate() {
            let m = m.as_ref();
            let count = counts[l];
            if j + 1 < count {
                // A whole block, straight from the message.
                if let Some(b) = m[BLOCK_LEN * j..].first_chunk() {
                    blocks[l] = b;
                }
                lens[l] = BLOCK_LEN as u32;
                flags[l] = flags_of(j, count);
            } else if j + 1 == count {
                blocks[l] = &tails[l].0;
                lens[l] = (m.len() - BLOCK_LEN * j) as u32;
                flags[l] = flags_of(j, count);
            }
        }
        (kernel.compress)(&mut state, &blocks, &lens, &flags);
        for (l, o) in outs.iter_mut().enumerate().take(group.len()) {
            if counts[l] == j + 1 {
                let h: [u32; 8] = core::array::from_fn(|w| state.h[w][l]);
                *o = O::from(digest_bytes(&h));
            }
        }
    }
}

/// The digest: the root's first eight output words, little-endian.
#[inline]
fn digest_bytes(h: &[u32; 8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (o, w) in out.chunks_exact_mut(4).zip(h) {
        o.copy_from_slice(&w.to_le_bytes());
    }
    out
}

/// The single-chunk hash of `data` (at most [`CHUNK_LEN`] bytes) by the
/// portable compression.
fn chunk_portable(data: &[u8]) -> [u8; 32] {
    let count = block_count(data.len());
    let mut h = IV;
    for j in 0..count {
        let part = &data[BLOCK_LEN * j..data.len().min(BLOCK_LEN * (j + 1))];
        let mut block = [0u8; BLOCK_LEN];
        block[..part.len()].copy_from_slice(part);
        compress_portable(&mut h, &block, part.len() as u32, flags_of(j, count));
    }
    digest_bytes(&h)
}

/// The G function (the same as BLAKE-256's, with the message words added
/// as they are).
#[inline(always)]
fn g(v: &mut [u32; 16], [a, b, c, d]: [usize; 4], x: u32, y: u32) {
    v[a] = v[a].wrapping_add(v[b]).wrapping_add(x);
    v[d] = (v[d] ^ v[a]).rotate_right(16);
    v[c] = v[c].wrapping_add(v[d]);
    v[b] = (v[b] ^ v[c]).rotate_right(12);
    v[a] = v[a].wrapping_add(v[b]).wrapping_add(y);
    v[d] = (v[d] ^ v[a]).rotate_right(8);
    v[c] = v[c].wrapping_add(v[d]);
    v[b] = (v[b] ^ v[c]).rotate_right(7);
}

#[inline(always)]
fn round<const R: usize>(v: &mut [u32; 16], m: &[u32; 16]) {
    let s = &SCHEDULE[R];
    g(v, [0, 4, 8, 12], m[s[0]], m[s[1]]);
    g(v, [1, 5, 9, 13], m[s[2]], m[s[3]]);
    g(v, [2, 6, 10, 14], m[s[4]], m[s[5]]);
    g(v, [3, 7, 11, 15], m[s[6]], m[s[7]]);
    g(v, [0, 5, 10, 15], m[s[8]], m[s[9]]);
    g(v, [1, 6, 11, 12], m[s[10]], m[s[11]]);
    g(v, [2, 7, 8, 13], m[s[12]], m[s[13]]);
    g(v, [3, 4, 9, 14], m[s[14]], m[s[15]]);
}

/// The BLAKE3 compression with counter 0, in plain Rust: folds `block`
/// (`len` bytes of message) into the chaining value `h`.
pub(crate) fn compress_portable(h: &mut [u32; 8], block: &[u8; BLOCK_LEN], len: u32, flags: u32) {
    let mut m = [0u32; 16];
    for (w, b) in m.iter_mut().zip(block.chunks_exact(4)) {
        *w = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    }
    let mut v = [
        h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7], IV[0], IV[1], IV[2], IV[3], 0, 0, len,
        flags,
    ];
    round::<0>(&mut v, &m);
    round::<1>(&mut v, &m);
    round::<2>(&mut v, &m);
    round::<3>(&mut v, &m);
    round::<4>(&mut v, &m);
    round::<5>(&mut v, &m);
    round::<6>(&mut v, &m);
    for (i, w) in h.iter_mut().enumerate() {
        *w = v[i] ^ v[i + 8];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec;
    use std::vec::Vec;

    fn want(m: &[u8]) -> [u8; 32] {
        *::blake3::hash(m).as_bytes()
    }

    /// Hashes `msgs` on every kernel this CPU runs (and the portable path)
    /// and checks each digest against the `blake3` crate.
    fn check<M: AsRef<[u8]>>(msgs: &[M]) {
        let want: Vec<[u8; 32]> = msgs.iter().map(|m| want(m.as_ref())).collect();
        for name in kernels() {
            let mut got = vec![[0u8; 32]; msgs.len()];
            assert_eq!(hash_many_on(name, msgs, &mut got), Ok(true), "{name}");
            for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                assert_eq!(
                    g,
                    w,
                    "{name}: message {i} of {} ({} bytes)",
                    msgs.len(),
                    msgs[i].as_ref().len()
                );
            }
        }
        let mut got = vec![[0u8; 32]; msgs.len()];
        hash_many(msgs, &mut got).expect("short messages");
        assert_eq!(got, want, "hash_many");
    }

    fn data(n: usize, seed: u32) -> Vec<u8> {
        (0..n as u32)
            .map(|i| (i.wrapping_mul(131).wrapping_add(seed) ^ (i >> 7)) as u8)
            .collect()
    }

    #[test]
    fn the_schedule_is_the_permutation_applied_round_by_round() {
        // Rounds 2 and 7 of the BLAKE3 specification's MSG_SCHEDULE.
        assert_eq!(
            SCHEDULE[1],
            [2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8]
        );
        assert_eq!(
            SCHEDULE[6],
            [11, 15, 5, 0, 1, 9, 8, 6, 14, 10, 2, 12, 3, 4, 7, 13]
        );
    }

    #[test]
    fn known_answer() {
        // The BLAKE3 reference's hash of the empty input.
        let empty = hash_chunk(b"").expect("short");
        assert_eq!(empty[..8], [0xaf, 0x13, 0x49, 0xb9, 0xf5, 0xf9, 0xa1, 0xa6]);
    }

    #[test]
    fn portable_matches_blake3_at_every_length() {
        let d = data(CHUNK_LEN + 1, 5);
        for len in 0..=CHUNK_LEN {
            assert_eq!(hash_chunk(&d[..len]), Some(want(&d[..len])), "{len}");
        }
        assert_eq!(hash_chunk(&d), None);
    }

    #[test]
    fn kernels_run_where_the_cpu_has_them() {
        let names: Vec<&str> = kernels().collect();
        std::println!("BLAKE3 kernels checked: {names:?}");
        assert_eq!(names[0], "single");
        #[cfg(target_arch = "x86_64")]
        {
            assert_eq!(names.contains(&"avx2x8"), detected!("avx2"));
            let avx512 = detected!("avx2") && detected!("avx512f") && detected!("avx512vl");
            assert_eq!(names.contains(&"avx512x8"), avx512);
            assert_eq!(names.contains(&"avx512x16"), avx512);
        }
        assert_eq!(
            kernel().map(|k| k.name),
            all_kernels().last().map(|k| k.name)
        );
        let mut out = [[0u8; 32]; 1];
        assert_eq!(hash_many_on("nonesuch", &[b"x"], &mut out), Ok(false));
    }

    #[test]
    fn every_length_in_full_and_ragged_batches() {
        // One length per batch, for every length a message may have, in
        // batches that fill the widest kernel, leave a ragged last group,
        // or fall to a narrower kernel or the portable path.
        let d = data(CHUNK_LEN * 40, 11);
        for len in 0..=CHUNK_LEN {
            for count in [1usize, 2, 3, 9, 17, 33] {
                let msgs: Vec<&[u8]> = (0..count)
                    .map(|i| &d[i * CHUNK_LEN..i * CHUNK_LEN + len])
                    .collect();
                check(&msgs);
            }
        }
    }

    #[test]
    fn every_batch_size_of_headers() {
        // 180 bytes: three blocks, the last of 52 with CHUNK_END | ROOT.
        let d = data(180 * 70, 3);
        let headers: Vec<&[u8]> = d.chunks_exact(180).collect();
        for count in 0..=headers.len() {
            check(&headers[..count]);
        }
    }

    #[test]
    fn mixed_lengths_in_one_group() {
        // Lanes finish at different steps; each digest is taken after its
        // own last block.
        let d = data(CHUNK_LEN, 9);
        for count in [2usize, 5, 8, 9, 16, 17, 31, 100] {
            let msgs: Vec<&[u8]> = (0..count)
                .map(|i| &d[..(i * 977 + i * i * 13) % (CHUNK_LEN + 1)])
                .collect();
            check(&msgs);
        }
    }

    #[test]
    fn out_shorter_or_longer_than_the_batch() {
        let d = data(180 * 20, 1);
        let msgs: Vec<&[u8]> = d.chunks_exact(180).collect();
        let mut out = vec![[0xffu8; 32]; 12];
        hash_many(&msgs, &mut out).expect("short");
        for (o, m) in out.iter().zip(&msgs) {
            assert_eq!(*o, want(m));
        }
        let mut out = vec![[0xffu8; 32]; 25];
        hash_many(&msgs, &mut out).expect("short");
        assert!(out[20..].iter().all(|o| *o == [0xff; 32]));
    }

    #[test]
    fn a_long_message_is_named_and_nothing_hashed() {
        let d = data(CHUNK_LEN + 1, 2);
        let msgs: [&[u8]; 3] = [&d[..5], &d, &d[..CHUNK_LEN]];
        for name in kernels() {
            let mut out = [[0u8; 32]; 3];
            assert_eq!(
                hash_many_on(name, &msgs, &mut out),
                Err(LongMessage {
                    index: 1,
                    len: CHUNK_LEN + 1
                })
            );
            assert_eq!(out, [[0; 32]; 3], "{name}");
            let e = hash_many_on(name, &msgs, &mut out).unwrap_err();
            assert_eq!(
                std::format!("{e}"),
                "message 1 has 1025 bytes, more than one BLAKE3 chunk (1024)"
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_batches_match_blake3(
            msgs in proptest::collection::vec(
                proptest::collection::vec(proptest::num::u8::ANY, 0..=CHUNK_LEN),
                0..40,
            ),
        ) {
            check(&msgs);
        }

        #[test]
        fn arbitrary_messages_match_blake3(
            msg in proptest::collection::vec(proptest::num::u8::ANY, 0..=CHUNK_LEN),
        ) {
            proptest::prop_assert_eq!(hash_chunk(&msg), Some(want(&msg)));
        }
    }
}
