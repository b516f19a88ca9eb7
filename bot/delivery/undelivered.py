"""A family message that cannot reach its coach: the coach blocked the bot, or their chat is
gone. Nobody is told "delivered" when it was not (PRODUCT.md §2.2): the family hears it in plain
words, with the crisis lines and who reads it when; a co-coach who can be reached reads it now;
the coordinator hears of it (the family's alias, never the content); and the coach gets it, in
its place among the others, as soon as they can be reached again (bot/outbox: parked rows)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from bot import outbox, wording
from bot.delivery import crisis_lines
from bot.delivery.copies import copy_to_coach
from bot.delivery.family_answers import forwarded
from bot.delivery.recipients import reachable
from bot.domain.crisis import CrisisService
from bot.i18n import Translator, translator
from bot.outbox import Outgoing
from storage.db import Session
from storage.models import Family, FamilyMessage, Member, Outbox, Staff
from storage.repos import families, messages, people
from storage.repos import outbox as outbox_rows

# An urgent message's answer carries the crisis lines. For this long after it, a family told
# that the message has not reached the coach is pointed to those lines instead of reading them
# again (within a second, as the coach's 403 comes, they were the same lines twice).
LINES_IN_VIEW = timedelta(minutes=15)


def lines_in_view(message: FamilyMessage, now: datetime) -> bool:
    """The family read the crisis lines with this message's own answer a moment ago."""
    return message.urgent and now - message.received_at <= LINES_IN_VIEW


def tell_family_waiting(out: Outgoing, tr: Translator, chat_id: int, family: Family,
                        absent: Sequence[Staff], now: datetime, first: bool,
                        local: Sequence[CrisisService] = (), lines_above: bool = False) -> None:
    """The family learns their message has not reached the coach yet, and when it will; with
    the crisis lines, or (`lines_above`) a pointer to the ones they have just read."""
    coach = wording.coach_names(tr, absent)
    if not first:
        out.text(chat_id, tr.gettext("Ook dit bericht is bewaard voor {coach}.").format(
            coach=coach))
        return
    lines = [
        tr.gettext("Je bericht is nog niet bij {coach} aangekomen. Het is bewaard: {coach} "
                   "krijgt het zodra dat weer kan. De coördinator weet het.").format(
            coach=coach),
        "",
    ]
    if lines_above:
        lines.append(tr.gettext("Kan het niet wachten? Bel dan een van de nummers hierboven."))
    else:
        lines += [tr.gettext("Kan het niet wachten?"),
                  crisis_lines.lines(tr, family.region, now, local)]
    out.text(chat_id, "\n".join(lines))


def tell_coordinators(out: Outgoing, coordinators: Sequence[Staff], family: Family,
                      absent: Sequence[Staff]) -> None:
    """The alias and who cannot be reached: enough to act, nothing of what was written."""
    for coordinator in coordinators:
        if coordinator.chat_id is None:
            continue
        ctr = translator(coordinator.language)
        coach = wording.coach_names(ctr, absent)
        out.text(coordinator.chat_id, ctr.gettext(
            "⚠️ Een bericht van {alias} kan {coach} niet bereiken. {coach} heeft de bot "
            "geblokkeerd of het gesprek verwijderd. Het wacht tot {coach} weer bereikbaar is. "
            "Neem zo nodig contact op met {coach} of met het gezin.").format(
                alias=family.alias, coach=coach),
            purpose="notice")


async def copy_not_delivered(session: Session, row: Outbox, now: datetime) -> None:
    """Dispatcher hook: the copy in `row` will not reach its coach for now."""
    assert row.link_message_id is not None
    message = await messages.by_id(session, row.link_message_id)
    if message is None or message.status == "waiting":
        return  # the family has heard already
    family = await families.family_by_id(session, message.family_id)
    member = await session.get(Member, message.member_id) if message.member_id else None
    absent = await people.staff_by_chat(session, row.chat_id)
    if family is None or member is None or absent is None:
        return
    out = Outgoing()
    coaches = await families.coaches_of(session, family.id)
    others = [c for c in reachable(coaches) if c.id != absent.id]
    tr = translator(member.language, family.region, family.timezone)
    copies = await outbox_rows.copies_of_message(session, message.id)
    if others:
        # A co-coach reads it (the copy they have, or one now); the family hears so once it
        # reached them.
        other = others[0]
        already = copies.get(other.chat_id) if other.chat_id is not None else None
        if already is not None and already.status != "parked":
            out.text(member.chat_id, forwarded(tr, [other]), after_row=already.id)
        else:
            copy_to_coach(out, other, family, member, message, silent=False)
            out.text(member.chat_id, forwarded(tr, [other]), after=out.last)
    else:
        first = not await messages.waiting_in_family(session, family.id)
        await hold_for_coach(session, out, message, family, member, [absent], now, first)
    await outbox.write(session, out.sends, now)


async def hold_for_coach(session: Session, out: Outgoing, message: FamilyMessage,
                         family: Family, member: Member, absent: Sequence[Staff],
                         now: datetime, first: bool) -> None:
    """Nobody who can read it now: it waits for the coach. The member who wrote is told why
    (the first time for them: a father writing after the mother gets the whole explanation),
    and the coordinators the first time for the family (`first`). Not the coordinators when
    the coach's block was found only now, in this same step: that notice names the families
    whose messages wait (bot/jobs/blocked_recipients.py), one notice for one event."""
    told = await messages.member_was_told_of_waiting(session, member.id, message.id)
    message.status = "waiting"
    message.delivered_at = None
    tr = translator(member.language, family.region, family.timezone)
    local = await crisis_lines.family_services(session, family)
    tell_family_waiting(out, tr, member.chat_id, family, absent, now, not told, local,
                        lines_above=lines_in_view(message, now))
    if first and not all(coach.blocked_at == now for coach in absent):
        tell_coordinators(out, await people.coordinators(session), family, absent)


async def copy_arrived(session: Session, row: Outbox, now: datetime) -> None:
    """Dispatcher hook: a copy of a message that waited for its coach reached them (it is
    delivered now)."""
    if row.link_message_id is not None and row.purpose in ("relay", "digest"):
        await messages.mark_arrived(session, row.link_message_id, now)
