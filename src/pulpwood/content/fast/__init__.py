"""The content app's fast path: a plain GET or HEAD of a stored file of a distribution.

Nearly every request of `ostree pull` is one: no Range, no validators, a leaf distribution
serving a repository version or a publication, a file in storage. The fast path answers
those with the driver's own calls (fast/sqlite.py, fast/postgres.py, on the statements of
lookup.py and targets.py) and, for files up to WHOLE_READ, a lean response (fast/response.py),
in a fraction of the general path's time; bigger files are streamed by files.serve_path. What
the fast path can answer without waiting at all (`answer_now`), the HTTP server writes out
before it even builds an ASGI request (front_protocol.py, asgi_server.py).
Anything else — and anything the fast path is unsure about — goes to the general path
(content/app.py), which answers exactly as it always did. (The content app enforces no
content guards yet; when it does, guarded distributions must stay off this path.)
"""

from __future__ import annotations

import asyncio
import logging
import os

from pulpwood.content.fast.later import LaterAnswer
from pulpwood.content.fast.queries import UNKNOWN, StoredFile
from pulpwood.content.fast.response import (
    NOT_CACHED, HttpDates, file_head, file_headers, read_cached, read_when_cached, stat_size,
)
from pulpwood.content.files import serve_path
from pulpwood.content.http import new_correlation_id, send_with_correlation_id
from pulpwood.content.lookup import FileEntry
from pulpwood.content.reads import content_sessions

log = logging.getLogger(__name__)

# Requests with these headers are answered by the general path (ranges, conditional GET).
_GENERAL_HEADERS = frozenset((b"range", b"if-range", b"if-none-match", b"if-modified-since"))
# Files up to this size are read whole on the event loop when all of their pages are cached
# (a few hundred microseconds at this size); bigger ones are streamed by a thread. Streaming
# cost about 2 ms of CPU per file of half a megabyte (a thread hop and a flow-control wait
# per piece), 15 times what nginx spends on it, and a pull asks for hundreds of them.
WHOLE_READ = 1024 * 1024


class FastPath:
    def __init__(self, reads, storage_root: str) -> None:
        self.reads = reads
        self._root = storage_root
        self._dates = HttpDates(reads.convert_date)
        self._tasks: set[asyncio.Task] = set()  # cold reads and lookups that learn first

    async def serve(self, scope, send, text: str) -> bool:
        """Answer a GET/HEAD of `text` (path below the prefix, no trailing slash) if it is a
        stored file; False: nothing was sent, the general path must answer."""
        correlation_id = _correlation_id(scope["headers"])
        if correlation_id is None:
            return False
        found = self.reads.find(text)
        if found is UNKNOWN:
            found = await self.reads.look_up(text)
        if found is None:
            return False
        correlation_id = correlation_id or new_correlation_id()
        path = f"{self._root}/{found.file}"
        head = scope["method"] == "HEAD"
        if found.size > WHOLE_READ and not head:
            # Streamed the general path's way (a thread reads each piece), without looking it
            # up again (the content artifact id only matters for remote content).
            entry = FileEntry(found.relative_path, None, found.file, found.size, found.sha256,
                              None if found.modified is None else self.reads.convert_date(found.modified))
            await serve_path(scope, send_with_correlation_id(send, correlation_id), path, entry)
            return True
        size, body = self._read(path, found.size, head)
        if body is NOT_CACHED:
            body = await read_when_cached(path, size)
        if size is None or body is None:
            return False
        headers = self._headers(found, size, correlation_id)
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        return True

    def answer_now(self, text: str, headers: list[tuple[bytes, bytes]], head: bool):
        """`(head, body)` of the 200 answer to a GET/HEAD of `text` when it needs no waiting
        on the event loop: the reader knows the file without a round trip and its bytes are in
        the page cache (or it is a HEAD). A LaterAnswer of the same (or None) when the reader
        needs a round trip (PostgreSQL), has to learn the distribution first, or the bytes are
        still on disk (read_when_cached). None: `serve` must answer (it may find the same file
        again).
        The HTTP server calls this before it builds an ASGI request (asgi_server.py)."""
        correlation_id = _correlation_id(headers)
        if correlation_id is None:
            return None
        found = self.reads.find(text)
        if found is UNKNOWN:
            later = LaterAnswer()

            def reply(found: StoredFile | None, error: Exception | None) -> None:
                if error is not None:
                    log.warning("content app fast path failed on %s: %r", text, error)
                    later.set(None)
                    return
                try:
                    answer = self._answer(found, head, correlation_id)
                except Exception:  # noqa: BLE001 - the ASGI app answers (or reports) it
                    log.exception("content app fast path failed on %s", text)
                    answer = None
                if isinstance(answer, LaterAnswer):
                    answer.when_done(later.set)
                else:
                    later.set(answer)

            if not self.reads.look_up_soon(text, reply):
                self._learn_then_look_up(text, reply)
            return later
        return self._answer(found, head, correlation_id)

    def _learn_then_look_up(self, text: str, reply) -> None:
        """`look_up(text)` in a task, its outcome to `reply`. The reader has forgotten the
        distribution (SQLite forgets on every commit, a heartbeat's too): the request gets a
        promise rather than None, which would hand its connection to uvicorn's protocol for
        good (front_protocol.py), and most connections of a long pull would end up there."""
        task = asyncio.ensure_future(self.reads.look_up(text))

        def done(task: asyncio.Task) -> None:
            self._tasks.discard(task)
            if task.cancelled():
                reply(None, asyncio.CancelledError())
            else:
                reply(task.result() if task.exception() is None else None, task.exception())

        self._tasks.add(task)
        task.add_done_callback(done)

    def _answer(self, found, head: bool, correlation_id: bytes):
        """The answer (a LaterAnswer of it when the file is not in the page cache), or None."""
        if found is None or (found.size > WHOLE_READ and not head):
            return None
        path = f"{self._root}/{found.file}"
        size, body = self._read(path, found.size, head)
        if body is NOT_CACHED:
            return self._answer_when_cached(found, path, correlation_id)
        if size is None or body is None:
            return None
        return self._head(found, size, correlation_id or new_correlation_id()), body

    def _answer_when_cached(self, found, path: str, correlation_id: bytes) -> LaterAnswer:
        # A task: a few in a hundred requests of a pull, and only once the disk is involved.
        later = LaterAnswer()

        async def answer():
            body = await read_when_cached(path, found.size)
            if body is None:
                return None
            return self._head(found, found.size, correlation_id or new_correlation_id()), body

        def done(task: asyncio.Task) -> None:
            self._tasks.discard(task)
            if not task.cancelled() and task.exception() is not None:
                log.error("content app fast path failed on %s", path, exc_info=task.exception())
            later.set(None if task.cancelled() or task.exception() is not None else task.result())

        task = asyncio.ensure_future(answer())
        self._tasks.add(task)
        task.add_done_callback(done)
        return later

    def _read(self, path: str, size: int, head: bool):
        """(size, body) of a small file (a HEAD: its size on disk, no body); the body is None
        when the file is missing or not of `size` bytes, NOT_CACHED when not all of it is in
        the page cache (see read_when_cached)."""
        if head:
            return stat_size(path), b""
        return size, read_cached(path, size)

    def _headers(self, found, size: int, correlation_id: bytes) -> list[tuple[bytes, bytes]]:
        modified = None if found.modified is None else self._dates.text(found.modified)
        return file_headers(found.relative_path, size, found.sha256, modified, correlation_id)

    def _head(self, found, size: int, correlation_id: bytes) -> bytes:
        modified = None if found.modified is None else self._dates.text(found.modified)
        return file_head(found.relative_path, size, found.sha256, modified, correlation_id)


def _correlation_id(headers) -> bytes | None:
    """The request's Correlation-ID (b"" when it sent none); None when a header asks for
    something only the general path does (a range, a conditional GET)."""
    correlation_id = None
    for name, value in headers:
        if name in _GENERAL_HEADERS:
            return None
        if name == b"correlation-id" and correlation_id is None:
            correlation_id = value
    return correlation_id or b""


def fast_path_for(runtime) -> FastPath | None:
    """The fast path for this runtime's database, or None where there is none."""
    url = runtime.engine.url
    if runtime.engine.dialect.name == "sqlite":
        if not url.database or url.database == ":memory:":
            return None  # a private in-memory database cannot be opened a second time
        from pulpwood.content.fast.sqlite import SqliteReads

        reads = SqliteReads(url.database, content_sessions(runtime))
    elif runtime.engine.dialect.name == "postgresql" and runtime.engine.dialect.driver == "asyncpg":
        from pulpwood.content.fast.postgres import PostgresReads

        reads = PostgresReads(runtime.engine)
        # Closed with the runtime's engines: Runtime.close awaits `dispose()` of each.
        runtime.extras.setdefault("engines", []).append(reads)
    else:
        return None
    return FastPath(reads, os.fspath(runtime.storage.root))
