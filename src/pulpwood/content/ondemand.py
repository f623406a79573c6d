"""Content whose bytes are still remote (on_demand / streamed remotes).

The bytes are fetched from the RemoteArtifact URL and sent to the client while they are
hashed into a temporary file. The last piece is held back until the whole download is
verified, so a client never receives a complete body whose digest or size is wrong: on a
mismatch the connection is dropped and nothing is stored. After a verified download an
`on_demand` remote's artifact is committed to storage and attached to its ContentArtifact
(the next request is served from storage); a `streamed` remote's bytes are discarded.

Range requests and HEAD on such content still download the whole object (Pulp does the
same), the client gets only its slice.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections import OrderedDict
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from pulpwood.content.files import file_headers, send_unsatisfiable, serve_path, slice_for
from pulpwood.content.http import header, send_text
from pulpwood.content.lookup import FileEntry
from pulpwood.download.config import DownloadConfig
from pulpwood.download.http import CHUNK, DownloadError, Downloader
from pulpwood.errors import DigestMismatch
from pulpwood.models import Artifact, ContentArtifact
from pulpwood.storage.filesystem import StoredFile

log = logging.getLogger(__name__)


class _Aborted(Exception):
    """The download went wrong after the response started: drop the connection."""


async def attach_artifact(runtime, content_artifact_id: uuid.UUID, stored: StoredFile) -> uuid.UUID:
    """Get or create the Artifact for a committed file and point the ContentArtifact at it."""
    sha256 = stored.digests["sha256"]
    async with runtime.write_session() as session:
        async with session.begin():
            artifact_id = await session.scalar(select(Artifact.pulp_id).where(Artifact.sha256 == sha256))
            if artifact_id is None:
                artifact = Artifact(file=stored.file, size=stored.size, **stored.digests)
                try:
                    async with session.begin_nested():
                        session.add(artifact)
                except IntegrityError:  # another request stored the same bytes first
                    artifact_id = await session.scalar(select(Artifact.pulp_id).where(Artifact.sha256 == sha256))
                else:
                    artifact_id = artifact.pulp_id
            await session.execute(
                update(ContentArtifact)
                .where(ContentArtifact.pulp_id == content_artifact_id, ContentArtifact.artifact_id.is_(None))
                .values(artifact_id=artifact_id)
            )
    return artifact_id


@dataclass
class _Pooled:
    downloader: Downloader
    users: int = 0
    evicted: bool = False


class DownloaderPool:
    """Open Downloaders per remote, so on-demand fetches reuse connections (and TLS sessions)
    and share the remote's rate limit. Keyed by the remote's id and last update, so an edited
    remote gets a fresh one; the least recently used are closed once nobody streams from them."""

    def __init__(self, size: int = 32) -> None:
        self.size = size
        self._entries: OrderedDict[tuple, _Pooled] = OrderedDict()

    @contextlib.asynccontextmanager
    async def lease(self, source, storage):
        key = (source.pulp_id, source.pulp_last_updated)
        entry = self._entries.get(key)
        if entry is None:
            downloader = Downloader(DownloadConfig.from_remote(source), storage)
            await downloader.__aenter__()
            entry = self._entries[key] = _Pooled(downloader)
            await self._evict()
        else:
            self._entries.move_to_end(key)
        entry.users += 1
        try:
            yield entry.downloader
        finally:
            entry.users -= 1
            if entry.evicted and entry.users == 0:
                await entry.downloader.__aexit__(None, None, None)

    async def _evict(self) -> None:
        while len(self._entries) > self.size:
            _, old = self._entries.popitem(last=False)
            old.evicted = True
            if old.users == 0:
                await old.downloader.__aexit__(None, None, None)


def _pool(runtime) -> DownloaderPool:
    pool = runtime.extras.get("content_downloaders")
    if pool is None:
        pool = runtime.extras["content_downloaders"] = DownloaderPool()
    return pool


def _expected(source) -> dict:
    return {"size": source.artifact_size, "sha256": source.artifact_sha256}


async def serve_remote(scope, send, runtime, entry: FileEntry, sources: list) -> None:
    """Serve `entry` from the first of `sources` (RemoteArtifact + Remote rows) that answers."""
    head = scope["method"] == "HEAD"
    failures = []
    pool = _pool(runtime)
    for source in sources:
        async with contextlib.AsyncExitStack() as stack:
            downloader = await stack.enter_async_context(pool.lease(source, runtime.storage))
            response = None
            # A kept-alive connection the upstream closed meanwhile fails without a status:
            # one more try on a fresh connection.
            for attempt in range(2):
                try:
                    response = await stack.enter_async_context(downloader.open(source.artifact_url))
                    break
                except DownloadError as exc:
                    if exc.status is not None or attempt == 1:
                        failures.append(str(exc))
                        break
            if response is None:
                continue
            save = source.policy != "streamed"
            try:
                await _relay(scope, send, runtime, entry, source, response, save, head)
            except _Aborted as exc:
                log.warning("aborted on-demand response for %s: %s", entry.relative_path, exc)
            return
    reason = "; ".join(failures) or "no remote source is recorded for it"
    await send_text(send, 502, f"502: Could not fetch {entry.relative_path} from its remote: {reason}", head)


async def _relay(scope, send, runtime, entry: FileEntry, source, response, save: bool, head: bool) -> None:
    entry = FileEntry(entry.relative_path, entry.content_artifact_id, None, source.artifact_size,
                      source.artifact_sha256 or None, None)
    size = source.artifact_size
    if size is None and response.content_length is not None and "content-encoding" not in response.headers:
        size = response.content_length
    upstream_type = response.headers.get("content-type")
    ranged = header(scope, b"range") is not None
    writer = runtime.storage.writer()
    try:
        if head or size is None and ranged:
            await _download_then_serve(scope, send, runtime, entry, source, response, writer, save, upstream_type)
        else:
            await _stream(scope, send, runtime, entry, source, response, writer, save, size, upstream_type)
    finally:
        writer.discard()  # no-op once committed (the temp file was renamed away)


def _with_type(headers: list, upstream_type: str | None) -> list:
    if not upstream_type:
        return headers
    return [(b"content-type", upstream_type.encode("latin-1"))] + [h for h in headers if h[0] != b"content-type"]


async def _download_all(response, writer, expected: dict, url: str) -> None:
    limit = expected.get("size")
    try:
        async for chunk in response.content.iter_chunked(CHUNK):
            writer.write(chunk)
            if limit is not None and writer.size > limit:
                raise DigestMismatch(f"{url} is larger than the expected {limit} bytes.")
    except DigestMismatch:
        raise
    except Exception as exc:  # noqa: BLE001 - connection reset, timeout: the download is unusable
        raise DownloadError(url, str(exc) or type(exc).__name__) from None
    writer.verify(expected, url)


async def _download_then_serve(scope, send, runtime, entry, source, response, writer, save, upstream_type):
    head = scope["method"] == "HEAD"
    try:
        await _download_all(response, writer, _expected(source), source.artifact_url)
    except (DigestMismatch, DownloadError) as exc:
        await send_text(send, 502, f"502: Could not fetch {entry.relative_path} from its remote: {exc}", head)
        return
    entry = FileEntry(entry.relative_path, entry.content_artifact_id, None, writer.size,
                      writer.digests()["sha256"], None)
    if save:
        stored = writer.commit()
        await attach_artifact(runtime, entry.content_artifact_id, stored)
        path = runtime.storage.path(stored.file)
    else:
        writer.flush()
        path = writer.path
    await serve_path(scope, send, path, entry)


async def _stream(scope, send, runtime, entry, source, response, writer, save, size, upstream_type):
    url = source.artifact_url
    if size is not None:
        chosen = slice_for(scope, entry, size)
        if chosen is None:
            await send_unsatisfiable(send, entry, size, False)
            return
        status, start, end, extra = chosen
        headers = file_headers(entry, size) + extra + [(b"content-length", str(end - start + 1).encode())]
    else:  # unknown length: whole body, chunked
        status, start, end = 200, 0, None
        headers = [h for h in file_headers(entry, 0) if h[0] != b"x-pulp-artifact-size"]
    await send({"type": "http.response.start", "status": status, "headers": _with_type(headers, upstream_type)})

    client_gone = False
    pending = b""
    offset = 0
    expected = _expected(source)

    async def deliver(piece: bytes) -> None:
        nonlocal client_gone
        if client_gone or not piece:
            return
        try:
            await send({"type": "http.response.body", "body": piece, "more_body": True})
        except Exception:  # noqa: BLE001 - the client went away; an on_demand download still completes
            client_gone = True

    try:
        async for chunk in response.content.iter_chunked(CHUNK):
            writer.write(chunk)
            if size is not None and writer.size > size:
                raise DigestMismatch(f"{url} is larger than the expected {size} bytes.")
            lo, hi = offset, offset + len(chunk)
            offset = hi
            first = max(start, lo)
            last = hi if end is None else min(end + 1, hi)
            if first < last:
                await deliver(pending)
                pending = chunk[first - lo:last - lo]
            if client_gone and not save:
                raise _Aborted("client went away")
        writer.verify(expected, url)
    except DigestMismatch as exc:
        raise _Aborted(str(exc)) from None
    except _Aborted:
        raise
    except Exception as exc:  # noqa: BLE001 - upstream broke mid-body
        raise _Aborted(f"download of {url} failed: {exc or type(exc).__name__}") from None
    if save:
        stored = writer.commit()
        await attach_artifact(runtime, entry.content_artifact_id, stored)
    if not client_gone:
        with contextlib.suppress(Exception):
            await send({"type": "http.response.body", "body": pending, "more_body": False})
