"""`pulpwood migrate`: bring the database schema to the newest revision."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from pulpwood.db.engine import create_engine
from pulpwood.settings import Settings

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(settings: Settings) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = create_engine(settings)
    return config


def upgrade(settings: Settings) -> None:
    # The migration environment (migrations/env.py) disposes of the engine on its own loop.
    command.upgrade(alembic_config(settings), "head")
