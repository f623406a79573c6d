"""Plain INSERTs of many rows through the database driver.

A big sync writes hundreds of thousands of rows (content, content artifacts, repository
membership, plugin link tables). SQLAlchemy's per-row processing costs more than the
database's own work there, so these go straight to the driver: SQLite gets one statement
reading a JSON array of rows, PostgreSQL a COPY. Rows are tuples in `columns` order; values
must be uuids, ints, strings, None, aware datetimes or dicts (JSON). The caller's session
transaction is used.

Values are converted a column at a time, and a value seen before in its column (the same
timestamp, labels or parent id on every row) is converted once: per-value Python calls were
most of the cost of writing a batch.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid

import orjson
from sqlalchemy import select


async def bulk_insert(session, table, columns: tuple[str, ...], rows: list[tuple]) -> None:
    if not rows:
        return
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    if session.bind.dialect.name == "postgresql":
        # Make sure the adapter's transaction is open before talking to asyncpg directly.
        await session.execute(select(1))
        await driver.copy_records_to_table(table.name, records=_converted(rows, _pg), columns=list(columns))
        return
    # One statement reading a JSON array of rows: the rows are bound and stepped inside
    # SQLite, not one by one from Python. executemany releases and retakes the GIL around
    # every row, and in a process whose other threads are busy each retake can wait.
    values = ", ".join(f"value->>{index}" for index in range(len(columns)))
    sql = f"INSERT INTO {table.name} ({', '.join(columns)}) SELECT {values} FROM json_each(?)"
    await driver.execute(sql, (orjson.dumps(_converted(rows, _sqlite)),))


def _converted(rows: list[tuple], convert) -> list[tuple]:
    columns = []
    for index in range(len(rows[0])):
        column = [row[index] for row in rows]
        first = column[0]
        if all(value is first for value in column):
            # One value all along (a parent's id, the batch's timestamp, an empty label set).
            columns.append([convert(first)] * len(column))
        elif isinstance(first, uuid.UUID):
            # asyncpg takes uuids as they are; SQLite stores them as hex.
            columns.append(column if convert is _pg else [v.hex if v is not None else None for v in column])
        elif isinstance(first, (str, int, float)):
            columns.append(column)  # plain values, or None, in every row of this column
        else:
            seen: dict[int, tuple] = {}
            out = []
            for value in column:
                key = id(value)
                if key not in seen:
                    seen[key] = (value, convert(value))  # the value is kept: its id stays its own
                out.append(seen[key][1])
            columns.append(out)
    return list(zip(*columns))


def _sqlite(value):
    if isinstance(value, uuid.UUID):
        return value.hex
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ")
    if isinstance(value, dict):
        return json.dumps(value)
    return value


def _pg(value):
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    if isinstance(value, dict):
        return json.dumps(value)
    return value
