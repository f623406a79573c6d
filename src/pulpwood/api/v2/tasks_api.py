"""`/v2/tasks/`: task reports of core tasks, listing by tag, search, cancel and purge."""

from __future__ import annotations

import uuid

from fastapi import Request
from sqlalchemy import delete, select
from starlette.responses import Response

from pulpwood.api.deps import reading, writing
from pulpwood.api.v2 import render
from pulpwood.api.v2.common import authed_router
from pulpwood.api.v2.errors import CodedError, MissingResource
from pulpwood.api.v2.search import run_search
from pulpwood.api.v2.transport import ok, v2_prefix
from pulpwood.api.v3.tasks import cancel
from pulpwood.models import AppStatus, Task
from pulpwood.models.pulp2 import V2TaskRecord

router = authed_router()
PURGEABLE = {"finished": "completed", "error": "failed", "skipped": "skipped"}


async def _reports(session, prefix: str, stmt) -> list[dict]:
    rows = (await session.execute(stmt)).all()
    workers = {}
    ids = {task.worker_id for task, _ in rows if task.worker_id}
    if ids:
        workers = dict((await session.execute(select(AppStatus.pulp_id, AppStatus.name)
                                              .where(AppStatus.pulp_id.in_(ids)))).all())
    return [render.task_report(prefix, task, record, workers.get(task.worker_id)) for task, record in rows]


def _base():
    return (select(Task, V2TaskRecord).outerjoin(V2TaskRecord, V2TaskRecord.task_id == Task.pulp_id)
            .order_by(Task.pulp_created))


def _parse(task_id: str) -> uuid.UUID:
    try:
        return uuid.UUID(task_id)
    except ValueError:
        raise MissingResource(task_id=task_id) from None


@router.get("/tasks/")
async def list_tasks(request: Request):
    tags = request.query_params.getlist("tag")
    async with reading(request) as session:
        reports = await _reports(session, v2_prefix(request), _base())
    return ok([r for r in reports if all(t in r["tags"] for t in tags)])


@router.api_route("/tasks/search/", methods=["GET", "POST"])
async def search_tasks(request: Request):
    async with reading(request) as session:
        reports = await _reports(session, v2_prefix(request), _base())
    return ok(await run_search(request, reports, always=("_id", "id", "_href", "task_id")))


@router.get("/tasks/{task_id}/")
async def get_task(request: Request, task_id: str):
    pk = _parse(task_id)
    async with reading(request) as session:
        reports = await _reports(session, v2_prefix(request), _base().where(Task.pulp_id == pk))
    if not reports:
        raise MissingResource(task_id=task_id)
    return ok(reports[0])


@router.delete("/tasks/{task_id}/")
async def cancel_task(request: Request, task_id: str):
    pk = _parse(task_id)
    async with writing(request) as session:
        task = await session.get(Task, pk)
        if task is None:
            raise MissingResource(task_id=task_id)
        await cancel(session, task)
    return ok(None)


@router.delete("/tasks/")
async def purge_tasks(request: Request):
    states = request.query_params.getlist("state")
    if not states:
        raise CodedError("PLP1012", "No task state given to parameter list for delete.", status=403)
    bad = [s for s in states if s not in PURGEABLE]
    if bad:
        raise CodedError("PLP1011", f"Invalid task state passed to purge: {', '.join(bad)}.")
    async with writing(request) as session:
        await session.execute(delete(Task).where(Task.state.in_([PURGEABLE[s] for s in states])))
    return Response(status_code=204)

