//! The start-up calibration that picks the single-stream compression by
//! measurement. Instruction sets alone do not say which is fastest: on AMD
//! Zen 4 `vprord` and `vpshufb` take two cycles where Intel's take one, so
//! the `vprord` build that leads on Intel is no faster there than the SSE4.1
//! one, and the split-rotation build (`avx512tern`) leads instead
//! (BENCHMARKS.md, "Hashing on every machine"). So the first hash times
//! every compression this CPU runs on the same kilobyte, keeps the fastest
//! whose digest is right, and every hash after uses it.

use crate::{Compression, BLOCK};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Bytes hashed per timed run: sixteen blocks, 2–5 µs on this machine's
/// vector compressions, long enough for the clock (tens of nanoseconds) and
/// short enough to fall between the scheduler's preemptions.
const SAMPLE: usize = 16 * BLOCK;

/// Timed runs of each candidate, taken in turn; each counts its fastest, so
/// a run stretched by an interrupt or another program does not decide.
/// The whole calibration takes about 0.2 ms here.
const RUNS: usize = 9;

/// BLAKE-256 of [`sample`], as the `blake-hash` crate computes it (checked
/// by a test). A candidate whose digest differs is never chosen.
const SAMPLE_DIGEST: [u8; 32] = [
    0x4f, 0xd6, 0x1c, 0xe5, 0x0d, 0x7a, 0xba, 0x26, 0x26, 0xa9, 0x58, 0xd8, 0x9b, 0x6c, 0xe8, 0x8d,
    0x79, 0xb8, 0x09, 0xe8, 0xce, 0x18, 0xed, 0x5b, 0x40, 0x9c, 0xa9, 0xcb, 0x39, 0xeb, 0x11, 0xcb,
];

/// At most this many candidates are measured (there are five on x86-64
/// with AVX-512): the calibration runs inside the first hash, and hashing
/// allocates nothing, so its records live in a fixed array.
const MAX_CANDIDATES: usize = 8;

/// The environment variable that names a compression to use instead of the
/// measured one (`DCR_BLAKE256=avx512`), for benchmarks that compare them.
/// A name this CPU does not run is ignored: the calibration measures.
pub const ENV: &str = "DCR_BLAKE256";

/// The calibration input: a kilobyte of varied bytes.
fn sample() -> [u8; SAMPLE] {
    let mut data = [0u8; SAMPLE];
    for (i, b) in (0u32..).zip(data.iter_mut()) {
        *b = (i.wrapping_mul(131).wrapping_add(7) ^ (i >> 8)) as u8;
    }
    data
}

/// One compression as the calibration found it.
#[derive(Clone, Copy, Debug)]
pub struct Timing {
    compression: Compression,
    correct: bool,
    best: Option<Duration>,
}

impl Timing {
    /// The compression measured.
    pub fn compression(&self) -> Compression {
        self.compression
    }

    /// Whether it gave the right digest of the calibration input. One that
    /// does not is neither timed nor chosen.
    pub fn correct(&self) -> bool {
        self.correct
    }

    /// Its fastest run on the calibration input (one kilobyte); `None`
    /// when it was not timed (wrong digest, or the choice was forced by
    /// [`ENV`]).
    pub fn best(&self) -> Option<Duration> {
        self.best
    }
}

/// How hashing chose its single-stream compression on this machine:
/// [`Calibration::get`] runs it once per process, on first use.
#[derive(Clone, Debug)]
pub struct Calibration {
    chosen: Compression,
    forced: bool,
    timings: [Timing; MAX_CANDIDATES],
    candidates: usize,
}

impl Calibration {
    /// The process's calibration, run on the first call (the first hash
    /// calls it too). About 0.2 ms; a program that must not pay it on its
    /// first message can call this at start-up.
    pub fn get() -> &'static Calibration {
        static CALIBRATION: OnceLock<Calibration> = OnceLock::new();
        CALIBRATION.get_or_init(|| {
            let mut candidates = [Compression::PORTABLE; MAX_CANDIDATES];
            let mut n = 0;
            for (slot, c) in candidates.iter_mut().zip(Compression::available()) {
                *slot = c;
                n += 1;
            }
            // Reading an unset variable allocates nothing.
            let forced = std::env::var(ENV).ok();
            calibrate(&candidates[..n], forced.as_deref())
        })
    }

    /// The compression every hash uses: the fastest correct one, or the
    /// one [`ENV`] named.
    pub fn chosen(&self) -> Compression {
        self.chosen
    }

    /// Whether [`ENV`] named the choice (nothing was timed).
    pub fn forced(&self) -> bool {
        self.forced
    }

    /// Every candidate, in [`Compression::available`]'s order.
    pub fn timings(&self) -> &[Timing] {
        &self.timings[..self.candidates]
    }
}

/// Checks every candidate's digest of [`sample`], then, unless `forced`
/// names a correct one, times the correct ones [`RUNS`] times each, in
/// turn, and chooses the fastest (the first listed on a tie). With no
/// correct candidate (never seen: the portable one is always listed) the
/// portable compression is chosen.
pub(crate) fn calibrate(candidates: &[Compression], forced: Option<&str>) -> Calibration {
    let data = sample();
    let unmeasured = Timing {
        compression: Compression::PORTABLE,
        correct: false,
        best: None,
    };
    let mut all = [unmeasured; MAX_CANDIDATES];
    let count = candidates.len().min(MAX_CANDIDATES);
    for (t, &compression) in all.iter_mut().zip(candidates) {
        *t = Timing {
            compression,
            correct: compression.digest(&data) == SAMPLE_DIGEST,
            best: None,
        };
    }
    let timings = &mut all[..count];
    let named = forced.and_then(|name| {
        timings
            .iter()
            .find(|t| t.correct && t.compression.name() == name)
            .map(|t| t.compression)
    });
    if named.is_none() {
        for _ in 0..RUNS {
            for t in timings.iter_mut().filter(|t| t.correct) {
                let start = Instant::now();
                core::hint::black_box(t.compression.digest(core::hint::black_box(&data)));
                let took = start.elapsed();
                t.best = Some(t.best.map_or(took, |b| b.min(took)));
            }
        }
    }
    let fastest = timings
        .iter()
        .filter(|t| t.correct)
        .min_by_key(|t| t.best)
        .map_or(Compression::PORTABLE, |t| t.compression);
    Calibration {
        chosen: named.unwrap_or(fastest),
        forced: named.is_some(),
        timings: all,
        candidates: count,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec;
    use std::vec::Vec;

    fn reference(data: &[u8]) -> [u8; 32] {
        use blake_hash::Digest;
        blake_hash::Blake256::digest(data).into()
    }

    /// A compression that does nothing: the fastest there is, and wrong.
    fn broken(_: &mut [u32; 8], _: &[u8], _: u64) {}

    const BROKEN: Compression = Compression {
        name: "broken",
        compress: broken,
    };

    #[test]
    fn the_sample_digest_is_blake256_of_the_sample() {
        assert_eq!(SAMPLE_DIGEST, reference(&sample()));
    }

    /// The chosen compression gives right digests: checked on every
    /// padding case and on whole kilobytes.
    fn assert_correct(c: Compression) {
        let data: Vec<u8> = (0..3000u32).map(|i| (i * 7 + 1) as u8).collect();
        for len in (0..300).chain([1024, 2047, 3000]) {
            assert_eq!(
                c.digest(&data[..len]),
                reference(&data[..len]),
                "{} at {len}",
                c.name()
            );
        }
    }

    #[test]
    fn the_process_calibration_chooses_a_correct_available_compression() {
        let cal = Calibration::get();
        let names: Vec<&str> = Compression::available().map(Compression::name).collect();
        assert!(names.contains(&cal.chosen().name()), "{cal:?}");
        assert_correct(cal.chosen());
        // What hashing uses is what the calibration chose.
        assert_eq!(Compression::best().name(), cal.chosen().name());
        assert_eq!(
            crate::compress_fn() as usize,
            cal.chosen().compress as usize
        );
        assert_eq!(cal.timings().len(), names.len());
        assert!(names.len() <= MAX_CANDIDATES);
        if !cal.forced() {
            // Every candidate was correct and timed, and none beat the
            // choice.
            let chosen = cal
                .timings()
                .iter()
                .find(|t| t.compression().name() == cal.chosen().name())
                .and_then(Timing::best)
                .unwrap();
            for t in cal.timings() {
                assert!(t.correct(), "{t:?}");
                assert!(t.best().unwrap() >= chosen, "{cal:?}");
            }
        }
        std::println!("{cal:#?}");
    }

    #[test]
    fn a_wrong_compression_is_never_chosen_however_fast() {
        let mut candidates: Vec<Compression> = Compression::available().collect();
        candidates.push(BROKEN);
        candidates.insert(0, BROKEN);
        for _ in 0..5 {
            let cal = calibrate(&candidates, None);
            assert_ne!(cal.chosen().name(), "broken");
            assert_correct(cal.chosen());
            let wrong: Vec<&Timing> = cal.timings().iter().filter(|t| !t.correct()).collect();
            assert_eq!(wrong.len(), 2);
            assert!(wrong.iter().all(|t| t.best().is_none()));
        }
        // Not even when named.
        let cal = calibrate(&candidates, Some("broken"));
        assert_ne!(cal.chosen().name(), "broken");
        assert!(!cal.forced());
        // With no correct candidate at all, the portable one.
        let cal = calibrate(&[BROKEN], None);
        assert_eq!(cal.chosen().name(), "portable");
    }

    #[test]
    fn the_environment_names_a_compression_this_cpu_runs() {
        let candidates: Vec<Compression> = Compression::available().collect();
        for c in &candidates {
            let cal = calibrate(&candidates, Some(c.name()));
            assert!(cal.forced());
            assert_eq!(cal.chosen().name(), c.name());
            assert!(cal.timings().iter().all(|t| t.best().is_none()));
        }
        // A name it does not run: measured as usual.
        let cal = calibrate(&candidates, Some("avx1024"));
        assert!(!cal.forced());
        assert!(cal.timings().iter().all(|t| t.best().is_some()));
        assert_correct(cal.chosen());
    }

    #[test]
    fn the_fastest_candidate_wins() {
        // The portable compression against itself slowed down tenfold: the
        // calibration must take the fast one whichever order they come in.
        fn slow(h: &mut [u32; 8], blocks: &[u8], t: u64) {
            for _ in 0..10 {
                let mut scratch = *h;
                crate::compress_portable(&mut scratch, blocks, t);
                core::hint::black_box(scratch);
            }
            crate::compress_portable(h, blocks, t)
        }
        let slow = Compression {
            name: "slow",
            compress: slow,
        };
        for candidates in [
            vec![slow, Compression::PORTABLE],
            vec![Compression::PORTABLE, slow],
        ] {
            let cal = calibrate(&candidates, None);
            assert_eq!(cal.chosen().name(), "portable", "{cal:?}");
        }
    }
}
