#!/bin/sh
# nested-claim.sh - issue 4's lab proof, the whole chain on a real kernel:
#   pcipass claim    takes the QEMU edu device (1234:11e8) for instance vm-1
#                    through its alias and detaches it to vfio-pci;
#   pcipass vm-config --format qemu   prints the -device arguments;
#   a nested QEMU started with exactly those arguments owns the device
#                    ('info pci' lists 1234:11e8 as hostdev0);
#   pcipass release  gives it back: the ledger frees it and, with
#                    [claims] reattach_on_release, the kernel shows the
#                    device as it was before (no driver, no override).
. /lab/lib.sh
export PCIPASS_STATE=/tmp/state PCIPASS_CONFIG=/tmp/pcipass.conf
EDU=$(find_dev 0x1234 0x11e8 0)
check "edu device present" test -n "$EDU"
check_eq "edu unbound at boot" - "$(drv $EDU)"
cat > $PCIPASS_CONFIG <<'CONF'
[pci]
device_spec = {"vendor_id": "1234", "product_id": "11e8"}
alias = {"name": "edu", "vendor_id": "1234", "product_id": "11e8", "device_type": "type-PCI"}

[claims]
reattach_on_release = true
CONF

phase "claim"
expect_rc 0 "claim edu:1 for vm-1" pcipass claim --instance vm-1 edu:1
show_out
check_eq "kernel: edu on vfio-pci" vfio-pci "$(drv $EDU)"
check "/dev/vfio/$(grp $EDU) appeared" test -c /dev/vfio/$(grp $EDU)
# The first command after the claim: the driver change was pcipass's own.
expect_rc 0 "reconcile after claim" pcipass reconcile
show_out; show_err
check_contains "claim's own detach is not drift" "no drift" "$(cat $OUT_FILE)"
expect_rc 0 "claims --json" pcipass claims --instance vm-1 --json
show_out
check_contains "ledger: vm-1 holds the edu device" "$EDU" "$(cat $OUT_FILE)"

phase "vm-config"
expect_rc 0 "vm-config --format qemu" pcipass vm-config --instance vm-1 --format qemu
show_out
check_eq "qemu args" "-device vfio-pci,host=$EDU,id=hostdev0" "$(cat $OUT_FILE)"
ARGS=$(cat $OUT_FILE)
expect_rc 0 "vm-config --domain-xml" pcipass vm-config --instance vm-1 --domain-xml
check_contains "libvirt hostdev for the edu device" \
  "<address domain=\"0x0000\" bus=\"0x06\" slot=\"0x00\" function=\"0x0\" />" "$(cat $OUT_FILE)"
check_contains "managed=no: pcipass, not libvirt, owns the binding" \
  "<hostdev mode=\"subsystem\" type=\"pci\" managed=\"no\">" "$(cat $OUT_FILE)"

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

phase "release"
expect_rc 0 "release vm-1" pcipass release --instance vm-1
show_out
check_eq "kernel: edu has no driver again" - "$(drv $EDU)"
check_eq "kernel: driver_override cleared" "(null)" "$(cat $P/devices/$EDU/driver_override)"
expect_rc 0 "reconcile after release" pcipass reconcile
show_out; show_err
check_contains "release's own reattach is not drift" "no drift" "$(cat $OUT_FILE)"
expect_rc 0 "claims --json after release" pcipass claims --instance vm-1 --json
check_not "ledger: vm-1 holds nothing" grep -q "$EDU" $OUT_FILE
expect_rc 1 "vm-config after release: nothing to configure" pcipass vm-config --instance vm-1 --format qemu
check_contains "says why" "holds no devices" "$(cat $ERR_FILE)"
finish
