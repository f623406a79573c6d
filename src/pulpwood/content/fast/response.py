"""The answer to a plain GET or HEAD of a small stored file, with the same headers as
files.serve_path but built without its general machinery (ranges, validators, streaming).

One `open`/`preadv` (plus an `fstat` for page-aligned sizes) instead of `stat` plus a
buffered `open`, the header lines formatted in one go, and the Last-Modified text formatted once
per distinct database value (all files of a repository version share one). A file that is
not in the page cache is read once the kernel has read it ahead (`read_when_cached`).
"""

from __future__ import annotations

import asyncio
import errno
import os

from pulpwood.content.http import CACHE_CONTROL, EXPOSE_CORRELATION_ID, content_type_for, http_date

_ACCEPT_RANGES = (b"accept-ranges", b"bytes")
_CACHE_CONTROL = (b"cache-control", CACHE_CONTROL)


class HttpDates:
    """Last-Modified header values by raw database value (`convert` makes it a datetime)."""

    def __init__(self, convert, size: int = 4096) -> None:
        self._convert = convert
        self._size = size
        self._texts: dict[object, bytes] = {}

    def text(self, raw) -> bytes:
        text = self._texts.get(raw)
        if text is None:
            if len(self._texts) >= self._size:
                self._texts.clear()
            text = self._texts[raw] = http_date(self._convert(raw)).encode()
        return text


# What `read_cached` answers when some of the file is not in the page cache.
NOT_CACHED = object()
# Linux: a read that fails instead of waiting for the disk (elsewhere every read may wait).
_NOWAIT = getattr(os, "RWF_NOWAIT", None)
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
# Without O_NOATIME the first read of a file since it was written updates its access time,
# and a non-blocking read that has to do that fails (ext4 answers EAGAIN even when every
# byte is in the page cache): right after a sync, every file of the first `ostree pull`
# went to a thread. Nothing reads artifact access times. Only the files' owner may ask for
# it (EPERM otherwise), so the flag is dropped for good at the first refusal.
_NOATIME = getattr(os, "O_NOATIME", 0)
_flags = os.O_RDONLY | os.O_CLOEXEC | _NOATIME


def open_for_reading(path: str) -> int:
    """A file descriptor of `path` that does not touch its access time where allowed."""
    global _flags
    try:
        return os.open(path, _flags)
    except PermissionError:
        if not _flags & _NOATIME:
            raise
        _flags &= ~_NOATIME
        return os.open(path, _flags)


def stat_size(path: str) -> int | None:
    try:
        return os.stat(path).st_size
    except OSError:
        return None


def read_cached(path: str, size: int):
    """The bytes of the file at `path`, which the database says has `size` bytes, if they are
    all in the page cache; NOT_CACHED when reading them means waiting for the disk (then
    `read_when_cached`); None when the file is missing, unreadable or not of that size
    (the general path then answers exactly as it always did)."""
    try:
        fd = open_for_reading(path)
    except OSError:
        return None
    try:
        # One byte more than expected tells a bigger file without an fstat; a smaller one
        # reads short, like a file only partly cached, and `read_file` then tells which.
        if _NOWAIT is None:
            body = os.read(fd, size + 1)
            return body if len(body) == size else None
        buffer = bytearray(size + 1)
        try:
            read = os.preadv(fd, [buffer], 0, _NOWAIT)
        except BlockingIOError:
            return NOT_CACHED
        except OSError as error:
            if error.errno not in (errno.EOPNOTSUPP, errno.EINVAL):
                raise
            body = os.pread(fd, size + 1, 0)  # a filesystem without non-blocking reads
            return body if len(body) == size else None
        if read == size:
            # A read that ends on a page boundary may have stopped where the cached pages do.
            if size % _PAGE == 0 and os.fstat(fd).st_size != size:
                return None
            return bytes(memoryview(buffer)[:size])
        return None if read > size else NOT_CACHED
    except OSError:
        return None
    finally:
        os.close(fd)


# A file not in the page cache: looked at again this many times, then read in a thread.
_COLD_TRIES = 8
_COLD_WAIT = 0.001  # seconds between two looks (after a first one in the next loop pass)


async def read_when_cached(path: str, size: int) -> bytes | None:
    """`read_file`, without waiting for the disk on the event loop.

    A non-blocking read that finds the pages missing starts reading them ahead (Linux: the
    failed RWF_NOWAIT read of `read_cached`), so a look a moment later mostly finds the bytes
    there: this takes neither the event loop (a blocking read holds up every request) nor a
    thread (a hand-off, then a wait for the busy loop to let go of the GIL) for what is about
    a tenth of a millisecond here. Where the look keeps failing, a thread reads the file."""
    for tries in range(_COLD_TRIES):
        await asyncio.sleep(0 if tries == 0 else _COLD_WAIT)
        body = read_cached(path, size)
        if body is not NOT_CACHED:
            return body
    return await asyncio.get_running_loop().run_in_executor(None, read_file, path, size)


def read_file(path: str, size: int) -> bytes | None:
    """The bytes of the file at `path` if it has `size` bytes (may wait for the disk)."""
    try:
        with open(open_for_reading(path), "rb", buffering=0) as handle:
            body = handle.read(size + 1)
    except OSError:
        return None
    return body if len(body) == size else None


def file_headers(relative_path: str, size: int, sha256: str | None, last_modified: bytes | None,
                 correlation_id: bytes) -> list[tuple[bytes, bytes]]:
    """`file_head` as (name, value) pairs, for an ASGI answer."""
    lines = file_head(relative_path, size, sha256, last_modified, correlation_id).split(b"\r\n")[:-1]
    return [tuple(line.split(b": ", 1)) for line in lines]


def file_head(relative_path: str, size: int, sha256: str | None, last_modified: bytes | None,
              correlation_id: bytes) -> bytes:
    """The header lines of the answer to a GET/HEAD of a stored file, the same as
    files.serve_path sends: one formatting instead of a list the HTTP server walks."""
    return _HEAD % (content_type_for(relative_path).encode(), size,
                    b'etag: "%s"\r\n' % sha256.encode() if sha256 else b"",
                    b"last-modified: %s\r\n" % last_modified if last_modified is not None else b"",
                    size, correlation_id)


def _constant_lines(*headers: tuple[bytes, bytes]) -> bytes:
    return b"".join(b"%s: %s\r\n" % header for header in headers).replace(b"%", b"%%")


_HEAD = (b"content-type: %s\r\n" + _constant_lines(_ACCEPT_RANGES, _CACHE_CONTROL)
         + b"x-pulp-artifact-size: %d\r\n%s%scontent-length: %d\r\ncorrelation-id: %s\r\n"
         + _constant_lines(EXPOSE_CORRELATION_ID))
