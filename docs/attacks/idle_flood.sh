#!/usr/bin/env bash
# An idle-connection flood against `dcrpeer listen`, and a good client's sync
# meanwhile (SECURITY.md, "Silent connections against dcrpeer listen").
# usage: idle_flood.sh N DCRPEER PORT   (N silent connections from 8 other
# /16 groups of 127.0.0.0/8; Linux, where all of 127.0.0.0/8 is loopback)
set -u
N=$1; P=$2; PORT=$3
here="$(dirname "$0")"
out="$(mktemp -d)"
"$P" listen --bind "127.0.0.1:$PORT" --net simnet > "$out/listen.out" 2>&1 &
LP=$!
trap 'kill $LP 2>/dev/null; rm -rf "$out"' EXIT
sleep 1
python3 "$here/idle_flood.py" "127.0.0.1:$PORT" "$N" 12 > "$out/attack.out" 2>&1 &
AP=$!
sleep 3
s=$(date +%s.%N)
timeout 40 "$P" connect "127.0.0.1:$PORT" --net simnet > "$out/connect.out" 2>&1
rc=$?
e=$(date +%s.%N)
wait $AP
sleep 1
hwm=$(awk '/VmHWM/ {print $2}' /proc/$LP/status)
rss=$(awk '/VmRSS/ {print $2}' /proc/$LP/status)
echo "N=$N good client exit $rc after $(echo "$e - $s" | bc) s; listen RSS peak $hwm kB, after $rss kB; $(tr '\n' ' ' < "$out/attack.out")"
