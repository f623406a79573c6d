"""Fast-path reads on PostgreSQL: the files of a target held in memory answered at once while
the content app holds a serve lease; every other lookup with asyncpg's prepared statements,
the lookups of all waiting requests in one round trip.

While the lease is valid (lease.py) nothing committed goes unheard: every writer announces its
commit and waits for the content app to drop its memo first. So `find` answers a path of a
target whose files are held (target_files.py) from memory alone. Without a valid lease — no
connection for it, or a writer's epoch not acknowledged in time — every answer checks the
database as below, exactly as if there were no lease.

Otherwise PostgreSQL has no cheap "was anything committed since", so the remembered target of a
distribution is only a guess, checked by the very statement that looks the files up: it
returns the distribution rows of every base path along the request paths next to the files
found with the remembered target. A file is served only when the longest of those rows along
its path is the row the target was derived from (targets.prefetched_target) — so a
distribution switched to another version, a new repository version or a new nested
distribution is seen by the next request. A distribution whose target does not follow from
its row alone (a plugin's own resolver, a file distribution that serves the newest
publication) goes to the general path.

Once a target's files are held in memory (target_files.py) the statement checks only the
distribution rows, and for a repository version the repository's generation, which a deleted
version changes; the files come from memory.

One statement is in flight at a time; the requests that arrive meanwhile wait and go out
together in the next one (`ostree pull` keeps several requests in flight). Each query costs
PostgreSQL a fixed share (transaction, snapshot, executor start) that the batch shares, and
a request only ever joins a statement sent after it arrived, so it sees every commit that
happened before. The answers are written from the replies (FastPath.answer_now), in the
sender's pass of the event loop.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from sqlalchemy import select, true

from pulpwood.content.fast.lease import ServeLease
from pulpwood.content.fast.queries import UNKNOWN, BoundQuery, FileQueries, StoredFile, nested_distribution
from pulpwood.content.fast.statements import compile_query
from pulpwood.content.fast.target_files import GENERATION, LoadStatements, TargetFiles, publication_key, version_key
from pulpwood.content.lookup import FILE_IN_VERSION_LATERAL, FILES_IN_PUBLICATION, FILES_IN_VERSION_LATERAL
from pulpwood.content.targets import (
    DISTRIBUTIONS_BY_BASE_PATHS, DistributionInfo, path_independent, prefetched_target, resolver_for,
)

_DISTRIBUTION_COLUMNS = len(DISTRIBUTIONS_BY_BASE_PATHS.selected_columns)
_BASE_PATH = [column.key for column in DISTRIBUTIONS_BY_BASE_PATHS.selected_columns].index("base_path")
# Columns of a file row: content artifact id, storage name, size, sha256, date, relative path.
_FILE, _SIZE, _SHA256, _DATE, _PATH = 1, 2, 3, 4, 5
_MEMO_SIZE = 4096
# A distribution left to the general path is looked at again after this long (it may have
# become one the fast path serves; nothing would tell).
_GENERAL_FOR = 10.0
_POOL_SIZE = 4

log = logging.getLogger(__name__)
# What a waiting lookup is answered with: reply(found, None) or reply(None, error).
Reply = Callable[[StoredFile | None, Exception | None], None]


def _checked(files):
    """`files` next to the distribution rows of the given base paths."""
    distribution = DISTRIBUTIONS_BY_BASE_PATHS.subquery("distribution")
    found = files.subquery("found")
    return select(distribution, found).select_from(distribution).outerjoin(found, true())


CHECKED_IN_PUBLICATION = _checked(FILES_IN_PUBLICATION)
CHECKED_IN_VERSION = _checked(FILES_IN_VERSION_LATERAL)
# When the target's files are in memory (target_files.py) only the distribution rows are
# checked, with the repository's generation for a version (a deleted version changes dates).
CHECK_PUBLICATION = DISTRIBUTIONS_BY_BASE_PATHS
CHECK_VERSION = _checked(GENERATION)


@dataclass(frozen=True, eq=False)
class _Remembered:
    row: tuple | None  # the distribution row the target came from; None: general path
    query: BoundQuery | None = None  # CHECKED_IN_* with the target's parameters
    until: float = 0.0  # for general-path entries: when to look again
    key: tuple | None = None  # of the target's files in TargetFiles
    check: BoundQuery | None = None  # CHECK_* with the target's parameters
    generation: tuple | None = None  # of a version target's repository, as CHECK_VERSION returns it
    # No other distribution below this one: every path below its base path is its own, so
    # `find` may answer any of them from memory (else only the per-batch check knows).
    leaf: bool = False


@dataclass(frozen=True)
class _Waiting:
    base: str
    relative_path: str
    candidates: frozenset[str]
    remembered: _Remembered
    reply: Reply


async def _keep(connection) -> None:
    pass


def _reply(waiting: _Waiting, stored: StoredFile | None, error: Exception | None) -> None:
    # Replies write answers; one that fails must not keep the others of the batch waiting.
    try:
        waiting.reply(stored, error)
    except Exception:  # noqa: BLE001
        log.exception("answering %r failed", waiting.relative_path)


def candidates_of(text: str) -> list[str]:
    """Every segment-wise prefix of `text`, itself included (paths.candidate_base_paths)."""
    candidates = [text]
    slash = text.rfind("/")
    while slash > 0:
        candidates.append(text[:slash])
        slash = text.rfind("/", 0, slash)
    return candidates


class PostgresReads:
    def __init__(self, engine) -> None:
        self._dialect = engine.dialect
        self._connect_args = engine.dialect.create_connect_args(engine.url)
        self._pool = None
        self.convert_date = FileQueries(self._dialect, FILE_IN_VERSION_LATERAL).convert_date
        self._memo: dict[str, _Remembered] = {}
        self._distributions = compile_query(DISTRIBUTIONS_BY_BASE_PATHS, self._dialect)
        self._in_publication = compile_query(CHECKED_IN_PUBLICATION, self._dialect)
        self._in_version = compile_query(CHECKED_IN_VERSION, self._dialect)
        self._waiting: list[_Waiting] = []
        self._sender: asyncio.Task | None = None
        self.target_files = TargetFiles()
        self._loading: set[asyncio.Task] = set()
        self._generation = compile_query(GENERATION, self._dialect)
        self._check_publication = compile_query(CHECK_PUBLICATION, self._dialect)
        self._check_version = compile_query(CHECK_VERSION, self._dialect)
        self._loads = LoadStatements(self._dialect)
        self._sender_connection = None  # kept by the sender between batches
        self.lease = ServeLease(self._connect, self._memo.clear)

    def _settings(self, application_name: str = "pulpwood content fast path") -> tuple[list, dict]:
        """asyncpg's connect arguments, with the settings every connection of the reader gets
        (named, for pg_stat_activity)."""
        args, kwargs = self._connect_args
        kwargs = dict(kwargs)
        # Generic plans for the prepared lookups: PostgreSQL otherwise plans some of them
        # again on every execution (a custom plan costs several times the lookup), and
        # their plan does not depend on the values (index lookups by path and base path).
        # No JIT: a generic plan of a batch is estimated dear enough for PostgreSQL to
        # compile it on every execution (tens of milliseconds for a lookup of microseconds).
        kwargs["server_settings"] = {**kwargs.get("server_settings", {}),
                                     "plan_cache_mode": "force_generic_plan", "jit": "off",
                                     "application_name": application_name}
        return args, kwargs

    async def _connect(self):
        """A connection of its own, outside the pool (the lease's)."""
        import asyncpg

        args, kwargs = self._settings("pulpwood content lease")
        # A renewal need not wait for the WAL to reach the disk: it is seen at once, and a
        # lease means nothing after a crash anyway.
        kwargs["server_settings"]["synchronous_commit"] = "off"
        return await asyncpg.connect(*args, **kwargs)

    async def _acquire(self):
        if self._pool is None:
            import asyncpg

            args, kwargs = self._settings()
            # No reset when a connection goes back to the pool: its default (a RESET ALL and
            # friends) is a second round trip, and these connections only SELECT.
            self._pool = await asyncpg.create_pool(*args, min_size=1, max_size=_POOL_SIZE, reset=_keep, **kwargs)
            self.lease.start()
        return self._pool.acquire()

    async def dispose(self) -> None:
        """Close the connections (Runtime.close calls this like an engine's dispose)."""
        tasks = [*self._loading, *([self._sender] if self._sender is not None else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.lease.stop()
        await self._release_sender_connection()
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    def find(self, text: str):
        """The stored file at `text` when the lease allows answering from memory and the
        target's files are held; UNKNOWN otherwise: `await look_up(text)`."""
        if not self.lease.valid():
            return UNKNOWN
        found = self._remembered(text)
        if found is None:
            return UNKNOWN
        base, remembered = found
        files = self.target_files.files(remembered.key) if remembered.leaf else None
        stored = None if files is None else files.get(text[len(base) + 1:])
        return UNKNOWN if stored is None else stored

    async def look_up(self, text: str) -> StoredFile | None:
        """The stored file at `text` (path below the prefix), or None: answer on the general path."""
        found = self._remembered(text)
        if found is None or (found[1].row is None and found[1].until < time.monotonic()):
            async with await self._acquire() as connection:
                found = await self._learn(connection, candidates_of(text))
        if found is None or found[1].row is None:
            return None
        answer = asyncio.get_running_loop().create_future()

        def reply(stored: StoredFile | None, error: Exception | None) -> None:
            if not answer.done():
                answer.set_result(stored) if error is None else answer.set_exception(error)

        self._join(text, *found, reply)
        return await answer

    def look_up_soon(self, text: str, reply: Reply) -> bool:
        """Join the lookup of `text` to the next statement when its distribution is
        remembered: `reply` is called with the answer of `look_up(text)` (or the error) once
        the statement is answered, on the event loop. False: `look_up` has to learn it first."""
        found = self._remembered(text)
        if found is None or found[1].row is None:
            return False
        self._join(text, *found, reply)
        return True

    def _join(self, text: str, base: str, remembered: _Remembered, reply: Reply) -> None:
        self._waiting.append(_Waiting(base, text[len(base) + 1:], frozenset(candidates_of(text)), remembered, reply))
        if self._sender is None:
            self._sender = asyncio.ensure_future(self._send())

    def _remembered(self, text: str) -> tuple[str, _Remembered] | None:
        """The longest remembered base path along `text`, with what is remembered of it."""
        memo = self._memo
        slash = text.rfind("/")
        while slash > 0:
            base = text[:slash]
            remembered = memo.get(base)
            if remembered is not None:
                return base, remembered
            slash = text.rfind("/", 0, slash)
        return None

    async def _send(self) -> None:
        """Answer the waiting lookups, one statement per remembered target, until none wait.

        The sender keeps its connection out of the pool between batches: taking one from the
        pool and giving it back cost about as much of this process's time as the round trip."""
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                groups: dict[_Remembered, list[_Waiting]] = {}
                for waiting in batch:
                    groups.setdefault(waiting.remembered, []).append(waiting)
                for remembered, group in groups.items():
                    try:
                        connection = self._sender_connection
                        if connection is None:
                            connection = self._sender_connection = await (await self._acquire())
                        answers = await self._answer_group(connection, remembered, group)
                    except Exception as error:  # noqa: BLE001 - each request reports it, then takes the general path
                        await self._release_sender_connection()  # it may be broken: the next one takes another
                        answers = [(None, error)] * len(group)
                    for waiting, (stored, error) in zip(group, answers):
                        _reply(waiting, stored, error)
        finally:
            self._sender = None

    async def _release_sender_connection(self) -> None:
        connection, self._sender_connection = self._sender_connection, None
        if connection is not None and self._pool is not None:
            await self._pool.release(connection)

    async def _answer_group(self, connection, remembered: _Remembered, group: list[_Waiting]) -> list[tuple]:
        """(stored file or None, None) for each of `group`, in its order."""
        files = self.target_files.files(remembered.key)
        if files is None:
            for _ in group:
                if self.target_files.should_load(remembered.key):
                    self._start_loading(remembered)
        elif all(waiting.relative_path in files for waiting in group):
            return await self._answer_from(files, connection, remembered, group)
        return await self._answer(connection, remembered, group)

    async def _answer(self, connection, remembered: _Remembered, group: list[_Waiting]) -> list[tuple]:
        """The files of `group` looked up next to the distribution rows, in one statement."""
        base_paths = sorted(set().union(*(waiting.candidates for waiting in group)))
        rows = await connection.fetch(remembered.query.sql, *remembered.query.parameters(
            base_paths=base_paths, paths=[waiting.relative_path for waiting in group]))
        distributions: dict[str, tuple] = {}
        files: dict[str, tuple] = {}
        for row in rows:
            distributions.setdefault(row[_BASE_PATH], tuple(row[:_DISTRIBUTION_COLUMNS]))
            file = row[_DISTRIBUTION_COLUMNS:]
            if file[_PATH] is not None:
                files.setdefault(file[_PATH], file)  # several rows for a path: any one, as LIMIT 1
        answers = []
        for waiting in group:
            stored = None
            if self._still_served(remembered, distributions, waiting):
                file = files.get(waiting.relative_path)
                if file is not None and file[_FILE] is not None:
                    stored = StoredFile(waiting.relative_path, file[_FILE], file[_SIZE], file[_SHA256], file[_DATE])
            answers.append((stored, None))
        return answers

    async def _answer_from(self, files: dict[str, StoredFile], connection, remembered: _Remembered,
                           group: list[_Waiting]) -> list[tuple]:
        """As `_answer`, with the files from memory: the statement checks the distributions
        (and the repository's generation) only."""
        base_paths = sorted(set().union(*(waiting.candidates for waiting in group)))
        rows = await connection.fetch(remembered.check.sql, *remembered.check.parameters(base_paths=base_paths))
        distributions = {row[_BASE_PATH]: tuple(row[:_DISTRIBUTION_COLUMNS]) for row in rows}
        generation = tuple(rows[0][_DISTRIBUTION_COLUMNS:]) if rows and remembered.generation is not None else None
        if generation != remembered.generation:
            distributions = {}  # the version's content changed dates: learn it again
        return [(files[waiting.relative_path] if self._still_served(remembered, distributions, waiting) else None,
                 None) for waiting in group]

    def _still_served(self, remembered: _Remembered, distributions: dict[str, tuple], waiting: _Waiting) -> bool:
        """Whether the longest distribution along the waiting path is still the remembered
        row; if not, the memo forgets it (learned again next time)."""
        along = [base for base in distributions if base in waiting.candidates]
        if along and distributions[max(along, key=len)] == remembered.row:
            return True
        if self._memo.get(waiting.base) is remembered:
            self._memo.pop(waiting.base)
        return False

    def _start_loading(self, remembered: _Remembered) -> None:
        task = asyncio.ensure_future(self._load(remembered.key))
        self._loading.add(task)
        task.add_done_callback(self._loading.discard)

    async def _load(self, key: tuple) -> None:
        """Read every file of the target `key` names, for TargetFiles."""
        sql, parameters = self._loads.for_key(key, self.target_files.limit + 1)
        try:
            async with await self._acquire() as connection:
                rows = await connection.fetch(sql, *parameters)
            files = await asyncio.get_running_loop().run_in_executor(None, self.target_files.build, rows)
        except Exception as error:  # noqa: BLE001 - lookups go on one by one
            log.warning("content app: loading the files of %s failed: %r", key, error)
            self.target_files.failed(key)
            return
        self.target_files.store(key, files)

    async def _learn(self, connection, candidates: list[str]) -> tuple[str, _Remembered] | None:
        # What is read before the lease drops the memo must not be remembered after it.
        changes = self.lease.changes
        rows = await connection.fetch(self._distributions.sql, *self._distributions.parameters(base_paths=candidates))
        if not rows:
            return None
        row = tuple(max(rows, key=lambda row: len(row[_BASE_PATH])))
        base = row[_BASE_PATH]
        if base == candidates[0]:
            return None  # the path is a distribution's own base path: not a file
        distribution = DistributionInfo(*self._distributions.convert_row(row))
        resolver = resolver_for(distribution.pulp_type)
        target = prefetched_target(distribution, resolver) if path_independent(resolver) else None
        per_request = {"base_paths": [], "paths": []}
        if target is None:
            remembered = _Remembered(None, until=time.monotonic() + _GENERAL_FOR)
        elif target.publication_id is not None:
            remembered = _Remembered(row, BoundQuery(self._in_publication, per_request,
                                                     publication_id=target.publication_id),
                                     key=publication_key(target.publication_id),
                                     check=BoundQuery(self._check_publication, {"base_paths": []}))
        else:
            repository_id = target.repository_id
            generation = tuple(await connection.fetchrow(
                self._generation.sql, *self._generation.parameters(repository_id=repository_id)) or (None, None))
            remembered = _Remembered(row, BoundQuery(self._in_version, per_request, repository_id=repository_id,
                                                     number=target.version_number),
                                     key=version_key(repository_id, target.version_number, *generation),
                                     check=BoundQuery(self._check_version, {"base_paths": []},
                                                      repository_id=repository_id),
                                     generation=generation)
        if target is not None:  # a general-path entry is never answered from memory
            nested = nested_distribution(base, self._dialect)
            if not await connection.fetchval(nested.sql, *nested.parameters()):
                remembered = replace(remembered, leaf=True)
        if self.lease.changes != changes:
            return base, remembered  # good for this request (asked after it came), not for later ones
        if len(self._memo) >= _MEMO_SIZE:
            self._memo.clear()
        self._memo[base] = remembered
        return base, remembered
