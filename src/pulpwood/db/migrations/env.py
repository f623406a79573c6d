"""Alembic environment: runs migrations over our async engine (SQLite or PostgreSQL)."""

from __future__ import annotations

import asyncio

from alembic import context

from pulpwood.db.base import Base
from pulpwood.registry import plugins

config = context.config
plugins()  # map every plugin's models into Base.metadata
import pulpwood.models  # noqa: E402,F401

target_metadata = Base.metadata


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=connection.dialect.name == "sqlite", compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


async def _main() -> None:
    engine = config.attributes["engine"]
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        # On this loop: its pooled connections belong to it, and asyncio.run closes it next
        # (closing them from another loop logged "attached to a different loop" on PostgreSQL).
        await engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported")
asyncio.run(_main()) if "connection" not in config.attributes else _run(config.attributes["connection"])
