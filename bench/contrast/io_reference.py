#!/usr/bin/env python3
"""The io workload in real CPython, against troupe-contrast's own latency server: REQUESTS requests
(8-byte little-endian numbers; each answer is 8 bytes holding r * 2654435761 + 1 mod 2^64), made
sequentially on one connection, by a thread pool of CONCURRENCY threads (one blocking connection
each), and by CONCURRENCY asyncio tasks (one stream each). Prints one line per way:

    python-sequential SECS yes
    python-threads SECS yes
    python-asyncio SECS yes

(the last word: whether every answer came and was right). Usage: io_reference.py PORT REQUESTS
CONCURRENCY. The standard library only; troupe never needs Python.
"""
import asyncio
import socket
import struct
import sys
import time
from concurrent.futures import ThreadPoolExecutor

MASK = (1 << 64) - 1


def answer_of(request):
    return (request * 2654435761 + 1) & MASK


def read_exactly(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("closed by the server")
        data += chunk
    return data


def blocking_client(port, requests):
    """Asks `requests` one at a time on one blocking connection; returns how many were right."""
    right = 0
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # small requests: no Nagle delay
        for r in requests:
            sock.sendall(struct.pack("<Q", r))
            if struct.unpack("<Q", read_exactly(sock, 8))[0] == answer_of(r):
                right += 1
    return right


async def asyncio_client(port, requests):
    right = 0
    reader, writer = await asyncio.open_connection("127.0.0.1", port)  # asyncio sets TCP_NODELAY
    for r in requests:
        writer.write(struct.pack("<Q", r))
        await writer.drain()
        if struct.unpack("<Q", await reader.readexactly(8))[0] == answer_of(r):
            right += 1
    writer.close()
    await writer.wait_closed()
    return right


async def asyncio_all(port, stripes):
    return sum(await asyncio.gather(*(asyncio_client(port, s) for s in stripes)))


def main():
    port, count, concurrency = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    concurrency = max(1, min(concurrency, count))
    # Client c asks c, c + K, c + 2K, ... as the C++ models' clients do.
    stripes = [range(c, count, concurrency) for c in range(concurrency)]

    def report(name, run):
        start = time.perf_counter()
        right = run()
        secs = time.perf_counter() - start
        print(f"{name} {secs:.3f} {'yes' if right == count else 'no'}", flush=True)

    report("python-sequential", lambda: blocking_client(port, range(count)))
    with ThreadPoolExecutor(concurrency) as pool:
        report("python-threads", lambda: sum(pool.map(lambda s: blocking_client(port, s), stripes)))
    report("python-asyncio", lambda: asyncio.run(asyncio_all(port, stripes)))


if __name__ == "__main__":
    main()
