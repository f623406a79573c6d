"""One place that turns our exceptions into Pulp-shaped HTTP error bodies."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException

from pulpwood.api.auth import NotAuthenticated
from pulpwood.api.responses import JSONResponse
from pulpwood.errors import Conflict, NotFound, ValidationError

log = logging.getLogger(__name__)


def install(app: FastAPI) -> None:
    @app.exception_handler(ValidationError)
    async def _bad_request(request: Request, exc: ValidationError):
        return JSONResponse(exc.detail, status_code=400)

    @app.exception_handler(NotFound)
    async def _not_found(request: Request, exc: NotFound):
        return JSONResponse({"detail": exc.detail}, status_code=404)

    @app.exception_handler(Conflict)
    async def _conflict(request: Request, exc: Conflict):
        return JSONResponse(exc.detail, status_code=409)

    @app.exception_handler(NotAuthenticated)
    async def _unauthenticated(request: Request, exc: NotAuthenticated):
        return JSONResponse({"detail": exc.detail}, status_code=401,
                            headers={"WWW-Authenticate": 'Basic realm="api"'})

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError):
        log.info("integrity error: %s", exc)
        return JSONResponse({"non_field_errors": ["The request conflicts with existing data."]}, status_code=400)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException):
        if exc.status_code == 404:
            return JSONResponse({"detail": "Not found."}, status_code=404)
        if exc.status_code == 405:
            return JSONResponse({"detail": f'Method "{request.method}" not allowed.'}, status_code=405)
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)
