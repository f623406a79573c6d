"""`/v2/repositories/<id>/importers/`: associate (201, the seed's document), list, get,
update (a task merging the config), remove (a task)."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit, urlunsplit

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from pulpwood.api.deps import reading, writing
from pulpwood.api.v2 import core, render
from pulpwood.api.v2.common import authed_router, in_progress, running_tags, task_fields
from pulpwood.api.v2.dispatching import dispatch_v2, repo_resources
from pulpwood.api.v2.errors import CodedError, InvalidValue, MissingResource, MissingValue
from pulpwood.api.v2.tasks import REMOVE_IMPORTER, UPDATE_IMPORTER
from pulpwood.api.v2.transport import call_report, json_body, ok, v2_prefix
from pulpwood.api.v2.plugin_types import IMPORTERS, merged
from pulpwood.db.base import utcnow
from pulpwood.models.pulp2 import V2Importer, V2Repository

router = authed_router()


def check_importer_body(body: dict) -> tuple[str, dict]:
    """(type id, config without nulls) after the synchronous checks; 400 otherwise."""
    type_id = body.get("importer_type_id")
    if type_id not in IMPORTERS:
        raise CodedError("PLP1008", f"Importer type {type_id} does not exist",
                         data={"importer_type_id": type_id})
    config = body.get("importer_config")
    if config is None:
        config = {}
    if not isinstance(config, dict):
        raise InvalidValue(["importer_config"])
    config = feed_credentials({k: v for k, v in config.items() if v is not None})
    IMPORTERS[type_id].validate(config)
    return type_id, config


def feed_credentials(config: dict) -> dict:
    """A feed with `user:pass@` has them moved to basic_auth_* and dropped from the URL (Pulp 2)."""
    feed = config.get("feed")
    if not isinstance(feed, str) or "@" not in feed:
        return config
    parts = urlsplit(feed)
    if parts.username is None:
        return config
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    out = dict(config, feed=urlunsplit(parts._replace(netloc=host)))
    out["basic_auth_username"] = unquote(parts.username)
    if parts.password is not None:
        out["basic_auth_password"] = unquote(parts.password)
    return out


async def add_importer(session: AsyncSession, repo: V2Repository, type_id: str, config: dict) -> V2Importer:
    """Replace the repository's importer (the old one goes first, as in Pulp 2)."""
    old = await core.get_importer(session, repo)
    if old is not None:
        await core.detach_remote(session, old)
        await session.delete(old)
        await session.flush()
    itype = IMPORTERS[type_id]
    await core.ensure_core(session, repo, itype.kind, itype.unit_type, "importer_type_id")
    importer = V2Importer(repo_pk=repo.pulp_id, importer_type_id=type_id, config=config, scratchpad=None,
                          last_updated=utcnow())
    session.add(importer)
    await session.flush()
    await core.attach_remote(session, repo, importer)
    return importer


async def apply_importer_config(session: AsyncSession, repo: V2Repository, changes: dict) -> V2Importer:
    importer = await core.get_importer(session, repo)
    if importer is None:
        raise MissingResource(repository=repo.repo_id, importer="None")
    config = feed_credentials(merged(importer.config or {}, changes))
    IMPORTERS[importer.importer_type_id].validate(config)
    importer.config = config
    importer.last_updated = utcnow()
    await core.attach_remote(session, repo, importer)
    return importer


async def _importer_of(session, repo_id: str, importer_id: str) -> tuple[V2Repository, V2Importer]:
    repo = await core.get_repo(session, repo_id)
    importer = await core.get_importer(session, repo)
    if importer is None or importer.importer_type_id != importer_id:
        raise MissingResource(importer_id=importer_id)
    return repo, importer


@router.post("/repositories/{repo_id}/importers/")
async def associate_importer(request: Request, repo_id: str):
    body = await json_body(request, empty_ok=False)
    async with writing(request) as session:
        repo = await core.get_repo(session, repo_id)
        type_id, config = check_importer_body(body)
        importer = await add_importer(session, repo, type_id, config)
        document = render.importer(v2_prefix(request), repo_id, importer)
    return ok(document, 201, location=document["_href"])


@router.get("/repositories/{repo_id}/importers/")
async def list_importers(request: Request, repo_id: str):
    async with reading(request) as session:
        repo = await core.get_repo(session, repo_id)
        importer = await core.get_importer(session, repo)
        tags = await running_tags(session)
        return ok([] if importer is None else [
            render.importer(v2_prefix(request), repo_id, importer, in_progress(tags, repo_id, "sync"))])


@router.get("/repositories/{repo_id}/importers/{importer_id}/")
async def get_importer(request: Request, repo_id: str, importer_id: str):
    async with reading(request) as session:
        _, importer = await _importer_of(session, repo_id, importer_id)
        tags = await running_tags(session)
        return ok(render.importer(v2_prefix(request), repo_id, importer, in_progress(tags, repo_id, "sync")))


@router.put("/repositories/{repo_id}/importers/{importer_id}/")
async def update_importer(request: Request, repo_id: str, importer_id: str):
    body = await json_body(request)
    config = body.get("importer_config")
    if config is None:
        raise MissingValue(["importer_config"])
    if not isinstance(config, dict):
        raise InvalidValue(["importer_config"])
    async with writing(request) as session:
        repo, importer = await _importer_of(session, repo_id, importer_id)
        # Keys the type refuses are a 400 now; value checks on the merged config run in the task.
        unknown = sorted(set(config) - IMPORTERS[importer.importer_type_id].keys)
        if unknown:
            IMPORTERS[importer.importer_type_id].validate({k: None for k in unknown})
        task = await dispatch_v2(session, UPDATE_IMPORTER, kwargs={"repo_id": repo_id, "importer_config": config},
                                 tags=[f"pulp:repository:{repo_id}", f"pulp:repository_importer:{importer_id}",
                                       "pulp:action:update_importer"],
                                 task_type=UPDATE_IMPORTER, exclusive=await repo_resources(session, repo),
                                 **task_fields(request))
    return call_report(v2_prefix(request), [task.pulp_id])


@router.delete("/repositories/{repo_id}/importers/{importer_id}/")
async def remove_importer(request: Request, repo_id: str, importer_id: str):
    async with writing(request) as session:
        repo, _ = await _importer_of(session, repo_id, importer_id)
        task = await dispatch_v2(session, REMOVE_IMPORTER, kwargs={"repo_id": repo_id},
                                 tags=[f"pulp:repository:{repo_id}", f"pulp:repository_importer:{importer_id}",
                                       "pulp:action:delete_importer"],
                                 task_type=REMOVE_IMPORTER, exclusive=await repo_resources(session, repo),
                                 **task_fields(request))
    return call_report(v2_prefix(request), [task.pulp_id])
