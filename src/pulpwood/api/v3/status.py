"""`status/` and `livez/`: anonymous health, with the exact shape Pulp clients read."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from sqlalchemy import func, select, text
from starlette.responses import Response

from pulpwood.api.deps import runtime_of
from pulpwood.api.responses import JSONResponse, iso
from pulpwood.db.base import utcnow
from pulpwood.models import AppStatus, Artifact
from pulpwood.registry import CORE_COMPONENT, plugins

router = APIRouter()


def versions() -> list[dict]:
    items = [{**CORE_COMPONENT, "domain_compatible": True}]
    for spec in plugins():
        items.append({"component": spec.label, "version": spec.version, "package": spec.package,
                      "module": spec.module, "domain_compatible": True})
    return items


@router.get("/status/")
async def status(request: Request) -> JSONResponse:
    runtime = runtime_of(request)
    settings = runtime.settings
    cutoff = utcnow() - dt.timedelta(seconds=settings.worker_ttl)
    apps: dict[str, list] = {"worker": [], "api": [], "content": []}
    connected = True
    used = None
    try:
        async with runtime.read_session() as session:
            await session.execute(text("SELECT 1"))
            rows = await session.scalars(select(AppStatus).where(AppStatus.last_heartbeat >= cutoff).order_by(AppStatus.name))
            for app in rows:
                apps.setdefault(app.app_type, []).append(
                    {"name": app.name, "last_heartbeat": iso(app.last_heartbeat), "versions": app.versions})
            used = await session.scalar(select(func.coalesce(func.sum(Artifact.size), 0)))
    except Exception:  # noqa: BLE001 - status must answer even when the database is down
        connected = False
    storage = runtime.storage.usage()
    return JSONResponse({
        "versions": versions(),
        "online_workers": apps["worker"],
        "online_api_apps": apps["api"],
        "online_content_apps": apps["content"],
        "database_connection": {"connected": connected},
        "redis_connection": {"connected": False},
        "storage": {"total": storage["total"], "used": storage["used"] if used is None else storage["used"],
                    "free": storage["free"]},
        "content_settings": {"content_origin": settings.content_origin,
                             "content_path_prefix": settings.content_path_prefix},
        "domain_enabled": False,
    })


@router.get("/livez/")
async def livez() -> Response:
    return Response(status_code=200)
