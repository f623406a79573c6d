"""The v2 content tasks: copy and remove units by criteria, delete orphans, import uploads."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import delete, select

from pulpwood.api.v2 import core
from pulpwood.api.v2.plugin_types import IMPORTERS
from pulpwood.api.v2.harness import insert_or_get as _insert_or_get
from pulpwood.api.v2.tasks import ASSOCIATE, DELETE_ORPHANS, UNASSOCIATE, _load, _v2_result
from pulpwood.api.v2.units import repo_units, select_units, unit_key
from pulpwood.db.base import utcnow
from pulpwood.errors import TaskError
from pulpwood.ids import uuid7
from pulpwood.models import Artifact, ContentArtifact
from pulpwood.models.artifact import ALL_DIGEST_FIELDS
from pulpwood.models.pulp2 import V2Repository
from pulpwood.queries.versions import latest_version
from pulpwood.services.versions import commit_version
from pulpwood.tasking.registry import register

async def _selected_ids(session, repo: V2Repository, criteria: dict) -> tuple[set[uuid.UUID], list[dict]]:
    importer = await core.get_importer(session, repo)
    records = select_units(await repo_units(session, repo, (importer.config or {}).get("feed") if importer else None),
                           criteria)
    return {uuid.UUID(r["unit_id"]) for r in records}, records


async def _with_dependencies(session, repo: V2Repository, ids: set[uuid.UUID]) -> set[uuid.UUID]:
    """For ostree refs: the commit and the objects it needs travel with the ref."""
    if repo.unit_type != "ostree" or not ids:
        return ids
    from pulpwood_ostree.models import OstreeCommitObject, OstreeRef

    out = set(ids)
    commits = set(await session.scalars(select(OstreeRef.commit_id).where(OstreeRef.pulp_id.in_(ids))))
    out |= commits
    if commits:
        out |= set(await session.scalars(select(OstreeCommitObject.obj_id)
                                         .where(OstreeCommitObject.commit_id.in_(commits))))
    return out


async def _commit(ctx, session, repo: V2Repository, add=frozenset(), remove=None):
    """A new version; ostree versions also get a fresh summary and config from the plugin."""
    if repo.unit_type == "ostree":
        from pulpwood_ostree.versioning import commit_ostree_version

        return await commit_ostree_version(ctx, repo.repository_id, add=set(add), remove=remove, session=session)
    return await commit_version(session, repo.repository_id, add=set(add), remove=remove)


@register(ASSOCIATE)
async def associate(ctx, source_repo_id: str, dest_repo_id: str, criteria: dict) -> None:
    async with ctx.transaction() as session:
        source = await _load(session, source_repo_id)
        dest = await _load(session, dest_repo_id)
        if await core.get_importer(session, source) is None or await core.get_importer(session, dest) is None:
            raise TaskError("Missing resource(s): both repositories need an importer to copy units.")
        if source.repository_id is None or dest.repository_id is None:
            raise TaskError("Missing resource(s): repository content store")
        if core.kind_of(await core.core_repository(session, source)) != core.kind_of(
                await core.core_repository(session, dest)):
            raise TaskError(f"PLP0044: The target importer does not support the types from the source "
                            f"({source.unit_type}).")
        ids, records = await _selected_ids(session, source, criteria)
        version = await _commit(ctx, session, dest, add=await _with_dependencies(session, source, ids))
        if version is not None:
            dest.last_unit_added = utcnow()
    _v2_result(ctx, {"units_successful": [{"type_id": r["unit_type_id"], "unit_key": unit_key(r)}
                                          for r in records]})


@register(UNASSOCIATE)
async def unassociate(ctx, repo_id: str, criteria: dict) -> None:
    async with ctx.transaction() as session:
        repo = await _load(session, repo_id)
        if repo.repository_id is None:
            _v2_result(ctx, {})
            return
        ids, records = await _selected_ids(session, repo, criteria)
        version = await _commit(ctx, session, repo, remove=ids) if ids else None
        if version is not None:
            repo.last_unit_removed = utcnow()
    _v2_result(ctx, {"units_successful": [{"type_id": r["unit_type_id"], "unit_key": unit_key(r)}
                                          for r in records]} if records else {})


@register(DELETE_ORPHANS)
async def delete_orphans(ctx, type_id: str | None = None) -> None:
    from pulpwood.api.v2.orphans import orphan_ids

    async with ctx.transaction() as session:
        found = await orphan_ids(session)
        result = {}
        from pulpwood.models import Content

        for v2_type, ids in found.items():
            if type_id and v2_type != type_id:
                continue
            if ids:
                await session.execute(delete(Content).where(Content.pulp_id.in_(ids)))
                result[v2_type] = len(ids)
    _v2_result(ctx, result)


IMPORT_UPLOAD = "pulp.server.managers.content.upload.import_uploaded_unit"
CHUNK = 1024 * 1024


@register(IMPORT_UPLOAD)
async def import_upload(ctx, repo_id: str, upload_id: str, unit_type_id: str, unit_key: dict) -> None:
    """Import an uploaded file as an `iso` unit (name, checksum, size checked) into the repository."""
    from pulpwood.api.v2.uploads import upload_path
    from pulpwood.errors import DigestMismatch
    from pulpwood.queries.versions import content_ids_in
    from pulpwood_file.models import FileContent

    async with ctx.reading() as session:
        repo = await _load(session, repo_id)
        importer = await core.get_importer(session, repo)
    if importer is None or unit_type_id not in IMPORTERS[importer.importer_type_id].types or unit_type_id != "iso":
        raise TaskError(f"PLP0047: The importer of repository {repo_id} cannot import {unit_type_id} units.")
    name = unit_key.get("name")
    if not isinstance(name, str) or not name or name.startswith("/") or ".." in name.split("/"):
        raise TaskError("PLP0047: unit_key.name must be a relative file name.")
    path = upload_path(ctx.settings, upload_id)
    if not path.exists():
        raise TaskError(f"PLP0009: Missing resource(s): upload_request={upload_id}")
    writer = ctx.storage.writer()
    try:
        with open(path, "rb") as source:
            while chunk := await asyncio.to_thread(source.read, CHUNK):
                writer.write(chunk)
        writer.verify({"sha256": unit_key.get("checksum"), "size": unit_key.get("size")}, name)
    except DigestMismatch as exc:
        writer.discard()
        raise TaskError(f"PLP0047: {exc}") from None
    stored = writer.commit()
    async with ctx.transaction() as session:
        artifact = Artifact(file=stored.file, size=stored.size,
                            **{k: v for k, v in stored.digests.items() if k in ALL_DIGEST_FIELDS})
        artifact, _ = await _insert_or_get(session, artifact,
                                           select(Artifact).where(Artifact.sha256 == stored.digests["sha256"]))
        unit, created = await _insert_or_get(
            session, FileContent(relative_path=name, digest=artifact.sha256),
            select(FileContent).where(FileContent.relative_path == name, FileContent.digest == artifact.sha256))
        if created:
            session.add(ContentArtifact(pulp_id=uuid7(), content_id=unit.pulp_id, artifact_id=artifact.pulp_id,
                                        relative_path=name))
            await session.flush()
        latest = await latest_version(session, repo.repository_id)
        same_path = set(await session.scalars(select(FileContent.pulp_id).where(
            FileContent.relative_path == name, FileContent.pulp_id != unit.pulp_id,
            FileContent.pulp_id.in_(content_ids_in(repo.repository_id, latest.number)))))
        version = await commit_version(session, repo.repository_id, add={unit.pulp_id}, remove=same_path)
        stored_repo = await session.get(V2Repository, repo.pulp_id)
        if version is not None:
            stored_repo.last_unit_added = utcnow()
    _v2_result(ctx, {"success_flag": True, "summary": {"name": name, "checksum": artifact.sha256,
                                                       "size": artifact.size}, "details": {}})
