"""Content (file) objects: the ``.filez`` archive encoding and the content checksum.

A content object's checksum covers a framed *checksum header* ``(uuuusa(ayay))`` followed by
the uncompressed file bytes; an archive repository stores the object as a framed *archive
header* ``(tuuuusa(ayay))`` (which adds the uncompressed size) followed by the content as a raw
DEFLATE stream. Framing is ``[u32 BE length][4 zero bytes][header]``. uid, gid, mode and size
are byte-swapped to big-endian inside the little-endian GVariant fields.

Everything here streams: :class:`FilezVerifier` hashes a ``.filez`` chunk by chunk and
:func:`write_filez` compresses from a file-like source, so large files never sit in memory.
"""

from __future__ import annotations

import hashlib
import io
import stat
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from .errors import FormatError
from .gvariant import bswap32, bswap64, parse, serialize
from .objects import Xattrs, xattrs_from_value, xattrs_to_value

CHECKSUM_HEADER_TYPE = "(uuuusa(ayay))"
ARCHIVE_HEADER_TYPE = "(tuuuusa(ayay))"
DEFAULT_COMPRESSION_LEVEL = 6

_CHUNK = 1 << 20
# Headers hold a symlink target and xattrs; anything this large is garbage, not a header.
_MAX_HEADER = 16 << 20


@dataclass(frozen=True)
class FileHeader:
    """Metadata of a content object: a regular file or a symlink (never a directory)."""

    mode: int
    uid: int = 0
    gid: int = 0
    symlink_target: str = ""
    xattrs: Xattrs = ()

    @property
    def is_symlink(self) -> bool:
        return stat.S_ISLNK(self.mode)

    def validate(self) -> FileHeader:
        """Return self, or raise FormatError for headers libostree would refuse."""
        if stat.S_ISREG(self.mode):
            if self.symlink_target:
                raise FormatError("regular file header carries a symlink target")
        elif stat.S_ISLNK(self.mode):
            if not self.symlink_target:
                raise FormatError("symlink header has an empty target")
        else:
            raise FormatError(f"content object mode {self.mode:o} is neither file nor symlink")
        return self

    def checksum_header(self) -> bytes:
        """The framed header that starts the checksummed stream of this object."""
        return _frame(
            serialize(
                CHECKSUM_HEADER_TYPE,
                (
                    bswap32(self.uid),
                    bswap32(self.gid),
                    bswap32(self.mode),
                    0,
                    self.symlink_target,
                    xattrs_to_value(self.xattrs),
                ),
            )
        )

    def archive_header(self, size: int) -> bytes:
        """The framed header that starts a ``.filez`` file with ``size`` content bytes."""
        return _frame(
            serialize(
                ARCHIVE_HEADER_TYPE,
                (
                    bswap64(size),
                    bswap32(self.uid),
                    bswap32(self.gid),
                    bswap32(self.mode),
                    0,
                    self.symlink_target,
                    xattrs_to_value(self.xattrs),
                ),
            )
        )


def _frame(header: bytes) -> bytes:
    return len(header).to_bytes(4, "big") + bytes(4) + header


def parse_archive_header(data: bytes) -> tuple[FileHeader, int, int]:
    """Parse the start of a ``.filez``: return (header, content size, payload offset).

    ``data`` must hold at least the whole framed header; extra bytes are ignored.
    """
    if len(data) < 8:
        raise FormatError(".filez is shorter than its 8-byte length prefix")
    length = int.from_bytes(data[:4], "big")
    if data[4:8] != bytes(4) or length > _MAX_HEADER:
        raise FormatError(".filez length prefix is malformed")
    if len(data) < 8 + length:
        raise FormatError(".filez header is truncated")
    try:
        size, uid, gid, mode, rdev, target, xattrs = parse(
            ARCHIVE_HEADER_TYPE, data[8 : 8 + length]
        )
    except FormatError as exc:
        raise FormatError(f"malformed .filez header: {exc}") from None
    if rdev != 0:
        raise FormatError("content objects must have rdev 0")
    header = FileHeader(
        mode=bswap32(mode),
        uid=bswap32(uid),
        gid=bswap32(gid),
        symlink_target=target,
        xattrs=xattrs_from_value(xattrs),
    ).validate()
    size = bswap64(size)
    if header.is_symlink and size:
        raise FormatError("symlink .filez declares a content size")
    return header, size, 8 + length


class FilezVerifier:
    """Compute a content object's checksum from a ``.filez`` fed in chunks.

    >>> verifier = FilezVerifier()
    >>> for chunk in iter(lambda: stream.read(65536), b""):   # doctest: +SKIP
    ...     verifier.update(chunk)
    >>> checksum = verifier.finish()                          # doctest: +SKIP
    """

    def __init__(self) -> None:
        self._pending = bytearray()
        self._hash = hashlib.sha256()
        self._inflater = zlib.decompressobj(-15)
        self._payload_seen = False
        self.header: FileHeader | None = None
        self.size = 0
        self.inflated = 0

    def update(self, chunk: bytes) -> None:
        if self.header is None:
            self._pending.extend(chunk)
            if not self._header_complete():
                return
            self.header, self.size, offset = parse_archive_header(bytes(self._pending))
            self._hash.update(self.header.checksum_header())
            chunk = bytes(self._pending[offset:])
            self._pending.clear()
        if chunk:
            self._inflate(chunk)

    def _header_complete(self) -> bool:
        if len(self._pending) < 8:
            return False
        length = int.from_bytes(self._pending[:4], "big")
        if length > _MAX_HEADER:
            raise FormatError(".filez length prefix is malformed")
        return len(self._pending) >= 8 + length

    def _inflate(self, chunk: bytes) -> None:
        assert self.header is not None
        if self.header.is_symlink:
            raise FormatError("symlink .filez carries a payload")
        if self._inflater.eof:
            raise FormatError("data after the end of the .filez deflate stream")
        self._payload_seen = True
        try:
            out = self._inflater.decompress(chunk, _CHUNK)
            while True:
                self._consume(out)
                if self._inflater.eof or not self._inflater.unconsumed_tail:
                    break
                out = self._inflater.decompress(self._inflater.unconsumed_tail, _CHUNK)
        except zlib.error as exc:
            raise FormatError(f"corrupt .filez deflate stream: {exc}") from None
        if self._inflater.unused_data or (self._inflater.eof and self._inflater.unconsumed_tail):
            raise FormatError("data after the end of the .filez deflate stream")

    def _consume(self, out: bytes) -> None:
        self.inflated += len(out)
        if self.inflated > self.size:
            raise FormatError(f".filez inflates beyond its declared size {self.size}")
        self._hash.update(out)

    def finish(self) -> str:
        """Return the object checksum; raise FormatError if the stream was incomplete."""
        if self.header is None:
            raise FormatError(".filez is truncated inside its header")
        if self._payload_seen and not self._inflater.eof:
            raise FormatError(".filez deflate stream is truncated")
        # An empty regular file may carry no deflate stream at all.
        if self.inflated != self.size:
            raise FormatError(f".filez holds {self.inflated} bytes, header says {self.size}")
        return self._hash.hexdigest()


def filez_checksum(stream: BinaryIO) -> str:
    """Content checksum of a ``.filez`` read from ``stream`` in chunks."""
    verifier = FilezVerifier()
    for chunk in iter(lambda: stream.read(_CHUNK), b""):
        verifier.update(chunk)
    return verifier.finish()


def filez_bytes_checksum(data: bytes) -> str:
    """Checksum of a whole ``.filez`` held in memory: what :class:`FilezVerifier` gives
    (and the same FormatErrors), with less work per object.

    A sync verifies tens of thousands of small objects, and most headers are the simple
    case: no xattrs, a header shorter than 256 bytes. For those the checksum header is cut
    out of the archive header's bytes instead of parsing and re-serialising the GVariant,
    and the payload is inflated in one call.
    """
    fast = _simple_header(data)
    if fast is None:
        verifier = FilezVerifier()
        verifier.update(data)
        return verifier.finish()
    checksum_header, size, offset, is_symlink = fast
    hasher = hashlib.sha256(checksum_header)
    payload = memoryview(data)[offset:]
    if is_symlink:
        if payload:
            raise FormatError("symlink .filez carries a payload")
        return hasher.hexdigest()
    if not payload:  # an empty regular file may carry no deflate stream at all
        if size:
            raise FormatError(f".filez holds 0 bytes, header says {size}")
        return hasher.hexdigest()
    inflater = zlib.decompressobj(-15)
    try:
        content = inflater.decompress(payload, size + 1)
    except zlib.error as exc:
        raise FormatError(f"corrupt .filez deflate stream: {exc}") from None
    if len(content) > size:
        raise FormatError(f".filez inflates beyond its declared size {size}")
    if not inflater.eof:
        raise FormatError(".filez deflate stream is truncated")
    if inflater.unused_data:
        raise FormatError("data after the end of the .filez deflate stream")
    if len(content) != size:
        raise FormatError(f".filez holds {len(content)} bytes, header says {size}")
    hasher.update(content)
    return hasher.hexdigest()


_SIMPLE_FIELDS = struct.Struct(">QIIII")  # size, uid, gid, mode, rdev (stored byte-swapped)


def _simple_header(data: bytes) -> tuple[bytes, int, int, bool] | None:
    """(checksum header, content size, payload offset, is symlink) for a header without
    xattrs whose serialisation is under 256 bytes; None for anything else (including
    anything malformed: the general parser then says what is wrong).

    The archive header ``(tuuuusa(ayay))`` and the checksum header ``(uuuusa(ayay))`` differ
    by the leading size only: same bytes after it, and one framing offset (the end of the
    string) that moves by 8.
    """
    if len(data) < 8 or data[4:8] != b"\0\0\0\0":
        return None
    length = int.from_bytes(data[:4], "big")
    if not 26 <= length < 256 or len(data) < 8 + length:
        return None
    body = data[8:8 + length]
    string_end = body[-1]
    if string_end != length - 1 or body[string_end - 1] != 0:
        return None  # xattrs follow the string, or the offset is not ours to trust
    size, uid, gid, mode, rdev = _SIMPLE_FIELDS.unpack_from(body)
    target = body[24:string_end - 1]
    if rdev or b"\0" in target:
        return None
    if stat.S_ISREG(mode):
        if target:
            return None
        is_symlink = False
    elif stat.S_ISLNK(mode):
        if not target or size:
            return None
        try:
            target.decode("utf-8")
        except UnicodeDecodeError:
            return None
        is_symlink = True
    else:
        return None
    checksum_body = body[8:length - 1] + bytes((string_end - 8,))
    return _frame(checksum_body), size, 8 + length, is_symlink


def content_checksum(header: FileHeader, content: bytes | BinaryIO = b"") -> str:
    """Checksum of a content object from its header and uncompressed content."""
    hasher = hashlib.sha256(header.validate().checksum_header())
    for piece in _iter_content(header, content, _content_size(header, content, None)):
        hasher.update(piece)
    return hasher.hexdigest()


def write_filez(
    out: BinaryIO,
    header: FileHeader,
    content: bytes | BinaryIO = b"",
    *,
    size: int | None = None,
    level: int = DEFAULT_COMPRESSION_LEVEL,
) -> str:
    """Write ``header`` + ``content`` as a ``.filez`` to ``out``; return the object checksum.

    ``content`` is bytes or a binary stream; for a stream without ``size`` the remaining
    length is found by seeking. Symlinks take no content.
    """
    size = _content_size(header.validate(), content, size)
    hasher = hashlib.sha256(header.checksum_header())
    out.write(header.archive_header(size))
    if header.is_symlink:
        return hasher.hexdigest()
    deflater = zlib.compressobj(level, zlib.DEFLATED, -15)
    for piece in _iter_content(header, content, size):
        hasher.update(piece)
        out.write(deflater.compress(piece))
    out.write(deflater.flush())
    return hasher.hexdigest()


def encode_filez(
    header: FileHeader, content: bytes = b"", level: int = DEFAULT_COMPRESSION_LEVEL
) -> tuple[bytes, str]:
    """In-memory :func:`write_filez`: return (``.filez`` bytes, object checksum)."""
    buffer = io.BytesIO()
    checksum = write_filez(buffer, header, content, level=level)
    return buffer.getvalue(), checksum


def _content_size(header: FileHeader, content: bytes | BinaryIO, size: int | None) -> int:
    if header.is_symlink:
        if (isinstance(content, (bytes, bytearray)) and content) or size:
            raise FormatError("symlinks have no content")
        return 0
    if isinstance(content, (bytes, bytearray, memoryview)):
        return len(content)
    if size is None:
        start = content.tell()
        size = content.seek(0, 2) - start
        content.seek(start)
    return size


def _iter_content(header: FileHeader, content: bytes | BinaryIO, size: int) -> Iterator[bytes]:
    if header.is_symlink:
        return
    if isinstance(content, (bytes, bytearray, memoryview)):
        yield bytes(content)
        return
    remaining = size
    while remaining:
        piece = content.read(min(remaining, _CHUNK))
        if not piece:
            raise FormatError(f"content stream ended {remaining} bytes early")
        remaining -= len(piece)
        yield piece


def decode_filez(data: bytes, checksum: str = "") -> tuple[FileHeader, bytes]:
    """Header and inflated content of a whole `.filez` object held in memory."""
    header, size, offset = parse_archive_header(data)
    try:
        content = zlib.decompress(data[offset:], -15) if data[offset:] else b""
    except zlib.error as exc:
        raise FormatError(f"corrupt content object {checksum}: {exc}") from None
    if len(content) != size:
        raise FormatError(f"content object {checksum} inflates to the wrong size")
    return header, content
