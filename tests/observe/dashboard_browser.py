#!/usr/bin/env python3
"""The dashboard in a real browser: headless Chromium (Debian's chromium), driven by chromedriver
(chromium-driver) over the W3C WebDriver HTTP API, opens the page of a troupe program with a
known workload (metrics_workload: 8 actors of type workload::Worker, one Driver), waits until
the charts have data, and checks that figures on the page match /metrics. Saves a screenshot.
Everything runs on 127.0.0.1; both processes are stopped even when the test fails. Exits 77
(skipped) without chromium or chromedriver.

Usage: dashboard_browser.py METRICS_WORKLOAD SCREENSHOT.png [SECONDS]
SECONDS (default 0): how long to let the charts fill after the checks, before the screenshot."""
import base64
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

import scrape_support as support

WORKERS = 8
WORKER_TYPE = "workload::Worker"


class WebDriver:
    """The few WebDriver commands the test needs (W3C: POST /session, /url, /execute/sync, ...)."""

    def __init__(self, url):
        self.url = url
        self.session = None

    def call(self, method, path, body=None, timeout=60):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return json.loads(response.read().decode())["value"]
        except urllib.error.HTTPError as e:
            raise RuntimeError(f"webdriver {method} {path}: {e.code} {e.read().decode()[:500]}") from None

    def start(self, browser, size="1400,1300"):
        options = {"binary": browser,
                   "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                            f"--window-size={size}", "--hide-scrollbars", "--no-first-run"]}
        value = self.call("POST", "/session", {"capabilities": {"alwaysMatch": {"goog:chromeOptions": options}}},
                          timeout=120)
        self.session = value["sessionId"]

    def go(self, url):
        self.call("POST", f"/session/{self.session}/url", {"url": url})

    def run(self, script, *args):
        return self.call("POST", f"/session/{self.session}/execute/sync", {"script": script, "args": list(args)})

    def screenshot(self, path):
        path.write_bytes(base64.b64decode(self.call("GET", f"/session/{self.session}/screenshot")))

    def quit(self):
        if self.session is not None:
            try:
                self.call("DELETE", f"/session/{self.session}", timeout=30)
            except (OSError, RuntimeError):
                pass
            self.session = None


# What the page shows, read as a person would: the text of its cells and figures.
READ_PAGE = """
const d = window.troupeDashboard;
const row = document.querySelector('#types tr[data-type="' + CSS.escape(arguments[0]) + '"]');
const field = (name) => row ? row.querySelector('[data-field="' + name + '"]').textContent : null;
return {
  polls: d ? d.polls : 0,
  chartPoints: d ? d.chartPoints : 0,
  canvases: document.querySelectorAll('.chart canvas').length,
  status: document.getElementById('status').textContent,
  workers: document.getElementById('workers').textContent,
  live: field('live'),
  messages: field('messages'),
  rate: field('rate'),
  legend: Array.from(document.querySelectorAll('#utilisation-chart .u-legend .u-label')).map((e) => e.textContent).slice(1),  // less the x axis's
};
"""


def number(text):
    return float(text.replace(",", "").replace("≥", "").strip())


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    program, screenshot = sys.argv[1], pathlib.Path(sys.argv[2])
    linger = float(sys.argv[3]) if len(sys.argv) == 4 else 0
    browser = shutil.which("chromium")
    chromedriver = shutil.which("chromedriver")
    if browser is None or chromedriver is None:
        print("SKIPPED: chromium or chromedriver not found (Debian packages chromium and chromium-driver; "
              "`./run test` installs them)")
        return support.SKIP
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    profile = pathlib.Path(tempfile.mkdtemp(prefix="troupe-dashboard-"))
    driver_process = None
    driver = None
    try:
        with support.workload(program, "--workers", str(WORKERS)) as (_, address):
            port = support.free_port()
            driver_process = support.start([chromedriver, f"--port={port}", "--allowed-ips=127.0.0.1"],
                                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                           env=dict(os.environ, HOME=str(profile)))  # the browser's files
            driver = WebDriver(f"http://127.0.0.1:{port}")
            support.wait_for("chromedriver", lambda: _answers(driver), timeout=60)
            driver.start(browser)
            driver.go(f"http://{address}/")

            # The charts fill: three polls, two points in each chart (rates need two snapshots).
            page = support.wait_for("the dashboard's charts to have data",
                                    lambda: _filled(driver.run(READ_PAGE, WORKER_TYPE)), timeout=90, interval=0.5)
            print(f"dashboard: {page['polls']} polls, {page['chartPoints']} points, {page['canvases']} charts; "
                  f"{WORKER_TYPE}: {page['live']} live, {page['messages']} messages, {page['rate']}/s")

            # Figures on the page against /metrics: the same live actors and workers; a message
            # count no higher than a scrape taken after it was shown.
            _, _, text = support.fetch(f"http://{address}/metrics")
            live = support.sample(text, r'troupe_actors_live\{type="workload::Worker"\}')
            workers = len([line for line in text.splitlines() if line.startswith("troupe_worker_turns_total{")])
            messages = support.sample(text, r'troupe_actor_messages_total\{type="workload::Worker"\}')
            failures = []
            if live is None or number(page["live"]) != live or live != WORKERS:
                failures.append(f"live actors: the page shows {page['live']}, /metrics says {live}, expected {WORKERS}")
            if number(page["workers"]) != workers:
                failures.append(f"workers: the page shows {page['workers']}, /metrics has {workers}")
            if len(page["legend"]) != workers:
                failures.append(f"the utilisation chart has series {page['legend']}, not one per worker ({workers})")
            if messages is None or not 0 < number(page["messages"]) <= messages:
                failures.append(f"messages: the page shows {page['messages']}, /metrics says {messages} since")
            if number(page["rate"]) <= 0:
                failures.append(f"messages/s: the page shows {page['rate']} for a type that handles messages")
            if failures:
                raise RuntimeError("; ".join(failures))

            if linger > 0:
                time.sleep(linger)
            driver.screenshot(screenshot)
            print(f"dashboard: screenshot in {screenshot}")
        print("dashboard browser: OK")
        return 0
    except Exception as e:
        print(f"FAILED: {e}")
        if driver is not None and driver.session is not None:
            try:
                driver.screenshot(screenshot.with_name(screenshot.stem + "-failed.png"))
            except (OSError, RuntimeError):
                pass
        return 1
    finally:
        if driver is not None:
            driver.quit()
        if driver_process is not None:
            support.stop(driver_process)
        shutil.rmtree(profile, ignore_errors=True)


def _answers(driver):
    try:
        return driver.call("GET", "/status", timeout=2).get("ready", False)
    except (OSError, RuntimeError):
        return False


def _filled(page):
    return page if page["polls"] >= 3 and page["chartPoints"] >= 2 and page["canvases"] >= 2 and page["live"] else None


if __name__ == "__main__":
    sys.exit(main())
