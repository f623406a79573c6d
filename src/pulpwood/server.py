"""The composition root: one ASGI app out of the API and content front doors, with the
process's status rows and heartbeats; and the task catalogue every process loads.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from fastapi import FastAPI

from pulpwood.api.app import install_api
from pulpwood.api.app import load_task_functions as load_api_tasks
from pulpwood.api.middleware import CorrelationIdMiddleware
from pulpwood.content.app import mount_content
from pulpwood.content.doors import ContentDoors
from pulpwood.content.pulp2_paths import mount_v2_content
from pulpwood.models.worker import API_APP, CONTENT_APP
from pulpwood.runtime import Runtime
from pulpwood.worker.heartbeat import heartbeat, reap_missing, register_app, unregister_app

log = logging.getLogger(__name__)


def load_task_functions() -> None:
    """Register every core task function (plugins bring theirs in their PluginSpec)."""
    load_api_tasks()


async def _heartbeats(runtime: Runtime, app_ids: list) -> None:
    interval = max(runtime.settings.worker_ttl / 3, 0.5)
    while True:
        await asyncio.sleep(interval)
        try:
            for app_id in app_ids:
                await heartbeat(runtime, app_id)
            await reap_missing(runtime)
        except Exception:  # noqa: BLE001 - retried at the next beat
            log.exception("heartbeat failed")


class ServerApp(FastAPI):
    """The API app, with requests below a content prefix answered before its middleware
    stack (content/doors.py says why)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.content_doors = ContentDoors()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            content = self.content_doors.find(scope)
            if content is not None:
                await content(scope, receive, send)
                return
        await super().__call__(scope, receive, send)

    def answer_now(self, method: bytes, raw: bytes, headers):
        """`(head, body)` of a 200 answer the content app can give at once (`head`: its header
        lines, `name: value\r\n` each), or a promise
        of it (content/fast/later.py); None: the request goes the ASGI way (asgi_server.py asks this first)."""
        content = self.content_doors.find_raw(raw)
        answer_now = getattr(content, "answer_now", None)
        return None if answer_now is None else answer_now(method, raw, headers)


def create_app(runtime: Runtime, *, serve_api: bool = True, serve_content: bool = True) -> ServerApp:
    load_task_functions()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        app_ids = []
        if serve_api:
            app_ids.append(await register_app(runtime, API_APP))
        if serve_content:
            app_ids.append(await register_app(runtime, CONTENT_APP))
        # Tasks this process runs inline are recorded against its first status row.
        runtime.app_status_id = app_ids[0] if app_ids else None
        beat = asyncio.ensure_future(_heartbeats(runtime, app_ids))
        try:
            yield
        finally:
            beat.cancel()
            for app_id in app_ids:
                with contextlib.suppress(Exception):
                    await unregister_app(runtime, app_id)
            await runtime.close()

    app = ServerApp(docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan, redirect_slashes=False)
    app.state.runtime = runtime
    if serve_api:
        install_api(app, runtime)
    if serve_content:
        mount_content(app, runtime)
        mount_v2_content(app, runtime)
    app.add_middleware(CorrelationIdMiddleware)
    return app
