"""Batched database work of a sync: what already exists, and saving new objects and commits.

Lookups are one SELECT per batch of checksums; saving is one short write transaction per
batch (SQLite has a single writer, so no transaction spans the downloads). Rows get their
ids here (uuid7) so the joined-table rows (core_content + subtype) and the content
artifacts go in with plain driver inserts (pulpwood.plugin.bulk_insert).
"""

from __future__ import annotations

import asyncio
import operator
import sqlite3
import uuid
from dataclasses import dataclass, field

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from pulpwood.plugin import (
    Artifact, Content, ContentArtifact, RemoteArtifact, StoredFile, bulk_insert, chunks, utcnow, uuid7,
)
from pulpwood_ostree.formats import ObjectType, object_path
from pulpwood_ostree.models import OstreeCommit, OstreeCommitObject, OstreeObject

BATCH = 500
# Objects waiting behind a running background save before adders wait (memory bound).
MAX_PENDING = 8 * BATCH


def _unique_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [IntegrityError, sqlite3.IntegrityError]
    try:
        import asyncpg

        errors.append(asyncpg.exceptions.IntegrityConstraintViolationError)
    except ImportError:  # pragma: no cover
        pass
    return tuple(errors)


# Raw driver inserts raise the driver's own exceptions, not SQLAlchemy's.
UNIQUE_ERRORS = _unique_errors()
Key = tuple[str, int]  # (checksum, object type number)
_TYPES = {int(objtype): objtype for objtype in ObjectType}


def path_of(checksum: str, typ: int) -> str:
    """`object_path` for a type number: a dict lookup, not an enum call per object."""
    return object_path(checksum, _TYPES[typ])

_uuid_int = operator.attrgetter("int")  # sorts uuids as both databases do, without UUID.__lt__


@dataclass(frozen=True)
class Known:
    """A unit already in the database; `file` is its stored artifact (None: not downloaded)."""

    pulp_id: uuid.UUID
    file: str | None


@dataclass
class KnownCommit:
    pulp_id: uuid.UUID
    file: str | None
    parent_id: uuid.UUID | None
    complete: bool = False


@dataclass
class NewObject:
    checksum: str
    typ: int
    stored: StoredFile | None = None
    url: str | None = None
    existing_id: uuid.UUID | None = None  # unit exists but had no artifact


@dataclass
class NewCommit:
    checksum: str
    stored: StoredFile
    pulp_id: uuid.UUID = field(default_factory=uuid7)
    parent_checksum: str | None = None


def _insert(session, table):
    dialect = postgresql if session.bind.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


async def lookup_objects(session, keys: list[Key]) -> dict[Key, Known]:
    """The OstreeObjects among `keys` that exist, with their stored file if any."""
    wanted = set(keys)
    found: dict[Key, Known] = {}
    for batch in chunks(sorted({checksum for checksum, _ in wanted}), BATCH):
        rows = await session.execute(
            select(OstreeObject.checksum, OstreeObject.typ, OstreeObject.pulp_id, Artifact.file)
            .outerjoin(ContentArtifact, ContentArtifact.content_id == OstreeObject.pulp_id)
            .outerjoin(Artifact, Artifact.pulp_id == ContentArtifact.artifact_id)
            .where(OstreeObject.checksum.in_(batch)))
        for checksum, typ, pulp_id, file in rows.all():
            if (checksum, typ) in wanted:
                found[(checksum, typ)] = Known(pulp_id, file)
    return found


async def lookup_commit(session, checksum: str, need_files: bool) -> KnownCommit | None:
    """A stored commit, and whether everything it reaches is recorded (and downloaded)."""
    row = (await session.execute(
        select(OstreeCommit.pulp_id, OstreeCommit.parent_commit_id, Artifact.file)
        .outerjoin(ContentArtifact, ContentArtifact.content_id == OstreeCommit.pulp_id)
        .outerjoin(Artifact, Artifact.pulp_id == ContentArtifact.artifact_id)
        .where(OstreeCommit.checksum == checksum).limit(1))).first()
    if row is None:
        return None
    commit = KnownCommit(pulp_id=row[0], parent_id=row[1], file=row[2])
    if commit.file is None:
        return commit
    total, stored = (await session.execute(
        select(func.count(OstreeCommitObject.obj_id), func.count(ContentArtifact.artifact_id))
        .select_from(OstreeCommitObject)
        .outerjoin(ContentArtifact, ContentArtifact.content_id == OstreeCommitObject.obj_id)
        .where(OstreeCommitObject.commit_id == commit.pulp_id))).one()
    commit.complete = total > 0 and (stored == total or not need_files)
    return commit


async def commit_object_ids(session, commit_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    ids: set[uuid.UUID] = set()
    for commit_id in commit_ids:
        ids.update(await session.scalars(
            select(OstreeCommitObject.obj_id).where(OstreeCommitObject.commit_id == commit_id)))
    return ids


async def save_artifacts(session, files: list[StoredFile]) -> dict[str, uuid.UUID]:
    """Artifact rows for stored files (existing rows reused); sha256 -> artifact id."""
    by_sha = {f.digests["sha256"]: f for f in files}
    ids: dict[str, uuid.UUID] = {}
    for batch in chunks(sorted(by_sha), BATCH):
        rows = await session.execute(select(Artifact.sha256, Artifact.pulp_id).where(Artifact.sha256.in_(batch)))
        ids.update(dict(rows.all()))
    missing = [f for sha, f in by_sha.items() if sha not in ids]
    if missing:
        now = utcnow()
        rows = [(uuid7(), f.file, f.size, None, None, f.digests.get("sha224"), f.digests["sha256"],
                 f.digests.get("sha384"), f.digests.get("sha512"), now, now, now) for f in missing]
        try:
            # The usual case: nobody stored these meanwhile, so a plain driver insert does it.
            async with session.begin_nested():
                await bulk_insert(session, Artifact.__table__, ARTIFACT_COLUMNS, rows)
        except UNIQUE_ERRORS:
            pass
        else:
            ids.update((row[6], row[0]) for row in rows)
            return ids
        rows = [{"pulp_id": uuid7(), "file": f.file, "size": f.size, "md5": None, "sha1": None,
                 "sha224": f.digests.get("sha224"), "sha256": f.digests["sha256"],
                 "sha384": f.digests.get("sha384"), "sha512": f.digests.get("sha512"),
                 "timestamp_of_interest": now, "pulp_created": now, "pulp_last_updated": now} for f in missing]
        stmt = _insert(session, Artifact.__table__).on_conflict_do_nothing(index_elements=["sha256"])
        await session.execute(stmt, rows)
        for batch in chunks([f.digests["sha256"] for f in missing], BATCH):
            rows = await session.execute(select(Artifact.sha256, Artifact.pulp_id).where(Artifact.sha256.in_(batch)))
            ids.update(dict(rows.all()))
    return ids


ARTIFACT_COLUMNS = ("pulp_id", "file", "size", "md5", "sha1", "sha224", "sha256", "sha384", "sha512",
                    "timestamp_of_interest", "pulp_created", "pulp_last_updated")
CONTENT_COLUMNS = ("pulp_id", "pulp_type", "pulp_labels", "timestamp_of_interest", "pulp_created", "pulp_last_updated")
LINK_COLUMNS = ("pulp_id", "content_id", "artifact_id", "relative_path")


async def insert_units(session, model, rows: list[dict]) -> None:
    """core_content + subtype rows for new units; each row dict carries its own pulp_id."""
    if not rows:
        return
    now = utcnow()
    pulp_type = model.__mapper__.polymorphic_identity
    await bulk_insert(session, Content.__table__, CONTENT_COLUMNS,
                      [(row["pulp_id"], pulp_type, {}, now, now, now) for row in rows])
    columns = tuple(rows[0])
    await bulk_insert(session, model.__table__, columns, [tuple(row[c] for c in columns) for row in rows])


async def insert_links(session, links: list[dict]) -> None:
    await bulk_insert(session, ContentArtifact.__table__, LINK_COLUMNS,
                      [tuple(link[c] for c in LINK_COLUMNS) for link in links])


class ObjectSaver:
    """Collects downloaded (or on-demand) objects and saves them in batches.

    A batch is saved by a background task while downloads go on: a download that waited for
    each save would leave the network idle for the whole database write. `backlogged()`
    tells the downloads to slow down while MAX_PENDING objects wait behind a running save;
    a failed background save is reported to `on_error` (and raised by `flush()`).
    """

    def __init__(self, ctx, remote_id: uuid.UUID) -> None:
        self.ctx = ctx
        self.remote_id = remote_id
        self.ids: dict[Key, uuid.UUID] = {}
        self.on_error = None
        self._pending: list[NewObject] = []
        self._lock = asyncio.Lock()
        self._task: asyncio.Task | None = None

    def backlogged(self) -> bool:
        return len(self._pending) >= MAX_PENDING

    def add_nowait(self, objects: list[NewObject]) -> None:
        self._pending.extend(objects)
        self._start()

    async def add(self, obj: NewObject) -> None:
        self._pending.append(obj)
        self._start()
        while self.backlogged() and self._task is not None and not self._task.done():
            await asyncio.shield(self._task)  # back pressure; a failed save raises here

    def _start(self) -> None:
        if len(self._pending) < BATCH or (self._task is not None and not self._task.done()):
            return
        if self._task is not None and (self._task.cancelled() or self._task.exception() is not None):
            return  # the sync is failing or stopping; flush() raises why
        self._task = asyncio.ensure_future(self._save_pending())
        self._task.add_done_callback(self._saved)

    def _saved(self, task: asyncio.Task) -> None:
        if task.cancelled():
            return
        if task.exception() is not None:
            if self.on_error is not None:
                self.on_error(task.exception())
            return
        self._start()  # what piled up meanwhile

    async def flush(self) -> None:
        """Save everything added so far (raises what a background save raised)."""
        if self._task is not None:
            task, self._task = self._task, None
            await task
        await self._save_pending()

    async def stop(self) -> None:
        """Cancel a background save still running (the sync failed or was canceled)."""
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
        if task is not None:
            await asyncio.gather(task, return_exceptions=True)

    async def _save_pending(self) -> None:
        async with self._lock:
            batch, self._pending = self._pending, []
            if batch:
                async with self.ctx.transaction() as session:
                    await self._save(session, batch)

    async def _save(self, session, batch: list[NewObject]) -> None:
        artifact_ids = await save_artifacts(session, [o.stored for o in batch if o.stored is not None])
        new = [o for o in batch if o.existing_id is None]
        fills = [o for o in batch if o.existing_id is not None and o.stored is not None]
        rows = [{"pulp_id": uuid7(), "typ": o.typ, "checksum": o.checksum,
                 "relative_path": path_of(o.checksum, o.typ)} for o in new]
        try:
            async with session.begin_nested():
                await insert_units(session, OstreeObject, rows)
        except UNIQUE_ERRORS:
            # Another sync saved some of these meanwhile: reuse its units, insert the rest.
            found = await lookup_objects(session, [(o.checksum, o.typ) for o in new])
            keep = []
            for o, row in zip(new, rows):
                known = found.get((o.checksum, o.typ))
                if known is None:
                    keep.append((o, row))
                else:
                    o.existing_id = known.pulp_id
                    if o.stored is not None and known.file is None:
                        fills.append(o)
            new = [o for o, _ in keep]
            rows = [row for _, row in keep]
            if rows:
                await insert_units(session, OstreeObject, rows)
        links, remote_rows = [], []
        for o, row in zip(new, rows):
            o.existing_id = row["pulp_id"]
            ca_id = uuid7()
            artifact_id = artifact_ids[o.stored.digests["sha256"]] if o.stored is not None else None
            links.append({"pulp_id": ca_id, "content_id": row["pulp_id"], "artifact_id": artifact_id,
                          "relative_path": row["relative_path"]})
            if o.stored is None and o.url:
                remote_rows.append({"pulp_id": uuid7(), "content_artifact_id": ca_id, "remote_id": self.remote_id,
                                    "url": o.url, "size": None, "sha256": None})
        await insert_links(session, links)
        if remote_rows:
            columns = tuple(remote_rows[0])
            await bulk_insert(session, RemoteArtifact.__table__, columns,
                              [tuple(row[c] for c in columns) for row in remote_rows])
        for o in fills:
            await session.execute(update(ContentArtifact)
                                  .where(ContentArtifact.content_id == o.existing_id,
                                         ContentArtifact.artifact_id.is_(None))
                                  .values(artifact_id=artifact_ids[o.stored.digests["sha256"]]))
        for o in batch:
            self.ids[(o.checksum, o.typ)] = o.existing_id


async def save_commits(session, commits: list[NewCommit], parent_ids: dict[str, uuid.UUID]) -> None:
    """Insert new commit units (parents linked when known) with their artifacts."""
    if not commits:
        return
    artifact_ids = await save_artifacts(session, [c.stored for c in commits])
    rows = [{"pulp_id": c.pulp_id, "checksum": c.checksum,
             "relative_path": object_path(c.checksum, ObjectType.COMMIT),
             "parent_commit_id": parent_ids.get(c.parent_checksum) if c.parent_checksum else None}
            for c in commits]
    await insert_units(session, OstreeCommit, rows)
    await insert_links(session, [
        {"pulp_id": uuid7(), "content_id": c.pulp_id, "artifact_id": artifact_ids[c.stored.digests["sha256"]],
         "relative_path": row["relative_path"]} for c, row in zip(commits, rows)])


async def link_parents(session, links: dict[uuid.UUID, uuid.UUID]) -> None:
    """Set parent_commit on stored commits that had none recorded yet."""
    for child, parent in links.items():
        await session.execute(update(OstreeCommit)
                              .where(OstreeCommit.pulp_id == child, OstreeCommit.parent_commit_id.is_(None))
                              .values(parent_commit_id=parent))


async def save_commit_objects(session, commit_id: uuid.UUID, object_ids: set[uuid.UUID]) -> None:
    """Record which objects a commit reaches (what makes it 'complete' for later syncs)."""
    # In key order: the b-tree then grows at one end instead of being written all over.
    await bulk_insert(session, OstreeCommitObject.__table__, ("commit_id", "obj_id"),
                      [(commit_id, obj_id) for obj_id in sorted(object_ids, key=_uuid_int)])
