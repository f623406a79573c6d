"""import_all / import_commits of tarballs made with the real `ostree` CLI, then pulled back
with the real `ostree` client from our distributions."""

from __future__ import annotations

import pytest

from .support import LocalRepo, Puller, completed, distribute, new_name, pull_and_check, run_task, upload_artifact

REPOS = "/pulp/api/v3/repositories/ostree/ostree/"


def create_repo(client, **fields) -> dict:
    response = client.post(REPOS, json={"name": new_name("repo"), **fields})
    assert response.status_code == 201, response.text
    return response.json()


def latest(client, repo: dict) -> dict:
    repo = client.get(repo["pulp_href"]).json()
    return client.get(repo["latest_version_href"]).json()


def import_all(server, client, repo: dict, tar, name: str = "repo"):
    artifact = upload_artifact(client, tar)
    return client.post(repo["pulp_href"] + "import_all/", json={"artifact": artifact, "repository_name": name})


def counts(version: dict, kind: str = "added") -> dict:
    return {k: v["count"] for k, v in version["content_summary"][kind].items()}


@pytest.mark.parametrize("compression", ["", "bz2", "xz"])
def test_import_all_compressions(server, client, two_ref_repo, tmp_path, compression):
    repo = create_repo(client)
    completed(server, client, import_all(server, client, repo, two_ref_repo.tarball(tmp_path / "r.tar", compression)))
    assert counts(latest(client, repo))["ostree.commit"] == 4


def test_import_all_then_pull(server, client, two_ref_repo, tmp_path):
    repo = create_repo(client)
    tar = two_ref_repo.tarball(tmp_path / "repo.tar.gz", "gz")
    task = completed(server, client, import_all(server, client, repo, tar))
    version = latest(client, repo)
    assert task["created_resources"] == [version["pulp_href"]]
    added = counts(version)
    assert added["ostree.refs"] == 2
    assert added["ostree.commit"] == 4
    assert added["ostree.config"] == 1
    assert added["ostree.summary"] == 1
    # compute_delta: one delta (superblock + at least one part) from stable's parent to its head.
    assert added["ostree.content"] >= 2

    url = distribute(server, client, repository=repo["pulp_href"])
    stable = list(reversed(two_ref_repo.history["stable"]))
    puller = pull_and_check(tmp_path, url, "stable", stable, depth=-1)
    assert puller.remote_refs() == ["rawhide", "stable"]
    summary = puller.remote_summary()
    assert "stable" in summary and "rawhide" in summary and "Version (ostree.commit.version): 1.2" in summary
    pull_and_check(tmp_path, url, "rawhide", two_ref_repo.history["rawhide"], depth=-1)
    # depth 0 takes just the head.
    shallow = Puller.create(tmp_path, url)
    shallow.pull("stable", depth=0)
    shallow.fsck()
    assert shallow.log("stable") == stable[:1]

    # A client with the parent can take the generated static delta to the head (non-archive
    # repositories use deltas listed in the summary).
    from .support import ostree

    bare = tmp_path / "bare"
    ostree("init", f"--repo={bare}", "--mode=bare-user")
    ostree("remote", "add", f"--repo={bare}", "--no-gpg-verify", "r", url)
    ostree("pull", f"--repo={bare}", "r", stable[1])
    ostree("pull", f"--repo={bare}", "--require-static-deltas", "r", "stable")
    ostree("fsck", f"--repo={bare}")
    assert ostree("rev-parse", f"--repo={bare}", "r:stable").stdout.strip() == stable[0]

    # Re-importing the same tarball changes nothing: no new version.
    completed(server, client, import_all(server, client, repo, tar))
    assert latest(client, repo)["number"] == version["number"]


def test_import_commits_child_of_stored_commit(server, client, tmp_path):
    first = LocalRepo.create(tmp_path / "one")
    head = first.commit("main", version="1")
    repo = create_repo(client)
    completed(server, client, import_all(server, client, repo, first.tarball(tmp_path / "one.tar")))

    # A fresh repository holding only children of `head` (the parent is not in the tarball).
    second = LocalRepo.create(tmp_path / "two")
    children = []
    parent = head
    for number in range(3):
        parent = second.commit("main", parent=parent, version=f"2.{number}")
        children.append(parent)
    artifact = upload_artifact(client, second.tarball(tmp_path / "two.tar"))
    task = completed(server, client, client.post(repo["pulp_href"] + "import_commits/", json={
        "artifact": artifact, "repository_name": "repo", "ref": "main"}))
    version = latest(client, repo)
    assert counts(version)["ostree.commit"] == 3
    assert counts(version)["ostree.refs"] == 1
    assert counts(version, "removed")["ostree.refs"] == 1
    assert task["created_resources"] == [version["pulp_href"]]

    # parent_commit links run down to the first import.
    commits = client.get("/pulp/api/v3/content/ostree/commits/", params={
        "repository_version": version["pulp_href"]}).json()["results"]
    by_checksum = {c["checksum"]: c for c in commits}
    by_href = {c["pulp_href"]: c["checksum"] for c in commits}
    assert by_href[by_checksum[children[0]]["parent_commit"]] == head
    assert by_href[by_checksum[children[2]]["parent_commit"]] == children[1]

    url = distribute(server, client, repository=repo["pulp_href"])
    pull_and_check(tmp_path, url, "main", list(reversed([head, *children])), depth=-1)
    # The delta the ostree CLI would ask for (parent -> head) is served.
    delta_paths = [c["relative_path"] for c in client.get("/pulp/api/v3/content/ostree/content/", params={
        "repository_version": version["pulp_href"]}).json()["results"]]
    assert any(p.endswith("/superblock") for p in delta_paths)
    import httpx

    for path in delta_paths:
        assert httpx.get(url + path).status_code == 200

    # Every version is self-consistent: its summary lists its refs, and they pull.
    expected = {1: [head], 2: list(reversed([head, *children]))}
    for number, commits_expected in expected.items():
        pinned = distribute(server, client, version=f"{repo['pulp_href']}versions/{number}/")
        puller = pull_and_check(tmp_path, pinned, "main", commits_expected)
        assert puller.remote_refs() == ["main"]
        assert commits_expected[0] in puller.remote_summary()


def test_import_without_compute_delta(server, client, two_ref_repo, tmp_path):
    repo = create_repo(client, compute_delta=False)
    completed(server, client, import_all(server, client, repo, two_ref_repo.tarball(tmp_path / "r.tar")))
    added = counts(latest(client, repo))
    assert added["ostree.commit"] == 4 and "ostree.content" not in added


def test_import_all_accepts_child_whose_parent_is_stored(server, client, tmp_path):
    first = LocalRepo.create(tmp_path / "one")
    head = first.commit("main")
    repo = create_repo(client)
    completed(server, client, import_all(server, client, repo, first.tarball(tmp_path / "one.tar")))
    second = LocalRepo.create(tmp_path / "two")
    child = second.commit("main", parent=head)
    second.commit("other")
    completed(server, client, import_all(server, client, repo, second.tarball(tmp_path / "two.tar")))
    url = distribute(server, client, repository=repo["pulp_href"])
    puller = pull_and_check(tmp_path, url, "main", [child, head])
    assert puller.remote_refs() == ["main", "other"]


def test_import_errors(server, client, tmp_path):
    repo = create_repo(client)
    not_tar = tmp_path / "plain.txt"
    not_tar.write_text("hello, this is not a tarball\n" * 20)
    response = import_all(server, client, repo, not_tar)
    assert response.status_code == 400
    assert response.json() == {"artifact": ["The artifact is not a tar archive file"]}

    local = LocalRepo.create(tmp_path / "src")
    local.commit("main")
    local.commit("main")
    tar = local.tarball(tmp_path / "src.tar")
    task = run_task(server, client, import_all(server, client, repo, tar, name="nope"))
    assert task["state"] == "failed"
    assert "An invalid path to the repository provided: nope" in task["error"]["description"]

    artifact = upload_artifact(client, tar)
    task = run_task(server, client, client.post(repo["pulp_href"] + "import_commits/", json={
        "artifact": artifact, "repository_name": "repo", "ref": "missing"}))
    assert task["state"] == "failed"
    assert "An invalid ref name in the repository was specified: missing" in task["error"]["description"]

    # The ref's history starts in the tarball: import_commits needs an existing parent.
    single = LocalRepo.create(tmp_path / "single")
    single.commit("solo")
    artifact = upload_artifact(client, single.tarball(tmp_path / "single.tar"))
    task = run_task(server, client, client.post(repo["pulp_href"] + "import_commits/", json={
        "artifact": artifact, "repository_name": "repo", "ref": "solo"}))
    assert task["state"] == "failed"
    assert "does not exist in the repository yet" in task["error"]["description"]

    # A child commit whose parent pulpwood does not have.
    orphan = LocalRepo.create(tmp_path / "orphan")
    orphan.commit("main", parent="ab" * 32)
    task = run_task(server, client, import_all(server, client, repo, orphan.tarball(tmp_path / "orphan.tar")))
    assert task["state"] == "failed"
    assert f"The parent commit '{'ab' * 32}' could not be loaded" in task["error"]["description"]

    # Missing required fields are 400s naming them.
    response = client.post(repo["pulp_href"] + "import_commits/", json={"artifact": artifact})
    assert response.status_code == 400
    assert set(response.json()) == {"repository_name", "ref"}
    # Nothing above made a version.
    assert latest(client, repo)["number"] == 0


def test_tar_with_path_traversal_is_refused(server, client, tmp_path):
    import io
    import tarfile

    evil = tmp_path / "evil.tar"
    with tarfile.open(evil, "w") as tar:
        data = b"[core]\nrepo_version=1\nmode=archive-z2\n"
        info = tarfile.TarInfo("repo/../../escaped")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    repo = create_repo(client)
    task = run_task(server, client, import_all(server, client, repo, evil))
    assert task["state"] == "failed"
    assert not list(server.data_dir.rglob("escaped"))
