#!/bin/bash
# lifecycle-test.sh BUILD SRC - the reconcile loop reports drift made
# behind pcipass (a device vanished, a driver changed) in metrics and in
# the ledger's history; SIGHUP re-validates the config (an invalid one is
# reported, the daemon keeps serving); SIGTERM lets an in-flight request
# and its operation finish, refuses new connections, and exits 0.
BUILD=$1 SRC=$2
. "$SRC/tests/daemon/lib.sh"

# Half the VFs on vfio-pci, so the vfio-pci driver exists in the tree.
make_host --sockets 1 --gpus 0 --sriov-pfs 1 --vfs-per-pf 8 --nvme 0 \
  --host-nics 1 --vfio-vf-percent 50
group_flags=()
[ "$(id -u)" = 0 ] || group_flags=(--socket-group "$(id -g)")
start_daemon --reconcile-interval 1 "${group_flags[@]}"

metric() {  # metric NAME_WITH_LABELS -> value or 0
  api GET /metrics
  echo "$BODY" | awk -v m="$1" '$1 == m {print $2; found=1} END {if (!found) print 0}'
}

# Drift behind pcipass: one VF's driver unbound by hand, another VF gone.
call list 200 GET /v1/devices
vfs=($(echo "$BODY" | jq -r '.devices[] | select(.dev_type == "type-VF" and .driver == "iavf") | .address'))
[ ${#vfs[@]} -ge 3 ] || fail "fixture has ${#vfs[@]} VFs"
rm "$WORK/root/sys/bus/pci/devices/${vfs[0]}/driver"
gone=$(readlink -f "$WORK/root/sys/bus/pci/devices/${vfs[1]}")
rm -rf "$gone" "$WORK/root/sys/bus/pci/devices/${vfs[1]}"
for _ in $(seq 1 60); do
  d=$(metric 'pcipassd_reconcile_drift_total{kind="driver_changed"}')
  r=$(metric 'pcipassd_reconcile_drift_total{kind="removed"}')
  [ "$d" != 0 ] && [ "$r" != 0 ] && break
  sleep 0.2
done
[ "$d" != 0 ] || fail "no driver_changed drift in /metrics"
[ "$r" != 0 ] || fail "no removed drift in /metrics"
grep -q "drift: ${vfs[0]} driver_changed" "$WORK/daemon.log" || fail "drift not logged"
call history 200 GET "/v1/history?device=${vfs[1]}"
echo "$BODY" | jq -e '[.events[] | select(.kind == "remove" or .kind == "drift")] | length > 0' \
  >/dev/null || fail "no drift event in the history: $BODY"
pass "reconcile loop: driver change and vanished device in metrics, log and history"

# SIGHUP with a broken config: reported, still serving; fixed: valid.
cp "$WORK/pcipass.conf" "$WORK/good.conf"
echo 'device_spec = {"vendor_id": "zzzz"}' >> "$WORK/pcipass.conf"
kill -HUP "$DAEMON_PID"
for _ in $(seq 1 50); do
  [ "$(metric 'pcipassd_config_reloads_total{result="error"}')" = 1 ] && break
  sleep 0.1
done
[ "$(metric pcipassd_config_valid)" = 0 ] || fail "config_valid not 0 after a bad reload"
call still-serving 200 GET /v1/version
cp "$WORK/good.conf" "$WORK/pcipass.conf"
kill -HUP "$DAEMON_PID"
for _ in $(seq 1 50); do
  [ "$(metric 'pcipassd_config_reloads_total{result="ok"}')" = 1 ] && break
  sleep 0.1
done
[ "$(metric pcipassd_config_valid)" = 1 ] || fail "config_valid not 1 after fixing"
pass "SIGHUP: a broken config is reported and the daemon keeps serving"

# SIGTERM while a request is in flight: a hot-plug whose QMP peer accepts
# the connection but never greets (a second pcipassd's socket: it waits
# for an HTTP request) runs until its 2 s timeout. The client still gets
# its reply, new connections are refused meanwhile, and the daemon exits
# 0 only after that.
mkdir -p "$WORK/silent"
"$PCIPASSD" --root "$WORK/silent" --state "$WORK/silent/state" \
  --socket "$WORK/silent.sock" --reconcile-interval 0 2>/dev/null &
silent=$!
for _ in $(seq 1 100); do [ -S "$WORK/silent.sock" ] && break; sleep 0.1; done
call claim-for-hotplug 201 POST /v1/claims \
  '{"instance": "vm-hp", "request": "vf:1", "detach": false}'
start=$(date +%s%N)
curl -s --max-time 60 --unix-socket "$SOCK" -o "$WORK/inflight" \
  -w '%{http_code}' -H 'Content-Type: application/json' \
  --data-binary "{\"instance\": \"vm-hp\", \"qmp\": \"$WORK/silent.sock\", \"timeout_ms\": 2000}" \
  'http://localhost/v1/hotplug?wait=true' > "$WORK/inflight-code" &
client=$!
sleep 0.5
kill -TERM "$DAEMON_PID"
sleep 0.2
if curl -s --max-time 2 --unix-socket "$SOCK" -o /dev/null http://localhost/v1/version; then
  fail "a new connection was accepted while draining"
fi
kill -0 "$DAEMON_PID" 2>/dev/null || fail "pcipassd exited with a request in flight"
wait "$client" || fail "the in-flight client failed (curl $?)"
code=$(cat "$WORK/inflight-code")
[ "$code" = 503 ] || fail "in-flight hot-plug got HTTP '$code': $(cat "$WORK/inflight")"
jq -e '.error.code == "unavailable"' "$WORK/inflight" >/dev/null ||
  fail "in-flight reply: $(cat "$WORK/inflight")"
elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$elapsed" -ge 1500 ] || fail "the hot-plug took only $elapsed ms: not in flight at SIGTERM"
kill -TERM "$silent"
wait "$silent" || fail "the silent pcipassd did not exit 0"
rc=0
for _ in $(seq 1 100); do kill -0 "$DAEMON_PID" 2>/dev/null || break; sleep 0.1; done
wait "$DAEMON_PID" || rc=$?
DAEMON_PID=""
[ "$rc" = 0 ] || fail "exit $rc after SIGTERM"
grep -q draining "$WORK/daemon.log" && grep -q stopped "$WORK/daemon.log" ||
  fail "no drain in the log"
[ ! -e "$SOCK" ] || fail "socket file left behind"
pass "SIGTERM drained an in-flight hot-plug (HTTP $code after ${elapsed} ms), refused new connections meanwhile, exit 0"
