"""Fast-path reads on SQLite: a sqlite3 connection used on the event loop, and the serve
target of every distribution asked for, remembered while nothing is committed.

`PRAGMA data_version` on one connection changes exactly when another connection commits, so
the memo is exact: a distribution moved to another version, a new repository version or a
new distribution is seen by the next request. Only *leaf* distributions are remembered (no
other base path below theirs): for them every path below the base path is theirs, whatever
the path, so one dict lookup per request replaces the distribution query. A distribution
whose answer could depend on the path (a plugin's own resolver, a nested base path) is left
to the general path.
"""

from __future__ import annotations

import sqlite3

from sqlalchemy import select
from sqlalchemy.dialects import sqlite

from pulpwood.content.fast.queries import UNKNOWN, BoundQuery, FileQueries, StoredFile
from pulpwood.content.fast.statements import compile_query
from pulpwood.content.lookup import FILE_IN_VERSION, path_under
from pulpwood.content.paths import candidate_base_paths
from pulpwood.content.targets import find_distribution, path_independent, resolver_for
from pulpwood.models import Distribution

# A distribution the fast path leaves to the general one (see module docstring).
GENERAL = None
_MEMO_SIZE = 4096
_MMAP_SIZE = 1 << 30


class SqliteReads:
    def __init__(self, database: str, sessions) -> None:
        self._database = database
        self._sessions = sessions  # general-path read sessions, to learn a distribution's target
        self._dialect = sqlite.dialect()
        self._queries = FileQueries(self._dialect, FILE_IN_VERSION)
        self._connection: sqlite3.Connection | None = None
        self._data_version = None
        self._leaves: dict[str, BoundQuery | None] = {}

    @property
    def convert_date(self):
        return self._queries.convert_date

    def _connect(self) -> sqlite3.Connection:
        # Autocommit: every SELECT reads the latest committed state (WAL readers never wait
        # for the writer); query_only since this connection never writes.
        connection = sqlite3.connect(self._database, timeout=30, isolation_level=None, check_same_thread=False)
        connection.execute("PRAGMA query_only=ON")
        # Pages read through a mapping of the file instead of a pread each: a pull touches
        # every index page once, far more than the page cache holds, and every commit of
        # another connection empties that cache anyway. (pulpwood never shrinks the file,
        # which is what makes mapped reads unsafe.)
        connection.execute(f"PRAGMA mmap_size={_MMAP_SIZE}")
        self._connection = connection
        return connection

    def find(self, text: str):
        """The stored file at `text` (path below the prefix); None: answer on the general path;
        UNKNOWN: `await look_up(text)` instead."""
        connection = self._connection or self._connect()
        data_version = connection.execute("PRAGMA data_version").fetchone()[0]
        if data_version != self._data_version or len(self._leaves) > _MEMO_SIZE:
            self._leaves.clear()
            self._data_version = data_version
        bound, relative = self._leaf_of(text)
        if bound is None:
            return UNKNOWN if relative is None else None
        row = connection.execute(bound.sql, bound.parameters(path=relative)).fetchone()
        if row is None or row[1] is None:  # not a file, or its bytes are still remote
            return None
        return StoredFile(relative, row[1], row[2], row[3], row[4])

    def _leaf_of(self, text: str):
        """(bound query, relative path) of the remembered leaf distribution `text` is in;
        (None, '') for a remembered distribution the fast path does not serve; (None, None)
        when no base path along `text` is remembered."""
        leaves = self._leaves
        seen_general = False
        slash = text.find("/")
        while slash > 0:
            base = text[:slash]
            if base in leaves:
                bound = leaves[base]
                if bound is not None:
                    return bound, text[slash + 1:]
                seen_general = True
            slash = text.find("/", slash + 1)
        return None, "" if seen_general else None

    def look_up_soon(self, text: str, reply) -> bool:
        """What `find` could not answer needs the general path's sessions: no quick answer."""
        return False

    async def look_up(self, text: str) -> StoredFile | None:
        """What `find` could not answer: learn the distribution first."""
        await self._learn(text)
        found = self.find(text)
        return None if found is UNKNOWN else found

    async def _learn(self, text: str) -> None:
        """Remember the distribution `text` is in (after a `find` of it, so `_data_version` is
        from before these reads: the memo then holds what was true at that version)."""
        data_version = self._data_version
        segments = tuple(text.split("/"))
        async with self._sessions() as session:
            distribution = await find_distribution(session, candidate_base_paths(segments[:-1]))
            if distribution is None:
                return
            base = distribution.base_path
            resolver = resolver_for(distribution.pulp_type)
            target = None
            if path_independent(resolver):
                target = await resolver(session, distribution, text[len(base) + 1:])
        nested = self._connection.execute(*_nested_query(base)).fetchone()
        if self._data_version == data_version:
            self._leaves[base] = GENERAL if nested or target is None else self._queries.bind(target)


def _nested_query(base: str):
    """Any base path below `base` (rare work: only when a distribution is learned)."""
    statement = select(Distribution.base_path).where(path_under(Distribution.base_path, base)).limit(1)
    query = compile_query(statement, sqlite.dialect())
    return query.sql, query.parameters()
