"""Runtime: the things a process builds once from Settings and hands down to every layer."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from pulpwood import hrefs
from pulpwood.db.engine import create_engine, create_sessionmaker, create_write_sessionmaker
from pulpwood.settings import Settings
from pulpwood.storage.filesystem import ArtifactStorage


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    read_session: async_sessionmaker[AsyncSession]
    write_session: async_sessionmaker[AsyncSession]
    storage: ArtifactStorage
    # Filled by processes that register themselves (worker/api/content app status row).
    app_status_id: object = None
    extras: dict = field(default_factory=dict)

    async def close(self) -> None:
        await self.engine.dispose()
        for engine in self.extras.get("engines", ()):  # other engines a layer made (content reads)
            await engine.dispose()


def build_runtime(settings: Settings) -> Runtime:
    # Import plugins first so their models are mapped before anything queries.
    from pulpwood.registry import plugins

    plugins()
    hrefs.configure(settings.api_root)
    engine = create_engine(settings)
    return Runtime(
        settings=settings,
        engine=engine,
        read_session=create_sessionmaker(engine),
        write_session=create_write_sessionmaker(engine),
        storage=ArtifactStorage(settings.resolved_media_root),
    )
