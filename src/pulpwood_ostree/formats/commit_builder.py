"""Build the objects of a commit from an in-memory tree, as an archive repository stores them.

Useful to publish generated content and to make fixture repositories without the ``ostree``
CLI. :func:`build_commit` returns every object as ``{repo-relative path: stored bytes}``;
:func:`write_repo_files` puts such a mapping (plus config, refs, summary…) on disk.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .errors import FormatError
from .filez import DEFAULT_COMPRESSION_LEVEL, FileHeader, encode_filez
from .gvariant import Variant
from .objects import (
    Commit,
    DirMeta,
    DirTree,
    ObjectType,
    TreeDir,
    TreeFile,
    Xattrs,
    metadata_checksum,
    object_path,
)


@dataclass(frozen=True)
class RegularFile:
    """A regular file; ``mode`` holds permission bits only (S_IFREG is added)."""

    content: bytes = b""
    mode: int = 0o644
    uid: int = 0
    gid: int = 0
    xattrs: Xattrs = ()


@dataclass(frozen=True)
class Symlink:
    target: str
    uid: int = 0
    gid: int = 0
    xattrs: Xattrs = ()


@dataclass(frozen=True)
class Directory:
    """A directory; ``entries`` maps names to files, symlinks and subdirectories."""

    entries: Mapping[str, RegularFile | Symlink | Directory] = field(default_factory=dict)
    mode: int = 0o755
    uid: int = 0
    gid: int = 0
    xattrs: Xattrs = ()


@dataclass(frozen=True)
class BuiltCommit:
    checksum: str
    commit: Commit
    objects: dict[str, bytes]

    @property
    def commit_bytes(self) -> bytes:
        return self.objects[object_path(self.checksum, ObjectType.COMMIT)]


def build_commit(
    root: Directory,
    *,
    subject: str = "",
    body: str = "",
    timestamp: int = 0,
    parent: str | None = None,
    metadata: Mapping[str, Variant] | None = None,
    compression_level: int = DEFAULT_COMPRESSION_LEVEL,
) -> BuiltCommit:
    """Serialise ``root`` and a commit on top of it; return every object's stored bytes."""
    objects: dict[str, bytes] = {}
    tree_checksum, meta_checksum = _add_directory(root, objects, compression_level)
    commit = Commit(
        root_dirtree=tree_checksum,
        root_dirmeta=meta_checksum,
        subject=subject,
        body=body,
        timestamp=timestamp,
        parent=parent,
        metadata=dict(metadata or {}),
    )
    checksum = _add_metadata(ObjectType.COMMIT, commit.to_bytes(), objects)
    return BuiltCommit(checksum, commit, objects)


def _add_metadata(objtype: ObjectType, data: bytes, objects: dict[str, bytes]) -> str:
    checksum = metadata_checksum(data)
    objects[object_path(checksum, objtype)] = data
    return checksum


def _add_directory(
    directory: Directory, objects: dict[str, bytes], level: int
) -> tuple[str, str]:
    files = []
    dirs = []
    for name, entry in directory.entries.items():
        _check_name(name)
        if isinstance(entry, Directory):
            dirs.append(TreeDir(name, *_add_directory(entry, objects, level)))
            continue
        if isinstance(entry, Symlink):
            header = FileHeader(
                stat.S_IFLNK | 0o777, entry.uid, entry.gid, entry.target, entry.xattrs
            )
            content = b""
        else:
            header = FileHeader(
                stat.S_IFREG | stat.S_IMODE(entry.mode), entry.uid, entry.gid, "", entry.xattrs
            )
            content = entry.content
        data, checksum = encode_filez(header, content, level)
        objects[object_path(checksum, ObjectType.FILE)] = data
        files.append(TreeFile(name, checksum))
    meta = DirMeta(
        directory.uid, directory.gid, stat.S_IFDIR | stat.S_IMODE(directory.mode), directory.xattrs
    )
    meta_checksum = _add_metadata(ObjectType.DIR_META, meta.to_bytes(), objects)
    tree_checksum = _add_metadata(
        ObjectType.DIR_TREE, DirTree(tuple(files), tuple(dirs)).to_bytes(), objects
    )
    return tree_checksum, meta_checksum


def _check_name(name: str) -> None:
    if name in ("", ".", "..") or "/" in name or "\0" in name:
        raise FormatError(f"invalid file name in tree: {name!r}")


def write_repo_files(repo: str | os.PathLike[str], files: Mapping[str, bytes]) -> None:
    """Write ``{repo-relative path: bytes}`` under ``repo``, creating directories."""
    root = Path(repo).resolve()
    for relative, data in files.items():
        target = (root / relative).resolve()
        if root not in target.parents:
            raise FormatError(f"path escapes the repository: {relative!r}")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
