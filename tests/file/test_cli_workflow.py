"""The whole file workflow driven by the real, unchanged pulp-cli against `pulpwood serve`."""

from __future__ import annotations

import os

from tests.file.helpers import digest, fetch, unique, version_paths
from tests.file.upstream import random_files, write_tree


def test_sync_publish_distribute_and_download_every_file(cli, api, file_server, upstream):
    files = {**random_files(6, 1500), "sub/dir/nested.txt": b"nested\n", "with,comma.txt": b"comma\n"}
    write_tree(upstream.root, files)
    remote, repo, dist = unique("remote"), unique("repo"), unique("dist")

    cli.json("file", "remote", "create", "--name", remote, "--url", upstream.url())
    cli.json("file", "repository", "create", "--name", repo, "--remote", remote)
    cli.run("file", "repository", "sync", "--name", repo)
    repository = cli.json("file", "repository", "show", "--name", repo)
    assert repository["latest_version_href"].endswith("/versions/1/")
    assert version_paths(api, repository) == {p: digest(d) for p, d in files.items()}

    publication = cli.json("file", "publication", "create", "--repository", repo)
    assert publication["repository_version"] == repository["latest_version_href"]
    assert publication["manifest"] == "PULP_MANIFEST"
    distribution = cli.json("file", "distribution", "create", "--name", dist, "--base-path", dist,
                            "--repository", repo)
    for path, data in files.items():
        response = fetch(file_server, distribution, path)
        assert response.status_code == 200, (path, response.status_code, response.text[:200])
        assert digest(response.content) == digest(data)
    manifest = fetch(file_server, distribution, "PULP_MANIFEST")
    assert manifest.status_code == 200
    assert sorted(manifest.text.splitlines()) == sorted(f"{p},{digest(d)},{len(d)}" for p, d in files.items())

    # The manifest was fetched once; every file once; a re-sync of an unchanged upstream
    # downloads only the manifest and makes no version.
    upstream.requests.clear()
    cli.run("file", "repository", "sync", "--name", repo)
    assert cli.json("file", "repository", "show", "--name", repo)["latest_version_href"] == \
        repository["latest_version_href"]
    assert upstream.requests == ["/PULP_MANIFEST"]
    task = api.get("/pulp/api/v3/tasks/", params={"name": "pulp_file.app.tasks.synchronizing.synchronize",
                                                   "limit": 1}).json()["results"][0]
    assert task["state"] == "completed" and task["created_resources"] == []
    codes = {r["code"] for r in task["progress_reports"]}
    assert {"sync.downloading.metadata", "sync.downloading.artifacts", "associating.content"} <= codes


def test_mirror_sync_drops_what_upstream_deleted(cli, api, upstream):
    files = random_files(4, 500)
    write_tree(upstream.root, files)
    remote, repo = unique("remote"), unique("repo")
    cli.json("file", "remote", "create", "--name", remote, "--url", upstream.url())
    cli.json("file", "repository", "create", "--name", repo, "--remote", remote)
    cli.run("file", "repository", "sync", "--name", repo)

    gone = sorted(files)[0]
    os.unlink(upstream.root / gone)
    del files[gone]
    write_tree(upstream.root, files)
    cli.run("file", "repository", "sync", "--name", repo)  # additive: still there
    repository = cli.json("file", "repository", "show", "--name", repo)
    assert gone in version_paths(api, repository)

    cli.run("file", "repository", "sync", "--name", repo, "--mirror")
    repository = cli.json("file", "repository", "show", "--name", repo)
    assert version_paths(api, repository) == {p: digest(d) for p, d in files.items()}
    task = api.get("/pulp/api/v3/tasks/", params={"name": "pulp_file.app.tasks.synchronizing.synchronize",
                                                   "limit": 1}).json()["results"][0]
    version_href, publication_href = task["created_resources"]
    assert version_href == repository["latest_version_href"]
    assert "/publications/file/file/" in publication_href


def test_upload_plain_and_chunked(cli, api, tmp_path):
    repo = unique("repo")
    cli.json("file", "repository", "create", "--name", repo)
    small, big = tmp_path / "small.txt", tmp_path / "big.bin"
    small.write_bytes(b"plain upload\n")
    big.write_bytes(os.urandom(3500))

    plain = cli.json("file", "content", "upload", "--file", str(small), "--relative-path", "docs/small.txt")
    assert plain["relative_path"] == "docs/small.txt" and plain["sha256"] == digest(small.read_bytes())
    chunked = cli.json("file", "content", "upload", "--file", str(big), "--relative-path", "blobs/big.bin",
                       "--chunk-size", "1000", "--repository", repo)
    assert chunked["sha256"] == digest(big.read_bytes())
    repository = cli.json("file", "repository", "show", "--name", repo)
    assert version_paths(api, repository) == {"blobs/big.bin": digest(big.read_bytes())}
    # Uploading identical content again returns the same unit, never an error.
    again = cli.json("file", "content", "upload", "--file", str(small), "--relative-path", "docs/small.txt")
    assert again["pulp_href"] == plain["pulp_href"]


def test_content_add_remove_and_version_destroy(cli, api, upstream):
    files = random_files(3, 300)
    write_tree(upstream.root, files)
    remote, repo, other = unique("remote"), unique("repo"), unique("repo")
    cli.json("file", "remote", "create", "--name", remote, "--url", upstream.url())
    cli.json("file", "repository", "create", "--name", repo, "--remote", remote)
    cli.json("file", "repository", "create", "--name", other)
    cli.run("file", "repository", "sync", "--name", repo)
    first = sorted(files)[0]

    cli.run("file", "repository", "content", "add", "--repository", other, "--relative-path", first,
            "--sha256", digest(files[first]))
    cli.run("file", "repository", "content", "remove", "--repository", repo, "--relative-path", first,
            "--sha256", digest(files[first]))
    assert set(version_paths(api, cli.json("file", "repository", "show", "--name", other))) == {first}
    repository = cli.json("file", "repository", "show", "--name", repo)
    assert first not in version_paths(api, repository)

    versions = cli.json("file", "repository", "version", "list", "--repository", repo)
    assert [v["number"] for v in versions] == [2, 1, 0]
    cli.run("file", "repository", "version", "destroy", "--repository", repo, "--version", "1")
    versions = cli.json("file", "repository", "version", "list", "--repository", repo)
    assert [v["number"] for v in versions] == [2, 0]
    assert set(version_paths(api, repository)) == set(files) - {first}


def test_on_demand_sync_then_first_download(cli, api, file_server, upstream):
    files = random_files(3, 2048)
    write_tree(upstream.root, files)
    remote, repo, dist = unique("remote"), unique("repo"), unique("dist")
    cli.json("file", "remote", "create", "--name", remote, "--url", upstream.url(), "--policy", "on_demand")
    cli.json("file", "repository", "create", "--name", repo, "--remote", remote, "--autopublish")
    upstream.requests.clear()
    cli.run("file", "repository", "sync", "--name", repo)
    assert upstream.requests == ["/PULP_MANIFEST"]  # nothing downloaded yet
    contents = api.get("/pulp/api/v3/content/file/files/", params={
        "repository_version": cli.json("file", "repository", "show", "--name", repo)["latest_version_href"]}).json()
    assert contents["count"] == 3 and all(c["artifact"] is None for c in contents["results"])

    distribution = cli.json("file", "distribution", "create", "--name", dist, "--base-path", dist,
                            "--repository", repo)
    path = sorted(files)[0]
    response = fetch(file_server, distribution, path)
    assert response.status_code == 200 and response.content == files[path]
    assert api.get("/pulp/api/v3/artifacts/", params={"sha256": digest(files[path])}).json()["count"] == 1
    manifest = fetch(file_server, distribution, "PULP_MANIFEST")
    assert sorted(manifest.text.splitlines()) == sorted(f"{p},{digest(d)},{len(d)}" for p, d in files.items())
