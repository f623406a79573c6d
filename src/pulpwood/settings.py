"""Settings, read once at start from `PULP_*` environment variables and an optional file.

Pulp's names are kept where Pulp has one (`CONTENT_ORIGIN`, `API_ROOT`, ...), so an
operator's muscle memory carries over. Unknown settings are an error at start: a typo must
not silently fall back to a default.
"""

from __future__ import annotations

import json
import os
import tomllib
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from pulpwood.errors import ConfigurationError

ENV_PREFIX = "PULP_"
SETTINGS_FILE_VAR = "PULP_SETTINGS"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid", frozen=True)

    data_dir: Path = Path("./pulpwood-data")
    database_url: str | None = None
    media_root: Path | None = None
    api_root: str = "/pulp/"
    content_path_prefix: str = "/pulp/content/"
    content_origin: str | None = None
    admin_password: str | None = None
    # A worker that has not heartbeaten for this long is declared dead and its tasks fail.
    worker_ttl: float = 30.0
    orphan_protection_time: int = 1440
    # Pulp 2 harness_distributor may only write below this directory.
    publish_root: Path = Path("/tmp")
    # Directory trees remotes may read with file:// URLs.
    allowed_import_paths: list[str] = []
    sqlite_busy_timeout: float = 30.0

    @field_validator("api_root", "content_path_prefix")
    @classmethod
    def _slashed(cls, value: str) -> str:
        if not (value.startswith("/") and value.endswith("/")):
            raise ValueError("must start and end with '/'")
        return value

    @cached_property
    def resolved_data_dir(self) -> Path:
        return self.data_dir.resolve()

    @cached_property
    def resolved_media_root(self) -> Path:
        return (self.media_root or self.resolved_data_dir / "media").resolve()

    @cached_property
    def async_database_url(self) -> str:
        url = self.database_url
        if not url:
            return f"sqlite+aiosqlite:///{self.resolved_data_dir / 'pulpwood.sqlite3'}"
        if url.startswith(("postgresql://", "postgres://")):
            return "postgresql+asyncpg://" + url.split("://", 1)[1]
        if url.startswith("sqlite:///"):
            return "sqlite+aiosqlite:///" + url[len("sqlite:///"):]
        return url

    @property
    def is_sqlite(self) -> bool:
        return self.async_database_url.startswith("sqlite")

    @property
    def v3_root(self) -> str:
        return f"{self.api_root}api/v3/"


def _read_settings_file(path: Path) -> dict[str, Any]:
    text = path.read_text()
    data = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    return {key.lower().removeprefix("pulp_"): value for key, value in data.items()}


def load_settings(**overrides: Any) -> Settings:
    """Build Settings from the environment, the optional settings file, and overrides."""
    file_values: dict[str, Any] = {}
    settings_file = os.environ.get(SETTINGS_FILE_VAR)
    if settings_file:
        file_values = _read_settings_file(Path(settings_file))
    unknown = [
        name for name in os.environ
        if name.startswith(ENV_PREFIX) and name != SETTINGS_FILE_VAR
        and name[len(ENV_PREFIX):].lower() not in Settings.model_fields
    ]
    if unknown:
        raise ConfigurationError(f"Unknown settings: {', '.join(sorted(unknown))}")
    try:
        return Settings(**{**file_values, **overrides})
    except ValueError as exc:
        raise ConfigurationError(str(exc)) from exc
