#!/bin/bash
# list_vs_lspci.sh - time `pcipass list --json` against lspci on the same
# generated host (>= 4096 PCI functions). See docs/performance.md.
#
#   bench/list_vs_lspci.sh [BUILD_DIR] [RUNS]
#
# BUILD_DIR (default build/) must hold src/main/pcipass and
# src/testing/pcipass-fixture. The host is generated once into a temp dir
# (2 sockets, 8 GPUs, 16 SR-IOV PFs x 256 VFs, NVMe, shared bridge groups)
# and removed at the end. Each command runs RUNS times (default 7) after
# one warm-up run; the script prints min and median wall time in ms, and
# uses hyperfine instead when it is installed. BENCH_HOST=DIR reuses DIR/host
# instead of generating a new tree.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
runs=${2:-7}
pcipass=$build/src/main/pcipass
fixture=$build/src/testing/pcipass-fixture
for b in "$pcipass" "$fixture"; do
  [ -x "$b" ] || { echo "missing $b (build first)" >&2; exit 2; }
done
command -v lspci >/dev/null || { echo "lspci missing (apt install pciutils)" >&2; exit 2; }

if [ -n "${BENCH_HOST:-}" ]; then
  # Reuse a tree made earlier by pcipass-fixture (generation takes minutes
  # on a slow disk): BENCH_HOST=DIR where DIR/host exists.
  dir=$BENCH_HOST
else
  dir=$(mktemp -d "${TMPDIR:-/tmp}/pcipass-bench-XXXXXX")
  trap 'rm -rf "$dir"' EXIT
  "$fixture" "$dir/host" --sriov-pfs 16 --vfs-per-pf 256 >&2
fi

# `list` is the select engineer's command; fall back to `groups` (which
# also runs full discovery) if this build does not have it yet.
verb=list
if ! "$pcipass" --root "$dir/host" list --json >/dev/null 2>&1; then
  echo "note: 'pcipass list' unavailable in this build; timing 'groups'" >&2
  verb=groups
fi
n_pcipass=$("$pcipass" --root "$dir/host" "$verb" --json 2>/dev/null |
  grep -c '"dev_type"' || true)
n_lspci=$(lspci -D -nn -k -vmm -A linux-sysfs \
  -O sysfs.path="$dir/host/sys/bus/pci" 2>/dev/null | grep -c '^Slot:')
echo "functions: pcipass=$n_pcipass lspci=$n_lspci" >&2

cmd_pcipass=("$pcipass" --root "$dir/host" "$verb" --json)
cmd_lspci=(lspci -D -nn -k -vmm -A linux-sysfs -O "sysfs.path=$dir/host/sys/bus/pci")

if command -v hyperfine >/dev/null; then
  hyperfine -N --warmup 1 --runs "$runs" \
    -n "pcipass $verb --json" "${cmd_pcipass[*]}" \
    -n "lspci -D -nn -k -vmm" "${cmd_lspci[*]}"
  exit 0
fi

# ms for one run of "$@", output discarded.
time_ms() {
  local t0 t1
  t0=$(date +%s%N)
  "$@" >/dev/null 2>&1
  t1=$(date +%s%N)
  echo $(((t1 - t0) / 1000000))
}

stats() {  # name, then the command
  local name=$1; shift
  time_ms "$@" >/dev/null  # warm-up (page cache, pci.ids)
  local xs=() i
  for ((i = 0; i < runs; i++)); do xs+=("$(time_ms "$@")"); done
  local sorted; sorted=$(printf '%s\n' "${xs[@]}" | sort -n)
  local min med
  min=$(echo "$sorted" | head -1)
  med=$(echo "$sorted" | sed -n "$(((runs + 1) / 2))p")
  printf '%-28s min %5d ms  median %5d ms  (%d runs: %s)\n' \
    "$name" "$min" "$med" "$runs" "$(echo "$sorted" | tr '\n' ' ')"
}

stats "pcipass $verb --json" "${cmd_pcipass[@]}"
stats "lspci -D -nn -k -vmm" "${cmd_lspci[@]}"
