"""Tasking as clients see it: FIFO per resource, exclusive vs shared, parallelism, cancel,
progress, failures. Driven with the test-only sleep task."""

from __future__ import annotations

import datetime as dt
import time
import uuid

from tests.core.conftest import sleep_task, wait_done, wait_state

V3 = "/pulp/api/v3/"


def _t(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def _resource() -> str:
    return f"/pulp/api/v3/repositories/file/file/{uuid.uuid4()}/"


def test_same_exclusive_resource_runs_in_submission_order(api):
    resource = _resource()
    hrefs = [sleep_task(api, 0.4, exclusive=[resource]) for _ in range(3)]
    tasks = [wait_done(api, h) for h in hrefs]
    assert [t["state"] for t in tasks] == ["completed"] * 3
    for earlier, later in zip(tasks, tasks[1:]):
        assert _t(later["started_at"]) >= _t(earlier["finished_at"])
    assert tasks[0]["reserved_resources_record"] == [resource]
    listed = api.get(V3 + "tasks/", params={"reserved_resources": resource}).json()
    assert {t["pulp_href"] for t in listed["results"]} == set(hrefs)
    prn = "prn:file.filerepository:" + resource.rstrip("/").rsplit("/", 1)[1]
    by_prn = api.get(V3 + "tasks/", params={"exclusive_resources": prn}).json()
    assert {t["pulp_href"] for t in by_prn["results"]} == set(hrefs)


def test_disjoint_resources_run_in_parallel(api):
    first = sleep_task(api, 1.5, exclusive=[_resource()])
    second = sleep_task(api, 1.5, exclusive=[_resource()])
    a, b = wait_done(api, first), wait_done(api, second)
    assert _t(b["started_at"]) < _t(a["finished_at"]), "two workers should overlap"
    assert a["worker"] != b["worker"]


def test_shared_locks_coexist_and_exclusive_waits_for_them(api):
    resource = _resource()
    readers = [sleep_task(api, 1.2, shared=[resource]) for _ in range(2)]
    writer = sleep_task(api, 0.2, exclusive=[resource])
    r1, r2, w = (wait_done(api, h) for h in (*readers, writer))
    assert _t(r2["started_at"]) < _t(r1["finished_at"]), "shared holders run together"
    assert _t(w["started_at"]) >= max(_t(r1["finished_at"]), _t(r2["finished_at"]))
    assert r1["reserved_resources_record"] == [resource]
    # Filters find the task by the resource whether it holds it shared or exclusively.
    by_resource = api.get(V3 + "tasks/", params={"reserved_resources": resource}).json()
    assert {t["pulp_href"] for t in by_resource["results"]} == {*readers, writer}
    shared_only = api.get(V3 + "tasks/", params={"shared_resources": resource}).json()
    assert {t["pulp_href"] for t in shared_only["results"]} == set(readers)


def test_later_task_does_not_overtake_a_waiting_exclusive_one(api):
    resource = _resource()
    holder = sleep_task(api, 1.0, shared=[resource])
    writer = sleep_task(api, 0.1, exclusive=[resource])
    reader = sleep_task(api, 0.1, shared=[resource])
    h, w, r = (wait_done(api, x) for x in (holder, writer, reader))
    assert _t(w["started_at"]) >= _t(h["finished_at"])
    assert _t(r["started_at"]) >= _t(w["finished_at"])


def test_progress_reports_update_while_running(api):
    href = sleep_task(api, 3, exclusive=[_resource()])
    seen = set()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        task = api.get(href).json()
        if task["state"] == "running" and task["progress_reports"]:
            report = task["progress_reports"][0]
            assert report["state"] == "running" and report["total"] == 30 and report["code"] == "test.sleep"
            seen.add(report["done"])
        if task["state"] == "completed":
            break
        time.sleep(0.2)
    assert len([d for d in seen if 0 < d < 30]) >= 2, seen
    assert task["progress_reports"][0]["state"] == "completed" and task["progress_reports"][0]["done"] == 30


def test_cancel_running_and_waiting_tasks(api):
    resource = _resource()
    running = sleep_task(api, 30, exclusive=[resource])
    waiting = sleep_task(api, 30, exclusive=[resource])
    wait_state(api, running, ("running",))
    assert api.get(waiting).json()["state"] == "waiting"

    response = api.patch(waiting, json={"state": "canceled"})
    assert response.status_code == 200 and response.json()["state"] == "canceled"
    started = time.monotonic()
    response = api.patch(running, json={"state": "canceled"})
    assert response.status_code == 200 and response.json()["state"] in ("canceling", "canceled")
    task = wait_done(api, running, timeout=10)
    assert task["state"] == "canceled" and time.monotonic() - started < 5
    assert task["progress_reports"][0]["state"] == "canceled"
    assert api.get(waiting).json()["started_at"] is None

    again = api.patch(running, json={"state": "canceled"})
    assert again.status_code == 409 and again.json()["pulp_href"] == running
    bad = api.patch(running, json={"state": "completed"})
    assert bad.status_code == 400
    assert bad.json() == {"state": ["The only acceptable value for 'state' is 'canceled'."]}
    # The resource is free again.
    assert wait_done(api, sleep_task(api, 0.1, exclusive=[resource]), timeout=20)["state"] == "completed"


def test_failed_task_records_error_and_frees_resource(api):
    resource = _resource()
    failed = wait_done(api, sleep_task(api, 0.1, exclusive=[resource], fail=True))
    assert failed["state"] == "failed"
    assert "asked to fail" in failed["error"]["description"]
    assert "Traceback" in failed["error"]["traceback"]
    assert wait_done(api, sleep_task(api, 0.1, exclusive=[resource]))["state"] == "completed"


def test_task_fields_filters_and_delete(api):
    cid = uuid.uuid4().hex
    href = api.post(V3 + "test/sleep/", json={"seconds": 0.1}, headers={"Correlation-ID": cid}).json()["task"]
    task = wait_done(api, href)
    assert task["logging_cid"] == cid
    for key in ("pulp_href", "prn", "pulp_created", "pulp_last_updated", "state", "name", "logging_cid",
                "created_by", "unblocked_at", "started_at", "finished_at", "error", "worker", "parent_task",
                "child_tasks", "task_group", "progress_reports", "created_resources", "created_resource_prns",
                "reserved_resources_record", "result", "pulp_api_version"):
        assert key in task
    assert api.get(V3 + "tasks/", params={"logging_cid": cid}).json()["count"] == 1
    assert api.get(V3 + "tasks/", params={"state": "completed", "name": task["name"], "limit": 1}).json()["count"] >= 1
    minimal = api.get(V3 + "tasks/", params={"logging_cid": cid, "minimal": "true"}).json()["results"][0]
    assert "progress_reports" not in minimal and minimal["state"] == "completed"
    assert api.get(V3 + "tasks/", params={"state": "bogus-filter-value", "nope": 1}).status_code == 400
    assert api.get(V3 + "tasks/", params={"started_at__gt": "yesterday"}).status_code == 400
    assert api.delete(href).status_code == 204
    assert api.get(href).status_code == 404


def test_delete_of_unfinished_task_is_409(api):
    href = sleep_task(api, 20, exclusive=[_resource()])
    assert api.delete(href).status_code == 409
    api.patch(href, json={"state": "canceled"})
    assert wait_done(api, href)["state"] == "canceled"


def test_a_cancel_racing_the_claim_is_never_lost(api):
    # Each task is canceled about when a worker claims it. A cancel answered "canceled" ended
    # a waiting task: no worker may start it afterwards. ("canceling" asks a running task to
    # stop; one that finishes first stays completed.)
    resource = _resource()
    ended = []
    for _ in range(12):
        href = sleep_task(api, 0.2, exclusive=[resource])
        response = api.patch(href, json={"state": "canceled"})
        if response.status_code == 200 and response.json()["state"] == "canceled":
            ended.append(href)
    assert ended
    for href in ended:
        task = wait_done(api, href)
        assert (task["state"], task["started_at"]) == ("canceled", None)


def test_idle_workers_start_a_dispatched_task_at_once(api):
    # Idle workers ask for a task only every IDLE_POLL (5) seconds unless they learn that
    # something was committed (PostgreSQL: NOTIFY; SQLite: the data version). Without that,
    # two workers would start a task within half a second of its dispatch about once in
    # five, and all four of these about once in 700.
    delays = []
    for pause in (0.7, 1.3, 0.9, 1.6):
        time.sleep(pause)  # the workers go idle again, each at its own point of its poll
        task = wait_done(api, sleep_task(api, 0))
        assert task["state"] == "completed"
        delays.append((_t(task["started_at"]) - _t(task["pulp_created"])).total_seconds())
    assert max(delays) < 0.5, delays
