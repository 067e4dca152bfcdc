#!/usr/bin/env bash
# Runs the contrast (bench/troupe-contrast) and draws its bar chart:
#
#   bench/contrast/compare.sh BUILD_DIR OUT_DIR [troupe-contrast OPTIONS...]
#
# writes OUT_DIR/results.csv, results.json, and (when gnuplot is installed) speedups.png and
# speedups.svg, and for the hog workload lateness.png and lateness.svg. If python3 is present the
# CPython reference rows are included (cpu: cpu_reference.py; io: io_reference.py, against the
# tool's own latency server). The table and the "compare workload=... " lines go to stdout,
# progress to stderr.
#
# Then the timelines: cpu, io and hog run once more under each selected model, traced, on sizes
# small enough to read (TIMELINE_SIZES, HOG_TIMELINE_SIZES: well under a second), giving
# OUT_DIR/traces/<workload>-<model>.json (Chrome traces, for Perfetto) and, with gnuplot,
# OUT_DIR/timeline-<workload>-<model>.png and .svg. Of the options, --models, --workloads (cpu, io
# and hog only), --workers and --switch-interval-ms apply to the timelines too; the sizes do not.
#
# Exit status: the tool's (1 if a model other than race gave a wrong result), or 1 if a picture
# failed.
set -euo pipefail

(($# >= 2)) || {
  echo "usage: $0 BUILD_DIR OUT_DIR [OPTIONS...]" >&2
  exit 2
}
build="$1"
out="$2"
shift 2
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tool="$build/bench/troupe-contrast"
[[ -x "$tool" ]] || {
  echo "compare: $tool not built" >&2
  exit 1
}

extra=()
if command -v python3 > /dev/null 2>&1; then
  extra+=(--python "$here/cpu_reference.py" --python-io "$here/io_reference.py")
else
  echo "compare: python3 not found; no CPython reference rows" >&2
fi

mkdir -p "$out"
status=0
"$tool" --out "$out" ${extra[@]+"${extra[@]}"} "$@" || status=$?
((status <= 1)) || exit "$status"

have_gnuplot=yes
command -v gnuplot > /dev/null 2>&1 || have_gnuplot=no

# -- the speedup chart ------------------------------------------------------------------------------
if [[ "$have_gnuplot" == no ]]; then
  echo "compare: gnuplot not found; no chart and no timeline pictures (install gnuplot-nox)" >&2
else
  # results.csv -> a workload x model table of speedups for gnuplot ("nan": not run). hog has no
  # speedups (it runs for a fixed time): its chart is the lateness one below.
  rm -f "$out/speedups.dat" "$out/speedups.png" "$out/speedups.svg"
  awk -F, 'NR > 1 && $1 != "hog" {
      if (!($1 in seen_w)) { seen_w[$1] = 1; workloads[++nw] = $1 }
      if (!($2 in seen_m)) { seen_m[$2] = 1; models[++nm] = $2 }
      v[$1, $2] = ($4 == "n/a" ? "nan" : $4)
    }
    END {
      printf "workload"; for (m = 1; m <= nm; m++) printf " %s", models[m]; printf "\n"
      for (w = 1; w <= nw; w++) {
        printf "%s", workloads[w]
        for (m = 1; m <= nm; m++) printf " %s", ((workloads[w], models[m]) in v ? v[workloads[w], models[m]] : "nan")
        printf "\n"
      }
    }' "$out/results.csv" > "$out/speedups.rows"
  if (($(wc -l < "$out/speedups.rows") > 1)); then
    mv "$out/speedups.rows" "$out/speedups.dat"
    gnuplot -e "datafile='$out/speedups.dat'; outbase='$out/speedups'" "$here/speedups.gp" || {
      echo "compare: gnuplot failed" >&2
      exit 1
    }
    echo "compare: wrote $out/results.csv, results.json, speedups.png, speedups.svg" >&2
  fi
  rm -f "$out/speedups.rows"
  # The hog rows -> "model p50 p99 max" (ms) for the lateness chart.
  rm -f "$out/lateness.dat" "$out/lateness.png" "$out/lateness.svg"
  awk -F, 'NR > 1 && $1 == "hog" && $6 != "" { print $2, $6, $7, $8 }' "$out/results.csv" > "$out/lateness.rows"
  if [[ -s "$out/lateness.rows" ]]; then
    { echo "model p50 p99 max"; cat "$out/lateness.rows"; } > "$out/lateness.dat"
    gnuplot -e "datafile='$out/lateness.dat'; outbase='$out/lateness'" "$here/lateness.gp" || {
      echo "compare: gnuplot failed on the lateness chart" >&2
      exit 1
    }
    echo "compare: wrote $out/lateness.png, lateness.svg" >&2
  fi
  rm -f "$out/lateness.rows"
fi

# -- timelines --------------------------------------------------------------------------------------
TIMELINE_SIZES=(--cpu-n 20000000 --io-requests 24 --io-concurrency 4 --io-latency-ms 10)
# hog: 8 ticking tasks (a row each under the thread models), a tick every 10 ms for 600 ms (a
# tick every 2 ms would be a hairline in every pixel: solid green), and
# the hogs computing for 100 ms, twice.
HOG_TIMELINE_SIZES=(--hog-tasks 8 --hog-period-ms 10 --hog-duration-ms 600 --hog-burst-ms 100 --hog-bursts 2)
timeline_options=()
timeline_workloads="cpu,io,hog"
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[i]}" in
    --models | --workers | --switch-interval-ms)
      ((i + 1 < ${#args[@]})) && timeline_options+=("${args[i]}" "${args[i + 1]}")
      i=$((i + 1))
      ;;
    --workloads)
      # Only cpu, io and hog have timelines: keep those of the selected workloads.
      if ((i + 1 < ${#args[@]})); then
        timeline_workloads="$(tr ',' '\n' <<< "${args[i + 1]}" | grep -xE 'cpu|io|hog' | paste -sd, - || true)"
      fi
      i=$((i + 1))
      ;;
  esac
done
[[ -n "$timeline_workloads" ]] || exit "$status"

echo "compare: timelines ($timeline_workloads on small sizes, traced)" >&2
rm -rf "$out/traces"
mkdir -p "$out/traces"
rm -f "$out"/timeline-*.png "$out"/timeline-*.svg
timeline_status=0
"$tool" --workloads "$timeline_workloads" "${TIMELINE_SIZES[@]}" "${HOG_TIMELINE_SIZES[@]}" \
  ${timeline_options[@]+"${timeline_options[@]}"} --trace-dir "$out/traces" > "$out/traces/results.txt" ||
  timeline_status=$?
((timeline_status <= 1)) || exit "$timeline_status"
((timeline_status == 0)) || status=1
[[ "$have_gnuplot" == yes ]] || exit "$status"
pictures=0
for data in "$out"/traces/*.timeline.dat; do
  [[ -e "$data" ]] || continue
  cell="$(basename "$data" .timeline.dat)"  # <workload>-<model>
  workload="${cell%%-*}"
  heading="$workload workload, ${cell#*-} model"
  # One time axis for every model of a workload: the longest of their timelines.
  xmax="$(awk '!/^#/ && $3 > max { max = $3 } END { print max + 0 }' "$out/traces/$workload"-*.timeline.dat)"
  gnuplot -e "datafile='$data'; outbase='$out/timeline-$cell'; heading='$heading'; xmax=$xmax" "$here/timeline.gp" || {
    echo "compare: gnuplot failed on $data" >&2
    exit 1
  }
  pictures=$((pictures + 1))
done
echo "compare: wrote $pictures timelines: $out/timeline-<workload>-<model>.png and .svg (traces in $out/traces)" >&2
exit "$status"
