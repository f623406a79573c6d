"""Type rules a script meets: relative-path conflicts, secret masking, config merge with
`null`, override_config, coded task errors, repository search."""

from __future__ import annotations

import pytest

from tests.pulp2.conftest import assert_v2_error


def _fresh(v2, repo_id: str, **body) -> None:
    if v2.get(f"repositories/{repo_id}/").status_code == 200:
        v2.run(v2.delete(f"repositories/{repo_id}/"))
    response = v2.post("repositories/", {"id": repo_id, **body})
    assert response.status_code == 201, response.text


def _ostree_dist(path: str | None) -> dict:
    config = {} if path is None else {"relative_path": path}
    return {"distributor_type_id": "ostree_web_distributor", "distributor_config": config}


@pytest.fixture(scope="module")
def taken(v2):
    _fresh(v2, "rp-owner", importer_type_id="ostree_web_importer", importer_config={"feed": "http://127.0.0.1:9/"},
           distributors=[{**_ost, "distributor_id": "web"} for _ost in [_ostree_dist("/shared/path/")]])
    return "shared/path"


@pytest.mark.parametrize("path", ["shared/path", "/shared/path/x", "/shared", "shared/path/"])
def test_relative_path_conflicts_are_400(v2, taken, path):
    _fresh(v2, "rp-other", importer_type_id="ostree_web_importer", importer_config={"feed": "http://127.0.0.1:9/"})
    error = assert_v2_error(v2.post("repositories/rp-other/distributors/", _ostree_dist(path)), 400)
    assert "conflicts" in error["error_message"]


def test_default_relative_path_is_the_repository_id(v2, taken):
    _fresh(v2, "shared", importer_type_id="ostree_web_importer", importer_config={"feed": "http://127.0.0.1:9/"})
    assert_v2_error(v2.post("repositories/shared/distributors/", _ostree_dist(None)), 400)
    ok = v2.post("repositories/shared/distributors/", _ostree_dist("elsewhere"))
    assert ok.status_code == 201


def test_conflicting_update_fails_in_the_task_and_keeps_config(v2, taken):
    _fresh(v2, "rp-upd", importer_type_id="ostree_web_importer", importer_config={"feed": "http://127.0.0.1:9/"},
           distributors=[{**_ostree_dist("free/path"), "distributor_id": "web"}])
    (task,) = v2.run(v2.put("repositories/rp-upd/distributors/web/",
                            {"distributor_config": {"relative_path": "shared/path"}}))
    assert task["state"] == "error" and "conflicts" in task["error"]["description"]
    assert v2.get("repositories/rp-upd/distributors/web/").json()["config"] == {"relative_path": "free/path"}


def test_secrets_are_masked_and_null_removes_keys(v2):
    _fresh(v2, "masked", importer_type_id="ostree_web_importer", importer_config={
        "feed": "http://127.0.0.1:9/", "basic_auth_username": "u", "basic_auth_password": "secret",
        "proxy_host": "127.0.0.1", "proxy_port": 3128, "proxy_password": "p", "depth": 2})
    config = v2.get("repositories/masked/importers/ostree_web_importer/").json()["config"]
    assert config["basic_auth_password"] == "*****" and config["proxy_password"] == "*****"
    assert config["basic_auth_username"] == "u" and config["depth"] == 2
    (task,) = v2.run(v2.put("repositories/masked/importers/ostree_web_importer/", {"importer_config": {
        "basic_auth_username": None, "depth": 5, "ssl_validation": True}}))
    assert task["state"] == "finished"
    config = v2.get("repositories/masked/importers/ostree_web_importer/").json()["config"]
    assert "basic_auth_username" not in config and config["depth"] == 5 and config["ssl_validation"] is True
    # The same config, synchronously, through the repository update.
    response = v2.put("repositories/masked/", {"importer_config": {"depth": 1}})
    assert response.status_code == 200
    assert v2.get("repositories/masked/importers/ostree_web_importer/").json()["config"]["depth"] == 1


def test_override_config_applies_to_one_sync(v2):
    _fresh(v2, "override", importer_type_id="harness_importer", importer_config={"num_units": 1})
    (task,) = v2.run(v2.post("repositories/override/actions/sync/", {"override_config": {"num_units": 3}}))
    assert task["result"]["added_count"] == 3
    assert v2.get("repositories/override/importers/harness_importer/").json()["config"] == {"num_units": 1}


def test_coded_task_errors(v2):
    _fresh(v2, "no-importer")
    (task,) = v2.run(v2.post("repositories/no-importer/actions/sync/"))
    assert task["state"] == "error" and task["error"]["code"] == "PLP0009"
    _fresh(v2, "no-feed", importer_type_id="ostree_web_importer", importer_config={})
    (task,) = v2.run(v2.post("repositories/no-feed/actions/sync/"))
    assert task["state"] == "error" and task["error"]["code"] == "OST0004"
    assert task["error"]["description"] == "Feed URL not specified" and task["traceback"]
    history = v2.get("repositories/no-feed/history/sync/").json()
    assert history[0]["result"] == "error" and history[0]["added_count"] == -1
    (publish,) = v2.run(v2.post("repositories/no-feed/actions/publish/", {"id": "ghost"}))
    assert publish["state"] == "error" and publish["error"]["code"] == "PLP0009"


def test_unreachable_feed_reports_error_details(v2):
    _fresh(v2, "dead-feed", importer_type_id="ostree_web_importer", importer_config={"feed": "http://127.0.0.1:9/"})
    (task,) = v2.run(v2.post("repositories/dead-feed/actions/sync/"))
    assert task["state"] == "error" and task["traceback"]
    steps = task["progress_report"]["ostree_web_importer"]
    assert any(step["error_details"] for step in steps)


def test_repository_search(v2):
    _fresh(v2, "search-a", notes={"_repo-type": "OSTREE"})
    _fresh(v2, "search-b", notes={"_repo-type": "iso-repo"})
    found = v2.post("repositories/search/", {"criteria": {"filters": {"notes._repo-type": "OSTREE"},
                                                          "fields": ["id", "notes"]}}).json()
    ids = [r["id"] for r in found]
    assert "search-a" in ids and "search-b" not in ids
    assert set(found[0]) <= {"id", "notes", "_id", "_href"}
    listed = v2.get("repositories/search/", params={"filters": '{"id": {"$regex": "^search-"}}', "limit": 1}).json()
    assert len(listed) == 1
    assert_v2_error(v2.post("repositories/search/", {}), 400, "PLP0016")
    assert_v2_error(v2.post("repositories/search/", {"criteria": {"limit": "x"}}), 400, "PLP0015")


def test_feed_credentials_move_to_basic_auth(v2):
    _fresh(v2, "creds", importer_type_id="iso_importer",
           importer_config={"feed": "http://al%40ice:s3cret@127.0.0.1:9/files/"})
    config = v2.get("repositories/creds/importers/iso_importer/").json()["config"]
    assert config == {"feed": "http://127.0.0.1:9/files/", "basic_auth_username": "al@ice",
                      "basic_auth_password": "*****"}
