#!/usr/bin/env python3
"""Prints BENCHMARKS.md table rows from criterion's saved results: the
median of each bench's samples with its 95 % interval, and the throughput
at the median. Criterion's own console line shows its slope estimate
instead; the tables in BENCHMARKS.md are medians.

    python3 benches/medians.py 'REGEX' [TARGET_DIR]

REGEX selects bench ids (e.g. '^block/'); results are read from
TARGET_DIR/criterion (default: target/criterion), as the last run left them.
"""
import json
import os
import re
import sys


def fmt_time(ns):
    for unit, div in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= div:
            return f"{ns / div:.4g} {unit}"
    return f"{ns:.4g} ns"


def fmt_rate(throughput, ns):
    if not throughput:
        return ""
    if "Bytes" in throughput:
        per_s = throughput["Bytes"] / (ns / 1e9)
        for unit, div in (("GiB/s", 2**30), ("MiB/s", 2**20), ("KiB/s", 2**10)):
            if per_s >= div:
                return f"{per_s / div:.4g} {unit}"
        return f"{per_s:.4g} B/s"
    if "Elements" in throughput:
        return f"{throughput['Elements'] / (ns / 1e9):.4g} elements/s"
    return ""


def main():
    pattern = re.compile(sys.argv[1] if len(sys.argv) > 1 else "")
    root = os.path.join(sys.argv[2] if len(sys.argv) > 2 else "target", "criterion")
    rows = []
    for path, _, files in os.walk(root):
        if not path.endswith(os.sep + "new") or "estimates.json" not in files:
            continue
        bench = json.load(open(os.path.join(path, "benchmark.json")))
        if not pattern.search(bench["full_id"]):
            continue
        median = json.load(open(os.path.join(path, "estimates.json")))["median"]
        ci = median["confidence_interval"]
        rows.append((bench["full_id"], median["point_estimate"], ci["lower_bound"],
                     ci["upper_bound"], bench.get("throughput")))
    for name, mid, lo, hi, tp in sorted(rows):
        print(f"| `{name}` | {fmt_time(mid)} | {fmt_time(lo)} – {fmt_time(hi)} | {fmt_rate(tp, mid)} |")


if __name__ == "__main__":
    main()
