#!/usr/bin/env python3
"""Ours against the reference on the same codec work, in one sitting.

    python3 benches/compare-codec.py [--rounds N] [--benchtime 1s]

Each round runs our `cargo bench -p dcr-benches --bench codec` on the benches
below, then the reference's codecbench (dcrd's wire, crypto/blake256 and
blockchain/standalone) on their counterparts, so both sides see the same
machine load; rounds alternate ours, reference, ours, reference. Ours is the
median of criterion's samples in that round (as benches/medians.py prints),
the reference Go's ns/op. The table gives, per figure, the median over the
rounds of each side and the ratio reference time / our time (how many times
the reference's speed ours runs at), with the lowest and highest ratio of
single rounds.

The reference side is this project's copy of codecbench, benches/go (the
shared reference's codecbench and, added, `BenchmarkRoots`: decode + every
transaction hash + both roots checked, and a merkle root of 4,096 hashes, by
dcrd's own functions). The script builds it into target/go-codecbench when
it finds Go 1.25 and dcrd's source (benches/go/README.md says how to get
them offline): `--go` or $GO (default `go` on PATH), `--dcrd-src` or
$DCRD_SRC (dcrd at the corpus commit, 036b7090), `--go-modules` or
$GO_MODULES (lukechampine.com/blake3, klauspost/cpuid/v2 and an empty
go-spew module, as folders blake3, cpuid, go-spew). Without them it falls
back to the shared reference's codecbench (`--reference`), which lacks
`BenchmarkRoots`: those rows then show no reference figure.
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(os.path.dirname(ROOT), "shared")

# (what, our bench id, reference benchmark or None, note)
PAIRS = [
    ("decode block 432100", "block/decode/mainnet-432100",
     "BenchmarkBlock/BtcDecode-bytes.Reader/mainnet-432100", ""),
    ("decode the 169-block chain", "block/decode/chain-169-blocks-stream",
     "BenchmarkBlock/BtcDecode-bytes.Reader/chain-169-blocks-stream", ""),
    ("decode the 169 blocks into owned transactions", "block/decode+owned/chain-169-blocks-stream",
     "BenchmarkBlock/BtcDecode-bytes.Reader/chain-169-blocks-stream", ""),
    ("decode the 1.3 MB synthetic block", "block/decode/synthetic-1.3MB",
     "BenchmarkBlock/BtcDecode-bytes.Reader/synthetic-1.3MB", ""),
    ("frame: split + checksum + decode, 1.3 MB", "block/frame-split+checksum+decode/synthetic-1.3MB",
     "BenchmarkBlock/ReadMessageN/synthetic-1.3MB", ""),
    ("checksum alone, 1.3 MB", "block/checksum-only/synthetic-1.3MB",
     "BenchmarkBlock/checksum-only/synthetic-1.3MB", ""),
    ("decode + every tx hash, 432100 (one by one)", "block/decode+hash-all-txs/mainnet-432100",
     "BenchmarkBlock/decode+hash-all-txs/mainnet-432100", ""),
    ("decode + every tx hash, 432100 (many at a time)",
     "block/decode+hash-all-txs-many/mainnet-432100",
     "BenchmarkBlock/decode+hash-all-txs/mainnet-432100", ""),
    ("decode + every tx hash + both roots checked, 432100",
     "block/decode+hash-all-txs+roots/mainnet-432100",
     "BenchmarkRoots/decode+hash-all-txs+roots/mainnet-432100", ""),
    ("decode + every tx hash + both roots checked, 169-block chain",
     "block/decode+hash-all-txs+roots/chain-169-blocks-stream",
     "BenchmarkRoots/decode+hash-all-txs+roots/chain-169-blocks-stream", ""),
    ("decode + every tx hash + both roots checked, 1.3 MB synthetic",
     "block/decode+hash-all-txs+roots/synthetic-1.3MB",
     "BenchmarkRoots/decode+hash-all-txs+roots/synthetic-1.3MB", ""),
    ("merkle root of 4,096 hashes", "many/merkle-root/4096", "BenchmarkRoots/merkle-root/4096",
     "reference: standalone.CalcMerkleRoot"),
    ("block header hash", "parts/hash/block", "BenchmarkParts/hash/block", ""),
    ("tx prefix hash (largest tx of 432100)", "parts/hash/tx-prefix-from-bytes",
     "BenchmarkParts/hash/tx-prefix", ""),
    ("tx full hash (same tx)", "parts/hash/tx-full-from-bytes", "BenchmarkParts/hash/tx-full", ""),
    ("header decode", "parts/header/decode", "BenchmarkParts/header/decode", ""),
] + [
    (f"tx decode, {s}", f"parts/tx/decode/{s}", f"BenchmarkParts/tx/decode/{s}", "")
    for s in ("Full", "NoWitness", "OnlyWitness")
] + [
    (f"BLAKE-256 of {n} B", f"parts/blake256/{n}", f"BenchmarkBlake256/{n}", "")
    for n in (32, 64, 180, 1024, 8192, 16384, 1048576)
]

OURS_FILTER = "^(block/|many/merkle|parts/(blake256/|hash/|header/|tx/))"
REFERENCE_FILTER = "Block|Blake256|Parts|Roots"


def our_medians(target):
    """Criterion's saved results: bench id -> median ns of the last run."""
    out = {}
    root = os.path.join(target, "criterion")
    for path, _, files in os.walk(root):
        if not path.endswith(os.sep + "new") or "estimates.json" not in files:
            continue
        with open(os.path.join(path, "benchmark.json")) as f:
            bench = json.load(f)
        with open(os.path.join(path, "estimates.json")) as f:
            out[bench["full_id"]] = json.load(f)["median"]["point_estimate"]
    return out


def run_ours(target):
    wanted = {p[1] for p in PAIRS}
    subprocess.run(
        ["cargo", "bench", "-p", "dcr-benches", "--bench", "codec", "--", OURS_FILTER],
        cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
    )
    medians = our_medians(target)
    return {k: v for k, v in medians.items() if k in wanted}


def run_reference(binary, benchtime, testdata):
    env = dict(os.environ, DCR_TESTDATA=testdata)
    res = subprocess.run(
        [binary, "-test.run", "XXX", "-test.bench", REFERENCE_FILTER,
         "-test.benchtime", benchtime],
        cwd=ROOT, env=env, check=True, capture_output=True, text=True,
    )
    out = {}
    for line in res.stdout.splitlines():
        m = re.match(r"^(Benchmark\S+?)(-\d+)?\s+\d+\s+([\d.]+) ns/op", line)
        if m:
            out[m.group(1)] = float(m.group(3))
    return out


def reference_time(ref, figures):
    if ref is None:
        return None
    return figures.get(ref)


def fmt(ns):
    if ns is None:
        return "—"
    for unit, div in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= div:
            return f"{ns / div:.4g} {unit}"
    return f"{ns:.4g} ns"


def build_go_side(args):
    """Builds benches/go into target/go-codecbench; returns its path, or
    None (with the reason on stderr) when Go or dcrd's source is missing."""
    go = shutil.which(args.go) if args.go else None
    missing = [what for what, have in (
        ("Go (--go or $GO)", go),
        ("dcrd's source (--dcrd-src or $DCRD_SRC)", args.dcrd_src and os.path.isdir(args.dcrd_src)),
        ("the three Go modules (--go-modules or $GO_MODULES)",
         args.go_modules and os.path.isdir(args.go_modules)),
    ) if not have]
    fallback = (". Using the shared reference's codecbench, which has no BenchmarkRoots "
                "(benches/go/README.md says how to build ours).")
    if missing:
        print("benches/go not built, missing: " + "; ".join(missing) + fallback, file=sys.stderr)
        return None
    # The layout benches/go/go.mod's replace lines expect: the module, then
    # dcrd-src and src beside it.
    work = os.path.abspath(os.path.join(args.target, "go-codecbench"))
    module = os.path.join(work, "bench")
    shutil.rmtree(module, ignore_errors=True)
    shutil.copytree(os.path.join(ROOT, "benches", "go"), module)
    for name, src in (("dcrd-src", args.dcrd_src), ("src", args.go_modules)):
        link = os.path.join(work, name)
        if os.path.islink(link) or os.path.exists(link):
            os.remove(link)
        os.symlink(os.path.abspath(src), link)
    binary = os.path.join(work, "codecbench")
    env = dict(os.environ, GOTOOLCHAIN="local", GOFLAGS="-mod=mod", GOPROXY="off", GOSUMDB="off")
    built = subprocess.run([go, "test", "-c", "-o", binary, "./codec"], cwd=module, env=env)
    if built.returncode != 0:
        # An old Go (Debian's is 1.19) or an incomplete dcrd tree.
        print(f"benches/go did not build with {go} (its errors are above; Go 1.25 is needed)"
              + fallback, file=sys.stderr)
        return None
    print(f"reference side: {binary} (built from benches/go)", file=sys.stderr)
    # dcrpeer bench --reference's program, from the same module.
    decodebench = os.path.join(work, "decodebench")
    if subprocess.run([go, "build", "-o", decodebench, "./decodebench"], cwd=module,
                      env=env).returncode == 0:
        print(f"dcrpeer bench --reference {decodebench}", file=sys.stderr)
    return binary


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--benchtime", default="1s", help="go test -test.benchtime")
    ap.add_argument("--reference", default=os.path.join(SHARED, "reference/bin/codecbench"),
                    help="the codecbench to fall back to when benches/go cannot be built")
    ap.add_argument("--go", default=os.environ.get("GO", "go"))
    ap.add_argument("--dcrd-src", default=os.environ.get("DCRD_SRC"))
    ap.add_argument("--go-modules", default=os.environ.get("GO_MODULES"))
    ap.add_argument("--testdata", default=os.environ.get("DCR_TESTDATA",
                                                         os.path.join(SHARED, "testdata")))
    ap.add_argument("--target", default=os.environ.get("CARGO_TARGET_DIR",
                                                       os.path.join(ROOT, "target")))
    args = ap.parse_args()

    reference = build_go_side(args) or args.reference
    rounds = []
    for r in range(args.rounds):
        print(f"round {r + 1}/{args.rounds}: ours", file=sys.stderr, flush=True)
        ours = run_ours(args.target)
        print(f"round {r + 1}/{args.rounds}: reference", file=sys.stderr, flush=True)
        ref = run_reference(reference, args.benchtime, args.testdata)
        rounds.append((ours, ref))

    print(f"Medians of {args.rounds} interleaved rounds (ours, reference, ours, ...); "
          "ratio = reference time / our time, with the lowest and highest single-round "
          "ratio.\n")
    print("| work | reference | dcr-rs | dcr-rs / reference | rounds' range | note |")
    print("| --- | --- | --- | --- | --- | --- |")
    for what, ours_id, ref, note in PAIRS:
        o = [r[0][ours_id] for r in rounds if ours_id in r[0]]
        g = [t for t in (reference_time(ref, r[1]) for r in rounds) if t is not None]
        om = statistics.median(o) if o else None
        gm = statistics.median(g) if g else None
        ratios = [reference_time(ref, r[1]) / r[0][ours_id] for r in rounds
                  if ours_id in r[0] and reference_time(ref, r[1]) is not None]
        ratio = f"**{gm / om:.2f}×**" if om and gm else "—"
        span = f"{min(ratios):.2f}–{max(ratios):.2f}" if ratios else "—"
        print(f"| {what} (`{ours_id}`) | {fmt(gm)} | {fmt(om)} | {ratio} | {span} | {note} |")


if __name__ == "__main__":
    main()
