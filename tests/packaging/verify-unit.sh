#!/bin/bash
# verify-unit.sh UNIT PCIPASS_BIN - checks the boot-time unit with systemd's
# own parser (systemd-analyze verify): syntax, known directives, ordering
# targets. ExecStart points at /usr/bin/pcipass, which exists only once
# installed, so a copy with the built binary's path is verified.
set -euo pipefail
unit=$1 bin=$2
command -v systemd-analyze >/dev/null ||
  { echo "systemd-analyze missing: install Debian package systemd" >&2; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
sed "s|/usr/bin/pcipass|$bin|" "$unit" > "$tmp/pcipass-apply.service"
grep -q "^ExecStart=$bin " "$tmp/pcipass-apply.service" ||
  { echo "ExecStart does not run /usr/bin/pcipass" >&2; exit 1; }
out=$(systemd-analyze verify --man=no "$tmp/pcipass-apply.service" 2>&1) || true
# Ordering targets of services that are not installed here (libvirtd,
# nova-compute) are fine; anything else systemd reports is a defect.
bad=$(printf '%s\n' "$out" | grep -v -e '^$' -e 'libvirtd\|virtqemud\|nova-compute' || true)
if [ -n "$bad" ]; then echo "$bad" >&2; exit 1; fi
# It must run apply, before libvirt, and only with a config present.
grep -q '^ExecStart=.* apply$' "$unit"
grep -q '^Before=.*libvirtd.service' "$unit"
grep -q '^ConditionPathExists=/etc/pcipass/pcipass.conf' "$unit"
echo "pcipass-apply.service: verified"
