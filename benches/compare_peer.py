#!/usr/bin/env python3
"""Runs the peer bench and the reference's (dcrd's peer package, the
prebuilt `peerbench` in ../shared/reference/bin) in one sitting,
alternating them, and prints each figure of each round and the ratio of
their medians (ours over the reference's; for latency and memory, the
reference's over ours, so above 1 always means ahead).

A second table sets each figure beside its floors, which our bench
measures in the same run (`dcr_benches::floors`): the same traffic with no
peer logic. Each fraction is the figure over its floor for rates, the
floor over the figure for times, so 1 is the floor reached: ours per round
(figure and floor of one run), the reference's from its median figure and
our median floor.

Ping/pong is measured in two layouts. The rows that name none are the
default one: both peers in one multi-thread runtime of two workers, beside
the reference as it runs (GOMAXPROCS unset) and beside the async echo on
the same layout and the blocking floors. The rows marked "one thread" are
the like-for-like pair for the one-core blocking floor: our bench with
`--one-thread` (both peers on one thread, so on one core at a time), the
reference with GOMAXPROCS=1, the async echo on the same one thread, and
the blocking ping-pong with both ends pinned to one core. They run in the
same rounds, unless `--only` names another part. inv and block are run on
one thread too (ours `--one-thread`, the reference with GOMAXPROCS=1) and
their CPU per message set beside the hashing bound in a table of their
own: the bound has no wake-ups of another thread, and neither has that
layout.

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

# floor -> (pattern in our output, the figure it bounds)
FLOORS = {
    "blocking std::net ping-pong, both ends on one core": (r"ping/pong floor: blocking std::net, one core: ([\d.]+) round trips/s", "ping/pong round trips/s"),
    "blocking std::net ping-pong, one core each": (r"ping/pong floor: blocking std::net, two cores: ([\d.]+) round trips/s", "ping/pong round trips/s"),
    "async echo, same runtime layout": (r"ping/pong floor: async echo, same layout: ([\d.]+) round trips/s", "ping/pong round trips/s"),
    "inv hashing bound, one side per core (messages/s)": (r"inv x1000 floor: hashing bound ([\d.]+) messages/s", "inv x1000 messages/s"),
    "inv hashing CPU, both sides (us per message)": (r"inv x1000 floor: .*?; ([\d.]+) us CPU per message", "inv x1000 CPU per message (us)"),
    "block hashing bound, one side per core (messages/s)": (r"block ~1 MB floor: hashing bound ([\d.]+) messages/s", "block ~1 MB messages/s"),
    "block hashing CPU, both sides (us per message)": (r"block ~1 MB floor: .*?; ([\d.]+) us CPU per message", "block ~1 MB CPU per message (us)"),
    "bare TCP connect + accept, median (us)": (r"handshake floor: bare TCP connect median ([\d.]+) us", "handshake latency, median (us)"),
}

# The like-for-like ping/pong: figure and floors of the `--one-thread` run.
ONE_THREAD = "ping/pong round trips/s, one thread (ours --one-thread, reference GOMAXPROCS=1)"
ONE_THREAD_FLOORS = {
    "blocking std::net ping-pong, both ends on one core (one-thread run)": r"ping/pong floor: blocking std::net, one core: ([\d.]+) round trips/s",
    "async echo, one thread": r"ping/pong floor: async echo, same layout: ([\d.]+) round trips/s",
}

# Our bench's flags and the reference's spell the same things differently.
GO_FLAGS = {"--only": "-only", "--pairs": "-pairs", "--quick": "-quick"}


def run(cmd, env=None):
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True,
                         env=None if env is None else {**os.environ, **env})
    if out.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{out.stdout}\n{out.stderr}")
    return out.stdout


def figures(text, side):
    got = {}
    for name, pats in FIGURES.items():
        m = re.search(pats[side], text)
        if m:
            got[name] = float(m.group(1))
    if side == 0:
        for name, (pat, _) in FLOORS.items():
            m = re.search(pat, text)
            if m:
                got[name] = float(m.group(1))
    return got


def one_thread_figures(ours_text, ref_text):
    """The one-thread ping figure of both sides and our floors of that run."""
    got = {}
    m = re.search(FIGURES["ping/pong round trips/s"][0], ours_text)
    if m:
        got[(0, ONE_THREAD)] = float(m.group(1))
    m = re.search(FIGURES["ping/pong round trips/s"][1], ref_text)
    if m:
        got[(1, ONE_THREAD)] = float(m.group(1))
    for name, pat in ONE_THREAD_FLOORS.items():
        m = re.search(pat, ours_text)
        if m:
            got[(0, name)] = float(m.group(1))
    return got


def without_only(args):
    """`args` less any `--only NAME`."""
    out, skip = [], False
    for x in args:
        if skip:
            skip = False
        elif x == "--only":
            skip = True
        else:
            out.append(x)
    return out


def fraction(figure, floor, higher):
    """The figure as a fraction of its floor: 1 is the floor reached."""
    return figure / floor if higher else floor / figure


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
    only = a.rest[a.rest.index("--only") + 1] if "--only" in a.rest[:-1] else None
    one_thread = only in (None, "ping")
    # inv and block by CPU on one thread as well: no cross-thread wake-ups,
    # as the hashing bound has none.
    one_thread_parts = [p for p in ("inv", "block") if only in (None, p)]
    bench = ["cargo", "bench", "-q", "-p", "dcr-benches", "--bench", "peer", "--"]
    ours, theirs, alone = [], [], []
    ours1, theirs1 = [], []
    for r in range(a.rounds):
        ours.append(figures(run(bench + a.rest), 0))
        theirs.append(figures(run([a.peerbench] + go_args), 1))
        if one_thread:
            rest = without_only(a.rest)
            alone.append(one_thread_figures(
                run(bench + rest + ["--one-thread", "--only", "ping"]),
                run([a.peerbench] + [GO_FLAGS.get(x, x) for x in rest] + ["-only", "ping"],
                    env={"GOMAXPROCS": "1"})))
        o1, t1 = {}, {}
        for part in one_thread_parts:
            rest = without_only(a.rest)
            o1.update(figures(run(bench + rest + ["--one-thread", "--only", part]), 0))
            t1.update(figures(run([a.peerbench] + [GO_FLAGS.get(x, x) for x in rest] + ["-only", part],
                                  env={"GOMAXPROCS": "1"}), 1))
        if one_thread_parts:
            ours1.append(o1)
            theirs1.append(t1)
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
    o = [f[(0, ONE_THREAD)] for f in alone if (0, ONE_THREAD) in f]
    t = [f[(1, ONE_THREAD)] for f in alone if (1, ONE_THREAD) in f]
    if o and t:
        fmt = lambda xs: ", ".join(f"{x:g}" for x in xs)
        ratio = statistics.median(o) / statistics.median(t)
        print(f"| {ONE_THREAD} | {fmt(t)} | {fmt(o)} | {ratio:.2f}x |")
    print()
    print("| figure | floor | floor, each round | dcr-rs / floor (rounds) | reference / floor |")
    print("| --- | --- | --- | --- | --- |")
    for floor, (_, figure) in FLOORS.items():
        higher = FIGURES[figure][2]
        rounds = [f for f in ours if floor in f and figure in f]
        if not rounds:
            continue
        mine = [fraction(f[figure], f[floor], higher) for f in rounds]
        median_floor = statistics.median(f[floor] for f in rounds)
        t = [f[figure] for f in theirs if figure in f]
        ref = f"{fraction(statistics.median(t), median_floor, higher):.2f}" if t else "—"
        fmt = lambda xs: ", ".join(f"{x:g}" for x in xs)
        print(f"| {figure} | {floor} | {fmt(f[floor] for f in rounds)} | "
              f"**{statistics.median(mine):.2f}** ({fmt(round(x, 2) for x in mine)}) | {ref} |")
    # The like-for-like ping/pong: figure and floor from the same one-thread run.
    for floor in ONE_THREAD_FLOORS:
        rounds = [f for f in alone if (0, floor) in f and (0, ONE_THREAD) in f]
        if not rounds:
            continue
        mine = [f[(0, ONE_THREAD)] / f[(0, floor)] for f in rounds]
        median_floor = statistics.median(f[(0, floor)] for f in rounds)
        t = [f[(1, ONE_THREAD)] for f in alone if (1, ONE_THREAD) in f]
        ref = f"{statistics.median(t) / median_floor:.2f}" if t else "—"
        fmt = lambda xs: ", ".join(f"{x:g}" for x in xs)
        print(f"| {ONE_THREAD} | {floor} | {fmt(f[(0, floor)] for f in rounds)} | "
              f"**{statistics.median(mine):.2f}** ({fmt(round(x, 2) for x in mine)}) | {ref} |")
    if alone:
        print()
        print("Ping/pong rows that name no layout: ours in the default layout (one "
              "multi-thread runtime, two workers), the reference as it runs.")
    if ours1:
        fmt = lambda xs: ", ".join(f"{x:g}" for x in xs)
        print()
        print("inv and block on one thread (ours `--one-thread`, the reference with GOMAXPROCS=1):")
        print()
        print("| figure, one thread | reference | dcr-rs | ahead by | floor, each round | dcr-rs / floor (rounds) | reference / floor |")
        print("| --- | --- | --- | --- | --- | --- | --- |")
        for floor, (_, figure) in FLOORS.items():
            if "CPU" not in figure:
                continue
            rounds = [f for f in ours1 if floor in f and figure in f]
            t = [f[figure] for f in theirs1 if figure in f]
            if not rounds or not t:
                continue
            o = [f[figure] for f in rounds]
            mine = [fraction(f[figure], f[floor], False) for f in rounds]
            median_floor = statistics.median(f[floor] for f in rounds)
            ahead = statistics.median(t) / statistics.median(o)
            print(f"| {figure} | {fmt(t)} | {fmt(o)} | {ahead:.2f}x | {fmt(f[floor] for f in rounds)} | "
                  f"**{statistics.median(mine):.2f}** ({fmt(round(x, 2) for x in mine)}) | "
                  f"{fraction(statistics.median(t), median_floor, False):.2f} |")


if __name__ == "__main__":
    main()
