"""The morning agenda (PRODUCT.md §2.5): at the start of each coach's first window on a working
day (their own availability, their absences and public holidays respected), the agenda. Nothing
at all on days off. Each day's agenda is claimed in the database, so several instances send it
once."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot import agenda_text, outbox
from bot.callbacks import CallbackSigner
from bot.delivery.recipients import absences_of
from bot.domain.agenda import Snapshot, build_agenda, morning_agenda_due
from bot.domain.availability import (
    DEFAULT_TIMEZONES,
    DEFAULT_WINDOWS,
    Agreement,
    Policy,
    WindowSyntaxError,
    first_opening_on,
    parse_windows,
)
from bot.i18n import translator
from bot.jobs.pace import Pace
from bot.outbox import Outgoing
from bot.settings import Settings
from storage.db import Session
from storage.repos import agenda, people

EVERY = timedelta(seconds=30)
# Coaches whose snapshots are read, and whose agendas are made, at a time: the event loop goes
# on in between. A region's 09:00 (2,000 coaches) read and rendered in one go held the loop
# up to 0.67 s at a time, and families' messages waited for it (bench/README.md). Still one
# set of queries for many coaches: a coach's snapshot does not depend on whose are read with
# it (storage/repos/agenda.py snapshots).
SLICE = 100


def staff_agreement(windows: str, region: str) -> Agreement:
    """A coach's own standard agreement (their windows in the region's zone)."""
    try:
        parsed = parse_windows(windows)
    except WindowSyntaxError:  # validated on input; never skip a coach's agenda
        parsed = DEFAULT_WINDOWS
    return Agreement(parsed, DEFAULT_TIMEZONES[region], region, False, Policy.CRISIS)


class MorningAgenda:
    def __init__(self, settings: Settings, signer: CallbackSigner) -> None:
        self.region = settings.region
        self.signer = signer
        self.pace = Pace(EVERY)
        # The next coach's opening seen at the last look: looked at again the moment it comes,
        # not up to EVERY later (agendas were 38 s late at the median in the busiest hour).
        self.next_opening: datetime | None = None

    async def __call__(self, session: Session, now: datetime) -> int:
        if self.next_opening is not None and now >= self.next_opening:
            self.pace.last = None  # due now
        if not self.pace.due(now):
            return 0
        schedules = await people.coach_schedules(session)
        spans = await absences_of(session, [s.id for s in schedules], now)
        due: dict[int, tuple[Agreement, date]] = {}
        openings: list[datetime] = []
        for n, (coach_id, windows, sent_on) in enumerate(schedules):
            if n and n % SLICE == 0:
                await asyncio.sleep(0)  # the event loop goes on (handlers, sends)
            agreement = staff_agreement(windows, self.region)
            today = morning_agenda_due(agreement, spans, coach_id, sent_on, now)
            if today is not None:  # else a day off, on leave, not yet time, sent, or too late
                due[coach_id] = (agreement, today)
            else:
                openings += _upcoming_openings(agreement, now)
        self.next_opening = min(openings, default=None)
        if not due:
            return 0
        # The due coaches' snapshots in one set of queries per SLICE coaches, not a set per
        # coach; read before the claim, the first write: on SQLite that holds the one write
        # lock until the commit, and the families' own messages waited for the snapshots
        # (seconds for a region's 09:00, bench/README.md).
        ready = await people.coaches_in_chat(session, list(due))
        snaps: dict[int, Snapshot] = {}
        for start in range(0, len(ready), SLICE):
            part = ready[start:start + SLICE]
            snaps.update(await agenda.snapshots(
                session, part, now, {c.id: due[c.id][0].timezone for c in part},
                weekly={c.id for c in part if _first_working_day_of_week(*due[c.id])}))
        # Claimed in the database: another instance sends the ones it claimed first.
        claimed = await people.claim_agenda_days(
            session, {cid: today for cid, (_, today) in due.items()})
        mine = [c for c in ready if c.id in claimed]
        out = Outgoing()
        for n, coach in enumerate(mine):
            if n and n % SLICE == 0:
                await asyncio.sleep(0)  # the event loop goes on (handlers, sends)
            agreement, today = due[coach.id]
            tr = translator(coach.language, self.region, agreement.timezone)
            found = build_agenda(snaps[coach.id])
            assert coach.chat_id is not None
            # Today's agenda is of no use tomorrow: the next one replaces it.
            out.text(coach.chat_id, agenda_text.render(tr, found, now), purpose="agenda",
                     keyboard=agenda_text.keyboard(self.signer, coach.chat_id, tr, found),
                     expires_at=_next_day_starts(today, agreement.timezone))
        await outbox.write(session, out.sends, now)
        return len(mine)


def _upcoming_openings(agreement: Agreement, now: datetime) -> list[datetime]:
    """The coach's first openings today and tomorrow still to come."""
    today = now.astimezone(agreement.zone).date()
    found = [first_opening_on(agreement, day) for day in (today, today + timedelta(days=1))]
    return [at for at in found if at is not None and at > now]


def _next_day_starts(today: date, timezone: str) -> datetime:
    return datetime.combine(today + timedelta(days=1), time(0), ZoneInfo(timezone))


def _first_working_day_of_week(agreement: Agreement, today: date) -> bool:
    """No opening on an earlier day this week: the agenda adds the week's good news."""
    day = today - timedelta(days=today.weekday())
    while day < today:
        if first_opening_on(agreement, day) is not None:
            return False
        day += timedelta(days=1)
    return True
