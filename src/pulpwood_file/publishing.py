"""Publications: fix a repository version, lay every file out at its relative path and write
the PULP_MANIFEST describing them."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from pulpwood.plugin import (
    Artifact, ContentArtifact, PublishedArtifact, RemoteArtifact, RepositoryVersion, TaskError, chunks,
    content_ids_in, href, save_artifacts, uuid7,
)
from pulpwood_file.manifest import Entry, format_manifest
from pulpwood_file.models import FileContent, FilePublication

PUBLISH = "pulp_file.app.tasks.publishing.publish"
BATCH = 500


async def _published_files(session, version: RepositoryVersion) -> list[tuple[Entry, uuid.UUID]]:
    """(manifest entry, content artifact id) for every file of the version, newest first."""
    remote_size = (select(func.max(RemoteArtifact.size))
                   .where(RemoteArtifact.content_artifact_id == ContentArtifact.pulp_id).scalar_subquery())
    rows = await session.execute(
        select(FileContent.relative_path, FileContent.digest, ContentArtifact.pulp_id,
               func.coalesce(Artifact.size, remote_size))
        .join(ContentArtifact, ContentArtifact.content_id == FileContent.pulp_id)
        .outerjoin(Artifact, Artifact.pulp_id == ContentArtifact.artifact_id)
        .where(FileContent.pulp_id.in_(content_ids_in(version.repository_id, version.number)))
        .order_by(FileContent.pulp_created.desc(), FileContent.pulp_id.desc()))
    return [(Entry(path, digest, int(size or 0)), ca_id) for path, digest, ca_id, size in rows.all()]


async def create_publication(session, storage, version: RepositoryVersion, manifest: str | None,
                             manifest_bytes: bytes | None = None) -> FilePublication:
    """Write a complete publication of `version` (inside the caller's transaction).

    `manifest_bytes` passes an upstream manifest through unchanged (mirror syncs).
    """
    files = await _published_files(session, version)
    publication = FilePublication(pulp_id=uuid7(), repository_version_id=version.pulp_id, manifest=manifest,
                                  complete=False)
    session.add(publication)
    await session.flush()
    rows = [{"pulp_id": uuid7(), "publication_id": publication.pulp_id, "relative_path": entry.relative_path,
             "content_artifact_id": ca_id, "artifact_id": None} for entry, ca_id in files]
    if manifest:
        if manifest in {entry.relative_path for entry, _ in files}:
            raise TaskError(f"The manifest name {manifest!r} collides with a file of the repository version.")
        data = manifest_bytes if manifest_bytes is not None else format_manifest([e for e, _ in files])
        stored = storage.store_bytes(data)
        artifact_id = (await save_artifacts(session, [stored]))[stored.digests["sha256"]]
        rows.append({"pulp_id": uuid7(), "publication_id": publication.pulp_id, "relative_path": manifest,
                     "content_artifact_id": None, "artifact_id": artifact_id})
    for batch in chunks(rows, BATCH):
        await session.execute(PublishedArtifact.__table__.insert(), batch)
    publication.complete = True
    await session.flush()
    return publication


async def publish(ctx, repository_version_pk: str, manifest: str | None = "PULP_MANIFEST") -> None:
    progress = ctx.progress("Publishing files", "publish.generating_metadata")
    async with ctx.transaction() as session:
        version = await session.get(RepositoryVersion, uuid.UUID(repository_version_pk))
        if version is None or not version.complete:
            raise TaskError("The repository version to publish no longer exists.")
        publication = await create_publication(session, ctx.storage, version, manifest)
        ctx.created(href(publication))
    progress.increment()
    progress.state = "completed"
