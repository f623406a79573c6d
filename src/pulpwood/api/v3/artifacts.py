"""`artifacts/`: upload a file directly (multipart), list by digest, read, delete orphans."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from starlette.datastructures import UploadFile

from pulpwood import hrefs
from pulpwood.api import listing
from pulpwood.api.body import read_body
from pulpwood.api.deps import reading, require_user, runtime_of, writing
from pulpwood.api.listing import FilterSet, paginate
from pulpwood.api.responses import JSONResponse, no_content
from pulpwood.api.v3.common import base_fields, get_object
from pulpwood.errors import Conflict, DigestMismatch, ValidationError
from pulpwood.models import Artifact, ContentArtifact, Repository, RepositoryVersion
from pulpwood.models.artifact import ALL_DIGEST_FIELDS
from pulpwood.queries.versions import content_ids_in
from pulpwood.services.artifacts import (
    duplicate_message, find_by_sha256, in_use, orphaned_clause, protection_cutoff, save_artifact, write_stream,
)
from pulpwood.storage.filesystem import DIGESTS

router = APIRouter(dependencies=[Depends(require_user)])


def artifact_json(artifact: Artifact) -> dict:
    return {
        **base_fields(artifact),
        "file": artifact.file,
        "size": artifact.size,
        **{name: getattr(artifact, name) for name in ALL_DIGEST_FIELDS},
    }


async def _serialize(session, rows: list[Artifact]) -> list[dict]:
    return [artifact_json(a) for a in rows]


# -- filters -------------------------------------------------------------------------------

def _in_version(value: str):
    resolved = hrefs.resolve(value)
    if resolved is None or resolved.version_number is None or not issubclass(resolved.model, Repository):
        raise ValidationError({"repository_version": [f"Invalid repository version href: {value}"]})
    exists = select(RepositoryVersion.pulp_id).where(
        RepositoryVersion.repository_id == resolved.pulp_id, RepositoryVersion.number == resolved.version_number,
        RepositoryVersion.complete.is_(True)).exists()
    content = content_ids_in(resolved.pulp_id, resolved.version_number)
    used = select(ContentArtifact.artifact_id).where(ContentArtifact.content_id.in_(content))
    return Artifact.pulp_id.in_(used) & exists


def _orphaned_for(request: Request):
    def build(value: str):
        try:
            minutes = float(value)
            if minutes == -1:
                minutes = runtime_of(request).settings.orphan_protection_time
            return orphaned_clause(protection_cutoff(minutes))
        except (ValueError, OverflowError):
            raise ValidationError({"orphaned_for": ["A valid number is required."]}) from None
    return build


def artifact_filters(request: Request) -> FilterSet:
    digests = {name: (lambda column: lambda v: column == v.lower())(getattr(Artifact, name))
               for name in ALL_DIGEST_FIELDS}
    ordering = {name: getattr(Artifact, name) for name in (
        "pulp_id", "pulp_created", "pulp_last_updated", "file", "size", *ALL_DIGEST_FIELDS, "timestamp_of_interest")}
    return FilterSet(
        filters={**digests, **listing.href_in(Artifact), "repository_version": _in_version,
                 "orphaned_for": _orphaned_for(request)},
        ordering={**ordering, "pk": Artifact.pulp_id},
        default_order=[Artifact.pulp_created.desc(), Artifact.pulp_id.desc()],
    )


# -- endpoints -----------------------------------------------------------------------------

def _expected(body: dict) -> dict:
    """Size and digests the client asked us to verify, checked for shape first."""
    expected: dict = {}
    size = body.get("size")
    if size not in (None, ""):
        try:
            expected["size"] = int(size)
        except (TypeError, ValueError):
            raise ValidationError({"size": ["A valid integer is required."]}) from None
        if expected["size"] < 0:
            raise ValidationError({"size": ["Ensure this value is greater than or equal to 0."]})
    for name in ALL_DIGEST_FIELDS:
        value = body.get(name)
        if value in (None, ""):
            continue
        if not isinstance(value, str):
            raise ValidationError({name: ["Not a valid string."]})
        expected[name] = value.strip().lower()
    return expected


def _mismatch_message(exc: DigestMismatch, expected: dict) -> str:
    text = str(exc)
    if text.startswith("Size"):
        return "The size did not match actual size of file."
    for name in ALL_DIGEST_FIELDS:
        if text.startswith(f"The {name} "):
            return f"The {name} checksum did not match."
    return text


@router.post("/artifacts/", status_code=201)
async def create_artifact(request: Request) -> JSONResponse:
    body = await read_body(request)
    upload = body.get("file")
    if not isinstance(upload, UploadFile):
        raise ValidationError({"file": ["No file was submitted."]})
    expected = _expected(body)
    storage = runtime_of(request).storage
    extra = tuple(name for name in ("md5", "sha1") if name in expected)
    writer = storage.writer((*extra, *DIGESTS))
    try:
        await write_stream(writer, upload.file)
        try:
            writer.verify(expected, "the uploaded file")
        except DigestMismatch as exc:
            raise ValidationError({"non_field_errors": [_mismatch_message(exc, expected)]}) from None
        sha256 = writer.digests()["sha256"]
        async with reading(request) as session:
            if await find_by_sha256(session, sha256) is not None:
                raise ValidationError({"non_field_errors": [duplicate_message(sha256)]})
        stored = writer.commit()
    except BaseException:
        writer.discard()
        raise
    try:
        async with writing(request) as session:
            existing = await find_by_sha256(session, sha256)
            if existing is not None:  # a concurrent upload of the same bytes won
                raise ValidationError({"non_field_errors": [duplicate_message(sha256)]})
            artifact = await save_artifact(session, stored)
    except IntegrityError:
        raise ValidationError({"non_field_errors": [duplicate_message(sha256)]}) from None
    return JSONResponse(artifact_json(artifact), status_code=201)


@router.get("/artifacts/")
async def list_artifacts(request: Request) -> JSONResponse:
    async with reading(request) as session:
        stmt = artifact_filters(request).apply(select(Artifact), request)
        return await paginate(session, request, stmt, _serialize)


@router.get("/artifacts/{pk}/")
async def read_artifact(pk: str, request: Request) -> JSONResponse:
    async with reading(request) as session:
        artifact = await get_object(session, Artifact, pk)
        return JSONResponse(listing.trim_fields(artifact_json(artifact), request))


@router.delete("/artifacts/{pk}/")
async def delete_artifact(pk: str, request: Request):
    async with writing(request) as session:
        artifact = await get_object(session, Artifact, pk)
        if await in_use(session, artifact.pulp_id):
            raise Conflict({"detail": "The Artifact cannot be deleted because it is associated with Content."})
        name = artifact.file
        await session.delete(artifact)
    # The row is gone for good (committed) before the file goes.
    runtime_of(request).storage.delete(name)
    return no_content()
