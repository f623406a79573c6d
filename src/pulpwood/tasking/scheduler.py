"""Claiming: pick the oldest waiting task whose resources are free, FIFO per resource.

A waiting task is runnable when no earlier incomplete task holds or waits for an
exclusive claim on any of its resources, and, for its exclusive resources, no earlier task
holds or waits for them shared. Earlier waiting tasks count too, so a later task never
overtakes an earlier one on the same resource.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from pulpwood.db.base import utcnow
from pulpwood.models import Task
from pulpwood.models.task import INCOMPLETE_STATES, RUNNING, WAITING

# Serializes claimers on PostgreSQL; on SQLite BEGIN IMMEDIATE already does.
CLAIM_LOCK_KEY = 0x70756C70


def _is_blocked(task: Task, exclusive: set[str], shared: set[str]) -> bool:
    if any(r in exclusive or r in shared for r in task.exclusive_resources):
        return True
    return any(r in exclusive for r in task.shared_resources)


def pick_runnable(tasks: list[Task]) -> Task | None:
    """Given incomplete tasks in creation order, the first waiting one that may run now."""
    exclusive: set[str] = set()
    shared: set[str] = set()
    for task in tasks:
        if task.state == WAITING and not _is_blocked(task, exclusive, shared):
            return task
        exclusive.update(task.exclusive_resources)
        shared.update(task.shared_resources)
    return None


async def _incomplete_tasks(session: AsyncSession) -> list[Task]:
    rows = await session.scalars(
        select(Task).where(Task.state.in_(INCOMPLETE_STATES)).order_by(Task.pulp_created, Task.pulp_id)
    )
    return list(rows)


async def claim(session: AsyncSession, worker_id: uuid.UUID | None, only: uuid.UUID | None = None) -> Task | None:
    """Mark the next runnable task running for `worker_id` (or only task `only`, if runnable).

    Call inside a write transaction; the caller commits.
    """
    if session.bind.dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CLAIM_LOCK_KEY})
    tasks = await _incomplete_tasks(session)
    if only is not None:
        index = next((i for i, t in enumerate(tasks) if t.pulp_id == only), None)
        if index is None:
            return None
        candidate = pick_runnable(tasks[: index + 1])
        if candidate is None or candidate.pulp_id != only:
            return None
    else:
        candidate = pick_runnable(tasks)
    if candidate is None:
        return None
    now: dt.datetime = utcnow()
    # Only a row still waiting: a cancel may have ended it since it was read (PostgreSQL
    # re-checks the condition once the canceller's row lock is gone).
    claimed = await session.execute(
        update(Task)
        .where(Task.pulp_id == candidate.pulp_id, Task.state == WAITING)
        .values(state=RUNNING, worker_id=worker_id, started_at=now, unblocked_at=candidate.unblocked_at or now)
        .execution_options(synchronize_session=False))
    await session.refresh(candidate)
    return candidate if claimed.rowcount == 1 else None
