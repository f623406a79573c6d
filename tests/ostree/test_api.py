"""CRUD and validation of the ostree endpoints: repositories, remotes, distributions, content."""

from __future__ import annotations

import hashlib

from .support import completed, new_name, upload_artifact

API = "/pulp/api/v3/"
REPOS = API + "repositories/ostree/ostree/"
REMOTES = API + "remotes/ostree/ostree/"
DISTS = API + "distributions/ostree/ostree/"


def test_repository_crud(server, client):
    name = new_name("repo")
    response = client.post(REPOS, json={"name": name, "description": "d"})
    assert response.status_code == 201, response.text
    repo = response.json()
    assert repo["compute_delta"] is True
    assert repo["latest_version_href"].endswith("/versions/0/")
    assert repo["prn"].startswith("prn:ostree.ostreerepository:")
    assert client.post(REPOS, json={"name": name}).json() == {"name": ["This field must be unique."]}

    completed(server, client, client.patch(repo["pulp_href"], json={"compute_delta": False}))
    assert client.get(repo["pulp_href"]).json()["compute_delta"] is False
    listed = client.get(REPOS, params={"name": name}).json()
    assert listed["count"] == 1 and listed["results"][0]["description"] == "d"

    assert client.post(repo["pulp_href"] + "set_label/", json={"key": "k", "value": "v"}).status_code == 201
    assert client.get(REPOS, params={"pulp_label_select": "k=v"}).json()["count"] == 1

    versions = client.get(repo["versions_href"]).json()
    assert versions["count"] == 1 and versions["results"][0]["number"] == 0

    completed(server, client, client.delete(repo["pulp_href"]))
    assert client.get(repo["pulp_href"]).status_code == 404


def test_remote_fields_and_validation(server, client):
    name = new_name("remote")
    body = {"name": name, "url": "http://127.0.0.1:9/repo/", "depth": 2, "include_refs": ["fedora/*"],
            "exclude_refs": ["*/debug"]}
    response = client.post(REMOTES, json=body)
    assert response.status_code == 201, response.text
    remote = response.json()
    assert (remote["depth"], remote["include_refs"], remote["exclude_refs"], remote["policy"]) == (
        2, ["fedora/*"], ["*/debug"], "immediate")
    # Defaults: depth 0, no filters; empty lists (what pulp-cli sends) are accepted.
    other = client.post(REMOTES, json={"name": new_name("remote"), "url": "http://127.0.0.1:9/",
                                       "include_refs": [], "exclude_refs": []}).json()
    assert (other["depth"], other["include_refs"], other["exclude_refs"]) == (0, [], [])
    whole = client.post(REMOTES, json={"name": new_name("remote"), "url": "http://127.0.0.1:9/", "depth": -1})
    assert whole.status_code == 201 and whole.json()["depth"] == -1

    for bad, field in [({"policy": "streamed"}, "policy"), ({"depth": -2}, "depth"),
                       ({"include_refs": "stable"}, "include_refs"), ({"url": "ftp://x/"}, "url"),
                       ({"exclude_refs": ["x" * 300]}, "exclude_refs")]:
        response = client.post(REMOTES, json={"name": new_name("remote"), "url": "http://127.0.0.1:9/", **bad})
        assert response.status_code == 400, bad
        assert field in response.json(), response.json()
    assert "name" in client.post(REMOTES, json={"url": "http://127.0.0.1:9/"}).json()

    completed(server, client, client.patch(remote["pulp_href"], json={"depth": 5, "include_refs": None}))
    updated = client.get(remote["pulp_href"]).json()
    assert (updated["depth"], updated["include_refs"], updated["exclude_refs"]) == (5, None, ["*/debug"])
    assert client.get(REMOTES, params={"name": name}).json()["count"] == 1


def test_sync_requires_a_remote(server, client):
    repo = client.post(REPOS, json={"name": new_name("repo")}).json()
    response = client.post(repo["pulp_href"] + "sync/", json={})
    assert response.status_code == 400
    assert response.json() == {"remote": ["This field is required since a remote is not set on the repository."]}
    # A remote of another type is refused.
    file_remote = client.post(API + "remotes/file/file/", json={"name": new_name("f"), "url": "http://127.0.0.1:9/"})
    if file_remote.status_code == 201:
        response = client.post(repo["pulp_href"] + "sync/", json={"remote": file_remote.json()["pulp_href"]})
        assert response.status_code == 400 and "remote" in response.json()
    response = client.post(repo["pulp_href"] + "sync/", json={"remote": "/pulp/api/v3/remotes/ostree/ostree/nope/"})
    assert response.status_code == 400 and "remote" in response.json()


def test_sync_dispatch_records_resources(server, client):
    repo = client.post(REPOS, json={"name": new_name("repo")}).json()
    remote = client.post(REMOTES, json={"name": new_name("remote"), "url": "http://127.0.0.1:9/"}).json()
    response = client.post(repo["pulp_href"] + "sync/", json={"remote": remote["pulp_href"], "mirror": True})
    assert response.status_code == 202
    task = server.wait_task(response.json()["task"])
    assert task["name"] == "pulp_ostree.app.tasks.synchronizing.synchronize"
    assert task["reserved_resources_record"] == [repo["pulp_href"], remote["pulp_href"]]
    # Nothing listens on port 9: the sync fails and leaves no version.
    assert task["state"] == "failed"
    assert client.get(repo["pulp_href"]).json()["latest_version_href"].endswith("/versions/0/")


def test_modify_validation(server, client):
    repo = client.post(REPOS, json={"name": new_name("repo")}).json()
    missing = "/pulp/api/v3/content/ostree/refs/01234567-89ab-7def-8123-456789abcdef/"
    response = client.post(repo["pulp_href"] + "modify/", json={"add_content_units": [missing]})
    assert response.status_code == 400
    assert "Could not find the following content units" in response.json()["add_content_units"][0]
    response = client.post(repo["pulp_href"] + "modify/", json={"remove_content_units": ["*", missing]})
    assert response.json() == {"remove_content_units": ["Cannot supply content units and '*'."]}
    response = client.post(repo["pulp_href"] + "modify/", json={"base_version": "/pulp/api/v3/nope/"})
    assert response.status_code == 400 and "base_version" in response.json()


def test_distribution_crud(server, client):
    repo = client.post(REPOS, json={"name": new_name("repo")}).json()
    base_path = new_name("dist")
    task = completed(server, client, client.post(DISTS, json={"name": base_path, "base_path": base_path,
                                                               "repository": repo["pulp_href"]}))
    href = task["created_resources"][0]
    dist = client.get(href).json()
    assert dist["repository"] == repo["pulp_href"] and dist["repository_version"] is None
    assert dist["base_url"].endswith(f"/pulp/content/{base_path}/")
    assert "publication" not in dist

    both = client.post(DISTS, json={"name": new_name("d"), "base_path": new_name("d"), "repository": repo["pulp_href"],
                                    "repository_version": repo["latest_version_href"]})
    assert both.status_code == 400
    nested = client.post(DISTS, json={"name": new_name("d"), "base_path": f"{base_path}/inner"})
    assert nested.status_code == 400 and "base_path" in nested.json()

    # Pin version 0 the way pulp-cli does: repository "" + repository_version.
    completed(server, client, client.patch(href, json={"repository": "",
                                                       "repository_version": repo["latest_version_href"]}))
    dist = client.get(href).json()
    assert dist["repository"] is None and dist["repository_version"] == repo["latest_version_href"]
    assert client.get(DISTS, params={"base_path": base_path}).json()["count"] == 1
    completed(server, client, client.delete(href))
    assert client.get(href).status_code == 404


def test_content_endpoints_and_create(server, client, tmp_path):
    for kind in ("commits", "refs", "objects", "configs", "summaries", "content"):
        response = client.get(f"{API}content/ostree/{kind}/")
        assert response.status_code == 200 and "count" in response.json()
    assert client.get(f"{API}content/ostree/refs/", params={"bogus": "1"}).status_code == 400

    data = b"not really a delta part, just bytes\n"
    path = tmp_path / "part"
    path.write_bytes(data)
    artifact = upload_artifact(client, path)
    digest = hashlib.sha256(data).hexdigest()
    repo = client.post(REPOS, json={"name": new_name("repo")}).json()
    relative = f"deltas/{new_name('xx')}/0"
    task = completed(server, client, client.post(API + "content/ostree/content/", json={
        "artifact": artifact, "relative_path": relative, "digest": digest, "repository": repo["pulp_href"]}))
    unit_href = next(h for h in task["created_resources"] if "/content/ostree/content/" in h)
    unit = client.get(unit_href).json()
    assert (unit["relative_path"], unit["digest"], unit["artifact"]) == (relative, digest, artifact)
    version = client.get(client.get(repo["pulp_href"]).json()["latest_version_href"]).json()
    assert version["number"] == 1
    assert version["content_summary"]["added"]["ostree.content"]["count"] == 1
    listed = client.get(API + "content/ostree/content/", params={"repository_version": version["pulp_href"]}).json()
    assert [u["pulp_href"] for u in listed["results"]] == [unit_href]

    response = client.post(API + "content/ostree/content/", json={"artifact": artifact, "relative_path": "../x",
                                                                 "digest": digest})
    assert response.status_code == 400 and "relative_path" in response.json()
    response = client.post(API + "content/ostree/content/", json={"relative_path": "x"})
    assert response.status_code == 400 and {"artifact", "digest"} <= set(response.json())
