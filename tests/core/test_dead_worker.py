"""A worker killed with SIGKILL mid-task: its task fails saying so, its locks are freed,
and the queue moves on (with a short WORKER_TTL so this takes seconds)."""

from __future__ import annotations

import os
import signal
import time
import uuid

import pytest

from tests.conftest import start_server
from tests.core.conftest import sleep_task, wait_done, wait_state

TTL = 6


@pytest.fixture(scope="module")
def short_ttl_server(tmp_path_factory):
    srv = start_server(tmp_path_factory.mktemp("deadworker"), PULPWOOD_TEST_TASKS="1", PULP_WORKER_TTL=str(TTL))
    yield srv
    srv.stop()


def test_killed_worker_task_fails_and_queue_moves_on(short_ttl_server):
    resource = f"/pulp/api/v3/repositories/file/file/{uuid.uuid4()}/"
    with short_ttl_server.client() as api:
        doomed = sleep_task(api, 120, exclusive=[resource])
        successor = sleep_task(api, 0.2, exclusive=[resource])
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            task = api.get(doomed).json()
            if task["state"] == "running" and task["progress_reports"]:
                break
            time.sleep(0.1)
        pid = int(task["progress_reports"][0]["suffix"])
        worker_name = api.get(task["worker"]).json()["name"]
        assert worker_name.startswith(f"{pid}@")
        assert api.get(successor).json()["state"] == "waiting"

        killed_at = time.monotonic()
        os.kill(pid, signal.SIGKILL)
        failed = wait_state(api, doomed, ("failed",), timeout=60)
        assert time.monotonic() - killed_at < 60
        assert "died" in failed["error"]["description"] and worker_name in failed["error"]["description"]
        assert failed["error"]["reason"] == "Worker has gone missing."
        assert failed["finished_at"] is not None
        assert failed["progress_reports"][0]["state"] == "failed"

        # The lock is free: the next task on the resource runs on the surviving worker.
        done = wait_done(api, successor, timeout=30)
        assert done["state"] == "completed"
        assert done["worker"] != task["worker"]
        online = [w["name"] for w in api.get("/pulp/api/v3/status/").json()["online_workers"]]
        assert worker_name not in online
        missing = api.get("/pulp/api/v3/workers/", params={"missing": "true"}).json()
        assert worker_name in [w["name"] for w in missing["results"]]
        # `pulpwood serve` replaced the dead worker.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            online = api.get("/pulp/api/v3/status/").json()["online_workers"]
            if len(online) == 2:
                break
            time.sleep(0.5)
        assert len(online) == 2 and worker_name not in [w["name"] for w in online]
