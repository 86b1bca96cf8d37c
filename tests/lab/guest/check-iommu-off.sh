#!/bin/sh
# check-iommu-off.sh - the real kernel with its IOMMU switched off
# (run with -c intel_iommu=off: the last intel_iommu= wins): pcipass check
# must say passthrough is impossible, why, and the fix, and exit 1.
. /lab/lib.sh

phase "raw sysfs"
check "the kernel has no IOMMU groups" test -z "$(ls /sys/kernel/iommu_groups)"
check "sys/class/iommu is empty" test -z "$(ls /sys/class/iommu)"
check_contains "cmdline ends with intel_iommu=off" intel_iommu=off "$(cat /proc/cmdline)"

phase "pcipass check"
expect_rc 1 "check --json exits 1 (not ready)" pcipass check --json
check_eq "ready is false" false "$(jget .ready)"
check_contains "verdict names the cause" \
  "PCI passthrough is impossible here because the IOMMU is not active" "$(jget .verdict)"
check_eq "firmware_iommu passes (DMAR is there)" pass \
  "$(jget '.checks[] | select(.id == "firmware_iommu") | .status')"
check_eq "iommu_driver fails" fail \
  "$(jget '.checks[] | select(.id == "iommu_driver") | .status')"
check_contains "iommu_driver fix: remove intel_iommu=off" "remove intel_iommu=off" \
  "$(jget '.checks[] | select(.id == "iommu_driver") | .fix')"
check_eq "iommu_groups fails" fail \
  "$(jget '.checks[] | select(.id == "iommu_groups") | .status')"
check_eq "kernel_cmdline fails" fail \
  "$(jget '.checks[] | select(.id == "kernel_cmdline") | .status')"
check_eq "summary: no groups" 0 "$(jget .summary.iommu_groups)"
expect_rc 1 "check (text) exits 1" pcipass check
check_contains "text says NOT READY" "NOT READY: PCI passthrough is impossible here" "$(cat $OUT_FILE)"
check_contains "text shows the fix" "fix: remove intel_iommu=off" "$(cat $OUT_FILE)"
finish
