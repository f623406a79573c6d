"""Read sessions of the content app.

A file request runs one or two short indexed SELECTs. Through aiosqlite each statement costs
several hops to the connection's thread and back (cursor, execute, fetch, close, reset), which
took most of a request's ~2 ms and left the server idle between them. On SQLite the content
app therefore reads through a synchronous connection on the event loop: WAL readers never wait
for the writer, and an indexed lookup takes tens of microseconds, far less than the hops.

`InlineSession` offers the part of AsyncSession the planning code uses (`execute`, `scalar`,
`scalars`, as coroutines), so resolvers and front doors are written once for both databases.
Its `snapshot` also lets the content app memoise the distribution lookup exactly (targets.py):
SQLite's data_version tells whether anything was committed since.
On PostgreSQL the content app has its own small asyncpg engine, in autocommit mode from the
moment a connection is made and without pre-ping: the shared engine's pre-ping costs BEGIN,
a ping and ROLLBACK on every checkout, and switching a pooled connection to autocommit and
back costs more; together they were three times the two lookups. A connection that died
(server restart) fails one statement and is invalidated: `planning` retries once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import orjson
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

T = TypeVar("T")


class InlineSession:
    """An AsyncSession look-alike for reads over a pooled synchronous SQLite connection."""

    __slots__ = ("_engine", "_connection", "snapshot")
    dialect_name = "sqlite"

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._connection = None
        # (connection, PRAGMA data_version): equal values on one connection mean no other
        # connection committed anything in between, so answers memoised under it still hold.
        self.snapshot = None

    async def __aenter__(self) -> InlineSession:
        self._connection = self._engine.connect()
        fairy = self._connection.connection
        # A token per DBAPI connection (a memo holding it keeps it unique even after the
        # connection is gone), since data_version is only comparable on one connection.
        token = fairy.info.setdefault("content_token", object())
        self.snapshot = (token, fairy.dbapi_connection.execute("PRAGMA data_version").fetchone()[0])
        return self

    async def __aexit__(self, *_exc) -> None:
        self._connection.close()
        self._connection = None

    async def execute(self, statement, params=None):
        return self._connection.execute(statement, params)

    async def scalar(self, statement, params=None):
        return self._connection.scalar(statement, params)

    async def scalars(self, statement, params=None):
        return self._connection.scalars(statement, params)


def _inline_engine(async_engine) -> Engine | None:
    url = async_engine.url
    if not url.database or url.database == ":memory:":
        return None  # a private in-memory database cannot be opened a second time
    # Autocommit set once per connection (as an execution option it would be set and reset
    # with a PRAGMA on every checkout).
    engine = create_engine(
        url.set(drivername="sqlite"), pool_reset_on_return=None, isolation_level="AUTOCOMMIT",
        connect_args={"timeout": 30, "check_same_thread": False},
    )

    @event.listens_for(engine, "connect")
    def _read_only(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        # Reads only; a busy writer never blocks WAL readers, the timeout covers the rare
        # moments (WAL recovery) where one would have to wait.
        cursor.execute("PRAGMA query_only=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    return engine


def content_sessions(runtime):
    """A factory of read sessions for serving, without transactions: a request's lookups
    need no common snapshot, and BEGIN/ROLLBACK would add round trips to every file."""
    factory = runtime.extras.get("content_sessions")
    if factory is None:
        engine = runtime.engine
        if engine.dialect.name == "sqlite":
            inline = _inline_engine(engine)
            if inline is not None:
                factory = lambda: InlineSession(inline)  # noqa: E731
            else:
                factory = async_sessionmaker(engine.execution_options(sqlite_begin=None), expire_on_commit=False)
        else:
            engine = create_async_engine(engine.url, isolation_level="AUTOCOMMIT", pool_size=8, max_overflow=8,
                                         pool_reset_on_return=None, json_deserializer=orjson.loads)
            runtime.extras.setdefault("engines", []).append(engine)
            # A Core connection, not an ORM session: the lookups select columns, and the
            # session's ORM execution path cost more Python than the statement itself.
            factory = engine.connect
        runtime.extras["content_sessions"] = factory
    return factory


async def planning(sessions, plan: Callable[..., Awaitable[T]]) -> T:
    """`await plan(session)` in a fresh read session; once more if the connection had died."""
    try:
        async with sessions() as session:
            return await plan(session)
    except DBAPIError as error:
        if not error.connection_invalidated:
            raise
    async with sessions() as session:
        return await plan(session)
