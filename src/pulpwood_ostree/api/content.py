"""`content/ostree/{commits,refs,objects,configs,summaries,content}/`.

All six types are read-only single-file content with labels; `content/ostree/content/`
also accepts POST (202, a task creates or reuses the unit and may add it to a repository).
"""

from __future__ import annotations

from collections import defaultdict

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select

from pulpwood.plugin import (
    Artifact, Body, Content, FilterSet, TypedResource, ValidationError, dispatch_from_request, href,
    href_for, listing, read_body, reading, require_user, resolve_field, typed_router, validate,
    version_filters,
)
from pulpwood.plugin import content_serializer
from pulpwood_ostree.models import (
    OstreeCommit, OstreeCommitObject, OstreeConfig, OstreeContent, OstreeObject, OstreeRef,
    OstreeRepository, OstreeSummary,
)

from pulpwood_ostree.tasks import CREATE_CONTENT_TASK


def _artifact(artifacts: dict, content) -> dict:
    path = getattr(content, "relative_path", None)
    return {"artifact": artifacts.get(path) if path in artifacts else next(iter(artifacts.values()), None),
            "relative_path": path}


def _filters(model, extra: dict | None = None) -> FilterSet:
    return FilterSet(
        filters={**version_filters(model), **(extra or {})},
        ordering={"pulp_created": Content.pulp_created, "pk": Content.pulp_id},
        default_order=[Content.pulp_created.desc(), Content.pulp_id.desc()],
    )


def _checksum_of_commit(v: str):
    return OstreeRef.commit_id.in_(select(OstreeCommit.pulp_id).where(OstreeCommit.checksum == v))


async def _serialize_commits(session, commits: list) -> list[dict]:
    base = content_serializer(lambda c, a: _artifact(a, c))
    items = await base(session, commits)
    ids = [c.pulp_id for c in commits]
    objs: dict = defaultdict(list)
    for start in range(0, len(ids), 500):
        rows = await session.execute(select(OstreeCommitObject.commit_id, OstreeCommitObject.obj_id)
                                     .where(OstreeCommitObject.commit_id.in_(ids[start:start + 500]))
                                     .order_by(OstreeCommitObject.obj_id))
        for commit_id, obj_id in rows.all():
            objs[commit_id].append(href_for(OstreeObject, obj_id))
    for item, commit in zip(items, commits):
        item["checksum"] = commit.checksum
        item["parent_commit"] = href_for(OstreeCommit, commit.parent_commit_id) if commit.parent_commit_id else None
        item["objs"] = objs.get(commit.pulp_id, [])
    return items


async def _serialize_refs(session, refs: list) -> list[dict]:
    base = content_serializer(lambda c, a: _artifact(a, c))
    items = await base(session, refs)
    ids = {r.commit_id for r in refs if r.commit_id}
    checksums = {}
    if ids:
        rows = await session.execute(select(OstreeCommit.pulp_id, OstreeCommit.checksum)
                                     .where(OstreeCommit.pulp_id.in_(ids)))
        checksums = dict(rows.all())
    for item, ref in zip(items, refs):
        item["name"] = ref.name
        item["commit"] = href_for(OstreeCommit, ref.commit_id) if ref.commit_id else None
        item["checksum"] = checksums.get(ref.commit_id)
    return items


def _simple(extra_fields=()):
    def extra(content, artifacts):
        return {**_artifact(artifacts, content), **{name: getattr(content, name) for name in extra_fields}}
    return content_serializer(extra)


class ContentBody(Body):
    artifact: str
    relative_path: str
    digest: str
    repository: str | None = None
    overwrite: bool = True
    pulp_labels: dict[str, str | None] = {}


def _content_resource(model, serialize, filters) -> TypedResource:
    return TypedResource(model=model, body=None, serialize=serialize, columns=None, filters=filters,
                         create_mode=None, update_mode=None, delete_mode=None, unique_fields=())


def content_routers() -> list[APIRouter]:
    routers = [
        typed_router(_content_resource(OstreeCommit, _serialize_commits, _filters(OstreeCommit, {
            "checksum": lambda v: OstreeCommit.checksum == v,
            **listing.href_in(OstreeCommit)}))),
        typed_router(_content_resource(OstreeRef, _serialize_refs, _filters(OstreeRef, {
            **listing.text_lookups("name", OstreeRef.name),
            # An embedded "(?i)" means the same to Python's re (SQLite) and PostgreSQL AREs.
            "name__iregex": lambda v: OstreeRef.name.regexp_match("(?i)" + v),
            "name__regex": lambda v: OstreeRef.name.regexp_match(v),
            "checksum": _checksum_of_commit}))),
        typed_router(_content_resource(OstreeObject, _simple(("checksum", "typ")), _filters(OstreeObject, {
            "checksum": lambda v: OstreeObject.checksum == v}))),
        typed_router(_content_resource(OstreeConfig, _simple(), _filters(OstreeConfig))),
        typed_router(_content_resource(OstreeSummary, _simple(), _filters(OstreeSummary))),
        typed_router(_content_resource(OstreeContent, _simple(("digest",)), _filters(OstreeContent, {
            **listing.text_lookups("relative_path", OstreeContent.relative_path),
            "digest": lambda v: OstreeContent.digest == v}))),
    ]
    router = APIRouter(dependencies=[Depends(require_user)])

    @router.post("/content/ostree/content/")
    async def create_content(request: Request):
        body = validate(ContentBody, await read_body(request))
        relative_path = body.relative_path.strip()
        if not relative_path or relative_path.startswith("/") or ".." in relative_path.split("/"):
            raise ValidationError({"relative_path": ["The relative path must be relative, without '..'."]})
        async with reading(request) as session:
            artifact = await resolve_field(session, "artifact", body.artifact, Artifact, allow_null=False)
            repository = await resolve_field(session, "repository", body.repository, OstreeRepository)
        exclusive = [href(repository)] if repository else []
        return await dispatch_from_request(
            request, CREATE_CONTENT_TASK,
            kwargs={"artifact_pk": str(artifact.pulp_id), "relative_path": relative_path, "digest": body.digest,
                    "repository_pk": str(repository.pulp_id) if repository else None,
                    "pulp_labels": body.pulp_labels},
            exclusive=exclusive, shared=[href(artifact)])

    # The POST route must come before the typed routes of the same path (only GETs there).
    return [router, *routers]
