#!/usr/bin/env bash
# Starts a 3-node troupe cluster on 127.0.0.1 as separate processes and runs the distributed word
# count: node a starts first and coordinates; nodes b and c join the cluster through a (--seed,
# no peer lists) and host word counters; node a recruits them from the cluster's member events
# (a remote spawn on each node as it comes up), hands out the chunks and verifies the merged
# counts. Exits 0 only when node a printed "cluster: OK".
#
#   cluster.sh TROUPE_NODE [--kill-one | --leave-one | --join-late] [--etcd | --unix] [troupe-node word-count options...]
#
# --kill-one: node c is killed with SIGKILL once a tenth of the chunks are counted; node a must
# see it go down, hand its chunks to node b, and still verify the result.
# --leave-one: node c gets SIGTERM then, and leaves the cluster gracefully; node a stops giving
# it chunks and still verifies the result.
# --join-late: a fourth node, d, is started then, with --seed only; node a must recruit it, and d
# must count chunks, for the run to verify.
# --etcd: the nodes find each other through an etcd this script starts on 127.0.0.1 (its data in
# the work folder; stopped with the nodes) instead of a seed: each node gets --etcd only.
# --unix: a static cluster instead: nodes b and c also listen on Unix-domain sockets, and node a
# is given them as its peers (--peer NAME=unix:PATH).
#
# The nodes never outlive the script, whatever ends it: on exit, SIGINT, SIGTERM or SIGHUP the
# script stops them (the traps below), and if the script is killed outright (SIGKILL runs no trap)
# the kernel kills them (each starts under `setpriv --pdeathsig KILL`). Their pids are printed as
# "cluster: pids b=... c=... a=...". examples/cluster/cluster_cleanup_test.sh checks both.
set -euo pipefail

node_program="$1"
shift
kill_one=0
leave_one=0
join_late=0
etcd=0
unix=0
coordinator_args=()
for arg in "$@"; do
  if [[ "$arg" == --kill-one ]]; then
    kill_one=1
  elif [[ "$arg" == --leave-one ]]; then
    leave_one=1
  elif [[ "$arg" == --join-late ]]; then
    join_late=1
  elif [[ "$arg" == --etcd ]]; then
    etcd=1
  elif [[ "$arg" == --unix ]]; then
    unix=1
  else
    coordinator_args+=("$arg")
  fi
done
if ((kill_one)); then
  # Slow the counters down so that the kill lands mid-run, and say a node-down is expected. The
  # kill follows the first progress line (a tenth of the chunks counted); the rest of the run then
  # takes at least 0.9 * chunks / 4 lanes * pace: 4.5 s for 200 chunks (the default, and the CTest
  # entry's), against the few tens of ms this script needs to see the line and kill. A kill that
  # came after the last chunk was handed out would fail the run (no chunk to reassign).
  coordinator_args=(--pace-ms 100 --expect-node-down "${coordinator_args[@]}")
fi
# The same timing for a leave or a late join mid-run.
if ((leave_one)); then coordinator_args=(--pace-ms 100 --expect-leave "${coordinator_args[@]}"); fi
if ((join_late)); then coordinator_args=(--pace-ms 100 --expect-counted-by d "${coordinator_args[@]}"); fi

work="$(mktemp -d "${TMPDIR:-/tmp}/troupe-cluster.XXXXXX")"
pids=()
# shellcheck source=processes.sh
source "$(dirname "${BASH_SOURCE[0]}")/processes.sh"
cleanup() {
  trap - EXIT INT TERM HUP
  stop_processes cluster
}
trap cleanup EXIT
# A signal ends the script through its EXIT trap, with the status a shell gives a signal's death.
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# --etcd: a local etcd for the nodes, in the work folder, gone with the script (pids, as a node).
membership=()
if ((etcd)); then
  command -v etcd > /dev/null || { echo "cluster: etcd is not installed (./run cluster --etcd installs it)" >&2; exit 1; }
  etcd_port="$(free_port)"
  in_cluster etcd --name cluster-sh --data-dir "$work/etcd" --listen-client-urls "http://127.0.0.1:$etcd_port" \
    --advertise-client-urls "http://127.0.0.1:$etcd_port" --listen-peer-urls "http://127.0.0.1:$(free_port)" \
    > "$work/etcd.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do
    python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$etcd_port/health', timeout=1)" \
      > /dev/null 2>&1 && break
    sleep 0.1
  done
  echo "cluster: etcd on 127.0.0.1:$etcd_port"
  membership=(--etcd "127.0.0.1:$etcd_port")
fi

# The shared secret: 256 random bits, in a file readable by its owner only.
"$node_program" --generate-secret "$work/secret" > /dev/null

# Starts node $1 (more options after it); sets $port to the port it listens on.
start_node() {
  local name="$1"
  shift
  # The log exists before the node starts: the loop below may read it before the background
  # shell has opened it for the node's output.
  : > "$work/$name.log"
  in_cluster "$node_program" --name "$name" --listen 127.0.0.1:0 --secret-file "$work/secret" "$@" > "$work/$name.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do
    port="$(sed -n "s/^node $name listening on 127.0.0.1:\([0-9]*\)$/\1/p" "$work/$name.log")"
    [[ -n "$port" ]] && return 0
    kill -0 "${pids[-1]}" 2> /dev/null || break
    sleep 0.1
  done
  echo "cluster: node $name did not start:" >&2
  cat "$work/$name.log" >&2
  exit 1
}

if ((unix)); then
  start_node b --listen-unix "$work/b.sock"
  start_node c --listen-unix "$work/c.sock"
  pid_c="${pids[-1]}"
  echo "cluster: nodes b ($work/b.sock) and c ($work/c.sock) started; node a coordinates them"
  start_node a --peer "b=unix:$work/b.sock" --peer "c=unix:$work/c.sock" --word-count "${coordinator_args[@]}"
  pid_a="${pids[-1]}"
else
  # a first: the cluster's first member, and the seed the others join through (or etcd).
  start_node a --word-count "${membership[@]}" "${coordinator_args[@]}"
  pid_a="${pids[-1]}"
  port_a="$port"
  ((etcd)) || membership=(--seed "127.0.0.1:$port")
  start_node b "${membership[@]}"
  start_node c "${membership[@]}"
  pid_c="${pids[-1]}"
  echo "cluster: node a (port $port_a) coordinates; nodes b and c joined it (${membership[*]})"
fi
n="${#pids[@]}"
if ((unix)); then
  echo "cluster: pids b=${pids[0]} c=${pids[1]} a=${pids[2]}"
else
  echo "cluster: pids a=${pids[n - 3]} b=${pids[n - 2]} c=${pids[n - 1]}"
fi

if ((kill_one || leave_one || join_late)); then
  while kill -0 "$pid_a" 2> /dev/null && ! grep -q '^progress: ' "$work/a.log"; do sleep 0.02; done
fi
if ((kill_one)) && kill -9 "$pid_c" 2> /dev/null; then
  wait "$pid_c" 2> /dev/null || true  # reaped here, so bash reports no "Killed" job
  echo "cluster: killed node c (SIGKILL) mid-run"
fi
if ((leave_one)) && kill -TERM "$pid_c" 2> /dev/null; then
  echo "cluster: node c told to leave (SIGTERM) mid-run"
fi
if ((join_late)); then
  start_node d "${membership[@]}"
  echo "cluster: node d started mid-run (${membership[*]})"
fi
status=0
wait "$pid_a" || status=$?
cat "$work/a.log"
if ((status != 0)) || ! grep -q '^cluster: OK$' "$work/a.log"; then
  echo "cluster: node a exited with status $status; node logs follow" >&2
  for name in b c d; do
    [[ -f "$work/$name.log" ]] || continue
    echo "--- node $name" >&2
    cat "$work/$name.log" >&2
  done
  exit 1
fi
