#!/bin/bash
# run-lab.sh - boot the lab kernel+initramfs in a QEMU q35 guest with an
# emulated Intel vIOMMU and a set of emulated PCI devices, capture the serial
# log and exit with the test's own exit status (from the LAB-RESULT marker).
# pcipass's own copy of ../shared/lab/run-lab.sh (work dir $PCIPASS_LAB_WORK).
#
# Usage:
#   run-lab.sh [options] [-- extra qemu args]
#
# Options:
#   -w DIR     work folder from build-lab.sh (default: $PCIPASS_LAB_WORK or /var/tmp/pcipass-lab)
#   -i FILE    initramfs (default: WORK/initrd.gz)
#   -k FILE    kernel (default: WORK/vmlinux if build-lab.sh extracted it: the
#              uncompressed ELF boots via PVH ~4 s faster under TCG; else WORK/vmlinuz)
#   -a ACCEL   kvm | tcg | auto (default: auto = kvm if usable, else tcg)
#   -D SET     device set: a name from devsets/ (std, minimal) or a file with
#              one qemu argument per line ('#' comments). Default: std
#   -p         add iommu=pt to the kernel command line
#   -c ARGS    more kernel command line
#   -m MEM     guest memory (default 1G)
#   -s N       vCPUs (default 2 with kvm, 1 with tcg)
#   -t SECS    overall timeout (default 300); the test itself gets SECS-30
#   -l FILE    serial log (default: WORK/serial-<accel>.log)
#   -v         also print the whole serial log to stdout (default: LAB-* lines only)
#
# Exit status: the test's rc from "LAB-RESULT rc=N"; 124 on timeout;
# 125 when the guest ended without a LAB-RESULT line (panic, qemu error).
set -uo pipefail

LAB_DIR=$(cd "$(dirname "$0")" && pwd)
WORK=${PCIPASS_LAB_WORK:-/var/tmp/pcipass-lab}
INITRD="" KERNEL="" ACCEL=auto DEVSET=std PT=0 CMDLINE_EXTRA="" MEM=1G SMP="" TIMEOUT=300 LOG="" VERBOSE=0
while getopts "w:i:k:a:D:pc:m:s:t:l:vh" opt; do
  case $opt in
    w) WORK=$OPTARG ;; i) INITRD=$OPTARG ;; k) KERNEL=$OPTARG ;; a) ACCEL=$OPTARG ;;
    D) DEVSET=$OPTARG ;; p) PT=1 ;; c) CMDLINE_EXTRA=$OPTARG ;; m) MEM=$OPTARG ;;
    s) SMP=$OPTARG ;; t) TIMEOUT=$OPTARG ;; l) LOG=$OPTARG ;; v) VERBOSE=1 ;;
    h|*) sed -n '2,28p' "$0"; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ "${1:-}" = "--" ] && shift
INITRD=${INITRD:-$WORK/initrd.gz}
if [ -z "$KERNEL" ]; then
  if [ -s "$WORK/vmlinux" ]; then KERNEL=$WORK/vmlinux; else KERNEL=$WORK/vmlinuz; fi
fi
for f in "$INITRD" "$KERNEL"; do [ -e "$f" ] || { echo "missing $f (run build-lab.sh first)" >&2; exit 2; }; done

QEMU=qemu-system-x86_64
kvm_ok() {
  [ -r /dev/kvm ] && [ -w /dev/kvm ] || return 1
  # /dev/kvm without vmx/svm in the CPU flags is a software KVM (here: the
  # kvm_pvm module). It opens fine but runs an unmodified guest ~100x slower
  # than TCG and dies with "KVM internal error ... emulation failure" on
  # cmpxchg16b. Only hardware-backed KVM is chosen automatically.
  grep -qwE 'vmx|svm' /proc/cpuinfo || { echo "[run-lab] /dev/kvm is not hardware-backed (no vmx/svm flag$( [ -d /sys/module/kvm_pvm ] && echo ', kvm_pvm loaded')): using TCG" >&2; return 1; }
  echo quit | timeout 20 $QEMU -accel kvm -machine none -nodefaults -display none -monitor stdio >/dev/null 2>&1
}
if [ "$ACCEL" = auto ]; then
  if kvm_ok; then ACCEL=kvm; else ACCEL=tcg; fi
fi
case $ACCEL in
  # kernel-irqchip=split is required by intremap=on under KVM (n/a for TCG)
  # plain "-cpu host" aborts here (nested KVM): "failed to set MSR 0x10a" (ARCH_CAPABILITIES)
  kvm) CPU=host,-arch-capabilities; SMP=${SMP:-2}; MACHINE=q35,kernel-irqchip=split ;;
  tcg) CPU=max;  SMP=${SMP:-1}; MACHINE=q35 ;;
  *) echo "bad accel $ACCEL" >&2; exit 2 ;;
esac
LOG=${LOG:-$WORK/serial-$ACCEL.log}

# device set
if [ -f "$DEVSET" ]; then DSFILE=$DEVSET; else DSFILE=$LAB_DIR/devsets/$DEVSET.conf; fi
[ -f "$DSFILE" ] || { echo "no device set $DEVSET" >&2; exit 2; }
DEVARGS=()
while IFS= read -r l; do
  l=${l%%#*}; l=$(echo "$l" | xargs)   # strip comments and blanks
  [ -n "$l" ] && DEVARGS+=($l)
done < "$DSFILE"

APPEND="console=ttyS0 intel_iommu=on panic=-1 lab.timeout=$((TIMEOUT > 60 ? TIMEOUT - 30 : TIMEOUT))"
[ $PT = 1 ] && APPEND="$APPEND iommu=pt"
[ -n "$CMDLINE_EXTRA" ] && APPEND="$APPEND $CMDLINE_EXTRA"

PIDFILE=$(mktemp -u /tmp/run-lab.XXXXXX.pid)
CMD=($QEMU -accel "$ACCEL" -machine "$MACHINE" -cpu "$CPU" -smp "$SMP" -m "$MEM"
     -nodefaults -display none -serial stdio -no-reboot -pidfile "$PIDFILE"
     -device intel-iommu,intremap=on,caching-mode=on
     "${DEVARGS[@]}"
     -kernel "$KERNEL" -initrd "$INITRD" -append "$APPEND" "$@")

echo "[run-lab] accel=$ACCEL log=$LOG" >&2
echo "[run-lab] ${CMD[*]}" >&2
: > "$LOG"
T0=$(date +%s.%N)
el() { awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.2f", b-a}'; }
timeout -k 5 "$TIMEOUT" "${CMD[@]}" </dev/null 2>&1 | while IFS= read -r line; do
  line=${line%$'\r'}
  printf '%s\n' "$line" >> "$LOG"
  if [ $VERBOSE = 1 ]; then printf '%s\n' "$line"
  else case $line in *LAB-*|*qemu-system*|*"KVM internal error"*) printf '[t+%ss] %s\n' "$(el)" "$line" ;; esac
  fi
  # qemu pauses (does not exit) on a KVM emulation failure: stop it
  case $line in *"KVM internal error"*) sleep 1; [ -s "$PIDFILE" ] && kill "$(cat "$PIDFILE")" ;; esac
done
QRC=${PIPESTATUS[0]}
rm -f "$PIDFILE"
echo "[run-lab] qemu exit=$QRC wall=$(el)s" >&2
if [ "$QRC" = 124 ] || [ "$QRC" = 137 ]; then echo "[run-lab] TIMEOUT after ${TIMEOUT}s" >&2; exit 124; fi
RC=$(grep -a -o 'LAB-RESULT rc=[0-9]*' "$LOG" | tail -1 | cut -d= -f2)
[ -n "$RC" ] || { echo "[run-lab] no LAB-RESULT marker in $LOG" >&2; exit 125; }
exit "$RC"
