"""Natural dates for coaches: nl, Flemish, fr and en, refusals, and DST."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.when import (
    EXAMPLE_ADD_TIME,
    EXAMPLE_APPOINTMENT,
    EXAMPLE_DAY,
    RECENT_PAST,
    When,
    WhenError,
    correction,
    parse_day,
    parse_when,
    split_moment,
    wall_to_utc,
)
from bot.i18n import translator

AMS = "Europe/Amsterdam"
BRU = "Europe/Brussels"
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo(AMS))  # a Tuesday


def local(result: When | WhenError, zone: str = AMS) -> str:
    assert isinstance(result, When), result
    assert result.at.tzinfo is UTC
    return result.at.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


NL = [
    ("morgen 14:00", "2026-11-25 14:00"),
    ("Morgen om 14:00", "2026-11-25 14:00"),
    ("overmorgen 9:00", "2026-11-26 09:00"),
    ("vandaag 15:00", "2026-11-24 15:00"),
    ("donderdag 14:00", "2026-11-26 14:00"),
    ("do 14:00", "2026-11-26 14:00"),
    ("dinsdag 14:00", "2026-11-24 14:00"),  # today's weekday, time still ahead: today
    ("dinsdag 9:00", "2026-12-01 09:00"),  # today's weekday, time gone: next week
    ("volgende week vrijdag 10:00", "2026-12-04 10:00"),
    ("volgende dinsdag 14:00", "2026-12-01 14:00"),  # `volgende` never means today
    ("27-11 14:00", "2026-11-27 14:00"),
    ("27 november 14:00", "2026-11-27 14:00"),
    ("27 nov. 14:00", "2026-11-27 14:00"),
    ("vrijdag 27/11 14:00", "2026-11-27 14:00"),
    ("14:00", "2026-11-24 14:00"),  # a time alone: today if ahead
    ("9:00", "2026-11-25 09:00"),  # else tomorrow
    ("14.00", "2026-11-24 14:00"),
    ("morgen 14.00", "2026-11-25 14:00"),
    ("27.11 14.00", "2026-11-27 14:00"),
    ("27.11.2026 14:00", "2026-11-27 14:00"),
    ("over 2 uur", "2026-11-24 12:00"),
    ("over 30 minuten", "2026-11-24 10:30"),
    ("over een kwartier", "2026-11-24 10:15"),
    ("over anderhalf uur", "2026-11-24 11:30"),
    ("over 3 dagen om 14:00", "2026-11-27 14:00"),
    ("over 2 weken 10:00", "2026-12-08 10:00"),
    ("morgen om 14 uur", "2026-11-25 14:00"),
    ("morgen 14:00-15:00", "2026-11-25 14:00"),  # a range: the start
    ("vanavond 7 uur", "2026-11-24 19:00"),  # a part of the day settles the clock
    ("donderdag 3 uur 's middags", "2026-11-26 15:00"),
    ("5/1 9:00", "2027-01-05 09:00"),  # a yearless date nearer ahead than behind: next year
    ("29/2 10:00", "2028-02-29 10:00"),
    ("2026-11-27 14:00", "2026-11-27 14:00"),
]

FLEMISH = [
    ("overmorgen 9u", "2026-11-26 09:00"),
    ("vrijdag 10u30", "2026-11-27 10:30"),
    ("vr 10u30", "2026-11-27 10:30"),
    ("27/11 9u", "2026-11-27 09:00"),
    ("27/11/2026 14u15", "2026-11-27 14:15"),
    ("27/11/26 14u15", "2026-11-27 14:15"),
    ("27 nov 14u", "2026-11-27 14:00"),
    ("morgen 14u", "2026-11-25 14:00"),
    ("morgennamiddag 3u", "2026-11-25 15:00"),
    ("vr. 27-11 om 14.00u", "2026-11-27 14:00"),
    ("maandag 14u tot 15u", "2026-11-30 14:00"),
]

FRENCH = [
    ("demain 14h", "2026-11-25 14:00"),
    ("Demain à 14h", "2026-11-25 14:00"),
    ("après-demain 9h", "2026-11-26 09:00"),
    ("aujourd'hui 15h", "2026-11-24 15:00"),
    ("vendredi 10h30", "2026-11-27 10:30"),
    ("mardi prochain 10h", "2026-12-01 10:00"),  # `prochain` never means today
    ("27 novembre 14h", "2026-11-27 14:00"),
    ("le 27 novembre 2026 à 14h00", "2026-11-27 14:00"),
    ("le mardi 1er décembre à 14h", "2026-12-01 14:00"),
    ("jeudi 26 novembre à 14 heures 30", "2026-11-26 14:30"),
    ("dans 2 heures", "2026-11-24 12:00"),
    ("dans 1h30", "2026-11-24 11:30"),
    ("dans une demi-heure", "2026-11-24 10:30"),
    ("dans 3 jours 9h", "2026-11-27 09:00"),
    ("ce soir 20h", "2026-11-24 20:00"),
    ("jeudi midi", "2026-11-26 12:00"),
    ("de 14h à 15h", "2026-11-24 14:00"),
]

ENGLISH = [
    ("tomorrow 2pm", "2026-11-25 14:00"),
    ("tomorrow at 2 p.m.", "2026-11-25 14:00"),
    ("friday 10:30am", "2026-11-27 10:30"),
    ("Friday 10:30 AM", "2026-11-27 10:30"),
    ("in 2 hours", "2026-11-24 12:00"),
    ("in half an hour", "2026-11-24 10:30"),
    ("27 November 2pm", "2026-11-27 14:00"),
    ("November 27 2pm", "2026-11-27 14:00"),
    ("dec 1st 9am", "2026-12-01 09:00"),
    ("friday the 27th at 2pm", "2026-11-27 14:00"),
    ("next monday 2pm", "2026-11-30 14:00"),  # this week's and next week's agree
    ("this coming friday 2pm", "2026-11-27 14:00"),
    ("aanstaande vrijdag 14:00", "2026-11-27 14:00"),
    ("monday next week 14:00", "2026-11-30 14:00"),
    ("in 3 days at 3pm", "2026-11-27 15:00"),
    ("thursday noon", "2026-11-26 12:00"),
    ("tomorrow evening 7pm", "2026-11-25 19:00"),
    ("12am tomorrow", "2026-11-25 00:00"),
    ("tomorrow 12pm", "2026-11-25 12:00"),
]


@pytest.mark.parametrize(
    ("text", "expected"),
    [pytest.param(t, e, id=f"nl:{t}") for t, e in NL]
    + [pytest.param(t, e, id=f"vl:{t}") for t, e in FLEMISH]
    + [pytest.param(t, e, id=f"fr:{t}") for t, e in FRENCH]
    + [pytest.param(t, e, id=f"en:{t}") for t, e in ENGLISH],
)
def test_parse_when(text: str, expected: str) -> None:
    result = parse_when(text, NOW, AMS)
    assert local(result) == expected
    assert isinstance(result, When)
    assert result.matched == text.strip()
    assert not result.all_day


@pytest.mark.parametrize(
    ("text", "reason", "example"),
    [
        ("", "empty", EXAMPLE_APPOINTMENT),
        ("   ", "empty", EXAMPLE_APPOINTMENT),
        ("blabla", "not_understood", EXAMPLE_APPOINTMENT),
        ("morgen 14:00 huisbezoek", "not_understood", EXAMPLE_APPOINTMENT),
        ("morgen 14", "not_understood", EXAMPLE_APPOINTMENT),  # a bare number is not a time
        ("morgen overmorgen 14:00", "not_understood", EXAMPLE_APPOINTMENT),
        ("14:00 15:00", "not_understood", EXAMPLE_APPOINTMENT),
        ("27/11/226 14:00", "not_understood", EXAMPLE_APPOINTMENT),
        ("31/11 9u", "invalid_date", EXAMPLE_APPOINTMENT),
        ("31 november 14:00", "invalid_date", EXAMPLE_APPOINTMENT),
        ("29/02/2027 10:00", "invalid_date", EXAMPLE_APPOINTMENT),
        ("13/13 10:00", "invalid_date", EXAMPLE_APPOINTMENT),
        ("25:00", "invalid_time", EXAMPLE_ADD_TIME),
        ("morgen 25u", "invalid_time", EXAMPLE_ADD_TIME),
        ("morgen 14:61", "invalid_time", EXAMPLE_ADD_TIME),
        ("tomorrow 13pm", "invalid_time", EXAMPLE_ADD_TIME),
        ("morgen", "no_time", EXAMPLE_ADD_TIME),
        ("vrijdag", "no_time", EXAMPLE_ADD_TIME),
        ("27/11", "no_time", EXAMPLE_ADD_TIME),
        ("27 november", "no_time", EXAMPLE_ADD_TIME),
        ("demain", "no_time", EXAMPLE_ADD_TIME),
        ("vanavond", "no_time", EXAMPLE_ADD_TIME),
        ("donderdag 27/11 14:00", "weekday_mismatch", EXAMPLE_APPOINTMENT),
        ("vandaag 9:00", "past", EXAMPLE_APPOINTMENT),
        ("24/11 9u", "past", EXAMPLE_APPOINTMENT),  # today's date, time gone: not next year
        # Was 2027-11-23 09:00: a date just gone by, moved a year on in silence.
        ("23/11 9:00", "past_needs_year", EXAMPLE_APPOINTMENT),
        ("3/11 9u", "past_needs_year", EXAMPLE_APPOINTMENT),
        ("vanochtend 15u", "part_mismatch", EXAMPLE_ADD_TIME),
        ("tomorrow morning 7pm", "part_mismatch", EXAMPLE_ADD_TIME),
        ("tonight at 2", "part_mismatch", EXAMPLE_ADD_TIME),
        ("om 7 uur", "morning_or_evening", EXAMPLE_ADD_TIME),
        ("morgen half acht", "morning_or_evening", EXAMPLE_ADD_TIME),
        ("lundi en huit 10h", "ambiguous", EXAMPLE_APPOINTMENT),
        ("demain minuit", "ambiguous", EXAMPLE_APPOINTMENT),
        ("15 minutes from 1pm", "ambiguous", EXAMPLE_APPOINTMENT),
        ("half three", "ambiguous", EXAMPLE_APPOINTMENT),
        ("woensdag over een week 10:00", "ambiguous", EXAMPLE_APPOINTMENT),
        # Were this week's Friday (27/11), said on Tuesday: many mean next week's (4/12).
        ("next friday 2pm", "ambiguous", EXAMPLE_APPOINTMENT),
        ("vendredi prochain 10h", "ambiguous", EXAMPLE_APPOINTMENT),
        ("volgende vrijdag 10:00", "ambiguous", EXAMPLE_APPOINTMENT),
        ("gisteren 14:00", "past", EXAMPLE_APPOINTMENT),
        ("27/11/2025 14:00", "past", EXAMPLE_APPOINTMENT),
        ("27/11/2030 10:00", "too_far", EXAMPLE_APPOINTMENT),
        ("25/11/2028 10:00", "too_far", EXAMPLE_APPOINTMENT),
    ],
)
def test_parse_when_refuses(text: str, reason: str, example: str) -> None:
    assert parse_when(text, NOW, AMS) == WhenError(reason, example)


def test_horizon_is_two_years_to_the_day() -> None:
    assert local(parse_when("24/11/2028 23:00", NOW, AMS)) == "2028-11-24 23:00"


def test_a_bare_day_is_all_day_when_no_time_is_required() -> None:
    result = parse_when("vrijdag", NOW, AMS, require_time=False)
    assert isinstance(result, When)
    assert result.all_day
    assert local(result) == "2026-11-27 00:00"
    assert parse_when("vandaag", NOW, AMS, require_time=False) == When(
        at=wall_to_utc(date(2026, 11, 24), datetime.min.time(), AMS),
        all_day=True,
        matched="vandaag",
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("vrijdag", date(2026, 11, 27)),
        ("27/11", date(2026, 11, 27)),
        ("27.11", date(2026, 11, 27)),
        ("morgen", date(2026, 11, 25)),
        ("vandaag", date(2026, 11, 24)),
        ("dinsdag", date(2026, 12, 1)),  # today's weekday alone: next week
        ("next monday", date(2026, 11, 30)),
        ("komende vrijdag", date(2026, 11, 27)),
        ("vendredi", date(2026, 11, 27)),
        ("1 december", date(2026, 12, 1)),
        ("2/1", date(2027, 1, 2)),  # `/afwezig 24-12 2-1`
        ("over 3 dagen", date(2026, 11, 27)),
        ("in 2 weeks", date(2026, 12, 8)),
        ("volgende week dinsdag", date(2026, 12, 1)),
        ("morgen 14:00", date(2026, 11, 25)),  # a time is allowed and ignored
    ],
)
def test_parse_day(text: str, expected: date) -> None:
    assert parse_day(text, NOW, AMS) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("ooit", "not_understood"),
        ("31/11", "invalid_date"),
        ("gisteren", "past"),
        ("23/11", "past_needs_year"),  # was 23/11/2027: yesterday's date moved a year on
        ("voor vrijdag", "not_understood"),  # before Friday: Thursday? Friday itself?
        ("next friday", "ambiguous"),  # was 27/11: this week's, or next week's?
        ("27/11/2029", "too_far"),
    ],
)
def test_parse_day_refuses(text: str, reason: str) -> None:
    assert parse_day(text, NOW, AMS) == WhenError(reason, EXAMPLE_DAY)


def test_brussels_and_amsterdam_share_the_wall_clock() -> None:
    now = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    assert local(parse_when("vrijdag 10u30", now, BRU), BRU) == "2026-11-27 10:30"
    result = parse_when("vrijdag 10u30", now, BRU)
    assert isinstance(result, When)
    assert result.at == datetime(2026, 11, 27, 9, 30, tzinfo=UTC)


def test_now_must_be_aware() -> None:
    with pytest.raises(ValueError, match="aware"):
        parse_when("morgen 14:00", datetime(2026, 11, 24, 10, 0), AMS)


# --- daylight saving --------------------------------------------------------------------------


def test_spring_forward_gap_time_moves_past_the_gap() -> None:
    now = datetime(2026, 3, 28, 12, 0, tzinfo=ZoneInfo(AMS))
    # `02u30`: written on the 24-hour clock (a bare `2u30` is 14:30 now).
    result = parse_when("morgen 02u30", now, AMS)
    assert isinstance(result, When)
    assert result.at == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert local(result) == "2026-03-29 03:30"


def test_fall_back_repeated_time_is_the_first() -> None:
    now = datetime(2026, 10, 24, 12, 0, tzinfo=ZoneInfo(AMS))
    result = parse_when("25/10 02:30", now, AMS)
    assert isinstance(result, When)
    assert result.at == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 CEST, not CET


@pytest.mark.parametrize(
    ("now_utc", "text", "expected_utc"),
    [
        # Wall-clock times keep their wall clock across the change ...
        (datetime(2026, 3, 28, 11, 0, tzinfo=UTC), "morgen 14:00", datetime(2026, 3, 29, 12, 0)),
        (datetime(2026, 10, 24, 11, 0, tzinfo=UTC), "morgen 14:00", datetime(2026, 10, 25, 13, 0)),
        # ... `over 2 uur` is elapsed time.
        (datetime(2026, 3, 29, 0, 30, tzinfo=UTC), "over 2 uur", datetime(2026, 3, 29, 2, 30)),
        (datetime(2026, 10, 25, 0, 30, tzinfo=UTC), "over 2 uur", datetime(2026, 10, 25, 2, 30)),
    ],
)
def test_dst_nights(now_utc: datetime, text: str, expected_utc: datetime) -> None:
    result = parse_when(text, now_utc, AMS)
    assert isinstance(result, When)
    assert result.at == expected_utc.replace(tzinfo=UTC)


def test_relative_time_is_truncated_to_the_minute() -> None:
    now = NOW.replace(second=42, microsecond=7)
    assert local(parse_when("over 2 uur", now, AMS)) == "2026-11-24 12:00"


# --- wording the dateparser fallback used to read (it is gone) ---------------------------------


def test_forms_the_fallback_read_are_in_the_grammar() -> None:
    assert local(parse_when("30 nov '26 14:00", NOW, AMS)) == "2026-11-30 14:00"
    assert local(parse_when("2026-11-27T14:00", NOW, AMS)) == "2026-11-27 14:00"


def test_internal_tokens_cannot_be_typed() -> None:
    assert parse_day("_plus99999999999", NOW, AMS) == WhenError("not_understood", EXAMPLE_DAY)
    assert parse_when("_clock99m99", NOW, AMS) == WhenError("not_understood", EXAMPLE_APPOINTMENT)


def test_unknown_wording_is_refused() -> None:
    assert parse_when("heute 14 Uhr", NOW, AMS) == WhenError("not_understood", EXAMPLE_APPOINTMENT)
    assert parse_when("next month 2pm", NOW, AMS) == WhenError(
        "not_understood", EXAMPLE_APPOINTMENT
    )  # which day of it?


def test_the_check_shows_the_year_when_it_is_not_this_year() -> None:
    january = parse_when("8/1 10:00", NOW, AMS)
    assert isinstance(january, When)
    assert translator("nl").when(january.at, NOW) == "vrijdag 8 januari 2027 om 10:00"
    assert translator("fr", "BE").when(january.at, NOW) == "vendredi 8 janvier 2027 à 10:00"
    friday = parse_when("27/11 10:00", NOW, AMS)
    assert isinstance(friday, When)
    assert translator("nl").when(friday.at, NOW) == "vrijdag 27 november om 10:00"


# --- the misreadings measured in issue 14 ------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("volgende week dinsdag om half drie", "2026-12-01 14:30"),  # was refused
        ("om 2 uur", "2026-11-24 14:00"),  # was 02:00 the next night
        ("15 minutes after 1pm", "2026-11-24 13:15"),  # exact
        ("half vier", "2026-11-24 15:30"),
        ("kwart voor 12", "2026-11-24 11:45"),
        ("drie uur 's middags", "2026-11-24 15:00"),
        ("tegen zes uur", "2026-11-24 18:00"),
        ("vrijdagnamiddag 3u", "2026-11-27 15:00"),
        ("samedi 28 à 18h", "2026-11-28 18:00"),
        ("le 16 à 18h", "2026-12-16 18:00"),
        ("midi et demi", "2026-11-24 12:30"),
        ("à quinze heures", "2026-11-24 15:00"),
        ("demain matin à 9h", "2026-11-25 09:00"),
        ("lundi prochain 14h", "2026-11-30 14:00"),
        ("tomorrow afternoon at 5", "2026-11-25 17:00"),
        ("tonight at 11", "2026-11-24 23:00"),
        ("9 tomorrow morning", "2026-11-25 09:00"),
        ("next Tuesday 2pm", "2026-12-01 14:00"),
        ("on the 16th at 6pm", "2026-12-16 18:00"),
        ("VRIJDAGNAMIDDAG 3U", "2026-11-27 15:00"),
        ("apres demain a quinze heures", "2026-11-26 15:00"),  # accents dropped
    ],
)
def test_issue_phrases(text: str, expected: str) -> None:
    assert local(parse_when(text, NOW, AMS)) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("3/11 9u", "past_needs_year"),  # was 3 November next year
        ("lundi en 15", "ambiguous"),  # was Friday the 15th
        ("15 minutes from 1pm", "ambiguous"),  # was 13:00
        ("samedi 16 à 18h", "weekday_mismatch"),  # the 16th is a Wednesday
    ],
)
def test_issue_misreadings_are_asked(text: str, reason: str) -> None:
    result = parse_when(text, NOW, AMS)
    assert isinstance(result, WhenError)
    assert result.reason == reason


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tegen vrijdag", date(2026, 11, 27)),
        ("ten laatste dinsdag", date(2026, 12, 1)),
        ("uiterlijk 5 december", date(2026, 12, 5)),
        ("au plus tard vendredi", date(2026, 11, 27)),
        ("by friday", date(2026, 11, 27)),
        ("deze dinsdag", date(2026, 11, 24)),  # `deze` + today's weekday: today
    ],
)
def test_due_day_idioms(text: str, expected: date) -> None:
    assert parse_day(text, NOW, AMS) == expected


# --- properties -------------------------------------------------------------------------------

moments = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)
)


@settings(max_examples=150, deadline=None)
@given(now=moments, ahead=st.integers(min_value=1, max_value=700 * 24 * 60))
def test_numeric_dates_round_trip(now: datetime, ahead: int) -> None:
    zone = ZoneInfo(AMS)
    target = (now + timedelta(minutes=ahead)).astimezone(zone).replace(second=0, microsecond=0)
    expected = wall_to_utc(target.date(), target.time(), AMS)
    if expected <= now:  # the minute of `now` itself, or a repeated DST hour
        return
    result = parse_when(target.strftime("%d/%m/%Y %H:%M"), now, AMS)
    assert isinstance(result, When)
    assert result.at == expected


@settings(max_examples=200, deadline=None)
@given(
    text=st.text(alphabet="0123456789 :./-uhapmorgenvrijdagdemain'", max_size=20),
    now=moments,
)
def test_never_raises_and_never_returns_the_past(text: str, now: datetime) -> None:
    result = parse_when(text, now, AMS)
    if isinstance(result, When):
        assert result.at > now
        assert result.at.tzinfo is UTC
    else:
        assert result.reason


# --- safety properties ----------------------------------------------------------------------

_WEEKDAY_NAMES = [
    "maandag",
    "dinsdag",
    "woensdag",
    "donderdag",
    "vrijdag",
    "zaterdag",
    "zondag",
    "lundi",
    "mardi",
    "mercredi",
    "jeudi",
    "vendredi",
    "samedi",
    "dimanche",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
]
_DAY_FILLS = ["", "volgende ", "next ", "deze ", "le ", "the "]
_DATE_FILLS = ["", " 16", " 28", " 1/12", " 4 december", " le 5", " the 3rd", " 27/11/2026"]
_TIME_FILLS = [
    " 14:00",
    " om 3 uur",
    " à 15h",
    " at 4pm",
    " half drie",
    " 10u30",
    "",
    " midi",
    " kwart over 9",
    " om 11",
]


@settings(max_examples=300, deadline=None)
@given(
    weekday=st.sampled_from(_WEEKDAY_NAMES),
    fill=st.sampled_from(_DAY_FILLS),
    day=st.sampled_from(_DATE_FILLS),
    clock=st.sampled_from(_TIME_FILLS),
    now=moments,
)
def test_a_named_weekday_is_never_contradicted(
    weekday: str, fill: str, day: str, clock: str, now: datetime
) -> None:
    text = f"{fill}{weekday}{day}{clock}"
    for result in (parse_when(text, now, AMS), parse_day(text, now, AMS)):
        if isinstance(result, WhenError):
            continue
        found = result.at.astimezone(ZoneInfo(AMS)) if isinstance(result, When) else result
        assert found.weekday() == _WEEKDAY_NAMES.index(weekday) % 7, text


_BARE_HOURS = [
    "om {h} uur",
    "{h}u",
    "{h}u30",
    "{h}:15",
    "{h}h",
    "à {h}h",
    "at {h}",
    "om {h}",
    "half {h1}",
    "kwart over {h}",
    "kwart voor {h1}",
    "{w} uur",
    "half {w1}",
]
_DUTCH = ["een", "twee", "drie", "vier", "vijf", "zes", "zeven", "acht"]


@settings(max_examples=300, deadline=None)
@given(
    hour=st.integers(min_value=1, max_value=7),
    form=st.sampled_from(_BARE_HOURS),
    day=st.sampled_from(["", "morgen ", "vrijdag ", "demain ", "tomorrow ", "27/11 "]),
    now=moments,
)
def test_a_bare_hour_is_never_the_night(hour: int, form: str, day: str, now: datetime) -> None:
    """1-7 without a part of the day, am/pm or a leading zero: the afternoon, or a question."""
    text = day + form.format(h=hour, h1=hour + 1, w=_DUTCH[hour - 1], w1=_DUTCH[hour])
    result = parse_when(text, now, AMS)
    if isinstance(result, When):
        assert 12 <= result.at.astimezone(ZoneInfo(AMS)).hour <= 18, text


@settings(max_examples=300, deadline=None)
@given(
    now=moments,
    day=st.integers(min_value=1, max_value=28),
    month=st.integers(min_value=1, max_value=12),
)
def test_a_past_date_without_a_year_is_asked_not_moved(now: datetime, day: int, month: int) -> None:
    """`3/11`: its next occurrence, unless it went by in the last three months (then asked)."""
    today = now.astimezone(ZoneInfo(AMS)).date()
    occurrences = [date(today.year + n, month, day) for n in (-1, 0, 1)]
    recent = any(0 < (today - d).days <= RECENT_PAST.days for d in occurrences)
    result = parse_day(f"{day}/{month}", now, AMS)
    if recent:
        assert result == WhenError("past_needs_year", EXAMPLE_DAY)
    else:
        assert result == min(d for d in occurrences if d >= today)


# A coach changing their mind about a moment already given (handlers/appointments.py): the
# lead words dropped, and a time alone stays on the day said before.
CORRECTIONS = [
    ("nee toch woensdag om 10 uur", "2026-11-25 10:00"),
    ("nee, om 10 uur", "2026-11-27 10:00"),  # the day said before: Friday the 27th
    ("toch om 3 uur", "2026-11-27 15:00"),
    ("liever half drie", "2026-11-27 14:30"),
    ("sorry, 9:00", "2026-11-27 09:00"),  # on that day, even though today's 9:00 is gone
    ("Nee, ik bedoel vrijdag 10u30", "2026-11-27 10:30"),
    ("no, make it 3pm", "2026-11-27 15:00"),
    ("non, plutôt jeudi 14h", "2026-11-26 14:00"),
    ("woensdag om 10 uur", "2026-11-25 10:00"),  # no lead words: read as it is
    ("nee, over 2 uur", "2026-11-24 12:00"),  # from now, whatever was said before
]


@pytest.mark.parametrize(("typed", "expected"), CORRECTIONS)
def test_a_changed_mind_keeps_the_day_said_before(typed: str, expected: str) -> None:
    assert local(parse_when(correction(typed), NOW, AMS, day=date(2026, 11, 27))) == expected


@pytest.mark.parametrize("typed", ["huisbezoek", "nee", "gesprek met school morgen",
                                   "ik bel je morgen om 10 uur", "nee dank je", ""])
def test_what_is_no_moment_stays_no_moment(typed: str) -> None:
    assert isinstance(parse_when(correction(typed), NOW, AMS, day=date(2026, 11, 27)),
                      WhenError)


def test_correction_keeps_a_text_that_starts_otherwise() -> None:
    assert correction("huisbezoek bij oma") == "huisbezoek bij oma"
    assert correction("nee, toch  vrijdag") == "vrijdag"
    assert correction("nee toch") == ""


# A line typed without `|` on a phone: the moment at its start or its end, the rest is the what.
SPLITS = [
    ("morgen 14:00 huisbezoek", ("morgen 14:00", "huisbezoek")),
    ("morgen om half drie huisbezoek bij oma", ("morgen om half drie", "huisbezoek bij oma")),
    ("huisbezoek morgen om 14:00", ("morgen om 14:00", "huisbezoek")),
    ("gesprek school vrijdag 10u30", ("vrijdag 10u30", "gesprek school")),
    ("schuldhulp om 2 uur", ("om 2 uur", "schuldhulp")),
    ("vrijdag 10u30", ("vrijdag 10u30", "")),
    ("huisbezoek", None),
    ("huisbezoek bij oma", None),
    ("", None),
]


@pytest.mark.parametrize(("typed", "split"), SPLITS)
def test_split_moment(typed: str, split: tuple[str, str] | None) -> None:
    def reads(text: str) -> bool:
        return not isinstance(parse_when(text, NOW, AMS), WhenError)

    assert split_moment(typed, reads) == split
