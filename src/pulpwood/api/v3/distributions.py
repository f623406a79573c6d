"""Distributions: common body and JSON, base-path overlap rules, the generic list."""

from __future__ import annotations

import re
from typing import Any, ClassVar

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select

from pulpwood import hrefs
from pulpwood.api import listing
from pulpwood.api.deps import reading, require_user
from pulpwood.api.listing import FilterSet, paginate
from pulpwood.api.responses import JSONResponse, iso
from pulpwood.api.v3.common import base_fields, check_labels, resolve_field, resolve_version
from pulpwood.api.v3.repositories import polymorphic_hrefs
from pulpwood.api.validation import Body
from pulpwood.errors import ValidationError
from pulpwood.models import Distribution, Publication, Repository, RepositoryVersion
from pulpwood.settings import Settings

router = APIRouter(dependencies=[Depends(require_user)])
BASE_PATH = re.compile(r"^[^/][\w./-]*$")


class DistributionBody(Body):
    # A PATCH writes only the columns behind the fields the client sent.
    column_aliases: ClassVar[dict] = {"repository": "repository_id", "repository_version": "repository_version_id",
                                      "publication": "publication_id"}

    name: str
    base_path: str
    pulp_labels: dict[str, str | None] = {}
    hidden: bool = False
    content_guard: str | None = None
    repository: str | None = None
    repository_version: str | None = None
    publication: str | None = None
    checkpoint: bool = False


def distribution_columns(repository_model=Repository, publication_model=None):
    async def columns(session, body: DistributionBody, current) -> dict[str, Any]:
        base_path = body.base_path.strip()
        if not base_path or base_path.startswith("/") or ".." in base_path.split("/") or "//" in base_path:
            raise ValidationError({"base_path": ["Base path must be relative, without '..' or empty segments."]})
        base_path = base_path.rstrip("/")
        chosen = [name for name in ("repository", "repository_version", "publication") if getattr(body, name)]
        if len(chosen) > 1:
            raise ValidationError({"non_field_errors": [
                "Only one of the attributes 'repository', 'repository_version' and 'publication' may be used simultaneously."]})
        repository = await resolve_field(session, "repository", body.repository, repository_model)
        version = await resolve_version(session, "repository_version", body.repository_version, repository_model)
        publication = None
        if body.publication:
            if publication_model is None:
                raise ValidationError({"publication": ["This distribution type does not serve publications."]})
            publication = await resolve_field(session, "publication", body.publication, publication_model)
        if body.checkpoint and not repository:
            raise ValidationError({"checkpoint": ["A checkpoint distribution must have a repository."]})
        return {
            "name": body.name,
            "base_path": base_path,
            "pulp_labels": check_labels(body.pulp_labels),
            "hidden": body.hidden,
            "repository_id": repository.pulp_id if repository else None,
            "repository_version_id": version.pulp_id if version else None,
            "publication_id": publication.pulp_id if publication else None,
            "checkpoint": body.checkpoint,
        }
    return columns


async def check_base_path(session, values: dict, current) -> None:
    """A base path may not equal, contain or sit inside another distribution's."""
    base_path = values.get("base_path")
    if base_path is None:
        return
    rows = await session.execute(select(Distribution.pulp_id, Distribution.base_path))
    for pulp_id, other in rows.all():
        if current is not None and pulp_id == current.pulp_id:
            continue
        if other == base_path or other.startswith(base_path + "/") or base_path.startswith(other + "/"):
            raise ValidationError({"base_path": ["Overlaps with an existing distribution."]})


def base_url(settings: Settings, distribution: Distribution) -> str:
    origin = (settings.content_origin or "").rstrip("/")
    return f"{origin}{settings.content_path_prefix}{distribution.base_path}/"


def distribution_serializer(settings_getter, extra=None, with_publication: bool = False):
    async def serialize(session, distributions: list) -> list[dict]:
        settings = settings_getter()
        repos = await polymorphic_hrefs(session, Repository, [d.repository_id for d in distributions])
        pubs = await polymorphic_hrefs(session, Publication, [d.publication_id for d in distributions])
        version_ids = {d.repository_version_id for d in distributions if d.repository_version_id}
        versions = {}
        if version_ids:
            rows = await session.execute(select(RepositoryVersion.pulp_id, RepositoryVersion.repository_id,
                                                RepositoryVersion.number).where(RepositoryVersion.pulp_id.in_(version_ids)))
            rows = rows.all()
            repo_hrefs = await polymorphic_hrefs(session, Repository, [r[1] for r in rows])
            versions = {vid: f"{repo_hrefs[rid]}versions/{n}/" for vid, rid, n in rows if rid in repo_hrefs}
        items = []
        for d in distributions:
            item = {
                **base_fields(d),
                "base_path": d.base_path,
                "base_url": base_url(settings, d),
                "content_guard": None,
                "content_guard_prn": None,
                "hidden": d.hidden,
                "pulp_labels": d.pulp_labels or {},
                "name": d.name,
                "repository": repos.get(d.repository_id),
                "repository_version": versions.get(d.repository_version_id),
                "checkpoint": d.checkpoint,
                "no_content_change_since": iso(d.pulp_last_updated) if (d.publication_id or d.repository_version_id) else None,
            }
            if with_publication:
                item["publication"] = pubs.get(d.publication_id)
            if extra:
                item.update(extra(d))
            items.append(item)
        return items
    return serialize


def distribution_locks(distribution) -> list[str]:
    return [hrefs.href(distribution)]


DISTRIBUTION_FILTERS = FilterSet(
    filters={
        **listing.text_lookups("name", Distribution.name),
        **listing.text_lookups("base_path", Distribution.base_path),
        **listing.href_in(Distribution),
        "pulp_label_select": listing.label_select(Distribution.pulp_labels),
        "repository": listing.fk_filter("repository", Distribution.repository_id, Repository),
        "repository__in": lambda v: Distribution.repository_id.in_(
            [hrefs.resolve(x).pulp_id for x in listing._split([v]) if hrefs.resolve(x)]),
        "pulp_type": lambda v: Distribution.pulp_type == v,
        "pulp_type__in": lambda v: Distribution.pulp_type.in_(listing._split([v])),
        "checkpoint": listing.bool_lookup(Distribution.checkpoint),
    },
    ordering={"name": Distribution.name, "base_path": Distribution.base_path, "pulp_created": Distribution.pulp_created,
              "pk": Distribution.pulp_id},
    default_order=[Distribution.pulp_created.desc(), Distribution.pulp_id.desc()],
)


@router.get("/distributions/")
async def list_distributions(request: Request) -> JSONResponse:
    from pulpwood.api.deps import runtime_of

    async with reading(request) as session:
        stmt = DISTRIBUTION_FILTERS.apply(select(Distribution), request)
        return await paginate(session, request, stmt,
                              distribution_serializer(lambda: runtime_of(request).settings, with_publication=True))
