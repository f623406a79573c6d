"""`/v2/repositories/<id>/distributors/`: associate (201, the seed's document), list, get,
update and remove (tasks)."""

from __future__ import annotations

import uuid

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from pulpwood.api.deps import reading, writing
from pulpwood.api.v2 import core, render
from pulpwood.api.v2.common import DISTRIBUTOR_ID, authed_router, in_progress, running_tags, task_fields
from pulpwood.api.v2.dispatching import dispatch_v2, repo_resources
from pulpwood.api.v2.errors import InvalidValue, MissingValue
from pulpwood.api.v2.tasks import REMOVE_DISTRIBUTOR, UPDATE_DISTRIBUTOR
from pulpwood.api.v2.transport import call_report, json_body, ok, v2_prefix
from pulpwood.api.v2.plugin_types import DISTRIBUTORS, PATH_KEYS
from pulpwood.db.base import utcnow
from pulpwood.models.pulp2 import V2Distributor, V2Repository

router = authed_router()


def check_distributor_body(body: dict, settings) -> tuple[str, dict, str, bool]:
    """(type id, config without nulls, distributor id, auto_publish) after the synchronous checks."""
    type_id = body.get("distributor_type_id")
    if type_id is None:
        raise MissingValue(["distributor_type_id"])
    if type_id not in DISTRIBUTORS:
        raise InvalidValue(["distributor_type_id"])
    config = body.get("distributor_config")
    if config is None:
        config = {}
    if not isinstance(config, dict):
        raise InvalidValue(["distributor_config"])
    config = {k: v for k, v in config.items() if v is not None}
    dist_id = body.get("distributor_id")
    if dist_id is None:
        dist_id = str(uuid.uuid4())
    if not isinstance(dist_id, str) or not DISTRIBUTOR_ID.fullmatch(dist_id):
        raise InvalidValue(["distributor_id"])
    auto_publish = body.get("auto_publish", False)
    if not isinstance(auto_publish, bool):
        raise InvalidValue(["auto_publish"])
    DISTRIBUTORS[type_id].validate(config, {"publish_root": str(settings.publish_root)})
    return type_id, config, dist_id, auto_publish


async def add_distributor(session: AsyncSession, repo: V2Repository, settings, type_id: str, config: dict,
                          dist_id: str, auto_publish: bool) -> V2Distributor:
    dtype = DISTRIBUTORS[type_id]
    if type_id in PATH_KEYS:
        dtype.validate(config, {"repo_id": repo.repo_id, "publish_root": str(settings.publish_root),
                                "others": await core.other_paths(session, repo, type_id)})
    # Same id on this repository: replaced, not a conflict (Pulp 2 behaviour).
    existing = [d for d in await core.get_distributors(session, repo) if d.distributor_id == dist_id]
    for old in existing:
        await core.detach_distribution(session, old)
        await session.delete(old)
        await session.flush()
    await core.ensure_core(session, repo, dtype.kind, dtype.unit_type, "distributor_type_id")
    dist = V2Distributor(repo_pk=repo.pulp_id, distributor_id=dist_id, distributor_type_id=type_id, config=config,
                         auto_publish=auto_publish, scratchpad=None, last_updated=utcnow())
    session.add(dist)
    await session.flush()
    await core.attach_distribution(session, repo, dist)
    return dist


@router.post("/repositories/{repo_id}/distributors/")
async def associate_distributor(request: Request, repo_id: str):
    body = await json_body(request, empty_ok=False)
    settings = request.app.state.runtime.settings
    async with writing(request) as session:
        repo = await core.get_repo(session, repo_id)
        dist = await add_distributor(session, repo, settings, *check_distributor_body(body, settings))
        document = render.distributor(v2_prefix(request), repo_id, dist)
    return ok(document, 201, location=document["_href"])


@router.get("/repositories/{repo_id}/distributors/")
async def list_distributors(request: Request, repo_id: str):
    async with reading(request) as session:
        repo = await core.get_repo(session, repo_id)
        tags = await running_tags(session)
        return ok([render.distributor(v2_prefix(request), repo_id, d,
                                      in_progress(tags, repo_id, "publish", d.distributor_id))
                   for d in await core.get_distributors(session, repo)])


@router.get("/repositories/{repo_id}/distributors/{dist_id}/")
async def get_distributor(request: Request, repo_id: str, dist_id: str):
    async with reading(request) as session:
        repo = await core.get_repo(session, repo_id)
        dist = await core.get_distributor(session, repo, dist_id)
        tags = await running_tags(session)
        return ok(render.distributor(v2_prefix(request), repo_id, dist,
                                     in_progress(tags, repo_id, "publish", dist_id)))


@router.put("/repositories/{repo_id}/distributors/{dist_id}/")
async def update_distributor(request: Request, repo_id: str, dist_id: str):
    body = await json_body(request)
    config = body.get("distributor_config")
    config = {} if config is None else config
    delta = body.get("delta")
    delta = {} if delta is None else delta
    if not isinstance(config, dict):
        raise InvalidValue(["distributor_config"])
    if not isinstance(delta, dict):
        raise InvalidValue(["delta"])
    async with writing(request) as session:
        repo = await core.get_repo(session, repo_id)
        dist = await core.get_distributor(session, repo, dist_id)
        unknown = sorted(set(config) - DISTRIBUTORS[dist.distributor_type_id].keys - {"auto_publish"})
        if unknown:
            DISTRIBUTORS[dist.distributor_type_id].validate({k: None for k in unknown})
        task = await dispatch_v2(
            session, UPDATE_DISTRIBUTOR,
            kwargs={"repo_id": repo_id, "distributor_id": dist_id, "distributor_config": config, "delta": delta},
            tags=[f"pulp:repository:{repo_id}", f"pulp:repository_distributor:{dist_id}",
                  "pulp:action:update_distributor"],
            task_type=UPDATE_DISTRIBUTOR, exclusive=await repo_resources(session, repo), **task_fields(request))
    return call_report(v2_prefix(request), [task.pulp_id])


@router.delete("/repositories/{repo_id}/distributors/{dist_id}/")
async def remove_distributor(request: Request, repo_id: str, dist_id: str):
    async with writing(request) as session:
        repo = await core.get_repo(session, repo_id)
        await core.get_distributor(session, repo, dist_id)
        task = await dispatch_v2(
            session, REMOVE_DISTRIBUTOR, kwargs={"repo_id": repo_id, "distributor_id": dist_id},
            tags=[f"pulp:repository:{repo_id}", f"pulp:repository_distributor:{dist_id}",
                  "pulp:action:remove_distributor"],
            task_type=REMOVE_DISTRIBUTOR, exclusive=await repo_resources(session, repo), **task_fields(request))
    return call_report(v2_prefix(request), [task.pulp_id])
