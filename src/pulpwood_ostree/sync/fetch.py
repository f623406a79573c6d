"""Fetching an upstream OSTree repository's files over one keep-alive Downloader.

Every object is verified against its OSTree checksum before it is kept: metadata objects
(commit, dirtree, dirmeta) by the SHA-256 of their bytes, content objects (`.filez`) by
feeding the incremental verifier while the bytes stream into a storage temp file, so a
large file is never held in memory and a corrupt one never gets an artifact name.
"""

from __future__ import annotations

import asyncio
import hashlib

import aiohttp

from pulpwood.plugin import Downloader, DownloadError, StoredFile, TaskError
from pulpwood_ostree.formats import FilezVerifier, FormatError, ObjectType, object_path

# Bodies up to this size are read in one piece (one await instead of a chunk loop).
SMALL_BODY = 1 << 20
CHUNK = 256 * 1024
# Content-object artifacts get sha256 only: computing four digests of every .filez would
# double the hashing work of a sync; sha256 is what identifies and serves an artifact.
OBJECT_DIGESTS = ("sha256",)


class ObjectMismatch(TaskError):
    """An upstream object's bytes do not match its OSTree checksum."""


class Fetcher:
    """Reads files of one upstream repository, relative to its base URL."""

    def __init__(self, downloader: Downloader, base_url: str, storage) -> None:
        self.downloader = downloader
        # Pulp joins with urljoin, which drops a last segment without "/"; treating the
        # remote URL as a directory is what users mean.
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.storage = storage
        self.bytes_downloaded = 0

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

    async def get_bytes(self, path: str, *, missing_ok: bool = False, max_size: int | None = None) -> bytes | None:
        """The whole file (small metadata); None for a 404 when `missing_ok` (no retries)."""
        url = self.url(path)

        async def once() -> bytes:
            async with self.downloader.open(url) as response:
                if max_size is not None and (response.content_length or 0) > max_size:
                    raise TaskError(f"{url} is larger than the expected {max_size} bytes.")
                data = await response.read()
                self.bytes_downloaded += len(data)
                return data

        return await self._retrying(url, once, missing_ok=missing_ok)

    async def metadata_object(self, checksum: str, objtype: ObjectType, *, missing_ok: bool = False) -> bytes | None:
        """A commit/dirtree/dirmeta object, verified; None if absent and `missing_ok`."""
        path = object_path(checksum, objtype)
        try:
            data = await self.get_bytes(path, missing_ok=missing_ok)
        except DownloadError as exc:
            if exc.status == 404:
                raise TaskError(f"The object {path} is missing upstream ({self.url(path)}: 404).") from None
            raise
        if data is not None and hashlib.sha256(data).hexdigest() != checksum:
            raise ObjectMismatch(
                f"The object {path} downloaded from {self.url(path)} does not match its checksum "
                f"{checksum} (got {hashlib.sha256(data).hexdigest()}).")
        return data

    async def content_object(self, checksum: str) -> StoredFile:
        """Stream a `.filez` into storage, verifying its content checksum on the way."""
        path = object_path(checksum, ObjectType.FILE)
        url = self.url(path)

        async def once() -> StoredFile:
            writer = self.storage.writer(OBJECT_DIGESTS)
            verifier = FilezVerifier()
            try:
                try:
                    async with self.downloader.open(url) as response:
                        length = response.content_length
                        if length is not None and length <= SMALL_BODY:
                            data = await response.read()
                            writer.write(data)
                            verifier.update(data)
                        else:
                            async for chunk in response.content.iter_chunked(CHUNK):
                                writer.write(chunk)
                                verifier.update(chunk)
                    actual = verifier.finish()
                except FormatError as exc:
                    raise ObjectMismatch(f"The object {path} downloaded from {url} is corrupt: {exc}") from None
                if actual != checksum:
                    raise ObjectMismatch(f"The object {path} downloaded from {url} does not match its "
                                         f"checksum {checksum} (got {actual}).")
                self.bytes_downloaded += writer.size
                return writer.commit()
            except BaseException:
                writer.discard()
                raise

        try:
            return await self._retrying(url, once, missing_ok=False)
        except DownloadError as exc:
            if exc.status == 404:
                raise TaskError(f"The object {path} is missing upstream ({url}: 404).") from None
            raise
