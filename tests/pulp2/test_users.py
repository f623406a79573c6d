"""`/v2/users/` over the same accounts as v3, and `/v2/actions/login/`."""

from __future__ import annotations

import httpx

from tests.pulp2.conftest import assert_v2_error


def test_user_crud_and_basic_auth(v2, v2server):
    if v2.get("users/v2-alice/").status_code == 200:
        v2.delete("users/v2-alice/")
    created = v2.post("users/", {"login": "v2-alice", "name": "Alice", "password": "first-pass"})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["login"] == "v2-alice" and body["name"] == "Alice" and body["roles"] == []
    assert created.headers["location"].endswith("/users/v2-alice/") and "password" not in body
    assert_v2_error(v2.post("users/", {"login": "v2-alice"}), 409, "PLP0018")
    assert_v2_error(v2.post("users/", {"name": "nobody"}), 400, "PLP0016")
    assert_v2_error(v2.post("users/", {"login": "bad login"}), 400, "PLP0015")
    base = v2server.base_url + "/pulp/api/v2/"
    assert httpx.get(base + "repositories/", auth=("v2-alice", "first-pass")).status_code == 200
    updated = v2.put("users/v2-alice/", {"delta": {"password": "second-pass", "name": "Al"}})
    assert updated.status_code == 200 and updated.json()["name"] == "Al"
    assert httpx.get(base + "repositories/", auth=("v2-alice", "first-pass")).status_code == 401
    assert httpx.get(base + "repositories/", auth=("v2-alice", "second-pass")).status_code == 200
    logins = [u["login"] for u in v2.get("users/").json()]
    assert "admin" in logins and "v2-alice" in logins
    found = v2.post("users/search/", {"criteria": {"filters": {"login": {"$in": ["v2-alice"]}}}}).json()
    assert [u["login"] for u in found] == ["v2-alice"]
    ordered = v2.post("users/search/", {"criteria": {"sort": [["_id", "descending"]], "limit": 1}}).json()
    assert ordered[0]["login"] == "v2-alice"
    deleted = v2.delete("users/v2-alice/")
    assert deleted.status_code == 200 and deleted.json() is None
    assert_v2_error(v2.get("users/v2-alice/"), 404, "PLP0009")
    assert_v2_error(v2.delete("users/admin/"), 400)


def test_login_gives_a_key_and_certificate(v2):
    response = v2.post("actions/login/")
    assert response.status_code == 200
    body = response.json()
    assert body["key"].startswith("-----BEGIN RSA PRIVATE KEY-----")
    assert body["certificate"].startswith("-----BEGIN CERTIFICATE-----")
