"""Sync from a PULP_MANIFEST: fetch the manifest once, download what is not stored yet
(immediate policy) or record where it lives (on_demand / streamed), save everything in
batches, and make one new repository version at the end.

Downloads of a batch run concurrently through one Downloader (one connection pool), and
every file is verified (size and sha256) before it gets its artifact name, so a failing
sync leaves no corrupt artifact and, because the version is written last, no version.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid

from pulpwood.plugin import (
    ArtifactSpec, DownloadConfig, after_new_version, Downloader, TaskError, Unit, chunks, commit_version, duplicates_validator,
    href, latest_version, lookup_artifacts, replaced_by, save_artifacts, save_units, version_href,
)
from pulpwood_file.manifest import file_url, parse_manifest
from pulpwood_file.models import FileContent, FileRemote, FileRepository
from pulpwood_file.publishing import create_publication

SYNCHRONIZE = "pulp_file.app.tasks.synchronizing.synchronize"
BATCH = 500
MAX_MANIFEST = 512 * 1024 * 1024


async def _first_error(coros: list) -> list:
    """Run downloads together; the first failure cancels the rest and is raised as is."""
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(c) for c in coros]
    except* Exception as failures:
        raise failures.exceptions[0] from None
    return [t.result() for t in tasks]


async def _download_missing(ctx, downloader: Downloader, units: list[Unit], progress) -> list:
    """Fetch every artifact of `units` not stored yet; -> the stored files (rows not saved yet)."""
    specs = [spec for unit in units for spec in unit.artifacts]
    async with ctx.reading() as session:
        known = await lookup_artifacts(session, {s.sha256 for s in specs})
    wanted: dict[str, ArtifactSpec] = {}
    for spec in specs:
        if spec.sha256 in known:
            spec.artifact_id = known[spec.sha256]
        else:
            wanted.setdefault(spec.sha256, spec)

    async def fetch(spec: ArtifactSpec):
        stored = await downloader.fetch_to_storage(
            spec.url, expected={"size": spec.size, "sha256": spec.sha256}, what=spec.relative_path)
        progress.increment()
        return stored

    return await _first_error([fetch(spec) for spec in wanted.values()])


async def _save_batch(ctx, units: list[Unit], stored: list, remote_id) -> None:
    """One short transaction per batch: artifact rows, then units and their links."""
    async with ctx.transaction() as session:
        if stored:
            ids = await save_artifacts(session, stored)
            for unit in units:
                for spec in unit.artifacts:
                    if spec.artifact_id is None:
                        spec.artifact_id = ids[spec.sha256]
        await save_units(session, units, remote_id=remote_id)


async def synchronize(ctx, remote_pk: str, repository_pk: str, mirror: bool = False) -> None:
    async with ctx.reading() as session:
        remote = await session.get(FileRemote, uuid.UUID(remote_pk))
        repository = await session.get(FileRepository, uuid.UUID(repository_pk))
        if remote is None or repository is None:
            raise TaskError("The remote or the repository was deleted before the sync ran.")
        config = DownloadConfig.from_remote(remote)
        policy, manifest_url, remote_id = remote.policy, remote.url, remote.pulp_id
        manifest_name = repository.manifest
    metadata = ctx.progress("Downloading Metadata Files", "sync.downloading.metadata")
    async with Downloader(config, ctx.storage) as downloader:
        raw = await downloader.fetch_bytes(manifest_url, max_size=MAX_MANIFEST)
        metadata.increment()
        metadata.state = "completed"
        entries = parse_manifest(raw)
        parsing = ctx.progress("Parsing Metadata Lines", "sync.parsing.metadata", total=len(entries))
        parsing.done, parsing.state = len(entries), "completed"
        downloading = ctx.progress("Downloading Artifacts", "sync.downloading.artifacts") \
            if policy == "immediate" else None
        associating = ctx.progress("Associating Content", "associating.content")
        saved: list[Unit] = []
        saving: asyncio.Future | None = None  # the previous batch's save, overlapping our downloads
        try:
            for batch in chunks(entries, BATCH):
                units = [Unit(FileContent, {"relative_path": e.relative_path, "digest": e.digest},
                              [ArtifactSpec(e.relative_path, file_url(manifest_url, e.relative_path), e.size,
                                            e.digest)])
                         for e in batch]
                stored = await _download_missing(ctx, downloader, units, downloading) if downloading else []
                if saving is not None:
                    await saving
                saving = asyncio.ensure_future(_save_batch(
                    ctx, units, stored, remote_id if policy != "immediate" else None))
                saved.extend(units)
            if saving is not None:
                await saving
        finally:
            if saving is not None and not saving.done():
                saving.cancel()
                await asyncio.gather(saving, return_exceptions=True)
        content_ids = {unit.pulp_id for unit in saved}
        if downloading is not None:
            downloading.state = "completed"
    async with ctx.transaction() as session:
        latest = await latest_version(session, uuid.UUID(repository_pk))
        if mirror:
            version = await commit_version(session, latest.repository_id, add=content_ids, remove_all=True,
                                           validator=duplicates_validator)
        else:
            remove = await replaced_by(session, latest.repository_id, latest.number, content_ids)
            version = await commit_version(session, latest.repository_id, add=content_ids, remove=remove,
                                           validator=duplicates_validator)
        repository = await session.get(FileRepository, uuid.UUID(repository_pk))
        repository.last_sync_details = {
            "remote_pk": remote_pk, "url": manifest_url, "download_policy": policy, "mirror": mirror,
            "most_recent_version": (version or latest).number,
            "manifest_checksum": hashlib.sha256(raw).hexdigest()}
        if version is not None:
            summary = version.content_counts or {}
            associating.done = sum((summary.get("added") or {}).values())
            removed = sum((summary.get("removed") or {}).values())
            if removed:
                ctx.progress("Un-Associating Content", "un-associating.content", total=removed).done = removed
            if mirror:
                ctx.created(version_href(repository, version.number))
                # Mirror mode publishes the upstream manifest itself, byte for byte.
                publication = await create_publication(session, ctx.storage, version,
                                                       manifest_name or "PULP_MANIFEST", manifest_bytes=raw)
                ctx.created(href(publication))
            else:
                await after_new_version(ctx, session, repository, version)
    associating.state = "completed"


