#!/usr/bin/env bash
# The quick mode of the comparison, as `./run compare --quick` runs it: every workload and model on
# tiny sizes. Checks the "compare ..." lines (one per cell, in the documented form, correct=yes for
# every model but race; for hog, lateness figures in order: max >= p99 >= p50 >= 0), the CSV and
# JSON files, the CPython rows when python3 is present, the traces of the cpu, io and hog
# timelines (cpu-nodes with both processes' rows), and the charts and timeline pictures when
# gnuplot is installed.
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
ms='[0-9]+\.[0-9]{3}'
hog_pattern="^compare workload=hog model=[a-z-]+ secs=$ms speedup=n/a correct=(yes|no) p50_ms=$ms p99_ms=$ms max_ms=$ms\$"
while IFS= read -r line; do
  [[ "$line" =~ $pattern || "$line" =~ $hog_pattern ]] || fail "malformed line: $line"
done <<< "$lines"
for workload in cpu counter bank io; do
  for model in sequential threads-mutex threads-atomic gil event-loop actors; do
    grep -q "^compare workload=$workload model=$model .* correct=yes$" <<< "$lines" || fail "no correct $workload/$model line"
  done
done
hog_models="sequential threads-mutex gil event-loop actors actors-unguarded"
for model in $hog_models; do
  line="$(grep "^compare workload=hog model=$model " <<< "$lines")" || fail "no hog/$model line"
  grep -q ' correct=yes ' <<< "$line" || fail "hog/$model missed ticks: $line"
  # Lateness figures in order (their size is not checked: timing on a shared machine is noisy).
  awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] + 0 } }
       END { exit !(v["p50_ms"] >= 0 && v["p99_ms"] >= v["p50_ms"] && v["max_ms"] >= v["p99_ms"]) }' <<< "$line" ||
    fail "hog/$model lateness out of order: $line"
done
[[ "$(grep -c '^compare workload=hog ' <<< "$lines")" == 6 ]] || fail "hog must run under exactly: $hog_models"
grep -q ' p50_ms=' <<< "$(grep -v '^compare workload=hog ' <<< "$lines")" && fail "lateness on a line that is not hog"
grep -q '^compare workload=counter model=race ' <<< "$lines" || fail "no race line"
[[ "$(grep -c 'model=race' <<< "$lines")" == 1 ]] || fail "race must run the counter only"
grep -q '^compare workload=cpu model=sequential .* speedup=1.00 ' <<< "$lines" || fail "sequential is not the reference"

[[ -s "$out/results/results.csv" ]] || fail "no results.csv"
head -1 "$out/results/results.csv" | grep -qx 'workload,model,secs,speedup,correct,p50_ms,p99_ms,max_ms,detail' ||
  fail "bad CSV header"
[[ "$(($(wc -l < "$out/results/results.csv") - 1))" == "$(wc -l <<< "$lines")" ]] || fail "CSV rows != compare lines"
if command -v python3 > /dev/null; then
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert len(d["results"]) == int(sys.argv[2])' \
    "$out/results/results.json" "$(wc -l <<< "$lines")" || fail "results.json does not parse or has the wrong rows"
  grep -q '^compare workload=cpu model=python-threads ' <<< "$lines" || fail "python3 present but no CPython row"
  for model in python-sequential python-threads python-asyncio; do
    grep -q "^compare workload=io model=$model .* correct=yes$" <<< "$lines" || fail "python3 present but no correct io $model row"
  done
  python3 -c 'import json,sys; r=[c for c in json.load(open(sys.argv[1]))["results"] if c["workload"] == "hog"]
assert len(r) == 6 and all(c["lateness"]["ticks"] == c["lateness"]["expected"] > 0 for c in r)' \
    "$out/results/results.json" || fail "results.json: no hog lateness"
else
  grep -q '"results"' "$out/results/results.json" || fail "no results.json"
fi
timeline_cells=""
for workload in cpu io; do
  for model in sequential threads-mutex threads-atomic gil event-loop actors; do timeline_cells+=" $workload-$model"; done
done
for model in $hog_models; do timeline_cells+=" hog-$model"; done
for cell in $timeline_cells; do
  [[ -s "$out/results/traces/$cell.json" ]] || fail "no trace $cell.json"
  grep -q '"ph":"X"' "$out/results/traces/$cell.json" || fail "trace $cell.json has no spans"
  [[ -s "$out/results/traces/$cell.timeline.dat" ]] || fail "no timeline data for $cell"
  if command -v python3 > /dev/null; then
    python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$out/results/traces/$cell.json" ||
      fail "trace $cell.json does not parse"
  fi
done
# The nodes model's timeline shows both processes: the second node's trace is merged in.
nodes_rows="$(grep -v '^#' "$out/results/traces/cpu-nodes.timeline.dat" | cut -d'"' -f2 | sort -u)"
grep -qx 'worker 0' <<< "$nodes_rows" || fail "the cpu-nodes timeline has no row of the tool's node"
grep -qx 'contrast-peer: worker 0' <<< "$nodes_rows" || fail "the cpu-nodes timeline has no row of the second node"
# The event loop is one thread: its timelines have one row.
for workload in cpu io hog; do
  [[ "$(grep -v '^#' "$out/results/traces/$workload-event-loop.timeline.dat" | cut -d' ' -f1 | sort -u)" == 0 ]] ||
    fail "the $workload event-loop timeline has more than one row"
done
if command -v gnuplot > /dev/null; then
  [[ -s "$out/results/speedups.png" && -s "$out/results/speedups.svg" ]] || fail "no chart"
  grep -q '<svg' "$out/results/speedups.svg" || fail "speedups.svg is not SVG"
  [[ -s "$out/results/lateness.png" && -s "$out/results/lateness.svg" ]] || fail "no lateness chart"
  for cell in $timeline_cells; do
    picture="$out/results/timeline-$cell"
    [[ -s "$picture.png" && -s "$picture.svg" ]] || fail "no timeline $picture.png/.svg"
    grep -q '<svg' "$picture.svg" || fail "$picture.svg is not SVG"
  done
fi
echo "OK: quick compare"
