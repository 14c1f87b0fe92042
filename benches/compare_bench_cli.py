#!/usr/bin/env python3
"""`dcrpeer bench --builtin` against criterion on the same work, in one
sitting: does the CLI reproduce the criterion figures?

    python3 benches/compare_bench_cli.py [--rounds N] [--min-time SECS]

Each round runs criterion's `levels` group (`cargo bench -p dcr-benches
--bench codec -- '^levels/'`: the same function, `dcr_peer_examples::bench::
work`, on the same data sets) and then `target/release/dcrpeer bench
--builtin --json`, so both see the same machine load; rounds alternate.
Criterion's figure is the median of its samples in that round (as
benches/medians.py prints); the CLI's its own median sample. The CLI runs
twice a round: with its own 1 ms samples, and with `--sample-time 100`,
samples as long as criterion's average one, which on a machine busy with
other work count the same waits criterion's do. The table gives, per
figure, the median over the rounds of each, the ratios CLI time /
criterion time and the lowest and highest ratio of single rounds, and says
which are within 10 %.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def criterion_medians(target):
    out = {}
    for path, _, files in os.walk(os.path.join(target, "criterion", "levels")):
        if not path.endswith(os.sep + "new") or "estimates.json" not in files:
            continue
        with open(os.path.join(path, "benchmark.json")) as f:
            bench = json.load(f)
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
                        "^levels/"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        crit = criterion_medians(a.target)
        got = []
        for sample in ("1", "100"):
            print(f"round {r + 1}/{a.rounds}: dcrpeer bench --builtin --sample-time {sample}",
                  file=sys.stderr, flush=True)
            out = subprocess.run([cli, "bench", "--builtin", "--json", "--min-time", a.min_time,
                                  "--sample-time", sample],
                                 cwd=ROOT, check=True, capture_output=True, text=True).stdout
            ours = {}
            for line in out.splitlines():
                d = json.loads(line)
                ours[f"levels/{d['level']}/{d['set']}"] = d["ns_per_pass"]
            got.append(ours)
        rounds.append((crit, got[0], got[1]))
    print(f"Medians of {a.rounds} alternating rounds; ratio = dcrpeer bench time / criterion "
          "time (rounds' range in brackets).\n")
    print("| figure | criterion | dcrpeer bench (1 ms samples) | ratio | "
          "dcrpeer bench --sample-time 100 | ratio |")
    print("| --- | --- | --- | --- | --- | --- |")

    def cell(name, side):
        c = [r[0][name] for r in rounds if name in r[0]]
        o = [r[side][name] for r in rounds if name in r[side]]
        ratios = [r[side][name] / r[0][name] for r in rounds if name in r[0] and name in r[side]]
        ratio = statistics.median(o) / statistics.median(c)
        mark = "" if abs(ratio - 1) <= 0.10 else " (beyond 10 %)"
        return (fmt(statistics.median(o)),
                f"{ratio:.3f} [{min(ratios):.3f}–{max(ratios):.3f}]{mark}")

    for name in sorted(rounds[0][1]):
        c = [r[0][name] for r in rounds if name in r[0]]
        if not c:
            continue
        short, long_ = cell(name, 1), cell(name, 2)
        print(f"| `{name}` | {fmt(statistics.median(c))} | {short[0]} | {short[1]} | "
              f"{long_[0]} | {long_[1]} |")


if __name__ == "__main__":
    main()
