"""What a distribution serves: the resolver interface plugins plug into.

A *serve target* is either one publication (its PublishedArtifact rows are the files) or one
repository version (the ContentArtifact relative paths of the content present in it).

A plugin decides, per distribution pulp_type, how a distribution becomes a target, by
registering `PluginSpec(content_resolvers={"<pulp_type>": resolver})` where

    async def resolver(session, distribution: DistributionInfo, path: str) -> ServeTarget | None

`path` is the request path below the distribution's base path (for resolvers that consume a
leading segment, e.g. checkpoints; they return the rest in `ServeTarget.path`). None means the
distribution serves nothing (every path is 404). Two ready-made resolvers cover the Pulp types:

* `serve_versions` (the default for types without a resolver, e.g. ostree): publication if
  set, else the pinned version, else the repository's latest version.
* `serve_publications` (publication-serving types, e.g. file): publication if set, else the
  newest complete publication of the pinned version, else of the repository (by version number,
  then creation time).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy import ARRAY, and_, any_, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from pulpwood.models import Distribution, Publication, RepositoryVersion


@dataclass(frozen=True)
class DistributionInfo:
    """The columns of a distribution the content app needs (no ORM object, no polymorphic load)."""

    pulp_id: uuid.UUID
    pulp_type: str
    base_path: str
    repository_id: uuid.UUID | None
    repository_version_id: uuid.UUID | None
    publication_id: uuid.UUID | None
    checkpoint: bool = False
    # Prefetched with the distribution (same query) so version-serving types need no other:
    latest_number: int | None = None  # newest complete version of `repository_id`
    pinned_repository_id: uuid.UUID | None = None  # repository and number of the pinned version
    pinned_number: int | None = None


@dataclass(frozen=True)
class ServeTarget:
    """Serve `publication_id`, or else version `version_number` of `repository_id`."""

    publication_id: uuid.UUID | None = None
    repository_id: uuid.UUID | None = None
    version_number: int | None = None
    # Replaces the request's relative path when the resolver consumed part of it.
    path: str | None = None

    @classmethod
    def of_version(cls, version: RepositoryVersion) -> ServeTarget:
        return cls(repository_id=version.repository_id, version_number=version.number)


Resolver = Callable[[AsyncSession, DistributionInfo, str], Awaitable[ServeTarget | None]]

DISTRIBUTION_COLUMNS = (
    Distribution.pulp_id, Distribution.pulp_type, Distribution.base_path, Distribution.repository_id,
    Distribution.repository_version_id, Distribution.publication_id, Distribution.checkpoint,
)


def _distribution_by_base_path(base_path_condition):
    latest = (
        select(func.max(RepositoryVersion.number))
        .where(RepositoryVersion.repository_id == Distribution.repository_id, RepositoryVersion.complete.is_(True))
        .scalar_subquery()
    )
    pinned = aliased(RepositoryVersion)
    return (
        select(*DISTRIBUTION_COLUMNS, latest, pinned.repository_id, pinned.number)
        .outerjoin(pinned, and_(pinned.pulp_id == Distribution.repository_version_id, pinned.complete.is_(True)))
        .where(base_path_condition)
    )


DISTRIBUTION_BY_BASE_PATH = _distribution_by_base_path(Distribution.base_path.in_(bindparam("candidates", expanding=True)))
# The same rows for an array of base paths (PostgreSQL): one statement text for any number.
DISTRIBUTIONS_BY_BASE_PATHS = _distribution_by_base_path(
    Distribution.base_path == any_(bindparam("base_paths", type_=ARRAY(Distribution.base_path.type))))


async def find_distribution(session: AsyncSession, candidates: list[str]) -> DistributionInfo | None:
    """The distribution with the longest base path among `candidates`, with its latest and
    pinned version numbers (one indexed query)."""
    if not candidates:
        return None
    snapshot = getattr(session, "snapshot", None)
    if snapshot is not None:
        key = tuple(candidates)
        memo = _MEMO.get(key)
        if memo is not None and memo[0] == snapshot:
            return memo[1]
    rows = (await session.execute(DISTRIBUTION_BY_BASE_PATH, {"candidates": candidates})).all()
    found = DistributionInfo(*max(rows, key=lambda row: len(row.base_path))) if rows else None
    if snapshot is not None:
        if len(_MEMO) >= _MEMO_SIZE:
            _MEMO.clear()
        _MEMO[key] = (snapshot, found)
    return found


# Distribution lookups of sessions that carry a database snapshot token (SQLite content
# reads, content/reads.py): valid while nothing was committed since, i.e. exact, and it saves
# one of the two queries of nearly every file request of an `ostree pull`.
_MEMO: dict[tuple[str, ...], tuple[object, DistributionInfo | None]] = {}
_MEMO_SIZE = 1024


async def _version_target(session: AsyncSession, version_id: uuid.UUID) -> ServeTarget | None:
    row = (await session.execute(
        select(RepositoryVersion.repository_id, RepositoryVersion.number)
        .where(RepositoryVersion.pulp_id == version_id, RepositoryVersion.complete.is_(True))
    )).first()
    return ServeTarget(repository_id=row.repository_id, version_number=row.number) if row else None


async def _latest_version_target(session: AsyncSession, repository_id: uuid.UUID) -> ServeTarget | None:
    number = await session.scalar(
        select(RepositoryVersion.number)
        .where(RepositoryVersion.repository_id == repository_id, RepositoryVersion.complete.is_(True))
        .order_by(RepositoryVersion.number.desc()).limit(1)
    )
    return None if number is None else ServeTarget(repository_id=repository_id, version_number=number)


def prefetched_target(distribution: DistributionInfo, resolver: Resolver) -> ServeTarget | None:
    """The target a ready-made `resolver` gives `distribution` when its row (with the version
    numbers prefetched with it) decides it; None when the resolver needs a query for it."""
    if distribution.publication_id:
        return ServeTarget(publication_id=distribution.publication_id)
    if resolver is not serve_versions:
        return None
    if distribution.repository_version_id:
        if distribution.pinned_number is None:
            return None
        return ServeTarget(repository_id=distribution.pinned_repository_id, version_number=distribution.pinned_number)
    if distribution.repository_id and distribution.latest_number is not None:
        return ServeTarget(repository_id=distribution.repository_id, version_number=distribution.latest_number)
    return None


async def serve_versions(session: AsyncSession, distribution: DistributionInfo, path: str) -> ServeTarget | None:
    target = prefetched_target(distribution, serve_versions)
    if target is not None:
        return target
    if distribution.repository_version_id:
        return await _version_target(session, distribution.repository_version_id)
    if distribution.repository_id:
        return await _latest_version_target(session, distribution.repository_id)
    return None


async def newest_publication(session: AsyncSession, *, repository_id: uuid.UUID | None = None,
                             version_id: uuid.UUID | None = None) -> uuid.UUID | None:
    """The newest complete publication of a version, or of any version of a repository."""
    stmt = (
        select(Publication.pulp_id)
        .join(RepositoryVersion, RepositoryVersion.pulp_id == Publication.repository_version_id)
        .where(Publication.complete.is_(True))
    )
    if version_id is not None:
        stmt = stmt.where(Publication.repository_version_id == version_id)
    else:
        stmt = stmt.where(RepositoryVersion.repository_id == repository_id)
    stmt = stmt.order_by(RepositoryVersion.number.desc(), Publication.pulp_created.desc()).limit(1)
    return await session.scalar(stmt)


async def serve_publications(session: AsyncSession, distribution: DistributionInfo,
                             path: str) -> ServeTarget | None:
    if distribution.publication_id:
        return ServeTarget(publication_id=distribution.publication_id)
    publication_id = None
    if distribution.repository_version_id:
        publication_id = await newest_publication(session, version_id=distribution.repository_version_id)
    elif distribution.repository_id:
        publication_id = await newest_publication(session, repository_id=distribution.repository_id)
    return ServeTarget(publication_id=publication_id) if publication_id else None


def path_independent(resolver: Resolver) -> bool:
    """Whether `resolver` gives every path of a distribution the same target (the ready-made
    ones do; a plugin's own may consume path segments)."""
    return resolver is serve_versions or resolver is serve_publications


def resolver_for(pulp_type: str) -> Resolver:
    from pulpwood.registry import plugins

    for spec in plugins():
        resolver = spec.content_resolvers.get(pulp_type)
        if resolver is not None:
            return resolver
    return serve_versions
