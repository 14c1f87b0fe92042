#!/usr/bin/env python3
"""Single-stream BLAKE-256, ours against the reference, fastest samples.

    python3 benches/compare_blake256.py [--rounds 3] [--sizes 1024,16384,1048576]

For each round and size, runs dcr-blake256's `cycles` example with the size
(every compression this CPU runs, the fastest of 200 short samples each, and
which one the start-up calibration chose), then the reference's codecbench
(dcrd's crypto/blake256) on `Blake256/SIZE` with short runs, `-test.count
200`, its fastest. The fastest of many short samples is what a machine that
others keep busy stretches least, so the two sides can be compared when
criterion's averages cannot. Prints one line per round and size: the load
average before and after, the clock the example measured, and reference
time / ours for each compression.

Build the example first: cargo build --release -p dcr-blake256 --example cycles
"""
import argparse
import os
import re
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(os.path.dirname(ROOT), "shared")
NAMES = ("portable", "sse4.1", "avx", "avx512", "avx512tern")


def load():
    with open("/proc/loadavg") as f:
        return f.read().split()[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--sizes", default="1024,16384,1048576")
    ap.add_argument("--example", default=os.path.join(
        os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release/examples/cycles"))
    ap.add_argument("--reference", default=os.path.join(SHARED, "reference/bin/codecbench"))
    args = ap.parse_args()
    for rnd in range(1, args.rounds + 1):
        for size in (int(s) for s in args.sizes.split(",")):
            before = load()
            out = subprocess.run([args.example, str(size)], capture_output=True, text=True,
                                 check=True).stdout
            ours, chosen = {}, None
            for line in out.splitlines():
                m = re.match(r"^(\S+)\s+([\d.]+)\s+([\d.]+)\s+(\S+)\s+(\S+)(.*)$", line)
                if m and m.group(1) in NAMES:
                    ours[m.group(1)] = float(m.group(2))
                    if "chosen" in m.group(6):
                        chosen = m.group(1)
            clock = re.search(r"core clock: ([\d.]+) GHz", out).group(1)
            # About 170 us per run, as the example's samples.
            reps = max(1, 160 * 1024 // size)
            ref = subprocess.run([args.reference, "-test.run", "XXX", "-test.bench",
                                  f"Blake256/{size}$", "-test.benchtime", f"{reps}x",
                                  "-test.count", "200"], capture_output=True, text=True,
                                 check=True).stdout
            best = min(float(x) for x in re.findall(r"\s([\d.]+) ns/op", ref))
            print(f"round {rnd} size {size}: load {before}->{load()}, clock {clock} GHz, "
                  f"reference {best:.0f} ns; "
                  + ", ".join(f"{k} {v:.0f} ns ({best / v:.3f}x)" for k, v in ours.items())
                  + f"; chosen {chosen}", flush=True)


if __name__ == "__main__":
    main()
