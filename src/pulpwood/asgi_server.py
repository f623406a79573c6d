"""How pulpwood runs uvicorn: one send per response, and no warning per `ostree pull` request.

uvicorn writes the status line and headers of a response, then each body part, with one
transport write each, and uvloop sends every write at once. A small file therefore left as
two TCP segments: two send calls here, and two wake-ups of the client, which for `ostree
pull` (tens of thousands of small files) cost more than serving the file. `CoalescingTransport`
gathers what is written during one pass of the event loop and sends it with one `writelines`
(one `writev`) at the end of that pass.
"""

from __future__ import annotations

import asyncio
import logging

from uvicorn.protocols.http.auto import AutoHTTPProtocol


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
    """uvicorn's HTTP/1.1 protocol (httptools when installed) over a CoalescingTransport."""

    def connection_made(self, transport: asyncio.Transport) -> None:
        super().connection_made(CoalescingTransport(transport, asyncio.get_running_loop()))

    def _unsupported_upgrade_warning(self) -> None:
        # uvicorn's httptools protocol calls this for every upgrade offer it does not take
        # (see QuietUpgrades): building the log record only for the filter to drop it cost
        # several microseconds per `ostree pull` request. The filter stays for the h11
        # protocol and in case this hook goes away.
        pass


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
    uvicorn.run(app, host=host, port=port, http=HTTPProtocol, log_level=log_level, access_log=False,
                lifespan="on")
