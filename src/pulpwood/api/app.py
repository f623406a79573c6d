"""The ASGI application: the Pulp 3 API, the Pulp 2 API and the content app in one process."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os

from fastapi import APIRouter, FastAPI, Request

from pulpwood.api import errors
from pulpwood.api.middleware import CorrelationIdMiddleware
from pulpwood.api.openapi import build_document
from pulpwood.api.responses import JSONResponse
from pulpwood.models.worker import API_APP, CONTENT_APP
from pulpwood.registry import plugins
from pulpwood.runtime import Runtime

log = logging.getLogger(__name__)


def core_v3_routers() -> list[APIRouter]:
    from pulpwood.api.v3 import (artifacts, content, distributions, orphans, publications, remotes,
                                 repositories, tasks, uploads)

    routers = [tasks.router, repositories.router, remotes.router, distributions.router, publications.router,
               content.router, artifacts.router, uploads.router, orphans.router]
    if os.environ.get("PULPWOOD_TEST_TASKS") == "1":
        # Test-only task dispatch; absent from every production server.
        from pulpwood.api.v3 import testing

        routers.append(testing.router)
    return routers


async def _heartbeats(runtime: Runtime, app_ids: list) -> None:
    from pulpwood.worker.heartbeat import heartbeat, reap_missing

    interval = max(runtime.settings.worker_ttl / 3, 0.5)
    while True:
        await asyncio.sleep(interval)
        try:
            for app_id in app_ids:
                await heartbeat(runtime, app_id)
            await reap_missing(runtime)
        except Exception:  # noqa: BLE001 - retried at the next beat
            log.exception("api heartbeat failed")


def create_app(runtime: Runtime, *, serve_api: bool = True, serve_content: bool = True) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        from pulpwood.worker.heartbeat import register_app, unregister_app

        app_ids = []
        if serve_api:
            app_ids.append(await register_app(runtime, API_APP))
        if serve_content:
            content_id = await register_app(runtime, CONTENT_APP)
            app_ids.append(content_id)
        # Tasks run inline by this process are recorded against its first app row.
        runtime.app_status_id = app_ids[0] if app_ids else None
        beat = asyncio.ensure_future(_heartbeats(runtime, app_ids))
        try:
            yield
        finally:
            beat.cancel()
            for app_id in app_ids:
                with contextlib.suppress(Exception):
                    await unregister_app(runtime, app_id)
            await runtime.close()

    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan, redirect_slashes=False)
    app.state.runtime = runtime
    errors.install(app)
    v3 = runtime.settings.v3_root
    if serve_api:
        from pulpwood.api.v3 import status

        app.include_router(status.router, prefix=v3[:-1])
        for router in core_v3_routers():
            app.include_router(router, prefix=v3[:-1])
        for spec in plugins():
            for factory in spec.v3_routers:
                app.include_router(factory(), prefix=v3[:-1])
        _install_docs(app, v3)
        try:
            from pulpwood.api.v2.app import v2_router
        except ImportError:
            v2_router = None
        if v2_router is not None:
            app.include_router(v2_router(runtime), prefix=f"{runtime.settings.api_root}api/v2")
    if serve_content:
        from pulpwood.content.app import mount_content

        mount_content(app, runtime)
        try:
            from pulpwood.api.v2.content import mount_v2_content
        except ImportError:
            mount_v2_content = None
        if mount_v2_content is not None:
            mount_v2_content(app, runtime)
    app.add_middleware(CorrelationIdMiddleware)
    return app


def _install_docs(app: FastAPI, v3: str) -> None:
    @app.get(v3 + "docs/api.json", include_in_schema=False)
    async def api_json(request: Request) -> JSONResponse:
        document = getattr(app.state, "openapi_document", None)
        if document is None:
            document = build_document(app, request.app.state.runtime.settings.api_root)
            app.state.openapi_document = document
        return JSONResponse(document)

    @app.get(v3, include_in_schema=False)
    async def api_root(request: Request) -> JSONResponse:
        base = str(request.base_url).rstrip("/")
        return JSONResponse({name: f"{base}{v3}{name}" for name in (
            "artifacts/", "content/", "distributions/", "orphans/cleanup/", "publications/", "remotes/",
            "repositories/", "status/", "task-groups/", "tasks/", "uploads/", "workers/")})
