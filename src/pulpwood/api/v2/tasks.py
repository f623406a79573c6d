"""The v2 layer's task functions, run by the core workers like any other task.

sync / publish wrap the plugins' own sync and publish work (or the harness fakes), then do
what v2 adds: history entries, last_sync / last_publish, unit timestamps and auto-publish
(spawned tasks). A task's v2 result is stored as `{"v2": ...}` in the core task result.
"""

from __future__ import annotations

import asyncio
import traceback as tb

from sqlalchemy import delete, select

from pulpwood.api.v2 import core
from pulpwood.api.v2.dispatching import dispatch_v2, repo_resources
from pulpwood.api.v2.harness import harness_publish as _harness_publish, harness_sync as _harness_sync
from pulpwood.api.v2.plugin_types import DISTRIBUTORS, IMPORTERS, as_bool, merged
from pulpwood.db.base import utcnow
from pulpwood.errors import TaskError
from pulpwood.models import Distribution, Remote, Repository
from pulpwood.models.pulp2 import V2Distributor, V2History, V2Importer, V2Repository, V2TaskRecord
from pulpwood.queries.versions import latest_version
from pulpwood.tasking.registry import register

SYNC = "pulp.server.managers.repo.sync.sync"
PUBLISH = "pulp.server.managers.repo.publish.publish"
DELETE_REPO = "pulp.server.tasks.repository.delete"
UPDATE_IMPORTER = "pulp.server.managers.repo.importer.update_importer_config"
REMOVE_IMPORTER = "pulp.server.managers.repo.importer.remove_importer"
UPDATE_DISTRIBUTOR = "pulp.server.tasks.repository.distributor_update"
REMOVE_DISTRIBUTOR = "pulp.server.tasks.repository.distributor_delete"
ASSOCIATE = "pulp.server.managers.repo.unit_association.associate_from_repo"
UNASSOCIATE = "pulp.server.managers.repo.unit_association.unassociate_by_criteria"
DELETE_ORPHANS = "pulp.server.managers.content.orphan.delete_all_orphans"

OSTREE_SYNC = "pulp_ostree.app.tasks.synchronizing.synchronize"
FILE_SYNC = "pulp_file.app.tasks.synchronizing.synchronize"
FILE_PUBLISH = "pulp_file.app.tasks.publishing.publish"


def _plugin_task(name: str):
    from pulpwood.registry import task_function

    try:
        return task_function(name)
    except LookupError:
        if name == FILE_SYNC:
            from pulpwood_file.synchronizing import synchronize
            return synchronize
        if name == FILE_PUBLISH:
            from pulpwood_file.publishing import publish
            return publish
        raise TaskError(f"The content plugin for {name} is not installed.") from None


async def _load(session, repo_id: str) -> V2Repository:
    repo = await session.scalar(select(V2Repository).where(V2Repository.repo_id == repo_id))
    if repo is None:
        raise TaskError(f"Missing resource(s): repository={repo_id}")
    return repo


def _v2_result(ctx, value) -> None:
    ctx.result = {"v2": value}


async def _history(session, **fields) -> V2History:
    entry = V2History(**fields)
    session.add(entry)
    await session.flush()
    return entry


async def _network_sync(ctx, repo: V2Repository, importer: V2Importer, itype, config: dict,
                        override: dict) -> None:
    if not config.get("feed"):
        code = "OST0004" if itype.kind == "ostree" else "PLP0000"
        raise TaskError(f"{code}: Feed URL not specified")
    remote_id = importer.remote_id
    temporary = None
    if override or remote_id is None:
        # A throwaway remote for this run: the stored one must not change under other tasks.
        async with ctx.transaction() as session:
            model = core.remote_model(itype.kind)
            temporary = model(name=f"pulp2-{repo.repo_id}-sync-{ctx.task_id}",
                              **core.remote_values(itype.id, config))
            session.add(temporary)
            await session.flush()
            remote_id = temporary.pulp_id
    try:
        if itype.kind == "ostree":
            await _plugin_task(OSTREE_SYNC)(ctx, remote_pk=str(remote_id), repository_pk=str(repo.repository_id),
                                            mirror=False)
        else:
            await _plugin_task(FILE_SYNC)(ctx, remote_pk=str(remote_id), repository_pk=str(repo.repository_id),
                                          mirror=as_bool(config.get("remove_missing")))
    finally:
        if temporary is not None:
            async with ctx.transaction() as session:
                await session.execute(delete(Remote).where(Remote.pulp_id == temporary.pulp_id))


def _counted(repo: V2Repository, counts: dict, kind: str) -> int:
    section = (counts or {}).get(kind, {})
    return section.get("ostree.refs" if repo.unit_type == "ostree" else "file.file", 0)


@register(SYNC)
async def sync(ctx, repo_id: str, override_config: dict | None = None) -> None:
    started = utcnow()
    override = override_config or {}
    async with ctx.reading() as session:
        repo = await _load(session, repo_id)
        importer = await core.get_importer(session, repo)
        if importer is None:
            raise TaskError(f"PLP0009: Missing resource(s): repository={repo_id}, importer=None")
        itype = IMPORTERS[importer.importer_type_id]
        before = await latest_version(session, repo.repository_id) if repo.repository_id else None
    config = merged(importer.config or {}, override)
    result, error, trace = "success", None, None
    try:
        if repo.repository_id is None:
            raise TaskError("The repository has no content store for this importer.")
        if itype.id == "harness_importer":
            await _harness_sync(ctx, repo, config)
        else:
            await _network_sync(ctx, repo, importer, itype, config, override)
    except asyncio.CancelledError:
        result = "canceled"
        raise
    except Exception as exc:  # noqa: BLE001 - recorded in the history, then re-raised for the task
        result, error, trace = "error", exc, tb.format_exc()
    finally:
        if result == "canceled":
            await asyncio.shield(_record_sync(ctx, repo_id, itype, started, before, "canceled", None, None))
    entry = await _record_sync(ctx, repo_id, itype, started, before, result, error, trace)
    if error is not None:
        raise error
    _v2_result(ctx, entry)


async def _record_sync(ctx, repo_id, itype, started, before, result, error, trace) -> dict:
    from pulpwood.api.v2 import render

    async with ctx.transaction() as session:
        repo = await _load(session, repo_id)
        importer = await core.get_importer(session, repo)
        now = utcnow()
        added = removed = 0
        if repo.repository_id is not None:
            after = await latest_version(session, repo.repository_id)
            if after is not None and (before is None or after.number != before.number):
                added = _counted(repo, after.content_counts, "added")
                removed = _counted(repo, after.content_counts, "removed")
                if added:
                    repo.last_unit_added = now
                if removed:
                    repo.last_unit_removed = now
        if importer is not None:
            importer.last_sync = now
        entry = await _history(
            session, kind="sync", repo_id=repo_id, owner_id=itype.id, owner_type_id=itype.id, started=started,
            completed=now, result=result, added_count=added if result == "success" else -1,
            updated_count=0 if result == "success" else -1, removed_count=removed if result == "success" else -1,
            summary={"added": added, "removed": removed}, details={},
            error_message=str(error) if error else None, exception=repr(error) if error else None,
            traceback=trace)
        if result == "success":
            spawned = []
            for dist in await core.get_distributors(session, repo):
                if dist.auto_publish:
                    task = await dispatch_v2(
                        session, PUBLISH, kwargs={"repo_id": repo_id, "distributor_id": dist.distributor_id},
                        tags=[f"pulp:repository:{repo_id}", "pulp:action:publish",
                              f"pulp:v2_owner:{dist.distributor_id}"],
                        task_type=PUBLISH, exclusive=await repo_resources(session, repo),
                        user_id=ctx.created_by_id, logging_cid=ctx.logging_cid, parent_task_id=ctx.task_id)
                    spawned.append(str(task.pulp_id))
            if spawned:
                record = await session.get(V2TaskRecord, ctx.task_id)
                if record is not None:
                    record.spawned = [*record.spawned, *spawned]
        return render.history(entry)


async def _serve_version(ctx, repo: V2Repository, dist: V2Distributor, dtype) -> None:
    async with ctx.reading() as session:
        latest = await latest_version(session, repo.repository_id) if repo.repository_id else None
    if latest is None:
        raise TaskError("The repository has no content to publish.")
    publication_id = None
    if dtype.kind == "file":
        await _plugin_task(FILE_PUBLISH)(ctx, repository_version_pk=str(latest.pulp_id), manifest="PULP_MANIFEST")
        from pulpwood_file.models import FilePublication

        async with ctx.reading() as session:
            publication_id = await session.scalar(
                select(FilePublication.pulp_id).where(FilePublication.repository_version_id == latest.pulp_id,
                                                      FilePublication.complete.is_(True))
                .order_by(FilePublication.pulp_created.desc()).limit(1))
    async with ctx.transaction() as session:
        stored = await session.get(V2Distributor, dist.pulp_id)
        if stored is None or stored.distribution_id is None:
            raise TaskError(f"Missing resource(s): distributor={dist.distributor_id}")
        distribution = await session.get(Distribution, stored.distribution_id)
        distribution.repository_id = None
        if dtype.kind == "file":
            distribution.publication_id = publication_id
            distribution.repository_version_id = None
        else:
            distribution.repository_version_id = latest.pulp_id
            distribution.publication_id = None


@register(PUBLISH)
async def publish(ctx, repo_id: str, distributor_id: str, override_config: dict | None = None) -> None:
    from pulpwood.api.v2 import render

    started = utcnow()
    override = override_config or {}
    async with ctx.reading() as session:
        repo = await _load(session, repo_id)
        dist = await session.scalar(select(V2Distributor).where(V2Distributor.repo_pk == repo.pulp_id,
                                                                V2Distributor.distributor_id == distributor_id))
        if dist is None:
            raise TaskError(f"Missing resource(s): repository={repo_id}, distributor={distributor_id}")
    dtype = DISTRIBUTORS[dist.distributor_type_id]
    config = merged(dist.config or {}, override)
    result, error, trace, scratchpad = "success", None, None, dist.scratchpad
    skip = (dist.last_publish is not None and not as_bool(config.get("force_full")) and not override
            and dist.last_updated <= dist.last_publish
            and (repo.last_unit_added is None or repo.last_unit_added <= dist.last_publish)
            and (repo.last_unit_removed is None or repo.last_unit_removed <= dist.last_publish))
    if skip:
        result = "skipped"
    else:
        try:
            if dtype.id == "harness_distributor":
                scratchpad = await _harness_publish(ctx, repo, dist, config)
            else:
                await _serve_version(ctx, repo, dist, dtype)
        except Exception as exc:  # noqa: BLE001 - recorded in the history, then re-raised
            result, error, trace = "error", exc, tb.format_exc()
    async with ctx.transaction() as session:
        stored = await session.get(V2Distributor, dist.pulp_id)
        if stored is not None and result != "error":
            stored.last_publish = started
            stored.scratchpad = scratchpad
        summary = "Skipped: Repository content has not changed since last publish." if skip else {}
        entry = await _history(
            session, kind="publish", repo_id=repo_id, owner_id=distributor_id, owner_type_id=dtype.id,
            started=started, completed=utcnow(), result=result, summary=summary, details={},
            error_message=str(error) if error else None, exception=repr(error) if error else None,
            traceback=trace)
        body = render.history(entry)
    if error is not None:
        raise error
    _v2_result(ctx, body)


@register(DELETE_REPO)
async def delete_repository(ctx, repo_id: str) -> None:
    async with ctx.transaction() as session:
        repo = await session.scalar(select(V2Repository).where(V2Repository.repo_id == repo_id))
        if repo is None:
            return
        importer = await core.get_importer(session, repo)
        if importer is not None:
            await core.detach_remote(session, importer)
        for dist in await core.get_distributors(session, repo):
            await core.detach_distribution(session, dist)
        if repo.repository_id is not None:
            await session.execute(delete(Repository).where(Repository.pulp_id == repo.repository_id))
        await session.execute(delete(V2History).where(V2History.repo_id == repo_id))
        await session.delete(repo)
    _v2_result(ctx, None)


@register(UPDATE_IMPORTER)
async def update_importer(ctx, repo_id: str, importer_config: dict) -> None:
    from pulpwood.api.v2 import render

    async with ctx.transaction() as session:
        repo = await _load(session, repo_id)
        importer = await core.get_importer(session, repo)
        if importer is None:
            raise TaskError(f"Missing resource(s): repository={repo_id}, importer=None")
        from pulpwood.api.v2.importers import feed_credentials

        config = feed_credentials(merged(importer.config or {}, importer_config))
        _validate_in_task(IMPORTERS[importer.importer_type_id], config, {})
        importer.config = config
        importer.last_updated = utcnow()
        await core.attach_remote(session, repo, importer)
        body = render.importer(_prefix(ctx), repo_id, importer)
    _v2_result(ctx, body)


@register(REMOVE_IMPORTER)
async def remove_importer(ctx, repo_id: str) -> None:
    async with ctx.transaction() as session:
        repo = await _load(session, repo_id)
        importer = await core.get_importer(session, repo)
        if importer is not None:
            await core.detach_remote(session, importer)
            await session.delete(importer)
    _v2_result(ctx, None)


@register(UPDATE_DISTRIBUTOR)
async def update_distributor(ctx, repo_id: str, distributor_id: str, distributor_config: dict | None = None,
                             delta: dict | None = None) -> None:
    from pulpwood.api.v2 import render

    async with ctx.transaction() as session:
        repo = await _load(session, repo_id)
        dist = await session.scalar(select(V2Distributor).where(V2Distributor.repo_pk == repo.pulp_id,
                                                                V2Distributor.distributor_id == distributor_id))
        if dist is None:
            raise TaskError(f"Missing resource(s): repository={repo_id}, distributor={distributor_id}")
        config = merged(dist.config or {}, distributor_config or {})
        dtype = DISTRIBUTORS[dist.distributor_type_id]
        from pulpwood.api.v2.plugin_types import PATH_KEYS

        context = {"repo_id": repo_id, "publish_root": str(ctx.settings.publish_root)}
        if dtype.id in PATH_KEYS:
            context["others"] = await core.other_paths(session, repo, dtype.id)
        _validate_in_task(dtype, config, context)
        auto = (delta or {}).get("auto_publish", config.pop("auto_publish", None))
        if auto is not None:
            if not isinstance(auto, bool):
                raise TaskError("Invalid properties: ['auto_publish']")
            dist.auto_publish = auto
        dist.config = config
        dist.last_updated = utcnow()
        await core.attach_distribution(session, repo, dist)
        body = render.distributor(_prefix(ctx), repo_id, dist)
    _v2_result(ctx, body)


@register(REMOVE_DISTRIBUTOR)
async def remove_distributor(ctx, repo_id: str, distributor_id: str) -> None:
    async with ctx.transaction() as session:
        repo = await _load(session, repo_id)
        dist = await session.scalar(select(V2Distributor).where(V2Distributor.repo_pk == repo.pulp_id,
                                                                V2Distributor.distributor_id == distributor_id))
        if dist is not None:
            await core.detach_distribution(session, dist)
            await session.delete(dist)
    _v2_result(ctx, None)


def _validate_in_task(ptype, config: dict, context: dict) -> None:
    from pulpwood.api.v2.errors import V2Error

    try:
        ptype.validate({k: v for k, v in config.items() if k != "auto_publish"}, context)
    except V2Error as exc:
        raise TaskError(exc.message) from None


def _prefix(ctx) -> str:
    return f"{ctx.settings.api_root}api/v2/"


# The content tasks (copy, remove, orphans, upload import) register when this module loads.
from pulpwood.api.v2 import tasks_content  # noqa: E402,F401
