#!/bin/sh
# handoff-detach.sh - pcipass detach/reattach on the real kernel: an e1000e
# goes to vfio-pci and back (/dev/vfio/N appears and goes, a VMM can open
# it), --dry-run changes nothing, the bridge group is refused without
# --group and taken whole with it, a failing step rolls the group back, a
# SIGKILL between steps is recovered by the next run, two processes
# serialise on the lock, and a NIC with an address is refused unless --force.
. /lab/lib.sh

S="--state /tmp/state"
E1=$(find_dev 0x8086 0x10d3 0)
E2=$(find_dev 0x8086 0x10d3 1)
B1=$(find_dev 0x8086 0x100e 0)
B2=$(find_dev 0x10ec 0x8139 0)
BR=$(find_dev 0x1b36 0x000e 0)
G1=$(grp "$E1")
GB=$(grp "$B1")
note "E1=$E1 (group $G1) E2=$E2 bridge group $GB: $(group_members $GB)"

phase "dry run changes nothing (vfio-pci not loaded yet)"
rmmod vfio_pci 2>/dev/null
check_not "vfio-pci unloaded for this test" test -d $P/drivers/vfio-pci
expect_rc 0 "detach --dry-run" pcipass $S detach "$E1" --dry-run
show_out
check_contains "plan writes driver_override first (after the module load)" \
  "echo vfio-pci > /sys/bus/pci/devices/$E1/driver_override" "$(head -3 $OUT_FILE)"
check_contains "plan unbinds" "$E1/driver/unbind" "$(cat $OUT_FILE)"
check_contains "plan probes" "drivers_probe" "$(cat $OUT_FILE)"
check_contains "plan loads vfio-pci" "modprobe vfio-pci" "$(cat $OUT_FILE)"
check_not "dry run did not load it" test -d $P/drivers/vfio-pci
check_eq "kernel: still e1000e" e1000e "$(drv $E1)"
check_eq "kernel: override untouched" "(null)" "$(cat $P/devices/$E1/driver_override)"
check_not "no state written" test -e /tmp/state

phase "detach and reattach an e1000e"
expect_rc 0 "detach" pcipass $S detach "$E1" --json
show_out
check_eq "reported changed" "$E1" "$(jget '.changed[0]')"
check_eq "first write is the module load" modprobe "$(jget '.writes[0].path')"
check "modprobe loaded vfio-pci" test -d $P/drivers/vfio-pci
check_eq "kernel: driver is vfio-pci" vfio-pci "$(drv $E1)"
check_eq "kernel: override kept" vfio-pci "$(cat $P/devices/$E1/driver_override)"
check "/dev/vfio/$G1 appeared" test -c /dev/vfio/$G1
check "record of the original driver" grep -q e1000e /tmp/state/devices/$E1.json
check_not "journal removed after success" test -e /tmp/state/journal.json
expect_rc 0 "vfio-check: a VMM can open it" pcipass vfio-check "$E1"
show_out
expect_rc 0 "vfio-probe agrees" vfio-probe "$G1" "$E1"
expect_rc 0 "second detach is a no-op" pcipass $S detach "$E1" --json
check_eq "already_done" "$E1" "$(jget '.already_done[0]')"
check_eq "no writes" 0 "$(jget '.writes|length')"
expect_rc 0 "reattach" pcipass $S reattach "$E1"
show_out
check_eq "kernel: back on e1000e" e1000e "$(drv $E1)"
check_eq "kernel: override cleared" "(null)" "$(cat $P/devices/$E1/driver_override)"
check "/dev/vfio/$G1 gone" wait_for 2 test ! -e /dev/vfio/$G1
expect_rc 1 "vfio-check now fails" pcipass vfio-check "$E1"
expect_rc 0 "second reattach is a no-op" pcipass $S reattach "$E1" --json
check_eq "already_done" "$E1" "$(jget '.already_done[0]')"

phase "reattach refused while a VMM holds the group"
expect_rc 0 "detach again" pcipass $S detach "$E1"
VFIO_PROBE_HOLD=6 vfio-probe "$G1" "$E1" >/tmp/holder.log 2>&1 &
HOLDER=$!
check "holder has the device open" wait_for 8 grep -q "VFIO-PROBE holding" /tmp/holder.log
expect_rc 1 "reattach refused (group open)" pcipass $S reattach "$E1"
show_err
check_contains "says the group is in use" "open by a VFIO user" "$(cat $ERR_FILE)"
check_eq "kernel: still vfio-pci" vfio-pci "$(drv $E1)"
wait $HOLDER
expect_rc 0 "reattach after the VMM let go" pcipass $S reattach "$E1"
check_eq "kernel: e1000e" e1000e "$(drv $E1)"

phase "IOMMU group behind the PCI bridge"
expect_rc 1 "a member alone is refused" pcipass $S detach "$B1"
show_err
check_contains "names the blocking member" "$B2" "$(cat $ERR_FILE)"
check_contains "suggests --group" "--group" "$(cat $ERR_FILE)"
check_eq "kernel: $B1 untouched" e1000 "$(drv $B1)"
expect_rc 1 "the bridge itself is refused" pcipass $S detach "$BR"
show_err
check_contains "bridge" "bridge" "$(cat $ERR_FILE)"
expect_rc 0 "--group takes both endpoints" pcipass $S detach "$B1" --group --json
show_out
check_eq "changed both" "$B1 $B2" "$(jget '.changed|join(" ")')"
check_eq "kernel: $B1 vfio-pci" vfio-pci "$(drv $B1)"
check_eq "kernel: $B2 vfio-pci" vfio-pci "$(drv $B2)"
check_eq "kernel: bridge untouched" "-" "$(drv $BR)"
expect_rc 0 "vfio-check on the group" pcipass vfio-check "$B2"
expect_rc 0 "reattach --group" pcipass $S reattach "$B1" --group
check_eq "kernel: $B1 e1000" e1000 "$(drv $B1)"
check_eq "kernel: $B2 8139cp" 8139cp "$(drv $B2)"

phase "a failing step rolls the whole group back"
# Writes: override B1, unbind B1, probe B1, override B2, unbind B2 (5th).
# The 5th fails with EIO (PCIPASS_FAULT_WRITE); B1 is already on vfio-pci
# in the real kernel by then and must be restored.
expect_rc 1 "detach --group fails at step 5" \
  env PCIPASS_FAULT_WRITE=5 pcipass $S detach "$B1" --group
show_err
check_contains "says what failed" "PCIPASS_FAULT_WRITE" "$(cat $ERR_FILE)"
check_contains "says it rolled back" "rolled back: $B2 (back on 8139cp), $B1 (back on e1000)" "$(cat $ERR_FILE)"
check_eq "kernel: $B1 back on e1000" e1000 "$(drv $B1)"
check_eq "kernel: $B2 on 8139cp" 8139cp "$(drv $B2)"
check_eq "kernel: $B1 override cleared" "(null)" "$(cat $P/devices/$B1/driver_override)"
check_eq "kernel: $B2 override cleared" "(null)" "$(cat $P/devices/$B2/driver_override)"
check "/dev/vfio/$GB gone" wait_for 2 test ! -e /dev/vfio/$GB
check_not "no journal left" test -e /tmp/state/journal.json

phase "SIGKILL between steps, next run recovers"
# Killed just before the 3rd write (drivers_probe of B1): B1 is unbound
# with driver_override=vfio-pci, the journal says so.
expect_rc 137 "detach killed before step 3" \
  env PCIPASS_FAULT_KILL=3 pcipass $S detach "$B1" --group
check_eq "kernel: $B1 left unbound by the crash" "-" "$(drv $B1)"
check "journal left behind" test -e /tmp/state/journal.json
cat /tmp/state/journal.json
expect_rc 0 "next run (reattach of another device) recovers first" \
  pcipass $S reattach "$E1"
show_out
check_contains "reports the recovery" "recovered an unfinished detach" "$(cat $OUT_FILE)"
check_eq "kernel: $B1 back on e1000" e1000 "$(drv $B1)"
check_eq "kernel: $B1 override cleared" "(null)" "$(cat $P/devices/$B1/driver_override)"
check_not "journal cleared" test -e /tmp/state/journal.json
check "recovery logged" grep -q "recovered an unfinished detach" /tmp/state/log

phase "two processes serialise on the lock"
# Two pcipass processes at once, on two devices: both succeed, and the
# audit log shows each operation whole (start and end of one pid are
# adjacent), because each holds flock(<state>/lock) from start to end.
pcipass $S detach "$E1" >/tmp/p1.out 2>&1 &
P1=$!
pcipass $S detach "$E2" >/tmp/p2.out 2>&1 &
P2=$!
wait $P1; R1=$?
wait $P2; R2=$?
check_eq "first process ok" 0 "$R1"
check_eq "second process ok" 0 "$R2"
check_eq "kernel: $E1 vfio-pci" vfio-pci "$(drv $E1)"
check_eq "kernel: $E2 vfio-pci" vfio-pci "$(drv $E2)"
tail -4 /tmp/state/log
check "log: the two operations did not interleave" awk '
  { pid[NR] = $2 }
  END { exit !(NR >= 4 && pid[NR-3] == pid[NR-2] && pid[NR-1] == pid[NR] &&
               pid[NR-2] != pid[NR-1]) }' /tmp/state/log
expect_rc 0 "reattach both" pcipass $S reattach "$E1" "$E2"
check_eq "kernel: $E1 e1000e" e1000e "$(drv $E1)"
check_eq "kernel: $E2 e1000e" e1000e "$(drv $E2)"

phase "a NIC the host uses is refused"
IF=$(ls $P/devices/$E2/net | head -1)
note "netdev of $E2: $IF"
ip addr add 10.0.0.1/24 dev "$IF"
ip link set "$IF" up
expect_rc 1 "detach refused" pcipass $S detach "$E2"
show_err
check_contains "names the interface" "$IF" "$(cat $ERR_FILE)"
check_contains "suggests --force" "--force" "$(cat $ERR_FILE)"
check_eq "kernel: still e1000e" e1000e "$(drv $E2)"
expect_rc 0 "--force REASON takes it" pcipass $S detach "$E2" --force "lab: proving --force"
check_eq "kernel: vfio-pci" vfio-pci "$(drv $E2)"
check "reason logged" grep -q "FORCED: lab: proving --force" /tmp/state/log
expect_rc 0 "reattach" pcipass $S reattach "$E2"
check_eq "kernel: e1000e again" e1000e "$(drv $E2)"

echo "---- /tmp/state/log"; cat /tmp/state/log
finish
