"""Sends recorded together (dispatcher._persist_together): records that come while one is
written go in one transaction (one commit for many sends in a burst); one that cannot be written
holds up no other; a send whose lane stopped before its record was written is recorded, not
let go to be sent a second time."""

from __future__ import annotations

import asyncio
from collections import deque
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from bot.clock import ManualClock
from bot.outbox import dispatcher as dispatcher_module
from bot.outbox.dispatcher import Carrier, Dispatcher, RecordsNotCarried
from storage.db import Database
from storage.models import Outbox
from storage.repos import outbox as rows
from tests.faults.common import wait_until
from tests.storage.statements import Listened

NOW = datetime(2026, 11, 25, 18, 0, 30, tzinfo=UTC)


async def _claimed(db: Database, dispatcher: Dispatcher, n: int) -> list[Outbox]:
    async with db.transaction() as session:
        for chat in range(100, 100 + n):
            rows.add_pending(session, chat_id=chat, method="sendMessage",
                             payload={"p": {"text": "x"}}, purpose="answer", due_at=NOW,
                             created_at=NOW, link_family_id=None, link_member_id=None,
                             link_message_id=None)
    claimed = await dispatcher.claim(NOW, n)
    assert len(claimed) == n
    return claimed


async def _statuses(db: Database) -> list[str]:
    async with db.transaction() as session:
        return list((await session.scalars(select(Outbox.status).order_by(Outbox.id))).all())


async def test_sends_recorded_at_once_share_one_commit(db: Database) -> None:
    dispatcher = Dispatcher(db, bot=None, clock=ManualClock(NOW))  # type: ignore[arg-type]
    claimed = await _claimed(db, dispatcher, 6)
    with Listened(db) as listened:
        await asyncio.gather(*(dispatcher._record(row, {"message_id": row.id})
                               for row in claimed))
    assert await _statuses(db) == ["sent"] * 6
    assert listened.commits == 2  # the first alone, the five that came meanwhile together


async def test_a_record_that_cannot_be_written_holds_up_no_other(
        db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    dispatcher = Dispatcher(db, bot=None, clock=ManualClock(NOW))  # type: ignore[arg-type]
    claimed = await _claimed(db, dispatcher, 4)
    bad = claimed[2].id
    mark_sent = rows.mark_sent

    async def failing(session: Any, row_id: int, *args: Any) -> bool:
        if row_id == bad:
            raise ValueError("a bug in one record")
        return await mark_sent(session, row_id, *args)

    monkeypatch.setattr(rows, "mark_sent", failing)
    tasks = [asyncio.create_task(dispatcher._record(row, {"message_id": row.id}))
             for row in claimed]
    good = [task for row, task in zip(claimed, tasks, strict=True) if row.id != bad]
    # Written at once, while the bad one is tried again on its own (for as long as its
    # claim holds, as every record whose transaction fails).
    await asyncio.wait_for(asyncio.gather(*good), 10)
    assert await _statuses(db) == ["sent", "sent", "pending", "sent"]
    assert not tasks[2].done()
    tasks[2].cancel()
    await asyncio.gather(tasks[2], return_exceptions=True)


async def test_a_send_whose_lane_stopped_before_its_record_is_recorded_not_let_go(
        db: Database) -> None:
    dispatcher = Dispatcher(db, bot=None, clock=ManualClock(NOW))  # type: ignore[arg-type]
    first, second = await _claimed(db, dispatcher, 2)
    async with dispatcher._recording:  # another record is being written
        waiting = asyncio.create_task(dispatcher._record(second, {"message_id": 2}))
        await asyncio.sleep(0.05)
        waiting.cancel()  # the bot stops: its lane is cancelled
    await asyncio.gather(waiting, return_exceptions=True)
    await dispatcher.stop_lanes()
    assert await _statuses(db) == ["pending", "sent"]  # the first one: back to the queue
    async with db.transaction() as session:
        back = await session.get(Outbox, first.id)
        assert back is not None and back.claimed_by is None


def _running(db: Database) -> Dispatcher:
    """A dispatcher whose main loop runs (as far as handlers can tell: they carry records)."""
    dispatcher = Dispatcher(db, bot=None, clock=ManualClock(NOW))  # type: ignore[arg-type]
    dispatcher._running = True
    return dispatcher


def _carrier(dispatcher: Dispatcher) -> Carrier:
    """A handler's transaction begins."""
    carrier = dispatcher.carrier()
    assert carrier is not None
    return carrier


def _handlers_row(session: Any) -> None:
    rows.add_pending(session, chat_id=300, method="sendMessage", payload={"p": {"text": "y"}},
                     purpose="relay", due_at=NOW, created_at=NOW, link_family_id=None,
                     link_member_id=None, link_message_id=None)


async def _record_waiting_for_a_handler(dispatcher: Dispatcher, row: Outbox
                                        ) -> asyncio.Task[None]:
    """A lane's record, started while a handler's transaction is open (its Carrier): it waits
    for that transaction instead of committing on its own."""
    task = asyncio.create_task(dispatcher._record(row, {"message_id": row.id}))
    await wait_until(lambda: dispatcher._records, 10, "the record waits", step=0.001)
    assert not task.done()
    return task


async def test_a_record_goes_in_the_commit_of_a_handlers_transaction(db: Database) -> None:
    """In a burst of family messages a handler's transaction is nearly always open: the
    records of the sends made meanwhile go in its commit (one commit a relayed message, not
    two: issue 16)."""
    dispatcher = _running(db)
    [row] = await _claimed(db, dispatcher, 1)
    with Listened(db) as listened:
        carrier = _carrier(dispatcher)
        recording = await _record_waiting_for_a_handler(dispatcher, row)
        async with db.transaction() as session:
            _handlers_row(session)
            await carrier.ride(session)
        carrier.end(committed=True)
        await asyncio.wait_for(recording, 10)
    assert await _statuses(db) == ["sent", "pending"]
    assert listened.commits == 1


async def test_a_handlers_transaction_that_fails_leaves_the_records_to_their_lanes(
        db: Database) -> None:
    dispatcher = _running(db)
    [row] = await _claimed(db, dispatcher, 1)
    carrier = _carrier(dispatcher)
    recording = await _record_waiting_for_a_handler(dispatcher, row)
    with pytest.raises(RuntimeError):
        async with db.transaction() as session:
            _handlers_row(session)
            await carrier.ride(session)
            raise RuntimeError("the handler failed after it took the record")
    carrier.end(committed=False)
    await asyncio.wait_for(recording, 10)
    assert await _statuses(db) == ["sent"]  # recorded by its lane; the handler's row is gone


async def test_a_record_that_fails_in_a_handlers_transaction_goes_back_to_its_lane(
        db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """A record that fails in a handler's transaction fails that transaction (its update is
    tried again in a moment: handlers/common.work); its lane writes it on its own, and the
    next handlers take no records along for a while."""
    dispatcher = _running(db)
    first, second = await _claimed(db, dispatcher, 2)
    mark_sent = rows.mark_sent
    calls: list[int] = []

    async def failing_once(session: Any, row_id: int, *args: Any) -> bool:
        calls.append(row_id)
        if len(calls) == 1:
            raise ValueError("a record that fails once")
        return await mark_sent(session, row_id, *args)

    monkeypatch.setattr(rows, "mark_sent", failing_once)
    carrier = _carrier(dispatcher)
    recording = await _record_waiting_for_a_handler(dispatcher, first)
    with pytest.raises(RecordsNotCarried):
        async with db.transaction() as session:
            _handlers_row(session)
            await carrier.ride(session)
    carrier.end(committed=False)
    await asyncio.wait_for(recording, 10)
    assert await _statuses(db) == ["sent", "pending"]  # (the handler's row: rolled back)
    assert calls == [first.id, first.id]
    # For a while no handler takes records along: the next one is written by its lane.
    carrier = _carrier(dispatcher)
    await asyncio.wait_for(dispatcher._record(second, {"message_id": second.id}), 10)
    async with db.transaction() as session:
        _handlers_row(session)
        await carrier.ride(session)
    carrier.end(committed=True)
    assert carrier.batch == []
    assert await _statuses(db) == ["sent", "sent", "pending"]


async def test_a_record_a_handler_takes_while_its_lane_waits_for_its_turn_waits_for_it(
        db: Database) -> None:
    """A lane waits for its turn to write records (another group is being written); meanwhile
    a handler's transaction takes its record along. Its turn come, the lane waits for that
    transaction's end: it found its record neither written nor waiting, and stopped with
    "Result is not set" (the busiest hour at 300 coaches, SQLite), so the send was never
    recorded and would have gone again after its lease."""
    dispatcher = _running(db)
    [row] = await _claimed(db, dispatcher, 1)
    async with dispatcher._recording:  # another group of records is being written
        recording = asyncio.create_task(dispatcher._record(row, {"message_id": row.id}))
        await wait_until(lambda: dispatcher._records, 10, "the record waits", step=0.001)
        carrier = _carrier(dispatcher)  # a handler's transaction, which takes it along
        async with db.transaction() as session:
            _handlers_row(session)
            await carrier.ride(session)
    for _ in range(10):  # the lane's turn comes before the handler's transaction ends
        await asyncio.sleep(0)
    assert not recording.done()
    carrier.end(committed=True)
    await asyncio.wait_for(recording, 10)
    assert await _statuses(db) == ["sent", "pending"]


async def test_with_many_lanes_sending_records_do_not_wait_for_handlers(
        db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """With several lanes sending, records share commits among themselves (group commit):
    they neither wait for a handler's transaction nor go in it, whose statements would be
    on the intake's one-at-a-time path (the busiest hour, bench/README.md)."""
    dispatcher = _running(db)
    [row] = await _claimed(db, dispatcher, 1)
    dispatcher._lanes.update({chat: deque() for chat in range(900, 903)})  # three lanes send
    monkeypatch.setattr(dispatcher_module, "CARRIER_WAIT_SECONDS", 60.0)  # (a wait would show)
    carrier = _carrier(dispatcher)
    await asyncio.wait_for(dispatcher._record(row, {"message_id": row.id}), 10)
    async with db.transaction() as session:
        _handlers_row(session)
        await carrier.ride(session)
    carrier.end(committed=True)
    assert carrier.batch == []
    assert await _statuses(db) == ["sent", "pending"]
