"""Request paths under a serving prefix, split into safe segments.

Only names the database knows are ever served (nothing is joined onto the filesystem), but a
path is still refused early when it tries tricks a file server would fall for: `..` or `.`
segments (also percent-encoded), encoded slashes or backslashes, NUL bytes, empty segments
(`a//b`, which is how an absolute path shows up after the prefix) and bytes that are not UTF-8.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote_to_bytes


@dataclass(frozen=True)
class RequestPath:
    """The part of a request path after the prefix: decoded segments plus the trailing slash."""

    segments: tuple[str, ...]
    trailing_slash: bool

    @property
    def text(self) -> str:
        return "/".join(self.segments)


def split_path(raw: bytes) -> RequestPath | None:
    """Split the raw (still percent-encoded) path below the prefix; None = refuse (404)."""
    if not raw:
        return RequestPath((), True)
    trailing = raw.endswith(b"/")
    if trailing:
        raw = raw[:-1]
    if b"%" not in raw and b"\\" not in raw and b"\x00" not in raw:
        # Nothing encoded (nearly every request): the same checks on the whole path at once.
        parts = raw.split(b"/")
        if b"" in parts or b"." in parts or b".." in parts:
            return None
        try:
            return RequestPath(tuple(raw.decode("utf-8").split("/")), trailing)
        except UnicodeDecodeError:
            return None
    segments = []
    for part in raw.split(b"/"):
        decoded = unquote_to_bytes(part)
        if not decoded or decoded in (b".", b"..") or b"/" in decoded or b"\\" in decoded or b"\x00" in decoded:
            return None
        try:
            segments.append(decoded.decode("utf-8"))
        except UnicodeDecodeError:
            return None
    return RequestPath(tuple(segments), trailing)


def candidate_base_paths(segments: tuple[str, ...]) -> list[str]:
    """Every segment-wise prefix of the path, longest first."""
    return ["/".join(segments[:n]) for n in range(len(segments), 0, -1)]
