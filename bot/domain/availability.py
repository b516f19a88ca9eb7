"""Availability agreements (*bereikbaarheidsafspraken*): weekly windows, holidays, absences.

Pure functions over frozen dataclasses; every instant is passed in (aware datetimes) and every
instant returned is UTC.

Windows are wall-clock times in the agreement's zone, so "09:00-17:00" means 09:00 on the
family's clock in winter and in summer. A *night window* ends at or before its start and so
runs past midnight: "vr 20:00-02:00" is open from Friday 20:00 until Saturday 02:00. It belongs
to the day it starts: a public holiday on the Friday closes it all, one on the Saturday does not
touch it, and it makes the Friday (not the Saturday) a working day for the morning agenda.

Two nights a year the wall clock is not a plain line:

* Spring (last Sunday of March, 02:00 -> 03:00 in Europe/Amsterdam and Europe/Brussels): a
  window that starts or ends at a wall time that does not exist (02:30) does so at the first
  instant after the gap (03:00 summer time). A window lying wholly inside the gap (02:10-02:40)
  does not open that night.
* Autumn (last Sunday of October, 03:00 -> 02:00): a wall time in the repeated hour occurs twice.
  A window *starts* at the earlier occurrence and *ends* at the later one: generous to the family,
  a window is longer rather than shorter, and it is one unbroken stretch of time (it never closes
  and re-opens when the clock jumps back).

Every window therefore occupies one interval [open, close) of real time that starts on its local
date (and, for a night window, ends on the next), and all questions below (is it open, when does
it open next, when does it close) are answered from those intervals.

Public holidays of the agreement's country (NL, BE) are closed unless `open_on_holidays`; the
calendar is the `holidays` package's public category (the Dutch list follows the Algemene
termijnenwet, so Goede Vrijdag is included and Bevrijdingsdag only in lustrum years). A coach who
works those days sets `open_on_holidays`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from types import MappingProxyType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

from bot.domain.text import fold_accents

MIDNIGHT = time(0, 0)
DAY = timedelta(days=1)
# Far enough to step over a Christmas-plus-holidays run, or a once-a-month-ish agreement.
SEARCH_DAYS = 400

COUNTRIES = frozenset({"NL", "BE"})
DEFAULT_TIMEZONES: Mapping[str, str] = MappingProxyType(
    {"NL": "Europe/Amsterdam", "BE": "Europe/Brussels"}
)


class Policy(StrEnum):
    """What happens to a family message outside the windows (PRODUCT.md §2.3)."""

    CRISIS = "crisis"  # held for the coach; the family gets crisis services + 112
    ONCALL = "oncall"  # as crisis, and passed to the registered on-duty team's chat
    ALWAYS = "always"  # the coach chose to be reachable at any time: delivered at once
    SAVE = "save"  # held for the next visit; the family is shown the next appointment


def _offset(moment: time) -> timedelta:
    return timedelta(
        hours=moment.hour,
        minutes=moment.minute,
        seconds=moment.second,
        microseconds=moment.microsecond,
    )


def _fits_one_window(start_offset: timedelta, end_offset: timedelta) -> bool:
    """Whether [start, end) after the start day's midnight can be written as one Window."""
    if start_offset == timedelta(0):
        return timedelta(0) < end_offset <= DAY
    return start_offset < end_offset < start_offset + DAY


@dataclass(frozen=True)
class Window:
    """One weekly window: `weekday` 0=Monday..6=Sunday, wall times in the agreement's zone.

    `end` is exclusive. An `end` at or before `start` is on the next day: Window(4, time(20),
    time(2)) is Friday 20:00 until Saturday 02:00 (a night window), Window(4, time(22),
    time(0)) is Friday 22:00-24:00 and Window(5, time(0), time(0)) the whole Saturday. A window
    is shorter than a day, except that whole day from 00:00 to 24:00.
    """

    weekday: int
    start: time
    end: time

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise ValueError(f"weekday must be 0..6, not {self.weekday}")
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("window times are wall-clock times, without a zone")
        if not _fits_one_window(self.start_offset, self.end_offset):
            raise ValueError("a window must end after it starts, within a day")

    @property
    def start_offset(self) -> timedelta:
        return _offset(self.start)

    @property
    def end_offset(self) -> timedelta:
        """The end after the start day's midnight: more than a day for a night window."""
        end = _offset(self.end)
        return end + DAY if end <= self.start_offset else end

    @property
    def ends_at_midnight(self) -> bool:
        return self.end == MIDNIGHT

    @property
    def crosses_midnight(self) -> bool:
        """A night window: it is still open after the midnight that ends its day."""
        return self.end_offset > DAY


DEFAULT_WINDOWS: tuple[Window, ...] = tuple(Window(day, time(9), time(17)) for day in range(5))


def merge_windows(windows: Iterable[Window]) -> tuple[Window, ...]:
    """Sorted by day and start; overlapping or touching windows of one day joined into one.

    Windows of different days are never joined, even when a night window runs into the next
    day's first one: each keeps its own day for holidays. Two of one day that together would
    last more than a day (00:00-24:00 and 20:00-02:00) stay apart.
    """
    by_day: dict[int, list[Window]] = {}
    for window in windows:
        by_day.setdefault(window.weekday, []).append(window)
    merged: list[Window] = []
    for day in sorted(by_day):
        current: Window | None = None
        for window in sorted(by_day[day], key=lambda w: (w.start_offset, w.end_offset)):
            if current is not None and window.start_offset <= current.end_offset:
                longer = window if window.end_offset > current.end_offset else current
                if _fits_one_window(current.start_offset, longer.end_offset):
                    current = Window(day, current.start, longer.end)
                    continue
            if current is not None:
                merged.append(current)
            current = window
        if current is not None:
            merged.append(current)
    return tuple(merged)


def _zone(key: str) -> ZoneInfo:
    return ZoneInfo(key)  # ZoneInfo caches instances per key itself


@dataclass(frozen=True)
class Agreement:
    """A family's availability agreement. Windows are normalised (merged, sorted) on creation.

    No windows at all is allowed and means "never within availability"; routing then never holds
    a message without a release time (see routing.py).
    """

    windows: tuple[Window, ...]
    timezone: str
    country: str
    open_on_holidays: bool = False
    policy: Policy = Policy.CRISIS
    # The coach chose to get urgent messages (crisis words, 🆘) at once, at any hour. Off by
    # default: the coach's boundaries come first, the family gets the crisis lines either way.
    urgent_anytime: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "windows", merge_windows(self.windows))
        object.__setattr__(self, "policy", Policy(self.policy))
        if self.country not in COUNTRIES:
            raise ValueError(f"country must be one of {sorted(COUNTRIES)}, not {self.country!r}")
        try:
            _zone(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {self.timezone!r}") from exc

    @property
    def zone(self) -> ZoneInfo:
        return _zone(self.timezone)


def default_agreement(country: str) -> Agreement:
    """The coach's standard agreement: Mon-Fri 09:00-17:00 in the region's zone, policy crisis."""
    return Agreement(DEFAULT_WINDOWS, DEFAULT_TIMEZONES[country], country)


# --------------------------------------------------------------------------------------------
# Parsing and formatting windows
# --------------------------------------------------------------------------------------------
#
# Coaches write times the way they say them: "9-17", "09:00-17:00", "9u30", "9h", "9am-5pm",
# "van 8 tot half 5", "werkdagen 9-5". Which half of the day a time means:
#
# * Explicit times are read as written: with am/pm (or 's ochtends, 's avonds, du soir, ...),
#   or on a 24-hour clock (0, 13-24, a leading zero "02", "HH:MM" with two digits, "HHMM").
# * An end hour 1-11 without any of that which is at or before the start is read 12 hours later
#   when that still lies after the start on the same day: "9-5" is 09:00-17:00, "9 tot 4"
#   09:00-16:00, "20 tot half 11" 20:00-22:30, "9-9" 09:00-21:00, and also "17-9" 17:00-21:00
#   (the shorter reading; the reply shows it, and a night from 17:00 is "17:00-09:00").
# * A night window is read when the end is still at or before the start after that: "20-2",
#   "22u-6u", "vr 20:00-02:00", "8 uur 's avonds tot 2 uur 's nachts", and "10-2am" (a plain
#   start before an am end is the evening: 22:00-02:00). Written in 24-hour times it is always
#   a night window, so the stored form always reads back.
# * A span of two plain hours starting at 1-5 is the afternoon ("za 1-5" is 13:00-17:00, "9-12,
#   1-5" 09:00-12:00 13:00-17:00), unless it follows on from an earlier span ("0-2 2-3").
#   "7-9pm" is 19:00-21:00 (the pm carries to the start when that stays a short evening).
# * Refused as unclear: a plain morning hour with a 24-hour end before it ("9-02:00": 09:00 or
#   21:00?), and a window that starts and ends at the same time ("20:00-20:00").

# Reason codes of WindowSyntaxError; the caller turns them into the user's language.
REASON_CODES = frozenset(
    {
        "empty",  # nothing to read
        "unknown_day",  # a word that is not a day
        "bad_time",  # not a time, or out of range (25:00, 9:75, a start of 24:00, 13pm)
        # The end does not come after the start and it is unclear whether the window runs past
        # midnight ("9-02:00"), or it starts and ends at the same time ("20:00-20:00").
        "end_before_start",
        "missing_days",  # times without days
        "missing_time",  # days without times after them
        "syntax",  # anything else that does not fit
    }
)
# How to write it instead: a canonical window text the caller can show with the refusal.
NIGHT_EXAMPLE = "vr 20:00-02:00"
_EXAMPLES: Mapping[str, str] = MappingProxyType(
    {
        "empty": "ma-vr 09:00-17:00",
        "unknown_day": "ma,wo,vr 09:00-17:00",
        "bad_time": "ma-vr 09:00-17:00",
        "end_before_start": NIGHT_EXAMPLE,
        "missing_days": "ma-vr 09:00-17:00",
        "missing_time": "ma-vr 09:00-17:00",
        "syntax": "ma-vr 09:00-12:00 13:00-17:00",
    }
)


class WindowSyntaxError(ValueError):
    """Unreadable window text. Carries a reason code, the offending fragment and `example`, a
    window text showing how to write it (in the stored Dutch form); no prose."""

    def __init__(self, reason_code: str, fragment: str) -> None:
        assert reason_code in REASON_CODES, reason_code
        super().__init__(f"{reason_code}: {fragment!r}")
        self.reason_code = reason_code
        self.fragment = fragment
        self.example = _EXAMPLES[reason_code]


_NL_DAYS = {
    "ma": 0, "maa": 0, "maan": 0, "maandag": 0,
    "di": 1, "din": 1, "dins": 1, "dinsdag": 1,
    "wo": 2, "woe": 2, "woen": 2, "woens": 2, "woensdag": 2,
    "do": 3, "don": 3, "dond": 3, "donderdag": 3,
    "vr": 4, "vrij": 4, "vrijdag": 4,
    "za": 5, "zat": 5, "zaterdag": 5,
    "zo": 6, "zon": 6, "zondag": 6,
}  # fmt: skip
_EN_DAYS = {
    "mo": 0, "mon": 0, "monday": 0,
    "tu": 1, "tue": 1, "tues": 1, "tuesday": 1,
    "we": 2, "wed": 2, "weds": 2, "wednesday": 2,
    "th": 3, "thu": 3, "thur": 3, "thurs": 3, "thursday": 3,
    "fr": 4, "fri": 4, "friday": 4,
    "sa": 5, "sat": 5, "saturday": 5,
    "su": 6, "sun": 6, "sunday": 6,
}  # fmt: skip
_FR_DAYS = {
    "lu": 0, "lun": 0, "lundi": 0,
    "ma": 1, "mar": 1, "mardi": 1,
    "me": 2, "mer": 2, "mercredi": 2,
    "je": 3, "jeu": 3, "jeudi": 3,
    "ve": 4, "ven": 4, "vendredi": 4,
    "sa": 5, "sam": 5, "samedi": 5,
    "di": 6, "dim": 6, "dimanche": 6,
}  # fmt: skip
# "ma" and "di" are Monday/Tuesday in Dutch but mardi/dimanche in French. Dutch wins unless
# the text is otherwise French (lu, me, je, ve, ...) or the caller says it is French.
_DUTCH_ONLY = frozenset(_NL_DAYS) - frozenset(_FR_DAYS) - frozenset(_EN_DAYS)
_FRENCH_ONLY = frozenset(_FR_DAYS) - frozenset(_NL_DAYS) - frozenset(_EN_DAYS)
_WORKDAYS = (0, 1, 2, 3, 4)
_EVERY_DAY = (0, 1, 2, 3, 4, 5, 6)
_DAY_GROUPS: Mapping[str, tuple[int, ...]] = MappingProxyType(
    {
        "werkdagen": _WORKDAYS,
        "werkdag": _WORKDAYS,
        "weekdagen": _WORKDAYS,
        "weekdag": _WORKDAYS,
        "weekdays": _WORKDAYS,
        "weekday": _WORKDAYS,
        "weekend": (5, 6),
        "weekends": (5, 6),
        "dagelijks": _EVERY_DAY,
        "daily": _EVERY_DAY,
        "everyday": _EVERY_DAY,
    }
)
_NUMBER_WORDS: Mapping[str, int] = MappingProxyType(
    {
        **dict.fromkeys(("een", "one", "un", "une"), 1),
        **dict.fromkeys(("twee", "two", "deux"), 2),
        **dict.fromkeys(("drie", "three", "trois"), 3),
        **dict.fromkeys(("vier", "four", "quatre"), 4),
        **dict.fromkeys(("vijf", "five", "cinq"), 5),
        **dict.fromkeys(("zes", "six"), 6),
        **dict.fromkeys(("zeven", "seven", "sept"), 7),
        **dict.fromkeys(("acht", "eight", "huit"), 8),
        **dict.fromkeys(("negen", "nine", "neuf"), 9),
        **dict.fromkeys(("tien", "ten", "dix"), 10),
        **dict.fromkeys(("elf", "eleven", "onze"), 11),
        **dict.fromkeys(("twaalf", "twelve", "douze"), 12),
    }
)


# Written with "u" ("4u30") so that the result stays a plain time that may mean the afternoon.
def _hour_before(minutes: str) -> Callable[[re.Match[str]], str]:
    """Dutch "half 5" is 4:30, "kwart voor 5" 4:45."""

    def rewrite(match: re.Match[str]) -> str:
        hour = int(match["hour"])
        return f"{hour - 1 if hour > 1 else 12}u{minutes}"

    return rewrite


def _hour_after(minutes: str) -> Callable[[re.Match[str]], str]:
    """English "half past 4" is 4:30, Dutch "kwart over 4" 4:15."""
    return lambda match: f"{match['hour']}u{minutes}"


_HOUR = r"(?P<hour>\d{1,2})"
# Rewrites applied in order to the folded text, before it is cut into tokens.
_REWRITES: tuple[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]], ...] = (
    (re.compile(r"(?<![a-z])([ap])\.\s?m\.?(?![a-z])"), r"\1m"),
    # Parts of the day that say am or pm ("'s" has become "s" with the apostrophe gone).
    (
        re.compile(r"\bs\s*(?:ochtends|morgens|voormiddags)\b|\bin the morning\b|\bdu matin\b"),
        " am ",
    ),
    (
        re.compile(
            r"\bs\s*(?:middags|namiddags|avonds)\b|\bin the (?:afternoon|evening)\b"
            r"|\bde l apres[ -]?midi\b|\bdu soir\b|\bde l aprem\b"
        ),
        " pm ",
    ),
    (re.compile(r"\bs\s*nachts\b|\bat night\b|\bde la nuit\b"), " night "),
    (re.compile(r"\b(?:middernacht|midnight|minuit)\b"), " 00:00 "),
    (re.compile(r"\b(?:noon|midday|midi)\b"), " 12:00 "),
    (
        re.compile(r"\b(?:" + "|".join(_NUMBER_WORDS) + r")\b"),
        lambda match: str(_NUMBER_WORDS[match.group()]),
    ),
    # Quarters and halves: "half 5" (Dutch: 4:30), "half past 4", "kwart voor 5", "9h et demie".
    (re.compile(rf"\bhalf past {_HOUR}\b"), _hour_after("30")),
    (re.compile(rf"\b(?:a )?quarter past {_HOUR}\b"), _hour_after("15")),
    (re.compile(rf"\bkwart over {_HOUR}\b"), _hour_after("15")),
    (re.compile(rf"\b(?:a )?quarter to {_HOUR}\b"), _hour_before("45")),
    (re.compile(rf"\bkwart voor {_HOUR}\b"), _hour_before("45")),
    (re.compile(rf"\bhalf {_HOUR}\b"), _hour_before("30")),
    (re.compile(rf"\b{_HOUR}\s*(?:h|heures?)?\s+et demie\b"), _hour_after("30")),
    (re.compile(rf"\b{_HOUR}\s*(?:h|heures?)?\s+et quart\b"), _hour_after("15")),
    (re.compile(rf"\b{_HOUR}\s*(?:h|heures?)?\s+moins (?:le )?quart\b"), _hour_before("45")),
    # "tussen 9 en 17": the "en" is a range here, not a list.
    (
        re.compile(
            r"\b(?:tussen|between|entre)\s+([\dhu:.]+(?:\s*(?:uur|am|pm|night))?)"
            r"\s+(?:en|and|et)\s+"
        ),
        r"\1 - ",
    ),
    # Day phrases.
    (
        re.compile(
            r"\b(?:elke|iedere|alle) dag(?:en)?\b|\b(?:every|each) day\b"
            r"|\b(?:tous les|chaque) jours?\b|\btoute la semaine\b"
        ),
        " dagelijks ",
    ),
    (
        re.compile(
            r"\b(?:elke|iedere|alle) (?:werk|week)dag(?:en)?\b|\bevery weekday\b"
            r"|\b(?:en|la) semaine\b|\bjours (?:ouvrables|ouvres|de (?:la )?semaine)\b"
        ),
        " werkdagen ",
    ),
    (re.compile(r"\bweek-ends?\b"), " weekend "),
    (
        re.compile(
            r"\b(?:de )?hele dag\b|\ball day\b|\btoute la journee\b|\bjour et nuit\b"
            r"|\bdag en nacht\b|\bday and night\b"
        ),
        " 00:00-24:00 ",
    ),
    # Ranges.
    (
        re.compile(
            r"\b(?:t/m|tm|tot en met|tot|to|till|til|until|through|thru|au|aux|a"
            r"|jusqu a)\b"
        ),
        "-",
    ),
    (re.compile(r"[\u2010-\u2015\u2212~]"), "-"),
    (re.compile(r"(?<=[a-z])\s*:(?!\d)"), " "),  # "ma-vr: 9-17"
    # "24 uur" (but not the end of "0 tot 24 uur").
    (re.compile(r"(?<![-\d])(?<![-\d] )\b24\s*(?:uur|u|h|heures|hours)\b"), " 00:00-24:00 "),
)
_NOISE_WORDS = frozenset(
    {
        "van", "vanaf", "from", "de", "du", "des", "uur", "u", "h", "hr", "hrs", "heure",
        "heures", "hour", "hours", "op", "on", "le", "les", "la", "l", "elke", "iedere", "ieder",
        "every", "each", "chaque", "tous", "om", "at", "open", "ouvert", "bereikbaar",
        "reachable", "available", "joignable", "disponible",
    }
)  # fmt: skip
_AND_WORDS = frozenset({"en", "and", "et"})
_SKIPPED = _NOISE_WORDS | _AND_WORDS
_EXCEPT_WORDS = frozenset({"behalve", "uitgezonderd", "except", "excluding", "sauf", "excepte"})
_MARKERS = frozenset({"am", "pm", "night"})
_TOKEN = re.compile(
    r"(?P<time>(?P<clock>\d{1,2}(?:[:.hu]\d{2})?|\d{3,4})(?!\d)(?:[hu](?![a-z]))?"
    r"(?:\s*(?:uur|hrs?|heures?|hours?)(?![a-z]))?(?:\s*(?P<marker>am|pm|night)(?![a-z]))?)"
    r"|(?P<word>[a-z]+)\.?"
    r"|(?P<dash>-)"
    r"|(?P<sep>[,&+/]|\s+)"
    r"|(?P<other>.)"
)
_CLOCK_PARTS = re.compile(
    r"(?P<hours>\d{1,2})(?:[:.hu](?P<minutes>\d{2}))?|(?P<hh>\d{1,2})(?P<mm>\d{2})"
)
HALF_DAY = 12 * 60


@dataclass(frozen=True)
class _Clock:
    """A time as typed, and how sure we are which half of the day it means."""

    text: str
    hour: int  # 0..24 as typed
    minute: int
    marker: str | None  # "am", "pm" or "night", typed after it (or before the span)
    clock24: bool  # written on a 24-hour clock: 0, 13-24, "02", "HH:MM", "HHMM"

    @property
    def plain(self) -> bool:
        """1-11 without am/pm or a 24-hour form: it may mean the afternoon."""
        return self.marker is None and not self.clock24 and 1 <= self.hour <= 11

    @property
    def explicit(self) -> bool:
        return self.marker is not None or self.clock24

    def minutes(self) -> int:
        """Minutes after midnight, with the marker applied."""
        hour = self.hour
        if self.marker == "am" or (self.marker == "night" and hour in (12, 1, 2, 3, 4, 5, 6)):
            hour = 0 if hour == 12 else hour
        elif self.marker in ("pm", "night") and hour < 12:
            hour += 12
        return hour * 60 + self.minute

    def with_marker(self, marker: str | None) -> _Clock:
        """This time under a marker written before the span ("'s ochtends 9-12"): hours 1-11
        only, so the 12 there stays noon."""
        if marker is None or not self.plain:
            return self
        return _Clock(self.text, self.hour, self.minute, marker, self.clock24)


def _read_clock(text: str, clock: str, marker: str | None) -> _Clock:
    match = _CLOCK_PARTS.fullmatch(clock)
    if match is None:
        raise WindowSyntaxError("bad_time", text)
    hour_text = match["hours"] or match["hh"]
    hour = int(hour_text)
    minute = int(match["minutes"] or match["mm"] or 0)
    if minute > 59 or hour > 24 or (hour == 24 and minute):
        raise WindowSyntaxError("bad_time", text)
    if marker in ("am", "pm") and not 1 <= hour <= 12:
        raise WindowSyntaxError("bad_time", text)  # "13pm", "0am"
    clock24 = (
        hour == 0
        or hour >= 13
        or (len(hour_text) == 2 and hour_text.startswith("0"))
        or re.fullmatch(r"\d{2}:\d{2}|\d{4}", clock) is not None
    )
    return _Clock(text, hour, minute, marker, clock24)


@dataclass(frozen=True)
class _Token:
    kind: str  # "time", "word", "dash"
    text: str
    clock: _Clock | None = None


def _rewrite(group: str) -> str:
    for pattern, replacement in _REWRITES:
        group = pattern.sub(replacement, group)
    return group


def _tokens(group: str) -> list[_Token]:
    tokens: list[_Token] = []
    for match in _TOKEN.finditer(_rewrite(group)):
        kind = match.lastgroup or "other"
        if match["time"] is not None:
            text = match["time"].strip()
            tokens.append(_Token("time", text, _read_clock(text, match["clock"], match["marker"])))
            continue
        value = match.group(kind)
        if kind == "sep" or (kind == "word" and value in _SKIPPED):
            continue  # "ma en do" is a list, like "ma,do"
        if kind == "other":
            raise WindowSyntaxError("syntax", value)
        tokens.append(_Token(kind, value))
    return tokens


def _day_table(words: Iterable[str], language: str | None) -> Mapping[str, int]:
    words = set(words)
    if words & _DUTCH_ONLY:
        french = False
    elif words & _FRENCH_ONLY:
        french = True
    else:
        french = language == "fr"
    # Later tables win for the ambiguous "ma" and "di".
    tables = (_EN_DAYS, _NL_DAYS, _FR_DAYS) if french else (_EN_DAYS, _FR_DAYS, _NL_DAYS)
    return {word: day for table in tables for word, day in table.items()}


def _day_of(word: str, table: Mapping[str, int]) -> int:
    if word in table:
        return table[word]
    if len(word) > 5 and word.endswith("s") and word[:-1] in table:
        return table[word[:-1]]  # "maandags", "mondays", "lundis"
    raise WindowSyntaxError("unknown_day", word)


def _day_range(first: int, last: int) -> tuple[int, ...]:
    # Ranges may wrap around the week: "vr-ma" is Friday, Saturday, Sunday, Monday.
    return tuple((first + step) % 7 for step in range((last - first) % 7 + 1))


# Cached: the same few texts are read again for every relayed message and every coach's
# morning agenda (14 % of the morning job's time for 1,000 coaches, bench/README.md); the
# windows are immutable, and an unreadable text raises every time (exceptions are not cached).
@lru_cache(maxsize=4096)
def parse_windows(text: str, language: str | None = None) -> tuple[Window, ...]:
    """Read weekly windows as a coach types them, in Dutch, Flemish, English or French.

    Examples: "ma-vr 09:00-17:00", "ma t/m vr 9-17", "elke werkdag van 8 tot half 5",
    "werkdagen 9-5", "ma,di,do 08:30-16:30", "ma-do 9-12, 13-17", "ma-vr 9-12 en 1-5",
    "za 10u-12u", "weekdays 9 to 4pm", "mon-fri 9am-5pm", "9am-5pm Mon-Fri", "lu-ve 9h-17h",
    "du lundi au vendredi de 9h à 17h", "ma,wo 09:00-17:00; vr 09:00-12:00" (groups separated
    by ";", a newline, or simply by the next day name), "ma-vr 9-17 behalve wo",
    "vr 20:00-02:00" (a night window, until Saturday 02:00), "za hele dag", "24/7".
    An end of 24:00 (or 00:00) is midnight. See the notes above for which half of the day a
    time means. `language` ("fr") only settles "ma"/"di" when nothing else in the text does.
    Overlapping windows are merged. Raises WindowSyntaxError.
    """
    folded = fold_accents(text).replace("'", " ").replace("\u2019", " ")
    groups = [group.strip().rstrip(".") for group in re.split(r"[;\n]", folded)]
    groups = [group for group in groups if group.strip(" ,.")]
    if not groups:
        raise WindowSyntaxError("empty", text.strip())
    windows: list[Window] = []
    for group in groups:
        if re.fullmatch(r"24\s*/\s*7", group):
            windows.extend(Window(day, MIDNIGHT, MIDNIGHT) for day in range(7))
            continue
        windows.extend(_parse_group(group, language))
    return merge_windows(windows)


@dataclass(frozen=True)
class _Days:
    days: tuple[int, ...]
    excluded: tuple[int, ...]  # "behalve wo": taken out of these days, or the ones before


def _parse_group(group: str, language: str | None) -> list[Window]:
    tokens = _tokens(group)
    if not tokens:
        raise WindowSyntaxError("empty", group)
    table = _day_table((token.text for token in tokens if token.kind == "word"), language)
    if tokens[0].kind == "time" or tokens[0].text in _MARKERS:
        return _parse_times_first(tokens, table)
    windows: list[Window] = []
    position = 0
    while position < len(tokens):
        days, position = _read_days(tokens, position, table)
        spans, position = _read_spans(tokens, position)
        if days.excluded and not days.days:
            # "ma-vr 9-17 behalve wo [9-12]": out of the windows before, with its own times.
            if not windows:
                raise WindowSyntaxError("missing_days", group)
            windows = [w for w in windows if w.weekday not in days.excluded]
            windows.extend(_windows(days.excluded, spans))
            continue
        if not spans:
            raise WindowSyntaxError("missing_time", group)
        windows.extend(_windows(days.days, spans))
    return windows


def _parse_times_first(tokens: list[_Token], table: Mapping[str, int]) -> list[Window]:
    """Times before days ("9am-5pm Mon-Fri"): each run of times belongs to the days after it."""
    windows: list[Window] = []
    position = 0
    while position < len(tokens):
        spans, position = _read_spans(tokens, position)
        if not spans:
            raise WindowSyntaxError("syntax", tokens[position].text)
        if position == len(tokens):
            raise WindowSyntaxError("missing_days", tokens[0].text)
        days, position = _read_days(tokens, position, table)
        windows.extend(_windows(days.days, spans))
    return windows


def _windows(days: Iterable[int], spans: list[tuple[time, time]]) -> list[Window]:
    return [Window(day, start, end) for day in days for start, end in spans]


def _read_days(tokens: list[_Token], position: int, table: Mapping[str, int]) -> tuple[_Days, int]:
    days: list[int] = []
    excluded: list[int] = []
    target = days
    while position < len(tokens) and tokens[position].kind != "time":
        token = tokens[position]
        if token.kind == "word" and token.text in _MARKERS:
            break  # "'s avonds van 7 tot 9": the times follow
        if token.kind != "word":
            raise WindowSyntaxError("syntax", token.text)
        position += 1
        if token.text in _EXCEPT_WORDS:
            target = excluded
            continue
        if token.text in _DAY_GROUPS:
            target.extend(_DAY_GROUPS[token.text])
            continue
        first = _day_of(token.text, table)
        if position + 1 < len(tokens) and tokens[position].kind == "dash":
            last = tokens[position + 1]
            if last.kind != "word":
                raise WindowSyntaxError("syntax", last.text)
            target.extend(_day_range(first, _day_of(last.text, table)))
            position += 2
        else:
            target.append(first)
    if target is excluded and not excluded:
        raise WindowSyntaxError("syntax", tokens[position - 1].text)  # "... behalve" and no day
    if not days and not excluded:
        fragment = tokens[position].text if position < len(tokens) else ""
        raise WindowSyntaxError("missing_days", fragment)
    kept = tuple(dict.fromkeys(day for day in days if day not in excluded))
    if days and not kept:
        raise WindowSyntaxError("missing_days", " ".join(t.text for t in tokens[:position]))
    return _Days(kept, tuple(excluded) if not days else ()), position


def _read_spans(tokens: list[_Token], position: int) -> tuple[list[tuple[time, time]], int]:
    spans: list[tuple[time, time]] = []
    while position < len(tokens):
        marker = None
        if tokens[position].kind == "word" and tokens[position].text in _MARKERS:
            marker = tokens[position].text  # "'s avonds van 7 tot 9"
            position += 1
            if position >= len(tokens) or tokens[position].kind != "time":
                raise WindowSyntaxError("syntax", marker)
        if tokens[position].kind != "time":
            break
        start = tokens[position]
        rest = tokens[position + 1 : position + 3]
        if [token.kind for token in rest] != ["dash", "time"]:
            raise WindowSyntaxError("bad_time", start.text)
        end = rest[1]
        assert start.clock is not None and end.clock is not None
        before = _offset(spans[-1][1]) if spans else None
        span = _resolve(start.clock.with_marker(marker), end.clock.with_marker(marker), before)
        spans.append(span)
        position += 3
    return spans, position


def _resolve(start: _Clock, end: _Clock, before: timedelta | None) -> tuple[time, time]:
    """The wall times of one typed span; see the notes above the reason codes.

    `before`: where the previous span of the same days ended (its wall time), if any.
    """
    if start.hour == 24:
        raise WindowSyntaxError("bad_time", start.text)
    begin, until = start.minutes(), end.minutes()
    if end.hour == 24 or until == 0:
        return _wall_time(begin), MIDNIGHT  # ends at midnight: never a night window
    if until > begin:
        afternoon = before is None or before > timedelta(minutes=begin)  # not "0-2 2-3"
        if start.plain and end.plain and start.hour <= 5 and afternoon:
            begin, until = begin + HALF_DAY, until + HALF_DAY  # "1-5", "9-12, 1-5"
        elif start.plain and end.marker in ("pm", "night") and begin + HALF_DAY < until:
            begin += HALF_DAY  # "7-9pm", "van 9 tot 11 uur 's avonds"
    elif end.plain and until + HALF_DAY > begin:
        until += HALF_DAY  # "9-5", "8 tot half 5": the afternoon
    elif start.plain and end.marker in ("am", "night"):
        begin += HALF_DAY  # "10-2am", "10 tot 2 uur 's nachts": 22:00-02:00
    elif start.plain:
        raise WindowSyntaxError("end_before_start", f"{start.text}-{end.text}")  # "9-02:00"
    if until == begin:
        raise WindowSyntaxError("end_before_start", f"{start.text}-{end.text}")
    return _wall_time(begin), _wall_time(until % (24 * 60))


def _wall_time(minutes: int) -> time:
    return time(*divmod(minutes % (24 * 60), 60))


@dataclass(frozen=True)
class DayGroup:
    """Days that share the same spans, for rendering ("ma-vr 09:00-17:00") in any language."""

    days: tuple[int, ...]
    spans: tuple[tuple[time, time], ...]  # end 00:00 is 24:00; end < start: next day

    @property
    def runs(self) -> tuple[tuple[int, int], ...]:
        """Consecutive days as (first, last) pairs: (0,1,2,4) -> ((0, 2), (4, 4))."""
        runs: list[tuple[int, int]] = []
        for day in self.days:
            if runs and runs[-1][1] == day - 1:
                runs[-1] = (runs[-1][0], day)
            else:
                runs.append((day, day))
        return tuple(runs)


def format_windows(windows: Iterable[Window]) -> tuple[DayGroup, ...]:
    """Structured form of the windows: days with identical spans grouped, ordered by first day."""
    spans_by_day: dict[int, list[tuple[time, time]]] = {}
    for window in merge_windows(windows):
        spans_by_day.setdefault(window.weekday, []).append((window.start, window.end))
    groups: dict[tuple[tuple[time, time], ...], list[int]] = {}
    for day in sorted(spans_by_day):
        groups.setdefault(tuple(spans_by_day[day]), []).append(day)
    ordered = sorted(groups.items(), key=lambda item: item[1][0])
    return tuple(DayGroup(tuple(days), spans) for spans, days in ordered)


_ABBREVIATIONS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "nl": ("ma", "di", "wo", "do", "vr", "za", "zo"),
        "en": ("mon", "tue", "wed", "thu", "fri", "sat", "sun"),
        # Three letters: "ma"/"di" alone would read as Dutch.
        "fr": ("lun", "mar", "mer", "jeu", "ven", "sam", "dim"),
    }
)


def windows_to_text(windows: Iterable[Window], language: str = "nl") -> str:
    """The canonical typed form, which parse_windows reads back: "ma-vr 09:00-17:00; za ..."."""
    names = _ABBREVIATIONS.get(language, _ABBREVIATIONS["nl"])
    parts: list[str] = []
    for group in format_windows(windows):
        # A range from three days on ("ma-vr"); two neighbours read better as a list ("ma,di").
        days = ",".join(
            f"{names[first]}-{names[last]}"
            if last - first >= 2
            else ",".join(names[day] for day in range(first, last + 1))
            for first, last in group.runs
        )
        spans = " ".join(
            f"{start:%H:%M}-{'24:00' if end == MIDNIGHT else format(end, '%H:%M')}"
            for start, end in group.spans
        )
        parts.append(f"{days} {spans}")
    return "; ".join(parts)


# --------------------------------------------------------------------------------------------
# Holidays
# --------------------------------------------------------------------------------------------


@lru_cache(maxsize=128)
def _holiday_calendar(country: str, year: int) -> Mapping[date, str]:
    calendar = holidays.country_holidays(country, years=year, language="en_US")
    return MappingProxyType({day: str(name) for day, name in calendar.items()})


def public_holiday(country: str, day: date) -> str | None:
    """The English name of the public holiday on `day` ("King's Day", "National Day"), or None."""
    if country not in COUNTRIES:
        raise ValueError(f"country must be one of {sorted(COUNTRIES)}, not {country!r}")
    return _holiday_calendar(country, day.year).get(day)


# --------------------------------------------------------------------------------------------
# Wall time -> instants
# --------------------------------------------------------------------------------------------


def _require_aware(moment: datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime")


def _wall(instant: datetime, zone: ZoneInfo) -> datetime:
    return instant.astimezone(zone).replace(tzinfo=None, fold=0)


def _earliest_at_or_after(naive: datetime, zone: ZoneInfo) -> datetime:
    """The first instant whose wall time in `zone` is >= `naive` (UTC).

    An existing wall time gives itself (its earlier occurrence when repeated); a wall time in a
    spring-forward gap gives the first instant after the gap.
    """
    earlier = naive.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if _wall(earlier, zone) == naive:
        return earlier
    # In the gap: fold=1 lands before it, fold=0 after it. The answer is the transition itself,
    # which tzdata puts on a whole second: bisect whole seconds between the two.
    low = math.floor(naive.replace(tzinfo=zone, fold=1).timestamp())
    high = math.ceil(earlier.timestamp())
    while high - low > 1:
        middle = (low + high) // 2
        if _wall(datetime.fromtimestamp(middle, UTC), zone) >= naive:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, UTC)


def _latest_for(naive: datetime, zone: ZoneInfo) -> datetime:
    """The later occurrence of a repeated wall time; else as _earliest_at_or_after (UTC)."""
    later = naive.replace(tzinfo=zone, fold=1).astimezone(UTC)
    if _wall(later, zone) == naive:
        return later
    return _earliest_at_or_after(naive, zone)


@lru_cache(maxsize=16384)
def _span(day: date, start: time, end: time, zone_key: str) -> tuple[datetime, datetime]:
    zone = _zone(zone_key)
    opens = _earliest_at_or_after(datetime.combine(day, start), zone)
    # An end at or before the start (24:00 included) is on the next day.
    end_day = day + DAY if _offset(end) <= _offset(start) else day
    closes = _latest_for(datetime.combine(end_day, end), zone)
    return opens, closes


def _day_spans(agreement: Agreement, day: date) -> list[tuple[datetime, datetime]]:
    """The real-time intervals [open, close) of the windows that start on local date `day`.

    In order of opening. A night window's interval runs on into the next day, and a public
    holiday on `day` closes the windows that start on it, whole night windows included.
    """
    if not agreement.open_on_holidays and public_holiday(agreement.country, day) is not None:
        return []
    spans = (
        _span(day, window.start, window.end, agreement.timezone)
        for window in agreement.windows
        if window.weekday == day.weekday()
    )
    return [(opens, closes) for opens, closes in spans if opens < closes]


def _spans_from(
    agreement: Agreement, first_day: date, days: int
) -> Iterator[tuple[datetime, datetime]]:
    """The intervals of the windows starting on `first_day` and the `days - 1` days after it,
    in order of opening. Start a day early to see a night window still open from yesterday:
    none lasts longer than a day (an hour more on the autumn night), so one day is enough."""
    for step in range(days):
        yield from _day_spans(agreement, first_day + step * DAY)


def open_time_between(agreement: Agreement, start: datetime, end: datetime) -> timedelta:
    """How much of [start, end) falls inside the agreement's windows ("working hours")."""
    _require_aware(start, "start")
    _require_aware(end, "end")
    if end <= start:
        return timedelta(0)
    first = _local_date(agreement, start) - DAY
    days = (_local_date(agreement, end) - first).days + 1
    total = timedelta(0)
    reached = start  # counted up to here; a night window may overlap the next day's first
    for opens, closes in _spans_from(agreement, first, days):
        overlap = min(closes, end) - max(opens, reached)
        if overlap > timedelta(0):
            total += overlap
            reached = min(closes, end)
    return total


def _local_date(agreement: Agreement, moment: datetime) -> date:
    return moment.astimezone(agreement.zone).date()


# --------------------------------------------------------------------------------------------
# Questions about an agreement
# --------------------------------------------------------------------------------------------


def is_open(agreement: Agreement, at: datetime) -> bool:
    """Whether `at` lies inside one of the agreement's windows (and not on a closed holiday).

    A night window that started yesterday counts: "vr 20:00-02:00" is open on Saturday 01:00.
    """
    _require_aware(at, "at")
    yesterday = _local_date(agreement, at) - DAY
    return any(opens <= at < closes for opens, closes in _spans_from(agreement, yesterday, 2))


def next_opening(agreement: Agreement, after: datetime) -> datetime | None:
    """The first instant >= `after` at which the agreement is open (`after` itself if open).

    None when the agreement has no windows, or none opens within SEARCH_DAYS days.
    """
    _require_aware(after, "after")
    if not agreement.windows:
        return None
    yesterday = _local_date(agreement, after) - DAY
    for opens, closes in _spans_from(agreement, yesterday, SEARCH_DAYS + 2):
        # In order of opening, so the first one still open after `after` opens first.
        if closes > after:
            return max(opens, after.astimezone(UTC))
    return None


def earliest_open_time_reached(agreement: Agreement, now: datetime, more: timedelta
                               ) -> datetime:
    """The earliest moment by which `more` open time can have passed after `now`: open time
    passes only in the agreement's windows, never faster than the clock (a lower bound: a
    window that closes before `more` has passed makes the true moment later)."""
    if more <= timedelta(0):
        return now
    opens = next_opening(agreement, now)
    return (opens if opens is not None else now) + more


def current_window_end(agreement: Agreement, at: datetime) -> datetime | None:
    """When the agreement stops being open, if it is open at `at`.

    Windows that follow on without a gap (Mon 22-24 and Tue 0-2, or a night window and the next
    morning's) count as one. None when closed at `at`, or when it stays open for the whole
    search horizon (an always-open agreement).
    """
    _require_aware(at, "at")
    today = _local_date(agreement, at)
    end: datetime | None = None
    for step in range(SEARCH_DAYS + 2):
        day = today + (step - 1) * DAY
        for opens, closes in _day_spans(agreement, day):
            if closes <= at:
                continue
            if end is None:
                if opens > at:
                    return None
                end = closes
            elif opens <= end:
                end = max(end, closes)
            else:
                return end
        if end is None and day >= today:
            return None  # nothing from yesterday or today is open at `at`
    return None


def openings_between(agreement: Agreement, start: datetime, end: datetime) -> list[datetime]:
    """The instants in [start, end) at which the agreement goes from closed to open.

    A window that continues or overlaps one still open (Mon 22-24 then Tue 0-2, or a night
    window then the next morning's) is no opening.
    """
    _require_aware(start, "start")
    _require_aware(end, "end")
    openings: list[datetime] = []
    reach: datetime | None = None  # the latest close so far
    first = _local_date(agreement, start) - DAY
    days = (_local_date(agreement, end) - first).days + 1
    for opens, closes in _spans_from(agreement, first, days):
        if (reach is None or opens > reach) and start <= opens < end:
            openings.append(opens)
        reach = closes if reach is None else max(reach, closes)
    return openings


def first_opening_on(agreement: Agreement, day: date) -> datetime | None:
    """When the first window starting on local date `day` opens (the morning agenda's moment).

    None on a day without windows of its own: the early hours of yesterday's night window do
    not make `day` a working day ("vr 20:00-02:00" gives Friday 20:00 and nothing on Saturday).
    """
    spans = _day_spans(agreement, day)
    return spans[0][0] if spans else None


# --------------------------------------------------------------------------------------------
# Absences
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Absence:
    """A coach's leave: [start, end). Messages go to `substitute_id`, else to the coordinator."""

    person_id: int
    start: datetime
    end: datetime
    substitute_id: int | None = None

    def __post_init__(self) -> None:
        _require_aware(self.start, "start")
        _require_aware(self.end, "end")
        if self.end <= self.start:
            raise ValueError("an absence must end after it starts")
        if self.substitute_id == self.person_id:
            raise ValueError("a coach cannot substitute for themselves")

    def covers(self, at: datetime) -> bool:
        return self.start <= at < self.end


def absence_for_days(
    person_id: int,
    first_day: date,
    last_day: date,
    timezone: str,
    substitute_id: int | None = None,
) -> Absence:
    """Leave from local midnight of `first_day` through the whole of `last_day` (inclusive)."""
    zone = _zone(timezone)
    start = _earliest_at_or_after(datetime.combine(first_day, MIDNIGHT), zone)
    end = _earliest_at_or_after(datetime.combine(last_day + DAY, MIDNIGHT), zone)
    return Absence(person_id, start, end, substitute_id)


def active_absence(absences: Iterable[Absence], person_id: int, at: datetime) -> Absence | None:
    """The absence of `person_id` covering `at`; of overlapping ones, the latest to start."""
    _require_aware(at, "at")
    covering = [a for a in absences if a.person_id == person_id and a.covers(at)]
    return max(covering, key=lambda a: a.start) if covering else None
