"""What a family reads back after writing: the crisis lines when the coach is not there, who
reads it when, who stands in. Urgent messages get an answer of their own at any hour, safety
first (PRODUCT.md §2.3); out of hours the family is told once per quiet period (a burst at
night gets one answer)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot import wording
from bot.delivery import crisis_lines
from bot.delivery.recipients import Delivery, Routed, reachable
from bot.domain.routing import Reason
from bot.i18n import Translator
from bot.unit import Unit
from storage.models import Family, Member, Staff


@dataclass(frozen=True)
class Reader:
    """The member who wrote, where, and in which words they read."""

    member: Member
    family: Family
    tr: Translator
    chat_id: int
    message_id: int


def answer_family(unit: Unit, reader: Reader, routed: Routed, coaches: Sequence[Staff],
                  copied: int | None) -> bool:
    """Answer the family; True when it was told (then no separate receipt follows). `copied`:
    the copy a receipt waits for (None: no copy can reach anyone now)."""
    member, tr = reader.member, reader.tr
    decision = routed.delivery.decision
    if decision.urgent:
        _answer_urgent(unit, reader, routed, coaches, copied)
        return True
    if decision.held:
        already = member.notice_until is not None and member.notice_until == decision.hold_until
        if already:
            unit.out.react(reader.chat_id, reader.message_id)
            return True
        member.notice_until = decision.hold_until
        lines = [_not_there(tr, decision.reason, coaches), *_when_read(unit, tr, routed, coaches)]
        # Made here only: a message relayed at once shows no crisis lines (they were 2 % of
        # the bot's busy time in a relay burst, py-spy, made for nothing).
        lines += ["", tr.gettext("Kan het niet wachten?"),
                  crisis_lines.lines(tr, reader.family.region, unit.now, routed.local)]
        unit.out.text(reader.chat_id, "\n".join(lines))
        return True
    if routed.delivery.substitutes and copied is not None:
        unit.out.text(reader.chat_id, _standin_receipt(tr, routed.delivery), after=copied)
        return True
    return False


def _not_there(tr: Translator, reason: Reason, coaches: Sequence[Staff]) -> str:
    coach = wording.coach_names(tr, coaches)
    if reason is Reason.NOBODY_PRESENT:
        return tr.gettext("{coach} is er nu niet.").format(coach=coach)
    return tr.gettext("{coach} is nu niet bereikbaar.").format(coach=coach)


def _when_read(unit: Unit, tr: Translator, routed: Routed, coaches: Sequence[Staff]
               ) -> list[str]:
    """A held message: who reads it when, and whether the on-duty team reads it now."""
    decision = routed.delivery.decision
    assert decision.hold_until is not None
    when = tr.when(decision.hold_until, unit.now)
    if routed.release_substitutes:
        kept = tr.gettext("Je bericht is bewaard. {absent} is dan afwezig. {standin} "
                          "vervangt en leest het {when}.").format(
            absent=wording.names(tr, [a.display_name for a, _ in routed.release_substitutes]),
            standin=wording.names(tr, [b.display_name for _, b in routed.release_substitutes]),
            when=when)
    else:
        kept = tr.gettext("Je bericht is bewaard. {coach} leest het {when}.").format(
            coach=wording.coach_names(tr, coaches), when=when)
    lines = [kept]
    if decision.to_oncall:
        lines.append(tr.gettext("De crisisdienst leest je bericht nu ook."))
    return lines


def _standin_receipt(tr: Translator, delivery: Delivery) -> str:
    absent = wording.names(tr, [a.display_name for a, _ in delivery.substitutes])
    standin = wording.names(tr, [b.display_name for _, b in delivery.substitutes])
    return tr.gettext("{absent} is er nu niet. {standin} vervangt en leest je bericht "
                      "✓").format(absent=absent, standin=standin)


def forwarded(tr: Translator, recipients: Sequence[Staff]) -> str:
    """'Doorgestuurd naar Sanne ✓'."""
    return tr.gettext("Doorgestuurd naar {names} ✓").format(
        names=wording.names(tr, [c.display_name for c in recipients]))


def _answer_urgent(unit: Unit, reader: Reader, routed: Routed, coaches: Sequence[Staff],
                   copied: int | None) -> None:
    """Safety first: a warm word, 112 (and 101 in Belgium), the lines open now that fit what
    was said, and only then when the coach reads it. Every urgent message gets it, also the
    second one of a night: a family in danger is never answered with a 👍. Where it went is
    said once the copy reached the coach: the crisis lines never wait for that."""
    tr, delivery = reader.tr, routed.delivery
    decision = delivery.decision
    lines = [
        tr.gettext("Wat je schrijft klinkt ernstig. Goed dat je het laat weten."),
        "",
        crisis_lines.lines(tr, reader.family.region, unit.now, routed.local, routed.topics),
    ]
    if decision.held:
        reader.member.notice_until = decision.hold_until
        lines += ["", _not_there(tr, decision.reason, coaches)]
        lines += _when_read(unit, tr, routed, coaches)
    unit.out.text(reader.chat_id, "\n".join(lines))
    if decision.held or copied is None:
        return
    receipt = _standin_receipt(tr, delivery) if delivery.substitutes \
        else forwarded(tr, reachable(delivery.recipients))
    unit.out.text(reader.chat_id, receipt, after=copied)
