"""Telling the content apps that something was committed: every writer's last step.

On PostgreSQL a content app answers from memory while it holds a lease (content/fast/lease.py)
and drops what it remembers when it hears of a new serve epoch. A writer that has committed
(an API request that writes, a task) calls `announce`: it bumps the epoch and NOTIFYs it in one
short transaction, then waits until every content app whose lease is still valid has
acknowledged that epoch. Only then does the writer answer its client, so the client's next
request to any content app sees what was committed — the same promise as a lookup per request.

A content app that does not acknowledge (stopped, hung, gone) holds up a writer until its
lease runs out, at most a couple of seconds; after that it may not answer from memory until
it has renewed the lease, and renewing tells it the epoch.

On SQLite there is nothing to do: content apps see every commit in the WAL index.
"""

from __future__ import annotations

import asyncio
import logging
import time

from sqlalchemy import Text, func, select, text, update

from pulpwood.models.serving import SERVE_CHANNEL, ContentLease, ServeEpoch

log = logging.getLogger(__name__)

# A content app acknowledges within one renewal (content/fast/lease.py); a lease that is
# still valid after this long belongs to something broken, and the writer goes on.
_GIVE_UP_AFTER = 10.0


async def announce(runtime) -> None:
    """After a commit: make sure no content app answers from what it knew before it.
    (`runtime`: the process's Runtime; not imported, it sits above this layer.)"""
    if runtime.settings.is_sqlite:
        return
    async with runtime.write_session() as session:
        async with session.begin():
            # Nothing depends on the epoch surviving a crash (every lease is lost with the
            # connections, and a content app starts over from the epoch it reads): no WAL flush.
            await session.execute(text("SET LOCAL synchronous_commit = off"))
            # The NOTIFY goes out when this commits, and the epoch's row stays locked until then
            # (a renewal that reads it waits, then sees the new epoch: content/fast/lease.py).
            epoch = (await session.execute(
                update(ServeEpoch).where(ServeEpoch.id == 1).values(epoch=ServeEpoch.epoch + 1)
                .returning(ServeEpoch.epoch, func.pg_notify(SERVE_CHANNEL, func.cast(ServeEpoch.epoch, Text))))).one()[0]
    waiting = (select(func.count()).select_from(ContentLease)
               .where(ContentLease.seen_epoch < epoch, ContentLease.lease_until > func.now()))
    # An acknowledgement takes a notification and a renewal: about a millisecond or two.
    delay, deadline = 0.001, time.monotonic() + _GIVE_UP_AFTER
    while True:
        async with runtime.read_session() as session:
            if not await session.scalar(waiting):
                return
        if time.monotonic() > deadline:
            log.warning("content apps did not acknowledge serve epoch %s in %.0f s", epoch, _GIVE_UP_AFTER)
            return
        await asyncio.sleep(delay)
        delay = min(delay * 1.5, 0.02)
