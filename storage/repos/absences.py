"""Absences of staff, and who stands in for whom while one lasts (PRODUCT.md §5)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, and_, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import availability
from storage.models import Absence, Family, FamilyCoach, Staff


async def absences_ahead(session: AsyncSession, staff_id: int, now: datetime
                         ) -> Sequence[Absence]:
    """One person's absences not over yet, first first."""
    return (await session.scalars(select(Absence).where(
        Absence.staff_id == staff_id, Absence.ends_at > now).order_by(Absence.starts_at))).all()


def add_absence(session: AsyncSession, span: availability.Absence, now: datetime) -> None:
    session.add(Absence(staff_id=span.person_id, starts_at=span.start, ends_at=span.end,
                        substitute_id=span.substitute_id, created_at=now))


async def end_absences(session: AsyncSession, staff_id: int, now: datetime) -> None:
    """Back now: absences still to come go, the current one ends now."""
    await session.execute(delete(Absence).where(Absence.staff_id == staff_id,
                                                Absence.ends_at > now,
                                                Absence.starts_at > now))
    await session.execute(update(Absence).where(
        Absence.staff_id == staff_id, Absence.starts_at <= now, Absence.ends_at > now)
        .values(ends_at=now))


# Standing in -----------------------------------------------------------------------------------
def _standing_in(staff: Staff, now: datetime) -> ColumnElement[bool]:
    """An absence, now, in which `staff` stands in: as its named substitute, or as a coordinator
    for an absence without one. The one rule for substitutes (PRODUCT.md §5)."""
    named = Absence.substitute_id == staff.id
    who = or_(named, Absence.substitute_id.is_(None)) if staff.is_coordinator else named
    return and_(Absence.starts_at <= now, Absence.ends_at > now, who)


async def substitutes_for(session: AsyncSession, staff: Staff, family_id: int,
                          now: datetime) -> bool:
    """During an absence of one of the family's coaches, the named substitute (or, without one,
    a coordinator) may act for that family; before and after it, not."""
    return bool(await session.scalar(
        select(func.count()).select_from(Absence)
        .join(FamilyCoach, FamilyCoach.staff_id == Absence.staff_id)
        .where(FamilyCoach.family_id == family_id, _standing_in(staff, now))))


async def covered_families(session: AsyncSession, staff: Staff, now: datetime
                           ) -> Sequence[Family]:
    """The active families `staff` stands in for now (substitutes_for, for every family)."""
    found = (await session.scalars(
        select(Family).join(FamilyCoach, FamilyCoach.family_id == Family.id)
        .join(Absence, Absence.staff_id == FamilyCoach.staff_id)
        .where(_standing_in(staff, now), Family.active.is_(True)))).all()
    return list({family.id: family for family in found}.values())  # a duo: both may be away


async def absences_not_ended(session: AsyncSession, staff_ids: Sequence[int], now: datetime
                             ) -> Sequence[Absence]:
    """The absences of these people that are under way or still to come at `now`."""
    return (await session.scalars(select(Absence).where(
        Absence.staff_id.in_(list(staff_ids)), Absence.ends_at > now))).all()
