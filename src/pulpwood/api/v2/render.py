"""v2 documents: repositories, importers and distributors in the seed's shape (plus the
Pulp 2.21 fields the seed does not show), history entries and task reports."""

from __future__ import annotations

import re

from pulpwood.api.v2.transport import oid, timestamp
from pulpwood.api.v2.plugin_types import masked
from pulpwood.models import Task
from pulpwood.models.pulp2 import V2Distributor, V2History, V2Importer, V2Repository, V2TaskRecord
from pulpwood.models.task import CANCELED, CANCELING, COMPLETED, FAILED, RUNNING, SKIPPED, WAITING

CODED = re.compile(r"^([A-Z]{3}\d{4}): ")
STATES = {WAITING: "waiting", RUNNING: "running", CANCELING: "running", COMPLETED: "finished",
          FAILED: "error", CANCELED: "canceled", SKIPPED: "skipped"}


def repository(prefix: str, repo: V2Repository, counts: dict[str, int]) -> dict:
    return {
        "id": repo.repo_id,
        "display_name": repo.display_name,
        "description": repo.description,
        "notes": repo.notes or {},
        "scratchpad": repo.scratchpad or {},
        "content_unit_count": sum(counts.values()),
        "content_unit_counts": counts,
        "last_unit_added": timestamp(repo.last_unit_added),
        "last_unit_removed": timestamp(repo.last_unit_removed),
        "_ns": "gc_repositories",
        "_id": repo.repo_id,
        "_href": f"{prefix}repositories/{repo.repo_id}/",
    }


def importer(prefix: str, repo_id: str, imp: V2Importer, in_progress: bool = False) -> dict:
    return {
        "id": imp.importer_type_id,
        "importer_type_id": imp.importer_type_id,
        "repo_id": repo_id,
        "config": masked(imp.config or {}),
        "scratchpad": imp.scratchpad,
        "last_sync": timestamp(imp.last_sync),
        "last_updated": timestamp(imp.last_updated),
        "last_override_config": {},
        "sync_in_progress": in_progress,
        "_ns": "gc_repo_importers",
        "_id": str(imp.pulp_id),
        "_href": f"{prefix}repositories/{repo_id}/importers/{imp.importer_type_id}/",
    }


def distributor(prefix: str, repo_id: str, dist: V2Distributor, in_progress: bool = False) -> dict:
    return {
        "id": dist.distributor_id,
        "distributor_type_id": dist.distributor_type_id,
        "repo_id": repo_id,
        "config": masked(dist.config or {}),
        "auto_publish": dist.auto_publish,
        "scratchpad": dist.scratchpad,
        "last_publish": timestamp(dist.last_publish),
        "last_updated": timestamp(dist.last_updated),
        "last_override_config": {},
        "publish_in_progress": in_progress,
        "_ns": "gc_repo_distributors",
        "_id": str(dist.pulp_id),
        "_href": f"{prefix}repositories/{repo_id}/distributors/{dist.distributor_id}/",
    }


def history(entry: V2History) -> dict:
    body = {
        "_id": oid(entry.pulp_id), "id": str(entry.pulp_id), "_ns": f"repo_{entry.kind}_results",
        "repo_id": entry.repo_id,
        "started": timestamp(entry.started), "completed": timestamp(entry.completed),
        "result": entry.result, "summary": entry.summary, "details": entry.details,
        "error_message": entry.error_message, "exception": entry.exception,
        "traceback": entry.traceback,
    }
    if entry.kind == "sync":
        body.update(importer_id=entry.owner_id, importer_type_id=entry.owner_type_id,
                    added_count=entry.added_count, updated_count=entry.updated_count,
                    removed_count=entry.removed_count)
    else:
        body.update(distributor_id=entry.owner_id, distributor_type_id=entry.owner_type_id)
    return body


def _progress(task: Task, record: V2TaskRecord | None) -> dict:
    reports = task.progress_reports or []
    failure = (task.error or {}).get("description")
    if not reports:
        return {}
    key = "progress"
    for tag in (record.tags if record else []):
        if tag.startswith("pulp:v2_owner:"):
            key = tag.split(":", 2)[2]
    states = {"running": "IN_PROGRESS", "completed": "FINISHED", "failed": "FAILED", "canceled": "CANCELLED",
              "skipped": "SKIPPED", "waiting": "NOT_STARTED"}
    steps = [{
        "step_id": f"{task.pulp_id}-{index}", "step_type": report.get("code"),
        "description": report.get("message"), "state": states.get(report.get("state"), "IN_PROGRESS"),
        "items_total": report.get("total") or 0, "num_processed": report.get("done") or 0,
        "num_success": report.get("done") or 0,
        "num_failures": 1 if report.get("state") == "failed" else 0,
        "error_details": [failure] if failure and report.get("state") == "failed" else [], "details": "",
    } for index, report in enumerate(reports)]
    return {key: steps}


def task_report(prefix: str, task: Task, record: V2TaskRecord | None, worker_name: str | None) -> dict:
    state = STATES.get(task.state, task.state)
    error = None
    traceback = None
    if task.error:
        description = task.error.get("description") or "Task failed"
        code = task.error.get("code") or "PLP0000"
        coded = CODED.match(description)
        if coded:
            code, description = coded[1], description[coded.end():]
        elif description.startswith("Missing resource(s)"):
            code = "PLP0009"
        error = {"code": code, "description": description, "data": task.error.get("data") or {},
                 "sub_errors": []}
        traceback = task.error.get("traceback")
    result = task.result
    if isinstance(result, dict) and "v2" in result:
        result = result["v2"]
    tags = [t for t in (record.tags if record else []) if not t.startswith("pulp:v2_owner:")]
    return {
        "_href": f"{prefix}tasks/{task.pulp_id}/",
        "_id": oid(task.pulp_id),
        "id": oid(task.pulp_id)["$oid"],
        "_ns": "task_status",
        "task_id": str(task.pulp_id),
        "task_type": record.task_type if record else task.name,
        "state": state,
        "tags": tags,
        "worker_name": worker_name,
        "queue": f"{worker_name}.dq" if worker_name else "",
        "start_time": timestamp(task.started_at),
        "finish_time": timestamp(task.finished_at),
        "progress_report": _progress(task, record),
        "result": result,
        "error": error,
        "exception": None,
        "traceback": traceback,
        "spawned_tasks": [{"_href": f"{prefix}tasks/{t}/", "task_id": t} for t in (record.spawned if record else [])],
    }
