"""Modify an OSTree repository at ref/commit level (spec §5), and create `ostree.content` units.

Adding a ref adds its commit; adding a commit adds every object its tree reaches. Removing a
ref or commit removes it, and the objects that no commit left in the version still uses.
Objects, summaries and static-delta files named directly are ignored (as in Pulp). Unlike
Pulp, the summary is regenerated (by `commit_ostree_version`), so what is served stays
consistent.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select

from pulpwood.plugin import Artifact, RepositoryVersion, TaskError, href, latest_version, version_content_ids
from pulpwood_ostree.models import (
    OstreeCommit, OstreeCommitObject, OstreeConfig, OstreeContent, OstreeRef,
)
from pulpwood_ostree.units import attach_artifact, find_unit
from pulpwood_ostree.versioning import commit_ostree_version


async def _of_type(session, model, ids: set[uuid.UUID]) -> set[uuid.UUID]:
    out: set[uuid.UUID] = set()
    ordered = sorted(ids)
    for start in range(0, len(ordered), 500):
        out.update(await session.scalars(select(model.pulp_id).where(model.pulp_id.in_(ordered[start:start + 500]))))
    return out


async def _commits_of_refs(session, ref_ids: set[uuid.UUID]) -> set[uuid.UUID]:
    out: set[uuid.UUID] = set()
    ordered = sorted(ref_ids)
    for start in range(0, len(ordered), 500):
        out.update(await session.scalars(select(OstreeRef.commit_id)
                                         .where(OstreeRef.pulp_id.in_(ordered[start:start + 500]))))
    return {c for c in out if c is not None}


async def _objects_of(session, commit_ids: set[uuid.UUID]) -> set[uuid.UUID]:
    out: set[uuid.UUID] = set()
    ordered = sorted(commit_ids)
    for start in range(0, len(ordered), 500):
        out.update(await session.scalars(select(OstreeCommitObject.obj_id)
                                         .where(OstreeCommitObject.commit_id.in_(ordered[start:start + 500]))))
    return out


async def _honoured(session, ids: set[uuid.UUID]) -> tuple[set, set, set]:
    """(refs, commits incl. those of the refs, configs) among `ids`."""
    refs = await _of_type(session, OstreeRef, ids)
    commits = await _of_type(session, OstreeCommit, ids) | await _commits_of_refs(session, refs)
    configs = await _of_type(session, OstreeConfig, ids)
    return refs, commits, configs


async def modify_content(ctx, repository_pk: str, add_content_units: list[str], remove_content_units: list[str],
                         base_version_pk: str | None = None) -> None:
    repository_id = uuid.UUID(repository_pk)
    remove_all = remove_content_units == ["*"]
    add_ids = {uuid.UUID(i) for i in add_content_units}
    remove_ids = set() if remove_all else {uuid.UUID(i) for i in remove_content_units}
    async with ctx.transaction() as session:
        if base_version_pk:
            base = await session.get(RepositoryVersion, uuid.UUID(base_version_pk))
            if base is None:
                raise TaskError("The base version no longer exists.")
            start = await version_content_ids(session, base.repository_id, base.number)
        else:
            latest = await latest_version(session, repository_id)
            start = await version_content_ids(session, repository_id, latest.number)

        add_refs, add_commits, add_configs = await _honoured(session, add_ids)
        add = add_refs | add_commits | add_configs | await _objects_of(session, add_commits)

        remove: set[uuid.UUID] = set()
        if not remove_all and remove_ids:
            rm_refs, rm_commits, rm_configs = await _honoured(session, remove_ids)
            remaining_commits = (await _of_type(session, OstreeCommit, start) - rm_commits) | add_commits
            still_used = await _objects_of(session, remaining_commits)
            remove = rm_refs | rm_commits | rm_configs | (await _objects_of(session, rm_commits) - still_used)

        if not add and not remove and not remove_all and not base_version_pk:
            return  # only objects/summaries/deltas named: nothing to do, no new version
        await commit_ostree_version(ctx, repository_id, add=add, remove=remove, remove_all=remove_all,
                                    session=session,
                                    base_version_id=uuid.UUID(base_version_pk) if base_version_pk else None)


async def create_ostree_content(ctx, artifact_pk: str, relative_path: str, digest: str,
                                repository_pk: str | None = None, pulp_labels: dict | None = None) -> None:
    """Create (or reuse) an `ostree.content` unit for an uploaded artifact."""
    async with ctx.transaction() as session:
        artifact = await session.get(Artifact, uuid.UUID(artifact_pk))
        if artifact is None:
            raise TaskError("The artifact no longer exists.")
        fields = {"relative_path": relative_path, "digest": digest}
        unit = await find_unit(session, OstreeContent, fields)
        if unit is None:
            unit = OstreeContent(**fields, pulp_labels=pulp_labels or {})
            session.add(unit)
            await session.flush()
        await attach_artifact(session, unit, relative_path, artifact.pulp_id)
        ctx.created(href(unit))
        if repository_pk:
            await commit_ostree_version(ctx, uuid.UUID(repository_pk), add={unit.pulp_id}, session=session)
