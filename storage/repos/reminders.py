"""Family reminders: the one place a reminder row is made, claiming the due ones, and what a
reminder is about. Never commits: the caller's unit of work does."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ActionItem, Appointment, Family, Reminder


def add_planned(session: AsyncSession, family_id: int, kind: str, due_at: datetime, *,
                appointment_id: int | None = None, action_id: int | None = None) -> None:
    """A planned reminder of an appointment or of an agreement (action item)."""
    session.add(Reminder(family_id=family_id, appointment_id=appointment_id,
                         action_id=action_id, kind=kind, due_at=due_at, status="planned"))


def _due(now: datetime) -> Any:
    return and_(Reminder.status == "planned", Reminder.due_at <= now)


def due(now: datetime) -> Any:
    """For probes.which_due: a planned reminder's time has come (claim_due)."""
    return exists().where(_due(now))


async def claim_due(session: AsyncSession, now: datetime, limit: int) -> Sequence[Reminder]:
    """Planned reminders whose time has come, claimed under SKIP LOCKED (one instance each)."""
    return (await session.scalars(
        select(Reminder).where(_due(now))
        .order_by(Reminder.due_at, Reminder.id).limit(limit)
        .with_for_update(skip_locked=True))).all()


async def load_subjects(session: AsyncSession, due: Sequence[Reminder]) -> list[Any]:
    """The families, appointments and agreements of a batch of reminders, in three queries:
    while the caller keeps the list (the session holds what it loaded only weakly),
    `session.get` (`subject_of`, families.family_by_id) finds them without asking again. One
    by one it was three queries per reminder (bench/README.md: 5 statements a reminder)."""
    loaded: list[Any] = []
    models: tuple[tuple[Any, set[int]], ...] = (
        (Family, {r.family_id for r in due}),
        (Appointment, {r.appointment_id for r in due if r.appointment_id}),
        (ActionItem, {r.action_id for r in due if r.action_id}))
    for model, ids in models:
        if ids:
            loaded += (await session.scalars(
                select(model).where(model.id.in_(sorted(ids))))).all()
    return loaded


async def subject_of(session: AsyncSession, reminder: Reminder
                     ) -> tuple[Appointment | None, ActionItem | None]:
    """The appointment or the agreement a reminder is about (None when it is gone)."""
    appointment = await session.get(Appointment, reminder.appointment_id) \
        if reminder.appointment_id else None
    item = await session.get(ActionItem, reminder.action_id) if reminder.action_id else None
    return appointment, item
