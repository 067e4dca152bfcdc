#!/usr/bin/env bash
# Runs troupe's micro-benchmarks next to the same workloads on its peers (CAF 0.17, Go, Erlang;
# bench/peers/README.md) and prints one comparison line per workload:
#
#   workload=fanin unit=msgs/s troupe=... caf017=... go=... erlang=... best_peer=go ratio_best=1.62 ratio_caf=11.20 rss_troupe=... rss_caf017=... rss_go=... rss_erlang=...
#
# then a plain-text table of the same, and writes RESULTS_DIR/micro.txt (the lines) and, with
# gnuplot, RESULTS_DIR/micro.png and micro.svg: every system relative to troupe per workload.
#
# Usage: bench/run-micro.sh BUILD_DIR [WORKLOAD...] [--runs N] [--scale S]
#                           [--timeout SECS] [--results DIR]
#
#   BUILD_DIR   CMake build directory holding bench/troupe-micro and (each optional)
#               bench/caf-micro, bench/go-micro, bench/erlang-micro.
#   WORKLOAD    any of: pingpong-1 pingpong-4 fanin skynet ring idle-footprint fanout fanin-paced
#               fanout-paced (troupe with a bounded mailbox and pace(); the peers run fanin, fanout)
#               (default: all, in that order).
#   --runs N    runs per system and workload (default 5); the systems' runs alternate
#               (troupe, caf017, go, erlang, troupe, ...). The median of each is reported.
#   --scale S   passed to every program as the SCALE argument (for quick smoke runs, e.g. 0.01);
#               omitted by default.
#   --timeout SECS  kill a single run after SECS seconds (default 600); a killed run counts as
#               failed.
#   --results DIR   where micro.txt and the chart go (default bench-results, created if missing).
#   --load N    run N busy processes (each a shell loop that never sleeps) beside every run, to see
#               how each system fares on a busy machine (as bench/run-remote.sh --load). The
#               lines then end with load=N. Default 0.
#
# The fanout rows also carry ceiling= and max_ratio_best=: `troupe-micro fanout-ceiling`, the same
# arithmetic on one plain thread per CPU with no messages at all (its median, run beside the
# others), and that rate over the best peer's: no runtime's fanout can have a higher ratio_best on
# this machine.
#
# Values: msgs/s, s (skynet) or bytes per idle actor (idle-footprint). ratio_caf is troupe/CAF for
# msgs/s (higher is better for troupe) and CAF/troupe for s and bytes (so again higher is better
# for troupe); ratio_best is the same against best_peer, the peer with the best median. rss_* is
# each system's peak resident set size in bytes (GNU time's %M, the median over its runs): the
# whole process, runtime included. A system whose program is missing shows n/a, as do rss_* when
# GNU time (Debian package `time`) is missing. Results go to stdout, progress and errors to stderr.
# Any failed run (non-zero exit, timeout, unparsable output) is reported and makes the script exit
# with status 1 after all workloads.

set -u -o pipefail

all_workloads=(pingpong-1 pingpong-4 fanin skynet ring idle-footprint fanout fanin-paced fanout-paced)
systems=(troupe caf017 go erlang)
peers=(caf017 go erlang)
declare -A program=([troupe]=troupe-micro [caf017]=caf-micro [go]=go-micro [erlang]=erlang-micro)

usage() {
  echo "usage: $0 BUILD_DIR [WORKLOAD...] [--runs N] [--scale S] [--timeout SECS] [--results DIR] [--load N]" >&2
  echo "workloads: ${all_workloads[*]}" >&2
  exit 2
}

expected_unit() {
  case "$1" in
    pingpong-1 | pingpong-4 | fanin | ring | fanout | fanin-paced | fanout-paced | fanout-ceiling) echo "msgs/s" ;;
    skynet) echo "s" ;;
    idle-footprint) echo "bytes" ;;
    *) return 1 ;;
  esac
}

# The program a system runs for a workload. troupe's paced workloads (a bounded mailbox and
# Context::pace, as Go bounds its channels) are the peers' own fanin and fanout programs.
program_workload() {
  local sys="$1" workload="$2"
  if [[ "$sys" != troupe ]]; then
    case "$workload" in
      fanin-paced) echo fanin; return ;;
      fanout-paced) echo fanout; return ;;
    esac
  fi
  echo "$workload"
}

is_uint() { [[ "$1" =~ ^[0-9]+$ ]]; }
is_number() { [[ "$1" =~ ^[0-9]+([.][0-9]*)?$ || "$1" =~ ^[.][0-9]+$ ]]; }

# -- arguments -----------------------------------------------------------------

build_dir=""
runs=5
scale=""
run_timeout=600
results_dir="bench-results"
load=0
workloads=()

while (($# > 0)); do
  case "$1" in
    --runs) (($# >= 2)) || usage; runs="$2"; shift 2 ;;
    --runs=*) runs="${1#--runs=}"; shift ;;
    --scale) (($# >= 2)) || usage; scale="$2"; shift 2 ;;
    --scale=*) scale="${1#--scale=}"; shift ;;
    --load) (($# >= 2)) || usage; load="$2"; shift 2 ;;
    --load=*) load="${1#--load=}"; shift ;;
    --timeout) (($# >= 2)) || usage; run_timeout="$2"; shift 2 ;;
    --timeout=*) run_timeout="${1#--timeout=}"; shift ;;
    --results) (($# >= 2)) || usage; results_dir="$2"; shift 2 ;;
    --results=*) results_dir="${1#--results=}"; shift ;;
    -h | --help) usage ;;
    -*) echo "run-micro: unknown option '$1'" >&2; usage ;;
    *)
      if [[ -z "$build_dir" ]]; then
        build_dir="$1"
      else
        if [[ " ${all_workloads[*]} " != *" $1 "* ]]; then
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
if ! is_uint "$load"; then
  echo "run-micro: --load must be a whole number, got '$load'" >&2
  exit 2
fi
if ! is_uint "$run_timeout" || ((run_timeout < 1)); then
  echo "run-micro: --timeout must be a positive integer, got '$run_timeout'" >&2
  exit 2
fi
[[ -n "$results_dir" ]] || usage
((${#workloads[@]} > 0)) || workloads=("${all_workloads[@]}")

declare -A bin=()
present=()
for sys in "${systems[@]}"; do
  bin[$sys]="$build_dir/bench/${program[$sys]}"
  if [[ -x "${bin[$sys]}" ]]; then
    present+=("$sys")
  elif [[ "$sys" == troupe ]]; then
    echo "run-micro: ${bin[$sys]} not found or not executable" >&2
    exit 2
  else
    echo "run-micro: ${bin[$sys]} not found; $sys columns will be n/a" >&2
  fi
done

# GNU time (not the shell keyword) measures every run's peak RSS, the same way for every system.
gnu_time=""
if [[ -x /usr/bin/time ]] && /usr/bin/time -f '%M' -o /dev/null true 2> /dev/null; then
  gnu_time=/usr/bin/time
else
  echo "run-micro: GNU time not found (Debian package 'time'); rss_* will be n/a" >&2
fi

scale_args=()
[[ -n "$scale" ]] && scale_args=("$scale")

tmp_err="$(mktemp "${TMPDIR:-/tmp}/run-micro.XXXXXX")"
tmp_rss="$(mktemp "${TMPDIR:-/tmp}/run-micro-rss.XXXXXX")"
# shellcheck source=bench/busy_load.sh
source "$(dirname "${BASH_SOURCE[0]}")/busy_load.sh"
trap 'stop_load; rm -f "$tmp_err" "$tmp_rss"' EXIT
trap 'exit 130' INT TERM

start_load "$load"
((load > 0)) && echo "run-micro: $load busy processes running beside every run" >&2

failed=0

# run_one SYSTEM WORKLOAD: runs one benchmark program; on success prints "VALUE RSS_BYTES" (RSS
# n/a without GNU time) on stdout and returns 0, otherwise reports to stderr and returns 1.
run_one() {
  local sys="$1" workload="$2" out rc line unit value want rss="n/a" what ran
  ran="$(program_workload "$sys" "$workload")"
  local cmd=("${bin[$sys]}" "$ran" ${scale_args[@]+"${scale_args[@]}"})
  what="${cmd[*]}"
  want="$(expected_unit "$workload")"
  : > "$tmp_rss"
  if [[ -n "$gnu_time" ]]; then
    out="$(timeout "$run_timeout" "$gnu_time" -f '%M' -o "$tmp_rss" "${cmd[@]}" 2> "$tmp_err")"
  else
    out="$(timeout "$run_timeout" "${cmd[@]}" 2> "$tmp_err")"
  fi
  rc=$?
  if ((rc != 0)); then
    if ((rc == 124)); then
      echo "run-micro: ERROR: '$what' timed out after ${run_timeout}s" >&2
    else
      echo "run-micro: ERROR: '$what' exited with status $rc" >&2
    fi
    [[ -s "$tmp_err" ]] && sed 's/^/  | /' "$tmp_err" >&2
    [[ -n "$out" ]] && printf '%s\n' "$out" | sed 's/^/  > /' >&2
    return 1
  fi
  line="$(printf '%s\n' "$out" | awk -v w="$ran" '$1 == "workload=" w { print; exit }')"
  unit="$(printf '%s\n' "$line" | awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^unit=/) { sub(/^unit=/, "", $i); print $i; exit } }')"
  value="$(printf '%s\n' "$line" | awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^value=/) { sub(/^value=/, "", $i); print $i; exit } }')"
  if [[ -z "$line" ]] || ! is_number "$value"; then
    echo "run-micro: ERROR: '$what' printed no valid 'workload=$ran ... value=NUMBER' line" >&2
    [[ -n "$out" ]] && printf '%s\n' "$out" | sed 's/^/  > /' >&2
    [[ -s "$tmp_err" ]] && sed 's/^/  | /' "$tmp_err" >&2
    return 1
  fi
  if [[ "$unit" != "$want" ]]; then
    echo "run-micro: ERROR: '$what' reported unit '$unit', expected '$want'" >&2
    return 1
  fi
  if [[ -n "$gnu_time" ]]; then
    rss="$(tail -n 1 "$tmp_rss")"  # %M: KiB
    if is_uint "$rss"; then
      rss=$((rss * 1024))
    else
      echo "run-micro: warning: no peak RSS from GNU time for '$what'" >&2
      rss="n/a"
    fi
  fi
  printf '%s %s\n' "$value" "$rss"
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

# fmt UNIT VALUE: integers for msgs/s and bytes, 3 decimals for seconds; n/a stays n/a.
fmt() {
  if [[ "$2" == "n/a" ]]; then
    echo "n/a"
  elif [[ "$1" == "s" ]]; then
    awk -v x="$2" 'BEGIN { printf "%.3f", x }'
  else
    awk -v x="$2" 'BEGIN { printf "%.0f", x }'
  fi
}

# advantage UNIT TROUPE PEER: how many times better troupe is (troupe/peer for msgs/s, peer/troupe
# for s and bytes), 2 decimals; n/a if either is missing or the divisor is 0.
advantage() {
  [[ "$2" == "n/a" || "$3" == "n/a" ]] && { echo "n/a"; return; }
  awk -v u="$1" -v t="$2" -v p="$3" 'BEGIN {
    if (u == "msgs/s") { num = t; den = p } else { num = p; den = t }
    if (den + 0 == 0) print "n/a"; else printf "%.2f\n", num / den
  }'
}

# relative UNIT TROUPE OTHER: OTHER relative to troupe for the chart (higher is better; troupe = 1).
relative() {
  [[ "$2" == "n/a" || "$3" == "n/a" ]] && { echo "nan"; return; }
  awk -v u="$1" -v t="$2" -v o="$3" 'BEGIN {
    if (u == "msgs/s") { num = o; den = t } else { num = t; den = o }
    if (den + 0 == 0 || num + 0 == 0) print "nan"; else printf "%.4f\n", num / den
  }'
}

lines=()
table_rows=()
chart_rows=()
for workload in "${workloads[@]}"; do
  unit="$(expected_unit "$workload")"
  declare -A vals=() rsss=() med=() rss_med=()
  ceilings=""
  for ((r = 1; r <= runs; r++)); do
    if [[ "$workload" == fanout* ]]; then
      if result="$(run_one troupe fanout-ceiling)"; then
        read -r v rss <<< "$result"
        ceilings+=" $v"
        echo "[$workload] run $r/$runs fanout-ceiling: $v $unit" >&2
      else
        failed=1
      fi
    fi
    for sys in "${present[@]}"; do
      if result="$(run_one "$sys" "$workload")"; then
        read -r v rss <<< "$result"
        vals[$sys]="${vals[$sys]:-} $v"
        [[ "$rss" != "n/a" ]] && rsss[$sys]="${rsss[$sys]:-} $rss"
        echo "[$workload] run $r/$runs $sys: $v $unit, peak RSS $rss bytes" >&2
      else
        failed=1
      fi
    done
  done

  for sys in "${systems[@]}"; do
    med[$sys]="n/a"
    rss_med[$sys]="n/a"
    # shellcheck disable=SC2086  # the lists are space-separated numbers
    [[ -n "${vals[$sys]:-}" ]] && med[$sys]="$(median ${vals[$sys]})"
    # shellcheck disable=SC2086
    [[ -n "${rsss[$sys]:-}" ]] && rss_med[$sys]="$(fmt bytes "$(median ${rsss[$sys]})")"
  done

  best_peer="n/a"
  for sys in "${peers[@]}"; do
    [[ "${med[$sys]}" == "n/a" ]] && continue
    if [[ "$best_peer" == "n/a" ]] || awk -v u="$unit" -v a="${med[$sys]}" -v b="${med[$best_peer]}" \
      'BEGIN { exit !(u == "msgs/s" ? a > b : a < b) }'; then
      best_peer="$sys"
    fi
  done
  ratio_best="n/a"
  [[ "$best_peer" != "n/a" ]] && ratio_best="$(advantage "$unit" "${med[troupe]}" "${med[$best_peer]}")"
  ratio_caf="$(advantage "$unit" "${med[troupe]}" "${med[caf017]}")"

  line="workload=$workload unit=$unit"
  for sys in "${systems[@]}"; do line+=" $sys=$(fmt "$unit" "${med[$sys]}")"; done
  line+=" best_peer=$best_peer ratio_best=$ratio_best ratio_caf=$ratio_caf"
  for sys in "${systems[@]}"; do line+=" rss_$sys=${rss_med[$sys]}"; done
  if [[ "$workload" == fanout* ]]; then
    ceiling="n/a"
    # shellcheck disable=SC2086  # a space-separated list of numbers
    [[ -n "$ceilings" ]] && ceiling="$(median $ceilings)"
    max_ratio="n/a"
    [[ "$best_peer" != "n/a" ]] && max_ratio="$(advantage "$unit" "$ceiling" "${med[$best_peer]}")"
    line+=" ceiling=$(fmt "$unit" "$ceiling") max_ratio_best=$max_ratio"
  fi
  ((load > 0)) && line+=" load=$load"
  echo "$line"
  lines+=("$line")

  row=("$workload" "$unit")
  for sys in "${systems[@]}"; do row+=("$(fmt "$unit" "${med[$sys]}")"); done
  row+=("$best_peer" "$ratio_best" "$ratio_caf")
  for sys in "${systems[@]}"; do
    if [[ "${rss_med[$sys]}" == "n/a" ]]; then
      row+=("n/a")
    else
      row+=("$(awk -v b="${rss_med[$sys]}" 'BEGIN { printf "%.1f", b / 1048576 }')")
    fi
  done
  table_rows+=("${row[*]}")
  chart_row="$workload"
  for sys in "${systems[@]}"; do chart_row+=" $(relative "$unit" "${med[troupe]}" "${med[$sys]}")"; done
  chart_rows+=("$chart_row")
  unset vals rsss med rss_med
done

# -- the table -----------------------------------------------------------------

echo
{
  echo "workload unit troupe caf017 go erlang best_peer vs_best vs_caf017 MiB:troupe MiB:caf017 MiB:go MiB:erlang"
  printf '%s\n' "${table_rows[@]}"
} | awk '{ printf "%-15s %-7s %13s %13s %13s %13s %-10s %8s %10s %11s %11s %7s %11s\n",
           $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13 }'
echo "(vs_*: how many times better troupe is; MiB: peak resident memory of the whole process)"

# -- bench-results/: the lines and the chart -------------------------------------

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if mkdir -p "$results_dir" && printf '%s\n' "${lines[@]}" > "$results_dir/micro.txt"; then
  # The chart's data; a system with no result at all (not built, or every run failed) is left out.
  {
    echo "workload ${systems[*]}"
    printf '%s\n' "${chart_rows[@]}"
  } | awk '{ for (i = 1; i <= NF; i++) cell[NR, i] = $i; if (NR > 1) for (i = 2; i <= NF; i++) if ($i != "nan") keep[i] = 1 }
           END { for (r = 1; r <= NR; r++) { out = cell[r, 1]; for (i = 2; (r, i) in cell; i++) if (i in keep) out = out " " cell[r, i]; print out } }' \
    > "$results_dir/micro-relative.dat"
  if command -v gnuplot > /dev/null 2>&1; then
    if gnuplot -e "datafile='$results_dir/micro-relative.dat'; outbase='$results_dir/micro'" "$here/micro.gp"; then
      echo "run-micro: wrote $results_dir/micro.txt, micro.png and micro.svg" >&2
    else
      echo "run-micro: ERROR: gnuplot failed; no chart" >&2
      failed=1
    fi
  else
    echo "run-micro: wrote $results_dir/micro.txt; gnuplot not found, no chart (install gnuplot-nox)" >&2
  fi
else
  echo "run-micro: ERROR: cannot write $results_dir/micro.txt" >&2
  failed=1
fi

if ((failed)); then
  echo "run-micro: some runs failed (see errors above)" >&2
  exit 1
fi
exit 0
