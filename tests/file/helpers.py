"""Small helpers shared by the file tests."""

from __future__ import annotations

import hashlib
import uuid

import httpx


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def content_url(server, distribution: dict, relative_path: str) -> str:
    base = distribution["base_url"]
    if base.startswith("/"):
        base = server.base_url + base
    return base + relative_path


def fetch(server, distribution: dict, relative_path: str) -> httpx.Response:
    return httpx.get(content_url(server, distribution, relative_path), timeout=30, follow_redirects=True)


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def wait(server, response: httpx.Response) -> dict:
    assert response.status_code == 202, response.text
    return server.wait_task(response.json()["task"])


def version_paths(api, repository: dict, number: int | None = None) -> dict[str, str]:
    """relative_path -> sha256 of the files in a repository version (latest by default)."""
    repo = api.get(repository["pulp_href"]).json()
    version = repo["latest_version_href"] if number is None else f"{repo['versions_href']}{number}/"
    out, offset = {}, 0
    while True:
        page = api.get("/pulp/api/v3/content/file/files/",
                       params={"repository_version": version, "limit": 1000, "offset": offset}).json()
        out.update({c["relative_path"]: c["sha256"] for c in page["results"]})
        offset += len(page["results"])
        if not page["next"]:
            return out
