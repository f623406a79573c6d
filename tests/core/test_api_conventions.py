"""Conventions every core endpoint shares: status, docs, auth, Correlation-ID, lists, errors."""

from __future__ import annotations

import uuid

import httpx
import pytest

V3 = "/pulp/api/v3/"
CORE_OPERATIONS = {
    "status_read", "tasks_list", "tasks_read", "tasks_cancel", "tasks_delete", "tasks_purge", "workers_list",
    "workers_read", "task_groups_list", "task_groups_read", "artifacts_list", "artifacts_create",
    "artifacts_read", "artifacts_delete", "uploads_list", "uploads_create", "uploads_read", "uploads_update",
    "uploads_delete", "uploads_commit", "orphans_cleanup_cleanup", "orphans_delete",
    "repositories_reclaim_space_reclaim", "repair_post", "repositories_list", "content_list",
}


def test_status_is_anonymous_and_shaped_like_pulp(core_server):
    status = httpx.get(core_server.api + "status/").json()
    assert {v["component"] for v in status["versions"]} >= {"core"}
    assert len(status["online_workers"]) == 2
    assert status["online_api_apps"] and status["online_content_apps"]
    assert status["database_connection"] == {"connected": True}
    assert status["storage"]["used"] is not None and status["storage"]["free"] is not None
    assert status["domain_enabled"] is False
    assert httpx.post(core_server.api + "status/").status_code == 405


def test_docs_advertise_versions_and_core_operations(core_server):
    response = httpx.get(core_server.api + "docs/api.json")
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    doc = response.json()
    assert doc["info"]["x-pulp-app-versions"]["core"] == "3.123.1"
    assert doc["info"]["x-pulp-domain-enabled"] is False
    ids = {op["operationId"]: (path, method) for path, ops in doc["paths"].items()
           for method, op in ops.items() if method != "parameters"}
    assert CORE_OPERATIONS <= set(ids), CORE_OPERATIONS - set(ids)
    assert ids["uploads_commit"] == ("{upload_href}commit/", "post")
    assert ids["artifacts_delete"] == ("{artifact_href}", "delete")
    # The test-only route is not a Pulp operation and never appears.
    assert not any("test/sleep" in path for path in doc["paths"])


def test_test_route_is_absent_from_a_production_server(server):
    with server.client() as client:
        assert client.post(V3 + "test/sleep/", json={"seconds": 1}).status_code == 404


@pytest.mark.parametrize("method,path", [
    ("get", "tasks/"), ("get", "artifacts/"), ("post", "artifacts/"), ("get", "uploads/"), ("post", "uploads/"),
    ("post", "orphans/cleanup/"), ("post", "repositories/reclaim_space/"), ("get", "workers/"),
    ("get", "repositories/"), ("post", "test/sleep/"),
])
def test_anonymous_requests_get_401(core_server, method, path):
    response = httpx.request(method, core_server.api + path)
    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication credentials were not provided."}
    assert response.headers["www-authenticate"] == 'Basic realm="api"'
    wrong = httpx.request(method, core_server.api + path, auth=("admin", "wrong"))
    assert wrong.status_code == 401 and wrong.json() == {"detail": "Invalid username/password."}


def test_correlation_id_is_echoed_or_made(api):
    cid = uuid.uuid4().hex
    assert api.get(V3 + "tasks/", headers={"Correlation-ID": cid}).headers["correlation-id"] == cid
    made = api.get(V3 + "tasks/").headers["correlation-id"]
    assert len(made) == 32 and int(made, 16) >= 0


def test_list_envelope_and_paging(api):
    for _ in range(3):
        api.post(V3 + "uploads/", json={"size": 7})
    everything = api.get(V3 + "uploads/", params={"size": 7}).json()
    assert set(everything) == {"count", "next", "previous", "results"}
    count = everything["count"]
    assert count >= 3
    page = api.get(V3 + "uploads/", params={"size": 7, "limit": 2, "offset": 1}).json()
    assert page["count"] == count and len(page["results"]) == 2
    assert page["results"] == everything["results"][1:3]
    assert page["previous"].endswith("limit=2") or "offset" not in page["previous"]
    assert (page["next"] is None) == (count <= 3)


@pytest.mark.parametrize("path", ["tasks/", "artifacts/", "uploads/", "workers/", "repositories/", "task-groups/"])
def test_unknown_filter_is_400(api, path):
    response = api.get(V3 + path, params={"no_such_filter": "1"})
    assert response.status_code == 400
    assert response.json() == {"errors": ["Invalid Filter: 'no_such_filter'"]}


@pytest.mark.parametrize("path", ["uploads/", "orphans/cleanup/", "repositories/reclaim_space/", "repair/"])
def test_malformed_json_is_400(api, path):
    response = api.post(V3 + path, content=b'{"size": ', headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert api.post(V3 + path, json=[1, 2]).status_code == 400


@pytest.mark.parametrize("path,body,field", [
    ("orphans/cleanup/", {"orphan_protection_time": "soon"}, "orphan_protection_time"),
    ("orphans/cleanup/", {"orphan_protection_time": -5}, "orphan_protection_time"),
    ("orphans/cleanup/", {"content_hrefs": "not a list"}, "content_hrefs"),
    ("orphans/cleanup/", {"content_hrefs": [f"{V3}content/file/files/{uuid.uuid4()}/"]}, "content_hrefs"),
    ("orphans/cleanup/", {"content_hrefs": [f"{V3}artifacts/{uuid.uuid4()}/"]}, "content_hrefs"),
    ("repositories/reclaim_space/", {}, "repo_hrefs"),
    ("repositories/reclaim_space/", {"repo_hrefs": [f"{V3}repositories/file/file/{uuid.uuid4()}/"]}, "repo_hrefs"),
    ("repositories/reclaim_space/", {"repo_hrefs": [f"{V3}remotes/file/file/{uuid.uuid4()}/"]}, "repo_hrefs"),
    ("repositories/reclaim_space/", {"repo_hrefs": ["*"], "repo_versions_keeplist": ["/nope/"]},
     "repo_versions_keeplist"),
    ("repair/", {"verify_checksums": "maybe"}, "verify_checksums"),
    ("uploads/", {"size": [1]}, "size"),
    ("tasks/purge/", {"states": ["running"]}, "states"),
])
def test_bad_bodies_name_the_field(api, path, body, field):
    response = api.post(V3 + path, json=body)
    assert response.status_code == 400, response.text
    assert field in response.json()


def test_unknown_task_and_worker_hrefs(api):
    assert api.get(V3 + f"tasks/{uuid.uuid4()}/").status_code == 404
    assert api.patch(V3 + f"tasks/{uuid.uuid4()}/", json={"state": "canceled"}).status_code == 404
    assert api.get(V3 + f"workers/{uuid.uuid4()}/").status_code == 404
    bad = api.get(V3 + "tasks/", params={"parent_task": "/pulp/api/v3/artifacts/nope/"})
    assert bad.status_code == 400 and "parent_task" in bad.json()


def test_housekeeping_tasks_complete(api):
    for path, body, name in [
        ("orphans/cleanup/", {}, "pulpcore.app.tasks.orphan.orphan_cleanup"),
        ("repositories/reclaim_space/", {"repo_hrefs": ["*"]}, "pulpcore.app.tasks.reclaim_space.reclaim"),
        ("repair/", {"verify_checksums": False}, "pulpcore.app.tasks.repository.repair_all_artifacts"),
    ]:
        response = api.post(V3 + path, json=body)
        assert response.status_code == 202 and list(response.json()) == ["task"]
        from tests.core.conftest import wait_done

        task = wait_done(api, response.json()["task"])
        assert task["state"] == "completed", task
        assert task["name"] == name
