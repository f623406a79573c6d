"""API rules of the file endpoints: validation errors (4xx naming the field), modify
semantics, relative path collisions, publications and content create."""

from __future__ import annotations

from tests.file.helpers import digest, unique, version_paths, wait

REPOS = "/pulp/api/v3/repositories/file/file/"
CONTENT = "/pulp/api/v3/content/file/files/"


def upload(api, path: str, data: bytes) -> dict:
    response = api.post(CONTENT + "upload/", data={"relative_path": path}, files={"file": ("f", data)})
    assert response.status_code == 201, response.text
    return response.json()


def new_repo(api, **fields) -> dict:
    response = api.post(REPOS, json={"name": unique("repo"), **fields})
    assert response.status_code == 201, response.text
    return response.json()


def test_bad_requests_are_4xx_naming_the_field(api):
    repo = new_repo(api)
    assert api.post(REPOS, json={"name": repo["name"]}).json() == {"name": ["This field must be unique."]}
    response = api.post(repo["pulp_href"] + "sync/", json={})
    assert response.status_code == 400 and "remote" in response.json()
    response = api.post(repo["pulp_href"] + "sync/", json={"remote": "/pulp/api/v3/remotes/file/file/nope/"})
    assert response.status_code == 400 and "remote" in response.json()
    auto = new_repo(api, autopublish=True)
    remote = api.post("/pulp/api/v3/remotes/file/file/", json={"name": unique("r"), "url": "http://127.0.0.1:1/M"})
    response = api.post(auto["pulp_href"] + "sync/", json={"remote": remote.json()["pulp_href"], "mirror": True})
    assert response.status_code == 400 and "mirror" in response.text
    response = api.post(CONTENT, data={"relative_path": "x.txt"})
    assert response.status_code == 400 and "non_field_errors" in response.json()
    response = api.post(CONTENT + "upload/", data={"relative_path": "/abs.txt"}, files={"file": ("f", b"x")})
    assert response.status_code == 400 and "relative_path" in response.json()
    response = api.post(repo["pulp_href"] + "modify/", json={"add_content_units": ["/pulp/api/v3/content/file/files/x/"]})
    assert response.status_code == 400 and "add_content_units" in response.json()
    response = api.post("/pulp/api/v3/publications/file/file/",
                        json={"repository": repo["pulp_href"], "repository_version": repo["latest_version_href"]})
    assert response.status_code == 400


def test_modify_replaces_same_path_and_refuses_duplicates(file_server, api):
    repo = new_repo(api)
    old, new = upload(api, "same.txt", b"old\n"), upload(api, "same.txt", b"new\n")
    other = upload(api, "other.txt", b"other\n")
    task = wait(file_server, api.post(repo["pulp_href"] + "modify/",
                                      json={"add_content_units": [old["pulp_href"], other["pulp_href"]]}))
    assert task["state"] == "completed"
    # Adding a unit at a path already taken replaces the older unit.
    task = wait(file_server, api.post(repo["pulp_href"] + "modify/", json={"add_content_units": [new["pulp_href"]]}))
    assert version_paths(api, repo) == {"same.txt": digest(b"new\n"), "other.txt": digest(b"other\n")}
    # Two units at one path in the same call: refused, no version.
    before = api.get(repo["pulp_href"]).json()["latest_version_href"]
    task = wait(file_server, api.post(repo["pulp_href"] + "modify/", json={
        "remove_content_units": ["*"], "add_content_units": [old["pulp_href"], new["pulp_href"]]}))
    assert task["state"] == "failed" and "same.txt" in task["error"]["description"]
    assert api.get(repo["pulp_href"]).json()["latest_version_href"] == before
    # overwrite=false refuses to displace.
    task = wait(file_server, api.post(repo["pulp_href"] + "modify/", json={
        "add_content_units": [old["pulp_href"]], "overwrite": False}))
    assert task["state"] == "failed" and "PLP0023" in task["error"]["description"]
    # remove "*" then base_version.
    task = wait(file_server, api.post(repo["pulp_href"] + "modify/", json={"remove_content_units": ["*"]}))
    assert version_paths(api, repo) == {}
    task = wait(file_server, api.post(repo["pulp_href"] + "modify/", json={"base_version": before}))
    assert version_paths(api, repo) == {"same.txt": digest(b"new\n"), "other.txt": digest(b"other\n")}


def test_content_create_with_repository_and_autopublish(file_server, api):
    repo = new_repo(api, autopublish=True)
    response = api.post(CONTENT, data={"relative_path": "a/b.txt", "repository": repo["pulp_href"]},
                        files={"file": ("b.txt", b"bee\n")})
    task = wait(file_server, response)
    assert task["state"] == "completed", task
    version, publication, content = task["created_resources"]
    assert version.endswith("/versions/1/") and "/publications/file/file/" in publication
    assert api.get(content).json()["sha256"] == digest(b"bee\n")
    # Same file again into the same repository: no version, just the (same) content.
    task = wait(file_server, api.post(CONTENT, data={"relative_path": "a/b.txt", "repository": repo["pulp_href"]},
                                      files={"file": ("b.txt", b"bee\n")}))
    assert task["created_resources"] == [content]
    listed = api.get("/pulp/api/v3/publications/file/file/", params={"repository": repo["pulp_href"]}).json()
    assert listed["count"] == 1 and listed["results"][0]["pulp_href"] == publication
    # Content filters.
    found = api.get(CONTENT, params={"relative_path__startswith": "a/", "sha256": digest(b"bee\n")}).json()
    assert [c["pulp_href"] for c in found["results"]] == [content]
    assert api.get(CONTENT, params={"bogus": 1}).status_code == 400


def test_immediate_resync_after_on_demand_fills_artifacts_and_publication_delete(file_server, api, upstream):
    from tests.file.upstream import random_files, write_tree

    write_tree(upstream.root, random_files(4, 800))
    remote = api.post("/pulp/api/v3/remotes/file/file/", json={
        "name": unique("remote"), "url": upstream.url(), "policy": "on_demand"}).json()
    repo = new_repo(api, remote=remote["pulp_href"])
    assert wait(file_server, api.post(repo["pulp_href"] + "sync/", json={}))["state"] == "completed"
    latest = api.get(repo["pulp_href"]).json()["latest_version_href"]
    listed = api.get(CONTENT, params={"repository_version": latest}).json()["results"]
    assert [c["artifact"] for c in listed] == [None] * 4

    patched = wait(file_server, api.patch(remote["pulp_href"], json={"policy": "immediate"}))
    assert patched["state"] == "completed"
    task = wait(file_server, api.post(repo["pulp_href"] + "sync/", json={}))
    assert task["state"] == "completed" and task["created_resources"] == []  # same content, no version
    listed = api.get(CONTENT, params={"repository_version": latest}).json()["results"]
    assert all(c["artifact"] for c in listed)

    publication = wait(file_server, api.post("/pulp/api/v3/publications/file/file/",
                                             json={"repository_version": latest}))["created_resources"][0]
    assert api.delete(publication).status_code == 204
    assert api.get(publication).status_code == 404
