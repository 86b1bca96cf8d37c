#!/bin/bash
# api-test.sh BUILD SRC - every /v1/ route of a real pcipassd on a fixture
# host, over its Unix socket: success replies, every kind of bad input
# (4xx JSON error naming the field, never the exception handler), unknown
# routes and methods, the payload limit, long operations as operation
# resources; then every recorded reply is validated against
# docs/api/openapi.yaml (tests/daemon/openapi-check.js, ajv) and /metrics
# by promtool check metrics.
BUILD=$1 SRC=$2
. "$SRC/tests/daemon/lib.sh"
command -v jq >/dev/null || fail "jq missing (scripts/deps.sh installs it)"

make_host --sockets 2 --gpus 1 --sriov-pfs 2 --vfs-per-pf 8 --nvme 1 \
  --host-nics 1 --vfio-vf-percent 0
start_daemon --reconcile-interval 0
RECORD=1

call version 200 GET /v1/version
call check 200 GET /v1/check
echo "$BODY" | jq -e '.checks | length > 0' >/dev/null || fail "check: $BODY"
call devices 200 GET /v1/devices
n=$(echo "$BODY" | jq '.devices | length')
[ "$n" -gt 20 ] || fail "devices: only $n"
# The CLI's --json, the same bytes' meaning.
"$PCIPASS" --root "$WORK/root" --config "$WORK/pcipass.conf" --json list \
  > "$WORK/cli-list.json"
diff <(echo "$BODY" | jq -S .) <(jq -S . "$WORK/cli-list.json") >/dev/null ||
  fail "GET /v1/devices differs from pcipass --json list"
pass "GET /v1/devices = pcipass --json list ($n devices)"
call assignable 200 GET '/v1/devices?assignable=true'
vf=$(echo "$BODY" | jq -r '[.devices[] | select(.dev_type == "type-VF")][0].address')
[ -n "$vf" ] && [ "$vf" != null ] || fail "no assignable VF: $BODY"
call show 200 GET "/v1/devices/$vf"
echo "$BODY" | jq -e --arg a "$vf" '.address == $a' >/dev/null || fail "show: $BODY"
call groups 200 GET /v1/groups
call groups-nonviable 200 GET '/v1/groups?non_viable=true'
call explain 200 GET "/v1/explain?address=$vf&alias=vf"
call fit 200 POST /v1/fit '{"request": "vf:2"}'
echo "$BODY" | jq -e '.fits == true or .ok == true or (.requests | length > 0)' \
  >/dev/null || fail "fit: $BODY"
call fit-no 200 POST /v1/fit '{"request": "vf:500"}'
call claim 201 POST /v1/claims '{"instance": "vm-1", "request": "vf:2", "detach": false}'
echo "$BODY" | jq -e '.claimed == true and (.devices | length == 2)' \
  >/dev/null || fail "claim: $BODY"
call claim-again 409 POST /v1/claims '{"instance": "vm-1", "request": "vf:1", "detach": false}'
call claim-too-many 409 POST /v1/claims '{"instance": "vm-2", "request": "vf:500", "detach": false}'
call claims 200 GET /v1/claims
call claims-one 200 GET '/v1/claims?instance=vm-1&devices=true'
call vm-config 200 POST /v1/vm-config '{"instance": "vm-1", "domain_xml": true, "memory_mib": 1024, "vcpus": 2}'
call history 200 GET '/v1/history?instance=vm-1'
call usage 200 GET '/v1/usage?since=24h'
call reconcile 200 POST /v1/reconcile
# vm-1 holds devices but has no running VM: QEMU is unreachable.
call hotplug-no-vm 503 POST '/v1/hotplug?wait=true' \
  "{\"instance\": \"vm-1\", \"qmp\": \"$WORK/no-such-qmp.sock\", \"timeout_ms\": 500}"
call hotunplug-no-vm 503 POST '/v1/hotunplug?wait=true' \
  "{\"instance\": \"vm-1\", \"qmp\": \"$WORK/no-such-qmp.sock\", \"timeout_ms\": 500}"
call release 200 DELETE /v1/claims/vm-1
call release-again 404 DELETE /v1/claims/vm-1
call detach-dry 200 POST '/v1/detach?wait=true' "{\"addresses\": [\"$vf\"], \"dry_run\": true}"
call reattach-dry 200 POST '/v1/reattach?wait=true' "{\"addresses\": [\"$vf\"], \"dry_run\": true}"
pf=$(jq -r '[.devices[] | select(.dev_type == "type-PF")][0].address' "$WORK/cli-list.json")
call sriov-dry 200 POST '/v1/sriov?wait=true' "{\"pf\": \"$pf\", \"numvfs\": 4, \"dry_run\": true}"
# No [host] section: apply says so (409), never "already matches".
call apply-no-host 409 POST '/v1/apply?wait=true' '{"dry_run": true}'
printf '[host]\nvfio = %s\n' "$vf" >> "$WORK/pcipass.conf"
call apply-dry 200 POST '/v1/apply?wait=true' '{"dry_run": true}'
# A long operation as a resource: 202 + Location, then poll (bounded).
call detach-async 202 POST /v1/detach "{\"addresses\": [\"$vf\"], \"dry_run\": true}"
op=$(echo "$BODY" | jq -r .id)
for _ in $(seq 1 100); do
  call operation 200 GET "/v1/operations/$op"
  [ "$(echo "$BODY" | jq -r .state)" = running ] || break
  sleep 0.1
done
echo "$BODY" | jq -e '.state == "succeeded" and (.progress | length >= 2) and
  .result != null' >/dev/null || fail "operation: $BODY"
call operations 200 GET /v1/operations
call hotplug-no-claim 404 POST '/v1/hotplug?wait=true' \
  "{\"instance\": \"vm-9\", \"qmp\": \"$WORK/no-such-qmp.sock\"}"
pass "every route answered"

# Bad input: 4xx JSON naming the field; never a 500.
bad_input bad-address 400 address GET /v1/devices/0000:zz:00.0
bad_input unknown-device 404 address GET /v1/devices/0000:ee:1f.7
bad_input bad-json 400 body POST /v1/fit '{"request": '
bad_input not-object 400 body POST /v1/fit '["vf:1"]'
bad_input unknown-field 400 colour POST /v1/fit '{"request": "vf:1", "colour": "red"}'
bad_input wrong-type 400 request POST /v1/fit '{"request": 3}'
bad_input missing-field 400 request POST /v1/fit '{}'
bad_input bad-enum 400 placement POST /v1/fit '{"request": "vf:1", "placement": "tight"}'
bad_input bad-alias 404 null POST /v1/fit '{"request": "nosuch:1"}'
bad_input bad-count 400 request POST /v1/fit '{"request": "vf:zero"}'
bad_input claim-no-instance 400 instance POST /v1/claims '{"request": "vf:1"}'
bad_input claim-bool 400 detach POST /v1/claims '{"instance": "x", "request": "vf:1", "detach": "no"}'
bad_input claim-null-byte 400 instance POST /v1/claims '{"instance": "a\u0000b", "request": "vf:1"}'
bad_input bad-query 400 assignable GET '/v1/devices?assignable=maybe'
bad_input unknown-query 400 sort GET '/v1/devices?sort=name'
bad_input usage-no-since 400 since GET /v1/usage
bad_input usage-bad-since 400 since GET '/v1/usage?since=yesterday'
bad_input explain-no-address 400 address GET /v1/explain
bad_input detach-bad-list 400 addresses POST /v1/detach '{"addresses": "0000:01:00.0"}'
bad_input detach-bad-address 400 addresses POST '/v1/detach?wait=true' '{"addresses": ["0000:01:00"]}'
bad_input sriov-float 400 numvfs POST /v1/sriov "{\"pf\": \"$pf\", \"numvfs\": 2.5}"
bad_input vm-config-none 404 instance POST /v1/vm-config '{"instance": "vm-none"}'
bad_input unknown-op 404 id GET /v1/operations/op-1-deadbeef
bad_input unknown-route 404 null GET /v1/nothing
bad_input wrong-method 405 null PUT /v1/devices '{}'
big=$(head -c 70000 /dev/zero | tr '\0' 'a')
bad_input oversize 413 body POST /v1/fit "{\"request\": \"$big\"}"
pass "bad inputs: 4xx JSON errors naming the field"

# Nothing above reached the exception handler (no internal errors).
call metrics 200 GET /metrics
RECORD=
echo "$BODY" > "$WORK/metrics.txt"
if grep -q 'pcipassd_errors_total{code="internal"}' "$WORK/metrics.txt"; then
  fail "an input reached the exception handler: $(grep internal "$WORK/metrics.txt")"
fi
grep -q 'pcipassd_http_requests_total{route="/v1/devices/{address}",method="GET",status="400"} 1' \
  "$WORK/metrics.txt" || fail "request metrics: $(grep requests_total "$WORK/metrics.txt")"
command -v promtool >/dev/null || fail "promtool missing (Debian package prometheus)"
promtool check metrics < "$WORK/metrics.txt" || fail "promtool check metrics"
pass "/metrics passes promtool check metrics"

# The OpenAPI document describes every reply (and every route was hit).
NODE_CACHE=${PCIPASS_NODE_CACHE:-$BUILD/node-cache}
[ -d "$NODE_CACHE/node_modules/ajv" ] ||
  fail "ajv missing in $NODE_CACHE (scripts/test installs it: tests/daemon/node-deps.sh)"
NODE_PATH=$NODE_CACHE/node_modules node "$SRC/tests/daemon/openapi-check.js" \
  "$SRC/docs/api/openapi.yaml" "$WORK/responses" || fail "OpenAPI check"
pass "replies match docs/api/openapi.yaml"

stop_daemon
grep -q "stopped" "$WORK/daemon.log" || fail "no clean stop in the log"
pass "SIGTERM: clean exit 0"
