"""Many rows written to several tables at once, for samples stored in bulk (a group of pushes, a backlog).

On PostgreSQL through psycopg each table's new rows are one binary COPY (two round trips a table: COPY cannot be
pipelined), which the server stores for a third less CPU than the same rows parsed out of JSON; updated rows travel
as one JSON document a table (`UPDATE ... FROM json_populate_recordset`, encoded by orjson in C), all the updates
in one pipeline. Elsewhere each table is one executemany. Values pass through the columns' bind processing first
(storage.types.UTCDateTime's naive UTC), as a statement's parameters would; a float that is not a finite number is
written NULL, as JSON has no NaN (SQLite stores NULL for NaN too).
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from itertools import chain
from operator import itemgetter
from typing import Any, NamedTuple

import orjson
from sqlalchemy import Table, bindparam, insert, update
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError

Rows = list[dict[str, Any]]
_FROM_JSON = "FROM json_populate_recordset(NULL::{table}, %s::json)"


def uniform(rows: Rows) -> Rows:
    """Rows with the same keys (an executemany binds the first row's): a column one row lacks is NULL."""
    first = rows[0].keys() if rows else {}.keys()
    if all(row.keys() == first for row in rows):  # compared in C: a group's thousand rows cost nothing
        return rows
    keys = list(dict.fromkeys(key for row in rows for key in row))
    return [{key: row.get(key) for key in keys} for row in rows]


def as_json(connection: Connection) -> bool:
    """Whether this connection writes rows by COPY and JSON in a pipeline: PostgreSQL through psycopg 3, on a
    libpq that has pipelines (14 or later; psycopg's binary package brings its own)."""
    return connection.dialect.name == "postgresql" and connection.dialect.driver == "psycopg" and _pipelines()


@functools.cache
def _pipelines() -> bool:
    import psycopg

    return psycopg.Pipeline.is_supported()


def next_ids(connection: Connection, table: Table, count: int) -> list[int]:
    """`count` new ids of `table` (as_json must hold), ascending, as one INSERT would have numbered its rows."""
    with _cursor(connection) as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", (table.name, count)
        )
        return sorted(int(row[0]) for row in cursor.fetchall())


def write_many(
    connection: Connection,
    inserts: Sequence[tuple[Table, Rows]],
    updates: Sequence[tuple[Table, tuple[str, ...], Rows]] = (),
) -> None:
    """Insert each table's rows (dicts of column values; a missing column is NULL), then update rows: (table,
    the key columns that find a row, rows of the key's and the changed columns' values). In the caller's
    transaction; with as_json, the inserts by COPY, then every update in one pipeline."""
    inserts = [(table, uniform(rows)) for table, rows in inserts if rows]
    updates = [(table, keys, uniform(rows)) for table, keys, rows in updates if rows]
    if not inserts and not updates:
        return
    if not as_json(connection):
        for table, rows in inserts:
            connection.execute(insert(table), rows)
        for table, keys, rows in updates:
            connection.execute(_update_by_key(table, keys, list(rows[0])), [_keyed(row, keys) for row in rows])
        return
    with _cursor(connection) as cursor:
        for table, rows in inserts:
            _copy_rows(cursor, connection.dialect, table, rows)
    if not updates:
        return
    quote = connection.dialect.identifier_preparer.quote
    with _pipeline(connection) as cursor:
        for table, keys, rows in updates:
            name, document = _table_name(connection, table), _json_document(connection, table, rows)
            changed = ", ".join(f"{quote(column)} = v.{quote(column)}" for column in rows[0] if column not in keys)
            found = " AND ".join(f"t.{quote(column)} = v.{quote(column)}" for column in keys)
            cursor.execute(
                f"UPDATE {name} AS t SET {changed} {_FROM_JSON.format(table=name)} AS v WHERE {found}", (document,)
            )


class _CopyLayout(NamedTuple):
    """How a table's rows with these columns are copied: the statement, the columns' type oids, and getters of a
    row's values and of its floats, as tuples."""

    statement: str
    oids: list[int]
    values: Any
    floats: Any


def _copy_rows(cursor: Any, dialect: Dialect, table: Table, rows: Rows) -> None:
    """The rows in one binary COPY, their values bound as the columns bind them; a float that is not finite NULL,
    as JSON and SQLite store it. Floats are summed (in C) to find one: NaN or infinity
    spreads through a sum, and a sum that overflows only costs the exact look."""
    layout = _copy_layout(dialect, table, tuple(rows[0]))
    values = list(map(layout.values, _bound(dialect, table, rows)))
    if layout.floats and not math.isfinite(sum(filter(None, chain.from_iterable(map(layout.floats, values))))):
        values = [tuple(None if type(v) is float and not math.isfinite(v) else v for v in row) for row in values]
    with cursor.copy(layout.statement) as copy:
        copy.set_types(layout.oids)
        write = copy.write_row
        for row in values:
            write(row)


@functools.lru_cache(maxsize=256)
def _copy_layout(dialect: Dialect, table: Table, names: tuple[str, ...]) -> _CopyLayout:
    """A binary COPY gets no cast: each value is sent as its column's own type, named as the table was created
    (`VARCHAR(255)` is varchar), its oid psycopg's."""
    import psycopg

    types = [re.sub(r"\(.*\)", "", table.c[name].type.compile(dialect=dialect)).lower() for name in names]
    quote = dialect.identifier_preparer.quote
    columns = ", ".join(quote(name) for name in names)
    floats = [position for position, name in enumerate(types) if name == "double precision"]
    return _CopyLayout(
        f"COPY {dialect.identifier_preparer.format_table(table)} ({columns}) FROM STDIN (FORMAT BINARY)",
        [psycopg.adapters.types.get_oid(name) for name in types],
        _tuple_getter(list(names)),
        _tuple_getter(floats) if floats else None,
    )


def _tuple_getter(keys: list[Any]) -> Any:
    """A getter of these keys' values as a tuple, one key too (itemgetter gives one key's value alone)."""
    if len(keys) == 1:
        (key,) = keys
        return lambda row: (row[key],)
    return itemgetter(*keys)


def _update_by_key(table: Table, keys: tuple[str, ...], names: list[str]) -> Any:
    return (
        update(table)
        .where(*(table.c[name] == bindparam(f"key_{name}") for name in keys))
        .values({name: bindparam(name) for name in names if name not in keys})
    )


def _keyed(row: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {**{name: value for name, value in row.items() if name not in keys}, **{f"key_{k}": row[k] for k in keys}}


def _table_name(connection: Connection, table: Table) -> str:
    return connection.dialect.identifier_preparer.format_table(table)


def _json_document(connection: Connection, table: Table, rows: Rows) -> str:
    """The rows as one JSON document, their values bound as the columns bind them."""
    return orjson.dumps(_bound(connection.dialect, table, rows)).decode()


def _bound(dialect: Dialect, table: Table, rows: Rows) -> Rows:
    """The rows with their values as the columns' bind processing makes them (new dicts where any changes)."""
    processors = _bind_processors(dialect, table, tuple(rows[0]))
    if not processors:
        return rows
    return [
        {**row, **{name: process(row[name]) for name, process in processors if row[name] is not None}} for row in rows
    ]


@functools.lru_cache(maxsize=256)
def _bind_processors(dialect: Dialect, table: Table, names: tuple[str, ...]) -> tuple[tuple[str, Any], ...]:
    """The columns among `names` whose type processes a value before binding it, with its processor: the same
    few tables are written with every group."""
    return tuple(
        (name, process)
        for name in names
        if (process := table.c[name].type.dialect_impl(dialect).bind_processor(dialect)) is not None
    )


@contextmanager
def _cursor(connection: Connection) -> Iterator[Any]:
    """A psycopg cursor of the connection's transaction; an error is raised as SQLAlchemy's, as a statement run
    through the connection would raise it."""
    import psycopg

    raw: psycopg.Connection[Any] = connection.connection.dbapi_connection  # type: ignore[assignment]
    try:
        with raw.cursor() as cursor:
            yield cursor
    except psycopg.Error as error:
        raise DBAPIError.instance("bulk write", None, error, psycopg.Error) from error


@contextmanager
def _pipeline(connection: Connection) -> Iterator[Any]:
    """A psycopg cursor whose statements are sent together and answered at the block's end."""
    raw = connection.connection.dbapi_connection
    with _cursor(connection) as cursor, raw.pipeline():  # type: ignore[union-attr]
        yield cursor
