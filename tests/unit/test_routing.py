"""The routing decision: policies, urgency, absences, duos, release of held messages."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.availability import (
    Absence,
    Agreement,
    Policy,
    Window,
    default_agreement,
    is_open,
    next_opening,
)
from bot.domain.routing import Decision, Incoming, Reason, release_target, route

AMS = ZoneInfo("Europe/Amsterdam")
SANNE, PIETER, COORDINATOR, ANNA = 1, 2, 9, 3
NL = default_agreement("NL")  # Mon-Fri 09:00-17:00, policy crisis

WEDNESDAY_NOON = datetime(2026, 11, 25, 12, 0, tzinfo=AMS)
WEDNESDAY_NIGHT = datetime(2026, 11, 25, 3, 0, tzinfo=AMS)
WEDNESDAY_EVENING = datetime(2026, 11, 25, 20, 0, tzinfo=AMS)
THURSDAY_NINE = datetime(2026, 11, 26, 9, 0, tzinfo=AMS)


def decide(
    at: datetime,
    *,
    policy: Policy = Policy.CRISIS,
    urgent: bool = False,
    coaches: tuple[int, ...] = (SANNE,),
    absences: tuple[Absence, ...] = (),
    coordinator: int | None = COORDINATOR,
    oncall_chat: bool = False,
) -> Decision:
    return route(
        Incoming(at, urgent),
        replace(NL, policy=policy),
        coaches,
        absences,
        coordinator,
        oncall_chat,
        now=at,
    )


def test_inside_hours_delivers_now() -> None:
    decision = decide(WEDNESDAY_NOON)
    assert decision == Decision(
        deliver_to=(SANNE,),
        substitutes=(),
        hold_until=None,
        show_crisis=False,
        to_oncall=False,
        show_next_appointment=False,
        urgent=False,
        in_hours=True,
        reason=Reason.IN_HOURS,
    )
    assert not decision.held


# (policy, oncall_chat) -> (delivered now, show_crisis, to_oncall, show_next_appointment)
POLICY_TABLE = [
    (Policy.CRISIS, False, False, True, False, False),
    (Policy.CRISIS, True, False, True, False, False),  # on-call needs policy oncall too
    (Policy.ONCALL, True, False, True, True, False),
    (Policy.ONCALL, False, False, True, False, False),  # no chat registered / not agreed
    (Policy.ALWAYS, False, True, False, False, False),
    (Policy.SAVE, False, False, True, False, True),
]


@pytest.mark.parametrize(
    ("policy", "oncall_chat", "now", "crisis", "oncall", "appointment"), POLICY_TABLE
)
def test_out_of_hours_policies(
    policy: Policy, oncall_chat: bool, now: bool, crisis: bool, oncall: bool, appointment: bool
) -> None:
    decision = decide(WEDNESDAY_EVENING, policy=policy, oncall_chat=oncall_chat)
    assert decision.in_hours is False
    assert (decision.deliver_to == (SANNE,)) is now
    assert decision.hold_until == (None if now else THURSDAY_NINE)
    assert decision.reason is (Reason.ALWAYS if now else Reason.OUT_OF_HOURS)
    assert decision.show_crisis is crisis
    assert decision.to_oncall is oncall
    assert decision.show_next_appointment is appointment


@pytest.mark.parametrize("policy", list(Policy))
def test_inside_hours_every_policy_delivers(policy: Policy) -> None:
    decision = decide(WEDNESDAY_NOON, policy=policy, oncall_chat=True)
    assert decision.deliver_to == (SANNE,)
    assert not (decision.show_crisis or decision.to_oncall or decision.show_next_appointment)


@pytest.mark.parametrize("policy", list(Policy))
def test_urgent_at_three_at_night(policy: Policy) -> None:
    decision = decide(WEDNESDAY_NIGHT, policy=policy, urgent=True, oncall_chat=True)
    assert decision.show_crisis and decision.urgent
    if policy is Policy.ALWAYS:
        assert decision.deliver_to == (SANNE,)
    else:
        # The coach's boundary stands: held, flagged; the crisis numbers answer now.
        assert decision.hold_until == datetime(2026, 11, 25, 9, 0, tzinfo=AMS)
        assert decision.deliver_to == ()
    assert decision.to_oncall is (policy is Policy.ONCALL)


def test_urgent_inside_hours_delivers_and_shows_crisis() -> None:
    decision = decide(WEDNESDAY_NOON, urgent=True)
    assert decision.deliver_to == (SANNE,)
    assert decision.show_crisis and decision.urgent


def test_weekend_and_holiday_hold_until_next_working_day() -> None:
    saturday = datetime(2026, 11, 28, 12, 0, tzinfo=AMS)
    assert decide(saturday).hold_until == datetime(2026, 11, 30, 9, 0, tzinfo=AMS)
    christmas = datetime(2026, 12, 25, 12, 0, tzinfo=AMS)
    assert decide(christmas).hold_until == datetime(2026, 12, 28, 9, 0, tzinfo=AMS)


LEAVE_WITH_PIETER = Absence(
    SANNE,
    datetime(2026, 11, 23, tzinfo=AMS),
    datetime(2026, 11, 30, tzinfo=AMS),
    substitute_id=PIETER,
)
LEAVE_ALONE = replace(LEAVE_WITH_PIETER, substitute_id=None)


@pytest.mark.parametrize(
    ("absence", "coordinator", "deliver_to", "substitutes"),
    [
        (LEAVE_WITH_PIETER, COORDINATOR, (PIETER,), ((SANNE, PIETER),)),
        (LEAVE_ALONE, COORDINATOR, (COORDINATOR,), ((SANNE, COORDINATOR),)),
    ],
)
def test_absence_during_window(
    absence: Absence,
    coordinator: int,
    deliver_to: tuple[int, ...],
    substitutes: tuple[tuple[int, int], ...],
) -> None:
    decision = decide(WEDNESDAY_NOON, absences=(absence,), coordinator=coordinator)
    assert decision.deliver_to == deliver_to
    assert decision.substitutes == substitutes
    assert decision.reason is Reason.IN_HOURS and not decision.show_crisis


def test_absent_without_anyone_to_stand_in_holds_until_back() -> None:
    decision = decide(WEDNESDAY_NOON, absences=(LEAVE_ALONE,), coordinator=None)
    assert decision.reason is Reason.NOBODY_PRESENT
    assert decision.hold_until == datetime(2026, 11, 30, 9, 0, tzinfo=AMS)  # Monday, back
    assert decision.show_crisis and decision.deliver_to == ()


def test_duo_with_one_absent_goes_to_the_present_one() -> None:
    decision = decide(WEDNESDAY_NOON, coaches=(SANNE, ANNA), absences=(LEAVE_WITH_PIETER,))
    assert decision.deliver_to == (ANNA,)
    assert decision.substitutes == ()


def test_duo_both_present_and_both_absent() -> None:
    assert decide(WEDNESDAY_NOON, coaches=(SANNE, ANNA)).deliver_to == (SANNE, ANNA)
    anna_away = replace(LEAVE_WITH_PIETER, person_id=ANNA, substitute_id=None)
    decision = decide(
        WEDNESDAY_NOON, coaches=(SANNE, ANNA), absences=(LEAVE_WITH_PIETER, anna_away)
    )
    assert decision.deliver_to == (PIETER, COORDINATOR)
    assert decision.substitutes == ((SANNE, PIETER), (ANNA, COORDINATOR))


def test_always_does_not_pass_to_a_substitute() -> None:
    decision = decide(WEDNESDAY_EVENING, policy=Policy.ALWAYS, absences=(LEAVE_WITH_PIETER,))
    assert decision.hold_until == THURSDAY_NINE and decision.show_crisis
    present = decide(
        WEDNESDAY_EVENING,
        policy=Policy.ALWAYS,
        coaches=(SANNE, ANNA),
        absences=(LEAVE_WITH_PIETER,),
    )
    assert present.deliver_to == (ANNA,)


def test_agreement_without_windows_never_holds() -> None:
    never = Agreement((), "Europe/Amsterdam", "NL")
    decision = route(
        Incoming(WEDNESDAY_NOON, False), never, (SANNE,), (), None, False, now=WEDNESDAY_NOON
    )
    assert decision.reason is Reason.NEVER_OPENS
    assert decision.deliver_to == (SANNE,) and decision.show_crisis and not decision.held


def test_release_goes_to_the_substitute_of_a_coach_who_left_meanwhile() -> None:
    incoming = Incoming(datetime(2026, 11, 20, 20, 0, tzinfo=AMS), urgent=True)  # Friday
    held = route(incoming, NL, (SANNE,), (), COORDINATOR, False, now=incoming.at)
    assert held.hold_until == datetime(2026, 11, 23, 9, 0, tzinfo=AMS)
    # Over the weekend Sanne's leave was entered, starting Monday.
    released = release_target(
        incoming, NL, (SANNE,), (LEAVE_WITH_PIETER,), COORDINATOR, now=held.hold_until
    )
    assert released.deliver_to == (PIETER,)
    assert released.substitutes == ((SANNE, PIETER),)
    assert released.urgent  # still flagged
    assert not (released.show_crisis or released.to_oncall or released.show_next_appointment)


def test_release_when_the_agreement_changed_holds_again() -> None:
    incoming = Incoming(WEDNESDAY_EVENING, urgent=False)
    afternoons = replace(NL, windows=(Window(3, time(13), time(17)),))
    released = release_target(incoming, afternoons, (SANNE,), (), None, now=THURSDAY_NINE)
    assert released.hold_until == datetime(2026, 11, 26, 13, 0, tzinfo=AMS)


def test_requires_a_coach_and_aware_times() -> None:
    with pytest.raises(ValueError):
        route(Incoming(WEDNESDAY_NOON, False), NL, (), (), None, False, now=WEDNESDAY_NOON)
    naive = datetime(2026, 11, 25, 12, 0)
    with pytest.raises(ValueError):
        route(Incoming(naive, False), NL, (SANNE,), (), None, False, now=naive)


# ------------------------------------------------------------------------------------------
# Property: every held message is delivered exactly once, at the first opening after it came
# ------------------------------------------------------------------------------------------


@st.composite
def agreements(draw: st.DrawFn) -> Agreement:
    windows = []
    for _ in range(draw(st.integers(1, 5))):
        day = draw(st.integers(0, 6))
        start = draw(st.integers(0, 95))  # quarter hours
        end = draw(st.integers(start + 1, 96))
        windows.append(
            Window(day, time(*divmod(start * 15, 60)), time(*divmod(end * 15 % 1440, 60)))
        )
    zone = draw(st.sampled_from(["Europe/Amsterdam", "Europe/Brussels"]))
    return Agreement(
        tuple(windows),
        zone,
        "BE" if zone == "Europe/Brussels" else "NL",
        open_on_holidays=draw(st.booleans()),
        policy=draw(st.sampled_from(list(Policy))),
    )


instants = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31), timezones=st.just(UTC)
)


@settings(max_examples=100, deadline=None)
@given(
    agreements(),
    st.lists(st.tuples(instants, st.booleans()), min_size=1, max_size=8),
    st.booleans(),
)
def test_every_held_message_is_delivered_once_at_the_next_opening(
    agreement: Agreement, messages: list[tuple[datetime, bool]], on_leave: bool
) -> None:
    # A substitute-covered leave through part of the year, to show releases route around it.
    leave = Absence(
        SANNE, datetime(2026, 6, 1, tzinfo=UTC), datetime(2026, 9, 1, tzinfo=UTC), PIETER
    )
    absences = (leave,) if on_leave else ()
    delivered: dict[int, list[tuple[datetime, tuple[int, ...]]]] = {}
    pending: list[tuple[datetime, int, Incoming]] = []
    for number, (at, urgent) in enumerate(messages):
        incoming = Incoming(at, urgent)
        decision = route(incoming, agreement, (SANNE,), absences, COORDINATOR, True, now=at)
        assert decision.held != bool(decision.deliver_to)  # exactly one of the two
        assert decision.show_crisis or not decision.held  # held: the family gets 112 now
        assert decision.show_crisis or not urgent
        if decision.held:
            assert decision.hold_until == next_opening(agreement, at)
            pending.append((decision.hold_until, number, incoming))  # type: ignore[arg-type]
        else:
            assert is_open(agreement, at) or agreement.policy is Policy.ALWAYS
            delivered.setdefault(number, []).append((at, decision.deliver_to))
    # The dispatcher: release in due order, deciding again at each release time.
    for release_at, number, incoming in sorted(pending, key=lambda item: item[:2]):
        released = release_target(incoming, agreement, (SANNE,), absences, COORDINATOR, release_at)
        assert not released.held and not released.show_crisis
        delivered.setdefault(number, []).append((release_at, released.deliver_to))
        expected_person = PIETER if on_leave and leave.covers(release_at) else SANNE
        assert released.deliver_to == (expected_person,)
    assert sorted(delivered) == list(range(len(messages)))
    for number, deliveries in delivered.items():
        assert len(deliveries) == 1
        at, _ = messages[number]
        when, _ = deliveries[0]
        first_opening = next_opening(agreement, at)
        if (
            agreement.policy is Policy.ALWAYS
            and not is_open(agreement, at)
            and not (on_leave and leave.covers(at))
        ):
            assert when == at
        else:
            assert when == first_opening


def test_release_target_at_the_hold_time_is_inside_hours() -> None:
    decision = decide(WEDNESDAY_EVENING)
    assert decision.hold_until is not None
    assert is_open(NL, decision.hold_until)
    assert decision.hold_until - WEDNESDAY_EVENING == timedelta(hours=13)


# ------------------------------------------------------------------------------------------
# The agreement's "urgent at any hour" choice (default off: the coach's boundaries first)
# ------------------------------------------------------------------------------------------

URGENT_ANYTIME = replace(NL, urgent_anytime=True)


@pytest.mark.parametrize(
    ("agreement", "urgent", "absences", "delivered", "reason"),
    [
        (NL, True, (), False, Reason.OUT_OF_HOURS),  # off: held, crisis lines at once
        (URGENT_ANYTIME, True, (), True, Reason.URGENT_ANYTIME),
        (URGENT_ANYTIME, False, (), False, Reason.OUT_OF_HOURS),  # routine: still held
        # A substitute did not make the coach's promise: held for the next opening.
        (URGENT_ANYTIME, True, (Absence(SANNE, WEDNESDAY_NIGHT - timedelta(days=1),
                                        WEDNESDAY_NIGHT + timedelta(days=1), PIETER),),
         False, Reason.OUT_OF_HOURS),
    ],
)
def test_urgent_at_any_hour(
    agreement: Agreement, urgent: bool, absences: tuple[Absence, ...], delivered: bool,
    reason: Reason,
) -> None:
    decision = route(Incoming(WEDNESDAY_NIGHT, urgent), agreement, (SANNE,), absences,
                     COORDINATOR, False, now=WEDNESDAY_NIGHT)
    assert (not decision.held) == delivered
    assert decision.reason is reason
    assert decision.show_crisis  # the family gets the crisis lines either way
    if delivered:
        assert decision.deliver_to == (SANNE,) and decision.urgent
