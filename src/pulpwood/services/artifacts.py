"""Artifacts: rows for verified files in storage, and the questions asked about them.

An artifact is unique by sha256. Storage already refuses to keep a file whose digest does
not match its name; these functions keep the database in step with it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import BinaryIO

from sqlalchemy import exists, select, union
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from pulpwood.db.base import utcnow
from pulpwood.models import Artifact, ContentArtifact, PublishedArtifact
from pulpwood.models.artifact import DIGEST_FIELDS
from pulpwood.storage.filesystem import DigestingWriter, StoredFile

COPY_CHUNK = 1024 * 1024


def duplicate_message(sha256: str) -> str:
    return f"Artifact with sha256 checksum of '{sha256}' already exists."


async def find_by_sha256(session: AsyncSession, sha256: str) -> Artifact | None:
    return await session.scalar(select(Artifact).where(Artifact.sha256 == sha256))


async def save_artifact(session: AsyncSession, stored: StoredFile) -> Artifact:
    """The Artifact row for a stored file: the existing one (touched) or a new one.

    A concurrent writer of the same file may win the insert; the savepoint lets us fall
    back to its row instead of failing the whole transaction.
    """
    sha256 = stored.digests["sha256"]
    existing = await find_by_sha256(session, sha256)
    if existing is not None:
        existing.timestamp_of_interest = utcnow()
        return existing
    artifact = Artifact(file=stored.file, size=stored.size,
                        **{name: stored.digests.get(name) for name in DIGEST_FIELDS})
    try:
        async with session.begin_nested():
            session.add(artifact)
            await session.flush()
    except IntegrityError:
        existing = await find_by_sha256(session, sha256)
        if existing is None:
            raise
        return existing
    return artifact


async def write_stream(writer: DigestingWriter, source: BinaryIO) -> None:
    """Copy a (spooled) file into a digesting writer off the event loop: hashing is CPU work."""

    def copy() -> None:
        source.seek(0)
        while True:
            block = source.read(COPY_CHUNK)
            if not block:
                break
            writer.write(block)

    await asyncio.to_thread(copy)


def users_of(artifact_ids):
    """SELECT of artifact ids that content or a publication still needs."""
    return union(
        select(ContentArtifact.artifact_id).where(ContentArtifact.artifact_id.in_(artifact_ids)),
        select(PublishedArtifact.artifact_id).where(PublishedArtifact.artifact_id.in_(artifact_ids)),
    )


async def in_use(session: AsyncSession, artifact_id: uuid.UUID) -> bool:
    used_by_content = await session.scalar(select(exists().where(ContentArtifact.artifact_id == artifact_id)))
    if used_by_content:
        return True
    return bool(await session.scalar(select(exists().where(PublishedArtifact.artifact_id == artifact_id))))


def protection_cutoff(minutes: float) -> dt.datetime:
    """now - `minutes`; absurdly long protection protects everything rather than overflowing."""
    if minutes != minutes:  # NaN
        raise ValueError("not a number")
    try:
        return utcnow() - dt.timedelta(minutes=minutes)
    except OverflowError:
        if minutes < 0:
            raise
        return dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def orphaned_clause(older_than: dt.datetime):
    """WHERE clause: artifacts nothing refers to and nobody touched since `older_than`."""
    return (
        ~exists().where(ContentArtifact.artifact_id == Artifact.pulp_id)
        & ~exists().where(PublishedArtifact.artifact_id == Artifact.pulp_id)
        & (Artifact.timestamp_of_interest < older_than)
    )

