"""Engine and session factories for SQLite (WAL, embedded default) and PostgreSQL."""

from __future__ import annotations

import orjson
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from pulpwood.settings import Settings


def _tune_sqlite(dbapi_connection, _record, busy_timeout_ms: int) -> None:
    # WAL lets readers go on while one writer commits; a busy timeout makes concurrent
    # writers (API + workers in other processes) wait for the lock instead of failing.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
    cursor.close()


def create_engine(settings: Settings) -> AsyncEngine:
    # JSON columns (task progress, resources, labels) are decoded for every listed row;
    # orjson reads what the standard encoder wrote, several times faster.
    url = settings.async_database_url
    if settings.is_sqlite:
        settings.resolved_data_dir.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": settings.sqlite_busy_timeout},
                                     json_deserializer=orjson.loads)
        timeout_ms = int(settings.sqlite_busy_timeout * 1000)
        event.listen(
            engine.sync_engine, "connect",
            lambda conn, record: _tune_sqlite(conn, record, timeout_ms),
        )

        # pysqlite's own transaction handling defers BEGIN; we issue BEGIN IMMEDIATE for
        # writes where needed, so take control of BEGIN ourselves.
        @event.listens_for(engine.sync_engine, "connect")
        def _no_autobegin(dbapi_connection, _record):
            dbapi_connection.isolation_level = None

        @event.listens_for(engine.sync_engine, "begin")
        def _begin(conn):
            # Writers take the lock up front: a deferred transaction that reads and then
            # writes can fail at once with "database is locked" instead of waiting.
            mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
            if mode:  # None: no transaction, each read statement sees its own snapshot
                conn.exec_driver_sql(f"BEGIN {mode}")

        return engine
    return create_async_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True, json_deserializer=orjson.loads)


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions for reading; on SQLite their transactions take no write lock."""
    return async_sessionmaker(engine, expire_on_commit=False)


def create_write_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions for requests and tasks that write; on SQLite they BEGIN IMMEDIATE."""
    if engine.dialect.name == "sqlite":
        engine = engine.execution_options(sqlite_begin="IMMEDIATE")
    return async_sessionmaker(engine, expire_on_commit=False)
