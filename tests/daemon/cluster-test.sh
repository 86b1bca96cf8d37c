#!/bin/bash
# cluster-test.sh BUILD SRC - pcipassd with [cluster] db is its host's
# cluster agent: it registers the host in a real PostgreSQL (ctest's "pg"
# fixture, $PCIPASS_TEST_PG), pushes the inventory and heartbeats, and
# stops the agent on SIGTERM. Without PCIPASS_TEST_PG the test fails under
# CI and skips (77) for a developer.
BUILD=$1 SRC=$2
. "$SRC/tests/daemon/lib.sh"

if [ -z "${PCIPASS_TEST_PG:-}" ]; then
  [ "${CI:-}" = true ] && fail "PCIPASS_TEST_PG is not set (the pg fixture did not run)"
  echo "skipped: PCIPASS_TEST_PG is not set"; exit 77
fi
PCIPASS="$BUILD/src/main/pcipass"
db="pcipassd_cluster_$$"
psql -q "$PCIPASS_TEST_PG" -c "CREATE DATABASE $db" || fail "cannot create database $db"
trap 'psql -q "$PCIPASS_TEST_PG" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1; cleanup' EXIT
conninfo=$(echo "$PCIPASS_TEST_PG" | sed "s/dbname=[^ ]*/dbname=$db/")

make_host --sockets 1 --gpus 1 --sriov-pfs 1 --vfs-per-pf 4 --nvme 0
cat >> "$WORK/pcipass.conf" <<CONF
[cluster]
db = $conninfo
host = agent-under-test
heartbeat_interval = 1
dead_after = 5
CONF
group_flags=()
[ "$(id -u)" = 0 ] || group_flags=(--socket-group "$(id -g)")
start_daemon "${group_flags[@]}"

hosts=""
for _ in $(seq 1 100); do
  hosts=$("$PCIPASS" --json cluster --db "$conninfo" hosts 2>/dev/null) &&
    echo "$hosts" | grep -q agent-under-test && break
  sleep 0.1
done
echo "$hosts" | grep -q agent-under-test || fail "host not registered: $hosts"
pass "pcipassd registered its host"
grep -q "cluster agent: host registered" "$WORK/daemon.log" || fail "no agent line in the log"
# The inventory the agent pushed: the 4 allowed VFs (device_spec 8086:154c).
ndev=$(echo "$hosts" | jq '[.. | objects | select(has("devices")) | .devices] | map(if type == "array" then length else . end) | max')
[ "${ndev:-0}" -ge 4 ] || fail "expected >= 4 devices for the host, got '$ndev': $hosts"
pass "inventory pushed ($ndev devices)"
stop_daemon
pass "SIGTERM stops the daemon and its agent"
echo "all passed"
