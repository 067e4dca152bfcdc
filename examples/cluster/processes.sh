# Helpers for the scripts that run troupe-node processes (cluster.sh, ../observe/observe.sh):
# sourced, not run. They keep the processes in the array `pids` and the work folder in `work`.

# Stops every process in `pids` (SIGTERM: a node stops cleanly), kills (SIGKILL) one that has not
# stopped within 10 s, saying so on stderr under the label $1, and removes `work`.
stop_processes() {
  local label="$1"
  for pid in "${pids[@]}"; do kill "$pid" 2> /dev/null || true; done
  for _ in $(seq 100); do
    local left=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2> /dev/null && left=1; done
    ((left)) || break
    sleep 0.1
  done
  for pid in "${pids[@]}"; do
    kill -0 "$pid" 2> /dev/null || continue
    echo "$label: process $pid did not stop within 10 s of SIGTERM: killed (SIGKILL)" >&2
    kill -9 "$pid" 2> /dev/null || true
  done
  wait 2> /dev/null || true
  rm -rf "$work"
}

# `in_cluster COMMAND... &` runs a process that dies with the script: SIGKILL when the script's
# process ends (PR_SET_PDEATHSIG, through setpriv), and no start at all if the script ended before
# the death signal was set (no signal would ever come: the wrapper checks its parent is still $$).
# Background only: the subshell that `&` makes execs the command, so $! is its pid and its parent
# is the script.
in_cluster() {
  # shellcheck disable=SC2016  # $PPID, $0 and $@ are the inner shell's
  if command -v setpriv > /dev/null 2>&1; then
    exec setpriv --pdeathsig KILL -- bash -c '[[ "$PPID" == "$0" ]] || exit 1; exec "$@"' "$$" "$@"
  fi
  exec "$@"  # no setpriv (util-linux): the traps still stop the processes, a SIGKILL does not
}

# A free TCP port on 127.0.0.1 (the kernel's pick).
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
