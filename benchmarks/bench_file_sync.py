#!/usr/bin/env python3
"""Benchmark: file syncs from a loopback aiohttp static server through a real `pulpwood serve`.

Two immediate-policy syncs into fresh repositories:
  1. many small files (default 10,000 x 1 KiB);
  2. a few large files (default 50 x 20 MB);
then a re-sync of the unchanged small tree. Prints files/s, MB/s and the worker processes'
peak RSS (VmHWM from /proc/<pid>/status).

Usage: python benchmarks/bench_file_sync.py [--small 10000] [--small-size 1024] [--large 50]
       [--large-mb 20] [--db sqlite|postgresql] [--concurrency 10]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

AUTH = ("admin", "bench-admin")
SERVER_SCRIPT = """
import sys
from aiohttp import web
app = web.Application()
app.router.add_static("/", sys.argv[1])
web.run_app(app, host="127.0.0.1", port=int(sys.argv[2]), print=None, access_log=None)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_tree(root: Path, count: int, size: int) -> int:
    """`count` random files of `size` bytes and their PULP_MANIFEST; returns total bytes."""
    root.mkdir(parents=True, exist_ok=True)
    lines, total = [], 0
    for i in range(count):
        data = os.urandom(size)
        path = f"d{i % 100:02d}/f{i:06d}.bin"
        (root / path).parent.mkdir(exist_ok=True)
        (root / path).write_bytes(data)
        lines.append(f"{path},{hashlib.sha256(data).hexdigest()},{size}")
        total += size
    (root / "PULP_MANIFEST").write_text("\n".join(lines) + "\n")
    return total


def wait_http(url: str, timeout: float = 60, **kwargs) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            return httpx.get(url, timeout=2, **kwargs)
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not come up")


def worker_pids(serve_pid: int) -> list[int]:
    children = Path(f"/proc/{serve_pid}/task/{serve_pid}/children").read_text().split()
    pids = []
    for pid in map(int, children):
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
        if b"worker" in cmdline:
            pids.append(pid)
    return pids


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def client_baseline(url_base: str, paths: list[str], concurrency: int) -> float:
    """Files/s of a bare aiohttp client fetching the same files: the upstream's own ceiling."""
    import asyncio

    import aiohttp

    async def go() -> float:
        semaphore = asyncio.Semaphore(concurrency)
        async with aiohttp.ClientSession() as session:
            async def one(path: str) -> None:
                async with semaphore, session.get(f"{url_base}/{path}") as response:
                    await response.read()
            start = time.monotonic()
            await asyncio.gather(*(one(p) for p in paths))
            return len(paths) / (time.monotonic() - start)

    return asyncio.run(go())


def run_sync(client: httpx.Client, url: str, concurrency: int) -> tuple[float, dict]:
    remote = client.post("/pulp/api/v3/remotes/file/file/", json={
        "name": f"bench-{uuid.uuid4().hex[:8]}", "url": url, "download_concurrency": concurrency}).json()
    repo = client.post("/pulp/api/v3/repositories/file/file/", json={"name": f"bench-{uuid.uuid4().hex[:8]}"}).json()
    return resync(client, repo, remote)


def resync(client: httpx.Client, repo: dict, remote: dict) -> tuple[float, dict]:
    start = time.monotonic()
    task_href = client.post(repo["pulp_href"] + "sync/", json={"remote": remote["pulp_href"]}).json()["task"]
    while True:
        task = client.get(task_href).json()
        if task["state"] in ("completed", "failed", "canceled"):
            break
        time.sleep(0.1)
    elapsed = time.monotonic() - start
    if task["state"] != "completed":
        raise SystemExit(f"sync {task['state']}: {task.get('error')}")
    task["_repo"], task["_remote"] = repo, remote
    return elapsed, task


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--small-size", type=int, default=1024)
    parser.add_argument("--large", type=int, default=50)
    parser.add_argument("--large-mb", type=int, default=20)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--concurrency", type=int, default=10)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-file-"))
    processes: list[subprocess.Popen] = []
    database = None
    try:
        print(f"generating trees under {work} ...", flush=True)
        small_bytes = make_tree(work / "up" / "small", args.small, args.small_size)
        large_bytes = make_tree(work / "up" / "large", args.large, args.large_mb * 1000 * 1000)

        up_port = free_port()
        processes.append(subprocess.Popen([sys.executable, "-c", SERVER_SCRIPT, str(work / "up"), str(up_port)]))
        wait_http(f"http://127.0.0.1:{up_port}/small/PULP_MANIFEST")

        env = {k: v for k, v in os.environ.items() if not k.startswith("PULP_")}
        env.update(PULP_DATA_DIR=str(work / "data"), PULP_ADMIN_PASSWORD=AUTH[1])
        if args.db == "postgresql":
            name = database = f"bench_file_{uuid.uuid4().hex[:8]}"
            subprocess.run(["psql", "postgresql://postgres@127.0.0.1:5432/postgres", "-qc", f"CREATE DATABASE {name}"],
                           check=True)
            env["PULP_DATABASE_URL"] = f"postgresql://postgres@127.0.0.1:5432/{name}"
        port = free_port()
        serve = subprocess.Popen([sys.executable, "-m", "pulpwood", "serve", "--bind", f"127.0.0.1:{port}",
                                  "--workers", "2"], env=env, stdout=open(work / "serve.log", "wb"),
                                 stderr=subprocess.STDOUT)
        processes.append(serve)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while len(wait_http(base + "/pulp/api/v3/status/").json().get("online_workers", [])) < 2:
            if time.monotonic() > deadline:
                raise SystemExit("workers did not come up")
            time.sleep(0.3)

        with httpx.Client(base_url=base, auth=AUTH, timeout=120) as client:
            up = f"http://127.0.0.1:{up_port}"
            paths = [line.split(",")[0] for line in (work / "up" / "small" / "PULP_MANIFEST").read_text().split()]
            print(f"baseline: a bare aiohttp client fetches the small files at "
                  f"{client_baseline(up + '/small', paths, args.concurrency):.0f} files/s", flush=True)
            small_s, small_task = run_sync(client, f"{up}/small/PULP_MANIFEST", args.concurrency)
            print(f"small: {args.small} files x {args.small_size} B in {small_s:.1f} s -> "
                  f"{args.small / small_s:.0f} files/s, {small_bytes / small_s / 1e6:.1f} MB/s", flush=True)
            large_s, _ = run_sync(client, f"{up}/large/PULP_MANIFEST", args.concurrency)
            print(f"large: {args.large} files x {args.large_mb} MB in {large_s:.1f} s -> "
                  f"{args.large / large_s:.1f} files/s, {large_bytes / large_s / 1e6:.1f} MB/s", flush=True)
            again_s, again = resync(client, small_task["_repo"], small_task["_remote"])
            print(f"re-sync of the unchanged small tree: {again_s:.2f} s, created {again['created_resources']}")
        peaks = {pid: peak_rss_mb(pid) for pid in worker_pids(serve.pid)}
        print("worker peak RSS (VmHWM): " + ", ".join(f"pid {p}: {mb:.0f} MB" for p, mb in peaks.items()))
    finally:
        for process in reversed(processes):
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(work, ignore_errors=True)
        if database:
            subprocess.run(["psql", "postgresql://postgres@127.0.0.1:5432/postgres", "-qc",
                            f"DROP DATABASE IF EXISTS {database}"], check=False)


if __name__ == "__main__":
    main()
