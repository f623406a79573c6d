"""File distributions serve publications only (spec pulpcore §3.7), driven through the real API."""

from __future__ import annotations

import httpx
import pytest

PREFIX = "/pulp/content/"


@pytest.fixture(scope="module")
def api(content_server):
    with content_server.client() as client:
        yield client


@pytest.fixture(scope="module")
def http(content_server):
    with httpx.Client(base_url=content_server.base_url, timeout=30) as client:
        yield client


def _done(server, response) -> dict:
    assert response.status_code == 202, response.text
    task = server.wait_task(response.json()["task"])
    assert task["state"] == "completed", task
    return task


def _upload(server, api, repo_href: str, path: str, data: bytes) -> None:
    _done(server, api.post("/pulp/api/v3/content/file/files/", data={"relative_path": path, "repository": repo_href},
                           files={"file": (path.rsplit("/", 1)[-1], data)}))


def _publish(server, api, **target) -> str:
    task = _done(server, api.post("/pulp/api/v3/publications/file/file/", json=target))
    return next(h for h in task["created_resources"] if "/publications/" in h)


def _distribute(server, api, name: str, **target) -> None:
    _done(server, api.post("/pulp/api/v3/distributions/file/file/", json={"name": name, "base_path": name, **target}))


def test_file_distribution_follows_publications(content_server, api, http):
    repo = api.post("/pulp/api/v3/repositories/file/file/", json={"name": "pubrepo"}).json()
    _upload(content_server, api, repo["pulp_href"], "a/one.txt", b"first")
    _distribute(content_server, api, "pubdist", repository=repo["pulp_href"])
    # No publication yet: every file path is 404.
    assert http.get(PREFIX + "pubdist/a/one.txt").status_code == 404

    first_pub = _publish(content_server, api, repository=repo["pulp_href"])
    response = http.get(PREFIX + "pubdist/a/one.txt")
    assert response.status_code == 200 and response.content == b"first"
    manifest = http.get(PREFIX + "pubdist/PULP_MANIFEST")
    assert manifest.status_code == 200 and b"a/one.txt" in manifest.content
    listing = http.get(PREFIX + "pubdist/")
    assert '<a href="./PULP_MANIFEST">' in listing.text and '<a href="./a/">' in listing.text

    _upload(content_server, api, repo["pulp_href"], "two.txt", b"second")
    assert http.get(PREFIX + "pubdist/two.txt").status_code == 404  # version 2 not published yet
    _publish(content_server, api, repository=repo["pulp_href"])
    assert http.get(PREFIX + "pubdist/two.txt").content == b"second"

    _distribute(content_server, api, "pubpinned", publication=first_pub)
    assert http.get(PREFIX + "pubpinned/a/one.txt").content == b"first"
    assert http.get(PREFIX + "pubpinned/two.txt").status_code == 404

    _distribute(content_server, api, "pubversion", repository_version=repo["versions_href"] + "1/")
    assert http.get(PREFIX + "pubversion/a/one.txt").content == b"first"
    assert http.get(PREFIX + "pubversion/two.txt").status_code == 404


def test_publication_read_many_times_answers_like_the_general_path(content_server, api, http):
    """Past TargetFiles.LOAD_AFTER lookups the publication's files are held in memory; the
    answers stay those of the general path, and a distribution moved to another publication
    serves that one from the next request on."""
    files = {"a.txt": b"alpha", "dir/b.txt": b"beta", "c.iso": b"gamma" * 1000}
    repo = api.post("/pulp/api/v3/repositories/file/file/", json={"name": "pubmany"}).json()
    for path, data in files.items():
        _upload(content_server, api, repo["pulp_href"], path, data)
    _distribute(content_server, api, "pubmany", publication=_publish(content_server, api, repository=repo["pulp_href"]))

    def stable(response):
        return {k: v for k, v in response.headers.items() if k not in ("date", "correlation-id")}

    for _ in range(30):
        for path, data in files.items():
            plain = http.get(PREFIX + "pubmany/" + path)
            general = http.get(PREFIX + "pubmany/" + path, headers={"If-None-Match": '"no-such-tag"'})
            assert plain.status_code == 200 and plain.content == data
            assert stable(plain) == stable(general)
    assert http.get(PREFIX + "pubmany/PULP_MANIFEST").status_code == 200
    assert http.get(PREFIX + "pubmany/nothing.txt").status_code == 404

    _upload(content_server, api, repo["pulp_href"], "a.txt", b"alpha, again")
    second = _publish(content_server, api, repository=repo["pulp_href"])
    dist = api.get("/pulp/api/v3/distributions/file/file/", params={"name": "pubmany"}).json()["results"][0]
    _done(content_server, api.patch(dist["pulp_href"], json={"publication": second}))
    assert http.get(PREFIX + "pubmany/a.txt").content == b"alpha, again"
    assert http.get(PREFIX + "pubmany/dir/b.txt").content == b"beta"
