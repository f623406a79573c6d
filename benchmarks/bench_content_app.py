#!/usr/bin/env python3
"""Benchmark: content app requests/s for small stored files (the `ostree pull` pattern).

Starts a real `pulpwood serve`, seeds one repository of N small files (rows inserted with the
test helper), serves it from a distribution, then GETs random files with C concurrent
keep-alive clients for T seconds; also measures 404 misses (a path that is neither a file nor
a directory, like the `.commitmeta` probes of ostree pull). Besides requests/s (bounded by the
Python client on a small machine) it prints the server process's CPU time per request.

Usage: python benchmarks/bench_content_app.py [--files 5000] [--seconds 5] [--concurrency 16]
       [--db sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process `pid` so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(server, paths: list[str], seconds: float, concurrency: int, expect: int) -> str:
    before = cpu_seconds(server.process.pid)
    count, elapsed = asyncio.run(hammer(server.base_url, paths, seconds, concurrency, expect))
    used = cpu_seconds(server.process.pid) - before
    return f"{count / elapsed:.0f} req/s ({count} requests), server CPU {used / count * 1e6:.0f} us/request"


async def hammer(base: str, paths: list[str], seconds: float, concurrency: int, expect: int) -> tuple[int, float]:
    done = 0
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        async def worker():
            nonlocal done
            while time.monotonic() < deadline:
                response = await client.get(random.choice(paths))
                assert response.status_code == expect, (response.status_code, response.text[:200])
                done += 1
        start = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return done, time.monotonic() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=5000)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--db", default="sqlite", choices=("sqlite", "postgresql"))
    args = parser.parse_args()
    os.environ["PULPWOOD_TEST_DB"] = args.db

    from tests.conftest import drop_created_databases, start_server
    from tests.content.conftest import Seeder

    workdir = Path(tempfile.mkdtemp(prefix="bench-content-"))
    server = start_server(workdir, workers=1)
    try:
        files = {f"objects/{i % 256:02x}/{i:062x}.filez": os.urandom(512 + i % 2048) for i in range(args.files)}
        seeded = time.monotonic()
        ids = Seeder(server).repository(files)
        Seeder(server).distribution("bench/repo", repository_id=ids["repository_id"])
        print(f"seeded {args.files} files in {time.monotonic() - seeded:.1f}s ({args.db})")
        prefix = "/pulp/content/bench/repo/"
        hits = [prefix + path for path in files]
        print(f"GET stored file (concurrency {args.concurrency}): "
              f"{measure(server, hits, args.seconds, args.concurrency, 200)}")
        misses = [prefix + path.replace(".filez", ".commitmeta") for path in list(files)[:500]]
        print(f"GET missing file (404): {measure(server, misses, args.seconds, args.concurrency, 404)}")
    finally:
        server.stop()
        drop_created_databases()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
