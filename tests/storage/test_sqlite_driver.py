"""SQLite statements go to the connection's thread once each (storage/sqlite_driver.py), and
the cursor still tells what a DBAPI cursor tells: rows, row counts, new ids, errors."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import aiosqlite
import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError, OperationalError

from storage import errors
from storage.db import Database
from tests.storage.sqlite_table import sqlite_with_table


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with sqlite_with_table(
            tmp_path / "trips.db",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER UNIQUE)") as database:
        yield database


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every call aiosqlite runs in a connection's thread, by name."""
    seen: list[str] = []
    original = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(getattr(fn, "__name__", type(fn).__name__))
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    return seen


async def test_a_statement_is_one_trip_to_the_thread(db: Database, trips: list[str]) -> None:
    """SQLAlchemy's own adapter makes four trips for a statement with rows (cursor, execute,
    fetchall, close) and three for one without."""
    async with db.engine.connect() as connection:
        await connection.exec_driver_sql("SELECT 1")  # the pool's first checkout, a warm-up
        trips.clear()
        rows = (await connection.execute(text("SELECT :a + 1"), {"a": 41})).all()
        assert rows == [(42,)]
        assert len(trips) == 1
        trips.clear()
        await connection.execute(text("INSERT INTO t (n) VALUES (:n)"), {"n": 1})
        assert len(trips) == 1
        trips.clear()
        await connection.commit()
        assert len(trips) == 1


async def test_a_unit_of_work_makes_no_trip_for_a_commit_or_rollback_that_does_nothing(
        db: Database, trips: list[str]) -> None:
    """A writing unit of work: its statement and its commit, not also the pool's rollback
    when the connection goes back; one that only reads: its statement alone. A rollback with
    a transaction open still goes to SQLite and undoes the write."""
    async with db.transaction() as session:  # the pool's first checkout, a warm-up
        await session.execute(text("SELECT 1"))
    trips.clear()
    async with db.transaction() as session:
        await session.execute(text("INSERT INTO t (n) VALUES (1)"))
    assert trips == ["<lambda>", "commit"]
    trips.clear()
    async with db.transaction() as session:
        assert (await session.execute(text("SELECT count(*) FROM t"))).scalar() == 1
    assert trips == ["<lambda>"]
    trips.clear()
    with pytest.raises(RuntimeError):
        async with db.transaction() as session:
            await session.execute(text("INSERT INTO t (n) VALUES (2)"))
            raise RuntimeError("a handler failed")
    assert trips == ["<lambda>", "rollback"]
    async with db.transaction() as session:
        assert (await session.execute(text("SELECT n FROM t"))).scalars().all() == [1]


async def test_the_cursor_tells_rows_counts_and_new_ids(db: Database) -> None:
    async with db.transaction() as session:
        inserted = await session.execute(text("INSERT INTO t (n) VALUES (:n)"),
                                         [{"n": n} for n in range(1, 6)])  # executemany
        assert inserted.rowcount == 5
        returned = await session.execute(text("INSERT INTO t (n) VALUES (7) RETURNING id, n"))
        assert returned.all() == [(6, 7)]
        changed = await session.execute(text("UPDATE t SET n = n + 100 WHERE n < 3"))
        assert changed.rowcount == 2
        result = await session.execute(text("SELECT id, n FROM t ORDER BY id"))
        assert list(result.keys()) == ["id", "n"]
        assert result.all() == [(1, 101), (2, 102), (3, 3), (4, 4), (5, 5), (6, 7)]
        nothing = await session.execute(text("SELECT n FROM t WHERE n < 0"))
        assert nothing.first() is None

    def through_the_cursor(connection: Connection) -> None:
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        cursor.execute("INSERT INTO t (n) VALUES (?)", (50,))
        assert cursor.lastrowid == 7
        cursor.execute("SELECT n FROM t WHERE id IN (6, 7) ORDER BY id")
        assert [d[0] for d in cursor.description] == ["n"]
        assert cursor.fetchone() == (7,)
        assert cursor.fetchmany(5) == [(50,)]
        assert cursor.fetchall() == []
        cursor.close()

    async with db.engine.connect() as connection:
        await connection.run_sync(through_the_cursor)
        await connection.rollback()

async def test_errors_come_back_as_sqlalchemy_s_and_the_transaction_rolls_back(
        db: Database) -> None:
    with pytest.raises(IntegrityError):
        async with db.transaction() as session:
            await session.execute(text("INSERT INTO t (n) VALUES (1)"))
            await session.execute(text("INSERT INTO t (n) VALUES (1)"))
    async with db.transaction() as session:
        assert (await session.execute(text("SELECT count(*) FROM t"))).scalar() == 0


async def test_a_closed_connection_is_a_database_away(db: Database) -> None:
    """The pool's connection closed under it (a fault): OperationalError, counted as the
    database away (retried, not a bug)."""
    async with db.engine.connect() as connection:
        raw = await connection.get_raw_connection()
        await raw.driver_connection.close()  # type: ignore[union-attr]
        with pytest.raises(OperationalError) as caught:
            await connection.exec_driver_sql("SELECT 1")
        assert errors.transient(caught.value)
        await connection.invalidate()


async def test_the_statement_runs_in_the_thread_while_the_event_loop_goes_on(
        db: Database) -> None:
    """A long query does not hold the loop: a task made ready meanwhile runs before it ends."""
    running = False
    seen: list[bool] = []

    async def other() -> None:
        seen.append(running)

    async with db.engine.connect() as connection:
        running = True
        task = asyncio.get_running_loop().create_task(other())
        await connection.exec_driver_sql(
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 200000) "
            "SELECT sum(x) FROM c")
        running = False
        await task
    assert seen == [True]
