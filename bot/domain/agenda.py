"""The coach's agenda (PRODUCT.md §2.5), built from a snapshot by one pure function.

The caller loads the snapshot with a fixed number of queries whatever the caseload; this module
decides what deserves the coach's attention today.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.domain.availability import Absence, Agreement, active_absence, first_opening_on


class Frequency(StrEnum):
    """Agreed contact intensity and *afstemgesprek* frequency."""

    NEVER = "never"
    DAILY = "daily"
    WEEKLY = "weekly"
    BIWEEKLY = "biweekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    HALFYEARLY = "halfyearly"


INTERVALS = {
    Frequency.DAILY: timedelta(days=1),
    Frequency.WEEKLY: timedelta(days=7),
    Frequency.BIWEEKLY: timedelta(days=14),
    Frequency.MONTHLY: timedelta(days=30),
    Frequency.QUARTERLY: timedelta(days=91),
    Frequency.HALFYEARLY: timedelta(days=182),
}
CONTACT_FREQUENCIES = (Frequency.DAILY, Frequency.WEEKLY, Frequency.BIWEEKLY, Frequency.MONTHLY)
REVIEW_FREQUENCIES = (Frequency.NEVER, Frequency.MONTHLY, Frequency.QUARTERLY,
                      Frequency.HALFYEARLY)


@dataclass(frozen=True)
class FamilyState:
    family_id: int
    alias: str
    paused: bool = False
    contact: Frequency | None = None
    last_contact: datetime | None = None
    since: datetime | None = None  # when the coaching started (no contact yet counts from here)
    review: Frequency = Frequency.NEVER
    last_review: datetime | None = None


@dataclass(frozen=True)
class AppointmentEntry:
    family_id: int
    alias: str
    at: datetime
    what: str
    place: str | None = None
    response: str | None = None


@dataclass(frozen=True)
class DueItem:
    family_id: int
    alias: str
    what: str
    due: date


@dataclass(frozen=True)
class Signal:
    family_id: int
    alias: str
    kind: str  # cannot | help
    what: str
    at: datetime


@dataclass(frozen=True)
class Held:
    family_id: int
    alias: str
    count: int
    urgent: int


@dataclass(frozen=True)
class Waiting:
    """A family's messages that wait for an answer: delivered and unanswered, or held and
    released at this opening. `since`: when the oldest of them was written."""

    family_id: int
    alias: str
    count: int
    urgent: int
    since: datetime


@dataclass(frozen=True)
class GoodNews:
    """What went well in a family this past week: agreements done, appointments kept."""

    family_id: int
    alias: str
    done: int
    kept: int


@dataclass(frozen=True)
class Snapshot:
    now: datetime
    today: date  # the coach's local day
    zone: str = "Europe/Amsterdam"  # the coach's zone: which appointments are "today"
    families: tuple[FamilyState, ...] = ()
    appointments: tuple[AppointmentEntry, ...] = ()  # today's, in the coach's zone
    items: tuple[DueItem, ...] = ()  # open agreements
    signals: tuple[Signal, ...] = ()  # lukt niet / hulp nodig not yet followed up
    held: tuple[Held, ...] = ()  # held until a later opening
    waiting: tuple[Waiting, ...] = ()  # unanswered family messages (not signals)
    absence: tuple[datetime, datetime] | None = None  # the coach's next or current absence
    good_news: tuple[GoodNews, ...] = ()  # the past week; shown on the week's first agenda
    weekly: bool = False  # this is the week's first agenda: include the good news


@dataclass(frozen=True)
class Overdue:
    family_id: int
    alias: str
    days: int
    frequency: Frequency


@dataclass(frozen=True)
class Agenda:
    appointments: tuple[AppointmentEntry, ...] = ()
    waiting: tuple[Waiting, ...] = ()
    held: tuple[Held, ...] = ()
    due: tuple[DueItem, ...] = ()
    overdue: tuple[DueItem, ...] = ()
    signals: tuple[Signal, ...] = ()
    contact_due: tuple[Overdue, ...] = ()
    reviews_due: tuple[Overdue, ...] = ()
    absence: tuple[datetime, datetime] | None = None
    paused: tuple[str, ...] = field(default=())
    good_news: tuple[GoodNews, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.appointments or self.waiting or self.held or self.due or self.overdue
                    or self.signals or self.contact_due or self.reviews_due or self.absence
                    or self.good_news)


ABSENCE_LOOKAHEAD = timedelta(days=14)


def _overdue(last: datetime | None, since: datetime | None, frequency: Frequency,
             now: datetime) -> int | None:
    """Days without contact when more than the agreed interval has passed, else None."""
    interval = INTERVALS.get(frequency)
    reference = last or since
    if interval is None or reference is None:
        return None
    gap = now - reference
    return gap.days if gap >= interval else None


def build_agenda(snapshot: Snapshot) -> Agenda:
    """What the coach should see today. Paused families raise nothing (a *rustpauze* is never
    escalated); families are listed in alias order within each part, except what waits for
    an answer: the family that waited longest first. A paused family's messages are listed:
    it wrote, so it waits for an answer."""
    paused = {f.family_id for f in snapshot.families if f.paused}
    zone = ZoneInfo(snapshot.zone)
    today = tuple(sorted(
        (a for a in snapshot.appointments if a.at.astimezone(zone).date() == snapshot.today),
        key=lambda a: a.at))
    due = tuple(sorted((i for i in snapshot.items
                        if i.due == snapshot.today and i.family_id not in paused),
                       key=lambda i: i.alias))
    overdue = tuple(sorted((i for i in snapshot.items
                            if i.due < snapshot.today and i.family_id not in paused),
                           key=lambda i: (i.due, i.alias)))
    contact = []
    reviews = []
    for family in sorted(snapshot.families, key=lambda f: f.alias):
        if family.paused:
            continue
        if family.contact is not None:
            days = _overdue(family.last_contact, family.since, family.contact, snapshot.now)
            if days is not None:
                contact.append(Overdue(family.family_id, family.alias, days, family.contact))
        if family.review is not Frequency.NEVER:
            days = _overdue(family.last_review, family.since, family.review, snapshot.now)
            if days is not None:
                reviews.append(Overdue(family.family_id, family.alias, days, family.review))
    absence = snapshot.absence
    if absence is not None and not (absence[0] <= snapshot.now + ABSENCE_LOOKAHEAD
                                    and absence[1] > snapshot.now):
        absence = None
    return Agenda(
        appointments=today,
        waiting=tuple(sorted(snapshot.waiting, key=lambda w: (w.since, w.alias))),
        held=tuple(sorted(snapshot.held, key=lambda h: h.alias)),
        due=due,
        overdue=overdue,
        signals=tuple(sorted(snapshot.signals, key=lambda s: s.at)),
        contact_due=tuple(contact),
        reviews_due=tuple(reviews),
        absence=absence,
        paused=tuple(sorted(f.alias for f in snapshot.families if f.paused)),
        good_news=tuple(sorted((g for g in snapshot.good_news if g.done or g.kept),
                               key=lambda g: g.alias)) if snapshot.weekly else (),
    )



# When the morning agenda goes out -------------------------------------------------------------
# At the first opening, or later that morning if the bot was down; after this, not that day.
AGENDA_LATE = timedelta(hours=4)


def morning_agenda_due(agreement: Agreement, absences: Iterable[Absence], coach_id: int,
                       sent_on: date | None, now: datetime) -> date | None:
    """The coach's local day whose morning agenda is due at `now`, or None: not before the
    first opening of a working day (their windows, public holidays), never on leave, once a
    day, and not once the morning has passed (AGENDA_LATE after the opening)."""
    today = now.astimezone(agreement.zone).date()
    if sent_on is not None and sent_on >= today:
        return None
    opening = first_opening_on(agreement, today)
    if opening is None or now < opening or now - opening > AGENDA_LATE:
        return None
    if active_absence(absences, coach_id, now) is not None:
        return None
    return today
