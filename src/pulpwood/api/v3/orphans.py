"""`orphans/cleanup/`, `repositories/reclaim_space/` and `repair/`: housekeeping as tasks."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select

from pulpwood import hrefs
from pulpwood.api.body import decode_form_value, read_body
from pulpwood.api.deps import reading, require_user
from pulpwood.api.dispatching import dispatch_from_request
from pulpwood.api.responses import JSONResponse
from pulpwood.errors import ValidationError
from pulpwood.models import Content, Repository, RepositoryVersion
from pulpwood.services.orphans import ORPHAN_CLEANUP, ORPHANS_RESOURCE, RECLAIM_SPACE
from pulpwood.services.repair import REPAIR_ALL

router = APIRouter(dependencies=[Depends(require_user)])
MAX_PROTECTION = 4294967295


def _list_field(body: dict, name: str, *, required: bool = False) -> list | None:
    value = decode_form_value(body.get(name), "list")
    if value is None or value == "":
        if required:
            raise ValidationError({name: ["This field is required."]})
        return None
    if isinstance(value, str):
        value = [value]  # a single form value
    if not isinstance(value, list):
        raise ValidationError({name: ['Expected a list of items but got type "%s".' % type(value).__name__]})
    return value


async def _content_pks(session, values: list) -> list[str]:
    pks = []
    for value in values:
        resolved = hrefs.resolve(value) if isinstance(value, str) else None
        if resolved is None or not issubclass(resolved.model, Content) or resolved.version_number is not None:
            raise ValidationError({"content_hrefs": [f"Could not find the following content units: {[value]}"]})
        obj = await session.get(Content, resolved.pulp_id)
        if obj is None:
            raise ValidationError({"content_hrefs": [f"Could not find the following content units: {[value]}"]})
        pks.append(str(resolved.pulp_id))
    return pks


def _protection_time(body: dict) -> int | None:
    raw = body.get("orphan_protection_time")
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool) or isinstance(raw, float) and not raw.is_integer():
        raise ValidationError({"orphan_protection_time": ["A valid integer is required."]})
    try:
        minutes = int(raw)
    except (TypeError, ValueError):
        raise ValidationError({"orphan_protection_time": ["A valid integer is required."]}) from None
    if minutes < 0:
        raise ValidationError({"orphan_protection_time": ["Ensure this value is greater than or equal to 0."]})
    if minutes > MAX_PROTECTION:
        raise ValidationError({"orphan_protection_time": [f"Ensure this value is less than or equal to {MAX_PROTECTION}."]})
    return minutes


async def _cleanup(request: Request, body: dict) -> JSONResponse:
    hrefs_given = _list_field(body, "content_hrefs")
    minutes = _protection_time(body)
    content_pks = None
    if hrefs_given is not None:
        async with reading(request) as session:
            content_pks = await _content_pks(session, hrefs_given)
    return await dispatch_from_request(
        request, ORPHAN_CLEANUP, kwargs={"content_pks": content_pks, "orphan_protection_time": minutes},
        exclusive=[ORPHANS_RESOURCE])


@router.post("/orphans/cleanup/")
async def orphans_cleanup(request: Request) -> JSONResponse:
    return await _cleanup(request, await read_body(request))


@router.delete("/orphans/")
async def orphans_delete(request: Request) -> JSONResponse:
    """Legacy: delete every orphan regardless of age."""
    return await _cleanup(request, {"orphan_protection_time": 0})


@router.post("/repositories/reclaim_space/")
async def reclaim_space(request: Request) -> JSONResponse:
    body = await read_body(request)
    repo_hrefs = _list_field(body, "repo_hrefs", required=True)
    keeplist = _list_field(body, "repo_versions_keeplist") or []
    async with reading(request) as session:
        repositories: list[Repository] | None = None
        if repo_hrefs != ["*"]:
            if not repo_hrefs:
                raise ValidationError({"repo_hrefs": ["This list may not be empty."]})
            repositories = []
            for value in repo_hrefs:
                resolved = hrefs.resolve(value) if isinstance(value, str) else None
                repo = None
                if resolved is not None and resolved.version_number is None and issubclass(resolved.model, Repository):
                    repo = await session.get(Repository, resolved.pulp_id)
                if repo is None:
                    raise ValidationError({"repo_hrefs": [f"Invalid repository href: {value}"]})
                repositories.append(repo)
        keep_pks = []
        for value in keeplist:
            resolved = hrefs.resolve(value) if isinstance(value, str) else None
            version = None
            if resolved is not None and resolved.version_number is not None:
                version = await session.scalar(select(RepositoryVersion.pulp_id).where(
                    RepositoryVersion.repository_id == resolved.pulp_id,
                    RepositoryVersion.number == resolved.version_number))
            if version is None:
                raise ValidationError({"repo_versions_keeplist": [f"Invalid repository version href: {value}"]})
            keep_pks.append(str(version))
    if repositories is None:
        exclusive = [ORPHANS_RESOURCE]
        repo_pks = None
    else:
        exclusive = [hrefs.href(r) for r in repositories]
        repo_pks = [str(r.pulp_id) for r in repositories]
    return await dispatch_from_request(request, RECLAIM_SPACE,
                                       kwargs={"repo_pks": repo_pks, "keeplist_pks": keep_pks}, exclusive=exclusive)


@router.post("/repair/")
async def repair_all(request: Request) -> JSONResponse:
    body = await read_body(request)
    verify = decode_form_value(body.get("verify_checksums", True), "bool")
    if not isinstance(verify, bool):
        raise ValidationError({"verify_checksums": ["Must be a valid boolean."]})
    return await dispatch_from_request(request, REPAIR_ALL, kwargs={"verify_checksums": verify},
                                       exclusive=[ORPHANS_RESOURCE])
