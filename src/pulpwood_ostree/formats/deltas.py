"""Static delta formats: naming, paths, superblocks, parts and delta indexes.

A delta from commit A to B lives in ``deltas/<b64(A)[:2]>/<b64(A)[2:]>-<b64(B)>/`` (a
from-scratch delta in ``deltas/<b64(B)[:2]>/<b64(B)[2:]>/``) as a ``superblock`` plus numbered
part files. The superblock carries the full target commit, the list of parts with the objects
each one creates, and "fallback" objects that clients fetch as plain loose objects.

Sizes and part versions are stored in the byte order named by the ``ostree.endianness``
superblock metadata (``'l'`` or ``'B'``); the generation timestamp is always big-endian.
"""

from __future__ import annotations

import base64
import binascii
import lzma
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from .errors import FormatError
from .gvariant import Variant, bswap32, bswap64, parse, serialize
from .objects import (
    COMMIT_TYPE,
    XATTRS_TYPE,
    Commit,
    ObjectType,
    Xattrs,
    bytes_to_checksum,
    checksum_to_bytes,
    xattrs_from_value,
    xattrs_to_value,
)
from .summary import KEY_STATIC_DELTAS, deltas_variant

SUPERBLOCK_TYPE = f"(a{{sv}}tayay{COMMIT_TYPE}aya(uayttay)a(yaytt))"
PART_PAYLOAD_TYPE = f"(a(uuu)a{XATTRS_TYPE}ayay)"
DELTA_INDEX_TYPE = "a{sv}"

KEY_ENDIANNESS = "ostree.endianness"
COMPRESSION_NONE = 0
COMPRESSION_XZ = ord("x")

# Opcodes of the part "program"; operands are unsigned LEB128 varints.
OP_OPEN_SPLICE_AND_CLOSE = ord("S")
OP_OPEN = ord("o")
OP_WRITE = ord("w")
OP_SET_READ_SOURCE = ord("r")
OP_UNSET_READ_SOURCE = ord("R")
OP_CLOSE = ord("c")
OP_BSPATCH = ord("B")


# ---------------------------------------------------------------------- naming


def checksum_to_b64(checksum: str) -> str:
    """libostree's "modified base64" of a checksum: no ``=`` padding, ``/`` -> ``_``."""
    raw = checksum_to_bytes(checksum)
    return base64.b64encode(raw).decode("ascii").rstrip("=").replace("/", "_")


def b64_to_checksum(text: str) -> str:
    try:
        raw = base64.b64decode(text.replace("_", "/") + "=", validate=True)
    except (binascii.Error, ValueError):
        raise FormatError(f"not a modified-base64 checksum: {text!r}") from None
    return bytes_to_checksum(raw)


def delta_name(from_checksum: str | None, to_checksum: str) -> str:
    """The name summaries and delta indexes use: ``"<from>-<to>"`` or ``"<to>"``."""
    return f"{from_checksum}-{to_checksum}" if from_checksum else to_checksum


def parse_delta_name(name: str) -> tuple[str | None, str]:
    """Inverse of :func:`delta_name`: ``(from checksum or None, to checksum)``."""
    from_checksum, _, to_checksum = name.rpartition("-")
    checksum_to_bytes(to_checksum)
    if from_checksum:
        checksum_to_bytes(from_checksum)
    return from_checksum or None, to_checksum


def delta_dir(from_checksum: str | None, to_checksum: str) -> str:
    """Repository-relative directory holding a delta's superblock and parts."""
    to_b64 = checksum_to_b64(to_checksum)
    if from_checksum is None:
        return f"deltas/{to_b64[:2]}/{to_b64[2:]}"
    from_b64 = checksum_to_b64(from_checksum)
    return f"deltas/{from_b64[:2]}/{from_b64[2:]}-{to_b64}"


def delta_superblock_path(from_checksum: str | None, to_checksum: str) -> str:
    return f"{delta_dir(from_checksum, to_checksum)}/superblock"


def delta_part_path(from_checksum: str | None, to_checksum: str, index: int) -> str:
    return f"{delta_dir(from_checksum, to_checksum)}/{index}"


def delta_index_path(to_checksum: str) -> str:
    """``delta-indexes/…/<to>.index``, listing deltas that end at ``to_checksum``."""
    to_b64 = checksum_to_b64(to_checksum)
    return f"delta-indexes/{to_b64[:2]}/{to_b64[2:]}.index"


def build_delta_index(deltas: Mapping[str, str]) -> bytes:
    """A delta index file: ``{delta name: superblock SHA-256 hex}`` for one target commit."""
    return serialize(DELTA_INDEX_TYPE, {KEY_STATIC_DELTAS: deltas_variant(deltas)})


def parse_delta_index(data: bytes) -> dict[str, str]:
    value = parse(DELTA_INDEX_TYPE, data).get(KEY_STATIC_DELTAS)
    if value is None:
        return {}
    if value.type_str != "a{sv}":
        raise FormatError(f"delta index entry has type {value.type_str}")
    return {name: bytes_to_checksum(csum.value) for name, csum in value.value.items()}


# ------------------------------------------------------------------ superblock


@dataclass(frozen=True)
class DeltaPartMeta:
    """A superblock's description of one part file."""

    checksum: str
    compressed_size: int
    uncompressed_size: int
    objects: tuple[tuple[ObjectType, str], ...]
    version: int = 0


@dataclass(frozen=True)
class DeltaFallback:
    """An object the client fetches individually instead of from a part."""

    objtype: ObjectType
    checksum: str
    compressed_size: int
    uncompressed_size: int


@dataclass(frozen=True)
class Superblock:
    """A parsed static delta superblock; sizes are host values whatever the endianness."""

    to_checksum: str
    commit: Commit
    from_checksum: str | None = None
    timestamp: int = 0
    parts: tuple[DeltaPartMeta, ...] = ()
    fallbacks: tuple[DeltaFallback, ...] = ()
    metadata: dict[str, Variant] = field(
        default_factory=lambda: {KEY_ENDIANNESS: Variant("y", ord("l"))}
    )
    recursive_deltas: bytes = b""

    @property
    def big_endian(self) -> bool:
        value = self.metadata.get(KEY_ENDIANNESS)
        return value is not None and value.value == ord("B")

    @classmethod
    def from_bytes(cls, data: bytes) -> Superblock:
        try:
            metadata, timestamp, from_raw, to_raw, commit, recursive, parts, fallbacks = parse(
                SUPERBLOCK_TYPE, data
            )
        except FormatError as exc:
            raise FormatError(f"malformed delta superblock: {exc}") from None
        endianness = metadata.get(KEY_ENDIANNESS)
        swap = endianness is not None and endianness.value == ord("B")
        u32 = bswap32 if swap else int
        u64 = bswap64 if swap else int
        return cls(
            to_checksum=bytes_to_checksum(to_raw),
            commit=Commit.from_value(commit),
            from_checksum=bytes_to_checksum(from_raw) if from_raw else None,
            timestamp=bswap64(timestamp),
            parts=tuple(
                DeltaPartMeta(
                    checksum=bytes_to_checksum(csum),
                    compressed_size=u64(compressed),
                    uncompressed_size=u64(uncompressed),
                    objects=unpack_object_list(objects),
                    version=u32(version),
                )
                for version, csum, compressed, uncompressed, objects in parts
            ),
            fallbacks=tuple(
                DeltaFallback(_objtype(objtype), bytes_to_checksum(csum), u64(c), u64(u))
                for objtype, csum, c, u in fallbacks
            ),
            metadata=metadata,
            recursive_deltas=recursive,
        )

    def to_bytes(self) -> bytes:
        u32 = bswap32 if self.big_endian else int
        u64 = bswap64 if self.big_endian else int
        return serialize(
            SUPERBLOCK_TYPE,
            (
                self.metadata,
                bswap64(self.timestamp),
                checksum_to_bytes(self.from_checksum) if self.from_checksum else b"",
                checksum_to_bytes(self.to_checksum),
                self.commit.to_value(),
                self.recursive_deltas,
                [
                    (
                        u32(part.version),
                        checksum_to_bytes(part.checksum),
                        u64(part.compressed_size),
                        u64(part.uncompressed_size),
                        pack_object_list(part.objects),
                    )
                    for part in self.parts
                ],
                [
                    (
                        int(fallback.objtype),
                        checksum_to_bytes(fallback.checksum),
                        u64(fallback.compressed_size),
                        u64(fallback.uncompressed_size),
                    )
                    for fallback in self.fallbacks
                ],
            ),
        )


def _objtype(number: int) -> ObjectType:
    try:
        return ObjectType(number)
    except ValueError:
        raise FormatError(f"unknown object type {number}") from None


def pack_object_list(objects: tuple[tuple[ObjectType, str], ...]) -> bytes:
    """Objects as 33-byte records: type byte + raw checksum."""
    return b"".join(bytes([objtype]) + checksum_to_bytes(csum) for objtype, csum in objects)


def unpack_object_list(data: bytes) -> tuple[tuple[ObjectType, str], ...]:
    if len(data) % 33:
        raise FormatError(f"delta object list length {len(data)} is not a multiple of 33")
    return tuple(
        (_objtype(data[pos]), bytes_to_checksum(data[pos + 1 : pos + 33]))
        for pos in range(0, len(data), 33)
    )


# ------------------------------------------------------------------------ parts


@dataclass(frozen=True)
class DeltaPart:
    """The payload of a part file: tables, a data blob and the opcode stream."""

    modes: tuple[tuple[int, int, int], ...] = ()  # (uid, gid, mode), host values
    xattrs: tuple[Xattrs, ...] = ()
    payload: bytes = b""
    operations: bytes = b""

    @classmethod
    def from_bytes(cls, data: bytes) -> DeltaPart:
        """Parse a part file, including its leading compression byte (none or xz)."""
        if not data:
            raise FormatError("delta part is empty")
        if data[0] == COMPRESSION_NONE:
            payload = data[1:]
        elif data[0] == COMPRESSION_XZ:
            try:
                payload = lzma.decompress(data[1:])
            except lzma.LZMAError as exc:
                raise FormatError(f"corrupt xz delta part: {exc}") from None
        else:
            raise FormatError(f"unknown delta part compression {data[0]!r}")
        try:
            modes, xattrs, blob, operations = parse(PART_PAYLOAD_TYPE, payload)
        except FormatError as exc:
            raise FormatError(f"malformed delta part: {exc}") from None
        return cls(
            modes=tuple((bswap32(u), bswap32(g), bswap32(m)) for u, g, m in modes),
            xattrs=tuple(xattrs_from_value(entry) for entry in xattrs),
            payload=blob,
            operations=operations,
        )

    def payload_bytes(self) -> bytes:
        """The uncompressed ``(a(uuu)aa(ayay)ayay)`` variant."""
        return serialize(
            PART_PAYLOAD_TYPE,
            (
                [(bswap32(u), bswap32(g), bswap32(m)) for u, g, m in self.modes],
                [xattrs_to_value(entry) for entry in self.xattrs],
                self.payload,
                self.operations,
            ),
        )

    def to_bytes(self, compression: int = COMPRESSION_NONE) -> bytes:
        """The part file: compression byte then the (possibly xz-compressed) payload."""
        payload = self.payload_bytes()
        if compression == COMPRESSION_XZ:
            payload = lzma.compress(payload, format=lzma.FORMAT_XZ)
        elif compression != COMPRESSION_NONE:
            raise FormatError(f"unsupported delta part compression {compression!r}")
        return bytes([compression]) + payload

    def iter_operations(
        self, objects: tuple[tuple[ObjectType, str], ...]
    ) -> Iterator[tuple[int, tuple[int, ...]]]:
        """Decode the opcode stream into ``(opcode, operands)``.

        Operand counts depend on the object being written, so the part's object list from
        the superblock is needed.
        """
        pos = 0
        index = 0
        ops = self.operations
        while pos < len(ops):
            opcode = ops[pos]
            pos += 1
            if opcode in (OP_OPEN_SPLICE_AND_CLOSE, OP_OPEN):
                if index >= len(objects):
                    raise FormatError("delta part has more objects than its superblock lists")
                is_meta = objects[index][0].is_metadata
                count = 2 if is_meta else 3
                if opcode == OP_OPEN_SPLICE_AND_CLOSE:
                    index += 1
                    count = 2 if is_meta else 4
                elif is_meta:
                    raise FormatError("open opcode used for a metadata object")
            elif opcode in (OP_WRITE, OP_BSPATCH):
                count = 2
            elif opcode == OP_SET_READ_SOURCE:
                count = 1
            elif opcode == OP_CLOSE:
                index += 1
                count = 0
            elif opcode == OP_UNSET_READ_SOURCE:
                count = 0
            else:
                raise FormatError(f"unknown delta opcode {opcode:#x}")
            operands = []
            for _ in range(count):
                value, pos = decode_varint(ops, pos)
                operands.append(value)
            yield opcode, tuple(operands)


def encode_varint(value: int) -> bytes:
    """Unsigned LEB128 (protobuf varint), as the delta opcode stream uses."""
    if value < 0:
        raise FormatError("varints are unsigned")
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def decode_varint(data: bytes, pos: int) -> tuple[int, int]:
    """Read a varint at ``pos``; return (value, position after it)."""
    value = 0
    shift = 0
    while True:
        if pos >= len(data):
            raise FormatError("truncated varint in delta opcode stream")
        if shift > 63:
            raise FormatError("varint longer than 64 bits")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos
