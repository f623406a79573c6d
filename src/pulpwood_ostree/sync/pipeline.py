"""A small HTTP/1.1 client that pipelines GETs over a few keep-alive connections.

An OSTree repository is tens of thousands of small files. Sent one request per round trip,
each costs a send, a receive and an event-loop wake-up plus a general-purpose client's
bookkeeping; pipelined, many requests leave in one write and many responses arrive in one
read. Static servers (nginx, Apache, our own content app) answer pipelined requests in order.

Scope is deliberately narrow: GET, `Content-Length` bodies, plain or TLS, no proxy. Anything
else (chunked bodies, a connection that dies with requests in flight too often) makes the
caller fall back to the general Downloader, which has the retries, proxies and timeouts.
Responses larger than `stream_above` are not buffered: their bytes go to a sink the caller
supplies, so a big file never sits in memory.
"""

from __future__ import annotations

import asyncio
import base64
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

MAX_IN_FLIGHT = 48  # per connection
MAX_HEADER = 64 * 1024
FLUSH_EARLY = 8  # requests in flight below which a new one is sent at once
FLUSH_DELAY = 0.002


class PipelineError(Exception):
    """The pipelined path cannot answer this request; use the regular downloader."""


class Sink:
    """Receives a large body chunk by chunk; `finish()`'s value resolves the request."""

    def write(self, chunk: bytes) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def finish(self) -> Any:  # pragma: no cover - interface
        raise NotImplementedError

    def abort(self) -> None:
        pass


@dataclass
class _Request:
    path: str
    future: asyncio.Future
    sink_factory: Callable[[int], Sink] | None
    attempts: int = 0


class _Connection(asyncio.Protocol):
    def __init__(self, client: PipelinedClient) -> None:
        self.client = client
        self.transport: asyncio.Transport | None = None
        self.pending: deque[_Request] = deque()
        self.buffer = bytearray()
        self.closed = False
        # State of the response being read.
        self._length: int | None = None
        self._status = 0
        self._remaining = 0
        self._sink: Sink | None = None
        self._body: bytearray | None = None
        self._close_after = False
        self._out: list[bytes] = []
        self._flush_scheduled = False
        self.answered = 0

    # -- asyncio.Protocol
    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        try:
            self._parse()
        except PipelineError as exc:
            self._fail(exc)

    def connection_lost(self, exc) -> None:
        self.closed = True
        self._fail(PipelineError(f"connection closed: {exc}"))

    # -- sending
    def send(self, request: _Request) -> None:
        if self.closed:
            self.client.requeue([request], PipelineError("connection closed before sending"))
            return
        self.pending.append(request)
        self._out.append(self.client.request_bytes(request.path))
        if not self._flush_scheduled:
            # Requests queued meanwhile leave in one write (one system call). While the
            # pipe is well filled, waiting a moment gathers many more of them.
            self._flush_scheduled = True
            loop = asyncio.get_running_loop()
            if len(self.pending) > FLUSH_EARLY:
                loop.call_later(FLUSH_DELAY, self._flush)
            else:
                loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        if self._out and not self.closed and self.transport is not None:
            self.transport.write(b"".join(self._out))
        elif self.closed and self.pending:
            self._fail(PipelineError("connection closed before sending"))
        self._out.clear()

    # -- parsing
    def _parse(self) -> None:
        while True:
            if self._length is None:
                end = self.buffer.find(b"\r\n\r\n")
                if end < 0:
                    if len(self.buffer) > MAX_HEADER:
                        raise PipelineError("response header too large")
                    return
                self._start_response(bytes(self.buffer[:end]))
                del self.buffer[:end + 4]
            if not self.pending:
                raise PipelineError("response without a request")
            if self._sink is not None:
                take = min(self._remaining, len(self.buffer))
                if take:
                    self._sink.write(bytes(self.buffer[:take]))
                    del self.buffer[:take]
                    self._remaining -= take
            elif len(self.buffer) >= self._remaining:
                self._body = self.buffer[:self._remaining]
                del self.buffer[:self._remaining]
                self._remaining = 0
            if self._remaining:
                return
            self._finish_response()

    def _start_response(self, head: bytes) -> None:
        lines = head.split(b"\r\n")
        parts = lines[0].split(b" ", 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1."):
            raise PipelineError(f"malformed status line {lines[0][:80]!r}")
        self._status = int(parts[1])
        length = None
        self._close_after = parts[0] == b"HTTP/1.0"
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value.strip())
            elif name == b"transfer-encoding" and value.strip().lower() != b"identity":
                raise PipelineError("chunked responses are not pipelined")
            elif name == b"connection":
                tokens = value.strip().lower()
                if b"close" in tokens:
                    self._close_after = True
                elif b"keep-alive" in tokens:
                    self._close_after = False
        if length is None:
            raise PipelineError("response without Content-Length")
        self._length = self._remaining = length
        request = self.pending[0]
        if self._status == 200 and request.sink_factory is not None and length > self.client.stream_above:
            self._sink = request.sink_factory(length)
        else:
            self._body = None

    def _finish_response(self) -> None:
        request = self.pending.popleft()
        self.answered += 1
        status, sink, body = self._status, self._sink, self._body
        self._length, self._sink, self._body = None, None, None
        if not request.future.done():
            if sink is not None:
                try:
                    request.future.set_result((status, sink.finish()))
                except BaseException as exc:  # noqa: BLE001 - the caller reports it
                    request.future.set_exception(exc)
            else:
                request.future.set_result((status, bytes(body or b"")))
        if self._close_after:
            if self.answered == 1:
                # One response per connection (HTTP/1.0 style): pipelining cannot help here.
                self.client.broken = PipelineError("the server does not keep connections alive")
            self.closed = True
            if self.transport is not None:
                self.transport.close()
            self._fail(PipelineError("server closed the connection"))

    def _fail(self, exc: Exception) -> None:
        self.closed = True
        if self._sink is not None:
            self._sink.abort()
            self._sink = None
        self._length = None
        pending, self.pending = self.pending, deque()
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()
        self.client.requeue(pending, exc)


class PipelinedClient:
    def __init__(self, base_url: str, *, connections: int = 4, ssl=None, headers: dict | None = None,
                 username: str | None = None, password: str | None = None, stream_above: int = 1 << 20) -> None:
        parts = urlsplit(base_url)
        self.host = parts.hostname or "localhost"
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.ssl = ssl if parts.scheme == "https" else None
        self.prefix = parts.path if parts.path.endswith("/") else parts.path + "/"
        host_header = parts.netloc.rsplit("@", 1)[-1]
        extra = dict(headers or {})
        if username:
            token = base64.b64encode(f"{username}:{password or ''}".encode()).decode()
            extra["Authorization"] = f"Basic {token}"
        lines = [f"Host: {host_header}", "User-Agent: pulpwood-ostree", "Accept-Encoding: identity"]
        lines += [f"{name}: {value}" for name, value in extra.items()]
        self._header_block = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.connections_wanted = connections
        self.stream_above = stream_above
        self._connections: list[_Connection] = []
        self._connecting: asyncio.Lock | None = None
        self.broken: Exception | None = None
        self._queue: deque[_Request] = deque()

    def request_bytes(self, path: str) -> bytes:
        return f"GET {self.prefix}{path} HTTP/1.1\r\n".encode("utf-8") + self._header_block

    async def get(self, path: str, sink_factory: Callable[[int], Sink] | None = None) -> tuple[int, Any]:
        """(status, body bytes or the sink's result). Raises PipelineError to fall back."""
        if self.broken is not None:
            raise PipelineError(str(self.broken))
        request = _Request(path, asyncio.get_running_loop().create_future(), sink_factory)
        await self._dispatch(request)
        return await request.future

    async def _dispatch(self, request: _Request) -> None:
        connection = await self._pick()
        connection.send(request)

    async def _pick(self) -> _Connection:
        self._connections = [c for c in self._connections if not c.closed]
        open_ = [c for c in self._connections if len(c.pending) < MAX_IN_FLIGHT]
        if len(self._connections) < self.connections_wanted or not open_:
            if self._connecting is None:
                self._connecting = asyncio.Lock()
            async with self._connecting:
                self._connections = [c for c in self._connections if not c.closed]
                if len(self._connections) < self.connections_wanted:
                    loop = asyncio.get_running_loop()
                    try:
                        _, connection = await loop.create_connection(
                            lambda: _Connection(self), self.host, self.port, ssl=self.ssl)
                    except OSError as exc:
                        raise PipelineError(f"cannot connect: {exc}") from None
                    self._connections.append(connection)
            open_ = [c for c in self._connections if len(c.pending) < MAX_IN_FLIGHT]
        while not open_:
            # Every connection is full: wait for some answers.
            await asyncio.sleep(0.001)
            self._connections = [c for c in self._connections if not c.closed]
            if not self._connections:
                return await self._pick()
            open_ = [c for c in self._connections if len(c.pending) < MAX_IN_FLIGHT]
        return min(open_, key=lambda c: len(c.pending))

    def requeue(self, requests, exc: Exception) -> None:
        """Requests cut off by a closed connection go out again on another one."""
        for request in requests:
            request.attempts += 1
            if request.future.done():
                continue
            if request.attempts > 3 or self.broken is not None or "chunked" in str(exc):
                request.future.set_exception(PipelineError(str(exc)))
                continue
            task = asyncio.ensure_future(self._dispatch(request))
            task.add_done_callback(lambda t, r=request: _fail_from(t, r))

    def close(self) -> None:
        for connection in self._connections:
            if connection.transport is not None:
                connection.transport.close()
        self._connections = []


def _fail_from(task: asyncio.Task, request: _Request) -> None:
    if task.cancelled():
        if not request.future.done():
            request.future.cancel()
    elif task.exception() is not None and not request.future.done():
        request.future.set_exception(task.exception())
