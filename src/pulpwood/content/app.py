"""The content app: serves distributions at CONTENT_PATH_PREFIX inside the same ASGI server.

A request is handled in two steps. *Planning* runs in one short read session: find the
distribution (longest base path that is a segment-wise prefix of the path), let its type's
resolver pick the serve target (content/targets.py), then look the path up with one or two
indexed queries (content/lookup.py). *Answering* happens after the session is closed: a stored
artifact is sent from storage, remote-only content is fetched and streamed
(content/ondemand.py), directories get an HTML listing, anything else `404: Not Found`.

Nearly every request of `ostree pull` is a plain GET of a stored file: the content prefix's
app tries those on its fast path first (content/fast/), which answers them the same way for
a fraction of the cost, and hands everything else to the general path described above.

Other front doors (the Pulp 2 web paths) serve repository versions or publications under
their own prefix with `mount_prefix(app, runtime, prefix, lookup)`: `lookup(session,
candidates, path)` gets the candidate base paths (longest first) and returns
`(matched_base_path, ServeTarget | None)` or None; or they call `serve_target` directly.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.routing import Mount

from pulpwood.content.fast import FastPath, fast_path_for
from pulpwood.content.files import serve_stored
from pulpwood.content.html import render_listing
from pulpwood.content.http import not_found, redirect, send_html, send_text, with_correlation_id
from pulpwood.content.lookup import (
    FileEntry, ListingEntry, path_under, find_file, is_directory, list_directory, remote_sources,
)
from pulpwood.content.ondemand import serve_remote
from pulpwood.content.paths import RequestPath, candidate_base_paths, split_path
from pulpwood.content.reads import content_sessions, planning
from pulpwood.content.targets import ServeTarget, find_distribution, resolver_for
from pulpwood.models import Distribution

log = logging.getLogger(__name__)

Lookup = Callable[[AsyncSession, list[str], RequestPath], Awaitable[tuple[str, ServeTarget | None] | None]]


@dataclass(frozen=True)
class Plan:
    """What to answer, decided inside the read session and carried out after it closed."""

    kind: str  # "not_found" | "redirect" | "html" | "stored" | "remote"
    location: str = ""
    body: bytes = b""
    entry: FileEntry | None = None
    sources: tuple[Any, ...] = ()


NOT_FOUND = Plan("not_found")


async def distribution_lookup(session: AsyncSession, candidates: list[str], path: RequestPath):
    distribution = await find_distribution(session, candidates)
    if distribution is None:
        return None
    rest = path.text[len(distribution.base_path) + 1:]
    target = await resolver_for(distribution.pulp_type)(session, distribution, rest)
    return distribution.base_path, target


async def distribution_index(session: AsyncSession, path: RequestPath) -> list[ListingEntry] | None:
    """Next path segments of the (non-hidden) base paths below `path`; None if there are none."""
    directory = path.text
    rows = await session.scalars(
        select(Distribution.base_path).where(Distribution.hidden.is_(False), path_under(Distribution.base_path, directory))
    )
    skip = len(directory) + 1 if directory else 0
    names = sorted({base_path[skip:].split("/", 1)[0] + "/" for base_path in rows})
    if not names and directory:
        return None
    return [ListingEntry(name, None, None) for name in names]


async def plan_target(session: AsyncSession, target: ServeTarget | None, relative: str, trailing_slash: bool,
                      display_path: str, raw_path: str) -> Plan:
    """Plan the answer for `relative` (no leading slash; '' = root) inside `target`."""
    if target is None:
        return NOT_FOUND
    if target.path is not None:
        relative = target.path
    if trailing_slash or not relative:
        index_path = f"{relative}/index.html" if relative else "index.html"
        entry = await find_file(session, target, index_path)
        if entry is not None:
            return await _file_plan(session, entry)
        entries = await list_directory(session, target, relative)
        if not entries and relative:
            return NOT_FOUND
        return Plan("html", body=render_listing(display_path, entries, parent_link=True))
    entry = await find_file(session, target, relative)
    if entry is not None:
        return await _file_plan(session, entry)
    if await is_directory(session, target, relative):
        return Plan("redirect", location=raw_path + "/")
    return NOT_FOUND


async def _file_plan(session: AsyncSession, entry: FileEntry) -> Plan:
    if entry.artifact_file is not None:
        return Plan("stored", entry=entry)
    if entry.content_artifact_id is None:
        return NOT_FOUND
    sources = tuple(await remote_sources(session, entry.content_artifact_id))
    # No bytes stored and nowhere to fetch them from (e.g. the remote was deleted).
    return Plan("remote", entry=entry, sources=sources) if sources else NOT_FOUND


async def carry_out(scope, send, runtime, plan: Plan) -> None:
    head = scope["method"] == "HEAD"
    if plan.kind == "stored":
        await serve_stored(scope, send, runtime.storage, plan.entry)
    elif plan.kind == "remote":
        await serve_remote(scope, send, runtime, plan.entry, list(plan.sources))
    elif plan.kind == "html":
        await send_html(send, plan.body, head)
    elif plan.kind == "redirect":
        await redirect(send, plan.location, head)
    else:
        await not_found(send, head)


async def serve_target(scope, send, runtime, target: ServeTarget | None, relative: str, *,
                       trailing_slash: bool = False) -> None:
    """Answer one request for `relative` inside `target` (for front doors with their own routing).

    `relative` is only ever compared with names in the database; build it with `split_path` so
    that tricks like `..` are refused the same way as here."""
    raw_path = (scope.get("raw_path") or scope["path"].encode()).split(b"?", 1)[0].decode("latin-1")
    plan = await planning(content_sessions(runtime), lambda session: plan_target(
        session, target, relative, trailing_slash, scope["path"], raw_path))
    await carry_out(scope, send, runtime, plan)


class ContentApp:
    """Raw ASGI app answering GET/HEAD below `prefix` (which starts and ends with '/')."""

    def __init__(self, runtime, prefix: str, lookup: Lookup = distribution_lookup, with_index: bool = True,
                 fast: FastPath | None = None) -> None:
        self.runtime = runtime
        self.prefix = prefix
        self._prefix = prefix.encode()
        self.lookup = lookup
        self.with_index = with_index
        self._sessions = content_sessions(runtime)
        # Plain GETs of stored files are tried here first (content/fast/); None: general path only.
        self.fast = fast

    def answer_now(self, method: bytes, raw: bytes, headers):
        """`(head, body)` of the answer to a request the fast path can answer without
        waiting, or a promise of it (FastPath.answer_now); None: the request goes through
        `__call__`. `raw` is the raw path (no query), `headers` the request's (lower-case names)."""
        if self.fast is None or (method != b"GET" and method != b"HEAD") or not raw.startswith(self._prefix):
            return None
        path = split_path(raw[len(self._prefix):])
        if path is None or not path.segments or path.trailing_slash:
            return None
        try:
            return self.fast.answer_now(path.text, headers, method == b"HEAD")
        except Exception:  # e.g. a database error: `__call__` answers (or reports it)
            log.exception("content app fast path failed on %s", raw.decode("latin-1"))
            return None

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        method = scope["method"]
        raw = (scope.get("raw_path") or scope["path"].encode()).split(b"?", 1)[0]
        path = split_path(raw[len(self._prefix):]) if raw.startswith(self._prefix) else None
        if (self.fast is not None and path is not None and path.segments and not path.trailing_slash
                and (method == "GET" or method == "HEAD")):
            try:
                if await self.fast.serve(scope, send, path.text):
                    return
            except Exception:  # e.g. a database error: the general path answers (or reports it)
                log.exception("content app fast path failed on %s", scope["path"])
        send = with_correlation_id(scope, send)
        head = method == "HEAD"
        if method not in ("GET", "HEAD"):
            await send_text(send, 405, "405: Method Not Allowed")
            return
        if raw == self._prefix[:-1]:
            await redirect(send, self.prefix, head)
            return
        if path is None:
            await not_found(send, head)
            return
        started = False

        async def tracking_send(message) -> None:
            nonlocal started
            started = True
            await send(message)

        try:
            plan = await planning(self._sessions, lambda session: self._plan(session, path, raw.decode("latin-1")))
            await carry_out(scope, tracking_send, self.runtime, plan)
        except Exception:
            log.exception("content app failed on %s", scope["path"])
            if not started:
                await send_text(send, 500, "500: Internal Server Error", head)

    async def _plan(self, session: AsyncSession, path: RequestPath, raw_path: str) -> Plan:
        display = self.prefix + path.text + ("/" if path.segments else "")
        found = await self.lookup(session, candidate_base_paths(path.segments), path) if path.segments else None
        if found is None:
            entries = await distribution_index(session, path) if self.with_index else None
            if entries is None:
                return NOT_FOUND
            if not path.trailing_slash:
                return Plan("redirect", location=raw_path + "/")
            return Plan("html", body=render_listing(display, entries, parent_link=bool(path.segments)))
        base_path, target = found
        relative = path.text[len(base_path) + 1:]
        if not relative and not path.trailing_slash:
            return Plan("redirect", location=raw_path + "/")
        return await plan_target(session, target, relative, path.trailing_slash, display, raw_path)


def mount_prefix(app, runtime, prefix: str, lookup: Lookup, *, with_index: bool = False,
                 fast: FastPath | None = None) -> ContentApp:
    """Serve versions/publications below `prefix`, answered before any API route or middleware.

    `app` is the server app (pulpwood.server.create_app), which keeps its content prefixes in
    `app.content_doors`."""
    content = ContentApp(runtime, prefix, lookup, with_index=with_index, fast=fast)
    app.content_doors.add(prefix, content)
    return content


def mount_content(app, runtime) -> None:
    """Mount the content app at CONTENT_PATH_PREFIX, plus plugins' own content mounts."""
    from pulpwood.registry import plugins

    mount_prefix(app, runtime, runtime.settings.content_path_prefix, distribution_lookup, with_index=True,
                 fast=fast_path_for(runtime))
    for spec in plugins():
        for prefix, factory in spec.content_mounts.items():
            app.router.routes.insert(0, Mount(prefix.rstrip("/"), app=factory(runtime)))
