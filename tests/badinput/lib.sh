# Helpers for bad-input snippets (sourced by run.sh before each snippet).
# The cwd is the case's own scratch dir $TMP.

# Copies a shared fixture tree (default "small") to $TMP/root, writable.
host() {
  local shape=${1:-small}
  rm -rf "$TMP/root"
  cp -a "$SHARED/$shape" "$TMP/root" && chmod -R u+w "$TMP/root"
}

# Writes each argument as a line of $TMP/pcipass.conf.
conf() {
  printf '%s\n' "$@" >"$TMP/pcipass.conf"
}

# pcipass on $TMP/root (copied from "small" on first use) with state in
# $TMP/state, and --config $TMP/pcipass.conf when conf wrote one.
pp() {
  [ -d "$TMP/root" ] || host
  local cfg=()
  [ -f "$TMP/pcipass.conf" ] && cfg=(--config "$TMP/pcipass.conf")
  "$PCIPASS" --root "$TMP/root" --state "$TMP/state" "${cfg[@]}" "$@"
}

# The small host's devices (from the fixture generator's fixed layout) are
# looked up by driver so snippets need not hard-code addresses.
first_with_driver() {  # driver -> address of the first function bound to it
  [ -d "$TMP/root" ] || host
  local d
  for d in "$TMP/root/sys/bus/pci/drivers/$1"/0*; do
    [ -e "$d" ] && { basename "$d"; return 0; }
  done
  return 1
}
