"""Repository actions: sync, publish, their history, unit search, copy and remove."""

from __future__ import annotations

import datetime as dt

from fastapi import Request
from sqlalchemy import select

from pulpwood.api.deps import reading, writing
from pulpwood.api.v2 import core, render
from pulpwood.api.v2.common import authed_router, task_fields
from pulpwood.api.v2.dispatching import dispatch_v2, repo_resources
from pulpwood.api.v2.errors import InvalidValue, MissingValue
from pulpwood.api.v2.tasks import ASSOCIATE, PUBLISH, SYNC, UNASSOCIATE
from pulpwood.api.v2.transport import call_report, json_body, ok, v2_prefix
from pulpwood.api.v2.units import check_criteria, repo_units, select_units
from pulpwood.models.pulp2 import V2History, V2Repository

router = authed_router()


def _override(body: dict) -> dict:
    override = body.get("override_config")
    if override is None:
        return {}
    if not isinstance(override, dict):
        raise InvalidValue(["override_config"])
    return override


@router.post("/repositories/{repo_id}/actions/sync/")
async def sync(request: Request, repo_id: str):
    body = await json_body(request)
    override = _override(body)
    async with writing(request) as session:
        repo = await core.get_repo(session, repo_id)
        importer = await core.get_importer(session, repo)
        tags = [f"pulp:repository:{repo_id}", "pulp:action:sync"]
        if importer is not None:
            tags.append(f"pulp:v2_owner:{importer.importer_type_id}")
        task = await dispatch_v2(session, SYNC, kwargs={"repo_id": repo_id, "override_config": override},
                                 tags=tags, task_type=SYNC, exclusive=await repo_resources(session, repo),
                                 **task_fields(request))
    return call_report(v2_prefix(request), [task.pulp_id])


@router.post("/repositories/{repo_id}/actions/publish/")
async def publish(request: Request, repo_id: str):
    body = await json_body(request, empty_ok=False)
    override = _override(body)
    dist_id = body.get("id")
    if dist_id is None:
        raise MissingValue(["id"])
    if not isinstance(dist_id, str):
        raise InvalidValue(["id"])
    async with writing(request) as session:
        repo = await core.get_repo(session, repo_id)
        task = await dispatch_v2(session, PUBLISH,
                                 kwargs={"repo_id": repo_id, "distributor_id": dist_id, "override_config": override},
                                 tags=[f"pulp:repository:{repo_id}", "pulp:action:publish", f"pulp:v2_owner:{dist_id}"],
                                 task_type=PUBLISH, exclusive=await repo_resources(session, repo),
                                 **task_fields(request))
    return call_report(v2_prefix(request), [task.pulp_id])


def _history_params(request: Request) -> tuple[int | None, bool, dt.datetime | None, dt.datetime | None]:
    params = request.query_params
    bad = []
    limit = params.get("limit")
    if limit is not None:
        if not limit.isdigit() or int(limit) < 1:
            bad.append("limit")
        else:
            limit = int(limit)
    sort = params.get("sort", "descending")
    if sort not in ("ascending", "descending"):
        bad.append("sort")
    dates = {}
    for key in ("start_date", "end_date"):
        value = params.get(key)
        dates[key] = None
        if value is not None:
            try:
                parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
                dates[key] = parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
            except ValueError:
                bad.append(key)
    if bad:
        raise InvalidValue(bad)
    return limit, sort == "ascending", dates["start_date"], dates["end_date"]


async def _history(request: Request, repo_id: str, kind: str, owner: str | None):
    limit, ascending, start, end = _history_params(request)
    async with reading(request) as session:
        repo = await core.get_repo(session, repo_id)
        if owner is not None:
            await core.get_distributor(session, repo, owner)
        stmt = select(V2History).where(V2History.repo_id == repo_id, V2History.kind == kind)
        if owner is not None:
            stmt = stmt.where(V2History.owner_id == owner)
        if start is not None:
            stmt = stmt.where(V2History.started >= start)
        if end is not None:
            stmt = stmt.where(V2History.started <= end)
        order = V2History.pulp_id.asc() if ascending else V2History.pulp_id.desc()
        stmt = stmt.order_by(order)
        if limit:
            stmt = stmt.limit(limit)
        return ok([render.history(h) for h in await session.scalars(stmt)])


@router.get("/repositories/{repo_id}/history/sync/")
async def sync_history(request: Request, repo_id: str):
    return await _history(request, repo_id, "sync", None)


@router.get("/repositories/{repo_id}/history/publish/{dist_id}/")
async def publish_history(request: Request, repo_id: str, dist_id: str):
    return await _history(request, repo_id, "publish", dist_id)


@router.api_route("/repositories/{repo_id}/search/units/", methods=["GET", "POST"])
async def search_units(request: Request, repo_id: str):
    if request.method == "POST":
        body = await json_body(request)
        criteria = body.get("criteria", {})
    else:
        criteria = {}
    criteria = check_criteria(criteria)
    async with reading(request) as session:
        repo = await core.get_repo(session, repo_id)
        importer = await core.get_importer(session, repo)
        feed = (importer.config or {}).get("feed") if importer else None
        return ok(select_units(await repo_units(session, repo, feed), criteria))


@router.post("/repositories/{repo_id}/actions/associate/")
async def associate(request: Request, repo_id: str):
    body = await json_body(request, empty_ok=False)
    source_id = body.get("source_repo_id")
    if source_id is None:
        raise MissingValue(["source_repo_id"])
    criteria = check_criteria(body.get("criteria"))
    _override(body)
    async with writing(request) as session:
        dest = await core.get_repo(session, repo_id)
        source = await session.scalar(select(V2Repository).where(V2Repository.repo_id == source_id)) \
            if isinstance(source_id, str) else None
        if source is None:
            raise InvalidValue(["source_repo_id"])
        task = await dispatch_v2(
            session, ASSOCIATE, kwargs={"source_repo_id": source_id, "dest_repo_id": repo_id, "criteria": criteria},
            tags=[f"pulp:repository:{source_id}", f"pulp:repository:{repo_id}", "pulp:action:associate"],
            task_type=ASSOCIATE,
            exclusive=[*await repo_resources(session, dest), *await repo_resources(session, source)],
            **task_fields(request))
    return call_report(v2_prefix(request), [task.pulp_id])


@router.post("/repositories/{repo_id}/actions/unassociate/")
async def unassociate(request: Request, repo_id: str):
    body = await json_body(request)
    # An empty criteria removes every unit, as Pulp 2 does.
    criteria = check_criteria(body.get("criteria"))
    async with writing(request) as session:
        repo = await core.get_repo(session, repo_id)
        task = await dispatch_v2(session, UNASSOCIATE, kwargs={"repo_id": repo_id, "criteria": criteria},
                                 tags=[f"pulp:repository:{repo_id}", "pulp:action:unassociate"],
                                 task_type=UNASSOCIATE, exclusive=await repo_resources(session, repo),
                                 **task_fields(request))
    return call_report(v2_prefix(request), [task.pulp_id])


@router.api_route("/repositories/{repo_id}/importers/{importer_id}/schedules/sync/{rest:path}",
                  methods=["GET", "POST", "PUT", "DELETE"])
@router.api_route("/repositories/{repo_id}/distributors/{importer_id}/schedules/publish/{rest:path}",
                  methods=["GET", "POST", "PUT", "DELETE"])
async def schedules(request: Request, repo_id: str, importer_id: str, rest: str = ""):
    """Scheduled syncs and publishes are not offered: a clear 501 rather than a silent no-op."""
    from pulpwood.api.v2.errors import NotImplementedOperation

    async with reading(request) as session:
        await core.get_repo(session, repo_id)
    raise NotImplementedOperation("schedules")
