"""Fast-path reads on SQLite: a sqlite3 connection used on the event loop, and the serve
target of every distribution asked for, remembered while nothing is committed.

The memo is exact: a distribution moved to another version, a new repository version or a
new distribution is seen by the next request. What tells that something was committed is the
header of the WAL index (CommitWatch), read from shared memory without a system call: every
commit rewrites it before it returns. (`PRAGMA data_version`, which tells the same, is a read
transaction of its own: file locks taken and released on every request.)

Only *leaf* distributions are remembered (no other base path below theirs): for them every
path below the base path is theirs, whatever the path, so one dict lookup per request
replaces the distribution query. A distribution whose answer could depend on the path (a
plugin's own resolver, a nested base path) is left to the general path. The file itself
comes from the target's files in memory once they are loaded (target_files.py), else from
one indexed SELECT.
"""

from __future__ import annotations

import asyncio
import logging
import mmap
import sqlite3

from sqlalchemy.dialects import sqlite

from pulpwood.content.fast.queries import UNKNOWN, BoundQuery, FileQueries, StoredFile, nested_distribution
from pulpwood.content.fast.statements import compile_query
from pulpwood.content.fast.target_files import GENERATION, LoadStatements, TargetFiles, publication_key, version_key
from pulpwood.content.lookup import FILE_IN_VERSION
from pulpwood.content.paths import candidate_base_paths
from pulpwood.content.targets import ServeTarget, find_distribution, path_independent, resolver_for

log = logging.getLogger(__name__)

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
        self._watch: CommitWatch | None = None
        self._stamp = None
        # base path -> (query bound to the target, TargetFiles key), or GENERAL
        self._leaves: dict[str, tuple[BoundQuery, tuple] | None] = {}
        self.target_files = TargetFiles()
        self._loads = LoadStatements(self._dialect)
        self._generation = compile_query(GENERATION, self._dialect)

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
        self._watch = CommitWatch(self._database, connection)
        self._connection = connection
        return connection

    def find(self, text: str):
        """The stored file at `text` (path below the prefix); None: answer on the general path;
        UNKNOWN: `await look_up(text)` instead."""
        connection = self._connection or self._connect()
        stamp = self._watch.stamp()
        if stamp != self._stamp or len(self._leaves) > _MEMO_SIZE:
            self._leaves.clear()
            self._stamp = stamp
        leaf, relative = self._leaf_of(text)
        if leaf is None:
            return UNKNOWN if relative is None else None
        bound, key = leaf
        files = self.target_files.files(key)
        if files is not None:
            found = files.get(relative)
            if found is not None:
                return found
        elif self.target_files.should_load(key):
            self._load(key)
        row = connection.execute(bound.sql, bound.parameters(path=relative)).fetchone()
        if row is None or row[1] is None:  # not a file, or its bytes are still remote
            return None
        return StoredFile(relative, row[1], row[2], row[3], row[4])

    def _leaf_of(self, text: str):
        """((bound query, key), relative path) of the remembered leaf distribution `text` is in;
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
        """What `find` could not answer needs the general path's sessions to learn the
        distribution: no lookup to join (the fast path runs `look_up` in a task)."""
        return False

    async def look_up(self, text: str) -> StoredFile | None:
        """What `find` could not answer: learn the distribution first."""
        await self._learn(text)
        found = self.find(text)
        return None if found is UNKNOWN else found

    async def _learn(self, text: str) -> None:
        """Remember the distribution `text` is in (after a `find` of it, so `_stamp` is
        from before these reads: the memo then holds what was true at that commit or later)."""
        stamp = self._stamp
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
        nested_query = nested_distribution(base, self._dialect)
        nested = self._connection.execute(nested_query.sql, nested_query.parameters()).fetchone()
        leaf = GENERAL
        if not nested and target is not None:
            leaf = self._queries.bind(target), self._key_of(target)
        if self._stamp == stamp:
            self._leaves[base] = leaf

    def _read_all(self, sql: str, parameters: list):
        """The files of one target's statement, on a connection of its own (in a thread)."""
        connection = sqlite3.connect(self._database, timeout=30, isolation_level=None)
        try:
            connection.execute("PRAGMA query_only=ON")
            return self.target_files.build(connection.execute(sql, parameters))
        finally:
            connection.close()

    def _key_of(self, target: ServeTarget) -> tuple:
        if target.publication_id is not None:
            return publication_key(target.publication_id)
        generation = self._connection.execute(
            self._generation.sql, self._generation.parameters(repository_id=target.repository_id)).fetchone()
        return version_key(target.repository_id, target.version_number, *(generation or (None, None)))

    def _load(self, key: tuple) -> None:
        """Read every file of the target `key` names in a thread, for TargetFiles."""
        sql, parameters = self._loads.for_key(key, self.target_files.limit + 1)
        loading = asyncio.get_running_loop().run_in_executor(None, self._read_all, sql, parameters)

        def loaded(loading: asyncio.Future) -> None:
            if loading.cancelled() or loading.exception() is not None:
                log.warning("content app: loading the files of %s failed: %r", key,
                            None if loading.cancelled() else loading.exception())
                self.target_files.failed(key)
                return
            self.target_files.store(key, loading.result())

        loading.add_done_callback(loaded)


class CommitWatch:
    """A stamp of the database's last commit, different after every commit of any connection.

    In WAL mode it is the WAL index header (both copies, see https://sqlite.org/walformat.html),
    read through a mapping of the `-shm` file: a commit updates it before it returns, and reading
    shared memory takes no lock and no system call. (The reader's own connection keeps the
    `-shm` file open, so it is not deleted and made anew under the mapping.) Any other journal
    mode, or a `-shm` that cannot be mapped: `PRAGMA data_version`.
    """

    _HEADERS = 96  # two copies of the 48-byte header; a commit writes the second copy first

    def __init__(self, database: str, connection: sqlite3.Connection) -> None:
        self._connection = connection
        self._map = None
        # A read first: the -shm file exists from the first read of a WAL database on.
        connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
        if connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
            try:
                with open(database + "-shm", "rb") as shm:
                    self._map = mmap.mmap(shm.fileno(), self._HEADERS, access=mmap.ACCESS_READ)
            except (OSError, ValueError):  # no such file yet, or shorter than the headers
                self._map = None

    def stamp(self):
        if self._map is not None:
            return self._map[:self._HEADERS]
        return self._connection.execute("PRAGMA data_version").fetchone()[0]

