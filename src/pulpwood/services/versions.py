"""Repository versions: create the first one with the repository, make new ones from changes,
delete one by squashing it into the next.

A new version is computed in memory as sets of content ids and written in one transaction
at the end, so a task that fails or is canceled leaves no version behind, and a task that
changes nothing creates none.
"""

from __future__ import annotations

import operator
import uuid
from collections.abc import Awaitable, Callable, Iterable

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from pulpwood.db.base import utcnow
from pulpwood.errors import TaskError
from pulpwood.ids import uuid7
from pulpwood.models import Repository, RepositoryContent, RepositoryVersion
from pulpwood.queries.bulk import bulk_insert
from pulpwood.queries.versions import content_ids_in, count_by_type, latest_version, present_in

BATCH = 500
# Sorts ids as both databases do, comparing ints in C: sorted() of tens of thousands of UUIDs
# calls the Python-level UUID.__lt__ half a million times.
_by_int = operator.attrgetter("int")
# Hook a plugin may give to refuse a version (e.g. two files at one relative path).
VersionValidator = Callable[[AsyncSession, Repository, set[uuid.UUID]], Awaitable[None]]


def chunks(items: Iterable, size: int = BATCH):
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


async def create_repository(session: AsyncSession, repository: Repository) -> Repository:
    """Add a repository and its empty, complete version 0."""
    repository.next_version = 1
    session.add(repository)
    await session.flush()
    session.add(RepositoryVersion(repository_id=repository.pulp_id, number=0, complete=True,
                                  content_counts={"added": {}, "removed": {}, "present": {}}))
    await session.flush()
    return repository


async def version_content_ids(session: AsyncSession, repository_id: uuid.UUID, number: int) -> set[uuid.UUID]:
    return set(await session.scalars(content_ids_in(repository_id, number)))


async def _lock_repository(session: AsyncSession, repository_id: uuid.UUID) -> Repository:
    stmt = select(Repository).where(Repository.pulp_id == repository_id)
    if session.bind.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    repository = await session.scalar(stmt)
    if repository is None:
        raise TaskError("The repository was deleted while the task ran.")
    return repository


async def commit_version(
    session: AsyncSession,
    repository_id: uuid.UUID,
    *,
    add: set[uuid.UUID] = frozenset(),
    remove: set[uuid.UUID] | None = None,
    remove_all: bool = False,
    base_number: int | None = None,
    validator: VersionValidator | None = None,
) -> RepositoryVersion | None:
    """Write the version `base (or latest) - remove + add`; None when it equals the latest.

    Call inside the task's final write transaction.
    """
    repository = await _lock_repository(session, repository_id)
    latest = await latest_version(session, repository_id)
    current = await version_content_ids(session, repository_id, latest.number)
    if base_number is not None and base_number != latest.number:
        start = await version_content_ids(session, repository_id, base_number)
    else:
        start = current
    desired = set() if remove_all else start - set(remove or ())
    desired |= set(add)
    added, removed = desired - current, current - desired
    if not added and not removed:
        return None
    if validator is not None:
        await validator(session, repository, desired)
    number = repository.next_version
    base_id = None
    if base_number is not None:
        base = await session.scalar(select(RepositoryVersion.pulp_id).where(
            RepositoryVersion.repository_id == repository_id, RepositoryVersion.number == base_number))
        base_id = base
    version = RepositoryVersion(repository_id=repository_id, number=number, complete=False, base_version_id=base_id)
    session.add(version)
    await session.flush()
    for batch in chunks(sorted(removed, key=_by_int)):
        await session.execute(
            update(RepositoryContent)
            .where(RepositoryContent.repository_id == repository_id,
                   RepositoryContent.version_removed.is_(None),
                   RepositoryContent.content_id.in_(batch))
            .values(version_removed=number)
        )
    # A sync adds tens of thousands of units at once: straight to the driver, in key order.
    await bulk_insert(session, RepositoryContent.__table__,
                      ("pulp_id", "repository_id", "content_id", "version_added", "version_removed"),
                      [(uuid7(), repository_id, content_id, number, None) for content_id in sorted(added, key=_by_int)])
    version.content_counts = await summarize(session, repository_id, number)
    version.complete = True
    repository.next_version = number + 1
    repository.pulp_last_updated = utcnow()
    await session.flush()
    await apply_retention(session, repository)
    return version


async def summarize(session: AsyncSession, repository_id: uuid.UUID, number: int) -> dict:
    from pulpwood.queries.versions import content_ids_added, content_ids_removed

    return {
        "added": await count_by_type(session, content_ids_added(repository_id, number)),
        "removed": await count_by_type(session, content_ids_removed(repository_id, number)),
        "present": await count_by_type(session, content_ids_in(repository_id, number)),
    }


async def squash_version(session: AsyncSession, version: RepositoryVersion) -> None:
    """Delete `version`, folding its changes into the next complete version."""
    repository_id, number = version.repository_id, version.number
    following = await session.scalar(
        select(RepositoryVersion.number)
        .where(RepositoryVersion.repository_id == repository_id, RepositoryVersion.number > number)
        .order_by(RepositoryVersion.number).limit(1)
    )
    previous = await session.scalar(
        select(RepositoryVersion.number)
        .where(RepositoryVersion.repository_id == repository_id, RepositoryVersion.number < number)
        .order_by(RepositoryVersion.number.desc()).limit(1)
    )
    rc = RepositoryContent
    if following is not None:
        # Units added here and removed in the next version were never visible elsewhere.
        await session.execute(delete(rc).where(rc.repository_id == repository_id, rc.version_added == number,
                                               rc.version_removed == following))
        await session.execute(update(rc).where(rc.repository_id == repository_id, rc.version_added == number)
                              .values(version_added=following))
        await session.execute(update(rc).where(rc.repository_id == repository_id, rc.version_removed == number)
                              .values(version_removed=following))
    else:
        # Deleting the latest version: its additions vanish, its removals are undone.
        await session.execute(delete(rc).where(rc.repository_id == repository_id, rc.version_added == number))
        await session.execute(update(rc).where(rc.repository_id == repository_id, rc.version_removed == number)
                              .values(version_removed=None))
    await session.delete(version)
    await session.flush()
    for neighbour in (following, previous):
        if neighbour is None:
            continue
        nv = await session.scalar(select(RepositoryVersion).where(
            RepositoryVersion.repository_id == repository_id, RepositoryVersion.number == neighbour))
        nv.content_counts = await summarize(session, repository_id, neighbour)
        if previous is not None and neighbour == following:
            nv.content_counts = await _summary_against(session, repository_id, previous, neighbour)


async def _summary_against(session: AsyncSession, repository_id, older: int, newer: int) -> dict:
    old_ids = await version_content_ids(session, repository_id, older)
    new_ids = await version_content_ids(session, repository_id, newer)
    from pulpwood.models import Content
    from sqlalchemy import func

    async def counts(ids: set) -> dict:
        result: dict[str, int] = {}
        for batch in chunks(sorted(ids)):
            rows = await session.execute(select(Content.pulp_type, func.count())
                                         .where(Content.pulp_id.in_(batch)).group_by(Content.pulp_type))
            for pulp_type, count in rows.all():
                result[pulp_type] = result.get(pulp_type, 0) + count
        return result

    return {"added": await counts(new_ids - old_ids), "removed": await counts(old_ids - new_ids),
            "present": await counts(new_ids)}


async def protected_version_ids(session: AsyncSession, repository_id: uuid.UUID) -> set[uuid.UUID]:
    """Versions a distribution serves (directly, through a publication, or as latest)."""
    from pulpwood.models import Distribution, Publication

    protected: set[uuid.UUID] = set()
    direct = await session.scalars(select(Distribution.repository_version_id).where(
        Distribution.repository_version_id.is_not(None)))
    protected.update(direct)
    published = await session.scalars(
        select(Publication.repository_version_id).join(Distribution, Distribution.publication_id == Publication.pulp_id))
    protected.update(published)
    serves_latest = await session.scalar(select(Distribution.pulp_id).where(Distribution.repository_id == repository_id).limit(1))
    if serves_latest is not None:
        latest = await latest_version(session, repository_id)
        if latest is not None:
            protected.add(latest.pulp_id)
    return protected


async def apply_retention(session: AsyncSession, repository: Repository) -> None:
    keep = repository.retain_repo_versions
    if not keep:
        return
    versions = list(await session.scalars(
        select(RepositoryVersion).where(RepositoryVersion.repository_id == repository.pulp_id,
                                        RepositoryVersion.complete.is_(True))
        .order_by(RepositoryVersion.number.desc())))
    protected = await protected_version_ids(session, repository.pulp_id)
    for version in versions[keep:]:
        if version.pulp_id not in protected:
            await squash_version(session, version)


def content_summary(repository_href: str, version_href: str, counts: dict, type_paths: dict[str, str]) -> dict:
    """The `content_summary` of a version, hrefs included, zero counts omitted."""
    def section(kind: str, param: str) -> dict:
        out = {}
        for pulp_type, count in sorted(counts.get(kind, {}).items()):
            if not count:
                continue
            base = type_paths.get(pulp_type, "")
            out[pulp_type] = {"count": count, "href": f"{base}?{param}={version_href}"}
        return out

    return {
        "added": section("added", "repository_version_added"),
        "removed": section("removed", "repository_version_removed"),
        "present": section("present", "repository_version"),
    }


__all__ = [
    "apply_retention", "chunks", "commit_version", "content_summary", "create_repository",
    "protected_version_ids", "present_in", "squash_version", "summarize", "version_content_ids",
]
