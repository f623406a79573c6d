"""`tasks/`, `task-groups/` and `workers/`."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Request
from sqlalchemy import String, cast, select
from sqlalchemy.orm import defer

from pulpwood import hrefs
from pulpwood.api import listing
from pulpwood.api.body import read_body
from pulpwood.api.deps import reading, require_user, runtime_of, writing
from pulpwood.api.dispatching import dispatch_from_request
from pulpwood.api.listing import FilterSet, paginate
from pulpwood.api.responses import JSONResponse, iso, no_content
from pulpwood.api.v3.common import base_fields, get_object
from pulpwood.db.base import utcnow
from pulpwood.errors import Conflict, ValidationError
from pulpwood.models import AppStatus, Task, TaskGroup
from pulpwood.models.task import CANCELED, CANCELING, FINAL_STATES, INCOMPLETE_STATES, RUNNING, WAITING
from pulpwood.services.tasks import PURGE

router = APIRouter(dependencies=[Depends(require_user)])
MINIMAL = ("pulp_href", "prn", "pulp_created", "pulp_last_updated", "pulp_api_version", "name", "state",
           "unblocked_at", "started_at", "finished_at", "worker")


def _forms(value: str) -> list[str]:
    """A resource as given plus its href when given as a PRN (records hold hrefs)."""
    forms = [value]
    if value.startswith("prn:"):
        resolved = hrefs.resolve(value)
        if resolved is not None and getattr(resolved.model, "__href_path__", None):
            forms.append(hrefs.href_for(resolved.model, resolved.pulp_id))
    return forms


def _contains(column, value: str):
    return listing.any_of(*[cast(column, String).contains(f'"{form}"', autoescape=True) for form in _forms(value)])


def _resource_clause(column_name: str):
    def build(value: str):
        return listing.any_of(*[_contains(getattr(Task, column_name), v) for v in listing._split([value])])
    return build


def _reserved(value: str):
    return listing.any_of(
        _contains(Task.reserved_resources_record, value),
        _contains(Task.exclusive_resources, value),
        _contains(Task.shared_resources, value),
    )


def _reserved_in(value: str):
    return listing.any_of(*[_reserved(v) for v in listing._split([value])])


TASK_FILTERS = FilterSet(
    filters={
        "state": lambda v: Task.state == v,
        "state__in": lambda v: Task.state.in_(listing._split([v])),
        "state__ne": lambda v: Task.state != v,
        **listing.text_lookups("name", Task.name),
        **listing.text_lookups("logging_cid", Task.logging_cid),
        **listing.datetime_lookups("pulp_created", Task.pulp_created),
        **listing.datetime_lookups("started_at", Task.started_at),
        **listing.datetime_lookups("finished_at", Task.finished_at),
        **listing.datetime_lookups("unblocked_at", Task.unblocked_at),
        "worker": listing.fk_filter("worker", Task.worker_id, AppStatus),
        "worker__in": lambda v: Task.worker_id.in_([hrefs.resolve(x).pulp_id for x in listing._split([v]) if hrefs.resolve(x)]),
        "parent_task": listing.fk_filter("parent_task", Task.parent_task_id, Task),
        "task_group": listing.fk_filter("task_group", Task.task_group_id, TaskGroup),
        "created_resources": _resource_clause("created_resources"),
        "reserved_resources": _reserved,
        "reserved_resources__in": _reserved_in,
        "exclusive_resources": _resource_clause("exclusive_resources"),
        "exclusive_resources__in": _resource_clause("exclusive_resources"),
        "shared_resources": _resource_clause("shared_resources"),
        "shared_resources__in": _resource_clause("shared_resources"),
        **listing.href_in(Task),
    },
    ordering={"pulp_created": Task.pulp_created, "started_at": Task.started_at, "finished_at": Task.finished_at,
              "name": Task.name, "state": Task.state, "pk": Task.pulp_id},
    default_order=[Task.pulp_created.desc(), Task.pulp_id.desc()],
)


def serialize_task(task: Task, children: list[str]) -> dict:
    worker = hrefs.href_for(AppStatus, task.worker_id) if task.worker_id else None
    return {
        **base_fields(task),
        "state": task.state,
        "name": task.name,
        "logging_cid": task.logging_cid or "",
        "created_by": f"{hrefs.v3_root()}users/{task.created_by_id}/" if task.created_by_id else None,
        "unblocked_at": iso(task.unblocked_at),
        "started_at": iso(task.started_at),
        "finished_at": iso(task.finished_at),
        "error": task.error,
        "worker": worker,
        "parent_task": hrefs.href_for(Task, task.parent_task_id) if task.parent_task_id else None,
        "child_tasks": children,
        "task_group": hrefs.href_for(TaskGroup, task.task_group_id) if task.task_group_id else None,
        "progress_reports": task.progress_reports,
        "created_resources": task.created_resources,
        "created_resource_prns": [_to_prn(h) for h in task.created_resources],
        "reserved_resources_record": task.reserved_resources_record,
        "result": task.result,
        "pulp_api_version": "v3",
    }


def _to_prn(href: str) -> str:
    resolved = hrefs.resolve(href)
    if resolved is None or resolved.version_number is not None:
        return href
    return f"prn:{resolved.model.__prn__}:{resolved.pulp_id}" if hasattr(resolved.model, "__prn__") else href


async def serialize_tasks(session, tasks: list[Task], minimal: bool = False) -> list[dict]:
    ids = [t.pulp_id for t in tasks]
    children: dict = {}
    if ids:
        rows = await session.execute(select(Task.parent_task_id, Task.pulp_id).where(Task.parent_task_id.in_(ids)))
        for parent, child in rows.all():
            children.setdefault(parent, []).append(hrefs.href_for(Task, child))
    items = [serialize_task(t, children.get(t.pulp_id, [])) for t in tasks]
    if minimal:
        items = [{k: v for k, v in item.items() if k in MINIMAL} for item in items]
    return items


@router.get("/tasks/")
async def list_tasks(request: Request) -> JSONResponse:
    minimal = request.query_params.get("minimal", "").lower() in ("true", "1")
    async with reading(request) as session:
        # kwargs are never shown; leave them in the database.
        stmt = TASK_FILTERS.apply(select(Task).options(defer(Task.kwargs)), request)
        return await paginate(session, request, stmt, lambda s, rows: serialize_tasks(s, rows, minimal))


@router.get("/tasks/{pk}/")
async def read_task(pk: str, request: Request) -> JSONResponse:
    async with reading(request) as session:
        task = await get_object(session, Task, pk)
        return JSONResponse(listing.trim_fields((await serialize_tasks(session, [task]))[0], request))


@router.patch("/tasks/{pk}/")
async def cancel_task(pk: str, request: Request) -> JSONResponse:
    body = await read_body(request)
    if body.get("state") != CANCELED:
        raise ValidationError({"state": ["The only acceptable value for 'state' is 'canceled'."]})
    async with writing(request) as session:
        task = await get_object(session, Task, pk)
        await session.refresh(task, with_for_update=True)
        if task.state in FINAL_STATES:
            data = (await serialize_tasks(session, [task]))[0]
            raise Conflict(data)
        await cancel(session, task)
        await session.flush()
        data = (await serialize_tasks(session, [task]))[0]
    return JSONResponse(data)


async def cancel(session, task: Task) -> None:
    """Waiting tasks end at once; running ones are asked to stop (their worker watches).

    The row is locked and read again first: a worker may be claiming the task right now,
    and deciding on a stale state would overwrite its claim (or be overwritten by it) and
    lose the cancel. The claim changes only a still-waiting row (tasking/scheduler.py)."""
    await session.refresh(task, with_for_update=True)
    if task.state == WAITING:
        task.state = CANCELED
        task.finished_at = utcnow()
        task.progress_reports = [{**r, "state": CANCELED} for r in task.progress_reports]
    elif task.state == RUNNING:
        task.state = CANCELING


@router.delete("/tasks/{pk}/")
async def delete_task(pk: str, request: Request):
    async with writing(request) as session:
        task = await get_object(session, Task, pk)
        if task.state in INCOMPLETE_STATES:
            raise Conflict(None)
        await session.delete(task)
    return no_content()


@router.post("/tasks/purge/")
async def purge_tasks(request: Request) -> JSONResponse:
    body = await read_body(request)
    finished_before = body.get("finished_before")
    if finished_before:
        if not isinstance(finished_before, str):
            raise ValidationError({"finished_before": ["Datetime has wrong format."]})
        try:
            cutoff = listing.parse_datetime(finished_before, "finished_before")
        except ValidationError:
            raise ValidationError({"finished_before": ["Datetime has wrong format."]}) from None
    else:
        cutoff = utcnow() - dt.timedelta(days=30)
    states = body.get("states") or ["completed"]
    if isinstance(states, str):
        states = listing._split([states])
    if not isinstance(states, list):
        raise ValidationError({"states": [f'Expected a list of items but got type "{type(states).__name__}".']})
    bad = [s for s in states if not isinstance(s, str) or s not in FINAL_STATES]
    if bad:
        raise ValidationError({"states": [f'"{bad[0]}" is not a valid choice.']})
    return await dispatch_from_request(request, PURGE, kwargs={"finished_before": cutoff.isoformat(), "states": states},
                                       exclusive=[], shared=[], immediate=False)


# -- task groups ---------------------------------------------------------------------------

async def serialize_group(session, group: TaskGroup) -> dict:
    tasks = list(await session.scalars(select(Task).where(Task.task_group_id == group.pulp_id).order_by(Task.pulp_created)))
    counts = {state: 0 for state in ("waiting", "skipped", "running", "completed", "canceled", "failed", "canceling")}
    for task in tasks:
        counts[task.state] = counts.get(task.state, 0) + 1
    return {
        "pulp_href": hrefs.href(group), "prn": hrefs.prn(group), "description": group.description,
        "all_tasks_dispatched": group.all_tasks_dispatched, **counts,
        "group_progress_reports": [],
        "tasks": await serialize_tasks(session, tasks, minimal=True),
    }


@router.get("/task-groups/")
async def list_groups(request: Request) -> JSONResponse:
    async with reading(request) as session:
        stmt = FilterSet({}, {}, [TaskGroup.pulp_created.desc()]).apply(select(TaskGroup), request)

        async def many(s, rows):
            return [await serialize_group(s, g) for g in rows]
        return await paginate(session, request, stmt, many)


@router.get("/task-groups/{pk}/")
async def read_group(pk: str, request: Request) -> JSONResponse:
    async with reading(request) as session:
        group = await get_object(session, TaskGroup, pk)
        return JSONResponse(await serialize_group(session, group))


@router.patch("/task-groups/{pk}/")
async def cancel_group(pk: str, request: Request) -> JSONResponse:
    body = await read_body(request)
    if body.get("state") != CANCELED:
        raise ValidationError({"state": ["The only acceptable value for 'state' is 'canceled'."]})
    async with writing(request) as session:
        group = await get_object(session, TaskGroup, pk)
        for task in await session.scalars(select(Task).where(Task.task_group_id == group.pulp_id)):
            await cancel(session, task)
        await session.flush()
        return JSONResponse(await serialize_group(session, group))


# -- workers -------------------------------------------------------------------------------

def serialize_worker(app: AppStatus, current: dict) -> dict:
    return {**base_fields(app), "name": app.name, "last_heartbeat": iso(app.last_heartbeat),
            "versions": app.versions, "current_task": current.get(app.pulp_id)}


def _online(request: Request):
    ttl = runtime_of(request).settings.worker_ttl

    def build(v: str):
        cutoff = utcnow() - dt.timedelta(seconds=ttl)
        if v.lower() in ("true", "1"):
            return AppStatus.last_heartbeat >= cutoff
        return AppStatus.last_heartbeat < cutoff
    return build


@router.get("/workers/")
async def list_workers(request: Request) -> JSONResponse:
    filters = FilterSet(
        {**listing.text_lookups("name", AppStatus.name), **listing.datetime_lookups("last_heartbeat", AppStatus.last_heartbeat),
         "online": _online(request), "missing": lambda v: _online(request)("false" if v.lower() in ("true", "1") else "true"),
         **listing.href_in(AppStatus)},
        {"name": AppStatus.name, "last_heartbeat": AppStatus.last_heartbeat, "pk": AppStatus.pulp_id},
        [AppStatus.pulp_created.desc()],
    )
    async with reading(request) as session:
        stmt = filters.apply(select(AppStatus).where(AppStatus.app_type == "worker"), request)

        async def many(s, rows):
            current = dict((await s.execute(select(Task.worker_id, Task.pulp_id).where(
                Task.state.in_((RUNNING, CANCELING)), Task.worker_id.in_([r.pulp_id for r in rows])))).all())
            return [serialize_worker(r, {k: hrefs.href_for(Task, v) for k, v in current.items()}) for r in rows]
        return await paginate(session, request, stmt, many)


@router.get("/workers/{pk}/")
async def read_worker(pk: str, request: Request) -> JSONResponse:
    async with reading(request) as session:
        app = await get_object(session, AppStatus, pk)
        return JSONResponse(serialize_worker(app, {}))
