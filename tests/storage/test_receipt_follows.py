"""A family's receipt claimed with its copy (Dispatcher.claim_written) goes right after the copy
and is recorded with it, one commit for both (issue 16); never before the copy reached the
coach, and whatever Telegram answers to it, it is sent or waits as any row does."""

from __future__ import annotations

import asyncio
from collections import deque
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, select, update
from telegram.error import Forbidden, NetworkError, RetryAfter

from bot.clock import ManualClock
from bot.outbox import Outgoing
from bot.outbox.dispatcher import HANDLER_LANES, Dispatcher
from bot.outbox.outgoing import write
from storage.db import Database
from storage.models import Outbox
from tests.storage.statements import Listened

NOW = datetime(2026, 11, 25, 18, 0, 30, tzinfo=UTC)
COACH, FAMILY = 100, 200


class _Telegram:
    """Answers each text with the faults listed for it first, then a message id."""

    def __init__(self, faults: dict[str, list[Exception]] | None = None) -> None:
        self.faults = faults or {}
        self.begun: list[str] = []  # each call as it begins (before a hold)
        self.calls: list[str] = []
        self.sent: list[str] = []
        self._held: dict[str | None, asyncio.Event] = {}
        self._arrived: dict[str, asyncio.Event] = {}
        self._begun: dict[str, asyncio.Event] = {}

    def hold(self, text: str | None = None) -> asyncio.Event:
        """Sends of this text (None: every send) wait until the event is set."""
        return self._held.setdefault(text, asyncio.Event())

    def beginning(self, text: str) -> asyncio.Event:
        """Set once a call with this text began (also when it is held)."""
        return self._begun.setdefault(text, asyncio.Event())

    def arrival(self, text: str) -> asyncio.Event:
        """Set once this text was sent."""
        return self._arrived.setdefault(text, asyncio.Event())

    async def call(self, _method: str, _chat: int, params: dict[str, Any]) -> dict[str, int]:
        text = params["text"]
        self.begun.append(text)
        self.beginning(text).set()
        for gate in (self._held.get(text), self._held.get(None)):
            if gate is not None:
                await gate.wait()
        self.calls.append(text)
        waiting = self.faults.get(text)
        if waiting:
            raise waiting.pop(0)
        self.sent.append(text)
        self.arrival(text).set()
        return {"message_id": len(self.sent)}


class _NoPace:
    def __init__(self) -> None:
        self.paused: list[float] = []

    async def acquire(self, chat_id: int | None, bulk: bool = False) -> None:
        return None

    def pause(self, seconds: float) -> None:
        self.paused.append(seconds)

    def hurry(self, chat_id: int, give_way: bool = False) -> None:
        return None


def _dispatcher(db: Database, telegram: _Telegram) -> Dispatcher:
    dispatcher = Dispatcher(db, bot=None, clock=ManualClock(NOW),  # type: ignore[arg-type]
                            limiter=_NoPace(), poll_seconds=3600)  # type: ignore[arg-type]
    dispatcher._call = telegram.call  # type: ignore[method-assign]
    dispatcher._running = True  # as while its main loop runs: handlers' rows are claimed
    dispatcher._instances = 1
    return dispatcher


async def _relayed(db: Database, dispatcher: Dispatcher, receipt_chat: int = FAMILY,
                   name: str = "") -> list[Outbox]:
    """A handler's transaction: the copy to the coach and the receipt waiting for it."""
    out = Outgoing()
    out.text(COACH, f"copy{name}")
    out.text(receipt_chat, f"receipt{name}", after=out.last)
    async with db.transaction() as session:
        rows = await write(session, out.sends, NOW)
        claimed = await dispatcher.claim_written(session, rows, NOW)
    await dispatcher.take_claimed(claimed, session)
    taken = {row.id for row in claimed}  # and the wake, as handlers.common.work wakes it
    dispatcher.wake(plan=False, awaited={row.waits_for for row in rows
                                         if row.waits_for is not None and row.id not in taken},
                    chats={row.chat_id for row in rows
                           if row.id not in taken and row.waits_for is None})
    return list(claimed)


async def _three_behind_copy_1(db: Database, telegram: _Telegram) -> tuple[Dispatcher,
                                                                           asyncio.Event]:
    """Copies 1-3 with their receipts written while copy 1 is held at Telegram (so 2 and 3
    wait in the coach's lane): the dispatcher, and the gate that lets copy 1 go."""
    dispatcher = _dispatcher(db, telegram)
    gate = telegram.hold("copy 1")
    await _relayed(db, dispatcher, name=" 1")
    for n in (2, 3):
        await _relayed(db, dispatcher, name=f" {n}")
    return dispatcher, gate


async def _rows(db: Database) -> dict[str, tuple[str, str | None]]:
    async with db.transaction() as session:
        found = (await session.execute(select(Outbox.purpose, Outbox.chat_id, Outbox.status,
                                              Outbox.claimed_by).order_by(Outbox.id))).all()
    return {"copy" if chat == COACH else "receipt": (status, claimed)
            for _, chat, status, claimed in found}


async def test_the_receipt_goes_right_after_its_copy_and_both_are_recorded_at_once(
        db: Database) -> None:
    telegram = _Telegram()
    dispatcher = _dispatcher(db, telegram)
    with Listened(db) as commits:
        claimed = await _relayed(db, dispatcher)
        await dispatcher.lanes_done()
    assert len(claimed) == 2  # the copy, and the receipt with it
    assert telegram.sent == ["copy", "receipt"]
    assert await _rows(db) == {"copy": ("sent", None), "receipt": ("sent", None)}
    assert commits.commits == 2  # the handler's, one record (three before)
    assert dispatcher.sent == 2 and not dispatcher._held and not dispatcher._then


async def test_a_fresh_copy_gets_a_lane_when_every_lane_is_busy(db: Database) -> None:
    """At 09:00 every lane can be busy with the night's held copies and the agendas: the
    handler's fresh copy still opens a lane of its own (up to HANDLER_LANES more), so it does
    not wait for the main loop's next claim; beyond those it does."""
    telegram = _Telegram()
    dispatcher = _dispatcher(db, telegram)
    dispatcher._lanes.update({chat: deque() for chat in range(1000, 1000 + dispatcher.capacity)})
    claimed = await _relayed(db, dispatcher)
    assert len(claimed) == 2
    await dispatcher.lanes_done()
    assert telegram.sent == ["copy", "receipt"]

    dispatcher._lanes.update({chat: deque() for chat in range(2000, 2000 + HANDLER_LANES)})
    assert await _relayed(db, dispatcher, name="2") == []  # left for the main loop
    assert telegram.sent == ["copy", "receipt"]


async def test_a_receipt_behind_another_row_of_its_chat_waits_for_the_copys_record(
        db: Database) -> None:
    """Not first in its chat: claimed once the copy is recorded, as before."""
    telegram = _Telegram()
    dispatcher = _dispatcher(db, telegram)
    out = Outgoing()
    out.text(FAMILY, "earlier")
    async with db.transaction() as session:
        await write(session, out.sends, NOW)
    claimed = await _relayed(db, dispatcher)
    assert [row.chat_id for row in claimed] == [COACH]
    await dispatcher.lanes_done()  # no lane left running (with a connection) past the test


async def test_no_receipt_when_the_coach_cannot_be_reached(db: Database) -> None:
    telegram = _Telegram({"copy": [Forbidden("Forbidden: bot was blocked by the user")]})
    dispatcher = _dispatcher(db, telegram)
    await _relayed(db, dispatcher)
    await dispatcher.lanes_done()
    assert telegram.calls == ["copy"]
    copy, receipt = (await _rows(db)).values()
    assert copy == ("parked", None)
    assert receipt[0] in ("pending", "cancelled") and receipt[1] is None  # not held
    assert not dispatcher._held and not dispatcher._then


async def test_a_copy_tried_again_later_lets_its_receipt_go(db: Database) -> None:
    telegram = _Telegram({"copy": [NetworkError("Bad Gateway")]})
    dispatcher = _dispatcher(db, telegram)
    await _relayed(db, dispatcher)
    await dispatcher.lanes_done()
    assert telegram.calls == ["copy"]
    assert await _rows(db) == {"copy": ("pending", None), "receipt": ("pending", None)}
    assert not dispatcher._held and not dispatcher._then


async def test_a_receipt_telegram_did_not_take_at_once_is_sent_by_its_own_lane(
        db: Database) -> None:
    """The copy is recorded as sent; the receipt is tried again and recorded on its own."""
    telegram = _Telegram({"receipt": [NetworkError("Bad Gateway")]})
    dispatcher = _dispatcher(db, telegram)
    await _relayed(db, dispatcher)
    await dispatcher.lanes_done()
    assert telegram.calls == ["copy", "receipt", "receipt"]
    assert telegram.sent == ["copy", "receipt"]
    assert await _rows(db) == {"copy": ("sent", None), "receipt": ("sent", None)}


async def test_a_429_on_the_receipt_pauses_every_send_and_the_receipt_goes_after_it(
        db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # retry_after as a timedelta, no warning
    telegram = _Telegram({"receipt": [RetryAfter(timedelta(seconds=3))]})
    dispatcher = _dispatcher(db, telegram)
    await _relayed(db, dispatcher)
    await dispatcher.lanes_done()
    assert dispatcher.limiter.paused == [3]  # type: ignore[attr-defined]
    assert telegram.sent == ["copy", "receipt"]
    assert await _rows(db) == {"copy": ("sent", None), "receipt": ("sent", None)}


async def test_a_receipt_whose_claim_was_lost_is_not_sent(db: Database) -> None:
    telegram = _Telegram()
    dispatcher = _dispatcher(db, telegram)
    gate = telegram.hold("copy")
    _copy, receipt = await _relayed(db, dispatcher)
    await asyncio.sleep(0)
    dispatcher._held.discard(receipt.id)  # as renew() does with a claim another instance took
    gate.set()
    await dispatcher.lanes_done()
    assert telegram.sent == ["copy"]


async def test_a_lane_that_stops_lets_go_of_what_was_to_follow_its_rows(db: Database) -> None:
    telegram = _Telegram()
    dispatcher = _dispatcher(db, telegram)
    await _relayed(db, dispatcher)
    dispatcher._valid_until = 0  # its claims could not be renewed: the lane stops at once
    await dispatcher.lanes_done()
    assert telegram.calls == []
    assert await _rows(db) == {"copy": ("pending", None), "receipt": ("pending", None)}
    assert not dispatcher._held and not dispatcher._then  # on the code before: still held


async def test_the_receipt_of_a_copy_claimed_away_is_let_go(db: Database) -> None:
    """Another instance took the copy (its lease had run out): the receipt waits for it in
    the queue again, not held here for a copy this instance will not send."""
    telegram = _Telegram()
    dispatcher = _dispatcher(db, telegram)
    gate = telegram.hold()
    copy, receipt = await _relayed(db, dispatcher)
    async with db.transaction() as session:  # another instance's claim of the copy
        await session.execute(update(Outbox).where(Outbox.id == copy.id)
                              .values(claimed_by="other"))
    try:
        await dispatcher.renew(force=True)
        assert receipt.id not in dispatcher._held and not dispatcher._then
        assert await _rows(db) == {"copy": ("pending", "other"),
                                   "receipt": ("pending", None)}
        gate.set()
        await dispatcher.lanes_done()
    finally:
        await dispatcher.close()  # (PostgreSQL: its liveness lock's connection)


async def test_a_send_whose_row_was_erased_meanwhile_marks_no_row_that_took_its_id(
        db: Database) -> None:
    """A member who leaves has every outbox row of her chat erased, also one on its way to
    her, and her farewell is written in the same transaction. That row's record must not
    find the farewell in its place: on SQLite a new row could take the id of the row with
    the highest id just deleted, and the farewell was then marked sent, never sent and never
    deleted (seen once in a loaded test run, tests/e2e/test_privacy.py)."""
    telegram = _Telegram()
    dispatcher = _dispatcher(db, telegram)
    gate = telegram.hold("question")
    out = Outgoing()
    out.text(FAMILY, "question")
    async with db.transaction() as session:
        [question] = await write(session, out.sends, NOW)
    await dispatcher.claim_into_lanes(NOW, bulk=False)
    await asyncio.sleep(0)  # on its way
    out = Outgoing()
    out.text(FAMILY, "farewell", purpose="farewell")
    async with db.transaction() as session:  # the erasure, and her farewell
        await session.execute(delete(Outbox).where(Outbox.chat_id == FAMILY))
        [farewell] = await write(session, out.sends, NOW)
    assert await dispatcher.claim_into_lanes(NOW, bulk=False) == 1  # into her chat's lane
    gate.set()
    await dispatcher.lanes_done()
    assert telegram.sent == ["question", "farewell"]
    async with db.transaction() as session:
        left = (await session.execute(select(Outbox.id, Outbox.status))).all()
    assert left == []  # the farewell sent, and deleted once sent
    assert farewell.id != question.id  # on the code before (SQLite): the same id


def _marks(listened: Listened) -> list[str]:
    return [s for s in listened.statements
            if s.startswith("UPDATE outbox SET") and "sent_at" in s]


async def test_the_copy_and_its_receipt_are_claimed_in_one_statement_and_marked_in_one(
        db: Database) -> None:
    """Two statements less for every relayed message (issue 16): one claim for the copy and
    the receipt that goes right after it, one UPDATE that marks both sent."""
    telegram = _Telegram()
    dispatcher = _dispatcher(db, telegram)
    with Listened(db) as statements:
        claimed = await _relayed(db, dispatcher)
        handled = len(statements.statements)
        await dispatcher.lanes_done()
    assert [row.chat_id for row in claimed] == [COACH, FAMILY]
    assert len(statements.claims()) == 1, statements.claims()
    assert len(_marks(statements)) == 1, _marks(statements)
    # The two rows written (in one statement: the receipt waits for its copy,
    # storage/repos/outbox.py _insert_ranked), one claim.
    assert handled == 2
    async with db.transaction() as session:
        found = (await session.execute(select(
            Outbox.chat_id, Outbox.status, Outbox.attempts, Outbox.sent_message_id,
            Outbox.payload, Outbox.claimed_by).order_by(Outbox.id))).all()
    assert [tuple(row) for row in found] == [(COACH, "sent", 1, 1, None, None),
                                             (FAMILY, "sent", 1, 2, None, None)]


async def test_a_receipt_claimed_with_a_copy_that_was_not_first_in_its_chat_is_let_go(
        db: Database) -> None:
    """Another family's copy waits before this one in the coach's chat: that one is claimed
    (the claim's own rule), and the receipt claimed on the word that this copy would be is
    let go: it waits for its copy's record, as any row waits for the one it follows."""
    telegram = _Telegram()
    dispatcher = _dispatcher(db, telegram)
    out = Outgoing()
    out.text(COACH, "earlier copy")
    async with db.transaction() as session:
        [earlier] = await write(session, out.sends, NOW)
    claimed = await _relayed(db, dispatcher)
    assert [row.id for row in claimed] == [earlier.id]
    async with db.transaction() as session:
        found = (await session.execute(select(Outbox.chat_id, Outbox.claimed_by)
                                       .order_by(Outbox.id))).all()
    assert [tuple(row) for row in found] == [(COACH, dispatcher.instance), (COACH, None),
                                             (FAMILY, None)]
    assert not dispatcher._then
    await dispatcher.lanes_done()
    await dispatcher.claim_into_lanes(NOW, bulk=False)
    await dispatcher.lanes_done()
    await dispatcher.claim_into_lanes(NOW, bulk=False)
    await dispatcher.lanes_done()
    assert telegram.sent == ["earlier copy", "copy", "receipt"]


async def test_of_two_rows_marked_sent_at_once_only_the_one_still_held_is_marked(
        db: Database) -> None:
    """The receipt's claim was lost while its copy was on its way (its lease ran out, another
    instance took it, and this one has not noticed yet): both went, the copy is marked
    sent, the receipt is left to the instance that holds it."""
    telegram = _Telegram()
    dispatcher = _dispatcher(db, telegram)
    gate = telegram.hold("copy")
    claimed = await _relayed(db, dispatcher)
    receipt = claimed[1]
    async with db.transaction() as session:
        await session.execute(update(Outbox).where(Outbox.id == receipt.id)
                              .values(claimed_by="other"))
    gate.set()
    await dispatcher.lanes_done()
    assert telegram.sent == ["copy", "receipt"]
    assert await _rows(db) == {"copy": ("sent", None), "receipt": ("pending", "other")}
    assert dispatcher.sent == 1


async def test_in_a_burst_the_copys_lane_claims_its_chats_next_copies_with_their_receipts(
        db: Database) -> None:
    """A burst of one family's messages: the coach's lane is busy, so the handlers claim
    nothing. The record of the first copy claims, in one statement, the coach's next copies
    (a run) and the receipts waiting for them; each receipt goes from the same lane at the
    same time as the next copy (the last right after its copy), and is recorded with that
    copy in one UPDATE. The lane claims again only after the last copy of the run (none
    left). (Each copy's record had a claim of its own: a statement more for every message of
    a burst, issue 16.) Each send is still recorded before the next goes."""
    telegram = _Telegram()
    dispatcher = _dispatcher(db, telegram)
    gate = telegram.hold("copy 1")
    assert len(await _relayed(db, dispatcher, name=" 1")) == 2
    for n in (2, 3, 4):
        assert await _relayed(db, dispatcher, name=f" {n}") == []  # the lane is busy
    with Listened(db) as counted:
        gate.set()
        await dispatcher.lanes_done()
    assert telegram.sent == ["copy 1", "receipt 1", "copy 2", "copy 3", "receipt 2",
                             "copy 4", "receipt 3", "receipt 4"]
    async with db.transaction() as session:
        left = (await session.execute(select(Outbox.status, Outbox.claimed_by))).all()
    assert {tuple(row) for row in left} == {("sent", None)}
    # One UPDATE for each copy and the receipt sent beside it, each in its own commit.
    assert len(_marks(counted)) == 4, _marks(counted)
    # The run after copy 1, and the look for more after copy 4 (none).
    assert len(counted.claims()) == 2, counted.claims()
    assert counted.commits == 4
    assert not dispatcher._held and not dispatcher._then and not dispatcher._lanes
    assert not dispatcher._ran


async def test_a_freed_receipt_goes_with_the_next_copy_also_when_its_chat_has_a_lane_here(
        db: Database) -> None:
    """The family's chat has a lane here (between two of its sends) when a copy's record frees
    the receipt: the receipt still goes from the coach's lane, right after the next copy, or
    right away when there is none. The claim found nothing before it in that chat; handed to
    that lane, every next receipt went there too, a claim, a lane and a record of its own
    for each (the burst's 11.4 statements and 3.3 commits a message)."""
    telegram = _Telegram()
    dispatcher, gate = await _three_behind_copy_1(db, telegram)
    family_lane: deque[Outbox] = deque()
    dispatcher._lanes[FAMILY] = family_lane  # open, sending nothing now
    gate.set()
    await dispatcher.lanes_done()
    # Copies 2 and 3 went as a run, receipt 2 beside copy 3, receipt 3 right after it.
    assert telegram.sent == ["copy 1", "receipt 1", "copy 2", "copy 3", "receipt 2",
                             "receipt 3"]
    assert not family_lane
    del dispatcher._lanes[FAMILY]
    assert not dispatcher._held and not dispatcher._carried


async def test_a_receipt_sent_from_the_copys_lane_that_telegram_refuses_is_parked_there(
        db: Database) -> None:
    """The family blocked the bot: the receipt the coach's lane sends right after the last
    copy gets 403. It goes to a lane of its own, which tries it once more and parks it with
    its chat; the coach's lane holds nothing after it."""
    blocked = Forbidden("Forbidden: bot was blocked by the user")
    telegram = _Telegram({"receipt 2": [blocked, blocked]})
    dispatcher = _dispatcher(db, telegram)
    gate = telegram.hold("copy 1")
    await _relayed(db, dispatcher, name=" 1")
    await _relayed(db, dispatcher, name=" 2")
    gate.set()
    await dispatcher.lanes_done()
    assert telegram.calls == ["copy 1", "receipt 1", "copy 2", "receipt 2", "receipt 2"]
    assert telegram.sent == ["copy 1", "receipt 1", "copy 2"]
    async with db.transaction() as session:
        found = (await session.execute(select(Outbox.chat_id, Outbox.status, Outbox.claimed_by)
                                       .order_by(Outbox.id))).all()
    assert [tuple(row) for row in found] == [
        (COACH, "sent", None), (FAMILY, "sent", None), (COACH, "sent", None),
        (FAMILY, "parked", None)]
    assert not dispatcher._held and not dispatcher._carried and not dispatcher._lanes


async def test_a_copy_of_a_run_tried_again_later_holds_back_the_rest_of_the_run(
        db: Database) -> None:
    """Copy 2 of a run gets a 502: it is tried again later, first in its lane. The copies
    claimed behind it (and their receipts) are let go, not sent before it; once it goes,
    its record claims them again, and the family's messages and receipts arrive in order."""
    telegram = _Telegram({"copy 2": [NetworkError("Bad Gateway")]})
    dispatcher = _dispatcher(db, telegram)
    gate = telegram.hold("copy 1")
    await _relayed(db, dispatcher, name=" 1")
    for n in (2, 3, 4):
        await _relayed(db, dispatcher, name=f" {n}")
    gate.set()
    await dispatcher.lanes_done()
    assert telegram.calls == ["copy 1", "receipt 1", "copy 2"]
    async with db.transaction() as session:
        found = (await session.execute(select(Outbox.status, Outbox.claimed_by)
                                       .order_by(Outbox.id))).all()
    assert [tuple(row) for row in found] == [("sent", None)] * 2 + [("pending", None)] * 6
    assert not dispatcher._held and not dispatcher._then and not dispatcher._ran

    dispatcher.clock.advance(timedelta(minutes=10))  # type: ignore[attr-defined]
    while await dispatcher.claim_and_send():
        pass
    sent = telegram.sent
    assert [text for text in sent if text.startswith("copy")] == [f"copy {n}" for n in range(1, 5)]
    assert [text for text in sent if text.startswith("receipt")] == \
        [f"receipt {n}" for n in range(1, 5)]
    assert all(sent.index(f"copy {n}") < sent.index(f"receipt {n}") for n in range(1, 5))
    assert not dispatcher._held and not dispatcher._then and not dispatcher._ran


async def test_a_copys_receipt_goes_while_the_next_copy_is_on_its_way(db: Database) -> None:
    """In a run the receipt of a copy does not hold up the next copy: it goes at the same time
    as that copy, to the family's chat, and is recorded with it (a lane sent copy, receipt,
    then recorded both, one after the other: about 5 ms of every message in a burst on
    PostgreSQL, bench/README.md). So it goes after its own copy's record, and a record still
    marks one copy and one receipt."""
    telegram = _Telegram()
    dispatcher, first = await _three_behind_copy_1(db, telegram)
    third = telegram.hold("copy 3")
    with Listened(db) as counted:
        first.set()
        await asyncio.wait_for(telegram.arrival("receipt 2").wait(), 10)
        # Copy 3 is on its way (held), and receipt 2 went meanwhile: it did not go first.
        assert telegram.begun[-2:] == ["copy 3", "receipt 2"], telegram.begun
        assert "copy 3" not in telegram.calls
        async with db.transaction() as session:  # copy 2 was recorded before it went
            status = (await session.execute(select(Outbox.status).where(
                Outbox.chat_id == COACH).order_by(Outbox.id))).scalars().all()
        assert status == ["sent", "sent", "pending"]
        third.set()
        await dispatcher.lanes_done()
    assert telegram.sent == ["copy 1", "receipt 1", "copy 2", "receipt 2", "copy 3",
                             "receipt 3"]
    async with db.transaction() as session:
        left = (await session.execute(select(Outbox.status, Outbox.claimed_by))).all()
    assert {tuple(row) for row in left} == {("sent", None)}
    assert len(_marks(counted)) == 3, _marks(counted)  # copy 2; copy 3 with receipt 2; 3's
    assert not dispatcher._held and not dispatcher._then and not dispatcher._unrecorded


async def test_a_receipt_sent_beside_a_copy_telegram_did_not_take_is_still_recorded(
        db: Database) -> None:
    """Copy 3 gets a 502 while receipt 2 goes beside it: copy 3 is tried again later (with
    its own receipt waiting for it), and receipt 2, which did arrive, is recorded when the
    lane ends, not sent a second time after its lease."""
    telegram = _Telegram({"copy 3": [NetworkError("Bad Gateway")]})
    dispatcher, first = await _three_behind_copy_1(db, telegram)
    first.set()
    await dispatcher.lanes_done()
    assert telegram.sent == ["copy 1", "receipt 1", "copy 2", "receipt 2"]
    async with db.transaction() as session:
        found = (await session.execute(select(Outbox.status, Outbox.claimed_by)
                                       .order_by(Outbox.id))).all()
    assert [tuple(row) for row in found] == [("sent", None)] * 4 + [("pending", None)] * 2
    assert not dispatcher._held and not dispatcher._then and not dispatcher._unrecorded


async def test_a_stopping_lane_does_not_wait_for_a_receipt_beside_its_copy(
        db: Database) -> None:
    """The bot stops while copy 3 and receipt 2 beside it have no answer yet: the lane stops
    without waiting for either, and every claim is let go (both go again after the restart;
    a reaction set twice changes nothing)."""
    telegram = _Telegram()
    telegram.hold("copy 3")  # never answered
    telegram.hold("receipt 2")
    dispatcher, first = await _three_behind_copy_1(db, telegram)
    first.set()
    for text in ("copy 3", "receipt 2"):
        await asyncio.wait_for(telegram.beginning(text).wait(), 10)
    await asyncio.wait_for(dispatcher.stop_lanes(), 10)
    assert telegram.sent == ["copy 1", "receipt 1", "copy 2"]
    async with db.transaction() as session:
        claimed = (await session.execute(select(Outbox.id).where(
            Outbox.claimed_by.is_not(None)))).all()
    assert not claimed
    assert not dispatcher._held and not dispatcher._unrecorded
