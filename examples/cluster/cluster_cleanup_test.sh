#!/usr/bin/env bash
# cluster.sh leaves no node behind, however it ends: it is started on a long run and killed, once
# with SIGTERM (its traps must run: status 143, its work directory removed, every node stopped by
# its SIGTERM, the coordinating one too, none killed) and once with SIGKILL
# (no trap runs: the kernel must kill the nodes, PR_SET_PDEATHSIG); each time, nodes a, b and c
# must be gone soon after.
#
#   cluster_cleanup_test.sh CLUSTER_SH TROUPE_NODE
set -euo pipefail

cluster_sh="$1"
node_program="$2"
work="$(mktemp -d "${TMPDIR:-/tmp}/troupe-cluster-cleanup.XXXXXX")"
left_behind=()
finish() {
  # Whatever happened, kill what this test found still alive, so that a failure leaves nothing.
  for pid in "${left_behind[@]}"; do kill -9 "$pid" 2> /dev/null || true; done
  rm -rf "$work"
}
trap finish EXIT

# The state letter of process $1 if it started at $2 (from /proc/PID/stat), else nothing: a
# process that is gone, or a later one that reuses its pid.
state_of() {
  local stat
  stat="$(cat "/proc/$1/stat" 2> /dev/null)" || return 0
  stat="${stat##*) }"  # after the command name, which may hold spaces
  read -r -a fields <<< "$stat"
  # fields[0] is field 3 (the state); the start time is field 22.
  [[ "${fields[19]}" == "$2" ]] && echo "${fields[0]}"
  return 0
}

start_time_of() {
  local stat
  stat="$(cat "/proc/$1/stat" 2> /dev/null)" || return 0
  stat="${stat##*) }"
  read -r -a fields <<< "$stat"
  echo "${fields[19]}"
}

failures=0
for signal in TERM KILL; do
  log="$work/cluster-$signal.log"
  # The log exists before cluster.sh starts: the loop below may read it before the background
  # shell has opened it (sed would fail on a missing file, and set -e end this test).
  : > "$log"
  # Its own TMPDIR: a cluster.sh killed outright cannot remove its work directory.
  # A long run: 2000 chunks at 100 ms on 4 lanes take 50 s, far beyond the kill below.
  # Under setpriv, cluster.sh (and through it its nodes) dies with this test if a timeout kills it.
  TMPDIR="$work" setpriv --pdeathsig KILL -- "$cluster_sh" "$node_program" --chunks 2000 --words-per-chunk 10 --pace-ms 100 > "$log" 2>&1 &
  cluster=$!
  pids=""
  for _ in $(seq 600); do  # up to 60 s for the nodes to start (a loaded, sanitized build)
    pids="$(sed -n 's/^cluster: pids //p' "$log")"
    [[ -n "$pids" ]] && break
    kill -0 "$cluster" 2> /dev/null || break
    sleep 0.1
  done
  if [[ -z "$pids" ]]; then
    echo "cluster_cleanup_test: cluster.sh printed no pids:" >&2
    cat "$log" >&2
    exit 1
  fi
  declare -A start=()
  for entry in $pids; do
    pid="${entry#*=}"
    start[$pid]="$(start_time_of "$pid")"
  done

  kill -s "$signal" "$cluster"
  status=0
  wait "$cluster" 2> /dev/null || status=$?
  if [[ "$signal" == TERM ]]; then
    # Its traps ran: it exited as a shell killed by SIGTERM does, after removing its work directory.
    leftovers="$(find "$work" -maxdepth 1 -name 'troupe-cluster.*')"
    if ((status != 143)) || [[ -n "$leftovers" ]]; then
      echo "cluster_cleanup_test: FAILED: after SIGTERM, cluster.sh exited $status (143 expected), left '$leftovers'" >&2
      failures=$((failures + 1))
    fi
    # Every node, the coordinating one too, stopped on its SIGTERM: none had to be killed.
    if grep 'did not stop' "$log" >&2; then
      echo "cluster_cleanup_test: FAILED: a node ignored SIGTERM (cluster.sh killed it)" >&2
      failures=$((failures + 1))
    fi
  fi
  # Nodes are no children of this script: watch them through /proc. A node killed is gone or a
  # zombie (Z) until whoever inherited it reaps it. The bound only ends a failing test.
  alive=()
  for _ in $(seq 200); do
    alive=()
    for pid in "${!start[@]}"; do
      state="$(state_of "$pid" "${start[$pid]}")"
      [[ -n "$state" && "$state" != Z && "$state" != X ]] && alive+=("$pid")
    done
    ((${#alive[@]} == 0)) && break
    sleep 0.1
  done
  if ((${#alive[@]} > 0)); then
    echo "cluster_cleanup_test: FAILED: after SIG$signal to cluster.sh, nodes still alive: ${alive[*]} ($pids)" >&2
    left_behind+=("${alive[@]}")
    failures=$((failures + 1))
  else
    echo "cluster_cleanup_test: SIG$signal to cluster.sh: every node gone ($pids)"
  fi
  unset start
done
((failures == 0)) || exit 1
echo "cluster_cleanup_test: OK"
