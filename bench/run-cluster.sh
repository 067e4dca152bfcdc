#!/usr/bin/env bash
# Runs bench/cluster (troupe-cluster-scale): a cluster of N node processes on this machine's
# loopback, first joined through a seed, then through a local etcd (started here, in a temporary
# folder, and stopped), several times each, and prints the medians:
#
#   cluster discovery=seeds nodes=16 runs=5 converge_ms=310.2 down_ms=8.1 whereis_us=12.4 deliveries_per_s=1500000
#
# Usage: bench/run-cluster.sh BUILD_DIR [--runs N] [--nodes N] [--broadcasts B] [--load N]
#   converge_ms       from the last node's start until every node sees all N up
#   down_ms           from a SIGKILL of one node until every other node sees it down
#   whereis_us        Cluster::whereis of a name another node registered (median of 1,000)
#   deliveries_per_s  B broadcasts to a group of 1,000 members spread over 4 nodes, until all had them
#   --load N          N busy processes beside the nodes (bench/busy_load.sh)
set -euo pipefail

build=${1:?usage: $0 BUILD_DIR [--runs N] [--nodes N] [--broadcasts B] [--load N]}
shift
runs=5
nodes=16
broadcasts=100
load=0
while (($# > 0)); do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --nodes) nodes=$2; shift 2 ;;
    --broadcasts) broadcasts=$2; shift 2 ;;
    --load) load=$2; shift 2 ;;
    *) echo "run-cluster.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
program="$build/bench/troupe-cluster-scale"
[[ -x "$program" ]] || { echo "run-cluster.sh: $program not built" >&2; exit 1; }
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

work="$(mktemp -d "${TMPDIR:-/tmp}/troupe-cluster-bench.XXXXXX")"
etcd_pid=""
load_pids=()
cleanup() {
  [[ -n "$etcd_pid" ]] && kill "$etcd_pid" 2> /dev/null && wait "$etcd_pid" 2> /dev/null
  for p in "${load_pids[@]}"; do kill "$p" 2> /dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
if ((load > 0)); then
  for _ in $(seq "$load"); do
    "$here/busy_load.sh" &
    load_pids+=($!)
  done
fi

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# median FILE KEY: the median of KEY=value over the lines of FILE.
median() {
  sed -n "s/.* $2=\([0-9.]*\).*/\1/p" "$1" | sort -g | awk '{v[NR] = $1} END {if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}

measure() {
  local how="$1"
  shift
  local out="$work/$how.txt"
  : > "$out"
  for run in $(seq "$runs"); do
    "$program" --nodes "$nodes" --broadcasts "$broadcasts" "$@" | tee -a "$out" | sed "s/^/  run $run: /"
  done
  echo "cluster discovery=$how nodes=$nodes runs=$runs load=$load converge_ms=$(median "$out" converge_ms)" \
    "down_ms=$(median "$out" down_ms) whereis_us=$(median "$out" whereis_us)" \
    "deliveries_per_s=$(median "$out" deliveries_per_s)"
}

measure seeds
if command -v etcd > /dev/null; then
  port="$(free_port)"
  etcd --name bench --data-dir "$work/etcd" --listen-client-urls "http://127.0.0.1:$port" \
    --advertise-client-urls "http://127.0.0.1:$port" --listen-peer-urls "http://127.0.0.1:$(free_port)" \
    > "$work/etcd.log" 2>&1 &
  etcd_pid=$!
  for _ in $(seq 100); do
    python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/health', timeout=1)" \
      > /dev/null 2>&1 && break
    sleep 0.1
  done
  measure etcd --etcd "127.0.0.1:$port"
else
  echo "run-cluster.sh: no etcd here (./run bench cluster installs etcd-server): etcd row skipped" >&2
fi
