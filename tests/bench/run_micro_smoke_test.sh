#!/usr/bin/env bash
# `./run bench micro` in small: bench/run-micro.sh on every workload at SCALE 0.01, one run each.
# Every program that is built (troupe-micro, and caf-micro, go-micro, erlang-micro where present)
# must run and verify every workload, and the script's lines, table, micro.txt and chart must
# have the documented form. No timing is checked.
#   run_micro_smoke_test.sh SOURCE_DIR BUILD_DIR
set -uo pipefail
src="$1"
build="$2"
out="$(mktemp -d "${TMPDIR:-/tmp}/troupe-micro-smoke.XXXXXX")"
trap 'rm -rf "$out"' EXIT
fail() {
  echo "FAILED: $*" >&2
  exit 1
}

"$src/bench/run-micro.sh" "$build" --runs 1 --scale 0.01 --timeout 120 --results "$out/results" > "$out/stdout" ||
  fail "run-micro.sh exited with $?"
cat "$out/stdout"

systems=(troupe caf017 go erlang)
declare -A program=([troupe]=troupe-micro [caf017]=caf-micro [go]=go-micro [erlang]=erlang-micro)
have_time=0
[[ -x /usr/bin/time ]] && /usr/bin/time -f '%M' -o /dev/null true 2> /dev/null && have_time=1

num='[0-9]+(\.[0-9]+)?'
ratio='([0-9]+\.[0-9]{2}|n/a)'
rss='([0-9]+|n/a)'
lines="$(grep '^workload=' "$out/stdout")"
for workload in pingpong-1 pingpong-4 fanin skynet ring idle-footprint fanout fanin-paced fanout-paced; do
  case "$workload" in
    skynet) unit=s ;;
    idle-footprint) unit=bytes ;;
    *) unit=msgs/s ;;
  esac
  line="$(grep "^workload=$workload " <<< "$lines")"
  [[ "$(grep -c . <<< "$line")" == 1 ]] || fail "not exactly one line for $workload"
  pattern="^workload=$workload unit=$unit troupe=$num caf017=($num|n/a) go=($num|n/a) erlang=($num|n/a)"
  pattern+=" best_peer=(caf017|go|erlang|n/a) ratio_best=$ratio ratio_caf=$ratio"
  pattern+=" rss_troupe=$rss rss_caf017=$rss rss_go=$rss rss_erlang=$rss"
  # The fanout rows also carry the arithmetic's own rate (troupe-micro fanout-ceiling), and what it
  # makes the highest possible ratio_best.
  [[ "$workload" == fanout* ]] && pattern+=" ceiling=$num max_ratio_best=$ratio"
  pattern+="\$"
  [[ "$line" =~ $pattern ]] || fail "malformed line: $line"
  any_peer=0
  for sys in "${systems[@]}"; do
    if [[ -x "$build/bench/${program[$sys]}" ]]; then
      [[ "$sys" == troupe ]] || any_peer=1
      [[ "$line" =~ " $sys="[0-9] ]] || fail "$sys is built but has no value: $line"
      if ((have_time)); then
        [[ "$line" =~ " rss_$sys="[1-9][0-9]*( |$) ]] || fail "no peak RSS for $sys: $line"
      fi
    else
      [[ "$line" == *" $sys=n/a "* ]] || fail "$sys is not built but has a value: $line"
    fi
  done
  if ((any_peer)); then
    [[ "$line" != *" best_peer=n/a "* ]] || fail "a peer ran but there is no best_peer: $line"
    best="${line#* best_peer=}"
    best="${best%% *}"
    [[ "$line" =~ " $best="[0-9] ]] || fail "best_peer $best has no value: $line"
  else
    [[ "$line" == *" best_peer=n/a ratio_best=n/a "* ]] || fail "no peer ran, yet a best_peer: $line"
  fi
done
grep -q '^workload  *unit  *troupe  *caf017  *go  *erlang  *best_peer ' "$out/stdout" || fail "no table"
[[ "$(grep -c '^fanout  *msgs/s ' "$out/stdout")" == 1 ]] || fail "no fanout row in the table"
cmp -s <(printf '%s\n' "$lines") "$out/results/micro.txt" || fail "micro.txt is not the printed lines"
if command -v gnuplot > /dev/null; then
  [[ -s "$out/results/micro.png" && -s "$out/results/micro.svg" ]] || fail "no chart"
  grep -q '<svg' "$out/results/micro.svg" || fail "micro.svg is not SVG"
fi
echo "OK: run-micro smoke"
