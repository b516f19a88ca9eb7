"""The morning job makes a region's agendas in slices (issue 16, busiest morning at full
scale): between them the event loop goes on with other work, a family's message among it,
instead of waiting for all 2,000 agendas (seconds). Made before the claim, every claimed
agenda is written once and no other."""

from __future__ import annotations

import asyncio
import itertools
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.callbacks import CallbackSigner
from bot.jobs import morning_agenda
from bot.jobs.morning_agenda import MorningAgenda
from bot.settings import Settings
from storage.db import Database
from storage.models import Family, FamilyCoach, Outbox, Staff
from storage.repos import people
from tests.caseload import joined_member, joined_staff

AMS = ZoneInfo("Europe/Amsterdam")
OPENING = datetime(2026, 11, 23, 9, 0, 30, tzinfo=AMS)  # a Monday, every coach's first window
COACHES = 6


async def _coaches(db: Database) -> None:
    since = OPENING - timedelta(days=30)
    async with db.transaction() as session:
        for n in range(COACHES):
            coach = joined_staff(10 + n, f"Coach {n}", since, coach=True)
            family = Family(alias=f"Gezin {n}", created_at=since)
            session.add_all([coach, family])
            await session.flush()
            session.add(FamilyCoach(family_id=family.id, staff_id=coach.id, since=since))
            session.add(joined_member(family.id, 100 + n, f"Lid {n}", "moeder", since))


async def test_other_work_goes_on_between_the_agendas(
        db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    await _coaches(db)
    monkeypatch.setattr(morning_agenda, "SLICE_SECONDS", 0.0)  # a slice per agenda
    turns = 0
    seen: list[int] = []
    build = morning_agenda.build_agenda

    def counted(snapshot: Any) -> Any:
        seen.append(turns)  # how often the other task ran before this agenda was made
        return build(snapshot)

    monkeypatch.setattr(morning_agenda, "build_agenda", counted)
    done = asyncio.Event()

    async def other_work() -> None:
        nonlocal turns
        while not done.is_set():
            turns += 1
            await asyncio.sleep(0)

    beside = asyncio.create_task(other_work())
    try:
        async with db.transaction() as session:
            made = await MorningAgenda(Settings(region="NL"), CallbackSigner(b"k" * 32))(
                session, OPENING)
    finally:
        done.set()
        await beside
    assert made == COACHES
    assert len(seen) == COACHES
    # Before: every agenda made in one go, the other task never ran in between.
    assert all(later > earlier for earlier, later in itertools.pairwise(seen)), seen


async def test_only_the_agendas_this_instance_claimed_are_written(
        db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another instance claimed two coaches' days between this one's snapshots and its claim
    (PostgreSQL; the claim leaves them out): made here too, written only for the others."""
    await _coaches(db)
    async with db.transaction() as session:
        lost = set((await session.scalars(select(Staff.id).where(
            Staff.chat_id.in_([10, 11])))).all())
    claim = people.claim_agenda_days

    async def claimed_but_two(session: Any, days: Any) -> set[int]:
        return await claim(session, days) - lost

    monkeypatch.setattr(people, "claim_agenda_days", claimed_but_two)
    async with db.transaction() as session:
        made = await MorningAgenda(Settings(region="NL"), CallbackSigner(b"k" * 32))(
            session, OPENING)
    async with db.transaction() as session:
        chats = (await session.scalars(select(Outbox.chat_id).where(
            Outbox.purpose == "agenda").order_by(Outbox.chat_id))).all()
    assert made == COACHES - 2
    assert list(chats) == [10 + n for n in range(2, COACHES)]
