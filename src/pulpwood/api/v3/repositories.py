"""Repositories: the common body and JSON, the generic list, and version endpoints."""

from __future__ import annotations

from typing import Any, ClassVar

from fastapi import APIRouter, Depends, Request
from pydantic import Field
from sqlalchemy import select

from pulpwood import hrefs
from pulpwood.api import listing
from pulpwood.api.body import read_body
from pulpwood.api.deps import reading, require_user
from pulpwood.api.dispatching import dispatch_from_request
from pulpwood.api.listing import FilterSet, paginate
from pulpwood.api.responses import JSONResponse
from pulpwood.api.v3.common import base_fields, check_labels, get_object, resolve_field
from pulpwood.api.validation import Body
from pulpwood.errors import NotFound
from pulpwood.models import Content, Remote, Repository, RepositoryContent, RepositoryVersion
from pulpwood.queries.versions import latest_numbers
from pulpwood.services.tasks import DELETE_VERSION, REPAIR_VERSION
from pulpwood.services.versions import content_summary, create_repository

router = APIRouter(dependencies=[Depends(require_user)])


class RepositoryBody(Body):
    column_aliases: ClassVar[dict] = {"remote": "remote_id"}

    name: str
    description: str | None = None
    retain_repo_versions: int | None = Field(default=None, ge=1)
    retain_checkpoints: int | None = Field(default=None, ge=1)
    remote: str | None = None
    pulp_labels: dict[str, str | None] = {}


class RepositorySyncBody(Body):
    """`POST {repo}sync/` (Pulp's RepositorySyncURL)."""

    remote: str | None = None
    mirror: bool = False


class RepositoryAddRemoveContent(Body):
    """`POST {repo}modify/`: removals apply before additions, from `base_version` if given."""

    add_content_units: list[str] = []
    remove_content_units: list[str] = []
    base_version: str | None = None
    overwrite: bool = True


def repository_columns(remote_model=Remote):
    async def columns(session, body: RepositoryBody, current) -> dict[str, Any]:
        remote = await resolve_field(session, "remote", body.remote, remote_model) if body.remote else None
        values = {
            "name": body.name,
            "description": body.description,
            "retain_repo_versions": body.retain_repo_versions,
            "retain_checkpoints": body.retain_checkpoints,
            "remote_id": remote.pulp_id if remote else None,
            "pulp_labels": check_labels(body.pulp_labels),
        }
        for name in type(body).model_fields:
            if name not in RepositoryBody.model_fields and name not in values:
                values[name] = getattr(body, name)
        return values
    return columns


async def polymorphic_hrefs(session, master, ids) -> dict:
    """pulp_id -> href for rows of a polymorphic master table, in one query."""
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    rows = await session.execute(select(master.pulp_id, master.pulp_type).where(master.pulp_id.in_(ids)))
    mapping = master.__mapper__.polymorphic_map
    return {pid: hrefs.href_for(mapping[ptype].class_, pid) for pid, ptype in rows.all() if ptype in mapping}


async def repository_fields(session, repositories: list[Repository]) -> list[dict]:
    latest = await latest_numbers(session, [r.pulp_id for r in repositories])
    remotes = await polymorphic_hrefs(session, Remote, [r.remote_id for r in repositories])
    items = []
    for repo in repositories:
        href = hrefs.href(repo)
        number = latest.get(repo.pulp_id, 0)
        items.append({
            **base_fields(repo),
            "versions_href": f"{href}versions/",
            "pulp_labels": repo.pulp_labels or {},
            "latest_version_href": f"{href}versions/{number}/",
            "name": repo.name,
            "description": repo.description,
            "retain_repo_versions": repo.retain_repo_versions,
            "retain_checkpoints": repo.retain_checkpoints,
            "remote": remotes.get(repo.remote_id),
        })
    return items


def repository_serializer(extra=None):
    """Serializer for one repository type; `extra(repo) -> dict` adds the plugin's fields."""
    async def serialize(session, repositories: list) -> list[dict]:
        items = await repository_fields(session, repositories)
        if extra:
            for item, repo in zip(items, repositories):
                item.update(extra(repo))
        return items
    return serialize


REPOSITORY_FILTERS = FilterSet(
    filters={
        **listing.text_lookups("name", Repository.name),
        **listing.href_in(Repository),
        "pulp_label_select": listing.label_select(Repository.pulp_labels),
        "remote": listing.fk_filter("remote", Repository.remote_id, Remote),
        "retain_repo_versions": lambda v: Repository.retain_repo_versions == int(v),
        "pulp_type": lambda v: Repository.pulp_type == v,
        "pulp_type__in": lambda v: Repository.pulp_type.in_(listing._split([v])),
        **listing.datetime_lookups("pulp_created", Repository.pulp_created),
    },
    ordering={"name": Repository.name, "pulp_created": Repository.pulp_created, "pk": Repository.pulp_id,
              "description": Repository.description, "pulp_last_updated": Repository.pulp_last_updated},
    default_order=[Repository.pulp_created.desc(), Repository.pulp_id.desc()],
)


async def after_create(session, repository) -> None:
    """Version 0 is made with the repository."""
    repository.next_version = 0
    await session.flush()
    from pulpwood.models import RepositoryVersion as RV

    session.add(RV(repository_id=repository.pulp_id, number=0, complete=True,
                   content_counts={"added": {}, "removed": {}, "present": {}}))
    repository.next_version = 1
    await session.flush()


# -- generic list ------------------------------------------------------------------------

async def serialize_any(session, repositories: list) -> list[dict]:
    return await repository_fields(session, repositories)


@router.get("/repositories/")
async def list_repositories(request: Request) -> JSONResponse:
    async with reading(request) as session:
        stmt = REPOSITORY_FILTERS.apply(select(Repository).where(Repository.user_hidden.is_(False)), request)
        return await paginate(session, request, stmt, serialize_any)


# -- versions ------------------------------------------------------------------------------

def version_json(repository, version: RepositoryVersion, type_paths: dict[str, str]) -> dict:
    repo_href = hrefs.href(repository)
    href = f"{repo_href}versions/{version.number}/"
    base_href = None
    return {
        "pulp_href": href,
        "prn": f"prn:core.repositoryversion:{version.pulp_id}",
        "pulp_created": _iso(version.pulp_created),
        "pulp_last_updated": _iso(version.pulp_last_updated),
        "number": version.number,
        "repository": repo_href,
        "base_version": base_href,
        "content_summary": content_summary(repo_href, href, version.content_counts or {}, type_paths),
        "vuln_report": f"{hrefs.v3_root()}vuln_report/?repo_versions=prn:core.repositoryversion:{version.pulp_id}",
    }


def _iso(value):
    from pulpwood.api.responses import iso

    return iso(value)


def content_type_paths() -> dict[str, str]:
    """pulp_type -> content list href, for every content model of every plugin."""
    from pulpwood.db.base import Base

    paths = {}
    for mapper in Base.registry.mappers:
        cls = mapper.class_
        if issubclass(cls, Content) and not mapper.polymorphic_abstract and mapper.polymorphic_identity:
            paths[mapper.polymorphic_identity] = hrefs.collection_href(cls)
    return paths


def version_filters() -> FilterSet:
    def content_clause(v: str):
        resolved = hrefs.resolve(v)
        if resolved is None:
            raise listing.invalid(f"Invalid content href: {v}")
        rc = RepositoryContent
        return RepositoryVersion.pulp_id.in_(
            select(RepositoryVersion.pulp_id).join(rc, rc.repository_id == RepositoryVersion.repository_id)
            .where(rc.content_id == resolved.pulp_id, rc.version_added <= RepositoryVersion.number,
                   (rc.version_removed.is_(None)) | (rc.version_removed > RepositoryVersion.number)))

    return FilterSet(
        filters={**listing.int_lookups("number", RepositoryVersion.number),
                 **listing.datetime_lookups("pulp_created", RepositoryVersion.pulp_created),
                 "content": content_clause,
                 "content__in": lambda v: listing.any_of(*[content_clause(x) for x in listing._split([v])]),
                 **listing.href_in(RepositoryVersion)},
        ordering={"number": RepositoryVersion.number, "pulp_created": RepositoryVersion.pulp_created,
                  "pk": RepositoryVersion.pulp_id},
        default_order=[RepositoryVersion.number.desc()],
    )


def versions_router(repository_model) -> APIRouter:
    """`{repo}versions/`, `{repo}versions/<n>/` (read, delete) and `repair/` for one type."""
    vrouter = APIRouter(dependencies=[Depends(require_user)])
    path = "/" + repository_model.__href_path__
    filters = version_filters()

    async def _version(session, pk: str, number: int):
        repository = await get_object(session, repository_model, pk)
        version = await session.scalar(select(RepositoryVersion).where(
            RepositoryVersion.repository_id == repository.pulp_id, RepositoryVersion.number == number,
            RepositoryVersion.complete.is_(True)))
        if version is None:
            raise NotFound("No RepositoryVersion matches the given query.")
        return repository, version

    @vrouter.get(path + "{pk}/versions/")
    async def list_versions(pk: str, request: Request) -> JSONResponse:
        async with reading(request) as session:
            repository = await get_object(session, repository_model, pk)
            stmt = filters.apply(select(RepositoryVersion).where(
                RepositoryVersion.repository_id == repository.pulp_id, RepositoryVersion.complete.is_(True)), request)
            paths = content_type_paths()

            async def many(s, rows):
                return [version_json(repository, v, paths) for v in rows]
            return await paginate(session, request, stmt, many)

    @vrouter.get(path + "{pk}/versions/{number}/")
    async def read_version(pk: str, number: int, request: Request) -> JSONResponse:
        async with reading(request) as session:
            repository, version = await _version(session, pk, number)
            return JSONResponse(listing.trim_fields(version_json(repository, version, content_type_paths()), request))

    @vrouter.delete(path + "{pk}/versions/{number}/")
    async def delete_version(pk: str, number: int, request: Request) -> JSONResponse:
        async with reading(request) as session:
            repository, version = await _version(session, pk, number)
        return await dispatch_from_request(request, DELETE_VERSION, kwargs={"pk": str(version.pulp_id)},
                                           exclusive=[hrefs.href(repository)])

    @vrouter.post(path + "{pk}/versions/{number}/repair/")
    async def repair_version(pk: str, number: int, request: Request) -> JSONResponse:
        body = await read_body(request)
        async with reading(request) as session:
            repository, version = await _version(session, pk, number)
        return await dispatch_from_request(
            request, REPAIR_VERSION,
            kwargs={"pk": str(version.pulp_id), "verify_checksums": _verify_flag(body)},
            shared=[hrefs.href(repository)])

    return vrouter


def _verify_flag(body: dict) -> bool:
    from pulpwood.api.body import decode_form_value
    from pulpwood.errors import ValidationError

    value = decode_form_value(body.get("verify_checksums", True), "bool")
    if not isinstance(value, bool):
        raise ValidationError({"verify_checksums": ["Must be a valid boolean."]})
    return value


@router.get("/repository_versions/")
async def list_all_versions(request: Request) -> JSONResponse:
    async with reading(request) as session:
        stmt = version_filters().apply(select(RepositoryVersion).where(RepositoryVersion.complete.is_(True)), request)
        paths = content_type_paths()

        async def many(s, rows):
            repos = {r.pulp_id: r for r in await s.scalars(select(Repository).where(
                Repository.pulp_id.in_({v.repository_id for v in rows})))}
            return [version_json(repos[v.repository_id], v, paths) for v in rows]
        return await paginate(session, request, stmt, many)


__all__ = ["RepositoryBody", "create_repository"]
