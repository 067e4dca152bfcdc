#!/usr/bin/env bash
# A troupe cluster to watch: three nodes on 127.0.0.1 running the distributed word count in a
# loop until Ctrl-C, each with its dashboard and /metrics, and node c restarted now and then (a
# SIGKILL, then a new run that rejoins through the seed). Prints every address to open.
#
#   observe.sh TROUPE_NODE [--prometheus] [--restart-every S] [--for S] [troupe-node word-count options...]
#
# --prometheus: also a local Prometheus (Debian's prometheus: ./run observe --prometheus installs
# it) scraping the three nodes every second, its data in the work folder; its address is printed.
# --restart-every S: seconds between node c's restarts (default 30; 0: never).
# --for S: stop after S seconds instead of waiting for Ctrl-C (the test's way,
# tests/observe/observe_test.sh); the status is then 0 only if a round verified and every
# /metrics answered.
#
# Node a is the seed and coordinates: it recruits counters on b and c as they come up (member
# events) and runs round after round (troupe-node --word-count --rounds 0); a round that node c's
# restart cuts hands c's chunks to b and still verifies. The nodes never outlive the script (the
# same traps and parent-death signal as examples/cluster/cluster.sh: ../cluster/processes.sh).
set -euo pipefail

node_program="$1"
shift
prometheus=0
restart_every=30
run_for=0
word_count_args=()
while (($# > 0)); do
  case "$1" in
    --prometheus) prometheus=1 ;;
    --restart-every)
      restart_every="$2"
      shift
      ;;
    --for)
      run_for="$2"
      shift
      ;;
    *) word_count_args+=("$1") ;;
  esac
  shift
done

work="$(mktemp -d "${TMPDIR:-/tmp}/troupe-observe.XXXXXX")"
pids=()
# shellcheck source=../cluster/processes.sh
source "$(dirname "${BASH_SOURCE[0]}")/../cluster/processes.sh"
cleanup() {
  trap - EXIT INT TERM HUP
  stop_processes observe
}
trap cleanup EXIT
trap 'echo; echo "observe: stopping"; exit 0' INT  # Ctrl-C is how it ends: not a failure
trap 'exit 143' TERM
trap 'exit 129' HUP

"$node_program" --generate-secret "$work/secret" > /dev/null

# Node NAME's metrics port stays the same across its restarts, so its dashboard and Prometheus's
# target do too.
declare -A metrics_port
for name in a b c; do metrics_port[$name]="$(free_port)"; done

# Starts node $1 (more options after it), appending to its log; sets $port to its listening port.
start_node() {
  local name="$1"
  shift
  local log="$work/$name.log"
  touch "$log"
  local mark
  mark="$(wc -l < "$log")"
  in_cluster "$node_program" --name "$name" --listen 127.0.0.1:0 --secret-file "$work/secret" \
    --metrics "127.0.0.1:${metrics_port[$name]}" "$@" >> "$log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do
    port="$(tail -n +"$((mark + 1))" "$log" | sed -n "s/^node $name listening on 127.0.0.1:\([0-9]*\)$/\1/p")"
    [[ -n "$port" ]] && return 0
    kill -0 "${pids[-1]}" 2> /dev/null || break
    sleep 0.1
  done
  echo "observe: node $name did not start:" >&2
  cat "$log" >&2
  exit 1
}

start_node a --word-count --rounds 0 "${word_count_args[@]}"
pid_a="${pids[-1]}"
seed="127.0.0.1:$port"
start_node b --seed "$seed"
start_node c --seed "$seed"
pid_c="${pids[-1]}"

targets=()
for name in a b c; do targets+=("127.0.0.1:${metrics_port[$name]}"); done
echo "observe: a cluster of three nodes on 127.0.0.1 (seed $seed); node a counts words, round after round"
for name in a b c; do
  echo "observe: node $name: dashboard http://127.0.0.1:${metrics_port[$name]}/  metrics http://127.0.0.1:${metrics_port[$name]}/metrics"
done

if ((prometheus)); then
  command -v prometheus > /dev/null || { echo "observe: prometheus is not installed (./run observe --prometheus installs it)" >&2; exit 1; }
  prometheus_port="$(free_port)"
  {
    echo "global: {scrape_interval: 1s, evaluation_interval: 1s}"
    echo "scrape_configs:"
    echo "  - job_name: troupe"
    echo "    static_configs:"
    echo "      - targets: [$(IFS=,; echo "${targets[*]}" | sed 's/\([^,]*\)/"\1"/g')]"
  } > "$work/prometheus.yml"
  in_cluster prometheus --config.file "$work/prometheus.yml" --storage.tsdb.path "$work/prometheus" \
    --web.listen-address "127.0.0.1:$prometheus_port" > "$work/prometheus.log" 2>&1 &
  pids+=($!)
  echo "observe: Prometheus http://127.0.0.1:$prometheus_port/ scrapes the three nodes every second," \
    "e.g. rate(troupe_actor_messages_total[10s])"
fi
if ((run_for == 0)); then echo "observe: Ctrl-C stops it all"; fi

started=$SECONDS
next_restart=$((SECONDS + restart_every))
restarts=0
while ((run_for == 0 || SECONDS - started < run_for)); do
  kill -0 "$pid_a" 2> /dev/null || { echo "observe: node a stopped:" >&2; tail -20 "$work/a.log" >&2; exit 1; }
  if ((restart_every > 0 && SECONDS >= next_restart)); then
    kill -9 "$pid_c" 2> /dev/null || true
    wait "$pid_c" 2> /dev/null || true
    echo "observe: node c killed (SIGKILL); it comes back in 3 s"
    sleep 3
    start_node c --seed "$seed"
    pid_c="${pids[-1]}"
    restarts=$((restarts + 1))
    echo "observe: node c restarted ($restarts so far); it rejoins through the seed"
    next_restart=$((SECONDS + restart_every))
  fi
  sleep 1
done

# --for: what the test checks. A verified round, and every node's /metrics answering.
rounds_ok="$(grep -c '^cluster: OK$' "$work/a.log" || true)"
rounds_failed="$(grep -c '^cluster: FAILED$' "$work/a.log" || true)"
echo "observe: $rounds_ok rounds verified, $rounds_failed failed; node c restarted $restarts times"
status=0
((rounds_ok > 0)) || status=1
if ((prometheus)); then
  # Prometheus scrapes all three nodes: `up` is 1 for each target.
  up="$(python3 -c "import json,urllib.request; r = json.load(urllib.request.urlopen('http://127.0.0.1:$prometheus_port/api/v1/query?query=up', timeout=5)); print(sum(1 for s in r['data']['result'] if s['value'][1] == '1'))" || echo 0)"
  echo "observe: Prometheus sees $up of 3 nodes up"
  ((up == 3)) || status=1
fi
for target in "${targets[@]}"; do
  if python3 -c "import urllib.request,sys; sys.exit(0 if b'troupe_actor_messages_total' in urllib.request.urlopen('http://$target/metrics', timeout=5).read() else 1)"; then
    echo "observe: http://$target/metrics answers"
  else
    echo "observe: http://$target/metrics does not answer" >&2
    status=1
  fi
done
if ((status != 0)); then
  for name in a b c; do
    echo "--- node $name" >&2
    tail -30 "$work/$name.log" >&2
  done
fi
exit "$status"
