"""Creating file content from an artifact, an uploaded file or a chunked upload, optionally
adding it to a repository in a new version."""

from __future__ import annotations

import asyncio
import uuid

from pulpwood.plugin import (
    Artifact, ArtifactSpec, TaskError, Unit, href_for, new_version, save_artifacts, save_units,
)
from pulpwood_file.models import FileContent, FileRepository

CREATE_CONTENT = "pulpcore.app.tasks.base.general_create_from_temp_file"
COPY_CHUNK = 1024 * 1024


async def store_upload(storage, upload_file) -> object:
    """Copy a request's file into storage (hashing off the event loop); -> StoredFile."""
    writer = storage.writer()

    def copy() -> None:
        source = upload_file.file
        source.seek(0)
        while block := source.read(COPY_CHUNK):
            writer.write(block)

    try:
        await asyncio.to_thread(copy)
        return writer.commit()
    except BaseException:
        writer.discard()
        raise


async def save_file_content(session, artifact: Artifact, relative_path: str, pulp_labels: dict | None = None) -> Unit:
    unit = Unit(FileContent, {"relative_path": relative_path, "digest": artifact.sha256},
                [ArtifactSpec(relative_path, size=artifact.size, sha256=artifact.sha256, artifact_id=artifact.pulp_id)],
                pulp_labels=pulp_labels or {})
    await save_units(session, [unit])
    return unit


async def artifact_from_stored(session, stored) -> Artifact:
    ids = await save_artifacts(session, [stored])
    return await session.get(Artifact, ids[stored.digests["sha256"]])


async def create_file_content(ctx, relative_path: str, artifact_pk: str | None = None, upload_pk: str | None = None,
                              repository_pk: str | None = None, overwrite: bool = True,
                              pulp_labels: dict | None = None) -> None:
    async with ctx.transaction() as session:
        if upload_pk is not None:
            from pulpwood.plugin import upload_to_artifact

            artifact = await upload_to_artifact(session, ctx.storage, uuid.UUID(upload_pk), None)
        else:
            artifact = await session.get(Artifact, uuid.UUID(artifact_pk))
        if artifact is None:
            raise TaskError("The artifact to make content from no longer exists.")
        unit = await save_file_content(session, artifact, relative_path, pulp_labels)
        if repository_pk is not None:
            repository = await session.get(FileRepository, uuid.UUID(repository_pk))
            if repository is None:
                raise TaskError("The repository was deleted before the task ran.")
            await new_version(ctx, session, repository, add={unit.pulp_id}, overwrite=overwrite)
        ctx.created(href_for(FileContent, unit.pulp_id))
