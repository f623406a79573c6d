"""Repository kind changes, deletion seen from v3, and task purge (runs last: it purges)."""

from __future__ import annotations

from tests.pulp2.conftest import assert_v2_error


def _v3_names(v2server, kind: str) -> set[str]:
    with v2server.client() as v3:
        return {r["name"] for r in v3.get(f"/pulp/api/v3/repositories/{kind}/{kind}/",
                                          params={"limit": 1000}).json()["results"]}


def test_an_empty_repository_can_change_kind(v2, v2server):
    if v2.get("repositories/shifty/").status_code == 200:
        v2.run(v2.delete("repositories/shifty/"))
    assert v2.post("repositories/", {"id": "shifty"}).status_code == 201
    assert "shifty" not in _v3_names(v2server, "file") | _v3_names(v2server, "ostree")
    assert v2.post("repositories/shifty/importers/", {"importer_type_id": "iso_importer"}).status_code == 201
    assert "shifty" in _v3_names(v2server, "file")
    swapped = v2.post("repositories/shifty/importers/", {"importer_type_id": "ostree_web_importer",
                                                         "importer_config": {"feed": "http://127.0.0.1:9/"}})
    assert swapped.status_code == 201
    assert "shifty" in _v3_names(v2server, "ostree") and "shifty" not in _v3_names(v2server, "file")


def test_a_repository_with_content_keeps_its_kind(v2):
    if v2.get("repositories/settled/").status_code == 200:
        v2.run(v2.delete("repositories/settled/"))
    v2.post("repositories/", {"id": "settled", "importer_type_id": "harness_importer",
                              "importer_config": {"num_units": 1}})
    v2.run(v2.post("repositories/settled/actions/sync/"))
    response = v2.post("repositories/settled/importers/", {"importer_type_id": "ostree_web_importer"})
    assert_v2_error(response, 400, "PLP0015")
    assert v2.get("repositories/settled/importers/").json()[0]["importer_type_id"] == "harness_importer"


def test_delete_removes_the_core_repository_and_distribution(v2, v2server):
    if v2.get("repositories/doomed/").status_code == 200:
        v2.run(v2.delete("repositories/doomed/"))
    v2.post("repositories/", {"id": "doomed", "importer_type_id": "iso_importer",
                              "distributors": [{"distributor_type_id": "iso_distributor",
                                                "distributor_config": {"relative_url": "doomed-path"}}]})
    with v2server.client() as v3:
        assert v3.get("/pulp/api/v3/distributions/file/file/",
                      params={"base_path": "pulp2/iso/doomed-path"}).json()["count"] == 1
        v2.run(v2.delete("repositories/doomed/"))
        assert "doomed" not in _v3_names(v2server, "file")
        assert v3.get("/pulp/api/v3/distributions/file/file/",
                      params={"base_path": "pulp2/iso/doomed-path"}).json()["count"] == 0
    assert_v2_error(v2.get("repositories/doomed/history/sync/"), 404)


def test_purge_finished_tasks(v2):
    assert v2.get("tasks/", params={"tag": "pulp:action:sync"}).json()
    response = v2.delete("tasks/", params=[("state", "finished"), ("state", "error"), ("state", "skipped")])
    assert response.status_code == 204 and response.content == b""
    remaining = v2.get("tasks/").json()
    assert all(t["state"] not in ("finished", "error", "skipped") for t in remaining)
