"""The whole v2 life cycle on harness repositories: sync, tasks, units, publish, copy,
remove, history, auto-publish, cancel, orphans, delete — and the same repository in v3."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.pulp2.conftest import assert_v2_error


def _fresh(v2, repo_id: str, **body) -> dict:
    if v2.get(f"repositories/{repo_id}/").status_code == 200:
        v2.run(v2.delete(f"repositories/{repo_id}/"))
    response = v2.post("repositories/", {"id": repo_id, **body})
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture(scope="module")
def publish_root(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("harness-publish")
    assert str(path).startswith("/tmp/")
    return path


@pytest.fixture(scope="module")
def synced(v2, publish_root):
    _fresh(v2, "h-flow", display_name="Flow", description="harness flow", notes={"team": "a", "keep": 1},
           importer_type_id="harness_importer", importer_config={"num_units": "7", "write_files": "true"},
           distributors=[{"distributor_type_id": "harness_distributor", "distributor_id": "pub",
                          "distributor_config": {"publish_dir": str(publish_root)}}])
    tasks = v2.run(v2.post("repositories/h-flow/actions/sync/"))
    return tasks


def test_sync_task_report(v2, synced):
    (task,) = synced
    assert task["state"] == "finished" and task["error"] is None
    assert set(task["tags"]) == {"pulp:repository:h-flow", "pulp:action:sync"}
    assert task["start_time"].endswith("Z") and task["finish_time"].endswith("Z") and task["worker_name"]
    assert task["result"]["result"] == "success" and task["result"]["added_count"] == 7
    assert task["progress_report"]["harness_importer"][0]["num_success"] == 7
    assert task["_ns"] == "task_status" and task["_href"].endswith(f"/tasks/{task['task_id']}/")
    again = v2.get(f"tasks/{task['task_id']}/").json()
    assert again["task_id"] == task["task_id"]


def test_repository_counts_and_notes_merge(v2, synced):
    repo = v2.get("repositories/h-flow/", params={"details": "true"}).json()
    assert repo["content_unit_counts"] == {"harness_type_one": 7} and repo["total_repository_units"] == 7
    assert repo["last_unit_added"] is not None and repo["importers"][0]["last_sync"] is not None
    updated = v2.put("repositories/h-flow/", {"delta": {"notes": {"team": "b", "keep": None, "new": [1]},
                                                        "description": "changed"}})
    assert updated.status_code == 200
    body = updated.json()
    assert body["notes"] == {"team": "b", "new": [1]} and body["result"]["description"] == "changed"
    assert body["spawned_tasks"] == []
    only_importers = v2.get("repositories/", params={"importers": "true"}).json()
    mine = next(r for r in only_importers if r["id"] == "h-flow")
    assert "importers" in mine and "distributors" not in mine and "total_repository_units" not in mine


def test_tasks_by_tag_and_search(v2, synced):
    listed = v2.get("tasks/", params=[("tag", "pulp:repository:h-flow"), ("tag", "pulp:action:sync")]).json()
    assert synced[0]["task_id"] in [t["task_id"] for t in listed]
    assert all("pulp:action:sync" in t["tags"] for t in listed)
    found = v2.post("tasks/search/", {"criteria": {"filters": {"task_id": synced[0]["task_id"]},
                                                   "fields": ["tags", "task_id", "state"]}}).json()
    assert [t["task_id"] for t in found] == [synced[0]["task_id"]]
    assert "progress_report" not in found[0] and found[0]["state"] == "finished"


@pytest.mark.parametrize("criteria,names", [
    ({}, [f"harness_unit_{i}" for i in range(7)]),
    ({"type_ids": ["harness_type_one"], "filters": {"unit": {"name": "harness_unit_2"}}}, ["harness_unit_2"]),
    ({"filters": {"unit": {"name": {"$in": ["harness_unit_1", "harness_unit_5"]}}}}, ["harness_unit_1", "harness_unit_5"]),
    ({"filters": {"unit": {"name": {"$regex": "_[34]$"}}}}, ["harness_unit_3", "harness_unit_4"]),
    ({"filters": {"unit": {"$and": [{"search_2": "value_1"}, {"name": {"$ne": "harness_unit_1"}}]}}}, ["harness_unit_6"]),
    ({"filters": {"unit": {"$or": [{"name": "harness_unit_0"}, {"search_1": "value_6"}]}}}, ["harness_unit_0", "harness_unit_6"]),
    ({"filters": {"unit": {"colour": {"$exists": False}, "name": {"$regex": "^harness_unit_[01]$"}}}}, ["harness_unit_0", "harness_unit_1"]),
    ({"type_ids": ["iso"]}, []),
])
def test_unit_search_filters(v2, synced, criteria, names):
    units = v2.post("repositories/h-flow/search/units/", {"criteria": criteria}).json()
    assert sorted(u["metadata"]["name"] for u in units) == names
    for unit in units:
        assert unit["repo_id"] == "h-flow" and unit["unit_type_id"] == "harness_type_one"
        assert unit["metadata"]["_id"] == unit["unit_id"]


def test_unit_search_sort_limit_skip_fields(v2, synced):
    criteria = {"sort": {"unit": [["name", "descending"]]}, "limit": 2, "skip": 1, "fields": {"unit": ["name"]}}
    units = v2.post("repositories/h-flow/search/units/", {"criteria": criteria}).json()
    assert [u["metadata"]["name"] for u in units] == ["harness_unit_5", "harness_unit_4"]
    assert set(units[0]["metadata"]) == {"name", "_id", "_content_type_id"}


def test_publish_writes_files_and_keeps_foreign_ones(v2, synced, publish_root):
    foreign = publish_root / "h-flow" / "chunk_0" / "not-ours.txt"
    foreign.parent.mkdir(parents=True, exist_ok=True)
    foreign.write_text("mine")
    (task,) = v2.run(v2.post("repositories/h-flow/actions/publish/", {"id": "pub"}))
    assert task["state"] == "finished" and task["result"]["result"] == "success"
    assert set(task["tags"]) == {"pulp:repository:h-flow", "pulp:action:publish"}
    files = sorted(p.name for p in (publish_root / "h-flow").rglob("*.unit"))
    assert files == sorted(f"harness_unit_{i}.unit" for i in range(7))
    assert (publish_root / "h-flow/chunk_2/harness_unit_2.unit").read_text().startswith("harness_unit_2\n")
    # Shrink: the surplus units leave the repository and their published files go, ours only.
    v2.run(v2.put("repositories/h-flow/importers/harness_importer/", {"importer_config": {"num_units": 3}}))
    (sync,) = v2.run(v2.post("repositories/h-flow/actions/sync/"))
    assert sync["result"]["removed_count"] == 4
    v2.run(v2.post("repositories/h-flow/actions/publish/", {"id": "pub"}))
    files = sorted(p.name for p in (publish_root / "h-flow").rglob("*.unit"))
    assert files == ["harness_unit_0.unit", "harness_unit_1.unit", "harness_unit_2.unit"]
    assert foreign.read_text() == "mine"
    # Nothing changed since: the next publish is skipped, and says so.
    (skipped,) = v2.run(v2.post("repositories/h-flow/actions/publish/", {"id": "pub"}))
    assert skipped["state"] == "finished" and skipped["result"]["result"] == "skipped"
    history = v2.get("repositories/h-flow/history/publish/pub/").json()
    assert [h["result"] for h in history] == ["skipped", "success", "success"]
    assert len(v2.get("repositories/h-flow/history/publish/pub/", params={"limit": 1}).json()) == 1
    assert v2.get("repositories/h-flow/distributors/pub/").json()["last_publish"] is not None
    sync_history = v2.get("repositories/h-flow/history/sync/", params={"sort": "ascending"}).json()
    assert [h["added_count"] for h in sync_history] == [7, 0]


def test_auto_publish_is_a_spawned_task(v2, publish_root):
    _fresh(v2, "h-auto", importer_type_id="harness_importer", importer_config={"num_units": 2},
           distributors=[{"distributor_type_id": "harness_distributor", "distributor_id": "auto",
                          "auto_publish": True, "distributor_config": {"publish_dir": str(publish_root)}},
                         {"distributor_type_id": "harness_distributor", "distributor_id": "manual",
                          "distributor_config": {"publish_dir": str(publish_root / "manual")}}])
    sync, publish = v2.run(v2.post("repositories/h-auto/actions/sync/"))
    assert [t["task_id"] for t in sync["spawned_tasks"]] == [publish["task_id"]]
    assert publish["state"] == "finished" and "pulp:action:publish" in publish["tags"]
    assert (publish_root / "h-auto/chunk_1/harness_unit_1.unit").exists()
    assert v2.get("repositories/h-auto/distributors/manual/").json()["last_publish"] is None


def test_copy_and_remove_units(v2, synced):
    _fresh(v2, "h-copy", importer_type_id="harness_importer", importer_config={"num_units": 0})
    one = v2.post("repositories/h-flow/search/units/", {"criteria": {"filters": {"unit": {"name": "harness_unit_1"}}}})
    unit_id = one.json()[0]["metadata"]["_id"]
    (copy,) = v2.run(v2.post("repositories/h-copy/actions/associate/", {
        "source_repo_id": "h-flow", "criteria": {"type_ids": ["harness_type_one"],
                                                 "filters": {"unit": {"_id": unit_id}}}}))
    assert copy["state"] == "finished"
    assert copy["result"] == {"units_successful": [{"type_id": "harness_type_one",
                                                    "unit_key": {"name": "harness_unit_1"}}]}
    assert {"pulp:repository:h-flow", "pulp:repository:h-copy", "pulp:action:associate"} <= set(copy["tags"])
    units = v2.post("repositories/h-copy/search/units/", {"criteria": {}}).json()
    assert [u["metadata"]["_id"] for u in units] == [unit_id]
    (removal,) = v2.run(v2.post("repositories/h-copy/actions/unassociate/", {"criteria": {}}))
    assert removal["state"] == "finished" and len(removal["result"]["units_successful"]) == 1
    repo = v2.get("repositories/h-copy/").json()
    assert repo["content_unit_counts"] == {} and repo["last_unit_removed"] is not None


def test_v3_sees_the_same_repository(v2, v2server, synced):
    v3 = v2server.client()
    found = v3.get("/pulp/api/v3/repositories/file/file/", params={"name": "h-flow"}).json()["results"]
    assert len(found) == 1
    versions = v3.get(found[0]["versions_href"]).json()["results"]
    assert len(versions) >= 2
    task = v3.get(f"/pulp/api/v3/tasks/{synced[0]['task_id']}/").json()
    assert task["state"] == "completed"


def test_cancel_a_running_sync(v2):
    _fresh(v2, "h-cancel", importer_type_id="harness_importer",
           importer_config={"num_units": 3, "sync_delay_in_seconds": 30})
    report = v2.post("repositories/h-cancel/actions/sync/").json()
    href = report["spawned_tasks"][0]["_href"]
    deadline = time.monotonic() + 30
    while v2.http.get(href).json()["state"] == "waiting" and time.monotonic() < deadline:
        time.sleep(0.1)
    response = v2.http.delete(href)
    assert response.status_code == 200 and response.json() is None
    task = v2.wait(href)
    assert task["state"] == "canceled"
    assert v2.get("repositories/h-cancel/").json()["content_unit_counts"] == {}
    # Canceling a finished task is a no-op answer.
    assert v2.http.delete(href).status_code == 200


def test_orphans_and_repository_delete(v2):
    _fresh(v2, "h-orphan", importer_type_id="iso_importer")
    summary = v2.get("content/orphans/").json()
    assert {"iso", "ostree"} <= set(summary) and summary["iso"]["_href"].endswith("/content/orphans/iso/")
    (task,) = v2.run(v2.delete("content/orphans/"))
    assert task["state"] == "finished" and "pulp:content_unit:orphans" in task["tags"]
    (deleted,) = v2.run(v2.delete("repositories/h-orphan/"))
    assert deleted["state"] == "finished" and "pulp:action:delete" in deleted["tags"]
    assert_v2_error(v2.get("repositories/h-orphan/"), 404, "PLP0009")
    assert_v2_error(v2.get("content/orphans/nope/"), 404)


def test_importer_and_distributor_crud(v2, publish_root):
    _fresh(v2, "h-crud")
    imp = v2.post("repositories/h-crud/importers/", {"importer_type_id": "harness_importer",
                                                     "importer_config": {"num_units": 1}})
    assert imp.status_code == 201 and imp.headers["location"].endswith("/importers/harness_importer/")
    (update,) = v2.run(v2.put("repositories/h-crud/importers/harness_importer/",
                              {"importer_config": {"num_units": 4, "write_files": None}}))
    assert update["result"]["config"] == {"num_units": 4}
    assert "pulp:action:update_importer" in update["tags"]
    dist = v2.post("repositories/h-crud/distributors/", {"distributor_type_id": "harness_distributor",
                                                         "distributor_config": {"publish_dir": str(publish_root)}})
    dist_id = dist.json()["id"]
    assert dist.status_code == 201 and len(dist_id) == 36
    (changed,) = v2.run(v2.put(f"repositories/h-crud/distributors/{dist_id}/",
                               {"distributor_config": {"write_files": "false"}, "delta": {"auto_publish": True}}))
    assert changed["result"]["auto_publish"] is True and changed["result"]["config"]["write_files"] == "false"
    (bad,) = v2.run(v2.put(f"repositories/h-crud/distributors/{dist_id}/",
                           {"distributor_config": {"publish_dir": "/usr/share"}}))
    assert bad["state"] == "error" and "publish_dir" in bad["error"]["description"]
    assert v2.get(f"repositories/h-crud/distributors/{dist_id}/").json()["config"]["publish_dir"] == str(publish_root)
    report = v2.put("repositories/h-crud/", {"distributor_configs": {dist_id: {"write_files": "true"}}})
    assert report.status_code == 202
    v2.follow(report.json())
    v2.run(v2.delete(f"repositories/h-crud/distributors/{dist_id}/"))
    assert v2.get("repositories/h-crud/distributors/").json() == []
    v2.run(v2.delete("repositories/h-crud/importers/harness_importer/"))
    assert v2.get("repositories/h-crud/importers/").json() == []


def test_sync_without_importer_fails_in_the_task(v2):
    _fresh(v2, "h-bare")
    (task,) = v2.run(v2.post("repositories/h-bare/actions/sync/"))
    assert task["state"] == "error" and task["error"]["code"] and task["traceback"]


def test_plugins_and_types(v2):
    types = {t["id"] for t in v2.get("plugins/types/").json()}
    assert {"ostree", "iso", "harness_type_one"} <= types
    assert v2.get("plugins/types/iso/").json()["unit_key"] == ["name", "checksum", "size"]
    importers = {i["id"]: i for i in v2.get("plugins/importers/").json()}
    assert importers["ostree_web_importer"]["types"] == ["ostree"]
    assert {d["id"] for d in v2.get("plugins/distributors/").json()} >= {"ostree_web_distributor", "iso_distributor"}
    assert_v2_error(v2.get("plugins/importers/nope/"), 404)
