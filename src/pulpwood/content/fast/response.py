"""The answer to a plain GET or HEAD of a small stored file, with the same headers as
files.serve_path but built without its general machinery (ranges, validators, streaming).

One unbuffered `open`/`read` instead of `stat` plus a buffered `open`, a header list built
from bytes, and the Last-Modified text formatted once per distinct database value (all files
of a repository version share one).
"""

from __future__ import annotations

import os

from pulpwood.content.http import CACHE_CONTROL, EXPOSE_CORRELATION_ID, content_type_for, http_date

_ACCEPT_RANGES = (b"accept-ranges", b"bytes")
_CACHE_CONTROL = (b"cache-control", CACHE_CONTROL)


class HttpDates:
    """Last-Modified header values by raw database value (`convert` makes it a datetime)."""

    def __init__(self, convert, size: int = 4096) -> None:
        self._convert = convert
        self._size = size
        self._texts: dict[object, bytes] = {}

    def text(self, raw) -> bytes:
        text = self._texts.get(raw)
        if text is None:
            if len(self._texts) >= self._size:
                self._texts.clear()
            text = self._texts[raw] = http_date(self._convert(raw)).encode()
        return text


def read_small(path: str, size: int, head: bool) -> tuple[int, bytes] | None:
    """(size, body) of the file at `path`, which the database says has `size` bytes; None
    when it is missing, unreadable or not of that size (the general path then answers
    exactly as it always did)."""
    if head:
        try:
            return os.stat(path).st_size, b""
        except OSError:
            return None
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        # One byte more than expected: a longer file shows, with no fstat.
        body = os.read(fd, size + 1)
    except OSError:
        return None
    finally:
        os.close(fd)
    return (size, body) if len(body) == size else None


def file_headers(relative_path: str, size: int, sha256: str | None, last_modified: bytes | None,
                 correlation_id: bytes) -> list[tuple[bytes, bytes]]:
    length = str(size).encode()
    headers = [(b"content-type", content_type_for(relative_path).encode()), _ACCEPT_RANGES, _CACHE_CONTROL,
               (b"x-pulp-artifact-size", length)]
    if sha256:
        headers.append((b"etag", b'"' + sha256.encode() + b'"'))
    if last_modified is not None:
        headers.append((b"last-modified", last_modified))
    headers += ((b"content-length", length), (b"correlation-id", correlation_id), EXPOSE_CORRELATION_ID)
    return headers
