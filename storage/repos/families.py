"""Families, the coaches they have, and the crisis services their agreement adds."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.text import compare_key
from storage.models import Family, FamilyCoach, FamilyService, Staff


def match_alias(families: Sequence[Family], text: str) -> list[Family]:
    """Case-insensitive: an exact alias wins, else every family whose alias starts with it."""
    key = compare_key(text)
    if not key:
        return []
    exact = [f for f in families if compare_key(f.alias) == key]
    return exact or [f for f in families if compare_key(f.alias).startswith(key)]


# Families ----------------------------------------------------------------------------------
async def family_by_id(session: AsyncSession, family_id: int) -> Family | None:
    return await session.get(Family, family_id)


async def active_families(session: AsyncSession) -> Sequence[Family]:
    return (await session.scalars(select(Family).where(Family.active.is_(True)))).all()


async def families_of_coach(session: AsyncSession, staff_id: int) -> Sequence[Family]:
    return (await session.scalars(
        select(Family).join(FamilyCoach, FamilyCoach.family_id == Family.id)
        .where(FamilyCoach.staff_id == staff_id, Family.active.is_(True))
        .order_by(Family.alias))).all()


async def add_family(session: AsyncSession, alias: str, region: str, timezone: str,
                     now: datetime) -> Family:
    """A new active family (flushed: its id is known)."""
    family = Family(alias=alias, region=region, timezone=timezone, open_on_holidays=False,
                    oncall_agreed=False, active=True, created_at=now)
    session.add(family)
    await session.flush()
    return family


# Coaches of a family ---------------------------------------------------------------------------
async def coaches_of(session: AsyncSession, family_id: int) -> Sequence[Staff]:
    return (await session.scalars(
        select(Staff).join(FamilyCoach, FamilyCoach.staff_id == Staff.id)
        .where(FamilyCoach.family_id == family_id, Staff.active.is_(True))
        .order_by(FamilyCoach.since, Staff.id))).all()


async def is_coach_of(session: AsyncSession, staff_id: int, family_id: int) -> bool:
    found = await session.scalar(select(func.count()).select_from(FamilyCoach).where(
        FamilyCoach.staff_id == staff_id, FamilyCoach.family_id == family_id))
    return bool(found)


def add_coach(session: AsyncSession, family_id: int, staff_id: int, now: datetime) -> None:
    """`staff_id` coaches the family from now on (beside any coach it has)."""
    session.add(FamilyCoach(family_id=family_id, staff_id=staff_id, since=now))


async def remove_coaches(session: AsyncSession, family_id: int,
                         staff_ids: Sequence[int]) -> None:
    """These coaches no longer coach the family (flushed, so a new link may follow)."""
    for staff_id in staff_ids:
        link = await session.get(FamilyCoach, (family_id, staff_id))
        if link is not None:
            await session.delete(link)
    await session.flush()


# The family's own crisis services ------------------------------------------------------------
async def services_of(session: AsyncSession, family_id: int) -> list[FamilyService]:
    """The crisis services a family's agreement adds, oldest first."""
    return list((await session.scalars(select(FamilyService).where(
        FamilyService.family_id == family_id).order_by(FamilyService.id))).all())


async def add_service(session: AsyncSession, service: FamilyService) -> None:
    session.add(service)
    await session.flush()


async def remove_service(session: AsyncSession, service: FamilyService) -> None:
    await session.delete(service)
