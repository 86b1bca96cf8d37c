# lib.sh - helpers for pcipass guest tests (busybox sh, sourced as /lab/lib.sh).
#
# A guest test (tests/lab/guest/NAME.sh) runs as /test.sh inside the lab VM
# (real kernel, emulated VT-d, see ../README.md). It does:
#
#   . /lab/lib.sh
#   phase "groups"
#   expect_rc 0 "groups --json succeeds" pcipass groups --json
#   check_eq "e1000e group has one member" 1 "$(jget '.groups[0].members|length')"
#   check "driver is vfio-pci" test "$(drv 0000:01:00.0)" = vfio-pci
#   finish                      # prints "N passed, N failed", exits 0 or 1
#
# Output of the last expect_rc/run command: stdout in $OUT_FILE, stderr in
# $ERR_FILE, exit status in $RC. jget FILTER queries $OUT_FILE with jq (jq is
# copied into every lab initramfs by run-guest-test.sh; busybox has none).
# Every CHECK line names what was checked; failures also print what was seen.

P=/sys/bus/pci
OUT_FILE=/tmp/lab.out
ERR_FILE=/tmp/lab.err
PASS=0
FAIL=0
RC=0

up() { cut -d' ' -f1 /proc/uptime; }
phase() { echo; echo "=== PHASE $* (uptime $(up))"; }
ok() { PASS=$((PASS + 1)); echo "CHECK ok   $*"; }
bad() { FAIL=$((FAIL + 1)); echo "CHECK FAIL $*"; }
note() { echo "NOTE $*"; }

# check "desc" cmd...: passes when cmd exits 0.
check() {
  _d=$1; shift
  if "$@"; then ok "$_d"; else bad "$_d  [command: $*]"; fi
}
# check_not "desc" cmd...: passes when cmd exits non-zero.
check_not() {
  _d=$1; shift
  if "$@"; then bad "$_d  [command succeeded: $*]"; else ok "$_d"; fi
}
# check_eq "desc" EXPECTED ACTUAL
check_eq() {
  if [ "$2" = "$3" ]; then ok "$1 (= '$3')"
  else bad "$1: expected '$2', got '$3'"; fi
}
# check_contains "desc" NEEDLE HAYSTACK
check_contains() {
  case $3 in
    *"$2"*) ok "$1" ;;
    *) bad "$1: '$2' not in: $(echo "$3" | head -c 400)" ;;
  esac
}

# run cmd...: runs cmd with stdout -> $OUT_FILE, stderr -> $ERR_FILE, sets RC.
run() {
  echo "RUN $*"
  "$@" >"$OUT_FILE" 2>"$ERR_FILE"
  RC=$?
  return 0
}
# expect_rc N "desc" cmd...: run, then check the exit status is N. On a
# mismatch prints the command's stdout and stderr (first 60 lines each).
expect_rc() {
  _want=$1; _d=$2; shift 2
  run "$@"
  if [ "$RC" = "$_want" ]; then
    ok "$_d (rc=$RC)"
  else
    bad "$_d: expected rc=$_want, got rc=$RC  [command: $*]"
    echo "---- stdout"; head -n 60 "$OUT_FILE"
    echo "---- stderr"; head -n 60 "$ERR_FILE"
    echo "----"
  fi
}
show_out() { echo "---- output of the last command"; cat "$OUT_FILE"; echo "----"; }
show_err() { echo "---- stderr of the last command"; cat "$ERR_FILE"; echo "----"; }

# jget FILTER [FILE]: jq -r FILTER on FILE (default: last command's stdout).
# Prints "JQ-ERROR" (and returns 1) when the file is not JSON or the filter
# fails, so a check_eq against it fails visibly.
jget() {
  jq -r "$1" "${2:-$OUT_FILE}" 2>/dev/null || { echo JQ-ERROR; return 1; }
}
# jcheck "desc" FILTER [FILE]: passes when jq -e FILTER is true.
jcheck() {
  if jq -e "$2" "${3:-$OUT_FILE}" >/dev/null 2>&1; then ok "$1"
  else bad "$1  [jq -e '$2' is false]"; fi
}

# ---- raw sysfs, for cross-checking what pcipass reports ---------------------
# drv ADDR: bound driver name or "-".
drv() { _l=$(readlink $P/devices/$1/driver 2>/dev/null) && basename "$_l" || echo "-"; }
# grp ADDR: IOMMU group number or "-".
grp() { _l=$(readlink $P/devices/$1/iommu_group 2>/dev/null) && basename "$_l" || echo "-"; }
# group_members N: sorted member addresses, space separated.
group_members() { ls /sys/kernel/iommu_groups/$1/devices 2>/dev/null | sort | tr '\n' ' ' | sed 's/ $//'; }
# find_dev VENDOR DEVICE [INDEX]: address of the INDEX-th (0-based) function
# with these ids (as sysfs spells them: 0x8086 0x10d3).
find_dev() {
  _n=0
  for _d in $P/devices/*; do
    if [ "$(cat $_d/vendor)" = "$1" ] && [ "$(cat $_d/device)" = "$2" ]; then
      [ "$_n" = "${3:-0}" ] && { basename $_d; return 0; }
      _n=$((_n + 1))
    fi
  done
  return 1
}
# w VALUE FILE: like 'echo VALUE > FILE', logging the kernel's errno text
# (busybox printf fails silently on sysfs; echo reports the error).
w() {
  if (echo "$1" >"$2") 2>/tmp/lab.werr; then echo "WRITE ok   '$1' > $2"; return 0
  else echo "WRITE FAIL '$1' > $2 : $(sed 's/^.*: //' /tmp/lab.werr)"; return 1; fi
}
# wait_for SECS cmd...: polls cmd every 0.1 s until it succeeds.
wait_for() {
  _t=$(($1 * 10)); shift
  while [ $_t -gt 0 ]; do "$@" && return 0; usleep 100000; _t=$((_t - 1)); done
  return 1
}

# finish: prints the summary line and exits 0 only when nothing failed and
# at least one check ran (a test that checked nothing is a failure).
finish() {
  echo
  echo "$PASS passed, $FAIL failed"
  [ "$FAIL" = 0 ] && [ "$PASS" -gt 0 ] && exit 0
  exit 1
}
