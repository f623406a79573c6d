"""Request bodies in the three encodings Pulp clients use: JSON, urlencoded and multipart.

pulp-glue sends JSON unless a file is attached; the bindings send multipart for file
operations with dicts and lists JSON-encoded and booleans as `True`/`False` text.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
from starlette.datastructures import UploadFile
from starlette.requests import Request

from pulpwood.errors import ValidationError

MAX_FORM_FILES = 4


async def read_body(request: Request) -> dict[str, Any]:
    """The request body as a dict; files stay UploadFile objects. Empty body -> {}."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        form = await request.form(max_files=MAX_FORM_FILES, max_part_size=64 * 1024 * 1024)
        return {key: value for key, value in form.multi_items()}
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ValidationError({"detail": [f"JSON parse error - {exc}"]}) from None
    if not isinstance(data, dict):
        raise ValidationError({"non_field_errors": ["Invalid data. Expected a dictionary, but got list."
                                                    if isinstance(data, list) else
                                                    f"Invalid data. Expected a dictionary, but got {type(data).__name__}."]})
    return data


def decode_form_value(value: Any, expect: str) -> Any:
    """Decode a form field that carries JSON (dict/list) or a Python-style boolean."""
    if isinstance(value, UploadFile) or not isinstance(value, str):
        return value
    if expect in ("dict", "list"):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    if expect == "bool":
        lowered = value.strip().lower()
        if lowered in ("true", "1", "yes", "on"):
            return True
        if lowered in ("false", "0", "no", "off"):
            return False
    if expect == "null" and value == "":
        return None
    return value
