#!/bin/bash
# claims-test.sh BUILD SRC - many clients claiming at once through one
# pcipassd (and pcipass CLI processes beside it) never get the same
# device: with 32 VFs and 48 one-VF claims, exactly 32 succeed (201), 16
# are refused (409), and every VF is held once. Then kill -9 of the daemon
# in the middle of a burst of claims loses nothing: every 201 the clients
# saw is in the ledger, no device is held twice, the ledger's device
# states agree with its claims, and the next start reconciles and serves.
BUILD=$1 SRC=$2
. "$SRC/tests/daemon/lib.sh"

make_host --sockets 1 --gpus 0 --sriov-pfs 2 --vfs-per-pf 16 --nvme 0 \
  --host-nics 1 --vfio-vf-percent 0
group_flags=()
[ "$(id -u)" = 0 ] || group_flags=(--socket-group "$(id -g)")
start_daemon --reconcile-interval 0 --workers 8 "${group_flags[@]}"
LEDGER=$WORK/state/ledger.sqlite

# claim_one ID: one client; prints "ID STATUS".
claim_one() {
  local code
  code=$(curl -s --max-time 60 --unix-socket "$SOCK" -o /dev/null \
    -w '%{http_code}' -H 'Content-Type: application/json' \
    --data-binary "{\"instance\": \"vm-$1\", \"request\": \"vf:1\", \"detach\": false}" \
    http://localhost/v1/claims) || code=000
  echo "vm-$1 $code"
}
export -f claim_one
export SOCK

# 40 clients over the socket and 8 pcipass processes, 16 at a time.
{
  seq 1 40 | xargs -P 16 -I{} bash -c 'claim_one {}'
} > "$WORK/daemon-claims" &
clients=$!
cli_pids=()
for i in $(seq 41 48); do
  (rc=0
   "$PCIPASS" --root "$WORK/root" --config "$WORK/pcipass.conf" \
     --state "$WORK/state" --json claim --no-detach --instance "vm-$i" vf:1 \
     >/dev/null 2>&1 || rc=$?
   echo "vm-$i $rc") >> "$WORK/cli-claims" &
  cli_pids+=($!)
done
# Not a bare wait: the daemon is a child too.
wait "$clients" "${cli_pids[@]}" || fail "a claiming client failed"
ok_daemon=$(grep -c ' 201$' "$WORK/daemon-claims" || true)
refused_daemon=$(grep -c ' 409$' "$WORK/daemon-claims" || true)
ok_cli=$(grep -c ' 0$' "$WORK/cli-claims" || true)
other=$(grep -vc ' 201$\| 409$' "$WORK/daemon-claims" || true)
[ "$other" = 0 ] || fail "unexpected replies: $(grep -v ' 201$\| 409$' "$WORK/daemon-claims")"
total=$((ok_daemon + ok_cli))
[ "$total" = 32 ] || fail "$ok_daemon daemon + $ok_cli CLI claims succeeded, expected 32 in all"
dups=$(sqlite3 "$LEDGER" "SELECT count(*) FROM (SELECT address FROM claims GROUP BY address HAVING count(*) > 1);")
[ "$dups" = 0 ] || fail "$dups devices claimed twice"
held=$(sqlite3 "$LEDGER" "SELECT count(DISTINCT address) FROM claims;")
[ "$held" = 32 ] || fail "$held distinct devices held, expected 32"
pass "48 concurrent claims (40 HTTP, 8 CLI): $ok_daemon+$ok_cli granted, $refused_daemon refused, 0 double allocations"

# Every instance that got 201 holds exactly one VF.
while read -r inst code; do
  [ "$code" = 201 ] || continue
  n=$(sqlite3 "$LEDGER" "SELECT count(*) FROM claims WHERE instance = '$inst';")
  [ "$n" = 1 ] || fail "$inst got 201 but holds $n devices"
done < "$WORK/daemon-claims"

# Free everything through the API (16 releases at once).
api GET /v1/claims
echo "$BODY" | jq -r '.claims[].instance' | sort -u > "$WORK/instances"
xargs -P 16 -I{} curl -s --max-time 60 --unix-socket "$SOCK" -o /dev/null \
  -X DELETE http://localhost/v1/claims/{} < "$WORK/instances"
n=$(sqlite3 "$LEDGER" "SELECT count(*) FROM claims;")
[ "$n" = 0 ] || fail "$n claims left after releasing all"
pass "16 concurrent releases freed every device"

# kill -9 mid-burst: 300 one-VF claims from 16 clients (the 33rd on
# are refused, each still a ledger transaction); the daemon is killed as
# soon as the ledger holds 8 claims, so claims are in flight.
seq 100 399 | xargs -P 16 -I{} bash -c 'claim_one {}' > "$WORK/burst" &
burst=$!
for _ in $(seq 1 300); do
  n=$(sqlite3 "$LEDGER" "SELECT count(*) FROM claims;" 2>/dev/null || echo 0)
  [ "${n:-0}" -ge 8 ] && break
  sleep 0.02
done
kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null || true
DAEMON_PID=""
wait "$burst" || true
cut_off=$(grep -c ' 000$' "$WORK/burst" || true)
[ "$cut_off" -gt 0 ] || fail "the kill came after the burst (no request cut off)"
granted=$(grep -c ' 201$' "$WORK/burst" || true)
[ "$(sqlite3 "$LEDGER" 'PRAGMA integrity_check;')" = ok ] || fail "ledger integrity"
while read -r inst code; do
  [ "$code" = 201 ] || continue
  n=$(sqlite3 "$LEDGER" "SELECT count(*) FROM claims WHERE instance = '$inst';")
  [ "$n" = 1 ] || fail "$inst got 201 before the kill but the ledger has $n claims"
done < "$WORK/burst"
dups=$(sqlite3 "$LEDGER" "SELECT count(*) FROM (SELECT address FROM claims GROUP BY address HAVING count(*) > 1);")
[ "$dups" = 0 ] || fail "$dups devices held twice after the kill"
# Device states agree with the claims: a device is claimed/allocated iff
# a claim holds it.
mismatch=$(sqlite3 "$LEDGER" "
  SELECT count(*) FROM devices d
  WHERE (d.state IN ('claimed', 'allocated')) !=
        (EXISTS (SELECT 1 FROM claims c
                 WHERE c.address = d.address AND c.instance = d.owner));")
[ "$mismatch" = 0 ] || fail "$mismatch devices whose state disagrees with the claims"
pass "kill -9 during a burst of claims: $granted granted before the kill, $cut_off cut off; every granted claim in the ledger, none doubled"

# The next start reconciles and serves; the pool is whole again after
# releasing.
start_daemon --reconcile-interval 0 "${group_flags[@]}"
call claims-after-restart 200 GET /v1/claims
held=$(echo "$BODY" | jq '[.claims[].address] | length')
uniq=$(echo "$BODY" | jq '[.claims[].address] | unique | length')
[ "$held" = "$uniq" ] || fail "after restart: $held claims on $uniq devices"
echo "$BODY" | jq -r '.claims[].instance' | sort -u | while read -r inst; do
  api DELETE "/v1/claims/$inst"
  [ "$STATUS" = 200 ] || fail "release $inst after restart: $STATUS $BODY"
done
call fit-all 200 POST /v1/fit '{"request": "vf:32"}'
echo "$BODY" | jq -e '.fits == true' >/dev/null || fail "pool not whole: $BODY"
pass "restart after kill -9: claims listed once, released, all 32 VFs free"
stop_daemon
