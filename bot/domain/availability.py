"""Availability agreements (*bereikbaarheidsafspraken*): weekly windows, holidays, absences.

Pure functions over frozen dataclasses; every instant is passed in (aware datetimes) and every
instant returned is UTC.

Windows are wall-clock times in the agreement's zone, so "09:00-17:00" means 09:00 on the
family's clock in winter and in summer. Two nights a year the wall clock is not a plain line:

* Spring (last Sunday of March, 02:00 -> 03:00 in Europe/Amsterdam and Europe/Brussels): a
  window that starts or ends at a wall time that does not exist (02:30) does so at the first
  instant after the gap (03:00 summer time). A window lying wholly inside the gap (02:10-02:40)
  does not open that night.
* Autumn (last Sunday of October, 03:00 -> 02:00): a wall time in the repeated hour occurs twice.
  A window *starts* at the earlier occurrence and *ends* at the later one: generous to the family,
  a window is longer rather than shorter, and it is one unbroken stretch of time (it never closes
  and re-opens when the clock jumps back).

Every window therefore occupies one interval [open, close) of real time on its local date, and
all questions below (is it open, when does it open next, when does it close) are answered
from those intervals.

Public holidays of the agreement's country (NL, BE) are closed unless `open_on_holidays`; the
calendar is the `holidays` package's public category (the Dutch list follows the Algemene
termijnenwet, so Goede Vrijdag is included and Bevrijdingsdag only in lustrum years). A coach who
works those days sets `open_on_holidays`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
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


def _end_offset(moment: time) -> timedelta:
    # An end of 00:00 is read as 24:00: a window can end at midnight but never cross it.
    return DAY if moment == MIDNIGHT else _offset(moment)


@dataclass(frozen=True)
class Window:
    """One weekly window: `weekday` 0=Monday..6=Sunday, wall times in the agreement's zone.

    `end` is exclusive. An `end` of time(0, 0) means 24:00, the midnight that ends the day, so
    Window(4, time(22), time(0)) is Friday 22:00-24:00 and Window(5, time(0), time(0)) the whole
    Saturday. A window never crosses midnight: write two (Fri 22-24, Sat 0-2).
    """

    weekday: int
    start: time
    end: time

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise ValueError(f"weekday must be 0..6, not {self.weekday}")
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("window times are wall-clock times, without a zone")
        if self.end_offset <= self.start_offset:
            raise ValueError("a window must end after it starts")

    @property
    def start_offset(self) -> timedelta:
        return _offset(self.start)

    @property
    def end_offset(self) -> timedelta:
        return _end_offset(self.end)

    @property
    def ends_at_midnight(self) -> bool:
        return self.end == MIDNIGHT


DEFAULT_WINDOWS: tuple[Window, ...] = tuple(Window(day, time(9), time(17)) for day in range(5))


def merge_windows(windows: Iterable[Window]) -> tuple[Window, ...]:
    """Sorted by day and start; overlapping or touching windows of one day joined into one."""
    by_day: dict[int, list[Window]] = {}
    for window in windows:
        by_day.setdefault(window.weekday, []).append(window)
    merged: list[Window] = []
    for day in sorted(by_day):
        current: Window | None = None
        for window in sorted(by_day[day], key=lambda w: (w.start_offset, w.end_offset)):
            if current is not None and window.start_offset <= current.end_offset:
                if window.end_offset > current.end_offset:
                    current = Window(day, current.start, window.end)
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

# Reason codes of WindowSyntaxError; the caller turns them into the user's language.
REASON_CODES = frozenset(
    {
        "empty",  # nothing to read
        "unknown_day",  # a word that is not a day
        "bad_time",  # not a time, or out of range (25:00, 9:75, a start of 24:00)
        "end_before_start",  # 17-09, or a window across midnight (22-02)
        "missing_days",  # times without days before them
        "missing_time",  # days without times after them
        "syntax",  # anything else that does not fit
    }
)


class WindowSyntaxError(ValueError):
    """Unreadable window text. Carries a reason code and the offending fragment, no prose."""

    def __init__(self, reason_code: str, fragment: str) -> None:
        assert reason_code in REASON_CODES, reason_code
        super().__init__(f"{reason_code}: {fragment!r}")
        self.reason_code = reason_code
        self.fragment = fragment


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
_DAY_GROUPS: Mapping[str, tuple[int, ...]] = MappingProxyType(
    {
        "werkdagen": (0, 1, 2, 3, 4),
        "weekdagen": (0, 1, 2, 3, 4),
        "weekdays": (0, 1, 2, 3, 4),
        "weekend": (5, 6),
        "dagelijks": (0, 1, 2, 3, 4, 5, 6),
        "daily": (0, 1, 2, 3, 4, 5, 6),
        "everyday": (0, 1, 2, 3, 4, 5, 6),
    }
)
_PHRASES = (
    (re.compile(r"\b(?:elke dag|alle dagen|every day|tous les jours)\b"), " dagelijks "),
    (re.compile(r"\bweek-end\b"), " weekend "),
    (re.compile(r"\b(?:t/m|tot en met|tot|to|till|until|through|thru|au|a|jusqu a)\b"), "-"),
    (re.compile(r"[\u2010-\u2015\u2212~]"), "-"),
)
_NOISE_WORDS = frozenset({"van", "vanaf", "from", "de", "du", "uur", "u", "h", "hr", "hrs"})
_AND_WORDS = frozenset({"en", "and", "et"})
_TOKEN = re.compile(
    r"(?P<time>(?:\d{1,2}(?:[:.hu]\d{2})?|\d{4})[hu]?)(?![\d])"
    r"|(?P<word>[a-z]+)\.?"
    r"|(?P<dash>-)"
    r"|(?P<sep>[,&+/]|\s+)"
    r"|(?P<other>.)"
)
_TIME_PARTS = re.compile(
    r"(?:(?P<hours>\d{1,2})(?:[:.hu](?P<minutes>\d{2}))?|(?P<hh>\d{2})(?P<mm>\d{2}))[hu]?"
)


def _tokens(group: str) -> list[tuple[str, str]]:
    for pattern, replacement in _PHRASES:
        group = pattern.sub(replacement, group)
    tokens: list[tuple[str, str]] = []
    for match in _TOKEN.finditer(group):
        kind = match.lastgroup or "other"
        value = match.group(kind)
        if kind == "sep":
            continue
        if kind == "word" and value in _NOISE_WORDS:
            continue
        if kind == "word" and value in _AND_WORDS:
            continue  # "ma en do" is a list, like "ma,do"
        if kind == "other":
            raise WindowSyntaxError("syntax", value)
        tokens.append((kind, value))
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


def _read_time(text: str, *, as_end: bool) -> time:
    match = _TIME_PARTS.fullmatch(text)
    if match is None:
        raise WindowSyntaxError("bad_time", text)
    hours = int(match["hours"] or match["hh"])
    minutes = int(match["minutes"] or match["mm"] or 0)
    if minutes > 59 or hours > 24 or (hours == 24 and (minutes or not as_end)):
        raise WindowSyntaxError("bad_time", text)
    return MIDNIGHT if hours == 24 else time(hours, minutes)


def _day_range(first: int, last: int) -> tuple[int, ...]:
    # Ranges may wrap around the week: "vr-ma" is Friday, Saturday, Sunday, Monday.
    return tuple((first + step) % 7 for step in range((last - first) % 7 + 1))


def parse_windows(text: str, language: str | None = None) -> tuple[Window, ...]:
    """Read weekly windows as a coach types them, in Dutch, English or French.

    Examples: "ma-vr 09:00-17:00", "ma,di,do 08:30-16:30", "ma-do 9-12, 13-17",
    "ma-vr 09:00-12:00 13:00-17:00", "za 10u-12u", "mon-fri 9:00-17:00", "lu-ve 9h-17h",
    "ma,wo 09:00-17:00; vr 09:00-12:00" (groups separated by ";", a newline, or simply by the
    next day name), "werkdagen 9-17", "24/7". An end of 24:00 (or 00:00) is midnight.
    `language` ("fr") only settles "ma"/"di" when nothing else in the text does.
    Overlapping windows are merged. Raises WindowSyntaxError.
    """
    folded = fold_accents(text).replace("'", " ").replace("\u2019", " ")
    groups = [group.strip() for group in re.split(r"[;\n]", folded)]
    groups = [group for group in groups if group.strip(" ,")]
    if not groups:
        raise WindowSyntaxError("empty", text.strip())
    windows: list[Window] = []
    for group in groups:
        if re.fullmatch(r"24\s*/\s*7", group):
            windows.extend(Window(day, MIDNIGHT, MIDNIGHT) for day in range(7))
            continue
        windows.extend(_parse_group(group, language))
    return merge_windows(windows)


def _parse_group(group: str, language: str | None) -> list[Window]:
    tokens = _tokens(group)
    if not tokens:
        raise WindowSyntaxError("empty", group)
    table = _day_table((value for kind, value in tokens if kind == "word"), language)
    windows: list[Window] = []
    position = 0
    while position < len(tokens):
        days, position = _read_days(tokens, position, table)
        spans, position = _read_spans(tokens, position)
        if not spans:
            raise WindowSyntaxError("missing_time", group)
        windows.extend(Window(day, start, end) for day in days for start, end in spans)
    return windows


def _read_days(
    tokens: list[tuple[str, str]], position: int, table: Mapping[str, int]
) -> tuple[list[int], int]:
    days: list[int] = []
    while position < len(tokens) and tokens[position][0] != "time":
        kind, value = tokens[position]
        if kind != "word":
            raise WindowSyntaxError("syntax", value)
        if value in _DAY_GROUPS:
            days.extend(_DAY_GROUPS[value])
            position += 1
            continue
        if value not in table:
            raise WindowSyntaxError("unknown_day", value)
        first = table[value]
        position += 1
        if position + 1 < len(tokens) and tokens[position][0] == "dash":
            kind, last_word = tokens[position + 1]
            if kind != "word":
                raise WindowSyntaxError("syntax", last_word)
            if last_word not in table:
                raise WindowSyntaxError("unknown_day", last_word)
            days.extend(_day_range(first, table[last_word]))
            position += 2
        else:
            days.append(first)
    if not days:
        fragment = tokens[position][1] if position < len(tokens) else ""
        raise WindowSyntaxError("missing_days", fragment)
    return days, position


def _read_spans(
    tokens: list[tuple[str, str]], position: int
) -> tuple[list[tuple[time, time]], int]:
    spans: list[tuple[time, time]] = []
    while position < len(tokens) and tokens[position][0] == "time":
        start_text = tokens[position][1]
        rest = tokens[position + 1 : position + 3]
        if [kind for kind, _ in rest] != ["dash", "time"]:
            raise WindowSyntaxError("bad_time", start_text)
        end_text = rest[1][1]
        start = _read_time(start_text, as_end=False)
        end = _read_time(end_text, as_end=True)
        if _end_offset(end) <= _offset(start):
            raise WindowSyntaxError("end_before_start", f"{start_text}-{end_text}")
        spans.append((start, end))
        position += 3
    return spans, position


@dataclass(frozen=True)
class DayGroup:
    """Days that share the same spans, for rendering ("ma-vr 09:00-17:00") in any language."""

    days: tuple[int, ...]
    spans: tuple[tuple[time, time], ...]  # an end of time(0, 0) is 24:00

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
    if end == MIDNIGHT:
        closes = _latest_for(datetime.combine(day + DAY, MIDNIGHT), zone)
    else:
        closes = _latest_for(datetime.combine(day, end), zone)
    return opens, closes


def _day_spans(agreement: Agreement, day: date) -> list[tuple[datetime, datetime]]:
    """The real-time intervals [open, close) of the windows on local date `day`, in order."""
    if not agreement.open_on_holidays and public_holiday(agreement.country, day) is not None:
        return []
    spans = (
        _span(day, window.start, window.end, agreement.timezone)
        for window in agreement.windows
        if window.weekday == day.weekday()
    )
    return [(opens, closes) for opens, closes in spans if opens < closes]


def open_time_between(agreement: Agreement, start: datetime, end: datetime) -> timedelta:
    """How much of [start, end) falls inside the agreement's windows ("working hours")."""
    _require_aware(start, "start")
    _require_aware(end, "end")
    if end <= start:
        return timedelta(0)
    total = timedelta(0)
    day = _local_date(agreement, start) - DAY
    last = _local_date(agreement, end)
    while day <= last:
        for opens, closes in _day_spans(agreement, day):
            overlap = min(closes, end) - max(opens, start)
            if overlap > timedelta(0):
                total += overlap
        day += DAY
    return total


def _local_date(agreement: Agreement, moment: datetime) -> date:
    return moment.astimezone(agreement.zone).date()


# --------------------------------------------------------------------------------------------
# Questions about an agreement
# --------------------------------------------------------------------------------------------


def is_open(agreement: Agreement, at: datetime) -> bool:
    """Whether `at` lies inside one of the agreement's windows (and not on a closed holiday)."""
    _require_aware(at, "at")
    # A window's interval never leaves its local date, so only that date's windows matter.
    spans = _day_spans(agreement, _local_date(agreement, at))
    return any(opens <= at < closes for opens, closes in spans)


def next_opening(agreement: Agreement, after: datetime) -> datetime | None:
    """The first instant >= `after` at which the agreement is open (`after` itself if open).

    None when the agreement has no windows, or none opens within SEARCH_DAYS days.
    """
    _require_aware(after, "after")
    if not agreement.windows:
        return None
    first_day = _local_date(agreement, after)
    for step in range(SEARCH_DAYS + 1):
        for opens, closes in _day_spans(agreement, first_day + step * DAY):
            if closes > after:
                return max(opens, after.astimezone(UTC))
    return None


def current_window_end(agreement: Agreement, at: datetime) -> datetime | None:
    """When the agreement stops being open, if it is open at `at`.

    Windows that follow on without a gap (Mon 22-24 and Tue 0-2) count as one. None when closed
    at `at`, or when it stays open for the whole search horizon (an always-open agreement).
    """
    _require_aware(at, "at")
    first_day = _local_date(agreement, at)
    end: datetime | None = None
    for step in range(SEARCH_DAYS + 1):
        for opens, closes in _day_spans(agreement, first_day + step * DAY):
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
        if end is None and step == 0:
            return None
    return None


def openings_between(agreement: Agreement, start: datetime, end: datetime) -> list[datetime]:
    """The instants in [start, end) at which the agreement goes from closed to open.

    A window that continues one ending at the same instant (Mon 22-24, Tue 0-2) is no opening.
    """
    _require_aware(start, "start")
    _require_aware(end, "end")
    openings: list[datetime] = []
    previous_close: datetime | None = None
    day = _local_date(agreement, start) - DAY
    last_day = _local_date(agreement, end)
    while day <= last_day:
        for opens, closes in _day_spans(agreement, day):
            if opens != previous_close and start <= opens < end:
                openings.append(opens)
            previous_close = closes
        day += DAY
    return openings


def first_opening_on(agreement: Agreement, day: date) -> datetime | None:
    """When the first window on local date `day` opens (the morning agenda's moment), or None."""
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
