"""When family reminders are sent: defaults, quiet hours, DST nights, late sending, rustpauze."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.reminder_plan import (
    MIN_GAP,
    MIN_LEAD,
    PlannedReminder,
    ReminderKind,
    due_day_end,
    in_quiet_hours,
    next_allowed,
    pause_until,
    paused,
    plan_agreement_reminders,
    plan_appointment_reminders,
    still_worth_sending,
)

AMS = "Europe/Amsterdam"
BRU = "Europe/Brussels"
TZ = ZoneInfo(AMS)
EVENING, HOURS, DUE = (
    ReminderKind.EVENING_BEFORE,
    ReminderKind.HOURS_BEFORE,
    ReminderKind.DUE_DAY,
)


def at(text: str, zone: str = AMS) -> datetime:
    """`2026-11-26 14:00` in the zone's wall clock."""
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone))


def plan_local(starts: str, created: str, zone: str = AMS) -> list[tuple[str, str]]:
    planned = plan_appointment_reminders(at(starts, zone), zone, at(created, zone))
    for reminder in planned:
        assert reminder.at.tzinfo is UTC
    return [
        (r.kind.value, r.at.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")) for r in planned
    ]


TUESDAY = "2026-11-24 10:00"


@pytest.mark.parametrize(
    ("starts", "created", "expected"),
    [
        pytest.param(
            "2026-11-26 14:00",
            TUESDAY,
            [("evening_before", "2026-11-25 18:00"), ("hours_before", "2026-11-26 12:00")],
            id="tuesday for thursday 14:00",
        ),
        pytest.param(
            "2026-11-26 09:00",
            TUESDAY,
            [("evening_before", "2026-11-25 18:00"), ("hours_before", "2026-11-26 08:00")],
            id="09:00: 07:00 is quiet, moves forward to 08:00",
        ),
        pytest.param(
            "2026-11-26 08:30",
            TUESDAY,
            [("evening_before", "2026-11-25 18:00"), ("hours_before", "2026-11-26 08:00")],
            id="08:30: 08:00 is still 30 minutes ahead",
        ),
        pytest.param(
            "2026-11-26 08:15",
            TUESDAY,
            [("evening_before", "2026-11-25 18:00")],
            id="08:15: 08:00 is too close, back to the evening: a duplicate, dropped",
        ),
        pytest.param(
            "2026-11-26 08:15",
            "2026-11-25 19:00",
            [("hours_before", "2026-11-25 20:30")],
            id="08:15 made after 18:00 the evening before: 20:30 that evening",
        ),
        pytest.param(
            "2026-11-26 23:30",
            TUESDAY,
            [("evening_before", "2026-11-25 18:00"), ("hours_before", "2026-11-26 20:30")],
            id="23:30: 21:30 is quiet, 08:00 is after it, back to 20:30",
        ),
        pytest.param(
            "2026-11-26 00:30",
            TUESDAY,
            [("evening_before", "2026-11-25 18:00")],
            id="00:30: 22:30 moves back to 20:30, same evening as 18:00: dropped",
        ),
        pytest.param(
            "2026-11-24 13:00",
            TUESDAY,
            [("hours_before", "2026-11-24 11:00")],
            id="today in 3 hours",
        ),
        pytest.param("2026-11-24 11:00", TUESDAY, [], id="today in 1 hour: none"),
        pytest.param("2026-11-24 09:00", TUESDAY, [], id="already past: none"),
        pytest.param(
            "2026-11-24 23:00",
            "2026-11-24 20:00",
            [("hours_before", "2026-11-24 20:30")],
            id="made 20:00 for 23:00 the same evening",
        ),
        pytest.param(
            "2026-11-25 14:00",
            "2026-11-24 18:30",
            [("hours_before", "2026-11-25 12:00")],
            id="made after 18:00 for tomorrow: the evening one has passed",
        ),
        # The nights the clocks change (Europe/Amsterdam, 2026-03-29 and 2026-10-25).
        pytest.param(
            "2026-03-29 09:00",
            "2026-03-20 10:00",
            [("evening_before", "2026-03-28 18:00"), ("hours_before", "2026-03-29 08:00")],
            id="spring forward: 09:00 CEST",
        ),
        pytest.param(
            "2026-03-29 04:00",
            "2026-03-20 10:00",
            [("evening_before", "2026-03-28 18:00")],
            id="spring forward: 04:00 CEST, two real hours before is 01:00 CET",
        ),
        pytest.param(
            "2026-03-30 14:00",
            "2026-03-20 10:00",
            [("evening_before", "2026-03-29 18:00"), ("hours_before", "2026-03-30 12:00")],
            id="spring forward: the evening after the change",
        ),
        pytest.param(
            "2026-10-25 09:00",
            "2026-10-20 10:00",
            [("evening_before", "2026-10-24 18:00"), ("hours_before", "2026-10-25 08:00")],
            id="fall back: 09:00 CET",
        ),
        pytest.param(
            "2026-10-26 10:00",
            "2026-10-20 10:00",
            [("evening_before", "2026-10-25 18:00"), ("hours_before", "2026-10-26 08:00")],
            id="fall back: the evening after the change",
        ),
    ],
)
def test_plan_appointment_reminders(
    starts: str, created: str, expected: list[tuple[str, str]]
) -> None:
    assert plan_local(starts, created) == expected


def test_dst_evening_reminders_are_18_local_in_utc() -> None:
    spring = plan_appointment_reminders(at("2026-03-30 14:00"), AMS, at("2026-03-20 10:00"))
    autumn = plan_appointment_reminders(at("2026-10-26 14:00"), AMS, at("2026-10-20 10:00"))
    assert spring[0] == PlannedReminder(EVENING, datetime(2026, 3, 29, 16, 0, tzinfo=UTC))
    assert autumn[0] == PlannedReminder(EVENING, datetime(2026, 10, 25, 17, 0, tzinfo=UTC))


def test_hours_before_is_elapsed_time_across_the_change() -> None:
    # Without quiet hours, to see it: two real hours, whatever the wall clock did.
    spring = plan_appointment_reminders(
        at("2026-03-29 04:00"), AMS, at("2026-03-20 10:00"), quiet_start=time(0), quiet_end=time(0)
    )
    assert spring[-1] == PlannedReminder(HOURS, datetime(2026, 3, 29, 0, 0, tzinfo=UTC))
    assert spring[-1].at.astimezone(TZ).strftime("%H:%M") == "01:00"  # CET, 2 real hours
    autumn = plan_appointment_reminders(
        at("2026-10-25 03:30"), AMS, at("2026-10-20 10:00"), quiet_start=time(0), quiet_end=time(0)
    )
    assert autumn[-1] == PlannedReminder(HOURS, datetime(2026, 10, 25, 0, 30, tzinfo=UTC))
    assert autumn[-1].at.astimezone(TZ).strftime("%H:%M %Z") == "02:30 CEST"


def test_brussels() -> None:
    assert plan_local("2026-11-26 14:00", TUESDAY, BRU) == [
        ("evening_before", "2026-11-25 18:00"),
        ("hours_before", "2026-11-26 12:00"),
    ]


def test_settings_are_respected() -> None:
    planned = plan_appointment_reminders(
        at("2026-11-26 14:00"),
        AMS,
        at(TUESDAY),
        evening_before=time(19, 30),
        hours_before=timedelta(hours=1),
    )
    assert [r.at.astimezone(TZ).strftime("%d %H:%M") for r in planned] == ["25 19:30", "26 13:00"]


def test_close_reminders_are_merged_into_the_later_one() -> None:
    # A 14:00 appointment with a reminder 20 hours before: 18:00 and 18:00 the day before.
    planned = plan_appointment_reminders(
        at("2026-11-26 14:00"), AMS, at(TUESDAY), hours_before=timedelta(hours=19, minutes=30)
    )
    assert [(r.kind, r.at.astimezone(TZ).strftime("%d %H:%M")) for r in planned] == [
        (HOURS, "25 18:30")
    ]


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        plan_appointment_reminders(datetime(2026, 11, 26, 14, 0), AMS, at(TUESDAY))


@given(
    starts=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2028, 12, 31)),
    lead=st.integers(min_value=-60, max_value=10 * 24 * 60),
    zone=st.sampled_from([AMS, BRU]),
)
def test_planned_reminders_properties(starts: datetime, lead: int, zone: str) -> None:
    starts_at = starts.replace(tzinfo=UTC)
    created_at = starts_at - timedelta(minutes=lead)
    planned = plan_appointment_reminders(starts_at, zone, created_at)
    for reminder in planned:
        assert reminder.at.tzinfo is UTC
        assert created_at < reminder.at <= starts_at - MIN_LEAD
        assert not in_quiet_hours(reminder.at, zone)
    moments = [r.at for r in planned]
    assert moments == sorted(moments)
    assert all(b - a >= MIN_GAP for a, b in itertools.pairwise(moments))
    assert len({r.kind for r in planned}) == len(planned)


# --- agreements --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("due", "created", "expected"),
    [
        (date(2026, 11, 27), TUESDAY, ["2026-11-27 09:00"]),
        (date(2026, 11, 24), "2026-11-24 08:30", ["2026-11-24 09:00"]),
        (date(2026, 11, 24), TUESDAY, []),  # set today after 09:00: the coach just said it
        (date(2026, 11, 23), TUESDAY, []),
        (date(2026, 3, 29), "2026-03-01 10:00", ["2026-03-29 09:00"]),
        (date(2026, 10, 25), "2026-10-01 10:00", ["2026-10-25 09:00"]),
    ],
)
def test_plan_agreement_reminders(due: date, created: str, expected: list[str]) -> None:
    planned = plan_agreement_reminders(due, AMS, at(created))
    assert [r.kind for r in planned] == [DUE] * len(expected)
    assert [r.at.astimezone(TZ).strftime("%Y-%m-%d %H:%M") for r in planned] == expected
    assert all(r.at.tzinfo is UTC for r in planned)


def test_agreement_time_in_quiet_hours_moves_to_the_morning() -> None:
    planned = plan_agreement_reminders(date(2026, 11, 27), AMS, at(TUESDAY), at_time=time(6, 30))
    assert [r.at.astimezone(TZ).strftime("%d %H:%M") for r in planned] == ["27 08:00"]


def test_due_day_end_is_local_midnight() -> None:
    assert due_day_end(date(2026, 10, 24), AMS) == datetime(2026, 10, 24, 22, 0, tzinfo=UTC)
    assert due_day_end(date(2026, 10, 25), AMS) == datetime(2026, 10, 25, 23, 0, tzinfo=UTC)


# --- late sending ------------------------------------------------------------------------------

STARTS = at("2026-11-26 14:00")


@pytest.mark.parametrize(
    ("kind", "planned", "now", "send"),
    [
        ("hours_before", "2026-11-26 12:00", "2026-11-26 12:00", True),  # on time
        ("hours_before", "2026-11-26 12:00", "2026-11-26 13:30", True),  # late, 30 min left
        ("hours_before", "2026-11-26 12:00", "2026-11-26 13:45", False),  # 15 min left
        ("hours_before", "2026-11-26 12:00", "2026-11-26 14:30", False),  # after it
        ("evening_before", "2026-11-25 18:00", "2026-11-25 18:00", True),
        ("evening_before", "2026-11-25 18:00", "2026-11-26 09:00", True),  # 5 h left
        ("evening_before", "2026-11-26 18:00", "2026-11-26 11:59", True),  # 2 h 1 min left
        ("evening_before", "2026-11-25 18:00", "2026-11-26 12:00", False),  # 2 h left
        ("evening_before", "2026-11-25 18:00", "2026-11-26 14:00", False),
    ],
)
def test_still_worth_sending(kind: str, planned: str, now: str, send: bool) -> None:
    assert still_worth_sending(kind, at(planned), STARTS, at(now)) is send


def test_still_worth_sending_a_due_day_reminder_until_the_day_ends() -> None:
    end = due_day_end(date(2026, 11, 27), AMS)
    planned = at("2026-11-27 09:00")
    assert still_worth_sending("due_day", planned, end, at("2026-11-27 20:00"))
    assert not still_worth_sending("due_day", planned, end, at("2026-11-28 00:00"))


def test_unknown_kind_is_an_error() -> None:
    with pytest.raises(ValueError):
        still_worth_sending("someday", at(TUESDAY), STARTS, at("2026-11-25 10:00"))


@pytest.mark.parametrize(
    ("moment", "quiet", "allowed"),
    [
        ("2026-11-24 20:59", False, "2026-11-24 20:59"),
        ("2026-11-24 21:00", True, "2026-11-25 08:00"),
        ("2026-11-25 07:59", True, "2026-11-25 08:00"),
        ("2026-11-25 08:00", False, "2026-11-25 08:00"),
        ("2026-03-29 02:30", True, "2026-03-29 08:00"),  # (03:30 CEST, past the gap)
        ("2026-10-24 23:00", True, "2026-10-25 08:00"),
    ],
)
def test_quiet_hours(moment: str, quiet: bool, allowed: str) -> None:
    assert in_quiet_hours(at(moment), AMS) is quiet
    assert next_allowed(at(moment), AMS) == at(allowed).astimezone(UTC)


# --- rustpauze ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("until", "moment", "expected"),
    [
        (None, "2026-11-24 10:00", False),
        ("2026-12-01 10:00", "2026-11-24 10:00", True),
        ("2026-12-01 10:00", "2026-12-01 09:59", True),
        ("2026-12-01 10:00", "2026-12-01 10:00", False),
        ("2026-12-01 10:00", "2026-12-02 10:00", False),
    ],
)
def test_paused(until: str | None, moment: str, expected: bool) -> None:
    assert paused(at(until) if until else None, at(moment)) is expected


def test_pause_until_keeps_the_wall_clock_across_dst() -> None:
    assert pause_until(at("2026-03-24 10:00"), 7, AMS) == at("2026-03-31 10:00").astimezone(UTC)
    assert pause_until(at("2026-10-20 10:00"), 7, AMS) == at("2026-10-27 10:00").astimezone(UTC)
    with pytest.raises(ValueError):
        pause_until(at(TUESDAY), 0, AMS)
