# shellcheck shell=bash
# Busy processes beside a benchmark (the --load N of bench/run-micro.sh and bench/run-remote.sh),
# to see how each system fares on a busy machine. Sourced, not run.
#
# start_load N starts N processes, each a shell loop that never sleeps, until stop_load. The caller's
# EXIT trap calls stop_load; if the script is killed outright, the kernel kills them
# (PR_SET_PDEATHSIG through setpriv), and each loop's shell first checks that its parent is still
# this script, which may have died before the loop started.

load_pids=()

start_load() {
  local n="$1" i
  # shellcheck disable=SC2016  # $PPID and $0 are the busy shell's
  local busy=(bash -c '[[ "$PPID" == "$0" ]] || exit 1; while :; do :; done' "$$")
  command -v setpriv > /dev/null 2>&1 && busy=(setpriv --pdeathsig KILL -- "${busy[@]}")
  for ((i = 0; i < n; i++)); do
    "${busy[@]}" &
    load_pids+=("$!")
  done
}

# shellcheck disable=SC2317  # called from the caller's EXIT trap
stop_load() {
  ((${#load_pids[@]} > 0)) && kill "${load_pids[@]}" 2> /dev/null
  wait "${load_pids[@]}" 2> /dev/null
  load_pids=()
}
