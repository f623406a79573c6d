"""Every stored file of a serve target in memory, for the targets that are read file by file.

`ostree pull` asks for each of tens of thousands of objects once, so remembering lookups does
not help it, but knowing the whole target does: one statement for all of its files instead of
one per request (on SQLite that statement was a quarter of the answer's time during a pull,
most of it the read transaction's file locks). A target's files do not change once it is
served: a repository version's content and a publication's files are fixed when they are
completed. What can change is told by the key the readers give (`version_key`): the target
itself, and for a repository version how many versions the repository has had and has, since
deleting a version moves its content's date to the next one (services/versions.py).

So a loaded target answers a path it holds at once; a path it does not hold (a 404, a file
whose bytes are still remote, a path held twice) goes to the per-request statement as
before, which answers it exactly as it always did. A file deleted from storage since is
found missing when it is read, and the general path answers that request.

A target is loaded after `load_after` lookups of it, in the background, once; one with more
than `limit` files is not loaded (the memory stays bounded: `limit` files in all, about 500
bytes each, the targets loaded first dropped first).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Hashable, Iterable

from sqlalchemy import and_, bindparam, func, select

from pulpwood.content.fast.queries import StoredFile
from pulpwood.content.fast.statements import compile_query
from pulpwood.content.lookup import ALL_FILES_IN_PUBLICATION, ALL_FILES_IN_VERSION
from pulpwood.models import Repository, RepositoryVersion

log = logging.getLogger(__name__)

LOAD_AFTER = 64
LIMIT = 100_000
_TOO_BIG = object()


def _generation():
    """(next version number, complete versions) of the repository `repository_id`: a new
    version changes the first, a deleted one the second."""
    rv = RepositoryVersion
    versions = (select(func.count()).select_from(rv)
                .where(and_(rv.repository_id == Repository.pulp_id, rv.complete.is_(True)))
                .scalar_subquery())
    return select(Repository.next_version, versions).where(
        Repository.pulp_id == bindparam("repository_id", type_=Repository.pulp_id.type))


GENERATION = _generation()


def version_key(repository_id, number: int, next_version: int, versions: int) -> tuple:
    """The key of a repository version's files: they stay as loaded while the repository
    has neither a new version nor a deleted one."""
    return ("version", repository_id, number, next_version, versions)


def publication_key(publication_id) -> tuple:
    return ("publication", publication_id)


class LoadStatements:
    """The statements that read every file of a target, compiled for one driver."""

    def __init__(self, dialect) -> None:
        self._queries = {"publication": compile_query(ALL_FILES_IN_PUBLICATION, dialect),
                         "version": compile_query(ALL_FILES_IN_VERSION, dialect)}

    def for_key(self, key: tuple, limit: int) -> tuple[str, list]:
        """SQL text and driver parameters reading at most `limit` files of the target `key` names."""
        kind = key[0]
        values = {"publication_id": key[1]} if kind == "publication" else {"repository_id": key[1], "number": key[2]}
        query = self._queries[kind]
        return query.sql, query.parameters(**values, limit=limit)


class TargetFiles:
    def __init__(self, load_after: int = LOAD_AFTER, limit: int = LIMIT) -> None:
        self.load_after = load_after
        self.limit = limit
        self._loaded: OrderedDict[Hashable, dict[str, StoredFile] | object] = OrderedDict()
        self._lookups: dict[Hashable, int] = {}
        self._held = 0

    def files(self, key: Hashable) -> dict[str, StoredFile] | None:
        """The files of the target, by relative path, if loaded."""
        files = self._loaded.get(key)
        return None if files is None or files is _TOO_BIG else files

    def should_load(self, key: Hashable) -> bool:
        """Count a lookup of a target not loaded; True once, when it is time to load it
        (the caller then reads its rows, has `build` make its files, and hands them to
        `store`, or calls `failed`)."""
        if key in self._loaded:
            return False
        count = self._lookups.get(key, 0) + 1
        if len(self._lookups) > 4096:
            self._lookups.clear()
        self._lookups[key] = count
        return count == self.load_after

    def build(self, rows: Iterable[tuple]) -> dict[str, StoredFile] | None:
        """The files of `rows` (relative path, storage name, size, sha256, date; `limit` + 1
        of them at most) by path, or None when there are too many. Call it in a thread: it
        takes tens of milliseconds for a big target."""
        files: dict[str, StoredFile] = {}
        twice = set()
        dates: dict[object, object] = {}  # the few distinct dates, each kept once
        for path, file, size, sha256, date in rows:
            if path in files:
                twice.add(path)
                continue
            date = dates.setdefault(date, date)
            files[path] = StoredFile(path, file, size, sha256, date)
        if len(files) + len(twice) > self.limit:
            return None
        for path in twice:  # which of them the per-request statement answers is its business
            del files[path]
        return files

    def store(self, key: Hashable, files: dict[str, StoredFile] | None) -> None:
        """Keep what `build` made of the target `key` (None: too big, never loaded again)."""
        if files is None:
            self._loaded[key] = _TOO_BIG
            return
        while self._loaded and self._held + len(files) > self.limit:
            _, dropped = self._loaded.popitem(last=False)
            if dropped is not _TOO_BIG:
                self._held -= len(dropped)
        self._loaded[key] = files
        self._held += len(files)
        log.debug("content app: %d files of %s in memory", len(files), key)

    def failed(self, key: Hashable) -> None:
        """Loading `key` failed: lookups of it go on one by one."""
        self._loaded[key] = _TOO_BIG
