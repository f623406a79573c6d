"""Fetching an upstream OSTree repository's files over one keep-alive Downloader.

Every object is verified against its OSTree checksum before it is kept: metadata objects
(commit, dirtree, dirmeta) by the SHA-256 of their bytes, content objects (`.filez`) by
feeding the incremental verifier while the bytes stream into a storage temp file, so a
large file is never held in memory and a corrupt one never gets an artifact name.
"""

from __future__ import annotations

import asyncio
import hashlib
from concurrent.futures import ThreadPoolExecutor

import aiohttp

from pulpwood.plugin import Downloader, DownloadError, StoredFile, TaskError
from pulpwood_ostree.formats import FilezVerifier, FormatError, ObjectType, filez_bytes_checksum, object_path
from pulpwood_ostree.sync.pipeline import DEFAULT_STALL_TIMEOUT, PipelinedClient, PipelineError, Sink
from pulpwood_ostree.sync.store import path_of

# Bodies up to this size are read in one piece (one await instead of a chunk loop).
SMALL_BODY = 1 << 20
CHUNK = 256 * 1024
# Content-object artifacts get sha256 only: computing four digests of every .filez would
# double the hashing work of a sync; sha256 is what identifies and serves an artifact.
OBJECT_DIGESTS = ("sha256",)
FILE_THREADS = 4
PIPELINE_CONNECTIONS = 4
# Content objects bigger than this stream to disk (verified on the event loop as they
# arrive) instead of being buffered and handed whole to a file thread.
STREAM_ABOVE = 4 << 20


class ObjectMismatch(TaskError):
    """An upstream object's bytes do not match its OSTree checksum."""


def _corrupt(path: str, url: str, exc: Exception) -> ObjectMismatch:
    return ObjectMismatch(f"The object {path} downloaded from {url} is corrupt: {exc}")


def _expect(actual: str, checksum: str, path: str, url: str) -> None:
    if actual != checksum:
        raise ObjectMismatch(f"The object {path} downloaded from {url} does not match its "
                             f"checksum {checksum} (got {actual}).")


def _finish_filez(verifier: FilezVerifier, checksum: str, path: str, url: str) -> None:
    """End a `.filez` verification: the object must parse and hash to `checksum`."""
    try:
        actual = verifier.finish()
    except FormatError as exc:
        raise _corrupt(path, url, exc) from None
    _expect(actual, checksum, path, url)


class Fetcher:
    """Reads files of one upstream repository, relative to its base URL."""

    def __init__(self, downloader: Downloader, base_url: str, storage, *, pipelined: bool = True) -> None:
        self.downloader = downloader
        # Pulp joins with urljoin, which drops a last segment without "/"; treating the
        # remote URL as a directory is what users mean.
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.storage = storage
        self.bytes_downloaded = 0
        # Verifying (zlib, sha256) and file system calls run here, off the event loop.
        self.files = ThreadPoolExecutor(FILE_THREADS, thread_name_prefix="ostree-files")

        self.pipeline: PipelinedClient | None = None
        self._pipeline_failures = 0
        config = downloader.config
        if pipelined and not config.proxy_url:
            self.pipeline = PipelinedClient(
                self.base_url, connections=min(PIPELINE_CONNECTIONS, config.concurrency),
                ssl=config.ssl_context() or None, headers=config.header_dict(), username=config.username,
                password=config.password, stream_above=STREAM_ABOVE,
                stall_timeout=config.sock_read_timeout or config.total_timeout or DEFAULT_STALL_TIMEOUT)

    def _pipeline_failed(self) -> None:
        self._pipeline_failures += 1
        if self._pipeline_failures >= 20 and self.pipeline is not None:
            # This server does not pipeline well: stop trying.
            self.pipeline.close()
            self.pipeline = None

    def close(self) -> None:
        if self.pipeline is not None:
            self.pipeline.close()
        self.files.shutdown(wait=True, cancel_futures=True)

    def url(self, path: str) -> str:
        return self.base_url + path

    async def _retrying(self, url: str, once, *, missing_ok: bool):
        retries = self.downloader.config.retries
        last: DownloadError | None = None
        for attempt in range(retries + 1):
            try:
                async with self.downloader.semaphore:
                    return await once()
            except DownloadError as exc:
                last = exc
                if exc.status == 404 and missing_ok:
                    return None
                if exc.status is not None and exc.status not in (404, 408, 429, 500, 502, 503, 504):
                    break
            except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                last = DownloadError(url, str(exc) or type(exc).__name__)
            if attempt < retries:
                await asyncio.sleep(min(0.1 * 2 ** attempt, 2.0))
        raise last

    async def get_bytes(self, path: str, *, missing_ok: bool = False, max_size: int | None = None,
                        pipelined: bool = True) -> bytes | None:
        """The whole file (small metadata); None for a 404 when `missing_ok` (no retries)."""
        url = self.url(path)
        if self.pipeline is not None and max_size is None and pipelined:
            try:
                status, body = await self.pipeline.get(path)
                if status == 200:
                    self.bytes_downloaded += len(body)
                    return body
                if status == 404 and missing_ok:
                    return None
            except PipelineError:
                self._pipeline_failed()
            # Anything unusual is retried the regular way, with retries and clear errors.

        async def once() -> bytes:
            async with self.downloader.open(url) as response:
                if max_size is not None and (response.content_length or 0) > max_size:
                    raise TaskError(f"{url} is larger than the expected {max_size} bytes.")
                data = await response.read()
                self.bytes_downloaded += len(data)
                return data

        return await self._retrying(url, once, missing_ok=missing_ok)

    async def metadata_object(self, checksum: str, objtype: ObjectType, *, missing_ok: bool = False,
                              store: bool = False, pipelined: bool = True) -> bytes | tuple[bytes, StoredFile] | None:
        """A commit/dirtree/dirmeta object, verified; None if absent and `missing_ok`.

        With `store`, the verified bytes are also written to storage (off the event loop)
        and (bytes, StoredFile) is returned.
        """
        path = object_path(checksum, objtype)
        try:
            data = await self.get_bytes(path, missing_ok=missing_ok, pipelined=pipelined)
        except DownloadError as exc:
            if exc.status == 404:
                raise TaskError(f"The object {path} is missing upstream ({self.url(path)}: 404).") from None
            raise
        if data is None:
            return None
        # Hashing (and writing) happens in the file threads: the loop keeps serving sockets.
        stored = await asyncio.get_running_loop().run_in_executor(
            self.files, _verify_metadata, self.storage if store else None, data, checksum, path, self.url(path))
        return (data, stored) if store else data

    async def content_object(self, checksum: str, *, pipelined: bool = True) -> StoredFile:
        """Fetch a `.filez` and store it once its content checksum is verified.

        Small objects (most of them) are read whole and verified + written in a file thread;
        big ones stream chunk by chunk into a storage temp file through the verifier.
        """
        path = object_path(checksum, ObjectType.FILE)
        url = self.url(path)
        if self.pipeline is not None and pipelined:
            try:
                status, result = await self.pipeline.get(path, lambda length: FilezSink(self, checksum, path, length))
                if status == 200:
                    if isinstance(result, StoredFile):
                        return result
                    self.bytes_downloaded += len(result)
                    return await asyncio.get_running_loop().run_in_executor(
                        self.files, _verify_filez, self.storage, result, checksum, path, url)
            except PipelineError:
                self._pipeline_failed()

        async def once():
            async with self.downloader.open(url) as response:
                length = response.content_length
                if length is not None and length <= SMALL_BODY:
                    return await response.read()
                return await self._stream(response, checksum, path, url)

        try:
            result = await self._retrying(url, once, missing_ok=False)
        except DownloadError as exc:
            if exc.status == 404:
                raise TaskError(f"The object {path} is missing upstream ({url}: 404).") from None
            raise
        if isinstance(result, bytes):
            self.bytes_downloaded += len(result)
            return await asyncio.get_running_loop().run_in_executor(
                self.files, _verify_filez, self.storage, result, checksum, path, url)
        return result

    async def _stream(self, response, checksum: str, path: str, url: str) -> StoredFile:
        loop = asyncio.get_running_loop()
        writer = await loop.run_in_executor(self.files, self.storage.writer, OBJECT_DIGESTS)
        verifier = FilezVerifier()
        try:
            try:
                async for chunk in response.content.iter_chunked(CHUNK):
                    writer.write(chunk)
                    verifier.update(chunk)
            except FormatError as exc:
                raise _corrupt(path, url, exc) from None
            _finish_filez(verifier, checksum, path, url)
            self.bytes_downloaded += writer.size
            return await loop.run_in_executor(self.files, writer.commit)
        except BaseException:
            writer.discard()
            raise


def _verify_metadata(storage, data: bytes, checksum: str, path: str, url: str) -> StoredFile | None:
    _expect(hashlib.sha256(data).hexdigest(), checksum, path, url)
    return None if storage is None else storage.store_bytes(data, OBJECT_DIGESTS)


def _verify_filez(storage, data: bytes, checksum: str, path: str, url: str) -> StoredFile:
    try:
        actual = filez_bytes_checksum(data)
    except FormatError as exc:
        raise _corrupt(path, url, exc) from None
    _expect(actual, checksum, path, url)
    return storage.store_bytes(data, OBJECT_DIGESTS)


def verify_and_store(storage, base_url: str, batch: list) -> None:
    """Verify and store a batch of (NewObject, body) in a file thread; sets `obj.stored`."""
    for obj, body in batch:
        path = path_of(obj.checksum, obj.typ)
        if obj.typ == ObjectType.FILE:
            obj.stored = _verify_filez(storage, body, obj.checksum, path, base_url + path)
        else:
            obj.stored = _verify_metadata(storage, body, obj.checksum, path, base_url + path)


class FilezSink(Sink):
    """Streams a large pipelined `.filez` into a storage temp file through the verifier."""

    def __init__(self, fetcher: Fetcher, checksum: str, path: str, length: int | None = None) -> None:
        self.fetcher, self.checksum, self.path, self.url = fetcher, checksum, path, fetcher.url(path)
        self.writer = fetcher.storage.writer(OBJECT_DIGESTS)
        self.verifier = FilezVerifier()
        self.error: Exception | None = None

    def write(self, chunk: bytes) -> None:
        if self.error is not None:
            return
        try:
            self.writer.write(chunk)
            self.verifier.update(chunk)
        except FormatError as exc:
            self.error = _corrupt(self.path, self.url, exc)

    def finish(self) -> StoredFile:
        try:
            if self.error is not None:
                raise self.error
            _finish_filez(self.verifier, self.checksum, self.path, self.url)
            self.fetcher.bytes_downloaded += self.writer.size
            return self.writer.commit()
        except BaseException:
            self.writer.discard()
            raise

    def abort(self) -> None:
        self.writer.discard()
