#!/usr/bin/env python3
"""Benchmark: pulpwood OSTree sync vs `ostree pull --mirror` from the same static server.

Builds (once, cached under /tmp; see ostree_fixture.py) an archive repository with the ostree
CLI, serves it with nginx (or an aiohttp static server if nginx is missing) on 127.0.0.1, then
measures in one run:

  1. `--syncs` pairs, each in the other order than the one before: `ostree pull --mirror
     --depth=-1` of both refs from the static server, and a pulpwood sync (immediate,
     depth -1) of the same repository into a fresh `pulpwood serve` (own data directory and
     database) through its REST API; the ratio is that of the medians;
  2. the worker processes' peak RSS (VmHWM), the highest over the syncs;
  3. a re-sync of the unchanged remote (last server);
  4. `ostree pull --mirror --depth=-1` from our distribution vs from the static server,
     in pairs, `--pulls` pairs (median of each side), each pair in the other order than the
     one before.

On a small machine one identical pull varies by a third from one run to the next, hence
pairs and medians. Before each timed step the machine settles (`settle`): dirty pages written
back, no autovacuum running. Every pull and sync writes into a directory of its own, and nothing is
deleted until the end: on ext4 without a journal, creating files within minutes of deleting
tens of thousands costs several times the system time (the allocator skips recently deleted
inodes), which would weigh on whichever run follows a deletion. For the same reason, start
a run five minutes or more after deleting a big tree (the previous run's work directory
included): the first pairs otherwise measure the file system, on both sides.

Usage: python benchmarks/bench_ostree_sync.py [--files 30000] [--mb 320] [--db sqlite|postgresql]
Targets: sync <= 1.0x ostree pull; re-sync <= 2 s; worker peak RSS <= 300 MB; pull from the
distribution <= 1.2x pull from the static server.
"""

from __future__ import annotations

import argparse
import datetime
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from ostree_fixture import DEVEL, MAIN, build_fixture, ostree


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ---------------------------------------------------------------- static server


class StaticServer:
    def __init__(self, root: Path, workdir: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
        if nginx:
            self.kind = "nginx"
            conf = workdir / "nginx.conf"
            conf.write_text(f"""
worker_processes 2;
pid {workdir}/nginx.pid;
error_log {workdir}/nginx-error.log;
daemon off;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000;
  client_body_temp_path {workdir}/body;
  proxy_temp_path {workdir}/proxy;
  fastcgi_temp_path {workdir}/fastcgi;
  uwsgi_temp_path {workdir}/uwsgi;
  scgi_temp_path {workdir}/scgi;
  types {{ }}
  default_type application/octet-stream;
  server {{
    listen 127.0.0.1:{self.port};
    root {root};
  }}
}}
""")
            self.process = subprocess.Popen([nginx, "-c", str(conf), "-p", str(workdir)],
                                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        else:
            self.kind = "aiohttp"
            code = ("import sys; from aiohttp import web; app = web.Application(); "
                    "app.router.add_static('/', sys.argv[1]); web.run_app(app, host='127.0.0.1', port=int(sys.argv[2]), print=None)")
            self.process = subprocess.Popen([sys.executable, "-c", code, str(root), str(self.port)])
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "config", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise SystemExit("static server did not come up")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def settle(timeout: float = 60.0) -> float:
    """Let what the previous step left behind finish before the next one is timed, whichever
    side it is: its dirty pages written back, and PostgreSQL's autovacuum of the rows a sync
    inserted (it starts within a minute of a sync and takes a core for seconds). Seconds waited."""
    start = time.monotonic()
    os.sync()
    while time.monotonic() - start < timeout:
        try:
            busy = subprocess.run(["psql", "postgresql://postgres@127.0.0.1:5432/postgres", "-Atc",
                                   "select count(*) from pg_stat_activity where backend_type = 'autovacuum worker'"],
                                  capture_output=True, text=True).stdout.strip()
        except FileNotFoundError:  # no PostgreSQL client here (a SQLite-only machine)
            break
        if busy in ("0", ""):
            break
        time.sleep(0.5)
    return time.monotonic() - start


def timed_pull(url: str, dest: Path) -> float:
    """One pull into `dest`, a directory that must not exist yet (see the module docstring)."""
    if dest.exists():
        raise SystemExit(f"{dest} exists; each pull gets a directory of its own")
    ostree("init", f"--repo={dest}", "--mode=archive")
    ostree("remote", "add", f"--repo={dest}", "--no-gpg-verify", "up", url)
    start = time.monotonic()
    ostree("pull", f"--repo={dest}", "--mirror", "--depth=-1", "up", MAIN, DEVEL)
    elapsed = time.monotonic() - start
    return elapsed


# -------------------------------------------------------------------- pulpwood


class Pulpwood:
    def __init__(self, workdir: Path, db: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("PULP_")}
        env.update(PULP_DATA_DIR=str(workdir / "data"), PULP_ADMIN_PASSWORD="admin",
                   PULP_CONTENT_ORIGIN=self.base)
        self.database = None
        if db == "postgresql":
            name = self.database = f"bench_{uuid.uuid4().hex[:10]}"
            subprocess.run(["psql", "postgresql://postgres@127.0.0.1:5432/postgres", "-qc", f"create database {name}"],
                           check=True)
            env["PULP_DATABASE_URL"] = f"postgresql://postgres@127.0.0.1:5432/{name}"
        self.log = open(workdir / "server.log", "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "pulpwood", "serve", "--bind", f"127.0.0.1:{self.port}", "--workers", "1"],
            env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        self.client = httpx.Client(base_url=self.base, auth=("admin", "admin"), timeout=120)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if self.client.get("/pulp/api/v3/status/").json()["online_workers"]:
                    return
            except (httpx.HTTPError, ValueError, KeyError):
                pass
            time.sleep(0.2)
        raise SystemExit("pulpwood did not come up; see server.log")

    def post(self, path: str, **body) -> dict:
        response = self.client.post(path, json=body)
        if response.status_code >= 400:
            raise SystemExit(f"POST {path} -> {response.status_code}: {response.text}")
        return response.json()

    def wait(self, task_href: str) -> dict:
        # pulp-cli polls once a second. Polling every 20 ms, as this did, took a quarter of a
        # core from the sync it measured (a task GET costs the server about 5 ms of CPU here):
        # poll 4 times a second, and take the end from the task's own finished_at (`ended`).
        while True:
            task = self.client.get(task_href).json()
            if task["state"] in ("completed", "failed", "canceled"):
                if task["state"] != "completed":
                    raise SystemExit(f"task {task['state']}: {task.get('error')}")
                return task
            time.sleep(0.25)

    def timed_task(self, path: str, **body) -> tuple[dict, float]:
        """POST a task, wait for it; (the task, seconds from the POST to its finished_at)."""
        posted = time.time()
        task = self.wait(self.post(path, **body)["task"])
        finished = datetime.datetime.fromisoformat(task["finished_at"].replace("Z", "+00:00")).timestamp()
        return task, finished - posted

    def worker_pids(self) -> list[int]:
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if os.getpgid(int(entry.name)) == self.process.pid and int(entry.name) != self.process.pid:
                pids.append(int(entry.name))
            del cmdline, stat
        return pids

    def peak_rss_mb(self) -> dict[int, float]:
        peaks = {}
        for pid in self.worker_pids():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        peaks[pid] = int(line.split()[1]) / 1024
            except OSError:
                pass
        return peaks

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
        if self.database:
            subprocess.run(["psql", "postgresql://postgres@127.0.0.1:5432/postgres", "-qc",
                            f"drop database if exists {self.database}"], capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=30000)
    parser.add_argument("--mb", type=int, default=320)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--concurrency", type=int, default=None)
    parser.add_argument("--syncs", type=int, default=3, help="sync / reference pull pairs in step 1 (median)")
    parser.add_argument("--pulls", type=int, default=8, help="pulls from each server in step 4 (median)")
    parser.add_argument("--keep", action="store_true", help="keep the pulpwood data dir")
    args = parser.parse_args()

    cache = Path(tempfile.gettempdir()) / f"pulpwood-bench-ostree-{args.files}-{args.mb}"
    repo = cache / "repo"
    build_fixture(repo, args.files, args.mb)
    objects = sum(1 for _ in (repo / "objects").rglob("*.*"))
    size = sum(p.stat().st_size for p in (repo / "objects").rglob("*.*"))
    print(f"fixture: {repo} — {objects} objects, {size / 1e6:.0f} MB on disk")

    workdir = Path(tempfile.mkdtemp(prefix="pulpwood-bench-"))
    static = StaticServer(repo, workdir)
    pulled: list[Path] = []

    def pull(url: str, side: str) -> float:
        pulled.append(workdir / f"pull-{len(pulled)}-{side}")
        settle()
        return timed_pull(url, pulled[-1])

    servers: list[Pulpwood] = []
    try:
        reference_times, sync_times, peaks = [], [], {}
        for number in range(max(args.syncs, 1)):
            for step in (("pull", "sync") if number % 2 == 0 else ("sync", "pull")):
                if step == "pull":
                    reference_times.append(pull(static.url, "reference"))
                    continue
                settle()
                server, repository, remote, done, elapsed = sync_fresh(workdir / f"server-{number}", args, static)
                servers.append(server)
                sync_times.append(elapsed)
                peaks.update(server.peak_rss_mb())
                print(f"pulpwood sync (immediate, depth -1): {elapsed:.2f} s "
                      f"(task {done['started_at']} -> {done['finished_at']}); created {done['created_resources']}")
                for report in done["progress_reports"]:
                    print(f"    {report['code']}: {report['done']}/{report['total']}")
                if number < args.syncs - 1:
                    server.stop()  # its files stay until the end: no deletion between runs
            print(f"ostree pull --mirror --depth=-1 from {static.kind}: {reference_times[-1]:.2f} s "
                  f"({'pull' if number % 2 == 0 else 'sync'} first)", flush=True)
        sync_time, pull_static = statistics.median(sync_times), statistics.median(reference_times)
        print(f"medians: sync {sync_time:.2f} s, ostree pull from {static.kind} {pull_static:.2f} s")
        print(f"worker peak RSS (VmHWM): {max(peaks.values()) if peaks else float('nan'):.0f} MB")

        again, resync_time = server.timed_task(repository["pulp_href"] + "sync/", remote=remote["pulp_href"])
        print(f"re-sync of the unchanged remote: {resync_time:.2f} s; created {again['created_resources']}")

        dist_task = server.post("/pulp/api/v3/distributions/ostree/ostree/", name="bench", base_path="bench",
                                repository=repository["pulp_href"])
        server.wait(dist_task["task"])
        dist_url = f"{server.base}/pulp/content/bench/"
        ours_times, static_times = [], []
        # Pairs in turn order (ours first, then the static server first, ...): the machine is
        # still settling after the sync (database checkpoints, writeback, autovacuum), and
        # whatever fades over the pairs would otherwise always weigh on the same side.
        for number in range(max(args.pulls, 1)):
            for side in (("ours", "static") if number % 2 == 0 else ("static", "ours")):
                if side == "ours":
                    ours_times.append(pull(dist_url, "ours"))
                    if number == 0:
                        ostree("fsck", f"--repo={pulled[-1]}")
                else:
                    static_times.append(pull(static.url, "static"))
            first = "ours first" if number % 2 == 0 else f"{static.kind} first"
            print(f"ostree pull --mirror --depth=-1 from our distribution: {ours_times[-1]:.2f} s, "
                  f"from {static.kind}: {static_times[-1]:.2f} s ({first})", flush=True)
        pull_ours, pull_static2 = statistics.median(ours_times), statistics.median(static_times)
        print(f"medians: ours {pull_ours:.2f} s, {static.kind} {pull_static2:.2f} s")

        print("\nresults")
        print(f"  sync / ostree pull           = {sync_time / pull_static:.2f}x  (target <= 1.0; medians of "
              f"{len(sync_times)})")
        print(f"  re-sync                      = {resync_time:.2f} s  (target <= 2 s)")
        print(f"  worker peak RSS              = {max(peaks.values()) if peaks else 0:.0f} MB  (target <= 300 MB)")
        print(f"  pull ours / pull static      = {pull_ours / pull_static2:.2f}x  (target <= 1.2; medians of "
              f"{len(ours_times)})")
    finally:
        for server in servers:
            server.stop()
        static.stop()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"kept {workdir}")


def sync_fresh(directory: Path, args, static: StaticServer):
    """A new `pulpwood serve` (own data and database), a repository and remote, one timed sync."""
    directory.mkdir()
    server = Pulpwood(directory, args.db)
    repository = server.post("/pulp/api/v3/repositories/ostree/ostree/", name="bench")
    remote_body = {"name": "bench", "url": static.url, "policy": "immediate", "depth": -1}
    if args.concurrency:
        remote_body["download_concurrency"] = args.concurrency
    remote = server.post("/pulp/api/v3/remotes/ostree/ostree/", **remote_body)
    done, elapsed = server.timed_task(repository["pulp_href"] + "sync/", remote=remote["pulp_href"])
    return server, repository, remote, done, elapsed


if __name__ == "__main__":
    main()
