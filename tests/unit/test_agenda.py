"""The agenda builder: each item type present and absent, leave, paused families, duos."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.agenda_text import render
from bot.domain.agenda import (
    AppointmentEntry,
    DueItem,
    FamilyState,
    Frequency,
    GoodNews,
    Held,
    Signal,
    Snapshot,
    Waiting,
    build_agenda,
    morning_agenda_due,
)
from bot.domain.availability import Absence as AbsenceSpan
from bot.domain.availability import Agreement, parse_windows
from bot.i18n import translator

NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)  # Monday 09:00 in Amsterdam
TODAY = date(2026, 11, 30)
J = FamilyState(1, "Gezin J.", since=NOW - timedelta(days=100))
K = FamilyState(2, "Gezin K.", since=NOW - timedelta(days=100))


def snap(**kwargs: object) -> Snapshot:
    base: dict[str, object] = {"now": NOW, "today": TODAY, "families": (J, K)}
    base.update(kwargs)
    return Snapshot(**base)  # type: ignore[arg-type]


def test_empty_agenda_says_so() -> None:
    assert build_agenda(snap()).empty


@pytest.mark.parametrize(("at", "shown"), [
    (datetime(2026, 11, 30, 13, 0, tzinfo=UTC), True),     # today 14:00 local
    (datetime(2026, 11, 30, 22, 59, tzinfo=UTC), True),    # today 23:59 local
    (datetime(2026, 11, 30, 23, 0, tzinfo=UTC), False),    # tomorrow 00:00 local
    (datetime(2026, 11, 29, 22, 59, tzinfo=UTC), False),   # yesterday 23:59 local
])
def test_appointments_of_the_local_day(at: datetime, shown: bool) -> None:
    agenda = build_agenda(snap(appointments=(AppointmentEntry(1, "Gezin J.", at, "huisbezoek"),)))
    assert bool(agenda.appointments) is shown


def test_due_and_overdue_agreements() -> None:
    items = (DueItem(1, "Gezin J.", "woonbonnen", TODAY),
             DueItem(2, "Gezin K.", "brief posten", TODAY - timedelta(days=3)),
             DueItem(2, "Gezin K.", "later", TODAY + timedelta(days=1)))
    agenda = build_agenda(snap(items=items))
    assert [i.what for i in agenda.due] == ["woonbonnen"]
    assert [i.what for i in agenda.overdue] == ["brief posten"]


def test_paused_family_raises_nothing() -> None:
    paused = FamilyState(1, "Gezin J.", paused=True, contact=Frequency.WEEKLY,
                         last_contact=NOW - timedelta(days=30), review=Frequency.MONTHLY,
                         since=NOW - timedelta(days=300))
    agenda = build_agenda(snap(families=(paused, K), items=(DueItem(1, "Gezin J.", "x", TODAY),)))
    assert not agenda.due and not agenda.contact_due and not agenda.reviews_due
    assert agenda.paused == ("Gezin J.",)


@pytest.mark.parametrize(("frequency", "days_ago", "due"), [
    (Frequency.WEEKLY, 6, False),
    (Frequency.WEEKLY, 7, True),
    (Frequency.WEEKLY, 15, True),
    (Frequency.DAILY, 1, True),
    (Frequency.MONTHLY, 20, False),
    (Frequency.BIWEEKLY, 14, True),
])
def test_contact_due(frequency: Frequency, days_ago: int, due: bool) -> None:
    family = FamilyState(1, "Gezin J.", contact=frequency,
                         last_contact=NOW - timedelta(days=days_ago))
    agenda = build_agenda(snap(families=(family,)))
    assert bool(agenda.contact_due) is due
    if due:
        assert agenda.contact_due[0].days == days_ago


def test_no_contact_yet_counts_from_the_start() -> None:
    family = FamilyState(1, "Gezin J.", contact=Frequency.WEEKLY, since=NOW - timedelta(days=8))
    assert build_agenda(snap(families=(family,))).contact_due[0].days == 8


@pytest.mark.parametrize(("frequency", "days_ago", "due"), [
    (Frequency.NEVER, 1000, False),
    (Frequency.MONTHLY, 31, True),
    (Frequency.QUARTERLY, 60, False),
    (Frequency.QUARTERLY, 92, True),
    (Frequency.HALFYEARLY, 190, True),
])
def test_review_due(frequency: Frequency, days_ago: int, due: bool) -> None:
    family = FamilyState(1, "Gezin J.", review=frequency,
                         last_review=NOW - timedelta(days=days_ago))
    assert bool(build_agenda(snap(families=(family,))).reviews_due) is due


def test_signals_and_held() -> None:
    agenda = build_agenda(snap(
        signals=(Signal(1, "Gezin J.", "cannot", "huisbezoek", NOW - timedelta(hours=20)),),
        held=(Held(2, "Gezin K.", 3, 1),)))
    assert agenda.signals[0].kind == "cannot" and agenda.held[0].count == 3
    assert not agenda.empty


def test_what_waits_for_an_answer_longest_first() -> None:
    waiting = (Waiting(1, "Gezin J.", 1, 0, NOW - timedelta(hours=2)),
               Waiting(2, "Gezin K.", 2, 1, NOW - timedelta(hours=20)))
    agenda = build_agenda(snap(waiting=waiting))
    assert not agenda.empty
    assert [w.alias for w in agenda.waiting] == ["Gezin K.", "Gezin J."]


def test_a_paused_family_that_wrote_still_waits() -> None:
    paused = FamilyState(1, "Gezin J.", paused=True)
    agenda = build_agenda(snap(families=(paused,),
                               waiting=(Waiting(1, "Gezin J.", 1, 0, NOW),)))
    assert [w.alias for w in agenda.waiting] == ["Gezin J."]


def test_the_agenda_says_since_when_a_family_waits() -> None:
    waiting = (Waiting(2, "Gezin K.", 2, 1, datetime(2026, 11, 27, 15, 30, tzinfo=UTC)),
               Waiting(1, "Gezin J.", 1, 0, datetime(2026, 11, 30, 7, 45, tzinfo=UTC)))
    text = render(translator("nl"), build_agenda(snap(waiting=waiting)), NOW)
    assert "Niets dat op je wacht" not in text
    assert ("Wachten op je antwoord:\n"
            "• Gezin K.: 2 berichten, wacht sinds vrijdag 27 november om 16:30 🆘\n"
            "• Gezin J.: 1 bericht, wacht sinds vandaag (maandag 30 november) om 08:45"
            ) in text


@pytest.mark.parametrize(("start_in", "shown"), [
    (timedelta(days=3), True),
    (timedelta(days=20), False),
    (timedelta(days=-2), True),   # on leave now (the coach asked for the agenda anyway)
])
def test_upcoming_absence(start_in: timedelta, shown: bool) -> None:
    absence = (NOW + start_in, NOW + start_in + timedelta(days=5))
    assert bool(build_agenda(snap(absence=absence)).absence) is shown


def test_good_news_only_on_the_weekly_agenda() -> None:
    news = (GoodNews(1, "Gezin J.", 2, 1), GoodNews(2, "Gezin K.", 0, 0))
    assert build_agenda(snap(good_news=news, weekly=True)).good_news == (news[0],)
    assert build_agenda(snap(good_news=news, weekly=False)).good_news == ()


def test_a_family_with_two_coaches_appears_once() -> None:
    # Each coach's snapshot lists the family once; the builder never duplicates it.
    duo = FamilyState(1, "Gezin J.", contact=Frequency.WEEKLY,
                      last_contact=NOW - timedelta(days=9))
    agenda = build_agenda(snap(families=(duo,)))
    assert [c.alias for c in agenda.contact_due] == ["Gezin J."]


# When the morning agenda goes out ---------------------------------------------------------------
AMS = ZoneInfo("Europe/Amsterdam")
SANNE = 7
WORKWEEK = Agreement(parse_windows("ma-vr 09:00-17:00"), "Europe/Amsterdam", "NL")
LATE_START = Agreement(parse_windows("ma,di,do 13:00-17:00"), "Europe/Amsterdam", "NL")
LEAVE = AbsenceSpan(SANNE, datetime(2026, 12, 21, tzinfo=AMS), datetime(2027, 1, 4, tzinfo=AMS),
                    None)


def ams(month: int, day: int, hour: int, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=AMS)


@pytest.mark.parametrize(("agreement", "now", "sent_on", "absences", "due"), [
    (WORKWEEK, ams(11, 30, 9, 0), None, (), date(2026, 11, 30)),        # Monday, the opening
    (WORKWEEK, ams(11, 30, 8, 59), None, (), None),                     # a minute before
    (WORKWEEK, ams(11, 30, 12, 59), None, (), date(2026, 11, 30)),      # late: bot was down
    (WORKWEEK, ams(11, 30, 13, 1), None, (), None),                     # the morning has passed
    (WORKWEEK, ams(11, 30, 10, 0), date(2026, 11, 30), (), None),       # sent already today
    (WORKWEEK, ams(12, 1, 9, 0), date(2026, 11, 30), (), date(2026, 12, 1)),  # the next day
    (WORKWEEK, ams(11, 28, 9, 0), None, (), None),                      # Saturday
    (WORKWEEK, ams(11, 29, 9, 0), None, (), None),                      # Sunday
    (WORKWEEK, ams(4, 27, 9, 0), None, (), None),                       # Koningsdag
    (WORKWEEK, ams(12, 25, 9, 0), None, (), None),                      # Kerstmis
    (WORKWEEK, ams(12, 22, 9, 0), None, (LEAVE,), None),                # on leave
    (WORKWEEK, ams(1, 4, 9, 0, 2027), None, (LEAVE,), date(2027, 1, 4)),  # back from leave
    (LATE_START, ams(12, 1, 13, 0), None, (), date(2026, 12, 1)),       # Tuesday 13:00 opening
    (LATE_START, ams(12, 2, 13, 0), None, (), None),                    # Wednesday: no window
    (WORKWEEK, ams(3, 30, 9, 0), None, (), date(2026, 3, 30)),          # Monday after DST
])
def test_the_morning_agenda_is_due(agreement: Agreement, now: datetime, sent_on: date | None,
                                   absences: tuple[AbsenceSpan, ...], due: date | None) -> None:
    assert morning_agenda_due(agreement, absences, SANNE, sent_on, now) == due


def test_another_coachs_leave_does_not_stop_the_agenda() -> None:
    other = AbsenceSpan(SANNE + 1, LEAVE.start, LEAVE.end, SANNE)
    assert morning_agenda_due(WORKWEEK, (other,), SANNE, None, ams(12, 22, 9, 0)) == date(
        2026, 12, 22)
