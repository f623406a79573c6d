"""Publications: common JSON and the generic list."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select

from pulpwood.api import listing
from pulpwood.api.deps import reading, require_user
from pulpwood.api.listing import FilterSet, paginate
from pulpwood.api.responses import JSONResponse
from pulpwood.api.v3.common import base_fields
from pulpwood.api.v3.repositories import polymorphic_hrefs
from pulpwood.models import Publication, Repository, RepositoryVersion

router = APIRouter(dependencies=[Depends(require_user)])


async def publication_fields(session, publications: list) -> list[dict]:
    version_ids = {p.repository_version_id for p in publications}
    rows = (await session.execute(select(RepositoryVersion.pulp_id, RepositoryVersion.repository_id,
                                         RepositoryVersion.number).where(RepositoryVersion.pulp_id.in_(version_ids)))).all()
    repos = await polymorphic_hrefs(session, Repository, [r[1] for r in rows])
    versions = {vid: (repos.get(rid), n) for vid, rid, n in rows}
    items = []
    for p in publications:
        repo_href, number = versions.get(p.repository_version_id, (None, None))
        items.append({
            **base_fields(p),
            "repository_version": f"{repo_href}versions/{number}/" if repo_href else None,
            "repository": repo_href,
            "checkpoint": p.checkpoint,
        })
    return items


def publication_serializer(extra=None):
    async def serialize(session, publications: list) -> list[dict]:
        items = await publication_fields(session, publications)
        if extra:
            for item, p in zip(items, publications):
                item.update(await extra(session, p))
        return items
    return serialize


PUBLICATION_FILTERS = FilterSet(
    filters={
        **listing.href_in(Publication),
        **listing.datetime_lookups("pulp_created", Publication.pulp_created),
        "pulp_type": lambda v: Publication.pulp_type == v,
        "pulp_type__in": lambda v: Publication.pulp_type.in_(listing._split([v])),
    },
    ordering={"pulp_created": Publication.pulp_created, "pk": Publication.pulp_id},
    default_order=[Publication.pulp_created.desc(), Publication.pulp_id.desc()],
)


@router.get("/publications/")
async def list_publications(request: Request) -> JSONResponse:
    async with reading(request) as session:
        stmt = PUBLICATION_FILTERS.apply(select(Publication).where(Publication.complete.is_(True)), request)
        return await paginate(session, request, stmt, publication_serializer())
