"""App status rows: every process announces itself, heartbeats, and reaps the dead.

A process whose heartbeat is older than WORKER_TTL is gone: its running tasks fail with an
error that says so, which frees their resource claims so the queue moves on.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import uuid

from sqlalchemy import select, update

from pulpwood.db.base import utcnow
from pulpwood.models import AppStatus, Task
from pulpwood.models.task import CANCELING, FAILED, RUNNING
from pulpwood.registry import component_versions
from pulpwood.runtime import Runtime


def process_name() -> str:
    return f"{os.getpid()}@{socket.gethostname()}"


async def register_app(runtime: Runtime, app_type: str) -> uuid.UUID:
    async with runtime.write_session() as session:
        async with session.begin():
            name = process_name()
            # A reused pid gets a new row; the old one keeps naming its finished tasks.
            old = await session.scalar(select(AppStatus).where(AppStatus.name == name, AppStatus.app_type == app_type))
            if old is not None:
                old.name = f"{name}-{old.pulp_id.hex[:8]}"
                await session.flush()
            status = AppStatus(app_type=app_type, name=name, versions=component_versions())
            session.add(status)
    runtime.app_status_id = status.pulp_id
    return status.pulp_id


async def heartbeat(runtime: Runtime, app_id: uuid.UUID) -> None:
    async with runtime.write_session() as session:
        async with session.begin():
            await session.execute(
                update(AppStatus).where(AppStatus.pulp_id == app_id).values(last_heartbeat=utcnow())
            )


async def reap_missing(runtime: Runtime) -> int:
    """Fail tasks of processes that stopped heartbeating; returns how many tasks failed."""
    cutoff = utcnow() - dt.timedelta(seconds=runtime.settings.worker_ttl)
    async with runtime.write_session() as session:
        async with session.begin():
            orphaned = list(await session.scalars(
                select(Task).join(AppStatus, Task.worker_id == AppStatus.pulp_id)
                .where(AppStatus.last_heartbeat < cutoff, Task.state.in_((RUNNING, CANCELING)))
            ))
            if not orphaned:
                return 0
            names = dict((await session.execute(
                select(AppStatus.pulp_id, AppStatus.name)
                .where(AppStatus.pulp_id.in_({t.worker_id for t in orphaned}))
            )).all())
            for task in orphaned:
                task.state = FAILED
                task.finished_at = utcnow()
                task.error = {
                    "reason": "Worker has gone missing.",
                    "description": f"Worker {names[task.worker_id]} died (no heartbeat for "
                                   f"{runtime.settings.worker_ttl:g} s) while running this task.",
                    "traceback": None,
                }
                task.progress_reports = [
                    {**report, "state": FAILED} if report.get("state") == RUNNING else report
                    for report in task.progress_reports
                ]
            # The rows stay (finished tasks still name their worker); they just are not online.
            return len(orphaned)


async def unregister_app(runtime: Runtime, app_id: uuid.UUID) -> None:
    async with runtime.write_session() as session:
        async with session.begin():
            await session.execute(
                update(AppStatus).where(AppStatus.pulp_id == app_id)
                .values(last_heartbeat=dt.datetime(1970, 1, 1, tzinfo=dt.UTC))
            )
