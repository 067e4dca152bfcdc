#!/usr/bin/env bash
# The smoke check of a micro-benchmark program (CTest, bench/peers/erlang/CMakeLists.txt):
#
#   check-line.sh WORKLOAD SCALE [PROGRAM [ARGS...]]
#
# runs `PROGRAM ARGS... WORKLOAD SCALE` and passes when it exits 0 and its stdout is exactly one
# line `workload=WORKLOAD unit=UNIT value=NUMBER`, with the workload's UNIT (the peers' contract).
# A wrong result makes the program exit non-zero, so it fails here too. Without PROGRAM (the
# program was not built) it exits 77, which CTest reports as skipped (SKIP_RETURN_CODE).
set -u -o pipefail

(($# >= 2)) || { echo "usage: $0 WORKLOAD SCALE [PROGRAM [ARGS...]]" >&2; exit 2; }
workload=$1 scale=$2
shift 2
if (($# == 0)); then
  echo "skipped: the program for this check was not built (its compiler was not found at configure time)"
  exit 77
fi
case "$workload" in
  pingpong-1 | pingpong-4 | fanin | ring | fanout) unit='msgs/s' ;;
  skynet) unit='s' ;;
  idle-footprint) unit='bytes' ;;
  *) echo "check-line: unknown workload $workload" >&2; exit 2 ;;
esac

out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$@" "$workload" "$scale" >"$out"
rc=$?
if ((rc != 0)); then
  echo "check-line: '$* $workload $scale' exited $rc; its stdout:" >&2
  cat "$out" >&2
  exit 1
fi
lines=$(wc -l <"$out")
line=$(cat "$out")
# Workload names and units hold no regex metacharacters ('-' and '/' match themselves).
re="^workload=${workload} unit=${unit} value=(0|[1-9][0-9]*)([.][0-9]+)?\$"
if [[ "$lines" != 1 || ! "$line" =~ $re ]]; then
  echo "check-line: expected one line 'workload=$workload unit=$unit value=NUMBER', got $lines line(s):" >&2
  cat "$out" >&2
  exit 1
fi
echo "check-line: OK: $line"
