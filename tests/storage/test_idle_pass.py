"""A planner pass first asks, in one SELECT, whether the outbox has rows to expire or cancel,
whether a held message is due and whether a reminder is: a pass with nothing to do is that
one statement and no commit (it was two UPDATEs and two empty claims, three commits, twice a
second: issue 16). Work that is there is done in the same pass as before; a planner that
cannot say whether it has work runs every pass."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

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
