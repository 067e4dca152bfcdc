#!/usr/bin/env python3
"""The cpu workload in real CPython: sum of i*i for i < n, for the 20 values n = N .. N+19, run
sequentially, on a thread pool and on a process pool. Prints one line per way:

    python-sequential SECS yes
    python-threads SECS yes
    python-processes SECS yes

(the last word: whether the total matched the closed form). Usage: cpu_reference.py N WORKERS
This is a reference for the GIL model only; troupe never needs Python.
"""
import sys
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor


def sum_of_squares(n):
    total = 0
    for i in range(n):
        total += i * i
    return total


def main():
    first, workers = int(sys.argv[1]), int(sys.argv[2])
    values = list(range(first, first + 20))
    expected = sum((n - 1) * n * (2 * n - 1) // 6 for n in values)

    def report(name, run):
        start = time.perf_counter()
        total = run()
        secs = time.perf_counter() - start
        print(f"{name} {secs:.3f} {'yes' if total == expected else 'no'}", flush=True)

    report("python-sequential", lambda: sum(map(sum_of_squares, values)))
    with ThreadPoolExecutor(workers) as pool:
        report("python-threads", lambda: sum(pool.map(sum_of_squares, values)))
    with ProcessPoolExecutor(workers) as pool:
        pool.submit(int).result()  # start the processes outside the timing
        report("python-processes", lambda: sum(pool.map(sum_of_squares, values)))


if __name__ == "__main__":
    main()
