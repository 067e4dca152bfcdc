#!/usr/bin/env bash
# Runs troupe's micro-benchmarks next to their CAF 0.17 counterparts and
# prints one comparison line per workload:
#
#   workload=pingpong-1 unit=msgs/s troupe=15200000 caf017=3010000 ratio=5.05
#
# Usage: bench/run-micro.sh BUILD_DIR [WORKLOAD...] [--runs N] [--scale S]
#                           [--timeout SECS]
#
#   BUILD_DIR   CMake build directory holding bench/troupe-micro and
#               (optionally) bench/caf-micro.
#   WORKLOAD    any of: pingpong-1 pingpong-4 fanin skynet ring idle-footprint
#               (default: all, in that order).
#   --runs N    runs per program and workload (default 5); troupe and CAF
#               runs alternate. The median of each side is reported.
#   --scale S   passed to both programs as the SCALE argument (for quick smoke
#               runs, e.g. 0.01); omitted by default.
#   --timeout SECS  kill a single run after SECS seconds (default 600); a
#               killed run counts as failed.
#
# ratio is troupe/caf for msgs/s (higher is better for troupe) and caf/troupe
# for s and bytes (so again higher is better for troupe). If caf-micro is
# missing, caf017=n/a ratio=n/a is printed. Results go to stdout, progress and
# errors to stderr. Any failed run (non-zero exit, timeout, unparsable output)
# is reported and makes the script exit with status 1 after all workloads.

set -u -o pipefail

all_workloads=(pingpong-1 pingpong-4 fanin skynet ring idle-footprint)

usage() {
  echo "usage: $0 BUILD_DIR [WORKLOAD...] [--runs N] [--scale S] [--timeout SECS]" >&2
  echo "workloads: ${all_workloads[*]}" >&2
  exit 2
}

expected_unit() {
  case "$1" in
    pingpong-1 | pingpong-4 | fanin | ring) echo "msgs/s" ;;
    skynet) echo "s" ;;
    idle-footprint) echo "bytes" ;;
    *) return 1 ;;
  esac
}

is_uint() { [[ "$1" =~ ^[0-9]+$ ]]; }
is_number() { [[ "$1" =~ ^[0-9]+([.][0-9]*)?$ || "$1" =~ ^[.][0-9]+$ ]]; }

# -- arguments -----------------------------------------------------------------

build_dir=""
runs=5
scale=""
run_timeout=600
workloads=()

while (($# > 0)); do
  case "$1" in
    --runs) (($# >= 2)) || usage; runs="$2"; shift 2 ;;
    --runs=*) runs="${1#--runs=}"; shift ;;
    --scale) (($# >= 2)) || usage; scale="$2"; shift 2 ;;
    --scale=*) scale="${1#--scale=}"; shift ;;
    --timeout) (($# >= 2)) || usage; run_timeout="$2"; shift 2 ;;
    --timeout=*) run_timeout="${1#--timeout=}"; shift ;;
    -h | --help) usage ;;
    -*) echo "run-micro: unknown option '$1'" >&2; usage ;;
    *)
      if [[ -z "$build_dir" ]]; then
        build_dir="$1"
      else
        if ! expected_unit "$1" > /dev/null; then
          echo "run-micro: unknown workload '$1'" >&2
          usage
        fi
        workloads+=("$1")
      fi
      shift
      ;;
  esac
done

[[ -n "$build_dir" ]] || usage
if ! is_uint "$runs" || ((runs < 1)); then
  echo "run-micro: --runs must be a positive integer, got '$runs'" >&2
  exit 2
fi
if [[ -n "$scale" ]] && { ! is_number "$scale" || ! awk -v s="$scale" 'BEGIN { exit !(s > 0) }'; }; then
  echo "run-micro: --scale must be a positive number, got '$scale'" >&2
  exit 2
fi
if ! is_uint "$run_timeout" || ((run_timeout < 1)); then
  echo "run-micro: --timeout must be a positive integer, got '$run_timeout'" >&2
  exit 2
fi
((${#workloads[@]} > 0)) || workloads=("${all_workloads[@]}")

troupe_bin="$build_dir/bench/troupe-micro"
caf_bin="$build_dir/bench/caf-micro"

if [[ ! -x "$troupe_bin" ]]; then
  echo "run-micro: $troupe_bin not found or not executable" >&2
  exit 2
fi
have_caf=1
if [[ ! -x "$caf_bin" ]]; then
  have_caf=0
  echo "run-micro: $caf_bin not found; CAF columns will be n/a" >&2
fi

scale_args=()
[[ -n "$scale" ]] && scale_args=("$scale")

tmp_err="$(mktemp "${TMPDIR:-/tmp}/run-micro.XXXXXX")"
trap 'rm -f "$tmp_err"' EXIT

failed=0

# run_one BIN WORKLOAD: runs one benchmark program; on success prints the
# value on stdout and returns 0, otherwise reports to stderr and returns 1.
run_one() {
  local bin="$1" workload="$2" out rc line unit value want
  want="$(expected_unit "$workload")"
  out="$(timeout "$run_timeout" "$bin" "$workload" "${scale_args[@]}" 2> "$tmp_err")"
  rc=$?
  if ((rc != 0)); then
    if ((rc == 124)); then
      echo "run-micro: ERROR: '$bin $workload${scale:+ $scale}' timed out after ${run_timeout}s" >&2
    else
      echo "run-micro: ERROR: '$bin $workload${scale:+ $scale}' exited with status $rc" >&2
    fi
    [[ -s "$tmp_err" ]] && sed 's/^/  | /' "$tmp_err" >&2
    [[ -n "$out" ]] && printf '%s\n' "$out" | sed 's/^/  > /' >&2
    return 1
  fi
  line="$(printf '%s\n' "$out" | awk -v w="$workload" '$1 == "workload=" w { print; exit }')"
  unit="$(printf '%s\n' "$line" | awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^unit=/) { sub(/^unit=/, "", $i); print $i; exit } }')"
  value="$(printf '%s\n' "$line" | awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^value=/) { sub(/^value=/, "", $i); print $i; exit } }')"
  if [[ -z "$line" ]] || ! is_number "$value"; then
    echo "run-micro: ERROR: '$bin $workload${scale:+ $scale}' printed no valid 'workload=$workload ... value=NUMBER' line" >&2
    [[ -n "$out" ]] && printf '%s\n' "$out" | sed 's/^/  > /' >&2
    [[ -s "$tmp_err" ]] && sed 's/^/  | /' "$tmp_err" >&2
    return 1
  fi
  if [[ "$unit" != "$want" ]]; then
    echo "run-micro: ERROR: '$bin $workload' reported unit '$unit', expected '$want'" >&2
    return 1
  fi
  printf '%s\n' "$value"
}

# median V...: prints the median (mean of the two middle values if even).
median() {
  printf '%s\n' "$@" | sort -g | awk '
    { v[NR] = $1 }
    END {
      if (NR == 0) exit 1
      if (NR % 2) printf "%.6f\n", v[(NR + 1) / 2]
      else printf "%.6f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2
    }'
}

# fmt UNIT VALUE: integers for msgs/s and bytes, 3 decimals for seconds.
fmt() {
  if [[ "$1" == "s" ]]; then
    awk -v x="$2" 'BEGIN { printf "%.3f", x }'
  else
    awk -v x="$2" 'BEGIN { printf "%.0f", x }'
  fi
}

for workload in "${workloads[@]}"; do
  unit="$(expected_unit "$workload")"
  troupe_vals=()
  caf_vals=()
  for ((r = 1; r <= runs; r++)); do
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
  troupe_out="n/a"
  caf_out="n/a"
  [[ "$troupe_med" != "n/a" ]] && troupe_out="$(fmt "$unit" "$troupe_med")"
  [[ "$caf_med" != "n/a" ]] && caf_out="$(fmt "$unit" "$caf_med")"
  echo "workload=$workload unit=$unit troupe=$troupe_out caf017=$caf_out ratio=$ratio"
done

if ((failed)); then
  echo "run-micro: some runs failed (see errors above)" >&2
  exit 1
fi
exit 0
