#!/bin/bash
# daemon_vs_cli.sh - requests/s and p50/p99 latency of GET /v1/devices and
# POST /v1/fit over pcipassd's Unix socket, against the CLI doing the same
# work as one process per request (`pcipass --json list`, `pcipass --json
# fit vf:2`). See docs/performance.md.
#
#   bench/daemon_vs_cli.sh [BUILD_DIR] [REQUESTS]
#
# The host: pcipass-fixture --sockets 2 --gpus 4 --sriov-pfs 4
# --vfs-per-pf 32 --nvme 2 (~170 functions), config allowing the VFs.
# Daemon: pcipassd_unix_load with 1 and 2 keep-alive connections,
# REQUESTS (default 400) per connection. CLI: REQUESTS/4 runs one after
# the other (1 client) and the same number split over 2 parallel loops.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
n=${2:-400}
pcipass=$build/src/main/pcipass
pcipassd=$build/src/main/pcipassd
fixture=$build/src/testing/pcipass-fixture
load=$build/bench/pcipassd_unix_load
for b in "$pcipass" "$pcipassd" "$fixture" "$load"; do
  [ -x "$b" ] || { echo "missing $b (build first)" >&2; exit 2; }
done
dir=$(mktemp -d "${TMPDIR:-/tmp}/pcipassd-bench-XXXXXX")
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$dir"' EXIT
"$fixture" "$dir/root" --sockets 2 --gpus 4 --sriov-pfs 4 --vfs-per-pf 32 \
  --nvme 2 --vfio-vf-percent 0
cat > "$dir/pcipass.conf" <<'CONF'
[pci]
device_spec = {"vendor_id": "8086", "product_id": "154c"}
alias = {"name": "vf", "vendor_id": "8086", "product_id": "154c", "device_type": "type-VF"}
CONF
common=(--root "$dir/root" --config "$dir/pcipass.conf" --state "$dir/state")
"$pcipassd" "${common[@]}" --socket "$dir/d.sock" --reconcile-interval 0 \
  2>"$dir/log" &
pid=$!
for _ in $(seq 1 200); do
  curl -s --max-time 2 --unix-socket "$dir/d.sock" -o /dev/null \
    http://localhost/v1/version && break
  sleep 0.1
done

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "host: $("$pcipass" "${common[@]}" --json list | grep -c '"address"') functions"

cli_run() {  # cli_run RUNS LOOPS ARGS... -> req/s p50 p99
  local runs=$1 loops=$2
  shift 2
  local per=$((runs / loops))
  local start end
  start=$(date +%s%N)
  for l in $(seq 1 "$loops"); do
    (for _ in $(seq 1 "$per"); do
       s=$(date +%s%N)
       "$pcipass" "${common[@]}" --json "$@" >/dev/null || true
       echo $(( ($(date +%s%N) - s) / 1000 ))
     done > "$dir/lat.$l") &
  done
  wait
  end=$(date +%s%N)
  sort -n "$dir"/lat.* > "$dir/lat"
  local total; total=$(wc -l < "$dir/lat")
  local p50 p99
  p50=$(sed -n "$(( (total * 50 + 99) / 100 ))p" "$dir/lat")
  p99=$(sed -n "$(( (total * 99 + 99) / 100 ))p" "$dir/lat")
  awk -v t="$total" -v ns="$((end - start))" -v p50="$p50" -v p99="$p99" \
    'BEGIN { printf "%d requests: %.1f req/s, p50 %.2f ms, p99 %.2f ms\n",
             t, t / (ns / 1e9), p50 / 1000, p99 / 1000 }'
  rm -f "$dir"/lat*
}

for c in 1 2; do
  echo "daemon GET /v1/devices, $c connection(s): $("$load" "$dir/d.sock" GET /v1/devices --connections $c --requests "$n")"
  echo "daemon POST /v1/fit vf:2, $c connection(s): $("$load" "$dir/d.sock" POST /v1/fit '{"request": "vf:2"}' --connections $c --requests "$n")"
done
cli_runs=$((n / 4))
for c in 1 2; do
  echo "CLI pcipass --json list, $c loop(s): $(cli_run "$cli_runs" $c list)"
  echo "CLI pcipass --json fit vf:2, $c loop(s): $(cli_run "$cli_runs" $c fit vf:2)"
done
