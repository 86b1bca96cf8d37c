#!/bin/bash
# lib.sh - shared helpers of the pcipassd tests: a fixture host, starting
# and stopping real pcipassd processes, and HTTP over the Unix socket
# (curl --unix-socket) and TCP. Sourced with BUILD (build dir) and SRC
# (source dir) set. Every wait is bounded.
set -euo pipefail

PCIPASSD=$BUILD/src/main/pcipassd
PCIPASS=$BUILD/src/main/pcipass
FIXTURE=$BUILD/src/testing/pcipass-fixture
WORK=$(mktemp -d "${TMPDIR:-/tmp}/pcipassd-test.XXXXXX")
DAEMON_PID=""
cleanup() {
  if [ -n "$DAEMON_PID" ] && kill -0 "$DAEMON_PID" 2>/dev/null; then
    kill -KILL "$DAEMON_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; [ -f "$WORK/daemon.log" ] && tail -20 "$WORK/daemon.log" >&2; exit 1; }
pass() { echo "ok: $*"; }

# make_host [fixture flags...]: a synthetic host in $WORK/root and a
# config allowing its X710 VFs (alias vf) and A100 GPUs with their audio
# functions (alias gpu), in $WORK/pcipass.conf.
make_host() {
  "$FIXTURE" "$WORK/root" "$@" >/dev/null
  cat > "$WORK/pcipass.conf" <<'CONF'
[pci]
device_spec = {"vendor_id": "8086", "product_id": "154c"}
device_spec = {"vendor_id": "10de", "product_id": "20b0", "managed": "true"}
device_spec = {"vendor_id": "10de", "product_id": "1aef", "managed": "true"}
alias = {"name": "vf", "vendor_id": "8086", "product_id": "154c", "device_type": "type-VF"}
alias = {"name": "gpu", "vendor_id": "10de", "product_id": "20b0"}
CONF
  mkdir -p "$WORK/state"
}

SOCK=""
# start_daemon [extra flags...]: runs pcipassd on the fixture host and
# waits (up to 20 s) until its socket answers.
start_daemon() {
  SOCK=$WORK/pcipassd.sock
  "$PCIPASSD" --root "$WORK/root" --config "$WORK/pcipass.conf" \
    --state "$WORK/state" --socket "$SOCK" "$@" >>"$WORK/daemon.log" 2>&1 &
  DAEMON_PID=$!
  for _ in $(seq 1 200); do
    if [ -S "$SOCK" ] && curl -s --max-time 2 --unix-socket "$SOCK" \
        -o /dev/null http://localhost/v1/version; then
      return 0
    fi
    kill -0 "$DAEMON_PID" 2>/dev/null || fail "pcipassd exited at start"
    sleep 0.1
  done
  fail "pcipassd did not answer within 20 s"
}

# stop_daemon: SIGTERM, wait (bounded 20 s), expect exit 0.
stop_daemon() {
  kill -TERM "$DAEMON_PID"
  local rc=0
  for _ in $(seq 1 200); do
    kill -0 "$DAEMON_PID" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$DAEMON_PID" 2>/dev/null && fail "pcipassd did not stop on SIGTERM"
  wait "$DAEMON_PID" || rc=$?
  DAEMON_PID=""
  [ "$rc" = 0 ] || fail "pcipassd exited $rc after SIGTERM"
}

# api METHOD PATH [BODY]: request over the socket; sets STATUS and BODY
# (the reply) and, with RECORD set, records it for the OpenAPI check as
# $WORK/responses/N.json {method, path, status, body, content_type}.
RESP_N=0
api() {
  local method=$1 path=$2 body=${3-}
  local args=(-s --max-time 60 --unix-socket "$SOCK" -X "$method"
              -o "$WORK/reply" -w '%{http_code} %{content_type}')
  if [ -n "$body" ]; then
    args+=(-H 'Content-Type: application/json' --data-binary "$body")
  fi
  local meta
  meta=$(curl "${args[@]}" "http://localhost$path") || fail "curl $method $path"
  STATUS=${meta%% *}
  CTYPE=${meta#* }
  BODY=$(cat "$WORK/reply")
  if [ -n "${RECORD:-}" ]; then
    mkdir -p "$WORK/responses"
    RESP_N=$((RESP_N + 1))
    jq -n --arg m "$method" --arg p "$path" --argjson s "$STATUS" \
      --arg c "$CTYPE" --rawfile b "$WORK/reply" \
      '{method: $m, path: $p, status: $s, content_type: $c, body: $b}' \
      > "$WORK/responses/$RESP_N.json"
  fi
}

# expect STATUS: the last reply had that HTTP status.
expect() {
  [ "$STATUS" = "$1" ] || fail "$LAST_WHAT: HTTP $STATUS, expected $1: $BODY"
}

# call WHAT EXPECTED_STATUS METHOD PATH [BODY]
call() {
  LAST_WHAT=$1
  local want=$2
  shift 2
  api "$@"
  expect "$want"
}

# bad_input WHAT STATUS FIELD METHOD PATH [BODY]: a 4xx JSON error that
# names FIELD ("null" for none) and has a non-empty message and fix.
bad_input() {
  local what=$1 want=$2 field=$3
  shift 3
  call "$what" "$want" "$@"
  echo "$BODY" | jq -e --arg f "$field" '
    (.error.code | type == "string") and (.error.message | length > 0) and
    (.error.fix | length > 0) and
    (if $f == "null" then .error.field == null else .error.field == $f end)' \
    >/dev/null || fail "$what: error does not name field $field: $BODY"
}
