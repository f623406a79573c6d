"""New OSTree repository versions: repository-key rules plus a regenerated summary.

Every task that changes an OSTree repository (sync, import, modify) ends with
:func:`commit_ostree_version`, so every version pulpwood serves is self-consistent: its
`summary` lists exactly its refs (sorted, with each commit's size, timestamp and version)
and the static deltas it holds, and it has a `config`.

Usage from a task (everything in ONE transaction, so a failure leaves no version)::

    from pulpwood_ostree.versioning import commit_ostree_version, generate_delta_units, save_file_unit

    async with ctx.transaction() as session:
        ...save units...
    version = await commit_ostree_version(ctx, repository_id, add=unit_ids, remove=None)

``commit_ostree_version`` opens its own transaction (``ctx.transaction()``); pass
``session=`` to run inside a transaction you already hold (the caller then commits).

Repository-key rules: a version holds at most one ref per name, one `config`, one
`summary` and one OstreeContent per relative path; a unit in ``add`` replaces a unit with
the same key that was already in the version.

The summary is deterministic: ``ostree.summary.last-modified`` is the newest commit
timestamp among the refs, so an unchanged re-sync yields byte-identical bytes, the same
summary unit, and therefore no new version (None is returned).
"""

from __future__ import annotations

import uuid
from collections import defaultdict

from sqlalchemy import select

from pulpwood.plugin import (
    Content, RepositoryVersion, TaskError, commit_version, content_ids_in, get_version, href, latest_version,
    version_content_ids,
)
from pulpwood_ostree.formats import FormatError, RepoConfig, b64_to_checksum, build_summary, delta_name
from pulpwood_ostree.models import OstreeCommit, OstreeConfig, OstreeContent, OstreeRef, OstreeSummary
from pulpwood_ostree.units import artifact_paths, read_unit_bytes, save_file_unit

DEFAULT_CONFIG = RepoConfig.new().to_text().encode()
KEYED_MODELS = (OstreeRef, OstreeConfig, OstreeSummary, OstreeContent)
# Unit types without a repository key that never shape the summary by themselves.
PLAIN_TYPES = ("ostree.object", "ostree.commit")


async def commit_ostree_version(
    ctx,
    repository_id: uuid.UUID,
    *,
    add: set[uuid.UUID],
    remove: set[uuid.UUID] | None = None,
    remove_all: bool = False,
    base_number: int | None = None,
    compute_delta_pairs=None,
    session=None,
    base_version_id: uuid.UUID | None = None,
    objects: set[uuid.UUID] | None = None,
    trees=None,
) -> RepositoryVersion | None:
    """Write the version ``base (or latest) - remove + add`` with a fresh summary.

    ``compute_delta_pairs``: optional iterable of ``(from_checksum, to_checksum)``; a static
    delta is generated for each pair (both commits must be stored) and added too.
    ``base_version_id`` (a RepositoryVersion id, possibly of another repository) or
    ``base_number`` (of this repository) picks the starting content instead of the latest.
    ``objects``: ids the caller knows to be object or commit units (a sync's tens of
    thousands); they have no repository key and do not shape the summary, so they skip those
    per-id lookups. Such units already in the starting version are recognised in SQL.
    ``trees``: parsed dirtrees by checksum (a sync's), so delta generation does not parse them.
    Returns the new RepositoryVersion (and reports it with ``ctx.created``) or None when the
    result equals the latest version.
    """
    args = (repository_id, add, remove, remove_all, base_number, compute_delta_pairs, base_version_id,
            objects, trees)
    if session is None:
        async with ctx.transaction() as session:
            return await _commit(ctx, session, *args)
    return await _commit(ctx, session, *args)


async def _commit(ctx, session, repository_id, add, remove, remove_all, base_number, delta_pairs, base_version_id,
                  objects, trees):
    storage = ctx.storage
    add = set(add or ())
    latest = await latest_version(session, repository_id)
    current = await version_content_ids(session, repository_id, latest.number)
    start_at = (repository_id, latest.number)
    if base_version_id is not None:
        base = await session.get(RepositoryVersion, base_version_id)
        if base is None:
            raise TaskError("The base version no longer exists.")
        start = await version_content_ids(session, base.repository_id, base.number)
        start_at = (base.repository_id, base.number)
        base_number = base.number if base.repository_id == repository_id else None
    elif base_number is not None and base_number != latest.number:
        if await get_version(session, repository_id, base_number) is None:
            raise TaskError(f"Repository version {base_number} does not exist.")
        start = await version_content_ids(session, repository_id, base_number)
        start_at = (repository_id, base_number)
    else:
        start = current
    plain: set[uuid.UUID] = set()
    if objects is not None:
        plain = set(objects)
        if not remove_all:
            plain |= set(await session.scalars(
                select(Content.pulp_id).where(Content.pulp_id.in_(content_ids_in(*start_at)),
                                              Content.pulp_type.in_(PLAIN_TYPES))))
    desired = set() if remove_all else start - set(remove or ())
    if delta_pairs:
        from pulpwood_ostree.static_deltas import generate_delta_units

        for from_checksum, to_checksum in delta_pairs:
            add |= await generate_delta_units(session, storage, from_checksum, to_checksum, trees=trees)
    desired |= add
    keyed = await _apply_repo_keys(session, desired - plain, add)
    desired = keyed | (desired & plain)

    summaries = await _ids_of(session, OstreeSummary, keyed)
    body = desired - summaries
    if not body:
        final = set()
    else:
        final = set(body)
        if not await _ids_of(session, OstreeConfig, keyed):
            config = await save_file_unit(session, storage, OstreeConfig, "config", DEFAULT_CONFIG)
            final.add(config.pulp_id)
        summary_bytes = await build_version_summary(session, storage, final - plain)
        summary = await save_file_unit(session, storage, OstreeSummary, "summary", summary_bytes)
        final.add(summary.pulp_id)
    if final == current:
        return None
    version = await commit_version(session, repository_id, add=final, remove_all=True, base_number=base_number)
    if version is not None:
        ctx.created(await _version_href(session, repository_id, version.number))
    return version


async def _version_href(session, repository_id, number: int) -> str:
    from pulpwood_ostree.models import OstreeRepository

    repository = await session.get(OstreeRepository, repository_id)
    return f"{href(repository)}versions/{number}/"


async def _ids_of(session, model, ids: set[uuid.UUID]) -> set[uuid.UUID]:
    found: set[uuid.UUID] = set()
    ordered = sorted(ids)
    for start in range(0, len(ordered), 500):
        batch = ordered[start:start + 500]
        found.update(await session.scalars(select(model.pulp_id).where(model.pulp_id.in_(batch))))
    return found


async def _apply_repo_keys(session, desired: set[uuid.UUID], added: set[uuid.UUID]) -> set[uuid.UUID]:
    """Drop units whose repository key collides with a newer one (added beats present)."""
    result = set(desired)
    ordered = sorted(desired)
    for model in KEYED_MODELS:
        key_columns = [getattr(model, name) for name in model.repo_key_fields]
        groups: dict[tuple, list[tuple]] = defaultdict(list)
        for start in range(0, len(ordered), 500):
            batch = ordered[start:start + 500]
            rows = await session.execute(select(model.pulp_id, model.pulp_created, *key_columns)
                                         .where(model.pulp_id.in_(batch)))
            for pulp_id, created, *key in rows.all():
                groups[tuple(key)].append((pulp_id in added, created, str(pulp_id), pulp_id))
        for members in groups.values():
            if len(members) < 2:
                continue
            members.sort()
            # Keep the last: an added unit over an old one, then the newest unit.
            for *_, pulp_id in members[:-1]:
                result.discard(pulp_id)
    return result


async def build_version_summary(session, storage, content_ids: set[uuid.UUID]) -> bytes:
    """The summary bytes for a version holding `content_ids`."""
    ordered = sorted(content_ids)
    refs: list[tuple[str, uuid.UUID, str]] = []
    deltas: dict[str, str] = {}
    config_id = None
    for start in range(0, len(ordered), 500):
        batch = ordered[start:start + 500]
        # Plain tables: both models extend core_content, so an ORM join would alias it.
        ref_t, commit_t = OstreeRef.__table__, OstreeCommit.__table__
        rows = await session.execute(
            select(ref_t.c.name, commit_t.c.pulp_id, commit_t.c.checksum)
            .join(commit_t, commit_t.c.pulp_id == ref_t.c.commit_id)
            .where(ref_t.c.pulp_id.in_(batch)))
        refs.extend(rows.all())
        rows = await session.execute(select(OstreeContent.relative_path, OstreeContent.digest)
                                     .where(OstreeContent.pulp_id.in_(batch),
                                            OstreeContent.relative_path.like("deltas/%/superblock")))
        for path, digest in rows.all():
            name = delta_name_from_path(path)
            if name is not None:
                deltas[name] = digest
        found = await session.scalar(select(OstreeConfig.pulp_id).where(OstreeConfig.pulp_id.in_(batch)).limit(1))
        config_id = config_id or found
    mode = "archive-z2"
    if config_id is not None:
        try:
            config = RepoConfig.from_text((await read_unit_bytes(session, storage, config_id, "the config"))
                                          .decode("utf-8", "replace"))
            mode = config.get("core", "mode") or mode
        except (FormatError, TaskError):
            pass
    paths = await artifact_paths(session, storage, {commit_id for _, commit_id, _ in refs})
    entries: dict[str, tuple[str, bytes]] = {}
    newest = 0
    from pulpwood_ostree.formats import Commit

    for name, commit_id, checksum in refs:
        path = paths.get(commit_id)
        if path is None:
            raise TaskError(f"The commit {checksum} of ref {name} is not stored; cannot write the summary.")
        data = path.read_bytes()
        entries[name] = (checksum, data)
        newest = max(newest, Commit.from_bytes(data).timestamp)
    return build_summary(entries, deltas, newest, mode=mode, indexed_deltas=False)


def delta_name_from_path(path: str) -> str | None:
    """`deltas/AB/CD…-EF…/superblock` -> the summary's delta name (hex), None if malformed."""
    parts = path.split("/")
    if len(parts) != 4 or parts[0] != "deltas" or parts[3] != "superblock":
        return None
    joined = parts[1] + parts[2]
    try:
        if "-" in joined:
            from_b64, to_b64 = joined.split("-", 1)
            return delta_name(b64_to_checksum(from_b64), b64_to_checksum(to_b64))
        return delta_name(None, b64_to_checksum(joined))
    except FormatError:
        return None


def __getattr__(name: str):
    # Re-export the unit helpers the sync uses, without an import cycle at module load.
    if name == "generate_delta_units":
        from pulpwood_ostree.static_deltas import generate_delta_units

        return generate_delta_units
    raise AttributeError(name)


__all__ = ["build_version_summary", "commit_ostree_version", "generate_delta_units", "save_file_unit"]
