"""The worker process: claim a task, run it, repeat; heartbeat and reap in the background."""

from __future__ import annotations

import asyncio
import logging
import signal

from sqlalchemy import select

from pulpwood.models import Task
from pulpwood.models.task import WAITING
from pulpwood.models.worker import WORKER
from pulpwood.runtime import Runtime, build_runtime
from pulpwood.settings import Settings
from pulpwood.tasking.runner import execute
from pulpwood.tasking.scheduler import claim
from pulpwood.worker.heartbeat import heartbeat, reap_missing, register_app, unregister_app
from pulpwood.worker.wakeup import POLL, Wakeup

log = logging.getLogger(__name__)


async def _claim(runtime: Runtime):
    # Look before taking the write lock: idle workers must not serialize everyone on SQLite.
    async with runtime.read_session() as session:
        waiting = await session.scalar(select(Task.pulp_id).where(Task.state == WAITING).limit(1))
    if waiting is None:
        return None
    async with runtime.write_session() as session:
        async with session.begin():
            task = await claim(session, runtime.app_status_id)
            return None if task is None else task.pulp_id


async def _housekeeping(runtime: Runtime, stop: asyncio.Event) -> None:
    interval = max(runtime.settings.worker_ttl / 3, 0.5)
    while not stop.is_set():
        try:
            await heartbeat(runtime, runtime.app_status_id)
            await reap_missing(runtime)
        except Exception:  # noqa: BLE001 - a failed beat is retried at the next interval
            log.exception("heartbeat failed")
        try:
            await asyncio.wait_for(stop.wait(), timeout=interval)
        except TimeoutError:
            pass


async def run_worker(settings: Settings, stop: asyncio.Event | None = None) -> None:
    runtime = build_runtime(settings)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):
            pass
    app_id = await register_app(runtime, WORKER)
    keeper = asyncio.ensure_future(_housekeeping(runtime, stop))
    wakeup = Wakeup(runtime.engine)
    wakeup.start()
    try:
        while not stop.is_set():
            wakeup.clear()
            try:
                task_id = await _claim(runtime)
            except Exception:  # noqa: BLE001 - e.g. a lock timeout; try again shortly
                log.exception("claim failed")
                await asyncio.sleep(POLL)
                continue
            if task_id is None:
                await wakeup.wait(stop)
                continue
            await execute(runtime, task_id)
    finally:
        keeper.cancel()
        await wakeup.stop()
        await unregister_app(runtime, app_id)
        await runtime.close()
