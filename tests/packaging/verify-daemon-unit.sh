#!/bin/bash
# verify-daemon-unit.sh UNIT PCIPASSD_BIN - checks pcipassd.service with
# systemd's own parser (systemd-analyze verify) on a copy whose ExecStart
# points at the built binary, and that it is a notify service that
# reloads with SIGHUP and runs the daemon on the config.
set -euo pipefail
unit=$1 bin=$2
command -v systemd-analyze >/dev/null ||
  { echo "systemd-analyze missing: install Debian package systemd" >&2; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
sed "s|/usr/bin/pcipassd|$bin|" "$unit" > "$tmp/pcipassd.service"
grep -q "^ExecStart=$bin " "$tmp/pcipassd.service" ||
  { echo "ExecStart does not run /usr/bin/pcipassd" >&2; exit 1; }
out=$(systemd-analyze verify --man=no "$tmp/pcipassd.service" 2>&1) || true
# pcipass-apply.service is not installed here; anything else is a defect.
bad=$(printf '%s\n' "$out" | grep -v -e '^$' -e 'pcipass-apply' || true)
if [ -n "$bad" ]; then echo "$bad" >&2; exit 1; fi
grep -q '^Type=notify$' "$unit"
grep -q '^ExecReload=/bin/kill -HUP \$MAINPID$' "$unit"
grep -q '^ExecStart=/usr/bin/pcipassd .*--config /etc/pcipass/pcipass.conf' "$unit"
grep -q '^ConditionPathExists=/etc/pcipass/pcipass.conf' "$unit"
# The binary accepts every flag the unit passes.
flags=$(sed -n 's|^ExecStart=/usr/bin/pcipassd ||p' "$unit")
"$bin" --help >/dev/null
for f in $flags; do
  case "$f" in --*) "$bin" --help | grep -q -- "$f" ||
    { echo "pcipassd has no flag $f" >&2; exit 1; } ;; esac
done
echo "pcipassd.service: verified"
