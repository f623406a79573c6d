"""Bad input: each answer a 4xx in the v2 error shape naming what is wrong, never a 5xx."""

from __future__ import annotations

import httpx
import pytest

from tests.pulp2.conftest import assert_v2_error

REPO = "bad-input-repo"


@pytest.fixture(scope="module")
def repo(v2):
    if v2.get(f"repositories/{REPO}/").status_code == 200:
        v2.run(v2.delete(f"repositories/{REPO}/"))
    response = v2.post("repositories/", {
        "id": REPO, "importer_type_id": "harness_importer", "importer_config": {"num_units": 2},
        "distributors": [{"distributor_type_id": "harness_distributor", "distributor_id": "d1",
                          "distributor_config": {"publish_dir": "/tmp/pulp2-bad-input"}}]})
    assert response.status_code == 201, response.text
    return REPO


def test_status_needs_no_credentials(v2server):
    status = httpx.get(v2server.base_url + "/pulp/api/v2/status/").json()
    assert status["api_version"] == "2" and status["database_connection"] == {"connected": True}
    assert any(w["name"].startswith("reserved_resource_worker-") for w in status["known_workers"])


def test_missing_and_wrong_credentials_are_401(v2server):
    anonymous = httpx.get(v2server.base_url + "/pulp/api/v2/repositories/")
    body = assert_v2_error(anonymous, 401, "PLP0025")
    assert body["auth_error_code"] == "authentication_failed"
    wrong = httpx.get(v2server.base_url + "/pulp/api/v2/repositories/", auth=("admin", "nope"))
    assert assert_v2_error(wrong, 401, "PLP0030")["auth_error_code"] == "invalid_username_or_password"
    login = httpx.post(v2server.base_url + "/pulp/api/v2/actions/login/", auth=("", ""))
    assert_v2_error(login, 401)


def test_unknown_path_is_404_null(v2):
    response = v2.get("no/such/thing/")
    assert response.status_code == 404 and response.json() is None


def test_path_without_slash_is_accepted(v2, repo):
    response = v2.http.get(v2.url(f"repositories/{repo}"), follow_redirects=True)
    assert response.status_code == 200 and response.json()["id"] == repo


@pytest.mark.parametrize("body", [b"{not json", b"\xff\xfe"])
def test_invalid_json_is_400(v2, body):
    response = v2.http.post(v2.url("repositories/"), content=body)
    assert_v2_error(response, 400)


def test_wrong_top_level_type_is_400(v2):
    assert_v2_error(v2.post("repositories/", ["id", "x"]), 400, "PLP1015")


@pytest.mark.parametrize("body", [{}, {"id": None}, {"id": "has space"}, {"id": "slash/no"}, {"id": 5}])
def test_invalid_repository_id_is_400(v2, body):
    error = assert_v2_error(v2.post("repositories/", body), 400, "PLP0015")
    assert error["property_names"] == ["repo_id"]


def test_duplicate_repository_is_409(v2, repo):
    error = assert_v2_error(v2.post("repositories/", {"id": repo}), 409, "PLP0018")
    assert error["resource_id"] == repo


def test_unknown_importer_type_is_400(v2, repo):
    assert_v2_error(v2.post(f"repositories/{repo}/importers/", {"importer_type_id": "nope_importer"}), 400, "PLP1008")
    assert_v2_error(v2.post(f"repositories/{repo}/importers/", {}), 400, "PLP1008")


@pytest.mark.parametrize("type_id,config,word", [
    ("harness_importer", {"num_units": 1, "colour": "red"}, "colour"),
    ("harness_importer", {"write_files": "true"}, "num_units"),
    ("harness_importer", {"num_units": "many"}, "num_units"),
    ("ostree_web_importer", {"feed": "http://x/", "mirror_everything": True}, "mirror_everything"),
    ("ostree_web_importer", {"feed": "http://x/", "branches": "main"}, "branches"),
    ("ostree_web_importer", {"feed": "http://x/", "depth": "deep"}, "depth"),
    ("iso_importer", {"feed": "http://x/", "speed": 1}, "speed"),
])
def test_importer_config_the_type_refuses_is_400(v2, repo, type_id, config, word):
    response = v2.post(f"repositories/{repo}/importers/", {"importer_type_id": type_id, "importer_config": config})
    error = assert_v2_error(response, 400)
    assert word in error["error_message"]
    # The refused association left the repository's importer alone.
    assert v2.get(f"repositories/{repo}/importers/").json()[0]["importer_type_id"] == "harness_importer"


@pytest.mark.parametrize("body,status", [
    ({"distributor_type_id": "nope"}, 400),
    ({}, 400),
    ({"distributor_type_id": "harness_distributor", "distributor_config": {"publish_dir": "/etc/pulp2"}}, 400),
    ({"distributor_type_id": "harness_distributor", "distributor_config": {"publish_dir": "/tmp/../etc"}}, 400),
    ({"distributor_type_id": "harness_distributor", "distributor_config": {"publish_dir": "relative"}}, 400),
    ({"distributor_type_id": "harness_distributor", "distributor_config": {"other": 1}}, 400),
    ({"distributor_type_id": "harness_distributor", "distributor_id": "has.dot"}, 400),
    ({"distributor_type_id": "harness_distributor", "auto_publish": "yes"}, 400),
])
def test_refused_distributors_are_400(v2, repo, body, status):
    assert_v2_error(v2.post(f"repositories/{repo}/distributors/", body), status)
    assert [d["id"] for d in v2.get(f"repositories/{repo}/distributors/").json()] == ["d1"]


def test_publish_dir_outside_root_on_create_rolls_back_repository(v2):
    response = v2.post("repositories/", {
        "id": "rolled-back", "importer_type_id": "harness_importer", "importer_config": {"num_units": 1},
        "distributors": [{"distributor_type_id": "harness_distributor",
                          "distributor_config": {"publish_dir": "/var/lib/elsewhere"}}]})
    error = assert_v2_error(response, 400)
    assert "publish_dir" in error["error_message"]
    assert_v2_error(v2.get("repositories/rolled-back/"), 404, "PLP0009")


def test_mixed_content_kinds_are_refused(v2, repo):
    response = v2.post(f"repositories/{repo}/distributors/", {"distributor_type_id": "ostree_web_distributor"})
    assert_v2_error(response, 400)


UNKNOWN_REPO_CALLS = [
    ("GET", "repositories/ghost/", None),
    ("PUT", "repositories/ghost/", {"delta": {"display_name": "x"}}),
    ("DELETE", "repositories/ghost/", None),
    ("GET", "repositories/ghost/importers/", None),
    ("POST", "repositories/ghost/importers/", {"importer_type_id": "harness_importer",
                                               "importer_config": {"num_units": 1}}),
    ("GET", "repositories/ghost/importers/harness_importer/", None),
    ("PUT", "repositories/ghost/importers/harness_importer/", {"importer_config": {}}),
    ("DELETE", "repositories/ghost/importers/harness_importer/", None),
    ("GET", "repositories/ghost/distributors/", None),
    ("POST", "repositories/ghost/distributors/", {"distributor_type_id": "harness_distributor"}),
    ("GET", "repositories/ghost/distributors/d1/", None),
    ("PUT", "repositories/ghost/distributors/d1/", {"distributor_config": {}}),
    ("DELETE", "repositories/ghost/distributors/d1/", None),
    ("POST", "repositories/ghost/actions/sync/", {}),
    ("POST", "repositories/ghost/actions/publish/", {"id": "d1"}),
    ("GET", "repositories/ghost/history/sync/", None),
    ("GET", "repositories/ghost/history/publish/d1/", None),
    ("POST", "repositories/ghost/search/units/", {"criteria": {}}),
    ("POST", "repositories/ghost/actions/associate/", {"source_repo_id": REPO}),
    ("POST", "repositories/ghost/actions/unassociate/", {"criteria": {}}),
]


@pytest.mark.parametrize("method,path,body", UNKNOWN_REPO_CALLS)
def test_unknown_repository_is_404_in_every_path(v2, repo, method, path, body):
    response = v2.http.request(method, v2.url(path), json=body)
    error = assert_v2_error(response, 404, "PLP0009")
    assert error["resources"] == {"repository": "ghost"}


@pytest.mark.parametrize("method,path,body", [
    ("GET", f"repositories/{REPO}/distributors/ghost/", None),
    ("PUT", f"repositories/{REPO}/distributors/ghost/", {"distributor_config": {}}),
    ("DELETE", f"repositories/{REPO}/distributors/ghost/", None),
    ("GET", f"repositories/{REPO}/history/publish/ghost/", None),
    ("GET", f"repositories/{REPO}/importers/iso_importer/", None),
    ("PUT", f"repositories/{REPO}/importers/iso_importer/", {"importer_config": {}}),
    ("DELETE", f"repositories/{REPO}/importers/iso_importer/", None),
])
def test_unknown_distributor_or_importer_is_404(v2, repo, method, path, body):
    assert_v2_error(v2.http.request(method, v2.url(path), json=body), 404, "PLP0009")


@pytest.mark.parametrize("criteria", [
    "everything",
    {"colour": "red"},
    {"type_ids": 5},
    {"filters": {"unit": {"name": {"$bogus": 1}}}},
    {"filters": {"unit": []}},
    {"filters": {"wrong_part": {}}},
    {"sort": {"unit": [["name", "sideways"]]}},
    {"fields": {"unit": "name"}},
    {"limit": 0},
    {"skip": -1},
    {"limit": True},
])
def test_malformed_criteria_is_400(v2, repo, criteria):
    response = v2.post(f"repositories/{repo}/search/units/", {"criteria": criteria})
    error = assert_v2_error(response, 400, "PLP0015")
    assert error["property_names"] == ["criteria"] and error["error"]["sub_errors"]
    copy = v2.post(f"repositories/{repo}/actions/associate/", {"source_repo_id": repo, "criteria": criteria})
    assert_v2_error(copy, 400, "PLP0015")


def test_other_bad_action_bodies(v2, repo):
    assert_v2_error(v2.post(f"repositories/{repo}/actions/publish/", {}), 400, "PLP0016")
    assert_v2_error(v2.http.post(v2.url(f"repositories/{repo}/actions/publish/")), 400, "PLP1009")
    assert_v2_error(v2.post(f"repositories/{repo}/actions/associate/", {}), 400, "PLP0016")
    assert_v2_error(v2.post(f"repositories/{repo}/actions/associate/", {"source_repo_id": "ghost"}), 400, "PLP0015")
    assert_v2_error(v2.post(f"repositories/{repo}/actions/sync/", {"override_config": []}), 400)
    assert_v2_error(v2.put(f"repositories/{repo}/", {"delta": []}), 400, "PLP1010")
    assert_v2_error(v2.put(f"repositories/{repo}/", {"delta": {"notes": "x"}}), 400)
    assert_v2_error(v2.put(f"repositories/{repo}/importers/harness_importer/", {}), 400, "PLP0016")
    assert_v2_error(v2.get(f"repositories/{repo}/history/sync/", params={"limit": "zero"}), 400, "PLP0015")
    assert_v2_error(v2.get(f"repositories/{repo}/history/sync/", params={"sort": "up"}), 400, "PLP0015")


def test_unknown_task_is_404(v2):
    assert_v2_error(v2.get("tasks/not-a-uuid/"), 404, "PLP0009")
    assert_v2_error(v2.get("tasks/00000000-0000-0000-0000-000000000000/"), 404, "PLP0009")
    assert_v2_error(v2.delete("tasks/00000000-0000-0000-0000-000000000000/"), 404, "PLP0009")


def test_purge_needs_valid_states(v2):
    assert_v2_error(v2.delete("tasks/"), 403, "PLP1012")
    assert_v2_error(v2.delete("tasks/", params={"state": "canceled"}), 400, "PLP1011")


def test_schedules_are_not_offered(v2, repo):
    assert_v2_error(v2.get(f"repositories/{repo}/importers/harness_importer/schedules/sync/"), 501, "PLP0014")
    assert_v2_error(v2.post(f"repositories/{repo}/distributors/d1/schedules/publish/", {"schedule": "PT1H"}),
                    501, "PLP0014")
    assert_v2_error(v2.get("repositories/ghost/importers/harness_importer/schedules/sync/"), 404, "PLP0009")
