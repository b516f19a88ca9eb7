"""The agenda is built with a bounded number of SQL statements, whatever the caseload."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import event

from storage.db import Database
from storage.migrate import upgrade_async
from storage.models import (
    ActionItem,
    Appointment,
    Family,
    FamilyCoach,
    FamilyMessage,
    Member,
    Staff,
)
from storage.repos.agenda import snapshot

NOW = datetime(2026, 11, 30, 8, 30, tzinfo=UTC)


async def _coach_with(db: Database, families: int, offset: int) -> Staff:
    async with db.transaction() as session:
        coach = Staff(chat_id=9_000 + offset, display_name=f"Coach{offset}", language="nl",
                      is_coach=True, is_coordinator=False, active=True, consent_at=NOW,
                      consent_version="t", created_at=NOW)
        session.add(coach)
        await session.flush()
        for i in range(families):
            family = Family(alias=f"Gezin {offset}-{i}", created_at=NOW,
                            contact_frequency="weekly", review_frequency="monthly")
            session.add(family)
            await session.flush()
            session.add(FamilyCoach(family_id=family.id, staff_id=coach.id, since=NOW))
            member = Member(family_id=family.id, chat_id=10_000_000 + offset * 1000 + i,
                            first_name="M", consent_at=NOW, consent_version="t",
                            consent_language="nl", created_at=NOW)
            session.add(member)
            await session.flush()
            session.add(Appointment(family_id=family.id, starts_at=NOW + timedelta(hours=3),
                                    what="huisbezoek", created_at=NOW, updated_at=NOW))
            session.add(ActionItem(family_id=family.id, what="brief", due_date=date(2026, 11, 30),
                                   created_at=NOW))
            session.add(FamilyMessage(family_id=family.id, member_id=member.id, kind="text",
                                      body="x", received_at=NOW, status="held",
                                      hold_until=NOW + timedelta(hours=1)))
            session.add(FamilyMessage(family_id=family.id, member_id=member.id, kind="signal",
                                      body='{"s": "cannot", "what": "x", "at": null}',
                                      received_at=NOW - timedelta(hours=2)))
        return coach


async def _count(db: Database, coach: Staff) -> int:
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(str(args[2]))

    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    try:
        async with db.transaction() as session:
            snap = await snapshot(session, coach, NOW, "Europe/Amsterdam", weekly=True)
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", record)
    assert len(snap.families) in (5, 50)
    assert len(snap.appointments) == len(snap.families)
    return len([s for s in statements if not s.strip().upper().startswith(("BEGIN", "PRAGMA"))])


async def test_statement_count_does_not_grow_with_families(db_url: str) -> None:
    await upgrade_async(db_url)
    db = Database(db_url)
    try:
        small = await _count(db, await _coach_with(db, 5, 1))
        large = await _count(db, await _coach_with(db, 50, 2))
    finally:
        await db.dispose()
    assert small == large, f"{small} statements for 5 families, {large} for 50"
    assert small <= 10
