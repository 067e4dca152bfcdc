"""Helpers for the tests that scrape a real troupe program (metrics_workload.cpp): start it,
find where it serves, fetch from it, and stop what was started even when a test fails."""
import contextlib
import ctypes
import os
import re
import select
import signal
import socket
import subprocess
import time
import urllib.request

SKIP = 77  # CTest's SKIP_RETURN_CODE for these tests


def _die_with_parent():
    """In the child, before exec: SIGKILL when the test process dies (a CTest timeout kills only
    the test), so no server outlives its test."""
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def start(argv, **kwargs):
    return subprocess.Popen(argv, preexec_fn=_die_with_parent, **kwargs)


def stop(process, grace=10):
    """SIGTERM, then SIGKILL after `grace` seconds; returns the exit status."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


@contextlib.contextmanager
def workload(program, *args, timeout=60):
    """Runs metrics_workload ARGS; yields (process, "host:port" it serves on)."""
    process = start([program, *args], stdout=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + timeout
        line = ""
        while not line.endswith("\n"):
            left = deadline - time.monotonic()
            if left <= 0 or process.poll() is not None:
                raise RuntimeError(f"{program} did not say where it serves (exit status {process.poll()})")
            ready, _, _ = select.select([process.stdout], [], [], left)
            if ready:
                line += process.stdout.readline()
        match = re.search(r"serving http://(\S+)", line)
        if not match:
            raise RuntimeError(f"{program} printed {line!r}")
        yield process, match.group(1)
    finally:
        status = stop(process)
        if status not in (0, -signal.SIGTERM):
            print(f"{program} exited with status {status}")


def fetch(url, timeout=10):
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.status, response.headers.get("Content-Type"), response.read().decode()


def sample(exposition, pattern):
    """The sum of the samples whose series ("name{labels}") matches `pattern`; None if none."""
    total = None
    for line in exposition.splitlines():
        if line.startswith("#") or " " not in line:
            continue
        series, value = line.rsplit(" ", 1)
        if re.fullmatch(pattern, series):
            total = (total or 0) + float(value)
    return total


def wait_for(what, condition, timeout, interval=0.2):
    """Polls `condition` until it returns a true value (returned) or `timeout` s pass (raises).
    The bound only ends a failing test."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise RuntimeError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def free_port():
    """A port free on 127.0.0.1 now (another process may take it before it is used: rare)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
