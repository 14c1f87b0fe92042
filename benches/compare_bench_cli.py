#!/usr/bin/env python3
"""`dcrpeer bench --builtin` against criterion on the same work, in one
sitting: does the CLI reproduce the criterion figures?

    python3 benches/compare_bench_cli.py [--rounds N] [--min-time SECS]

Each round runs criterion's `levels` and `levels-cpu` groups (`cargo bench
-p dcr-benches --bench codec -- '^levels'`: the same function,
`dcr_peer_examples::bench::work`, on the same data sets; the second group
timed by the process's CPU time), then `target/release/dcrpeer bench
--builtin --json` three ways: wall clock with its own 1 ms samples, wall
clock with `--sample-time 100` (samples as long as criterion's average
one), and `--clock cpu`. Rounds alternate, so all see the same machine.

Criterion's figure is the median of its samples in that round (as
benches/medians.py prints); the CLI's its own median sample. On a quiet
machine the three CLI figures and criterion's agree. On a machine busy with
other work, wall-clock samples count the time others take the CPU: the
longer the sample, the more of it, so criterion's 100 ms samples read
slower than 1 ms ones; CPU time is not stretched, and `--clock cpu` is held
against `levels-cpu`. The table gives, per figure, the median over the
rounds of each, the ratios CLI time / criterion time with the lowest and
highest of single rounds, and marks those beyond 10 %.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# (column, dcrpeer bench arguments, criterion group it is held against)
WAYS = [
    ("wall, 1 ms samples", ["--sample-time", "1"], "levels"),
    ("wall, 100 ms samples", ["--sample-time", "100"], "levels"),
    ("cpu, 1 ms samples", ["--clock", "cpu"], "levels-cpu"),
]


def criterion_medians(target):
    out = {}
    for path, _, files in os.walk(os.path.join(target, "criterion")):
        if not path.endswith(os.sep + "new") or "estimates.json" not in files:
            continue
        with open(os.path.join(path, "benchmark.json")) as f:
            bench = json.load(f)
        if bench["group_id"] not in ("levels", "levels-cpu"):
            continue
        with open(os.path.join(path, "estimates.json")) as f:
            out[bench["full_id"]] = json.load(f)["median"]["point_estimate"]
    return out


def fmt(ns):
    for unit, div in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= div:
            return f"{ns / div:.4g} {unit}"
    return f"{ns:.4g} ns"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--min-time", default="1", help="dcrpeer bench --min-time")
    ap.add_argument("--target", default=os.environ.get("CARGO_TARGET_DIR",
                                                       os.path.join(ROOT, "target")))
    a = ap.parse_args()
    subprocess.run(["cargo", "build", "--release", "-p", "dcrpeer"], cwd=ROOT, check=True)
    subprocess.run(["cargo", "bench", "-p", "dcr-benches", "--bench", "codec", "--no-run"],
                   cwd=ROOT, check=True)
    cli = os.path.join(a.target, "release", "dcrpeer")
    rounds = []
    for r in range(a.rounds):
        print(f"round {r + 1}/{a.rounds}: criterion", file=sys.stderr, flush=True)
        subprocess.run(["cargo", "bench", "-q", "-p", "dcr-benches", "--bench", "codec", "--",
                        "^levels"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        got = {"criterion": criterion_medians(a.target)}
        for name, args, _ in WAYS:
            print(f"round {r + 1}/{a.rounds}: dcrpeer bench --builtin ({name})",
                  file=sys.stderr, flush=True)
            out = subprocess.run([cli, "bench", "--builtin", "--json", "--min-time", a.min_time]
                                 + args, cwd=ROOT, check=True, capture_output=True,
                                 text=True).stdout
            got[name] = {f"{d['level']}/{d['set']}": d["ns_per_pass"]
                         for d in map(json.loads, out.splitlines())}
        rounds.append(got)
    print(f"Medians of {a.rounds} alternating rounds; each ratio is dcrpeer bench's time over "
          "criterion's (single rounds' lowest and highest in brackets).\n")
    head = "| figure | criterion `levels` | criterion `levels-cpu` |"
    for name, _, _ in WAYS:
        head += f" dcrpeer bench, {name} | ratio |"
    print(head)
    print("| --- " * (3 + 2 * len(WAYS)) + "|")
    for fig in sorted(rounds[0][WAYS[0][0]]):
        crit = {g: [r["criterion"].get(f"{g}/{fig}") for r in rounds] for g in ("levels", "levels-cpu")}
        row = f"| `{fig}` |"
        for g in ("levels", "levels-cpu"):
            vals = [v for v in crit[g] if v]
            row += f" {fmt(statistics.median(vals)) if vals else '—'} |"
        for name, _, group in WAYS:
            ours = [r[name][fig] for r in rounds]
            pairs = [(o, c) for o, c in zip(ours, crit[group]) if c]
            if not pairs:
                row += f" {fmt(statistics.median(ours))} | — |"
                continue
            ratio = statistics.median(ours) / statistics.median(c for _, c in pairs)
            singles = [o / c for o, c in pairs]
            mark = "" if abs(ratio - 1) <= 0.10 else " **beyond 10 %**"
            row += (f" {fmt(statistics.median(ours))} | {ratio:.3f} "
                    f"[{min(singles):.2f}–{max(singles):.2f}]{mark} |")
        print(row)


if __name__ == "__main__":
    main()
