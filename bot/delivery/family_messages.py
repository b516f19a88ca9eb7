"""A family member's message on the line: stored first, then copied to whoever reads it now
(or held for the coach's next opening), the on-call team and the coordinators told where the
agreement says so, and the family answered."""

from __future__ import annotations

from collections.abc import Sequence

from bot import wording
from bot.delivery.copies import copy_to_coach
from bot.delivery.family_answers import Reader, answer_family, forwarded
from bot.delivery.recipients import reachable, route_message
from bot.delivery.undelivered import hold_for_coach
from bot.domain.relay import receipt_due, silent_copy
from bot.domain.urgency import urgent_topics
from bot.unit import Unit
from storage.models import Family, FamilyMessage, Member, Staff
from storage.repos import families, messages
from storage.repos import outbox as outbox_rows
from storage.repos.families import StaffAround


async def receive(unit: Unit, member: Member, family: Family, *, chat_id: int,
                  message_id: int, kind: str, body: str | None,
                  around: StaffAround | None = None) -> None:
    """`kind` as bot/domain/relay.message_kind names it; `body` its text or caption (an edit
    already marked as one); `around`: the staff around the family, when read with the member
    in this unit of work (families.member_and_family)."""
    tr = unit.tr_for(member, family)
    topics = urgent_topics(body, member.language) if body else frozenset()
    stored = FamilyMessage(
        family_id=family.id, member_id=member.id, chat_id=chat_id,
        telegram_message_id=message_id, kind=kind, body=body, urgent=bool(topics),
        received_at=unit.now, status="delivered")
    if around is None:
        around = await families.staff_around(unit.session, family.id, family.oncall_agreed,
                                             unit.now)
    coaches = around.coaches
    routed = await route_message(unit.session, family, coaches, stored, topics, unit.now,
                                 around)
    delivery = routed.delivery
    # Decided before it is stored: one INSERT, not an INSERT and an UPDATE (issue 16).
    if delivery.recipients:
        stored.delivered_at = unit.now
    else:
        stored.status = "held"
        stored.hold_until = delivery.hold_until
    # The INSERT moves the member's last relay and the family's last contact to now itself
    # (migration 0013): two statements less for every relayed message (issue 16).
    silent = silent_copy(member.last_relay_at, unit.now)
    await messages.add(unit.session, stored)
    if member.blocked_at is not None:
        # Writing again means the bot is no longer blocked. Only then: setting it to None
        # again marks the member changed, and the commit's flush of a member with nothing
        # new was 4 % of the bot's busy time in a relay burst (bench/README.md).
        member.blocked_at = None
    receipt_after: int | None = None
    waiting_copy: int | None = None  # nobody can read it now: the copy that waits for them
    if delivery.recipients:
        flag = "🆘 " if stored.urgent else ""
        readers = reachable(delivery.recipients)
        for recipient in delivery.recipients:
            copy_to_coach(unit.out, recipient, family, member, stored,
                          silent=silent and not stored.urgent, flag=flag)
            if readers and recipient is readers[0]:
                receipt_after = unit.out.last  # the receipt waits for this copy
            elif not readers and waiting_copy is None:
                waiting_copy = unit.out.last
    else:
        if stored.urgent:
            _alert_coordinators(unit, family, coaches, stored, routed.staffing.coordinators)
    if delivery.decision.to_oncall:
        # Policy oncall, and the family agreed: the on-duty team reads it now as well.
        for team in routed.staffing.oncall:
            copy_to_coach(unit.out, team, family, member, stored, silent=False, flag="🚨 ")
    reader = Reader(member, family, tr, chat_id, message_id)
    told = answer_family(unit, reader, routed, coaches, receipt_after)
    if delivery.recipients and receipt_after is None:
        # Nobody it went to can be reached (they blocked the bot): it waits for them.
        first = not any([await outbox_rows.waiting_for(unit.session, r.chat_id, family.id)
                         for r in delivery.recipients if r.chat_id is not None])
        await hold_for_coach(unit.session, unit.out, stored, family, member,
                             delivery.recipients, unit.now, first)
        if waiting_copy is not None:
            # Once it reaches the coach the family sees so, as when the 403 came on its copy.
            unit.out.react(chat_id, message_id, after=waiting_copy)
    elif delivery.recipients and not told:
        # Only once the copy reached the coach: never a ✓ for a message still on its way.
        if receipt_due(member.last_receipt_at, unit.now):
            member.last_receipt_at = unit.now
            unit.out.text(chat_id, forwarded(tr, reachable(delivery.recipients)),
                          after=receipt_after)
        else:
            unit.out.react(chat_id, message_id, after=receipt_after)


def _alert_coordinators(unit: Unit, family: Family, coaches: Sequence[Staff],
                       stored: FamilyMessage, coordinators: Sequence[Staff]) -> None:
    """An urgent message held out of hours: coordinators who asked for it hear of it, with the
    family's alias and the time only, never the content (PRODUCT.md §1 principle 2)."""
    until = stored.hold_until
    assert until is not None
    unit.tell_staff([c for c in coordinators if c.urgent_alerts], lambda ctr: "\n".join([
        ctr.gettext("🆘 {alias} stuurde om {time} een bericht met een teken van nood.").format(
            alias=family.alias, time=ctr.time(stored.received_at)),
        ctr.gettext("Het wacht op {coach} tot {when}. De inhoud zie je niet.").format(
            coach=wording.coach_names(ctr, coaches), when=ctr.when(until, unit.now)),
    ]), purpose="notice")
