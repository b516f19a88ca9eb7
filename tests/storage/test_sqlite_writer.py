"""SQLite's writers inside one process take turns, first come first served, instead of racing
in SQLite's busy handler until one fails with "database is locked" (storage/sqlite_writer.py).
The busy time-out is made short here so that the race, where it still happens, shows."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from storage import db as db_module
from storage import sqlite_writer
from storage.db import Database
from tests.storage.sqlite_table import sqlite_with_table

INSERT = text("INSERT INTO t (n) VALUES (:n)")


@pytest.fixture
async def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Database]:
    monkeypatch.setattr(db_module, "BUSY_TIMEOUT_MS", 200)
    monkeypatch.setattr(sqlite_writer, "WAIT", 2.0)
    async with sqlite_with_table(tmp_path / "writers.db",
                                 "CREATE TABLE t (n INTEGER UNIQUE)") as database:
        yield database


async def test_writers_that_hold_the_lock_across_awaits_take_turns_in_order(
        db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """Six writers at once, each holding the write lock for 150 ms of awaits (a crowded event
    loop between its statements): longer than the others would wait in SQLite's busy handler
    (200 ms here, 10 s in the bot, where the holds reached 7-10 s)."""
    came: list[int] = []
    let_in: list[int] = []
    acquire = sqlite_writer._acquire

    async def in_turn(lock: asyncio.Lock, wait: float) -> bool:
        came.append(id(asyncio.current_task()))
        got = await acquire(lock, wait)
        let_in.append(id(asyncio.current_task()))
        return got

    monkeypatch.setattr(sqlite_writer, "_acquire", in_turn)

    async def writer(n: int) -> None:
        async with db.transaction() as session:
            await session.execute(INSERT, {"n": n})
            await asyncio.sleep(0.15)
            await session.execute(INSERT, {"n": 100 + n})

    results = await asyncio.gather(*(writer(n) for n in range(6)), return_exceptions=True)
    assert [r for r in results if r is not None] == []  # nobody got "database is locked"
    assert len(came) == 6 and let_in == came  # one turn each, in the order they came
    async with db.transaction() as session:
        assert (await session.execute(text("SELECT count(*) FROM t"))).scalar() == 12


async def test_a_reader_does_not_wait_for_the_writer(db: Database) -> None:
    writing, done = asyncio.Event(), asyncio.Event()

    async def writer() -> None:
        async with db.transaction() as session:
            await session.execute(INSERT, {"n": 1})
            writing.set()
            await done.wait()

    task = asyncio.create_task(writer())
    await writing.wait()
    async with db.transaction() as session:  # reads only: the writer's lock is not its business
        count = (await asyncio.wait_for(
            session.execute(text("SELECT count(*) FROM t")), timeout=5)).scalar()
    assert count == 0  # (the writer's row is not committed)
    done.set()
    await task


async def test_a_writer_that_failed_lets_the_next_one_in(
        db: Database, caplog: pytest.LogCaptureFixture) -> None:
    """A block that raised, and a statement that failed: both roll back, and the lock goes
    with them (else the next writer would wait the whole safety net, and say so)."""
    caplog.set_level(logging.WARNING, logger=sqlite_writer.__name__)
    async with db.transaction() as session:
        await session.execute(INSERT, {"n": 1})
    with pytest.raises(RuntimeError):
        async with db.transaction() as session:
            await session.execute(INSERT, {"n": 2})
            raise RuntimeError("the handler failed")
    with pytest.raises(Exception, match="UNIQUE"):
        async with db.transaction() as session:
            await session.execute(INSERT, {"n": 1})
    async with db.transaction() as reading:  # the connection that failed, busy reading
        await reading.execute(text("SELECT 1"))
        async with db.transaction() as session:  # so this is another one
            await session.execute(INSERT, {"n": 3})
    async with db.transaction() as session:
        rows = (await session.execute(text("SELECT n FROM t ORDER BY n"))).scalars().all()
    assert rows == [1, 3]
    assert not [r for r in caplog.records if "writing without it" in r.getMessage()]


@pytest.mark.parametrize(("statement", "writes"), [
    ("INSERT INTO outbox (chat_id) VALUES (?)", True),
    ("  update outbox SET status = ?", True),
    ("DELETE FROM inbound_update WHERE id = ?", True),
    ("/* claim */ WITH heads AS (SELECT id FROM outbox) UPDATE outbox SET status = ?", True),
    ("WITH due AS (SELECT id FROM outbox) SELECT * FROM due", False),
    ("SELECT * FROM outbox WHERE status = 'updated'", False),
    ("-- a note\nSELECT 1", False),
    ("CREATE TABLE t (n INTEGER)", True),
    ("PRAGMA wal_checkpoint(TRUNCATE)", False),
    ("", False),
])
def test_which_statements_write(statement: str, writes: bool) -> None:
    assert sqlite_writer.writes(statement) is writes


async def test_a_claim_that_committed_on_its_own_does_not_keep_the_others_waiting(
        db: Database, caplog: pytest.LogCaptureFixture) -> None:
    """A WITH ... UPDATE runs in no transaction of pysqlite's (it begins one only before
    INSERT, UPDATE, DELETE and REPLACE): it committed as it ran. A planner's pass that starts
    with such a claim and then reads for long holds no one up."""
    caplog.set_level(logging.WARNING, logger=sqlite_writer.__name__)
    claimed, done = asyncio.Event(), asyncio.Event()

    async def planner() -> None:
        async with db.transaction() as session:
            await session.execute(text(
                "WITH picked AS (SELECT n FROM t) UPDATE t SET n = n WHERE n IN picked"))
            claimed.set()
            await done.wait()  # reading, deciding
            await session.execute(text("SELECT count(*) FROM t"))

    task = asyncio.create_task(planner())
    await claimed.wait()
    async with db.transaction() as session:  # a family's message, meanwhile
        await session.execute(INSERT, {"n": 1})
    done.set()
    await task
    assert not [r for r in caplog.records if "writing without it" in r.getMessage()]
