"""The server-wide v2 endpoints: status (anonymous), plugin/type listings, login."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from sqlalchemy import select, text

from pulpwood.api.deps import runtime_of
from pulpwood.api.v2.common import authed_router
from pulpwood.api.v2.errors import MissingResource
from pulpwood.api.v2.transport import V2Route, ok, timestamp, v2_prefix
from pulpwood.api.v2.plugin_types import DISTRIBUTORS, IMPORTERS, UNIT_TYPES
from pulpwood.db.base import utcnow
from pulpwood.models import AppStatus

anonymous = APIRouter(route_class=V2Route)
router = authed_router()
PLATFORM_VERSION = "2.21.5"


@anonymous.get("/status/")
async def status(request: Request):
    runtime = runtime_of(request)
    workers, connected = [], True
    cutoff = utcnow() - dt.timedelta(seconds=runtime.settings.worker_ttl)
    try:
        async with runtime.read_session() as session:
            await session.execute(text("SELECT 1"))
            rows = await session.scalars(select(AppStatus).where(AppStatus.last_heartbeat >= cutoff)
                                         .order_by(AppStatus.name))
            apps = list(rows)
            # Pulp 2 names its processes by role; map our api and worker processes onto them.
            named = [(f"{role}@{app.name}", app) for app in apps if app.app_type == "api"
                     for role in ("scheduler", "resource_manager")]
            named += [(f"reserved_resource_worker-{i}@{app.name}", app)
                      for i, app in enumerate(a for a in apps if a.app_type == "worker")]
            for name, app in named:
                workers.append({"_id": name, "name": name, "_ns": "workers",
                                "last_heartbeat": timestamp(app.last_heartbeat)})
    except Exception:  # noqa: BLE001 - status answers even when the database is down
        connected, workers = False, []
    return ok({"api_version": "2", "versions": {"platform_version": PLATFORM_VERSION},
               "database_connection": {"connected": connected}, "messaging_connection": {"connected": True},
               "known_workers": workers})


def _type_doc(prefix: str, unit) -> dict:
    return {"id": unit.id, "display_name": unit.display_name, "description": unit.description,
            "unit_key": list(unit.unit_key), "search_indexes": list(unit.search_indexes), "referenced_types": [],
            "_id": {"$oid": unit.id.encode().hex()[:24].ljust(24, "0")}, "_ns": "content_types",
            "_href": f"{prefix}plugins/types/{unit.id}/"}


def _plugin_doc(prefix: str, kind: str, plugin) -> dict:
    return {"id": plugin.id, "display_name": plugin.display_name, "types": list(plugin.types),
            "_href": f"{prefix}plugins/{kind}/{plugin.id}/"}


@router.get("/plugins/types/")
async def types(request: Request):
    return ok([_type_doc(v2_prefix(request), t) for t in UNIT_TYPES.values()])


@router.get("/plugins/types/{type_id}/")
async def one_type(request: Request, type_id: str):
    if type_id not in UNIT_TYPES:
        raise MissingResource(type=type_id)
    return ok(_type_doc(v2_prefix(request), UNIT_TYPES[type_id]))


@router.get("/plugins/importers/")
async def importers(request: Request):
    return ok([_plugin_doc(v2_prefix(request), "importers", p) for p in IMPORTERS.values()])


@router.get("/plugins/importers/{importer_id}/")
async def one_importer(request: Request, importer_id: str):
    if importer_id not in IMPORTERS:
        raise MissingResource(importer_type_id=importer_id)
    return ok(_plugin_doc(v2_prefix(request), "importers", IMPORTERS[importer_id]))


@router.get("/plugins/distributors/")
async def distributors(request: Request):
    return ok([_plugin_doc(v2_prefix(request), "distributors", p) for p in DISTRIBUTORS.values()])


@router.get("/plugins/distributors/{distributor_id}/")
async def one_distributor(request: Request, distributor_id: str):
    if distributor_id not in DISTRIBUTORS:
        raise MissingResource(distributor_type_id=distributor_id)
    return ok(_plugin_doc(v2_prefix(request), "distributors", DISTRIBUTORS[distributor_id]))


@router.post("/actions/login/")
async def login(request: Request):
    """A short-lived key and self-signed certificate naming the user (pulp-admin stores them)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    from pulpwood.models import User

    async with runtime_of(request).read_session() as session:
        user = await session.get(User, request.state.user_id)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, user.username),
                      x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, f"user-id:{user.id}")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + dt.timedelta(days=7)).sign(key, hashes.SHA256()))
    return ok({"key": key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                        serialization.NoEncryption()).decode(),
               "certificate": cert.public_bytes(serialization.Encoding.PEM).decode()})
