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
    HelpRequest,
    InboundUpdate,
    Invite,
    Member,
    Outbox,
    PendingInput,
    RelayLink,
    Reminder,
)
from storage.repos import family_keys
from storage.repos.outbox import lease_now
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
    """Contents received before `cutoff` go, whatever became of them (sent or not, delivered
    or held); what the agenda needs (that a message came, when, from which family) stays.
    Returns how many messages lost their contents."""
    # Whatever became of a message (delivered, held for the coach's next opening, waiting for
    # a coach who cannot be reached), its contents go. The row stays, so the agenda still
    # knows a message came, and a held one is still released to the coach, without contents.
    result = await session.execute(
        update(FamilyMessage).where(FamilyMessage.received_at < cutoff,
                                    or_(FamilyMessage.body.is_not(None),
                                        FamilyMessage.chat_id.is_not(None),
                                        FamilyMessage.telegram_message_id.is_not(None)))
        .values(body=None, chat_id=None, telegram_message_id=None))
    await session.execute(delete(RelayLink).where(RelayLink.created_at < cutoff))
    # A send still waiting after the retention period is no use any more: it expires, its
    # sealed contents gone — unless an instance is sending it right now (a live claim; the next
    # pass takes it). Expired, like every other row not sent by now, it is then deleted with
    # them: sent rows carry no content (emptied on delivery), the others are not needed.
    dialect = session.get_bind().dialect.name
    await session.execute(
        update(Outbox).where(
            Outbox.status == "pending", Outbox.created_at < cutoff,
            or_(Outbox.claimed_until.is_(None), Outbox.claimed_until < lease_now(dialect, now)))
        .values(status="expired", payload=None, claimed_by=None, claimed_until=None,
                last_error="expired after the retention period")
        .execution_options(synchronize_session=False))
    await session.execute(delete(Outbox).where(
        Outbox.status.in_(("sent", "failed", "parked", "expired", "cancelled")),
        Outbox.created_at < cutoff))
    # A coach's request for help (who, for which family, when): open for two weeks at most,
    # and handled only after it was asked, so one asked before the cutoff is done with.
    await session.execute(delete(HelpRequest).where(HelpRequest.asked_at < cutoff))
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
