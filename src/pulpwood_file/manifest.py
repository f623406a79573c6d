"""PULP_MANIFEST: one `relative_path,sha256,size` line per file, read by syncs and written by
publications."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, urlsplit, urlunsplit

from pulpwood.plugin import TaskError

PATH = re.compile(r"^[^/]+(/[^/]+)*$")
SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")


@dataclass(frozen=True)
class Entry:
    relative_path: str
    digest: str
    size: int


def parse_manifest(data: bytes) -> list[Entry]:
    """Entries of a manifest; a bad line fails naming its number and text."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TaskError(f"Error: the manifest file is not UTF-8 text ({exc}).") from None
    entries = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        # Paths may contain commas: the digest and size are the last two fields.
        parts = [part.strip() for part in line.rsplit(",", 2)]
        if (len(parts) != 3 or not PATH.match(parts[0]) or not SHA256.match(parts[1])
                or not parts[2].isdigit()):
            raise TaskError(
                f"Error: Parsing of the manifest file failed on line:{number}. Expected "
                f"'<relative_path>,<digest>,<size>' but found: {line!r}.")
        entries.append(Entry(parts[0], parts[1].lower(), int(parts[2])))
    return entries


def file_url(manifest_url: str, relative_path: str) -> str:
    """A file's URL: its path resolved against the manifest's directory."""
    parts = urlsplit(manifest_url)
    directory = parts.path.rsplit("/", 1)[0]
    path = f"{directory}/{relative_path}"
    if parts.scheme != "file":
        path = quote(path, safe=":/")
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def format_manifest(entries: list[Entry]) -> bytes:
    return "".join(f"{e.relative_path},{e.digest},{e.size}\n" for e in entries).encode("utf-8")
