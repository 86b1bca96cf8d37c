#!/bin/bash
# build-lab.sh - fetch a Debian kernel (without installing it) and build a
# busybox initramfs that runs a given test script inside a QEMU q35 guest.
# pcipass's own copy of ../shared/lab/build-lab.sh: the work dir is
# $PCIPASS_LAB_WORK, the kernel fetch is serialised with flock (several lab
# tests may build at once), the guest gets /lab/ (lib.sh) and PCIPASS_LAB=1,
# and a missing kernel or tool is a loud error (exit 3), never a skip.
#
# Usage:
#   build-lab.sh [options] TEST_SCRIPT
#
# Options:
#   -w DIR     work folder (default: $PCIPASS_LAB_WORK or /var/tmp/pcipass-lab)
#   -k PKG     kernel package, e.g. linux-image-6.1.0-56-amd64
#              (default: whatever linux-image-amd64 currently depends on)
#   -o FILE    output initramfs (default: WORK/initrd.gz)
#   -m MODS    extra kernel modules to load at boot (space separated names)
#   -M MODS    replace the base module list (default: vfio vfio_iommu_type1
#              vfio-pci e1000e e1000 8139cp nvme); -M '' for none
#   -x FILE    extra binary to put in /bin (repeatable). Dynamic binaries get
#              their shared libraries (ldd) copied along.
#   -L FILE    file copied to the same absolute path, plus its ldd libraries
#              (e.g. a qemu module .so) (repeatable)
#   -f SRC:DST extra file or folder copied to DST inside the initramfs (repeatable)
#   -n         no apt (do not install host packages / download anything)
#
# Output: WORK/vmlinuz (symlink to the fetched kernel), WORK/vmlinux (the same
# kernel uncompressed, for QEMU's faster PVH boot) and the initramfs.
# The guest /init mounts proc/sys/devtmpfs, modprobes the module list,
# runs /test.sh and prints the marker line
#     LAB-RESULT rc=<exit status of /test.sh> uptime=<s>
# before 'poweroff -f'. run-lab.sh parses that line.
set -euo pipefail

LAB_DIR=$(cd "$(dirname "$0")" && pwd)
WORK=${PCIPASS_LAB_WORK:-/var/tmp/pcipass-lab}
KPKG=""
OUT=""
EXTRA_MODS=""
BASE_MODS="vfio vfio_iommu_type1 vfio-pci e1000e e1000 8139cp nvme"
BINS=()
LIBS=()
FILES=()
USE_APT=1

while getopts "w:k:o:m:M:x:L:f:nh" opt; do
  case $opt in
    w) WORK=$OPTARG ;;
    k) KPKG=$OPTARG ;;
    o) OUT=$OPTARG ;;
    m) EXTRA_MODS="$EXTRA_MODS $OPTARG" ;;
    M) BASE_MODS=$OPTARG ;;
    x) BINS+=("$OPTARG") ;;
    L) LIBS+=("$OPTARG") ;;
    f) FILES+=("$OPTARG") ;;
    n) USE_APT=0 ;;
    h|*) sed -n '2,36p' "$0"; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
TEST=${1:?usage: build-lab.sh [options] TEST_SCRIPT}
[ -f "$TEST" ] || { echo "no such test script: $TEST" >&2; exit 2; }
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
OUT=${OUT:-$WORK/initrd.gz}

log() { echo "[build-lab] $*" >&2; }
die() { echo "[build-lab] LAB UNAVAILABLE: $*" >&2; exit 3; }

# ---- 1. host packages -------------------------------------------------------
if [ $USE_APT = 1 ]; then
  need=()
  for p in qemu-system-x86 busybox-static cpio; do
    dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
  done
  if [ ${#need[@]} -gt 0 ]; then
    log "installing ${need[*]}"
    sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
    [ -n "$(find /var/lib/apt/lists -name '*Packages*' 2>/dev/null | head -1)" ] || $sudo apt-get update >&2 || true
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y "${need[@]}" >&2 ||
      die "cannot install ${need[*]} (no apt access?)"
  fi
fi
for t in qemu-system-x86_64 cpio xz; do
  command -v $t >/dev/null || die "$t not found (apt-get install qemu-system-x86 cpio xz-utils)"
done
BUSYBOX=/bin/busybox   # from busybox-static: statically linked
[ -x $BUSYBOX ] && ! ldd $BUSYBOX >/dev/null 2>&1 || die "$BUSYBOX missing or not static (apt-get install busybox-static)"

# ---- 2. the kernel is shared by every lab test: one fetch at a time --------
exec 9>"$WORK/.kernel.lock"
flock 9

# ---- 2. kernel: download + extract (never installed into /boot) ------------
if [ -z "$KPKG" ]; then
  if [ -f "$WORK/kernel.pkg" ] && [ $USE_APT = 0 ]; then
    KPKG=$(cat "$WORK/kernel.pkg")
  else
    KPKG=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
    [ -n "$KPKG" ] || { apt-get update >&2; KPKG=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/{print $2; exit}'); }
  fi
fi
[ -n "$KPKG" ] || die "cannot determine the kernel package (apt-cache depends linux-image-amd64 gave nothing; run apt-get update)"
KVER=${KPKG#linux-image-}
KROOT=$WORK/kernel/$KVER
if [ ! -e "$KROOT/.done" ]; then
  mkdir -p "$WORK/debs"
  deb=$(ls "$WORK"/debs/${KPKG}_*.deb 2>/dev/null | head -1 || true)
  if [ -z "$deb" ]; then
    [ $USE_APT = 1 ] || die "kernel $KPKG not downloaded and -n given"
    log "apt-get download $KPKG"
    # _apt cannot write into root-owned work dirs: harmless 'unsandboxed' warning
    (cd "$WORK/debs" && apt-get download "$KPKG" >&2) || die "apt-get download $KPKG failed"
    deb=$(ls "$WORK"/debs/${KPKG}_*.deb | head -1)
  fi
  log "extracting $deb"
  rm -rf "$KROOT"; mkdir -p "$KROOT"
  dpkg -x "$deb" "$KROOT"
  # the .deb has no modules.dep (depmod runs at install time): make one
  "$BUSYBOX" depmod -b "$KROOT" "$KVER"
  touch "$KROOT/.done"
fi
echo "$KPKG" > "$WORK/kernel.pkg"
ln -sfn "$KROOT/boot/vmlinuz-$KVER" "$WORK/vmlinuz"
# uncompressed ELF vmlinux (QEMU boots it through the PVH entry point: no
# real-mode setup, no in-guest decompression -> ~4 s faster under TCG)
if [ ! -s "$KROOT/vmlinux" ]; then
  VZ=$KROOT/boot/vmlinuz-$KVER
  for m in 'xz:\xfd7zXZ\x00' 'zstd:\x28\xb5\x2f\xfd' 'gzip:\x1f\x8b\x08'; do
    tool=${m%%:*}; magic=${m#*:}
    for off in $(LC_ALL=C grep -obUaP "$magic" "$VZ" | cut -d: -f1 | head -3); do
      case $tool in   # (tail dies of SIGPIPE once the stream ends: ignore rc)
        xz)   tail -c +$((off + 1)) "$VZ" | xz -dc --single-stream > "$KROOT/vmlinux.tmp" 2>/dev/null || true ;;
        zstd) tail -c +$((off + 1)) "$VZ" | zstd -qdc > "$KROOT/vmlinux.tmp" 2>/dev/null || true ;;
        gzip) tail -c +$((off + 1)) "$VZ" | gzip -dc > "$KROOT/vmlinux.tmp" 2>/dev/null || true ;;
      esac
      if [ "$(head -c 4 "$KROOT/vmlinux.tmp" 2>/dev/null | od -An -tx1 | tr -d ' ')" = 7f454c46 ]; then
        mv "$KROOT/vmlinux.tmp" "$KROOT/vmlinux"; break 2
      fi
    done
  done
  rm -f "$KROOT/vmlinux.tmp"
fi
if [ -s "$KROOT/vmlinux" ]; then ln -sfn "$KROOT/vmlinux" "$WORK/vmlinux"
else log "could not extract vmlinux (run-lab.sh will boot vmlinuz)"; rm -f "$WORK/vmlinux"; fi
flock -u 9
MODDIR=$KROOT/lib/modules/$KVER

# ---- 3. module closure -----------------------------------------------------
# modules needed by the standard device set; more with -m
MODS="$BASE_MODS $EXTRA_MODS"
declare -A SEEN=()
modpath() { # name -> relative path from modules.dep
  local n; n=$(echo "$1" | sed 's/[-_]/[-_]/g')
  awk -F: '{print $1}' "$MODDIR/modules.dep" | grep -E "/${n}\.ko(\.xz|\.zst|\.gz)?$" | head -1
}
add_mod() { # relative path
  local rel=$1
  [ -n "${SEEN[$rel]:-}" ] && return 0
  SEEN[$rel]=1
  local deps
  deps=$(grep -E "^${rel//./\\.}:" "$MODDIR/modules.dep" | cut -d: -f2-)
  for d in $deps; do add_mod "$d"; done
}
LOADLIST=()
for m in $MODS; do
  rel=$(modpath "$m")
  if [ -z "$rel" ]; then
    if grep -qE "/${m//-/[-_]}\.ko" "$MODDIR/modules.builtin" 2>/dev/null; then
      log "module $m is built in"; continue
    fi
    die "module $m not found in $MODDIR"
  fi
  add_mod "$rel"
  LOADLIST+=("$m")
done

# ---- 4. staging tree -------------------------------------------------------
ST=$(mktemp -d "$WORK/stage.XXXXXX")
trap 'rm -rf "$ST"' EXIT
mkdir -p "$ST"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,run,etc,root,mnt,lib/modules/$KVER}
cp "$BUSYBOX" "$ST/bin/busybox"
for rel in "${!SEEN[@]}"; do
  dst=$ST/lib/modules/$KVER/$rel
  mkdir -p "$(dirname "$dst")"
  case $rel in
    *.ko.xz)  xz -dc "$MODDIR/$rel"   > "${dst%.xz}" ;;   # busybox insmod wants plain .ko
    *.ko.zst) zstd -qdc "$MODDIR/$rel" > "${dst%.zst}" ;;
    *.ko.gz)  gzip -dc "$MODDIR/$rel" > "${dst%.gz}" ;;
    *)        cp "$MODDIR/$rel" "$dst" ;;
  esac
done
cp "$MODDIR"/modules.builtin* "$MODDIR/modules.order" "$ST/lib/modules/$KVER/" 2>/dev/null || true
"$BUSYBOX" depmod -b "$ST" "$KVER"
printf '%s\n' ${LOADLIST[@]+"${LOADLIST[@]}"} > "$ST/etc/lab-modules"

copy_bin() { # SRC [DST]
  local src=$1 dst=${2:-$ST/bin/$(basename "$1")}
  mkdir -p "$(dirname "$dst")"
  cp -L "$src" "$dst"; chmod 755 "$dst"
  # shared libraries of dynamic binaries (and the loader) at their own paths
  if ldd "$src" >/dev/null 2>&1; then
    ldd "$src" | grep -oE '/[^ ]+' | while read -r lib; do
      [ -e "$lib" ] || continue
      mkdir -p "$ST$(dirname "$lib")"
      cp -L -n "$lib" "$ST$lib"
    done
  fi
}
for b in ${BINS[@]+"${BINS[@]}"}; do copy_bin "$b"; done
for b in ${LIBS[@]+"${LIBS[@]}"}; do copy_bin "$b" "$ST$b"; done
for f in ${FILES[@]+"${FILES[@]}"}; do
  src=${f%%:*}; dst=${f#*:}
  mkdir -p "$ST$(dirname "$dst")"
  cp -a -L "$src" "$ST$dst"
done

cp "$TEST" "$ST/test.sh"; chmod 755 "$ST/test.sh"
cat > "$ST/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s
export PATH=/sbin:/bin:/usr/sbin:/usr/bin
export PCIPASS_LAB=1 HOME=/root
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm; mount -t devpts devpts /dev/pts; mount -t tmpfs tmpfs /tmp
echo "LAB-BOOTED kernel=$(uname -r) uptime=$(cut -d' ' -f1 /proc/uptime)"
for m in $(cat /etc/lab-modules); do
  modprobe "$m" || echo "LAB-WARN modprobe $m failed"
done
echo "LAB-MODULES-LOADED uptime=$(cut -d' ' -f1 /proc/uptime)"
# test timeout (seconds) from the kernel command line: lab.timeout=N
T=0
for a in $(cat /proc/cmdline); do case $a in lab.timeout=*) T=${a#lab.timeout=} ;; esac; done
if [ "$T" -gt 0 ]; then
  (cd /tmp && timeout "$T" sh /test.sh); rc=$?
else
  (cd /tmp && sh /test.sh); rc=$?
fi
echo "LAB-RESULT rc=$rc uptime=$(cut -d' ' -f1 /proc/uptime)"
sync
poweroff -f
EOF
chmod 755 "$ST/init"

(cd "$ST" && find . | LC_ALL=C sort | cpio -o -H newc --quiet | gzip -1) > "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
log "kernel  : $WORK/vmlinuz -> $KROOT/boot/vmlinuz-$KVER ($KPKG)"
[ -e "$WORK/vmlinux" ] && log "vmlinux : $WORK/vmlinux (uncompressed, PVH boot)"
log "initrd  : $OUT ($(du -h "$OUT" | cut -f1))"
log "modules : ${LOADLIST[*]:-none}"
echo "$OUT"
