"""A content app's lease on PostgreSQL: answer from memory with no round trip, and still see
every commit by the next request.

Without it the PostgreSQL reader sends one statement per batch of requests to check that
nothing changed (postgres.py); with `ostree pull` keeping only a few requests in flight, that
round trip is most of an answer's cost. The lease moves the work to the writers, which are
rare (models/serving.py, queries/serve_changes.py):

* The content app LISTENs on the serve channel and keeps a row in core_contentlease. It renews
  the row every RENEW_EVERY seconds (`lease_until = now() + LEASE`), and with it acknowledges
  the newest serve epoch it has dropped its memory for (`seen_epoch`). The renewal reads the
  epoch FOR SHARE, so it waits for a writer's bump in progress and then returns the new epoch.
* Every writer, after its commit, bumps the epoch and NOTIFYs it, then waits until every valid
  lease has acknowledged that epoch or has run out (by the database's clock).
* The content app may answer from memory only until LEASE - MARGIN after it *sent* its last
  renewal, which is never later than the database's lease_until. Any epoch it hears of, by
  notification or in a renewal's answer, drops its memory first; a lookup that started before
  a drop does not store what it found (`changes`).

So when a writer answers its client, each content app has either dropped what it knew before
the commit, or its lease has run out and it asks the database per request again until its
next renewal tells it the epoch. A content app that lost its connection asks per request until
it has a lease again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable

from pulpwood.models.serving import SERVE_CHANNEL, ContentLease, ServeEpoch

log = logging.getLogger(__name__)

LEASE = 2.0  # seconds a renewal holds on the database's clock
RENEW_EVERY = 0.5
MARGIN = 0.25  # the content app stops trusting its lease this much earlier than the database
RETRY = 1.0  # after a lost connection

_LEASES, _EPOCH = ContentLease.__tablename__, ServeEpoch.__tablename__
_CLAIM = (f"INSERT INTO {_LEASES} (pulp_id, seen_epoch, lease_until) VALUES ($1, -1, now()) "
          "ON CONFLICT (pulp_id) DO NOTHING")
# Rows of content apps that died without a word.
_SWEEP = f"DELETE FROM {_LEASES} WHERE lease_until < now() - interval '1 hour'"
_RENEW = (f"WITH current AS (SELECT epoch FROM {_EPOCH} WHERE id = 1 FOR SHARE) "
          f"UPDATE {_LEASES} SET seen_epoch = $2, lease_until = now() + make_interval(secs => $3) "
          "FROM current WHERE pulp_id = $1 RETURNING current.epoch")
_RELEASE = f"DELETE FROM {_LEASES} WHERE pulp_id = $1"


class ServeLease:
    def __init__(self, connect: Callable[[], Awaitable], forget: Callable[[], None]) -> None:
        """`connect()` opens a new asyncpg connection; `forget()` drops everything the content
        app remembers about what it serves."""
        self._connect = connect
        self._forget = forget
        self.id = uuid.uuid4()
        self.changes = 0  # how many times the memory was dropped
        self._valid_until = 0.0
        self._epoch = -1  # the newest epoch the memory was dropped for
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None

    def valid(self) -> bool:
        """Whether what is remembered may answer a request without asking the database."""
        return time.monotonic() < self._valid_until

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.ensure_future(self._run())

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    def _drop(self) -> None:
        self.changes += 1
        self._forget()

    def _heard(self, epoch: int) -> None:
        if epoch > self._epoch:
            self._epoch = epoch
            self._drop()
            self._wake.set()  # acknowledge it now: a writer is waiting

    def _notified(self, _connection, _pid, _channel, payload: str) -> None:
        try:
            epoch = int(payload)
        except ValueError:  # a table's trigger (migration 0003): a commit, no epoch to acknowledge
            self._drop()
            return
        self._heard(epoch)

    async def _run(self) -> None:
        while True:
            try:
                connection = await self._connect()
            except Exception as error:  # noqa: BLE001 - lookups ask the database meanwhile
                log.warning("content app: no serve lease (%r); asking the database per request", error)
                await asyncio.sleep(RETRY)
                continue
            try:
                await self._hold(connection)
            except Exception as error:  # noqa: BLE001
                log.warning("content app: serve lease lost (%r); asking the database per request", error)
            finally:
                self._valid_until = 0.0
                with contextlib.suppress(Exception):
                    await connection.execute(_RELEASE, self.id)
                with contextlib.suppress(Exception):
                    await connection.close(timeout=2)
            await asyncio.sleep(RETRY)

    async def _hold(self, connection) -> None:
        lost = asyncio.Event()

        def on_lost(_connection) -> None:
            lost.set()
            self._wake.set()

        connection.add_termination_listener(on_lost)
        # Notifications may have gone by while there was no connection.
        self._epoch = -1
        self._drop()
        await connection.add_listener(SERVE_CHANNEL, self._notified)
        await connection.execute(_SWEEP)
        await connection.execute(_CLAIM, self.id)
        while not lost.is_set():
            sent = time.monotonic()
            self._wake.clear()
            epoch = await connection.fetchval(_RENEW, self.id, self._epoch, LEASE)
            if epoch is None:
                raise RuntimeError("the lease row is gone")
            self._heard(epoch)
            self._valid_until = sent + LEASE - MARGIN
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), RENEW_EVERY)
        raise ConnectionError("connection lost")
