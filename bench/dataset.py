"""Rows for the benchmark, inserted straight through storage.models (after the migrations).

One family for the relay. For the reminders and the agenda one caseload: 1,000 coaches with
10 families each; every family one member, an appointment today and ten in the days ahead each
with its evening-before reminder (100,000 planned reminders), an open agreement, and here and
there a "lukt niet" signal, held messages, a contact or review frequency, an absence.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Table, delete, insert, text, update

from bench.common import AGENDA_AT, AMS, BURST_AT
from bot.i18n import FAMILY_LANGUAGES
from handlers.onboarding import CONSENT_VERSION
from storage.db import Database
from storage.models import (
    Absence,
    ActionItem,
    Appointment,
    Family,
    FamilyCoach,
    FamilyMessage,
    Member,
    Outbox,
    Reminder,
    Staff,
)

CHUNK = 5_000


@dataclass(frozen=True)
class Caseload:
    coaches: int = 1_000
    families_per_coach: int = 10
    appointments_ahead: int = 10  # each with one planned evening-before reminder
    burst: int = 10_000  # families whose first reminder is due at BURST_AT
    # Every held_every-th family has two messages held for its coach (0: none), until
    # hold_until (None: the day after the burst, 09:00).
    held_every: int = 7
    hold_until: datetime | None = None
    # The last family of each coach agreed that its coach may be reached at any hour (policy
    # "always"): the busiest hour's stream of family messages comes from these families.
    always_families: bool = False
    # Older family messages, answered, spread over the families (the cost curve's history).
    history: int = 0

    @property
    def families(self) -> int:
        return self.coaches * self.families_per_coach

    @property
    def pending_reminders(self) -> int:
        return self.families * self.appointments_ahead

    def stream_families(self) -> list[int]:
        """Indexes (0-based) of the families with policy "always", one per coach."""
        return [f for f in range(self.families)
                if f % self.families_per_coach == self.families_per_coach - 1]

    def first_reminder_at(self, family: int) -> datetime:
        """When family `family`'s first planned reminder is due (BURST_AT for the burst)."""
        return BURST_AT + timedelta(days=0 if family < self.burst else 1)


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def _table(model: Any) -> Table:
    table: Table = model.__table__
    return table


async def _insert(db: Database, model: Any, rows: Sequence[dict[str, Any]]) -> None:
    table = _table(model)
    for start in range(0, len(rows), CHUNK):
        async with db.transaction() as session:
            await session.execute(insert(table), list(rows[start:start + CHUNK]))


async def _fix_sequences(db: Database, models: Sequence[Any]) -> None:
    """Explicit ids do not move PostgreSQL's sequences: move them past the inserted rows."""
    if db.dialect != "postgresql":
        return
    async with db.transaction() as session:
        for model in models:
            name = _table(model).name
            await session.execute(text(
                f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                f"(SELECT COALESCE(MAX(id), 1) FROM {name}))"))


async def seed_relay_family(url: str, coach_chat: int, member_chat: int) -> None:
    """One coach and one family with one member, as onboarding leaves them."""
    now = _utc(datetime(2026, 11, 1, 12, 0, tzinfo=AMS))
    db = Database(url)
    try:
        async with db.transaction() as session:
            staff = Staff(chat_id=coach_chat, display_name="Sanne", language="nl",
                          is_coach=True, consent_at=now, consent_version=CONSENT_VERSION,
                          created_at=now)
            family = Family(alias="Gezin B.", region="NL", timezone="Europe/Amsterdam",
                            created_at=now)
            session.add_all([staff, family])
            await session.flush()
            session.add(FamilyCoach(family_id=family.id, staff_id=staff.id, since=now))
            session.add(Member(family_id=family.id, chat_id=member_chat, first_name="Marieke",
                               role="moeder", language="nl", consent_at=now,
                               consent_version=CONSENT_VERSION, consent_language="nl",
                               created_at=now))
    finally:
        await db.dispose()


def _local(day: datetime, hour: int, minute: int = 0) -> datetime:
    return day.replace(hour=hour, minute=minute, second=0, microsecond=0)


def caseload_rows(load: Caseload, coach_chats: Sequence[int], member_chats: Sequence[int]
                  ) -> Iterator[tuple[Any, list[dict[str, Any]]]]:
    """(model, rows) in insertion order."""
    created = _utc(datetime(2026, 5, 1, 12, 0, tzinfo=AMS))
    morning = AGENDA_AT
    today = morning.date()
    yield Staff, [
        {"id": c + 1, "chat_id": coach_chats[c], "display_name": f"Coach {c:04d}",
         "language": ("nl", "en", "fr")[c % 3], "is_coach": True, "is_coordinator": False,
         "active": True, "consent_at": created, "consent_version": CONSENT_VERSION,
         "windows": "ma-vr 09:00-17:00", "policy": "crisis", "created_at": created}
        for c in range(load.coaches)]
    families = []
    always = set(load.stream_families()) if load.always_families else set()
    for f in range(load.families):
        families.append({
            "id": f + 1, "alias": f"Gezin {f:05d}", "region": "NL",
            "timezone": "Europe/Amsterdam", "open_on_holidays": False, "oncall_agreed": False,
            "active": True, "created_at": created,
            "contact_frequency": "weekly" if f % 3 == 0 else None,
            "review_frequency": "quarterly" if f % 4 == 0 else "never",
            "last_review_at": _utc(morning - timedelta(days=100 + f % 30)),
            "last_contact_at": _utc(morning - timedelta(days=f % 15)),
            "policy": "always" if f in always else None,
        })
    yield Family, families
    yield FamilyCoach, [
        {"family_id": f + 1, "staff_id": f // load.families_per_coach + 1, "since": created}
        for f in range(load.families)]
    yield Member, [
        {"id": f + 1, "family_id": f + 1, "chat_id": member_chats[f], "first_name": "Marieke",
         "role": "moeder", "language": FAMILY_LANGUAGES[f % len(FAMILY_LANGUAGES)],
         "consent_at": created, "consent_version": CONSENT_VERSION,
         "consent_language": "nl", "created_at": created}
        for f in range(load.families)]
    appointments: list[dict[str, Any]] = []
    reminders: list[dict[str, Any]] = []
    for f in range(load.families):
        # Today's appointment: its reminders went out yesterday and this morning.
        start = _local(morning, 13 + f % 4)
        appointments.append({
            "id": len(appointments) + 1, "family_id": f + 1, "created_by": None,
            "starts_at": _utc(start), "what": "Gesprek met school", "place": "Thuis",
            "status": "planned", "created_at": created, "updated_at": created})
        reminders.append({
            "id": len(reminders) + 1, "family_id": f + 1,
            "appointment_id": len(appointments), "kind": "evening_before",
            "due_at": _utc(_local(morning - timedelta(days=1), 18)), "status": "sent",
            "handled_at": _utc(_local(morning - timedelta(days=1), 18))})
        # The days ahead: the first one tomorrow for the families in the burst.
        shift = 1 if f < load.burst else 2
        for k in range(load.appointments_ahead):
            day = BURST_AT + timedelta(days=shift + k)
            starts = _local(day, 9 + (f + k) % 8, 30 * (k % 2))
            appointments.append({
                "id": len(appointments) + 1, "family_id": f + 1, "created_by": None,
                "starts_at": _utc(starts), "what": "Huisbezoek", "place": "Thuis",
                "status": "planned", "created_at": created, "updated_at": created})
            reminders.append({
                "id": len(reminders) + 1, "family_id": f + 1,
                "appointment_id": len(appointments), "kind": "evening_before",
                "due_at": _utc(_local(day - timedelta(days=1), 18)), "status": "planned",
                "handled_at": None})
    yield Appointment, appointments
    yield Reminder, reminders
    yield ActionItem, [
        {"id": f + 1, "family_id": f + 1, "created_by": None, "what": "Formulier inleveren",
         "due_date": today - timedelta(days=f % 4), "recurrence": "none", "status": "open",
         "created_at": created}
        for f in range(load.families)]
    # Every row names every column: an executemany takes its columns from the first row.
    messages: list[dict[str, Any]] = []
    hold_until = _utc(load.hold_until or _local(BURST_AT + timedelta(days=1), 9))
    for f in range(load.families):
        if f % 5 == 0:
            messages.append({
                "id": len(messages) + 1, "family_id": f + 1, "member_id": f + 1,
                "kind": "signal", "urgent": False, "status": "delivered",
                "body": json.dumps({"s": "cannot", "what": "Huisbezoek"}),
                "received_at": _utc(morning - timedelta(days=1)), "hold_until": None,
                "delivered_at": _utc(morning - timedelta(days=1)), "answered_at": None})
        if load.held_every and f % load.held_every == 0:
            for n in range(2):
                messages.append({
                    "id": len(messages) + 1, "family_id": f + 1, "member_id": f + 1,
                    "kind": "text", "urgent": f % 14 == 0 and n == 0, "status": "held",
                    "body": "Kunt u morgen bellen?", "hold_until": hold_until,
                    "received_at": _utc(morning - timedelta(hours=10 - n)),
                    "delivered_at": None, "answered_at": None})
    for n in range(load.history):
        # Answered long ago (within the retention period: the purge leaves them alone).
        f = n % load.families
        at = _utc(morning - timedelta(days=1 + n % 20, minutes=n % 600))
        messages.append({
            "id": len(messages) + 1, "family_id": f + 1, "member_id": f + 1,
            "kind": "text", "urgent": False, "status": "delivered",
            "body": f"Eerder bericht {n}", "hold_until": None, "received_at": at,
            "delivered_at": at, "answered_at": at + timedelta(hours=1)})
    yield FamilyMessage, messages
    yield Absence, [
        {"id": c // 20 + 1, "staff_id": c + 1,
         "starts_at": _utc(morning + timedelta(days=7)),
         "ends_at": _utc(morning + timedelta(days=14)), "substitute_id": None,
         "created_at": created}
        for c in range(0, load.coaches, 20)]


async def seed_caseload(url: str, load: Caseload, coach_chats: Sequence[int],
                        member_chats: Sequence[int]) -> dict[str, Any]:
    """Insert the caseload; returns row counts and how long it took."""
    started = time.perf_counter()
    db = Database(url)
    counts: dict[str, int] = {}
    models = []
    try:
        for model, rows in caseload_rows(load, coach_chats, member_chats):
            await _insert(db, model, rows)
            counts[_table(model).name] = len(rows)
            models.append(model)
        await _fix_sequences(db, [m for m in models if m is not FamilyCoach])
        if db.dialect == "postgresql":
            async with db.transaction() as session:
                await session.execute(text("ANALYZE"))
    finally:
        await db.dispose()
    return {"rows": counts, "seconds": round(time.perf_counter() - started, 2)}


async def reset_day(url: str, load: Caseload) -> None:
    """The day as it was before the busiest hour: the burst's reminders planned again, the
    held messages held again, no agenda sent, the outbox empty (the two-instance run goes over
    the same day again; what the families wrote meanwhile stays, as history)."""
    db = Database(url)
    hold_until = _utc(load.hold_until or _local(BURST_AT + timedelta(days=1), 9))
    try:
        async with db.transaction() as session:
            await session.execute(
                update(Reminder).where(Reminder.due_at == _utc(BURST_AT))
                .values(status="planned", handled_at=None))
            await session.execute(
                update(FamilyMessage).where(FamilyMessage.hold_until.is_(None),
                                            FamilyMessage.kind == "text",
                                            FamilyMessage.received_at < _utc(AGENDA_AT))
                .where(FamilyMessage.answered_at.is_(None))
                .values(status="held", hold_until=hold_until, delivered_at=None,
                        nudged_at=None, escalated_at=None))
            await session.execute(update(Staff).values(agenda_sent_on=None))
            await session.execute(delete(Outbox))
    finally:
        await db.dispose()


async def reset_burst(url: str) -> None:
    """Plan the burst's reminders again and empty the outbox: for a second burst run."""
    db = Database(url)
    try:
        async with db.transaction() as session:
            await session.execute(
                update(Reminder).where(Reminder.due_at == _utc(BURST_AT))
                .values(status="planned", handled_at=None))
            await session.execute(delete(Outbox))
    finally:
        await db.dispose()
