"""What an idle bot costs the database. A planner pass first asks, in one SELECT, whether the
outbox has rows to expire or cancel, whether a held message is due and whether a reminder
is: a pass with nothing to do is that one statement and no commit (it was two UPDATEs and two
empty claims, three commits, twice a second: issue 16). Work that is there is done in the
same pass as before; a planner that cannot say whether it has work runs every pass. The
main loop's claim when nothing asked for one (every poll_seconds, and the scheduler's tick
every second, which wakes it for the planners) is asked first, by a read of the claim's own
condition, whether it would find anything: no claim, no commit, when not."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from bot.callbacks import CallbackSigner
from bot.clock import ManualClock
from bot.jobs.held_messages import HeldRelease
from bot.jobs.reminders import ReminderSender
from bot.outbox.dispatcher import Dispatcher
from storage.db import Database, Session
from storage.models import Appointment, Family, FamilyCoach, FamilyMessage, Outbox
from storage.repos import outbox as rows
from storage.repos import reminders
from tests.caseload import joined_member, joined_staff
from tests.storage.statements import Listened
from tests.storage.test_outbox_lanes import NOW as AT
from tests.storage.test_outbox_lanes import A, B, add, claim

AMS = ZoneInfo("Europe/Amsterdam")
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=AMS)  # a Monday morning
SIGNER = CallbackSigner(b"k" * 32)


def _dispatcher(db: Database) -> Dispatcher:
    dispatcher = Dispatcher(db, bot=None, clock=ManualClock(NOW))  # type: ignore[arg-type]
    dispatcher.planners = [HeldRelease(), ReminderSender(SIGNER)]
    return dispatcher


async def _family(db: Database) -> Family:
    since = NOW - timedelta(days=30)
    async with db.transaction() as session:
        sanne = joined_staff(1, "Sanne", since, coach=True)
        session.add(sanne)
        family = Family(alias="Gezin Jansen", created_at=since)
        session.add(family)
        await session.flush()
        session.add(FamilyCoach(family_id=family.id, staff_id=sanne.id, since=since))
        session.add(joined_member(family.id, 100, "Marieke", "moeder", since))
    return family


async def _purposes(db: Database) -> dict[str, str]:
    async with db.transaction() as session:
        return {purpose: status for purpose, status in await session.execute(
            select(Outbox.purpose, Outbox.status).order_by(Outbox.id))}


def _row(session: Session, purpose: str, *, expires_at: datetime | None = None,
         awaited: Outbox | None = None) -> Outbox:
    return rows.add_pending(session, chat_id=300, method="sendMessage",
                            payload={"p": {"text": "x"}}, purpose=purpose, due_at=NOW,
                            created_at=NOW, link_family_id=None, link_member_id=None,
                            link_message_id=None, expires_at=expires_at, awaited=awaited)


async def test_a_pass_with_nothing_to_do_is_one_select_and_no_commit(db: Database) -> None:
    await _family(db)
    dispatcher = _dispatcher(db)
    await dispatcher._plan_pass(NOW)  # (the first also refreshes the outbox's statistics)
    with Listened(db) as listened:
        assert await dispatcher._plan_pass(NOW + timedelta(seconds=1)) == 0
    assert len(listened.statements) == 1, listened.statements
    assert listened.statements[0].startswith("SELECT")
    assert listened.commits == 0


async def test_a_held_message_that_is_due_is_released_in_the_pass(db: Database) -> None:
    family = await _family(db)
    async with db.transaction() as session:
        session.add(FamilyMessage(family_id=family.id, kind="text", body="x",
                                  received_at=NOW - timedelta(hours=12), status="held",
                                  hold_until=NOW))
    assert await _dispatcher(db)._plan_pass(NOW) == 1
    assert (await _purposes(db)).get("digest") == "pending"


async def test_a_reminder_that_is_due_is_sent_in_the_pass(db: Database) -> None:
    family = await _family(db)
    async with db.transaction() as session:
        appointment = Appointment(family_id=family.id, what="huisbezoek",
                                  starts_at=NOW + timedelta(hours=2), status="planned",
                                  created_at=NOW, updated_at=NOW)
        session.add(appointment)
        await session.flush()
        reminders.add_planned(session, family.id, "hours_before", NOW,
                              appointment_id=appointment.id)
    assert await _dispatcher(db)._plan_pass(NOW) == 1
    assert (await _purposes(db)).get("reminder") == "pending"


async def test_an_expired_row_expires_and_a_receipt_of_a_failed_copy_is_cancelled(
        db: Database) -> None:
    async with db.transaction() as session:
        _row(session, "reminder", expires_at=NOW - timedelta(minutes=1))
    await _dispatcher(db)._plan_pass(NOW)
    assert await _purposes(db) == {"reminder": "expired"}
    async with db.transaction() as session:
        copy = _row(session, "relay")
        _row(session, "receipt", awaited=copy)
        await session.flush()
        copy.status = "failed"
    await _dispatcher(db)._plan_pass(NOW)
    assert (await _purposes(db))["receipt"] == "cancelled"


async def test_a_planner_that_cannot_say_runs_every_pass(db: Database) -> None:
    passes: list[datetime] = []

    async def planner(_session: Session, now: datetime) -> int:
        passes.append(now)
        return 0

    dispatcher = _dispatcher(db)
    dispatcher.planners.append(planner)
    await dispatcher._plan_pass(NOW)
    await dispatcher._plan_pass(NOW + timedelta(seconds=1))
    assert passes == [NOW, NOW + timedelta(seconds=1)]


async def _claimable(db: Database, now: datetime = AT, instance: str = "me") -> bool:
    return await rows.anything_claimable(db, now, instance)


async def test_a_claim_is_looked_for_only_where_a_claim_would_find_one(db: Database) -> None:
    assert not await _claimable(db)
    later = await add(db, A, "later", due=AT + timedelta(minutes=5))
    assert not await _claimable(db)  # not due yet
    assert await _claimable(db, AT + timedelta(minutes=5))
    copy = await add(db, B, "copy")
    receipt = await add(db, A, "✓", awaited=copy)
    assert await _claimable(db)
    assert await claim(db) == [copy]
    # The receipt waits for its copy, the later row is not due, the copy is ours: nothing.
    assert not await _claimable(db)
    await add(db, B, "behind the copy")
    assert not await _claimable(db)  # its chat's first row is out with a lane
    assert await _claimable(db, instance="other") is False  # (ours, and not given up)
    async with db.transaction() as session:
        await session.execute(update(Outbox).where(Outbox.id == copy).values(
            claimed_until=datetime(2000, 1, 1, tzinfo=UTC)))
    assert await _claimable(db, instance="other")  # a claim past its lease is free to take
    assert {later, receipt} - set(await claim(db, now=AT + timedelta(minutes=5))) == {receipt}


async def test_a_pass_nothing_woke_claims_nothing_and_commits_nothing(db: Database) -> None:
    dispatcher = _dispatcher(db)
    dispatcher.planners = []
    dispatcher._plan_now, dispatcher._planned_at = False, time.monotonic()  # (none due here)
    sent: list[int] = []

    async def call(_method: str, chat_id: int, _params: dict[str, object]) -> dict[str, int]:
        sent.append(chat_id)
        return {"message_id": len(sent)}

    dispatcher._call = call  # type: ignore[method-assign]
    with Listened(db) as listened:
        assert await dispatcher.step(look_first=True) == 0
    assert len(listened.statements) == 1, listened.statements
    assert listened.statements[0].startswith("SELECT outbox.id")
    assert listened.commits == 0
    await add(db, A, "due", due=datetime(2026, 11, 23, 8, 0, tzinfo=UTC))
    with Listened(db) as listened:
        assert await dispatcher.step(look_first=True) == 1
    assert listened.claims(), listened.statements  # the look found it, and the claim took it
    await dispatcher.lanes_done()
    assert sent == [A]


async def test_the_schedulers_tick_wakes_the_planners_without_a_claim(db: Database) -> None:
    """The main loop as `gezinslijn run` runs it: woken every second by the scheduler's tick
    (`wake(claim=False)`, bot/app.py), it looks before it claims; a handler's wake claims at
    once. Each tick was a claim that found nothing and a commit: 0.04 commits a relayed
    message in a burst, one a second all night (bench/README.md)."""
    dispatcher = _dispatcher(db)
    dispatcher.planners = []
    dispatcher.poll_seconds = 3600.0  # only wakes run a pass here
    await dispatcher._plan_pass(NOW)  # (the first also refreshes the outbox's statistics)
    sent: list[int] = []
    passes: asyncio.Queue[bool] = asyncio.Queue()  # each pass: whether it looked first
    step = dispatcher.step

    async def call(_method: str, chat_id: int, _params: dict[str, object]) -> dict[str, int]:
        sent.append(chat_id)
        return {"message_id": len(sent)}

    async def counted(look_first: bool = False) -> int:
        claimed = await step(look_first)
        passes.put_nowait(look_first)
        return claimed

    dispatcher._call = call  # type: ignore[method-assign]
    dispatcher.step = counted  # type: ignore[method-assign]
    stop = asyncio.Event()
    running = asyncio.create_task(dispatcher.run(stop))
    try:
        assert await passes.get() is False  # the first pass claims: rows may wait from before
        for _ in range(3):
            with Listened(db) as listened:
                dispatcher.wake(claim=False)  # the tick
                assert await passes.get() is True
            assert listened.claims() == [] and listened.commits == 0, listened.statements
        await add(db, A, "due", due=datetime(2026, 11, 23, 8, 0, tzinfo=UTC))
        dispatcher.wake(claim=False)  # a row no wake named: the tick's look finds it
        assert await passes.get() is True
        await dispatcher.lanes_done()
        assert sent == [A]
        await add(db, B, "written", due=datetime(2026, 11, 23, 8, 0, tzinfo=UTC))
        with Listened(db) as listened:
            dispatcher.wake(plan=False)  # a handler's row: claimed without a look
            assert await passes.get() is False
        assert listened.claims() and not listened.statements[0].startswith("SELECT outbox.id")
        await dispatcher.lanes_done()
        assert sent == [A, B]
    finally:
        stop.set()
        dispatcher.wake()
        await running
        await dispatcher.close()  # (PostgreSQL: its liveness lock's connection)
