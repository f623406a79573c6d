"""The file lookups of lookup.py, compiled once, and bound to one serve target at a time."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import Select

from pulpwood.content.fast.statements import CompiledQuery, compile_query
from pulpwood.content.lookup import FILE_IN_PUBLICATION, path_under
from pulpwood.content.targets import ServeTarget
from pulpwood.models import Distribution


# What a reader's `find` answers for a path below a distribution it does not know yet.
UNKNOWN = object()


@dataclass(frozen=True, slots=True)
class StoredFile:
    """A file of a serve target whose bytes are in storage."""

    relative_path: str
    file: str  # storage name
    size: int
    sha256: str | None
    modified: object  # Last-Modified as the driver returned it


class BoundQuery:
    """A compiled query with its lasting values filled in; `parameters(**values)` adds the
    per-request ones (named in `per_request`)."""

    __slots__ = ("sql", "_template", "_fill")

    def __init__(self, query: CompiledQuery, per_request: dict[str, object], **values) -> None:
        """`per_request` gives a sample value of each per-request parameter (a list of the
        right length for an expanding one)."""
        self.sql = query.sql
        self._template = query.parameters(**per_request, **values)
        self._fill = tuple((index, name, element, processor)
                           for index, ((name, element), processor) in enumerate(zip(query.slots, query.processors))
                           if name in per_request)

    def parameters(self, **values) -> list:
        parameters = self._template.copy()
        for index, name, element, processor in self._fill:
            value = values[name] if element is None else values[name][element]
            parameters[index] = value if processor is None or value is None else processor(value)
        return parameters


class FileQueries:
    """Both file lookups (publication, repository version) for one driver.

    Rows are (content artifact id, storage name, size, sha256, Last-Modified)."""

    def __init__(self, dialect: Dialect, in_version: Select) -> None:
        self.in_publication = compile_query(FILE_IN_PUBLICATION, dialect)
        self.in_version = compile_query(in_version, dialect)
        # Both read a UTCDateTime column, so one converter serves both.
        self.convert_date = self.in_version.result_processors[4] or (lambda value: value)

    def bind(self, target: ServeTarget) -> BoundQuery:
        if target.publication_id is not None:
            return BoundQuery(self.in_publication, {"path": ""}, publication_id=target.publication_id)
        return BoundQuery(self.in_version, {"path": ""}, repository_id=target.repository_id,
                          number=target.version_number)


def nested_distribution(base: str, dialect: Dialect) -> CompiledQuery:
    """A base path below `base`, if there is one: `base` is a *leaf* distribution when not,
    and every path below it is its own (rare work: only when a reader learns a distribution)."""
    return compile_query(select(Distribution.base_path).where(path_under(Distribution.base_path, base)).limit(1),
                         dialect)
