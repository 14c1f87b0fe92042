//! Many independent BLAKE-256 messages at once, one message per 32-bit lane
//! of a vector register: 8 lanes with AVX2, 16 with AVX-512F. One stream
//! is bound by the latency of its G chain and leaves most of the vector
//! units idle; independent messages (the transactions of a block, the
//! nodes of one merkle level) fill them. Every lane runs the whole
//! compression on its own message, so nothing here depends on the other
//! lanes' data.
//!
//! Messages may differ in length. Each lane walks its message block by
//! block ([`Lane`]); when it has compressed its last block its digest is
//! written out and the lane takes the next waiting message, so lanes are
//! refilled as they finish rather than once per round of messages. When
//! the queue is empty and only a few lanes are still busy, a whole vector
//! step would mostly compress nothing, so those lanes move to a narrower
//! kernel (below) or are finished with the single-stream compression.
//!
//! A batch takes the narrowest kernel with lanes for all of it, and the
//! last busy lanes of a batch move to a narrower kernel once they fit one:
//! with AVX-512, sixteen lanes, then eight in 256-bit registers, then four
//! messages in the single stream's layout (`super::sse41::rows`), whose
//! step costs about one single-stream block.
//!
//! Where the CPU has neither instruction set, the batch is hashed one
//! message after the other with the single-stream hasher.

use super::{compress_counted, compress_fn, digest_bytes, pad, CompressFn, BLOCK, IV};

/// The most lanes any kernel runs (AVX-512: sixteen 32-bit lanes).
pub(super) const MAX_LANES: usize = 16;

/// One message to hash: `head` followed by `body`, hashed as if contiguous.
/// The split lets a transaction's prefix be hashed from its received bytes
/// behind a rewritten version word (`head` the 4-byte word, `body` the
/// rest), and a merkle parent from its two children without copying them
/// together first.
#[derive(Debug, Clone, Copy, Default)]
pub struct Message<'a> {
    /// The first part of the message (may be empty).
    pub head: &'a [u8],
    /// The rest of the message, hashed right after `head`.
    pub body: &'a [u8],
}

impl<'a> Message<'a> {
    /// A message in one piece.
    pub fn new(data: &'a [u8]) -> Self {
        Message {
            head: &[],
            body: data,
        }
    }

    /// `head` then `body`.
    pub fn split(head: &'a [u8], body: &'a [u8]) -> Self {
        Message { head, body }
    }

    fn len(&self) -> usize {
        self.head.len() + self.body.len()
    }

    /// Copies message bytes `from..from + dst.len()` (of head and body
    /// together) into `dst`.
    fn copy_to(&self, from: usize, dst: &mut [u8]) {
        let mut at = from;
        let mut filled = 0;
        if at < self.head.len() {
            let take = (self.head.len() - at).min(dst.len());
            dst[..take].copy_from_slice(&self.head[at..at + take]);
            filled = take;
            at += take;
        }
        let rest = dst.len() - filled;
        if rest > 0 {
            let b = at - self.head.len();
            dst[filled..].copy_from_slice(&self.body[b..b + rest]);
        }
    }

    /// The 64 bytes at `from` when they lie inside one of the two parts.
    fn whole_block(&self, from: usize) -> Option<&'a [u8; BLOCK]> {
        let (part, at) = if from >= self.head.len() {
            (self.body, from - self.head.len())
        } else {
            (self.head, from)
        };
        part.get(at..)?.first_chunk::<BLOCK>()
    }
}

/// Where a lane's next block is: in its message, or in the lane's own
/// scratch space (blocks that straddle head and body, and the padding).
#[derive(Clone, Copy)]
enum Source<'a> {
    Message(&'a [u8; BLOCK]),
    Scratch(usize),
}

/// How far a lane is through its message.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Whole message blocks remain (or the tail has not been padded yet).
    Blocks,
    /// The padded last block(s) are in `scratch`; `next` is the next one.
    Tail { next: usize, count: usize },
    /// The last block has been handed out.
    Done,
}

/// One message being hashed in one lane: a cursor handing out its blocks
/// with the counter each is compressed with.
struct Lane<'a> {
    msg: Message<'a>,
    /// Index of the message (and its digest) in the batch.
    index: usize,
    /// Message bytes handed out as whole blocks so far.
    pos: usize,
    stage: Stage,
    /// The counters of the tail blocks (see [`pad`]).
    tail_counters: [u64; 2],
    scratch: Scratch,
}

/// Two blocks starting on a cache line: the kernels load whole blocks, and
/// one straddling two lines costs a split load per vector.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Scratch([[u8; BLOCK]; 2]);

impl<'a> Lane<'a> {
    fn new(msg: Message<'a>, index: usize) -> Self {
        Lane {
            msg,
            index,
            pos: 0,
            stage: Stage::Blocks,
            tail_counters: [0; 2],
            scratch: Scratch([[0; BLOCK]; 2]),
        }
    }

    /// The next block and its counter, or `None` once all were handed out.
    /// The padding is the single-stream hasher's (`super::pad`): a one
    /// bit, zeros, a one bit and the length in bits; a block holding no
    /// message bits counts 0.
    fn next_block(&mut self) -> Option<(Source<'a>, u64)> {
        if self.stage == Stage::Blocks {
            let len = self.msg.len();
            if len - self.pos >= BLOCK {
                let at = self.pos;
                self.pos += BLOCK;
                let counter = 8 * self.pos as u64;
                return Some(match self.msg.whole_block(at) {
                    Some(block) => (Source::Message(block), counter),
                    None => {
                        self.msg.copy_to(at, &mut self.scratch.0[0]);
                        (Source::Scratch(0), counter)
                    }
                });
            }
            let n = len - self.pos;
            self.scratch = Scratch([[0; BLOCK]; 2]);
            self.msg.copy_to(self.pos, &mut self.scratch.0[0][..n]);
            let (count, counters) = pad(&mut self.scratch.0, n, 8 * len as u64);
            self.tail_counters = counters;
            self.stage = Stage::Tail { next: 0, count };
        }
        match self.stage {
            Stage::Tail { next, count } => {
                self.stage = if next + 1 == count {
                    Stage::Done
                } else {
                    Stage::Tail {
                        next: next + 1,
                        count,
                    }
                };
                Some((Source::Scratch(next), self.tail_counters[next]))
            }
            _ => None,
        }
    }

    fn block<'s>(&'s self, source: Source<'a>) -> &'s [u8; BLOCK] {
        match source {
            Source::Message(b) => b,
            Source::Scratch(i) => &self.scratch.0[i],
        }
    }

    fn done(&self) -> bool {
        self.stage == Stage::Done
    }
}

/// The message words of the block that ends a 64-byte message: padding
/// only (what [`pad`] writes for `n` = 0 after 64 bytes), compressed with the
/// counter 0. (Only the x86 kernels take it as constants.)
#[cfg(any(target_arch = "x86_64", test))]
pub(super) const PAD64: [u32; 16] = [0x8000_0000, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 512];

/// The chaining values of all lanes, word-major: `h[w][lane]` is word `w`
/// of that lane's state, so each word of every lane loads as one vector.
#[repr(C, align(64))]
pub(super) struct LaneStates {
    pub(super) h: [[u32; MAX_LANES]; 8],
}

/// One compression of the first `lanes` lanes: lane `l` folds `blocks[l]`
/// into its chaining value with the counter `counters[l]`.
pub(super) type KernelFn = fn(&mut LaneStates, &[&[u8; BLOCK]; MAX_LANES], &[u64; MAX_LANES]);

/// A multi-lane compression and how to schedule it.
#[derive(Clone, Copy)]
pub(super) struct Kernel {
    pub(super) name: &'static str,
    pub(super) lanes: usize,
    pub(super) compress: KernelFn,
    /// Compresses in every lane the block that ends every 64-byte message
    /// (padding only, counter 0: [`PAD64`]), whose words are constants.
    pub(super) pad64: fn(&mut LaneStates),
    /// With no message waiting, lanes still busy are finished one stream
    /// at a time once no more than this many remain.
    pub(super) drain_at: usize,
    /// A kernel with fewer (and cheaper) steps, for batches it holds whole.
    pub(super) narrow: Option<&'static Kernel>,
}

impl Kernel {
    /// The kernel to hash `count` messages with: the narrowest of this one
    /// and its narrow companions (each has fewer lanes) that has lanes
    /// enough for all of them.
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
pub(super) fn kernel() -> Option<Kernel> {
    #[cfg(target_arch = "x86_64")]
    {
        if detected!("avx512f") && detected!("avx512vl") && detected!("avx2") {
            return Some(x86::AVX512);
        }
        if detected!("avx2") {
            return Some(x86::AVX2);
        }
    }
    None
}

/// Every kernel this CPU runs (for the tests and benchmarks), fewest lanes
/// first; the last is [`kernel`]'s.
pub(super) fn kernels() -> impl Iterator<Item = Kernel> {
    #[cfg(target_arch = "x86_64")]
    let all = {
        let avx2 = detected!("avx2");
        let avx512 = avx2 && detected!("avx512f") && detected!("avx512vl");
        [
            avx512.then_some(x86::ROWS4),
            avx2.then_some(x86::AVX2),
            avx512.then_some(x86::AVX512_NARROW),
            avx512.then_some(x86::AVX512),
        ]
    };
    #[cfg(not(target_arch = "x86_64"))]
    let all: [Option<Kernel>; 0] = [];
    all.into_iter().flatten()
}

/// Hashes each message of `msgs` into the same position of `out` (which
/// must be as long; extra digests are left alone) with `kernel`, or one
/// message after the other without one.
pub(super) fn digest_many<O: From<[u8; 32]>>(
    kernel: Option<Kernel>,
    msgs: &[Message<'_>],
    out: &mut [O],
) {
    let single = compress_fn();
    match kernel {
        Some(k) if msgs.len() > 1 => match uniform_length(msgs) {
            Some(BLOCK) => run_64(
                k,
                single,
                msgs.len(),
                // Every body is one whole block.
                |i| msgs[i].body.first_chunk().unwrap_or(IDLE),
                out,
            ),
            Some(len) => run_uniform(k, single, msgs, out, len),
            None => run(k.for_count(msgs.len()), single, msgs, out),
        },
        _ => {
            for (m, o) in msgs.iter().zip(out.iter_mut()) {
                let mut h = Lane::new(*m, 0);
                *o = O::from(drain(single, &mut h, IV));
            }
        }
    }
}

/// [`digest_many`] of messages that are one 64-byte block each, laid out
/// back to back (merkle parents, full hashes): no message descriptors to
/// build or check.
pub(super) fn digest_many_64<O: From<[u8; 32]>>(
    kernel: Option<Kernel>,
    msgs: &[[u8; BLOCK]],
    out: &mut [O],
) {
    let single = compress_fn();
    match kernel {
        Some(k) if msgs.len() > 1 => run_64(k, single, msgs.len(), |i| &msgs[i], out),
        _ => {
            for (m, o) in msgs.iter().zip(out.iter_mut()) {
                *o = O::from(drain(single, &mut Lane::new(Message::new(m), 0), IV));
            }
        }
    }
}

/// Hashes `count` messages of one block each (message `i` is `block(i)`)
/// in lockstep: its block with the counter 512, then the padding-only
/// block every lane shares.
fn run_64<'m, O: From<[u8; 32]>>(
    kernel: Kernel,
    single: CompressFn,
    count: usize,
    block: impl Fn(usize) -> &'m [u8; BLOCK],
    out: &mut [O],
) {
    let n = kernel.lanes.min(MAX_LANES);
    for (first, outs) in (0..count).step_by(n).zip(out.chunks_mut(n)) {
        let group = n.min(count - first);
        let kernel = kernel.for_count(group);
        if group <= kernel.drain_at {
            for (i, o) in (first..first + group).zip(outs) {
                let msg = Message::new(block(i));
                *o = O::from(drain(single, &mut Lane::new(msg, 0), IV));
            }
            continue;
        }
        let mut state = LaneStates {
            h: [[0; MAX_LANES]; 8],
        };
        for (words, iv) in state.h.iter_mut().zip(IV) {
            *words = [iv; MAX_LANES];
        }
        let mut blocks = [IDLE; MAX_LANES];
        for (l, b) in blocks.iter_mut().enumerate().take(group) {
            *b = block(first + l);
        }
        (kernel.compress)(&mut state, &blocks, &[8 * BLOCK as u64; MAX_LANES]);
        (kernel.pad64)(&mut state);
        extract(&state, outs, group);
    }
}

/// The length of every message, when all are in one piece and equally
/// long (the merkle parents and full hashes: 64 bytes).
fn uniform_length(msgs: &[Message<'_>]) -> Option<usize> {
    let len = msgs.first()?.body.len();
    msgs.iter()
        .all(|m| m.head.is_empty() && m.body.len() == len)
        .then_some(len)
}

/// Hashes messages in one piece and of one length `len` (other than 64,
/// [`run_64`]): all lanes move in lockstep, `kernel.lanes` messages at a
/// time, without the per-lane bookkeeping of [`run`].
fn run_uniform<O: From<[u8; 32]>>(
    kernel: Kernel,
    single: CompressFn,
    msgs: &[Message<'_>],
    out: &mut [O],
    len: usize,
) {
    let n = kernel.lanes.min(MAX_LANES);
    let whole = len / BLOCK;
    let rest = len % BLOCK;
    let mut tails = [Scratch([[0u8; BLOCK]; 2]); MAX_LANES];
    for (group, outs) in msgs.chunks(n).zip(out.chunks_mut(n)) {
        let kernel = kernel.for_count(group.len());
        if group.len() <= kernel.drain_at {
            for (m, o) in group.iter().zip(outs) {
                *o = O::from(drain(single, &mut Lane::new(*m, 0), IV));
            }
            continue;
        }
        let mut state = LaneStates {
            h: [[0; MAX_LANES]; 8],
        };
        for (words, iv) in state.h.iter_mut().zip(IV) {
            *words = [iv; MAX_LANES];
        }
        for k in 0..whole {
            let mut blocks = [IDLE; MAX_LANES];
            for (b, m) in blocks.iter_mut().zip(group) {
                // Always a whole block: every body is `len` long.
                *b = m.body[BLOCK * k..].first_chunk().unwrap_or(IDLE);
            }
            let counter = 8 * (BLOCK * (k + 1)) as u64;
            (kernel.compress)(&mut state, &blocks, &[counter; MAX_LANES]);
        }
        let mut count = 0;
        let mut counters = [0; 2];
        for (t, m) in tails.iter_mut().zip(group) {
            *t = Scratch([[0; BLOCK]; 2]);
            t.0[0][..rest].copy_from_slice(&m.body[BLOCK * whole..]);
            (count, counters) = pad(&mut t.0, rest, 8 * len as u64);
        }
        for (j, counter) in counters.iter().enumerate().take(count) {
            let mut blocks = [IDLE; MAX_LANES];
            for (b, t) in blocks.iter_mut().zip(&tails).take(group.len()) {
                *b = &t.0[j];
            }
            (kernel.compress)(&mut state, &blocks, &[*counter; MAX_LANES]);
        }
        extract(&state, outs, group.len());
    }
}

/// The digests of the first `lanes` lanes into `outs`.
fn extract<O: From<[u8; 32]>>(state: &LaneStates, outs: &mut [O], lanes: usize) {
    for (l, o) in outs.iter_mut().enumerate().take(lanes) {
        let h: [u32; 8] = core::array::from_fn(|w| state.h[w][l]);
        *o = O::from(digest_bytes(&h));
    }
}

/// Finishes `lane` from chaining value `h` one block at a time with the
/// single-stream compression.
fn drain(single: CompressFn, lane: &mut Lane<'_>, mut h: [u32; 8]) -> [u8; 32] {
    while let Some((source, counter)) = lane.next_block() {
        compress_counted(single, &mut h, lane.block(source), counter);
    }
    digest_bytes(&h)
}

/// Lanes with nothing to do compress this block and their result is
/// ignored.
static IDLE: &[u8; BLOCK] = &IDLE_LINE.0[0];

/// [`IDLE`], on a cache line of its own, as [`Scratch`].
static IDLE_LINE: Scratch = Scratch([[0; BLOCK]; 2]);

fn run<'a, O: From<[u8; 32]>>(
    mut kernel: Kernel,
    single: CompressFn,
    msgs: &[Message<'a>],
    out: &mut [O],
) {
    let mut n = kernel.lanes.min(MAX_LANES);
    let mut state = LaneStates {
        h: [[0; MAX_LANES]; 8],
    };
    let mut lanes: [Option<Lane<'a>>; MAX_LANES] = Default::default();
    let mut waiting = msgs.iter().enumerate();
    let mut start = |state: &mut LaneStates, slot: &mut Option<Lane<'a>>, l: usize| {
        *slot = waiting.next().map(|(i, m)| Lane::new(*m, i));
        for (w, iv) in IV.iter().enumerate() {
            state.h[w][l] = *iv;
        }
    };
    for (l, slot) in lanes.iter_mut().take(n).enumerate() {
        start(&mut state, slot, l);
    }
    let mut queue_empty = msgs.len() <= n;
    loop {
        let busy = lanes.iter().filter(|l| l.is_some()).count();
        if busy == 0 {
            return;
        }
        if queue_empty && kernel.for_count(busy).lanes < kernel.lanes {
            // The last busy lanes fit a narrower kernel with cheaper
            // steps: move them (and their chaining values) to the first
            // lanes and go on with that one.
            let mut to = 0;
            for from in 0..n {
                if lanes[from].is_some() {
                    lanes.swap(from, to);
                    for words in state.h.iter_mut() {
                        words[to] = words[from];
                    }
                    to += 1;
                }
            }
            kernel = kernel.for_count(busy);
            n = kernel.lanes.min(MAX_LANES);
        }
        if queue_empty && busy <= kernel.drain_at {
            for (l, slot) in lanes.iter_mut().enumerate() {
                if let Some(lane) = slot {
                    let h = core::array::from_fn(|w| state.h[w][l]);
                    if let Some(o) = out.get_mut(lane.index) {
                        *o = O::from(drain(single, lane, h));
                    }
                }
            }
            return;
        }
        let mut sources: [Option<Source<'_>>; MAX_LANES] = [None; MAX_LANES];
        let mut counters = [0u64; MAX_LANES];
        for ((slot, source), counter) in lanes.iter_mut().zip(&mut sources).zip(&mut counters) {
            if let Some((s, c)) = slot.as_mut().and_then(Lane::next_block) {
                *source = Some(s);
                *counter = c;
            }
        }
        let blocks: [&[u8; BLOCK]; MAX_LANES] =
            core::array::from_fn(|l| match (&lanes[l], sources[l]) {
                (Some(lane), Some(s)) => lane.block(s),
                _ => IDLE,
            });
        (kernel.compress)(&mut state, &blocks, &counters);
        for (l, slot) in lanes.iter_mut().take(n).enumerate() {
            if let Some(lane) = slot.as_ref().filter(|lane| lane.done()) {
                let h: [u32; 8] = core::array::from_fn(|w| state.h[w][l]);
                if let Some(o) = out.get_mut(lane.index) {
                    *o = O::from(digest_bytes(&h));
                }
                start(&mut state, slot, l);
                if slot.is_none() {
                    queue_empty = true;
                }
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod x86 {
    //! The multi-lane compressions. The state is sixteen vectors, word `i`
    //! of every lane in vector `i`; the message is loaded from each lane's
    //! block and transposed the same way, so each G function is the scalar
    //! one applied to whole vectors and the round's permutation is resolved
    //! at compile time, as in the portable compression.

    use super::{Kernel, LaneStates, BLOCK, MAX_LANES, PAD64};
    use crate::{C, SIGMA};
    use core::arch::x86_64::*;

    /// A kernel: its settings, its safe entry point and the compression
    /// compiled for its instruction sets (`$features` for the compiler,
    /// `$detect` for the run-time check, the same list).
    macro_rules! kernel {
        ($(#[$doc:meta])* $kernel:ident: $name:literal, $lanes:literal lanes, drain at $drain:literal,
         narrow $narrow:expr, $features:literal, [$($detect:tt),+], $v:ty, $rotations:expr) => {
            $(#[$doc])*
            pub(crate) const $kernel: Kernel = Kernel {
                name: $name,
                lanes: $lanes,
                drain_at: $drain,
                narrow: $narrow,
                compress: {
                    /// Safe entry point: only installed (by `kernel`,
                    /// `kernels`) after the CPU was found to have every
                    /// feature the compression is compiled for.
                    fn entry(
                        s: &mut LaneStates,
                        blocks: &[&[u8; BLOCK]; MAX_LANES],
                        counters: &[u64; MAX_LANES],
                    ) {
                        #[target_feature(enable = $features)]
                        unsafe fn lanes(
                            s: &mut LaneStates,
                            blocks: &[&[u8; BLOCK]; MAX_LANES],
                            counters: &[u64; MAX_LANES],
                        ) {
                            compress::<$v, _>(s, blocks, counters, $rotations)
                        }
                        debug_assert!(true $(&& detected!($detect))+);
                        // SAFETY: the features were checked at run time;
                        // every pointer read is one of the 64-byte blocks
                        // or a field of `s`.
                        unsafe { lanes(s, blocks, counters) }
                    }
                    entry
                },
                pad64: {
                    /// Safe entry point, as `compress`.
                    fn entry(s: &mut LaneStates) {
                        #[target_feature(enable = $features)]
                        unsafe fn lanes(s: &mut LaneStates) {
                            compress_pad64::<$v, _>(s, $rotations)
                        }
                        debug_assert!(true $(&& detected!($detect))+);
                        // SAFETY: the features were checked at run time;
                        // only `s` is read.
                        unsafe { lanes(s) }
                    }
                    entry
                },
            };
        };
    }

    // When to finish the last busy lanes one stream at a time: a step of
    // eight lanes costs about as much as two blocks compressed one after
    // the other, one of sixteen about three (`many/blake256x1024/*/64` in
    // BENCHMARKS.md). With AVX-512 the last lanes move to a narrower
    // kernel before that (`Kernel::for_count`), down to `ROWS4`, which
    // leaves only a single lane to the single stream.
    kernel!(
        AVX2: "avx2x8", 8 lanes, drain at 2, narrow None,
        "avx2", ["avx2"], __m256i, Shuffles
    );

    kernel!(
        /// Eight lanes in 256-bit registers with AVX-512VL's rotations: for
        /// batches of up to eight, each step is cheaper than a 512-bit one.
        AVX512_NARROW: "avx512x8", 8 lanes, drain at 2, narrow Some(&ROWS4),
        "avx2,avx512f,avx512vl", ["avx2", "avx512f", "avx512vl"], __m256i, Vprord
    );

    /// Four messages, one per 128-bit lane, on the single stream's chain
    /// of G steps (`crate::blake::sse41::rows`): a step costs about one
    /// single-stream block, so it pays from two messages on.
    pub(crate) const ROWS4: Kernel = Kernel {
        name: "avx512rows4",
        lanes: 4,
        drain_at: 1,
        narrow: None,
        compress: crate::sse41::rows::entry,
        pad64: crate::sse41::rows::entry_pad64,
    };

    kernel!(
        AVX512: "avx512x16", 16 lanes, drain at 3, narrow Some(&AVX512_NARROW),
        "avx2,avx512f,avx512vl", ["avx2", "avx512f", "avx512vl"], __m512i, Vprord
    );

    /// The operations the compression needs on a vector of lanes.
    trait Lanes: Copy {
        unsafe fn splat(x: u32) -> Self;
        /// The first lanes of `words`.
        unsafe fn load(words: &[u32; MAX_LANES]) -> Self;
        unsafe fn store(self, words: &mut [u32; MAX_LANES]);
        unsafe fn add(self, o: Self) -> Self;
        unsafe fn xor(self, o: Self) -> Self;
        /// The sixteen message words of every lane's block, word-major:
        /// big-endian words (BLAKE-256) when `be`, else little-endian
        /// (BLAKE3).
        unsafe fn message(blocks: &[&[u8; BLOCK]; MAX_LANES], be: bool) -> [Self; 16];
    }

    /// Byte-swaps each 32-bit word (message words are big-endian).
    #[inline(always)]
    unsafe fn bswap256(x: __m256i) -> __m256i {
        bytes_moved(x, [3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12])
    }

    /// Transposes eight rows of eight words: row `l` of the result holds
    /// word `l` of every input row.
    #[inline(always)]
    unsafe fn transpose8(r: [__m256i; 8]) -> [__m256i; 8] {
        let ab_01 = _mm256_unpacklo_epi32(r[0], r[1]);
        let ab_23 = _mm256_unpackhi_epi32(r[0], r[1]);
        let cd_01 = _mm256_unpacklo_epi32(r[2], r[3]);
        let cd_23 = _mm256_unpackhi_epi32(r[2], r[3]);
        let ef_01 = _mm256_unpacklo_epi32(r[4], r[5]);
        let ef_23 = _mm256_unpackhi_epi32(r[4], r[5]);
        let gh_01 = _mm256_unpacklo_epi32(r[6], r[7]);
        let gh_23 = _mm256_unpackhi_epi32(r[6], r[7]);
        // Words 0 and 4 of rows a..d, 1 and 5, 2 and 6, 3 and 7.
        let abcd_0 = _mm256_unpacklo_epi64(ab_01, cd_01);
        let abcd_1 = _mm256_unpackhi_epi64(ab_01, cd_01);
        let abcd_2 = _mm256_unpacklo_epi64(ab_23, cd_23);
        let abcd_3 = _mm256_unpackhi_epi64(ab_23, cd_23);
        let efgh_0 = _mm256_unpacklo_epi64(ef_01, gh_01);
        let efgh_1 = _mm256_unpackhi_epi64(ef_01, gh_01);
        let efgh_2 = _mm256_unpacklo_epi64(ef_23, gh_23);
        let efgh_3 = _mm256_unpackhi_epi64(ef_23, gh_23);
        [
            _mm256_permute2x128_si256::<0x20>(abcd_0, efgh_0),
            _mm256_permute2x128_si256::<0x20>(abcd_1, efgh_1),
            _mm256_permute2x128_si256::<0x20>(abcd_2, efgh_2),
            _mm256_permute2x128_si256::<0x20>(abcd_3, efgh_3),
            _mm256_permute2x128_si256::<0x31>(abcd_0, efgh_0),
            _mm256_permute2x128_si256::<0x31>(abcd_1, efgh_1),
            _mm256_permute2x128_si256::<0x31>(abcd_2, efgh_2),
            _mm256_permute2x128_si256::<0x31>(abcd_3, efgh_3),
        ]
    }

    /// The message words of lanes `first..first + 8`, word-major,
    /// byte-swapped when `be` (a constant at every call, so the choice
    /// folds away). (No closures in this module: they would not inherit
    /// the callers' target features, and the intrinsics in them would not
    /// be inlined.)
    #[inline(always)]
    unsafe fn message8(
        blocks: &[&[u8; BLOCK]; MAX_LANES],
        first: usize,
        be: bool,
    ) -> [__m256i; 16] {
        let mut low = [_mm256_setzero_si256(); 8];
        let mut high = [_mm256_setzero_si256(); 8];
        for l in 0..8 {
            let p = blocks[first + l].as_ptr();
            low[l] = _mm256_loadu_si256(p.cast());
            high[l] = _mm256_loadu_si256(p.add(32).cast());
            if be {
                low[l] = bswap256(low[l]);
                high[l] = bswap256(high[l]);
            }
        }
        let low = transpose8(low);
        let high = transpose8(high);
        let mut m = [_mm256_setzero_si256(); 16];
        m[..8].copy_from_slice(&low);
        m[8..].copy_from_slice(&high);
        m
    }

    /// `Lanes` for a vector type from its intrinsics, and the way its
    /// message is loaded.
    macro_rules! lanes {
        ($v:ty, $set1:ident, $loadu:ident, $storeu:ident, $add:ident, $xor:ident,
         |$blocks:ident, $be:ident| $message:block) => {
            impl Lanes for $v {
                #[inline(always)]
                unsafe fn splat(x: u32) -> Self {
                    $set1(x as i32)
                }
                #[inline(always)]
                unsafe fn load(words: &[u32; MAX_LANES]) -> Self {
                    $loadu(words.as_ptr().cast())
                }
                #[inline(always)]
                unsafe fn store(self, words: &mut [u32; MAX_LANES]) {
                    $storeu(words.as_mut_ptr().cast(), self)
                }
                #[inline(always)]
                unsafe fn add(self, o: Self) -> Self {
                    $add(self, o)
                }
                #[inline(always)]
                unsafe fn xor(self, o: Self) -> Self {
                    $xor(self, o)
                }
                #[inline(always)]
                unsafe fn message($blocks: &[&[u8; BLOCK]; MAX_LANES], $be: bool) -> [Self; 16] {
                    $message
                }
            }
        };
    }

    lanes!(
        __m256i,
        _mm256_set1_epi32,
        _mm256_loadu_si256,
        _mm256_storeu_si256,
        _mm256_add_epi32,
        _mm256_xor_si256,
        |blocks, be| { message8(blocks, 0, be) }
    );

    lanes!(
        __m512i,
        _mm512_set1_epi32,
        _mm512_loadu_si512,
        _mm512_storeu_si512,
        _mm512_add_epi32,
        _mm512_xor_si512,
        |blocks, be| {
            // Lanes 0..7 in the low half of each vector, 8..15 in the high.
            let low = message8(blocks, 0, be);
            let high = message8(blocks, 8, be);
            let mut m = [_mm512_setzero_si512(); 16];
            for w in 0..16 {
                m[w] = _mm512_inserti64x4::<1>(_mm512_castsi256_si512(low[w]), high[w]);
            }
            m
        }
    );

    /// The four rotations of G on vectors `V`, by instruction set.
    trait Rotations<V>: Copy {
        unsafe fn r16(self, x: V) -> V;
        unsafe fn r12(self, x: V) -> V;
        unsafe fn r8(self, x: V) -> V;
        unsafe fn r7(self, x: V) -> V;
    }

    /// AVX2: byte shuffles for 16 and 8, two shifts and an or otherwise.
    #[derive(Clone, Copy)]
    struct Shuffles;

    /// Moves the bytes of each 128-bit half of `x` as `pattern` says
    /// (`pattern[i]` is the source of byte `i`).
    #[inline(always)]
    unsafe fn bytes_moved(x: __m256i, pattern: [u8; 16]) -> __m256i {
        let p = _mm_loadu_si128(pattern.as_ptr().cast());
        _mm256_shuffle_epi8(x, _mm256_broadcastsi128_si256(p))
    }

    /// Rotation right by `R` as two shifts (`L` = 32 - `R`) and an or.
    #[inline(always)]
    unsafe fn shifted<const R: i32, const L: i32>(x: __m256i) -> __m256i {
        _mm256_or_si256(_mm256_srli_epi32::<R>(x), _mm256_slli_epi32::<L>(x))
    }

    impl Rotations<__m256i> for Shuffles {
        #[inline(always)]
        unsafe fn r16(self, x: __m256i) -> __m256i {
            bytes_moved(x, [2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13])
        }
        #[inline(always)]
        unsafe fn r12(self, x: __m256i) -> __m256i {
            shifted::<12, 20>(x)
        }
        #[inline(always)]
        unsafe fn r8(self, x: __m256i) -> __m256i {
            bytes_moved(x, [1, 2, 3, 0, 5, 6, 7, 4, 9, 10, 11, 8, 13, 14, 15, 12])
        }
        #[inline(always)]
        unsafe fn r7(self, x: __m256i) -> __m256i {
            shifted::<7, 25>(x)
        }
    }

    /// AVX-512 (F, and VL for 256-bit vectors): one `vprord` each.
    #[derive(Clone, Copy)]
    struct Vprord;

    /// `Rotations` by `vprord` for a vector type, from its intrinsic.
    macro_rules! vprord {
        ($v:ty, $ror:ident) => {
            impl Rotations<$v> for Vprord {
                #[inline(always)]
                unsafe fn r16(self, x: $v) -> $v {
                    $ror::<16>(x)
                }
                #[inline(always)]
                unsafe fn r12(self, x: $v) -> $v {
                    $ror::<12>(x)
                }
                #[inline(always)]
                unsafe fn r8(self, x: $v) -> $v {
                    $ror::<8>(x)
                }
                #[inline(always)]
                unsafe fn r7(self, x: $v) -> $v {
                    $ror::<7>(x)
                }
            }
        };
    }

    vprord!(__m256i, _mm256_ror_epi32);
    vprord!(__m512i, _mm512_ror_epi32);

    /// The G function on whole vectors; `x` and `y` are the message words
    /// already xored with their constants.
    #[inline(always)]
    unsafe fn g<V: Lanes, R: Rotations<V>>(
        v: &mut [V; 16],
        r: R,
        [a, b, c, d]: [usize; 4],
        x: V,
        y: V,
    ) {
        v[a] = v[a].add(v[b]).add(x);
        v[d] = r.r16(v[d].xor(v[a]));
        v[c] = v[c].add(v[d]);
        v[b] = r.r12(v[b].xor(v[c]));
        v[a] = v[a].add(v[b]).add(y);
        v[d] = r.r8(v[d].xor(v[a]));
        v[c] = v[c].add(v[d]);
        v[b] = r.r7(v[b].xor(v[c]));
    }

    /// Round `N`; a constant, so the permutation resolves at compile time.
    #[inline(always)]
    unsafe fn round<V: Lanes, R: Rotations<V>, const N: usize>(v: &mut [V; 16], r: R, m: &[V; 16]) {
        let s = &SIGMA[N % 10];
        // G(i) adds m[s[2i]] ^ C[s[2i+1]], then m[s[2i+1]] ^ C[s[2i]].
        let mut w = [V::splat(0); 16];
        for i in 0..16 {
            w[i] = m[s[i]].xor(V::splat(C[s[i ^ 1]]));
        }
        g(v, r, [0, 4, 8, 12], w[0], w[1]);
        g(v, r, [1, 5, 9, 13], w[2], w[3]);
        g(v, r, [2, 6, 10, 14], w[4], w[5]);
        g(v, r, [3, 7, 11, 15], w[6], w[7]);
        g(v, r, [0, 5, 10, 15], w[8], w[9]);
        g(v, r, [1, 6, 11, 12], w[10], w[11]);
        g(v, r, [2, 7, 8, 13], w[12], w[13]);
        g(v, r, [3, 4, 9, 14], w[14], w[15]);
    }

    #[inline(always)]
    unsafe fn compress<V: Lanes, R: Rotations<V>>(
        s: &mut LaneStates,
        blocks: &[&[u8; BLOCK]; MAX_LANES],
        counters: &[u64; MAX_LANES],
        r: R,
    ) {
        let m = V::message(blocks, true);
        let mut lo = [0u32; MAX_LANES];
        let mut hi = [0u32; MAX_LANES];
        for l in 0..MAX_LANES {
            lo[l] = counters[l] as u32;
            hi[l] = (counters[l] >> 32) as u32;
        }
        compress_words(s, &m, V::load(&lo), V::load(&hi), r)
    }

    /// The compression of [`PAD64`] in every lane: the message and the
    /// counter are constants, so their words fold into the additions.
    #[inline(always)]
    unsafe fn compress_pad64<V: Lanes, R: Rotations<V>>(s: &mut LaneStates, r: R) {
        let mut m = [V::splat(0); 16];
        for (v, w) in m.iter_mut().zip(PAD64) {
            *v = V::splat(w);
        }
        compress_words(s, &m, V::splat(0), V::splat(0), r)
    }

    /// Folds message `m` (word-major) into every lane's chaining value with
    /// the counters' low and high words `lo`, `hi`.
    #[inline(always)]
    unsafe fn compress_words<V: Lanes, R: Rotations<V>>(
        s: &mut LaneStates,
        m: &[V; 16],
        lo: V,
        hi: V,
        r: R,
    ) {
        let mut h = [V::splat(0); 8];
        for (hw, words) in h.iter_mut().zip(&s.h) {
            *hw = V::load(words);
        }
        // The chaining value, then the constants with the counter mixed
        // into the last four (the salt is always zero in Decred).
        let mut v = [V::splat(0); 16];
        for i in 0..8 {
            v[i] = h[i];
            v[i + 8] = V::splat(C[i]);
        }
        for (i, t) in [(12, lo), (13, lo), (14, hi), (15, hi)] {
            v[i] = v[i].xor(t);
        }
        round::<V, R, 0>(&mut v, r, m);
        round::<V, R, 1>(&mut v, r, m);
        round::<V, R, 2>(&mut v, r, m);
        round::<V, R, 3>(&mut v, r, m);
        round::<V, R, 4>(&mut v, r, m);
        round::<V, R, 5>(&mut v, r, m);
        round::<V, R, 6>(&mut v, r, m);
        round::<V, R, 7>(&mut v, r, m);
        round::<V, R, 8>(&mut v, r, m);
        round::<V, R, 9>(&mut v, r, m);
        round::<V, R, 10>(&mut v, r, m);
        round::<V, R, 11>(&mut v, r, m);
        round::<V, R, 12>(&mut v, r, m);
        round::<V, R, 13>(&mut v, r, m);
        for w in 0..8 {
            h[w].xor(v[w]).xor(v[w + 8]).store(&mut s.h[w]);
        }
    }

    /// The multi-lane BLAKE3 compressions (`crate::blake3`): the same
    /// lanes, message transpose, G function and rotations as BLAKE-256's
    /// above, with BLAKE3's little-endian words, its message schedule, seven
    /// rounds, no constants xored into the message, and counter 0, each
    /// lane's block length and flags in the last state words.
    pub(crate) mod blake3 {
        use super::{g, Lanes, Rotations, Shuffles, Vprord, MAX_LANES};
        use crate::batch::LaneStates;
        use crate::blake3::{Kernel, BLOCK_LEN, SCHEDULE};
        use crate::IV;
        use core::arch::x86_64::*;

        /// A BLAKE3 kernel and its safe entry point, as `kernel!` above.
        macro_rules! kernel3 {
            ($(#[$doc:meta])* $kernel:ident: $name:literal, $lanes:literal lanes,
             drain at $drain:literal, narrow $narrow:expr, $features:literal,
             [$($detect:tt),+], $v:ty, $rotations:expr) => {
                $(#[$doc])*
                pub(crate) const $kernel: Kernel = Kernel {
                    name: $name,
                    lanes: $lanes,
                    drain_at: $drain,
                    narrow: $narrow,
                    compress: {
                        /// Safe entry point: only installed (by
                        /// `crate::blake3`'s `kernel` and `all_kernels`)
                        /// after the CPU was found to have every feature
                        /// the compression is compiled for.
                        fn entry(
                            s: &mut LaneStates,
                            blocks: &[&[u8; BLOCK_LEN]; MAX_LANES],
                            lens: &[u32; MAX_LANES],
                            flags: &[u32; MAX_LANES],
                        ) {
                            #[target_feature(enable = $features)]
                            unsafe fn lanes(
                                s: &mut LaneStates,
                                blocks: &[&[u8; BLOCK_LEN]; MAX_LANES],
                                lens: &[u32; MAX_LANES],
                                flags: &[u32; MAX_LANES],
                            ) {
                                compress::<$v, _>(s, blocks, lens, flags, $rotations)
                            }
                            debug_assert!(true $(&& detected!($detect))+);
                            // SAFETY: the features were checked at run time;
                            // every pointer read is one of the 64-byte
                            // blocks, or a field of `s`, `lens`, `flags`.
                            unsafe { lanes(s, blocks, lens, flags) }
                        }
                        entry
                    },
                };
            };
        }

        // A group of one or two messages is hashed by the portable
        // compression; a step of eight lanes costs about two single
        // compressions, as for BLAKE-256.
        kernel3!(
            AVX2: "avx2x8", 8 lanes, drain at 2, narrow None,
            "avx2", ["avx2"], __m256i, Shuffles
        );

        kernel3!(
            /// Eight lanes in 256-bit registers with AVX-512VL's rotations.
            AVX512_NARROW: "avx512x8", 8 lanes, drain at 2, narrow None,
            "avx2,avx512f,avx512vl", ["avx2", "avx512f", "avx512vl"], __m256i, Vprord
        );

        kernel3!(
            AVX512: "avx512x16", 16 lanes, drain at 2, narrow Some(&AVX512_NARROW),
            "avx2,avx512f,avx512vl", ["avx2", "avx512f", "avx512vl"], __m512i, Vprord
        );

        /// Round `N`, its message schedule resolved at compile time.
        #[inline(always)]
        unsafe fn round<V: Lanes, R: Rotations<V>, const N: usize>(
            v: &mut [V; 16],
            r: R,
            m: &[V; 16],
        ) {
            let s = &SCHEDULE[N];
            g(v, r, [0, 4, 8, 12], m[s[0]], m[s[1]]);
            g(v, r, [1, 5, 9, 13], m[s[2]], m[s[3]]);
            g(v, r, [2, 6, 10, 14], m[s[4]], m[s[5]]);
            g(v, r, [3, 7, 11, 15], m[s[6]], m[s[7]]);
            g(v, r, [0, 5, 10, 15], m[s[8]], m[s[9]]);
            g(v, r, [1, 6, 11, 12], m[s[10]], m[s[11]]);
            g(v, r, [2, 7, 8, 13], m[s[12]], m[s[13]]);
            g(v, r, [3, 4, 9, 14], m[s[14]], m[s[15]]);
        }

        /// Folds every lane's block into its chaining value: counter 0,
        /// the lane's block length and flags.
        #[inline(always)]
        unsafe fn compress<V: Lanes, R: Rotations<V>>(
            s: &mut LaneStates,
            blocks: &[&[u8; BLOCK_LEN]; MAX_LANES],
            lens: &[u32; MAX_LANES],
            flags: &[u32; MAX_LANES],
            r: R,
        ) {
            let m = V::message(blocks, false);
            let mut v = [V::splat(0); 16];
            for (vw, words) in v.iter_mut().zip(&s.h) {
                *vw = V::load(words);
            }
            for (vw, iv) in v[8..12].iter_mut().zip(IV) {
                *vw = V::splat(iv);
            }
            // v[12], v[13]: the counter, always 0 for a single chunk.
            v[14] = V::load(lens);
            v[15] = V::load(flags);
            round::<V, R, 0>(&mut v, r, &m);
            round::<V, R, 1>(&mut v, r, &m);
            round::<V, R, 2>(&mut v, r, &m);
            round::<V, R, 3>(&mut v, r, &m);
            round::<V, R, 4>(&mut v, r, &m);
            round::<V, R, 5>(&mut v, r, &m);
            round::<V, R, 6>(&mut v, r, &m);
            for w in 0..8 {
                v[w].xor(v[w + 8]).store(&mut s.h[w]);
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
pub(crate) use x86::blake3 as blake3_x86;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Blake256;
    use std::vec;
    use std::vec::Vec;

    fn single(m: &Message<'_>) -> [u8; 32] {
        let mut h = Blake256::portable();
        h.update(m.head);
        h.update(m.body);
        h.finalize()
    }

    /// Every way the batch can be hashed on this machine: each kernel, and
    /// none.
    fn all_kernels() -> Vec<Option<Kernel>> {
        let mut all = vec![None];
        all.extend(kernels().map(Some));
        all
    }

    fn check(msgs: &[Message<'_>]) {
        let want: Vec<[u8; 32]> = msgs.iter().map(single).collect();
        for k in all_kernels() {
            let mut got = vec![[0u8; 32]; msgs.len()];
            digest_many(k, msgs, &mut got);
            let name = k.map_or("none", |k| k.name);
            for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                assert_eq!(
                    g,
                    w,
                    "{name}: message {i} of {} ({} + {} bytes)",
                    msgs.len(),
                    msgs[i].head.len(),
                    msgs[i].body.len()
                );
            }
        }
    }

    #[test]
    fn kernels_run_where_the_cpu_has_them() {
        let names: Vec<&str> = kernels().map(|k| k.name).collect();
        std::println!("multi-lane kernels checked: {names:?}");
        #[cfg(target_arch = "x86_64")]
        {
            assert_eq!(names.contains(&"avx2x8"), detected!("avx2"));
            let avx512 = detected!("avx2") && detected!("avx512f") && detected!("avx512vl");
            assert_eq!(names.contains(&"avx512x8"), avx512);
            assert_eq!(names.contains(&"avx512x16"), avx512);
            assert_eq!(names.contains(&"avx512rows4"), avx512);
        }
        // What hashing uses is the widest.
        assert_eq!(kernel().map(|k| k.name), kernels().last().map(|k| k.name));
        assert_eq!(
            crate::many_kernels().collect::<Vec<_>>(),
            [&["single"][..], &names].concat()
        );
    }

    #[test]
    fn batches_take_the_narrowest_kernel_that_holds_them() {
        let Some(widest) = kernel() else { return };
        let mut last = 0;
        for count in 1..=40 {
            let k = widest.for_count(count);
            // Enough lanes for all (or the widest), and no narrower
            // companion would have done.
            assert!(
                count <= k.lanes || k.name == widest.name,
                "{count}: {}",
                k.name
            );
            assert!(
                k.narrow.is_none_or(|n| count > n.lanes),
                "{count}: {}",
                k.name
            );
            assert!(k.lanes >= last);
            last = k.lanes;
        }
        #[cfg(target_arch = "x86_64")]
        if widest.name == "avx512x16" {
            let names: Vec<&str> = [1, 2, 4, 5, 8, 9, 16, 17]
                .map(|c| widest.for_count(c).name)
                .into();
            assert_eq!(
                names,
                [
                    "avx512rows4",
                    "avx512rows4",
                    "avx512rows4",
                    "avx512x8",
                    "avx512x8",
                    "avx512x16",
                    "avx512x16",
                    "avx512x16"
                ]
            );
        }
    }

    #[test]
    fn every_length_and_split_in_full_batches() {
        let data: Vec<u8> = (0..300u32).map(|i| (i * 131 + 7) as u8).collect();
        // Each batch has one length, split in every lane at a different
        // point; as many messages as the widest kernel has lanes, plus some,
        // so lanes are refilled.
        for len in 0..data.len() {
            let msgs: Vec<Message<'_>> = (0..21)
                .map(|i| {
                    let cut = (i * 37) % (len + 1);
                    Message::split(&data[..cut], &data[cut..len])
                })
                .collect();
            check(&msgs);
        }
    }

    #[test]
    fn equal_lengths_in_one_piece_move_in_lockstep() {
        // The uniform path: every length, and counts that leave the last
        // group full, partial, or small enough to finish single-stream.
        let data: Vec<u8> = (0..300 * 40u32).map(|i| (i * 29 + i / 7) as u8).collect();
        for len in 0..300 {
            for count in [2usize, 3, 16, 17, 18, 40] {
                let msgs: Vec<Message<'_>> = data
                    .chunks_exact(len.max(1))
                    .take(count)
                    .map(|c| Message::new(&c[..len]))
                    .collect();
                assert_eq!(uniform_length(&msgs), Some(len));
                check(&msgs);
            }
        }
    }

    #[test]
    fn mixed_lengths_refill_lanes() {
        let data: Vec<u8> = (0..5000u32).map(|i| (i ^ (i >> 5)) as u8).collect();
        for count in [0usize, 1, 2, 3, 7, 8, 9, 15, 16, 17, 33, 100] {
            let msgs: Vec<Message<'_>> = (0..count)
                .map(|i| {
                    let len = (i * 977 + i * i * 13) % data.len();
                    let cut = (i * 7) % (len + 1);
                    Message::split(&data[..cut], &data[cut..len])
                })
                .collect();
            check(&msgs);
        }
    }

    #[test]
    fn counters_past_32_bits_agree() {
        // The kernels take any counter: at such counters each lane must
        // match the single-stream compression.
        let block: Vec<u8> = (0..BLOCK as u32).map(|i| (i * 7 + 3) as u8).collect();
        let block: &[u8; BLOCK] = block.first_chunk().expect("64 bytes");
        let counters: [u64; MAX_LANES] =
            core::array::from_fn(|l| (1u64 << 32) + 512 * l as u64 + u64::from(l as u32 % 3));
        for k in kernels() {
            let mut s = LaneStates {
                h: [[0; MAX_LANES]; 8],
            };
            for (w, iv) in IV.iter().enumerate() {
                s.h[w] = [iv.wrapping_add(w as u32); MAX_LANES];
            }
            let start = s.h;
            (k.compress)(&mut s, &[block; MAX_LANES], &counters);
            for (l, counter) in counters.iter().enumerate().take(k.lanes) {
                let mut want: [u32; 8] = core::array::from_fn(|w| start[w][l]);
                compress_counted(crate::compress_portable, &mut want, block, *counter);
                let got: [u32; 8] = core::array::from_fn(|w| s.h[w][l]);
                assert_eq!(got, want, "{} lane {l}", k.name);
            }
        }
    }

    #[test]
    fn pad64_is_the_block_that_ends_a_64_byte_message() {
        let mut tail = [[0u8; BLOCK]; 2];
        assert_eq!(pad(&mut tail, 0, 8 * 64), (1, [0, 0]));
        let words: Vec<u32> = tail[0]
            .chunks_exact(4)
            .map(|w| u32::from_be_bytes([w[0], w[1], w[2], w[3]]))
            .collect();
        assert_eq!(words, PAD64);
        for k in kernels() {
            let mut s = LaneStates {
                h: [[0; MAX_LANES]; 8],
            };
            for (w, iv) in IV.iter().enumerate() {
                s.h[w] = core::array::from_fn(|l| iv ^ (l as u32 * 0x0101_0101));
            }
            let mut want = LaneStates { h: s.h };
            (k.compress)(&mut want, &[&tail[0]; MAX_LANES], &[0; MAX_LANES]);
            (k.pad64)(&mut s);
            assert_eq!(s.h[..], want.h[..], "{}", k.name);
        }
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_batches_match_one_stream(
            msgs in proptest::collection::vec(
                (proptest::collection::vec(proptest::num::u8::ANY, 0..300), 0usize..300),
                0..40,
            ),
        ) {
            let parts: Vec<Message<'_>> = msgs
                .iter()
                .map(|(d, cut)| {
                    let cut = (*cut).min(d.len());
                    Message::split(&d[..cut], &d[cut..])
                })
                .collect();
            check(&parts);
        }
    }
}
