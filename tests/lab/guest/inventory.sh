#!/bin/sh
# inventory.sh - issue 2 on the real kernel (std devset): pcipass check,
# groups and list report what this kernel really has, cross-checked against
# raw sysfs: IOMMU on and ready; each e1000e alone in its group; the bridge
# group shared by 04:00.0 + 05:01.0 + 05:02.0; the NVMe PF with
# sriov_totalvfs 4 as type-PF, and its VFs (created here) as type-VF.
. /lab/lib.sh

# jq helpers tolerant of {"groups": [...]} or a bare array, and of members
# given as objects ({"address": ...}) or plain strings.
GROUPS_Q='(if type == "array" then . else .groups end)'
MEMBERS_Q='[.members[] | if type == "object" then .address else . end] | sort | join(" ")'
DEVICES_Q='(if type == "array" then . else .devices end)'
# group_json_members ID [FILE]: members of group ID as pcipass reports them.
group_json_members() {
  jget "$GROUPS_Q | map(select((.id|tostring) == \"$1\")) | .[0] | $MEMBERS_Q" "$2"
}
group_json_field() {  # ID FIELD [FILE]
  jget "$GROUPS_Q | map(select((.id|tostring) == \"$1\")) | .[0].$2" "$3"
}
dev_field() {  # ADDR FIELD [FILE]
  jget "$DEVICES_Q | map(select(.address == \"$1\")) | .[0].$2" "$3"
}

phase "raw sysfs (what the kernel has)"
E1=$(find_dev 0x8086 0x10d3 0); E2=$(find_dev 0x8086 0x10d3 1)
NV=$(find_dev 0x1b36 0x0010 0); BR=$(find_dev 0x1b36 0x000e 0)
PCI1=$(find_dev 0x8086 0x100e 0); PCI2=$(find_dev 0x10ec 0x8139 0)
EDU=$(find_dev 0x1234 0x11e8 0)
echo "e1000e=$E1,$E2 nvme=$NV bridge=$BR behind=$PCI1,$PCI2 edu=$EDU"
check "all std devices found" test -n "$E1" -a -n "$E2" -a -n "$NV" -a \
  -n "$BR" -a -n "$PCI1" -a -n "$PCI2" -a -n "$EDU"
NDEV=$(ls $P/devices | wc -l)
NGRP=$(ls /sys/kernel/iommu_groups | wc -l)
GB=$(grp $BR)
check_eq "kernel: bridge group holds bridge + both devices" \
  "$(echo $BR $PCI1 $PCI2 | tr ' ' '\n' | sort | tr '\n' ' ' | sed 's/ $//')" \
  "$(group_members $GB)"
check_eq "kernel: e1000e $E1 alone in its group" "$E1" "$(group_members $(grp $E1))"
check_eq "kernel: NVMe sriov_totalvfs" 4 "$(cat $P/devices/$NV/sriov_totalvfs)"

phase "pcipass check"
expect_rc 0 "check --json exits 0 (ready)" pcipass check --json
cp $OUT_FILE /tmp/check.json
check_eq "ready is true" true "$(jget .ready)"
check_contains "verdict says ready" "ready for PCI passthrough" "$(jget .verdict)"
for id in firmware_iommu iommu_driver iommu_groups interrupt_remapping vfio \
          vfio_pci vfio_iommu_type1 vfio_container unsafe_interrupts \
          noiommu_mode default_domain; do
  check_eq "check $id" pass "$(jget ".checks[] | select(.id == \"$id\") | .status")"
done
check_eq "no KVM in the lab guest: kvm warns" warn \
  "$(jget '.checks[] | select(.id == "kvm") | .status')"
check_eq "no hugepages: hugepages warns" warn \
  "$(jget '.checks[] | select(.id == "hugepages") | .status')"
check_contains "iommu_driver names dmar0" dmar0 \
  "$(jget '.checks[] | select(.id == "iommu_driver") | .detail')"
check_contains "cmdline shows intel_iommu=on" intel_iommu=on \
  "$(jget '.checks[] | select(.id == "kernel_cmdline") | .detail')"
check_eq "iommu_vendor" intel "$(jget .iommu_vendor)"
check_eq "kernel_release is the guest's" "$(uname -r)" "$(jget .kernel_release)"
check_eq "summary.devices = sysfs functions" "$NDEV" "$(jget .summary.devices)"
check_eq "summary.iommu_groups = sysfs groups" "$NGRP" "$(jget .summary.iommu_groups)"
check_eq "summary.sriov_pfs" 1 "$(jget .summary.sriov_pfs)"
check_eq "summary.vfio_devices (nothing detached)" 0 "$(jget .summary.vfio_devices)"
expect_rc 0 "check (text) exits 0" pcipass check
check_contains "text says READY" "READY: ready for PCI passthrough" "$(cat $OUT_FILE)"
check_contains "text has a summary line" "summary: $NDEV PCI functions" "$(cat $OUT_FILE)"

phase "pcipass groups"
expect_rc 0 "groups --json exits 0" pcipass groups --json
cp $OUT_FILE /tmp/groups.json
check_eq "as many groups as the kernel" "$NGRP" "$(jget "$GROUPS_Q | length")"
for g in $(ls /sys/kernel/iommu_groups); do
  check_eq "group $g members = kernel's" "$(group_members $g)" \
    "$(group_json_members $g /tmp/groups.json)"
done
for d in $E1 $E2; do
  check_eq "$d alone in group $(grp $d)" "$d" "$(group_json_members $(grp $d) /tmp/groups.json)"
  check_eq "$d group not viable (e1000e bound)" false \
    "$(group_json_field $(grp $d) viable /tmp/groups.json)"
done
check_eq "bridge group $GB members" \
  "$(echo $BR $PCI1 $PCI2 | tr ' ' '\n' | sort | tr '\n' ' ' | sed 's/ $//')" \
  "$(group_json_members $GB /tmp/groups.json)"
check_eq "bridge group not viable" false "$(group_json_field $GB viable /tmp/groups.json)"
check_contains "bridge group blockers name $PCI1" "$PCI1" \
  "$(group_json_field $GB blockers /tmp/groups.json)"
check_contains "bridge group blockers name $PCI2" "$PCI2" \
  "$(group_json_field $GB blockers /tmp/groups.json)"
check_eq "edu group viable (no driver)" true \
  "$(group_json_field $(grp $EDU) viable /tmp/groups.json)"
check_eq "NVMe in its own group" "$NV" "$(group_json_members $(grp $NV) /tmp/groups.json)"
check_eq "group type DMA (as the kernel says)" \
  "$(cat /sys/kernel/iommu_groups/$(grp $E1)/type)" \
  "$(group_json_field $(grp $E1) type /tmp/groups.json)"
check_eq "no noiommu groups" false "$(group_json_field $(grp $E1) noiommu /tmp/groups.json)"
expect_rc 0 "groups (text) exits 0" pcipass groups
check_contains "text groups lists the bridge" "$BR" "$(cat $OUT_FILE)"

phase "pcipass list"
expect_rc 0 "list --json exits 0" pcipass list --json
cp $OUT_FILE /tmp/list.json
check_eq "list: one entry per function" "$NDEV" "$(jget "$DEVICES_Q | length")"
for d in $(ls $P/devices); do
  want_grp=$(grp $d); [ "$want_grp" = - ] && want_grp=null
  check_eq "list $d iommu_group = kernel's" "$want_grp" "$(dev_field $d iommu_group /tmp/list.json)"
  want_drv=$(drv $d); [ "$want_drv" = - ] && want_drv=null
  check_eq "list $d driver = kernel's" "$want_drv" "$(dev_field $d driver /tmp/list.json)"
done
check_eq "NVMe dev_type" type-PF "$(dev_field $NV dev_type /tmp/list.json)"
check_eq "NVMe sriov_totalvfs" 4 "$(dev_field $NV sriov_totalvfs /tmp/list.json)"
check_eq "NVMe ids" "1b36:0010" \
  "$(jget "$DEVICES_Q | map(select(.address == \"$NV\")) | .[0] | .vendor_id + \":\" + .product_id" /tmp/list.json)"
check_eq "e1000e dev_type" type-PCI "$(dev_field $E1 dev_type /tmp/list.json)"
check_eq "e1000e numa_node (none: null)" null "$(dev_field $E1 numa_node /tmp/list.json)"

phase "SR-IOV: 2 NVMe VFs, as the kernel creates them"
w 0 $P/devices/$NV/sriov_drivers_autoprobe
check "create 2 VFs" w 2 $P/devices/$NV/sriov_numvfs
VF1=$(basename $(readlink $P/devices/$NV/virtfn0)); VF2=$(basename $(readlink $P/devices/$NV/virtfn1))
echo "VFs: $VF1 (group $(grp $VF1)) $VF2 (group $(grp $VF2))"
expect_rc 0 "groups --json with VFs" pcipass groups --json
check_eq "VF $VF1 alone in group $(grp $VF1)" "$VF1" "$(group_json_members $(grp $VF1))"
check_eq "VF $VF1 group viable (VF unbound)" true "$(group_json_field $(grp $VF1) viable)"
expect_rc 0 "check --json with VFs" pcipass check --json
check_eq "summary.sriov_vfs" 2 "$(jget .summary.sriov_vfs)"
check_eq "summary.devices grew by 2" "$((NDEV + 2))" "$(jget .summary.devices)"
expect_rc 0 "list --json with VFs" pcipass list --json
check_eq "VF dev_type" type-VF "$(dev_field $VF1 dev_type)"
check_eq "VF parent_addr" "$NV" "$(dev_field $VF1 parent_addr)"
check_eq "VF iommu_group = kernel's" "$(grp $VF1)" "$(dev_field $VF1 iommu_group)"
check_contains "PF lists its VFs" "$VF2" "$(dev_field $NV vfs)"
check_eq "PF sriov_numvfs" 2 "$(dev_field $NV sriov_numvfs)"
check "remove the VFs" w 0 $P/devices/$NV/sriov_numvfs

finish
