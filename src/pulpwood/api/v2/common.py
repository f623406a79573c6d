"""Route helpers shared by the v2 routers."""

from __future__ import annotations

import re

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select

from pulpwood.api.deps import correlation_id, runtime_of
from pulpwood.api.v2.transport import V2Route, require_v2_user
from pulpwood.models import Task
from pulpwood.models.pulp2 import V2TaskRecord
from pulpwood.models.task import INCOMPLETE_STATES

REPO_ID = re.compile(r"^[.\-_A-Za-z0-9]+$")
DISTRIBUTOR_ID = re.compile(r"^[\-_A-Za-z0-9]+$")


def authed_router() -> APIRouter:
    return APIRouter(route_class=V2Route, dependencies=[Depends(require_v2_user)])


def task_fields(request: Request) -> dict:
    return {"user_id": getattr(request.state, "user_id", None), "logging_cid": correlation_id(request)}


async def running_tags(session) -> list[list[str]]:
    """Tags of every v2 task still waiting or running."""
    rows = await session.scalars(select(V2TaskRecord.tags).join(Task, Task.pulp_id == V2TaskRecord.task_id)
                                 .where(Task.state.in_(INCOMPLETE_STATES)))
    return list(rows)


def in_progress(tags_list: list[list[str]], repo_id: str, action: str, owner: str | None = None) -> bool:
    for tags in tags_list:
        if f"pulp:repository:{repo_id}" in tags and f"pulp:action:{action}" in tags:
            if owner is None or f"pulp:v2_owner:{owner}" in tags:
                return True
    return False


def runtime(request: Request):
    return runtime_of(request)
