"""Fixtures for the OSTree sync tests: one pulpwood server and one upstream per module."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import pytest

from tests.conftest import start_server
from tests.ostree_sync.support import build_upstream, serve_directory

API = "/pulp/api/v3/"


@pytest.fixture(scope="module")
def pulp(tmp_path_factory):
    srv = start_server(tmp_path_factory.mktemp("ostree-sync-server"))
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def upstreams(tmp_path_factory):
    """A served directory of upstream repos: `good/` (2 refs x 3 commits) and variants of it."""
    root = tmp_path_factory.mktemp("upstreams")
    good = build_upstream(root / "good")
    with serve_directory(root) as url:
        yield Upstreams(root, url, good)


class Upstreams:
    def __init__(self, root: Path, url: str, good) -> None:
        self.root, self.url, self.good = root, url, good

    def variant(self, name: str) -> Path:
        """A fresh copy of the good upstream served at `<url><name>/`."""
        target = self.root / name
        shutil.copytree(self.good.path, target, symlinks=True)
        return target


class Api:
    """Thin helpers over the REST API of a running server."""

    def __init__(self, server, client) -> None:
        self.server, self.client = server, client

    def post(self, path: str, **body) -> dict:
        response = self.client.post(path if path.startswith("/") else API + path, json=body)
        assert response.status_code in (200, 201, 202), response.text
        return response.json()

    def get(self, path: str, **params) -> dict:
        response = self.client.get(path if path.startswith("/") else API + path, params=params)
        assert response.status_code == 200, response.text
        return response.json()

    def repository(self, **fields) -> dict:
        return self.post("repositories/ostree/ostree/", name=f"repo-{uuid.uuid4().hex[:8]}", **fields)

    def remote(self, url: str, **fields) -> dict:
        return self.post("remotes/ostree/ostree/", name=f"remote-{uuid.uuid4().hex[:8]}", url=url, **fields)

    def sync(self, repository: dict, remote: dict, **body) -> dict:
        task = self.post(repository["pulp_href"] + "sync/", remote=remote["pulp_href"], **body)
        return self.server.wait_task(task["task"], timeout=180)

    def distribute(self, repository: dict) -> str:
        base_path = f"dist-{uuid.uuid4().hex[:8]}"
        task = self.post("distributions/ostree/ostree/", name=base_path, base_path=base_path,
                         repository=repository["pulp_href"])
        assert self.server.wait_task(task["task"])["state"] == "completed"
        return f"{self.server.base_url}/pulp/content/{base_path}/"

    def latest(self, repository: dict) -> dict:
        repo = self.get(repository["pulp_href"])
        return self.get(repo["latest_version_href"])

    def counts(self, version: dict, section: str = "present") -> dict[str, int]:
        return {t: v["count"] for t, v in version["content_summary"][section].items()}


@pytest.fixture(scope="module")
def api(pulp):
    with pulp.client() as client:
        yield Api(pulp, client)
