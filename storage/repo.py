"""Queries. Repositories read and add; they never commit (the unit of work does)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, and_, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Absence,
    Family,
    FamilyCoach,
    FamilyMessage,
    Invite,
    Member,
    Outbox,
    PendingInput,
    RelayLink,
    Setting,
    Staff,
)


def alias_key(alias: str) -> str:
    return " ".join(alias.casefold().split())


# People -----------------------------------------------------------------------------------
async def member_by_chat(session: AsyncSession, chat_id: int) -> Member | None:
    result: Member | None = await session.scalar(select(Member).where(Member.chat_id == chat_id))
    return result


async def staff_by_chat(session: AsyncSession, chat_id: int) -> Staff | None:
    result: Staff | None = await session.scalar(
        select(Staff).where(Staff.chat_id == chat_id, Staff.active.is_(True)))
    return result


async def staff_by_id(session: AsyncSession, staff_id: int) -> Staff | None:
    return await session.get(Staff, staff_id)


async def coordinators(session: AsyncSession) -> Sequence[Staff]:
    return (await session.scalars(
        select(Staff).where(Staff.is_coordinator.is_(True), Staff.active.is_(True),
                            Staff.chat_id.is_not(None)).order_by(Staff.id))).all()


async def coaches_named(session: AsyncSession, prefix: str) -> Sequence[Staff]:
    key = alias_key(prefix)
    rows = (await session.scalars(
        select(Staff).where(Staff.active.is_(True), Staff.is_coach.is_(True)))).all()
    exact = [s for s in rows if alias_key(s.display_name) == key]
    return exact or [s for s in rows if alias_key(s.display_name).startswith(key)]


# Families -----------------------------------------------------------------------------------
async def families_of_coach(session: AsyncSession, staff_id: int) -> Sequence[Family]:
    return (await session.scalars(
        select(Family).join(FamilyCoach, FamilyCoach.family_id == Family.id)
        .where(FamilyCoach.staff_id == staff_id, Family.active.is_(True))
        .order_by(Family.alias))).all()


def match_alias(families: Sequence[Family], text: str) -> list[Family]:
    """Case-insensitive: an exact alias wins, else every family whose alias starts with it."""
    key = alias_key(text)
    if not key:
        return []
    exact = [f for f in families if alias_key(f.alias) == key]
    return exact or [f for f in families if alias_key(f.alias).startswith(key)]


async def coaches_of(session: AsyncSession, family_id: int) -> Sequence[Staff]:
    return (await session.scalars(
        select(Staff).join(FamilyCoach, FamilyCoach.staff_id == Staff.id)
        .where(FamilyCoach.family_id == family_id, Staff.active.is_(True))
        .order_by(FamilyCoach.since, Staff.id))).all()


async def is_coach_of(session: AsyncSession, staff_id: int, family_id: int) -> bool:
    found = await session.scalar(select(func.count()).select_from(FamilyCoach).where(
        FamilyCoach.staff_id == staff_id, FamilyCoach.family_id == family_id))
    return bool(found)


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


async def members_of(session: AsyncSession, family_id: int) -> Sequence[Member]:
    return (await session.scalars(
        select(Member).where(Member.family_id == family_id).order_by(Member.id))).all()


# Invites ------------------------------------------------------------------------------------
async def invite_by_hash(session: AsyncSession, digest: str) -> Invite | None:
    result: Invite | None = await session.scalar(select(Invite).where(Invite.token_hash == digest))
    return result


async def consume_invite(session: AsyncSession, invite_id: int, now: datetime) -> bool:
    """Mark used exactly once, even when two people tap the same link at the same moment."""
    result = await session.execute(
        update(Invite).where(Invite.id == invite_id, Invite.used_at.is_(None),
                             Invite.revoked_at.is_(None), Invite.expires_at > now)
        .values(used_at=now))
    return bool(getattr(result, "rowcount", 0) == 1)


# Relay ---------------------------------------------------------------------------------------
async def relay_link(session: AsyncSession, chat_id: int, message_id: int) -> RelayLink | None:
    result: RelayLink | None = await session.scalar(
        select(RelayLink).where(RelayLink.chat_id == chat_id, RelayLink.message_id == message_id))
    return result


async def mark_answered(session: AsyncSession, family_id: int, now: datetime) -> None:
    await session.execute(
        update(FamilyMessage).where(FamilyMessage.family_id == family_id,
                                    FamilyMessage.answered_at.is_(None))
        .values(answered_at=now))


# Pending input ---------------------------------------------------------------------------------
async def pending(session: AsyncSession, chat_id: int, now: datetime) -> PendingInput | None:
    row = await session.get(PendingInput, chat_id)
    if row is None:
        return None
    if row.expires_at <= now:
        await session.delete(row)
        return None
    return row


async def set_pending(session: AsyncSession, chat_id: int, action: str, data: dict[str, object],
                      expires_at: datetime) -> None:
    await clear_pending(session, chat_id)
    session.add(PendingInput(chat_id=chat_id, action=action, data=data, expires_at=expires_at))


async def clear_pending(session: AsyncSession, chat_id: int) -> None:
    await session.execute(delete(PendingInput).where(PendingInput.chat_id == chat_id))


# Outbox ------------------------------------------------------------------------------------------
async def send_in_flight(session: AsyncSession, chat_id: int) -> bool:
    """A send to this chat is claimed and not recorded yet (it may already have arrived)."""
    return bool(await session.scalar(select(func.count()).select_from(Outbox).where(
        Outbox.chat_id == chat_id, Outbox.status == "pending", Outbox.claimed_by.is_not(None))))


# Used buttons ------------------------------------------------------------------------------------
# bot_state keys f"tap:{chat}:{message}:{hash of the data}", valued with the UTC time of the
# press in a form that sorts as text (the retention purge compares it).
PRESSED = "tap:"


def _press_stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


async def first_press(session: AsyncSession, chat_id: int, message_id: int, data: str,
                      now: datetime) -> bool:
    """True the first time this button (this data, on this message, in this chat) is pressed;
    recorded in the caller's transaction, so it holds across restarts and instances."""
    digest = hashlib.sha256(data.encode()).hexdigest()[:6]
    key = f"{PRESSED}{chat_id}:{message_id}:{digest}"[:40]
    if await get_state(session, key) is not None:
        return False
    await put_state(session, key, _press_stamp(now))
    return True


async def forget_presses(session: AsyncSession, chat_id: int | None = None,
                         before: datetime | None = None) -> None:
    """Forget the used buttons of one chat, or those pressed before a moment."""
    prefix = PRESSED if chat_id is None else f"{PRESSED}{chat_id}:"
    query = delete(Setting).where(Setting.key.startswith(prefix))
    if before is not None:
        query = query.where(Setting.value < _press_stamp(before))
    await session.execute(query)


# Bot state -------------------------------------------------------------------------------------
async def get_state(session: AsyncSession, key: str) -> str | None:
    row = await session.get(Setting, key)
    return row.value if row else None


async def put_state(session: AsyncSession, key: str, value: str) -> None:
    row = await session.get(Setting, key)
    if row is None:
        session.add(Setting(key=key, value=value))
    else:
        row.value = value
