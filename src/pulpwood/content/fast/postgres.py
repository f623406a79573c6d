"""Fast-path reads on PostgreSQL: asyncpg's prepared statements, one round trip per file.

PostgreSQL has no cheap "was anything committed since", so the remembered target of a
distribution is only a guess, checked by the very statement that looks the file up: it
returns the distribution rows of every base path along the request path next to the file
found with the remembered target. The file is served only when the longest of those rows is
the row the target was derived from (targets.prefetched_target) — so a distribution switched
to another version, a new repository version or a new nested distribution is seen by the
next request. A distribution whose target does not follow from its row alone (a plugin's own
resolver, a file distribution that serves the newest publication) goes to the general path.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import select, true

from pulpwood.content.fast.queries import UNKNOWN, BoundQuery, FileQueries, StoredFile
from pulpwood.content.fast.statements import compile_query
from pulpwood.content.lookup import FILE_IN_PUBLICATION, FILE_IN_VERSION_LATERAL
from pulpwood.content.targets import (
    DISTRIBUTION_BY_BASE_PATH, DistributionInfo, path_independent, prefetched_target, resolver_for,
)

_DISTRIBUTION_COLUMNS = len(DISTRIBUTION_BY_BASE_PATH.selected_columns)
_BASE_PATH = [column.key for column in DISTRIBUTION_BY_BASE_PATH.selected_columns].index("base_path")
_MEMO_SIZE = 4096
# A distribution left to the general path is looked at again after this long (it may have
# become one the fast path serves; nothing would tell).
_GENERAL_FOR = 10.0
_POOL_SIZE = 8


def _checked(file_statement):
    """`file_statement` next to the distribution rows of the candidate base paths."""
    distribution = DISTRIBUTION_BY_BASE_PATH.subquery("distribution")
    found = file_statement.subquery("found")
    return select(distribution, found).select_from(distribution).outerjoin(found, true())


CHECKED_IN_PUBLICATION = _checked(FILE_IN_PUBLICATION)
CHECKED_IN_VERSION = _checked(FILE_IN_VERSION_LATERAL)


@dataclass(frozen=True)
class _Remembered:
    row: tuple | None  # the distribution row the target came from; None: general path
    statement: object = None  # CHECKED_IN_PUBLICATION or CHECKED_IN_VERSION
    values: dict | None = None  # the target's parameters
    until: float = 0.0  # for general-path entries: when to look again


async def _keep(connection) -> None:
    pass


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
        self._distribution_columns = compile_query(DISTRIBUTION_BY_BASE_PATH, self._dialect, candidates=1)
        # (statement, number of candidates) -> bound query, compiled on first use
        self._bound: dict[tuple, BoundQuery] = {}

    async def _acquire(self):
        if self._pool is None:
            import asyncpg

            args, kwargs = self._connect_args
            # Generic plans for the prepared lookups: PostgreSQL otherwise plans some of them
            # again on every execution (a custom plan costs several times the lookup), and
            # their plan does not depend on the values (index lookups by path and base path).
            settings = {**kwargs.pop("server_settings", {}), "plan_cache_mode": "force_generic_plan"}
            # No reset when a connection goes back to the pool: its default (a RESET ALL and
            # friends) is a second round trip per file, and these connections only SELECT.
            self._pool = await asyncpg.create_pool(*args, min_size=1, max_size=_POOL_SIZE, reset=_keep,
                                                   server_settings=settings, **kwargs)
        return self._pool.acquire()

    async def dispose(self) -> None:
        """Close the connections (Runtime.close calls this like an engine's dispose)."""
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    def _query(self, statement, candidates: int) -> BoundQuery:
        key = (statement, candidates)
        bound = self._bound.get(key)
        if bound is None:
            query = compile_query(statement, self._dialect, candidates=candidates)
            sample = {"candidates": [""] * candidates}
            if statement is not DISTRIBUTION_BY_BASE_PATH:
                sample["path"] = ""
                sample.update({name: None for name in ("publication_id", "repository_id", "number")})
            bound = self._bound[key] = BoundQuery(query, sample)
        return bound

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

    def find(self, text: str):
        """Every answer takes a round trip here: `await look_up(text)`."""
        return UNKNOWN

    async def look_up(self, text: str) -> StoredFile | None:
        """The stored file at `text` (path below the prefix), or None: answer on the general path."""
        candidates = candidates_of(text)
        async with await self._acquire() as connection:
            found = self._remembered(text)
            if found is None or (found[1].row is None and found[1].until < time.monotonic()):
                found = await self._learn(connection, candidates)
            if found is None or found[1].row is None:
                return None
            base, remembered = found
            bound = self._query(remembered.statement, len(candidates))
            rows = await connection.fetch(bound.sql, *bound.parameters(
                candidates=candidates, path=text[len(base) + 1:], **remembered.values))
        if not rows:
            self._memo.pop(base, None)
            return None
        row = max(rows, key=lambda row: len(row[_BASE_PATH]))
        if tuple(row[:_DISTRIBUTION_COLUMNS]) != remembered.row:
            self._memo.pop(base, None)  # changed: learn it again next time
            return None
        file = row[_DISTRIBUTION_COLUMNS:]
        if file[1] is None:  # no such file, or its bytes are still remote
            return None
        return StoredFile(text[len(base) + 1:], file[1], file[2], file[3], file[4])

    async def _learn(self, connection, candidates: list[str]) -> tuple[str, _Remembered] | None:
        bound = self._query(DISTRIBUTION_BY_BASE_PATH, len(candidates))
        rows = await connection.fetch(bound.sql, *bound.parameters(candidates=candidates))
        if not rows:
            return None
        row = tuple(max(rows, key=lambda row: len(row[_BASE_PATH])))
        base = row[_BASE_PATH]
        if base == candidates[0]:
            return None  # the path is a distribution's own base path: not a file
        distribution = DistributionInfo(*self._distribution_columns.convert_row(row))
        resolver = resolver_for(distribution.pulp_type)
        target = prefetched_target(distribution, resolver) if path_independent(resolver) else None
        if target is None:
            remembered = _Remembered(None, until=time.monotonic() + _GENERAL_FOR)
        elif target.publication_id is not None:
            remembered = _Remembered(row, CHECKED_IN_PUBLICATION, {"publication_id": target.publication_id})
        else:
            remembered = _Remembered(row, CHECKED_IN_VERSION, {"repository_id": target.repository_id,
                                                               "number": target.version_number})
        if len(self._memo) >= _MEMO_SIZE:
            self._memo.clear()
        self._memo[base] = remembered
        return base, remembered
