"""`uploads/`: chunked uploads — create, PUT chunks with Content-Range, commit into an artifact."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select
from starlette.datastructures import UploadFile

from pulpwood import hrefs
from pulpwood.api import listing
from pulpwood.api.body import read_body
from pulpwood.api.deps import reading, require_user, runtime_of, writing
from pulpwood.api.dispatching import dispatch_from_request
from pulpwood.api.listing import FilterSet, paginate
from pulpwood.api.responses import JSONResponse, iso, no_content
from pulpwood.api.v3.common import base_fields, get_object
from pulpwood.errors import ValidationError
from pulpwood.models import Upload, UploadChunk
from pulpwood.services.uploads import UPLOAD_COMMIT, remove_upload_files, store_chunk

router = APIRouter(dependencies=[Depends(require_user)])

UPLOAD_FILTERS = FilterSet(
    filters={
        "size": lambda v: Upload.size == _int(v, "size"),
        "size__gt": lambda v: Upload.size > _int(v, "size__gt"),
        "size__lt": lambda v: Upload.size < _int(v, "size__lt"),
        "size__range": lambda v: Upload.size.between(*[_int(p, "size__range") for p in (v.split(",") + ["", ""])[:2]]),
        **listing.href_in(Upload),
    },
    ordering={"pulp_created": Upload.pulp_created, "pk": Upload.pulp_id, "size": Upload.size},
    default_order=[Upload.pulp_created.desc(), Upload.pulp_id.desc()],
)


MAX_SIZE = 2**63 - 1  # a BIGINT column


def _int(value: str, name: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise ValidationError({name: ["Enter a number."]}) from None
    if abs(number) > MAX_SIZE:
        raise ValidationError({name: ["Enter a number."]})
    return number


def upload_json(upload: Upload, chunks: list[UploadChunk] | None = None) -> dict:
    data = {**base_fields(upload), "size": upload.size}
    if upload.completed:
        data["completed"] = iso(upload.pulp_last_updated)
    if chunks is not None:
        data["chunks"] = [{"offset": c.offset, "size": c.size} for c in chunks]
    return data


async def _chunks(session, upload: Upload) -> list[UploadChunk]:
    return list(await session.scalars(
        select(UploadChunk).where(UploadChunk.upload_id == upload.pulp_id).order_by(UploadChunk.offset)))


@router.post("/uploads/", status_code=201)
async def create_upload(request: Request) -> JSONResponse:
    body = await read_body(request)
    raw = body.get("size")
    if raw is None or raw == "":
        raise ValidationError({"size": ["This field is required."]})
    if isinstance(raw, bool) or not isinstance(raw, (int, str)):
        raise ValidationError({"size": ["A valid integer is required."]})
    try:
        size = int(raw)
    except ValueError:
        raise ValidationError({"size": ["A valid integer is required."]}) from None
    if size < 0:
        raise ValidationError({"size": ["Ensure this value is greater than or equal to 0."]})
    if size > MAX_SIZE:
        raise ValidationError({"size": [f"Ensure this value is less than or equal to {MAX_SIZE}."]})
    async with writing(request) as session:
        upload = Upload(size=size)
        session.add(upload)
        await session.flush()
    return JSONResponse(upload_json(upload), status_code=201)


@router.get("/uploads/")
async def list_uploads(request: Request) -> JSONResponse:
    async with reading(request) as session:
        stmt = UPLOAD_FILTERS.apply(select(Upload), request)

        async def many(s, rows):
            return [upload_json(u) for u in rows]
        return await paginate(session, request, stmt, many)


@router.get("/uploads/{pk}/")
async def read_upload(pk: str, request: Request) -> JSONResponse:
    async with reading(request) as session:
        upload = await get_object(session, Upload, pk)
        return JSONResponse(listing.trim_fields(upload_json(upload, await _chunks(session, upload)), request))


@router.put("/uploads/{pk}/")
async def upload_chunk(pk: str, request: Request) -> JSONResponse:
    body = await read_body(request)
    source = body.get("file")
    async with writing(request) as session:
        upload = await get_object(session, Upload, pk)
        if not isinstance(source, UploadFile):
            raise ValidationError({"file": ["No file was submitted."]})
        sha256 = body.get("sha256")
        if sha256 is not None and not isinstance(sha256, str):
            raise ValidationError({"sha256": ["Not a valid string."]})
        await store_chunk(session, runtime_of(request).storage, upload, request.headers.get("content-range"),
                          source.file, sha256)
        await session.flush()
        data = upload_json(upload)
    return JSONResponse(data)


@router.delete("/uploads/{pk}/")
async def delete_upload(pk: str, request: Request):
    async with writing(request) as session:
        upload = await get_object(session, Upload, pk)
        upload_id = upload.pulp_id
        await session.delete(upload)
    remove_upload_files(runtime_of(request).storage, upload_id)
    return no_content()


@router.post("/uploads/{pk}/commit/")
async def commit_upload(pk: str, request: Request) -> JSONResponse:
    body = await read_body(request)
    sha256 = body.get("sha256")
    if sha256 is None or sha256 == "":
        raise ValidationError({"sha256": ["This field is required."]})
    if not isinstance(sha256, str):
        raise ValidationError({"sha256": ["Not a valid string."]})
    async with reading(request) as session:
        upload = await get_object(session, Upload, pk)
    return await dispatch_from_request(request, UPLOAD_COMMIT,
                                       kwargs={"upload_id": str(upload.pulp_id), "sha256": sha256},
                                       exclusive=[hrefs.href(upload)])
