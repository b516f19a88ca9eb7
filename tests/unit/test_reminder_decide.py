"""What happens to a due reminder (reminder_plan.decide): one row per case."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.reminder_plan import (
    ReminderAction,
    ReminderFacts,
    ReminderKind,
    ReminderStep,
    decide,
)

AMS = "Europe/Amsterdam"
# Thursday 26 November 2026, 14:00 in Amsterdam (UTC+1): a home visit.
VISIT = datetime(2026, 11, 26, 13, 0, tzinfo=UTC)
EVENING = datetime(2026, 11, 25, 17, 0, tzinfo=UTC)  # Wednesday 18:00 local
TWO_BEFORE = VISIT - timedelta(hours=2)
MORNING = datetime(2026, 11, 26, 7, 0, tzinfo=UTC)  # Thursday 08:00 local, quiet hours end
DAY_END = datetime(2026, 11, 26, 23, 0, tzinfo=UTC)  # the end of Thursday, local


def facts(kind: ReminderKind, due: datetime, starts: datetime | None,
          paused_until: datetime | None = None) -> ReminderFacts:
    return ReminderFacts(kind, due, AMS, starts, paused_until)


EV, HB, DD = ReminderKind.EVENING_BEFORE, ReminderKind.HOURS_BEFORE, ReminderKind.DUE_DAY
SEND, DROP = ReminderStep(ReminderAction.SEND), ReminderStep(ReminderAction.DROP)


@pytest.mark.parametrize(("reminder", "now", "step"), [
    # On time: sent.
    (facts(EV, EVENING, VISIT), EVENING, SEND),
    (facts(HB, TWO_BEFORE, VISIT), TWO_BEFORE, SEND),
    (facts(DD, MORNING + timedelta(hours=1), DAY_END), MORNING + timedelta(hours=1), SEND),
    # Nothing left to remind of: called off, whatever the time.
    (facts(EV, EVENING, None), EVENING, ReminderStep(ReminderAction.CANCEL)),
    # A rustpauze: dropped (not missed).
    (facts(HB, TWO_BEFORE, VISIT, paused_until=VISIT), TWO_BEFORE, DROP),
    # The pause is over: sent.
    (facts(HB, TWO_BEFORE, VISIT, paused_until=TWO_BEFORE), TWO_BEFORE, SEND),
    # Down from Wednesday 17:00 to Thursday 13:00: the evening-before one no longer helps.
    (facts(EV, EVENING, VISIT), VISIT - timedelta(hours=1),
     ReminderStep(ReminderAction.DROP, missed=True)),
    # Late, but more than 15 minutes left: the hours-before one still goes.
    (facts(HB, TWO_BEFORE, VISIT), VISIT - timedelta(minutes=30), SEND),
    # Missed 18:00, now 22:00 (quiet hours): wait for 08:00.
    (facts(EV, EVENING, VISIT), EVENING + timedelta(hours=4),
     ReminderStep(ReminderAction.POSTPONE, at=MORNING)),
    # Late at night for an appointment at 08:15: in the morning it would no longer help.
    (facts(EV, EVENING, MORNING + timedelta(minutes=15)), EVENING + timedelta(hours=4), DROP),
    # The appointment has begun: dropped as missed.
    (facts(HB, TWO_BEFORE, VISIT), VISIT, ReminderStep(ReminderAction.DROP, missed=True)),
])
def test_decide(reminder: ReminderFacts, now: datetime, step: ReminderStep) -> None:
    assert decide(reminder, now) == step


def test_sent_and_dropped_move_a_recurring_agreement_on() -> None:
    assert [a for a in ReminderAction if ReminderStep(a).moves_on] == [
        ReminderAction.SEND, ReminderAction.DROP]
