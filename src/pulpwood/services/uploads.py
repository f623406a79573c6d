"""Chunked uploads: store chunks at their offsets, assemble them into a verified artifact.

Chunks live under `<media>/upload/<upload id>/` outside the content-addressed tree; only
the assembled file, once its sha256 matched, becomes an artifact.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import delete, event, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from pulpwood import hrefs
from pulpwood.errors import DigestMismatch, TaskError, ValidationError
from pulpwood.models import Artifact, Upload, UploadChunk
from pulpwood.services.artifacts import duplicate_message, find_by_sha256, save_artifact
from pulpwood.storage.filesystem import ArtifactStorage
from pulpwood.tasking.registry import register

UPLOAD_COMMIT = "pulpcore.app.tasks.upload.commit"
CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+|\*)$")
COPY_CHUNK = 1024 * 1024


def parse_content_range(header: str | None) -> tuple[int, int]:
    """`bytes S-E/TOTAL` -> (S, E); Pulp's 400 for anything else."""
    match = CONTENT_RANGE.match((header or "").strip())
    if not match or int(match[2]) < int(match[1]):
        raise ValidationError({"non_field_errors": ["Invalid or missing content range header."]})
    return int(match[1]), int(match[2])


def chunk_dir(storage: ArtifactStorage, upload_id: uuid.UUID) -> Path:
    return storage.root / "upload" / str(upload_id)


def remove_upload_files(storage: ArtifactStorage, upload_id: uuid.UUID) -> None:
    shutil.rmtree(chunk_dir(storage, upload_id), ignore_errors=True)


def _write_chunk(source: BinaryIO, target_dir: Path) -> tuple[Path, int, str]:
    target_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target_dir, prefix=".chunk-")
    hasher, size = hashlib.sha256(), 0
    source.seek(0)
    with os.fdopen(fd, "wb") as out:
        while block := source.read(COPY_CHUNK):
            out.write(block)
            hasher.update(block)
            size += len(block)
    return Path(tmp), size, hasher.hexdigest()


async def store_chunk(session: AsyncSession, storage: ArtifactStorage, upload: Upload, content_range: str | None,
                      source: BinaryIO, sha256: str | None) -> UploadChunk:
    """Verify one chunk against its Content-Range (and sha256) and keep it at its offset."""
    start, end = parse_content_range(content_range)
    directory = chunk_dir(storage, upload.pulp_id)
    tmp, size, digest = await asyncio.to_thread(_write_chunk, source, directory)
    try:
        if size != end - start + 1:
            raise ValidationError({"non_field_errors": ["Chunk size does not match content range."]})
        if end > upload.size - 1:
            raise ValidationError({"non_field_errors": ["End byte is greater than upload size."]})
        if sha256 and sha256.strip().lower() != digest:
            raise ValidationError({"non_field_errors": ["The sha256 checksum did not match."]})
    except ValidationError:
        tmp.unlink(missing_ok=True)
        raise
    # A chunk sent again for the same offset replaces the earlier one.
    await session.execute(delete(UploadChunk).where(UploadChunk.upload_id == upload.pulp_id,
                                                    UploadChunk.offset == start))
    name = f"upload/{upload.pulp_id}/{start}"
    os.replace(tmp, storage.root / name)
    chunk = UploadChunk(upload_id=upload.pulp_id, offset=start, size=size, file=name)
    session.add(chunk)
    return chunk


async def upload_to_artifact(session: AsyncSession, storage: ArtifactStorage, upload_id: uuid.UUID,
                             expected_sha256: str | None) -> Artifact:
    """Assemble an upload's chunks, verify the whole file, and return its (new or existing) Artifact.

    The upload and its chunk files are deleted. Raises DigestMismatch (nothing stored) when
    the assembled bytes do not match `expected_sha256` or the upload's size.
    """
    upload = await session.get(Upload, upload_id)
    if upload is None:
        raise TaskError(f"Upload {upload_id} does not exist.")
    chunks = list(await session.scalars(
        select(UploadChunk).where(UploadChunk.upload_id == upload_id).order_by(UploadChunk.offset)))
    writer = storage.writer()

    def assemble() -> None:
        for chunk in chunks:
            with open(storage.root / chunk.file, "rb") as handle:
                while block := handle.read(COPY_CHUNK):
                    writer.write(block)

    try:
        await asyncio.to_thread(assemble)
        expected = {"size": upload.size}
        try:
            writer.verify(expected, "the upload")
        except DigestMismatch:
            raise DigestMismatch(f"The upload holds {writer.size} bytes but was created with size {upload.size}; "
                                 "chunks are missing or overlap.") from None
        if expected_sha256 and writer.digests()["sha256"] != expected_sha256.strip().lower():
            raise DigestMismatch("The sha256 checksum did not match.")
        stored = writer.commit()
    except BaseException:
        writer.discard()
        raise
    artifact = await save_artifact(session, stored)
    await session.delete(upload)
    await session.flush()
    # Chunk files go once the deletion is committed; if the caller's transaction fails,
    # the upload and its chunks are both still there.
    when_committed(session, lambda: remove_upload_files(storage, upload_id))
    return artifact


_AFTER_COMMIT = "pulpwood_after_commit"


def when_committed(session: AsyncSession, action) -> None:
    """Run `action` after the session's current transaction commits (dropped on rollback)."""
    session.sync_session.info.setdefault(_AFTER_COMMIT, []).append(action)


@event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    for action in session.info.pop(_AFTER_COMMIT, []):
        action()


@event.listens_for(Session, "after_rollback")  # the real one; savepoint rollbacks keep the actions
def _drop_after_commit(session: Session) -> None:
    session.info.pop(_AFTER_COMMIT, None)


@register(UPLOAD_COMMIT)
async def commit(ctx, upload_id: str, sha256: str) -> None:
    async with ctx.transaction() as session:
        if await find_by_sha256(session, sha256.strip().lower()) is not None:
            raise TaskError(duplicate_message(sha256.strip().lower()))
        artifact = await upload_to_artifact(session, ctx.storage, uuid.UUID(upload_id), sha256)
        ctx.created(hrefs.href(artifact))
