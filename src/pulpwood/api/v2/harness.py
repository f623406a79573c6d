"""The harness plugins' work: synthetic units made as small files, and a publish that
writes them below publish_dir (removing only what an earlier publish wrote)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from pulpwood.api.v2.plugin_types import as_bool
from pulpwood.errors import TaskError
from pulpwood.ids import uuid7
from pulpwood.models import Artifact, ContentArtifact
from pulpwood.models.artifact import ALL_DIGEST_FIELDS
from pulpwood.models.pulp2 import V2Distributor, V2Repository
from pulpwood.queries.versions import latest_version
from pulpwood.services.versions import commit_version


async def insert_or_get(session, obj, lookup):
    """Insert `obj`, or return the row a concurrent task inserted first (a savepoint keeps
    the rest of the transaction alive)."""
    existing = await session.scalar(lookup)
    if existing is not None:
        return existing, False
    try:
        async with session.begin_nested():
            session.add(obj)
            await session.flush()
    except IntegrityError:
        existing = await session.scalar(lookup)
        if existing is None:
            raise
        return existing, False
    return obj, True


async def store_file(session, storage, data: bytes) -> Artifact:
    stored = storage.store_bytes(data)
    artifact = Artifact(file=stored.file, size=stored.size,
                        **{k: v for k, v in stored.digests.items() if k in ALL_DIGEST_FIELDS})
    artifact, _ = await insert_or_get(session, artifact,
                                       select(Artifact).where(Artifact.sha256 == stored.digests["sha256"]))
    return artifact


async def harness_sync(ctx, repo: V2Repository, config: dict) -> None:
    """Make `num_units` synthetic units (small files); surplus units from earlier syncs go."""
    from pulpwood_file.models import FileContent

    delay = int(config.get("sync_delay_in_seconds") or 0)
    if delay:
        await asyncio.sleep(delay)
    count = int(config["num_units"])
    progress = ctx.progress("Generating harness units", "import_add_unit", total=count)
    async with ctx.transaction() as session:
        ids = set()
        for index in range(count):
            path = f"chunk_{index % 5}/harness_unit_{index}.unit"
            data = f"harness_unit_{index}\nsearch_1=value_{index}\nsearch_2=value_{index % 5}\n".encode()
            artifact = await store_file(session, ctx.storage, data)
            unit, created = await insert_or_get(
                session, FileContent(relative_path=path, digest=artifact.sha256),
                select(FileContent).where(FileContent.relative_path == path, FileContent.digest == artifact.sha256))
            if created:
                session.add(ContentArtifact(pulp_id=uuid7(), content_id=unit.pulp_id, artifact_id=artifact.pulp_id,
                                            relative_path=path))
                await session.flush()
            ids.add(unit.pulp_id)
            progress.increment()
        await commit_version(session, repo.repository_id, add=ids, remove_all=True)
    progress.state = "completed"


async def harness_publish(ctx, repo: V2Repository, dist: V2Distributor, config: dict) -> dict:
    """Write the units' files below publish_dir/<repo id>/; remove only files we wrote before."""
    from pulpwood_file.models import FileContent

    delay = int(config.get("publish_delay_in_seconds") or 0)
    if delay:
        await asyncio.sleep(delay)
    root = Path(ctx.settings.publish_root).resolve()
    target = Path(config.get("publish_dir") or root / "harness-publish").resolve()
    if target != root and root not in target.parents:
        raise TaskError(f"publish_dir {target} must lie under the publish root {root}.")
    target = target / repo.repo_id
    previous = set((dist.scratchpad or {}).get("written", []))
    written: list[str] = []
    if as_bool(config.get("write_files"), True) and repo.repository_id is not None:
        async with ctx.reading() as session:
            latest = await latest_version(session, repo.repository_id)
            from pulpwood.queries.versions import content_ids_in

            rows = (await session.execute(
                select(FileContent.relative_path, Artifact.file)
                .join(ContentArtifact, ContentArtifact.content_id == FileContent.pulp_id)
                .join(Artifact, Artifact.pulp_id == ContentArtifact.artifact_id)
                .where(FileContent.pulp_id.in_(content_ids_in(repo.repository_id, latest.number))))).all()
        for relative, stored in rows:
            path = (target / relative).resolve()
            if target not in path.parents:
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(ctx.storage.path(stored).read_bytes())
            written.append(str(path))
    for stale in previous - set(written):
        stale_path = Path(stale)
        if target in stale_path.parents and stale_path.is_file():
            stale_path.unlink()
    count = int((dist.scratchpad or {}).get("publish_count", 0)) + 1
    return {"publish_count": count, "written": sorted(written)}
