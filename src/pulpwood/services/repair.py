"""Repair: find stored artifacts that are missing or no longer match their sha256, and
fetch them again from a remote that has them.

An artifact without a remote source cannot be repaired; it is reported (the progress
reports count it) and left as it is, as Pulp does.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import uuid
from pathlib import Path

from sqlalchemy import select

from pulpwood.errors import PulpwoodError
from pulpwood.models import Artifact, ContentArtifact, Remote, RemoteArtifact, RepositoryVersion
from pulpwood.queries.versions import content_ids_in
from pulpwood.tasking.registry import register

log = logging.getLogger(__name__)
REPAIR_VERSION = "pulpcore.app.tasks.repository.repair_version"
REPAIR_ALL = "pulpcore.app.tasks.repository.repair_all_artifacts"
READ_CHUNK = 1024 * 1024


def _sha256_of(path: Path) -> str | None:
    try:
        hasher = hashlib.sha256()
        with open(path, "rb") as handle:
            while block := handle.read(READ_CHUNK):
                hasher.update(block)
        return hasher.hexdigest()
    except FileNotFoundError:
        return None


async def _refetch(ctx, session, artifact: Artifact) -> bool:
    """Download the artifact again from any remote that lists it; True when stored and verified."""
    from pulpwood.download.config import DownloadConfig
    from pulpwood.download.http import Downloader

    sources = (await session.execute(
        select(RemoteArtifact.url, RemoteArtifact.remote_id)
        .join(ContentArtifact, ContentArtifact.pulp_id == RemoteArtifact.content_artifact_id)
        .where(ContentArtifact.artifact_id == artifact.pulp_id))).all()
    for url, remote_id in sources:
        remote = await session.get(Remote, remote_id)
        if remote is None:
            continue
        try:
            async with Downloader(DownloadConfig.from_remote(remote), ctx.storage, concurrency=1) as downloader:
                await downloader.fetch_to_storage(url, expected={"sha256": artifact.sha256, "size": artifact.size},
                                                  what=artifact.file)
            return True
        except PulpwoodError as exc:
            log.warning("repair of %s from %s failed: %s", artifact.file, url, exc)
    return False


async def repair_artifacts(ctx, artifact_ids_query, verify_checksums: bool) -> dict:
    async with ctx.reading() as session:
        artifacts = list(await session.scalars(select(Artifact).where(Artifact.pulp_id.in_(artifact_ids_query))))
    missing = ctx.progress("Identify missing units", "repair.missing", total=None)
    corrupted = ctx.progress("Identify corrupted units", "repair.corrupted", total=None)
    repaired = ctx.progress("Repair corrupted units", "repair.repaired", total=None)
    broken: list[Artifact] = []
    for artifact in artifacts:
        path = ctx.storage.path(artifact.file)
        if verify_checksums:
            digest = await asyncio.to_thread(_sha256_of, path)
            if digest is None:
                missing.increment()
                broken.append(artifact)
            elif digest != artifact.sha256:
                corrupted.increment()
                broken.append(artifact)
        elif not path.exists():
            missing.increment()
            broken.append(artifact)
    async with ctx.reading() as session:
        for artifact in broken:
            path = ctx.storage.path(artifact.file)
            # Storage never overwrites a stored name, so the bad file must go before the good one arrives.
            aside = path.with_name(path.name + ".corrupt")
            had_file = path.exists()
            if had_file:
                path.rename(aside)
            if await _refetch(ctx, session, artifact):
                repaired.increment()
                aside.unlink(missing_ok=True)
            elif had_file:
                aside.rename(path)
    return {"missing": missing.done, "corrupted": corrupted.done, "repaired": repaired.done}


@register(REPAIR_VERSION)
async def repair_version(ctx, pk: str, verify_checksums: bool = True) -> None:
    async with ctx.reading() as session:
        version = await session.get(RepositoryVersion, uuid.UUID(pk))
        if version is None:
            return
        repository_id, number = version.repository_id, version.number
    used = select(ContentArtifact.artifact_id).where(
        ContentArtifact.content_id.in_(content_ids_in(repository_id, number)), ContentArtifact.artifact_id.is_not(None))
    await repair_artifacts(ctx, used, verify_checksums)


@register(REPAIR_ALL)
async def repair_all_artifacts(ctx, verify_checksums: bool = True) -> None:
    await repair_artifacts(ctx, select(Artifact.pulp_id), verify_checksums)
