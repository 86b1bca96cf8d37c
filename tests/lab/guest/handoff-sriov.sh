#!/bin/sh
# handoff-sriov.sh - pcipass sriov and apply on the real kernel: NVMe VFs
# are created with autoprobe off, a VF is detached to vfio-pci (a VMM can
# open it), a count change is refused while it is, goes through 0 once it
# is back, ERANGE is explained, VFs are removed, a PF on vfio-pci gets
# enable_sriov; then the [host] desired
# state is applied (--dry-run changes nothing, the first run does it all,
# the second finds nothing to do).
. /lab/lib.sh

S="--state /tmp/state"
PF=$(find_dev 0x1b36 0x0010 0)
E1=$(find_dev 0x8086 0x10d3 0)
EDU=$(find_dev 0x1234 0x11e8 0)
note "PF=$PF E1=$E1 EDU=$EDU"

phase "sriov: limits"
expect_rc 2 "5 VFs is more than sriov_totalvfs" pcipass $S sriov "$PF" --numvfs 5
check_contains "says the maximum" "at most 4 VFs" "$(cat $ERR_FILE)"
check_eq "kernel: still 0" 0 "$(cat $P/devices/$PF/sriov_numvfs)"
expect_rc 1 "not SR-IOV capable" pcipass $S sriov "$E1" --numvfs 1
check_contains "says so" "not SR-IOV capable" "$(cat $ERR_FILE)"
expect_rc 0 "dry run" pcipass $S sriov "$PF" --numvfs 2 --no-autoprobe --dry-run
show_out
check_eq "kernel: dry run made no VFs" 0 "$(cat $P/devices/$PF/sriov_numvfs)"
check_eq "kernel: autoprobe untouched" 1 "$(cat $P/devices/$PF/sriov_drivers_autoprobe)"

phase "sriov: create 2 VFs with autoprobe off"
expect_rc 0 "create" pcipass $S sriov "$PF" --numvfs 2 --no-autoprobe
show_out
check_eq "kernel: 2 VFs" 2 "$(cat $P/devices/$PF/sriov_numvfs)"
check_eq "kernel: autoprobe 0" 0 "$(cat $P/devices/$PF/sriov_drivers_autoprobe)"
VF0=$(basename $(readlink $P/devices/$PF/virtfn0))
VF1=$(basename $(readlink $P/devices/$PF/virtfn1))
check_contains "output lists VF0 with its group" "$VF0" "$(cat $OUT_FILE)"
check_contains "output lists VF0's group" " $(grp $VF0) " "$(cat $OUT_FILE)"
check_eq "kernel: VF0 unbound" "-" "$(drv $VF0)"
expect_rc 0 "json lists both VFs" pcipass $S sriov "$PF" --numvfs 2 --json
check_eq "vfs" "$VF0 $VF1" "$(jget '[.vfs[].address]|join(" ")')"
check_eq "unchanged" false "$(jget .changed)"

phase "detach a VF"
expect_rc 0 "detach VF0" pcipass $S detach "$VF0"
check_eq "kernel: VF0 on vfio-pci" vfio-pci "$(drv $VF0)"
check "/dev/vfio/$(grp $VF0)" test -c /dev/vfio/$(grp $VF0)
expect_rc 0 "vfio-check VF0" pcipass vfio-check "$VF0"
show_out
expect_rc 1 "count change refused while VF0 is on vfio-pci" pcipass $S sriov "$PF" --numvfs 3
check_contains "names VF0" "$VF0 (on vfio-pci)" "$(cat $ERR_FILE)"
check_eq "kernel: still 2" 2 "$(cat $P/devices/$PF/sriov_numvfs)"
expect_rc 1 "the PF with VFs cannot be detached" pcipass $S detach "$PF"
check_contains "names the VFs" "$VF0" "$(cat $ERR_FILE)"
expect_rc 0 "reattach VF0" pcipass $S reattach "$VF0"
show_out
check_eq "kernel: VF0 unbound again (it was)" "-" "$(drv $VF0)"

phase "sriov: 2 -> 3 goes through 0, then remove"
expect_rc 0 "2 -> 3" pcipass -v $S sriov "$PF" --numvfs 3
show_out
check_contains "writes 0 first" "echo 0 > /sys/bus/pci/devices/$PF/sriov_numvfs" "$(cat $OUT_FILE)"
check_eq "kernel: 3 VFs" 3 "$(cat $P/devices/$PF/sriov_numvfs)"
expect_rc 0 "remove all" pcipass $S sriov "$PF" --numvfs 0
check_eq "kernel: 0 VFs" 0 "$(cat $P/devices/$PF/sriov_numvfs)"
check_not "virtfn0 gone" test -e $P/devices/$PF/virtfn0

phase "sriov with the PF itself on vfio-pci (enable_sriov)"
expect_rc 0 "detach the PF (no VFs now)" pcipass $S detach "$PF"
check_eq "kernel: PF on vfio-pci" vfio-pci "$(drv $PF)"
expect_rc 0 "1 VF on a vfio-pci PF" pcipass $S sriov "$PF" --numvfs 1
show_out
check_eq "kernel: enable_sriov=Y written" Y "$(cat /sys/module/vfio_pci/parameters/enable_sriov)"
check_eq "kernel: 1 VF" 1 "$(cat $P/devices/$PF/sriov_numvfs)"
check_eq "kernel: the VF was captured by vfio-pci" vfio-pci "$(drv ${PF%.0}.1)"
check_contains "note explains the VF token" "VF token" "$(cat $OUT_FILE)"
expect_rc 0 "remove it (not held by anyone)" pcipass $S sriov "$PF" --numvfs 0
check_eq "kernel: 0 VFs" 0 "$(cat $P/devices/$PF/sriov_numvfs)"
expect_rc 0 "reattach the PF" pcipass $S reattach "$PF"
check_eq "kernel: PF back on nvme" nvme "$(drv $PF)"
w N /sys/module/vfio_pci/parameters/enable_sriov

phase "apply the [host] desired state"
cat >/tmp/pcipass.conf <<CONF
[host]
vfio = $E1
vfio = {"vendor_id": "1234", "product_id": "11e8"}
vfio = ${PF%.0}.1
sriov_numvfs = $PF=2
sriov_autoprobe = $PF=off
CONF
cat /tmp/pcipass.conf
C="--config /tmp/pcipass.conf"
expect_rc 0 "apply --dry-run" pcipass $S $C apply --dry-run
show_out
check_eq "kernel: dry run made no VFs" 0 "$(cat $P/devices/$PF/sriov_numvfs)"
check_eq "kernel: dry run left E1" e1000e "$(drv $E1)"
check_contains "plan detaches E1" "$E1  would be detached" "$(cat $OUT_FILE)"
check_contains "plan creates VFs" "0 -> 2 VFs (planned)" "$(cat $OUT_FILE)"
expect_rc 0 "apply" pcipass $S $C apply
show_out
check_eq "kernel: 2 VFs" 2 "$(cat $P/devices/$PF/sriov_numvfs)"
check_eq "kernel: E1 vfio-pci" vfio-pci "$(drv $E1)"
check_eq "kernel: edu vfio-pci" vfio-pci "$(drv $EDU)"
check_eq "kernel: VF .1 vfio-pci" vfio-pci "$(drv ${PF%.0}.1)"
check_eq "kernel: VF .2 untouched" "-" "$(drv ${PF%.0}.2)"
expect_rc 0 "apply again" pcipass $S $C apply
show_out
check_contains "second run: nothing to do" "nothing to do" "$(cat $OUT_FILE)"
expect_rc 0 "apply again --json" pcipass $S $C apply --json
check_eq "nothing_to_do" true "$(jget .nothing_to_do)"
check_eq "no writes" 0 "$(jget '.detach.writes|length')"
expect_rc 0 "vfio-check edu" pcipass vfio-check "$EDU"
echo 'bogus = 1' >>/tmp/pcipass.conf
expect_rc 2 "a bad [host] key is an error" pcipass $S $C apply
check_contains "names file, line and key" "pcipass.conf:7: [host] bogus = 1" "$(cat $ERR_FILE)"

finish
