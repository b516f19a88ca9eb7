"""When family reminders are sent (PRODUCT.md §2.4).

An appointment gets a reminder the evening before (18:00 local) and one two hours before; an
agreement one on its due day (09:00 local). Nobody in the family is woken: quiet hours are
21:00–08:00 in the family's zone.

Decisions:
- A reminder that would fall in quiet hours moves *forward* to their end (22:30 → 08:00), so it
  arrives when people are up. If that would be less than 30 minutes before the appointment (or
  after it), it moves *back* instead, to 20:30 (30 minutes before quiet hours start) the evening
  before; if an evening-before reminder is already planned that evening, it is dropped as a
  duplicate. So an appointment at 09:00 is reminded Wednesday 18:00 and Thursday 08:00; one at
  08:15 only Wednesday 18:00; one at 23:30 Wednesday 18:00 and Thursday 20:30.
- "Two hours before" is elapsed time, so it stays two real hours across a DST change; "the
  evening before" and the quiet hours are wall-clock times in the zone, so 18:00 stays 18:00 on
  both DST nights (wall times go through `when.wall_to_utc`).
- Only reminders after `created_at` are planned: an appointment made today for later today gets
  its two-hours-before reminder if that is still ahead, else none.
- Two reminders less than an hour apart are one too many: the later one, nearer the
  appointment, is kept.
- A reminder missed while the bot was down is sent late only while it still helps (see
  `still_worth_sending`), and not at night: if *now* is inside quiet hours it waits for their
  end, if it still helps then.
- What happens to a due reminder is one decision (`decide`): called off when there is nothing
  left to remind of, dropped during a *rustpauze* or when too late, moved to the morning when
  late and the night has begun, else sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.domain.when import wall_to_utc

__all__ = [
    "EVENING_MARGIN",
    "HOURS_BEFORE_GRACE",
    "MIN_GAP",
    "MIN_LEAD",
    "PlannedReminder",
    "ReminderAction",
    "ReminderFacts",
    "ReminderKind",
    "ReminderStep",
    "decide",
    "due_day_end",
    "in_quiet_hours",
    "next_allowed",
    "pause_until",
    "paused",
    "plan_agreement_reminders",
    "plan_appointment_reminders",
    "still_worth_sending",
]

QUIET_START = time(21, 0)
QUIET_END = time(8, 0)
MIN_LEAD = timedelta(minutes=30)  # a moved reminder still comes at least this long before
EVENING_MARGIN = timedelta(minutes=30)  # moved back: this long before quiet hours begin
MIN_GAP = timedelta(hours=1)  # closer reminders are merged into one
HOURS_BEFORE_GRACE = timedelta(minutes=15)  # a late hours-before reminder needs this much left
EVENING_BEFORE_GRACE = timedelta(hours=2)  # a late evening-before reminder needs this much left


class ReminderKind(StrEnum):
    EVENING_BEFORE = "evening_before"
    HOURS_BEFORE = "hours_before"
    DUE_DAY = "due_day"


@dataclass(frozen=True, slots=True)
class PlannedReminder:
    kind: ReminderKind
    at: datetime  # aware, UTC


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("naive datetime: every instant carries its zone")
    return moment.astimezone(UTC)


# --- quiet hours -------------------------------------------------------------------------------


def _quiet_period(
    at: datetime, zone: str, quiet_start: time, quiet_end: time
) -> tuple[datetime, datetime] | None:
    """The quiet stretch (start, end) in UTC that contains `at`, or None if `at` is outside."""
    if quiet_start == quiet_end:
        return None
    local = at.astimezone(ZoneInfo(zone))
    day, wall = local.date(), local.time()
    one = timedelta(days=1)
    if quiet_start < quiet_end:  # e.g. 01:00–06:00 within one day
        if not quiet_start <= wall < quiet_end:
            return None
        start_day, end_day = day, day
    elif wall >= quiet_start:  # the evening part of 21:00–08:00
        start_day, end_day = day, day + one
    elif wall < quiet_end:  # the early-morning part
        start_day, end_day = day - one, day
    else:
        return None
    return wall_to_utc(start_day, quiet_start, zone), wall_to_utc(end_day, quiet_end, zone)


def in_quiet_hours(
    at: datetime, zone: str, *, quiet_start: time = QUIET_START, quiet_end: time = QUIET_END
) -> bool:
    return _quiet_period(_utc(at), zone, quiet_start, quiet_end) is not None


def next_allowed(
    at: datetime, zone: str, *, quiet_start: time = QUIET_START, quiet_end: time = QUIET_END
) -> datetime:
    """`at` itself, or the end of the quiet hours it falls in (UTC)."""
    at = _utc(at)
    period = _quiet_period(at, zone, quiet_start, quiet_end)
    return at if period is None else period[1]


def _out_of_quiet(
    at: datetime, deadline: datetime, zone: str, quiet_start: time, quiet_end: time
) -> tuple[datetime, bool] | None:
    """(new time, moved back?) for a reminder; None if it cannot be placed before `deadline`."""
    period = _quiet_period(at, zone, quiet_start, quiet_end)
    if period is None:
        return at, False
    start, end = period
    if end <= deadline - MIN_LEAD:
        return end, False
    back = start - EVENING_MARGIN
    if _quiet_period(back, zone, quiet_start, quiet_end) is not None:
        return None  # only with odd settings: no waking moment to move to
    return back, True


# --- appointments ------------------------------------------------------------------------------


def plan_appointment_reminders(
    starts_at: datetime,
    zone: str,
    created_at: datetime,
    *,
    evening_before: time = time(18, 0),
    hours_before: timedelta = timedelta(hours=2),
    quiet_start: time = QUIET_START,
    quiet_end: time = QUIET_END,
) -> tuple[PlannedReminder, ...]:
    """The family reminders for an appointment, in time order, all UTC."""
    starts, created = _utc(starts_at), _utc(created_at)
    local_day = starts.astimezone(ZoneInfo(zone)).date()
    candidates = [
        (
            ReminderKind.EVENING_BEFORE,
            wall_to_utc(local_day - timedelta(days=1), evening_before, zone),
        ),
        (ReminderKind.HOURS_BEFORE, starts - hours_before),
    ]
    planned: list[PlannedReminder] = []
    moved_back: set[ReminderKind] = set()
    for kind, at in candidates:
        placed = _out_of_quiet(at, starts, zone, quiet_start, quiet_end)
        if placed is None:
            continue
        at, back = placed
        if created < at < starts:
            planned.append(PlannedReminder(kind, at))
            if back:
                moved_back.add(kind)
    evenings = {
        r.at.astimezone(ZoneInfo(zone)).date()
        for r in planned
        if r.kind is ReminderKind.EVENING_BEFORE
    }
    planned = [
        r
        for r in planned
        if not (
            r.kind is ReminderKind.HOURS_BEFORE
            and ReminderKind.HOURS_BEFORE in moved_back
            and r.at.astimezone(ZoneInfo(zone)).date() in evenings
        )
    ]
    return _merge_close(planned)


def _merge_close(planned: list[PlannedReminder]) -> tuple[PlannedReminder, ...]:
    kept: list[PlannedReminder] = []
    for reminder in sorted(planned, key=lambda r: r.at):
        if kept and reminder.at - kept[-1].at < MIN_GAP:
            kept[-1] = reminder  # the later one is nearer the appointment
        else:
            kept.append(reminder)
    return tuple(kept)


# --- agreements --------------------------------------------------------------------------------


def due_day_end(due: date, zone: str) -> datetime:
    """The end of an agreement's due day (local midnight after it), UTC."""
    return wall_to_utc(due + timedelta(days=1), time(0), zone)


def plan_agreement_reminders(
    due: date,
    zone: str,
    created_at: datetime,
    *,
    at_time: time = time(9, 0),
    quiet_start: time = QUIET_START,
    quiet_end: time = QUIET_END,
) -> tuple[PlannedReminder, ...]:
    """One reminder on the due day at `at_time` local; none if that moment has passed."""
    created = _utc(created_at)
    end = due_day_end(due, zone)
    placed = _out_of_quiet(wall_to_utc(due, at_time, zone), end, zone, quiet_start, quiet_end)
    if placed is None:
        return ()
    at = placed[0]
    if not created < at < end:
        return ()
    return (PlannedReminder(ReminderKind.DUE_DAY, at),)


# --- sending -----------------------------------------------------------------------------------


def still_worth_sending(
    kind: str, planned_at: datetime, starts_at: datetime, now: datetime
) -> bool:
    """Whether a reminder due at `planned_at` should still go out at `now`.

    `starts_at` is the appointment's start, or for `due_day` the end of the due day
    (`due_day_end`). On time, a reminder goes while its appointment is ahead. Late (missed
    during downtime): an hours-before one only if more than 15 minutes remain, an
    evening-before one only if more than 2 hours remain, a due-day one until the day ends.
    """
    planned, starts, moment = _utc(planned_at), _utc(starts_at), _utc(now)
    if moment >= starts:
        return False
    if moment <= planned:
        return True
    match ReminderKind(kind):
        case ReminderKind.HOURS_BEFORE:
            return moment < starts - HOURS_BEFORE_GRACE
        case ReminderKind.EVENING_BEFORE:
            return starts - moment > EVENING_BEFORE_GRACE
        case ReminderKind.DUE_DAY:
            return True


# --- rustpauze ---------------------------------------------------------------------------------


def paused(paused_until: datetime | None, at: datetime) -> bool:
    """Whether family reminders are held by a *rustpauze* at `at` (the end is not paused)."""
    return paused_until is not None and _utc(at) < _utc(paused_until)


def pause_until(now: datetime, days: int, zone: str) -> datetime:
    """The end of a `/pauze <days>`: the same wall-clock time `days` days later (UTC)."""
    if days < 1:
        raise ValueError("a rustpauze lasts at least one day")
    local = _utc(now).astimezone(ZoneInfo(zone))
    return wall_to_utc(local.date() + timedelta(days=days), local.time(), zone)


# --- a due reminder ----------------------------------------------------------------------------


class ReminderAction(StrEnum):
    SEND = "send"
    POSTPONE = "postpone"  # late, and now inside quiet hours: to their end
    DROP = "drop"  # a rustpauze, or too late to help
    CANCEL = "cancel"  # nothing left to remind of


@dataclass(frozen=True, slots=True)
class ReminderFacts:
    """A due reminder as found when it is claimed."""

    kind: ReminderKind
    due_at: datetime
    zone: str  # the family's
    # The appointment's start, or for an agreement the end of its due day (`due_day_end`);
    # None when there is nothing left to remind of (the family left, the appointment is no
    # longer planned, the agreement no longer open).
    starts_at: datetime | None
    paused_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class ReminderStep:
    action: ReminderAction
    at: datetime | None = None  # POSTPONE: the new due time (UTC)
    missed: bool = False  # DROP: missed while the bot was down

    @property
    def moves_on(self) -> bool:
        """A recurring agreement moves on to its next day once this one is sent or dropped."""
        return self.action in (ReminderAction.SEND, ReminderAction.DROP)


def decide(facts: ReminderFacts, now: datetime) -> ReminderStep:
    """What to do with a due reminder at `now`."""
    if facts.starts_at is None:
        return ReminderStep(ReminderAction.CANCEL)
    if paused(facts.paused_until, now):
        # A rustpauze silences reminders and raises nothing anywhere.
        return ReminderStep(ReminderAction.DROP)
    if not still_worth_sending(facts.kind, facts.due_at, facts.starts_at, now):
        return ReminderStep(ReminderAction.DROP, missed=True)
    if in_quiet_hours(now, facts.zone):
        # Late after downtime and now inside quiet hours: wait for the morning if it is still
        # worth it then.
        later = next_allowed(now, facts.zone)
        if still_worth_sending(facts.kind, facts.due_at, facts.starts_at, later):
            return ReminderStep(ReminderAction.POSTPONE, at=later)
        return ReminderStep(ReminderAction.DROP)
    return ReminderStep(ReminderAction.SEND)
