"""Syncs that must fail, and how: a clear task error naming the line, file or URL, no new
repository version, and nothing stored under a wrong name. Also TLS and basic auth upstreams."""

from __future__ import annotations

import os
import ssl

import pytest
import trustme

from tests.conftest import free_port
from tests.file.helpers import digest, fetch, unique, version_paths, wait
from tests.file.upstream import random_files, start_upstream, write_tree

REMOTES = "/pulp/api/v3/remotes/file/file/"
REPOS = "/pulp/api/v3/repositories/file/file/"


def make_repo(api, url: str, **remote_fields) -> tuple[dict, dict]:
    remote = api.post(REMOTES, json={"name": unique("remote"), "url": url, **remote_fields})
    assert remote.status_code == 201, remote.text
    repo = api.post(REPOS, json={"name": unique("repo")})
    assert repo.status_code == 201, repo.text
    return remote.json(), repo.json()


def sync(file_server, api, repo: dict, remote: dict, **body) -> dict:
    return wait(file_server, api.post(repo["pulp_href"] + "sync/", json={"remote": remote["pulp_href"], **body}))


def assert_no_new_version(api, repo: dict) -> None:
    assert api.get(repo["pulp_href"]).json()["latest_version_href"].endswith("/versions/0/")


def stored(file_server, sha: str) -> bool:
    return (file_server.data_dir / "media" / "artifact" / sha[:2] / sha[2:]).exists()


def test_malformed_manifest_line_fails_naming_the_line(file_server, api, upstream):
    write_tree(upstream.root, {"a.txt": b"a\n"}, extra_lines=["b.txt,not-a-digest,12"])
    remote, repo = make_repo(api, upstream.url())
    task = sync(file_server, api, repo, remote)
    assert task["state"] == "failed"
    assert "line:2" in task["error"]["description"] and "b.txt,not-a-digest,12" in task["error"]["description"]
    assert_no_new_version(api, repo)


@pytest.mark.parametrize("wrong", ["digest", "size"])
def test_digest_or_size_mismatch_fails_naming_the_file(file_server, api, upstream, wrong):
    data = os.urandom(4000)
    (upstream.root / "dir").mkdir(parents=True)
    (upstream.root / "dir" / "evil.bin").write_bytes(data)
    claimed_sha = digest(b"something else") if wrong == "digest" else digest(data)
    claimed_size = len(data) if wrong == "digest" else len(data) + 1
    (upstream.root / "PULP_MANIFEST").write_text(f"dir/evil.bin,{claimed_sha},{claimed_size}\n")
    remote, repo = make_repo(api, upstream.url(), max_retries=1)
    task = sync(file_server, api, repo, remote)
    assert task["state"] == "failed", task
    assert "dir/evil.bin" in task["error"]["description"]
    assert_no_new_version(api, repo)
    assert not stored(file_server, digest(data)) and not stored(file_server, claimed_sha)
    assert api.get("/pulp/api/v3/artifacts/", params={"sha256": digest(data)}).json()["count"] == 0
    # The bad file was fetched max_retries + 1 times before giving up.
    assert upstream.requests.count("/dir/evil.bin") == 2


def test_missing_upstream_file_fails_naming_the_url_after_retries(file_server, api, upstream):
    write_tree(upstream.root, {"here.txt": b"here\n"})
    with open(upstream.root / "PULP_MANIFEST", "a") as manifest:
        manifest.write(f"gone.txt,{digest(b'x')},1\n")
    remote, repo = make_repo(api, upstream.url(), max_retries=2)
    task = sync(file_server, api, repo, remote)
    assert task["state"] == "failed"
    assert upstream.url("gone.txt") in task["error"]["description"] and "404" in task["error"]["description"]
    assert upstream.requests.count("/gone.txt") == 3
    assert_no_new_version(api, repo)


def test_connection_refused_fails_naming_the_url(file_server, api):
    url = f"http://127.0.0.1:{free_port()}/PULP_MANIFEST"
    remote, repo = make_repo(api, url, max_retries=1)
    task = sync(file_server, api, repo, remote)
    assert task["state"] == "failed" and url in task["error"]["description"]
    assert_no_new_version(api, repo)


def test_upstream_that_never_answers_fails_on_timeout(file_server, api, upstream):
    remote, repo = make_repo(api, upstream.url("hang/PULP_MANIFEST"), max_retries=0, total_timeout=1.0,
                             sock_read_timeout=1.0)
    task = sync(file_server, api, repo, remote)
    assert task["state"] == "failed"
    assert "timed out" in task["error"]["description"] and "hang/PULP_MANIFEST" in task["error"]["description"]


@pytest.fixture(scope="module")
def tls_upstream(tmp_path_factory):
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(context)
    up = start_upstream(tmp_path_factory.mktemp("tls-upstream"), ssl_context=context)
    write_tree(up.root, random_files(3, 700))
    yield up, ca.cert_pem.bytes().decode()
    up.stop()


def test_tls_upstream_with_ca_cert(file_server, api, tls_upstream):
    up, ca_pem = tls_upstream
    remote, repo = make_repo(api, up.url(), ca_cert=ca_pem)
    assert sync(file_server, api, repo, remote)["state"] == "completed"
    assert len(version_paths(api, repo)) == 3


def test_tls_upstream_untrusted_fails_unless_validation_is_off(file_server, api, tls_upstream):
    up, _ = tls_upstream
    remote, repo = make_repo(api, up.url(), max_retries=0)
    task = sync(file_server, api, repo, remote)
    assert task["state"] == "failed" and "certificate" in task["error"]["description"].lower()
    remote, repo = make_repo(api, up.url(), tls_validation=False)
    assert sync(file_server, api, repo, remote)["state"] == "completed"


def test_basic_auth_upstream(file_server, api, tmp_path):
    up = start_upstream(tmp_path / "auth-upstream", auth=("mirror", "s3cret"))
    try:
        write_tree(up.root, random_files(2, 100))
        remote, repo = make_repo(api, up.url(), max_retries=0)
        task = sync(file_server, api, repo, remote)
        assert task["state"] == "failed" and "401" in task["error"]["description"]
        remote, repo = make_repo(api, up.url(), username="mirror", password="s3cret")
        assert "s3cret" not in str(remote)  # secrets are never echoed
        assert sync(file_server, api, repo, remote)["state"] == "completed"
        assert len(version_paths(api, repo)) == 2
    finally:
        up.stop()


def test_on_demand_file_whose_upstream_vanished_answers_502(file_server, api, upstream):
    files = {"soon-gone.bin": os.urandom(1000)}
    write_tree(upstream.root, files)
    remote, repo = make_repo(api, upstream.url(), policy="on_demand", max_retries=0)
    assert sync(file_server, api, repo, remote)["state"] == "completed"
    publication = wait(file_server, api.post("/pulp/api/v3/publications/file/file/",
                                             json={"repository": repo["pulp_href"]}))
    assert publication["state"] == "completed"
    base = unique("dist")
    dist_task = wait(file_server, api.post("/pulp/api/v3/distributions/file/file/",
                                           json={"name": base, "base_path": base, "repository": repo["pulp_href"]}))
    distribution = api.get(dist_task["created_resources"][0]).json()
    os.unlink(upstream.root / "soon-gone.bin")
    response = fetch(file_server, distribution, "soon-gone.bin")
    assert response.status_code == 502
    assert api.get("/pulp/api/v3/artifacts/", params={"sha256": digest(files["soon-gone.bin"])}).json()["count"] == 0


def test_manifest_duplicates(file_server, api, upstream):
    """The same line twice is one file; one path with two digests is refused by name."""
    manifest = write_tree(upstream.root, {"twice.txt": b"twice\n", "other.txt": b"other\n"})
    first = manifest.read_text().splitlines()[0]
    manifest.write_text(manifest.read_text() + first + "\n")
    remote, repo = make_repo(api, upstream.url())
    assert sync(file_server, api, repo, remote)["state"] == "completed"
    assert version_paths(api, repo) == {"twice.txt": digest(b"twice\n"), "other.txt": digest(b"other\n")}

    # on_demand downloads nothing, so only the version check can catch the ambiguity.
    manifest.write_text(manifest.read_text() + f"other.txt,{digest(b'twice')},6\n")
    remote, repo = make_repo(api, upstream.url(), policy="on_demand")
    task = sync(file_server, api, repo, remote)
    assert task["state"] == "failed"
    assert "duplicate" in task["error"]["description"] and "other.txt" in task["error"]["description"]
    assert_no_new_version(api, repo)
