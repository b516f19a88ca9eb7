"""Where a family message goes, and what the family is told: one pure decision.

The rules (PRODUCT.md §2.3), and the choices made where it is silent:

* Inside the agreement's windows the message is delivered now to the family's coach(es).
* Outside them the policy decides:
  - crisis: held until the next opening; the family gets the crisis services + 112 now.
  - oncall: as crisis, and also passed to the on-duty team's chat, but only when the family
    agreed to on-call in its agreement *and* such a chat is registered (`oncall_chat`).
  - always: delivered now; the coach chose to be reachable at any time, so the family is not
    told the coach is unavailable and gets no crisis list (unless the message is urgent).
  - save: held until the next opening, the family is shown the next appointment, *and* the
    crisis services + 112: every answer saying the coach is not available names 112
    (principle 4).
* An urgent message (crisis words, or the 🆘 button) gets the crisis services + 112 at once,
  whatever the hour, and is flagged urgent for the coach. Out of hours it is still held for the
  coach (the coach's boundary stands, principle 3) unless the agreement says urgent messages
  reach the coach at any hour (`urgent_anytime`, off by default); the crisis numbers are the
  immediate answer, and the on-call team gets it under policy oncall. Like "always", that
  choice is the coach's own and does not pass to a substitute.
* Absences: a present coach of a duo simply receives the message alone (no substitute needed).
  When every coach is absent, each absent coach's named substitute receives it, else the
  coordinator, and `substitutes` says who replaced whom so the family can be told. The
  substitute's own availability and absences are not checked: the coordinator arranged the
  substitution, and a substitute who is away is the coordinator's to resolve.
  "always" is a coach's personal promise and does not pass to a substitute: out of hours with
  every coach absent, the message is held for the next opening instead.
* When nobody can receive it (every coach absent, no substitute, no coordinator) the message is
  held until the first opening after the earliest return.
* A message is never held without a release time: if the agreement never opens (no windows, or
  none within the search horizon) it is delivered now (to the family's own coaches if nobody
  stands in for them) and the family still gets the crisis list.

All time questions are asked at `now`, the moment of deciding, not at `incoming.at` (when the
family wrote): a message read late (after downtime) must not wake the coach at 23:00 because it
was sent at 16:59, and the family needs the crisis services that answer now.

Releasing a held message is the same decision taken again at the release time
(`release_target`): a coach who went on leave meanwhile is replaced by their substitute, and the
family is not shown the crisis list a second time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from bot.domain.availability import (
    Absence,
    Agreement,
    Policy,
    active_absence,
    is_open,
    next_opening,
)


@dataclass(frozen=True)
class Incoming:
    at: datetime  # when the family wrote (aware)
    urgent: bool  # crisis words found, or sent with the 🆘 button


class Reason(StrEnum):
    """Why the decision came out as it did: the caller picks the receipt text from this."""

    IN_HOURS = "in_hours"  # inside the agreement: delivered now
    ALWAYS = "always"  # outside it, but the coach is reachable at any time: delivered now
    OUT_OF_HOURS = "out_of_hours"  # held until the next opening
    NOBODY_PRESENT = "nobody_present"  # every coach away and no stand-in: held until one is back
    NEVER_OPENS = "never_opens"  # the agreement has no opening: delivered now, not held forever
    URGENT_ANYTIME = "urgent_anytime"  # urgent, and the coach wants those at once: delivered


@dataclass(frozen=True)
class Decision:
    deliver_to: tuple[int, ...]  # person ids to deliver to now; empty when held
    substitutes: tuple[tuple[int, int], ...]  # (absent coach, who receives instead)
    hold_until: datetime | None  # when held: the release time (UTC); None when delivered now
    show_crisis: bool  # the family gets the crisis services that answer now, and 112
    to_oncall: bool  # pass a copy to the on-duty team's chat now
    show_next_appointment: bool  # policy save: the family sees the next appointment
    urgent: bool  # flag for the coach
    in_hours: bool  # `now` is inside the agreement's windows
    reason: Reason

    @property
    def held(self) -> bool:
        return self.hold_until is not None


@dataclass(frozen=True)
class _Recipients:
    people: tuple[int, ...]
    substitutes: tuple[tuple[int, int], ...]
    back_at: datetime | None  # when nobody can receive: the earliest return of a coach


def _recipients(
    coach_ids: tuple[int, ...],
    absences: tuple[Absence, ...],
    coordinator_id: int | None,
    at: datetime,
) -> _Recipients:
    away = {coach: active_absence(absences, coach, at) for coach in coach_ids}
    present = tuple(coach for coach, absence in away.items() if absence is None)
    if present:
        return _Recipients(present, (), None)
    people: list[int] = []
    substitutes: list[tuple[int, int]] = []
    for coach, absence in away.items():
        assert absence is not None
        stand_in = absence.substitute_id if absence.substitute_id is not None else coordinator_id
        if stand_in is None:
            continue
        substitutes.append((coach, stand_in))
        if stand_in not in people:
            people.append(stand_in)
    if people:
        return _Recipients(tuple(people), tuple(substitutes), None)
    back_at = min(absence.end for absence in away.values() if absence is not None)
    return _Recipients((), (), back_at)


def _unique(ids: Iterable[int]) -> tuple[int, ...]:
    return tuple(dict.fromkeys(ids))


def route(
    incoming: Incoming,
    agreement: Agreement,
    coach_ids: tuple[int, ...],
    absences: tuple[Absence, ...],
    coordinator_id: int | None,
    oncall_chat: bool,
    now: datetime,
) -> Decision:
    """Decide, at `now`, where a family message goes and what the family is told.

    `oncall_chat`: the family agreed to on-call in its agreement and a team chat is registered.
    """
    if now.tzinfo is None or incoming.at.tzinfo is None:
        raise ValueError("routing needs timezone-aware datetimes")
    coach_ids = _unique(coach_ids)
    if not coach_ids:
        raise ValueError("a family always has at least one coach")
    urgent = incoming.urgent
    in_hours = is_open(agreement, now)
    recipients = _recipients(coach_ids, absences, coordinator_id, now)

    def deliver(reason: Reason, show_crisis: bool) -> Decision:
        people = recipients.people or coach_ids  # nobody else: the family's own coach(es)
        return Decision(
            deliver_to=people,
            substitutes=recipients.substitutes,
            hold_until=None,
            show_crisis=show_crisis or urgent,
            to_oncall=False,
            show_next_appointment=False,
            urgent=urgent,
            in_hours=in_hours,
            reason=reason,
        )

    if in_hours and recipients.people:
        return deliver(Reason.IN_HOURS, show_crisis=False)
    policy = agreement.policy
    if (
        not in_hours
        and policy is Policy.ALWAYS
        and recipients.people
        and not recipients.substitutes
    ):
        return deliver(Reason.ALWAYS, show_crisis=False)
    if (
        urgent
        and not in_hours
        and agreement.urgent_anytime
        and recipients.people
        and not recipients.substitutes
    ):
        return deliver(Reason.URGENT_ANYTIME, show_crisis=True)

    # Held: for the coach's next window, or for the first window after someone is back.
    if recipients.people:
        reason, hold_from = Reason.OUT_OF_HOURS, now
    else:
        assert recipients.back_at is not None
        reason, hold_from = Reason.NOBODY_PRESENT, max(now, recipients.back_at)
    release = next_opening(agreement, hold_from)
    if release is None:
        return deliver(Reason.NEVER_OPENS, show_crisis=True)
    return Decision(
        deliver_to=(),
        substitutes=(),
        hold_until=release,
        show_crisis=True,
        to_oncall=not in_hours and policy is Policy.ONCALL and oncall_chat,
        show_next_appointment=not in_hours and policy is Policy.SAVE,
        urgent=urgent,
        in_hours=in_hours,
        reason=reason,
    )


def release_target(
    incoming: Incoming,
    agreement: Agreement,
    coach_ids: tuple[int, ...],
    absences: tuple[Absence, ...],
    coordinator_id: int | None,
    now: datetime,
) -> Decision:
    """Decide again for a held message at its release time `now`.

    The same rules as `route`, so a coach on leave by then is replaced by their substitute; the
    family was answered when it wrote, so nothing is shown to it again and nothing goes to the
    on-call team. If the agreement changed and `now` is no longer open, the result is held again
    with a new release time.
    """
    decision = route(
        incoming, agreement, coach_ids, absences, coordinator_id, oncall_chat=False, now=now
    )
    return replace(decision, show_crisis=False, to_oncall=False, show_next_appointment=False)
