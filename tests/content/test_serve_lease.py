"""On PostgreSQL a content app answers the files it holds from memory while it has a serve
lease (content/fast/lease.py), and every writer announces its commit before it answers its
client (queries/serve_changes.py). What a user must see: a change is served by the next
request, also when the content app cannot hear of it; a change made by hand is served a
moment later.

The content app's connections are told apart by their application_name; stopping one of
their PostgreSQL backends (SIGSTOP) is how a test takes the database away from one part of
the content app without touching the rest.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
import uuid

import httpx
import pytest

from tests.conftest import TEST_DB
from tests.content.conftest import run_db

pytestmark = pytest.mark.skipif(TEST_DB != "postgresql",
                                reason="SQLite content apps see commits in the WAL index; there is no lease")

PREFIX = "/pulp/content/"
FAST_PATH, LEASE = "pulpwood content fast path", "pulpwood content lease"


def _backends(server, application_name: str) -> list[int]:
    # psql, not run_db: run_db announces as writers do, which would drop what is held.
    result = subprocess.run(
        ["psql", server.env["PULP_DATABASE_URL"], "-tA", "-c",
         f"SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
         f"AND application_name = '{application_name}'"], check=True, capture_output=True, text=True)
    return [int(line) for line in result.stdout.split()]


@contextlib.contextmanager
def _stopped(pids: list[int]):
    """The PostgreSQL backends `pids` stopped: what uses them waits until the block ends."""
    assert pids
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGCONT)


def _point(server, base_path: str, version_id) -> float:
    """Move the distribution to another version the way a writer does (commit, announce);
    returns how long the writer took."""
    from sqlalchemy import update

    from pulpwood.models import Distribution

    async def fn(runtime):
        async with runtime.write_session() as session:
            async with session.begin():
                await session.execute(update(Distribution).where(Distribution.base_path == base_path)
                                      .values(repository_version_id=version_id))

    started = time.monotonic()
    run_db(server, fn)  # announces, as the API and the tasks do
    return time.monotonic() - started


@pytest.fixture
def two_versions(seed, content_server):
    """A distribution of version 1 of a repository of 100 files; version 2 changes `config`."""
    run = uuid.uuid4().hex
    files = {f"objects/{n:02x}/{run}.filez": f"object {n} of {run}".encode() for n in range(100)}
    first = seed.repository({**files, "config": b"version 1 " + run.encode()})
    other = seed.repository({"config": b"version 2 " + run.encode()})
    config_1 = first["content_ids"][-1]
    version_2 = seed.add_version(first["repository_id"], add=other["content_ids"], remove=[config_1])
    base_path = f"lease/{run}"
    seed.distribution(base_path, repository_version_id=first["version_id"])
    return {"base_path": base_path, "files": files, "versions": (first["version_id"], version_2),
            "config": (b"version 1 " + run.encode(), b"version 2 " + run.encode())}


def _held_in_memory(http, repo: dict) -> None:
    """Read every file often enough for the content app to hold the version (TargetFiles)."""
    for _ in range(2):
        for path, data in repo["files"].items():
            response = http.get(PREFIX + repo["base_path"] + "/" + path)
            assert response.status_code == 200 and response.content == data
    time.sleep(0.5)  # the load runs in the background


def _config(http, repo: dict) -> bytes:
    response = http.get(PREFIX + repo["base_path"] + "/config")
    assert response.status_code == 200
    return response.content


def test_held_files_are_served_without_the_database(content_server, two_versions):
    repo = two_versions
    with httpx.Client(base_url=content_server.base_url, timeout=5) as http:
        _held_in_memory(http, repo)
        _config(http, repo)
        with _stopped(_backends(content_server, FAST_PATH)):
            for path, data in repo["files"].items():
                response = http.get(PREFIX + repo["base_path"] + "/" + path)
                assert response.status_code == 200 and response.content == data


def test_every_announced_change_is_served_by_the_next_request(content_server, two_versions):
    repo = two_versions
    with httpx.Client(base_url=content_server.base_url, timeout=30) as http:
        _held_in_memory(http, repo)
        for turn in range(8):
            _point(content_server, repo["base_path"], repo["versions"][turn % 2])
            assert _config(http, repo) == repo["config"][turn % 2], turn
            assert _config(http, repo) == repo["config"][turn % 2], turn


def test_a_content_app_that_cannot_hear_stops_answering_from_memory(content_server, two_versions):
    """Its lease connection stopped, the content app neither hears the writer's epoch nor
    renews: the writer waits for its lease to run out, and the content app asks the database
    again from then on. Once it can hear again it answers from memory again."""
    repo = two_versions
    with httpx.Client(base_url=content_server.base_url, timeout=30) as http:
        _held_in_memory(http, repo)
        assert _config(http, repo) == repo["config"][0]
        with _stopped(_backends(content_server, LEASE)):
            took = _point(content_server, repo["base_path"], repo["versions"][1])
            assert _config(http, repo) == repo["config"][1]
        assert took < 10, "a writer must not hang on a content app that does not answer"
        assert _config(http, repo) == repo["config"][1]
        time.sleep(1.5)  # a renewal
        _held_in_memory(http, repo)  # version 2 now
        assert _config(http, repo) == repo["config"][1]
        with _stopped(_backends(content_server, FAST_PATH)):
            http.timeout = httpx.Timeout(5)
            for path, data in list(repo["files"].items())[:20]:
                assert http.get(PREFIX + repo["base_path"] + "/" + path).content == data


def test_a_change_made_by_hand_is_served_a_moment_later(content_server, two_versions):
    """No writer announces an UPDATE typed into psql; the table's trigger NOTIFYs."""
    repo = two_versions
    with httpx.Client(base_url=content_server.base_url, timeout=30) as http:
        _held_in_memory(http, repo)
        assert _config(http, repo) == repo["config"][0]
        subprocess.run(["psql", content_server.env["PULP_DATABASE_URL"], "-q", "-c",
                        f"UPDATE core_distribution SET repository_version_id = '{repo['versions'][1]}' "
                        f"WHERE base_path = '{repo['base_path']}'"], check=True, capture_output=True)
        deadline = time.monotonic() + 5
        while _config(http, repo) != repo["config"][1]:
            assert time.monotonic() < deadline, "the content app still serves what it knew"
            time.sleep(0.05)
