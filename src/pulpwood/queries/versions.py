"""SELECTs over repository membership: what is in a version, what a version changed."""

from __future__ import annotations

import uuid

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from pulpwood.models import Content, Repository, RepositoryContent, RepositoryVersion


def present_in(repository_id: uuid.UUID, number: int):
    """WHERE clause over RepositoryContent: rows live in version `number`."""
    rc = RepositoryContent
    return and_(
        rc.repository_id == repository_id,
        rc.version_added <= number,
        or_(rc.version_removed.is_(None), rc.version_removed > number),
    )


def content_ids_in(repository_id: uuid.UUID, number: int):
    return select(RepositoryContent.content_id).where(present_in(repository_id, number))


def content_ids_added(repository_id: uuid.UUID, number: int):
    rc = RepositoryContent
    return select(rc.content_id).where(rc.repository_id == repository_id, rc.version_added == number)


def content_ids_removed(repository_id: uuid.UUID, number: int):
    rc = RepositoryContent
    return select(rc.content_id).where(rc.repository_id == repository_id, rc.version_removed == number)


async def latest_version(session: AsyncSession, repository_id: uuid.UUID) -> RepositoryVersion | None:
    return await session.scalar(
        select(RepositoryVersion)
        .where(RepositoryVersion.repository_id == repository_id, RepositoryVersion.complete.is_(True))
        .order_by(RepositoryVersion.number.desc())
        .limit(1)
    )


async def latest_numbers(session: AsyncSession, repository_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    """Latest complete version number per repository, in one query."""
    if not repository_ids:
        return {}
    rows = await session.execute(
        select(RepositoryVersion.repository_id, func.max(RepositoryVersion.number))
        .where(RepositoryVersion.repository_id.in_(repository_ids), RepositoryVersion.complete.is_(True))
        .group_by(RepositoryVersion.repository_id)
    )
    return dict(rows.all())


async def get_version(session: AsyncSession, repository_id: uuid.UUID, number: int) -> RepositoryVersion | None:
    return await session.scalar(
        select(RepositoryVersion).where(
            RepositoryVersion.repository_id == repository_id,
            RepositoryVersion.number == number,
            RepositoryVersion.complete.is_(True),
        )
    )


async def count_by_type(session: AsyncSession, content_ids_query) -> dict[str, int]:
    rows = await session.execute(
        select(Content.pulp_type, func.count())
        .where(Content.pulp_id.in_(content_ids_query))
        .group_by(Content.pulp_type)
    )
    return {pulp_type: count for pulp_type, count in rows.all() if count}


async def get_repository(session: AsyncSession, repository_id: uuid.UUID) -> Repository | None:
    return await session.get(Repository, repository_id)
