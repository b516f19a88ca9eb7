"""A family's copy that comes behind a bulk send in a coach's chat while that send still waits
at Telegram's limit goes first (issue 16, busiest evening: each copy waited behind its coach's
nudge, and both in a people's queue of more than a second). Each row is sent once, in the order
the coach's chat allows: a digest that has begun still goes on to its end."""

from __future__ import annotations

import asyncio
from collections import deque
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from bot.clock import ManualClock
from bot.outbox import Outgoing
from bot.outbox.dispatcher import Dispatcher
from bot.outbox.outgoing import write
from bot.outbox.ratelimit import RateLimiter
from storage.db import Database
from storage.models import Outbox

NOW = datetime(2026, 11, 25, 17, 0, 30, tzinfo=UTC)
COACH = 100


class _Telegram:
    def __init__(self) -> None:
        self.sent: list[str] = []

    async def call(self, _method: str, _chat: int, params: dict[str, Any]) -> dict[str, int]:
        self.sent.append(params["text"])
        return {"message_id": len(self.sent)}


async def _write(db: Database, text: str, purpose: str) -> None:
    out = Outgoing()
    out.text(COACH, text, purpose=purpose)
    async with db.transaction() as session:
        await write(session, out.sends, NOW)


class _Limiter(RateLimiter):
    """The real limiter, saying when a send to the coach waits in its queue."""

    def __init__(self) -> None:
        super().__init__()
        self.coach_waits = asyncio.Event()

    def _serve(self) -> None:
        super()._serve()
        if any(chat == COACH and not turn.done() for _, _, chat, turn in self._waiting):
            self.coach_waits.set()


async def test_a_copy_goes_before_the_coachs_nudge_still_waiting_at_the_limit(
        db: Database) -> None:
    telegram = _Telegram()
    limiter = _Limiter()
    dispatcher = Dispatcher(db, bot=None, clock=ManualClock(NOW), limiter=limiter,
                            poll_seconds=3600)
    dispatcher._call = telegram.call  # type: ignore[method-assign]
    dispatcher._running = True
    dispatcher._instances = 1
    # Telegram's 28 a second taken by other chats' bulk sends for a second and more.
    others = [asyncio.create_task(limiter.acquire(1000 + n, bulk=True)) for n in range(40)]
    await _write(db, "nudge", "nudge")
    assert await dispatcher.claim_into_lanes(NOW) == 1
    await asyncio.wait_for(limiter.coach_waits.wait(), 5)
    await _write(db, "copy", "relay")  # a family's message, written behind it
    assert await dispatcher.claim_into_lanes(NOW) == 1  # past the nudge, into its lane
    await asyncio.wait_for(dispatcher.lanes_done(), 10)
    assert telegram.sent == ["copy", "nudge"]  # before: the nudge, then the copy
    async with db.transaction() as session:
        rows = (await session.execute(select(Outbox.purpose, Outbox.status, Outbox.claimed_by)
                                      .order_by(Outbox.id))).all()
    assert [tuple(row) for row in rows] == [("nudge", "sent", None), ("relay", "sent", None)]
    assert not dispatcher._held and not dispatcher._sending
    await asyncio.gather(*others)


async def test_a_digest_that_has_begun_does_not_give_way(db: Database) -> None:
    """Its copies go on (PRODUCT.md §2.3), with the people's pace while the copy waits."""
    telegram = _Telegram()
    limiter = _Limiter()
    dispatcher = Dispatcher(db, bot=None, clock=ManualClock(NOW), limiter=limiter,
                            poll_seconds=3600)
    dispatcher._call = telegram.call  # type: ignore[method-assign]
    others = [asyncio.create_task(limiter.acquire(1000 + n, bulk=True)) for n in range(40)]
    out = Outgoing()
    out.text(COACH, "held copy", purpose="digest")
    async with db.transaction() as session:
        [row] = await write(session, out.sends, NOW)
    row.link_message_id = 7  # as a digest's copy of a held message: its digest has begun
    dispatcher._lanes[COACH] = deque()  # its lane, sending it
    sending = asyncio.create_task(dispatcher._attempt(row, "sendMessage", {"text": "held copy"}))
    dispatcher._sending[COACH] = row
    await asyncio.wait_for(limiter.coach_waits.wait(), 5)
    person = Outgoing()
    person.text(COACH, "copy", purpose="relay")
    async with db.transaction() as session:
        [copy] = await write(session, person.sends, NOW)
    dispatcher._add_to_lane(copy)  # hurried, not stepping back
    await asyncio.wait_for(sending, 5)
    assert telegram.sent == ["held copy"]
    assert not all(task.done() for task in others)  # it went as people, before the bulk
    del dispatcher._lanes[COACH]
    await asyncio.gather(*others)
