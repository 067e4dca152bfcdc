#!/usr/bin/env bash
# Runs bench/teller (troupe-teller) with the teller continuing its transfers with
# request(...).then(...), and with it co_awaiting them, alternately, and prints the medians and
# their ratio:
#
#   workload=teller latency_us=1000 unit=transfers/s then=95000 await=410 ratio=231.7
#
# Usage: bench/run-teller.sh BUILD_DIR [--runs N] [--latency-us L] [--scale S]
#   --runs N        runs of each form (default 5)
#   --latency-us L  how long each account takes to answer (default 1000; 0: at once)
#   --scale S       passed to troupe-teller as SCALE (default 1)
# ratio is then/await: how many times more transfers per second the non-suspending teller serves.
set -euo pipefail

build=${1:?usage: $0 BUILD_DIR [--runs N] [--latency-us L] [--scale S]}
shift
runs=5
latency=1000
scale=1
while (($# > 0)); do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --latency-us) latency=$2; shift 2 ;;
    --scale) scale=$2; shift 2 ;;
    *) echo "run-teller.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
program="$build/bench/troupe-teller"
[[ -x "$program" ]] || { echo "run-teller.sh: $program not built" >&2; exit 1; }

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
value_of() { sed -n 's/.* value=\([0-9.]*\).*/\1/p'; }

then_values=()
await_values=()
for ((i = 1; i <= runs; i++)); do
  then_values+=("$("$program" then "$scale" "$latency" | value_of)")
  await_values+=("$("$program" await "$scale" "$latency" | value_of)")
  echo "run-teller.sh: run $i/$runs: then=${then_values[-1]} await=${await_values[-1]}" >&2
done
then_median=$(printf '%s\n' "${then_values[@]}" | median)
await_median=$(printf '%s\n' "${await_values[@]}" | median)
ratio=$(awk -v a="$then_median" -v b="$await_median" 'BEGIN { printf "%.2f", a / b }')
echo "workload=teller latency_us=$latency unit=transfers/s then=$then_median await=$await_median ratio=$ratio"
