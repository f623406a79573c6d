"""Repository keys: two units of a type may not share their `repo_key_fields` (file:
relative_path) inside one version. Newly added units replace present ones with the same
key; a version that still has duplicates is refused."""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pulpwood.db.base import Base
from pulpwood.errors import TaskError
from pulpwood.models import Content
from pulpwood.queries.versions import content_ids_in
from pulpwood.services.versions import chunks

BATCH = 500


def _keyed_models() -> dict[str, type]:
    """pulp_type -> content model, for types that declare repository keys."""
    found = {}
    for mapper in Base.registry.mappers:
        cls = mapper.class_
        if issubclass(cls, Content) and not mapper.polymorphic_abstract and getattr(cls, "repo_key_fields", ()):
            found[mapper.polymorphic_identity] = cls
    return found


async def _types_of(session: AsyncSession, ids: set[uuid.UUID]) -> dict[str, list[uuid.UUID]]:
    grouped: dict[str, list[uuid.UUID]] = defaultdict(list)
    for batch in chunks(sorted(ids), BATCH):
        rows = await session.execute(select(Content.pulp_id, Content.pulp_type).where(Content.pulp_id.in_(batch)))
        for pulp_id, pulp_type in rows.all():
            grouped[pulp_type].append(pulp_id)
    return grouped


async def _keys(session: AsyncSession, model: type, ids: list[uuid.UUID]) -> dict[uuid.UUID, tuple]:
    columns = [getattr(model, name) for name in model.repo_key_fields]
    out: dict[uuid.UUID, tuple] = {}
    for batch in chunks(ids, BATCH):
        rows = await session.execute(select(model.pulp_id, *columns).where(model.pulp_id.in_(batch)))
        for pulp_id, *key in rows.all():
            out[pulp_id] = tuple(key)
    return out


async def replaced_by(session: AsyncSession, repository_id: uuid.UUID, number: int,
                      add: set[uuid.UUID]) -> set[uuid.UUID]:
    """Units of version `number` that `add` displaces (same repository key, other unit)."""
    models = _keyed_models()
    removed: set[uuid.UUID] = set()
    for pulp_type, ids in (await _types_of(session, set(add))).items():
        model = models.get(pulp_type)
        if model is None:
            continue
        new_keys = set((await _keys(session, model, ids)).values())
        first = getattr(model, model.repo_key_fields[0])
        columns = [getattr(model, name) for name in model.repo_key_fields]
        present = content_ids_in(repository_id, number).scalar_subquery()
        for batch in chunks(sorted({k[0] for k in new_keys}), BATCH):
            rows = await session.execute(select(model.pulp_id, *columns)
                                         .where(first.in_(batch), model.pulp_id.in_(present)))
            for pulp_id, *key in rows.all():
                if tuple(key) in new_keys and pulp_id not in add:
                    removed.add(pulp_id)
    return removed


async def duplicates_validator(session: AsyncSession, repository, desired: set[uuid.UUID]) -> None:
    """commit_version validator: refuse a version where units share a repository key, or
    (for path keys) where one path is a directory of another."""
    models = _keyed_models()
    for pulp_type, ids in (await _types_of(session, desired)).items():
        model = models.get(pulp_type)
        if model is None:
            continue
        keys = await _keys(session, model, ids)
        counts = Counter(keys.values())
        dupes = sorted(k for k, n in counts.items() if n > 1)
        fields = ", ".join(model.repo_key_fields)
        if dupes:
            shown = "; ".join(", ".join(map(str, k)) for k in dupes[:10])
            raise TaskError(
                f"Cannot create repository version. More than one {pulp_type} content with the duplicate "
                f"values for {fields}: {shown}.")
        if model.repo_key_fields == ("relative_path",):
            paths = {k[0] for k in counts}
            for path in sorted(paths):
                parts = path.split("/")
                for depth in range(1, len(parts)):
                    prefix = "/".join(parts[:depth])
                    if prefix in paths:
                        raise TaskError(
                            f"Cannot create repository version. Path {prefix!r} is both a file and a "
                            f"directory of {path!r}.")
