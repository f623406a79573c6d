"""Seed 000, as written: create repository `foo` and remote `bar`, sync, follow the task, all
with the seed's own client (httpie). The upstream is a repository made with the `ostree` CLI,
served by a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import functools
import http.server as http_server
import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.conftest import start_server

from .support import LocalRepo, distribute, ostree, pull_and_check

HTTP = str(Path(sys.executable).with_name("http"))


@pytest.fixture(scope="module")
def upstream(tmp_path_factory):
    """An archive repository with two refs and history, plus its summary, served over HTTP."""
    base = tmp_path_factory.mktemp("upstream")
    repo = LocalRepo.create(base)
    for number in range(3):
        repo.commit("stable", version=f"1.{number}")
    repo.commit("rawhide", version="2.0")
    ostree("summary", "-u", f"--repo={repo.path}")
    handler = functools.partial(QuietHandler, directory=str(base))
    httpd = http_server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield repo, f"http://127.0.0.1:{httpd.server_address[1]}/{repo.path.name}/"
    httpd.shutdown()
    httpd.server_close()


class QuietHandler(http_server.SimpleHTTPRequestHandler):
    # Keep-alive, like the nginx that serves real OSTree repositories.
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def seed_server(tmp_path_factory):
    """A fresh server of its own, so the seed's fixed names `foo` and `bar` are free."""
    server = start_server(tmp_path_factory.mktemp("seed-server"))
    yield server
    server.stop()


def http(server, *args: str) -> dict:
    """Run httpie exactly as the seed does (plus credentials) and decode its JSON answer."""
    result = subprocess.run([HTTP, "--ignore-stdin", "--check-status", "-b", "-a", ":".join(server.auth), *args],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr + result.stdout
    return json.loads(result.stdout)


def test_seed_000_sync(seed_server, upstream, tmp_path):
    server, (repo, url) = seed_server, upstream
    base_addr = server.base_url

    created = http(server, "POST", f"{base_addr}/pulp/api/v3/repositories/ostree/ostree/", "name=foo")
    repo_href = created["pulp_href"]
    assert repo_href.startswith("/pulp/api/v3/repositories/ostree/ostree/")

    remote = http(server, "POST", f"{base_addr}/pulp/api/v3/remotes/ostree/ostree/", "name=bar", f"url={url}")
    remote_href = remote["pulp_href"]
    assert remote_href.startswith("/pulp/api/v3/remotes/ostree/ostree/")

    task_href = http(server, "POST", f"{base_addr}{repo_href}sync/", f"remote={remote_href}")["task"]
    assert task_href.startswith("/pulp/api/v3/tasks/")
    server.wait_task(task_href, timeout=180)
    task = http(server, "GET", f"{base_addr}{task_href}")

    assert task["state"] == "completed", task["error"]
    assert task["error"] is None
    assert task["name"] == "pulp_ostree.app.tasks.synchronizing.synchronize"
    assert task["worker"].startswith("/pulp/api/v3/workers/")
    assert task["reserved_resources_record"] == [repo_href, remote_href]
    assert task["child_tasks"] == [] and task["parent_task"] is None and task["task_group"] is None
    for key in ("finished_at", "started_at", "pulp_created", "logging_cid"):
        assert task[key]
    codes = {report["code"]: report for report in task["progress_reports"]}
    assert {"sync.downloading.artifacts", "associating.content"} <= set(codes)
    assert all(report["state"] == "completed" for report in task["progress_reports"])

    version_href = f"{repo_href}versions/1/"
    assert task["created_resources"] == [version_href]
    version = http(server, "GET", f"{base_addr}{version_href}")
    present = {kind: entry["count"] for kind, entry in version["content_summary"]["present"].items()}
    # Depth 0: each ref's head; objects as the upstream has them.
    assert present["ostree.refs"] == 2
    assert present["ostree.commit"] == 2
    assert present["ostree.config"] == 1
    assert present["ostree.summary"] == 1
    assert present["ostree.object"] > 0

    # What was synced is served and pulls cleanly.
    with server.client() as client:
        dist_url = distribute(server, client, repository=repo_href)
    history = repo.history
    pull_and_check(tmp_path, dist_url, "stable", [history["stable"][-1]], depth=-1)
    pull_and_check(tmp_path, dist_url, "rawhide", [history["rawhide"][-1]], depth=0)

    # Re-syncing the unchanged upstream creates no new version.
    task_href = http(server, "POST", f"{base_addr}{repo_href}sync/", f"remote={remote_href}")["task"]
    again = server.wait_task(task_href, timeout=180)
    assert again["state"] == "completed", again["error"]
    assert again["created_resources"] == []
    assert http(server, "GET", f"{base_addr}{repo_href}")["latest_version_href"] == version_href


def test_cli_sync_with_ref_filters(seed_server, upstream, tmp_path):
    """pulp-cli-ostree's own syncing-and-publishing scenario, against the same upstream."""
    import httpx

    from tests.conftest import PulpCLI

    cli, (repo, url) = PulpCLI(seed_server, tmp_path), upstream
    cli.run("ostree", "remote", "create", "--name", "filtered", "--url", url,
            "--include-refs", '["stable"]', "--exclude-refs", '["rawhide"]')
    cli.run("ostree", "remote", "update", "--name", "filtered",
            "--include-refs", '["rawhide"]', "--exclude-refs", '["stable"]')
    remote = cli.json("ostree", "remote", "show", "--name", "filtered")
    assert (remote["include_refs"], remote["exclude_refs"]) == (["rawhide"], ["stable"])
    cli.run("ostree", "repository", "create", "--name", "filtered", "--remote", "filtered")
    cli.run("ostree", "repository", "sync", "--name", "filtered")
    refs = cli.json("ostree", "repository", "ref", "list", "--repository", "filtered")
    assert [r["name"] for r in refs] == ["rawhide"]

    dist = cli.json("ostree", "distribution", "create", "--name", "filtered", "--base-path", "filtered",
                    "--repository", "filtered")
    content = f"{seed_server.base_url}/pulp/content/filtered/"
    assert httpx.get(content + "refs/heads/rawhide").status_code == 200
    assert httpx.get(content + "refs/heads/stable").status_code == 404
    pull_and_check(tmp_path, content, "rawhide", [repo.history["rawhide"][-1]])

    cli.run("ostree", "distribution", "update", "--name", "filtered", "--repository", "filtered", "--version", "0")
    shown = cli.json("ostree", "distribution", "show", "--name", "filtered")
    assert shown["repository_version"] == f"{dist['repository']}versions/0/"
    assert httpx.get(content + "refs/heads/rawhide").status_code == 404
