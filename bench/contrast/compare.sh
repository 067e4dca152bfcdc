#!/usr/bin/env bash
# Runs the contrast (bench/troupe-contrast) and draws its bar chart:
#
#   bench/contrast/compare.sh BUILD_DIR OUT_DIR [troupe-contrast OPTIONS...]
#
# writes OUT_DIR/results.csv, results.json, and (when gnuplot is installed) speedups.png and
# speedups.svg. If python3 is present the CPython reference row is included (cpu workload). The
# table and the "compare workload=... " lines go to stdout, progress to stderr. Exit status: the
# tool's (1 if a model other than race gave a wrong result), or 1 if the chart failed.
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
  extra+=(--python "$here/cpu_reference.py")
else
  echo "compare: python3 not found; no CPython reference row" >&2
fi

mkdir -p "$out"
status=0
"$tool" --out "$out" ${extra[@]+"${extra[@]}"} "$@" || status=$?
((status <= 1)) || exit "$status"

if ! command -v gnuplot > /dev/null 2>&1; then
  echo "compare: gnuplot not found; no chart (install gnuplot-nox)" >&2
  exit "$status"
fi
# results.csv -> a workload x model table of speedups for gnuplot ("nan": not run).
awk -F, 'NR > 1 {
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
  }' "$out/results.csv" > "$out/speedups.dat"
gnuplot -e "datafile='$out/speedups.dat'; outbase='$out/speedups'" "$here/speedups.gp" || {
  echo "compare: gnuplot failed" >&2
  exit 1
}
echo "compare: wrote $out/results.csv, results.json, speedups.png, speedups.svg" >&2
exit "$status"
