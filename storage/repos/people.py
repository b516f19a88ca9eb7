"""Family members and staff: who a chat is, who coaches, who coordinates."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from sqlalchemy import ColumnElement, Row, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.text import compare_key
from storage.models import Member, Staff


# Family members ----------------------------------------------------------------------------
async def member_by_chat(session: AsyncSession, chat_id: int) -> Member | None:
    result: Member | None = await session.scalar(select(Member).where(Member.chat_id == chat_id))
    return result


async def member_by_id(session: AsyncSession, member_id: int) -> Member | None:
    return await session.get(Member, member_id)


async def members_of(session: AsyncSession, family_id: int) -> Sequence[Member]:
    return (await session.scalars(
        select(Member).where(Member.family_id == family_id).order_by(Member.id))).all()


async def members_of_families(session: AsyncSession, family_ids: Sequence[int]
                              ) -> dict[int, list[Member]]:
    """The members of several families in one query, per family in `members_of`'s order."""
    found: dict[int, list[Member]] = {family_id: [] for family_id in family_ids}
    if found:
        for member in (await session.scalars(
                select(Member).where(Member.family_id.in_(sorted(found)))
                .order_by(Member.id))).all():
            found[member.family_id].append(member)
    return found


async def member_counts(session: AsyncSession, family_ids: Sequence[int]) -> dict[int, int]:
    """How many members take part, per family (families without any are left out)."""
    rows = (await session.execute(
        select(Member.family_id, func.count()).where(Member.family_id.in_(list(family_ids)))
        .group_by(Member.family_id))).all()
    return {family_id: int(n) for family_id, n in rows}


async def add_member(session: AsyncSession, member: Member) -> None:
    """A person who consented joins their family (flushed: the id is known after)."""
    session.add(member)
    await session.flush()


# Staff -----------------------------------------------------------------------------------------
async def staff_by_chat(session: AsyncSession, chat_id: int) -> Staff | None:
    result: Staff | None = await session.scalar(
        select(Staff).where(Staff.chat_id == chat_id, Staff.active.is_(True)))
    return result


async def staff_by_id(session: AsyncSession, staff_id: int) -> Staff | None:
    return await session.get(Staff, staff_id)


async def add_staff(session: AsyncSession, staff: Staff) -> None:
    """A person who consented joins the staff (flushed: the id is known after)."""
    session.add(staff)
    await session.flush()


async def coordinators(session: AsyncSession) -> Sequence[Staff]:
    return (await session.scalars(
        select(Staff).where(Staff.is_coordinator.is_(True), Staff.active.is_(True),
                            Staff.chat_id.is_not(None)).order_by(Staff.id))).all()


async def active_coaches(session: AsyncSession) -> Sequence[Staff]:
    """Every active coach, by name (with or without a chat)."""
    return (await session.scalars(select(Staff).where(
        Staff.is_coach.is_(True), Staff.active.is_(True)).order_by(Staff.display_name))).all()


def _coach_in_chat() -> tuple[ColumnElement[bool], ...]:
    """An active coach the bot can write to."""
    return Staff.is_coach.is_(True), Staff.active.is_(True), Staff.chat_id.is_not(None)


async def coach_schedules(session: AsyncSession) -> Sequence[Row[int, str, date | None]]:
    """Of the active coaches the bot can write to: id, windows, the day their last agenda went
    out. The morning job looks at these every 30 s: plain rows, where loading every coach as
    an object held the event loop (0.13 s a look at 2,000 coaches, bench/README.md)."""
    return (await session.execute(
        select(Staff.id, Staff.windows, Staff.agenda_sent_on).where(*_coach_in_chat())
        .order_by(Staff.id))).all()


async def coaches_in_chat(session: AsyncSession, staff_ids: Sequence[int]) -> Sequence[Staff]:
    """These of the active coaches the bot can write to (one left or erased since a look is
    left out), in id order."""
    ids = sorted(staff_ids)
    found: list[Staff] = []
    for start in range(0, len(ids), CLAIM_CHUNK):
        found += (await session.scalars(select(Staff).where(
            Staff.id.in_(ids[start:start + CLAIM_CHUNK]), *_coach_in_chat())
            .order_by(Staff.id))).all()
    return found


async def coaches_named(session: AsyncSession, prefix: str) -> Sequence[Staff]:
    """Active coaches by name: an exact name wins, else every name that starts with it."""
    key = compare_key(prefix)
    rows = (await session.scalars(
        select(Staff).where(Staff.active.is_(True), Staff.is_coach.is_(True)))).all()
    exact = [s for s in rows if compare_key(s.display_name) == key]
    return exact or [s for s in rows if compare_key(s.display_name).startswith(key)]


async def claim_agenda_day(session: AsyncSession, staff_id: int, today: date) -> bool:
    """Mark today's morning agenda as this instance's to send; False when another instance
    (or an earlier run) already did."""
    return staff_id in await claim_agenda_days(session, {staff_id: today})


CLAIM_CHUNK = 5_000  # staff ids per UPDATE: well below the databases' parameter limits


async def claim_agenda_days(session: AsyncSession, days: Mapping[int, date]) -> set[int]:
    """claim_agenda_day for many coaches (staff id -> their local day): the ids this instance
    may send the agenda to. One UPDATE … RETURNING per distinct day (coaches of one region
    share it); a row another instance claimed first is left out, so each agenda goes once."""
    by_day: dict[date, list[int]] = {}
    for staff_id, today in days.items():
        by_day.setdefault(today, []).append(staff_id)
    claimed: set[int] = set()
    for today, ids in sorted(by_day.items()):
        ids.sort()
        for start in range(0, len(ids), CLAIM_CHUNK):
            claimed.update((await session.scalars(
                update(Staff).where(Staff.id.in_(ids[start:start + CLAIM_CHUNK]),
                                    (Staff.agenda_sent_on.is_(None))
                                    | (Staff.agenda_sent_on < today))
                .values(agenda_sent_on=today).returning(Staff.id))).all())
    return claimed


async def oncall_staff(session: AsyncSession) -> Sequence[Staff]:
    """The on-duty crisis team's chats (policy oncall)."""
    return (await session.scalars(select(Staff).where(
        Staff.is_oncall.is_(True), Staff.active.is_(True), Staff.chat_id.is_not(None)))).all()


async def clear_blocked(session: AsyncSession, chat_id: int) -> None:
    """The person behind this chat let the bot in again: sends to it may go."""
    await session.execute(update(Member).where(Member.chat_id == chat_id)
                          .values(blocked_at=None))
    await session.execute(update(Staff).where(Staff.chat_id == chat_id)
                          .values(blocked_at=None))
