"""People waiting go first (issue 16, busiest hour): a family's message queued after an evening's
reminders is claimed before them, and bulk sends hold at most BULK_LANES lanes, so it finds a
lane and few sends ahead of it at Telegram's limit."""

from __future__ import annotations

import asyncio
from collections import deque
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select, text, update

from bot.clock import ManualClock
from bot.outbox.dispatcher import BULK_LANES, LANES, Dispatcher
from storage.db import Database, make_engine, table_of
from storage.migrate import upgrade_async
from storage.models import Family, FamilyMessage, Outbox, RelayLink
from storage.repos import outbox as rows
from tests.faults.common import wait_until

NOW = datetime(2026, 11, 25, 18, 0, 30, tzinfo=UTC)
LEASE = timedelta(minutes=1)


async def _add(db: Database, chat: int, purpose: str, due: datetime,
               family: int | None = None, message: bool = False) -> int:
    """An outbox row; `message`: linked to a family message of its own (a family's copy)."""
    async with db.transaction() as session:
        message_id = None
        if message:
            assert family is not None
            held = FamilyMessage(family_id=family, kind="text", received_at=due,
                                 status="delivered")
            session.add(held)
            await session.flush()
            message_id = held.id
        row = rows.add_pending(session, chat_id=chat, method="sendMessage",
                               payload={"p": {"text": purpose}}, purpose=purpose, due_at=due,
                               created_at=due, link_family_id=family, link_member_id=None,
                               link_message_id=message_id, expires_at=None)
        await session.flush()
        return row.id


async def _digest(db: Database, chat: int, family: int, copies: int = 2,
                  due: datetime = NOW - timedelta(seconds=30)) -> list[int]:
    """A family's digest as bot/jobs/held_messages.py writes it: the title (naming the family,
    no message), then the copies."""
    return [await _add(db, chat, "digest", due, family=family),
            *[await _add(db, chat, "digest", due, family=family, message=True)
              for _ in range(copies)]]


async def _relay(db: Database, chat: int, family: int) -> int:
    return await _add(db, chat, "relay", NOW, family=family, message=True)


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


async def _families(db: Database) -> list[int]:
    async with db.transaction() as session:
        families = [Family(alias=f"Gezin {n}", created_at=NOW) for n in range(3)]
        session.add_all(families)
        await session.flush()
        return [family.id for family in families]


async def _claim(db: Database, limit: int, bulk: bool | None = None,
                 chat: int | None = None, continuing: bool = False) -> list[int]:
    async with db.transaction() as session:
        until = rows.lease_until(db.dialect, NOW, 60, LEASE)
        return [r.id for r in await rows.claim_heads(session, db.dialect, NOW, limit, "me",
                                                     until, chat, bulk=bulk,
                                                     continuing=continuing)]


async def _sent(db: Database, *row_ids: int) -> None:
    async with db.transaction() as session:
        for row_id in row_ids:
            # (Telegram gives every message of a chat its own id.)
            assert await rows.mark_sent(session, row_id, "me", NOW, row_id, 1)


async def test_a_family_message_goes_past_the_coachs_agenda_and_other_families_digests(
        db: Database) -> None:
    """The morning in a coach's chat: the agenda, then the digests of two families held
    overnight; a new message of a third family is not held up by them."""
    coach, early = 139, NOW - timedelta(seconds=30)
    one, two, three = await _families(db)
    for chat in range(100, 139):  # the other coaches' agendas
        await _add(db, chat, "agenda", early)
    agenda = await _add(db, coach, "agenda", early)
    digest_a = await _digest(db, coach, one)
    digest_b = await _digest(db, coach, two)
    relay = await _relay(db, coach, three)

    first = await _claim(db, 5, bulk=False)
    assert first == [relay]  # the agenda and digests it passed wait their turn as bulk
    assert agenda not in first and not set(first) & {*digest_a, *digest_b}


async def test_a_family_message_never_passes_its_own_familys_digest(db: Database) -> None:
    """It waits for its family's digest, and the digest goes first (with the people): past
    the coach's agenda and the digest of another family that had not begun."""
    coach, early = 139, NOW - timedelta(seconds=30)
    one, two, _ = await _families(db)
    agenda = await _add(db, coach, "agenda", early)
    other = await _digest(db, coach, two)
    title, held = await _digest(db, coach, one, copies=1)
    relay = await _relay(db, coach, one)

    assert await _claim(db, 5, bulk=False) == [title]  # with the people: one waits behind it
    assert await _claim(db, 5, bulk=True) == []  # nothing starts beside it in this chat
    await _sent(db, title)
    assert await _claim(db, 5) == [held]
    await _sent(db, held)
    assert await _claim(db, 5, bulk=False) == [relay]  # in the order the family wrote
    await _sent(db, relay)
    for row in (agenda, *other):  # then the coach's morning, in its order
        assert await _claim(db, 5) == [row]
        await _sent(db, row)


async def test_a_familys_bulk_rows_in_other_chats_do_not_make_a_coachs_morning_urgent(
        db: Database) -> None:
    """Whether a person waits for a bulk row is a question about one chat: family one's
    reminder to its own chat says nothing about the coach's agenda before family one's copy
    (the look-up once compared with any row of the outbox, and every agenda with a family
    copy behind it went with the people)."""
    coach, family_chat, early = 139, 140, NOW - timedelta(seconds=30)
    one, _, _ = await _families(db)
    await _add(db, family_chat, "reminder", early, family=one)
    await _add(db, coach, "agenda", early)
    relay = await _relay(db, coach, one)

    assert await _claim(db, 5, bulk=False) == [relay]  # it passes the agenda


async def test_people_keep_their_order_among_themselves(db: Database) -> None:
    coach, early = 139, NOW - timedelta(seconds=30)
    _, _, three = await _families(db)
    await _add(db, coach, "agenda", early)
    answer = await _add(db, coach, "answer", NOW)  # no family: the coach's own command
    relay = await _add(db, coach, "relay", NOW, family=three)
    first = await _claim(db, 5, bulk=False)
    assert answer in first and relay not in first  # one person's row at a time, in order
    await _sent(db, answer)
    assert relay in await _claim(db, 5, chat=coach)


async def test_bulk_rows_keep_their_order(db: Database) -> None:
    coach, early = 139, NOW - timedelta(seconds=30)
    one, _, _ = await _families(db)
    agenda = await _add(db, coach, "agenda", early)
    title, copy = await _digest(db, coach, one, copies=1)
    assert await _claim(db, 5) == [agenda]
    await _sent(db, agenda)
    assert await _claim(db, 5) == [title]
    await _sent(db, title)
    assert await _claim(db, 5) == [copy]


async def test_only_a_digest_that_has_begun_continues(db: Database) -> None:
    coach, early = 139, NOW - timedelta(seconds=30)
    one, _, three = await _families(db)
    title, *copies = await _digest(db, coach, one, due=early)
    relay = await _relay(db, coach, three)

    assert await _claim(db, 5, chat=coach, continuing=True) == []  # not begun
    # Two heads in one chat: the digest's title, and the relay that may pass it.
    assert sorted(await _claim(db, 5, chat=coach)) == [title, relay]
    await _sent(db, title, relay)
    assert await _claim(db, 5, chat=coach, continuing=True) == [copies[0]]
    await _sent(db, copies[0])
    assert await _claim(db, 5, chat=coach, continuing=True) == [copies[1]]
    await _sent(db, copies[1])
    assert await _claim(db, 5, chat=coach, continuing=True) == []  # it has ended


def _row(purpose: str, family: int | None = None, message: int | None = None) -> Any:
    return SimpleNamespace(chat_id=139, purpose=purpose, link_family_id=family,
                           link_message_id=message)


async def test_in_a_lane_a_persons_row_goes_before_bulk_rows_but_not_into_a_digest(
        db: Database) -> None:
    dispatcher = Dispatcher(db, bot=None, clock=ManualClock(NOW))  # type: ignore[arg-type]
    answer, title = _row("answer"), _row("digest", 2)
    dispatcher._lanes[139] = deque([answer, title])
    relay = _row("relay", 3)
    dispatcher._add_to_lane(relay)
    assert list(dispatcher._lanes[139]) == [answer, relay, title]
    reminder = _row("reminder", 3)
    dispatcher._add_to_lane(reminder)
    assert list(dispatcher._lanes[139])[-1] is reminder

    # A digest's next copy goes first, and a person's row after it.
    next_copy = _row("digest", 1, message=7)
    dispatcher._lanes[139] = deque([relay])
    dispatcher._add_to_lane(next_copy)
    assert list(dispatcher._lanes[139]) == [next_copy, relay]
    later = _row("relay", 3)
    dispatcher._add_to_lane(later)
    assert list(dispatcher._lanes[139]) == [next_copy, relay, later]


async def _recorded_then_next(dispatcher: Dispatcher, chat: int, bulk_now: bool) -> list[str]:
    """The lane of `chat` records its first row (a bulk one when `bulk_now`) and claims the
    chat's next row with it: which purposes it took."""
    dispatcher._lanes[chat] = deque()
    dispatcher._bulk_lane[chat] = bulk_now
    [first] = await dispatcher.claim(NOW, 1, chat)
    await dispatcher._record(first, {"message_id": 1})
    taken = [row.purpose for row in dispatcher._next.pop(chat)]
    del dispatcher._lanes[chat], dispatcher._bulk_lane[chat]
    return taken


async def test_a_lane_opened_for_a_person_takes_no_bulk_row_while_the_bulk_lanes_are_full(
        db: Database) -> None:
    """A family's copy opens a lane to its coach; behind it waits the coach's morning. While
    every bulk lane is taken, that lane ends after the copy (the morning waits for a bulk
    lane) instead of sending the whole morning at bulk pace as a lane for people: at 10 family
    messages a second every lane became such a lane, and new copies waited for a free one."""
    dispatcher = Dispatcher(db, bot=None, clock=ManualClock(NOW))  # type: ignore[arg-type]
    _, _, three = await _families(db)
    for coach in (139, 141):
        await _add(db, coach, "relay", NOW, family=three)
        await _add(db, coach, "agenda", NOW)
    await _add(db, 143, "nudge", NOW)
    await _add(db, 143, "agenda", NOW)

    dispatcher._bulk_lane.update({10_000 + n: True for n in range(BULK_LANES)})
    assert await _recorded_then_next(dispatcher, 139, bulk_now=False) == []
    # A lane sending bulk holds a bulk lane already: it goes on with the chat's bulk rows.
    assert await _recorded_then_next(dispatcher, 143, bulk_now=True) == ["agenda"]
    dispatcher._bulk_lane.pop(10_000)  # a bulk lane is free: the lane may go on with bulk
    assert await _recorded_then_next(dispatcher, 141, bulk_now=False) == ["agenda"]


async def test_lanes_whose_records_are_written_together_take_only_the_free_bulk_lanes(
        db: Database) -> None:
    """Two lanes for people (a family's copy to each of two coaches, each coach's agenda
    behind it) record their sends in one transaction while one bulk lane is free: one goes on
    with its coach's agenda, the other ends. Each record saw the same free bulk lane, and
    16-19 lanes sent bulk rows in the busiest morning while copies waited for a lane."""
    dispatcher = Dispatcher(db, bot=None, clock=ManualClock(NOW))  # type: ignore[arg-type]
    _, _, three = await _families(db)
    coaches = (139, 141)
    for coach in coaches:
        await _add(db, coach, "relay", NOW, family=three)
        await _add(db, coach, "agenda", NOW)
    dispatcher._bulk_lane.update({10_000 + n: True for n in range(BULK_LANES - 1)})
    copies = []
    for coach in coaches:
        dispatcher._lanes[coach] = deque()
        [copy] = await dispatcher.claim(NOW, 1, coach)
        copies.append(copy)
    assert sum(dispatcher._bulk_lane.values()) == BULK_LANES - 1  # the copies are people's

    async with dispatcher._recording:  # a record being written: the next two wait together
        records = [asyncio.create_task(dispatcher._record(copy, {"message_id": 1}))
                   for copy in copies]
        await wait_until(lambda: len(dispatcher._records) == len(copies), 10,
                         "both records waiting to be written")
    await asyncio.gather(*records)

    taken = {coach: [row.purpose for row in dispatcher._next.pop(coach)] for coach in coaches}
    assert sorted(taken.values()) == [[], ["agenda"]]
    assert sum(dispatcher._bulk_lane.values()) == BULK_LANES


async def test_a_claim_names_the_bulk_rows_a_person_waits_for(db: Database) -> None:
    """They go with the people at the limiter and in the lanes (dispatcher._goes_bulk), asked
    for with the people only (`bulk=False`) or with both kinds."""
    coach, early = 139, NOW - timedelta(seconds=30)
    one, _, _ = await _families(db)
    await _add(db, coach, "agenda", early)  # its digest goes first: it waits for none of it
    title, copy = await _digest(db, coach, one, copies=1)
    await _relay(db, coach, one)  # waits for its family's digest
    reminder = await _add(db, 140, "reminder", early)  # nobody waits for it
    until = rows.lease_until(db.dialect, NOW, 60, LEASE)

    async def claim(bulk: bool | None, chat: int | None = None) -> tuple[list[int], set[int]]:
        ahead: set[int] = set()
        async with db.transaction() as session:
            found = await rows.claim_heads(session, db.dialect, NOW, 5, "me", until, chat,
                                           bulk=bulk, ahead=ahead)
        return [r.id for r in found], ahead

    assert await claim(bulk=False) == ([title], {title})
    assert await claim(bulk=True) == ([reminder], set())  # not the agenda: the digest is on
    await _sent(db, title)
    assert await claim(bulk=None, chat=coach) == ([copy], {copy})


async def test_a_handlers_wake_looks_for_people_only_until_bulk_rows_may_have_come(
        db: Database) -> None:
    """Bulk rows come from planner passes and with the clock, not from handlers: at a handler's
    wake the main loop claims the people's rows only (one statement fewer for every message),
    and looks for bulk rows after a pass planned some, after a look that filled its room, and
    else every poll_seconds (another instance's planners, rows that fell due)."""
    dispatcher = Dispatcher(db, bot=None, clock=ManualClock(NOW),  # type: ignore[arg-type]
                            poll_seconds=3600)
    opened: list[Any] = []

    def add_to_lane(row: Any) -> None:  # as _add_to_lane keeps them, without sending
        opened.append(row)
        dispatcher._lanes[row.chat_id] = None  # type: ignore[assignment]
        dispatcher._bulk_lane[row.chat_id] = dispatcher._goes_bulk(row)

    dispatcher._add_to_lane = add_to_lane  # type: ignore[method-assign]

    async def claim() -> list[str]:
        before = len(opened)
        await dispatcher.claim_into_lanes(NOW, bulk=dispatcher._bulk_may_wait())
        return sorted(row.purpose for row in opened[before:])

    await _add(db, 100, "reminder", NOW)
    assert await claim() == ["reminder"]  # at start: anything may wait
    await _add(db, 101, "reminder", NOW)  # another instance planned it
    await _add(db, 7, "relay", NOW)  # a handler wrote it and woke the loop
    assert await claim() == ["relay"]
    dispatcher._bulk_looked -= 3600  # poll_seconds later
    assert await claim() == ["reminder"]

    async def planner(session: Any, now: datetime) -> int:
        row = rows.add_pending(session, chat_id=102, method="sendMessage",
                               payload={"p": {"text": "x"}}, purpose="agenda", due_at=now,
                               created_at=now, link_family_id=None, link_member_id=None,
                               link_message_id=None, expires_at=None)
        session.add(row)
        return 1

    dispatcher.planners.append(planner)
    assert await claim() == []
    dispatcher._start_planning(NOW)
    assert dispatcher._planning is not None
    await dispatcher._planning
    assert await claim() == ["agenda"]  # the pass that planned it says so

    dispatcher.capacity = len(opened) + BULK_LANES
    for chat in range(200, 200 + BULK_LANES + 1):
        await _add(db, chat, "reminder", NOW)
    dispatcher._bulk_looked -= 3600
    assert await claim() == ["reminder"] * (BULK_LANES - 3)  # three bulk lanes are taken
    assert dispatcher._more_may_wait  # the look filled its room
    dispatcher.capacity += 1
    assert await claim() == []  # no bulk lane free: it waits, and the loop knows
    assert dispatcher._more_may_wait and dispatcher._bulk_may_wait()


async def test_a_lane_that_ends_wakes_the_main_loop_only_when_rows_may_wait(
        db: Database) -> None:
    """A lane that ends frees a lane: the main loop claims again then only if the last claims
    may have left rows waiting (a full room, bulk rows left for a bulk lane); a claim that
    finds nothing cost a commit for every send."""
    dispatcher = Dispatcher(db, bot=None, clock=ManualClock(NOW))  # type: ignore[arg-type]
    sent: list[int] = []

    async def send_one(row: Any) -> bool:
        sent.append(row.id)
        return True

    dispatcher.send_one = send_one  # type: ignore[method-assign]
    first = await _add(db, 7, "relay", NOW)
    dispatcher._wake.clear()
    assert await dispatcher.claim_into_lanes(NOW) == 1
    await dispatcher.lanes_done()
    assert sent == [first] and not dispatcher._wake.is_set()

    dispatcher.capacity = 1
    second, third = await _add(db, 8, "relay", NOW), await _add(db, 9, "answer", NOW)
    assert await dispatcher.claim_into_lanes(NOW) == 1
    await dispatcher.lanes_done()
    assert dispatcher._wake.is_set()  # the other waits for a lane
    dispatcher._wake.clear()
    dispatcher.capacity = LANES  # room left over: nothing else waits
    assert await dispatcher.claim_into_lanes(NOW) == 1
    await dispatcher.lanes_done()
    assert sorted(sent) == sorted([first, second, third])
    assert not dispatcher._wake.is_set()


async def test_a_pass_that_plans_while_the_loop_looks_for_bulk_rows_is_not_missed(
        db: Database, monkeypatch: Any) -> None:
    dispatcher = Dispatcher(db, bot=None, clock=ManualClock(NOW),  # type: ignore[arg-type]
                            poll_seconds=3600)
    dispatcher._add_to_lane = lambda row: None  # type: ignore[method-assign]
    claim_heads = rows.claim_heads

    async def planned_meanwhile(*args: Any, **kwargs: Any) -> Any:
        if kwargs.get("bulk"):  # a planner's pass commits its rows just after this look began
            dispatcher._passes_that_planned += 1
        return await claim_heads(*args, **kwargs)

    monkeypatch.setattr(rows, "claim_heads", planned_meanwhile)
    await dispatcher.claim_into_lanes(NOW)
    assert dispatcher._bulk_may_wait()  # its rows may not have been seen: look again
    monkeypatch.setattr(rows, "claim_heads", claim_heads)
    await dispatcher.claim_into_lanes(NOW)
    assert not dispatcher._bulk_may_wait()


async def test_a_receipt_is_claimed_as_soon_as_its_copy_is_recorded(db: Database) -> None:
    """A receipt waits for its copy; the handler names the copy (`wake(awaited=…)`), and the
    copy's record claims the receipt in its own transaction: no second claim, no wake. Without
    the hint the main loop finds it only at its next poll_seconds pass (the lane's end wakes it
    only when rows may wait for a lane)."""
    dispatcher = Dispatcher(db, bot=None, clock=ManualClock(NOW),  # type: ignore[arg-type]
                            poll_seconds=3600)
    # As the running bot knows within its first second (share_the_limit): it sends alone, so
    # a row whose claim found nothing else in its chat leaves nothing behind to wake for.
    dispatcher._instances = 1
    sent: list[str] = []

    async def send_one(row: Any) -> bool:
        sent.append(row.purpose)
        await dispatcher._record(row, {"message_id": len(sent)})
        return True

    dispatcher.send_one = send_one  # type: ignore[method-assign]
    assert await dispatcher.claim_into_lanes(NOW) == 0  # no bulk row waits
    for awaited in (False, True):
        async with db.transaction() as session:
            copy = rows.add_pending(session, chat_id=7, method="sendMessage",
                                    payload={"p": {"text": "x"}}, purpose="relay", due_at=NOW,
                                    created_at=NOW, link_family_id=None, link_member_id=None,
                                    link_message_id=None)
            rows.add_pending(session, chat_id=8, method="sendMessage",
                             payload={"p": {"text": "✓"}}, purpose="receipt", due_at=NOW,
                             created_at=NOW, link_family_id=None, link_member_id=None,
                             link_message_id=None, awaited=copy)
        dispatcher.wake(plan=False, awaited=[copy.id] if awaited else [])
        dispatcher._wake.clear()
        sent.clear()
        assert await dispatcher.claim_into_lanes(NOW, bulk=False) == 1
        await dispatcher.lanes_done()
        assert not dispatcher._wake.is_set()
        if awaited:  # claimed by the copy's record
            assert sent == ["relay", "receipt"]
            continue
        assert sent == ["relay"]  # found at the main loop's next pass
        assert await dispatcher.claim_into_lanes(NOW, bulk=False) == 1
        await dispatcher.lanes_done()
        assert sent == ["relay", "receipt"]


async def test_a_digest_that_has_begun_goes_on_before_another_familys_digest_goes_first(
        db: Database) -> None:
    """Family two's digest began before anyone of family one wrote: it stays in one piece,
    then family one's digest goes first (past the agenda), then its message."""
    coach, early = 139, NOW - timedelta(seconds=30)
    one, two, _ = await _families(db)
    other_title, *other_copies = await _digest(db, coach, two)
    agenda = await _add(db, coach, "agenda", early)
    title, held = await _digest(db, coach, one, copies=1)
    assert await _claim(db, 5) == [other_title]
    await _sent(db, other_title)
    relay = await _relay(db, coach, one)

    for row in (*other_copies, title, held):
        assert await _claim(db, 5) == [row]
        assert await _claim(db, 5) == []  # one at a time in this chat
        await _sent(db, row)
    assert sorted(await _claim(db, 5)) == [agenda, relay]  # the person passes the agenda


async def test_a_digest_that_went_first_goes_on_when_nobody_waits_behind_it_anymore(
        db: Database) -> None:
    """The message it went first for is gone meanwhile (the member left): the lane that sent
    its title still finds the digest's next copies (a claim of the next copy looks past the
    rows the digest passed), so it ends in one piece; then the coach's other rows, in their
    order. (The main loop may claim the next of those meanwhile: the lane sends the copies
    before it, test_a_lane_finishes_the_digest_it_began_….)"""
    coach, early = 139, NOW - timedelta(seconds=30)
    one, two, _ = await _families(db)
    agenda = await _add(db, coach, "agenda", early)
    other = await _digest(db, coach, two, copies=1)
    title, *held = await _digest(db, coach, one)
    relay = await _relay(db, coach, one)
    assert await _claim(db, 5) == [title]
    await _sent(db, title)
    async with db.transaction() as session:
        await session.execute(update(Outbox).where(Outbox.id == relay)
                              .values(status="cancelled"))

    for copy in held:
        assert await _claim(db, 5, chat=coach, continuing=True) == [copy]
        await _sent(db, copy)
    for row in (agenda, *other):
        assert await _claim(db, 5) == [row]
        await _sent(db, row)


async def test_of_two_families_waiting_behind_their_digests_the_earlier_digest_goes_first(
        db: Database) -> None:
    coach, early = 139, NOW - timedelta(seconds=30)
    one, two, three = await _families(db)
    await _add(db, coach, "agenda", early)
    first = await _digest(db, coach, one, copies=1)
    await _digest(db, coach, three, copies=1)
    second = await _digest(db, coach, two, copies=1)
    relays = [await _relay(db, coach, two), await _relay(db, coach, one)]

    # The people's claim: the digests that go first, then the messages in their order.
    for row in (*first, *second, *relays):
        assert await _claim(db, 5, bulk=False) == [row]
        await _sent(db, row)


async def test_two_claims_at_once_never_start_two_digests_in_one_chat(db: Database) -> None:
    """One instance claims the people's rows, another (or the same) the bulk rows, as the
    main loop does: the digest that goes first is claimed, and the bulk claim takes nothing of
    its chat, before, during or after its title is sent (until the digest has ended)."""
    coach = 139
    one, two, _ = await _families(db)
    other = await _digest(db, coach, two, copies=1)
    title, held = await _digest(db, coach, one, copies=1)
    relay = await _relay(db, coach, one)

    assert await _claim(db, 5, bulk=True) == []  # family two's digest would start beside it
    assert await _claim(db, 5, bulk=False) == [title]
    assert await _claim(db, 5, bulk=True) == []
    await _sent(db, title)
    assert await _claim(db, 5, bulk=True) == []
    assert await _claim(db, 5, bulk=False) == [held]  # its digest goes on, with the people
    assert await _claim(db, 5, bulk=True) == []
    await _sent(db, held)
    assert await _claim(db, 5, bulk=False) == [relay]
    assert await _claim(db, 5, bulk=True) == [other[0]]  # the digest has ended


async def test_a_digest_title_from_before_titles_named_their_family_gets_its_family(
        db_url: str) -> None:
    """Migration 0011: titles waiting in the outbox take the family of the copies that
    follow them in their chat (sent rows are left as they are)."""
    await upgrade_async(db_url, "0010")
    engine = make_engine(db_url)
    at = NOW.replace(tzinfo=None)  # raw SQL: the column type's own conversion is not there
    try:
        async with engine.begin() as connection:
            await connection.execute(text(
                "INSERT INTO family (id, alias, region, timezone, open_on_holidays,"
                " oncall_agreed, active, created_at) VALUES"
                " (1, 'a', 'NL', 'Europe/Amsterdam', false, false, true, :t),"
                " (2, 'b', 'NL', 'Europe/Amsterdam', false, false, true, :t)"), {"t": at})
            await connection.execute(text(
                "INSERT INTO family_message (id, family_id, kind, urgent, received_at, status)"
                " VALUES (1, 1, 'text', false, :t, 'delivered'),"
                " (2, 2, 'text', false, :t, 'delivered')"), {"t": at})
            for row_id, chat, family, message, status in (
                    (1, 139, None, None, "pending"), (2, 139, 1, 1, "pending"),
                    (3, 139, None, None, "pending"), (4, 139, 2, 2, "pending"),
                    (5, 141, None, None, "sent"), (6, 141, 2, 2, "sent")):
                await connection.execute(text(
                    "INSERT INTO outbox (id, chat_id, method, purpose, due_at, created_at,"
                    " status, attempts, link_family_id, link_message_id) VALUES (:id, :chat,"
                    " 'sendMessage', 'digest', :t, :t, :status, 0, :family, :message)"),
                    {"id": row_id, "chat": chat, "t": at, "status": status,
                     "family": family, "message": message})
        await upgrade_async(db_url)
        async with engine.connect() as connection:
            found = dict((await connection.execute(text(
                "SELECT id, link_family_id FROM outbox ORDER BY id"))).all())
    finally:
        await engine.dispose()
    assert found == {1: 1, 2: 1, 3: 2, 4: 2, 5: None, 6: 2}


class _NoPace:
    async def acquire(self, chat_id: int | None, bulk: bool = False) -> None:
        return None


async def test_a_lane_finishes_the_digest_it_began_when_another_digests_title_was_claimed_beside_it(
        db: Database) -> None:
    """Two claims can cross (two transactions on PostgreSQL: a lane's record and the main
    loop): family two's title is claimed, and family one's title too, because one of family
    one wrote at that moment. The lane sends family two's digest to its end first."""
    coach = 139
    one, two, _ = await _families(db)
    first = await _digest(db, coach, two)
    second = await _digest(db, coach, one, copies=1)
    dispatcher = Dispatcher(db, bot=None, clock=ManualClock(NOW),  # type: ignore[arg-type]
                            limiter=_NoPace())  # type: ignore[arg-type]
    sent: list[int] = []

    async def call(*_args: Any) -> dict[str, int]:
        sent.append(len(sent) + 1)
        return {"message_id": len(sent)}

    dispatcher._call = call  # type: ignore[method-assign]
    [title] = await dispatcher.claim(NOW, 1)
    assert title.id == first[0]
    relay = await _relay(db, coach, one)
    async with db.transaction() as session:  # the crossing claim
        await session.execute(update(Outbox).where(Outbox.id == second[0]).values(
            claimed_by=dispatcher.instance, claimed_until=NOW + LEASE))
        crossed = await session.run_sync(lambda s: Outbox(**s.connection().execute(
            select(table_of(Outbox)).where(table_of(Outbox).c.id == second[0]))
            .mappings().one()))
    dispatcher._took([crossed])
    dispatcher._add_to_lane(title)
    dispatcher._add_to_lane(crossed)
    await dispatcher.lanes_done()

    async with db.transaction() as session:
        order = (await session.scalars(select(Outbox.id).where(Outbox.status == "sent")
                                       .order_by(Outbox.sent_message_id))).all()
        linked = set((await session.scalars(select(RelayLink.message_id))).all())
    assert order == [*first, *second, relay]
    # A reply to a copy finds its family; a title names its family only for the order.
    assert linked == {order.index(row) + 1 for row in (*first[1:], *second[1:], relay)}
