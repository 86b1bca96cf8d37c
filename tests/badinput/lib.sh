# Helpers for bad-input snippets (sourced by run.sh before each snippet).
# The cwd is the case's own scratch dir $TMP.

# Copies a shared fixture tree (default "tiny": the small host's GPU
# 0000:03:00.0, PF 0000:04:00.0 and VFs 0000:04:00.1-2 at the same
# addresses, with the fewest files) to $TMP/root, writable.
host() {
  local shape=${1:-tiny}
  rm -rf "$TMP/root"
  cp -a "$SHARED/$shape" "$TMP/root" && chmod -R u+w "$TMP/root"
}

# Writes each argument as a line of $TMP/pcipass.conf.
conf() {
  printf '%s\n' "$@" >"$TMP/pcipass.conf"
}

# pcipass on $TMP/root when `host` made one, else on the read-only shared
# "small" tree (no copy: fast), with state in $TMP/state, and --config
# $TMP/pcipass.conf when conf wrote one. Commands that write sysfs need
# `host` first.
pp() {
  local root="$SHARED/small"
  [ -d "$TMP/root" ] && root="$TMP/root"
  local cfg=()
  [ -f "$TMP/pcipass.conf" ] && cfg=(--config "$TMP/pcipass.conf")
  "$PCIPASS" --root "$root" --state "$TMP/state" "${cfg[@]}" "$@"
}

# The small host's devices (from the fixture generator's fixed layout) are
# looked up by driver so snippets need not hard-code addresses.
first_with_driver() {  # driver -> address of the first function bound to it
  local root="$SHARED/small" d
  [ -d "$TMP/root" ] && root="$TMP/root"
  for d in "$root/sys/bus/pci/drivers/$1"/0*; do
    [ -e "$d" ] && { basename "$d"; return 0; }
  done
  return 1
}

# A working config for the small host: GPUs (10de:20b0) and i40e VFs
# (8086:154c) allowed, aliases "gpu" and "vf"; extra arguments are appended
# as lines (e.g. '[claims]' 'placement = spread').
stdconf() {
  conf '[pci]' \
    'device_spec = {"vendor_id": "10de", "product_id": "20b0"}' \
    'device_spec = {"vendor_id": "8086", "product_id": "154c"}' \
    'alias = {"name": "gpu", "vendor_id": "10de", "product_id": "20b0", "device_type": "type-PCI"}' \
    'alias = {"name": "vf", "vendor_id": "8086", "product_id": "154c", "device_type": "type-VF"}' \
    "$@"
}
