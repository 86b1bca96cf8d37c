#!/bin/bash
# load-test.sh BUILD SRC - a bounded load from other processes, loopback
# only: wrk (2 threads, 8 connections, 3 s) on GET /v1/devices and
# GET /v1/check over TCP with the token, and 200 requests over the Unix
# socket from 8 curl processes at once. Every reply must be 2xx and the
# daemon must still answer afterwards.
BUILD=$1 SRC=$2
. "$SRC/tests/daemon/lib.sh"
command -v wrk >/dev/null || fail "wrk missing (Debian package wrk)"

make_host --sockets 2 --gpus 2 --sriov-pfs 2 --vfs-per-pf 16 --nvme 2 \
  --host-nics 1
head -c 24 /dev/urandom | base64 > "$WORK/token"
chmod 600 "$WORK/token"
group_flags=()
[ "$(id -u)" = 0 ] || group_flags=(--socket-group "$(id -g)")
start_daemon --reconcile-interval 0 --listen 127.0.0.1:0 \
  --token-file "$WORK/token" "${group_flags[@]}"
port=$(sed -n 's|.*http://127.0.0.1:\([0-9]*\).*|\1|p' "$WORK/daemon.log" | tail -1)
[ -n "$port" ] || fail "no TCP port in the log"
for path in /v1/devices /v1/check; do
  timeout 30 wrk -t2 -c8 -d3s --timeout 10s \
    -H "Authorization: Bearer $(cat "$WORK/token")" \
    "http://127.0.0.1:$port$path" > "$WORK/wrk.txt" || fail "wrk $path"
  rps=$(awk '/Requests\/sec/ {print $2}' "$WORK/wrk.txt")
  total=$(awk '/requests in/ {print $1}' "$WORK/wrk.txt")
  if grep -q 'Non-2xx\|Socket errors' "$WORK/wrk.txt"; then
    fail "wrk $path: errors: $(cat "$WORK/wrk.txt")"
  fi
  [ "${total:-0}" -gt 0 ] || fail "wrk $path: no requests"
  pass "wrk GET $path over TCP: $total requests, $rps req/s, all 2xx"
done
seq 1 200 | xargs -P 8 -I{} curl -s --max-time 30 --unix-socket "$SOCK" \
  -o /dev/null -w '%{http_code}\n' http://localhost/v1/check > "$WORK/codes"
n=$(grep -c '^200$' "$WORK/codes" || true)
[ "$n" = 200 ] || fail "unix socket: $n of 200 replies were 200: $(sort "$WORK/codes" | uniq -c)"
pass "200 requests over the Unix socket from 8 clients: all 200"
call after-load 200 GET /v1/version
stop_daemon
