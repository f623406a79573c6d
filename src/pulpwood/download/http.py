"""HTTP downloads for syncs and the content app: keep-alive, bounded concurrency, retries,
timeouts, TLS, proxies, basic auth and digest verification while streaming to storage.

One Downloader (one aiohttp session, one connection pool) serves a whole sync, so every
object rides on an already open connection.
"""

from __future__ import annotations

import asyncio
import time
from contextlib import asynccontextmanager
from typing import AsyncIterator

import aiohttp

from pulpwood.download.config import DownloadConfig
from pulpwood.errors import DigestMismatch, TaskError
from pulpwood.storage.filesystem import DIGESTS, ArtifactStorage, StoredFile

CHUNK = 256 * 1024
OFFLOAD = 1024 * 1024
RETRY_STATUSES = {408, 429, 500, 502, 503, 504}


class DownloadError(TaskError):
    """A URL could not be fetched; the message names it."""

    def __init__(self, url: str, reason: str, status: int | None = None) -> None:
        self.url, self.status = url, status
        super().__init__(f"Download of {url} failed: {reason}")


class _RateLimiter:
    """At most `rate` request starts per second (Pulp's remote `rate_limit`)."""

    def __init__(self, rate: int | None) -> None:
        self.interval = 1.0 / rate if rate else 0.0
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        if not self.interval:
            return
        async with self._lock:
            now = time.monotonic()
            delay = self._next - now
            self._next = max(now, self._next) + self.interval
        if delay > 0:
            await asyncio.sleep(delay)


class Downloader:
    def __init__(self, config: DownloadConfig, storage: ArtifactStorage | None = None,
                 concurrency: int | None = None) -> None:
        self.config = config
        self.storage = storage
        self.semaphore = asyncio.Semaphore(concurrency or config.concurrency)
        self._limiter = _RateLimiter(config.rate_limit)
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Downloader:
        cfg = self.config
        timeout = aiohttp.ClientTimeout(total=cfg.total_timeout, connect=cfg.connect_timeout,
                                        sock_connect=cfg.sock_connect_timeout, sock_read=cfg.sock_read_timeout)
        connector = aiohttp.TCPConnector(limit=max(self.semaphore._value, 1) * 2, ssl=cfg.ssl_context(),
                                         keepalive_timeout=30, ttl_dns_cache=300)
        auth = aiohttp.BasicAuth(cfg.username, cfg.password or "") if cfg.username else None
        self._session = aiohttp.ClientSession(connector=connector, timeout=timeout, auth=auth,
                                              headers=cfg.header_dict(), auto_decompress=False)
        return self

    async def __aexit__(self, *exc) -> None:
        if self._session is not None:
            await self._session.close()

    def _proxy(self) -> dict:
        cfg = self.config
        if not cfg.proxy_url:
            return {}
        auth = aiohttp.BasicAuth(cfg.proxy_username, cfg.proxy_password or "") if cfg.proxy_username else None
        return {"proxy": cfg.proxy_url, "proxy_auth": auth}

    @asynccontextmanager
    async def open(self, url: str) -> AsyncIterator[aiohttp.ClientResponse]:
        """One GET, no retry: for streaming to a client, where bytes cannot be taken back."""
        await self._limiter.wait()
        try:
            async with self._session.get(url, **self._proxy()) as response:
                if response.status >= 400:
                    raise DownloadError(url, f"{response.status} {response.reason}", response.status)
                yield response
        except aiohttp.ClientError as exc:
            raise DownloadError(url, str(exc) or type(exc).__name__) from None
        except asyncio.TimeoutError:
            raise DownloadError(url, "timed out") from None

    async def _with_retries(self, url: str, attempt_once):
        last: TaskError | None = None
        for attempt in range(self.config.retries + 1):
            try:
                async with self.semaphore:
                    return await attempt_once()
            except DigestMismatch as exc:
                # Pulp retries a corrupt transfer like a dropped connection (spec §3.4).
                last = exc
            except DownloadError as exc:
                last = exc
                if exc.status is not None and exc.status not in RETRY_STATUSES and exc.status != 404:
                    break
            if attempt < self.config.retries:
                await asyncio.sleep(min(0.1 * 2 ** attempt, 2.0))
        raise last

    async def fetch_bytes(self, url: str, *, max_size: int | None = None) -> bytes:
        """The whole body of `url` in memory (small metadata files only)."""
        async def once() -> bytes:
            async with self.open(url) as response:
                data = bytearray()
                async for chunk in response.content.iter_chunked(CHUNK):
                    data += chunk
                    if max_size is not None and len(data) > max_size:
                        raise DigestMismatch(f"{url} is larger than the expected {max_size} bytes.")
                return bytes(data)
        try:
            return await self._with_retries(url, once)
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise DownloadError(url, str(exc) or type(exc).__name__) from None

    async def fetch_to_storage(self, url: str, *, expected: dict | None = None, what: str | None = None,
                               digests: tuple[str, ...] = DIGESTS) -> StoredFile:
        """Stream `url` into storage, verifying size and digests before it gets its name."""
        expected = expected or {}

        async def once() -> StoredFile:
            # Every filesystem call (temp file, rename) and the hashing run in a thread: on a
            # busy disk they cost more than the HTTP exchange and would stall every other
            # download sharing this event loop. Small bodies never touch disk before verify.
            writer = None
            pending = bytearray()

            def finish() -> StoredFile:
                target = writer or self.storage.writer(digests)
                try:
                    if pending:
                        target.write(bytes(pending))
                    target.verify(expected, what or url)
                    return target.commit()
                except BaseException:
                    target.discard()
                    raise

            try:
                async with self.open(url) as response:
                    async for chunk in response.content.iter_chunked(CHUNK):
                        pending += chunk
                        if len(pending) >= OFFLOAD:
                            if writer is None:
                                writer = await asyncio.to_thread(self.storage.writer, digests)
                            await asyncio.to_thread(writer.write, bytes(pending))
                            pending.clear()
            except BaseException:
                if writer is not None:
                    writer.discard()
                raise
            return await asyncio.to_thread(finish)
        try:
            return await self._with_retries(url, once)
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise DownloadError(url, str(exc) or type(exc).__name__) from None
