"""A small HTTP/1.1 client that pipelines GETs over a few keep-alive connections.

An OSTree repository is tens of thousands of small files. Sent one request per round trip,
each costs a send, a receive and an event-loop wake-up plus a general-purpose client's
bookkeeping; pipelined, many requests leave in one write and many responses arrive in one
read. Static servers (nginx, Apache, our own content app) answer pipelined requests in order.

Requests are *submitted* without awaiting: they wait in one backlog, and a connection takes
the next ones whenever it has fewer than MAX_IN_FLIGHT outstanding, so the pipes stay full
without a coroutine per request. Each request names a callback that gets the outcome;
`get()` wraps that in a future for callers that want to await one file. `hold()` stops
sending (the caller's back pressure: answers arrive faster than they can be stored).

Scope is deliberately narrow: GET, `Content-Length` bodies, plain or TLS, no proxy. Anything
else (chunked bodies, a server that closes every connection, one that keeps dropping them)
fails the request with PipelineError, and the caller falls back to the general Downloader,
which has the retries, proxies and timeouts. Responses larger than `stream_above` are not
buffered: their bytes go to a sink the caller supplies, so a big file never sits in memory.
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections import deque
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

MAX_IN_FLIGHT = 48  # per connection
MAX_HEADER = 64 * 1024
FLUSH_EARLY = 8  # requests in flight below which a new one is sent at once
FLUSH_DELAY = 0.002
MAX_ATTEMPTS = 3  # sends of one request over connections that closed under it
# A connection with requests outstanding and no byte received for this long is dropped
# (its requests go out again elsewhere, and after MAX_ATTEMPTS to the regular downloader).
DEFAULT_STALL_TIMEOUT = 60.0


class PipelineError(Exception):
    """The pipelined path cannot answer this request; use the regular downloader."""


class Sink:
    """Receives a large body chunk by chunk; `finish()`'s value is the request's result."""

    def write(self, chunk: bytes) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def finish(self) -> Any:  # pragma: no cover - interface
        raise NotImplementedError

    def abort(self) -> None:
        pass


# on_done(status, body or the sink's result, None) or on_done(0, None, exception)
Callback = Callable[[int, Any, BaseException | None], None]


class Request:
    __slots__ = ("path", "on_done", "sink_factory", "attempts", "done", "urgent")

    def __init__(self, path: str, on_done: Callback, sink_factory: Callable[[int], Sink] | None = None) -> None:
        self.path = path
        self.on_done = on_done
        self.sink_factory = sink_factory
        self.attempts = 0
        self.done = False
        self.urgent = False

    def finish(self, status: int, result: Any, error: BaseException | None = None) -> None:
        if not self.done:
            self.done = True
            self.on_done(status, result, error)


class _Connection(asyncio.Protocol):
    def __init__(self, client: PipelinedClient) -> None:
        self.client = client
        self.transport: asyncio.Transport | None = None
        self.pending: deque[Request] = deque()
        self.buffer = bytearray()
        self.closed = False
        # State of the response being read.
        self._length: int | None = None
        self._status = 0
        self._remaining = 0
        self._sink: Sink | None = None
        self._close_after = False
        self._out: list[bytes] = []
        self._flush_scheduled = False
        self.answered = 0
        self.last_read = 0.0

    # -- asyncio.Protocol
    def connection_made(self, transport) -> None:
        self.transport = transport
        self.last_read = self.client.now()

    def data_received(self, data: bytes) -> None:
        self.last_read = self.client.now()
        self.buffer += data
        try:
            self._parse()
        except PipelineError as exc:
            self._fail(exc)
        self.client.pump()

    def connection_lost(self, exc) -> None:
        self._fail(PipelineError(f"connection closed: {exc}"))

    # -- sending
    def send(self, request: Request) -> None:
        if not self.pending:
            self.last_read = self.client.now()  # the stall clock starts with the first request
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
        self._out.clear()

    # -- parsing
    def _parse(self) -> None:
        buffer = self.buffer
        consumed = 0
        try:
            while True:
                if self._length is None:
                    end = buffer.find(b"\r\n\r\n", consumed)
                    if end < 0:
                        if len(buffer) - consumed > MAX_HEADER:
                            raise PipelineError("response header too large")
                        return
                    self._start_response(bytes(buffer[consumed:end]))
                    consumed = end + 4
                available = len(buffer) - consumed
                if self._sink is not None:
                    take = min(self._remaining, available)
                    if take:
                        self._sink.write(bytes(buffer[consumed:consumed + take]))
                        consumed += take
                        self._remaining -= take
                    if self._remaining:
                        return
                    self._finish_response(None)
                elif available >= self._remaining:
                    body = bytes(buffer[consumed:consumed + self._remaining])
                    consumed += self._remaining
                    self._remaining = 0
                    self._finish_response(body)
                else:
                    return
                if self.closed:
                    return
        finally:
            # One deletion per read, not one per response: cutting the front of a
            # bytearray moves everything behind it.
            if consumed:
                del buffer[:consumed]

    def _start_response(self, head: bytes) -> None:
        if not self.pending:
            raise PipelineError("response without a request")
        lines = head.split(b"\r\n")
        parts = lines[0].split(b" ", 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
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

    def _finish_response(self, body: bytes | None) -> None:
        request = self.pending.popleft()
        self.answered += 1
        status, sink = self._status, self._sink
        self._length, self._sink = None, None
        if sink is not None:
            try:
                result = sink.finish()
            except Exception as exc:  # noqa: BLE001 - the request's owner reports it
                request.finish(status, None, exc)
            else:
                request.finish(status, result)
        else:
            request.finish(status, body)
        if self._close_after:
            if self.answered == 1:
                # One response per connection (HTTP/1.0 style): pipelining cannot help here.
                self.client.broken = PipelineError("the server does not keep connections alive")
            self._fail(PipelineError("server closed the connection"))

    def _fail(self, exc: PipelineError) -> None:
        if self.closed:
            return
        self.closed = True
        if self._sink is not None:
            self._sink.abort()
            self._sink = None
        self._length = None
        pending, self.pending = self.pending, deque()
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()
        self.client.lost(self, pending, exc)


class PipelinedClient:
    def __init__(self, base_url: str, *, connections: int = 4, ssl=None, headers: dict | None = None,
                 username: str | None = None, password: str | None = None, stream_above: int = 1 << 20,
                 stall_timeout: float = DEFAULT_STALL_TIMEOUT) -> None:
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
        self.broken: PipelineError | None = None
        self._connections: list[_Connection] = []
        self._opening = 0
        self._backlog: deque[Request] = deque()
        self._held = False
        self._reading_paused = False
        self._closed = False
        self.stall_timeout = stall_timeout
        self._watchdog: asyncio.TimerHandle | None = None
        self.now = time.monotonic

    @property
    def capacity(self) -> int:
        """Requests worth having outstanding at once."""
        return self.connections_wanted * MAX_IN_FLIGHT

    def request_bytes(self, path: str) -> bytes:
        return b"GET " + (self.prefix + path).encode("utf-8") + b" HTTP/1.1\r\n" + self._header_block

    # -- submitting

    async def get(self, path: str, sink_factory: Callable[[int], Sink] | None = None) -> tuple[int, Any]:
        """(status, body bytes or the sink's result). Raises PipelineError to fall back."""
        future = asyncio.get_running_loop().create_future()

        def done(status: int, result: Any, error: BaseException | None) -> None:
            if future.done():
                return
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result((status, result))

        # Awaited one by one (metadata a tree walk waits for): ahead of the submitted bulk.
        self.submit(Request(path, done, sink_factory), urgent=True)
        return await future

    def submit(self, request: Request, *, urgent: bool = False) -> None:
        """Queue a request (`urgent`: before those already waiting); its callback runs on
        the event loop when it is answered."""
        if self.broken is not None or self._closed:
            request.finish(0, None, PipelineError(str(self.broken or "the client is closed")))
            return
        if urgent:
            request.urgent = True
            self._backlog.appendleft(request)
        else:
            self._backlog.append(request)
        self.pump()

    def hold(self, *, stop_reading: bool = False) -> None:
        """Send nothing more until `release()`; with `stop_reading`, also stop reading
        answers (TCP then makes the server wait): a hard bound on what piles up."""
        self._held = True
        if stop_reading and not self._reading_paused:
            self._reading_paused = True
            for connection in self._connections:
                if connection.transport is not None:
                    connection.transport.pause_reading()

    def release(self) -> None:
        self._held = False
        if self._reading_paused:
            self._reading_paused = False
            now = self.now()
            for connection in self._connections:
                connection.last_read = now  # waiting for us is not a stall of the server
                if connection.transport is not None and not connection.transport.is_closing():
                    connection.transport.resume_reading()
        self.pump()

    def pump(self) -> None:
        """Hand backlog requests to connections with room; open connections as needed.

        While held, only urgent requests (small metadata somebody waits for) still go."""
        backlog = self._backlog
        if not backlog or (self._held and not backlog[0].urgent):
            return
        if len(self._connections) + self._opening < self.connections_wanted:
            self._open_connections()
        for connection in self._connections:
            while backlog and len(connection.pending) < MAX_IN_FLIGHT:
                if self._held and not backlog[0].urgent:
                    return
                request = backlog.popleft()
                if not request.done:
                    connection.send(request)
            if not backlog:
                return

    # -- connections

    def _open_connections(self) -> None:
        loop = asyncio.get_running_loop()
        while len(self._connections) + self._opening < self.connections_wanted:
            self._opening += 1
            loop.create_task(self._open_one())

    async def _open_one(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            _, connection = await loop.create_connection(lambda: _Connection(self), self.host, self.port,
                                                         ssl=self.ssl)
        except OSError as exc:
            self._opening -= 1
            if not self._connections and not self._opening:
                # Nothing can carry the backlog: hand every request back to its owner.
                self._fail_backlog(PipelineError(f"cannot connect: {exc}"))
            else:
                # The server takes no more connections from us: make do with those we have.
                self.connections_wanted = max(len(self._connections) + self._opening, 1)
            return
        self._opening -= 1
        if self._closed:
            connection.transport.close()
            return
        self._connections.append(connection)
        if self._reading_paused:
            connection.transport.pause_reading()
        if self._watchdog is None:
            self._watch()
        self.pump()

    def _watch(self) -> None:
        now = self.now()
        for connection in list(self._connections):
            if self._reading_paused:
                connection.last_read = now
            elif connection.pending and now - connection.last_read > self.stall_timeout:
                connection._fail(PipelineError(f"no answer from {self.host}:{self.port} for "
                                               f"{self.stall_timeout:g} s"))
        self._watchdog = None if self._closed else asyncio.get_running_loop().call_later(
            min(1.0, self.stall_timeout / 4), self._watch)

    def lost(self, connection: _Connection, pending: deque[Request], exc: PipelineError) -> None:
        """A connection closed: its unanswered requests go out again on another one."""
        if connection in self._connections:
            self._connections.remove(connection)
        retry = []
        for request in pending:
            request.attempts += 1
            if request.done:
                continue
            if request.attempts >= MAX_ATTEMPTS or self.broken is not None or self._closed or "chunked" in str(exc):
                request.finish(0, None, exc)
            else:
                retry.append(request)
        self._backlog.extendleft(reversed(retry))
        if self.broken is not None:
            self._fail_backlog(self.broken)
        elif not self._closed:
            asyncio.get_running_loop().call_soon(self.pump)

    def _fail_backlog(self, exc: PipelineError) -> None:
        backlog, self._backlog = self._backlog, deque()
        for request in backlog:
            request.finish(0, None, exc)

    def close(self) -> None:
        self._closed = True
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        for connection in list(self._connections):
            connection.closed = True
            if connection.transport is not None:
                connection.transport.close()
        self._connections = []
        self._backlog.clear()
