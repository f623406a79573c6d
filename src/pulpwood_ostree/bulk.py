"""Batched saving for imports: artifact rows, content units and commit -> object links.

One SELECT and at most one INSERT per batch of ~500 rows, ids made here (uuid7). Another
task may insert the same rows concurrently; a savepoint per batch lets us fall back to
theirs instead of failing.
"""

from __future__ import annotations

import operator
import uuid
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from pulpwood.plugin import Artifact, Content, ContentArtifact, utcnow, uuid7
from pulpwood_ostree.models import OstreeCommitObject

BATCH = 500


def _batches(items: list, size: int = BATCH):
    for start in range(0, len(items), size):
        yield items[start:start + size]


async def _lookup_artifacts(session, sha256s: Iterable[str]) -> dict[str, uuid.UUID]:
    found: dict[str, uuid.UUID] = {}
    for batch in _batches(sorted(set(sha256s))):
        rows = await session.execute(select(Artifact.sha256, Artifact.pulp_id).where(Artifact.sha256.in_(batch)))
        found.update(dict(rows.all()))
    return found


async def save_artifacts(session, stored_files: Iterable) -> dict[str, uuid.UUID]:
    """Artifact rows for verified files in storage (`StoredFile`s); sha256 -> artifact id."""
    by_sha = {f.digests["sha256"]: f for f in stored_files}
    ids = await _lookup_artifacts(session, by_sha)
    missing = [f for sha, f in by_sha.items() if sha not in ids]
    for batch in _batches(missing):
        now = utcnow()
        rows = [{"pulp_id": uuid7(), "file": f.file, "size": f.size, "md5": None, "sha1": None,
                 "sha224": f.digests.get("sha224"), "sha256": f.digests["sha256"],
                 "sha384": f.digests.get("sha384"), "sha512": f.digests.get("sha512"),
                 "timestamp_of_interest": now, "pulp_created": now, "pulp_last_updated": now} for f in batch]
        try:
            async with session.begin_nested():
                await session.execute(Artifact.__table__.insert(), rows)
        except IntegrityError:
            # Somebody stored some of these meanwhile: insert only what is still missing.
            known = await _lookup_artifacts(session, [r["sha256"] for r in rows])
            rest = [r for r in rows if r["sha256"] not in known]
            if rest:
                await session.execute(Artifact.__table__.insert(), rest)
    if missing:
        ids.update(await _lookup_artifacts(session, [f.digests["sha256"] for f in missing]))
    return ids


async def _lookup_units(session, model, keys: list[tuple]) -> dict[tuple, uuid.UUID]:
    fields = model.natural_key_fields
    columns = [getattr(model, name) for name in fields]
    found: dict[tuple, uuid.UUID] = {}
    for batch in _batches(sorted(set(keys))):
        wanted = set(batch)
        rows = await session.execute(select(model.pulp_id, *columns).where(columns[0].in_({k[0] for k in batch})))
        for pulp_id, *key in rows.all():
            if tuple(key) in wanted:
                found[tuple(key)] = pulp_id
    return found


async def save_units(session, model, rows: list[dict], artifact_ids: dict[str, uuid.UUID | None]) -> dict[tuple, uuid.UUID]:
    """Make every unit of `model` in `rows` exist; natural key -> id.

    Each row holds the unit's columns (natural key and `relative_path` included);
    `artifact_ids` maps relative paths to the artifact of the file. New units get their
    ContentArtifact; existing ones lacking their artifact (on-demand) get it filled in.
    """
    fields = model.natural_key_fields
    by_key = {tuple(row[name] for name in fields): row for row in rows}
    ids = await _lookup_units(session, model, list(by_key))
    pulp_type = model.__mapper__.polymorphic_identity
    missing = [row for key, row in by_key.items() if key not in ids]
    for batch in _batches(missing):
        now = utcnow()
        made = [(uuid7(), row) for row in batch]
        try:
            async with session.begin_nested():
                await session.execute(Content.__table__.insert(), [
                    {"pulp_id": pid, "pulp_type": pulp_type, "pulp_labels": {}, "timestamp_of_interest": now,
                     "pulp_created": now, "pulp_last_updated": now} for pid, _ in made])
                await session.execute(model.__table__.insert(), [{"pulp_id": pid, **row} for pid, row in made])
                await session.execute(ContentArtifact.__table__.insert(), [
                    {"pulp_id": uuid7(), "content_id": pid, "relative_path": row["relative_path"],
                     "artifact_id": artifact_ids.get(row["relative_path"])} for pid, row in made])
        except IntegrityError:
            # A concurrent task created some; take theirs and create the rest one by one.
            for pid, row in made:
                key = tuple(row[name] for name in fields)
                if (await _lookup_units(session, model, [key])).get(key) is None:
                    await save_units(session, model, [row], artifact_ids)
        ids.update(await _lookup_units(session, model, [tuple(r[name] for name in fields) for r in batch]))
    await _fill_missing_artifacts(session, by_key, ids, artifact_ids, fields)
    return ids


async def _fill_missing_artifacts(session, by_key, ids, artifact_ids, fields) -> None:
    id_to_path = {ids[key]: row["relative_path"] for key, row in by_key.items() if key in ids}
    for batch in _batches(list(id_to_path)):
        links = await session.scalars(select(ContentArtifact).where(
            ContentArtifact.content_id.in_(batch), ContentArtifact.artifact_id.is_(None)))
        for link in links:
            artifact_id = artifact_ids.get(id_to_path[link.content_id])
            if artifact_id is not None:
                link.artifact_id = artifact_id
    await session.flush()


async def link_commit_objects(session, pairs: set[tuple[uuid.UUID, uuid.UUID]]) -> None:
    """Insert the (commit id, object id) links that do not exist yet."""
    by_commit: dict[uuid.UUID, set[uuid.UUID]] = {}
    for commit_id, obj_id in pairs:
        by_commit.setdefault(commit_id, set()).add(obj_id)
    for commit_id, obj_ids in by_commit.items():
        existing = set(await session.scalars(select(OstreeCommitObject.obj_id)
                                             .where(OstreeCommitObject.commit_id == commit_id)))
        new = sorted(obj_ids - existing, key=operator.attrgetter("int"))
        for batch in _batches(new):
            await session.execute(OstreeCommitObject.__table__.insert(), [
                {"commit_id": commit_id, "obj_id": obj_id} for obj_id in batch])
