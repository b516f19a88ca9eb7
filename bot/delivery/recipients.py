"""Who receives a family message, between storage and the routing rule (bot/domain/routing.py):
the family's agreement, the absences and stand-ins, the coordinator and the on-call team, read
once and asked for as many instants as needed (now, and the release time of a held message)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.delivery import crisis_lines
from bot.domain import availability
from bot.domain.availability import Agreement, Policy, WindowSyntaxError, parse_windows
from bot.domain.crisis import CrisisService
from bot.domain.routing import Decision, Incoming, route
from bot.domain.urgency import Topic
from storage.db import Session
from storage.models import Absence, Family, FamilyMessage, Staff
from storage.repos import absences, families, people
from storage.repos.families import StaffAround

DEFAULT_WINDOWS = "ma-vr 09:00-17:00"


def agreement_of(family: Family, coaches: Sequence[Staff]) -> Agreement:
    """The family's own agreement, else its (first) coach's standard one."""
    lead = coaches[0] if coaches else None
    text = family.windows or (lead.windows if lead else None) or DEFAULT_WINDOWS
    policy = family.policy or (lead.policy if lead else None) or Policy.CRISIS.value
    urgent_anytime = family.urgent_anytime
    if urgent_anytime is None:
        urgent_anytime = bool(lead.urgent_anytime) if lead else False
    return _agreement(text, family.timezone, family.region, family.open_on_holidays,
                      policy, urgent_anytime)


@functools.lru_cache(maxsize=1024)
def _agreement(text: str, timezone: str, region: str, open_on_holidays: bool, policy: str,
               urgent_anytime: bool) -> Agreement:
    """Built once for the same settings (an Agreement is frozen): reading the windows' text
    again for every family message was 1 % of a relayed message's CPU (bench/README.md)."""
    try:
        windows = parse_windows(text)
    except WindowSyntaxError:  # stored text is validated on input; never strand a family
        windows = parse_windows(DEFAULT_WINDOWS)
    return Agreement(windows, timezone, region, open_on_holidays, Policy(policy),
                     urgent_anytime=urgent_anytime)


async def absences_of(session: Session, staff_ids: Sequence[int], now: datetime,
                      known: Sequence[Absence] | None = None
                      ) -> tuple[availability.Absence, ...]:
    """The absences of these people under way or still to come at `now` (`known`: read
    already, of these people and maybe others)."""
    rows = await absences.absences_not_ended(session, staff_ids, now) if known is None \
        else [r for r in known if r.staff_id in staff_ids]
    return tuple(availability.Absence(r.staff_id, r.starts_at, r.ends_at, r.substitute_id)
                 for r in rows)


@dataclass(frozen=True)
class Staffing:
    """What routing reads from the database for one family, at `now`: good for any later
    instant too (an absence that has not ended by `now` is still among them)."""

    agreement: Agreement
    coach_ids: tuple[int, ...]  # the family's coaches, else the coordinator
    absences: tuple[availability.Absence, ...]
    coordinators: Sequence[Staff]
    oncall: Sequence[Staff]  # the on-duty team, when the family agreed to on-call

    def decide(self, incoming: Incoming, at: datetime) -> Decision:
        lead = self.coordinators[0].id if self.coordinators else None
        return route(incoming, self.agreement, self.coach_ids, self.absences, lead,
                     oncall_chat=bool(self.oncall), now=at)


async def staffing(session: Session, family: Family, coaches: Sequence[Staff], now: datetime,
                   known: StaffAround | None = None) -> Staffing:
    """`known`: the coordinators, the on-call team and the absences, when already read with
    the coaches (families.staff_around)."""
    coordinators = known.coordinators if known else await people.coordinators(session)
    ids = tuple(c.id for c in coaches)
    if not ids and coordinators:  # a family without an active coach: the coordinator takes it
        ids = (coordinators[0].id,)
    if not ids:
        raise LookupError("a family message with nobody to receive it")
    oncall = (known.oncall if known else await people.oncall_staff(session)) \
        if family.oncall_agreed else ()
    return Staffing(agreement_of(family, coaches), ids,
                    await absences_of(session, ids, now, known.absences if known else None),
                    coordinators, oncall)


def reachable(staff: Sequence[Staff]) -> list[Staff]:
    """Those who can be reached in Telegram now (a chat, and the bot not blocked)."""
    return [s for s in staff if s.chat_id is not None and s.blocked_at is None]


@dataclass(frozen=True)
class Delivery:
    """A decision with the people in it."""

    decision: Decision
    recipients: list[Staff]  # who gets it now (with a chat)
    substitutes: list[tuple[Staff, Staff]]  # (absent coach, who stands in)

    @property
    def hold_until(self) -> datetime | None:
        return self.decision.hold_until


async def with_people(session: Session, coaches: Sequence[Staff], decision: Decision
                      ) -> Delivery:
    """The coaches, and whoever else the decision names to receive it."""
    known = {s.id: s for s in coaches}
    for person_id in decision.deliver_to:
        if person_id not in known:
            found = await people.staff_by_id(session, person_id)
            if found is not None:
                known[person_id] = found
    return Delivery(
        decision,
        [known[i] for i in decision.deliver_to if i in known and known[i].chat_id is not None],
        [(known[a], known[b]) for a, b in decision.substitutes if a in known and b in known])


async def decide_at(session: Session, family: Family, incoming: Incoming, now: datetime
                    ) -> Delivery:
    """Who gets a message from this family at `now` (an answer to a reminder, a digest),
    from one reading of the staff around the family (its coaches, the coordinators, the
    on-call team and their absences): the morning's digests read them for thousands of
    families at once (bench/README.md)."""
    around = await families.staff_around(session, family.id, family.oncall_agreed, now)
    found = await staffing(session, family, around.coaches, now, around)
    return await with_people(session, around.coaches, found.decide(incoming, now))


@dataclass(frozen=True)
class Routed:
    """A family message's delivery now, with what its answer to the family needs."""

    delivery: Delivery
    staffing: Staffing
    # When held: who stands in for whom at the release time (a coach on leave by then).
    release_substitutes: list[tuple[Staff, Staff]]
    # The family's own crisis services (its agreement), shown beside the region's when open.
    local: tuple[CrisisService, ...]
    # What an urgent message was about: the crisis lines that fit it come first.
    topics: frozenset[Topic]


async def route_message(session: Session, family: Family, coaches: Sequence[Staff],
                        message: FamilyMessage, topics: frozenset[Topic], now: datetime,
                        known: StaffAround | None = None) -> Routed:
    """Where a family member's message goes now; when held, also who reads it at the release
    (the held-messages job takes that same decision again then), from one reading of the
    staffing."""
    found = await staffing(session, family, coaches, now, known)
    incoming = Incoming(message.received_at, message.urgent)
    delivery = await with_people(session, coaches, found.decide(incoming, now))
    local = await crisis_lines.family_services(session, family) \
        if delivery.decision.show_crisis else ()  # only then are crisis numbers shown
    release: list[tuple[Staff, Staff]] = []
    if delivery.hold_until is not None:
        later = await with_people(session, coaches, found.decide(incoming, delivery.hold_until))
        release = later.substitutes
    return Routed(delivery, found, release, local, topics)
