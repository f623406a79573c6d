"""REST endpoints of the file plugin, at the exact URLs of Pulp's `file` component."""

from __future__ import annotations

from functools import lru_cache

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select

from pulpwood.plugin import (
    ADD_AND_REMOVE, DISTRIBUTION_FILTERS, PUBLICATION_FILTERS, REMOTE_FILTERS, REPOSITORY_FILTERS, Artifact,
    Body, Content, DistributionBody, FilterSet, JSONResponse, Publication, RemoteBody,
    RepositoryAddRemoveContent, RepositoryBody, RepositorySyncBody,
    RepositoryVersion, TypedResource, Upload, ValidationError, after_create, check_base_path,
    content_serializer, dispatch_from_request, distribution_columns, distribution_serializer, get_object, href,
    href_for, listing, load_settings, publication_serializer, read_body, remote_columns, remote_serializer,
    repository_columns, repository_serializer, require_user, resolve, resolve_field, resolve_version,
    runtime_of, typed_router, validate, version_filters, versions_router, writing,
)
from pulpwood_file.content import CREATE_CONTENT, artifact_from_stored, save_file_content, store_upload
from pulpwood_file.manifest import PATH
from pulpwood_file.models import (
    DEFAULT_MANIFEST, FileContent, FileDistribution, FilePublication, FileRemote, FileRepository,
)
from pulpwood_file.publishing import PUBLISH
from pulpwood_file.synchronizing import SYNCHRONIZE


class FileRepositoryBody(RepositoryBody):
    autopublish: bool = False
    manifest: str | None = DEFAULT_MANIFEST




class PublicationBody(Body):
    repository: str | None = None
    repository_version: str | None = None
    manifest: str | None = DEFAULT_MANIFEST
    checkpoint: bool = False


class ContentBody(Body):
    relative_path: str
    artifact: str | None = None
    upload: str | None = None
    file_url: str | None = None
    repository: str | None = None
    overwrite: bool = True
    pulp_labels: dict[str, str | None] = {}


@lru_cache(maxsize=1)
def _settings():
    return load_settings()


def _repository_extra(repo: FileRepository) -> dict:
    return {"autopublish": repo.autopublish, "manifest": repo.manifest,
            "last_sync_details": repo.last_sync_details or {}}


async def _publication_extra(session, publication: FilePublication) -> dict:
    rows = await session.scalars(select(FileDistribution).where(FileDistribution.publication_id == publication.pulp_id))
    return {"manifest": publication.manifest, "distributions": [href(d) for d in rows]}


def _content_extra(content: FileContent, artifacts: dict) -> dict:
    return {"artifact": artifacts.get(content.relative_path), "relative_path": content.relative_path,
            "md5": None, "sha1": None, "sha224": None, "sha256": content.digest, "sha384": None, "sha512": None}


async def serialize_content(session, contents: list) -> list[dict]:
    items = await content_serializer(_content_extra)(session, contents)
    artifact_ids = {resolve(item["artifact"]).pulp_id for item in items if item["artifact"]}
    digests = {}
    if artifact_ids:
        rows = await session.execute(select(Artifact.pulp_id, Artifact.sha224, Artifact.sha384, Artifact.sha512)
                                     .where(Artifact.pulp_id.in_(artifact_ids)))
        digests = {pid: {"sha224": a, "sha384": b, "sha512": c} for pid, a, b, c in rows.all()}
    for item in items:
        if item["artifact"]:
            item.update(digests.get(resolve(item["artifact"]).pulp_id, {}))
    return items


def _publication_filters() -> FilterSet:
    def repository(value: str):
        found = resolve(value)
        if found is None or not issubclass(found.model, FileRepository) or found.version_number is not None:
            raise ValidationError({"repository": [f"URI {value} is not a file repository."]})
        return Publication.repository_version_id.in_(
            select(RepositoryVersion.pulp_id).where(RepositoryVersion.repository_id == found.pulp_id))

    def repository_version(value: str):
        found = resolve(value)
        if found is None or found.version_number is None:
            raise ValidationError({"repository_version": [f"URI {value} is not a repository version."]})
        return Publication.repository_version_id.in_(
            select(RepositoryVersion.pulp_id).where(RepositoryVersion.repository_id == found.pulp_id,
                                                    RepositoryVersion.number == found.version_number))

    return PUBLICATION_FILTERS.extended({"repository": repository, "repository_version": repository_version})


CONTENT_FILTERS = FilterSet(
    filters={
        **version_filters(),
        **listing.text_lookups("relative_path", FileContent.relative_path),
        "digest": lambda v: FileContent.digest == v.lower(),
        "sha256": lambda v: FileContent.digest == v.lower(),
    },
    ordering={"pulp_created": Content.pulp_created, "pk": Content.pulp_id,
              "relative_path": FileContent.relative_path, "digest": FileContent.digest},
    default_order=[Content.pulp_created.desc(), Content.pulp_id.desc()],
)

REPOSITORIES = TypedResource(
    model=FileRepository, body=FileRepositoryBody, serialize=repository_serializer(_repository_extra),
    columns=repository_columns(FileRemote), filters=REPOSITORY_FILTERS, create_mode="sync", after_create=after_create)
REMOTES = TypedResource(model=FileRemote, body=RemoteBody, serialize=remote_serializer(), columns=remote_columns,
                        filters=REMOTE_FILTERS, create_mode="sync")
DISTRIBUTIONS = TypedResource(
    model=FileDistribution, body=DistributionBody,
    serialize=distribution_serializer(_settings, with_publication=True),
    columns=distribution_columns(FileRepository, FilePublication), filters=DISTRIBUTION_FILTERS,
    create_mode="task", check=check_base_path)
PUBLICATIONS = TypedResource(
    model=FilePublication, body=None, serialize=publication_serializer(_publication_extra), columns=None,
    filters=_publication_filters(), create_mode=None, update_mode=None, delete_mode="sync", unique_fields=(),
    labels=False)
CONTENT = TypedResource(model=FileContent, body=None, serialize=serialize_content, columns=None,
                        filters=CONTENT_FILTERS, create_mode=None, update_mode=None, delete_mode=None,
                        unique_fields=())


def _check_relative_path(value: str) -> str:
    if not PATH.match(value) or any(part in (".", "..") for part in value.split("/")):
        raise ValidationError({"relative_path": [
            "The path must be relative, without leading or trailing '/', empty, '.' or '..' segments."]})
    return value


def actions_router() -> APIRouter:
    router = APIRouter(dependencies=[Depends(require_user)])
    repo_path = "/" + FileRepository.__href_path__

    @router.post(repo_path + "{pk}/sync/")
    async def sync(pk: str, request: Request) -> JSONResponse:
        body = validate(RepositorySyncBody, await read_body(request))
        async with writing(request) as session:
            repository = await get_object(session, FileRepository, pk)
            remote = await resolve_field(session, "remote", body.remote, FileRemote) if body.remote else None
            if remote is None and repository.remote_id is not None:
                remote = await session.get(FileRemote, repository.remote_id)
            if remote is None:
                raise ValidationError({"remote": ["A remote must be specified or set on the repository."]})
            if body.mirror and repository.autopublish:
                raise ValidationError(["Cannot use mirror mode with autopublished repository."])
            return await dispatch_from_request(
                request, SYNCHRONIZE, session=session,
                kwargs={"remote_pk": str(remote.pulp_id), "repository_pk": str(repository.pulp_id),
                        "mirror": body.mirror},
                exclusive=[href(repository)], shared=[href(remote)])

    @router.post(repo_path + "{pk}/modify/")
    async def modify(pk: str, request: Request) -> JSONResponse:
        body = validate(RepositoryAddRemoveContent, await read_body(request))
        if "*" in body.remove_content_units and len(body.remove_content_units) > 1:
            raise ValidationError({"remove_content_units": ["'*' cannot be combined with other content units."]})
        async with writing(request) as session:
            repository = await get_object(session, FileRepository, pk)
            add = [str((await resolve_field(session, "add_content_units", ref, FileContent)).pulp_id)
                   for ref in body.add_content_units]
            remove = ["*"] if body.remove_content_units == ["*"] else [
                str((await resolve_field(session, "remove_content_units", ref, FileContent)).pulp_id)
                for ref in body.remove_content_units]
            base = None
            if body.base_version:
                version = await resolve_version(session, "base_version", body.base_version, FileRepository)
                if version.repository_id != repository.pulp_id:
                    raise ValidationError({"base_version": ["The base version must belong to this repository."]})
                base = version.number
            return await dispatch_from_request(
                request, ADD_AND_REMOVE, session=session,
                kwargs={"repository_pk": str(repository.pulp_id), "add_content_units": add,
                        "remove_content_units": remove, "base_version_number": base, "overwrite": body.overwrite},
                exclusive=[href(repository)])

    @router.post("/" + FilePublication.__href_path__)
    async def publish(request: Request) -> JSONResponse:
        body = validate(PublicationBody, await read_body(request))
        if bool(body.repository) == bool(body.repository_version):
            raise ValidationError({"non_field_errors": [
                "Either the 'repository' or 'repository_version' need to be specified but not both."]})
        async with writing(request) as session:
            if body.repository:
                repository = await resolve_field(session, "repository", body.repository, FileRepository)
                from pulpwood.plugin import latest_version

                version = await latest_version(session, repository.pulp_id)
            else:
                version = await resolve_version(session, "repository_version", body.repository_version, FileRepository)
                repository = await session.get(FileRepository, version.repository_id)
            return await dispatch_from_request(
                request, PUBLISH, session=session,
                kwargs={"repository_version_pk": str(version.pulp_id), "manifest": body.manifest},
                shared=[href(repository)])

    async def _content_source(request: Request, session, raw: dict, body: ContentBody):
        """Validate the one source of bytes; -> (artifact or None, upload or None)."""
        given = [name for name in ("file", "artifact", "upload", "file_url") if raw.get(name) not in (None, "")]
        if len(given) != 1:
            raise ValidationError({"non_field_errors": [
                "Exactly one of 'file', 'artifact', 'upload' or 'file_url' must be provided."]})
        if given == ["file_url"]:
            raise ValidationError({"file_url": ["Creating content from a URL is not supported by this server."]})
        if given == ["file"]:
            if not hasattr(raw["file"], "file"):
                raise ValidationError({"file": ["The submitted data was not a file."]})
            stored = await store_upload(runtime_of(request).storage, raw["file"])
            return await artifact_from_stored(session, stored), None
        if given == ["artifact"]:
            return await resolve_field(session, "artifact", body.artifact, Artifact), None
        return None, await resolve_field(session, "upload", body.upload, Upload)

    @router.post("/" + FileContent.__href_path__)
    async def create_content(request: Request) -> JSONResponse:
        raw = await read_body(request)
        body = validate(ContentBody, {k: v for k, v in raw.items() if k != "file"})
        _check_relative_path(body.relative_path)
        async with writing(request) as session:
            repository = await resolve_field(session, "repository", body.repository, FileRepository)
            artifact, upload = await _content_source(request, session, raw, body)
            return await dispatch_from_request(
                request, CREATE_CONTENT, session=session,
                kwargs={"relative_path": body.relative_path,
                        "artifact_pk": str(artifact.pulp_id) if artifact else None,
                        "upload_pk": str(upload.pulp_id) if upload else None,
                        "repository_pk": str(repository.pulp_id) if repository else None,
                        "overwrite": body.overwrite, "pulp_labels": body.pulp_labels},
                exclusive=[href(repository)] if repository else [],
                shared=[href(artifact)] if artifact else [])

    @router.post("/" + FileContent.__href_path__ + "upload/")
    async def upload_content(request: Request) -> JSONResponse:
        raw = await read_body(request)
        body = validate(ContentBody, {k: v for k, v in raw.items() if k not in ("file", "repository")})
        _check_relative_path(body.relative_path)
        async with writing(request) as session:
            artifact, upload = await _content_source(request, session, raw, body)
            if upload is not None:
                from pulpwood.plugin import upload_to_artifact

                artifact = await upload_to_artifact(session, runtime_of(request).storage, upload.pulp_id, None)
            unit = await save_file_content(session, artifact, body.relative_path, body.pulp_labels)
            content = await session.get(FileContent, unit.pulp_id)
            data = (await serialize_content(session, [content]))[0]
        return JSONResponse(data, status_code=201)

    return router


def file_router() -> APIRouter:
    router = APIRouter()
    # Action routes first: their paths are more specific than the typed detail routes.
    router.include_router(actions_router())
    for resource in (REPOSITORIES, REMOTES, DISTRIBUTIONS, PUBLICATIONS, CONTENT):
        router.include_router(typed_router(resource))
    router.include_router(versions_router(FileRepository))
    return router


__all__ = ["file_router", "href_for"]
