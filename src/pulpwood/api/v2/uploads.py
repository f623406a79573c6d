"""`/v2/content/uploads/` and `actions/import_upload/`: bytes written at any offset into a
file below the data directory, then imported as a unit by a task.

Only `iso` units can be imported (the ostree importer of Pulp 2 had no upload either).
"""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path

from fastapi import Request

from pulpwood.api.deps import runtime_of, writing
from pulpwood.api.v2 import core
from pulpwood.api.v2.common import authed_router, task_fields
from pulpwood.api.v2.dispatching import dispatch_v2, repo_resources
from pulpwood.api.v2.errors import InvalidValue, MissingResource, MissingValue
from pulpwood.api.v2.transport import call_report, json_body, ok, v2_prefix

router = authed_router()
IMPORT_UPLOAD = "pulp.server.managers.content.upload.import_uploaded_unit"


def upload_dir(settings) -> Path:
    path = Path(settings.resolved_data_dir) / "pulp2-uploads"
    path.mkdir(parents=True, exist_ok=True)
    return path


def upload_path(settings, upload_id: str) -> Path:
    try:
        return upload_dir(settings) / str(uuid.UUID(upload_id))
    except ValueError:
        raise MissingResource(upload_request=upload_id) from None


def _existing(request: Request, upload_id: str) -> Path:
    path = upload_path(runtime_of(request).settings, upload_id)
    if not path.exists():
        raise MissingResource(upload_request=upload_id)
    return path


@router.post("/content/uploads/")
async def create_upload(request: Request):
    upload_id = str(uuid.uuid4())
    upload_path(runtime_of(request).settings, upload_id).touch()
    href = f"{v2_prefix(request)}content/uploads/{upload_id}/"
    return ok({"_href": href, "upload_id": upload_id}, 201, location=href)


@router.get("/content/uploads/")
async def list_uploads(request: Request):
    return ok({"upload_ids": sorted(p.name for p in upload_dir(runtime_of(request).settings).iterdir())})


def _write_at(path: Path, offset: int, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY)
    try:
        os.pwrite(fd, data, offset)
    finally:
        os.close(fd)


@router.put("/content/uploads/{upload_id}/{offset}/")
async def upload_segment(request: Request, upload_id: str, offset: str):
    path = _existing(request, upload_id)
    if not offset.isdigit():
        raise InvalidValue(["offset"])
    data = await request.body()
    await asyncio.to_thread(_write_at, path, int(offset), data)
    return ok(None)


@router.delete("/content/uploads/{upload_id}/")
async def delete_upload(request: Request, upload_id: str):
    _existing(request, upload_id).unlink()
    return ok(None)


@router.post("/repositories/{repo_id}/actions/import_upload/")
async def import_upload(request: Request, repo_id: str):
    body = await json_body(request, empty_ok=False)
    missing = [k for k in ("upload_id", "unit_type_id", "unit_key") if body.get(k) is None]
    if missing:
        raise MissingValue(missing)
    if not isinstance(body["unit_key"], dict):
        raise InvalidValue(["unit_key"])
    if not isinstance(body["upload_id"], str):
        raise InvalidValue(["upload_id"])
    _existing(request, body["upload_id"])
    async with writing(request) as session:
        repo = await core.get_repo(session, repo_id)
        task = await dispatch_v2(
            session, IMPORT_UPLOAD,
            kwargs={"repo_id": repo_id, "upload_id": body["upload_id"], "unit_type_id": body["unit_type_id"],
                    "unit_key": body["unit_key"]},
            tags=[f"pulp:repository:{repo_id}", "pulp:action:import_upload"], task_type=IMPORT_UPLOAD,
            exclusive=await repo_resources(session, repo), **task_fields(request))
    return call_report(v2_prefix(request), [task.pulp_id])
