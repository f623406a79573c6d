"""Read sessions of the content app.

A file request runs one or two short indexed SELECTs. Through aiosqlite each statement costs
several hops to the connection's thread and back (cursor, execute, fetch, close, reset), which
took most of a request's ~2 ms and left the server idle between them. On SQLite the content
app therefore reads through a synchronous connection on the event loop: WAL readers never wait
for the writer, and an indexed lookup takes tens of microseconds, far less than the hops.

`InlineSession` offers the part of AsyncSession the planning code uses (`execute`, `scalar`,
`scalars`, as coroutines), so resolvers and front doors are written once for both databases.
PostgreSQL keeps asyncpg sessions in autocommit mode (no BEGIN/ROLLBACK round trips).
"""

from __future__ import annotations

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import async_sessionmaker


class InlineSession:
    """An AsyncSession look-alike for reads over a pooled synchronous SQLite connection."""

    __slots__ = ("_engine", "_connection")
    dialect_name = "sqlite"

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._connection = None

    async def __aenter__(self) -> InlineSession:
        self._connection = self._engine.connect()
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
    engine = create_engine(
        url.set(drivername="sqlite"), pool_reset_on_return=None,
        connect_args={"timeout": 30, "check_same_thread": False},
    ).execution_options(isolation_level="AUTOCOMMIT")

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
            engine = engine.execution_options(isolation_level="AUTOCOMMIT")
            factory = async_sessionmaker(engine, expire_on_commit=False)
        runtime.extras["content_sessions"] = factory
    return factory
