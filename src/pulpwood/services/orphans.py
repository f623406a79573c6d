"""Orphan cleanup and space reclaim: drop what no repository version needs any more.

Rows go first, inside the task's transaction; files go only after it committed, so a
canceled or failed cleanup never leaves a row pointing at a deleted file.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import delete, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from pulpwood.db.base import utcnow
from pulpwood.models import (
    Artifact, Content, ContentArtifact, PublishedArtifact, RemoteArtifact, RepositoryContent, RepositoryVersion,
)
from pulpwood.queries.versions import content_ids_in
from pulpwood.services.artifacts import orphaned_clause, protection_cutoff
from pulpwood.tasking.registry import register

ORPHAN_CLEANUP = "pulpcore.app.tasks.orphan.orphan_cleanup"
RECLAIM_SPACE = "pulpcore.app.tasks.reclaim_space.reclaim"
# Exclusive per-domain lock Pulp takes for orphan cleanup.
ORPHANS_RESOURCE = "pdrn:default:orphans"
BATCH = 500


def _batches(items: list) -> list[list]:
    return [items[i:i + BATCH] for i in range(0, len(items), BATCH)]


def _content_tables() -> list:
    """Tables of every content type, most derived first, the master table last."""
    mappers = sorted(Content.__mapper__.self_and_descendants, key=lambda m: -len(list(m.iterate_to_root())))
    tables, seen = [], set()
    for mapper in mappers:
        table = mapper.local_table
        if table.name not in seen:
            seen.add(table.name)
            tables.append(table)
    return tables


async def delete_content(session: AsyncSession, content_ids: list[uuid.UUID]) -> None:
    """Delete content rows of any type (child tables first; links cascade)."""
    tables = _content_tables()
    for batch in _batches(content_ids):
        for table in tables:
            await session.execute(delete(table).where(table.c.pulp_id.in_(batch)))


async def delete_orphaned_artifacts(session: AsyncSession, older_than: dt.datetime,
                                    among: list[uuid.UUID] | None = None) -> list[str]:
    """Delete artifact rows nothing uses; returns their storage names for removal after commit."""
    stmt = select(Artifact.pulp_id, Artifact.file).where(orphaned_clause(older_than))
    rows: list = []
    if among is None:
        rows = list((await session.execute(stmt)).all())
    else:
        for batch in _batches(among):
            rows += list((await session.execute(stmt.where(Artifact.pulp_id.in_(batch)))).all())
    for batch in _batches([pk for pk, _ in rows]):
        await session.execute(delete(Artifact).where(Artifact.pulp_id.in_(batch)))
    return [name for _, name in rows]


def orphaned_content_query(cutoff: dt.datetime):
    """Content in no repository version, served by no publication, untouched since `cutoff`."""
    published = (select(ContentArtifact.content_id)
                 .join(PublishedArtifact, PublishedArtifact.content_artifact_id == ContentArtifact.pulp_id)
                 .where(ContentArtifact.content_id == Content.pulp_id))
    return select(Content.pulp_id).where(
        ~exists().where(RepositoryContent.content_id == Content.pulp_id),
        ~published.exists(),
        Content.timestamp_of_interest < cutoff,
    )


@register(ORPHAN_CLEANUP)
async def orphan_cleanup(ctx, content_pks: list[str] | None = None, orphan_protection_time: int | None = None) -> None:
    minutes = ctx.settings.orphan_protection_time if orphan_protection_time is None else orphan_protection_time
    cutoff = protection_cutoff(minutes)
    async with ctx.transaction() as session:
        query = orphaned_content_query(cutoff)
        wanted = None if content_pks is None else [uuid.UUID(pk) for pk in content_pks]
        content_ids: list[uuid.UUID] = []
        if wanted is None:
            content_ids = list(await session.scalars(query))
        else:
            for batch in _batches(wanted):
                content_ids += list(await session.scalars(query.where(Content.pulp_id.in_(batch))))
        report = ctx.progress("Clean up orphan Content", "clean-up.content", total=len(content_ids))
        # With explicit content, only the artifacts of that content are candidates.
        candidates = None
        if wanted is not None:
            candidates = []
            for batch in _batches(content_ids):
                candidates += [a for a in await session.scalars(select(ContentArtifact.artifact_id).where(
                    ContentArtifact.content_id.in_(batch), ContentArtifact.artifact_id.is_not(None)))]
        for batch in _batches(content_ids):
            await delete_content(session, batch)
            report.increment(len(batch))
        names = await delete_orphaned_artifacts(session, cutoff, candidates)
        artifacts = ctx.progress("Clean up orphan Artifacts", "clean-up.artifacts", total=len(names))
        artifacts.done = len(names)
    for name in names:
        ctx.storage.delete(name)


@register(RECLAIM_SPACE)
async def reclaim(ctx, repo_pks: list[str] | None = None, keeplist_pks: list[str] | None = None) -> None:
    """Drop stored files of content in these repositories that a remote can deliver again."""
    async with ctx.transaction() as session:
        rc = RepositoryContent
        members = select(rc.content_id)
        if repo_pks is not None:
            members = members.where(rc.repository_id.in_([uuid.UUID(pk) for pk in repo_pks]))
        keep = None
        for pk in keeplist_pks or []:
            version = await session.get(RepositoryVersion, uuid.UUID(pk))
            if version is not None:
                kept = content_ids_in(version.repository_id, version.number)
                keep = kept if keep is None else keep.union(kept)
        ca = ContentArtifact
        refetchable = exists().where(RemoteArtifact.content_artifact_id == ca.pulp_id)
        stmt = select(ca.pulp_id, ca.artifact_id).where(ca.content_id.in_(members), ca.artifact_id.is_not(None),
                                                         refetchable)
        if keep is not None:
            stmt = stmt.where(ca.content_id.not_in(keep))
        rows = list((await session.execute(stmt)).all())
        report = ctx.progress("Reclaim disk space", "reclaim-space.content", total=len(rows))
        for batch in _batches(rows):
            await session.execute(update(ca).where(ca.pulp_id.in_([r[0] for r in batch])).values(artifact_id=None))
            report.increment(len(batch))
        artifact_ids = list({r[1] for r in rows})
        # No protection window: these files were just released on purpose.
        names = await delete_orphaned_artifacts(session, utcnow() + dt.timedelta(seconds=1), artifact_ids)
    for name in names:
        ctx.storage.delete(name)
