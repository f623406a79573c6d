"""`repositories/ostree/ostree/`: CRUD, labels, versions and the four actions.

Actions answer 202 with a task: `sync/`, `modify/`, `import_all/`, `import_commits/`.
"""

from __future__ import annotations

import tarfile

from fastapi import APIRouter, Depends, Request
from pydantic import Field
from sqlalchemy import select

from pulpwood.plugin import (
    REPOSITORY_FILTERS, Artifact, Body, Content, RepositoryAddRemoveContent, RepositoryBody,
    RepositorySyncBody, TypedResource, ValidationError,
    after_create, dispatch_from_request, get_object, href, read_body, reading, repository_columns,
    repository_serializer, require_user, resolve, resolve_field, resolve_version, runtime_of, typed_router,
    validate, versions_router,
)
from pulpwood_ostree.models import OstreeRemote, OstreeRepository
from pulpwood_ostree.tasks import IMPORT_ALL_TASK, IMPORT_COMMITS_TASK, MODIFY_TASK, SYNC_TASK

PATH = "/" + OstreeRepository.__href_path__


class OstreeRepositoryBody(RepositoryBody):
    compute_delta: bool = True




class ImportAllBody(Body):
    artifact: str
    repository_name: str = Field(min_length=1)


class ImportCommitsBody(ImportAllBody):
    ref: str = Field(min_length=1)


RESOURCE = TypedResource(
    model=OstreeRepository,
    body=OstreeRepositoryBody,
    serialize=repository_serializer(lambda repo: {"compute_delta": repo.compute_delta}),
    columns=repository_columns(OstreeRemote),
    filters=REPOSITORY_FILTERS,
    create_mode="sync",
    after_create=after_create,
)


async def _content_ids(session, field: str, values: list[str]) -> list[str]:
    """Content hrefs -> ids; 400 listing the ones that do not exist."""
    by_value, missing = {}, []
    for value in values:
        resolved = resolve(value) if isinstance(value, str) else None
        if resolved is None or not issubclass(resolved.model, Content):
            missing.append(value)
        else:
            by_value[value] = resolved.pulp_id
    ids = list(dict.fromkeys(by_value.values()))
    found = set()
    for start in range(0, len(ids), 500):
        found.update(await session.scalars(select(Content.pulp_id).where(Content.pulp_id.in_(ids[start:start + 500]))))
    missing.extend(value for value, pulp_id in by_value.items() if pulp_id not in found)
    if missing:
        raise ValidationError({field: [f"Could not find the following content units: {missing}"]})
    return [str(i) for i in ids]


async def _tar_artifact(request: Request, session, value: str) -> Artifact:
    artifact = await resolve_field(session, "artifact", value, Artifact, allow_null=False)
    path = runtime_of(request).storage.path(artifact.file)
    try:
        is_tar = tarfile.is_tarfile(path)
    except OSError:
        is_tar = False
    if not is_tar:
        raise ValidationError({"artifact": ["The artifact is not a tar archive file"]})
    return artifact


def repository_routers() -> list[APIRouter]:
    router = APIRouter(dependencies=[Depends(require_user)])

    @router.post(PATH + "{pk}/sync/")
    async def sync(pk: str, request: Request):
        body = validate(RepositorySyncBody, await read_body(request))
        async with reading(request) as session:
            repository = await get_object(session, OstreeRepository, pk)
            if body.remote:
                remote = await resolve_field(session, "remote", body.remote, OstreeRemote)
            elif repository.remote_id:
                remote = await session.get(OstreeRemote, repository.remote_id)
            else:
                remote = None
            if remote is None:
                raise ValidationError({"remote": ["This field is required since a remote is not set on the repository."]})
            if not remote.url:
                raise ValidationError({"remote": ["A remote must have a url specified to synchronize."]})
        return await dispatch_from_request(
            request, SYNC_TASK,
            kwargs={"remote_pk": str(remote.pulp_id), "repository_pk": str(repository.pulp_id), "mirror": body.mirror},
            # The repository is locked exclusively, the remote shared; the record lists both
            # as plain hrefs, in that order, as seed 000 shows.
            exclusive=[href(repository)], shared=[href(remote)])

    @router.post(PATH + "{pk}/modify/")
    async def modify(pk: str, request: Request):
        body = validate(RepositoryAddRemoveContent, await read_body(request))
        async with reading(request) as session:
            repository = await get_object(session, OstreeRepository, pk)
            if "*" in body.remove_content_units:
                if len(body.remove_content_units) > 1:
                    raise ValidationError({"remove_content_units": ["Cannot supply content units and '*'."]})
                remove = ["*"]
            else:
                remove = await _content_ids(session, "remove_content_units", body.remove_content_units)
            add = await _content_ids(session, "add_content_units", body.add_content_units)
            base_pk = None
            if body.base_version:
                # Any ostree repository's version may be the starting point (pulp-cli --base-repository).
                version = await resolve_version(session, "base_version", body.base_version, OstreeRepository)
                base_pk = str(version.pulp_id)
        return await dispatch_from_request(
            request, MODIFY_TASK,
            kwargs={"repository_pk": str(repository.pulp_id), "add_content_units": add,
                    "remove_content_units": remove, "base_version_pk": base_pk},
            exclusive=[href(repository)])

    async def start_import(pk: str, request: Request, body_model, task_name: str):
        body = validate(body_model, await read_body(request))
        async with reading(request) as session:
            repository = await get_object(session, OstreeRepository, pk)
            artifact = await _tar_artifact(request, session, body.artifact)
        kwargs = {"artifact_pk": str(artifact.pulp_id), "repository_pk": str(repository.pulp_id),
                  "repository_name": body.repository_name.lstrip("/")}
        if isinstance(body, ImportCommitsBody):
            kwargs["ref"] = body.ref
        return await dispatch_from_request(request, task_name, kwargs=kwargs,
                                           exclusive=[href(artifact), href(repository)])

    @router.post(PATH + "{pk}/import_all/")
    async def import_all(pk: str, request: Request):
        return await start_import(pk, request, ImportAllBody, IMPORT_ALL_TASK)

    @router.post(PATH + "{pk}/import_commits/")
    async def import_commits(pk: str, request: Request):
        return await start_import(pk, request, ImportCommitsBody, IMPORT_COMMITS_TASK)

    return [router, typed_router(RESOURCE), versions_router(OstreeRepository)]
