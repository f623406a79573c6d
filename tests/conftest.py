"""Shared fixtures: which database, a real `pulpwood serve` process, clients for it.

The whole suite runs once per database: PULPWOOD_TEST_DB=sqlite (default) or postgresql.
For PostgreSQL every server gets a fresh database on 127.0.0.1:5432.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

ADMIN_PASSWORD = "pulpwood-test-admin"
TEST_DB = os.environ.get("PULPWOOD_TEST_DB", "sqlite")
PG_ADMIN_URL = os.environ.get("PULPWOOD_TEST_PG", "postgresql://postgres@127.0.0.1:5432")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


_CREATED_DATABASES: list[str] = []


def _create_pg_database() -> str:
    name = f"pulpwood_test_{uuid.uuid4().hex[:12]}"
    subprocess.run(["psql", PG_ADMIN_URL + "/postgres", "-q", "-c", f"CREATE DATABASE {name}"],
                   check=True, capture_output=True)
    _CREATED_DATABASES.append(name)
    return f"{PG_ADMIN_URL}/{name}"


def pytest_sessionfinish(session, exitstatus) -> None:
    drop_created_databases()


def drop_created_databases() -> None:
    """Drop the database each server got: a run (or a benchmark using these helpers) leaves
    none of them behind. FORCE: a server process still winding down would otherwise keep its
    database (PostgreSQL >= 13; older ones get the plain statement)."""
    while _CREATED_DATABASES:
        name = _CREATED_DATABASES.pop()
        for statement in (f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", f"DROP DATABASE IF EXISTS {name}"):
            if subprocess.run(["psql", PG_ADMIN_URL + "/postgres", "-q", "-c", statement],
                              capture_output=True).returncode == 0:
                break


def database_url(tmp: Path) -> str | None:
    """A fresh database for one server (None = the embedded SQLite default in the data dir)."""
    if TEST_DB == "postgresql":
        return _create_pg_database()
    return None


def server_env(data_dir: Path, db_url: str | None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULP_")}
    env.update({"PULP_DATA_DIR": str(data_dir), "PULP_ADMIN_PASSWORD": ADMIN_PASSWORD})
    if db_url:
        env["PULP_DATABASE_URL"] = db_url
    env.update(extra)
    return env


@dataclass
class Server:
    base_url: str
    data_dir: Path
    env: dict
    process: subprocess.Popen
    log_path: Path
    auth: tuple[str, str] = ("admin", ADMIN_PASSWORD)
    extra: dict = field(default_factory=dict)

    @property
    def api(self) -> str:
        return self.base_url + "/pulp/api/v3/"

    def client(self, **kwargs) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, auth=self.auth, timeout=60, **kwargs)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_task(self, task_href: str, timeout: float = 120) -> dict:
        with self.client() as client:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                task = client.get(task_href).json()
                if task["state"] in ("completed", "failed", "canceled", "skipped"):
                    return task
                time.sleep(0.1)
        raise AssertionError(f"task {task_href} did not finish in {timeout}s")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                # The whole session (serve and its workers): a worker must not outlive its test.
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=15)


def start_server(tmp: Path, workers: int = 2, **settings: str) -> Server:
    data_dir = tmp / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = server_env(data_dir, database_url(tmp), **settings)
    log_path = tmp / "server.log"
    log = open(log_path, "wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "pulpwood", "serve", "--bind", f"127.0.0.1:{port}", "--workers", str(workers)],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    server = Server(base_url=f"http://127.0.0.1:{port}", data_dir=data_dir, env=env, process=process,
                    log_path=log_path)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early:\n{server.log()}")
        try:
            status = httpx.get(server.api + "status/", timeout=2).json()
            if len(status["online_workers"]) >= workers:
                return server
        except (httpx.HTTPError, ValueError, KeyError):
            pass
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"server did not come up:\n{server.log()}")


@pytest.fixture(scope="session")
def server(tmp_path_factory) -> Server:
    """One real `pulpwood serve` (2 workers) shared by the end-to-end tests of a session."""
    srv = start_server(tmp_path_factory.mktemp("server"))
    yield srv
    srv.stop()


@pytest.fixture
def client(server):
    with server.client() as c:
        yield c


class PulpCLI:
    """The real pulp-cli from PyPI, unchanged, with its own config and cache dirs."""

    def __init__(self, server: Server, home: Path) -> None:
        self.server = server
        self.env = {**os.environ, "XDG_CONFIG_HOME": str(home / "config"), "XDG_CACHE_HOME": str(home / "cache"),
                    "HOME": str(home)}

    def run(self, *args: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess:
        command = [str(Path(sys.executable).with_name("pulp")), "--base-url", self.server.base_url,
                   "--username", self.server.auth[0], "--password", self.server.auth[1], "--format", "json",
                   *args]
        result = subprocess.run(command, env=self.env, capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"pulp {' '.join(args)} failed ({result.returncode}):\n"
                                 f"stdout: {result.stdout}\nstderr: {result.stderr}")
        return result

    def json(self, *args: str):
        out = self.run(*args).stdout.strip()
        return json.loads(out) if out else None


@pytest.fixture
def pulp_cli(server, tmp_path) -> PulpCLI:
    return PulpCLI(server, tmp_path)
