#!/usr/bin/env bash
# The quick mode of the comparison, as `./run compare --quick` runs it: every workload and model on
# tiny sizes. Checks the "compare ..." lines (one per cell, in the documented form, correct=yes for
# every model but race), the CSV and JSON files, the traces of the cpu and io timelines, and the
# chart and timeline pictures when gnuplot is installed.
#   compare_quick_test.sh SOURCE_DIR BUILD_DIR
set -uo pipefail
src="$1"
build="$2"
out="$(mktemp -d "${TMPDIR:-/tmp}/troupe-compare.XXXXXX")"
trap 'rm -rf "$out"' EXIT
fail() {
  echo "FAILED: $*" >&2
  exit 1
}

"$src/bench/contrast/compare.sh" "$build" "$out/results" --quick > "$out/stdout" || fail "compare.sh exited with $?"
cat "$out/stdout"

lines="$(grep '^compare ' "$out/stdout")"
pattern='^compare workload=(cpu|counter|bank|io) model=[a-z-]+ secs=[0-9]+\.[0-9]{3} speedup=([0-9]+\.[0-9]{2}|n/a) correct=(yes|no)$'
while IFS= read -r line; do
  [[ "$line" =~ $pattern ]] || fail "malformed line: $line"
done <<< "$lines"
for workload in cpu counter bank io; do
  for model in sequential threads-mutex threads-atomic gil actors; do
    grep -q "^compare workload=$workload model=$model .* correct=yes$" <<< "$lines" || fail "no correct $workload/$model line"
  done
done
grep -q '^compare workload=counter model=race ' <<< "$lines" || fail "no race line"
[[ "$(grep -c 'model=race' <<< "$lines")" == 1 ]] || fail "race must run the counter only"
grep -q '^compare workload=cpu model=sequential .* speedup=1.00 ' <<< "$lines" || fail "sequential is not the reference"

[[ -s "$out/results/results.csv" ]] || fail "no results.csv"
head -1 "$out/results/results.csv" | grep -qx 'workload,model,secs,speedup,correct,detail' || fail "bad CSV header"
[[ "$(($(wc -l < "$out/results/results.csv") - 1))" == "$(wc -l <<< "$lines")" ]] || fail "CSV rows != compare lines"
if command -v python3 > /dev/null; then
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert len(d["results"]) == int(sys.argv[2])' \
    "$out/results/results.json" "$(wc -l <<< "$lines")" || fail "results.json does not parse or has the wrong rows"
  grep -q '^compare workload=cpu model=python-threads ' <<< "$lines" || fail "python3 present but no CPython row"
else
  grep -q '"results"' "$out/results/results.json" || fail "no results.json"
fi
for workload in cpu io; do
  for model in sequential threads-mutex threads-atomic gil actors; do
    cell="$workload-$model"
    [[ -s "$out/results/traces/$cell.json" ]] || fail "no trace $cell.json"
    grep -q '"ph":"X"' "$out/results/traces/$cell.json" || fail "trace $cell.json has no spans"
    [[ -s "$out/results/traces/$cell.timeline.dat" ]] || fail "no timeline data for $cell"
    if command -v python3 > /dev/null; then
      python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$out/results/traces/$cell.json" ||
        fail "trace $cell.json does not parse"
    fi
  done
done
if command -v gnuplot > /dev/null; then
  [[ -s "$out/results/speedups.png" && -s "$out/results/speedups.svg" ]] || fail "no chart"
  grep -q '<svg' "$out/results/speedups.svg" || fail "speedups.svg is not SVG"
  for workload in cpu io; do
    for model in sequential threads-mutex threads-atomic gil actors; do
      picture="$out/results/timeline-$workload-$model"
      [[ -s "$picture.png" && -s "$picture.svg" ]] || fail "no timeline $picture.png/.svg"
      grep -q '<svg' "$picture.svg" || fail "$picture.svg is not SVG"
    done
  done
fi
echo "OK: quick compare"
