#!/bin/sh
# crash-midwrite.sh - issue 8 item 9: crash safety mid-write, proven on the
# real kernel. For `detach --group` (the bridge group: e1000 + rtl8139),
# `sriov` (NVMe PF: 0 -> 2 with autoprobe off, 2 -> 3, 3 -> 0) and `claim`
# (the bridge group through an alias), the test first counts the command's
# sysfs writes (PCIPASS_TEST_WRITE_LOG), then for EVERY step N from 1 to
# the last write: starts the command with PCIPASS_TEST_PAUSE_AT_WRITE=N (it
# blocks right after its Nth write), SIGKILLs it there, and runs the next
# command an operator would (the same command again, reattach, release, or
# an unrelated command that recovers the journal first). After that next
# command it asserts, from the kernel's own sysfs:
#  - 0 half-bound IOMMU groups. A group is whole when all its endpoint
#    members (PCI bridges, class 0x0604, are not endpoints) are either
#    ALL on vfio-pci with driver_override=vfio-pci, or ALL exactly as at
#    boot (the boot driver, or none, and driver_override "(null)"). Any
#    other mix or state (unbound with an override, vfio-pci mixed with host
#    drivers, ...) is half-bound. Every group in /sys/kernel/iommu_groups
#    is checked, not only the one touched.
#  - the journal (<state>/journal.json) is gone and the recovery said what
#    it did (rolled back, or completed for sriov);
#  - claim: the ledger is consistent (`pcipass claims --devices --json`):
#    no device claimed/allocated without an owner, no owner without a held
#    state, every claim row matches its device row, nothing is held while
#    the kernel has it back on its host driver, and every device the
#    kernel has on vfio-pci is held in the ledger.
. /lab/lib.sh

S="--state /tmp/state"
B1=$(find_dev 0x8086 0x100e 0)   # e1000 behind the bridge
B2=$(find_dev 0x10ec 0x8139 0)   # rtl8139 behind the bridge
PF=$(find_dev 0x1b36 0x0010 0)   # NVMe PF, sriov_totalvfs 4
E1=$(find_dev 0x8086 0x10d3 0)
GB=$(grp "$B1")
note "bridge group $GB: $(group_members $GB); PF=$PF E1=$E1"

# ---- the kernel's view, independent of pcipass --------------------------
# Boot state of every function: "<addr> <driver or -> <override>".
for _d in $P/devices/*; do
  _a=$(basename $_d)
  echo "$_a $(drv $_a) $(cat $_d/driver_override)"
done >/tmp/boot-state
boot_drv() { awk -v a="$1" '$1 == a { print $2; f = 1 } END { if (!f) print "-" }' /tmp/boot-state; }

# group_state G: prints "vfio", "host" or "HALF <why>".
group_state() {
  _nv=0; _nh=0; _odd=""
  for _m in $(ls /sys/kernel/iommu_groups/$1/devices); do
    case $(cat $P/devices/$_m/class) in 0x0604*) continue ;; esac
    _dr=$(drv $_m); _ov=$(cat $P/devices/$_m/driver_override)
    if [ "$_dr" = vfio-pci ] && [ "$_ov" = vfio-pci ]; then
      _nv=$((_nv + 1))
    elif [ "$_dr" = "$(boot_drv $_m)" ] && [ "$_ov" = "(null)" ]; then
      _nh=$((_nh + 1))
    else
      _odd="$_odd $_m(driver=$_dr override=$_ov boot=$(boot_drv $_m))"
    fi
  done
  if [ -n "$_odd" ]; then echo "HALF$_odd"
  elif [ $_nv -gt 0 ] && [ $_nh -gt 0 ]; then echo "HALF vfio-pci and host drivers mixed"
  elif [ $_nv -gt 0 ]; then echo vfio
  else echo host; fi
}
# half_groups: "G: why" for every half-bound group, nothing when none.
half_groups() {
  for _g in $(ls /sys/kernel/iommu_groups); do
    _s=$(group_state $_g)
    case $_s in HALF*) echo "group $_g: $_s" ;; esac
  done
}
check_whole() {  # check_whole LABEL
  _h=$(half_groups)
  check_eq "$1: half-bound groups" "" "$_h"
}

# ---- the crash hook -----------------------------------------------------
# count_writes LOG cmd...: runs cmd with the write log, prints the count.
count_writes() {
  _log=$1; shift
  rm -f "$_log"
  PCIPASS_TEST_WRITE_LOG=$_log "$@" >/tmp/count.out 2>&1
  _rc=$?
  echo "---- writes of: $* (rc=$_rc)" >&2
  cat "$_log" >&2
  wc -l <"$_log" 2>/dev/null | tr -d ' '
}
# crash_at N cmd...: runs cmd paused right after its Nth sysfs write and
# SIGKILLs it there. Checks it really paused after write N (not before,
# not finished).
crash_at() {
  _n=$1; shift
  rm -f /tmp/paused /tmp/crash.wlog
  echo "RUN (kill -9 after write $_n) $*"
  PCIPASS_TEST_PAUSE_AT_WRITE=$_n PCIPASS_TEST_PAUSE_MARKER=/tmp/paused \
    PCIPASS_TEST_WRITE_LOG=/tmp/crash.wlog "$@" >/tmp/crash.out 2>&1 &
  _pid=$!
  _t=600
  while [ $_t -gt 0 ] && [ ! -s /tmp/paused ] && kill -0 $_pid 2>/dev/null; do
    usleep 50000; _t=$((_t - 1))
  done
  if [ -s /tmp/paused ]; then
    kill -9 $_pid
    wait $_pid
    _rc=$?
    check_eq "step $_n: paused after write $_n, then SIGKILLed" \
      "$_pid 137 $_n" "$(cat /tmp/paused) $_rc $(wc -l </tmp/crash.wlog | tr -d ' ')"
    tail -1 /tmp/crash.wlog
  else
    kill -9 $_pid 2>/dev/null
    wait $_pid
    bad "step $_n: never reached write $_n (rc=$?)"
    cat /tmp/crash.out
  fi
}
journal_gone() { check_not "$1: journal gone" test -e /tmp/state/journal.json; }

# ======================================================================
phase "detach --group of the bridge group: count the writes"
modprobe vfio-pci
N_DETACH=$(count_writes /tmp/detach.wlog pcipass $S detach "$B1" --group)
note "detach --group has $N_DETACH sysfs writes"
check "detach has writes to crash between" test "$N_DETACH" -ge 2
check_eq "counting run: group on vfio-pci" vfio "$(group_state $GB)"
expect_rc 0 "reattach --group" pcipass $S reattach "$B1" --group
check_eq "group back on the host" host "$(group_state $GB)"
check_whole "after the counting run"

N=1
while [ $N -le "$N_DETACH" ]; do
  phase "detach: killed after write $N of $N_DETACH, then the same detach again"
  crash_at $N pcipass $S detach "$B1" --group
  check "step $N: journal left by the crash" test -e /tmp/state/journal.json
  expect_rc 0 "step $N: detach --group again" pcipass $S detach "$B1" --group
  check_contains "step $N: recovered first" "recovered an unfinished detach" "$(cat $OUT_FILE $ERR_FILE)"
  check_eq "step $N: bridge group wholly on vfio-pci" vfio "$(group_state $GB)"
  check_whole "step $N after detach"
  journal_gone "step $N after detach"
  expect_rc 0 "step $N: reattach --group" pcipass $S reattach "$B1" --group
  check_eq "step $N: bridge group back on the host" host "$(group_state $GB)"
  check_whole "step $N after reattach"

  phase "detach: killed after write $N of $N_DETACH, then reattach"
  crash_at $N pcipass $S detach "$B1" --group
  expect_rc 0 "step $N: reattach --group" pcipass $S reattach "$B1" --group
  check_contains "step $N: recovered first" "recovered an unfinished detach" "$(cat $OUT_FILE $ERR_FILE)"
  check_eq "step $N: bridge group as at boot" host "$(group_state $GB)"
  check_whole "step $N after reattach"
  journal_gone "step $N after reattach"
  N=$((N + 1))
done

# ======================================================================
# sriov_reset COUNT AUTOPROBE: the PF's state through raw sysfs.
sriov_reset() {
  w 0 $P/devices/$PF/sriov_numvfs >/dev/null
  w "$2" $P/devices/$PF/sriov_drivers_autoprobe >/dev/null
  [ "$1" = 0 ] || w "$1" $P/devices/$PF/sriov_numvfs >/dev/null
}
numvfs() { cat $P/devices/$PF/sriov_numvfs; }
autoprobe() { cat $P/devices/$PF/sriov_drivers_autoprobe; }
vfs_unbound() {  # every VF of the PF has no driver
  for _v in $P/devices/$PF/virtfn*; do
    [ -e "$_v" ] || continue
    [ "$(drv $(basename $(readlink $_v)))" = - ] || return 1
  done
}

phase "sriov: count the writes of each transition"
sriov_reset 0 1
N_S1=$(count_writes /tmp/s1.wlog pcipass $S sriov "$PF" --numvfs 2 --no-autoprobe)
check_eq "0 -> 2 made 2 VFs" "2 0" "$(numvfs) $(autoprobe)"
N_S2=$(count_writes /tmp/s2.wlog pcipass $S sriov "$PF" --numvfs 3)
check_eq "2 -> 3 made 3 VFs" 3 "$(numvfs)"
N_S3=$(count_writes /tmp/s3.wlog pcipass $S sriov "$PF" --numvfs 0)
check_eq "3 -> 0 removed them" 0 "$(numvfs)"
note "sriov writes: 0->2 --no-autoprobe $N_S1, 2->3 $N_S2, 3->0 $N_S3"
check "2 -> 3 goes through 0 (two writes)" test "$N_S2" = 2

N=1
while [ $N -le "$N_S1" ]; do
  phase "sriov 0 -> 2 --no-autoprobe: killed after write $N of $N_S1, then the same command"
  sriov_reset 0 1
  crash_at $N pcipass $S sriov "$PF" --numvfs 2 --no-autoprobe
  expect_rc 0 "step $N: sriov again" pcipass $S sriov "$PF" --numvfs 2 --no-autoprobe
  check_eq "step $N: kernel: 2 VFs, autoprobe 0" "2 0" "$(numvfs) $(autoprobe)"
  check "step $N: VFs unbound" vfs_unbound
  check_whole "step $N"
  journal_gone "step $N"
  N=$((N + 1))
done

N=1
while [ $N -le "$N_S2" ]; do
  phase "sriov 2 -> 3: killed after write $N of $N_S2, then the same command"
  sriov_reset 2 0
  crash_at $N pcipass $S sriov "$PF" --numvfs 3
  expect_rc 0 "step $N: sriov again" pcipass $S sriov "$PF" --numvfs 3
  check_contains "step $N: recovery completed the change" "recovered an unfinished sriov" "$(cat $OUT_FILE $ERR_FILE)"
  check_eq "step $N: kernel: 3 VFs" 3 "$(numvfs)"
  check "step $N: VFs unbound" vfs_unbound
  check_whole "step $N"
  journal_gone "step $N"

  phase "sriov 2 -> 3: killed after write $N of $N_S2, then an unrelated command"
  sriov_reset 2 0
  crash_at $N pcipass $S sriov "$PF" --numvfs 3
  expect_rc 0 "step $N: reattach $E1 (a no-op)" pcipass $S reattach "$E1"
  check_contains "step $N: recovery completed the change" "recovered an unfinished sriov" "$(cat $OUT_FILE $ERR_FILE)"
  check_eq "step $N: kernel: 3 VFs (completed)" 3 "$(numvfs)"
  check_whole "step $N"
  journal_gone "step $N"
  N=$((N + 1))
done

N=1
while [ $N -le "$N_S3" ]; do
  phase "sriov 3 -> 0: killed after write $N of $N_S3, then the same command"
  sriov_reset 3 0
  crash_at $N pcipass $S sriov "$PF" --numvfs 0
  expect_rc 0 "step $N: sriov again" pcipass $S sriov "$PF" --numvfs 0
  check_eq "step $N: kernel: 0 VFs" 0 "$(numvfs)"
  check_whole "step $N"
  journal_gone "step $N"
  N=$((N + 1))
done
sriov_reset 0 1

# ======================================================================
# reattach --group from a detached bridge group. Recovery of a reattach
# journal completes it (every member back on its boot driver).
phase "reattach --group of the bridge group: count the writes"
expect_rc 0 "detach --group" pcipass $S detach "$B1" --group
N_REATTACH=$(count_writes /tmp/reattach.wlog pcipass $S reattach "$B1" --group)
note "reattach --group has $N_REATTACH sysfs writes"
check "reattach has writes to crash between" test "$N_REATTACH" -ge 2
check_eq "counting run: group back on the host" host "$(group_state $GB)"

N=1
while [ $N -le "$N_REATTACH" ]; do
  phase "reattach: killed after write $N of $N_REATTACH, then the same reattach"
  expect_rc 0 "step $N: detach --group" pcipass $S detach "$B1" --group
  crash_at $N pcipass $S reattach "$B1" --group
  check "step $N: journal left by the crash" test -e /tmp/state/journal.json
  expect_rc 0 "step $N: reattach --group again" pcipass $S reattach "$B1" --group
  check_contains "step $N: recovered first" "recovered an unfinished reattach" "$(cat $OUT_FILE $ERR_FILE)"
  check_eq "step $N: bridge group as at boot" host "$(group_state $GB)"
  check_whole "step $N after reattach"
  journal_gone "step $N after reattach"

  phase "reattach: killed after write $N of $N_REATTACH, then an unrelated command"
  expect_rc 0 "step $N: detach --group" pcipass $S detach "$B1" --group
  crash_at $N pcipass $S reattach "$B1" --group
  expect_rc 0 "step $N: reattach $E1 (a no-op)" pcipass $S reattach "$E1"
  check_contains "step $N: recovery completed the reattach" "recovered an unfinished reattach" "$(cat $OUT_FILE $ERR_FILE)"
  check_eq "step $N: bridge group as at boot" host "$(group_state $GB)"
  check_whole "step $N after the unrelated command"
  journal_gone "step $N after the unrelated command"
  N=$((N + 1))
done

# ======================================================================
# apply: the [host] desired state (VFs on the NVMe PF, E1 on vfio-pci) is
# several journaled steps; killed after any write, apply again converges.
cat >/tmp/apply.conf <<CONF
[host]
vfio = $E1
sriov_numvfs = $PF=2
sriov_autoprobe = $PF=off
CONF
apply_reset() {
  pcipass $S reattach "$E1" >/dev/null 2>&1
  sriov_reset 0 1
}
applied() {  # the desired state, from the kernel
  echo "$(numvfs) $(autoprobe) $(drv $E1) $(cat $P/devices/$E1/driver_override)"
}
phase "apply: count the writes"
apply_reset
E1_BOOT=$(drv $E1)
N_APPLY=$(count_writes /tmp/apply.wlog pcipass $S --config /tmp/apply.conf apply)
note "apply has $N_APPLY sysfs writes"
check_eq "counting run: desired state" "2 0 vfio-pci vfio-pci" "$(applied)"
check "apply has writes to crash between" test "$N_APPLY" -ge 2

N=1
while [ $N -le "$N_APPLY" ]; do
  phase "apply: killed after write $N of $N_APPLY, then apply again"
  apply_reset
  crash_at $N pcipass $S --config /tmp/apply.conf apply
  expect_rc 0 "step $N: apply again" pcipass $S --config /tmp/apply.conf apply
  check_eq "step $N: desired state" "2 0 vfio-pci vfio-pci" "$(applied)"
  check "step $N: VFs unbound" vfs_unbound
  check_whole "step $N after apply"
  journal_gone "step $N after apply"
  N=$((N + 1))
done
apply_reset
check_eq "apply reset: E1 on its boot driver" "$E1_BOOT" "$(drv $E1)"
check_whole "after the apply phases"

# ======================================================================
export PCIPASS_CONFIG=/tmp/pcipass.conf
# write_config true|false: the rules (both bridge-group endpoints allowed,
# alias nic = the e1000) and [claims] reattach_on_release.
write_config() {
  cat >$PCIPASS_CONFIG <<CONF
[pci]
device_spec = {"vendor_id": "8086", "product_id": "100e"}
device_spec = {"vendor_id": "10ec", "product_id": "8139"}
alias = {"name": "nic", "vendor_id": "8086", "product_id": "100e", "device_type": "type-PCI"}

[claims]
reattach_on_release = $1
CONF
}

# ledger_problems: prints every inconsistency between the ledger (pcipass
# claims --devices --json) and the kernel; nothing when consistent.
ledger_problems() {
  pcipass $S claims --devices --json >/tmp/ledger.json 2>/tmp/ledger.err ||
    { echo "pcipass claims failed: $(cat /tmp/ledger.err)"; return; }
  jq -r '
    (.devices[] | select((.state == "claimed" or .state == "allocated") and .owner == null)
       | "\(.address) is \(.state) by nobody"),
    (.devices[] | select(.owner != null and (.state | IN("claimed","allocated","removed") | not))
       | "\(.address) has owner \(.owner) but is \(.state)"),
    (. as $r | .claims[] | . as $c
       | ($r.devices[] | select(.address == $c.address)) as $d
       | select($d.state != $c.state or $d.owner != $c.instance)
       | "claim \($c.instance) \($c.address) \($c.state) but device row \($d.state) by \($d.owner)")
  ' /tmp/ledger.json
  # Groups the ledger gives to an instance: VFIO hands out whole groups,
  # so a held device's group-mates are on vfio-pci too (ledger:
  # unavailable).
  _held_groups=" $(jq -r '[.devices[] | select(.state == "claimed" or .state == "allocated") | .iommu_group] | map(tostring) | join(" ")' /tmp/ledger.json) "
  for _a in $(jq -r '.devices[].address' /tmp/ledger.json); do
    _st=$(jq -r --arg a "$_a" '.devices[] | select(.address == $a) | .state' /tmp/ledger.json)
    _dr=$(drv $_a)
    case $_st in
      claimed|allocated)
        [ "$_dr" = vfio-pci ] || echo "$_a is $_st in the ledger but on $_dr in the kernel" ;;
      *)
        case $_held_groups in *" $(grp $_a) "*) continue ;; esac
        [ "$_dr" != vfio-pci ] || echo "$_a is on vfio-pci in the kernel but $_st in the ledger (no held group-mate)" ;;
    esac
  done
}
check_ledger() { check_eq "$1: ledger consistent with the kernel" "" "$(ledger_problems)"; }

check_no_claims() {  # after check_ledger: /tmp/ledger.json is fresh
  check_eq "$1: the ledger holds nothing" "0 0" \
    "$(jq -r '[(.claims|length), ([.devices[] | select(.owner != null)]|length)]|join(" ")' /tmp/ledger.json)"
}

phase "claim nic:1 (takes the bridge group): count the writes"
write_config true
N_CLAIM=$(count_writes /tmp/claim.wlog pcipass $S claim --instance vm-1 nic:1)
note "claim has $N_CLAIM sysfs writes"
check_eq "counting claim: group on vfio-pci" vfio "$(group_state $GB)"
check_ledger "after the counting claim"
expect_rc 0 "release vm-1 (reattach_on_release)" pcipass $S release --instance vm-1
check_eq "group back on the host" host "$(group_state $GB)"
check_ledger "after release"

# reattach_on_release = false: release itself never reattaches, so only the
# recovery of the killed claim's journal can give the group back.
write_config false
N=1
while [ $N -le "$N_CLAIM" ]; do
  if [ $((N % 2)) = 1 ]; then
    phase "claim: killed after write $N of $N_CLAIM, then release (reattach_on_release=false)"
    crash_at $N pcipass $S claim --instance vm-1 nic:1
    expect_rc 0 "step $N: the killed claim is listed" pcipass $S claims --instance vm-1 --json
    check_eq "step $N: ledger says claimed (hand-off unfinished)" claimed "$(jget '[.claims[].state]|join(" ")')"
  else
    phase "claim: killed after write $N of $N_CLAIM, then the same claim, then release"
    crash_at $N pcipass $S claim --instance vm-1 nic:1
    expect_rc 1 "step $N: claim again is refused" pcipass $S claim --instance vm-1 nic:1
    check_contains "step $N: says release first" "release it first" "$(cat $ERR_FILE)"
    check_contains "step $N: recovered the hand-off first" "recovered an unfinished detach" "$(cat $ERR_FILE)"
    check_eq "step $N: bridge group as at boot" host "$(group_state $GB)"
    check_whole "step $N after the refused claim"
    journal_gone "step $N after the refused claim"
  fi
  expect_rc 0 "step $N: release vm-1" pcipass $S release --instance vm-1
  check_contains "step $N: released" "released $B1" "$(cat $OUT_FILE)"
  [ $((N % 2)) = 1 ] && check_contains "step $N: release recovered the hand-off" \
    "recovered an unfinished detach" "$(cat $ERR_FILE)"
  check_eq "step $N: bridge group as at boot" host "$(group_state $GB)"
  check_whole "step $N after release"
  journal_gone "step $N after release"
  check_ledger "step $N after release"
  check_no_claims "step $N after release"
  N=$((N + 1))
done

phase "claim: killed after the last write, release with reattach_on_release=true"
write_config true
crash_at $N_CLAIM pcipass $S claim --instance vm-1 nic:1
expect_rc 0 "release vm-1" pcipass $S release --instance vm-1
check_contains "recovered the hand-off" "recovered an unfinished detach" "$(cat $ERR_FILE)"
check_eq "bridge group as at boot" host "$(group_state $GB)"
check_whole "after release"
journal_gone "after release"
check_ledger "after release"
check_no_claims "after release"

phase "after all that, a claim and a release work"
expect_rc 0 "claim" pcipass $S claim --instance vm-1 nic:1 --json
check_eq "allocated" allocated "$(jget '[.devices[].state]|join(" ")')"
check_eq "bridge group wholly on vfio-pci" vfio "$(group_state $GB)"
check_whole "after the claim"
check_ledger "after the claim"
expect_rc 0 "release" pcipass $S release --instance vm-1
check_eq "back on the host" host "$(group_state $GB)"
check_whole "after the release"
check_ledger "after the release"

echo "WRITES detach=$N_DETACH reattach=$N_REATTACH apply=$N_APPLY sriov_0to2=$N_S1 sriov_2to3=$N_S2 sriov_3to0=$N_S3 claim=$N_CLAIM"
echo "---- /tmp/state/log"; cat /tmp/state/log
finish
