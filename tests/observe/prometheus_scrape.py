#!/usr/bin/env python3
"""A real Prometheus server (Debian's prometheus package) scrapes a troupe program every second:
its HTTP API must show the program's message counter rising between two samples. Everything
runs on 127.0.0.1, in a temporary directory removed at the end; both processes are stopped even
when the test fails. Exits 77 (skipped) without prometheus.

Usage: prometheus_scrape.py METRICS_WORKLOAD"""
import json
import pathlib
import shutil
import subprocess
import sys
import tempfile
import urllib.parse

import scrape_support as support

CONFIG = """\
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: troupe
    static_configs:
      - targets: ["{target}"]
"""
QUERY = 'sum(troupe_actor_messages_total{job="troupe",type=~".*Worker"})'


def query(api, expression):
    """The instant vector's samples: [(labels, time, value)]."""
    url = f"{api}/api/v1/query?" + urllib.parse.urlencode({"query": expression})
    status, _, body = support.fetch(url)
    answer = json.loads(body)
    if status != 200 or answer.get("status") != "success":
        raise RuntimeError(f"{url}: {status} {body}")
    return [(r["metric"], float(r["value"][0]), float(r["value"][1])) for r in answer["data"]["result"]]


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    prometheus = shutil.which("prometheus")
    if prometheus is None:
        print("SKIPPED: prometheus not found (Debian package prometheus; `./run test` installs it)")
        return support.SKIP
    directory = pathlib.Path(tempfile.mkdtemp(prefix="troupe-prometheus-"))
    log = directory / "prometheus.log"
    server = None
    try:
        with support.workload(sys.argv[1], "--workers", "4") as (_, target):
            (directory / "prometheus.yml").write_text(CONFIG.format(target=target))
            listen = f"127.0.0.1:{support.free_port()}"
            api = f"http://{listen}"
            with open(log, "w") as out:
                server = support.start([prometheus, f"--config.file={directory / 'prometheus.yml'}",
                                        f"--storage.tsdb.path={directory / 'data'}", f"--web.listen-address={listen}"],
                                       stdout=out, stderr=subprocess.STDOUT)

            def ready():
                if server.poll() is not None:
                    raise RuntimeError(f"prometheus exited with status {server.returncode}")
                try:
                    return support.fetch(f"{api}/-/ready", timeout=2)[0] == 200
                except OSError:
                    return False

            support.wait_for("prometheus to be ready", ready, timeout=60)
            support.wait_for("prometheus to see the target up",
                             lambda: any(v == 1 for _, _, v in query(api, 'up{job="troupe"}')), timeout=60)

            # Two samples of the counter, the later one higher: Prometheus scraped it at least
            # twice while the workers handled messages.
            seen = []

            def rising():
                samples = query(api, QUERY)
                if samples:
                    _, at, value = samples[0]
                    if not seen or at > seen[-1][0]:
                        seen.append((at, value))
                return len(seen) >= 2 and seen[-1][1] > seen[0][1]

            support.wait_for(f"{QUERY} to rise between two samples", rising, timeout=90, interval=0.5)
            print(f"prometheus: {QUERY} went from {seen[0][1]:.0f} to {seen[-1][1]:.0f} "
                  f"in {seen[-1][0] - seen[0][0]:.1f} s")
        print("prometheus scrape: OK")
        return 0
    except Exception as e:
        print(f"FAILED: {e}")
        if log.exists():
            print("prometheus's log, last lines:\n" + "\n".join(log.read_text().splitlines()[-30:]))
        return 1
    finally:
        if server is not None:
            support.stop(server)
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
