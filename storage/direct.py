"""The hot statements on the session's own DBAPI cursor, without SQLAlchemy's work around it.

A relayed message runs about five statements (its INSERT, its copy's, the offset, the claim,
the record of sends), each built once. Through `Connection.execute` one cost 155-195 µs of
CPU on SQLite and 150-170 µs on PostgreSQL, of which the driver's trip and the database's
work about 80: the rest is SQLAlchemy finding the compiled form in its cache, an execution
context, the parameters and a result object set up anew for every run (a probe of the
offset's upsert, bench/README.md). In the relay's profile SQLAlchemy's own code was a third
of the bot's busy time.

Here a statement is compiled once a dialect, with its columns' bind and result conversions
taken from their types as SQLAlchemy takes them; every run lays out the parameters and runs
the SQL through `Connection._cursor_execute`, SQLAlchemy's own path for a statement on a
cursor: the cursor events fire as for any statement (the SQLite writer's turn,
storage/sqlite_writer.py; the counts of the bench and the tests), a driver's error is raised
as SQLAlchemy raises it (OperationalError, IntegrityError, ...) and a connection found dead
is invalidated. It runs on the connection of the caller's session, in its transaction.

Only for statements whose parameters are all plain values: an expanding `IN` (one
parameter a list) is laid out by SQLAlchemy at every run, and is refused here.
`tests/storage/test_direct.py` compares every statement run this way with the same statement
run by SQLAlchemy, on both databases, and fails should `_cursor_execute` change.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import inspect
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

Convert = Callable[[Any], Any]
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Prepared:
    """A statement compiled for one dialect, and what its runs need."""

    sql: str
    order: tuple[str, ...] | None  # the parameters' names in the SQL's order (positional)
    fixed: Mapping[str, Any]  # the values written in the statement itself
    binds: tuple[tuple[str, Convert], ...]  # the parameters that their type converts
    columns: tuple[str, ...]  # the names of the columns it returns, if any
    results: tuple[Convert | None, ...]  # their conversions


@dataclass(frozen=True, slots=True)
class Ran:
    rows: list[tuple[Any, ...]]
    rowcount: int
    columns: tuple[str, ...] = ()

    def scalars(self) -> list[Any]:
        return [row[0] for row in self.rows]

    def mappings(self) -> list[dict[str, Any]]:
        names = self.columns
        return [dict(zip(names, row, strict=True)) for row in self.rows]


@functools.lru_cache(maxsize=512)
def prepare(statement: ClauseElement, dialect: Dialect) -> Prepared:
    """Compile `statement` for `dialect` once (statements are kept by the functions that
    build them, so this cache is hit by identity)."""
    compiled = statement.compile(dialect=dialect)
    assert isinstance(compiled, SQLCompiler)
    fixed: dict[str, Any] = {}
    binds: list[tuple[str, Convert]] = []
    seen: set[str] = set()
    escaped = getattr(compiled, "escaped_bind_names", None) or {}
    for bind, name in compiled.bind_names.items():
        if bind.expanding or bind.literal_execute:
            raise ValueError(f"{name}: an expanding parameter; run it through SQLAlchemy")
        name = escaped.get(name, name)
        if name in seen:
            continue  # a name used more than once is one parameter, converted once
        seen.add(name)
        if not bind.required:
            fixed[name] = bind.effective_value
        convert = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if convert is not None:
            binds.append((name, convert))
    # What a SELECT or a RETURNING gives (none for text, whose values are not converted).
    returned = list(getattr(statement, "exported_columns", ()))
    order = getattr(compiled, "positiontup", None)
    return Prepared(
        sql=compiled.string,
        order=tuple(order) if order is not None and dialect.positional else None,
        fixed=fixed,
        binds=tuple(binds),
        columns=tuple(getattr(column, "key", None) or f"column_{n}"
                      for n, column in enumerate(returned)),
        results=tuple(column.type.dialect_impl(dialect).result_processor(dialect, None)
                      for column in returned))


def run(connection: Connection, statement: ClauseElement,
        params: Mapping[str, Any] | None = None) -> Ran:
    """Run `statement` on `connection` (a session's, in a sync context such as
    `AsyncSession.run_sync`): its rows converted by their columns' types, and the row
    count."""
    prepared = prepare(statement, connection.dialect)
    values = dict(prepared.fixed)
    if params:
        values.update(params)
    for name, convert in prepared.binds:
        values[name] = convert(values.get(name))
    parameters: Any = (tuple(values[name] for name in prepared.order)
                       if prepared.order is not None else values)
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        connection._cursor_execute(cursor, prepared.sql, parameters)
        rows = cursor.fetchall() if cursor.description else []
        rowcount = cursor.rowcount
    finally:
        cursor.close()
    results = prepared.results
    if rows and any(convert is not None for convert in results):
        rows = [tuple(value if convert is None else convert(value)
                      for convert, value in zip(results, row, strict=True)) for row in rows]
    else:
        rows = [tuple(row) for row in rows]
    return Ran(rows, rowcount, prepared.columns)


async def execute(session: AsyncSession, statement: ClauseElement,
                  params: Mapping[str, Any] | None = None) -> Ran:
    """`run` on the session's connection, from async code (in the session's greenlet)."""
    return await session.run_sync(
        lambda sync_session: run(sync_session.connection(), statement, params))


def detached(model: type[T], values: Mapping[str, Any]) -> T:
    """A `model` object holding `values`, built as SQLAlchemy's loading builds one (a fresh
    state, the values put in its dict) rather than set one by one through the instrumented
    attributes: 1.2 µs where the constructor took 14.5 (probe, bench/README.md). In no
    session; for rows the caller reads (a claim's, a write's)."""
    instance: T = inspect(model).class_manager.new_instance()
    instance.__dict__.update(values)
    return instance
