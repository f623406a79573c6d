"""Static deltas between two stored commits, saved as OstreeContent units.

The delta generator of `formats` wants a synchronous object loader; it runs in a worker
thread and resolves each object to its stored file through the database session on the
event loop (the task coroutine just awaits the thread meanwhile, so the session is never
used twice at once). Objects of the two commits are looked up in one go first, through the
commit -> object links, so the per-object fallback query is rare.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

from sqlalchemy import select

from pulpwood.plugin import ContentArtifact, Artifact, TaskError
from pulpwood_ostree.formats import FormatError, ObjectType, decode_filez, generate_delta
from pulpwood_ostree.models import OstreeCommit, OstreeCommitObject, OstreeContent, OstreeObject
from pulpwood_ostree.units import save_file_unit


async def _object_files(session, storage, commit_checksums: list[str]) -> dict[tuple[str, int], Path | None]:
    """(checksum, type number) -> stored file, for the commits and their linked objects."""
    out: dict[tuple[str, int], Path | None] = {}
    rows = await session.execute(
        select(OstreeCommit.checksum, OstreeCommit.pulp_id, Artifact.file)
        .join(ContentArtifact, ContentArtifact.content_id == OstreeCommit.pulp_id)
        .outerjoin(Artifact, Artifact.pulp_id == ContentArtifact.artifact_id)
        .where(OstreeCommit.checksum.in_(commit_checksums)))
    commit_ids = []
    for checksum, commit_id, file in rows.all():
        out[(checksum, int(ObjectType.COMMIT))] = storage.path(file) if file else None
        commit_ids.append(commit_id)
    if commit_ids:
        rows = await session.execute(
            select(OstreeObject.checksum, OstreeObject.typ, Artifact.file)
            .join(OstreeCommitObject, OstreeCommitObject.obj_id == OstreeObject.pulp_id)
            .join(ContentArtifact, ContentArtifact.content_id == OstreeObject.pulp_id)
            .outerjoin(Artifact, Artifact.pulp_id == ContentArtifact.artifact_id)
            .where(OstreeCommitObject.commit_id.in_(commit_ids)))
        for checksum, typ, file in rows.all():
            out[(checksum, typ)] = storage.path(file) if file else None
    return out


async def _lookup_one(session, storage, checksum: str, objtype: ObjectType) -> Path | None:
    model = OstreeCommit if objtype is ObjectType.COMMIT else OstreeObject
    stmt = (select(Artifact.file).select_from(model)
            .join(ContentArtifact, ContentArtifact.content_id == model.pulp_id)
            .join(Artifact, Artifact.pulp_id == ContentArtifact.artifact_id)
            .where(model.checksum == checksum))
    if model is OstreeObject:
        stmt = stmt.where(OstreeObject.typ == int(objtype))
    file = await session.scalar(stmt.limit(1))
    return storage.path(file) if file else None


async def generate_delta_units(session, storage, from_commit: str | None, to_commit: str) -> set[uuid.UUID]:
    """Generate the static delta `from_commit` -> `to_commit` and save its files as units.

    Both arguments are commit checksums (hex); `from_commit` None = delta from scratch.
    Every object must be stored (not on-demand); otherwise nothing is generated and an empty
    set is returned, since advertising a delta clients cannot apply would break their pulls.
    The superblock timestamp is the target commit's, so re-running gives identical bytes and
    therefore the same units. Returns the ids of the OstreeContent units (superblock + parts).
    """
    files = await _object_files(session, storage, [c for c in (from_commit, to_commit) if c])
    loop = asyncio.get_running_loop()

    def path_of(checksum: str, objtype: ObjectType) -> Path:
        key = (checksum, int(objtype))
        if key not in files:
            files[key] = asyncio.run_coroutine_threadsafe(
                _lookup_one(session, storage, checksum, objtype), loop).result()
        path = files[key]
        if path is None:
            raise LookupError(f"{objtype.type_name} {checksum} is not stored")
        return path

    def load(checksum: str, objtype: ObjectType):
        data = path_of(checksum, objtype).read_bytes()
        if objtype is ObjectType.FILE:
            return decode_filez(data, checksum)
        return data

    try:
        delta = await asyncio.to_thread(generate_delta, from_commit, to_commit, load)
    except LookupError:
        return set()
    except FormatError as exc:
        raise TaskError(f"Could not generate the static delta {from_commit} -> {to_commit}: {exc}") from None
    ids: set[uuid.UUID] = set()
    for relative_path, data in delta.files.items():
        unit = await save_file_unit(session, storage, OstreeContent, relative_path, data)
        ids.add(unit.pulp_id)
    return ids
