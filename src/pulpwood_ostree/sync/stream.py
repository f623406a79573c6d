"""Many objects of one upstream fetched, verified and stored as a stream.

The tree walk discovers tens of thousands of objects to download. Each is submitted to the
pipelined client at once (no coroutine per object); answers are gathered into batches that
a file thread verifies (OSTree checksum) and stores, and each finished batch comes back to
the event loop with one wake-up. The loop thus only parses HTTP and hands bytes over, while
inflating, hashing and file creation run beside it on the other cores.

Memory stays bounded: once `MAX_QUEUED` bytes wait for verification, no new request is sent;
at twice that, the connections stop being read. Requests the pipelined path cannot answer
(closed connections, odd servers, an HTTP error other than 404) go to a few coroutines using
the regular Downloader, with its retries and error messages.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable

from pulpwood.plugin import StoredFile, TaskError
from pulpwood_ostree.formats import ObjectType
from pulpwood_ostree.sync.fetch import Fetcher, FilezSink, verify_and_store
from pulpwood_ostree.sync.pipeline import PipelineError, Request
from pulpwood_ostree.sync.store import NewObject, path_of

FILE = int(ObjectType.FILE)
BATCH_ITEMS = 64
BATCH_BYTES = 4 << 20
MAX_QUEUED = 16 << 20
# Coroutines for the regular path; the Downloader's own semaphore caps real concurrency.
FALLBACK_WORKERS = 32


class ObjectStream:
    """`want()` objects; `on_stored(objects)` is called (on the loop) as batches are stored."""

    def __init__(self, fetcher: Fetcher, on_stored: Callable[[list[NewObject]], None],
                 busy: Callable[[], bool] = lambda: False) -> None:
        self.fetcher = fetcher
        self.client = fetcher.pipeline
        self.on_stored = on_stored
        self.busy = busy  # True while the stored objects cannot be taken fast enough
        self._loop = asyncio.get_running_loop()
        self._batch: list[tuple[NewObject, bytes]] = []
        self._batch_bytes = 0
        self._flush_handle: asyncio.Handle | None = None
        self._queued = 0  # bytes received and not stored yet
        self._outstanding = 0  # wanted and not reported stored yet
        self._error: BaseException | None = None
        self._idle: asyncio.Future | None = None
        self._recheck: asyncio.TimerHandle | None = None
        self._fallback: asyncio.Queue[NewObject] = asyncio.Queue()
        self._fallback_workers: list[asyncio.Task] = []

    # ------------------------------------------------------------------ public

    def want(self, obj: NewObject) -> None:
        self._outstanding += 1
        if self.client is None or self.client.broken is not None:
            self._download_regularly(obj)
            return
        path = path_of(obj.checksum, obj.typ)
        sink = functools.partial(FilezSink, self.fetcher, obj.checksum, path) if obj.typ == FILE else None
        self.client.submit(Request(path, functools.partial(self._answered, obj, path), sink))

    def check(self) -> None:
        """Raise the failure that stopped the stream, if any."""
        if self._error is not None:
            raise self._error

    def fail(self, exc: BaseException) -> None:
        """Stop: `drain()` raises `exc` (the first failure wins)."""
        if self._error is None:
            self._error = exc
            if self._idle is not None and not self._idle.done():
                self._idle.set_exception(exc)

    async def drain(self) -> None:
        """Wait until everything wanted is stored and reported; raise the first failure."""
        while True:
            if self._error is not None:
                raise self._error
            if self._outstanding == 0:
                return
            self._idle = self._loop.create_future()
            await self._idle

    def close(self) -> None:
        if self._flush_handle is not None:
            self._flush_handle.cancel()
        if self._recheck is not None:
            self._recheck.cancel()
        for worker in self._fallback_workers:
            worker.cancel()

    # ---------------------------------------------------------------- answers

    def _answered(self, obj: NewObject, path: str, status: int, result, error: BaseException | None) -> None:
        if self._error is not None:
            return
        if error is not None:
            if isinstance(error, PipelineError):
                self._download_regularly(obj)
            else:  # a large object's sink found it corrupt
                self.fail(error)
            return
        if status == 404:
            self.fail(TaskError(f"The object {path} is missing upstream ({self.fetcher.url(path)}: 404)."))
        elif status != 200:
            self._download_regularly(obj)  # retried (or reported) the regular way
        elif isinstance(result, StoredFile):
            obj.stored = result
            self._reported([obj])
        else:
            self.fetcher.bytes_downloaded += len(result)
            self._batch.append((obj, result))
            self._batch_bytes += len(result)
            self._queued += len(result)
            if len(self._batch) >= BATCH_ITEMS or self._batch_bytes >= BATCH_BYTES:
                self._flush()
            elif self._flush_handle is None:
                # Everything parsed from this read goes into one batch.
                self._flush_handle = self._loop.call_soon(self._flush)
            self._pressure()

    def _flush(self) -> None:
        self._flush_handle = None
        batch, self._batch, self._batch_bytes = self._batch, [], 0
        if not batch:
            return
        future = self._loop.run_in_executor(self.fetcher.files, verify_and_store, self.fetcher.storage,
                                            self.fetcher.base_url, batch)
        future.add_done_callback(functools.partial(self._verified, batch))

    def _verified(self, batch: list[tuple[NewObject, bytes]], future: asyncio.Future) -> None:
        self._queued -= sum(len(body) for _, body in batch)
        if future.cancelled():
            return
        if future.exception() is not None:
            self.fail(future.exception())
            return
        if self._error is None:
            self._reported([obj for obj, _ in batch])
        self._pressure()

    def _reported(self, objects: list[NewObject]) -> None:
        self._outstanding -= len(objects)
        try:
            self.on_stored(objects)
        except Exception as exc:  # noqa: BLE001 - ends the stream, drain() raises it
            self.fail(exc)
            return
        if self._outstanding == 0 and self._idle is not None and not self._idle.done():
            self._idle.set_result(None)

    # --------------------------------------------------------------- pressure

    def _pressure(self) -> None:
        """Hold the client while stored bytes or saved rows lag behind the downloads."""
        if self.client is None:
            return
        if self._queued > MAX_QUEUED or self.busy():
            self.client.hold(stop_reading=self._queued > 2 * MAX_QUEUED)
            if self._recheck is None:
                # Nothing else wakes us when only the database was behind.
                self._recheck = self._loop.call_later(0.005, self._recheck_pressure)
        else:
            self.client.release()

    def _recheck_pressure(self) -> None:
        self._recheck = None
        if self._error is None:
            self._pressure()

    # --------------------------------------------------------------- fallback

    def _download_regularly(self, obj: NewObject) -> None:
        if not self._fallback_workers:
            self._fallback_workers = [asyncio.ensure_future(self._fallback_worker())
                                      for _ in range(FALLBACK_WORKERS)]
        self._fallback.put_nowait(obj)

    async def _fallback_worker(self) -> None:
        while True:
            obj = await self._fallback.get()
            if self._error is not None:
                continue
            try:
                if obj.typ == FILE:
                    obj.stored = await self.fetcher.content_object(obj.checksum, pipelined=False)
                else:
                    _, obj.stored = await self.fetcher.metadata_object(obj.checksum, ObjectType(obj.typ),
                                                                       store=True, pipelined=False)
            except Exception as exc:  # noqa: BLE001 - reported through drain()
                self.fail(exc)
                continue
            self._reported([obj])
