//! Where each single-stream compression stands against the bound of its
//! dependency chain, on this CPU, in cycles. A machine without hardware
//! counters (a VM) still has a clock: a chain of dependent `vpaddd`, one
//! cycle each everywhere, times the core's cycle; chains of the other
//! instructions the G function uses give their latencies; and the G
//! function's chain, counted from those latencies, gives each
//! compression's bound per 64-byte block.
//!
//! `cargo run --release -p dcr-blake256 --example cycles [-- BYTES]`
//!
//! Each figure is the fastest of many short samples, so a busy machine
//! stretches it less than an average would.
//!
//! BENCHMARKS.md ("Hashing on every machine") has its output on the
//! project's machine.

#[cfg(target_arch = "x86_64")]
fn main() {
    x86::main()
}

#[cfg(not(target_arch = "x86_64"))]
fn main() {
    println!("x86-64 only: the other targets have the portable compression alone");
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use dcr_blake256::{Calibration, Compression};
    use std::hint::black_box;
    use std::time::Instant;

    /// Nanoseconds per pass of `$body`, 100 passes unrolled in a loop,
    /// fastest of 20 runs. The bodies use xmm0..xmm8 only, VEX or EVEX.
    macro_rules! per_pass {
        ($body:literal) => {{
            const PASSES: u64 = 1_000_000;
            let mut best = f64::MAX;
            for _ in 0..20 {
                let start = Instant::now();
                // SAFETY: register-only instructions on xmm0..xmm8, all
                // declared clobbered; the caller checked the instruction
                // sets (AVX-512F and VL for the EVEX ones).
                unsafe {
                    std::arch::asm!(
                        "vpxor xmm0, xmm0, xmm0",
                        "vpxor xmm1, xmm1, xmm1",
                        "2:",
                        ".rept 100",
                        $body,
                        ".endr",
                        "dec {n}",
                        "jnz 2b",
                        n = inout(reg) PASSES / 100 => _,
                        out("xmm0") _, out("xmm1") _, out("xmm2") _, out("xmm3") _,
                        out("xmm4") _, out("xmm5") _, out("xmm6") _, out("xmm7") _,
                        out("xmm8") _,
                        options(nostack, nomem),
                    );
                }
                best = best.min(start.elapsed().as_nanos() as f64 / PASSES as f64);
            }
            best
        }};
    }

    pub fn main() {
        let avx512 = is_x86_feature_detected!("avx512f") && is_x86_feature_detected!("avx512vl");
        if !is_x86_feature_detected!("avx") {
            println!("needs AVX for the timing chains");
            return;
        }
        // One cycle: a dependent vpaddd.
        let cycle = per_pass!("vpaddd xmm0, xmm0, xmm1");
        println!(
            "core clock: {:.3} GHz ({:.4} ns per dependent vpaddd)",
            1.0 / cycle,
            cycle
        );
        let lat = |ns: f64| ns / cycle;
        let add = 1.0;
        let xor = lat(per_pass!("vpxor xmm0, xmm0, xmm1"));
        let shift = lat(per_pass!("vpsrld xmm0, xmm0, 7"));
        let pshufb = lat(per_pass!("vpshufb xmm0, xmm0, xmm1"));
        let pshufd = lat(per_pass!("vpshufd xmm0, xmm0, 0x39"));
        let or = lat(per_pass!("vpor xmm0, xmm0, xmm1"));
        println!("latency in cycles: vpaddd 1, vpxor {xor:.2}, vpsrld {shift:.2}, vpor {or:.2}, vpshufb {pshufb:.2}, vpshufd {pshufd:.2}");
        // Throughput: eight independent instructions per pass.
        let per_cycle = |ns: f64| 8.0 / lat(ns);
        let adds = per_cycle(per_pass!(
            "vpaddd xmm1, xmm0, xmm0\nvpaddd xmm2, xmm0, xmm0\nvpaddd xmm3, xmm0, xmm0\nvpaddd xmm4, xmm0, xmm0\nvpaddd xmm5, xmm0, xmm0\nvpaddd xmm6, xmm0, xmm0\nvpaddd xmm7, xmm0, xmm0\nvpaddd xmm8, xmm0, xmm0"
        ));
        let shifts = per_cycle(per_pass!(
            "vpsrld xmm1, xmm0, 3\nvpsrld xmm2, xmm0, 3\nvpsrld xmm3, xmm0, 3\nvpsrld xmm4, xmm0, 3\nvpsrld xmm5, xmm0, 3\nvpsrld xmm6, xmm0, 3\nvpsrld xmm7, xmm0, 3\nvpsrld xmm8, xmm0, 3"
        ));
        let shuffles = per_cycle(per_pass!(
            "vpshufd xmm1, xmm0, 3\nvpshufd xmm2, xmm0, 3\nvpshufd xmm3, xmm0, 3\nvpshufd xmm4, xmm0, 3\nvpshufd xmm5, xmm0, 3\nvpshufd xmm6, xmm0, 3\nvpshufd xmm7, xmm0, 3\nvpshufd xmm8, xmm0, 3"
        ));
        let mixed = per_cycle(per_pass!(
            "vpsrld xmm1, xmm0, 3\nvpsrld xmm2, xmm0, 3\nvpsrld xmm3, xmm0, 3\nvpsrld xmm4, xmm0, 3\nvpshufd xmm5, xmm0, 3\nvpshufd xmm6, xmm0, 3\nvpshufd xmm7, xmm0, 3\nvpshufd xmm8, xmm0, 3"
        ));
        println!("per cycle: vpaddd {adds:.2}, vpsrld {shifts:.2}, vpshufd {shuffles:.2}, half vpsrld half vpshufd {mixed:.2}");
        let (prord, ternlog) = if avx512 {
            let prord = lat(per_pass!("vprord xmm0, xmm0, 7"));
            let ternlog = lat(per_pass!("vpternlogd xmm0, xmm1, xmm2, 0x96"));
            println!("                   vprord {prord:.2}, vpternlogd {ternlog:.2}");
            (prord, ternlog)
        } else {
            (f64::NAN, f64::NAN)
        };

        // The chain of one G step (four G functions side by side, two
        // halves): per half, a += b (the message word was added before b
        // arrived), d = ror(d ^ a), c += d, b = ror(b ^ c). 28 steps per
        // block. The reference's AVX build (dcrd's crypto/blake256) also
        // moves row b to line up the diagonals, one vpshufd on the chain
        // twice per round.
        let steps = 28.0;
        let per_step = |rot16: f64, rot12: f64, rot8: f64, rot7: f64| {
            4.0 * add + 4.0 * xor + rot16 + rot12 + rot8 + rot7
        };
        let shift_or = shift + or;
        let sse = steps * per_step(pshufb, shift_or, pshufb, shift_or);
        let bounds = [
            ("portable", f64::NAN),
            ("sse4.1", sse),
            ("avx", sse),
            ("avx512", steps * per_step(prord, prord, prord, prord)),
            // The xor and rotation of the new word: two shifts side by
            // side, then the three-way xor.
            ("avx512tern", steps * (4.0 * add + 4.0 * (shift + ternlog))),
        ];
        println!(
            "reference (dcrd AVX) chain bound: {:.0} cycles per block",
            sse + 14.0 * 2.0 * pshufd
        );

        // The message size: the first argument, 16 KiB unless given.
        let size: usize = std::env::args()
            .nth(1)
            .and_then(|a| a.parse().ok())
            .unwrap_or(16384);
        let data = vec![0x5au8; size];
        let blocks = (data.len() / 64 + 1) as f64;
        // Each sample about 300 µs of hashing; the fastest of 200 counts.
        let inner = (160 * 1024 / size.max(1)).max(1);
        let chosen = Calibration::get().chosen().name();
        println!(
            "\n{:<11} {:>12} {:>14} {:>12} {:>9}",
            "compression",
            format!("ns / {size} B"),
            "cycles / block",
            "chain bound",
            "measured / bound"
        );
        for c in Compression::available() {
            let mut best = f64::MAX;
            for _ in 0..200 {
                let start = Instant::now();
                for _ in 0..inner {
                    black_box(c.digest(black_box(&data)));
                }
                best = best.min(start.elapsed().as_nanos() as f64 / inner as f64);
            }
            let cycles = best / blocks / cycle;
            let bound = bounds
                .iter()
                .find(|(n, _)| *n == c.name())
                .map_or(f64::NAN, |b| b.1);
            println!(
                "{:<11} {:>12.0} {:>14.1} {:>12.0} {:>9.2}{}",
                c.name(),
                best,
                cycles,
                bound,
                cycles / bound,
                if c.name() == chosen {
                    "  <- chosen"
                } else {
                    ""
                }
            );
        }
    }
}
