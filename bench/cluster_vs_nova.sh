#!/bin/sh
# pcipass's cluster index vs Nova's PciPassthroughFilter on the same
# synthetic cluster (docs/performance.md, "Cluster scheduler").
#
# Usage: bench/cluster_vs_nova.sh [BUILD_DIR] (default: build)
# Env:   HOSTS (10000), SEED (1), DECISIONS (1000), NOVA_ROUNDS (2),
#        OUT (a temp dir; keeps cluster.json and the logs)
# Needs python3-nova (Debian 12: Nova 26, Zed): apt-get install python3-nova.
# It is a benchmark dependency only, never installed by scripts/test.
set -eu
BUILD=${1:-build}
HOSTS=${HOSTS:-10000}
SEED=${SEED:-1}
DECISIONS=${DECISIONS:-1000}
NOVA_ROUNDS=${NOVA_ROUNDS:-2}
OUT=${OUT:-$(mktemp -d /tmp/pcipass-cluster-bench.XXXXXX)}
HERE=$(cd "$(dirname "$0")" && pwd)
BENCH=$BUILD/bench/pcipass_cluster_bench

if ! /usr/bin/python3 -c 'import nova.pci.stats' 2>/dev/null; then
  echo "python3-nova is missing: apt-get install python3-nova" >&2
  exit 2
fi
[ -x "$BENCH" ] || { echo "build $BENCH first (cmake --build $BUILD --target pcipass_cluster_bench)" >&2; exit 2; }

echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load: $(cut -d' ' -f1-3 /proc/loadavg)"
"$BENCH" --hosts "$HOSTS" --seed "$SEED" --export-nova "$OUT/cluster.json"
echo "== pcipass: ClusterIndex::Place, $DECISIONS decisions per request"
"$BENCH" --hosts "$HOSTS" --seed "$SEED" --latency --decisions "$DECISIONS" | tee "$OUT/pcipass.txt"
echo "== Nova $(/usr/bin/python3 -c 'import nova.version as v; print(v.version_string())'): PciPassthroughFilter.host_passes over every host, $NOVA_ROUNDS rounds"
/usr/bin/python3 "$HERE/nova_filter_bench.py" "$OUT/cluster.json" --rounds "$NOVA_ROUNDS" | tee "$OUT/nova.txt"
echo "== ratio (Nova / pcipass, per decision)"
/usr/bin/python3 - "$OUT/pcipass.txt" "$OUT/nova.txt" <<'PY'
import json, sys
ours = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
nova = json.loads(open(sys.argv[2]).read().strip().splitlines()[-1])
print("%-16s %12s %12s %10s %12s %12s %10s" % (
    "request", "nova_cpu_ms", "ours_cpu_us", "cpu_ratio", "nova_wall_ms",
    "ours_wall_us", "wall_ratio"))
for n in nova:
    o = ours[n["request"]]
    print("%-16s %12.1f %12.2f %10.0f %12.1f %12.2f %10.0f" % (
        n["request"], n["decision_cpu_s_median"] * 1e3, o["cpu_median_us"],
        n["decision_cpu_s_median"] * 1e6 / o["cpu_median_us"],
        n["decision_s_median"] * 1e3, o["median_us"],
        n["decision_s_median"] * 1e6 / o["median_us"]))
PY
echo "logs in $OUT"
