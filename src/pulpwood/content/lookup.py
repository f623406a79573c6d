"""Queries that turn (serve target, relative path) into a file, a remote source or a listing.

Every query here is driven by an index: PublishedArtifact (publication_id, relative_path),
ContentArtifact (relative_path), RepositoryContent (content_id) and RepositoryVersion
(repository_id, number). A file request costs one of them.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import ARRAY, and_, any_, bindparam, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from pulpwood.content.targets import ServeTarget
from pulpwood.models import (
    Artifact, ContentArtifact, Publication, PublishedArtifact, Remote, RemoteArtifact, RepositoryContent,
    RepositoryVersion,
)
from pulpwood.queries.versions import present_in


@dataclass(frozen=True)
class FileEntry:
    """A file of a serve target; `artifact_file` is None while its bytes are only remote."""

    relative_path: str
    content_artifact_id: uuid.UUID | None
    artifact_file: str | None
    size: int | None
    sha256: str | None
    last_modified: dt.datetime | None


@dataclass(frozen=True)
class ListingEntry:
    name: str  # ends with "/" for directories
    size: int | None
    date: dt.datetime | None


def path_under(column, directory: str):
    """`column` names something below `directory` ('' = everything). The range lets the index
    work on binary/C collations (SQLite, C.UTF-8); LIKE keeps the answer exact elsewhere."""
    if not directory:
        return True
    prefix = directory + "/"
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    upper = directory + chr(ord("/") + 1)
    return and_(column >= prefix, column < upper, column.like(escaped + "%", escape="\\"))


class _not_indexed(FunctionElement):
    """A column the planner must not pick an index for (`+col` on SQLite, `coalesce(col, col)`
    on PostgreSQL); the plain column elsewhere.

    Without statistics SQLite prefers the (repository_id, version_added) index and walks a
    whole repository to find one path; the relative-path index finds it in a few rows.
    """

    inherit_cache = True

    def __init__(self, column) -> None:
        super().__init__(column)
        self.type = column.type


@compiles(_not_indexed)
def _plain(element, compiler, **kw):
    return compiler.process(element.clauses, **kw)


@compiles(_not_indexed, "sqlite")
def _unary_plus(element, compiler, **kw):
    return "+" + compiler.process(element.clauses, **kw)


@compiles(_not_indexed, "postgresql")
def _coalesced(element, compiler, **kw):
    # Right after a sync the planner has no statistics (autovacuum has not analyzed the new
    # rows yet, or is off) and believes a repository has a handful of membership rows; it
    # then walks all of them for every file (3 ms at 3,000 files, growing with the repository).
    # An expression no index matches leaves only the content_id index, which finds one row.
    column = compiler.process(element.clauses, **kw)
    return f"coalesce({column}, {column})"


def _member_by_path(target: ServeTarget):
    """Membership of a ContentArtifact's content in the target version, looked up per content."""
    rc = RepositoryContent
    number = target.version_number
    return and_(
        rc.content_id == ContentArtifact.content_id,
        _not_indexed(rc.repository_id) == target.repository_id,
        _not_indexed(rc.version_added) <= number,
        or_(rc.version_removed.is_(None), _not_indexed(rc.version_removed) > number),
    )


def _added_version():
    """RepositoryVersion row in which a membership row's content was added (its date)."""
    rc, rv = RepositoryContent, RepositoryVersion
    return and_(rv.repository_id == rc.repository_id, rv.number == rc.version_added)


def _in_publication(path_condition, *extra_columns):
    pa, ca = PublishedArtifact, ContentArtifact
    return (
        select(ca.pulp_id, Artifact.file, Artifact.size, Artifact.sha256, Artifact.pulp_created, *extra_columns)
        .select_from(pa)
        .outerjoin(ca, ca.pulp_id == pa.content_artifact_id)
        .outerjoin(Artifact, Artifact.pulp_id == func.coalesce(pa.artifact_id, ca.artifact_id))
        .where(pa.publication_id == bindparam("publication_id"), path_condition)
    )


def _version_target() -> ServeTarget:
    rc = RepositoryContent
    return ServeTarget(repository_id=bindparam("repository_id", type_=rc.repository_id.type),
                       version_number=bindparam("number", type_=rc.version_added.type))


def _file_in_version():
    ca, rc, rv = ContentArtifact, RepositoryContent, RepositoryVersion
    return (
        select(ca.pulp_id, Artifact.file, Artifact.size, Artifact.sha256, rv.pulp_created)
        .select_from(ca)
        .join(rc, _member_by_path(_version_target()))
        .join(rv, _added_version())
        .outerjoin(Artifact, Artifact.pulp_id == ca.artifact_id)
        .where(ca.relative_path == bindparam("path"))
        .limit(1)
    )


def _in_version_lateral(path_condition, *extra_columns):
    """PostgreSQL: the same lookup with the membership check as a LATERAL subquery per
    ContentArtifact found by path (OFFSET 0 keeps the planner from flattening it), so the
    plan stays path index -> content_id index whatever the statistics say."""
    ca, rc, rv = ContentArtifact, RepositoryContent, RepositoryVersion
    member = (select(rc.repository_id, rc.version_added).where(_member_by_path(_version_target()))
              .offset(0).lateral("member"))
    return (
        select(ca.pulp_id, Artifact.file, Artifact.size, Artifact.sha256, rv.pulp_created, *extra_columns)
        .select_from(ca)
        .join(member, true())
        .join(rv, and_(rv.repository_id == member.c.repository_id, rv.number == member.c.version_added))
        .outerjoin(Artifact, Artifact.pulp_id == ca.artifact_id)
        .where(path_condition)
    )


def _paths():
    """An array of relative paths (PostgreSQL), for looking up many files in one statement."""
    return any_(bindparam("paths", type_=ARRAY(ContentArtifact.relative_path.type)))


def _all_in_version():
    """Every stored file of a repository version: relative path, storage name, size, sha256,
    date (content_app's TargetFiles). Content whose bytes are remote is left out."""
    ca, rc, rv = ContentArtifact, RepositoryContent, RepositoryVersion
    number = bindparam("number", type_=rc.version_added.type)
    return (
        select(ca.relative_path, Artifact.file, Artifact.size, Artifact.sha256, rv.pulp_created)
        .select_from(rc)
        .join(ca, ca.content_id == rc.content_id)
        .join(rv, _added_version())
        .join(Artifact, Artifact.pulp_id == ca.artifact_id)
        .where(rc.repository_id == bindparam("repository_id", type_=rc.repository_id.type),
               rc.version_added <= number, or_(rc.version_removed.is_(None), rc.version_removed > number))
        .limit(bindparam("limit"))
    )


def _all_in_publication():
    """Every stored file of a publication, in the columns of _all_in_version."""
    pa, ca = PublishedArtifact, ContentArtifact
    return (
        select(pa.relative_path, Artifact.file, Artifact.size, Artifact.sha256, Artifact.pulp_created)
        .select_from(pa)
        .outerjoin(ca, ca.pulp_id == pa.content_artifact_id)
        .join(Artifact, Artifact.pulp_id == func.coalesce(pa.artifact_id, ca.artifact_id))
        .where(pa.publication_id == bindparam("publication_id", type_=pa.publication_id.type))
        .limit(bindparam("limit"))
    )


# Built once: the content app runs these thousands of times per `ostree pull`.
FILE_IN_PUBLICATION = _in_publication(PublishedArtifact.relative_path == bindparam("path")).limit(1)
FILE_IN_VERSION = _file_in_version()
FILE_IN_VERSION_LATERAL = _in_version_lateral(ContentArtifact.relative_path == bindparam("path")).limit(1)
# The files at several paths at once (PostgreSQL), each row ending with its relative path.
FILES_IN_PUBLICATION = _in_publication(PublishedArtifact.relative_path == _paths(), PublishedArtifact.relative_path)
FILES_IN_VERSION_LATERAL = _in_version_lateral(ContentArtifact.relative_path == _paths(), ContentArtifact.relative_path)
# Every stored file of a target at once (a `limit` of rows at most).
ALL_FILES_IN_VERSION = _all_in_version()
ALL_FILES_IN_PUBLICATION = _all_in_publication()


def _dialect_name(session) -> str:
    name = getattr(session, "dialect_name", None)
    if name is None:  # an AsyncSession (bind) or an AsyncConnection (engine)
        name = (getattr(session, "bind", None) or session.engine).dialect.name
    return name


async def find_file(session: AsyncSession, target: ServeTarget, path: str) -> FileEntry | None:
    if target.publication_id is not None:
        result = await session.execute(FILE_IN_PUBLICATION, {"publication_id": target.publication_id, "path": path})
    else:
        statement = FILE_IN_VERSION_LATERAL if _dialect_name(session) == "postgresql" else FILE_IN_VERSION
        result = await session.execute(statement, {"repository_id": target.repository_id,
                                                         "number": target.version_number, "path": path})
    row = result.first()
    if row is None:
        return None
    return FileEntry(path, row[0], row[1], row[2], row[3], row[4])


async def remote_sources(session: AsyncSession, content_artifact_id: uuid.UUID) -> list:
    """RemoteArtifact rows (url, size, sha256) with their Remote's columns, oldest first."""
    remote = Remote.__table__
    stmt = (
        select(RemoteArtifact.url.label("artifact_url"), RemoteArtifact.size.label("artifact_size"),
               RemoteArtifact.sha256.label("artifact_sha256"), *remote.columns)
        .join(remote, remote.c.pulp_id == RemoteArtifact.remote_id)
        .where(RemoteArtifact.content_artifact_id == content_artifact_id)
        .order_by(RemoteArtifact.pulp_id)
    )
    return list((await session.execute(stmt)).all())


def _listed_size():
    """The stored size, or for content not fetched yet the size its remote announced."""
    remote_size = (
        select(func.max(RemoteArtifact.size))
        .where(RemoteArtifact.content_artifact_id == ContentArtifact.pulp_id)
        .scalar_subquery()
    )
    return func.coalesce(Artifact.size, remote_size)


async def _paths_under(session: AsyncSession, target: ServeTarget, directory: str, limit: int | None,
                       by_path: bool = False):
    if target.publication_id is not None:
        pa, ca, rc, rv = PublishedArtifact, ContentArtifact, RepositoryContent, RepositoryVersion
        version = (await session.execute(
            select(RepositoryVersion.repository_id, RepositoryVersion.number)
            .join(Publication, Publication.repository_version_id == RepositoryVersion.pulp_id)
            .where(Publication.pulp_id == target.publication_id)
        )).first()
        # Dates are membership dates of the publication's version (artifact dates as fallback).
        date = func.coalesce(rv.pulp_created, Artifact.pulp_created) if version else Artifact.pulp_created
        stmt = (
            select(pa.relative_path, _listed_size(), date)
            .select_from(pa)
            .outerjoin(ca, ca.pulp_id == pa.content_artifact_id)
            .outerjoin(Artifact, Artifact.pulp_id == func.coalesce(pa.artifact_id, ca.artifact_id))
            .where(pa.publication_id == target.publication_id, path_under(pa.relative_path, directory))
        )
        if version is not None:
            stmt = (stmt.outerjoin(rc, and_(rc.content_id == ca.content_id, present_in(*version)))
                    .outerjoin(rv, _added_version()))
    else:
        ca, rc, rv = ContentArtifact, RepositoryContent, RepositoryVersion
        stmt = (
            select(ca.relative_path, _listed_size(), rv.pulp_created)
            .select_from(ca)
            .join(rc, _member_by_path(target) if by_path else and_(
                rc.content_id == ca.content_id, present_in(target.repository_id, target.version_number)))
            .join(rv, _added_version())
            .outerjoin(Artifact, Artifact.pulp_id == ca.artifact_id)
            .where(path_under(ca.relative_path, directory))
        )
    if limit is not None:
        stmt = stmt.limit(limit)
    return (await session.execute(stmt)).all()


async def is_directory(session: AsyncSession, target: ServeTarget, directory: str) -> bool:
    return bool(await _paths_under(session, target, directory, limit=1, by_path=True))


async def list_directory(session: AsyncSession, target: ServeTarget, directory: str) -> list[ListingEntry]:
    """Entries directly inside `directory`, sorted by name; subdirectories end with '/'."""
    skip = len(directory) + 1 if directory else 0
    files: dict[str, ListingEntry] = {}
    dirs: dict[str, dt.datetime | None] = {}
    for relative_path, size, date in await _paths_under(session, target, directory, limit=None):
        rest = relative_path[skip:]
        name, slash, _ = rest.partition("/")
        if slash:
            known = dirs.get(name)
            if date is not None and (known is None or date > known):
                dirs[name] = date
            else:
                dirs.setdefault(name, known)
        else:
            files[name] = ListingEntry(name, size, date)
    entries = list(files.values()) + [ListingEntry(name + "/", None, date) for name, date in dirs.items()]
    return sorted(entries, key=lambda entry: entry.name)
