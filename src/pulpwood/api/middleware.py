"""ASGI middleware: the Correlation-ID header, echoed (or made) on every response."""

from __future__ import annotations

import uuid


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
