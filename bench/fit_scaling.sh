#!/bin/bash
# fit_scaling.sh - time the real `pcipass fit` on generated hosts of about
# 256, 1k, 4k and 16k PCI functions and print the scaling exponent (the
# log-log slope of time against functions between neighbouring sizes; 1.0
# is linear). See docs/performance.md, "fit: scaling with host size".
#
#   bench/fit_scaling.sh [BUILD_DIR] [RUNS]
#
# BUILD_DIR (default build/) must hold src/main/pcipass and
# src/testing/pcipass-fixture. Hosts are made by pcipass-fixture (SR-IOV
# PFs with 256 VFs each: 1, 4, 16 and 62 PFs, plus the default GPUs, NVMe,
# bridges and host NICs) into BENCH_HOSTS (default a temp dir, removed at
# the end; set it to keep and reuse the trees: the 16k one takes minutes to
# write). The config allows every X710 VF (8086:154c) and defines the alias
# nic-vf; each host is timed with `fit nic-vf:2` (no ledger, as on a host
# where nothing was claimed yet) RUNS times (default 5) after one warm-up
# run; the median CPU time (user + sys) is used, the wall time is printed
# too. PCIPASS=path times another binary (e.g. the one before a change) on
# the same trees; BENCH_PFS="1 4 16" limits the sizes (PFs per host).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
runs=${2:-5}
pcipass=${PCIPASS:-$build/src/main/pcipass}
fixture=$build/src/testing/pcipass-fixture
for b in "$pcipass" "$fixture"; do
  [ -x "$b" ] || { echo "missing $b (build first)" >&2; exit 2; }
done
if [ -n "${BENCH_HOSTS:-}" ]; then
  dir=$BENCH_HOSTS
  mkdir -p "$dir"
else
  dir=$(mktemp -d "${TMPDIR:-/tmp}/pcipass-fit-XXXXXX")
  trap 'rm -rf "$dir"' EXIT
fi

cat >"$dir/pcipass.conf" <<'CONF'
[pci]
device_spec = {"vendor_id": "8086", "product_id": "154c"}
alias = {"name": "nic-vf", "vendor_id": "8086", "product_id": "154c", "device_type": "type-VF"}
CONF

# "CPU_MS WALL_MS" for one run of "$@" (CPU = user + sys of the process:
# on a shared machine wall time mostly measures the other load), output
# discarded; fails if the command does.
time_ms() {
  local TIMEFORMAT='%3U %3S %3R' t
  t=$({ time "$@" >/dev/null 2>&1; } 2>&1) || { echo "failed: $*" >&2; return 1; }
  awk '{ printf "%d %d\n", ($1 + $2) * 1000, $3 * 1000 }' <<<"$t"
}

median() { sort -n | sed -n "$(((runs + 1) / 2))p"; }

sizes=()
medians=()
for pfs in ${BENCH_PFS:-1 4 16 62}; do
  host=$dir/host-$pfs
  if [ ! -d "$host" ]; then
    "$fixture" "$host" --sriov-pfs "$pfs" --vfs-per-pf 256 >&2
  fi
  fns=$(find "$host/sys/bus/pci/devices" -mindepth 1 -maxdepth 1 | wc -l)
  state=$dir/state-$pfs
  rm -rf "$state"
  cmd=("$pcipass" --root "$host" --config "$dir/pcipass.conf" --state "$state"
    fit nic-vf:2)
  time_ms "${cmd[@]}" >/dev/null  # warm-up (page cache)
  cpu=()
  wall=()
  for ((i = 0; i < runs; i++)); do
    read -r c w < <(time_ms "${cmd[@]}")
    cpu+=("$c")
    wall+=("$w")
  done
  cpu_med=$(printf '%s\n' "${cpu[@]}" | median)
  wall_med=$(printf '%s\n' "${wall[@]}" | median)
  printf '%6d functions: CPU median %6d ms (runs: %s), wall median %6d ms\n' \
    "$fns" "$cpu_med" "$(printf '%s\n' "${cpu[@]}" | sort -n | tr '\n' ' ')" \
    "$wall_med"
  sizes+=("$fns")
  medians+=("$cpu_med")
done
for ((i = 1; i < ${#sizes[@]}; i++)); do
  awk -v n0="${sizes[i - 1]}" -v n1="${sizes[i]}" -v t0="${medians[i - 1]}" \
    -v t1="${medians[i]}" 'BEGIN {
      if (t0 < 1) t0 = 1;
      printf "exponent %5d -> %5d functions: %.2f\n", n0, n1,
        log(t1 / t0) / log(n1 / n0) }'
done
n=${#sizes[@]}
awk -v n0="${sizes[0]}" -v n1="${sizes[n - 1]}" -v t0="${medians[0]}" \
  -v t1="${medians[n - 1]}" 'BEGIN {
    if (t0 < 1) t0 = 1;
    printf "exponent %5d -> %5d functions (whole range): %.2f\n", n0, n1,
      log(t1 / t0) / log(n1 / n0) }'
