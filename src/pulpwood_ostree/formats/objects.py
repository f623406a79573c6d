"""OSTree object types, object paths, checksums and the metadata objects.

Metadata objects (commit, dirtree, dirmeta) are GVariants addressed by the SHA-256 of their
serialised bytes, so :meth:`to_bytes` must reproduce the normal form libostree writes: tree
entries sorted by UTF-8 name bytes, xattr names NUL-terminated, and the integers libostree
byte-swaps (commit timestamp, dirmeta uid/gid/mode) stored big-endian. The Python attributes
hold the plain host values.
"""

from __future__ import annotations

import enum
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from .errors import FormatError
from .gvariant import Variant, bswap32, bswap64, parse, serialize

COMMIT_TYPE = "(a{sv}aya(say)sstayay)"
DIRTREE_TYPE = "(a(say)a(sayay))"
DIRMETA_TYPE = "(uuua(ayay))"
XATTRS_TYPE = "a(ayay)"

# (name, value) pairs; names without the trailing NUL that the serialised form carries.
Xattrs = tuple[tuple[bytes, bytes], ...]

_HEX64 = re.compile(r"[0-9a-f]{64}")
_REF = re.compile(r"[\w\d][-._\w\d]*(?:/[\w\d][-._\w\d]*)*", re.ASCII)


class ObjectType(enum.IntEnum):
    """Object type numbers as libostree defines them (also used in static deltas)."""

    FILE = 1
    DIR_TREE = 2
    DIR_META = 3
    COMMIT = 4
    TOMBSTONE_COMMIT = 5
    COMMIT_META = 6
    PAYLOAD_LINK = 7
    FILE_XATTRS = 8
    FILE_XATTRS_LINK = 9

    @property
    def type_name(self) -> str:
        """The libostree name, e.g. ``dirtree``; also the loose-object file extension."""
        return _TYPE_NAMES[self]

    @property
    def is_metadata(self) -> bool:
        """True for the GVariant types checksummed over their own bytes."""
        return ObjectType.DIR_TREE <= self <= ObjectType.COMMIT_META

    def extension(self, archive: bool = True) -> str:
        """File extension of a loose object; archive repos compress content as ``filez``."""
        return "filez" if archive and self is ObjectType.FILE else self.type_name


_TYPE_NAMES = {
    ObjectType.FILE: "file",
    ObjectType.DIR_TREE: "dirtree",
    ObjectType.DIR_META: "dirmeta",
    ObjectType.COMMIT: "commit",
    ObjectType.TOMBSTONE_COMMIT: "tombstone-commit",
    ObjectType.COMMIT_META: "commitmeta",
    ObjectType.PAYLOAD_LINK: "payload-link",
    ObjectType.FILE_XATTRS: "file-xattrs",
    ObjectType.FILE_XATTRS_LINK: "file-xattrs-link",
}
_EXTENSIONS = {name: objtype for objtype, name in _TYPE_NAMES.items()} | {
    "filez": ObjectType.FILE
}


# ------------------------------------------------------------- names and paths


def is_checksum(text: str) -> bool:
    """True for a 64-character lowercase hex SHA-256."""
    return isinstance(text, str) and _HEX64.fullmatch(text) is not None


def checksum_to_bytes(checksum: str) -> bytes:
    """64 lowercase hex characters -> the 32 raw bytes stored inside GVariants."""
    if not is_checksum(checksum):
        raise FormatError(f"not a SHA-256 checksum: {checksum!r}")
    return bytes.fromhex(checksum)


def bytes_to_checksum(raw: bytes) -> str:
    """32 raw bytes -> 64 lowercase hex characters."""
    if len(raw) != 32:
        raise FormatError(f"checksum must be 32 bytes, got {len(raw)}")
    return bytes(raw).hex()


def object_path(checksum: str, objtype: ObjectType, archive: bool = True) -> str:
    """Repository-relative path of a loose object, e.g. ``objects/ab/cdef….dirtree``."""
    if not is_checksum(checksum):
        raise FormatError(f"not a SHA-256 checksum: {checksum!r}")
    return f"objects/{checksum[:2]}/{checksum[2:]}.{objtype.extension(archive)}"


def parse_object_path(path: str) -> tuple[str, ObjectType]:
    """Inverse of :func:`object_path` (accepts the ``objects/`` prefix or just ``ab/cd….ext``)."""
    parts = path.strip("/").split("/")
    if len(parts) < 2 or "." not in parts[-1]:
        raise FormatError(f"not an object path: {path!r}")
    rest, extension = parts[-1].split(".", 1)
    checksum = parts[-2] + rest
    if not is_checksum(checksum) or extension not in _EXTENSIONS:
        raise FormatError(f"not an object path: {path!r}")
    return checksum, _EXTENSIONS[extension]


def is_valid_ref(name: str) -> bool:
    """True if ``name`` is a valid ref: fragments ``[\\w\\d][-._\\w\\d]*`` joined by ``/``."""
    return isinstance(name, str) and _REF.fullmatch(name) is not None


def validate_ref(name: str) -> str:
    """Return ``name`` unchanged, or raise FormatError if it is not a valid ref name."""
    if not is_valid_ref(name):
        raise FormatError(f"invalid ref name: {name!r}")
    return name


def metadata_checksum(data: bytes) -> str:
    """Checksum of a metadata object: SHA-256 over its serialised bytes."""
    return hashlib.sha256(data).hexdigest()


# --------------------------------------------------------------------- xattrs


def xattrs_to_value(xattrs: Iterable[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """Xattrs in serialised form: sorted by name, names NUL-terminated."""
    return [(bytes(name) + b"\0", bytes(value)) for name, value in sorted(xattrs)]


def xattrs_from_value(value: list[tuple[bytes, bytes]]) -> Xattrs:
    """Parsed ``a(ayay)`` -> xattrs with the NUL terminator stripped from names."""
    xattrs = []
    for name, data in value:
        if not name.endswith(b"\0") or b"\0" in name[:-1]:
            raise FormatError(f"xattr name is not a NUL-terminated string: {name!r}")
        xattrs.append((name[:-1], data))
    return tuple(xattrs)


def _sort_key(name: str) -> bytes:
    # libostree compares names with strcmp, i.e. by UTF-8 bytes, not by code point order.
    return name.encode("utf-8")


def _parse_object(type_str: str, data: bytes, what: str) -> Any:
    try:
        return parse(type_str, data)
    except FormatError as exc:
        raise FormatError(f"malformed {what} object: {exc}") from None


# ----------------------------------------------------------- metadata objects


@dataclass(frozen=True)
class Commit:
    """A commit object; checksums are hex, ``timestamp`` is seconds since the epoch (UTC)."""

    root_dirtree: str
    root_dirmeta: str
    subject: str = ""
    body: str = ""
    timestamp: int = 0
    parent: str | None = None
    metadata: dict[str, Variant] = field(default_factory=dict)
    related: tuple[tuple[str, str], ...] = ()

    @property
    def version(self) -> str | None:
        """The ``version`` metadata string, if set (summaries repeat it per ref)."""
        value = self.metadata.get("version")
        return value.value if value is not None and value.type_str == "s" else None

    @classmethod
    def from_bytes(cls, data: bytes) -> Commit:
        return cls.from_value(_parse_object(COMMIT_TYPE, data, "commit"))

    @classmethod
    def from_value(cls, value: tuple[Any, ...]) -> Commit:
        """Build from the parsed GVariant tuple (as embedded in delta superblocks)."""
        metadata, parent, related, subject, body, timestamp, tree, meta = value
        if len(parent) not in (0, 32):
            raise FormatError(f"commit parent checksum has {len(parent)} bytes")
        return cls(
            root_dirtree=bytes_to_checksum(tree),
            root_dirmeta=bytes_to_checksum(meta),
            subject=subject,
            body=body,
            timestamp=bswap64(timestamp),
            parent=bytes_to_checksum(parent) if parent else None,
            metadata=metadata,
            related=tuple((name, bytes_to_checksum(csum)) for name, csum in related),
        )

    def to_value(self) -> tuple[Any, ...]:
        """The GVariant tuple value; ``serialize(COMMIT_TYPE, ...)`` of it is the object."""
        return (
            self.metadata,
            checksum_to_bytes(self.parent) if self.parent else b"",
            [(name, checksum_to_bytes(csum)) for name, csum in self.related],
            self.subject,
            self.body,
            bswap64(self.timestamp),
            checksum_to_bytes(self.root_dirtree),
            checksum_to_bytes(self.root_dirmeta),
        )

    def to_bytes(self) -> bytes:
        return serialize(COMMIT_TYPE, self.to_value())


class TreeFile(NamedTuple):
    """A file entry of a dirtree: name and content-object checksum."""

    name: str
    checksum: str


class TreeDir(NamedTuple):
    """A subdirectory entry of a dirtree."""

    name: str
    tree_checksum: str
    meta_checksum: str


@dataclass(frozen=True)
class DirTree:
    """A directory listing; :meth:`to_bytes` sorts entries the way libostree requires."""

    files: tuple[TreeFile, ...] = ()
    dirs: tuple[TreeDir, ...] = ()

    @classmethod
    def from_bytes(cls, data: bytes) -> DirTree:
        files, dirs = _parse_object(DIRTREE_TYPE, data, "dirtree")
        return cls(
            files=tuple(TreeFile(name, bytes_to_checksum(csum)) for name, csum in files),
            dirs=tuple(
                TreeDir(name, bytes_to_checksum(tree), bytes_to_checksum(meta))
                for name, tree, meta in dirs
            ),
        )

    def to_bytes(self) -> bytes:
        files = sorted(self.files, key=lambda entry: _sort_key(entry.name))
        dirs = sorted(self.dirs, key=lambda entry: _sort_key(entry.name))
        return serialize(
            DIRTREE_TYPE,
            (
                [(entry.name, checksum_to_bytes(entry.checksum)) for entry in files],
                [
                    (
                        entry.name,
                        checksum_to_bytes(entry.tree_checksum),
                        checksum_to_bytes(entry.meta_checksum),
                    )
                    for entry in dirs
                ],
            ),
        )


@dataclass(frozen=True)
class DirMeta:
    """Directory ownership, mode (including the S_IFDIR bits) and xattrs."""

    uid: int = 0
    gid: int = 0
    mode: int = 0o40755
    xattrs: Xattrs = ()

    @classmethod
    def from_bytes(cls, data: bytes) -> DirMeta:
        uid, gid, mode, xattrs = _parse_object(DIRMETA_TYPE, data, "dirmeta")
        return cls(bswap32(uid), bswap32(gid), bswap32(mode), xattrs_from_value(xattrs))

    def to_bytes(self) -> bytes:
        return serialize(
            DIRMETA_TYPE,
            (
                bswap32(self.uid),
                bswap32(self.gid),
                bswap32(self.mode),
                xattrs_to_value(self.xattrs),
            ),
        )
