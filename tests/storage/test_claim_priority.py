"""People waiting go first (issue 16, busiest hour): a family's message queued after an evening's
reminders is claimed before them, and bulk sends hold at most BULK_LANES lanes, so it finds a
lane and few sends ahead of it at Telegram's limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bot.clock import ManualClock
from bot.outbox.dispatcher import BULK_LANES, LANES, Dispatcher
from storage.db import Database
from storage.repos import outbox as rows

NOW = datetime(2026, 11, 25, 18, 0, 30, tzinfo=UTC)
LEASE = timedelta(minutes=1)


async def _add(db: Database, chat: int, purpose: str, due: datetime) -> int:
    async with db.transaction() as session:
        row = rows.add_pending(session, chat_id=chat, method="sendMessage",
                               payload={"p": {"text": purpose}}, purpose=purpose, due_at=due,
                               created_at=due, link_family_id=None, link_member_id=None,
                               link_message_id=None, expires_at=None)
        await session.flush()
        return row.id


async def test_a_family_message_is_claimed_before_earlier_reminders(db: Database) -> None:
    for chat in range(100, 140):
        await _add(db, chat, "reminder", NOW - timedelta(seconds=30))
    relay = await _add(db, 7, "relay", NOW)
    answer = await _add(db, 8, "answer", NOW)
    async with db.transaction() as session:
        until = rows.lease_until(db.dialect, NOW, 60, LEASE)
        first = await rows.claim_heads(session, db.dialect, NOW, 5, "me", until)
    assert {relay, answer} <= {r.id for r in first}  # claimed although due later
    assert sorted(r.purpose for r in first) == ["answer", "relay", *["reminder"] * 3]


async def test_bulk_sends_leave_lanes_free_for_people_waiting(db: Database) -> None:
    dispatcher = Dispatcher(db, bot=None, clock=ManualClock(NOW))  # type: ignore[arg-type]
    for chat in range(100, 100 + 2 * LANES):
        await _add(db, chat, "reminder", NOW - timedelta(seconds=30))
    opened: list[Any] = []
    dispatcher._add_to_lane = opened.append  # type: ignore[method-assign]
    dispatcher._bulk_lane = {}

    await dispatcher.claim_into_lanes(NOW)
    assert len(opened) == BULK_LANES < LANES
    for row in opened:  # as _add_to_lane keeps them
        dispatcher._lanes[row.chat_id] = None  # type: ignore[assignment]
        dispatcher._bulk_lane[row.chat_id] = True

    relay = await _add(db, 7, "relay", NOW)
    await dispatcher.claim_into_lanes(NOW)
    assert [r.id for r in opened[BULK_LANES:]] == [relay]  # no more bulk: the lanes stay free


async def test_a_coachs_agenda_that_a_family_message_waits_behind_goes_first(
        db: Database) -> None:
    for chat in range(100, 140):
        await _add(db, chat, "agenda", NOW - timedelta(seconds=30))
    coach = 139
    relay = await _add(db, coach, "relay", NOW)  # behind the coach's agenda: the chat's order
    async with db.transaction() as session:
        until = rows.lease_until(db.dialect, NOW, 60, LEASE)
        first = await rows.claim_heads(session, db.dialect, NOW, 1, "me", until, bulk=False)
    assert [(r.chat_id, r.purpose) for r in first] == [(coach, "agenda")]
    assert relay not in [r.id for r in first]  # it follows its agenda, in its lane
