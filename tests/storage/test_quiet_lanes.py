"""A lane whose row was alone in its chat claims no next row after it (issue 16: the claim that
found nothing was a statement for every relayed message and every receipt), unless a row was
written for its chat since; nothing written meanwhile waits for the main loop's next pass."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from bot.clock import ManualClock
from bot.outbox.dispatcher import Dispatcher
from storage.db import Database
from storage.models import Outbox
from storage.repos import outbox as rows
from storage.write_log import WriteLog
from tests.storage.statements import Listened

NOW = datetime(2026, 11, 25, 18, 0, 30, tzinfo=UTC)
LEASE = timedelta(minutes=1)


async def _add(db: Database, chat: int, purpose: str = "answer",
               due: datetime = NOW) -> int:
    async with db.transaction() as session:
        row = rows.add_pending(session, chat_id=chat, method="sendMessage",
                               payload={"p": {"text": purpose}}, purpose=purpose, due_at=due,
                               created_at=due, link_family_id=None, link_member_id=None,
                               link_message_id=None)
        await session.flush()
        return row.id


async def _claim(db: Database, limit: int = 10, chat: int | None = None
                 ) -> tuple[list[int], set[int]]:
    alone: set[int] = set()
    async with db.transaction() as session:
        claimed = await rows.claim_heads(session, db.dialect, NOW, limit, "me",
                                         rows.lease_until(db.dialect, NOW, 60, LEASE), chat,
                                         alone=alone)
    return sorted(r.id for r in claimed), alone


async def test_a_claim_tells_which_rows_were_alone_in_their_chat(db: Database) -> None:
    lone = await _add(db, 1)
    first = await _add(db, 2)
    await _add(db, 2)  # behind `first`
    parked = await _add(db, 3)
    head = await _add(db, 3)
    async with db.transaction() as session:
        await session.execute(update(Outbox).where(Outbox.id == parked)
                              .values(status="parked"))
    passed = await _add(db, 4, "agenda", NOW - timedelta(minutes=1))
    person = await _add(db, 4, "answer")  # goes past the agenda: not alone either
    await _add(db, 5, "answer", NOW + timedelta(hours=1))  # not due: no claim, still waits
    later = await _add(db, 5, "answer", NOW + timedelta(hours=2))
    del later

    claimed, alone = await _claim(db)
    assert set(claimed) >= {lone, first, person} and head not in claimed
    assert passed in claimed or passed not in alone
    assert alone == {lone}


async def test_a_row_claimed_beside_another_of_its_chat_is_not_alone(db: Database) -> None:
    """The other row is claimed (by this instance or another), still pending: it waits."""
    first = await _add(db, 1)
    assert await _claim(db, chat=1) == ([first], {first})
    second = await _add(db, 1)
    async with db.transaction() as session:  # the first is sent by another instance's lane
        await session.execute(update(Outbox).where(Outbox.id == first).values(status="sent"))
    assert await _claim(db, chat=1) == ([second], {second})
    third = await _add(db, 1)
    del third
    async with db.transaction() as session:
        await session.execute(update(Outbox).where(Outbox.id == second)
                              .values(claimed_by=None))
    assert await _claim(db, chat=1) == ([second], set())


def test_the_write_log_tells_what_was_written_since_a_mark() -> None:
    log = WriteLog(kept=2)
    mark = log.mark()
    assert not log.written_since(7, mark)
    own = log.note([7, 8])
    assert log.written_since(7, mark)
    assert not log.written_since(7, mark, besides=own)  # the asker's own commit
    other = log.note([7])
    assert log.written_since(7, mark, besides=own) and log.written_since(7, mark, besides=other)
    mark = log.mark()
    assert not log.written_since(7, mark)
    log.note([9])
    log.note([10])  # 7 and 8 are forgotten: known only as written at 2 at the latest
    assert log.written_since(8, 0) and log.written_since(7, 1)
    assert log.written_since(8, 1)  # 8 was not (at 1), but may have been
    assert not log.written_since(8, mark) and not log.written_since(7, mark)
    assert log.note([]) == log.mark()  # a commit that wrote nothing is no write


class _Telegram:
    """Sends that wait until let through, one at a time."""

    def __init__(self) -> None:
        self.through = asyncio.Semaphore(0)
        self.asked = asyncio.Event()
        self.sent: list[str] = []

    async def call(self, _method: str, _chat: int, params: dict[str, Any]) -> dict[str, int]:
        self.asked.set()
        await self.through.acquire()
        self.sent.append(params["text"])
        return {"message_id": len(self.sent)}


class _NoPace:
    async def acquire(self, chat_id: int | None, bulk: bool = False) -> None:
        return None


def _dispatcher(db: Database) -> tuple[Dispatcher, _Telegram]:
    dispatcher = Dispatcher(db, bot=None, clock=ManualClock(NOW),  # type: ignore[arg-type]
                            limiter=_NoPace(), poll_seconds=3600)  # type: ignore[arg-type]
    telegram = _Telegram()
    dispatcher._call = telegram.call  # type: ignore[method-assign]
    dispatcher._instances = 1  # PostgreSQL: its look at the live instances found itself
    return dispatcher, telegram


async def _statuses(db: Database) -> list[str]:
    async with db.transaction() as session:
        return list((await session.scalars(select(Outbox.status).order_by(Outbox.id))).all())


async def test_a_lane_whose_row_was_alone_claims_nothing_after_it(db: Database) -> None:
    dispatcher, telegram = _dispatcher(db)
    await _add(db, 1)
    assert await dispatcher.claim_into_lanes(NOW, bulk=False) == 1
    with Listened(db) as counted:
        telegram.through.release()
        await dispatcher.lanes_done()
    assert await _statuses(db) == ["sent"]
    assert len(counted.claims()) == 0  # on the code before: 1, the lane's claim of its next row


async def test_beside_another_instance_a_lane_claims_its_next_row_as_before(
        db: Database) -> None:
    """Another instance may write for the chat without this one knowing (PostgreSQL)."""
    if db.dialect != "postgresql":
        return  # one instance by construction
    dispatcher, telegram = _dispatcher(db)
    dispatcher._instances = 2
    await _add(db, 1)
    await dispatcher.claim_into_lanes(NOW, bulk=False)
    with Listened(db) as counted:
        telegram.through.release()
        await dispatcher.lanes_done()
    assert len(counted.claims()) == 1


async def test_a_row_written_for_the_chat_while_its_lane_sends_goes_next(db: Database) -> None:
    dispatcher, telegram = _dispatcher(db)
    await _add(db, 1, "answer")
    await dispatcher.claim_into_lanes(NOW, bulk=False)
    await telegram.asked.wait()
    await _add(db, 1, "notice")  # committed while the first is on its way
    telegram.through.release()
    telegram.through.release()
    await dispatcher.lanes_done()  # the lane claimed it and sent it: no pass needed
    assert telegram.sent == ["answer", "notice"]
    assert await _statuses(db) == ["sent", "sent"]


async def test_a_row_committed_while_the_record_is_written_wakes_the_main_loop(
        db: Database) -> None:
    """Written after the lane decided to claim nothing more, but before its record committed
    (a claim then found the first row still in the way): the main loop is woken to claim it,
    instead of waiting for its next pass."""
    dispatcher, telegram = _dispatcher(db)
    await _add(db, 1, "answer")
    await dispatcher.claim_into_lanes(NOW, bulk=False)
    persist = dispatcher._persist_together

    async def written_meanwhile(step: Any, what: str) -> None:
        await _add(db, 1, "notice")
        await persist(step, what)

    dispatcher._persist_together = written_meanwhile  # type: ignore[method-assign]
    telegram.through.release()
    await dispatcher.lanes_done()
    assert await _statuses(db) == ["sent", "pending"]
    assert dispatcher._wake.is_set()  # on the code without the look after the record: not
    dispatcher._persist_together = persist  # type: ignore[method-assign]
    telegram.through.release()
    assert await dispatcher.claim_into_lanes(NOW, bulk=False) == 1
    await dispatcher.lanes_done()
    assert telegram.sent == ["answer", "notice"]


async def test_a_row_for_a_chat_whose_lane_sends_is_left_to_that_lane(db: Database) -> None:
    """The handler's wake (chats=…) starts no pass of the main loop for it: the lane's record
    claims it (in a burst of one family's messages that pass found nothing, a statement and a
    commit for every message)."""
    dispatcher, telegram = _dispatcher(db)
    await _add(db, 1, "answer")
    await dispatcher.claim_into_lanes(NOW, bulk=False)
    await telegram.asked.wait()
    await _add(db, 1, "notice")
    dispatcher._wake.clear()
    dispatcher.wake(plan=False, claim=True, chats={1})
    assert not dispatcher._wake.is_set()  # on the code before: a pass
    dispatcher.wake(plan=False, claim=True, chats={1, 2})  # chat 2 has no lane here
    assert dispatcher._wake.is_set()
    dispatcher._wake.clear()
    with Listened(db) as counted:
        telegram.through.release()
        telegram.through.release()
        await dispatcher.lanes_done()
    assert telegram.sent == ["answer", "notice"]
    assert len(counted.claims()) == 1  # the first one's record took the notice; none after it


async def test_a_row_committed_after_the_lanes_claim_found_nothing_wakes_the_main_loop(
        db: Database, monkeypatch: Any) -> None:
    """A lane that claimed its next row and found none, while a row for its chat was being
    committed: its writer left it to the lane (wake(chats=…)), so the main loop is woken."""
    dispatcher, telegram = _dispatcher(db)
    await _add(db, 1, "answer")
    await dispatcher.claim_into_lanes(NOW, bulk=False)
    dispatcher._alone.clear()  # (as if another row had waited in the chat at the claim)
    claim_heads = rows.claim_heads

    async def then_written(*args: Any, **kwargs: Any) -> list[Outbox]:
        found = await claim_heads(*args, **kwargs)
        db.outbox_writes.note([1])  # another transaction commits a row for the chat now
        return found

    monkeypatch.setattr(rows, "claim_heads", then_written)
    dispatcher._wake.clear()
    dispatcher._more_may_wait = False  # (the lane's end wakes it else: nothing may wait)
    telegram.through.release()
    await dispatcher.lanes_done()
    assert dispatcher._wake.is_set()  # on the code before this look: not
