"""The dispatcher keeps PostgreSQL's statistics of the outbox fresh (issue 16): an evening's
reminders planned at once must not be claimed with the statistics of an empty outbox (each claim
became a nested loop over the whole table, 1.4 s a claim in the busiest-hour bench)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from sqlalchemy import text

from bot.clock import ManualClock
from bot.outbox.dispatcher import Dispatcher
from bot.outbox.statistics import REFRESH_ROWS
from storage.db import Database, Session
from storage.repos import outbox as rows

NOW = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)


class Burst:
    """A planner that writes `size` reminders on its next pass, then nothing."""

    def __init__(self) -> None:
        self.size = 0

    async def __call__(self, session: Session, now: datetime) -> int:
        size, self.size = self.size, 0
        for chat in range(size):
            rows.add_pending(session, chat_id=10_000 + chat, method="sendMessage",
                             payload={"p": {"text": "r"}}, purpose="reminder",
                             due_at=now - timedelta(seconds=1), created_at=now,
                             link_family_id=None, link_member_id=None, link_message_id=None)
        return size


async def _counted(db: Database) -> float:
    async with db.transaction() as session:
        return float(await session.scalar(text(
            "SELECT reltuples FROM pg_class WHERE oid = 'outbox'::regclass")) or 0)


async def test_a_burst_planned_at_once_is_analyzed_before_it_is_claimed(db: Database) -> None:
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

    if db.dialect != "postgresql":  # SQLite plans these look-ups without statistics
        assert dispatcher.statistics.refreshed == 0
        return
    assert first == 1
    assert dispatcher.statistics.refreshed == 2
    assert await _counted(db) >= 4 * REFRESH_ROWS  # what the claims are now planned from


async def test_claims_count_towards_the_next_analyze(db: Database) -> None:
    dispatcher = Dispatcher(db, bot=None, clock=ManualClock(NOW))  # type: ignore[arg-type]
    await dispatcher._plan_pass(NOW)
    before = dispatcher.statistics.refreshed
    assert not dispatcher.statistics.due()
    # rows the handlers wrote (family copies, answers), claimed since
    dispatcher._took([SimpleNamespace(id=i) for i in range(REFRESH_ROWS)])  # type: ignore[misc]
    assert dispatcher.statistics.due() == (db.dialect == "postgresql")
    await dispatcher._plan_pass(NOW)
    assert dispatcher.statistics.refreshed == before + (db.dialect == "postgresql")
