"""Two instances of one bot (PostgreSQL) share Telegram's limit by what each has to send,
people's sends first: the one handling the families' messages is not held at half the limit
while the other's half goes to reminders (Dispatcher.share_the_limit, ratelimit.fair_part).
The parts are taken in turn and together never pass the limit; an instance that stops frees
its part at once."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update

from bot.clock import ManualClock
from bot.outbox.dispatcher import Dispatcher
from bot.outbox.ratelimit import FLOOR, Demand
from storage.db import Database
from storage.models import SendShare
from storage.repos import send_shares

NOW = datetime(2026, 11, 25, 18, 0, 30, tzinfo=UTC)
BUDGET = 28 - 1  # the bot's 28 a second, less one for the other instance


async def _turn(dispatcher: Dispatcher) -> None:
    dispatcher._share_due = 0.0  # its next look is due (once a second in the bot)
    await dispatcher.share_the_limit()


def _waiting(dispatcher: Dispatcher, chats: range, bulk: bool) -> list[asyncio.Task[None]]:
    """Sends that come to this instance's limiter: some go, the rest wait there."""
    return [asyncio.create_task(dispatcher.limiter.acquire(chat, bulk=bulk)) for chat in chats]


@contextlib.asynccontextmanager
async def _two_instances(db: Database) -> AsyncIterator[tuple[Dispatcher, Dispatcher,
                                                               list[asyncio.Task[None]]]]:
    """Two dispatchers of one bot, each holding its liveness lock; the sends the test adds to
    the list are given up, and both closed, afterwards."""
    if db.dialect != "postgresql":
        pytest.skip("several instances share one database on PostgreSQL only")
    poller, other = (Dispatcher(db, bot=None, clock=ManualClock(NOW))  # type: ignore[arg-type]
                     for _ in range(2))
    sends: list[asyncio.Task[None]] = []
    try:
        for dispatcher in (poller, other):
            await dispatcher.hold_liveness()
        yield poller, other, sends
    finally:
        for send in sends:
            send.cancel()
        await asyncio.gather(*sends, return_exceptions=True)
        for dispatcher in (poller, other):
            await dispatcher.close()


async def test_instances_share_the_limit_by_what_each_has_to_send(db: Database) -> None:
    async with _two_instances(db) as (poller, other, sends):
        await _turn(poller)
        await _turn(other)
        assert (poller.limiter.part, other.limiter.part) == (BUDGET // 2, BUDGET // 2)
        for dispatcher in (poller, other):
            dispatcher.limiter.paused_until = 0.0  # the pause of a start beside another: over
        # The poller's copies and receipts, 20; the other instance's reminders, 40.
        sends += _waiting(poller, range(1, 21), bulk=False) + \
            _waiting(other, range(100, 140), bulk=True)
        await asyncio.sleep(0.05)
        assert poller.limiter.demand() == Demand(people=20)
        assert other.limiter.demand() == Demand(bulk=40)
        parts = []
        for _ in range(3):
            for dispatcher in (poller, other):
                await _turn(dispatcher)
                parts.append((poller.limiter.part, other.limiter.part))
        assert all(a + b <= BUDGET for a, b in parts), parts
        # Every person's send with room for a quarter more (PEOPLE_HEADROOM); the reminders
        # the other's floor.
        assert parts[-1] == (BUDGET - FLOOR, FLOOR)
        # The poller stops: the other takes the whole limit at its next look.
        await poller.close()
        await _turn(other)
        assert other.limiter.part == 28


async def test_an_instance_that_died_stops_counting_and_is_forgotten(db: Database) -> None:
    """It could not delete its report: after 3 s its part no longer counts, after 10 minutes
    the liveness pass deletes it."""
    if db.dialect != "postgresql":
        pytest.skip("several instances share one database on PostgreSQL only")
    alive = Dispatcher(db, bot=None, clock=ManualClock(NOW))  # type: ignore[arg-type]
    try:
        async with db.transaction() as session:
            for name, age in (("stuck", 5), ("dead", 700)):
                await send_shares.report(session, name, 20, 0, 20)
                await session.execute(update(SendShare).where(SendShare.instance == name)
                                      .values(seen=SendShare.seen - age))
            assert await send_shares.others(session, alive.instance) == []
        await alive.hold_liveness()
        await alive.release_dead_claims()
        async with db.transaction() as session:
            left = (await session.scalars(select(SendShare.instance))).all()
        assert left == ["stuck"]
    finally:
        await alive.close()


async def test_an_instance_whose_report_went_stale_keeps_only_its_floor(db: Database) -> None:
    """The poller took most of the limit and then did not report for 3 s (its loop busy, the
    database slow): the other counts it at its floor and takes the rest, so the poller's own
    part has fallen to its floor by then. Without that, the two would pass the limit."""
    async with _two_instances(db) as (poller, other, sends):
        sends += _waiting(poller, range(1, 21), bulk=False) + \
            _waiting(other, range(100, 140), bulk=True)
        await asyncio.sleep(0.05)
        for _ in range(2):
            for dispatcher in (poller, other):
                await _turn(dispatcher)
        assert (poller.limiter.part, other.limiter.part) == (BUDGET - FLOOR, FLOOR)
        # Three seconds without a report from the poller, on the database's clock and its own.
        async with db.transaction() as session:
            await session.execute(update(SendShare).where(SendShare.instance == poller.instance)
                                  .values(seen=SendShare.seen - send_shares.FRESH_SECONDS))
        poller.limiter.part_until -= send_shares.FRESH_SECONDS
        await _turn(other)
        assert other.limiter.part == BUDGET - FLOOR
        assert poller.limiter.part == FLOOR
        assert poller.limiter.part + other.limiter.part <= BUDGET


async def test_the_part_is_taken_while_the_main_loop_waits(db: Database) -> None:
    """A pass of the main loop that waits (a claim, a connection) does not stop the reports."""
    if db.dialect != "postgresql":
        pytest.skip("several instances share one database on PostgreSQL only")
    dispatcher = Dispatcher(db, bot=None, clock=ManualClock(NOW))  # type: ignore[arg-type]
    stuck, stop = asyncio.Event(), asyncio.Event()

    async def waits(look_first: bool = False) -> int:
        await stuck.wait()
        return 0

    dispatcher.step = waits  # type: ignore[method-assign]
    await dispatcher.hold_liveness()
    running = asyncio.create_task(dispatcher.run(stop))
    try:
        seen: list[float] = []
        async with asyncio.timeout(10):
            while len(set(seen)) < 3:  # three reports, a second apart
                async with db.transaction() as session:
                    found = await session.scalar(select(SendShare.seen).where(
                        SendShare.instance == dispatcher.instance))
                if found is not None:
                    seen.append(found)
                await asyncio.sleep(0.1)
        assert dispatcher.limiter.part == 28  # alone, and its part still holds
    finally:
        stop.set()
        stuck.set()
        await running
        await dispatcher.close()
