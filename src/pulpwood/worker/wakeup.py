"""Idle workers wake when there may be a task to claim, rather than asking 5 times a second.

On PostgreSQL a trigger on core_task (migration 0005) NOTIFYs `pulp_worker_wakeup` when a
task is dispatched and when one ends (its resources may free a waiting task). An idle worker
LISTENs on a connection of its own. On SQLite it reads `PRAGMA data_version` every POLL
seconds on a connection of its own, which changes whenever another connection commits: a few
microseconds, where asking for a task through the ORM costs milliseconds. Either way the
worker asks for a task as soon as something may have changed, and otherwise only every
IDLE_POLL seconds. Asking 5 times a second cost each idle worker about 1.5% of a core (and on
PostgreSQL its backend about as much), all day long.

Without that connection (an in-memory database, or PostgreSQL while it reconnects) a worker
asks every POLL seconds as before. The caller clears the wakeup *before* it asks for a task,
so a task dispatched between the question and the wait is not slept through.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3

log = logging.getLogger(__name__)

CHANNEL = "pulp_worker_wakeup"
POLL = 0.2
IDLE_POLL = 5.0
RETRY = 1.0  # after a lost connection


class Wakeup:
    def __init__(self, engine) -> None:
        self._engine = engine
        self._event = asyncio.Event()
        self._listening = False
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        if self._task is not None:
            return
        if self._engine.dialect.name == "postgresql":
            self._task = asyncio.ensure_future(self._listen())
        elif self._engine.dialect.name == "sqlite" and self._engine.url.database not in (None, "", ":memory:"):
            self._task = asyncio.ensure_future(self._watch_commits(self._engine.url.database))

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    def clear(self) -> None:
        """Forget past wakeups: call before asking for a task."""
        self._event.clear()

    async def wait(self, stop: asyncio.Event) -> None:
        """Until notified, stopped, or the poll interval is over."""
        waiters = [asyncio.ensure_future(self._event.wait()), asyncio.ensure_future(stop.wait())]
        try:
            await asyncio.wait(waiters, timeout=IDLE_POLL if self._listening else POLL,
                               return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    async def _listen(self) -> None:
        import asyncpg

        args, kwargs = self._engine.dialect.create_connect_args(self._engine.url)
        kwargs["server_settings"] = {**kwargs.get("server_settings", {}),
                                     "application_name": "pulpwood worker wakeup"}
        while True:
            try:
                connection = await asyncpg.connect(*args, **kwargs)
            except Exception as error:  # noqa: BLE001 - polling meanwhile
                log.warning("worker: cannot listen for tasks (%r); polling", error)
                await asyncio.sleep(RETRY)
                continue
            lost = asyncio.Event()
            try:
                connection.add_termination_listener(lambda _connection: lost.set())
                await connection.add_listener(CHANNEL, self._notified)
                self._listening = True
                # A task may have come while nobody listened.
                self._event.set()
                await lost.wait()
                log.warning("worker: lost the connection listening for tasks; polling")
            except Exception as error:  # noqa: BLE001 - polling meanwhile
                log.warning("worker: stopped listening for tasks (%r); polling", error)
            finally:
                self._listening = False
                with contextlib.suppress(Exception):
                    await connection.close(timeout=2)
            await asyncio.sleep(RETRY)

    def _notified(self, _connection, _pid, _channel, _payload) -> None:
        self._event.set()

    async def _watch_commits(self, database: str) -> None:
        try:
            # No busy wait: this runs on the event loop, also while a task runs beside it.
            connection = sqlite3.connect(database, timeout=0, isolation_level=None, check_same_thread=False)
            connection.execute("PRAGMA query_only=ON")
        except sqlite3.Error as error:
            log.warning("worker: cannot watch the database for commits (%r); polling", error)
            return
        try:
            seen = None
            self._listening = True
            while True:
                try:
                    version = connection.execute("PRAGMA data_version").fetchone()[0]
                except sqlite3.Error:  # busy, say: ask for a task anyway
                    version = None
                if version is None or version != seen:
                    seen = version
                    self._event.set()
                await asyncio.sleep(POLL)
        finally:
            self._listening = False
            connection.close()
