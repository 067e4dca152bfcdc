#!/usr/bin/env bash
# Runs troupe's remote benchmarks (two processes over loopback) next to CAF 0.17's io module and
# prints one comparison line per workload:
#
#   workload=remote-rtt unit=us troupe=43.10 caf017=259.60 ratio=6.02
#   workload=remote-oneway unit=msgs/s troupe=4600000 caf017=216000 ratio=21.30
#
# Usage: bench/run-remote.sh BUILD_DIR [WORKLOAD...] [--runs N] [--scale S] [--timeout SECS] [--load N]
#
#   BUILD_DIR   CMake build directory holding bench/troupe-remote and (optionally) bench/caf-remote.
#   WORKLOAD    remote-rtt and/or remote-oneway (default: both).
#   --runs N    runs per program and workload (default 5); troupe and CAF runs alternate. The
#               median of each side is reported.
#   --scale S   passed to both programs as SCALE (e.g. 0.1 for a quick smoke run).
#   --timeout SECS  kill a single run after SECS seconds (default 300); it counts as failed.
#   --load N    run N busy processes (each a shell loop that never sleeps) for the whole run, so
#               both sides of every run share the cores with them: how each runtime fares on a busy
#               machine. The line then says load=N. Default 0.
#
# The remote-rtt line also carries floor=US: the median round trip of bench/wakeup-floor, two
# processes blocked in read() on a loopback socket with no runtime at all, run alongside: the
# least a design whose waiting threads sleep could reach on this machine at this moment.
#
# ratio is caf/troupe for the round trip (us) and troupe/caf for msgs/s: higher is better for
# troupe either way. Each program starts its own peer process. Results go to stdout, progress and
# errors to stderr; any failed run makes the script exit with status 1 after all workloads.

set -u -o pipefail

all_workloads=(remote-rtt remote-oneway)

usage() {
  echo "usage: $0 BUILD_DIR [WORKLOAD...] [--runs N] [--scale S] [--timeout SECS] [--load N]" >&2
  echo "workloads: ${all_workloads[*]}" >&2
  exit 2
}

expected_unit() {
  case "$1" in
    remote-rtt) echo "us" ;;
    remote-oneway) echo "msgs/s" ;;
    wakeup-floor) echo "us" ;;
    *) return 1 ;;
  esac
}

is_uint() { [[ "$1" =~ ^[0-9]+$ ]]; }
is_number() { [[ "$1" =~ ^[0-9]+([.][0-9]*)?$ || "$1" =~ ^[.][0-9]+$ ]]; }

build_dir=""
runs=5
scale=""
run_timeout=300
load=0
workloads=()
while (($# > 0)); do
  case "$1" in
    --runs) (($# >= 2)) || usage; runs="$2"; shift 2 ;;
    --runs=*) runs="${1#--runs=}"; shift ;;
    --scale) (($# >= 2)) || usage; scale="$2"; shift 2 ;;
    --scale=*) scale="${1#--scale=}"; shift ;;
    --timeout) (($# >= 2)) || usage; run_timeout="$2"; shift 2 ;;
    --timeout=*) run_timeout="${1#--timeout=}"; shift ;;
    --load) (($# >= 2)) || usage; load="$2"; shift 2 ;;
    --load=*) load="${1#--load=}"; shift ;;
    -h | --help) usage ;;
    -*) echo "run-remote: unknown option '$1'" >&2; usage ;;
    *)
      if [[ -z "$build_dir" ]]; then
        build_dir="$1"
      else
        expected_unit "$1" > /dev/null || { echo "run-remote: unknown workload '$1'" >&2; usage; }
        workloads+=("$1")
      fi
      shift
      ;;
  esac
done

[[ -n "$build_dir" ]] || usage
if ! is_uint "$runs" || ((runs < 1)); then
  echo "run-remote: --runs must be a positive integer, got '$runs'" >&2
  exit 2
fi
if [[ -n "$scale" ]] && { ! is_number "$scale" || ! awk -v s="$scale" 'BEGIN { exit !(s > 0) }'; }; then
  echo "run-remote: --scale must be a positive number, got '$scale'" >&2
  exit 2
fi
if ! is_uint "$run_timeout" || ((run_timeout < 1)); then
  echo "run-remote: --timeout must be a positive integer, got '$run_timeout'" >&2
  exit 2
fi
if ! is_uint "$load"; then
  echo "run-remote: --load must be a whole number, got '$load'" >&2
  exit 2
fi
((${#workloads[@]} > 0)) || workloads=("${all_workloads[@]}")

troupe_bin="$build_dir/bench/troupe-remote"
floor_bin="$build_dir/bench/wakeup-floor"
caf_bin="$build_dir/bench/caf-remote"
if [[ ! -x "$troupe_bin" ]]; then
  echo "run-remote: $troupe_bin not found or not executable" >&2
  exit 2
fi
have_caf=1
if [[ ! -x "$caf_bin" ]]; then
  have_caf=0
  echo "run-remote: $caf_bin not found; CAF columns will be n/a" >&2
fi

scale_args=()
[[ -n "$scale" ]] && scale_args=("$scale")
tmp_err="$(mktemp "${TMPDIR:-/tmp}/run-remote.XXXXXX")"
# shellcheck source=bench/busy_load.sh
source "$(dirname "${BASH_SOURCE[0]}")/busy_load.sh"
trap 'stop_load; rm -f "$tmp_err"' EXIT
trap 'exit 130' INT TERM
failed=0

start_load "$load"
((load > 0)) && echo "run-remote: $load busy processes running beside every run" >&2

# run_one BIN WORKLOAD: prints the value on success, reports to stderr and returns 1 otherwise.
run_one() {
  local bin="$1" workload="$2" out rc line unit value
  out="$(timeout "$run_timeout" "$bin" "$workload" "${scale_args[@]}" 2> "$tmp_err")"
  rc=$?
  if ((rc != 0)); then
    if ((rc == 124)); then
      echo "run-remote: ERROR: '$bin $workload' timed out after ${run_timeout}s" >&2
    else
      echo "run-remote: ERROR: '$bin $workload' exited with status $rc" >&2
    fi
    [[ -s "$tmp_err" ]] && sed 's/^/  | /' "$tmp_err" >&2
    return 1
  fi
  line="$(printf '%s\n' "$out" | awk -v w="$workload" '$1 == "workload=" w { print; exit }')"
  unit="$(printf '%s\n' "$line" | sed -n 's/.* unit=\([^ ]*\).*/\1/p')"
  value="$(printf '%s\n' "$line" | sed -n 's/.* value=\([^ ]*\).*/\1/p')"
  if [[ -z "$line" ]] || ! is_number "$value" || [[ "$unit" != "$(expected_unit "$workload")" ]]; then
    echo "run-remote: ERROR: '$bin $workload' printed no valid 'workload=$workload unit=... value=NUMBER' line" >&2
    [[ -n "$out" ]] && printf '%s\n' "$out" | sed 's/^/  > /' >&2
    return 1
  fi
  printf '%s\n' "$value"
}

median() {
  printf '%s\n' "$@" | sort -g | awk '
    { v[NR] = $1 }
    END {
      if (NR == 0) exit 1
      if (NR % 2) printf "%.6f\n", v[(NR + 1) / 2]
      else printf "%.6f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2
    }'
}

for workload in "${workloads[@]}"; do
  unit="$(expected_unit "$workload")"
  troupe_vals=()
  caf_vals=()
  floor_vals=()
  for ((r = 1; r <= runs; r++)); do
    if [[ "$workload" == remote-rtt && -x "$floor_bin" ]]; then
      if v="$(run_one "$floor_bin" wakeup-floor)"; then
        floor_vals+=("$v")
        echo "[$workload] run $r/$runs floor: $v $unit" >&2
      else
        failed=1
      fi
    fi
    if v="$(run_one "$troupe_bin" "$workload")"; then
      troupe_vals+=("$v")
      echo "[$workload] run $r/$runs troupe: $v $unit" >&2
    else
      failed=1
    fi
    if ((have_caf)); then
      if v="$(run_one "$caf_bin" "$workload")"; then
        caf_vals+=("$v")
        echo "[$workload] run $r/$runs caf017: $v $unit" >&2
      else
        failed=1
      fi
    fi
  done
  troupe_med="n/a"
  caf_med="n/a"
  ratio="n/a"
  ((${#troupe_vals[@]} > 0)) && troupe_med="$(median "${troupe_vals[@]}")"
  ((${#caf_vals[@]} > 0)) && caf_med="$(median "${caf_vals[@]}")"
  if [[ "$troupe_med" != "n/a" && "$caf_med" != "n/a" ]]; then
    ratio="$(awk -v t="$troupe_med" -v c="$caf_med" -v u="$unit" 'BEGIN {
      if (u == "msgs/s") { num = t; den = c } else { num = c; den = t }
      if (den + 0 == 0) print "n/a"; else printf "%.2f\n", num / den
    }')"
  fi
  fmt='%.0f'
  [[ "$unit" == "us" ]] && fmt='%.2f'
  [[ "$troupe_med" != "n/a" ]] && troupe_med="$(awk -v x="$troupe_med" -v f="$fmt" 'BEGIN { printf f, x }')"
  [[ "$caf_med" != "n/a" ]] && caf_med="$(awk -v x="$caf_med" -v f="$fmt" 'BEGIN { printf f, x }')"
  load_field=""
  ((load > 0)) && load_field=" load=$load"
  floor_field=""
  ((${#floor_vals[@]} > 0)) && floor_field=" floor=$(awk -v x="$(median "${floor_vals[@]}")" 'BEGIN { printf "%.2f", x }')"
  echo "workload=$workload unit=$unit troupe=$troupe_med caf017=$caf_med ratio=$ratio$load_field$floor_field"
done

if ((failed)); then
  echo "run-remote: some runs failed (see errors above)" >&2
  exit 1
fi
exit 0
