#!/usr/bin/env python3
"""Benchmark: requests/s of the core lists `GET tasks/?limit=100` and `GET artifacts/?limit=100`.

Starts a real `pulpwood serve`, fills 10,000 finished tasks and 10,000 artifacts (rows inserted
directly through the models for speed; every artifact has a real small file in storage), then
GETs each list with C concurrent keep-alive clients for T seconds. Finally it counts the SQL
statements one list request issues (in-process, same database) to show lists cost a fixed
number of queries, not one per row.

Usage: python benchmarks/bench_core_lists.py [--postgres] [--rows 10000] [--seconds 10] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
BATCH = 1000


def settings_of(server):
    from pulpwood.settings import Settings

    return Settings(data_dir=server.data_dir, database_url=server.env.get("PULP_DATABASE_URL"))


async def fill(server, rows: int) -> None:
    from pulpwood.models import Artifact, Task
    from pulpwood.runtime import build_runtime

    runtime = build_runtime(settings_of(server))
    now = dt.datetime.now(dt.UTC)
    try:
        for start in range(0, rows, BATCH):
            async with runtime.write_session() as session:
                async with session.begin():
                    tasks, artifacts = [], []
                    for i in range(start, min(start + BATCH, rows)):
                        stored = runtime.storage.store_bytes(f"bench artifact {i} {uuid.uuid4()}".encode() * 8)
                        artifacts.append(Artifact(file=stored.file, size=stored.size, **stored.digests))
                        repo = f"/pulp/api/v3/repositories/file/file/{uuid.uuid4()}/"
                        tasks.append(Task(
                            name="pulp_file.app.tasks.synchronizing.synchronize", state="completed",
                            logging_cid=uuid.uuid4().hex, kwargs={"repository_pk": repo},
                            exclusive_resources=[repo], shared_resources=["pdrn:default"],
                            reserved_resources_record=[repo], started_at=now, finished_at=now, unblocked_at=now,
                            progress_reports=[{"message": "Downloading Artifacts", "code": "sync.downloading.artifacts",
                                               "state": "completed", "total": 10, "done": 10, "suffix": None}],
                            created_resources=[f"{repo}versions/1/"],
                        ))
                    session.add_all(tasks + artifacts)
    finally:
        await runtime.close()


async def hammer(server, path: str, seconds: float, concurrency: int) -> tuple[int, float, list[float]]:
    done, latencies = 0, []
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=server.base_url, auth=server.auth, limits=limits, timeout=60) as client:
        assert (await client.get(path)).status_code == 200  # warm the credential cache
        deadline = time.monotonic() + seconds

        async def worker():
            nonlocal done
            while time.monotonic() < deadline:
                began = time.monotonic()
                response = await client.get(path)
                assert response.status_code == 200, response.text[:300]
                assert len(response.json()["results"]) == 100
                latencies.append(time.monotonic() - began)
                done += 1

        start = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return done, time.monotonic() - start, latencies


async def count_queries(server, path: str) -> int:
    """SQL statements issued by one list request, served in-process from the same database."""
    from sqlalchemy import event

    from pulpwood.server import create_app
    from pulpwood.runtime import build_runtime

    runtime = build_runtime(settings_of(server))
    app = create_app(runtime)
    statements: list[str] = []
    event.listen(runtime.engine.sync_engine, "before_cursor_execute",
                 lambda conn, cursor, sql, *rest: statements.append(sql))
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench", auth=server.auth) as client:
            await client.get(path)  # authenticates once (credentials are cached afterwards)
            statements.clear()
            response = await client.get(path)
            assert response.status_code == 200
    finally:
        await runtime.close()
    return len([s for s in statements if not s.lstrip().upper().startswith(("BEGIN", "PRAGMA"))])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", action="store_true", help="use PostgreSQL on 127.0.0.1:5432")
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    os.environ["PULPWOOD_TEST_DB"] = "postgresql" if args.postgres else "sqlite"

    from tests.conftest import drop_created_databases, start_server

    server = start_server(Path(tempfile.mkdtemp(prefix="bench-core-")), workers=1)
    try:
        began = time.monotonic()
        asyncio.run(fill(server, args.rows))
        database = "PostgreSQL" if args.postgres else "SQLite"
        print(f"filled {args.rows} tasks + {args.rows} artifacts in {time.monotonic() - began:.1f}s ({database})")
        for path in ("/pulp/api/v3/tasks/?limit=100", "/pulp/api/v3/artifacts/?limit=100"):
            count, elapsed, latencies = asyncio.run(hammer(server, path, args.seconds, args.concurrency))
            p95 = statistics.quantiles(latencies, n=20)[-1] * 1000
            queries = asyncio.run(count_queries(server, path))
            print(f"GET {path}: {count / elapsed:.1f} req/s, mean {statistics.mean(latencies) * 1000:.0f} ms, "
                  f"p95 {p95:.0f} ms ({count} requests, concurrency {args.concurrency}); "
                  f"{queries} SQL statements per request")
    finally:
        server.stop()
        drop_created_databases()


if __name__ == "__main__":
    main()
