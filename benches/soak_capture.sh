#!/usr/bin/env bash
# One hour of real traffic with the reference node, captured, for
# `dcrpeer bench` (issue 23: "a capture of the dcrd soak, one hour of
# traffic, benchmarks in under a second").
#
# Runs the dcrd hold test (dcrpeer/tests/cli.rs,
# dcrd_holds_both_connections_while_mining; docs/INTEROP.md) as a soak:
# dcrd on simnet mines a block every DCRD_BLOCK_SECS (30) for
# DCRD_HOLD_SECS (3600), dials `dcrpeer listen --capture`, and
# `dcrpeer connect --listen-only --capture` dials dcrd. Both captures are
# kept in OUT (connect.dcrcap, listen.dcrcap), then benchmarked with the
# release `dcrpeer bench`.
#
# Usage: benches/soak_capture.sh [OUT]      (default: ./soak)
# Environment: DCRD_BIN (default ../shared/reference/bin/dcrd),
# DCRD_HOLD_SECS, DCRD_BLOCK_SECS. Simnet mines at most 122 blocks here
# without tickets, so hold/block must stay <= 122.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(realpath -m "${1:-soak}")
mkdir -p "$out"
export DCRD_BIN=${DCRD_BIN:-$(realpath ../shared/reference/bin/dcrd)}
export DCRD_HOLD_SECS=${DCRD_HOLD_SECS:-3600}
export DCRD_BLOCK_SECS=${DCRD_BLOCK_SECS:-30}
export DCRD_CAPTURE_DIR=$out
echo "soak: ${DCRD_HOLD_SECS} s, a block every ${DCRD_BLOCK_SECS} s, captures in $out ($(date -u +%FT%TZ))"
# Release: the bench below uses the same dcrpeer binary.
cargo test --release -p dcrpeer --test cli -- --ignored dcrd_holds --nocapture
echo "soak ended $(date -u +%FT%TZ)"
ls -l "$out"
for cap in connect listen; do
    echo "== dcrpeer bench $out/$cap.dcrcap"
    /usr/bin/time -f "wall %e s, user %U s, sys %S s, max RSS %M KiB" \
        target/release/dcrpeer bench "$out/$cap.dcrcap" --net simnet
done
