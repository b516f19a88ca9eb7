"""The outbox's planner statistics (issue 16): an evening's reminders planned at once must not
be claimed with the statistics of an empty outbox (on PostgreSQL each claim became a nested
loop over the whole table, 1.4 s a claim in the busiest-hour bench: the dispatcher analyzes),
nor with none (on SQLite the people's claim looked up each row's chat by the (status, due)
index, over every waiting row: 10-18 s among 4,400-5,500 waiting reminders, and 1-12 sends a
second: the statistics are fixed, on every connection)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy import event, text

from bot.clock import ManualClock
from bot.outbox.dispatcher import Dispatcher
from bot.outbox.statistics import REFRESH_ROWS
from storage import sqlite_statistics
from storage.db import Database, Session
from storage.migrate import upgrade_async
from storage.repos import outbox as rows

NOW = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)


class Burst:
    """A planner that writes `size` reminders on its next pass, then nothing."""

    def __init__(self) -> None:
        self.size = 0

    async def __call__(self, session: Session, now: datetime) -> int:
        size, self.size = self.size, 0
        await self.write(session, now, size)
        return size

    @staticmethod
    async def write(session: Session, now: datetime, size: int) -> None:
        for chat in range(size):
            rows.add_pending(session, chat_id=10_000 + chat, method="sendMessage",
                             payload={"p": {"text": "r"}}, purpose="reminder",
                             due_at=now - timedelta(seconds=1), created_at=now,
                             link_family_id=None, link_member_id=None, link_message_id=None)


async def _counted(db: Database) -> float:
    async with db.transaction() as session:
        return float(await session.scalar(text(
            "SELECT reltuples FROM pg_class WHERE oid = 'outbox'::regclass")) or 0)


async def test_a_burst_planned_at_once_is_analyzed_before_it_is_claimed(db: Database) -> None:
    if db.dialect != "postgresql":  # SQLite's are fixed (below)
        return
    dispatcher = Dispatcher(db, bot=None, clock=ManualClock(NOW))  # type: ignore[arg-type]
    burst = Burst()
    dispatcher.planners = [burst]

    await dispatcher._plan_pass(NOW)  # a starting instance analyzes once
    first = dispatcher.statistics.refreshed
    burst.size = 20  # a few rows: no ANALYZE for them
    await dispatcher._plan_pass(NOW)
    assert dispatcher.statistics.refreshed == first
    burst.size = 4 * REFRESH_ROWS  # the evening's reminders
    await dispatcher._plan_pass(NOW)

    assert first == 1
    assert dispatcher.statistics.refreshed == 2
    assert await _counted(db) >= 4 * REFRESH_ROWS  # what the claims are now planned from


async def test_claims_count_towards_the_next_analyze(db: Database) -> None:
    if db.dialect != "postgresql":
        return
    dispatcher = Dispatcher(db, bot=None, clock=ManualClock(NOW))  # type: ignore[arg-type]
    await dispatcher._plan_pass(NOW)
    before = dispatcher.statistics.refreshed
    assert not dispatcher.statistics.due()
    # rows the handlers wrote (family copies, answers), claimed since
    dispatcher._took([SimpleNamespace(id=i) for i in range(REFRESH_ROWS)])  # type: ignore[misc]
    assert dispatcher.statistics.due()
    await dispatcher._plan_pass(NOW)
    assert dispatcher.statistics.refreshed == before + 1




async def test_a_claim_takes_no_more_rows_than_asked_whatever_the_plan(db: Database) -> None:
    """Analyzed while empty, the outbox looked empty to PostgreSQL, and the claim's plan, made
    then and kept by the plan cache, ran `id IN (SELECT … LIMIT n FOR UPDATE SKIP LOCKED)`
    again for every row: one of two instances claimed 984 of 1,000 due reminders in one claim
    of 16 and sent them alone at its half of the pace while the other stood idle
    (tests/e2e/test_restart_and_instances.py: 84 s instead of 50). Here the plan is made on the
    empty outbox and kept (a generic plan), then 1,000 rows come."""
    until = rows.lease_until(db.dialect, NOW, 60, timedelta(minutes=1))
    async with db.transaction() as session:
        if db.dialect == "postgresql":
            await session.execute(text("ANALYZE outbox"))
            await session.execute(text("SET LOCAL plan_cache_mode = force_generic_plan"))
        assert await rows.claim_heads(session, db.dialect, NOW, 16, "me", until,
                                      bulk=True) == []
        await Burst.write(session, NOW, 1_000)
        await session.flush()
        for instance, limit in (("other", 16), ("me", 1), ("me", 16)):
            claimed = await rows.claim_heads(session, db.dialect, NOW, limit, instance, until,
                                             bulk=True)
            assert len(claimed) == limit


async def test_after_a_burst_sqlite_finds_a_rows_chat_by_its_lane(db: Database) -> None:
    """The people's claim among a burst of waiting reminders: each row's earlier and later rows
    are looked up in its own chat (the lane's index), not among every waiting row by state
    and due time (the (status, due) index), as SQLite planned it without statistics. On
    every connection: one opened before the burst (the pool's) and one opened after it. An
    ANALYZE at the first pass (the outbox empty) and after the burst reached only the
    connection that ran it, and the reminder burst went at 12 sends a second."""
    if db.dialect != "sqlite":
        return
    async with db.engine.connect() as before:
        await before.exec_driver_sql("SELECT count(*) FROM outbox")  # its schema is read
        await _passes_around_a_burst(db)
        statement, parameters = await _people_claim(db)
        async with db.engine.connect() as after:
            for connection in (before, after):
                plan = [str(row[-1]) for row in await connection.exec_driver_sql(
                    "EXPLAIN QUERY PLAN " + statement, parameters)]
                by_state = [step for step in plan if "ix_outbox_due" in step and
                            not step.startswith(("SEARCH outbox ", "SEARCH waiting_person "))]
                assert not by_state, plan


async def test_the_peoples_claim_goes_by_the_chats_where_people_wait(db: Database) -> None:
    """Among an evening's waiting reminders, the people's claim (the main loop's first, at
    every pass) and the chats where a person waits that every claim asks for are found by
    the index of the people's rows (migration 0016), not by walking every waiting row by
    state and due time: 47-122 ms of SQLite's time a claim among 20,000 reminders, for a
    claim that found nothing; 1.2-1.4 ms by that index (bench/README.md)."""
    if db.dialect != "sqlite":  # PostgreSQL plans by its own statistics of the moment
        return
    await _passes_around_a_burst(db)
    statement, parameters = await _people_claim(db)
    async with db.engine.connect() as connection:
        plan = [str(row[-1]) for row in await connection.exec_driver_sql(
            "EXPLAIN QUERY PLAN " + statement, parameters)]
    assert not [step for step in plan if "ix_outbox_due" in step], plan
    assert any("USING INDEX ix_outbox_people" in step for step in plan), plan


async def test_a_bulk_claim_reads_the_waiting_rows_in_its_order_and_stops(db: Database) -> None:
    """A bulk claim of 16 among a burst of waiting reminders: PostgreSQL walks the (status,
    due, id) index in the claim's order and stops at 16, instead of checking every waiting
    row and sorting them (34-41 ms of the server's time a claim among 20,000, 7-15 ms so:
    migration 0017). SQLite's index ends with the id of itself."""
    await _passes_around_a_burst(db)  # analyzed on PostgreSQL, as the dispatcher does
    statement, parameters = await _claim(db, bulk=True)
    async with db.engine.connect() as connection:
        explain = "EXPLAIN QUERY PLAN " if db.dialect == "sqlite" else "EXPLAIN "
        plan = [str(row[-1]) for row in await connection.exec_driver_sql(
            explain + statement, parameters)]
    picked = plan[:next(n for n, step in enumerate(plan) if "ix_outbox_due" in step) + 1]
    assert not [step for step in picked if "Sort" in step], plan
    assert not [step for step in plan if "Seq Scan on outbox outbox_1" in step
                or "TEMP B-TREE FOR ORDER BY" in step], plan


async def _passes_around_a_burst(db: Database) -> None:
    """A starting dispatcher's first planner pass (the outbox empty), then one that plans a
    burst of 2 * REFRESH_ROWS reminders."""
    dispatcher = Dispatcher(db, bot=None, clock=ManualClock(NOW))  # type: ignore[arg-type]
    burst = Burst()
    dispatcher.planners = [burst]
    await dispatcher._plan_pass(NOW)
    burst.size = 2 * REFRESH_ROWS
    await dispatcher._plan_pass(NOW)


async def _sqlite_statistics(db: Database) -> dict[str, str]:
    async with db.engine.connect() as connection:
        return {str(index): str(stat) for index, stat in (await connection.exec_driver_sql(
            "SELECT idx, stat FROM sqlite_stat1 WHERE tbl = 'outbox'")).all()}


async def test_sqlite_keeps_its_fixed_statistics_through_the_passes(db: Database) -> None:
    """The dispatcher analyzes nothing on SQLite: an ANALYZE of the empty outbox at its first
    pass deleted the outbox's statistics for every connection opened after it."""
    if db.dialect != "sqlite":
        return
    assert await _sqlite_statistics(db) == sqlite_statistics.OUTBOX  # from the migration run
    await _passes_around_a_burst(db)
    assert await _sqlite_statistics(db) == sqlite_statistics.OUTBOX


async def test_every_start_writes_sqlite_statistics_again(db: Database) -> None:
    """Whatever an ANALYZE by hand left (none, for an empty outbox), the migration run at the
    next start writes them again."""
    if db.dialect != "sqlite":
        return
    async with db.engine.begin() as connection:
        await connection.exec_driver_sql("ANALYZE outbox")
    assert await _sqlite_statistics(db) == {}
    await upgrade_async(db.url)
    assert await _sqlite_statistics(db) == sqlite_statistics.OUTBOX


async def _people_claim(db: Database) -> tuple[str, Any]:
    """The SQL and parameters of a claim of the people's rows, as sent to SQLite."""
    return await _claim(db, bulk=False)


async def _claim(db: Database, bulk: bool) -> tuple[str, Any]:
    """The SQL and parameters of a claim of one kind in every chat, as sent to the database."""
    captured: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        captured.append((statement, parameters))

    until = rows.lease_until(db.dialect, NOW, 60, timedelta(minutes=1))
    engine = db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", capture)
    try:
        async with db.transaction() as session:
            await rows.claim_heads(session, db.dialect, NOW, 16, "me", until, bulk=bulk)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    return next(c for c in captured if c[0].lstrip().startswith("WITH"))
