"""Read a local archive-mode repository directory (``ostree init --mode=archive`` layout).

Plain functions over a path: list refs, read and decode loose objects, walk a commit's objects
and its parent history. Nothing is cached and nothing is written.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from .config import RepoConfig
from .errors import FormatError
from .filez import FileHeader, decode_filez
from .objects import (
    Commit,
    DirMeta,
    DirTree,
    ObjectType,
    is_checksum,
    object_path,
    validate_ref,
)
from .traverse import iter_commit_objects

RepoPath = str | os.PathLike[str]


def read_config(repo: RepoPath) -> RepoConfig:
    return RepoConfig.from_text((Path(repo) / "config").read_text(encoding="utf-8"))


def list_refs(repo: RepoPath, namespace: str = "heads") -> dict[str, str]:
    """``{ref name: commit checksum}`` under ``refs/<namespace>``, nested dirs joined by ``/``.

    For ``namespace="remotes"`` the first path component is the remote name, as in
    ``refs/remotes/<remote>/<ref>``.
    """
    root = Path(repo) / "refs" / namespace
    refs = {}
    for directory, _subdirs, files in os.walk(root):
        for filename in files:
            path = Path(directory) / filename
            name = path.relative_to(root).as_posix()
            refs[validate_ref(name)] = _read_checksum_file(path)
    return dict(sorted(refs.items()))


def read_ref(repo: RepoPath, name: str, namespace: str = "heads") -> str:
    return _read_checksum_file(Path(repo) / "refs" / namespace / validate_ref(name))


def _read_checksum_file(path: Path) -> str:
    checksum = path.read_text(encoding="ascii", errors="replace").strip()
    if not is_checksum(checksum):
        raise FormatError(f"{path} does not hold a commit checksum")
    return checksum


def object_file(repo: RepoPath, checksum: str, objtype: ObjectType) -> Path:
    return Path(repo) / object_path(checksum, objtype)


def has_object(repo: RepoPath, checksum: str, objtype: ObjectType) -> bool:
    return object_file(repo, checksum, objtype).is_file()


def read_object(repo: RepoPath, checksum: str, objtype: ObjectType) -> bytes:
    """The stored bytes of a loose object (``.filez`` bytes for content objects)."""
    return object_file(repo, checksum, objtype).read_bytes()


def read_commit(repo: RepoPath, checksum: str) -> Commit:
    return Commit.from_bytes(read_object(repo, checksum, ObjectType.COMMIT))


def read_dirtree(repo: RepoPath, checksum: str) -> DirTree:
    return DirTree.from_bytes(read_object(repo, checksum, ObjectType.DIR_TREE))


def read_dirmeta(repo: RepoPath, checksum: str) -> DirMeta:
    return DirMeta.from_bytes(read_object(repo, checksum, ObjectType.DIR_META))


def read_file_object(repo: RepoPath, checksum: str) -> tuple[FileHeader, bytes]:
    """Header and inflated content of a content object (whole file in memory)."""
    return decode_filez(read_object(repo, checksum, ObjectType.FILE), checksum)


def load_object(
    repo: RepoPath, checksum: str, objtype: ObjectType
) -> bytes | tuple[FileHeader, bytes]:
    """Object loader for :func:`generate_delta`: raw metadata bytes or (header, content)."""
    if objtype is ObjectType.FILE:
        return read_file_object(repo, checksum)
    return read_object(repo, checksum, objtype)


def walk_commit(repo: RepoPath, checksum: str) -> Iterator[tuple[str, ObjectType, str]]:
    """Yield ``(checksum, objtype, repo-relative path)`` for every object of a commit.

    Covers the commit, its detached ``.commitmeta`` when present, and every dirtree, dirmeta
    and content object under its root, each once.
    """

    def load(object_checksum: str, objtype: ObjectType) -> bytes:
        return read_object(repo, object_checksum, objtype)

    for object_checksum, objtype in iter_commit_objects(checksum, load):
        yield object_checksum, objtype, object_path(object_checksum, objtype)
        if objtype is ObjectType.COMMIT and has_object(repo, checksum, ObjectType.COMMIT_META):
            yield checksum, ObjectType.COMMIT_META, object_path(checksum, ObjectType.COMMIT_META)


def walk_history(repo: RepoPath, checksum: str, depth: int = 0) -> Iterator[tuple[str, Commit]]:
    """Yield ``(checksum, commit)`` for the head and up to ``depth`` ancestors (-1 = all).

    Stops quietly at a root commit or at a parent that is not in the repository (partial
    history, as ``ostree pull --depth`` leaves it).
    """
    current: str | None = checksum
    remaining = depth
    visited = set()
    # A crafted repository could make parents loop; never yield a commit twice.
    while current is not None and current not in visited:
        visited.add(current)
        commit = read_commit(repo, current)
        yield current, commit
        if remaining == 0 or commit.parent is None:
            return
        if not has_object(repo, commit.parent, ObjectType.COMMIT):
            return
        current = commit.parent
        remaining -= 1
