"""`/v2/repositories/`: create (with inline importer and distributors), read, list, update,
delete."""

from __future__ import annotations

from fastapi import Request
from sqlalchemy import select

from pulpwood.api.deps import reading, writing
from pulpwood.api.v2 import core, render
from pulpwood.api.v2.common import REPO_ID, authed_router, in_progress, running_tags, task_fields
from pulpwood.api.v2.dispatching import dispatch_v2, repo_resources
from pulpwood.api.v2.distributors import add_distributor, check_distributor_body
from pulpwood.api.v2.errors import CodedError, DuplicateResource, InvalidValue
from pulpwood.api.v2.importers import add_importer, check_importer_body
from pulpwood.api.v2.tasks import DELETE_REPO, UPDATE_DISTRIBUTOR
from pulpwood.api.v2.transport import call_report, flag, json_body, ok, v2_prefix
from pulpwood.models import Repository
from pulpwood.models.pulp2 import V2Repository

router = authed_router()


async def repository_document(session, prefix: str, repo: V2Repository, request: Request, *,
                              single: bool, tags=None) -> dict:
    counts = await core.unit_counts(session, repo)
    body = render.repository(prefix, repo, counts)
    details = flag(request, "details")
    if details or flag(request, "importers"):
        importer = await core.get_importer(session, repo)
        tags = tags if tags is not None else await running_tags(session)
        body["importers"] = [] if importer is None else [
            render.importer(prefix, repo.repo_id, importer, in_progress(tags, repo.repo_id, "sync"))]
    if details or flag(request, "distributors"):
        tags = tags if tags is not None else await running_tags(session)
        body["distributors"] = [
            render.distributor(prefix, repo.repo_id, d, in_progress(tags, repo.repo_id, "publish", d.distributor_id))
            for d in await core.get_distributors(session, repo)]
    if details and single:
        body["total_repository_units"] = sum(counts.values())
        body["locally_stored_units"] = sum(counts.values())
    return body


def _optional_text(body: dict, key: str) -> str | None:
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise InvalidValue([key])
    return value


@router.post("/repositories/")
async def create_repository(request: Request):
    body = await json_body(request, empty_ok=False)
    repo_id = body.get("id")
    if not isinstance(repo_id, str) or not REPO_ID.fullmatch(repo_id):
        raise InvalidValue(["repo_id"])
    display_name = _optional_text(body, "display_name")
    description = _optional_text(body, "description")
    notes = body.get("notes")
    if notes is not None and not isinstance(notes, dict):
        raise InvalidValue(["notes"])
    settings = request.app.state.runtime.settings
    importer_type = body.get("importer_type_id")
    importer_config = None
    if importer_type is not None:
        importer_type, importer_config = check_importer_body(body)
    distributors = body.get("distributors")
    if distributors is not None and (not isinstance(distributors, list)
                                     or not all(isinstance(d, dict) for d in distributors)):
        raise InvalidValue(["distributor_list"])
    checked = [check_distributor_body(d, settings) for d in distributors or []]
    prefix = v2_prefix(request)
    async with writing(request) as session:
        if await session.scalar(select(V2Repository.pulp_id).where(V2Repository.repo_id == repo_id)) is not None:
            raise DuplicateResource(repo_id)
        if await session.scalar(select(Repository.pulp_id).where(Repository.name == repo_id)) is not None:
            raise DuplicateResource(repo_id)
        repo = V2Repository(repo_id=repo_id, display_name=display_name if display_name is not None else repo_id,
                            description=description, notes={k: v for k, v in (notes or {}).items() if v is not None},
                            scratchpad={})
        session.add(repo)
        await session.flush()
        # Everything below runs in the same transaction: a refused importer or distributor
        # rolls the repository back too.
        if importer_type is not None:
            await add_importer(session, repo, importer_type, importer_config)
        for dist in checked:
            await add_distributor(session, repo, settings, *dist)
        document = await repository_document(session, prefix, repo, request, single=True, tags=[])
    return ok(document, 201, location=document["_href"])


@router.get("/repositories/")
async def list_repositories(request: Request):
    prefix = v2_prefix(request)
    async with reading(request) as session:
        tags = await running_tags(session)
        repos = await session.scalars(select(V2Repository).order_by(V2Repository.repo_id))
        return ok([await repository_document(session, prefix, r, request, single=False, tags=tags) for r in repos])


@router.api_route("/repositories/search/", methods=["GET", "POST"])
async def search_repositories(request: Request):
    from pulpwood.api.v2.search import run_search

    prefix = v2_prefix(request)
    async with reading(request) as session:
        tags = await running_tags(session)
        repos = list(await session.scalars(select(V2Repository).order_by(V2Repository.repo_id)))
        documents = [await repository_document(session, prefix, r, request, single=False, tags=tags) for r in repos]
    return ok(await run_search(request, documents, always=("id", "_id", "_href", "importers", "distributors")))


@router.get("/repositories/{repo_id}/")
async def get_repository(request: Request, repo_id: str):
    async with reading(request) as session:
        repo = await core.get_repo(session, repo_id)
        return ok(await repository_document(session, v2_prefix(request), repo, request, single=True))


@router.put("/repositories/{repo_id}/")
async def update_repository(request: Request, repo_id: str):
    body = await json_body(request)
    unknown = sorted(set(body) - {"delta", "importer_config", "distributor_configs"})
    if unknown:
        raise InvalidValue(unknown)
    delta = body.get("delta")
    delta = {} if delta is None else delta
    if not isinstance(delta, dict):
        raise CodedError("PLP1010", "The value for the key delta must be of type dict")
    importer_config = body.get("importer_config")
    if importer_config is not None and not isinstance(importer_config, dict):
        raise InvalidValue(["importer_config"])
    dist_configs = body.get("distributor_configs")
    if dist_configs is not None and (not isinstance(dist_configs, dict)
                                     or not all(isinstance(v, dict) for v in dist_configs.values())):
        raise InvalidValue(["distributor_configs"])
    prefix = v2_prefix(request)
    spawned = []
    async with writing(request) as session:
        repo = await core.get_repo(session, repo_id)
        for key, value in delta.items():
            if key == "notes":
                if value is not None and not isinstance(value, dict):
                    raise InvalidValue(["notes"])
                notes = dict(repo.notes or {})
                for note, note_value in (value or {}).items():
                    if note_value is None:
                        notes.pop(note, None)
                    else:
                        notes[note] = note_value
                repo.notes = notes
            elif key in ("display_name", "description"):
                if value is not None and not isinstance(value, str):
                    raise InvalidValue([key])
                setattr(repo, key, value)
                if key == "description" and repo.repository_id is not None:
                    core_repo = await session.get(Repository, repo.repository_id)
                    core_repo.description = value
            elif key == "scratchpad":
                if not isinstance(value, dict):
                    raise InvalidValue(["scratchpad"])
                repo.scratchpad = value
            elif key not in ("content_unit_counts", "id", "repo_id", "last_unit_added", "last_unit_removed"):
                raise InvalidValue([key])
        if importer_config is not None:
            from pulpwood.api.v2.importers import apply_importer_config

            await apply_importer_config(session, repo, importer_config)
        for dist_id, config in (dist_configs or {}).items():
            task = await dispatch_v2(
                session, UPDATE_DISTRIBUTOR,
                kwargs={"repo_id": repo_id, "distributor_id": dist_id, "distributor_config": config},
                tags=[f"pulp:repository:{repo_id}", f"pulp:repository_distributor:{dist_id}",
                      "pulp:action:update_distributor"],
                task_type=UPDATE_DISTRIBUTOR, exclusive=await repo_resources(session, repo), **task_fields(request))
            spawned.append(task.pulp_id)
        await session.flush()
        document = await repository_document(session, prefix, repo, request, single=True)
    if spawned:
        return call_report(prefix, spawned, result=document)
    # The seed answers the bare repository; Pulp 2.21 clients read a call report. Both fit in
    # one body: the repository's fields plus result/error/spawned_tasks.
    return ok({**document, "result": document, "error": None, "spawned_tasks": []})


@router.delete("/repositories/{repo_id}/")
async def delete_repository(request: Request, repo_id: str):
    async with writing(request) as session:
        repo = await core.get_repo(session, repo_id)
        task = await dispatch_v2(session, DELETE_REPO, kwargs={"repo_id": repo_id},
                                 tags=[f"pulp:repository:{repo_id}", "pulp:action:delete"], task_type=DELETE_REPO,
                                 exclusive=await repo_resources(session, repo), **task_fields(request))
    return call_report(v2_prefix(request), [task.pulp_id])
