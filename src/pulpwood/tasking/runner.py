"""Running one claimed task: call its function, flush progress, honour cancellation, record the end.

The function runs as an asyncio task next to a watcher that flushes progress reports and
polls the row for a cancel request; cancelling the asyncio task unwinds the function's open
transactions, so a canceled task leaves nothing half-made behind.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
import uuid

from sqlalchemy import select, update

from pulpwood.db.base import utcnow
from pulpwood.errors import PulpwoodError
from pulpwood.models import Task
from pulpwood.models.task import CANCELED, CANCELING, COMPLETED, FAILED, RUNNING
from pulpwood.queries.serve_changes import announce
from pulpwood.registry import task_function
from pulpwood.runtime import Runtime
from pulpwood.tasking.context import TaskContext

log = logging.getLogger(__name__)
WATCH_INTERVAL = 0.5


async def _watch(ctx: TaskContext, work: asyncio.Task) -> None:
    while not work.done():
        await asyncio.sleep(WATCH_INTERVAL)
        try:
            state = await _flush_and_poll(ctx)
        except Exception:  # noqa: BLE001 - a busy database only delays the next look
            log.warning("could not flush progress of task %s", ctx.task_id, exc_info=True)
            continue
        if state == CANCELING:
            work.cancel()
            return


async def _flush_and_poll(ctx: TaskContext) -> str | None:
    runtime = ctx.runtime
    reports = ctx.progress_book.changed()
    if reports is not None:
        async with runtime.write_session() as session:
            async with session.begin():
                await session.execute(
                    update(Task).where(Task.pulp_id == ctx.task_id).values(progress_reports=reports)
                )
    async with runtime.read_session() as session:
        return await session.scalar(select(Task.state).where(Task.pulp_id == ctx.task_id))


def _describe(exc: BaseException) -> dict:
    description = str(exc) if isinstance(exc, PulpwoodError) else f"{type(exc).__name__}: {exc}"
    return {"description": description or type(exc).__name__, "traceback": traceback.format_exc()}


async def execute(runtime: Runtime, task_id: uuid.UUID) -> str:
    """Run a task already marked running; returns its final state."""
    async with runtime.read_session() as session:
        task = await session.get(Task, task_id)
        name, kwargs, cid, created_by = task.name, dict(task.kwargs), task.logging_cid, task.created_by_id
    ctx = TaskContext(runtime, task_id, cid, created_by)
    final_state, error = COMPLETED, None
    try:
        function = task_function(name)
        work = asyncio.ensure_future(function(ctx, **kwargs))
        watcher = asyncio.ensure_future(_watch(ctx, work))
        try:
            await work
        finally:
            watcher.cancel()
    except asyncio.CancelledError:
        final_state = CANCELED
        if not work.cancelled():
            raise
    except Exception as exc:  # noqa: BLE001 - every failure is recorded on the task
        log.info("Task %s failed: %s", task_id, exc)
        final_state, error = FAILED, _describe(exc)
    try:
        # Before the task is seen to end: whoever waits for it then asks a content app.
        await announce(runtime)
    except Exception:  # noqa: BLE001 - the triggers tell the content apps a moment later
        log.exception("could not announce task %s's commits to the content apps", task_id)
    await _finish(runtime, ctx, final_state, error)
    return final_state


async def _finish(runtime: Runtime, ctx: TaskContext, state: str, error: dict | None) -> None:
    async with runtime.write_session() as session:
        async with session.begin():
            current = await session.get(Task, ctx.task_id)
            if current.state not in (RUNNING, CANCELING):
                return  # someone (the reaper) already decided its fate
            current.state = state
            current.finished_at = utcnow()
            current.error = error
            current.progress_reports = ctx.progress_book.finish(state)
            if state == COMPLETED:
                current.created_resources = ctx.created_resources
                current.result = ctx.result
