"""Between storage and the routing decision (bot/domain/routing.py): who gets a family message
now, and what the family is told."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import wording
from bot.domain import availability
from bot.domain.availability import Agreement, Policy, WindowSyntaxError, parse_windows
from bot.domain.crisis import CrisisService
from bot.domain.routing import Decision, Incoming, Reason, route
from bot.domain.urgency import Topic, urgent_topics
from bot.i18n import Translator
from handlers import crisis_text
from handlers.common import Who, Work
from storage import repo
from storage.models import Absence, Family, FamilyMessage, Staff

DEFAULT_WINDOWS = "ma-vr 09:00-17:00"


@dataclass
class Delivery:
    decision: Decision
    recipients: list[Staff]
    substitutes: list[tuple[Staff, Staff]] = field(default_factory=list)
    told_family: bool = False
    # When held: who stands in for whom at the release time (a coach on leave by then).
    release_substitutes: list[tuple[Staff, Staff]] = field(default_factory=list)
    # The family's own crisis services (its agreement), shown beside the region's when open.
    local: tuple[CrisisService, ...] = ()
    # What an urgent message was about: the crisis lines that fit it come first.
    topics: frozenset[Topic] = frozenset()

    @property
    def hold_until(self) -> datetime | None:
        return self.decision.hold_until


def agreement_of(family: Family, coaches: Sequence[Staff]) -> Agreement:
    """The family's own agreement, else its (first) coach's standard one."""
    lead = coaches[0] if coaches else None
    text = family.windows or (lead.windows if lead else None) or DEFAULT_WINDOWS
    policy = family.policy or (lead.policy if lead else None) or Policy.CRISIS.value
    try:
        windows = parse_windows(text)
    except WindowSyntaxError:  # stored text is validated on input; never strand a family
        windows = parse_windows(DEFAULT_WINDOWS)
    urgent_anytime = family.urgent_anytime
    if urgent_anytime is None:
        urgent_anytime = bool(lead.urgent_anytime) if lead else False
    return Agreement(windows, family.timezone, family.region, family.open_on_holidays,
                     Policy(policy), urgent_anytime=urgent_anytime)


async def absences_of(session: AsyncSession, staff_ids: Sequence[int], now: datetime
                      ) -> tuple[availability.Absence, ...]:
    rows = (await session.scalars(select(Absence).where(
        Absence.staff_id.in_(list(staff_ids)), Absence.ends_at > now))).all()
    return tuple(availability.Absence(r.staff_id, r.starts_at, r.ends_at, r.substitute_id)
                 for r in rows)


async def oncall_staff(session: AsyncSession) -> list[Staff]:
    rows = (await session.scalars(select(Staff).where(
        Staff.is_oncall.is_(True), Staff.active.is_(True), Staff.chat_id.is_not(None)))).all()
    return list(rows)


async def coordinator_id(session: AsyncSession) -> int | None:
    found = await repo.coordinators(session)
    return found[0].id if found else None


async def decide_at(session: AsyncSession, family: Family, coaches: Sequence[Staff],
                    incoming: Incoming, now: datetime) -> Delivery:
    ids = tuple(c.id for c in coaches)
    if not ids:  # a family without an active coach: the coordinator takes it
        lead = await coordinator_id(session)
        ids = (lead,) if lead is not None else ()
    if not ids:
        raise LookupError("a family message with nobody to receive it")
    oncall = await oncall_staff(session) if family.oncall_agreed else []
    decision = route(incoming, agreement_of(family, coaches), ids,
                     await absences_of(session, ids, now), await coordinator_id(session),
                     oncall_chat=bool(oncall), now=now)
    people = {s.id: s for s in coaches}
    for person_id in decision.deliver_to:
        if person_id not in people:
            found = await repo.staff_by_id(session, person_id)
            if found is not None:
                people[person_id] = found
    recipients = [people[i] for i in decision.deliver_to
                  if i in people and people[i].chat_id is not None]
    substitutes = [(people[a], people[b]) for a, b in decision.substitutes
                   if a in people and b in people]
    return Delivery(decision, recipients, substitutes)


async def decide(w: Work, family: Family, coaches: Sequence[Staff], message: FamilyMessage,
                 language: str) -> Delivery:
    topics = urgent_topics(message.body, language) if message.body else frozenset()
    message.urgent = bool(topics)
    incoming = Incoming(message.received_at, message.urgent)
    delivery = await decide_at(w.session, family, coaches, incoming, w.now)
    delivery.topics = topics
    if delivery.decision.show_crisis:  # only then are crisis numbers shown (answer_family)
        delivery.local = await crisis_text.family_services(w.session, family)
    if delivery.hold_until is not None:
        # The family is told who will read it: at the release a substitute may stand in
        # (digest.release_held takes this same decision again then).
        later = await decide_at(w.session, family, coaches, incoming, delivery.hold_until)
        delivery.release_substitutes = later.substitutes
    return delivery


def answer_family(w: Work, who: Who, tr: Translator, family: Family, delivery: Delivery,
                  message: FamilyMessage, coaches: Sequence[Staff]) -> None:
    """What the family reads back. Urgent: an answer of its own at any hour, safety first
    (PRODUCT.md §2.3). Out of hours: when the coach will read it and whom to call, once per
    quiet period (a burst at night gets one answer)."""
    member = who.member
    assert member is not None
    decision = delivery.decision
    if decision.urgent:
        _answer_urgent(w, who, tr, family, delivery, coaches)
        return
    crisis = crisis_text.lines(tr, family.region, w.now, delivery.local)
    if decision.held:
        already = member.notice_until is not None and member.notice_until == decision.hold_until
        if already:
            w.out.react(who.chat_id, message.telegram_message_id or 0)
            delivery.told_family = True
            return
        member.notice_until = decision.hold_until
        coach = wording.coach_names(tr, coaches)
        if decision.reason is Reason.NOBODY_PRESENT:
            first = tr.gettext("{coach} is er nu niet.").format(coach=coach)
        else:
            first = tr.gettext("{coach} is nu niet bereikbaar.").format(coach=coach)
        lines = [first, *_when_read(w, tr, delivery, coaches)]
        lines += ["", tr.gettext("Kan het niet wachten?"), crisis]
        w.answer(who, "\n".join(lines))
        delivery.told_family = True
        return
    if delivery.substitutes:
        w.answer(who, _standin_receipt(tr, delivery))
        delivery.told_family = True


def _when_read(w: Work, tr: Translator, delivery: Delivery, coaches: Sequence[Staff]
               ) -> list[str]:
    """A held message: who reads it when, and whether the on-duty team reads it now."""
    decision = delivery.decision
    assert decision.hold_until is not None
    when = tr.when(decision.hold_until, w.now)
    if delivery.release_substitutes:
        kept = tr.gettext("Je bericht is bewaard. {absent} is dan afwezig. {standin} "
                          "vervangt en leest het {when}.").format(
            absent=wording.names(tr, [a.display_name for a, _ in delivery.release_substitutes]),
            standin=wording.names(tr, [b.display_name for _, b in delivery.release_substitutes]),
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


def _answer_urgent(w: Work, who: Who, tr: Translator, family: Family, delivery: Delivery,
                   coaches: Sequence[Staff]) -> None:
    """Safety first: a warm word, 112 (and 101 in Belgium), the lines open now that fit what
    was said, and only then when the coach reads it. Every urgent message gets it, also the
    second one of a night: a family in danger is never answered with a 👍."""
    decision = delivery.decision
    lines = [
        tr.gettext("Wat je schrijft klinkt ernstig. Goed dat je het laat weten."),
        "",
        crisis_text.lines(tr, family.region, w.now, delivery.local, delivery.topics),
        "",
    ]
    if decision.held:
        member = who.member
        assert member is not None
        member.notice_until = decision.hold_until
        coach = wording.coach_names(tr, coaches)
        if decision.reason is Reason.NOBODY_PRESENT:
            lines.append(tr.gettext("{coach} is er nu niet.").format(coach=coach))
        else:
            lines.append(tr.gettext("{coach} is nu niet bereikbaar.").format(coach=coach))
        lines += _when_read(w, tr, delivery, coaches)
    elif delivery.substitutes:
        lines.append(_standin_receipt(tr, delivery))
    else:
        lines.append(tr.gettext("Doorgestuurd naar {names} ✓").format(
            names=wording.names(tr, [c.display_name for c in delivery.recipients])))
    w.answer(who, "\n".join(lines))
    delivery.told_family = True
