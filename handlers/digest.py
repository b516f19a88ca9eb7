"""Held messages reach the coach at the next opening: one digest per family, in order, every
copy still answerable with *reply* (PRODUCT.md §2.3)."""

from __future__ import annotations

from datetime import datetime
from itertools import groupby

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import outbox, wording
from bot.domain.routing import Incoming
from bot.i18n import translator
from bot.outbox import Outgoing
from handlers import routing_glue
from handlers.relay import copy_to_coach
from storage import repo
from storage.models import Family, FamilyMessage, Member

BATCH = 200


async def release_held(session: AsyncSession, now: datetime) -> int:
    """Claim held messages whose time has come (SKIP LOCKED: one instance each), decide again
    who gets them (a coach on leave by now → the substitute), and queue the digests."""
    rows = (await session.scalars(
        select(FamilyMessage)
        .where(FamilyMessage.status == "held", FamilyMessage.hold_until <= now)
        .order_by(FamilyMessage.family_id, FamilyMessage.received_at, FamilyMessage.id)
        .limit(BATCH)
        .with_for_update(skip_locked=True))).all()
    if not rows:
        return 0
    out = Outgoing()
    # Urgent first (PRODUCT.md §2.3): the families with an urgent message, and within a
    # family its urgent messages, marked 🆘, then the rest in the order they were written.
    groups = [sorted(group, key=lambda m: not m.urgent)
              for _, group in groupby(rows, key=lambda r: r.family_id)]
    groups.sort(key=lambda messages: not messages[0].urgent)
    for messages in groups:
        family_id = messages[0].family_id
        family = await session.get(Family, family_id)
        if family is None:
            continue
        coaches = await repo.coaches_of(session, family_id)
        incoming = Incoming(messages[0].received_at, any(m.urgent for m in messages))
        # The same decision as when the family wrote, taken again now (routing.release_target's
        # rule): a coach who went on leave meanwhile is replaced by the substitute.
        delivery = await routing_glue.decide_at(session, family, coaches, incoming, now)
        if delivery.decision.held:  # the agreement changed meanwhile: wait for the new opening
            for message in messages:
                message.hold_until = delivery.decision.hold_until
            continue
        members = {m.id: m for m in await repo.members_of(session, family_id)}
        for recipient in delivery.recipients:
            tr = translator(recipient.language, family.region, family.timezone)
            if recipient.chat_id is None:
                continue
            urgent = sum(1 for m in messages if m.urgent)
            title = tr.ngettext("📬 Bewaard buiten je bereikbaarheid: {n} bericht van {alias}.",
                                "📬 Bewaard buiten je bereikbaarheid: {n} berichten van {alias}.",
                                len(messages)).format(n=len(messages), alias=family.alias)
            title = wording.sentence(title)
            if urgent:
                title += "\n" + tr.gettext("🆘 Met een teken van nood. Kijk er eerst naar.")
            if delivery.substitutes:
                title += "\n" + tr.gettext("Je vervangt nu {names}.").format(
                    names=", ".join(a.display_name for a, _ in delivery.substitutes))
            out.text(recipient.chat_id, title, purpose="digest")
            for message in messages:
                member: Member | None = members.get(message.member_id or -1)
                copy_to_coach(out, recipient, family, member, message, silent=True,
                              flag="🆘 " if message.urgent else "", purpose="digest")
        for message in messages:
            message.status = "delivered"
            message.delivered_at = now
            message.hold_until = None
    outbox.write(session, out.sends, now)
    return len(rows)
