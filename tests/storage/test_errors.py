"""storage/errors.py tells a database that is away or busy (retried without counting) from a
bug (counted, and kept aside in the end): with errors the real drivers raise, on SQLite and
PostgreSQL."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.db import Database, database_away
from storage.errors import transient

Raise = Callable[[str, Path], Awaitable[None]]


async def _with_table(url: str, statement: str) -> None:
    """Run `statement` on a database with a table t (id primary key, name not null, 'a' in
    it)."""
    db = Database(url)
    try:
        async with db.engine.begin() as conn:
            await conn.exec_driver_sql("CREATE TABLE IF NOT EXISTS t "
                                       "(id INTEGER PRIMARY KEY, name VARCHAR(20) NOT NULL)")
            await conn.exec_driver_sql("DELETE FROM t")
            await conn.exec_driver_sql("INSERT INTO t (id, name) VALUES (1, 'a')")
        async with db.engine.begin() as conn:
            await conn.exec_driver_sql(statement)
    finally:
        await db.dispose()


def _statement(statement: str) -> Raise:
    async def run(url: str, _tmp: Path) -> None:
        await _with_table(url, statement)
    return run


async def _sqlite_locked(url: str, _tmp: Path) -> None:
    """Another connection holds the write lock longer than this one's busy_timeout."""
    await _with_table(url, "SELECT 1")
    db = Database(url)
    try:
        async with db.engine.connect() as holder, db.engine.connect() as waiter:
            await holder.exec_driver_sql("BEGIN IMMEDIATE")
            await waiter.exec_driver_sql("PRAGMA busy_timeout=50")
            await waiter.exec_driver_sql("INSERT INTO t (id, name) VALUES (2, 'b')")
    finally:
        await db.dispose()


async def _sqlite_missing_folder(_url: str, tmp: Path) -> None:
    """With the plain driver: aiosqlite leaves the thread of a connection that failed to open
    behind, to report on a closed event loop in some later test."""
    engine = create_engine(f"sqlite:///{tmp / 'no such folder' / 'x.db'}")
    try:
        with engine.connect():
            pass
    finally:
        engine.dispose()


async def _pg_lock_not_available(url: str, _tmp: Path) -> None:
    """55P03: another transaction holds the table, and this one's lock_timeout ends."""
    await _with_table(url, "SELECT 1")
    db = Database(url)
    try:
        async with db.engine.connect() as holder, db.engine.connect() as waiter:
            await holder.exec_driver_sql("LOCK TABLE t IN ACCESS EXCLUSIVE MODE")
            await waiter.exec_driver_sql("SET lock_timeout = '50ms'")
            await waiter.exec_driver_sql("SELECT * FROM t")
    finally:
        await db.dispose()


async def _pg_terminated(url: str, _tmp: Path) -> None:
    """The server ends the session (as when it shuts down), then the bot uses it."""
    db = Database(url)
    try:
        async with db.engine.connect() as victim, db.engine.connect() as admin:
            pid = await _backend_pid(victim)
            await admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            await admin.commit()
            await asyncio.sleep(0.2)
            await victim.exec_driver_sql("SELECT 1")
    finally:
        await db.dispose()


async def _backend_pid(conn: AsyncConnection) -> int:
    pid = await conn.scalar(text("SELECT pg_backend_pid()"))
    await conn.commit()
    return int(pid)


async def _pg_refused(url: str, _tmp: Path) -> None:
    """Nothing listens on the port: the connection is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # free once the probe is closed
    await _with_table(make_url(url).set(host="127.0.0.1", port=port).render_as_string(
        hide_password=False), "SELECT 1")


# (what, which databases, raise it, transient)
CASES: list[tuple[str, str, Raise, bool]] = [
    ("unknown column", "both", _statement("SELECT nope FROM t"), False),
    ("unknown table", "both", _statement("SELECT 1 FROM nowhere"), False),
    ("syntax error", "both", _statement("SELEC 1"), False),
    ("duplicate key", "both", _statement("INSERT INTO t (id, name) VALUES (1, 'b')"), False),
    ("not null", "both", _statement("INSERT INTO t (id, name) VALUES (3, NULL)"), False),
    ("database locked", "sqlite", _sqlite_locked, True),
    ("unable to open database file", "sqlite", _sqlite_missing_folder, True),
    ("invalid number (22P02)", "postgresql", _statement("SELECT 'x'::int"), False),
    ("division by zero (22012)", "postgresql", _statement("SELECT 1/0"), False),
    ("lock not available (55P03)", "postgresql", _pg_lock_not_available, True),
    ("session ended by the server", "postgresql", _pg_terminated, True),
    ("connection refused", "postgresql", _pg_refused, True),
]


@pytest.mark.parametrize(("what", "where", "raise_it", "expected"), CASES,
                         ids=[case[0] for case in CASES])
async def test_database_errors_told_apart(db_url: str, tmp_path: Path, what: str, where: str,
                                          raise_it: Raise, expected: bool) -> None:
    dialect = "sqlite" if db_url.startswith("sqlite") else "postgresql"
    if where not in ("both", dialect):
        pytest.skip(f"{what}: {where} only")
    with pytest.raises(Exception) as caught:  # whatever the driver raises
        await raise_it(db_url, tmp_path)
    error = caught.value
    assert transient(error) is expected, f"{what}: {type(error).__name__}: {error}"
    assert database_away(error) is expected


@pytest.mark.parametrize(("error", "expected"), [
    (None, False),
    (ValueError("a bug"), False),
    (KeyError("x"), False),
    (RuntimeError("handler failed"), False),
    (RuntimeError("wrapped"), False),  # caused by an OSError below: the program's own
    (ConnectionRefusedError(111, "refused"), True),
    (ConnectionResetError(), True),
    (TimeoutError(), True),
    (OSError("no route"), True),
], ids=["none", "value", "key", "runtime", "runtime-from-oserror", "refused", "reset",
        "timeout", "oserror"])
def test_other_errors(error: BaseException | None, expected: bool) -> None:
    if isinstance(error, RuntimeError) and str(error) == "wrapped":
        error.__cause__ = OSError("file not found")
    assert transient(error) is expected
