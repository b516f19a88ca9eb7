"""A person's data (PRODUCT.md §2.7, §5): what they wrote that is kept, erasing a person who
leaves, and purging what is older than the retention period. Erasing and purging cross many
tables: everything that names or reaches a person goes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    ActionItem,
    Appointment,
    Family,
    FamilyMessage,
    InboundUpdate,
    Invite,
    Member,
    Outbox,
    PendingInput,
    RelayLink,
    Reminder,
)
from storage.repos import family_keys
from storage.repos.state import forget_presses


async def messages_of(session: AsyncSession, member_id: int) -> Sequence[FamilyMessage]:
    """Everything a member wrote that is still kept, in order (contents may be purged)."""
    return (await session.scalars(select(FamilyMessage).where(
        FamilyMessage.member_id == member_id).order_by(FamilyMessage.received_at))).all()


async def erase_member(session: AsyncSession, member: Member) -> str | None:
    """Everything about one person goes: messages and their copies' links, queued sends,
    pending questions, and the person. Family-level records (appointments) stay with the
    family; nothing left names or reaches this person. The family gets a new data key; the
    old one is returned, to destroy once this has committed (Database.erase_traces): then no
    earlier copy of what was erased can be read, in a dead row or a backup."""
    chat_id = member.chat_id
    message_ids = select(FamilyMessage.id).where(FamilyMessage.member_id == member.id)
    await session.execute(delete(RelayLink).where(or_(
        RelayLink.member_id == member.id, RelayLink.family_message_id.in_(message_ids))))
    await session.execute(delete(Outbox).where(or_(
        Outbox.chat_id == chat_id, Outbox.link_member_id == member.id,
        Outbox.link_message_id.in_(message_ids))))
    await session.execute(delete(FamilyMessage).where(FamilyMessage.member_id == member.id))
    await session.execute(delete(PendingInput).where(PendingInput.chat_id == chat_id))
    await forget_presses(session, chat_id=chat_id)
    # The invite that named this person (the coach may have typed their name and role).
    # Names are sealed, so they are compared here, not in SQL.
    used = (await session.scalars(select(Invite).where(
        Invite.family_id == member.family_id, Invite.used_at.is_not(None),
        Invite.member_name.is_not(None)))).all()
    for invite in used:
        if invite.member_name == member.first_name:
            invite.member_name = invite.member_role = None
    family = await session.get(Family, member.family_id)
    await session.delete(member)
    await session.flush()
    return await family_keys.rekey(session, family) if family is not None else None


async def purge_before(session: AsyncSession, cutoff: datetime, now: datetime) -> int:
    """Contents received before `cutoff` go; what the agenda needs (that a message came, when,
    from which family) stays. Returns how many messages lost their contents."""
    result = await session.execute(
        update(FamilyMessage).where(FamilyMessage.received_at < cutoff,
                                    FamilyMessage.status.in_(("delivered", "waiting")),
                                    or_(FamilyMessage.body.is_not(None),
                                        FamilyMessage.chat_id.is_not(None)))
        .values(body=None, chat_id=None, telegram_message_id=None))
    await session.execute(delete(RelayLink).where(RelayLink.created_at < cutoff))
    # Sent rows carry no content (emptied on delivery); old ones are not needed at all. Rows
    # that never arrived keep their sealed contents until now, for an operator to re-send.
    await session.execute(delete(Outbox).where(
        Outbox.status.in_(("sent", "failed", "parked", "expired", "cancelled")),
        Outbox.created_at < cutoff))
    await session.execute(delete(InboundUpdate).where(InboundUpdate.received_at < cutoff))
    # Half-finished steps (they may hold typed words) and the names on invites that were
    # used or ran out: neither is needed any more.
    await session.execute(delete(PendingInput).where(PendingInput.expires_at <= now))
    await session.execute(update(Invite).where(
        or_(Invite.used_at.is_not(None), Invite.revoked_at.is_not(None),
            Invite.expires_at <= now),
        or_(Invite.member_name.is_not(None), Invite.member_role.is_not(None)))
        .values(member_name=None, member_role=None))
    # Past appointments and finished agreements: the family needed the words before, not
    # after, and the agenda only looks ahead. Gone with their reminders.
    old_appointments = select(Appointment.id).where(Appointment.starts_at < cutoff)
    finished = select(ActionItem.id).where(
        ActionItem.status.in_(("done", "cancelled")),
        func.coalesce(ActionItem.done_at, ActionItem.created_at) < cutoff)
    await session.execute(delete(Reminder).where(or_(
        Reminder.appointment_id.in_(old_appointments), Reminder.action_id.in_(finished))))
    await session.execute(delete(Appointment).where(Appointment.starts_at < cutoff))
    await session.execute(delete(ActionItem).where(ActionItem.id.in_(finished)))
    # Which buttons were used (state.first_press): kept as long as contents are.
    await forget_presses(session, before=cutoff)
    return int(getattr(result, "rowcount", 0) or 0)
