"""Held messages reach the coach at the next opening: one digest per family, in order, every
copy still answerable with *reply* (PRODUCT.md §2.3)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from itertools import groupby
from typing import Any

from bot import outbox, wording
from bot.delivery.copies import copy_to_coach
from bot.delivery.recipients import Delivery, decide_at
from bot.domain.routing import Incoming
from bot.i18n import translator
from bot.outbox import Link, Outgoing
from storage.db import Session
from storage.models import Family, FamilyMessage, Member
from storage.repos import families, messages, people

BATCH = 200


async def release_held(session: Session, now: datetime) -> int:
    """Claim held messages whose time has come (SKIP LOCKED: one instance each), decide again
    who gets them (a coach on leave by now → the substitute), and queue the digests."""
    rows = await messages.claim_held_due(session, now, BATCH)
    if not rows:
        return 0
    out = Outgoing()
    # Urgent first (PRODUCT.md §2.3): the families with an urgent message, and within a
    # family its urgent messages, marked 🆘, then the rest in the order they were written.
    groups = [sorted(group, key=lambda m: not m.urgent)
              for _, group in groupby(rows, key=lambda r: r.family_id)]
    groups.sort(key=lambda held: not held[0].urgent)
    # The batch's families and their members read at once, not per family (the busiest
    # morning released 5,716 messages at 5.0 statements each, bench/README.md).
    ids = [held[0].family_id for held in groups]
    found = await families.families_by_id(session, ids)
    members_of = await people.members_of_families(session, ids)
    # Everything read before anything is written (the messages' new state goes out with the
    # digests, at the commit): on SQLite the first write holds the one write lock until the
    # commit, and the families' own messages waited for every family read after it.
    with session.no_autoflush:
        await _decide_each(session, groups, found, members_of, out, now)
    await outbox.write(session, out.sends, now)
    return len(rows)


class HeldRelease:
    """The job: release_held, in the passes where a held message is due (the dispatcher asks
    first, for all its planners in one statement: bot/outbox/dispatcher.py _plan_pass)."""

    async def __call__(self, session: Session, now: datetime) -> int:
        return await release_held(session, now)

    def due_probe(self, now: datetime) -> Any:
        return messages.held_due(now)


async def _decide_each(session: Session, groups: Sequence[Sequence[FamilyMessage]],
                       found: Mapping[int, Family], members_of: Mapping[int, Sequence[Member]],
                       out: Outgoing, now: datetime) -> None:
    for held in groups:
        family = found.get(held[0].family_id)
        if family is None:
            continue
        incoming = Incoming(held[0].received_at, any(m.urgent for m in held))
        # The same decision as when the family wrote, taken again now (routing.release_target's
        # rule): a coach who went on leave meanwhile is replaced by the substitute.
        delivery = await decide_at(session, family, incoming, now)
        if delivery.decision.held:  # the agreement changed meanwhile: wait for the new opening
            for message in held:
                message.hold_until = delivery.decision.hold_until
            continue
        members = {m.id: m for m in members_of[family.id]}
        _digest(out, family, members, held, delivery)
        for message in held:
            message.status = "delivered"
            message.delivered_at = now
            message.hold_until = None


def _digest(out: Outgoing, family: Family, members: dict[int, Member],
            held: Sequence[FamilyMessage], delivery: Delivery) -> None:
    """To each recipient: a title (how many, urgent first, whom they stand in for), then the
    copies, silent."""
    urgent = sum(1 for m in held if m.urgent)
    for recipient in delivery.recipients:
        tr = translator(recipient.language, family.region, family.timezone)
        if recipient.chat_id is None:
            continue
        title = tr.ngettext("📬 Bewaard buiten je bereikbaarheid: {n} bericht van {alias}.",
                            "📬 Bewaard buiten je bereikbaarheid: {n} berichten van {alias}.",
                            len(held)).format(n=len(held), alias=family.alias)
        title = wording.sentence(title)
        if urgent:
            title += "\n" + tr.gettext("🆘 Met een teken van nood. Kijk er eerst naar.")
        if delivery.substitutes:
            title += "\n" + tr.gettext("Je vervangt nu {names}.").format(
                names=", ".join(a.display_name for a, _ in delivery.substitutes))
        # The title names its family (no message: a reply to it finds no one), so that the
        # family's digest can go before the coach's other bulk rows when one of the family
        # writes meanwhile (storage/repos/outbox.py, _may_pass).
        out.text(recipient.chat_id, title, purpose="digest", link=Link(family.id))
        for message in held:
            member = members.get(message.member_id or -1)
            copy_to_coach(out, recipient, family, member, message, silent=True,
                          flag="🆘 " if message.urgent else "", purpose="digest")
