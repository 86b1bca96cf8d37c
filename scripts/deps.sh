#!/bin/bash
# deps.sh - install the Debian 12 packages pcipass needs, only when missing.
# Sourced by scripts/run and scripts/test. Set PCIPASS_NO_APT=1 to skip.
pcipass_install_deps() {
  local pkgs=(
    build-essential cmake ninja-build pkg-config git
    libgtest-dev libgmock-dev libbenchmark-dev
    nlohmann-json3-dev libcli11-dev libfmt-dev libspdlog-dev
    libsqlite3-dev sqlite3 libpugixml-dev libpci-dev pci.ids pciutils
    libpq-dev libcpp-httplib-dev
    # cluster tests start a real PostgreSQL 15 (scripts/pg-test-server)
    postgresql-15
    # scripts/lint (scripts/test runs its clang-format check)
    clang-format clang-tidy
    # the QEMU lab (real kernel) and libvirt schema validation
    qemu-system-x86 busybox-static cpio xz-utils libvirt-clients jq
    libc6-dev
    # systemd-analyze checks packaging/pcipass-apply.service
    systemd
    # scripts/fuzz and scripts/test's fuzz runs: clang + libFuzzer/ASan/UBSan
    clang-14 libclang-rt-14-dev
    # pcipassd: sd_notify; its tests (curl, promtool, wrk, TLS cert,
    # sqlite3 above) and the OpenAPI check (node + npm packages)
    libsystemd-dev curl prometheus wrk openssl util-linux nodejs
  )
  # npm: Debian's package, unless an npm is already there (a nodejs
  # build that ships its own npm conflicts with Debian's npm package).
  command -v npm >/dev/null || pkgs+=(npm)
  [ "${PCIPASS_NO_APT:-0}" = 1 ] && return 0
  local need=() p
  for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || need+=("$p")
  done
  [ ${#need[@]} -eq 0 ] && return 0
  echo "[deps] installing: ${need[*]}" >&2
  local sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >&2
}

# Configures (once) and builds into $PCIPASS_BUILD (default build/).
pcipass_build() {
  local top; top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  local build=${PCIPASS_BUILD:-$top/build}
  if [ ! -f "$build/build.ninja" ]; then
    cmake -S "$top" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DPCIPASS_WERROR=ON >&2
  fi
  cmake --build "$build" -j "$(nproc)" >&2
}
