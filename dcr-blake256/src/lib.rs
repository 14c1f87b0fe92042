#![doc = include_str!("../README.md")]
#![no_std]
// Unsafe code is refused everywhere except the two audited modules that
// call CPU vector instructions (`sse41` here and `batch::x86`; SECURITY.md
// in the repository has the audit notes).
#![deny(unsafe_code)]
#![warn(missing_docs)]
// Without `std`, `detected!` is a compile-time constant, so every test of
// two instruction sets reads to clippy as `false && false` on a target
// without them.
#![cfg_attr(
    all(target_arch = "x86_64", not(feature = "std")),
    allow(clippy::nonminimal_bool, clippy::eq_op)
)]

// The standard library is only for run-time CPU feature detection (and the
// tests); without it the vector compressions the target enables at compile
// time are used.
#[cfg(any(feature = "std", test))]
extern crate std;

// Why this crate: hashing bounds a Decred peer's block throughput, and the
// `blake-hash` crate ran well below the reference's own implementation on
// the same machine (BENCHMARKS.md in the repository has both, measured in
// one sitting). The speed comes from the vectorised compression for x86-64
// (SSSE3 and SSE4.1, in AVX encoding where the CPU has it), chosen at run
// time and laid out for the latency of the G chain (see `sse41`). The
// streaming hasher compresses whole blocks straight from its input and
// buffers only a trailing partial block, so hashing a transaction prefix
// from its received bytes copies at most 63 bytes. The portable
// compression, plain Rust for every target, is unrolled with the message
// schedule resolved at compile time; it is at least as fast as
// `blake-hash` at every size measured (32 B to 16 KiB, CPU-timed:
// `blake256-cpu` in the codec bench, figures in BENCHMARKS.md). Where the CPU has AVX-512F and VL,
// the vectorised compression is also built with `vprord` for its
// rotations, which shortens the G chain.
//
// One stream leaves most of a vector unit idle; [`digest_many`] hashes many
// independent messages at once, one per 32-bit lane (the `batch` module:
// AVX2, AVX-512), or, two to four of them, one per 128-bit lane in the
// single stream's layout (`sse41::rows`, AVX-512).

/// Whether the CPU has the instruction set `$feature`: asked at run time
/// with the `std` feature (the standard library caches the answer), else
/// known at compile time from the target's enabled features.
#[cfg(target_arch = "x86_64")]
macro_rules! detected {
    ($feature:tt) => {{
        #[cfg(feature = "std")]
        let found = std::arch::is_x86_feature_detected!($feature);
        #[cfg(not(feature = "std"))]
        let found = cfg!(target_feature = $feature);
        found
    }};
}

/// The initial chaining value (the same words as SHA-256's).
const IV: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

/// The sixteen constants: the leading fractional digits of pi.
const C: [u32; 16] = [
    0x243f_6a88,
    0x85a3_08d3,
    0x1319_8a2e,
    0x0370_7344,
    0xa409_3822,
    0x299f_31d0,
    0x082e_fa98,
    0xec4e_6c89,
    0x4528_21e6,
    0x38d0_1377,
    0xbe54_66cf,
    0x34e9_0c6c,
    0xc0ac_29b7,
    0xc97c_50dd,
    0x3f84_d5b5,
    0xb547_0917,
];

/// The message-word permutation of each round; round `r` uses `SIGMA[r % 10]`.
const SIGMA: [[usize; 16]; 10] = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
    [14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3],
    [11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4],
    [7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8],
    [9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13],
    [2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9],
    [12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11],
    [13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10],
    [6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5],
    [10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0],
];

mod batch;
pub use batch::Message;

pub mod blake3;

#[cfg(feature = "std")]
mod calibrate;
#[cfg(feature = "std")]
pub use calibrate::{Calibration, Timing, ENV};

/// BLAKE-256 of each of `msgs` into the same position of `out`, many
/// messages at once on the widest multi-lane compression this CPU runs
/// (AVX-512F: sixteen lanes, AVX2: eight). Only the first
/// `min(msgs.len(), out.len())` are hashed. The digests are those of
/// [`Blake256::digest`] one by one; messages may differ in length.
#[inline]
pub fn digest_many<O: From<[u8; 32]>>(msgs: &[Message<'_>], out: &mut [O]) {
    batch::digest_many(batch::kernel(), msgs, out)
}

/// [`digest_many`] of 64-byte messages laid out back to back (merkle
/// parents, a transaction's hash and witness hash): no message descriptors
/// to build.
#[inline]
pub fn digest_many_64<O: From<[u8; 32]>>(msgs: &[[u8; BLOCK]], out: &mut [O]) {
    batch::digest_many_64(batch::kernel(), msgs, out)
}

/// The multi-lane compressions this CPU runs, by name, narrowest first:
/// `"single"` (one message after the other, always there), then
/// `"avx512rows4"`, `"avx2x8"`, `"avx512x8"`, `"avx512x16"` where the CPU
/// has them. [`digest_many`] starts with the widest and moves to narrower
/// ones as a batch's lanes run out. For benchmarks and differential tests.
pub fn many_kernels() -> impl Iterator<Item = &'static str> {
    core::iter::once("single").chain(batch::kernels().map(|k| k.name))
}

/// [`digest_many`] on one kernel of [`many_kernels`], named; false,
/// hashing nothing, when this CPU does not run it.
pub fn digest_many_on<O: From<[u8; 32]>>(
    kernel: &str,
    msgs: &[Message<'_>],
    out: &mut [O],
) -> bool {
    if kernel == "single" {
        batch::digest_many(None, msgs, out);
        return true;
    }
    match batch::kernels().find(|k| k.name == kernel) {
        Some(k) => {
            batch::digest_many(Some(k), msgs, out);
            true
        }
        None => false,
    }
}

const ROUNDS: usize = 14;
const BLOCK: usize = 64;

/// Where the padding's closing one bit goes: the byte before the 64-bit
/// length that ends the last block.
const LENGTH_AT: usize = BLOCK - 8;

/// Folds whole 64-byte blocks into the chaining value `h`. Block `i` is
/// compressed with the counter `t + 512 * (i + 1)`: `t` counts the message
/// bits before the first block. (A padding-only last block must count 0; its
/// caller passes `t = 0 - 512`, see [`compress_counted`].)
type CompressFn = fn(&mut [u32; 8], &[u8], u64);

/// Compresses one block whose counter must be exactly `counter`.
#[inline]
fn compress_counted(compress: CompressFn, h: &mut [u32; 8], block: &[u8; BLOCK], counter: u64) {
    compress(h, block, counter.wrapping_sub(8 * BLOCK as u64));
}

/// A streaming BLAKE-256 state: feed it with [`Blake256::update`] in as
/// many pieces as the data comes in, then take the digest with
/// [`Blake256::finalize`]. For data in one piece, [`Blake256::digest`].
///
/// ```
/// use dcr_blake256::Blake256;
///
/// let mut h = Blake256::new();
/// h.update(b"dec");
/// h.update(b"red");
/// assert_eq!(h.finalize(), Blake256::digest(b"decred"));
/// ```
#[derive(Clone)]
pub struct Blake256 {
    h: [u32; 8],
    /// Message bits already folded into `h`.
    t: u64,
    buf: [u8; BLOCK],
    /// Bytes waiting in `buf`; always below a full block.
    buffered: usize,
    compress: CompressFn,
}

impl Default for Blake256 {
    #[inline]
    fn default() -> Self {
        Self::new()
    }
}

impl Blake256 {
    /// A hasher with nothing written yet, on the fastest compression this
    /// CPU runs.
    #[inline]
    pub fn new() -> Self {
        Blake256 {
            h: IV,
            t: 0,
            buf: [0; BLOCK],
            buffered: 0,
            compress: compress_fn(),
        }
    }

    /// The same hash, always computed by the plain-Rust compression (no
    /// CPU-specific instructions): for comparison benchmarks, and to check
    /// one implementation against the other on a given machine.
    #[inline]
    pub fn portable() -> Self {
        Blake256::with_compression(Compression::PORTABLE)
    }

    /// The same hash on the given compression.
    #[inline]
    pub fn with_compression(compression: Compression) -> Self {
        Blake256 {
            compress: compression.compress,
            ..Self::new()
        }
    }

    /// Feeds `data`. Whole blocks are compressed from `data` in place; only a
    /// trailing partial block is copied aside.
    #[inline]
    pub fn update(&mut self, mut data: &[u8]) {
        if self.buffered > 0 {
            let take = (BLOCK - self.buffered).min(data.len());
            self.buf[self.buffered..self.buffered + take].copy_from_slice(&data[..take]);
            self.buffered += take;
            data = &data[take..];
            if self.buffered < BLOCK {
                return;
            }
            (self.compress)(&mut self.h, &self.buf, self.t);
            self.t = self.t.wrapping_add(8 * BLOCK as u64);
            self.buffered = 0;
        }
        let whole = data.len() - data.len() % BLOCK;
        if whole > 0 {
            (self.compress)(&mut self.h, &data[..whole], self.t);
            self.t = self.t.wrapping_add(8 * whole as u64);
        }
        let rest = &data[whole..];
        self.buf[..rest.len()].copy_from_slice(rest);
        self.buffered = rest.len();
    }

    /// Pads, compresses the last block(s) and returns the digest.
    #[inline]
    pub fn finalize(self) -> [u8; 32] {
        finish(self.compress, self.h, self.t, &self.buf[..self.buffered])
    }

    /// BLAKE-256 of `data` in one call: the streaming state is skipped, so
    /// short inputs (checksums of small messages, 32-byte merkle pairs)
    /// pay for nothing but their compressions.
    ///
    /// ```
    /// // The BLAKE-256 test vector of the SHA-3 submission: one zero byte.
    /// let digest = dcr_blake256::Blake256::digest(&[0]);
    /// assert_eq!(digest[..4], [0x0c, 0xe8, 0xd4, 0xef]);
    /// ```
    #[inline]
    pub fn digest(data: &[u8]) -> [u8; 32] {
        digest_with(compress_fn(), data)
    }
}

/// [`Blake256::digest`] on the compression `compress`.
#[inline]
fn digest_with(compress: CompressFn, data: &[u8]) -> [u8; 32] {
    let mut h = IV;
    let whole = data.len() - data.len() % BLOCK;
    compress(&mut h, &data[..whole], 0);
    finish(compress, h, 8 * whole as u64, &data[whole..])
}

/// Pads the `tail` (under a block) that follows `t` message bits already
/// folded into `h` ([`pad`]), compresses the last block(s) and returns the
/// digest.
#[inline]
fn finish(compress: CompressFn, mut h: [u32; 8], t: u64, tail: &[u8]) -> [u8; 32] {
    let n = tail.len();
    let mut blocks = [[0u8; BLOCK]; 2];
    blocks[0][..n].copy_from_slice(tail);
    let (count, counters) = pad(&mut blocks, n, t.wrapping_add(8 * n as u64));
    for (block, counter) in blocks.iter().zip(counters).take(count) {
        compress_counted(compress, &mut h, block, counter);
    }
    digest_bytes(&h)
}

/// Pads the last `n` bytes (under a block) of a message of `total` bits,
/// already at the start of `blocks` (the rest zero): a one bit, zeros, a
/// one bit and `total` as a big-endian u64. When the length does not fit
/// after the first padding bit, a block of padding alone follows. Returns
/// how many blocks the padded tail takes and their counters: `total`, but
/// 0 for a block that holds no message bits. The one padding rule of both
/// the single stream and the batches.
#[inline]
fn pad(blocks: &mut [[u8; BLOCK]; 2], n: usize, total: u64) -> (usize, [u64; 2]) {
    blocks[0][n] = 0x80;
    let count = if n >= LENGTH_AT { 2 } else { 1 };
    let last = &mut blocks[count - 1];
    last[LENGTH_AT - 1] |= 0x01;
    last[LENGTH_AT..].copy_from_slice(&total.to_be_bytes());
    let first = if n == 0 { 0 } else { total };
    (count, [first, 0])
}

/// The digest: the chaining value's words, big-endian.
#[inline]
fn digest_bytes(h: &[u32; 8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (o, w) in out.chunks_exact_mut(4).zip(h) {
        o.copy_from_slice(&w.to_be_bytes());
    }
    out
}

/// The compression hashing uses: with `std`, the one the start-up
/// calibration measured fastest ([`Calibration`]; after the first call a
/// load and a branch); without, [`by_features`].
#[inline]
fn compress_fn() -> CompressFn {
    #[cfg(feature = "std")]
    {
        Calibration::get().chosen().compress
    }
    #[cfg(not(feature = "std"))]
    {
        by_features()
    }
}

/// The compression of the widest instruction set this CPU has, for builds
/// without a clock to calibrate with (no `std`): the `vprord` build where
/// there is AVX-512, the fastest on Intel (BENCHMARKS.md).
#[cfg_attr(feature = "std", allow(dead_code))]
fn by_features() -> CompressFn {
    #[cfg(target_arch = "x86_64")]
    {
        if detected!("ssse3") && detected!("sse4.1") {
            if detected!("avx") {
                if detected!("avx512f") && detected!("avx512vl") {
                    return sse41::compress_evex;
                }
                return sse41::compress_vex;
            }
            return sse41::compress;
        }
    }
    compress_portable
}

/// One single-stream compression function: the portable one, or a
/// vectorised one this CPU runs. Every one gives the same digests;
/// [`Blake256::new`] and [`Blake256::digest`] use [`Compression::best`],
/// which a start-up calibration picks by measuring them all.
/// For benchmarks and differential tests, which compare them.
#[derive(Clone, Copy)]
pub struct Compression {
    name: &'static str,
    compress: CompressFn,
}

impl Compression {
    /// The plain-Rust compression, for every target: no CPU-specific
    /// instructions.
    pub const PORTABLE: Compression = Compression {
        name: "portable",
        compress: compress_portable,
    };

    /// Every compression this CPU runs: `"portable"`, then `"sse4.1"`,
    /// `"avx"`, `"avx512"` (rotations by `vprord`) and `"avx512tern"`
    /// (rotations split into shifts and a three-way xor, for CPUs whose
    /// `vprord` takes two cycles) where the CPU has them.
    /// [`Compression::best`] is one of them, chosen by measurement.
    pub fn available() -> impl Iterator<Item = Compression> {
        #[allow(unused_mut)]
        let mut vector: [Option<Compression>; 4] = [None; 4];
        #[cfg(target_arch = "x86_64")]
        if detected!("ssse3") && detected!("sse4.1") {
            let avx = detected!("avx");
            let avx512 = avx && detected!("avx512f") && detected!("avx512vl");
            vector = [
                Some(Compression {
                    name: "sse4.1",
                    compress: sse41::compress,
                }),
                avx.then_some(Compression {
                    name: "avx",
                    compress: sse41::compress_vex,
                }),
                avx512.then_some(Compression {
                    name: "avx512",
                    compress: sse41::compress_evex,
                }),
                avx512.then_some(Compression {
                    name: "avx512tern",
                    compress: sse41::compress_evex_tern,
                }),
            ];
        }
        core::iter::once(Compression::PORTABLE).chain(vector.into_iter().flatten())
    }

    /// What hashing uses: with `std`, the fastest this CPU runs as the
    /// start-up calibration measured it ([`Calibration`]); without, the
    /// one of the widest instruction set.
    #[inline]
    pub fn best() -> Compression {
        #[cfg(feature = "std")]
        {
            Calibration::get().chosen()
        }
        #[cfg(not(feature = "std"))]
        {
            let compress = compress_fn();
            Compression::available()
                .find(|c| c.compress as usize == compress as usize)
                .unwrap_or(Compression::PORTABLE)
        }
    }

    /// The compression named `name` (one of [`Compression::available`]'s),
    /// if this CPU runs it.
    pub fn by_name(name: &str) -> Option<Compression> {
        Compression::available().find(|c| c.name == name)
    }

    /// Its name.
    pub fn name(self) -> &'static str {
        self.name
    }

    /// BLAKE-256 of `data` in one call with this compression, as
    /// [`Blake256::digest`].
    #[inline]
    pub fn digest(self, data: &[u8]) -> [u8; 32] {
        digest_with(self.compress, data)
    }
}

impl core::fmt::Debug for Compression {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_tuple("Compression").field(&self.name).finish()
    }
}

/// The sixteen working words after the chaining value and the counter are
/// mixed in (the salt is always zero in Decred).
#[inline(always)]
fn init_state(h: &[u32; 8], t: u64) -> [u32; 16] {
    let (lo, hi) = (t as u32, (t >> 32) as u32);
    [
        h[0],
        h[1],
        h[2],
        h[3],
        h[4],
        h[5],
        h[6],
        h[7],
        C[0],
        C[1],
        C[2],
        C[3],
        lo ^ C[4],
        lo ^ C[5],
        hi ^ C[6],
        hi ^ C[7],
    ]
}

#[inline(always)]
fn message_words(block: &[u8]) -> [u32; 16] {
    let mut m = [0u32; 16];
    for (w, b) in m.iter_mut().zip(block.chunks_exact(4)) {
        *w = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    }
    m
}

/// The G function on words `a`, `b`, `c`, `d` with message word indices
/// `x`, `y` (the round's permutation already applied).
#[inline(always)]
fn g(v: &mut [u32; 16], [a, b, c, d]: [usize; 4], m: &[u32; 16], x: usize, y: usize) {
    v[a] = v[a].wrapping_add(v[b]).wrapping_add(m[x] ^ C[y]);
    v[d] = (v[d] ^ v[a]).rotate_right(16);
    v[c] = v[c].wrapping_add(v[d]);
    v[b] = (v[b] ^ v[c]).rotate_right(12);
    v[a] = v[a].wrapping_add(v[b]).wrapping_add(m[y] ^ C[x]);
    v[d] = (v[d] ^ v[a]).rotate_right(8);
    v[c] = v[c].wrapping_add(v[d]);
    v[b] = (v[b] ^ v[c]).rotate_right(7);
}

/// One round; `R` is a constant so every index below is resolved at compile
/// time and the words stay in registers.
#[inline(always)]
fn round<const R: usize>(v: &mut [u32; 16], m: &[u32; 16]) {
    let s = &SIGMA[R % 10];
    g(v, [0, 4, 8, 12], m, s[0], s[1]);
    g(v, [1, 5, 9, 13], m, s[2], s[3]);
    g(v, [2, 6, 10, 14], m, s[4], s[5]);
    g(v, [3, 7, 11, 15], m, s[6], s[7]);
    g(v, [0, 5, 10, 15], m, s[8], s[9]);
    g(v, [1, 6, 11, 12], m, s[10], s[11]);
    g(v, [2, 7, 8, 13], m, s[12], s[13]);
    g(v, [3, 4, 9, 14], m, s[14], s[15]);
}

/// The compression function in plain Rust, for every target.
fn compress_portable(h: &mut [u32; 8], blocks: &[u8], mut t: u64) {
    for block in blocks.chunks_exact(BLOCK) {
        t = t.wrapping_add(8 * BLOCK as u64);
        let m = message_words(block);
        let mut v = init_state(h, t);
        round::<0>(&mut v, &m);
        round::<1>(&mut v, &m);
        round::<2>(&mut v, &m);
        round::<3>(&mut v, &m);
        round::<4>(&mut v, &m);
        round::<5>(&mut v, &m);
        round::<6>(&mut v, &m);
        round::<7>(&mut v, &m);
        round::<8>(&mut v, &m);
        round::<9>(&mut v, &m);
        round::<10>(&mut v, &m);
        round::<11>(&mut v, &m);
        round::<12>(&mut v, &m);
        round::<13>(&mut v, &m);
        const _: () = assert!(ROUNDS == 14);
        for i in 0..8 {
            h[i] ^= v[i] ^ v[i + 8];
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod sse41 {
    //! The compression with the four columns (then the four diagonals) of
    //! the state as one 128-bit vector each: four G functions per step. The
    //! message stays in four vectors and each step's words are gathered with
    //! shuffles and blends whose immediates are computed at compile time
    //! from the round's permutation; the matching constants come from a
    //! table laid out in the same order.

    use super::{BLOCK, C, SIGMA};
    use core::arch::x86_64::*;

    /// Safe entry point: only installed by `compress_fn` after the CPU was
    /// found to have SSSE3 and SSE4.1.
    pub(super) fn compress(h: &mut [u32; 8], blocks: &[u8], t: u64) {
        debug_assert!(detected!("ssse3") && detected!("sse4.1"));
        // SAFETY: `compress_fn` checked both target features at run time,
        // and `compress_sse41` reads only whole blocks inside `blocks`.
        unsafe { compress_sse41(h, blocks, t) }
    }

    /// Safe entry point: only installed by `compress_fn` after the CPU was
    /// found to have SSSE3, SSE4.1, AVX, AVX-512F and AVX-512VL (and the OS
    /// to save the AVX-512 state).
    pub(super) fn compress_evex(h: &mut [u32; 8], blocks: &[u8], t: u64) {
        debug_assert!(detected!("avx") && detected!("avx512f") && detected!("avx512vl"));
        // SAFETY: as below, with AVX-512F and AVX-512VL checked too.
        unsafe { compress_avx512(h, blocks, t) }
    }

    /// Safe entry point: only installed by `compress_fn` after the CPU was
    /// found to have SSSE3, SSE4.1 and AVX (and the OS to save its state).
    pub(super) fn compress_vex(h: &mut [u32; 8], blocks: &[u8], t: u64) {
        debug_assert!(detected!("avx"));
        // SAFETY: as above, with AVX checked too.
        unsafe { compress_avx(h, blocks, t) }
    }

    /// The message word each lane takes in one half of a step: G(i) adds
    /// `m[s[2i]] ^ C[s[2i+1]]` first and `m[s[2i+1]] ^ C[s[2i]]` second.
    /// Lanes 0..3 run G(0)..G(3) in the column step and G(7), G(4), G(5),
    /// G(6) in the diagonal step (see `rounds!` for why).
    const fn words(round: usize, diagonal: bool, second: bool) -> [usize; 4] {
        let s = &SIGMA[round % 10];
        let g = if diagonal { [7, 4, 5, 6] } else { [0, 1, 2, 3] };
        let off = if second { 1 } else { 0 };
        [
            s[2 * g[0] + off],
            s[2 * g[1] + off],
            s[2 * g[2] + off],
            s[2 * g[3] + off],
        ]
    }

    /// `pshufd` immediate that moves the words of message vector `row` into
    /// the lanes that need them (other lanes get whatever; a blend drops them).
    const fn shuffle_imm(words: [usize; 4], row: usize) -> i32 {
        let mut imm = 0;
        let mut lane = 0;
        while lane < 4 {
            if words[lane] / 4 == row {
                imm |= ((words[lane] % 4) << (2 * lane)) as i32;
            }
            lane += 1;
        }
        imm
    }

    /// `pblendw` mask taking the lanes whose word lives in vector `row`.
    const fn blend_mask(words: [usize; 4], row: usize) -> i32 {
        let mut mask = 0;
        let mut lane = 0;
        while lane < 4 {
            if words[lane] / 4 == row {
                mask |= 0b11 << (2 * lane);
            }
            lane += 1;
        }
        mask
    }

    /// The constants of each step half, in the lanes' order: for round `r`
    /// (mod 10), `[columns first, columns second, diagonals first,
    /// diagonals second]`.
    #[repr(align(16))]
    struct Consts([[[u32; 4]; 4]; 10]);

    static PERMUTED: Consts = Consts(permuted::<4>());

    /// The constants of each step half for `N` lanes: lane `i` takes the
    /// partner of its message word (the other index of its pair), lane
    /// `i % 4`'s, so wider vectors repeat the four.
    const fn permuted<const N: usize>() -> [[[u32; N]; 4]; 10] {
        let mut t = [[[0u32; N]; 4]; 10];
        let mut r = 0;
        while r < 10 {
            let mut half = 0;
            while half < 4 {
                let w = words(r, half >= 2, half % 2 == 0);
                let mut i = 0;
                while i < N {
                    t[r][half][i] = C[w[i % 4]];
                    i += 1;
                }
                half += 1;
            }
            r += 1;
        }
        t
    }

    /// The byte shuffles behind the rotations by 16 and 8. They are passed
    /// through `black_box` once per call: seeing constants, LLVM turns the
    /// rotation by 16 into two half-register shuffles (`pshuflw` and
    /// `pshufhw`), two steps on the critical path where one would do.
    #[derive(Clone, Copy)]
    struct Masks {
        rot16: __m128i,
        rot8: __m128i,
    }

    #[inline(always)]
    unsafe fn masks() -> Masks {
        core::hint::black_box(Masks {
            rot16: _mm_set_epi8(13, 12, 15, 14, 9, 8, 11, 10, 5, 4, 7, 6, 1, 0, 3, 2),
            rot8: _mm_set_epi8(12, 15, 14, 13, 8, 11, 10, 9, 4, 7, 6, 5, 0, 3, 2, 1),
        })
    }

    #[inline(always)]
    unsafe fn rot12(x: __m128i) -> __m128i {
        _mm_or_si128(_mm_srli_epi32(x, 12), _mm_slli_epi32(x, 20))
    }

    #[inline(always)]
    unsafe fn rot7(x: __m128i) -> __m128i {
        _mm_or_si128(_mm_srli_epi32(x, 7), _mm_slli_epi32(x, 25))
    }

    /// The four rotations of G, by instruction set.
    trait Rotations: Copy {
        unsafe fn r16(self, x: __m128i) -> __m128i;
        unsafe fn r12(self, x: __m128i) -> __m128i;
        unsafe fn r8(self, x: __m128i) -> __m128i;
        unsafe fn r7(self, x: __m128i) -> __m128i;
    }

    /// SSSE3: byte shuffles for 16 and 8, two shifts and an or otherwise.
    impl Rotations for Masks {
        #[inline(always)]
        unsafe fn r16(self, x: __m128i) -> __m128i {
            _mm_shuffle_epi8(x, self.rot16)
        }
        #[inline(always)]
        unsafe fn r12(self, x: __m128i) -> __m128i {
            rot12(x)
        }
        #[inline(always)]
        unsafe fn r8(self, x: __m128i) -> __m128i {
            _mm_shuffle_epi8(x, self.rot8)
        }
        #[inline(always)]
        unsafe fn r7(self, x: __m128i) -> __m128i {
            rot7(x)
        }
    }

    /// AVX-512 (F and VL): one `vprord` each, one cycle on the chain where
    /// the shift-or rotations take two.
    #[derive(Clone, Copy)]
    struct Vprord;

    impl Rotations for Vprord {
        #[inline(always)]
        unsafe fn r16(self, x: __m128i) -> __m128i {
            _mm_ror_epi32::<16>(x)
        }
        #[inline(always)]
        unsafe fn r12(self, x: __m128i) -> __m128i {
            _mm_ror_epi32::<12>(x)
        }
        #[inline(always)]
        unsafe fn r8(self, x: __m128i) -> __m128i {
            _mm_ror_epi32::<8>(x)
        }
        #[inline(always)]
        unsafe fn r7(self, x: __m128i) -> __m128i {
            _mm_ror_epi32::<7>(x)
        }
    }

    /// Four G functions side by side on the rows `a`, `b`, `c`, `d`. The
    /// hash is bound by this chain's latency, not by instruction count, so
    /// the message word is added to `a` before `b` is: that addition then
    /// runs while `b` is still being computed.
    #[inline(always)]
    unsafe fn g4<K: Rotations>(v: &mut [__m128i; 4], k: K, x: __m128i, y: __m128i) {
        let [a, b, c, d] = v;
        *a = _mm_add_epi32(_mm_add_epi32(*a, x), *b);
        *d = k.r16(_mm_xor_si128(*d, *a));
        *c = _mm_add_epi32(*c, *d);
        *b = k.r12(_mm_xor_si128(*b, *c));
        *a = _mm_add_epi32(_mm_add_epi32(*a, y), *b);
        *d = k.r8(_mm_xor_si128(*d, *a));
        *c = _mm_add_epi32(*c, *d);
        *b = k.r7(_mm_xor_si128(*b, *c));
    }

    /// One half-step's message words xored with their constants.
    macro_rules! half {
        ($m:ident, $r:literal, $diag:literal, $second:literal) => {{
            const W: [usize; 4] = words($r, $diag, $second);
            let x = _mm_shuffle_epi32::<{ shuffle_imm(W, 0) }>($m[0]);
            let x = _mm_blend_epi16::<{ blend_mask(W, 1) }>(
                x,
                _mm_shuffle_epi32::<{ shuffle_imm(W, 1) }>($m[1]),
            );
            let x = _mm_blend_epi16::<{ blend_mask(W, 2) }>(
                x,
                _mm_shuffle_epi32::<{ shuffle_imm(W, 2) }>($m[2]),
            );
            let x = _mm_blend_epi16::<{ blend_mask(W, 3) }>(
                x,
                _mm_shuffle_epi32::<{ shuffle_imm(W, 3) }>($m[3]),
            );
            let half = 2 * ($diag as usize) + ($second as usize);
            let c = _mm_load_si128(PERMUTED.0[$r % 10][half].as_ptr().cast());
            _mm_xor_si128(x, c)
        }};
    }

    /// The fourteen rounds: a column step, then the diagonal step done as a
    /// column step after lining the diagonals up in lanes. Row `b` is the
    /// last one a step finishes, so it stays put and rows `a`, `c`, `d`
    /// move instead (`a` right by one lane, `c` left by one, `d` by two):
    /// those shuffles overlap with the end of the step instead of
    /// lengthening the chain. Lane 1 then holds G(4)'s diagonal
    /// (v0, v5, v10, v15), lane 2 G(5)'s, lane 3 G(6)'s and lane 0 G(7)'s.
    macro_rules! rounds {
        ($v:ident, $k:ident, $m:ident; $($r:literal)*) => {$(
            g4(&mut $v, $k, half!($m, $r, false, false), half!($m, $r, false, true));
            $v[0] = _mm_shuffle_epi32::<0b10_01_00_11>($v[0]);
            $v[2] = _mm_shuffle_epi32::<0b00_11_10_01>($v[2]);
            $v[3] = _mm_shuffle_epi32::<0b01_00_11_10>($v[3]);
            g4(&mut $v, $k, half!($m, $r, true, false), half!($m, $r, true, true));
            $v[0] = _mm_shuffle_epi32::<0b00_11_10_01>($v[0]);
            $v[2] = _mm_shuffle_epi32::<0b10_01_00_11>($v[2]);
            $v[3] = _mm_shuffle_epi32::<0b01_00_11_10>($v[3]);
        )*};
    }

    /// The whole compression loop, compiled once per instruction set: the
    /// AVX build is the same code in three-operand (VEX) encoding, which
    /// drops most register copies.
    macro_rules! compress_blocks {
        ($name:ident, $features:literal, $rotations:expr) => {
            #[target_feature(enable = $features)]
            unsafe fn $name(h: &mut [u32; 8], blocks: &[u8], mut t: u64) {
                let k = $rotations;
                // Byte-swaps each 32-bit lane: message words are big-endian.
                let bswap = core::hint::black_box(_mm_set_epi8(
                    12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3,
                ));
                let hp = h.as_mut_ptr().cast::<__m128i>();
                let (mut h0, mut h1) = (_mm_loadu_si128(hp), _mm_loadu_si128(hp.add(1)));
                let c_low = _mm_loadu_si128(C[0..4].as_ptr().cast());
                let c_high = _mm_loadu_si128(C[4..8].as_ptr().cast());
                for block in blocks.chunks_exact(BLOCK) {
                    t = t.wrapping_add(8 * BLOCK as u64);
                    let p = block.as_ptr().cast::<__m128i>();
                    let m = [
                        _mm_shuffle_epi8(_mm_loadu_si128(p), bswap),
                        _mm_shuffle_epi8(_mm_loadu_si128(p.add(1)), bswap),
                        _mm_shuffle_epi8(_mm_loadu_si128(p.add(2)), bswap),
                        _mm_shuffle_epi8(_mm_loadu_si128(p.add(3)), bswap),
                    ];
                    let (lo, hi) = (t as u32 as i32, (t >> 32) as u32 as i32);
                    let mut v = [
                        h0,
                        h1,
                        c_low,
                        _mm_xor_si128(_mm_set_epi32(hi, hi, lo, lo), c_high),
                    ];
                    rounds!(v, k, m; 0 1 2 3 4 5 6 7 8 9 10 11 12 13);
                    h0 = _mm_xor_si128(h0, _mm_xor_si128(v[0], v[2]));
                    h1 = _mm_xor_si128(h1, _mm_xor_si128(v[1], v[3]));
                }
                _mm_storeu_si128(hp, h0);
                _mm_storeu_si128(hp.add(1), h1);
            }
        };
    }

    /// Safe entry point of [`compress_avx512_tern`]: only installed after
    /// the CPU was found to have AVX, AVX-512F and AVX-512VL (and the OS to
    /// save the AVX-512 state).
    pub(super) fn compress_evex_tern(h: &mut [u32; 8], blocks: &[u8], t: u64) {
        debug_assert!(detected!("avx") && detected!("avx512f") && detected!("avx512vl"));
        // SAFETY: as `compress_evex`; `compress_avx512_tern` reads only
        // whole blocks inside `blocks`.
        unsafe { compress_avx512_tern(h, blocks, t) }
    }

    /// For each round (mod 10), the message word of every lane of the four
    /// step halves, in `PERMUTED`'s order: one `vpermd` index per round.
    #[repr(align(64))]
    struct Schedule([[u32; 16]; 10]);

    static SCHEDULE: Schedule = Schedule(schedule());

    const fn schedule() -> [[u32; 16]; 10] {
        let mut t = [[0u32; 16]; 10];
        let mut r = 0;
        while r < 10 {
            let mut half = 0;
            while half < 4 {
                let w = words(r, half >= 2, half % 2 == 1);
                let mut i = 0;
                while i < 4 {
                    t[r][4 * half + i] = w[i] as u32;
                    i += 1;
                }
                half += 1;
            }
            r += 1;
        }
        t
    }

    /// Four G functions side by side, as [`g4`], for CPUs whose rotations
    /// take two cycles (AMD Zen 4: `vprord` and `vpshufb` have a latency of
    /// two, a shift, an add, a xor and `vpternlogd` one; measured by
    /// `examples/cycles.rs`). There `xor` then rotate costs three cycles
    /// on the chain, eight per half-G. Rotation distributes over xor, so
    /// `ror(d ^ a, n)` is computed as `ror(d, n) ^ (a >> n) ^ (a << 32 - n)`:
    /// the old word's rotation is off the chain (it was ready long before),
    /// and the new word's two shifts and the three-way xor (`vpternlogd`)
    /// cost two cycles, so a half-G takes six, the bound of one-cycle
    /// rotations. Every step is a one-cycle instruction: mixing in the
    /// two-cycle `vprord`, even off the chain, made the whole run slower
    /// there. In assembly because LLVM folds the split rotation back into
    /// `xor` and `vprord`.
    #[inline]
    #[target_feature(enable = "avx512f,avx512vl")]
    unsafe fn g4_tern(v: &mut [__m128i; 4], x: __m128i, y: __m128i) {
        let [a, b, c, d] = v;
        // Per half: a += x + b; d = ror(d, 16) ^ (a >> 16) ^ (a << 16);
        // c += d; b = ror(b, 12) ^ (c >> 12) ^ (c << 20); then with y and
        // the rotations 8 and 7. `t` and `u` are scratch.
        core::arch::asm!(
            "vpaddd {a:x}, {a:x}, {x:x}",
            "vpaddd {a:x}, {a:x}, {b:x}",
            "vpsrld {t:x}, {d:x}, 16",
            "vpslld {d:x}, {d:x}, 16",
            "vpord {d:x}, {d:x}, {t:x}",
            "vpsrld {t:x}, {a:x}, 16",
            "vpslld {u:x}, {a:x}, 16",
            "vpternlogd {d:x}, {t:x}, {u:x}, 0x96",
            "vpaddd {c:x}, {c:x}, {d:x}",
            "vpsrld {t:x}, {b:x}, 12",
            "vpslld {b:x}, {b:x}, 20",
            "vpord {b:x}, {b:x}, {t:x}",
            "vpsrld {t:x}, {c:x}, 12",
            "vpslld {u:x}, {c:x}, 20",
            "vpternlogd {b:x}, {t:x}, {u:x}, 0x96",
            "vpaddd {a:x}, {a:x}, {y:x}",
            "vpaddd {a:x}, {a:x}, {b:x}",
            "vpsrld {t:x}, {d:x}, 8",
            "vpslld {d:x}, {d:x}, 24",
            "vpord {d:x}, {d:x}, {t:x}",
            "vpsrld {t:x}, {a:x}, 8",
            "vpslld {u:x}, {a:x}, 24",
            "vpternlogd {d:x}, {t:x}, {u:x}, 0x96",
            "vpaddd {c:x}, {c:x}, {d:x}",
            "vpsrld {t:x}, {b:x}, 7",
            "vpslld {b:x}, {b:x}, 25",
            "vpord {b:x}, {b:x}, {t:x}",
            "vpsrld {t:x}, {c:x}, 7",
            "vpslld {u:x}, {c:x}, 25",
            "vpternlogd {b:x}, {t:x}, {u:x}, 0x96",
            a = inout(zmm_reg) *a,
            b = inout(zmm_reg) *b,
            c = inout(zmm_reg) *c,
            d = inout(zmm_reg) *d,
            x = in(zmm_reg) x,
            y = in(zmm_reg) y,
            t = out(zmm_reg) _,
            u = out(zmm_reg) _,
            options(pure, nomem, nostack, preserves_flags),
        );
    }

    /// The compression on [`g4_tern`]. Each round's sixteen message words
    /// are gathered by one `vpermd` from the whole block in a 512-bit
    /// register and xored with their constants by one `vpxord`, then taken
    /// out a quarter at a time: fewer instructions competing with the G
    /// chain for the vector ports than four shuffles and three blends per
    /// step half.
    #[target_feature(enable = "avx,avx512f,avx512vl")]
    unsafe fn compress_avx512_tern(h: &mut [u32; 8], blocks: &[u8], mut t: u64) {
        let hp = h.as_mut_ptr().cast::<__m128i>();
        let (mut h0, mut h1) = (_mm_loadu_si128(hp), _mm_loadu_si128(hp.add(1)));
        let c_low = _mm_loadu_si128(C[0..4].as_ptr().cast());
        let c_high = _mm_loadu_si128(C[4..8].as_ptr().cast());
        let even = _mm512_set1_epi32(0x00ff_00ff);
        for block in blocks.chunks_exact(BLOCK) {
            t = t.wrapping_add(8 * BLOCK as u64);
            let raw = _mm512_loadu_si512(block.as_ptr().cast());
            // Big-endian words: bytes 0 and 2 from the left rotation, 1 and
            // 3 from the right (AVX-512F alone, no `vpshufb`).
            let m = _mm512_ternarylogic_epi32::<0xca>(
                even,
                _mm512_rol_epi32::<8>(raw),
                _mm512_ror_epi32::<8>(raw),
            );
            let (lo, hi) = (t as u32 as i32, (t >> 32) as u32 as i32);
            let mut v = [
                h0,
                h1,
                c_low,
                _mm_xor_si128(_mm_set_epi32(hi, hi, lo, lo), c_high),
            ];
            // The same layout as `rounds!`.
            macro_rules! tern_rounds {
                ($($r:literal)*) => {$(
                    let x = _mm512_xor_si512(
                        _mm512_permutexvar_epi32(
                            _mm512_load_si512(SCHEDULE.0[$r % 10].as_ptr().cast()),
                            m,
                        ),
                        _mm512_loadu_si512(PERMUTED.0[$r % 10].as_ptr().cast()),
                    );
                    g4_tern(
                        &mut v,
                        _mm512_castsi512_si128(x),
                        _mm512_extracti32x4_epi32::<1>(x),
                    );
                    v[0] = _mm_shuffle_epi32::<0b10_01_00_11>(v[0]);
                    v[2] = _mm_shuffle_epi32::<0b00_11_10_01>(v[2]);
                    v[3] = _mm_shuffle_epi32::<0b01_00_11_10>(v[3]);
                    g4_tern(
                        &mut v,
                        _mm512_extracti32x4_epi32::<2>(x),
                        _mm512_extracti32x4_epi32::<3>(x),
                    );
                    v[0] = _mm_shuffle_epi32::<0b00_11_10_01>(v[0]);
                    v[2] = _mm_shuffle_epi32::<0b10_01_00_11>(v[2]);
                    v[3] = _mm_shuffle_epi32::<0b01_00_11_10>(v[3]);
                )*};
            }
            tern_rounds!(0 1 2 3 4 5 6 7 8 9 10 11 12 13);
            h0 = _mm_xor_si128(h0, _mm_xor_si128(v[0], v[2]));
            h1 = _mm_xor_si128(h1, _mm_xor_si128(v[1], v[3]));
        }
        _mm_storeu_si128(hp, h0);
        _mm_storeu_si128(hp.add(1), h1);
    }

    compress_blocks!(compress_sse41, "ssse3,sse4.1", masks());
    compress_blocks!(compress_avx, "ssse3,sse4.1,avx", masks());
    compress_blocks!(compress_avx512, "ssse3,sse4.1,avx,avx512f,avx512vl", Vprord);

    /// The single stream's compression on four messages at once: each
    /// 128-bit lane of a 512-bit register holds one message's row, so the
    /// instructions that compress one block compress four, on the same
    /// chain of G steps (`vpshufd` and the blends act on each 128-bit lane
    /// alike). A step takes about as long as one single-stream block (154
    /// against 138 ns on the AVX-512 machine of BENCHMARKS.md,
    /// `many/blake256x1024/*/64`), which
    /// makes this the cheapest way to hash two to four messages. It does
    /// not scale further: the message words' shuffles and blends, which
    /// the word-major kernels of `batch` do without, leave no room for a
    /// second register set (two sets took twice as long), so five and more
    /// messages go to those.
    pub(super) mod rows {
        use super::{permuted, shuffle_imm, words};
        use crate::batch::{LaneStates, MAX_LANES, PAD64};
        use crate::{BLOCK, C};
        use core::arch::x86_64::*;

        /// Safe entry point of [`compress`] (the first four lanes): only
        /// installed (in `batch::x86`) after the CPU was found to have
        /// AVX-512F.
        pub(crate) fn entry(
            s: &mut LaneStates,
            blocks: &[&[u8; BLOCK]; MAX_LANES],
            counters: &[u64; MAX_LANES],
        ) {
            debug_assert!(detected!("avx512f"));
            // SAFETY: AVX-512F was checked at run time; every pointer
            // read is one of the 64-byte blocks or a field of `s`.
            unsafe { compress(s, blocks, counters) }
        }

        /// Safe entry point of [`compress_pad64`], as [`entry`].
        pub(crate) fn entry_pad64(s: &mut LaneStates) {
            debug_assert!(detected!("avx512f"));
            // SAFETY: AVX-512F was checked at run time; only `s` is read.
            unsafe { compress_pad64(s) }
        }

        /// `vpblendmd` mask taking, in every 128-bit lane, the words that
        /// live in message row `row` (`super::blend_mask` for one lane).
        const fn blend_mask16(words: [usize; 4], row: usize) -> u16 {
            let mut mask = 0u16;
            let mut lane = 0;
            while lane < 4 {
                if words[lane] / 4 == row {
                    mask |= 1 << lane;
                }
                lane += 1;
            }
            mask * 0x1111
        }

        /// `super::PERMUTED` with each row repeated in all four 128-bit
        /// lanes, so a step's constants are one aligned 512-bit operand.
        #[repr(align(64))]
        struct Consts([[[u32; 16]; 4]; 10]);

        static PERMUTED: Consts = Consts(permuted::<16>());

        /// The word-major chaining values of lanes 0..4 (words
        /// `first..first + 4`) as rows: lane `l`'s four words in 128-bit
        /// lane `l`. A 4 × 4 transpose, its own inverse.
        const TRANSPOSE: [u32; 16] = [0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15];

        #[inline(always)]
        unsafe fn load_rows(s: &LaneStates, first: usize) -> __m512i {
            let z = _mm512_castsi128_si512(_mm_loadu_si128(s.h[first].as_ptr().cast()));
            let z = _mm512_inserti32x4::<1>(z, _mm_loadu_si128(s.h[first + 1].as_ptr().cast()));
            let z = _mm512_inserti32x4::<2>(z, _mm_loadu_si128(s.h[first + 2].as_ptr().cast()));
            let z = _mm512_inserti32x4::<3>(z, _mm_loadu_si128(s.h[first + 3].as_ptr().cast()));
            _mm512_permutexvar_epi32(_mm512_loadu_si512(TRANSPOSE.as_ptr().cast()), z)
        }

        /// The inverse of [`load_rows`]. (No closures in this module: they
        /// would not inherit the caller's target features.)
        #[inline(always)]
        unsafe fn store_rows(s: &mut LaneStates, first: usize, rows: __m512i) {
            let z = _mm512_permutexvar_epi32(_mm512_loadu_si512(TRANSPOSE.as_ptr().cast()), rows);
            _mm_storeu_si128(s.h[first].as_mut_ptr().cast(), _mm512_castsi512_si128(z));
            _mm_storeu_si128(
                s.h[first + 1].as_mut_ptr().cast(),
                _mm512_extracti32x4_epi32::<1>(z),
            );
            _mm_storeu_si128(
                s.h[first + 2].as_mut_ptr().cast(),
                _mm512_extracti32x4_epi32::<2>(z),
            );
            _mm_storeu_si128(
                s.h[first + 3].as_mut_ptr().cast(),
                _mm512_extracti32x4_epi32::<3>(z),
            );
        }

        /// Byte-swaps each 32-bit word (message words are big-endian) with
        /// two rotations and a bit select: AVX-512F alone, no `vpshufb`.
        #[inline(always)]
        unsafe fn bswap(x: __m512i) -> __m512i {
            let even = _mm512_set1_epi32(0x00ff_00ff);
            // Bytes 0 and 2 from the left rotation, 1 and 3 from the right.
            _mm512_ternarylogic_epi32::<0xca>(
                even,
                _mm512_rol_epi32::<8>(x),
                _mm512_ror_epi32::<8>(x),
            )
        }

        /// The message rows of lanes 0..4: row `k` holds words `4k..4k + 4`
        /// of each lane's block in that lane.
        #[inline(always)]
        unsafe fn message(blocks: &[&[u8; BLOCK]; MAX_LANES]) -> [__m512i; 4] {
            let b0 = _mm512_loadu_si512(blocks[0].as_ptr().cast());
            let b1 = _mm512_loadu_si512(blocks[1].as_ptr().cast());
            let b2 = _mm512_loadu_si512(blocks[2].as_ptr().cast());
            let b3 = _mm512_loadu_si512(blocks[3].as_ptr().cast());
            // A 4 × 4 transpose of 128-bit pieces.
            let t0 = _mm512_shuffle_i32x4::<0b01_00_01_00>(b0, b1);
            let t1 = _mm512_shuffle_i32x4::<0b11_10_11_10>(b0, b1);
            let t2 = _mm512_shuffle_i32x4::<0b01_00_01_00>(b2, b3);
            let t3 = _mm512_shuffle_i32x4::<0b11_10_11_10>(b2, b3);
            [
                bswap(_mm512_shuffle_i32x4::<0b10_00_10_00>(t0, t2)),
                bswap(_mm512_shuffle_i32x4::<0b11_01_11_01>(t0, t2)),
                bswap(_mm512_shuffle_i32x4::<0b10_00_10_00>(t1, t3)),
                bswap(_mm512_shuffle_i32x4::<0b11_01_11_01>(t1, t3)),
            ]
        }

        /// Words `at..at + 4` of `words` in every 128-bit lane.
        #[inline(always)]
        unsafe fn quad(words: &[u32; 16], at: usize) -> __m512i {
            _mm512_broadcast_i32x4(_mm_loadu_si128(words[at..at + 4].as_ptr().cast()))
        }

        /// Four G functions per 128-bit lane, as `super::g4`.
        #[inline(always)]
        unsafe fn g4(v: &mut [__m512i; 4], x: __m512i, y: __m512i) {
            let [a, b, c, d] = v;
            *a = _mm512_add_epi32(_mm512_add_epi32(*a, x), *b);
            *d = _mm512_ror_epi32::<16>(_mm512_xor_si512(*d, *a));
            *c = _mm512_add_epi32(*c, *d);
            *b = _mm512_ror_epi32::<12>(_mm512_xor_si512(*b, *c));
            *a = _mm512_add_epi32(_mm512_add_epi32(*a, y), *b);
            *d = _mm512_ror_epi32::<8>(_mm512_xor_si512(*d, *a));
            *c = _mm512_add_epi32(*c, *d);
            *b = _mm512_ror_epi32::<7>(_mm512_xor_si512(*b, *c));
        }

        /// One half-step's message words xored with their constants, as
        /// `super::half!`.
        macro_rules! half {
            ($m:expr, $r:literal, $diag:literal, $second:literal) => {{
                const W: [usize; 4] = words($r, $diag, $second);
                let m = $m;
                let x = _mm512_shuffle_epi32::<{ shuffle_imm(W, 0) }>(m[0]);
                let x = _mm512_mask_blend_epi32(
                    blend_mask16(W, 1),
                    x,
                    _mm512_shuffle_epi32::<{ shuffle_imm(W, 1) }>(m[1]),
                );
                let x = _mm512_mask_blend_epi32(
                    blend_mask16(W, 2),
                    x,
                    _mm512_shuffle_epi32::<{ shuffle_imm(W, 2) }>(m[2]),
                );
                let x = _mm512_mask_blend_epi32(
                    blend_mask16(W, 3),
                    x,
                    _mm512_shuffle_epi32::<{ shuffle_imm(W, 3) }>(m[3]),
                );
                let half = 2 * ($diag as usize) + ($second as usize);
                _mm512_xor_si512(
                    x,
                    _mm512_load_si512(PERMUTED.0[$r % 10][half].as_ptr().cast()),
                )
            }};
        }

        /// The fourteen rounds, laid out as `super::rounds!`.
        macro_rules! rounds {
            ($v:ident, $m:ident; $($r:literal)*) => {$(
                g4(&mut $v, half!($m, $r, false, false), half!($m, $r, false, true));
                $v[0] = _mm512_shuffle_epi32::<0b10_01_00_11>($v[0]);
                $v[2] = _mm512_shuffle_epi32::<0b00_11_10_01>($v[2]);
                $v[3] = _mm512_shuffle_epi32::<0b01_00_11_10>($v[3]);
                g4(&mut $v, half!($m, $r, true, false), half!($m, $r, true, true));
                $v[0] = _mm512_shuffle_epi32::<0b00_11_10_01>($v[0]);
                $v[2] = _mm512_shuffle_epi32::<0b10_01_00_11>($v[2]);
                $v[3] = _mm512_shuffle_epi32::<0b01_00_11_10>($v[3]);
            )*};
        }

        /// Lane `l` folds `blocks[l]` into its chaining value with the
        /// counter `counters[l]`, for the first four lanes.
        #[target_feature(enable = "avx512f")]
        unsafe fn compress(
            s: &mut LaneStates,
            blocks: &[&[u8; BLOCK]; MAX_LANES],
            counters: &[u64; MAX_LANES],
        ) {
            // Each lane's counter as the single stream mixes it in: low,
            // low, high, high.
            let mut words = [0u32; 16];
            for (w, c) in words.chunks_exact_mut(4).zip(counters) {
                let (lo, hi) = (*c as u32, (*c >> 32) as u32);
                w.copy_from_slice(&[lo, lo, hi, hi]);
            }
            let t = _mm512_loadu_si512(words.as_ptr().cast());
            compress_rows(s, &message(blocks), t)
        }

        /// The compression of `PAD64` with the counter 0 in every lane.
        #[target_feature(enable = "avx512f")]
        unsafe fn compress_pad64(s: &mut LaneStates) {
            let m = [
                quad(&PAD64, 0),
                quad(&PAD64, 4),
                quad(&PAD64, 8),
                quad(&PAD64, 12),
            ];
            compress_rows(s, &m, _mm512_setzero_si512())
        }

        /// Folds message rows `m` into the chaining values of the first
        /// four lanes, with the counter row `t`.
        #[inline(always)]
        unsafe fn compress_rows(s: &mut LaneStates, m: &[__m512i; 4], t: __m512i) {
            let (c_low, c_high) = (quad(&C, 0), quad(&C, 4));
            let h = [load_rows(s, 0), load_rows(s, 4)];
            let mut v = [h[0], h[1], c_low, _mm512_xor_si512(t, c_high)];
            rounds!(v, m; 0 1 2 3 4 5 6 7 8 9 10 11 12 13);
            let h0 = _mm512_xor_si512(h[0], _mm512_xor_si512(v[0], v[2]));
            let h1 = _mm512_xor_si512(h[1], _mm512_xor_si512(v[1], v[3]));
            store_rows(s, 0, h0);
            store_rows(s, 4, h1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    /// Hashes `data` with the given compression, split at `cut`.
    fn hash_with(compress: CompressFn, data: &[u8], cut: usize) -> [u8; 32] {
        let mut h = Blake256::new();
        h.compress = compress;
        h.update(&data[..cut]);
        h.update(&data[cut..]);
        h.finalize()
    }

    fn reference(data: &[u8]) -> [u8; 32] {
        use blake_hash::Digest;
        blake_hash::Blake256::digest(data).into()
    }

    #[test]
    fn every_length_and_split_matches_blake_hash() {
        // Covers each padding case: empty, partial block, exactly 55 bytes
        // (one pad byte 0x81), 56..63 (length spills into a padding-only
        // block), whole blocks (padding-only block with a zero counter).
        let data: Vec<u8> = (0..300u32).map(|i| (i * 131 + 7) as u8).collect();
        for len in 0..data.len() {
            assert_eq!(
                Blake256::digest(&data[..len]),
                reference(&data[..len]),
                "one-shot, length {len}"
            );
        }
        for Compression { name, compress } in Compression::available() {
            for len in 0..data.len() {
                let want = reference(&data[..len]);
                for cut in [0, len / 3, len / 2, len.saturating_sub(1), len] {
                    assert_eq!(
                        hash_with(compress, &data[..len], cut),
                        want,
                        "{name}: length {len} split at {cut}"
                    );
                }
            }
        }
    }

    #[test]
    fn vector_compressions_run_where_the_cpu_has_them() {
        // The vector paths must not be skipped silently on a machine that
        // can run them (CI's included).
        let names: Vec<&str> = Compression::available().map(Compression::name).collect();
        assert_eq!(names[0], "portable");
        #[cfg(target_arch = "x86_64")]
        if detected!("ssse3") && detected!("sse4.1") {
            assert!(names.contains(&"sse4.1"), "{names:?}");
            if detected!("avx") {
                assert!(names.contains(&"avx"), "{names:?}");
                if detected!("avx512f") && detected!("avx512vl") {
                    assert!(names.contains(&"avx512"), "{names:?}");
                }
            }
        }
        std::println!("compressions checked: {names:?}");
        #[cfg(target_arch = "x86_64")]
        if detected!("avx512f") && detected!("avx512vl") && detected!("avx") {
            assert!(names.contains(&"avx512tern"), "{names:?}");
        }
        // Without a clock the widest instruction set decides.
        let flagged = by_features() as usize;
        #[cfg(target_arch = "x86_64")]
        if detected!("ssse3") && detected!("sse4.1") {
            let avx512 = detected!("avx512f") && detected!("avx512vl");
            let want: CompressFn = match (detected!("avx"), avx512) {
                (true, true) => sse41::compress_evex,
                (true, false) => sse41::compress_vex,
                _ => sse41::compress,
            };
            assert_eq!(flagged, want as usize);
            return;
        }
        assert_eq!(flagged, compress_portable as CompressFn as usize);
    }

    #[test]
    fn compressions_by_name_and_one_shot() {
        let data: Vec<u8> = (0..200u8).collect();
        for c in Compression::available() {
            assert_eq!(
                Compression::by_name(c.name()).map(Compression::name),
                Some(c.name())
            );
            assert_eq!(c.digest(&data), reference(&data), "{}", c.name());
            let mut h = Blake256::with_compression(c);
            h.update(&data);
            assert_eq!(h.finalize(), reference(&data), "{}", c.name());
        }
        assert!(Compression::by_name("avx1024").is_none());
        assert_eq!(
            std::format!("{:?}", Compression::PORTABLE),
            "Compression(\"portable\")"
        );
    }

    #[test]
    fn counters_past_32_bits_agree() {
        // Messages over 512 MiB carry the counter's high word; too long to
        // hash in a test, so each compression is called at such counters
        // directly and checked against the portable one.
        let blocks: Vec<u8> = (0..4 * BLOCK as u32).map(|i| (i * 7 + 3) as u8).collect();
        for t in [
            1u64 << 32,
            (1 << 32) - 512,
            u64::MAX - 511,
            u64::MAX - 4 * 512,
        ] {
            let mut want = IV;
            compress_portable(&mut want, &blocks, t);
            for Compression { name, compress } in Compression::available() {
                let mut got = IV;
                compress(&mut got, &blocks, t);
                assert_eq!(got, want, "{name} at counter {t:#x}");
            }
        }
    }

    #[test]
    fn byte_at_a_time_matches_one_call() {
        let data: Vec<u8> = (0..1000u32).map(|i| (i ^ (i >> 3)) as u8).collect();
        let mut h = Blake256::new();
        for b in &data {
            h.update(core::slice::from_ref(b));
        }
        assert_eq!(h.finalize(), reference(&data));
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_input_and_splits_match_blake_hash(
            data in proptest::collection::vec(proptest::num::u8::ANY, 0..2000),
            cuts in proptest::collection::vec(0usize..2000, 0..4),
        ) {
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(data.len())).collect();
            cuts.sort_unstable();
            for Compression { name, compress } in Compression::available() {
                let mut h = Blake256::new();
                h.compress = compress;
                let mut at = 0;
                for &c in &cuts {
                    h.update(&data[at..c]);
                    at = c;
                }
                h.update(&data[at..]);
                proptest::prop_assert_eq!(h.finalize(), reference(&data), "{}", name);
            }
        }
    }
}
