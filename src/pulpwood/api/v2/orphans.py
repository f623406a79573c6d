"""`/v2/content/orphans/`: units no repository version holds, per v2 unit type."""

from __future__ import annotations

import uuid

from fastapi import Request
from sqlalchemy import select

from pulpwood.api.deps import reading, writing
from pulpwood.api.v2.common import authed_router, task_fields
from pulpwood.api.v2.dispatching import dispatch_v2
from pulpwood.api.v2.errors import MissingResource
from pulpwood.api.v2.tasks import DELETE_ORPHANS
from pulpwood.api.v2.transport import call_report, ok, v2_prefix
from pulpwood.api.v2.plugin_types import UNIT_TYPES
from pulpwood.models import Content, RepositoryContent

router = authed_router()
# v2 unit type -> core content pulp_type whose orphans it counts.
CORE_TYPES = {"iso": "file.file", "ostree": "ostree.refs"}


async def orphan_ids(session) -> dict[str, list[uuid.UUID]]:
    held = select(RepositoryContent.content_id)
    out: dict[str, list[uuid.UUID]] = {t: [] for t in UNIT_TYPES}
    for v2_type, pulp_type in CORE_TYPES.items():
        out[v2_type] = list(await session.scalars(select(Content.pulp_id).where(
            Content.pulp_type == pulp_type, Content.pulp_id.not_in(held))))
    return out


@router.get("/content/orphans/")
async def summary(request: Request):
    prefix = v2_prefix(request)
    async with reading(request) as session:
        found = await orphan_ids(session)
    return ok({t: {"count": len(ids), "_href": f"{prefix}content/orphans/{t}/"} for t, ids in found.items()})


@router.get("/content/orphans/{type_id}/")
async def by_type(request: Request, type_id: str):
    if type_id not in UNIT_TYPES:
        raise MissingResource(content_type=type_id)
    prefix = v2_prefix(request)
    async with reading(request) as session:
        found = await orphan_ids(session)
    return ok([{"_id": str(i), "_content_type_id": type_id, "_href": f"{prefix}content/orphans/{type_id}/{i}/"}
               for i in found[type_id]])


async def _delete(request: Request, type_id: str | None):
    async with writing(request) as session:
        task = await dispatch_v2(session, DELETE_ORPHANS, kwargs={"type_id": type_id},
                                 tags=["pulp:content_unit:orphans"], task_type=DELETE_ORPHANS,
                                 exclusive=["pulp2:orphans"], **task_fields(request))
    return call_report(v2_prefix(request), [task.pulp_id])


@router.delete("/content/orphans/")
async def delete_all(request: Request):
    return await _delete(request, None)


@router.delete("/content/orphans/{type_id}/")
async def delete_type(request: Request, type_id: str):
    if type_id not in UNIT_TYPES:
        raise MissingResource(content_type=type_id)
    return await _delete(request, type_id)
