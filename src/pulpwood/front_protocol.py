"""The protocol every connection starts with: the plain GETs of a pull, answered without uvicorn.

`ostree pull` asks for tens of thousands of small files, one simple GET each, over
connections it keeps for about a dozen requests. For each connection uvicorn's protocol built
an HTTP parser and looked up its loggers; for each request the parser called back into Python
once per header, and the protocol built an ASGI scope, checked the Upgrade offer that libcurl
makes on every request, and armed and cancelled a keep-alive timer. Reading such requests
here instead took the server CPU per small file from about 145 to about 120 µs (wrk with
libcurl's headers, keep-alive, this 2-core machine), before the app's own share was trimmed.

So a connection starts with `FrontProtocol`, which reads a request itself while it has the
one shape a pull sends: a whole GET or HEAD in one read, HTTP/1.1, no body, no Expect, no
websocket upgrade. It asks the app's `answer_now(method, raw_path, headers)` for it (see
asgi_server.py) and writes the answer in one piece.

At the first request it does not answer (another shape, a request split over two reads, or
one the app has no answer for at hand) it hands the connection to uvicorn's protocol for good
and gives it the bytes it read: from there on the connection is uvicorn's, as if it had had it
from the start, and uvicorn's protocol validates, answers errors, pipelines and runs the ASGI
app as it always did.
"""

from __future__ import annotations

import asyncio
import logging
import re

log = logging.getLogger(__name__)

# Bytes a request may hold besides the CR LF that end its lines: visible ASCII, space, tab.
_LINE_BYTES = bytes(range(0x20, 0x7F)) + b"\t"
_HEADER_LINE = re.compile(rb"^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[\t ]*([^\r\n]*)\r\n", re.MULTILINE)
_HAND_OVER = object()  # _keep_alive: the request is uvicorn's


def render_200(answer: tuple, default_headers: list, keep_alive: bool) -> bytes:
    """The bytes of the 200 answer `(head, body)` (`head`: the app's header lines) with the
    server's default headers."""
    return b"".join(_rendered(answer, default_headers, keep_alive))


def write_200(transport, answer: tuple, default_headers: list, keep_alive: bool) -> None:
    """Write the 200 answer `(head, body)`: one buffer, or for a big body the head and the
    body as they are (one writev; no copy of the body)."""
    parts = _rendered(answer, default_headers, keep_alive)
    if len(parts[-1]) < 65536:
        transport.write(b"".join(parts))
    else:
        transport.writelines((b"".join(parts[:-1]), parts[-1]))


_defaults: tuple[list | None, bytes] = (None, b"")


def _default_lines(default_headers: list) -> bytes:
    """uvicorn's default headers (date, server) as header lines. uvicorn sets a new list
    every second, so they are formatted once a second."""
    global _defaults
    key, lines = _defaults
    if key is not default_headers:
        lines = b"".join(b"%s: %s\r\n" % pair for pair in default_headers)
        _defaults = (default_headers, lines)
    return lines


def _rendered(answer: tuple, default_headers: list, keep_alive: bool) -> list[bytes]:
    head, body = answer
    # The app's header values are its own or copied from request headers, which never hold
    # line breaks (they were split on them).
    return [b"HTTP/1.1 200 OK\r\n", _default_lines(default_headers), head,
            b"\r\n" if keep_alive else b"connection: close\r\n\r\n", body]


def _simple_request(data: bytes):
    """(method, target, headers with lower-case names) when `data` is one whole request of
    the one shape answered here: a GET or HEAD line and `token: value` lines of visible
    ASCII, each ended by CR LF, then the blank line and nothing after it. None for anything
    else (a partial or pipelined read, obs-fold, other bytes): uvicorn's protocol reads those."""
    end = data.find(b"\r\n\r\n")
    # Every byte outside the line alphabet is a CR LF pair (a C-speed check of the whole read).
    if end != len(data) - 4 or data.translate(None, _LINE_BYTES) != b"\r\n" * data.count(b"\r\n"):
        return None
    line_end = data.find(b"\r\n")
    request_line = data[:line_end].split(b" ")
    if len(request_line) != 3 or b"\t" in data[:line_end]:
        return None
    method, target, version = request_line
    if (method != b"GET" and method != b"HEAD") or version != b"HTTP/1.1" or target[:1] != b"/":
        return None
    block = data[line_end + 2:end + 2]
    lines = _HEADER_LINE.findall(block)
    if len(lines) != block.count(b"\r\n"):  # a line that is not `token: value`
        return None
    return method, target, [(name.lower(), value.rstrip(b" \t")) for name, value in lines]


def _keep_alive(headers: list[tuple[bytes, bytes]]):
    """Whether the connection stays open after the answer; _HAND_OVER when the request has a
    body, expects a 100 Continue, or offers a websocket upgrade (libcurl's offer of h2c on every
    request is declined by answering over HTTP/1.1, as uvicorn does)."""
    keep_alive = True
    for name, value in headers:
        if name == b"connection":
            if b"close" in (token.strip() for token in value.lower().split(b",")):
                keep_alive = False
        elif name == b"upgrade":
            if value.lower() != b"h2c":
                return _HAND_OVER
        elif name == b"content-length":
            if value != b"0":
                return _HAND_OVER
        elif name in (b"transfer-encoding", b"expect"):
            return _HAND_OVER
    return keep_alive


class FrontProtocol(asyncio.Protocol):
    """Answers simple GET/HEAD requests from `answer_now` until the first one it does not,
    then hands the connection to `inner` (module docstring). `run` in asgi_server.py makes a
    subclass with both set; uvicorn constructs it like its own protocols."""

    answer_now = None  # the app's answer_now
    inner = None  # the uvicorn protocol class that takes the connection over

    def __init__(self, config, server_state, app_state, _loop=None) -> None:
        self._arguments = (config, server_state, app_state, _loop)
        self._loop = _loop or asyncio.get_event_loop()
        self._server_state = server_state
        self._timeout = config.timeout_keep_alive
        self.transport = None
        self._timer = None
        self._last = 0.0  # loop time of the last answer written (or of the connection)
        self._waiting = None  # the request (bytes) whose promised answer is awaited
        self._unread = b""  # bytes read while waiting
        self._write_paused = False
        self._reading_paused = False
        self._close_when_answered = False

    # asyncio.Protocol

    def connection_made(self, transport) -> None:
        self.transport = transport
        self._server_state.connections.add(self)
        self._last = self._loop.time()
        self._timer = self._loop.call_later(self._timeout, self._idle_check)

    def connection_lost(self, exc) -> None:
        self._server_state.connections.discard(self)
        self._stop_timer()

    def data_received(self, data: bytes) -> None:
        if self._waiting is not None:  # reading is paused meanwhile; this was read before that
            self._unread += data
            return
        request = _simple_request(data)
        if request is None:
            self._hand_over(data)
            return
        method, target, headers = request
        keep_alive = _keep_alive(headers)
        if keep_alive is _HAND_OVER:
            self._hand_over(data)
            return
        try:
            answer = self.answer_now(method, target.split(b"?", 1)[0], headers)
        except Exception:  # noqa: BLE001 - uvicorn's protocol and the ASGI app answer (or report) it
            log.exception("answering %r at once failed", target)
            answer = None
        if answer is None:
            self._hand_over(data)
        elif isinstance(answer, tuple):
            self._write(answer, keep_alive)
        else:  # a promise (content/fast/later.py): nothing more is read until it is kept
            self._waiting = data
            self._update_reading()
            answer.when_done(lambda answer: self._answered_later(answer, keep_alive))

    def eof_received(self) -> None:
        return None  # the transport closes itself, as with uvicorn's protocol

    def pause_writing(self) -> None:
        # The client does not read its answers: read no more requests until it does.
        self._write_paused = True
        self._update_reading()

    def resume_writing(self) -> None:
        self._write_paused = False
        self._update_reading()

    # uvicorn's server

    def shutdown(self) -> None:
        """uvicorn calls this on every connection when it stops: close once idle."""
        if self._waiting is None:
            self.transport.close()
        else:
            self._close_when_answered = True

    # own

    def _answered_later(self, answer, keep_alive: bool) -> None:
        request, self._waiting = self._waiting, None
        unread, self._unread = self._unread, b""
        if self.transport.is_closing():
            return
        if answer is None:
            self._hand_over(request + unread)
            return
        self._write(answer, keep_alive and not self._close_when_answered)
        if unread and not self.transport.is_closing():
            self.data_received(unread)
        self._update_reading()

    def _write(self, answer: tuple, keep_alive: bool) -> None:
        write_200(self.transport, answer, self._server_state.default_headers, keep_alive)
        self._server_state.total_requests += 1
        self._last = self._loop.time()
        if not keep_alive:
            self.transport.close()

    def _update_reading(self) -> None:
        pause = self._waiting is not None or self._write_paused
        if pause != self._reading_paused and not self.transport.is_closing():
            self._reading_paused = pause
            if pause:
                self.transport.pause_reading()
            else:
                self.transport.resume_reading()

    def _hand_over(self, data: bytes) -> None:
        """Give the connection, and what was read of it, to uvicorn's protocol for good."""
        self._stop_timer()
        self._server_state.connections.discard(self)
        transport = self.transport
        inner = self.inner(*self._arguments[:3], _loop=self._arguments[3])
        transport.set_protocol(inner)
        inner.connection_made(transport)
        if self._write_paused:
            inner.pause_writing()
            self._write_paused = False
        if self._reading_paused:
            self._reading_paused = False
            transport.resume_reading()
        if data:
            inner.data_received(data)

    def _idle_check(self) -> None:
        """Close the connection once it has been idle for uvicorn's keep-alive timeout; one
        timer per timeout instead of one armed and cancelled per request."""
        self._timer = None
        if self.transport.is_closing():
            return
        idle = self._loop.time() - self._last
        if self._waiting is None and idle >= self._timeout:
            self.transport.close()
            return
        self._timer = self._loop.call_later(max(self._timeout - idle, 0.05), self._idle_check)

    def _stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
