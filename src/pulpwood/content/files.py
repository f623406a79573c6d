"""Sending a stored artifact: validators, HEAD, conditional GET, a single byte range."""

from __future__ import annotations

import os

import anyio

from pulpwood.content.http import (
    CACHE_CONTROL, UNSATISFIABLE, content_type_for, header, http_date, not_found, not_modified, parse_range,
    range_applies,
)
from pulpwood.content.lookup import FileEntry
from pulpwood.storage.filesystem import ArtifactStorage

CHUNK = 256 * 1024
# Files this small are read in one go on the event loop: a thread hop costs more than the read.
INLINE_READ = 256 * 1024


def file_headers(entry: FileEntry, size: int) -> list[tuple[bytes, bytes]]:
    headers = [
        (b"content-type", content_type_for(entry.relative_path).encode()),
        (b"accept-ranges", b"bytes"),
        (b"cache-control", CACHE_CONTROL),
        (b"x-pulp-artifact-size", str(size).encode()),
    ]
    if entry.sha256:
        headers.append((b"etag", f'"{entry.sha256}"'.encode()))
    if entry.last_modified:
        headers.append((b"last-modified", http_date(entry.last_modified).encode()))
    return headers


def slice_for(scope, entry: FileEntry, size: int):
    """(status, start, end inclusive, extra headers) for this request, or None for 416."""
    etag = f'"{entry.sha256}"' if entry.sha256 else None
    last_modified = http_date(entry.last_modified) if entry.last_modified else None
    wanted = parse_range(header(scope, b"range"), size)
    if wanted is not None and not range_applies(scope, etag, last_modified):
        wanted = None
    if wanted is UNSATISFIABLE:
        return None
    if wanted is None:
        return 200, 0, size - 1, []
    start, end = wanted
    return 206, start, end, [(b"content-range", f"bytes {start}-{end}/{size}".encode())]


async def send_unsatisfiable(send, entry: FileEntry, size: int, head: bool) -> None:
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-range", f"bytes */{size}".encode()),
               (b"content-length", b"0")]
    if entry.sha256:
        headers.append((b"etag", f'"{entry.sha256}"'.encode()))
    await send({"type": "http.response.start", "status": 416, "headers": headers})
    await send({"type": "http.response.body", "body": b""})


async def serve_stored(scope, send, storage: ArtifactStorage, entry: FileEntry) -> None:
    await serve_path(scope, send, storage.path(entry.artifact_file), entry)


async def serve_path(scope, send, path, entry: FileEntry, extra_headers=()) -> None:
    """Answer with the file at `path` (a stored artifact, or a verified download)."""
    head = scope["method"] == "HEAD"
    try:
        size = os.stat(path).st_size
    except FileNotFoundError:  # the database names a file storage lost: nothing to serve
        await not_found(send, head)
        return
    headers = file_headers(entry, size) + list(extra_headers)
    etag = f'"{entry.sha256}"' if entry.sha256 else None
    if not_modified(scope, etag, entry.last_modified):
        await send({"type": "http.response.start", "status": 304,
                    "headers": [h for h in headers if h[0] != b"content-type"]})
        await send({"type": "http.response.body", "body": b""})
        return
    chosen = slice_for(scope, entry, size)
    if chosen is None:
        await send_unsatisfiable(send, entry, size, head)
        return
    status, start, end, extra = chosen
    length = max(end - start + 1, 0)
    headers += extra
    headers.append((b"content-length", str(length).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    if head or length == 0:
        await send({"type": "http.response.body", "body": b""})
        return
    if length <= INLINE_READ:
        with open(path, "rb") as handle:
            handle.seek(start)
            await send({"type": "http.response.body", "body": handle.read(length)})
        return
    async with await anyio.open_file(path, "rb") as handle:
        await handle.seek(start)
        remaining = length
        while remaining > 0:
            chunk = await handle.read(min(CHUNK, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            await send({"type": "http.response.body", "body": chunk, "more_body": remaining > 0})
