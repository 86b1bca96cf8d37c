#!/bin/sh
# check-iommu-pt.sh - the real kernel with iommu=pt (run with -p): groups
# have type "identity", passthrough is still possible and check says so.
. /lab/lib.sh

E1=$(find_dev 0x8086 0x10d3 0)
check_eq "kernel: group type identity" identity "$(cat /sys/kernel/iommu_groups/$(grp $E1)/type)"
expect_rc 0 "check --json exits 0 (ready)" pcipass check --json
check_eq "ready is true" true "$(jget .ready)"
check_eq "default_domain passes" pass \
  "$(jget '.checks[] | select(.id == "default_domain") | .status')"
check_contains "default_domain explains identity" "identity = iommu=pt" \
  "$(jget '.checks[] | select(.id == "default_domain") | .detail')"
check_contains "cmdline shows iommu=pt" iommu=pt \
  "$(jget '.checks[] | select(.id == "kernel_cmdline") | .detail')"
finish
