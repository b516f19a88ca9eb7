"""Appointments (*afspraken*) and agreements (*actiepunten*) of a family, and calling off their
planned reminders."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ActionItem, Appointment, Family, FamilyCoach, Reminder

LISTED = 10  # the most a family or coach sees in one list


# Appointments ----------------------------------------------------------------------------------
async def appointment_by_id(session: AsyncSession, appointment_id: int) -> Appointment | None:
    return await session.get(Appointment, appointment_id)


async def add_appointment(session: AsyncSession, appointment: Appointment) -> None:
    """Stored and flushed: its id is known for its reminders."""
    session.add(appointment)
    await session.flush()


async def planned_from(session: AsyncSession, family_id: int, since: datetime
                       ) -> Sequence[Appointment]:
    """A family's first planned appointments starting at `since` or later."""
    return (await session.scalars(select(Appointment).where(
        Appointment.family_id == family_id, Appointment.status == "planned",
        Appointment.starts_at >= since).order_by(Appointment.starts_at).limit(LISTED))).all()


async def appointments_of(session: AsyncSession, family_id: int) -> Sequence[Appointment]:
    """Every appointment the family has, kept or not, in order."""
    return (await session.scalars(select(Appointment).where(
        Appointment.family_id == family_id).order_by(Appointment.starts_at))).all()


async def planned_for_coach(session: AsyncSession, staff_id: int, since: datetime
                            ) -> list[tuple[Appointment, str]]:
    """The planned appointments of a coach's families from `since` on, with the alias."""
    rows = (await session.execute(
        select(Appointment, Family.alias).join(Family, Family.id == Appointment.family_id)
        .join(FamilyCoach, and_(FamilyCoach.family_id == Family.id,
                                FamilyCoach.staff_id == staff_id))
        .where(Appointment.status == "planned", Appointment.starts_at >= since)
        .order_by(Appointment.starts_at))).all()
    return [(appointment, alias) for appointment, alias in rows]


# Agreements ------------------------------------------------------------------------------------
async def agreement_by_id(session: AsyncSession, item_id: int) -> ActionItem | None:
    return await session.get(ActionItem, item_id)


async def add_agreement(session: AsyncSession, item: ActionItem) -> None:
    """Stored and flushed: its id is known for its reminder."""
    session.add(item)
    await session.flush()


async def open_agreements(session: AsyncSession, family_id: int) -> Sequence[ActionItem]:
    """A family's first open agreements, the earliest due first."""
    return (await session.scalars(select(ActionItem).where(
        ActionItem.family_id == family_id, ActionItem.status == "open").order_by(
            ActionItem.due_date).limit(LISTED))).all()


async def agreements_of(session: AsyncSession, family_id: int) -> Sequence[ActionItem]:
    """Every agreement the family has, open or not, by due date."""
    return (await session.scalars(select(ActionItem).where(
        ActionItem.family_id == family_id).order_by(ActionItem.due_date))).all()


# Their reminders ---------------------------------------------------------------------------------
async def cancel_reminders(session: AsyncSession, now: datetime,
                           appointment_id: int | None = None,
                           action_id: int | None = None) -> None:
    """The planned reminders of an appointment (or agreement) that moved or was called off."""
    query = update(Reminder).where(Reminder.status == "planned")
    if appointment_id is not None:
        query = query.where(Reminder.appointment_id == appointment_id)
    if action_id is not None:
        query = query.where(Reminder.action_id == action_id)
    await session.execute(query.values(status="cancelled", handled_at=now))
