"""How pulpwood runs uvicorn: one send per response, and no warning per `ostree pull` request.

uvicorn writes the status line and headers of a response, then each body part, with one
transport write each, and uvloop sends every write at once. A small file therefore left as
two TCP segments: two send calls here, and two wake-ups of the client, which for `ostree
pull` (tens of thousands of small files) cost more than serving the file. `CoalescingTransport`
gathers what is written during one pass of the event loop and sends it with one `writelines`
(one `writev`) at the end of that pass. (An answer written here in one piece goes out at once.)

Building the ASGI request of a GET (its scope, a request/response cycle, a task, two sends
that check every header) cost more than the content app's whole answer to it when the file
is small and cached. So the protocol first asks the app's `answer_now(method, raw_path,
headers)` and writes the response itself when the app has it at hand. When the app needs a
database round trip or a disk read first, it gets a promise of the answer instead
(`when_done(callback)`): the protocol writes the answer when it comes, in uvicorn's place
(and starts the ASGI app when the answer is None).
Every other request (and every request while an earlier one on the connection is still being
answered, which keeps the answers in order) goes the ASGI way.

A connection reaches this protocol only once the front protocol (front_protocol.py), which
reads the plain GETs of a pull without uvicorn's machinery, has met a request it does not
answer itself; from then on this protocol answers as above.
"""

from __future__ import annotations

import asyncio
import functools
import logging

from uvicorn.protocols.http.auto import AutoHTTPProtocol

from pulpwood.front_protocol import FrontProtocol, render_200

log = logging.getLogger(__name__)


def _nothing() -> None:
    pass


def _ignore(answer) -> None:
    pass


class CoalescingTransport:
    """A transport whose writes go out together at the end of the current loop pass."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []

    def write(self, data: bytes) -> None:
        if not data:
            return
        if not self._pending:
            self._loop.call_soon(self._flush)
        self._pending.append(data)

    def writelines(self, lines) -> None:
        for data in lines:
            self.write(data)

    def write_whole(self, data: bytes) -> None:
        """Write a whole response: at once when nothing waits to go out before it."""
        if self._pending:
            self._pending.append(data)
        elif not self._transport.is_closing():
            self._transport.write(data)

    def _flush(self) -> None:
        pending, self._pending = self._pending, []
        if pending and not self._transport.is_closing():
            self._transport.writelines(pending)

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def abort(self) -> None:
        self._pending = []
        self._transport.abort()

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + sum(len(data) for data in self._pending)

    def __getattr__(self, name: str):
        # Everything else (is_closing, pause/resume_reading, get_extra_info, set_protocol, ...)
        # is the real transport's.
        return getattr(self._transport, name)


class HTTPProtocol(AutoHTTPProtocol):
    """uvicorn's HTTP/1.1 protocol (httptools when installed) over a CoalescingTransport,
    answering what the app can answer at once without an ASGI request (module docstring)."""

    # The app's `answer_now`, set by `run` on a subclass; None: every request goes the ASGI way.
    answer_now = None
    _answered_now = False
    _pending = None  # the promised answer to the request being started (module docstring)

    def connection_made(self, transport: asyncio.Transport) -> None:
        super().connection_made(CoalescingTransport(transport, asyncio.get_running_loop()))

    def on_message_begin(self) -> None:
        self._answered_now = False
        super().on_message_begin()

    def on_headers_complete(self) -> None:
        if self.answer_now is not None and self._answer_now():
            self._answered_now = True
            return
        super().on_headers_complete()
        if self._pending is not None:  # not started (cannot happen: no earlier request was in progress)
            self._pending.when_done(_ignore)
            self._pending = None

    def _start_asgi_task(self, cycle, app) -> None:
        pending, self._pending = self._pending, None
        if pending is None:
            super()._start_asgi_task(cycle, app)
            return
        pending.when_done(functools.partial(self._answer_later, cycle, app))

    def _answer_later(self, cycle, app, answer) -> None:
        """Write the promised answer as uvicorn's request cycle would (its keep-alive and
        pipelining rules); the ASGI app answers when it is None. No task and no ASGI sends:
        those cost more than the rest of the answer."""
        if answer is None:
            super()._start_asgi_task(cycle, app)
            return
        cycle.on_response = _nothing  # as run_asgi does: no reference cycle through the protocol
        if cycle.disconnected:
            return
        # No flow-control wait: writing was not paused when the request came (`_answer_now`
        # checks) and nothing else writes on this connection while it waits (a pipelined
        # request waits for this one).
        cycle.response_started = cycle.response_complete = True
        self._write_answer(answer, cycle.keep_alive)

    def on_body(self, body: bytes) -> None:
        if not self._answered_now:
            super().on_body(body)

    def on_message_complete(self) -> None:
        if not self._answered_now:
            super().on_message_complete()

    def _answer_now(self) -> bool:
        """Write the app's immediate answer to this request, if it has one."""
        cycle = self.cycle
        if ((cycle is not None and not cycle.response_complete) or self.pipeline or self.flow.write_paused
                or self.expect_100_continue or self.access_log or self.root_path
                or not self.url.startswith(b"/") or self.parser.should_upgrade() and self._should_upgrade()):
            return False
        try:
            answer = self.answer_now(self.parser.get_method(), self.url.split(b"?", 1)[0], self.headers)
        except Exception:  # noqa: BLE001 - the ASGI way answers (or reports) it
            log.exception("answering %r at once failed", self.url)
            return False
        if answer is None:
            return False
        if not isinstance(answer, tuple):  # a promise (`when_done`): see _start_asgi_task
            self._pending = answer
            return False
        self._write_answer(answer, self.parser.get_http_version() != "1.0" and self.parser.should_keep_alive())
        return True

    def _write_answer(self, answer, keep_alive: bool) -> None:
        """Write a 200 answer, then do what uvicorn does after each response."""
        self.transport.write_whole(render_200(answer, self.server_state.default_headers, keep_alive))
        if not keep_alive:
            self.transport.close()
        # Count it, then arm the keep-alive timeout or start the next pipelined request.
        self.on_response_complete()

    def _unsupported_upgrade_warning(self) -> None:
        # uvicorn's httptools protocol calls this for every upgrade offer it does not take
        # (see QuietUpgrades): building the log record only for the filter to drop it cost
        # several microseconds per `ostree pull` request. The filter stays for the h11
        # protocol and in case this hook goes away.
        pass


def _is_httptools(protocol) -> bool:
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:  # no httptools: uvicorn's h11 protocol
        return False
    return issubclass(protocol, HttpToolsProtocol)


class QuietUpgrades(logging.Filter):
    """Drops uvicorn's "Unsupported upgrade request." warning.

    libcurl (so `ostree pull`) offers `Upgrade: h2c` on every plain-HTTP request; uvicorn
    answers over HTTP/1.1 as it should, but logged the warning once per request: tens of
    thousands of lines for one pull.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return record.msg != "Unsupported upgrade request."


def run(app, host: str, port: int, log_level: str) -> None:
    import uvicorn

    # uvicorn's logging setup keeps a logger's filters (it only replaces handlers).
    logging.getLogger("uvicorn.error").addFilter(QuietUpgrades())
    protocol = HTTPProtocol
    answer_now = getattr(app, "answer_now", None)
    if answer_now is not None and _is_httptools(HTTPProtocol):  # its parser callbacks are what is overridden
        protocol = type("AnsweringHTTPProtocol", (HTTPProtocol,), {"answer_now": staticmethod(answer_now)})
        # Connections start with the front protocol and move to that one at the first request
        # it does not answer itself (front_protocol.py).
        protocol = type("AnsweringFrontProtocol", (FrontProtocol,),
                        {"answer_now": staticmethod(answer_now), "inner": protocol})
    uvicorn.run(app, host=host, port=port, http=protocol, log_level=log_level, access_log=False,
                lifespan="on")
