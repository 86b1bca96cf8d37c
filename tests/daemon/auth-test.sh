#!/bin/bash
# auth-test.sh BUILD SRC - who may use pcipassd: TCP needs the bearer
# token (missing/wrong -> 401 JSON), TLS serves the same API, SIGHUP
# rotates the token, and the Unix socket's peer check refuses a uid that
# is neither root nor in --socket-group (403 JSON) even when the socket
# file's mode is loosened.
BUILD=$1 SRC=$2
. "$SRC/tests/daemon/lib.sh"

make_host --sockets 1 --gpus 0 --sriov-pfs 1 --vfs-per-pf 4 --nvme 0 \
  --host-nics 1
head -c 24 /dev/urandom | base64 > "$WORK/token"
chmod 600 "$WORK/token"
TOKEN=$(cat "$WORK/token")
group_flags=()
[ "$(id -u)" = 0 ] || group_flags=(--socket-group "$(id -g)")

# The token file must not be world-readable.
chmod 644 "$WORK/token"
if "$PCIPASSD" --root "$WORK/root" --state "$WORK/state" \
    --socket "$WORK/x.sock" --listen 127.0.0.1:0 --token-file "$WORK/token" \
    2>"$WORK/err"; then
  fail "started with a world-readable token file"
fi
grep -q "chmod 600" "$WORK/err" || fail "token file error: $(cat "$WORK/err")"
chmod 600 "$WORK/token"
pass "a world-readable token file is refused"

start_daemon --reconcile-interval 0 --listen 127.0.0.1:0 \
  --token-file "$WORK/token" "${group_flags[@]}"
port=$(sed -n 's|.*http://127.0.0.1:\([0-9]*\).*|\1|p' "$WORK/daemon.log" | tail -1)
[ -n "$port" ] || fail "no TCP port in the log"
tcp() {  # tcp AUTH_HEADER PATH -> STATUS, BODY
  local meta
  meta=$(curl -s --max-time 20 -o "$WORK/reply" -w '%{http_code}' \
    ${1:+-H "$1"} "http://127.0.0.1:$port$2") || fail "curl tcp $2"
  STATUS=$meta
  BODY=$(cat "$WORK/reply")
}
tcp "" /v1/check
[ "$STATUS" = 401 ] || fail "no token: HTTP $STATUS"
echo "$BODY" | jq -e '.error.code == "unauthenticated" and .error.field == "Authorization"' \
  >/dev/null || fail "401 body: $BODY"
tcp "Authorization: Bearer wrong-token-0123456789" /v1/check
[ "$STATUS" = 401 ] || fail "wrong token: HTTP $STATUS"
tcp "Authorization: Bearer $TOKEN" /v1/check
[ "$STATUS" = 200 ] || fail "right token: HTTP $STATUS $BODY"
tcp "Authorization: Bearer $TOKEN" /metrics
[ "$STATUS" = 200 ] || fail "metrics over TCP: HTTP $STATUS"
pass "TCP: 401 without or with a wrong token, 200 with it"

# SIGHUP re-reads the token file: the old token stops working.
head -c 24 /dev/urandom | base64 > "$WORK/token"
kill -HUP "$DAEMON_PID"
for _ in $(seq 1 50); do
  grep -q "reload: done" "$WORK/daemon.log" && break
  sleep 0.1
done
grep -q "reload: done" "$WORK/daemon.log" || fail "no reload in the log"
tcp "Authorization: Bearer $TOKEN" /v1/check
[ "$STATUS" = 401 ] || fail "old token after SIGHUP: HTTP $STATUS"
TOKEN=$(cat "$WORK/token")
tcp "Authorization: Bearer $TOKEN" /v1/check
[ "$STATUS" = 200 ] || fail "new token after SIGHUP: HTTP $STATUS"
pass "SIGHUP rotates the token"

# Socket mode and group.
mode=$(stat -c %a "$SOCK")
[ "$mode" = 660 ] || fail "socket mode $mode, expected 660"
pass "socket mode 0660"
stop_daemon

# 403: a uid that is neither root nor in the group. As root, connect as
# an unprivileged uid (setpriv); as a user, configure a group we are not
# in. The socket is made world-writable so only the peer check stands.
if [ "$(id -u)" = 0 ]; then
  start_daemon --reconcile-interval 0 --socket-group 4242
  chmod 666 "$SOCK"
  chmod 711 "$WORK"  # the other uid must reach the socket file
  as_other=(setpriv --reuid=4243 --regid=4243 --clear-groups)
  in_group=(setpriv --reuid=4243 --regid=4242 --clear-groups)
else
  other=4242
  while id -G | tr ' ' '\n' | grep -qx "$other"; do other=$((other + 1)); done
  start_daemon --reconcile-interval 0 --socket-group "$other"
  chmod 666 "$SOCK"
  as_other=()
  in_group=()
fi
# as_user CMD... PATH: a request as that user; the reply goes to stdout
# (the other uid cannot write into $WORK), split into CODE and REPLY.
as_user() {
  local out
  out=$("$@" curl -s -w '\n%{http_code}' --unix-socket "$SOCK" \
    "http://localhost$PATH_") || fail "curl as $*: could not connect"
  CODE=${out##*$'\n'}
  REPLY=${out%$'\n'*}
}
PATH_=/v1/check as_user "${as_other[@]}"
[ "$CODE" = 403 ] || fail "other uid: HTTP $CODE"
echo "$REPLY" | jq -e '.error.code == "forbidden" and (.error.fix | test("usermod|root"))' \
  >/dev/null || fail "403 body: $REPLY"
if [ ${#in_group[@]} -gt 0 ]; then
  PATH_=/v1/version as_user "${in_group[@]}"
  [ "$CODE" = 200 ] || fail "group member: HTTP $CODE $REPLY"
fi
pass "peer check: 403 for a uid outside root/--socket-group, 200 inside"
stop_daemon

# TLS on TCP with a self-signed certificate.
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
  -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null
rm -f "$SOCK"
start_daemon --reconcile-interval 0 --listen 127.0.0.1:0 \
  --token-file "$WORK/token" --tls-cert "$WORK/cert.pem" \
  --tls-key "$WORK/key.pem" "${group_flags[@]}"
port=$(sed -n 's|.*https://127.0.0.1:\([0-9]*\).*|\1|p' "$WORK/daemon.log" | tail -1)
code=$(curl -s --max-time 20 --cacert "$WORK/cert.pem" -o "$WORK/reply" \
  -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
  "https://localhost:$port/v1/devices") || fail "curl https"
[ "$code" = 200 ] || fail "https: HTTP $code"
code=$(curl -s --max-time 20 --cacert "$WORK/cert.pem" -o /dev/null \
  -w '%{http_code}' "https://localhost:$port/v1/devices") || fail "curl https"
[ "$code" = 401 ] || fail "https without token: HTTP $code"
pass "TLS: 200 with the token, 401 without"
stop_daemon
