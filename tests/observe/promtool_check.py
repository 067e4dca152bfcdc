#!/usr/bin/env python3
"""`promtool check metrics` (Prometheus's linter, Debian's prometheus package) on a real scrape of
a troupe program with a workload: it must find no problem. Exits 77 (skipped) without promtool.

Usage: promtool_check.py METRICS_WORKLOAD"""
import shutil
import subprocess
import sys

import scrape_support as support


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    promtool = shutil.which("promtool")
    if promtool is None:
        print("SKIPPED: promtool not found (Debian package prometheus; `./run test` installs it)")
        return support.SKIP
    with support.workload(sys.argv[1], "--workers", "4") as (_, address):
        url = f"http://{address}/metrics"
        # A scrape with every kind of family in it: the workers' messages counted, with their
        # handling-time histogram sampled.
        def scrape():
            status, _, body = support.fetch(url)
            handled = support.sample(body, r'troupe_actor_handling_seconds_count\{type=".*Worker"\}')
            return body if status == 200 and handled else None

        text = support.wait_for("the workers' handling times", scrape, timeout=60)
    for family in ("troupe_worker_busy_seconds_total", "troupe_actor_messages_total", "troupe_actor_handling_seconds",
                   "troupe_dead_letters_total", "troupe_uptime_seconds"):
        if f"# TYPE {family} " not in text:
            print(f"FAILED: the scrape has no {family}:\n{text}")
            return 1
    checked = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=60)
    problems = (checked.stdout + checked.stderr).strip()
    print(f"promtool check metrics: exit status {checked.returncode}; {len(text.splitlines())} lines checked")
    if checked.returncode != 0 or problems:
        print(f"FAILED: promtool found problems:\n{problems}")
        return 1
    print("promtool check: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
