#!/usr/bin/env python3
"""Runs the peer bench and the reference's (dcrd's peer package, the
prebuilt `peerbench` in ../shared/reference/bin) in one sitting,
alternating them, and prints each figure of each round and the ratio of
their medians (ours over the reference's; for latency and memory, the
reference's over ours, so above 1 always means ahead).

    python3 benches/compare_peer.py [--rounds N] [--peerbench PATH] [-- BENCH ARGS]

Arguments after `--` go to both benches (for example `--only ping`).
"""

import argparse
import os
import re
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# figure -> (pattern in our output, pattern in the reference's, higher is better)
FIGURES = {
    "handshake latency, median (us)": (r"handshake latency: median ([\d.]+) us", r"handshake latency: mean [\d.]+ us, median ([\d.]+) us", False),
    "ping/pong round trips/s": (r"ping/pong: ([\d.]+) round trips/s", r"ping/pong: ([\d.]+) round trips/s", True),
    "inv x1000 messages/s": (r"inv x1000: ([\d.]+) messages/s", r"inv x1000: ([\d.]+) messages/s", True),
    "inv x1000 CPU per message (us)": (r"inv x1000: .*?([\d.]+) us CPU per message", r"inv x1000: .*?([\d.]+) us CPU per message", False),
    "block ~1 MB messages/s": (r"block ~1 MB: ([\d.]+) messages/s", r"block ~1 MB: ([\d.]+) messages/s", True),
    "block ~1 MB CPU per message (us)": (r"block ~1 MB: .*?([\d.]+) us CPU per message", r"block ~1 MB: .*?([\d.]+) us CPU per message", False),
    "idle pair resident memory (KiB)": (r"([\d.]+) KiB resident per pair", r"VmRSS growth ([\d.]+) KiB per pair", False),
}

# Our bench's flags and the reference's spell the same things differently.
GO_FLAGS = {"--only": "-only", "--pairs": "-pairs", "--quick": "-quick"}


def run(cmd):
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{out.stdout}\n{out.stderr}")
    return out.stdout


def figures(text, side):
    got = {}
    for name, pats in FIGURES.items():
        m = re.search(pats[side], text)
        if m:
            got[name] = float(m.group(1))
    return got


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--peerbench", default=os.path.join(ROOT, "..", "shared", "reference", "bin", "peerbench"))
    ap.add_argument("rest", nargs="*")
    a = ap.parse_args()
    if not os.path.exists(a.peerbench):
        sys.exit(f"no reference bench at {a.peerbench} (see ../shared/reference/README.md)")
    go_args = [GO_FLAGS.get(x, x) for x in a.rest]
    run(["cargo", "bench", "-p", "dcr-benches", "--bench", "peer", "--no-run"])
    ours, theirs = [], []
    for r in range(a.rounds):
        ours.append(figures(run(["cargo", "bench", "-q", "-p", "dcr-benches", "--bench", "peer", "--"] + a.rest), 0))
        theirs.append(figures(run([a.peerbench] + go_args), 1))
        print(f"round {r + 1} of {a.rounds} done", file=sys.stderr)
    print(f"| figure | reference ({a.rounds} rounds) | dcr-rs ({a.rounds} rounds) | ahead by |")
    print("| --- | --- | --- | --- |")
    for name, (_, _, higher) in FIGURES.items():
        o = [f[name] for f in ours if name in f]
        t = [f[name] for f in theirs if name in f]
        if not o or not t:
            continue
        mo, mt = statistics.median(o), statistics.median(t)
        ratio = mo / mt if higher else mt / mo
        fmt = lambda xs: ", ".join(f"{x:g}" for x in xs)
        print(f"| {name} | {fmt(t)} | {fmt(o)} | {ratio:.2f}x |")


if __name__ == "__main__":
    main()
