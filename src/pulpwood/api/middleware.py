"""ASGI middleware: the Correlation-ID header, echoed (or made) on every response; writes
announced to the content apps before they are answered."""

from __future__ import annotations

import logging
import uuid

from pulpwood.queries.serve_changes import announce

log = logging.getLogger(__name__)


class CorrelationIdMiddleware:
    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        cid = None
        for name, value in scope["headers"]:
            if name == b"correlation-id":
                cid = value.decode("latin-1")
                break
        cid = cid or uuid.uuid4().hex
        scope["pulp_cid"] = cid

        async def send_with_cid(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"correlation-id", cid.encode("latin-1")))
                headers.append((b"access-control-expose-headers", b"Correlation-ID"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_cid)


class AnnounceCommitsMiddleware:
    """A request that may have written answers only after the content apps have heard of it
    (queries/serve_changes.py): the client's next content request sees what it changed."""

    _READS = frozenset(("GET", "HEAD", "OPTIONS"))

    def __init__(self, app, runtime) -> None:
        self.app = app
        self.runtime = runtime

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] in self._READS or self.runtime.settings.is_sqlite:
            return await self.app(scope, receive, send)

        announced = False

        async def send_after_announcing(message):
            nonlocal announced
            if message["type"] == "http.response.start" and not announced:
                announced = True
                await self._announce()
            await send(message)

        try:
            await self.app(scope, receive, send_after_announcing)
        finally:
            if not announced:  # an error on its way to the 500 answer: it may have committed
                await self._announce()

    async def _announce(self) -> None:
        try:
            await announce(self.runtime)
        except Exception:  # noqa: BLE001 - the answer still goes out; the content apps hear of
            # the commit from the tables' triggers, a moment later
            log.exception("could not announce a commit to the content apps")
