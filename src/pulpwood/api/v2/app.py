"""`v2_router(runtime)`: every v2 endpoint, mounted by the core app at `{api_root}api/v2`."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse

from pulpwood.api.responses import JSONResponse
from pulpwood.api.v2 import (actions, distributors, importers, orphans, repositories, server, tasks_api, uploads,
                             users)
from pulpwood.api.v2.transport import V2Route
from pulpwood.runtime import Runtime

METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]


def v2_router(runtime: Runtime) -> APIRouter:
    router = APIRouter(route_class=V2Route)
    router.include_router(server.anonymous)
    for module in (repositories, importers, distributors, actions, tasks_api, orphans, server, users, uploads):
        router.include_router(module.router)

    @router.api_route("/{path:path}", methods=METHODS, include_in_schema=False)
    async def unknown(request: Request, path: str):
        # Paths without the trailing slash are accepted by sending the client to the slashed form.
        if path and not path.endswith("/"):
            query = f"?{request.url.query}" if request.url.query else ""
            return RedirectResponse(request.url.path + "/" + query, status_code=307)
        return JSONResponse(None, status_code=404)

    return router
