"""modify/: refs, commits and configs added and removed with what they reach; every new version
gets a summary listing exactly its refs, checked with the real `ostree` client."""

from __future__ import annotations

import pytest

from .support import Puller, completed, distribute, new_name, ostree, pull_and_check, upload_artifact

API = "/pulp/api/v3/"
REPOS = API + "repositories/ostree/ostree/"


def create_repo(client) -> dict:
    return client.post(REPOS, json={"name": new_name("repo")}).json()


def latest(client, repo: dict) -> dict:
    return client.get(client.get(repo["pulp_href"]).json()["latest_version_href"]).json()


def counts(version: dict, kind: str = "added") -> dict:
    return {k: v["count"] for k, v in version["content_summary"][kind].items()}


def units(client, kind: str, version: dict, **params) -> list[dict]:
    return client.get(f"{API}content/ostree/{kind}/", params={"repository_version": version["pulp_href"],
                                                                "limit": 1000, **params}).json()["results"]


def modify(server, client, repo: dict, **body) -> dict:
    return completed(server, client, client.post(repo["pulp_href"] + "modify/", json=body))


@pytest.fixture(scope="module")
def source(server, two_ref_repo, tmp_path_factory):
    """A repository holding the imported two-ref fixture (stable: 3 commits, rawhide: 1)."""
    tmp = tmp_path_factory.mktemp("modify-src")
    with server.client() as client:
        repo = create_repo(client)
        artifact = upload_artifact(client, two_ref_repo.tarball(tmp / "r.tar"))
        completed(server, client, client.post(repo["pulp_href"] + "import_all/", json={
            "artifact": artifact, "repository_name": "repo"}))
        version = latest(client, repo)
        return {"repo": repo, "version": version,
                "refs": {r["name"]: r for r in units(client, "refs", version)},
                "commits": {c["checksum"]: c for c in units(client, "commits", version)},
                "config": units(client, "configs", version)[0],
                "objects": units(client, "objects", version)}


def test_add_ref_commit_and_config(server, client, source, two_ref_repo, tmp_path):
    ref = source["refs"]["rawhide"]
    repo = create_repo(client)
    task = modify(server, client, repo, add_content_units=[ref["pulp_href"], source["config"]["pulp_href"]])
    version = latest(client, repo)
    assert task["created_resources"] == [version["pulp_href"]]
    added = counts(version)
    # The ref brings its commit, the commit all of its objects; a summary is written.
    assert (added["ostree.refs"], added["ostree.commit"], added["ostree.config"], added["ostree.summary"]) == (1, 1, 1, 1)
    assert added["ostree.object"] == len(source["commits"][ref["checksum"]]["objs"])
    url = distribute(server, client, repository=repo["pulp_href"])
    puller = pull_and_check(tmp_path, url, "rawhide", [ref["checksum"]], depth=0)
    assert puller.remote_refs() == ["rawhide"]


def test_add_ref_without_config_gets_default_config(server, client, source, tmp_path):
    ref = source["refs"]["stable"]
    repo = create_repo(client)
    modify(server, client, repo, add_content_units=[ref["pulp_href"]])
    version = latest(client, repo)
    assert counts(version)["ostree.config"] == 1
    url = distribute(server, client, repository=repo["pulp_href"])
    # Only the head is in this version: a full-depth pull stops there without error.
    puller = pull_and_check(tmp_path, url, "stable", [ref["checksum"]], depth=-1)
    assert puller.remote_refs() == ["stable"]


def test_remove_ref_and_commit_keeps_shared_objects(server, client, source, tmp_path):
    repo = create_repo(client)
    modify(server, client, repo, base_version=source["version"]["pulp_href"])
    copy = latest(client, repo)
    assert counts(copy, "present") == counts(source["version"], "present")

    rawhide = source["refs"]["rawhide"]
    modify(server, client, repo, remove_content_units=[rawhide["pulp_href"]])
    version = latest(client, repo)
    removed = counts(version, "removed")
    # The ref, its commit, the objects only it used, and the old summary (replaced).
    assert (removed["ostree.refs"], removed["ostree.commit"], removed["ostree.summary"]) == (1, 1, 1)
    remaining = {o["pulp_href"] for o in units(client, "objects", version)}
    stable_objs = {o for c in source["commits"].values() if c["checksum"] != rawhide["checksum"] for o in c["objs"]}
    assert stable_objs <= remaining
    assert remaining == stable_objs

    url = distribute(server, client, repository=repo["pulp_href"])
    puller = Puller.create(tmp_path, url)
    assert puller.remote_refs() == ["stable"]
    failed = ostree("pull", f"--repo={puller.path}", "--mirror", "r", "rawhide", check=False)
    assert failed.returncode != 0 and "rawhide" in failed.stderr

    # Adding and removing plain objects changes nothing (as in Pulp): no new version.
    obj = source["objects"][0]["pulp_href"]
    before = latest(client, repo)["number"]
    task = modify(server, client, repo, add_content_units=[obj])
    assert task["created_resources"] == []
    assert latest(client, repo)["number"] == before

    # "*" empties the repository.
    modify(server, client, repo, remove_content_units=["*"])
    assert counts(latest(client, repo), "present") == {}


def test_modify_from_base_version(server, client, source):
    repo = create_repo(client)
    modify(server, client, repo, add_content_units=[source["refs"]["stable"]["pulp_href"]])
    modify(server, client, repo, add_content_units=[source["refs"]["rawhide"]["pulp_href"]])
    first = client.get(repo["versions_href"] + "1/").json()
    modify(server, client, repo, base_version=first["pulp_href"], add_content_units=[])
    version = latest(client, repo)
    assert version["number"] == 3
    assert [r["name"] for r in units(client, "refs", version)] == ["stable"]


def test_content_filters(server, client, source):
    version = source["version"]
    stable = source["refs"]["stable"]
    assert [r["name"] for r in units(client, "refs", version, name="stable")] == ["stable"]
    assert [r["name"] for r in units(client, "refs", version, name__regex="^raw")] == ["rawhide"]
    assert [r["name"] for r in units(client, "refs", version, name__iregex="^STA")] == ["stable"]
    assert [r["name"] for r in units(client, "refs", version, checksum=stable["checksum"])] == ["stable"]
    commits = units(client, "commits", version, checksum=stable["checksum"])
    assert [c["pulp_href"] for c in commits] == [stable["commit"]]
    obj = source["objects"][0]
    found = units(client, "objects", version, checksum=obj["checksum"])
    assert obj["pulp_href"] in [o["pulp_href"] for o in found]
    assert all(o["typ"] in (1, 2, 3) and o["relative_path"].startswith("objects/") for o in source["objects"])
    added = client.get(API + "content/ostree/commits/", params={"repository_version_added": version["pulp_href"]})
    assert added.json()["count"] == len(source["commits"])
