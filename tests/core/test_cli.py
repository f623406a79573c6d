"""The real pulp-cli (0.39.5, unchanged) against the core endpoints."""

from __future__ import annotations

import hashlib
import os
import time

from tests.core.conftest import sleep_task, wait_done, wait_state


def test_status_worker_and_repository_lists(cli):
    status = cli.json("status")
    assert status["database_connection"]["connected"] is True
    assert len(status["online_workers"]) == 2
    workers = cli.json("worker", "list")
    assert len(workers) >= 2 and all(w["name"] for w in workers)
    assert isinstance(cli.json("repository", "list"), list)


def test_artifact_upload_direct_and_chunked(cli, api, tmp_path):
    direct = tmp_path / "direct.bin"
    direct.write_bytes(os.urandom(3000))
    artifact = cli.json("artifact", "upload", "--file", str(direct))
    assert artifact["sha256"] == hashlib.sha256(direct.read_bytes()).hexdigest()

    chunked = tmp_path / "chunked.bin"
    chunked.write_bytes(os.urandom(10_500))
    artifact = cli.json("artifact", "upload", "--file", str(chunked), "--chunk-size", "4000")
    assert artifact["sha256"] == hashlib.sha256(chunked.read_bytes()).hexdigest()
    assert artifact["size"] == 10_500
    commits = api.get("/pulp/api/v3/tasks/", params={"name": "pulpcore.app.tasks.upload.commit",
                                                     "created_resources": artifact["pulp_href"]}).json()
    assert commits["count"] == 1
    # Uploading the same file again finds the existing artifact.
    again = cli.run("artifact", "upload", "--file", str(chunked), "--chunk-size", "4000")
    assert "already exists" in again.stderr
    assert cli.json("artifact", "list", "--sha256", artifact["sha256"])[0]["pulp_href"] == artifact["pulp_href"]


def test_orphan_cleanup_removes_unused_artifacts(cli, api, tmp_path):
    blob = tmp_path / "orphan.bin"
    blob.write_bytes(os.urandom(500))
    artifact = cli.json("artifact", "upload", "--file", str(blob))
    task = cli.json("orphan", "cleanup", "--protection-time", "0")
    assert task["state"] == "completed" and task["name"] == "pulpcore.app.tasks.orphan.orphan_cleanup"
    assert api.get(artifact["pulp_href"]).status_code == 404


def test_task_list_show_and_cancel(cli, api):
    done = wait_done(api, sleep_task(api, 0.1))
    shown = cli.json("task", "show", "--href", done["pulp_href"])
    assert shown["pulp_href"] == done["pulp_href"] and shown["state"] == "completed"
    listed = cli.json("task", "list", "--name", "pulpwood.app.tasks.test.sleep", "--state", "completed",
                      "--limit", "500")
    assert done["pulp_href"] in [t["pulp_href"] for t in listed]

    running = sleep_task(api, 60, exclusive=["/pulp/api/v3/test-resource/cli/"])
    wait_state(api, running, ("running",))
    started = time.monotonic()
    cli.run("task", "cancel", "--href", running)
    assert api.get(running).json()["state"] == "canceled"
    assert time.monotonic() - started < 15
    canceled = cli.json("task", "list", "--state", "canceled", "--limit", "500")
    assert running in [t["pulp_href"] for t in canceled]
