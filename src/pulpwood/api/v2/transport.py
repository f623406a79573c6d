"""What every v2 endpoint shares: JSON bodies, Basic auth, timestamps, ids, call reports,
and the route class that turns any exception into the v2 error body."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable

import orjson
from fastapi import Request
from fastapi.routing import APIRoute
from starlette.responses import Response

from pulpwood.api.auth import NotAuthenticated, authenticate
from pulpwood.api.deps import runtime_of
from pulpwood.api.responses import JSONResponse
from pulpwood.api.v2.errors import AuthError, CodedError, V2Error, error_response, unhandled_response

log = logging.getLogger(__name__)
V2_PREFIX = "/pulp/api/v2/"


class V2Route(APIRoute):
    """Every failure inside a v2 handler (dependencies included) answers in the v2 shape."""

    def get_route_handler(self) -> Callable:
        handler = super().get_route_handler()

        async def run(request: Request) -> Response:
            try:
                return await handler(request)
            except V2Error as exc:
                return error_response(request, exc)
            except Exception as exc:  # noqa: BLE001 - v2 clients expect a 500 body, not a crash
                log.exception("v2 request failed: %s %s", request.method, request.url.path)
                return unhandled_response(request, exc)

        return run


def v2_prefix(request: Request) -> str:
    return f"{runtime_of(request).settings.api_root}api/v2/"


async def require_v2_user(request: Request) -> int:
    """Basic auth over the v3 users; refusals are v2 401s (PLP0025 / PLP0030)."""
    runtime = runtime_of(request)
    if not request.headers.get("authorization"):
        raise AuthError("PLP0025", "authentication_failed", "Authentication failed.")
    try:
        async with runtime.read_session() as session:
            user_id, is_superuser = await authenticate(request, session)
    except NotAuthenticated:
        raise AuthError("PLP0030", "invalid_username_or_password",
                        "Authentication failed: invalid username or password.") from None
    request.state.user_id = user_id
    request.state.is_superuser = is_superuser
    return user_id


def _drop_trailing_commas(text: str) -> str:
    """Remove commas directly before `}` or `]` outside strings (the seed's own samples have one)."""
    out: list[str] = []
    in_string = escaped = False
    for index, char in enumerate(text):
        if in_string:
            out.append(char)
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
            continue
        if char == '"':
            in_string = True
        elif char == ",":
            rest = text[index + 1:].lstrip()
            if rest[:1] in ("}", "]"):
                continue
        out.append(char)
    return "".join(out)


async def json_body(request: Request, *, empty_ok: bool = True, expect=dict):
    """The request's JSON body; {} for an empty body where the endpoint allows it."""
    raw = await request.body()
    if not raw.strip():
        if empty_ok:
            return {} if expect is dict else None
        raise CodedError("PLP1009", "The request body does not contain valid JSON")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise CodedError("PLP0019", "The request body is not valid UTF-8") from None
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError:
        try:
            data = orjson.loads(_drop_trailing_commas(text))
        except orjson.JSONDecodeError:
            raise CodedError("PLP1009", "The request body does not contain valid JSON") from None
    if expect is not None and not isinstance(data, expect):
        raise CodedError("PLP1015", f"The request body does not contain a JSON {expect.__name__}")
    return data


def timestamp(value: dt.datetime | None) -> str | None:
    """ISO-8601 UTC with seconds precision and `Z`, as Pulp 2 prints times."""
    if value is None:
        return None
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def oid(value: uuid.UUID | int) -> dict:
    """A Mongo ObjectId-looking `{"$oid": 24 hex}` derived from our id (monotonic for uuid7/ints)."""
    if isinstance(value, int):
        return {"$oid": f"{value:024x}"}
    return {"$oid": value.hex[:12] + value.hex[-12:]}


def flag(request: Request, name: str) -> bool:
    return request.query_params.get(name, "").lower() == "true"


def ok(data, status: int = 200, location: str | None = None) -> JSONResponse:
    headers = {"Location": location} if location else None
    return JSONResponse(data, status_code=status, headers=headers)


def task_href(prefix: str, task_id) -> str:
    return f"{prefix}tasks/{task_id}/"


def call_report(prefix: str, task_ids: list, result=None, status: int = 202) -> JSONResponse:
    return JSONResponse({
        "result": result,
        "error": None,
        "spawned_tasks": [{"_href": task_href(prefix, t), "task_id": str(t)} for t in task_ids],
    }, status_code=status)
