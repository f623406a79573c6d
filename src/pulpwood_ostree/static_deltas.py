"""Static deltas between two stored commits, saved as OstreeContent units.

A metadata object's checksum is the SHA-256 of its bytes, which is also its artifact's name:
commits, dirtrees and dirmeta are read from storage without asking the database. Content
objects are named by the digest of their compressed bytes, so the ones the delta carries
(those the target commit reaches and the source does not: usually a small share) are looked
up in batches before the generator runs in a worker thread. A sync passes the dirtrees it
has just parsed (`trees`), so neither commit's tree is read or parsed again.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping
from pathlib import Path

from sqlalchemy import select

from pulpwood.plugin import Artifact, ContentArtifact, StoredFile, TaskError, chunks
from pulpwood_ostree.formats import (
    DirTree, FormatError, GeneratedDelta, ObjectType, decode_filez, delta_objects, generate_delta,
)
from pulpwood_ostree.models import OstreeContent, OstreeObject
from pulpwood_ostree.units import save_file_unit


class _NotStored(LookupError):
    """An object the delta needs has no stored file (on_demand content)."""


async def _content_files(session, storage, checksums: list[str]) -> dict[str, Path]:
    """checksum -> stored `.filez`, for the content objects among `checksums` that are stored."""
    found: dict[str, Path] = {}
    for batch in chunks(sorted(set(checksums)), 500):
        rows = await session.execute(
            select(OstreeObject.checksum, Artifact.file)
            .join(ContentArtifact, ContentArtifact.content_id == OstreeObject.pulp_id)
            .join(Artifact, Artifact.pulp_id == ContentArtifact.artifact_id)
            .where(OstreeObject.checksum.in_(batch), OstreeObject.typ == int(ObjectType.FILE)))
        found.update((checksum, storage.path(file)) for checksum, file in rows.all())
    return found


async def build_delta(session, storage, from_commit: str | None, to_commit: str,
                      trees: Mapping[str, DirTree] | None = None) -> GeneratedDelta | None:
    """The static delta `from_commit` -> `to_commit` (checksums; `from_commit` None = from
    scratch), or None when an object it needs is not stored (on_demand content): advertising
    a delta clients cannot apply would break their pulls. Only reads (any session will do).
    The superblock timestamp is the target commit's, so building again gives identical bytes.
    """
    def load_metadata(checksum: str, objtype: ObjectType) -> bytes:
        try:
            return storage.path(storage.name_for(checksum)).read_bytes()
        except FileNotFoundError:
            raise _NotStored(f"{objtype.type_name} {checksum} is not stored") from None

    def load_tree(checksum: str) -> DirTree:
        tree = trees.get(checksum) if trees is not None else None
        return tree if tree is not None else DirTree.from_bytes(load_metadata(checksum, ObjectType.DIR_TREE))

    try:
        carried = await asyncio.to_thread(delta_objects, from_commit, to_commit, load_metadata, load_tree)
        wanted = [checksum for checksum, objtype in carried if objtype is ObjectType.FILE]
        files = await _content_files(session, storage, wanted)
        if len(files) < len(set(wanted)):
            return None

        def load(checksum: str, objtype: ObjectType):
            if objtype is not ObjectType.FILE:
                return load_metadata(checksum, objtype)
            try:
                return decode_filez(files[checksum].read_bytes(), checksum)
            except FileNotFoundError:
                raise _NotStored(f"file {checksum} is not stored") from None

        return await asyncio.to_thread(generate_delta, from_commit, to_commit, load, load_tree=load_tree,
                                       objects=carried)
    except _NotStored:
        return None
    except FormatError as exc:
        raise TaskError(f"Could not generate the static delta {from_commit} -> {to_commit}: {exc}") from None


async def store_delta(storage, delta: GeneratedDelta | None) -> list[tuple[str, StoredFile]]:
    """Write a built delta's files (superblock + parts) to storage, off the event loop:
    what `save_delta` needs, without keeping the bytes around until then."""
    if delta is None:
        return []
    return await asyncio.to_thread(
        lambda: [(path, storage.store_bytes(data)) for path, data in delta.files.items()])


async def save_delta(session, storage, files: list[tuple[str, StoredFile]]) -> set[uuid.UUID]:
    """OstreeContent units for stored delta files; their ids."""
    ids: set[uuid.UUID] = set()
    for relative_path, stored in files:
        unit = await save_file_unit(session, storage, OstreeContent, relative_path, stored=stored)
        ids.add(unit.pulp_id)
    return ids


async def generate_delta_units(session, storage, from_commit: str | None, to_commit: str,
                               trees: Mapping[str, DirTree] | None = None) -> set[uuid.UUID]:
    """Build the delta `from_commit` -> `to_commit` and save it (see build_delta); the ids of
    its units, none if it could not be built."""
    delta = await build_delta(session, storage, from_commit, to_commit, trees)
    return await save_delta(session, storage, await store_delta(storage, delta))
