"""Content: common JSON and filters shared by every content type, and the generic list."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select

from pulpwood import hrefs
from pulpwood.api import listing
from pulpwood.api.deps import reading, require_user
from pulpwood.api.listing import FilterSet, paginate
from pulpwood.api.responses import JSONResponse
from pulpwood.api.v3.common import base_fields
from pulpwood.errors import ValidationError
from pulpwood.models import Artifact, Content, ContentArtifact, Repository, RepositoryVersion
from pulpwood.queries.versions import content_ids_added, content_ids_in, content_ids_removed

router = APIRouter(dependencies=[Depends(require_user)])


def _version_ref(value: str, name: str) -> tuple:
    resolved = hrefs.resolve(value)
    if resolved is None or resolved.version_number is None or not issubclass(resolved.model, Repository):
        raise ValidationError({name: [f"Invalid repository version href: {value}"]})
    return resolved.pulp_id, resolved.version_number


def _checked_version(name: str, build):
    """Filters that name a repository version fail with 400 when it does not exist."""
    def factory(value: str):
        repository_id, number = _version_ref(value, name)
        exists = select(RepositoryVersion.pulp_id).where(
            RepositoryVersion.repository_id == repository_id, RepositoryVersion.number == number,
            RepositoryVersion.complete.is_(True))
        return Content.pulp_id.in_(build(repository_id, number)) & exists.exists()
    return factory


def version_filters(model=Content) -> dict:
    return {
        "repository_version": _checked_version("repository_version", content_ids_in),
        "repository_version_added": _checked_version("repository_version_added", content_ids_added),
        "repository_version_removed": _checked_version("repository_version_removed", content_ids_removed),
        **listing.href_in(Content),
        "pulp_label_select": listing.label_select(Content.pulp_labels),
        **listing.datetime_lookups("pulp_created", Content.pulp_created),
    }


CONTENT_FILTERS = FilterSet(
    filters={
        **version_filters(),
        "pulp_type": lambda v: Content.pulp_type == v,
        "pulp_type__in": lambda v: Content.pulp_type.in_(listing._split([v])),
    },
    ordering={"pulp_created": Content.pulp_created, "pk": Content.pulp_id, "pulp_type": Content.pulp_type},
    default_order=[Content.pulp_created.desc(), Content.pulp_id.desc()],
)


async def artifact_maps(session, contents: list) -> dict:
    """content id -> {relative_path: artifact href or None}, in one query."""
    ids = [c.pulp_id for c in contents]
    out: dict = {i: {} for i in ids}
    if not ids:
        return out
    for batch_start in range(0, len(ids), 500):
        batch = ids[batch_start:batch_start + 500]
        rows = await session.execute(select(ContentArtifact.content_id, ContentArtifact.relative_path,
                                            ContentArtifact.artifact_id).where(ContentArtifact.content_id.in_(batch)))
        for content_id, path, artifact_id in rows.all():
            out[content_id][path] = hrefs.href_for(Artifact, artifact_id) if artifact_id else None
    return out


def content_fields(content: Content) -> dict:
    return {**base_fields(content), "pulp_labels": content.pulp_labels or {},
            "vuln_report": f"{hrefs.v3_root()}vuln_report/?content={hrefs.prn(content)}"}


def content_serializer(extra):
    """Serializer for one content type: common fields plus `extra(content, artifacts) -> dict`."""
    async def serialize(session, contents: list) -> list[dict]:
        artifacts = await artifact_maps(session, contents)
        return [{**content_fields(c), **extra(c, artifacts.get(c.pulp_id, {}))} for c in contents]
    return serialize


@router.get("/content/")
async def list_content(request: Request) -> JSONResponse:
    async with reading(request) as session:
        stmt = CONTENT_FILTERS.apply(select(Content), request)

        async def many(s, rows):
            artifacts = await artifact_maps(s, rows)
            return [{**content_fields(c), "artifacts": artifacts.get(c.pulp_id, {})} for c in rows]
        return await paginate(session, request, stmt, many)
