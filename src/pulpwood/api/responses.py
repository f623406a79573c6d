"""JSON responses exactly as Pulp clients expect them (plain `application/json`, no charset)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import orjson
from starlette.responses import Response


def iso(value: dt.datetime | None) -> str | None:
    """ISO-8601 UTC with microseconds and a `Z`, as Pulp prints timestamps."""
    if value is None:
        return None
    # isoformat is several times faster than strftime, and lists format thousands of these.
    return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def _default(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dt.datetime):
        return iso(value)
    raise TypeError(f"cannot serialize {type(value).__name__}")


def dumps(data: Any) -> bytes:
    return orjson.dumps(data, default=_default, option=orjson.OPT_PASSTHROUGH_DATETIME)


class JSONResponse(Response):
    media_type = "application/json"

    def __init__(self, content: Any = None, status_code: int = 200, headers: dict | None = None) -> None:
        super().__init__(content=content, status_code=status_code, headers=headers)

    def render(self, content: Any) -> bytes:
        return dumps(content)

    def init_headers(self, headers=None) -> None:
        super().init_headers(headers)
        # Starlette appends "; charset=utf-8" to text types only; keep the header bare anyway.
        self.raw_headers = [
            (k, b"application/json") if k == b"content-type" else (k, v) for k, v in self.raw_headers
        ]


def task_accepted(task_href: str) -> JSONResponse:
    return JSONResponse({"task": task_href}, status_code=202)


def no_content() -> Response:
    return Response(status_code=204)
