"""The content app's lookup statements, compiled once for one DBAPI driver.

The fast path runs lookups on the driver itself (sqlite3, asyncpg): around an indexed SELECT
of a few microseconds, SQLAlchemy's execution (pool checkout, cache key, execution context,
result proxy) cost several times the statement. The statements stay the ones in lookup.py
and targets.py; only their compiled text, parameter order and the types' converters are
taken from SQLAlchemy, through its public compiler and type APIs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.sql import Select

Processor = Callable[[Any], Any]


@dataclass(frozen=True)
class CompiledQuery:
    """SQL text for one driver and how to lay out its positional parameters."""

    sql: str
    # Per placeholder: the parameter's name, and the element for an expanded IN list.
    slots: tuple[tuple[str, int | None], ...]
    defaults: dict[str, Any]  # values SQLAlchemy bound itself (LIMIT, OFFSET)
    processors: tuple[Processor | None, ...]  # per placeholder
    result_processors: tuple[Processor | None, ...]  # per selected column

    def parameters(self, **values: Any) -> list[Any]:
        """Driver-ready positional parameters for `values` (plus the statement's own)."""
        merged = {**self.defaults, **values}
        out = []
        for (name, element), processor in zip(self.slots, self.processors):
            value = merged[name] if element is None else merged[name][element]
            out.append(value if processor is None or value is None else processor(value))
        return out

    def positions(self, name: str) -> tuple[int, ...]:
        """Where `name` goes in `parameters()`, to put in a per-request value cheaply."""
        return tuple(index for index, (bound, _) in enumerate(self.slots) if bound == name)

    def convert_row(self, row) -> tuple:
        return tuple(value if processor is None or value is None else processor(value)
                     for value, processor in zip(row, self.result_processors))


def compile_query(statement: Select, dialect: Dialect, **list_lengths: int) -> CompiledQuery:
    """Compile `statement` for `dialect`; `list_lengths` fixes how many elements each
    expanding IN parameter has (the text gets one placeholder per element)."""
    compiled = statement.compile(dialect=dialect)
    defaults = {name: bind.value for name, bind in compiled.binds.items() if not bind.required}
    samples = {name: None for name in compiled.binds} | {name: [None] * n for name, n in list_lengths.items()}
    state = compiled.construct_expanded_state(samples)
    expanded = {name: (original, index) for original, names in state.parameter_expansion.items()
                for index, name in enumerate(names)}
    slots = tuple(expanded.get(name, (name, None)) for name in state.positiontup or ())
    processors = tuple(compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
                       for name, _ in slots)
    results = tuple(column.type.dialect_impl(dialect).result_processor(dialect, None)
                    for column in statement.selected_columns)
    return CompiledQuery(state.statement, slots, defaults, processors, results)
