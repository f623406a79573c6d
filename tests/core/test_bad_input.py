"""Garbage in never gets a 5xx: every bad request to the core endpoints is a 4xx."""

from __future__ import annotations

import uuid

import pytest

V3 = "/pulp/api/v3/"
JUNK_VALUES = [None, "", "x", -1, 1.5, 10**30, [], {}, ["a"], {"a": 1}, True, "nan", "inf", "../../etc/passwd",
               "/pulp/api/v3/tasks/", f"/pulp/api/v3/artifacts/{uuid.uuid4()}/", "prn:core.task:nope"]
JSON_POSTS = {
    "uploads/": ["size"],
    "orphans/cleanup/": ["content_hrefs", "orphan_protection_time"],
    "repositories/reclaim_space/": ["repo_hrefs", "repo_versions_keeplist"],
    "repair/": ["verify_checksums"],
    "tasks/purge/": ["finished_before", "states"],
}
LIST_FILTERS = {
    "artifacts/": ["sha256", "md5", "orphaned_for", "repository_version", "pulp_href__in", "pulp_id__in",
                   "prn__in", "ordering", "limit", "offset"],
    "uploads/": ["size", "size__gt", "size__lt", "size__range", "ordering"],
    "tasks/": ["state", "name__in", "parent_task", "task_group", "created_resources", "reserved_resources",
               "started_at__gte", "finished_at__range", "worker", "ordering", "fields", "minimal"],
    "workers/": ["name", "online", "missing", "last_heartbeat__lt"],
}


def _never_5xx(response) -> None:
    assert response.status_code < 500, (response.request.method, str(response.request.url), response.text[:300])


@pytest.mark.parametrize("path", sorted(JSON_POSTS))
def test_post_bodies(api, path):
    for field in JSON_POSTS[path]:
        for value in JUNK_VALUES:
            response = api.post(V3 + path, json={field: value})
            _never_5xx(response)
            if response.status_code == 202:  # accepted work must also end cleanly
                task = api.get(response.json()["task"]).json()
                assert task["state"] != "failed" or task["error"]["description"]
        _never_5xx(api.post(V3 + path, data={field: "zzz"}))
        _never_5xx(api.post(V3 + path, content=b"\xff\xfe", headers={"Content-Type": "application/json"}))


@pytest.mark.parametrize("path", sorted(LIST_FILTERS))
def test_list_filters(api, path):
    for name in LIST_FILTERS[path]:
        for value in JUNK_VALUES:
            if isinstance(value, (list, dict)) or value is None:
                continue
            _never_5xx(api.get(V3 + path, params={name: str(value)}))


def test_detail_routes_with_junk_ids(api):
    for pk in ("nope", str(uuid.uuid4()), "00000000-0000-0000-0000-000000000000", "1"):
        for method, suffix in [("get", "artifacts/{}/"), ("delete", "artifacts/{}/"), ("get", "uploads/{}/"),
                               ("put", "uploads/{}/"), ("delete", "uploads/{}/"), ("post", "uploads/{}/commit/"),
                               ("get", "tasks/{}/"), ("patch", "tasks/{}/"), ("delete", "tasks/{}/"),
                               ("get", "task-groups/{}/"), ("get", "workers/{}/")]:
            response = api.request(method, V3 + suffix.format(pk), json={"state": "canceled", "sha256": "00"})
            assert response.status_code == 404, (method, suffix, response.text)


def test_chunk_put_with_junk(api):
    upload = api.post(V3 + "uploads/", json={"size": 10}).json()["pulp_href"]
    for header in ["bytes 0-99999999999999999999999/1", "bytes -1-2/10", "bytes 0-2", "items 0-2/10", "bytes a-b/c"]:
        response = api.put(upload, headers={"Content-Range": header}, files={"file": ("file", b"abc")})
        assert response.status_code == 400, (header, response.text)
    _never_5xx(api.put(upload, json={"file": "abc"}, headers={"Content-Range": "bytes 0-2/10"}))
    _never_5xx(api.put(upload, data={"file": "abc"}, headers={"Content-Range": "bytes 0-2/10"}))
