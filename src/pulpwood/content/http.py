"""Small HTTP pieces of the content app: raw ASGI answers, MIME types, ranges, validators."""

from __future__ import annotations

import datetime as dt
import random
import re
from email.utils import format_datetime, parsedate_to_datetime

NOT_FOUND = b"404: Not Found"
CACHE_CONTROL = b"public, max-age=0, must-revalidate"

# Pulp's answers for the extensions clients check (spec pulpcore §5); the rest is binary.
_COMPOUND = {".tar.gz": "application/gzip", ".xml.gz": "application/gzip"}
_SIMPLE = {
    ".gz": "application/gzip", ".tgz": "application/gzip", ".bz2": "application/x-bzip2",
    ".zstd": "application/zstd", ".zst": "application/zstd", ".xz": "application/x-xz",
    ".json": "application/json", ".txt": "text/plain", ".xml": "text/xml", ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg", ".png": "image/png", ".gif": "image/gif", ".svg": "image/svg+xml",
    ".html": "text/html", ".htm": "text/html", ".css": "text/css", ".js": "text/javascript",
    ".tar": "application/x-tar", ".zip": "application/zip", ".asc": "text/plain",
}
OCTET_STREAM = "application/octet-stream"


def content_type_for(name: str) -> str:
    lower = name.rsplit("/", 1)[-1].lower()
    for suffix, mime in _COMPOUND.items():
        if lower.endswith(suffix):
            return mime
    dot = lower.rfind(".")
    if dot <= 0:
        return OCTET_STREAM
    return _SIMPLE.get(lower[dot:], OCTET_STREAM)


def header(scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


# -- correlation id ---------------------------------------------------------------------

# Every answer of the server echoes the request's Correlation-ID (or a new one), as the API's
# middleware does; content requests are answered before that middleware.
EXPOSE_CORRELATION_ID = (b"access-control-expose-headers", b"Correlation-ID")
_UUID4_CLEAR = ~((0xF << 76) | (0x3 << 62))
_UUID4_SET = (0x4 << 76) | (0x2 << 62)


def new_correlation_id() -> bytes:
    """32 hex digits shaped like a uuid4 (version and variant bits), like the API's ids.

    From the process's pseudo-random generator: a correlation id only needs to be unique in
    logs, and os.urandom was one more system call on every file of a pull."""
    bits = random.getrandbits(128) & _UUID4_CLEAR | _UUID4_SET
    return b"%032x" % bits


def correlation_id(scope) -> bytes:
    for key, value in scope["headers"]:
        if key == b"correlation-id":
            return value or new_correlation_id()
    return new_correlation_id()


def with_correlation_id(scope, send):
    """`send` adding the Correlation-ID headers (of this request) to the response start."""
    return send_with_correlation_id(send, correlation_id(scope))


def send_with_correlation_id(send, value: bytes):
    """`send` adding the Correlation-ID headers (with `value`) to the response start."""
    headers = ((b"correlation-id", value), EXPOSE_CORRELATION_ID)

    async def send_with_id(message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", ()), *headers]
        await send(message)

    return send_with_id


async def send_bytes(send, status: int, body: bytes, content_type: bytes, *, head: bool = False,
                     headers: list[tuple[bytes, bytes]] | None = None) -> None:
    all_headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    all_headers.extend(headers or ())
    await send({"type": "http.response.start", "status": status, "headers": all_headers})
    await send({"type": "http.response.body", "body": b"" if head else body})


async def not_found(send, head: bool = False) -> None:
    await send_bytes(send, 404, NOT_FOUND, b"text/plain; charset=utf-8", head=head)


async def send_text(send, status: int, text: str, head: bool = False) -> None:
    await send_bytes(send, status, text.encode("utf-8"), b"text/plain; charset=utf-8", head=head)


async def redirect(send, location: str, head: bool = False) -> None:
    await send_bytes(send, 301, b"", b"text/plain; charset=utf-8", head=head,
                     headers=[(b"location", location.encode("latin-1", "replace"))])


async def send_html(send, body: bytes, head: bool = False) -> None:
    await send_bytes(send, 200, body, b"text/html; charset=utf-8", head=head)


# -- ranges -------------------------------------------------------------------------------

UNSATISFIABLE = "unsatisfiable"
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def parse_range(value: str | None, size: int):
    """(start, end inclusive) for a single satisfiable range, None to send the whole file,
    or UNSATISFIABLE (416): start at/after EOF, a malformed or multi-range header."""
    if value is None:
        return None
    match = _RANGE.match(value.strip().replace(" ", ""))
    if not match or (not match.group(1) and not match.group(2)):
        return UNSATISFIABLE
    first, last = match.groups()
    if not first:  # suffix range: the last N bytes
        length = int(last)
        if length == 0 or size == 0:
            return UNSATISFIABLE
        return max(size - length, 0), size - 1
    start = int(first)
    end = int(last) if last else size - 1
    if start >= size or end < start:
        return UNSATISFIABLE
    return start, min(end, size - 1)


# -- validators ---------------------------------------------------------------------------

def http_date(when: dt.datetime) -> str:
    return format_datetime(when.astimezone(dt.UTC).replace(microsecond=0), usegmt=True)


def not_modified(scope, etag: str | None, last_modified: dt.datetime | None) -> bool:
    """Conditional GET: If-None-Match wins over If-Modified-Since (RFC 9110 §13.2.2)."""
    if_none_match = header(scope, b"if-none-match")
    if if_none_match is not None:
        if etag is None:
            return False
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in tags or etag in tags
    if_modified_since = header(scope, b"if-modified-since")
    if if_modified_since and last_modified is not None:
        try:
            since = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            return False
        if since.tzinfo is None:
            since = since.replace(tzinfo=dt.UTC)
        return last_modified.replace(microsecond=0) <= since
    return False


def range_applies(scope, etag: str | None, last_modified_text: str | None) -> bool:
    """If-Range: the range holds only while the validator still matches."""
    if_range = header(scope, b"if-range")
    if if_range is None:
        return True
    if_range = if_range.strip()
    if if_range.startswith(('"', "W/")):
        return etag is not None and if_range == etag
    return last_modified_text is not None and if_range == last_modified_text
