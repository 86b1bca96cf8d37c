#!/bin/sh
# lab-selftest.sh - the harness itself works: lib.sh, jq, pcipass, vfio-probe,
# the real kernel's IOMMU (std devset). Fast; run it first when the lab breaks.
. /lab/lib.sh

phase "environment"
check "PCIPASS_LAB=1 in the guest" test "$PCIPASS_LAB" = 1
check "pcipass is in /bin" test -x /bin/pcipass
check "vfio-probe is in /bin" test -x /bin/vfio-probe
check "pci.ids is present" test -s /usr/share/misc/pci.ids
expect_rc 0 "pcipass version runs" pcipass version
check_contains "version output" "pcipass" "$(cat $OUT_FILE)"
expect_rc 2 "pcipass with an unknown verb is a usage error" pcipass no-such-verb

phase "jq"
echo '{"a": {"b": [1, 2, 3]}, "s": "x"}' > /tmp/j.json
check_eq "jget reads a nested array length" 3 "$(jget '.a.b|length' /tmp/j.json)"
check_eq "jget reads a string" x "$(jget .s /tmp/j.json)"
check_eq "jget on non-JSON says JQ-ERROR" JQ-ERROR "$(jget .s /etc/lab-modules)"

phase "kernel"
check "IOMMU groups exist" test -n "$(ls /sys/kernel/iommu_groups)"
check "dmar0 in /sys/class/iommu" test -e /sys/class/iommu/dmar0
check "/dev/vfio/vfio exists" test -c /dev/vfio/vfio
E1=$(find_dev 0x8086 0x10d3 0)
check "an e1000e exists" test -n "$E1"
check_eq "e1000e bound at boot" e1000e "$(drv $E1)"
finish
