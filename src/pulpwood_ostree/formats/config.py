"""The repository ``config`` file: GKeyFile text with a ``[core]`` group.

Clients fetch it before anything else and read ``core.mode`` (``archive-z2`` and ``archive``
are synonyms), ``core.tombstone-commits`` and ``core.indexed-deltas``. Only the GKeyFile subset
that repository configs use is supported: groups, ``key=value`` lines, ``#`` comments and the
``\\s \\n \\t \\r \\\\`` value escapes. Comments are not preserved when writing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import FormatError

ARCHIVE_MODES = ("archive", "archive-z2")

_UNESCAPES = {"s": " ", "n": "\n", "t": "\t", "r": "\r", "\\": "\\"}
_ESCAPES = {"\n": "\\n", "\t": "\\t", "\r": "\\r", "\\": "\\\\"}

KeyFileGroups = dict[str, dict[str, str]]


def parse_keyfile(text: str) -> KeyFileGroups:
    """GKeyFile text -> ``{group: {key: value}}`` in file order; later duplicates win."""
    groups: KeyFileGroups = {}
    current: dict[str, str] | None = None
    for number, raw_line in enumerate(text.splitlines(), start=1):
        line = raw_line.lstrip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            if not line.rstrip().endswith("]"):
                raise FormatError(f"config line {number}: unterminated group header")
            current = groups.setdefault(line.rstrip()[1:-1], {})
            continue
        key, equals, value = line.partition("=")
        if not equals or not key.strip():
            raise FormatError(f"config line {number}: expected key=value")
        if current is None:
            raise FormatError(f"config line {number}: key outside of any group")
        current[key.strip()] = _unescape(value.lstrip(" \t"), number)
    return groups


def format_keyfile(groups: KeyFileGroups) -> str:
    """``{group: {key: value}}`` -> GKeyFile text, groups separated by a blank line."""
    blocks = []
    for group, entries in groups.items():
        if not group or any(char in group for char in "[]\n"):
            raise FormatError(f"invalid group name {group!r}")
        lines = [f"[{group}]"]
        for key, value in entries.items():
            if not key or any(char in key for char in "=\n[]") or key != key.strip():
                raise FormatError(f"invalid key {key!r}")
            lines.append(f"{key}={_escape(value)}")
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks)


def _unescape(value: str, number: int) -> str:
    out = []
    chars = iter(value)
    for char in chars:
        if char != "\\":
            out.append(char)
            continue
        escaped = next(chars, "")
        if escaped not in _UNESCAPES:
            raise FormatError(f"config line {number}: invalid escape \\{escaped}")
        out.append(_UNESCAPES[escaped])
    return "".join(out)


def _escape(value: str) -> str:
    escaped = "".join(_ESCAPES.get(char, char) for char in value)
    # Leading blanks would be stripped by the parser, so they get the \s escape.
    stripped = escaped.lstrip(" ")
    return "\\s" * (len(escaped) - len(stripped)) + stripped


@dataclass
class RepoConfig:
    """A repository ``config`` with typed access to the keys clients care about."""

    groups: KeyFileGroups = field(default_factory=dict)

    @classmethod
    def new(cls, mode: str = "archive-z2", **core: str) -> RepoConfig:
        """The config ``ostree init --mode=archive`` writes, plus any extra core keys."""
        return cls({"core": {"repo_version": "1", "mode": mode, **core}})

    @classmethod
    def from_text(cls, text: str) -> RepoConfig:
        return cls(parse_keyfile(text))

    def to_text(self) -> str:
        return format_keyfile(self.groups)

    def get(self, group: str, key: str, default: str | None = None) -> str | None:
        return self.groups.get(group, {}).get(key, default)

    def get_bool(self, group: str, key: str, default: bool = False) -> bool:
        value = self.get(group, key)
        if value is None:
            return default
        if value in ("true", "1"):
            return True
        if value in ("false", "0"):
            return False
        raise FormatError(f"{group}.{key} is not a boolean: {value!r}")

    @property
    def mode(self) -> str:
        # libostree treats a config without core.mode as a bare repository.
        return self.get("core", "mode") or "bare"

    @property
    def is_archive(self) -> bool:
        return self.mode in ARCHIVE_MODES

    @property
    def tombstone_commits(self) -> bool:
        return self.get_bool("core", "tombstone-commits")

    @property
    def indexed_deltas(self) -> bool:
        return self.get_bool("core", "indexed-deltas")

    @property
    def collection_id(self) -> str | None:
        return self.get("core", "collection-id")
