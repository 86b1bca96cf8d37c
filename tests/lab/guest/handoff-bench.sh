#!/bin/sh
# handoff-bench.sh - benchmark (not a test): detach + reattach N NVMe VFs,
# R rounds, with pcipass and with a plain shell loop of echo writes doing
# the same kernel operations (override, drivers_probe; vfio-pci unbind,
# override clear). Prints "BENCH <tool> vfs=N rounds=R seconds=S" lines.
# Run through bench/handoff_bench.sh.
. /lab/lib.sh

N=${BENCH_VFS:-4}
R=${BENCH_ROUNDS:-5}
S="--state /tmp/state"
PF=$(find_dev 0x1b36 0x0010 0)
pcipass $S sriov "$PF" --numvfs "$N" --no-autoprobe >/dev/null || exit 1
VFS=""
i=0
while [ $i -lt "$N" ]; do
  VFS="$VFS $(basename $(readlink $P/devices/$PF/virtfn$i))"
  i=$((i + 1))
done
note "VFs:$VFS"
ms() { awk '{ printf "%d", $1 * 1000 }' /proc/uptime; }

# Warm-up (page cache, module state), not timed.
pcipass $S detach $VFS >/dev/null && pcipass $S reattach $VFS >/dev/null

t0=$(ms)
r=0
while [ $r -lt "$R" ]; do
  pcipass $S detach $VFS >/dev/null || { echo "detach failed"; exit 1; }
  for v in $VFS; do [ "$(drv $v)" = vfio-pci ] || exit 1; done
  pcipass $S reattach $VFS >/dev/null || { echo "reattach failed"; exit 1; }
  r=$((r + 1))
done
t1=$(ms)

r=0
while [ $r -lt "$R" ]; do
  for v in $VFS; do
    echo vfio-pci >$P/devices/$v/driver_override
    echo "$v" >$P/drivers_probe
  done
  for v in $VFS; do [ "$(drv $v)" = vfio-pci ] || exit 1; done
  for v in $VFS; do
    echo "$v" >$P/drivers/vfio-pci/unbind
    echo >$P/devices/$v/driver_override
  done
  r=$((r + 1))
done
t2=$(ms)
for v in $VFS; do [ "$(drv $v)" = "-" ] || exit 1; done

# Process start-up alone (dynamic C++ binary under TCG), for the record.
r=0
while [ $r -lt $((R * 2)) ]; do pcipass version >/dev/null; r=$((r + 1)); done
t3=$(ms)

echo "BENCH pcipass vfs=$N rounds=$R ms=$((t1 - t0))"
echo "BENCH shell vfs=$N rounds=$R ms=$((t2 - t1))"
echo "BENCH startup runs=$((R * 2)) ms=$((t3 - t2))"
pcipass $S sriov "$PF" --numvfs 0 >/dev/null
PASS=1
finish
