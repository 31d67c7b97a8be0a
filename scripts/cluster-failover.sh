#!/usr/bin/env bash
# Issue 14, item 9: a Redis Cluster failover under load, reproducibly.
#
# Starts a 6-node Redis Cluster (3 primaries, 3 replicas, cluster-node-timeout 2000 ms) on
# 127.0.0.1:7301-7306 in a temporary directory, four app instances of session-plus-bench
# (`serve`): two on `sp-redis-cluster` (ports 7311, 7312) and two on `sp-redis-cluster-wait`
# (WAIT 1 replica, 100 ms, after every write; ports 7313, 7314). Then:
#   1. the cost of WAIT: steady load (no kill) on each pair in turn, twice;
#   2. one failover run per word of RUNS (`plain` or `wait`): `session-plus-bench failover` loads
#      one pair with many visitors over HTTP, kills a primary with SIGKILL 10 s in, restarts it
#      10 s later (it rejoins as a replica), and reports second by second; the script then checks
#      that the apps are the same processes, alive, with no panic in their logs, and waits for the
#      Cluster to be whole again before the next run.
# Everything it started is stopped on exit. The report goes to stdout and to $OUT.
#
#   scripts/cluster-failover.sh                       # RUNS="plain wait plain wait"
#   RUNS="plain" RUN_SECONDS=30 OUT=/tmp/failover.md scripts/cluster-failover.sh
#   BENCH_BIN=target/release/session-plus-bench scripts/cluster-failover.sh   # skip the build
set -euo pipefail
cd "$(dirname "$0")/.."

PORTS=(7301 7302 7303 7304 7305 7306)
PLAIN_APPS=(7311 7312)
WAIT_APPS=(7313 7314)
NODE_TIMEOUT=${NODE_TIMEOUT:-2000}
RUNS=${RUNS:-plain wait plain wait}
RUN_SECONDS=${RUN_SECONDS:-30}
KILL_AFTER=${KILL_AFTER:-10}
RESTART_AFTER=${RESTART_AFTER:-20}
COST_SECONDS=${COST_SECONDS:-10}
VISITORS=${VISITORS:-2000}
CONCURRENCY=${CONCURRENCY:-32}
OUT=${OUT:-failover-report.md}

for port in "${PORTS[@]}" "${PLAIN_APPS[@]}" "${WAIT_APPS[@]}"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "port $port is in use: stop what listens there first" >&2
    exit 1
  fi
done
command -v redis-server >/dev/null || { echo "redis-server is required (apt-get install -y redis-server)" >&2; exit 1; }

dir=$(mktemp -d /tmp/session-plus-failover.XXXXXX)
app_pids=()
declare -A app_pid  # by port
cleanup() {
  for pid in "${app_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for file in "$dir"/redis-*.pid; do [ -f "$file" ] && kill "$(cat "$file")" 2>/dev/null || true; done
  sleep 0.5
  echo "logs: $dir (removed)" >&2
  rm -rf "$dir"
}
trap cleanup EXIT

wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...
  local seconds=$1 what=$2; shift 2
  for _ in $(seq 1 $((seconds * 10))); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  echo "$what did not happen within ${seconds}s" >&2
  return 1
}

node_command() {  # the command that starts (and restarts) the node on port $1, daemonized
  echo "redis-server --port $1 --bind 127.0.0.1 --cluster-enabled yes --cluster-config-file $dir/nodes-$1.conf" \
    "--cluster-node-timeout $NODE_TIMEOUT --save '' --appendonly no --dir $dir --logfile $dir/redis-$1.log" \
    "--daemonize yes --pidfile $dir/redis-$1.pid"
}

cluster_whole() {  # every node up, cluster_state:ok everywhere, every replica's link up
  local port
  for port in "${PORTS[@]}"; do
    redis-cli -p "$port" cluster info | grep -q 'cluster_state:ok' || return 1
    if redis-cli -p "$port" role | head -1 | grep -q slave; then
      redis-cli -p "$port" info replication | grep -q 'master_link_status:up' || return 1
    fi
  done
  [ "$(for p in "${PORTS[@]}"; do redis-cli -p "$p" role | head -1; done | grep -c master)" = 3 ]
}

bin="$dir/session-plus-bench"  # a copy: a shared target directory may be rebuilt meanwhile
if [ -n "${BENCH_BIN:-}" ]; then
  cp "$BENCH_BIN" "$bin"  # a binary built from this commit already
else
  echo "building session-plus-bench (release)" >&2
  cargo build --release -q -p session-plus-bench
  cp "${CARGO_TARGET_DIR:-target}/release/session-plus-bench" "$bin"
fi

echo "starting a 6-node Redis Cluster on 127.0.0.1:${PORTS[*]} (cluster-node-timeout $NODE_TIMEOUT ms)" >&2
for port in "${PORTS[@]}"; do eval "$(node_command "$port")"; done
for port in "${PORTS[@]}"; do wait_for 10 "redis on $port" redis-cli -p "$port" ping; done
redis-cli --cluster create $(printf '127.0.0.1:%s ' "${PORTS[@]}") --cluster-replicas 1 --cluster-yes >/dev/null
wait_for 30 "the Cluster" cluster_whole

cluster_url="redis+cluster://$(printf '127.0.0.1:%s,' "${PORTS[@]}")"
cluster_url=${cluster_url%,}
start_app() {  # start_app VARIANT PORT
  SESSION_PLUS_REDIS_CLUSTER_URL=$cluster_url "$bin" serve --variant "$1" --port "$2" \
    >"$dir/app-$2.out" 2>"$dir/app-$2.log" &
  app_pids+=($!)
  app_pid[$2]=$!
  wait_for 20 "the app on $2" bash -c "exec 3<>/dev/tcp/127.0.0.1/$2"
}
for port in "${PLAIN_APPS[@]}"; do start_app sp-redis-cluster "$port"; done
for port in "${WAIT_APPS[@]}"; do start_app sp-redis-cluster-wait "$port"; done
apps() { printf '127.0.0.1:%s,127.0.0.1:%s' "$@"; }

{
  echo "## Redis Cluster failover ($(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD))"
  echo
  echo "\`RUNS=\"$RUNS\" scripts/cluster-failover.sh\`: 6 nodes on 127.0.0.1:${PORTS[*]}, cluster-node-timeout" \
    "$NODE_TIMEOUT ms, $(redis-server --version | awk '{print $3}'); $VISITORS visitors, $CONCURRENCY concurrent requests;" \
    "load average before: $(cut -d' ' -f1-3 /proc/loadavg)."
  echo
} | tee "$OUT"

for round in 1 2; do
  for mode in plain wait; do
    if [ "$mode" = plain ]; then ports=("${PLAIN_APPS[@]}"); else ports=("${WAIT_APPS[@]}"); fi
    "$bin" failover --apps "$(apps "${ports[@]}")" --visitors "$VISITORS" --concurrency "$CONCURRENCY" \
      --seconds "$COST_SECONDS" --label "steady load, $mode, round $round" | tee -a "$OUT"
  done
done

run=0
for mode in $RUNS; do
  run=$((run + 1))
  if [ "$mode" = plain ]; then ports=("${PLAIN_APPS[@]}"); else ports=("${WAIT_APPS[@]}"); fi
  victim=""
  for port in "${PORTS[@]}"; do
    if redis-cli -p "$port" role | head -1 | grep -q master; then victim=$port; break; fi
  done
  replica=$(redis-cli -p "$victim" role | sed -n 4p)  # master, offset, then ip, port, offset per replica
  survivor=""
  for port in "${PORTS[@]}"; do
    if [ "$port" != "$victim" ] && redis-cli -p "$port" role | head -1 | grep -q master; then survivor=$port; break; fi
  done
  victim_pid=$(cat "$dir/redis-$victim.pid")
  echo "run $run ($mode): killing the primary on $victim (pid $victim_pid), its replica is $replica" >&2
  "$bin" failover --apps "$(apps "${ports[@]}")" --visitors "$VISITORS" --concurrency "$CONCURRENCY" \
    --seconds "$RUN_SECONDS" --kill-pid "$victim_pid" --kill-after "$KILL_AFTER" \
    --restart "$(node_command "$victim")" --restart-after "$RESTART_AFTER" \
    --watch "127.0.0.1:$replica" --cluster "127.0.0.1:$survivor" \
    --label "failover run $run: $mode, primary 127.0.0.1:$victim killed, replica 127.0.0.1:$replica" | tee -a "$OUT"
  {
    for port in "${ports[@]}"; do
      pid=${app_pid[$port]}
      if kill -0 "$pid" 2>/dev/null; then alive="alive, the process started before the run"; else alive="DEAD"; fi
      panics=$(grep -c panicked "$dir/app-$port.log" || true)
      echo "- app on $port after the run: pid $pid $alive; ${panics:-0} panics in its log"
    done
    echo
  } | tee -a "$OUT"
  for pid in "${app_pids[@]}"; do kill -0 "$pid" || { echo "an app process died" >&2; exit 1; }; done
  wait_for 60 "the Cluster whole again" cluster_whole
done
echo "wrote $OUT" >&2
