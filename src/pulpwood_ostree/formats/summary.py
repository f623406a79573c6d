"""The repository ``summary``: refs with their commits, plus repository-wide metadata.

Type ``(a(s(taya{sv}))a{sv})``. Each ref entry is ``(name, (commit size, commit checksum,
{ostree.commit.timestamp: t BE, ostree.commit.version: s}))``; refs are sorted by name and the
commit size is in host (little-endian) order, unlike the big-endian timestamps.

:func:`build_summary` is deterministic (same inputs, same bytes) and lays the dictionaries out
in the order libostree 2022.x emits them, so a regenerated summary only changes when its
content does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import FormatError
from .gvariant import Variant, bswap64, parse, serialize
from .objects import Commit, bytes_to_checksum, checksum_to_bytes, validate_ref

SUMMARY_TYPE = "(a(s(taya{sv}))a{sv})"

KEY_COMMIT_TIMESTAMP = "ostree.commit.timestamp"
KEY_COMMIT_VERSION = "ostree.commit.version"
KEY_STATIC_DELTAS = "ostree.static-deltas"
KEY_LAST_MODIFIED = "ostree.summary.last-modified"
KEY_MODE = "ostree.summary.mode"
KEY_TOMBSTONE_COMMITS = "ostree.summary.tombstone-commits"
KEY_INDEXED_DELTAS = "ostree.summary.indexed-deltas"


@dataclass(frozen=True)
class SummaryRef:
    """One ref entry of a summary."""

    name: str
    checksum: str
    commit_size: int
    metadata: dict[str, Variant] = field(default_factory=dict)

    @property
    def timestamp(self) -> int | None:
        value = self.metadata.get(KEY_COMMIT_TIMESTAMP)
        return bswap64(value.value) if value is not None and value.type_str == "t" else None

    @property
    def version(self) -> str | None:
        value = self.metadata.get(KEY_COMMIT_VERSION)
        return value.value if value is not None and value.type_str == "s" else None


@dataclass(frozen=True)
class Summary:
    """A parsed summary; ``to_bytes(from_bytes(data)) == data`` for normal-form input."""

    refs: tuple[SummaryRef, ...] = ()
    metadata: dict[str, Variant] = field(default_factory=dict)

    @classmethod
    def from_bytes(cls, data: bytes) -> Summary:
        try:
            refs, metadata = parse(SUMMARY_TYPE, data)
        except FormatError as exc:
            raise FormatError(f"malformed summary: {exc}") from None
        return cls(
            refs=tuple(
                SummaryRef(name, bytes_to_checksum(csum), size, ref_metadata)
                for name, (size, csum, ref_metadata) in refs
            ),
            metadata=metadata,
        )

    def to_bytes(self) -> bytes:
        refs = [
            (ref.name, (ref.commit_size, checksum_to_bytes(ref.checksum), ref.metadata))
            for ref in self.refs
        ]
        return serialize(SUMMARY_TYPE, (refs, self.metadata))

    @property
    def ref_checksums(self) -> dict[str, str]:
        """``{ref name: commit checksum}``."""
        return {ref.name: ref.checksum for ref in self.refs}

    @property
    def static_deltas(self) -> dict[str, str]:
        """``{delta name: superblock SHA-256 hex}`` from ``ostree.static-deltas``."""
        deltas = self._get(KEY_STATIC_DELTAS, "a{sv}") or {}
        return {name: bytes_to_checksum(value.value) for name, value in deltas.items()}

    @property
    def last_modified(self) -> int | None:
        value = self._get(KEY_LAST_MODIFIED, "t")
        return None if value is None else bswap64(value)

    @property
    def mode(self) -> str | None:
        value: str | None = self._get(KEY_MODE, "s")
        return value

    @property
    def tombstone_commits(self) -> bool:
        return bool(self._get(KEY_TOMBSTONE_COMMITS, "b"))

    @property
    def indexed_deltas(self) -> bool:
        return bool(self._get(KEY_INDEXED_DELTAS, "b"))

    def _get(self, key: str, type_str: str) -> Any:
        value = self.metadata.get(key)
        if value is None:
            return None
        if value.type_str != type_str:
            raise FormatError(f"summary key {key} has type {value.type_str}, not {type_str}")
        return value.value


def summary_ref(name: str, commit_checksum: str, commit_bytes: bytes) -> SummaryRef:
    """The summary entry libostree writes for ``name`` pointing at that commit."""
    commit = Commit.from_bytes(commit_bytes)
    metadata = {}
    if commit.version is not None:
        metadata[KEY_COMMIT_VERSION] = Variant("s", commit.version)
    metadata[KEY_COMMIT_TIMESTAMP] = Variant("t", bswap64(commit.timestamp))
    return SummaryRef(validate_ref(name), commit_checksum, len(commit_bytes), metadata)


def deltas_variant(deltas: Mapping[str, str]) -> Variant:
    """``{delta name: superblock SHA-256 hex}`` as the ``a{sv}`` libostree stores."""
    return Variant(
        "a{sv}",
        {name: Variant("ay", checksum_to_bytes(deltas[name])) for name in sorted(deltas)},
    )


def build_summary(
    refs: Mapping[str, tuple[str, bytes]],
    deltas: Mapping[str, str] | None = None,
    last_modified: int = 0,
    *,
    mode: str = "archive-z2",
    tombstone_commits: bool = False,
    indexed_deltas: bool = True,
    extra_metadata: Mapping[str, Variant] | None = None,
) -> bytes:
    """Serialise a summary for ``refs`` = ``{name: (commit checksum, commit object bytes)}``.

    ``deltas`` maps delta names (``"<from>-<to>"`` or ``"<to>"``) to the SHA-256 of each
    superblock; ``last_modified`` is seconds since the epoch. ``indexed_deltas`` advertises
    ``delta-indexes/`` files, which libostree clients then consult for deltas.
    """
    entries = tuple(
        summary_ref(name, *refs[name]) for name in sorted(refs, key=lambda n: n.encode())
    )
    metadata: dict[str, Variant] = {
        KEY_MODE: Variant("s", mode),
        KEY_LAST_MODIFIED: Variant("t", bswap64(last_modified)),
        KEY_TOMBSTONE_COMMITS: Variant("b", tombstone_commits),
    }
    if deltas:
        metadata[KEY_STATIC_DELTAS] = deltas_variant(deltas)
    if indexed_deltas:
        metadata[KEY_INDEXED_DELTAS] = Variant("b", True)
    metadata.update(extra_metadata or {})
    return Summary(entries, metadata).to_bytes()
