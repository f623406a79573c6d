"""Core task functions, registered under the names Pulp gives them."""

from __future__ import annotations

import datetime as dt
import importlib
import uuid
from typing import Any

from sqlalchemy import Uuid, delete, inspect, select

from pulpwood import hrefs
from pulpwood.db.base import utcnow
from pulpwood.errors import TaskError
from pulpwood.models import RepositoryVersion, Task
from pulpwood.models.task import FINAL_STATES
from pulpwood.tasking.registry import register

GENERAL_CREATE = "pulpcore.app.tasks.base.general_create"
GENERAL_UPDATE = "pulpcore.app.tasks.base.ageneral_update"
GENERAL_DELETE = "pulpcore.app.tasks.base.ageneral_delete"
DELETE_VERSION = "pulpcore.app.tasks.repository.delete_version"
REPAIR_VERSION = "pulpcore.app.tasks.repository.repair_version"
ORPHAN_CLEANUP = "pulpcore.app.tasks.orphan.orphan_cleanup"
RECLAIM_SPACE = "pulpcore.app.tasks.reclaim_space.reclaim"
UPLOAD_COMMIT = "pulpcore.app.tasks.upload.commit"
PURGE = "pulpcore.app.tasks.purge.purge"


def model_path(model) -> str:
    return f"{model.__module__}:{model.__qualname__}"


def load_model(path: str):
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


def to_json_values(model, data: dict[str, Any]) -> dict[str, Any]:
    """Column values -> JSON-safe values for a task's kwargs."""
    out = {}
    for key, value in data.items():
        if isinstance(value, uuid.UUID):
            value = str(value)
        elif isinstance(value, dt.datetime):
            value = value.isoformat()
        out[key] = value
    return out


def from_json_values(model, data: dict[str, Any]) -> dict[str, Any]:
    columns = inspect(model).columns
    out = {}
    for key, value in data.items():
        column = columns.get(key)
        if column is not None and isinstance(column.type, Uuid) and isinstance(value, str):
            value = uuid.UUID(value)
        out[key] = value
    return out


@register(GENERAL_CREATE)
async def general_create(ctx, model: str, data: dict) -> None:
    cls = load_model(model)
    async with ctx.transaction() as session:
        obj = cls(**from_json_values(cls, data))
        session.add(obj)
        await session.flush()
        ctx.created(hrefs.href(obj))


@register(GENERAL_UPDATE)
async def general_update(ctx, model: str, pk: str, data: dict) -> None:
    cls = load_model(model)
    async with ctx.transaction() as session:
        obj = await session.get(cls, uuid.UUID(pk))
        if obj is None:
            raise TaskError(f"{cls.__name__} {pk} no longer exists.")
        for key, value in from_json_values(cls, data).items():
            setattr(obj, key, value)
        obj.pulp_last_updated = utcnow()


@register(GENERAL_DELETE)
async def general_delete(ctx, model: str, pk: str) -> None:
    cls = load_model(model)
    async with ctx.transaction() as session:
        obj = await session.get(cls, uuid.UUID(pk))
        if obj is not None:
            await session.delete(obj)


@register(DELETE_VERSION)
async def delete_version(ctx, pk: str) -> None:
    from pulpwood.services.versions import protected_version_ids, squash_version

    async with ctx.transaction() as session:
        version = await session.get(RepositoryVersion, uuid.UUID(pk))
        if version is None:
            return
        remaining = await session.scalar(
            select(RepositoryVersion.pulp_id).where(
                RepositoryVersion.repository_id == version.repository_id,
                RepositoryVersion.pulp_id != version.pulp_id, RepositoryVersion.complete.is_(True)).limit(1))
        if remaining is None:
            raise TaskError("Cannot delete repository version. Repositories must have at least one repository version.")
        if version.pulp_id in await protected_version_ids(session, version.repository_id):
            raise TaskError(f"Cannot delete repository version {version.number}: it is served by a distribution.")
        await squash_version(session, version)


@register(PURGE)
async def purge(ctx, finished_before: str, states: list[str]) -> None:
    cutoff = dt.datetime.fromisoformat(finished_before)
    bad = [s for s in states if s not in FINAL_STATES]
    if bad:
        raise TaskError(f"Cannot purge tasks in states {bad}.")
    async with ctx.transaction() as session:
        result = await session.execute(
            delete(Task).where(Task.finished_at < cutoff, Task.state.in_(states), Task.pulp_id != ctx.task_id))
        ctx.result = {"Task": result.rowcount}


def _register_more() -> None:
    """Import the modules whose tasks register themselves by name."""
    import os

    from pulpwood.services import orphans, repair, uploads  # noqa: F401

    # Test-only tasks (a long sleep) exist only where a test asks for them.
    if os.environ.get("PULPWOOD_TEST_TASKS") == "1":
        from pulpwood.services import testing_tasks  # noqa: F401


_register_more()
