"""Availability windows: parsing, night windows, holidays, DST nights, next opening, absences."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.domain.availability import (
    DEFAULT_WINDOWS,
    MIDNIGHT,
    NIGHT_EXAMPLE,
    REASON_CODES,
    Absence,
    Agreement,
    DayGroup,
    Policy,
    Window,
    WindowSyntaxError,
    absence_for_days,
    active_absence,
    current_window_end,
    default_agreement,
    earliest_open_time_reached,
    first_opening_on,
    format_windows,
    is_open,
    merge_windows,
    next_opening,
    open_time_between,
    openings_between,
    parse_windows,
    public_holiday,
    windows_to_text,
)
from bot.domain.routing import Incoming, Reason, route

AMS = ZoneInfo("Europe/Amsterdam")
BRU = ZoneInfo("Europe/Brussels")
NL = default_agreement("NL")
BE = default_agreement("BE")


def ams(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=AMS)


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def agreement(text: str, zone: str = "Europe/Amsterdam", **kwargs: object) -> Agreement:
    country = "BE" if zone == "Europe/Brussels" else "NL"
    return Agreement(parse_windows(text), zone, country, **kwargs)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------
# Parsing: windows as coaches write them, and the stored (canonical) text
# ------------------------------------------------------------------------------------------

# (typed text, the canonical text the bot stores and shows)
PHRASES = [
    # The forms from issue 14: Dutch, Flemish, English, French, accents optional.
    ("ma-vr 9-17", "ma-vr 09:00-17:00"),
    ("ma t/m vr 09:00-17:00", "ma-vr 09:00-17:00"),
    ("elke werkdag van 8 tot half 5", "ma-vr 08:00-16:30"),
    ("werkdagen 9-5", "ma-vr 09:00-17:00"),  # 5 ends after a morning start: 17:00
    ("maandag, woensdag en vrijdag 9 tot 12", "ma,wo,vr 09:00-12:00"),
    ("ma-do 9-17, vr 9-12", "ma-do 09:00-17:00; vr 09:00-12:00"),
    ("weekdays 9 to 4pm", "ma-vr 09:00-16:00"),
    ("weekdays 9 to 4", "ma-vr 09:00-16:00"),
    ("mon-fri 9am-5pm", "ma-vr 09:00-17:00"),
    ("lun-ven 9h-17h", "ma-vr 09:00-17:00"),
    ("du lundi au vendredi de 9h à 17h", "ma-vr 09:00-17:00"),
    ("du lundi a vendredi de 9h a 17h", "ma-vr 09:00-17:00"),  # without accents
    ("za 10-14", "za 10:00-14:00"),
    ("dagelijks 8-20", "ma-zo 08:00-20:00"),
    ("elke dag 9-17", "ma-zo 09:00-17:00"),
    ("vr 20:00-02:00", "vr 20:00-02:00"),  # a night window, until Saturday 02:00
    ("ma-vr 9-12 en 13-17", "ma-vr 09:00-12:00 13:00-17:00"),
    # Dutch and Flemish, more
    ("Ma t/m Vr 8u30-17u", "ma-vr 08:30-17:00"),
    ("maandag tot en met vrijdag van 9 tot 5", "ma-vr 09:00-17:00"),
    ("ma tm do 8.30-16.30 uur", "ma-do 08:30-16:30"),
    ("elke werkdag van acht tot half vijf", "ma-vr 08:00-16:30"),
    ("ma-vr kwart over 8 tot kwart voor 5", "ma-vr 08:15-16:45"),
    ("ma-vr 9-12, 1-5", "ma-vr 09:00-12:00 13:00-17:00"),  # after lunch: the afternoon
    ("za 1-5", "za 13:00-17:00"),
    ("ma-vr: 9-17", "ma-vr 09:00-17:00"),
    ("maandags en woensdags 9-12", "ma,wo 09:00-12:00"),
    ("tussen 9 en 17 uur op werkdagen", "ma-vr 09:00-17:00"),
    ("ma-vr 9-17 behalve wo", "ma,di,do,vr 09:00-17:00"),
    ("ma-vr 9-17, behalve wo 9-12", "ma,di,do,vr 09:00-17:00; wo 09:00-12:00"),
    ("ma-vr van 9 tot 5 en za van 10 tot 12", "ma-vr 09:00-17:00; za 10:00-12:00"),
    ("za de hele dag", "za 00:00-24:00"),
    ("van maandag tot vrijdag van 9u tot 17u", "ma-vr 09:00-17:00"),
    ("ma-vr 9u-12u30 en 13u30-17u", "ma-vr 09:00-12:30 13:30-17:00"),
    ("wo 's namiddags van 1 tot 5", "wo 13:00-17:00"),
    ("vr 20 tot half 11", "vr 20:00-22:30"),  # 10:30 would end before the start
    ("ma 9-9", "ma 09:00-21:00"),
    ("ma 17-9", "ma 17:00-21:00"),  # 21:00 fits after 17:00; a night needs 17:00-09:00
    ("ma 13-5", "ma 13:00-17:00"),
    ("wo 12-1", "wo 12:00-13:00"),
    ("ma 7-9", "ma 07:00-09:00"),  # only a start from 1 to 5 is taken as the afternoon
    ("di en do 's ochtends 9-12", "di,do 09:00-12:00"),  # the 12 stays noon
    ("ma-vr 9-17.", "ma-vr 09:00-17:00"),
    # Night windows: 24-hour times, or an end clearly after midnight
    ("vr 20-2", "vr 20:00-02:00"),
    ("vr 22u-6u", "vr 22:00-06:00"),
    ("vr 23-1", "vr 23:00-01:00"),
    ("ma 20-8", "ma 20:00-08:00"),  # 20:00 is no time after 20:00: the night
    ("ma 22-02", "ma 22:00-02:00"),
    ("ma-vr 17:00-09:00", "ma-vr 17:00-09:00"),
    ("fri 10pm-2am", "vr 22:00-02:00"),
    ("ma 10-2am", "ma 22:00-02:00"),
    ("vr van 8 uur 's avonds tot 2 uur 's nachts", "vr 20:00-02:00"),
    ("vendredi de 20h à 2h du matin", "vr 20:00-02:00"),
    ("za 20 tot middernacht", "za 20:00-24:00"),
    # English
    ("Monday through Friday 9 to 5", "ma-vr 09:00-17:00"),
    ("mon, wed and fri 9-12", "ma,wo,vr 09:00-12:00"),
    ("Mon-Thu 9-5, Fri 9-1", "ma-do 09:00-17:00; vr 09:00-13:00"),
    ("9am-5pm Mon-Fri", "ma-vr 09:00-17:00"),
    ("weekends 10-2", "za,zo 10:00-14:00"),
    ("daily 8am-8pm", "ma-zo 08:00-20:00"),
    ("every day 8-8", "ma-zo 08:00-20:00"),
    ("Tue/Thu 7-9pm", "di,do 19:00-21:00"),
    ("mon-fri 9 a.m. - 5 p.m.", "ma-vr 09:00-17:00"),
    ("mon-fri 9:00-5:30", "ma-vr 09:00-17:30"),
    ("sat noon-4", "za 12:00-16:00"),
    # French
    ("lundi, mercredi et vendredi de 9h à 12h", "ma,wo,vr 09:00-12:00"),
    ("du lundi au jeudi de 9h à 12h et de 14h à 17h", "ma-do 09:00-12:00 14:00-17:00"),
    ("tous les jours sauf le dimanche de 9h à 17h", "ma-za 09:00-17:00"),
    ("en semaine de 8h30 à 16h30", "ma-vr 08:30-16:30"),
    ("le week-end de 10h à 12h", "za,zo 10:00-12:00"),
    ("lun-ven 8h et demie - 17h", "ma-vr 08:30-17:00"),
    ("mer 14h-18h", "wo 14:00-18:00"),
    # Earlier forms, and the stored form itself
    ("ma,di,do 08:30-16:30", "ma,di,do 08:30-16:30"),
    ("ma-do 9-12, 13-17", "ma-do 09:00-12:00 13:00-17:00"),
    ("ma-vr 09:00-12:00 13:00-17:00", "ma-vr 09:00-12:00 13:00-17:00"),
    ("za 10u-12u", "za 10:00-12:00"),
    ("za 10u30-12u", "za 10:30-12:00"),
    ("mon-fri 9:00-17:00", "ma-vr 09:00-17:00"),
    ("lu-ve 9h-17h", "ma-vr 09:00-17:00"),
    ("lu,ma,je 9h-12h", "ma,di,do 09:00-12:00"),  # French context: ma = mardi
    ("lundi 9h00-12h00", "ma 09:00-12:00"),
    ("ma,wo 09:00-17:00; vr 09:00-12:00", "ma,wo 09:00-17:00; vr 09:00-12:00"),
    ("ma,wo 09:00-17:00\nvr 09:00-12:00", "ma,wo 09:00-17:00; vr 09:00-12:00"),
    ("ma 9-17 za 10-12", "ma 09:00-17:00; za 10:00-12:00"),
    ("Maandag t/m Vrijdag van 9 tot 17 uur", "ma-vr 09:00-17:00"),
    ("ma, di en do 9.00-17.00", "ma,di,do 09:00-17:00"),
    ("ma–vr 9:00–17:00", "ma-vr 09:00-17:00"),  # en dashes
    ("werkdagen 9-17", "ma-vr 09:00-17:00"),
    ("weekend 10-12", "za,zo 10:00-12:00"),
    ("elke dag 11:00-21:00", "ma-zo 11:00-21:00"),
    ("vr-ma 9-17", "ma,vr-zo 09:00-17:00"),  # wraps around the week
    ("ma 9-12, 11-14, 14-15", "ma 09:00-15:00"),  # overlapping and touching merged
    ("ma 9-12; ma 10-17", "ma 09:00-17:00"),
    ("vr 9-17; vr 16:00-02:00", "vr 09:00-02:00"),  # merged into one night window
    ("vr 0-24; vr 20:00-02:00", "vr 00:00-24:00 20:00-02:00"),  # together more than a day
    ("vr 22-24", "vr 22:00-24:00"),
    ("vr 22:00-00:00", "vr 22:00-24:00"),
    ("za 0-24", "za 00:00-24:00"),
    ("ma 22-24; di 0-2 2-3", "ma 22:00-24:00; di 00:00-03:00"),  # the night goes on: 02:00
    ("24/7", "ma-zo 00:00-24:00"),
    ("ma 0900-1700", "ma 09:00-17:00"),
    ("Mo, Tu 9-17", "ma,di 09:00-17:00"),
]


@pytest.mark.parametrize(("text", "canonical"), PHRASES)
def test_parse_accepted(text: str, canonical: str) -> None:
    assert windows_to_text(parse_windows(text)) == canonical


@pytest.mark.parametrize(("text", "canonical"), PHRASES)
@pytest.mark.parametrize("language", ["nl", "en", "fr"])
def test_stored_text_reads_back_the_same(text: str, canonical: str, language: str) -> None:
    parsed = parse_windows(text)
    assert parse_windows(canonical) == parsed
    assert parse_windows(windows_to_text(parsed, language), language) == parsed


def test_parse_default_windows() -> None:
    assert parse_windows("ma-vr 09:00-17:00") == DEFAULT_WINDOWS


def test_the_same_windows_are_read_once() -> None:
    """Every relayed message and every coach's agenda reads the same few texts: read once."""
    first = parse_windows("ma t/m vr 9-17 behalve wo")
    assert parse_windows("ma t/m vr 9-17 behalve wo") is first
    for _ in range(2):  # an unreadable text is refused every time, not once
        with pytest.raises(WindowSyntaxError):
            parse_windows("ma-vr 25-26")


def test_a_night_window_is_one_window_of_the_day_it_starts() -> None:
    (night,) = parse_windows("vr 20:00-02:00")
    assert night == Window(4, time(20), time(2))
    assert night.crosses_midnight and not night.ends_at_midnight
    assert night.end_offset == timedelta(hours=26)
    (late,) = parse_windows("vr 22-24")
    assert not late.crosses_midnight and late.end_offset == timedelta(hours=24)


def test_parse_language_hint_settles_ma_di() -> None:
    assert parse_windows("ma 9-12") == (Window(0, time(9), time(12)),)
    assert parse_windows("ma 9-12", language="fr") == (Window(1, time(9), time(12)),)
    # Other Dutch words decide even against the hint.
    assert parse_windows("ma,vr 9-12", language="fr")[0].weekday == 0


@pytest.mark.parametrize(
    ("text", "reason", "fragment"),
    [
        ("", "empty", ""),
        ("  ; \n ", "empty", ";"),
        ("xy 9-17", "unknown_day", "xy"),
        ("ma-xy 9-17", "unknown_day", "xy"),
        ("ma 9-17 foo", "unknown_day", "foo"),
        ("Monday, Wednesday 9am", "bad_time", "9am"),
        ("9-17", "missing_days", "9"),
        ("behalve wo 9-17", "missing_days", "behalve wo 9-17"),
        ("ma", "missing_time", "ma"),
        ("elke dag", "missing_time", "elke dag"),  # every day, but when?
        ("ma 9", "bad_time", "9"),
        ("ma 9-", "bad_time", "9"),
        ("ma 25-26", "bad_time", "25"),
        ("ma 9:75-10", "bad_time", "9:75"),
        ("ma 24-24", "bad_time", "24"),
        ("ma 9-24:30", "bad_time", "24:30"),
        ("ma 13pm-14", "bad_time", "13pm"),
        # Truly unclear: 09:00 or 21:00 until 02:00? And a window of no length (or of 24 h?).
        ("ma 9-02:00", "end_before_start", "9-02:00"),
        ("ma 20:00-20:00", "end_before_start", "20:00-20:00"),
        ("ma 12-12", "end_before_start", "12-12"),
        ("ma 9-17 !", "syntax", "!"),
        ("ma-vr 9-17 behalve", "syntax", "behalve"),
        ("ma - 9-17", "syntax", "9"),
    ],
)
def test_parse_refused(text: str, reason: str, fragment: str) -> None:
    with pytest.raises(WindowSyntaxError) as caught:
        parse_windows(text)
    assert caught.value.reason_code == reason
    assert caught.value.fragment == fragment


@pytest.mark.parametrize("reason", sorted(REASON_CODES))
def test_every_refusal_carries_an_example_that_reads(reason: str) -> None:
    example = WindowSyntaxError(reason, "x").example
    assert windows_to_text(parse_windows(example)) == example


def test_an_unclear_night_is_shown_how_to_write_it() -> None:
    with pytest.raises(WindowSyntaxError) as caught:
        parse_windows("vr 9-02:00")
    assert caught.value.example == NIGHT_EXAMPLE == "vr 20:00-02:00"
    assert parse_windows(NIGHT_EXAMPLE)[0].crosses_midnight


def test_format_windows_is_structured() -> None:
    windows = parse_windows("ma,wo 09:00-17:00; di 9-12 13-17; vr 09:00-12:00")
    assert format_windows(windows) == (
        DayGroup((0, 2), ((time(9), time(17)),)),
        DayGroup((1,), ((time(9), time(12)), (time(13), time(17)))),
        DayGroup((4,), ((time(9), time(12)),)),
    )
    assert DayGroup((0, 1, 2, 4, 6), ()).runs == ((0, 2), (4, 4), (6, 6))
    assert format_windows(parse_windows("vr 20-2")) == (DayGroup((4,), ((time(20), time(2)),)),)


PIECES = [
    *("ma", "vr", "za", "lun", "ven", "werkdagen", "elke dag", "behalve", "sauf", "24/7"),
    *("9", "17", "5", "12", "0", "24", "02:00", "20:00", "half", "middernacht", "am", "pm"),
    *(" tot ", " en ", "-", ",", ";", ":", ".", "u", "h", " 's avonds", " ", "\n"),
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=10).map("".join))
def test_any_text_is_read_or_refused_and_what_is_read_is_stored_faithfully(text: str) -> None:
    try:
        parsed = parse_windows(text)
    except WindowSyntaxError as error:
        assert error.reason_code in REASON_CODES
        return
    assert parse_windows(windows_to_text(parsed)) == parsed


@st.composite
def windows(draw: st.DrawFn, min_size: int = 1) -> tuple[Window, ...]:
    """Windows in 5-minute steps, night windows (end at or before the start) included."""
    result = []
    for _ in range(draw(st.integers(min_size, 6))):
        day = draw(st.integers(0, 6))
        start = draw(st.integers(0, 287))
        end = draw(st.integers(1, 288))
        end = 288 if end == start else end  # never a start and end alike (but 00:00-24:00)
        result.append(Window(day, time(*divmod(start * 5, 60)), time(*divmod(end * 5 % 1440, 60))))
    return tuple(result)


@given(windows(), st.sampled_from(["nl", "en", "fr"]))
def test_text_round_trip(drawn: tuple[Window, ...], language: str) -> None:
    assert parse_windows(windows_to_text(drawn, language)) == merge_windows(drawn)


def test_window_validation() -> None:
    with pytest.raises(ValueError):
        Window(7, time(9), time(17))
    with pytest.raises(ValueError):
        Window(0, time(9), time(9))  # 24 hours from 09:00: not one window
    assert Window(0, time(17), time(9)).crosses_midnight  # Monday 17:00 until Tuesday 09:00
    assert Window(0, time(22), MIDNIGHT).ends_at_midnight
    assert Window(0, MIDNIGHT, MIDNIGHT).end_offset == timedelta(days=1)


def test_agreement_validation() -> None:
    with pytest.raises(ValueError):
        Agreement(DEFAULT_WINDOWS, "Europe/Nowhere", "NL")
    with pytest.raises(ValueError):
        Agreement(DEFAULT_WINDOWS, "Europe/Berlin", "DE")
    assert Agreement(DEFAULT_WINDOWS, "Europe/Brussels", "BE", policy="save").policy is Policy.SAVE  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------
# Holidays
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("country", "day", "name"),
    [
        ("NL", date(2026, 4, 27), "King's Day"),
        ("NL", date(2025, 4, 26), "King's Day"),  # the 27th was a Sunday
        ("NL", date(2025, 4, 27), None),
        ("NL", date(2026, 12, 25), "Christmas Day"),
        ("NL", date(2026, 12, 26), "Second Day of Christmas"),
        ("NL", date(2026, 7, 21), None),
        ("BE", date(2026, 7, 21), "National Day"),
        ("BE", date(2026, 4, 6), "Easter Monday"),
        ("BE", date(2026, 4, 27), None),
        ("BE", date(2026, 11, 25), None),
    ],
)
def test_public_holiday(country: str, day: date, name: str | None) -> None:
    assert public_holiday(country, day) == name


# ------------------------------------------------------------------------------------------
# is_open: a plain week, holidays
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("agreement_", "at", "expected"),
    [
        (NL, ams(2026, 11, 25, 12, 0), True),  # a Wednesday
        (NL, ams(2026, 11, 25, 9, 0), True),  # first minute
        (NL, ams(2026, 11, 25, 8, 59), False),
        (NL, ams(2026, 11, 25, 16, 59, 59), True),  # last moment
        (NL, ams(2026, 11, 25, 17, 0), False),  # end is exclusive
        (NL, utc(2026, 11, 25, 8, 0), True),  # 09:00 in Amsterdam, given in UTC
        (NL, utc(2026, 11, 25, 7, 59), False),
        (NL, utc(2026, 7, 1, 7, 0), True),  # 09:00 summer time
        (NL, ams(2026, 11, 28, 12, 0), False),  # Saturday
        (NL, ams(2026, 11, 29, 12, 0), False),  # Sunday
        (NL, ams(2026, 11, 25, 3, 0), False),  # night
        (NL, ams(2026, 4, 27, 12, 0), False),  # Koningsdag (Monday)
        (NL, ams(2026, 4, 28, 12, 0), True),
        (NL, ams(2026, 12, 25, 12, 0), False),  # Kerstmis (Friday)
        (NL, ams(2026, 12, 24, 12, 0), True),
        (NL, ams(2026, 7, 21, 12, 0), True),  # Belgian holiday, not Dutch
        (BE, ams(2026, 7, 21, 12, 0), False),  # 21 juli
        (BE, ams(2026, 4, 6, 12, 0), False),  # Paasmaandag
        (BE, ams(2026, 4, 27, 12, 0), True),  # Dutch holiday, not Belgian
        (agreement("za 10-12"), ams(2025, 4, 26, 11, 0), False),  # Koningsdag on a Saturday
        (agreement("za 10-12"), ams(2025, 4, 19, 11, 0), True),
        (agreement("ma-vr 9-17", open_on_holidays=True), ams(2026, 4, 27, 12, 0), True),
        (agreement("ma 9-12 13-17"), ams(2026, 11, 30, 12, 30), False),  # lunch
        (agreement("ma 9-12 13-17"), ams(2026, 11, 30, 13, 0), True),
        (agreement("vr 22-24"), ams(2026, 11, 27, 23, 59, 59), True),
        (agreement("vr 22-24"), ams(2026, 11, 28, 0, 0), False),
        (Agreement((), "Europe/Amsterdam", "NL"), ams(2026, 11, 25, 12, 0), False),
    ],
)
def test_is_open(agreement_: Agreement, at: datetime, expected: bool) -> None:
    assert is_open(agreement_, at) is expected


def test_naive_datetimes_refused() -> None:
    with pytest.raises(ValueError):
        is_open(NL, datetime(2026, 11, 25, 12, 0))
    with pytest.raises(ValueError):
        next_opening(NL, datetime(2026, 11, 25, 12, 0))


# ------------------------------------------------------------------------------------------
# DST change nights: last Sunday of March (02:00 -> 03:00), of October (03:00 -> 02:00)
# ------------------------------------------------------------------------------------------

ZONES = pytest.mark.parametrize("zone", ["Europe/Amsterdam", "Europe/Brussels"])
# 2026-03-29: 01:00 UTC is 02:00 CET, which becomes 03:00 CEST.
# 2026-10-25: 00:00-01:00 UTC is 02:00-03:00 CEST, 01:00-02:00 UTC is 02:00-03:00 CET again.


@ZONES
def test_spring_window_starting_in_the_gap_opens_after_it(zone: str) -> None:
    sunday = agreement("zo 02:30-04:00", zone)
    assert not is_open(sunday, utc(2026, 3, 29, 0, 59, 59))  # 01:59:59 CET
    assert is_open(sunday, utc(2026, 3, 29, 1, 0))  # 03:00 CEST
    assert next_opening(sunday, utc(2026, 3, 28, 12)) == utc(2026, 3, 29, 1, 0)
    assert current_window_end(sunday, utc(2026, 3, 29, 1, 30)) == utc(2026, 3, 29, 2, 0)
    assert first_opening_on(sunday, date(2026, 3, 29)) == utc(2026, 3, 29, 1, 0)


@ZONES
def test_spring_window_ending_in_the_gap_ends_at_it(zone: str) -> None:
    sunday = agreement("zo 01:00-02:30", zone)
    assert is_open(sunday, utc(2026, 3, 29, 0, 0))  # 01:00 CET
    assert is_open(sunday, utc(2026, 3, 29, 0, 59, 59))
    assert not is_open(sunday, utc(2026, 3, 29, 1, 0))  # 03:00 CEST
    assert current_window_end(sunday, utc(2026, 3, 29, 0, 30)) == utc(2026, 3, 29, 1, 0)


@ZONES
def test_spring_window_wholly_in_the_gap_skips_that_night(zone: str) -> None:
    sunday = agreement("zo 02:10-02:40", zone)
    assert not any(
        is_open(sunday, utc(2026, 3, 28, 23) + timedelta(minutes=m)) for m in range(0, 240, 5)
    )
    # The wall time exists again on later Sundays (02:10 CEST is 00:10 UTC); 5 April is
    # Easter Sunday, a holiday in both countries.
    assert next_opening(sunday, utc(2026, 3, 28, 12)) == utc(2026, 4, 12, 0, 10)
    assert first_opening_on(sunday, date(2026, 3, 29)) is None


@ZONES
def test_autumn_window_ending_in_the_repeated_hour_ends_at_the_later_one(zone: str) -> None:
    sunday = agreement("zo 01:00-02:30", zone)
    assert is_open(sunday, utc(2026, 10, 24, 23, 0))  # 01:00 CEST
    assert is_open(sunday, utc(2026, 10, 25, 0, 45))  # 02:45 CEST: one unbroken stretch
    assert is_open(sunday, utc(2026, 10, 25, 1, 15))  # 02:15 CET, the repeated hour
    assert is_open(sunday, utc(2026, 10, 25, 1, 29, 59))
    assert not is_open(sunday, utc(2026, 10, 25, 1, 30))  # 02:30 CET, the later occurrence
    assert current_window_end(sunday, utc(2026, 10, 24, 23, 0)) == utc(2026, 10, 25, 1, 30)


@ZONES
def test_autumn_window_starting_in_the_repeated_hour_opens_at_the_earlier_one(zone: str) -> None:
    sunday = agreement("zo 02:30-04:00", zone)
    assert not is_open(sunday, utc(2026, 10, 25, 0, 29))  # 02:29 CEST
    assert is_open(sunday, utc(2026, 10, 25, 0, 30))  # 02:30 CEST, the earlier occurrence
    assert is_open(sunday, utc(2026, 10, 25, 1, 10))  # 02:10 CET: still open, no re-opening
    assert not is_open(sunday, utc(2026, 10, 25, 3, 0))  # 04:00 CET
    assert next_opening(sunday, utc(2026, 10, 24, 12)) == utc(2026, 10, 25, 0, 30)
    assert openings_between(sunday, utc(2026, 10, 24), utc(2026, 10, 26)) == [
        utc(2026, 10, 25, 0, 30)
    ]


@ZONES
def test_ordinary_windows_on_change_days_keep_wall_time(zone: str) -> None:
    every_day = agreement("dagelijks 9-17", zone, open_on_holidays=True)
    assert first_opening_on(every_day, date(2026, 3, 28)) == utc(2026, 3, 28, 8)  # CET
    assert first_opening_on(every_day, date(2026, 3, 29)) == utc(2026, 3, 29, 7)  # CEST
    assert first_opening_on(every_day, date(2026, 10, 25)) == utc(2026, 10, 25, 8)  # CET


# ------------------------------------------------------------------------------------------
# next_opening, current_window_end, openings
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("agreement_", "after", "expected"),
    [
        (NL, ams(2026, 11, 25, 12, 0), ams(2026, 11, 25, 12, 0)),  # open: itself
        (NL, ams(2026, 11, 25, 17, 0), ams(2026, 11, 26, 9, 0)),
        (NL, ams(2026, 11, 25, 3, 0), ams(2026, 11, 25, 9, 0)),
        (NL, ams(2026, 11, 27, 17, 0), ams(2026, 11, 30, 9, 0)),  # Friday evening
        (NL, ams(2026, 12, 24, 17, 0), ams(2026, 12, 28, 9, 0)),  # over Christmas
        (NL, ams(2026, 12, 31, 17, 0), ams(2027, 1, 4, 9, 0)),  # over New Year
        (NL, ams(2026, 4, 24, 17, 0), ams(2026, 4, 28, 9, 0)),  # over Koningsdag
        (BE, ams(2026, 7, 20, 17, 0), ams(2026, 7, 22, 9, 0)),  # over 21 juli
        (agreement("za 10-12"), ams(2025, 4, 25, 12, 0), ams(2025, 5, 3, 10, 0)),
        (agreement("ma 9-12 13-17"), ams(2026, 11, 30, 12, 0), ams(2026, 11, 30, 13, 0)),
    ],
)
def test_next_opening(agreement_: Agreement, after: datetime, expected: datetime) -> None:
    found = next_opening(agreement_, after)
    assert found == expected
    assert found is not None and found.tzinfo is not None


def test_next_opening_none_without_windows() -> None:
    assert next_opening(Agreement((), "Europe/Amsterdam", "NL"), ams(2026, 1, 1)) is None


def test_next_opening_skips_a_long_holiday_run() -> None:
    # Fridays only, and in 2026 both Christmas Day and New Year's Day fall on a Friday.
    only_holidays = agreement("vr 9-17")
    assert next_opening(only_holidays, ams(2026, 12, 24, 17)) == ams(2027, 1, 8, 9)


def test_current_window_end() -> None:
    assert current_window_end(NL, ams(2026, 11, 25, 12, 0)) == ams(2026, 11, 25, 17, 0)
    assert current_window_end(NL, ams(2026, 11, 25, 17, 0)) is None
    assert current_window_end(NL, ams(2026, 11, 28, 12, 0)) is None
    # Windows that follow on without a gap count as one, across midnight too.
    late = agreement("ma 22-24; di 0-2 2-3")
    assert current_window_end(late, ams(2026, 11, 30, 23, 0)) == ams(2026, 12, 1, 3, 0)
    always = Agreement(parse_windows("24/7"), "Europe/Amsterdam", "NL", open_on_holidays=True)
    assert current_window_end(always, ams(2026, 11, 30, 23, 0)) is None
    assert is_open(always, ams(2026, 11, 30, 23, 0))


def test_openings_between_and_first_opening() -> None:
    start, end = ams(2026, 12, 21), ams(2027, 1, 5)
    days = [21, 22, 23, 24, 28, 29, 30, 31]
    expected = [ams(2026, 12, day, 9) for day in days] + [ams(2027, 1, 4, 9)]
    assert openings_between(NL, start, end) == expected
    late = agreement("ma 22-24; di 0-2")
    assert openings_between(late, ams(2026, 11, 30), ams(2026, 12, 2)) == [ams(2026, 11, 30, 22)]
    split = agreement("ma-vr 09:00-12:00 13:00-17:00")
    assert openings_between(split, ams(2026, 11, 30, 10), ams(2026, 11, 30, 23)) == [
        ams(2026, 11, 30, 13)
    ]
    assert first_opening_on(split, date(2026, 11, 30)) == ams(2026, 11, 30, 9)
    assert first_opening_on(NL, date(2026, 11, 28)) is None  # Saturday
    assert first_opening_on(NL, date(2026, 4, 27)) is None  # Koningsdag


# ------------------------------------------------------------------------------------------
# Night windows: "vr 20:00-02:00" is open from Friday 20:00 until Saturday 02:00
# ------------------------------------------------------------------------------------------

NIGHT = agreement("vr 20:00-02:00")  # 2026-11-27 is a Friday
NIGHT_AND_MORNING = agreement("vr 20:00-02:00; za 00:00-04:00")  # overlapping, two days
NIGHT_THEN_GAP = agreement("vr 20:00-02:00; za 03:00-04:00")


@pytest.mark.parametrize(
    ("agreement_", "at", "expected"),
    [
        (NIGHT, ams(2026, 11, 27, 19, 59), False),
        (NIGHT, ams(2026, 11, 27, 20, 0), True),
        (NIGHT, ams(2026, 11, 27, 23, 59, 59), True),
        (NIGHT, ams(2026, 11, 28, 0, 0), True),  # past midnight
        (NIGHT, ams(2026, 11, 28, 1, 0), True),  # Saturday 01:00
        (NIGHT, ams(2026, 11, 28, 1, 59, 59), True),
        (NIGHT, ams(2026, 11, 28, 2, 0), False),  # end is exclusive
        (NIGHT, ams(2026, 11, 28, 3, 0), False),  # Saturday 03:00
        (NIGHT, ams(2026, 11, 28, 21, 0), False),  # Saturday evening: not its day
        (NIGHT, ams(2026, 11, 27, 1, 0), False),  # Friday 01:00: Thursday has no night
        (NIGHT, utc(2026, 11, 28, 0, 30), True),  # 01:30 in Amsterdam, given in UTC
        (agreement("ma-zo 22:00-06:00"), ams(2026, 11, 25, 5, 59), True),
        (agreement("ma-zo 22:00-06:00"), ams(2026, 11, 25, 6, 0), False),
        # Holidays: a window belongs to the day it starts.
        (NIGHT, ams(2026, 12, 25, 21, 0), False),  # Christmas Day is a Friday
        (NIGHT, ams(2026, 12, 26, 1, 0), False),  # ... and its night goes with it
        (agreement("do 20:00-02:00"), ams(2026, 12, 25, 1, 0), True),  # Thursday's night
        (agreement("zo 20:00-02:00"), ams(2026, 4, 27, 1, 0), True),  # into Koningsdag
        (agreement("ma 20:00-02:00"), ams(2026, 4, 27, 21, 0), False),  # Koningsdag's own
        (agreement("ma 20:00-02:00"), ams(2026, 4, 28, 1, 0), False),
        (agreement("ma 20:00-02:00", open_on_holidays=True), ams(2026, 4, 28, 1, 0), True),
        (agreement("ma 22-6", "Europe/Brussels"), ams(2026, 7, 21, 5, 0), True),  # into 21 juli
        (agreement("di 22-6", "Europe/Brussels"), ams(2026, 7, 22, 5, 0), False),  # from it
    ],
)
def test_night_window_is_open(agreement_: Agreement, at: datetime, expected: bool) -> None:
    assert is_open(agreement_, at) is expected


@pytest.mark.parametrize(
    ("agreement_", "after", "expected"),
    [
        (NIGHT, ams(2026, 11, 27, 12, 0), ams(2026, 11, 27, 20, 0)),
        (NIGHT, ams(2026, 11, 28, 1, 0), ams(2026, 11, 28, 1, 0)),  # open: itself
        (NIGHT, ams(2026, 11, 28, 2, 0), ams(2026, 12, 4, 20, 0)),
        (NIGHT, ams(2026, 11, 28, 3, 0), ams(2026, 12, 4, 20, 0)),
        # Christmas Day and New Year's Day are Fridays: their nights stay closed.
        (NIGHT, ams(2026, 12, 24, 12, 0), ams(2027, 1, 8, 20, 0)),
        (agreement("ma-vr 9-17; vr 20:00-02:00"), ams(2026, 11, 27, 17, 0), ams(2026, 11, 27, 20)),
        (NIGHT_THEN_GAP, ams(2026, 11, 28, 2, 30), ams(2026, 11, 28, 3, 0)),
    ],
)
def test_night_window_next_opening(
    agreement_: Agreement, after: datetime, expected: datetime
) -> None:
    assert next_opening(agreement_, after) == expected


@pytest.mark.parametrize(
    ("agreement_", "at", "expected"),
    [
        (NIGHT, ams(2026, 11, 27, 21, 0), ams(2026, 11, 28, 2, 0)),  # "until Saturday 02:00"
        (NIGHT, ams(2026, 11, 28, 1, 0), ams(2026, 11, 28, 2, 0)),
        (NIGHT, ams(2026, 11, 28, 3, 0), None),  # closed
        (NIGHT, ams(2026, 11, 27, 19, 0), None),
        (NIGHT_AND_MORNING, ams(2026, 11, 27, 23, 0), ams(2026, 11, 28, 4, 0)),  # one stretch
        (NIGHT_AND_MORNING, ams(2026, 11, 28, 1, 0), ams(2026, 11, 28, 4, 0)),
        (agreement("vr 20:00-02:00; za 02:00-03:00"), ams(2026, 11, 27, 21), ams(2026, 11, 28, 3)),
        (NIGHT_THEN_GAP, ams(2026, 11, 27, 21, 0), ams(2026, 11, 28, 2, 0)),
        (agreement("ma-zo 20:00-08:00"), ams(2026, 11, 24, 23, 0), ams(2026, 11, 25, 8, 0)),
    ],
)
def test_night_window_end(agreement_: Agreement, at: datetime, expected: datetime | None) -> None:
    assert current_window_end(agreement_, at) == expected


def test_night_window_openings_and_first_opening() -> None:
    week = (ams(2026, 11, 27), ams(2026, 12, 6))
    assert openings_between(NIGHT, *week) == [ams(2026, 11, 27, 20), ams(2026, 12, 4, 20)]
    # Opened before the start: no opening, though it is still open at the start.
    assert openings_between(NIGHT, ams(2026, 11, 28, 1), week[1]) == [ams(2026, 12, 4, 20)]
    # Saturday 00:00 opens while Friday's night is open: no closed-to-open change.
    assert openings_between(NIGHT_AND_MORNING, *week)[:1] == [ams(2026, 11, 27, 20)]
    assert ams(2026, 11, 28, 0) not in openings_between(NIGHT_AND_MORNING, *week)
    assert openings_between(NIGHT_THEN_GAP, ams(2026, 11, 27), ams(2026, 11, 29)) == [
        ams(2026, 11, 27, 20),
        ams(2026, 11, 28, 3),
    ]
    # The morning agenda: Friday is the working day, not Saturday.
    assert first_opening_on(NIGHT, date(2026, 11, 27)) == ams(2026, 11, 27, 20)
    assert first_opening_on(NIGHT, date(2026, 11, 28)) is None
    assert first_opening_on(NIGHT, date(2026, 12, 25)) is None  # Christmas Day
    after_a_night = agreement("do 20:00-02:00; vr 9-17")
    assert first_opening_on(after_a_night, date(2026, 11, 27)) == ams(2026, 11, 27, 9)


def test_night_window_open_time() -> None:
    week = (ams(2026, 11, 23), ams(2026, 11, 30))
    assert open_time_between(NIGHT, *week) == timedelta(hours=6)
    assert open_time_between(NIGHT, ams(2026, 11, 28, 1), week[1]) == timedelta(hours=1)
    # The overlap of Friday's night and Saturday's morning is counted once.
    assert open_time_between(NIGHT_AND_MORNING, *week) == timedelta(hours=8)


@ZONES
def test_night_window_across_the_spring_change(zone: str) -> None:
    # Saturday 28 March 22:00 CET (21:00 UTC) until Sunday 03:30 CEST (01:30 UTC).
    night = agreement("za 22:00-03:30", zone)
    assert is_open(night, utc(2026, 3, 29, 0, 59))  # 01:59 CET
    assert is_open(night, utc(2026, 3, 29, 1, 0))  # 03:00 CEST
    assert not is_open(night, utc(2026, 3, 29, 1, 30))
    assert current_window_end(night, utc(2026, 3, 28, 22)) == utc(2026, 3, 29, 1, 30)
    assert open_time_between(night, utc(2026, 3, 28), utc(2026, 3, 30)) == timedelta(hours=4.5)
    # Ending at 02:30, inside the gap: it ends at the gap, 03:00 CEST.
    short = agreement("za 22:00-02:30", zone)
    assert current_window_end(short, utc(2026, 3, 28, 22)) == utc(2026, 3, 29, 1, 0)
    assert not is_open(short, utc(2026, 3, 29, 1, 0))


@ZONES
def test_night_window_across_the_autumn_change(zone: str) -> None:
    # Saturday 24 October 22:00 CEST (20:00 UTC) until the later 02:30, CET (01:30 UTC).
    night = agreement("za 22:00-02:30", zone)
    assert is_open(night, utc(2026, 10, 25, 0, 45))  # 02:45 CEST
    assert is_open(night, utc(2026, 10, 25, 1, 15))  # 02:15 CET, the repeated hour
    assert not is_open(night, utc(2026, 10, 25, 1, 30))
    assert current_window_end(night, utc(2026, 10, 24, 21)) == utc(2026, 10, 25, 1, 30)
    assert open_time_between(night, utc(2026, 10, 24), utc(2026, 10, 26)) == timedelta(hours=5.5)


@pytest.mark.parametrize(
    ("at", "reason", "hold_until"),
    [
        (ams(2026, 11, 28, 1, 0), Reason.IN_HOURS, None),  # Saturday 01:00: still Friday's
        (ams(2026, 11, 28, 3, 0), Reason.OUT_OF_HOURS, ams(2026, 12, 4, 20, 0)),
        (ams(2026, 11, 27, 19, 0), Reason.OUT_OF_HOURS, ams(2026, 11, 27, 20, 0)),
        (ams(2026, 12, 26, 1, 0), Reason.OUT_OF_HOURS, ams(2027, 1, 8, 20, 0)),  # Christmas
    ],
)
def test_routing_with_a_night_window(
    at: datetime, reason: Reason, hold_until: datetime | None
) -> None:
    decision = route(Incoming(at, urgent=False), NIGHT, (1,), (), None, False, now=at)
    assert decision.reason is reason
    assert decision.hold_until == hold_until
    assert decision.deliver_to == (() if hold_until else (1,))


# ------------------------------------------------------------------------------------------
# Properties of next_opening
# ------------------------------------------------------------------------------------------


def _boundaries(agreement_: Agreement, start: datetime, end: datetime) -> list[datetime]:
    """Every instant in [start, end) at which openness could change, found independently.

    Window walls in both folds, and the zone's offset changes. Between two consecutive
    boundaries the answer of is_open cannot change, so one probe per stretch is complete.
    """
    zone = ZoneInfo(agreement_.timezone)
    points = {start}
    day = start.astimezone(zone).date() - timedelta(days=1)
    while day <= end.astimezone(zone).date() + timedelta(days=1):
        for window in agreement_.windows:
            if window.weekday != day.weekday():
                continue
            end_day = day + timedelta(days=1) if window.end_offset >= timedelta(days=1) else day
            for wall_day, wall in ((day, window.start), (end_day, window.end)):
                for fold in (0, 1):
                    naive = datetime.combine(wall_day, wall).replace(fold=fold)
                    points.add(naive.replace(tzinfo=zone).astimezone(UTC))
        day += timedelta(days=1)
    hour = start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    while hour <= end:
        if (
            hour.astimezone(zone).utcoffset()
            != (hour - timedelta(hours=1)).astimezone(zone).utcoffset()
        ):
            points.add(hour)
        hour += timedelta(hours=1)
    return sorted(point for point in points if start <= point < end)


agreements = st.builds(
    lambda drawn, zone, holidays_open: Agreement(
        drawn, zone, "BE" if zone == "Europe/Brussels" else "NL", holidays_open
    ),
    windows(),
    st.sampled_from(["Europe/Amsterdam", "Europe/Brussels"]),
    st.booleans(),
)
instants = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31), timezones=st.just(UTC)
)
SPRING_NIGHT = datetime(2026, 3, 28, 23, 0, tzinfo=UTC)
AUTUMN_NIGHT = datetime(2026, 10, 24, 23, 0, tzinfo=UTC)


@settings(max_examples=150, deadline=None)
@given(agreements, instants)
@example(Agreement(parse_windows("zo 02:30-04:00"), "Europe/Amsterdam", "NL"), SPRING_NIGHT)
@example(Agreement(parse_windows("zo 02:10-02:40"), "Europe/Brussels", "BE"), SPRING_NIGHT)
@example(Agreement(parse_windows("zo 02:30-04:00"), "Europe/Amsterdam", "NL"), AUTUMN_NIGHT)
@example(Agreement(parse_windows("zo 01:00-02:30"), "Europe/Brussels", "BE"), AUTUMN_NIGHT)
@example(
    Agreement(parse_windows("zo 02:15-02:45"), "Europe/Amsterdam", "NL"),
    AUTUMN_NIGHT + timedelta(hours=2, minutes=20),
)
@example(
    Agreement(parse_windows("vr 9-17"), "Europe/Amsterdam", "NL"),
    datetime(2026, 12, 24, tzinfo=UTC),
)
def test_next_opening_is_the_first_open_instant(agreement_: Agreement, after: datetime) -> None:
    found = next_opening(agreement_, after)
    assert found is not None  # every drawn agreement has a window
    assert found >= after
    assert is_open(agreement_, found)
    assert next_opening(agreement_, found) == found  # idempotent
    # Nothing in [after, found) is open: probe each boundary and each stretch between them.
    points = _boundaries(agreement_, after, found)
    for here, there in zip(points, [*points[1:], found][: len(points)], strict=True):
        assert not is_open(agreement_, here), here
        assert not is_open(agreement_, here + (there - here) / 2), here


@settings(max_examples=150, deadline=None)
@given(agreements, instants)
def test_is_open_matches_wall_clock_away_from_change_nights(
    agreement_: Agreement, at: datetime
) -> None:
    local = at.astimezone(ZoneInfo(agreement_.timezone))
    today = local.date()
    if today in (date(2026, 3, 29), date(2026, 10, 25)):
        return
    yesterday = today - timedelta(days=1)
    wall = local.timetz().replace(tzinfo=None)

    def works(day: date) -> bool:  # a window belongs to the day it starts
        return agreement_.open_on_holidays or public_holiday(agreement_.country, day) is None

    started_today = works(today) and any(
        window.weekday == today.weekday()
        and window.start <= wall
        and (window.end_offset >= timedelta(days=1) or wall < window.end)
        for window in agreement_.windows
    )
    still_open_from_yesterday = works(yesterday) and any(
        window.weekday == yesterday.weekday() and window.crosses_midnight and wall < window.end
        for window in agreement_.windows
    )
    assert is_open(agreement_, at) is (started_today or still_open_from_yesterday)


@settings(max_examples=60, deadline=None)
@given(agreements, instants)
def test_window_end_closes_and_openings_open(agreement_: Agreement, at: datetime) -> None:
    if is_open(agreement_, at):
        end = current_window_end(agreement_, at)
        if end is not None:
            assert end > at and not is_open(agreement_, end)
            assert is_open(agreement_, end - timedelta(microseconds=1))
    for opening in openings_between(agreement_, at, at + timedelta(days=8)):
        assert is_open(agreement_, opening)
        assert not is_open(agreement_, opening - timedelta(microseconds=1))


# ------------------------------------------------------------------------------------------
# Absences
# ------------------------------------------------------------------------------------------


def test_absence_bounds() -> None:
    leave = Absence(7, ams(2026, 12, 24), ams(2027, 1, 3), substitute_id=8)
    absences = (leave,)
    assert active_absence(absences, 7, ams(2026, 12, 23, 23, 59)) is None
    assert active_absence(absences, 7, ams(2026, 12, 24)) == leave  # start inclusive
    assert active_absence(absences, 7, ams(2027, 1, 2, 23, 59)) == leave
    assert active_absence(absences, 7, ams(2027, 1, 3)) is None  # end exclusive
    assert active_absence(absences, 8, ams(2026, 12, 25)) is None


def test_overlapping_absences_latest_start_wins() -> None:
    long = Absence(7, ams(2026, 12, 1), ams(2027, 2, 1), substitute_id=8)
    short = Absence(7, ams(2026, 12, 24), ams(2027, 1, 3), substitute_id=9)
    assert active_absence((long, short), 7, ams(2026, 12, 25)) == short
    assert active_absence((short, long), 7, ams(2027, 1, 10)) == long


def test_absence_for_days_uses_local_midnights() -> None:
    leave = absence_for_days(7, date(2026, 12, 24), date(2027, 1, 2), "Europe/Amsterdam", 8)
    assert leave.start == ams(2026, 12, 24) and leave.end == ams(2027, 1, 3)
    summer = absence_for_days(7, date(2026, 3, 28), date(2026, 3, 29), "Europe/Brussels")
    assert summer.start == utc(2026, 3, 27, 23) and summer.end == utc(2026, 3, 29, 22)


def test_absence_validation() -> None:
    with pytest.raises(ValueError):
        Absence(7, ams(2026, 12, 24), ams(2026, 12, 24))
    with pytest.raises(ValueError):
        Absence(7, ams(2026, 12, 24), ams(2026, 12, 25), substitute_id=7)
    with pytest.raises(ValueError):
        Absence(7, datetime(2026, 12, 24), ams(2026, 12, 25))


OFFICE = agreement("ma-vr 09:00-17:00")


@pytest.mark.parametrize(("now", "more", "earliest"), [
    (ams(2026, 11, 23, 18, 30), timedelta(hours=1), ams(2026, 11, 24, 10)),  # closed: tomorrow
    (ams(2026, 11, 24, 15), timedelta(hours=1), ams(2026, 11, 24, 16)),  # open: from now
    (ams(2026, 11, 27, 17), timedelta(hours=2), ams(2026, 11, 30, 11)),  # Friday: Monday
    (ams(2026, 11, 24, 15), timedelta(0), ams(2026, 11, 24, 15)),
])
def test_earliest_open_time_reached(now: datetime, more: timedelta, earliest: datetime) -> None:
    assert earliest_open_time_reached(OFFICE, now, more) == earliest


@given(st.integers(0, 14 * 24 * 60), st.integers(1, 40 * 60),
       st.sampled_from([OFFICE, NIGHT, NIGHT_AND_MORNING, NIGHT_THEN_GAP]))
@settings(max_examples=200, deadline=None)
def test_earliest_open_time_reached_is_never_late(minutes: int, more_minutes: int,
                                                  kind: Agreement) -> None:
    """A lower bound: by that moment no more than `more` open time has passed (a nudge looked
    at then is never later than the moment it became due)."""
    now = ams(2026, 11, 23) + timedelta(minutes=minutes)
    more = timedelta(minutes=more_minutes)
    assert open_time_between(kind, now, earliest_open_time_reached(kind, now, more)) <= more
