#!/bin/bash
# handoff_bench.sh - detach + reattach N NVMe VFs on the real kernel (QEMU
# lab, TCG) with pcipass and with a plain shell loop of echo writes doing
# the same kernel operations; prints both times and the ratio.
#
# Usage: bench/handoff_bench.sh [PCIPASS_BIN] (default build/src/main/pcipass)
# Env: BENCH_VFS (4), BENCH_ROUNDS (5). One guest boot, ~30 s.
# pcipass does more per device than the loop: discovery of the whole bus,
# pre-flight checks (groups, host use), a journal written with fsync before
# each step, read-back of every write, the /dev/vfio/N wait, a final
# viability check, and the flock.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
BIN=${1:-${PCIPASS_BIN:-$TOP/build/src/main/pcipass}}
[ -x "$BIN" ] || { echo "no pcipass binary at $BIN" >&2; exit 2; }
VFS=${BENCH_VFS:-4}
ROUNDS=${BENCH_ROUNDS:-5}
LOG=$(mktemp)
DIR=$(mktemp -d)
trap 'rm -rf "$LOG" "$DIR"' EXIT
# The guest sees no host environment: bake the parameters into the script.
{ echo '#!/bin/sh'; echo "BENCH_VFS=$VFS BENCH_ROUNDS=$ROUNDS"
  tail -n +2 "$TOP/tests/lab/guest/handoff-bench.sh"; } >"$DIR/handoff-bench.sh"
chmod +x "$DIR/handoff-bench.sh"
PCIPASS_BIN=$BIN "$TOP/tests/lab/run-guest-test.sh" "$DIR/handoff-bench.sh" \
  -D std -t 300 -v >"$LOG" 2>&1 || { tail -40 "$LOG"; exit 1; }
P=$(grep -o 'BENCH pcipass .*' "$LOG" | head -1)
S=$(grep -o 'BENCH shell .*' "$LOG" | head -1)
U=$(grep -o 'BENCH startup .*' "$LOG" | head -1)
echo "$P"
echo "$S"
echo "$U"
pm=${P##*ms=}; sm=${S##*ms=}
ops=$((VFS * ROUNDS))
awk -v p="$pm" -v s="$sm" -v n="$ops" 'BEGIN {
  printf "per device detach+reattach: pcipass %.1f ms, shell %.1f ms, ratio %.1fx\n",
         p / n, s / n, (s > 0 ? p / s : 0) }'
