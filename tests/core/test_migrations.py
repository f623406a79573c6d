"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from pulpwood.db.base import Base
from pulpwood.db.engine import create_engine
from pulpwood.registry import plugins
from pulpwood.settings import Settings
from tests.conftest import database_url, server_env


def test_migrate_then_models_match_schema(tmp_path):
    db_url = database_url(tmp_path)
    env = server_env(tmp_path / "data", db_url)
    result = subprocess.run([sys.executable, "-m", "pulpwood", "migrate"], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stdout
    # A second run is a no-op, not an error; neither logs one (closing the migration's
    # connections on another event loop once logged a traceback on PostgreSQL).
    again = subprocess.run([sys.executable, "-m", "pulpwood", "migrate"], env=env, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    for run in (result, again):
        assert "Traceback" not in run.stderr and "ERROR" not in run.stderr, run.stderr

    plugins()
    import pulpwood.models  # noqa: F401

    settings = Settings(data_dir=tmp_path / "data", database_url=db_url)

    async def differences():
        engine = create_engine(settings)
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(
                    lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata))
        finally:
            await engine.dispose()

    assert asyncio.run(differences()) == []
