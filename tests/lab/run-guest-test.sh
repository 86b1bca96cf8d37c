#!/bin/bash
# run-guest-test.sh - run one pcipass guest test in the QEMU lab (real kernel,
# emulated Intel VT-d) and return the test's exit status.
#
# Usage:
#   run-guest-test.sh NAME [options] [-- extra qemu args]
#
# NAME is tests/lab/guest/NAME.sh (or a path to a .sh file). The initramfs
# holds busybox, the kernel modules, the pcipass binary ($PCIPASS_BIN, default
# build/src/main/pcipass, debug info stripped), vfio-probe (static), jq,
# pci.ids, /lab/lib.sh and the test as /test.sh.
#
# Options:
#   -D SET      device set: std (default), minimal, numa, noacs, or a file
#   -x BIN      extra binary in /bin with its libraries (repeatable)
#   -L FILE     file at the same absolute path, with its libraries (repeatable)
#   -f SRC:DST  extra file or folder (repeatable)
#   -m MODS     extra kernel modules to load at boot
#   -p          iommu=pt on the kernel command line
#   -c ARGS     more kernel command line (default adds loglevel=4)
#   -M MEM      guest memory (default 1G)
#   -s N        vCPUs (default 1)
#   -t SECS     overall timeout (default 150; the test gets SECS-30)
#   -v          print the whole serial log even on success
#
# Environment:
#   PCIPASS_BIN          pcipass binary to test (required to exist)
#   PCIPASS_VFIO_PROBE   static vfio-probe (default: compiled from tools/)
#   PCIPASS_LAB_WORK     work dir (default /var/tmp/pcipass-lab): the kernel
#                        is cached there; each test writes only
#                        WORK/out/NAME/{initrd.gz,serial.log}
#   PCIPASS_LAB=0        developers only: do not boot, exit 77 (ctest shows
#                        the test as skipped, never as passed)
#
# Exit status: the guest test's rc (0 = all checks passed); 124 timeout;
# 125 guest died without a result; 3 the lab cannot be built (no qemu,
# kernel or network): a failure, never a silent skip; 2 usage.
set -uo pipefail

LAB_DIR=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$LAB_DIR/../.." && pwd)
WORK=${PCIPASS_LAB_WORK:-/var/tmp/pcipass-lab}
usage() { sed -n '2,38p' "$0"; exit 2; }

[ $# -ge 1 ] || usage
NAME=$1; shift
case $NAME in -h|--help) usage ;; esac
if [ -f "$NAME" ]; then
  TEST=$(cd "$(dirname "$NAME")" && pwd)/$(basename "$NAME")
  NAME=$(basename "$NAME" .sh)
else
  TEST=$LAB_DIR/guest/$NAME.sh
fi
[ -f "$TEST" ] || { echo "[lab] no guest test $TEST" >&2; exit 2; }

# no_timer_check: under TCG on a loaded host the kernel's early IO-APIC timer
# check can miss ticks and panic ("timer doesn't work through
# Interrupt-remapped IO-APIC"); seen in CI-like load, never a test subject.
DEVSET=std BUILD_ARGS=() RUN_ARGS=() CMDLINE="loglevel=4 no_timer_check" TIMEOUT=150 VERBOSE=0
while getopts "D:x:L:f:m:pc:M:s:t:vh" opt; do
  case $opt in
    D) DEVSET=$OPTARG ;;
    x) BUILD_ARGS+=(-x "$OPTARG") ;;
    L) BUILD_ARGS+=(-L "$OPTARG") ;;
    f) BUILD_ARGS+=(-f "$OPTARG") ;;
    m) BUILD_ARGS+=(-m "$OPTARG") ;;
    p) RUN_ARGS+=(-p) ;;
    c) CMDLINE="$CMDLINE $OPTARG" ;;
    M) RUN_ARGS+=(-m "$OPTARG") ;;
    s) RUN_ARGS+=(-s "$OPTARG") ;;
    t) TIMEOUT=$OPTARG ;;
    v) VERBOSE=1 ;;
    *) usage ;;
  esac
done
shift $((OPTIND - 1))
[ "${1:-}" = "--" ] && shift

if [ "${PCIPASS_LAB:-1}" = 0 ]; then
  echo "[lab] PCIPASS_LAB=0: NOT running lab test $NAME (developer escape hatch; CI runs it)" >&2
  exit 77
fi

die() { echo "[lab] LAB UNAVAILABLE for $NAME: $*" >&2; exit 3; }
PCIPASS_BIN=${PCIPASS_BIN:-$TOP/build/src/main/pcipass}
[ -x "$PCIPASS_BIN" ] || die "pcipass binary $PCIPASS_BIN not built (set PCIPASS_BIN)"
command -v jq >/dev/null || die "jq not installed on the host (apt-get install jq); guest tests parse JSON with it"

OUT=$WORK/out/$NAME
mkdir -p "$OUT" "$WORK/tools" || die "cannot create $OUT"
T0=$(date +%s.%N)

# vfio-probe: static, so it runs in the guest as is. One compile at a time.
PROBE=${PCIPASS_VFIO_PROBE:-}
if [ -z "$PROBE" ]; then
  PROBE=$WORK/tools/vfio-probe
  (
    flock 8
    if [ ! -x "$PROBE" ] || [ "$LAB_DIR/tools/vfio-probe.c" -nt "$PROBE" ]; then
      gcc -static -O2 -Wall -o "$PROBE.tmp" "$LAB_DIR/tools/vfio-probe.c" && mv "$PROBE.tmp" "$PROBE"
    fi
  ) 8>"$WORK/tools/.lock" || die "cannot compile tools/vfio-probe.c (apt-get install gcc libc6-dev)"
fi

# pcipass without debug info (RelWithDebInfo binaries are large; gzip time).
mkdir -p "$OUT/bin"
strip -g -o "$OUT/bin/pcipass" "$PCIPASS_BIN" 2>/dev/null || cp "$PCIPASS_BIN" "$OUT/bin/pcipass"

EXTRA=(-x "$OUT/bin/pcipass" -x "$PROBE" -x "$(command -v jq)"
       -f "$LAB_DIR/guest/lib.sh:/lab/lib.sh")
IDS=$(readlink -f /usr/share/misc/pci.ids 2>/dev/null || true)
[ -f "$IDS" ] && EXTRA+=(-f "$IDS:/usr/share/misc/pci.ids")

if ! "$LAB_DIR/build-lab.sh" -o "$OUT/initrd.gz" "${EXTRA[@]}" \
    ${BUILD_ARGS[@]+"${BUILD_ARGS[@]}"} "$TEST" >"$OUT/build.log" 2>&1; then
  cat "$OUT/build.log" >&2
  die "build-lab.sh failed (log above, $OUT/build.log)"
fi

boot() {
  "$LAB_DIR/run-lab.sh" -a tcg -D "$DEVSET" -i "$OUT/initrd.gz" -l "$OUT/serial.log" \
    -t "$TIMEOUT" -c "$CMDLINE" ${RUN_ARGS[@]+"${RUN_ARGS[@]}"} -- "$@" \
    >"$OUT/run.log" 2>&1
}
boot "$@"
RC=$?
# A guest that died before running the test at all (no LAB-BOOTED marker:
# early panic of the emulated machine) is booted once more, loudly. A test
# that started is never retried.
if [ "$RC" = 125 ] && ! grep -aq LAB-BOOTED "$OUT/serial.log"; then
  echo "[lab] WARNING $NAME: guest died before /init; early boot log:" >&2
  grep -a -m3 -E 'panic|BUG' "$OUT/serial.log" >&2
  echo "[lab] booting $NAME once more" >&2
  cp "$OUT/serial.log" "$OUT/serial-first-boot.log"
  boot "$@"
  RC=$?
fi
WALL=$(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')

SUMMARY=$(grep -a -E '^[0-9]+ passed, [0-9]+ failed' "$OUT/serial.log" 2>/dev/null | tail -1)
if [ "$RC" != 0 ] || [ $VERBOSE = 1 ]; then
  echo "[lab] ===== $NAME: serial log ($OUT/serial.log) ====="
  # \r from the serial console; the whole log (kernel lines at loglevel<4 too)
  tr -d '\r' <"$OUT/serial.log"
  echo "[lab] ===== run-lab output ====="
  cat "$OUT/run.log"
fi
case $RC in
  0) echo "[lab] PASS $NAME: ${SUMMARY:-?} (devset $DEVSET, ${WALL}s)" ;;
  124) echo "[lab] FAIL $NAME: TIMEOUT after ${TIMEOUT}s (${WALL}s)" ;;
  125) echo "[lab] FAIL $NAME: guest ended without LAB-RESULT (panic or qemu error)" ;;
  *) echo "[lab] FAIL $NAME: rc=$RC ${SUMMARY:+($SUMMARY)} (devset $DEVSET, ${WALL}s)" ;;
esac
exit "$RC"
