"""The planners that go family by family (nudges, digests, reminders, agendas) read everything
before they write anything, on SQLite and PostgreSQL. On SQLite the first write of a
transaction takes the database's one write lock until the commit: a planner that wrote for
its first family and then read for the others held every family's own message back for the
whole pass (seconds in the busiest evening at 300 coaches; past the busy time-out, "database
is locked", under load: bench/README.md). A batch of reminders also lets the event loop go
on while it is made."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.callbacks import CallbackSigner
from bot.jobs import reminders as reminder_job
from bot.jobs.held_messages import release_held
from bot.jobs.morning_agenda import MorningAgenda
from bot.jobs.nudges import UnansweredNudges
from bot.jobs.reminders import ReminderSender
from bot.settings import Settings
from storage.db import Database, Session
from storage.models import Appointment, Family, FamilyCoach, FamilyMessage, Outbox, Reminder
from storage.repos import reminders
from tests.caseload import joined_member, joined_staff
from tests.loop_turns import turns_at_each_call
from tests.storage.statements import recorded

AMS = ZoneInfo("Europe/Amsterdam")
MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=AMS)
TUESDAY_11 = datetime(2026, 11, 24, 11, 0, tzinfo=AMS)  # 9 working hours after MONDAY_10
FAMILIES = 4
SIGNER = CallbackSigner(b"k" * 32)


def _writes_after_reads(statements: list[str]) -> tuple[int, int]:
    """(the last read, the first write) by position; a write is an INSERT, UPDATE or DELETE
    (a claim's WITH … UPDATE too), a read any other SELECT. Not a read: the look-up of a
    family's key while its rows are sealed, which belongs to writing them (storage/
    sealing.py; on PostgreSQL it takes the family FOR SHARE, which must not be held through
    the pass: the families' own messages update their family)."""
    kinds = []
    for sql in statements:
        words = " ".join(sql.split()).upper()
        if words.startswith("SELECT KEY_ID FROM FAMILY"):
            kinds.append("sealing")
            continue
        write = words.startswith(("INSERT", "UPDATE", "DELETE")) or (
            words.startswith("WITH") and (" UPDATE " in words or " INSERT " in words))
        kinds.append("write" if write else "read" if words.startswith(("SELECT", "WITH"))
                     else "other")
    last_read = max((n for n, kind in enumerate(kinds) if kind == "read"), default=-1)
    first_write = min((n for n, kind in enumerate(kinds) if kind == "write"), default=-1)
    return last_read, first_write


async def _caseload(db: Database) -> list[Family]:
    """Coach Sanne with four families, each with one member."""
    since = MONDAY_10 - timedelta(days=30)
    async with db.transaction() as session:
        sanne = joined_staff(1, "Sanne", since, coach=True)
        session.add(joined_staff(2, "Carla", since, coordinator=True))
        session.add(sanne)
        found = [Family(alias=f"Gezin {n}", created_at=since) for n in range(FAMILIES)]
        session.add_all(found)
        await session.flush()
        for n, family in enumerate(found):
            session.add(FamilyCoach(family_id=family.id, staff_id=sanne.id, since=since))
            session.add(joined_member(family.id, 100 + n, f"Lid {n}", "moeder", since))
    return found


async def _reminders_due(db: Database, found: list[Family]) -> None:
    """Each family an appointment at noon, its reminder due at MONDAY_10."""
    async with db.transaction() as session:
        for family in found:
            appointment = Appointment(family_id=family.id, what="huisbezoek",
                                      starts_at=MONDAY_10 + timedelta(hours=2),
                                      status="planned", created_at=MONDAY_10,
                                      updated_at=MONDAY_10)
            session.add(appointment)
            await session.flush()
            reminders.add_planned(session, family.id, "hours_before", MONDAY_10,
                                  appointment_id=appointment.id)


async def _pass(db: Database, job: object, now: datetime) -> list[str]:
    async with db.transaction() as session:
        statements = await recorded(session)
        await job(session, now)  # type: ignore[operator]
    return statements


async def _sent(db: Database, purpose: str) -> int:
    async with db.transaction() as session:
        return len((await session.scalars(
            select(Outbox).where(Outbox.purpose == purpose))).all())


def _messages(session: Session, found: list[Family], **columns: object) -> None:
    for family in found:
        session.add(FamilyMessage(family_id=family.id, kind="text", body="x",
                                  received_at=MONDAY_10, **columns))


async def test_the_nudge_look_writes_only_after_it_read_every_family(db: Database) -> None:
    found = await _caseload(db)
    async with db.transaction() as session:
        _messages(session, found, status="delivered", delivered_at=MONDAY_10)
    last_read, first_write = _writes_after_reads(
        await _pass(db, UnansweredNudges(Settings()), TUESDAY_11))
    assert await _sent(db, "nudge") == FAMILIES
    assert first_write > last_read, (last_read, first_write)


async def test_the_digests_are_written_only_after_every_family_was_read(db: Database) -> None:
    found = await _caseload(db)
    async with db.transaction() as session:
        _messages(session, found, status="held", hold_until=MONDAY_10)
    last_read, first_write = _writes_after_reads(await _pass(db, release_held, MONDAY_10))
    assert await _sent(db, "digest") == 2 * FAMILIES  # a title and a copy each
    assert first_write > last_read, (last_read, first_write)


async def test_a_batch_of_reminders_is_written_only_after_it_was_read(db: Database) -> None:
    """(So it was already: a batch's subjects are read at once, before the loop.)"""
    await _reminders_due(db, await _caseload(db))
    last_read, first_write = _writes_after_reads(
        await _pass(db, ReminderSender(SIGNER), MONDAY_10))
    assert await _sent(db, "reminder") == FAMILIES
    async with db.transaction() as session:
        assert {r.status for r in await session.scalars(select(Reminder))} == {"sent"}
    assert first_write > last_read, (last_read, first_write)


async def test_the_agendas_are_claimed_only_after_their_snapshots_were_read(
        db: Database) -> None:
    await _caseload(db)
    opening = datetime(2026, 11, 23, 9, 0, 30, tzinfo=AMS)
    last_read, first_write = _writes_after_reads(
        await _pass(db, MorningAgenda(Settings(region="NL"), SIGNER), opening))
    assert await _sent(db, "agenda") == 1
    assert first_write > last_read, (last_read, first_write)


async def test_a_batch_of_reminders_lets_the_event_loop_go_on_between_slices(
        db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """Between slices of a batch other tasks run (a family's message during the evening's
    reminders): a batch of 200 made in one go held the loop about 50 ms (bench/README.md)."""
    await _reminders_due(db, await _caseload(db))
    monkeypatch.setattr(reminder_job, "SLICE", 2)
    async with turns_at_each_call(monkeypatch, reminder_job, "render") as seen, \
            db.transaction() as session:
        assert await ReminderSender(SIGNER)(session, MONDAY_10) == FAMILIES
    assert len(seen) == FAMILIES == 4
    # Within a slice nothing else ran; between the slices it did.
    assert seen[0] == seen[1] < seen[2] == seen[3]
    assert await _sent(db, "reminder") == FAMILIES
