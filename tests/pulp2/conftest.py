"""Fixtures for the Pulp 2 API tests: one real server for the folder, a v2 client, task polling."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.conftest import start_server

FINAL = ("finished", "error", "canceled", "skipped")


class V2:
    """A client for /pulp/api/v2/ with helpers to follow call reports."""

    def __init__(self, server) -> None:
        self.server = server
        self.http = httpx.Client(base_url=server.base_url, auth=server.auth, timeout=60)
        self.root = "/pulp/api/v2/"

    def url(self, path: str) -> str:
        return self.root + path.lstrip("/")

    def get(self, path, **kw):
        return self.http.get(self.url(path), **kw)

    def post(self, path, json=None, **kw):
        return self.http.post(self.url(path), json=json, **kw)

    def put(self, path, json=None, **kw):
        return self.http.put(self.url(path), json=json, **kw)

    def delete(self, path, **kw):
        return self.http.delete(self.url(path), **kw)

    def wait(self, task_href: str, timeout: float = 120) -> dict:
        deadline = time.monotonic() + timeout
        task = None
        while time.monotonic() < deadline:
            task = self.http.get(task_href).json()
            if task["state"] in FINAL:
                return task
            time.sleep(0.1)
        raise AssertionError(f"task {task_href} did not finish: {task}\n{self.server.log()[-3000:]}")

    def follow(self, report: dict) -> list[dict]:
        """Every task of a call report, spawned tasks included, once they are all complete."""
        tasks = []
        pending = [t["_href"] for t in report["spawned_tasks"]]
        while pending:
            task = self.wait(pending.pop(0))
            tasks.append(task)
            pending.extend(t["_href"] for t in task["spawned_tasks"])
        return tasks

    def run(self, response: httpx.Response) -> list[dict]:
        assert response.status_code == 202, response.text
        return self.follow(response.json())


@pytest.fixture(scope="session")
def v2server(tmp_path_factory):
    server = start_server(tmp_path_factory.mktemp("pulp2"), workers=2)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def v2(v2server):
    client = V2(v2server)
    yield client
    client.http.close()


def assert_v2_error(response: httpx.Response, status: int, code: str | None = None) -> dict:
    """The v2 error body: the keys every client reads, with the request path as `_href`."""
    assert response.status_code == status, response.text
    body = response.json()
    for key in ("http_status", "error_message", "exception", "traceback", "error", "_href"):
        assert key in body, (key, body)
    assert body["http_status"] == status
    assert body["_href"] == response.request.url.path
    assert set(body["error"]) >= {"code", "description", "data", "sub_errors"}
    if code is not None:
        assert body["error"]["code"] == code, body
    return body
