"""Batched saving: artifacts by sha256, content by natural key, and the rows linking them.

Every function takes a session inside the caller's transaction and never commits. Lookups
are one SELECT per batch; inserts are one executemany per batch with ids made here, and
`ON CONFLICT DO NOTHING` lets two tasks save the same artifact or unit at once.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from pulpwood.db.base import utcnow
from pulpwood.ids import uuid7
from pulpwood.models import Artifact, Content, ContentArtifact, RemoteArtifact
from pulpwood.services.versions import chunks
from pulpwood.storage.filesystem import StoredFile
from pulpwood.sync.units import Unit

BATCH = 500


def _insert(session: AsyncSession, table):
    dialect = postgresql if session.bind.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


async def lookup_artifacts(session: AsyncSession, sha256s: Iterable[str]) -> dict[str, uuid.UUID]:
    """sha256 -> artifact id for the artifacts already stored."""
    found: dict[str, uuid.UUID] = {}
    for batch in chunks(sorted(set(sha256s)), BATCH):
        rows = await session.execute(select(Artifact.sha256, Artifact.pulp_id).where(Artifact.sha256.in_(batch)))
        found.update(dict(rows.all()))
    return found


async def save_artifacts(session: AsyncSession, files: Iterable[StoredFile]) -> dict[str, uuid.UUID]:
    """Artifact rows for verified stored files (existing rows reused); sha256 -> id."""
    by_sha = {f.digests["sha256"]: f for f in files}
    ids = await lookup_artifacts(session, by_sha)
    missing = [f for sha, f in by_sha.items() if sha not in ids]
    now = utcnow()
    for batch in chunks(missing, BATCH):
        rows = [{"pulp_id": uuid7(), "file": f.file, "size": f.size, "md5": None, "sha1": None,
                 "sha224": f.digests.get("sha224"), "sha256": f.digests["sha256"],
                 "sha384": f.digests.get("sha384"), "sha512": f.digests.get("sha512"),
                 "timestamp_of_interest": now, "pulp_created": now, "pulp_last_updated": now} for f in batch]
        stmt = _insert(session, Artifact.__table__).on_conflict_do_nothing(index_elements=["sha256"])
        await session.execute(stmt, rows)
    if missing:
        ids.update(await lookup_artifacts(session, [f.digests["sha256"] for f in missing]))
    return ids


async def lookup_units(session: AsyncSession, units: list[Unit]) -> None:
    """Mark units that already exist (same type and natural key) with their ids."""
    by_model: dict[type, list[Unit]] = defaultdict(list)
    for unit in units:
        if unit.pulp_id is None:
            by_model[unit.model].append(unit)
    for model, group in by_model.items():
        fields = model.natural_key_fields
        first = getattr(model, fields[0])
        columns = [model.pulp_id, *(getattr(model, name) for name in fields)]
        for batch in chunks(group, BATCH):
            wanted = {unit.key(): unit for unit in batch}
            # Narrow by the first key field in SQL, match the whole key here: portable and
            # index-friendly on both databases.
            rows = await session.execute(select(*columns).where(first.in_({k[0] for k in wanted})))
            for pulp_id, *key in rows.all():
                unit = wanted.get(tuple(key))
                if unit is not None:
                    unit.pulp_id, unit.existing = pulp_id, True


async def _insert_units(session: AsyncSession, model: type, units: list[Unit]) -> None:
    now = utcnow()
    pulp_type = model.__mapper__.polymorphic_identity
    for unit in units:
        unit.pulp_id = uuid7()
    await session.execute(Content.__table__.insert(), [
        {"pulp_id": u.pulp_id, "pulp_type": pulp_type, "pulp_labels": u.pulp_labels or {},
         "timestamp_of_interest": now, "pulp_created": now, "pulp_last_updated": now} for u in units])
    await session.execute(model.__table__.insert(), [{"pulp_id": u.pulp_id, **u.fields} for u in units])


async def _create_units(session: AsyncSession, units: list[Unit]) -> list[Unit]:
    """Insert units not found by lookup; returns the ones created here."""
    by_model: dict[type, list[Unit]] = defaultdict(list)
    for unit in units:
        if unit.pulp_id is None:
            by_model[unit.model].append(unit)
    created: list[Unit] = []
    for model, group in by_model.items():
        for batch in chunks(group, BATCH):
            try:
                async with session.begin_nested():
                    await _insert_units(session, model, batch)
                created.extend(batch)
            except IntegrityError:
                # Another task saved some of them meanwhile: take theirs, insert the rest.
                for unit in batch:
                    unit.pulp_id = None
                await lookup_units(session, batch)
                rest = [u for u in batch if u.pulp_id is None]
                if rest:
                    await _insert_units(session, model, rest)
                    created.extend(rest)
    return created


async def save_units(session: AsyncSession, units: list[Unit], *, remote_id: uuid.UUID | None = None) -> None:
    """Make every unit exist, with its content artifacts and (if `remote_id`) remote artifacts.

    Existing units are reused; a content artifact still lacking its file gets the artifact
    id the unit now knows (an immediate sync after an on_demand one).
    """
    await lookup_units(session, units)
    # The same unit listed twice in one batch is created once; its twins share the id.
    first: dict[tuple, Unit] = {}
    twins: list[tuple[Unit, Unit]] = []
    for unit in units:
        if unit.pulp_id is None:
            key = (unit.model, unit.key())
            if key in first:
                twins.append((unit, first[key]))
            else:
                first[key] = unit
    created = {id(u) for u in await _create_units(session, list(first.values()))}
    for twin, original in twins:
        twin.pulp_id = original.pulp_id
    twin_ids = {id(twin) for twin, _ in twins}
    units = [u for u in units if id(u) not in twin_ids]
    now = utcnow()
    existing = [u for u in units if id(u) not in created]
    # Touch reused units so orphan cleanup running meanwhile spares them.
    for batch in chunks([u.pulp_id for u in existing], BATCH):
        await session.execute(update(Content.__table__).where(Content.__table__.c.pulp_id.in_(batch))
                              .values(timestamp_of_interest=now))
    # content id -> {relative_path: (content artifact id, artifact id)}
    known: dict[uuid.UUID, dict[str, tuple[uuid.UUID, uuid.UUID | None]]] = defaultdict(dict)
    for batch in chunks([u.pulp_id for u in existing], BATCH):
        rows = await session.execute(select(ContentArtifact.content_id, ContentArtifact.relative_path,
                                            ContentArtifact.pulp_id, ContentArtifact.artifact_id)
                                     .where(ContentArtifact.content_id.in_(batch)))
        for content_id, path, ca_id, artifact_id in rows.all():
            known[content_id][path] = (ca_id, artifact_id)
    new_links, fills, remote_rows = [], [], []
    for unit in units:
        for spec in unit.artifacts:
            link = known.get(unit.pulp_id, {}).get(spec.relative_path)
            if link is None:
                ca_id = uuid7()
                new_links.append({"pulp_id": ca_id, "content_id": unit.pulp_id, "artifact_id": spec.artifact_id,
                                  "relative_path": spec.relative_path})
            else:
                ca_id = link[0]
                if link[1] is None and spec.artifact_id is not None:
                    fills.append({"b_id": ca_id, "b_artifact": spec.artifact_id})
            if remote_id is not None and spec.url:
                remote_rows.append({"pulp_id": uuid7(), "content_artifact_id": ca_id, "remote_id": remote_id,
                                    "url": spec.url, "size": spec.size, "sha256": spec.sha256})
    for batch in chunks(new_links, BATCH):
        await session.execute(ContentArtifact.__table__.insert(), batch)
    table = ContentArtifact.__table__
    for batch in chunks(fills, BATCH):
        await session.execute(update(table).where(table.c.pulp_id == bindparam("b_id"))
                              .values(artifact_id=bindparam("b_artifact")), batch)
    for batch in chunks(remote_rows, BATCH):
        stmt = _insert(session, RemoteArtifact.__table__)
        stmt = stmt.on_conflict_do_update(
            index_elements=["content_artifact_id", "remote_id"],
            set_={"url": stmt.excluded.url, "size": stmt.excluded.size, "sha256": stmt.excluded.sha256})
        await session.execute(stmt, batch)
