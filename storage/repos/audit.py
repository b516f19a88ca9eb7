"""The access log: who read which family's data outside the normal relay, when and why."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AccessLog, Staff


def log_access(session: AsyncSession, staff: Staff | None, family_ids: Sequence[int],
               action: str, reason: str, now: datetime) -> None:
    """One entry per family read (the reason stays in Dutch; the family reads it translated)."""
    for family_id in family_ids:
        session.add(AccessLog(staff_id=staff.id if staff else None, family_id=family_id,
                              action=action[:40], reason=reason[:80], at=now))


async def access_to(session: AsyncSession, family_id: int
                    ) -> list[tuple[AccessLog, str | None]]:
    """Every entry about one family, in order, with the name of who looked (if still known)."""
    rows = (await session.execute(
        select(AccessLog, Staff.display_name).outerjoin(Staff, Staff.id == AccessLog.staff_id)
        .where(AccessLog.family_id == family_id).order_by(AccessLog.at))).all()
    return [(entry, name) for entry, name in rows]
