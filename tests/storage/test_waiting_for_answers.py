"""What waits for a coach's answer (issue 14), on SQLite and PostgreSQL: an answer marks only
what the coach has seen; a nudge goes to whoever reads the family's messages now; the agenda's
snapshot lists what waits; a coach's request for help stays open for the overview."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, event, select

from bot.jobs.nudges import UnansweredNudges
from bot.settings import Settings
from storage.db import Database, Session
from storage.models import (
    Absence,
    Family,
    FamilyCoach,
    FamilyMessage,
    Outbox,
    Staff,
)
from storage.repos import help_requests, messages
from storage.repos.agenda import snapshot
from tests.caseload import joined_staff

AMS = ZoneInfo("Europe/Amsterdam")
MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=AMS)
TUESDAY_11 = datetime(2026, 11, 24, 11, 0, tzinfo=AMS)  # 9 working hours after MONDAY_10
CASELOAD = {"Gezin J.": ("Sanne",), "Gezin K.": ("Anna",), "Gezin D.": ("Sanne", "Anna")}


class World:
    """Carla (coordinator), coaches Sanne, Anna and Pieter; Gezin J. coached by Sanne, Gezin K.
    by Anna, Gezin D. by the duo Sanne and Anna."""

    def __init__(self) -> None:
        self.staff: dict[str, Staff] = {}
        self.family: dict[str, Family] = {}

    async def build(self, session: Session) -> World:
        for chat, name in enumerate(("Carla", "Sanne", "Anna", "Pieter"), start=1):
            person = joined_staff(chat, name, MONDAY_10 - timedelta(days=30),
                                  coordinator=name == "Carla", coach=name != "Carla")
            session.add(person)
            self.staff[name] = person
        for alias in CASELOAD:
            family = Family(alias=alias, created_at=MONDAY_10 - timedelta(days=30))
            session.add(family)
            self.family[alias] = family
        await session.flush()
        for alias, coaches in CASELOAD.items():
            for name in coaches:
                session.add(FamilyCoach(family_id=self.family[alias].id,
                                        staff_id=self.staff[name].id,
                                        since=MONDAY_10 - timedelta(days=30)))
        await session.flush()
        return self

    def message(self, session: Session, alias: str, *, status: str = "delivered",
                at: datetime = MONDAY_10, **extra: Any) -> FamilyMessage:
        row = FamilyMessage(family_id=self.family[alias].id, kind=extra.pop("kind", "text"),
                            body="x", received_at=at, status=status,
                            delivered_at=at if status == "delivered" else None, **extra)
        session.add(row)
        return row

    def chat(self, name: str) -> int:
        chat_id = self.staff[name].chat_id
        assert chat_id is not None
        return chat_id

    def away(self, session: Session, name: str, substitute: str | None) -> None:
        session.add(Absence(staff_id=self.staff[name].id,
                            starts_at=MONDAY_10 - timedelta(days=1),
                            ends_at=MONDAY_10 + timedelta(days=10),
                            substitute_id=self.staff[substitute].id if substitute else None,
                            created_at=MONDAY_10 - timedelta(days=2)))


# An answer marks what the coach has seen ------------------------------------------------------
async def test_an_answer_marks_only_what_reached_the_coach(db: Database) -> None:
    answer_at = MONDAY_10 + timedelta(hours=2)
    async with db.transaction() as session:
        world = await World().build(session)
        seen = world.message(session, "Gezin J.")
        signal = world.message(session, "Gezin J.", kind="signal")
        held = world.message(session, "Gezin J.", status="held",
                             hold_until=MONDAY_10 + timedelta(days=1))
        waiting = world.message(session, "Gezin J.", status="waiting")
        later = world.message(session, "Gezin J.", at=answer_at + timedelta(minutes=1))
        other = world.message(session, "Gezin K.")
        await session.flush()
        await messages.mark_answered(session, world.family["Gezin J."].id, answer_at)
    async with db.transaction() as session:
        answered = {row.id: row.answered_at for row in await session.scalars(
            select(FamilyMessage))}
    assert answered[seen.id] == answered[signal.id] == answer_at
    assert answered[held.id] is None and answered[waiting.id] is None
    assert answered[later.id] is None and answered[other.id] is None


# Nudges go to whoever reads the family's messages now -----------------------------------------
async def _nudge(db: Database, now: datetime) -> dict[int, list[str]]:
    """Run the nudge job at `now`; the nudges it wrote, per chat."""
    async with db.transaction() as session:
        await UnansweredNudges(Settings())(session, now)
    async with db.transaction() as session:
        rows = (await session.scalars(select(Outbox).where(Outbox.purpose == "nudge"))).all()
        await session.execute(delete(Outbox))
    sent: dict[int, list[str]] = {}
    for row in rows:
        assert row.payload is not None
        sent.setdefault(row.chat_id, []).append(row.payload["p"]["text"])
    return sent


async def test_a_duo_nudges_the_coach_who_is_there(db: Database) -> None:
    async with db.transaction() as session:
        world = await World().build(session)
        world.message(session, "Gezin D.")
        world.away(session, "Sanne", "Pieter")
    sent = await _nudge(db, TUESDAY_11)
    anna = world.chat("Anna")
    assert list(sent) == [anna]
    assert sent[anna] == ["⏳ Gezin D. wacht op je antwoord (1 bericht, 9 werkuren)."]


async def test_everyone_away_each_stand_in_is_nudged_for_whom(db: Database) -> None:
    async with db.transaction() as session:
        world = await World().build(session)
        world.message(session, "Gezin D.")
        world.away(session, "Sanne", "Pieter")
        world.away(session, "Anna", None)  # the coordinator stands in
    sent = await _nudge(db, TUESDAY_11)
    pieter, carla = world.chat("Pieter"), world.chat("Carla")
    assert sorted(sent) == sorted([pieter, carla])
    assert sent[pieter][0].endswith("\nJe vervangt nu Sanne.")
    assert sent[carla][0].endswith("\nJe vervangt nu Anna.")


async def test_escalation_names_the_substitute(db: Database) -> None:
    async with db.transaction() as session:
        world = await World().build(session)
        world.message(session, "Gezin J.")
        world.away(session, "Sanne", "Pieter")
    thursday = datetime(2026, 11, 26, 11, 0, tzinfo=AMS)  # 25 working hours
    sent = await _nudge(db, thursday)
    assert sent == {world.chat("Carla"): [
        "⏳ Gezin J. wacht al 25 werkuren op antwoord (Pieter vervangt Sanne)."]}


async def test_out_of_hours_the_nudge_waits_for_the_opening(db: Database) -> None:
    async with db.transaction() as session:
        world = await World().build(session)
        world.message(session, "Gezin J.")
    # The bot was down all Tuesday: at 20:00 nobody is pinged; Wednesday 09:00 Sanne is.
    assert await _nudge(db, datetime(2026, 11, 24, 20, 0, tzinfo=AMS)) == {}
    sent = await _nudge(db, datetime(2026, 11, 25, 9, 0, tzinfo=AMS))
    assert list(sent) == [world.chat("Sanne")]


# The agenda's snapshot: what waits for an answer ----------------------------------------------
async def test_snapshot_lists_what_waits_and_what_stays_held(db: Database) -> None:
    now = datetime(2026, 11, 24, 9, 0, tzinfo=AMS)
    async with db.transaction() as session:
        world = await World().build(session)
        world.message(session, "Gezin J.", urgent=True)
        world.message(session, "Gezin J.", status="held", at=MONDAY_10 - timedelta(hours=20),
                      hold_until=now)  # released at this opening
        world.message(session, "Gezin J.", status="held", hold_until=now + timedelta(days=1))
        world.message(session, "Gezin J.", answered_at=MONDAY_10 + timedelta(hours=1))
        world.message(session, "Gezin J.", kind="signal")
        world.message(session, "Gezin K.")  # Anna's family: Sanne stands in for her
        world.away(session, "Anna", "Sanne")
        await session.flush()
        snap = await snapshot(session, world.staff["Sanne"], now, "Europe/Amsterdam")
    waiting = {w.alias: (w.count, w.urgent, w.since) for w in snap.waiting}
    assert waiting == {"Gezin J.": (2, 1, MONDAY_10 - timedelta(hours=20)),
                       "Gezin K.": (1, 0, MONDAY_10)}
    assert [(h.alias, h.count) for h in snap.held] == [("Gezin J.", 1)]


# A coach's request for help --------------------------------------------------------------------
async def test_a_coachs_request_stays_open_until_acted_on_or_two_weeks(db: Database) -> None:
    async with db.transaction() as session:
        world = await World().build(session)
        sanne, anna = world.staff["Sanne"].id, world.staff["Anna"].id
        j, d = world.family["Gezin J."].id, world.family["Gezin D."].id
        assert await help_requests.ask(session, j, sanne, MONDAY_10)
        assert not await help_requests.ask(session, j, sanne, MONDAY_10 + timedelta(hours=1))
        assert await help_requests.ask(session, d, anna, MONDAY_10)
    async with db.transaction() as session:
        assert await help_requests.open_per_coach(session, MONDAY_10) == {sanne: 1, anna: 1}
        late = MONDAY_10 + help_requests.OPEN_FOR + timedelta(minutes=1)
        assert await help_requests.open_per_coach(session, late) == {}
        await help_requests.mark_handled(session, j, MONDAY_10)
        assert await help_requests.open_per_coach(session, MONDAY_10) == {anna: 1}
        # Gezin D. moves on without Anna: the coordinator acted, her request is closed.
        await session.execute(delete(FamilyCoach).where(FamilyCoach.family_id == d,
                                                        FamilyCoach.staff_id == anna))
        assert await help_requests.open_per_coach(session, MONDAY_10) == {}


# A look costs little for families not due yet ------------------------------------------------
async def test_a_family_not_due_yet_is_not_read_again_at_every_look(db: Database) -> None:
    """Monday 10:00 to 18:30 is past the first threshold on the clock (8 h) but only 7 working
    hours: the first look reads the family's staffing and finds it not due; the looks after,
    every five minutes all evening and night, are one statement (the claim) until Tuesday,
    when Sanne is nudged at the first look that can (9 working hours)."""
    async with db.transaction() as session:
        world = await World().build(session)
        for alias in CASELOAD:
            world.message(session, alias)
    job = UnansweredNudges(Settings())
    counted = {"statements": 0, "family": 0}

    def statement(*args: Any) -> None:
        counted["statements"] += 1
        counted["family"] += "FROM family " in " ".join(str(args[2]).split())

    async def look(now: datetime) -> tuple[int, list[int]]:
        counted["statements"] = counted["family"] = 0
        event.listen(db.engine.sync_engine, "before_cursor_execute", statement)
        try:
            async with db.transaction() as session:
                await job(session, now)
        finally:
            event.remove(db.engine.sync_engine, "before_cursor_execute", statement)
        async with db.transaction() as session:
            chats = [row.chat_id for row in await session.scalars(select(Outbox))]
            await session.execute(delete(Outbox))
        return counted["statements"], chats

    evening = datetime(2026, 11, 23, 18, 30, tzinfo=AMS)
    first, nudged = await look(evening)
    assert nudged == [] and first > 3
    assert counted["family"] == 1  # the three families read at once
    for minutes in range(5, 12 * 60, 5):  # the evening and the night
        later, nudged = await look(evening + timedelta(minutes=minutes))
        assert (later, nudged) == (1, []), minutes
    _, nudged = await look(TUESDAY_11)
    # Gezin J. to Sanne, Gezin K. to Anna, the duo's Gezin D. to both
    assert sorted(nudged) == sorted([world.chat("Sanne"), world.chat("Anna")] * 2)


async def test_a_new_message_after_a_nudge_is_nudged_too(db: Database) -> None:
    """A family nudged for its first message, which writes again: once the new one has
    waited as long, the coach is nudged again (the look does not skip a family that wrote
    since it was last looked at)."""
    async with db.transaction() as session:
        world = await World().build(session)
        world.message(session, "Gezin J.")
        world.message(session, "Gezin J.", at=TUESDAY_11)
    job = UnansweredNudges(Settings())

    async def look(now: datetime) -> list[str]:
        async with db.transaction() as session:
            await job(session, now)
        async with db.transaction() as session:
            texts = [row.payload["p"]["text"] for row in await session.scalars(
                select(Outbox)) if row.payload]
            await session.execute(delete(Outbox))
        return texts

    assert await look(TUESDAY_11) == ["⏳ Gezin J. wacht op je antwoord (1 bericht, 9 "
                                      "werkuren)."]
    assert await look(TUESDAY_11 + timedelta(hours=2)) == []
    wednesday = datetime(2026, 11, 25, 11, 0, tzinfo=AMS)  # the second: 8 working hours
    assert await look(wednesday) == ["⏳ Gezin J. wacht op je antwoord (2 berichten, 17 "
                                     "werkuren)."]


# The morning's digests: a few statements a family ------------------------------------------------
async def test_releasing_the_held_messages_reads_each_familys_staff_once(db: Database) -> None:
    """At the opening every family's held messages become its digest. Who gets it is decided
    from one reading of the staff around the family (coaches, coordinators, absences): the
    busiest morning released 5,716 messages at 5.0 statements each (bench/README.md)."""
    from bot.jobs.held_messages import release_held

    async with db.transaction() as session:
        world = await World().build(session)
        for alias in CASELOAD:
            for _ in range(2):
                world.message(session, alias, status="held", at=MONDAY_10 - timedelta(hours=14),
                              hold_until=MONDAY_10 - timedelta(hours=1))
    counted = {"statements": 0, "staff": 0, "absence": 0, "member": 0}

    def statement(*args: Any) -> None:
        counted["statements"] += 1
        sql = " ".join(str(args[2]).split())
        for table in ("staff", "absence", "member"):
            counted[table] += f"FROM {table} " in sql

    event.listen(db.engine.sync_engine, "before_cursor_execute", statement)
    try:
        async with db.transaction() as session:
            assert await release_held(session, MONDAY_10) == 6
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", statement)
    async with db.transaction() as session:
        digests = (await session.scalars(select(Outbox).where(Outbox.purpose == "digest"))).all()
    # A title and two copies for each of Gezin J. and K., to both of Gezin D.'s duo.
    assert len(digests) == 3 * 4
    # Per family one reading of its staff and their absences (was: its coaches, the
    # coordinators and the absences apart), the families and their members once for the
    # batch (was: per family); 13 statements in all on PostgreSQL (was 23).
    assert (counted["staff"], counted["absence"], counted["member"]) == (3, 0, 1), counted
