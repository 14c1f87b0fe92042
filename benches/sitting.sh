#!/usr/bin/env bash
# Every figure of issue 23 in one sitting, each beside its floor and the
# reference, on one machine, one after the other: the peers
# (compare_peer.py), single-stream BLAKE-256 (compare_blake256.py),
# `dcrpeer bench --builtin` against criterion (compare_bench_cli.py) and,
# when captures of the dcrd soak are given, `dcrpeer bench` on them
# (benches/soak_capture.sh makes them; an hour takes an hour).
#
# Usage: benches/sitting.sh [LOG] [CAPTURE...]     (default LOG: sitting.log)
# Environment: PEER_ROUNDS (5), HASH_ROUNDS (3), CLI_ROUNDS (2).
#
# Run it on a quiet machine: every figure is a ratio measured here, and a
# build or another bench beside it moves them. The load average is logged
# before each part.
set -euo pipefail
cd "$(dirname "$0")/.."
log=$(realpath -m "${1:-sitting.log}")
shift || true
: > "$log"
say() { echo "$@" | tee -a "$log"; }
part() {
    say ""
    say "== $1 ($(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg))"
}

part "build"
cargo bench -p dcr-benches --bench peer --no-run 2>&1 | tail -1 | tee -a "$log"
cargo build --release -p dcr-blake256 --example cycles 2>&1 | tail -1 | tee -a "$log"
cargo build --release -p dcrpeer 2>&1 | tail -1 | tee -a "$log"

part "peers beside their floors and the reference"
python3 benches/compare_peer.py --rounds "${PEER_ROUNDS:-5}" 2>&1 | tee -a "$log"

part "single-stream BLAKE-256 against the reference"
python3 benches/compare_blake256.py --rounds "${HASH_ROUNDS:-3}" 2>&1 | tee -a "$log"

part "dcrpeer bench --builtin against criterion"
python3 benches/compare_bench_cli.py --rounds "${CLI_ROUNDS:-2}" 2>&1 | tee -a "$log"

for cap in "$@"; do
    part "dcrpeer bench $cap"
    /usr/bin/time -f "%e s wall, %U s user, %M KiB resident" \
        target/release/dcrpeer bench "$cap" --net simnet 2>&1 | tail -4 | tee -a "$log"
done
part "end"
