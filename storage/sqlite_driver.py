"""SQLite through aiosqlite, one trip to the connection's thread a statement.

aiosqlite runs each sqlite3 call in the connection's own thread and hands the result back to
the event loop: a queue put, a thread switch and a wake of the loop every time. SQLAlchemy's
adapter makes four such calls for a statement that returns rows (open a cursor, execute,
fetch all, close) and three for one that does not. At a few microseconds of SQLite work a
statement, those trips were most of its cost: `SELECT 1` took 0.65-0.80 ms of CPU, and a
relayed message runs seven statements (bench/README.md, "SQLite in one trip a statement").

Here the cursor does all of it in one call in the thread (the pattern of aiosqlite's own
`execute_fetchall`, and of chia's move to it), and keeps the description, the rows, the row
count and the last row id on this side. Everything else is SQLAlchemy's aiosqlite dialect as
it is: the same connection, transactions, errors and pool. The statement still runs in the
thread, so a long query or a wait for another process's write lock does not hold the event
loop. No library offers this: SQLAlchemy's adapter is the only async SQLite one it has, and
this changes only its cursor.

It uses `aiosqlite.Connection._execute` (the call every aiosqlite method makes; the same
release range as SQLAlchemy's own use of its queue); `tests/storage/test_sqlite_driver.py`
fails should that change.
"""

from __future__ import annotations

import collections
import sqlite3
from typing import Any

import aiosqlite
from sqlalchemy.connectors.asyncio import AsyncAdapt_dbapi_connection
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util import await_only

Outcome = tuple[Any, list[Any] | None, int, int | None]


def _run(connection: sqlite3.Connection, operation: str, parameters: Any,
         many: bool) -> Outcome:
    """In the connection's thread: the statement, its rows and what a DBAPI cursor tells."""
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else None
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    """A buffered cursor: execute, fetch and close in one trip; the rows kept here."""

    __slots__ = ("_arraysize", "_description", "_lastrowid", "_rowcount")
    _awaitable_cursor_close = False  # nothing open in the thread to close

    def __init__(self, adapt_connection: AsyncAdapt_dbapi_connection) -> None:
        # Not the parent's: that opens an aiosqlite cursor, a trip of its own.
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]
        self._soft_closed_memoized = {}  # type: ignore[assignment]
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None
        self._arraysize = 1

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> int:
        return self._lastrowid  # type: ignore[return-value]

    @property
    def arraysize(self) -> int:
        return self._arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._arraysize = value

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        try:
            await_only(self._trip(operation, parameters, many=False))
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    def executemany(self, operation: Any, seq_of_parameters: Any) -> Any:
        try:
            await_only(self._trip(operation, seq_of_parameters, many=True))
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    async def _trip(self, operation: str, parameters: Any, many: bool) -> None:
        connection = self._connection
        async with self._adapt_connection._execute_mutex:
            # `_conn` read in the thread: it raises there, as aiosqlite's own calls do, once
            # the connection is closed.
            outcome: Outcome = await connection._execute(
                lambda: _run(connection._conn, operation, parameters, many))
        self._description, rows, self._rowcount, self._lastrowid = outcome
        self._rows = collections.deque(rows) if rows else collections.deque()

    def close(self) -> None:
        self._rows.clear()

    async def _async_soft_close(self) -> None:
        return None

    def nextset(self) -> None:
        return None

    def setinputsizes(self, *inputsizes: Any) -> None:
        return None


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = OneTripCursor

    # A commit or rollback with no transaction open in SQLite does nothing (sqlite3 looks
    # first too), so it makes no trip: the pool's rollback when every unit of work gives its
    # connection back, after its commit, and the commit of one that only read or claimed
    # (a claim's WITH ... UPDATE commits on its own). A trip a transaction fewer.
    def commit(self) -> None:
        if self._in_transaction():
            super().commit()

    def rollback(self) -> None:
        if self._in_transaction():
            super().rollback()

    def _in_transaction(self) -> bool:
        """SQLite's own flag, read on this side: nothing else runs on the connection
        meanwhile (its statements, commits and rollbacks come one at a time from this
        adapter). A closed connection goes on to the parent, which knows what to do."""
        driver = self._connection._connection  # the sqlite3 connection; None once closed
        return driver is None or driver.in_transaction


class OneTripDbapi(AsyncAdapt_aiosqlite_dbapi):
    """SQLAlchemy's aiosqlite DBAPI, its connections with the one-trip cursor."""

    def connect(self, *arg: Any, **kw: Any) -> OneTripConnection:
        adapted = super().connect(*arg, **kw)
        return OneTripConnection(self, adapted._connection)


def dbapi() -> OneTripDbapi:
    """For `create_async_engine(..., module=dbapi())`."""
    return OneTripDbapi(aiosqlite, sqlite3)
