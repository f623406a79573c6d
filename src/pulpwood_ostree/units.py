"""Storing OSTree files as content units, and reading stored files back.

Every OSTree content unit has exactly one file; these helpers put bytes into artifact
storage, make (or reuse) the Artifact row, the unit (by its natural key) and the
ContentArtifact that places the file at the unit's relative path.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from pulpwood.plugin import Artifact, ContentArtifact, StoredFile, TaskError, utcnow, uuid7

DIGESTS = ("sha224", "sha256", "sha384", "sha512")


async def artifact_for(session, stored) -> Artifact:
    """The Artifact row for a file already in storage (`StoredFile`): existing or new."""
    sha256 = stored.digests["sha256"]
    existing = await session.scalar(select(Artifact).where(Artifact.sha256 == sha256))
    if existing is not None:
        existing.timestamp_of_interest = utcnow()
        return existing
    artifact = Artifact(file=stored.file, size=stored.size, **{name: stored.digests.get(name) for name in DIGESTS})
    try:
        # A concurrent task may insert the same artifact; fall back to its row.
        async with session.begin_nested():
            session.add(artifact)
            await session.flush()
    except IntegrityError:
        existing = await session.scalar(select(Artifact).where(Artifact.sha256 == sha256))
        if existing is None:
            raise
        return existing
    return artifact


async def find_unit(session, model, fields: dict):
    stmt = select(model)
    for name in model.natural_key_fields:
        stmt = stmt.where(getattr(model, name) == fields[name])
    return await session.scalar(stmt.limit(1))


async def attach_artifact(session, unit, relative_path: str, artifact_id: uuid.UUID | None) -> None:
    """Make sure `unit` has its ContentArtifact at `relative_path` (filling a missing artifact)."""
    link = await session.scalar(select(ContentArtifact).where(
        ContentArtifact.content_id == unit.pulp_id, ContentArtifact.relative_path == relative_path))
    if link is None:
        session.add(ContentArtifact(pulp_id=uuid7(), content_id=unit.pulp_id, artifact_id=artifact_id,
                                    relative_path=relative_path))
    elif link.artifact_id is None and artifact_id is not None:
        link.artifact_id = artifact_id
    await session.flush()


async def save_file_unit(session, storage, model, relative_path: str, data: bytes | None = None, *,
                         stored: StoredFile | None = None, **fields):
    """Store `data` (or take the file already `stored`) and return the unit of `model`
    holding it at `relative_path`.

    Get-or-create by the model's natural key. `relative_path` is also the unit's
    `relative_path` column; `sha256` (config, summary) and `digest` (content) columns are
    filled from the stored bytes unless given.
    """
    if stored is None:
        stored = storage.store_bytes(data)
    artifact = await artifact_for(session, stored)
    columns = {"relative_path": relative_path, **fields}
    table_columns = model.__table__.columns.keys()
    if "sha256" in table_columns:
        columns.setdefault("sha256", stored.digests["sha256"])
    if "digest" in table_columns:
        columns.setdefault("digest", stored.digests["sha256"])
    unit = await find_unit(session, model, columns)
    if unit is None:
        unit = model(**columns)
        try:
            async with session.begin_nested():
                session.add(unit)
                await session.flush()
        except IntegrityError:
            unit = await find_unit(session, model, columns)
            if unit is None:
                raise
    else:
        unit.timestamp_of_interest = utcnow()
    await attach_artifact(session, unit, relative_path, artifact.pulp_id)
    return unit


async def artifact_paths(session, storage, content_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Path | None]:
    """content id -> path of its stored file (None when not downloaded yet)."""
    ids = list(content_ids)
    out: dict[uuid.UUID, Path | None] = {}
    for start in range(0, len(ids), 500):
        batch = ids[start:start + 500]
        rows = await session.execute(
            select(ContentArtifact.content_id, Artifact.file)
            .outerjoin(Artifact, Artifact.pulp_id == ContentArtifact.artifact_id)
            .where(ContentArtifact.content_id.in_(batch)))
        for content_id, file in rows.all():
            out[content_id] = storage.path(file) if file else None
    return out


async def read_unit_bytes(session, storage, content_id: uuid.UUID, what: str) -> bytes:
    path = (await artifact_paths(session, storage, [content_id])).get(content_id)
    if path is None:
        raise TaskError(f"The file of {what} is not stored (on-demand content not downloaded yet).")
    return path.read_bytes()
