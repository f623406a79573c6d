"""The API front door: Pulp 3 and Pulp 2 routers, error handlers, the OpenAPI document."""

from __future__ import annotations

import logging
import os

from fastapi import APIRouter, FastAPI, Request

from pulpwood.api import errors
from pulpwood.api.middleware import AnnounceCommitsMiddleware
from pulpwood.api.openapi import build_document
from pulpwood.api.responses import JSONResponse
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


def install_api(app: FastAPI, runtime: Runtime) -> None:
    """Add the Pulp 3 and Pulp 2 APIs, their error handlers and the OpenAPI document to `app`."""
    errors.install(app)
    v3 = runtime.settings.v3_root
    from pulpwood.api.v3 import status

    app.include_router(status.router, prefix=v3[:-1])
    for router in core_v3_routers():
        app.include_router(router, prefix=v3[:-1])
    for spec in plugins():
        for factory in spec.v3_routers:
            app.include_router(factory(), prefix=v3[:-1])
    _install_docs(app, v3)
    from pulpwood.api.v2.app import v2_router

    app.include_router(v2_router(runtime), prefix=f"{runtime.settings.api_root}api/v2")
    app.add_middleware(AnnounceCommitsMiddleware, runtime=runtime)


def load_task_functions() -> None:
    """Import the modules whose task functions the API front doors dispatch."""
    import pulpwood.api.v2.tasks  # noqa: F401
    import pulpwood.services.tasks  # noqa: F401


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
