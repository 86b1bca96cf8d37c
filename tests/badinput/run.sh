#!/bin/bash
# tests/badinput/run.sh - the table-driven bad-input suite.
#
#   run.sh PCIPASS FIXTURE [CASE_FILE...]   (default: cases/*.tsv)
#
# Each case file holds one case per line, TAB-separated:
#   name <TAB> expected exit status <TAB> expected words <TAB> bash snippet
# Expected words are |-separated; each must appear (case-insensitive
# substring) in the snippet's stdout+stderr; "-" or empty: no words. The
# exit status is a number or "!0" (any failure that is not a crash: 1..125).
# Lines starting with # and blank lines are skipped. The snippet runs in
# bash in a fresh scratch dir ($TMP, also the cwd) with $PCIPASS, $FIXTURE,
# $SHARED (fixture trees built once per run, read-only: copy them) and the
# helpers of lib.sh. Each case has a bounded time (PCIPASS_BADINPUT_TIMEOUT,
# default 20 s): a hang is a failure. A duplicate case name is a failure.
#
# Prints one line per failing case, then "N passed, N failed"; exit 0 only
# if none failed.
set -uo pipefail

if [ $# -lt 2 ]; then
  echo "usage: $0 PCIPASS FIXTURE [CASE_FILE...]" >&2
  exit 2
fi
HERE=$(cd "$(dirname "$0")" && pwd)
PCIPASS=$(realpath "$1")
FIXTURE=$(realpath "$2")
shift 2
if [ $# -gt 0 ]; then
  FILES=("$@")
else
  FILES=("$HERE"/cases/*.tsv)
fi
for bin in "$PCIPASS" "$FIXTURE"; do
  [ -x "$bin" ] || { echo "run.sh: $bin is not an executable" >&2; exit 2; }
done
CASE_TIMEOUT=${PCIPASS_BADINPUT_TIMEOUT:-20}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/pcipass-badinput.XXXXXX")
trap 'chmod -R u+rwx "$WORK" 2>/dev/null; rm -rf "$WORK"' EXIT
SHARED=$WORK/shared
mkdir -p "$SHARED"
# Shared trees, built once: "small" for most cases (read in place), "tiny"
# (same addresses for 03:00.0 GPU, 04:00.0 PF, 04:00.1-2 VFs; fewest files)
# for cases that copy a tree to write into it, "noiommu".
"$FIXTURE" "$SHARED/small" --gpus 2 --sriov-pfs 1 --vfs-per-pf 4 --nvme 2 \
  --shared-bridges 1 --host-nics 1 >/dev/null ||
  { echo "run.sh: cannot build the shared fixture tree" >&2; exit 2; }
"$FIXTURE" "$SHARED/tiny" --sockets 1 --gpus 1 --sriov-pfs 1 --vfs-per-pf 2 \
  --nvme 1 --shared-bridges 0 --host-nics 1 --no-vmd >/dev/null ||
  { echo "run.sh: cannot build the shared fixture tree" >&2; exit 2; }
"$FIXTURE" "$SHARED/noiommu" --gpus 1 --sriov-pfs 0 --nvme 1 --no-iommu \
  --shared-bridges 0 --host-nics 1 >/dev/null ||
  { echo "run.sh: cannot build the shared fixture tree" >&2; exit 2; }
chmod -R a-w "$SHARED"
export PCIPASS FIXTURE SHARED

passed=0
failed=0
declare -A seen
n=0
TAB=$'\t'

fail() {  # name, why, output file
  failed=$((failed + 1))
  local first=""
  if [ -n "${3:-}" ] && [ -s "$3" ]; then
    first=$(head -c 2000 "$3" | tr -d '\0' | head -n 3 | tr '\n' '|' |
      sed 's/|$//; s/|/ \/\/ /g')
  fi
  echo "FAIL $1: $2${first:+; output: $first}"
}

for file in "${FILES[@]}"; do
  [ -f "$file" ] || { fail "$(basename "$file")" "no such case file" ""; continue; }
  topic=$(basename "$file" .tsv)
  lineno=0
  while IFS= read -r line || [ -n "$line" ]; do
    lineno=$((lineno + 1))
    [[ -z "${line//[[:space:]]/}" || "$line" == \#* ]] && continue
    where="$topic:$lineno"
    # Split by hand: read with IFS=TAB would merge empty fields.
    if [[ "$line" != *"$TAB"*"$TAB"*"$TAB"* ]]; then
      fail "$where" "malformed line (needs 4 TAB-separated fields)" ""
      continue
    fi
    name=${line%%"$TAB"*}; rest=${line#*"$TAB"}
    want=${rest%%"$TAB"*}; rest=${rest#*"$TAB"}
    words=${rest%%"$TAB"*}; snippet=${rest#*"$TAB"}
    if [ -n "${seen[$name]:-}" ]; then
      fail "$name" "duplicate case name ($where and ${seen[$name]})" ""
      continue
    fi
    seen[$name]=$where
    if ! [[ "$want" =~ ^([0-9]+|!0)$ ]]; then
      fail "$name" "bad expected exit status '$want' ($where)" ""
      continue
    fi
    n=$((n + 1))
    dir=$WORK/case$n
    mkdir -p "$dir"
    out=$WORK/out$n
    (cd "$dir" && TMP=$dir HOME=$dir PCIPASS_ROOT= PCIPASS_CONFIG= \
       PCIPASS_STATE= timeout -k 2 "$CASE_TIMEOUT" \
       bash -c "source '$HERE/lib.sh'; $snippet" </dev/null >"$out" 2>&1) \
      2>/dev/null  # the shell's own "Segmentation fault" report
    got=$?
    if [ "$got" = 124 ] || [ "$got" = 137 ]; then
      fail "$name" "timed out after ${CASE_TIMEOUT}s (expected exit $want)" "$out"
      continue
    fi
    if [ "$want" = "!0" ]; then
      if [ "$got" = 0 ] || [ "$got" -gt 125 ]; then
        fail "$name" "expected a failure exit (1..125), got $got" "$out"
        continue
      fi
    elif [ "$got" != "$want" ]; then
      fail "$name" "expected exit $want, got $got" "$out"
      continue
    fi
    missing=()
    if [ -n "$words" ] && [ "$words" != "-" ]; then
      IFS='|' read -r -a wlist <<<"$words"
      for w in "${wlist[@]}"; do
        [ -z "$w" ] && continue
        grep -qiF -- "$w" "$out" || missing+=("$w")
      done
    fi
    if [ ${#missing[@]} -gt 0 ]; then
      fail "$name" "exit $got ok, missing words: $(IFS='|'; echo "${missing[*]}")" "$out"
      continue
    fi
    passed=$((passed + 1))
    chmod -R u+rwx "$dir" 2>/dev/null
    rm -rf "$dir" "$out"
  done <"$file"
done
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
