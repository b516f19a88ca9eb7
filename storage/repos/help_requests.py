"""A coach's requests for the coordinator's help (/coordinator): kept so the coordinator's
overview counts them while they are open. Who asked, for which family and when — never what
about. Never commits: the caller's unit of work does.

Open means: not handled by a coordinator, asked less than OPEN_FOR ago, and the coach who asked
still coaches the family (moving the family to another coach is the coordinator acting on it).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import FamilyCoach, HelpRequest

OPEN_FOR = timedelta(days=14)  # as long as a family's "hulp nodig" (repos/agenda.py)


def _open(now: datetime) -> ColumnElement[bool]:
    return and_(HelpRequest.handled_at.is_(None), HelpRequest.asked_at > now - OPEN_FOR)


async def ask(session: AsyncSession, family_id: int, staff_id: int, now: datetime) -> bool:
    """Keep a coach's request; False when the same coach's request for this family is still
    open (asking again is one request, not two)."""
    already = await session.scalar(select(func.count()).select_from(HelpRequest).where(
        HelpRequest.family_id == family_id, HelpRequest.staff_id == staff_id, _open(now)))
    if already:
        return False
    session.add(HelpRequest(family_id=family_id, staff_id=staff_id, asked_at=now))
    return True


async def open_per_coach(session: AsyncSession, now: datetime) -> dict[int, int]:
    """Per coach (staff id): their open requests for help."""
    rows = (await session.execute(
        select(HelpRequest.staff_id, func.count())
        .join(FamilyCoach, and_(FamilyCoach.family_id == HelpRequest.family_id,
                                FamilyCoach.staff_id == HelpRequest.staff_id))
        .where(_open(now))
        .group_by(HelpRequest.staff_id))).all()
    return {staff_id: int(n) for staff_id, n in rows}


async def mark_handled(session: AsyncSession, family_id: int, now: datetime) -> None:
    """A coordinator acted on the requests for this family: no longer open."""
    await session.execute(update(HelpRequest).where(
        HelpRequest.family_id == family_id, HelpRequest.handled_at.is_(None))
        .values(handled_at=now))
