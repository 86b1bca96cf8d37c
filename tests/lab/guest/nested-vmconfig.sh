#!/bin/sh
# nested-vmconfig.sh - the QEMU arguments pcipass vm-config generates really
# start a VMM that owns the device: the edu device (1234:11e8) is put on
# vfio-pci by pcipass detach, an instance's claim on it is written to a real
# ledger (through the Ledger API, with the pcipass-ledger-seed test helper),
# and
#   qemu-system-x86_64 ... $(pcipass vm-config --instance vm-1 --format qemu)
# is started paused; 'info pci' over HMP must list 1234:11e8 with id
# "hostdev0". This proves vm-config's output on its own; nested-claim.sh
# proves the whole claim -> vm-config -> QEMU -> release chain.
# Then hot-plug: a second nested QEMU (paused, one pcie-root-port, QMP
# socket) gets the device through pcipass hotplug (QMP device_add vfio-pci);
# the kernel shows that QEMU process holding /dev/vfio/N open. The paused
# guest cannot acknowledge an unplug, so pcipass hotplug --unplug must time
# out and say the device is still in the VM.
. /lab/lib.sh
export PCIPASS_STATE=/tmp/state
EDU=$(find_dev 0x1234 0x11e8 0)
check "edu device present" test -n "$EDU"

phase "pcipass detach $EDU"
expect_rc 0 "detach edu" pcipass detach "$EDU"
show_out
check_eq "kernel: edu on vfio-pci" vfio-pci "$(drv $EDU)"
check "/dev/vfio/$(grp $EDU) exists" test -c /dev/vfio/$(grp $EDU)

phase "ledger row + vm-config"
mkdir -p $PCIPASS_STATE
expect_rc 0 "seed the claim" pcipass-ledger-seed $PCIPASS_STATE/ledger.sqlite vm-1 "$EDU/type-PCI/edu"
expect_rc 0 "vm-config --format qemu" pcipass vm-config --instance vm-1 --format qemu
show_out
check_eq "qemu args" "-device vfio-pci,host=$EDU,id=hostdev0" "$(cat $OUT_FILE)"
ARGS=$(cat $OUT_FILE)
expect_rc 0 "vm-config --format libvirt" pcipass vm-config --instance vm-1
show_out
check_contains "libvirt source address" "bus=\"0x06\" slot=\"0x00\" function=\"0x0\"" "$(cat $OUT_FILE)"

phase "nested QEMU with the generated arguments"
eval "set -- $ARGS"
echo "RUN qemu-system-x86_64 ... -S -monitor stdio $*"
printf 'info pci\nquit\n' | qemu-system-x86_64 -accel tcg -machine q35 -cpu max \
  -m 128M -nodefaults -display none -no-reboot -S -monitor stdio "$@" \
  > /tmp/hmp.out 2>&1
QRC=$?
grep -v '^\s*$' /tmp/hmp.out | sed -n '1,60p'
check_eq "nested qemu exits 0" 0 "$QRC"
# The slot listing id "hostdev0" must be the 1234:11e8 device.
check "nested guest sees 1234:11e8 as hostdev0" awk '/Bus /{e=0} /PCI device 1234:11e8/{e=1} /id "hostdev0"/{if (e) f=1} END{exit !f}' /tmp/hmp.out

phase "hot-plug into a running nested QEMU over QMP"
G=$(grp $EDU)
qemu-system-x86_64 -accel tcg -machine q35 -cpu max -m 128M -nodefaults \
  -display none -no-reboot -S -qmp unix:/tmp/qmp.sock,server=on,wait=off \
  -device pcie-root-port,id=rp1,chassis=1 > /tmp/qemu-hp.log 2>&1 &
QPID=$!
wait_for 20 test -S /tmp/qmp.sock
check "QMP socket appeared" test -S /tmp/qmp.sock
check_not "before: QEMU does not hold /dev/vfio/$G" sh -c "ls -l /proc/$QPID/fd | grep -q /dev/vfio/$G"
expect_rc 0 "pcipass hotplug --bus rp1" pcipass hotplug --instance vm-1 --qmp /tmp/qmp.sock --bus rp1
show_out; show_err
check_eq "reports the device" "plugged $EDU as hostdev0" "$(cat $OUT_FILE)"
check "after: QEMU holds /dev/vfio/$G open (kernel view)" sh -c "ls -l /proc/$QPID/fd | grep -q /dev/vfio/$G"
expect_rc 1 "unplug from a paused guest times out" pcipass hotplug --instance vm-1 --qmp /tmp/qmp.sock --unplug --timeout 1500
show_err
check_contains "says the device is still in the VM" "still in the VM" "$(cat $ERR_FILE)"
expect_rc 1 "a second hotplug of the same id is refused by QEMU" pcipass hotplug --instance vm-1 --qmp /tmp/qmp.sock --bus rp1
show_err
kill $QPID; wait $QPID 2>/dev/null
check_eq "kernel: edu still on vfio-pci after QEMU exits" vfio-pci "$(drv $EDU)"

phase "pcipass reattach $EDU (held by vm-1 in the ledger)"
expect_rc 1 "reattach refused while the ledger gives edu to vm-1" pcipass reattach "$EDU"
show_err
check_contains "names the holder" "$EDU (instance vm-1)" "$(cat $ERR_FILE)"
check_eq "kernel: edu still on vfio-pci after the refusal" vfio-pci "$(drv $EDU)"
expect_rc 0 "reattach --force edu" pcipass reattach --force "lab: vm-1's QEMU has exited" "$EDU"
show_out; show_err
check "the forced reattach and its reason are in the state log" grep -q "FORCED: lab: vm-1's QEMU has exited" $PCIPASS_STATE/log
check_eq "kernel: edu unbound again" - "$(drv $EDU)"
check_eq "kernel: driver_override cleared" "(null)" "$(cat $P/devices/$EDU/driver_override)"
finish
