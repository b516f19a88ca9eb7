"""Reading a coach's date text, step 2: tokens and what they say together (`Parts`), and the
wall-clock reading of a time (`wall_time`). Placing the parts on the calendar is `when`'s job.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time
from enum import StrEnum
from typing import Literal, cast

from bot.domain.when_text import BARE_HOUR_WORDS, DAY_WORDS, MONTHS, WEEKDAYS, DayPart

__all__ = ["Parts", "Reason", "Refusal", "reduce", "scan", "wall_time"]


class Reason(StrEnum):
    EMPTY = "empty"
    NOT_UNDERSTOOD = "not_understood"
    INVALID_DATE = "invalid_date"
    INVALID_TIME = "invalid_time"
    WEEKDAY_MISMATCH = "weekday_mismatch"
    NO_TIME = "no_time"
    PAST = "past"
    TOO_FAR = "too_far"
    # A bare 7 (`om 7 uur`, `half acht`): 07:00 before school or 19:00 at bedtime are both
    # likely for a family. Morning or evening?
    MORNING_OR_EVENING = "morning_or_evening"
    # A day and month without a year that has just gone by (`3/11` on 25/11): this year's is
    # past, next year's far off. Which year was meant?
    PAST_NEEDS_YEAR = "past_needs_year"
    # The hour does not fit the part of the day (`'s ochtends 15u`, `tonight at 2`).
    PART_MISMATCH = "part_mismatch"
    # Wording with two honest readings (`lundi en huit`, `minuit`, `half three`,
    # `15 minutes from 1pm`, `dinsdag over een week`, `vrijdag 9 's avonds`).
    AMBIGUOUS = "ambiguous"


class Refusal(Exception):
    def __init__(self, reason: Reason) -> None:
        super().__init__(reason)
        self.reason = reason


# --- tokens ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Time:
    hour: int
    minute: int
    pm: bool | None = None  # None: no am/pm written
    dial: bool = False  # the hour was said on a 12-hour dial (1..12): morning or afternoon?


@dataclass(frozen=True, slots=True)
class _BadTime:
    pass


@dataclass(frozen=True, slots=True)
class DateSpec:
    day: int
    month: int | None  # None: `le 16`, `the 27th`: the next 16th
    year: int | None


@dataclass(frozen=True, slots=True)
class _Dotted:
    """`14.00` (a time) or `27.11` (a date): the other tokens decide."""

    left: int
    right: int
    left_text: str
    right_text: str

    def fits_time(self) -> bool:
        return len(self.right_text) == 2 and self.left <= 23 and self.right <= 59


@dataclass(frozen=True, slots=True)
class _Num:
    value: int
    digits: int  # 0 for a number written as a word
    ordinal: bool = False  # 27th, 27e, 1er


@dataclass(frozen=True, slots=True)
class _Weekday:
    index: int


@dataclass(frozen=True, slots=True)
class _Month:
    index: int


@dataclass(frozen=True, slots=True)
class _Offset:
    days: int
    span: bool = False  # `over twee weken`, not `morgen`


@dataclass(frozen=True, slots=True)
class _Part:
    part: DayPart


@dataclass(frozen=True, slots=True)
class _Shift:
    minutes: int


@dataclass(frozen=True, slots=True)
class _Marker:
    kind: Literal[
        "next", "coming", "next_week", "this_week", "range", "a", "at", "the", "this", "ask"
    ]


@dataclass(frozen=True, slots=True)
class _Unknown:
    pass


Token = (
    Time | _BadTime | DateSpec | _Dotted | _Num | _Weekday | _Month | _Offset | _Part | _Shift
    | _Marker | _Unknown
)  # fmt: skip

# `volgende vrijdag`, `next Friday`, `vendredi prochain`: the first Friday to come, or the one
# of next week? Asked when those differ. `aanstaande`, `komende`, `coming`: the first to come.
_NEXT_WORDS = frozenset({"volgende", "next", "prochain", "prochaine"})
_COMING_WORDS = frozenset({"komende", "aanstaande", "coming", "eerstvolgende", "eerstkomende"})
_FILLERS = frozenset(
    {
        "op", "on", "la", "de", "van", "het", "uur", "of",
        "stipt", "sharp", "precies", "uiterlijk", "pour", "du",
    }
)  # fmt: skip
# Before a number they make it a time: `om 3`, `at 5`, `tegen zes`; otherwise nothing.
_AT_WORDS = frozenset(
    {"om", "at", "vers", "rond", "omstreeks", "around", "tegen", "by", "about", "ongeveer",
     "environ", "towards"}
)  # fmt: skip
# Before a number they make it a day of the month: `le 16`, `the 16`, `den 16`.
_THE_WORDS = frozenset({"le", "the", "den"})
# `deze woensdag` said on a Wednesday is today, never next week.
_THIS_WORDS = frozenset({"this", "deze", "ce", "cet", "cette"})
_RANGE_WORDS = frozenset({"tot", "to", "till", "until", "jusqu'a", "-"})
_NOON_WORDS = frozenset({"noon", "midday", "midi"})

_SCAN = re.compile(
    r"""
     _plus(?P<plus>\d+)
    |_dial(?P<dial_h>\d+)m(?P<dial_m>\d+)
    |_clock(?P<clock_h>\d+)m(?P<clock_m>\d+)
    |_shift(?P<shift_sign>[pm])(?P<shift>\d+)
    |(?P<marker>_nextweek|_thisweek|_ask)
    |(?P<iso_y>\d{4})-(?P<iso_m>\d{1,2})-(?P<iso_d>\d{1,2})(?![\d/-])
    |(?P<d>\d{1,2})(?P<sep>[/-])(?P<m>\d{1,2})(?:(?P=sep)(?P<y>\d{4}|\d{2}))?(?![\d/])
    |(?P<dd>\d{1,2})\.(?P<dm>\d{1,2})\.(?P<dy>\d{4}|\d{2})(?![\d.])
    |(?P<ap_h>\d{1,2})(?:[:.](?P<ap_m>\d{2}))?\ ?(?P<ap>am|pm)\b
    |(?P<c_h>\d{1,2}):(?P<c_m>\d{2})(?:\ ?(?:uur|u|hrs|hr|h)\b)?(?![\d:])
    |(?P<u_h>\d{1,2})\ ?(?:uur|u|heures|heure|h|o'clock)(?:\ ?(?P<u_m>\d{2}))?\b(?![/.:]?\d)
    |(?P<dut_h>\d{1,2})\.(?P<dut_m>\d{2})\ ?(?:uur|u|h)\b
    |(?P<dot_l>\d{1,2})\.(?P<dot_r>\d{1,2})(?![\d.])
    |(?P<num>\d{1,4})(?P<ord>st|nd|rd|th|ste|de|er|e)?\b
    |(?P<dash>-)
    |(?P<word>[a-z][a-z'-]*)
    """,
    re.VERBOSE,
)


def _time(hour_text: str, minute: int, pm: bool | None = None) -> Time | _BadTime:
    hour = int(hour_text)
    if pm is not None:
        ok = 1 <= hour <= 12 and 0 <= minute <= 59
        return Time(hour, minute, pm) if ok else _BadTime()
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        return _BadTime()
    # `3u`, `7:30`, `3.30`: a 12-hour dial; `07:30`, `15u`, `0u30`: the 24-hour clock.
    return Time(hour, minute, dial=1 <= hour <= 12 and not hour_text.startswith("0"))


def scan(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        if text[pos] == " ":
            pos += 1
            continue
        match = _SCAN.match(text, pos)
        if match is None:
            return [_Unknown()]
        pos = match.end()
        tokens.extend(_classify(match))
    return tokens


def _classify(m: re.Match[str]) -> list[Token]:
    if m["plus"]:
        return [_Offset(int(m["plus"]), span=True)]
    if m["dial_h"]:
        return [Time(int(m["dial_h"]), int(m["dial_m"]), dial=True)]
    if m["clock_h"]:
        return [Time(int(m["clock_h"]), int(m["clock_m"]))]
    if m["shift"]:
        return [_Shift(int(m["shift"]) * (-1 if m["shift_sign"] == "m" else 1))]
    if m["marker"]:
        kinds: dict[str, Literal["next_week", "this_week", "ask"]] = {
            "_nextweek": "next_week", "_thisweek": "this_week", "_ask": "ask"}  # fmt: skip
        return [_Marker(kinds[m["marker"]])]
    if m["iso_y"]:
        return [DateSpec(int(m["iso_d"]), int(m["iso_m"]), int(m["iso_y"]))]
    if m["d"]:
        return [DateSpec(int(m["d"]), int(m["m"]), _year(m["y"]))]
    if m["dd"]:
        return [DateSpec(int(m["dd"]), int(m["dm"]), _year(m["dy"]))]
    if m["ap_h"]:
        return [_time(m["ap_h"], int(m["ap_m"] or 0), pm=m["ap"] == "pm")]
    if m["c_h"]:
        return [_time(m["c_h"], int(m["c_m"]))]
    if m["u_h"]:
        return [_time(m["u_h"], int(m["u_m"] or 0))]
    if m["dut_h"]:
        return [_time(m["dut_h"], int(m["dut_m"]))]
    if m["dot_l"]:
        return [_Dotted(int(m["dot_l"]), int(m["dot_r"]), m["dot_l"], m["dot_r"])]
    if m["num"]:
        return [_Num(int(m["num"]), len(m["num"]), ordinal=m["ord"] is not None)]
    if m["dash"]:
        return [_Marker("range")]
    return _word(m["word"])


def _word(word: str) -> list[Token]:
    if word in _FILLERS:
        return []
    if word == "a":  # French à: `à 10h`, or a range between two times (`14h à 15h`)
        return [_Marker("a")]
    if word in _AT_WORDS:
        return [_Marker("at")]
    if word in _THE_WORDS:
        return [_Marker("the")]
    if word in _THIS_WORDS:
        return [_Marker("this")]
    if word in _RANGE_WORDS:
        return [_Marker("range")]
    if word in _NEXT_WORDS:
        return [_Marker("next")]
    if word in _COMING_WORDS:
        return [_Marker("coming")]
    if word in _NOON_WORDS:
        return [Time(12, 0)]
    if word in WEEKDAYS:
        return [_Weekday(WEEKDAYS[word])]
    if word in MONTHS:
        return [_Month(MONTHS[word])]
    if word in BARE_HOUR_WORDS:
        return [_Num(BARE_HOUR_WORDS[word], 0)]
    if word in DAY_WORDS:
        offset, part = DAY_WORDS[word]
        found: list[Token] = []
        if offset is not None:
            found.append(_Offset(offset))
        if part is not None:
            found.append(_Part(part))
        return found
    return [_Unknown()]


def _year(raw: str | None) -> int | None:
    if raw is None:
        return None
    return 2000 + int(raw) if len(raw) == 2 else int(raw)


# --- what the tokens say together --------------------------------------------------------------

Mode = Literal["moment", "moment_or_day", "day"]


@dataclass(frozen=True, slots=True)
class Parts:
    """What the words said, before it is placed on the calendar."""

    date: DateSpec | None
    offset: int | None
    span: bool  # the offset is a number of days or weeks (`over twee weken`)
    weekday: int | None
    next_marker: bool  # never today
    ambiguous_next: bool  # `volgende`/`next`/`prochain`: asked if this week's differs
    this_marker: bool  # `deze woensdag`, `this friday`
    next_week: bool
    this_week: bool
    time: Time | None
    part: DayPart | None
    shift: int  # minutes to add to the time (`15 minutes after 1pm`)


def reduce(tokens: list[Token], mode: Mode) -> Parts:
    if any(isinstance(t, _Marker) and t.kind == "ask" for t in tokens):
        raise Refusal(Reason.AMBIGUOUS)
    if any(isinstance(t, _Unknown) for t in tokens):
        raise Refusal(Reason.NOT_UNDERSTOOD)
    tokens = _drop_ranges(tokens)
    if any(isinstance(t, _BadTime) for t in tokens):
        raise Refusal(Reason.INVALID_TIME)
    tokens = _join_month_names(tokens)
    tokens = _bare_numbers(tokens)
    shift = _shift(tokens)
    dates = [t for t in tokens if isinstance(t, DateSpec)]
    times = [t for t in tokens if isinstance(t, Time)]
    dotted = [t for t in tokens if isinstance(t, _Dotted)]
    offsets = [t for t in tokens if isinstance(t, _Offset)]
    weekdays = [t.index for t in tokens if isinstance(t, _Weekday)]
    parts = {t.part for t in tokens if isinstance(t, _Part)}
    markers = [t.kind for t in tokens if isinstance(t, _Marker)]
    week_markers = markers.count("next_week") + markers.count("this_week")
    # `14.00` is a time and `27.11` a date; a second dotted pair is the time (`27.11 14.00`).
    other_day = bool(dates or offsets or weekdays or week_markers)
    loose: list[Time | _BadTime] = list(times)
    for index, pair in enumerate(dotted):
        if len(dotted) == 2:
            as_date = index == 0
        elif times:
            as_date = True  # `vrijdag 27.11 14:00`
        elif other_day:
            as_date = False  # `morgen 14.00`
        elif mode == "day":
            as_date = True
        else:  # alone: `14.00` is a time, `27.11` a date
            as_date = not (pair.fits_time() or pair.right_text == "00")
        if as_date:
            dates.append(DateSpec(pair.left, pair.right, None))
        else:
            loose.append(_time(pair.left_text, pair.right))
    times = [t for t in loose if isinstance(t, Time)]
    if len(times) != len(loose):
        raise Refusal(Reason.INVALID_TIME)
    if (
        len(times) > 1
        or len(dates) + len(offsets) > 1
        or len(weekdays) > 1
        or len(parts) > 1
        or markers.count("next") + markers.count("coming") > (1 if weekdays else 0)
        or markers.count("this") > (1 if weekdays or parts else 0)
        or week_markers > (1 if weekdays and not dates and not offsets else 0)
        or any(kind == "range" for kind in markers)
    ):
        raise Refusal(Reason.NOT_UNDERSTOOD)
    if "this" in markers and parts and not (dates or offsets or weekdays):
        offsets.append(_Offset(0))  # `deze namiddag`: this afternoon, today
    if not (dates or offsets or weekdays or times):
        raise Refusal(Reason.NOT_UNDERSTOOD)
    return Parts(
        date=dates[0] if dates else None,
        offset=offsets[0].days if offsets else None,
        span=bool(offsets) and offsets[0].span,
        weekday=weekdays[0] if weekdays else None,
        next_marker="next" in markers or "coming" in markers,
        ambiguous_next="next" in markers,
        this_marker="this" in markers,
        next_week="next_week" in markers,
        this_week="this_week" in markers,
        time=times[0] if times else None,
        part=next(iter(parts)) if parts else None,
        shift=shift,
    )


def _drop_ranges(tokens: list[Token]) -> list[Token]:
    """`14:00-15:00`, `14u tot 15u`, `de 14h à 15h`: the start time is the appointment's."""
    kept: list[Token] = []
    skip = 0
    for index, token in enumerate(tokens):
        if skip:
            skip -= 1
            continue
        if isinstance(token, _Marker) and token.kind in ("range", "a"):
            before = kept[-1] if kept else None
            after = tokens[index + 1] if index + 1 < len(tokens) else None
            if isinstance(before, Time | _Dotted) and isinstance(after, Time | _Dotted):
                skip = 1
                continue
            if token.kind == "a":
                kept.append(_Marker("at"))  # à as in `vendredi à 10h`, `à 15`
                continue
        kept.append(token)
    return kept


def _join_month_names(tokens: list[Token]) -> list[Token]:
    """`27 november [2026]`, `november 27 [2026]`, `1er décembre`, `the 27th` become dates."""
    out: list[Token] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if isinstance(token, _Month):
            before = out[-1] if out else None
            after = tokens[index + 1] if index + 1 < len(tokens) else None
            if isinstance(before, _Num) and 1 <= before.digits <= 2:
                out.pop()
                day = before.value
            elif _is_the(after) and _is_day_number(tokens[index + 2 : index + 3]):
                index += 2  # `December the 1st`
                day = cast(_Num, tokens[index]).value
            elif isinstance(after, _Num) and 1 <= after.digits <= 2:
                index += 1
                day = after.value
            else:
                raise Refusal(Reason.NOT_UNDERSTOOD)
            year = None
            following = tokens[index + 1] if index + 1 < len(tokens) else None
            if isinstance(following, _Num) and following.digits == 4:
                year = following.value
                index += 1
            out.append(DateSpec(day, token.index, year))
        else:
            out.append(token)
        index += 1
    return [
        DateSpec(t.value, None, None)
        if isinstance(t, _Num) and t.ordinal and 1 <= t.digits <= 2
        else t
        for t in out
    ]


def _is_the(token: Token | None) -> bool:
    return isinstance(token, _Marker) and token.kind == "the"


def _is_day_number(tokens: list[Token]) -> bool:
    return bool(tokens) and isinstance(tokens[0], _Num) and 1 <= tokens[0].digits <= 2


def _bare_numbers(tokens: list[Token]) -> list[Token]:
    """A number without a unit: a time after `om`/`at`/`à` or beside a part of the day
    (`om 3`, `tonight at 11`, `9 tomorrow morning`), a day of the month after a weekday or
    `le`/`the` (`samedi 16`, `le 16`); anything else is refused."""
    has_part = any(isinstance(t, _Part) for t in tokens)
    has_time = any(isinstance(t, Time | _Dotted) for t in tokens)
    out: list[Token] = []
    for index, token in enumerate(tokens):
        if not isinstance(token, _Num):
            if not (isinstance(token, _Marker) and token.kind in ("at", "the")):
                out.append(token)
            continue
        before = tokens[index - 1] if index else None
        after = tokens[index + 1 : index + 3]
        part_follows = any(isinstance(t, _Part) for t in after) and all(
            isinstance(t, _Part | _Offset) for t in after[:1]
        )
        after_at = isinstance(before, _Marker) and before.kind == "at"
        after_day = isinstance(before, _Weekday) or (
            isinstance(before, _Marker) and before.kind == "the"
        )
        is_clock = 0 < token.digits <= 2 or token.digits == 0
        if after_at and is_clock and 1 <= token.value <= 23:
            out.append(_bare_time(token))
        elif after_day and part_follows and token.value <= 12:
            raise Refusal(Reason.AMBIGUOUS)  # `samedi 9 au soir`: the 9th, or at nine?
        elif after_day and 0 < token.digits <= 2 and 1 <= token.value <= 31:
            out.append(DateSpec(token.value, None, None))
        elif has_part and not has_time and is_clock and 1 <= token.value <= 12:
            out.append(_bare_time(token))
        else:
            raise Refusal(Reason.NOT_UNDERSTOOD)  # `morgen 14`: a day? an hour?
    return out


def _bare_time(number: _Num) -> Time:
    return Time(number.value, 0, dial=1 <= number.value <= 12)


def _shift(tokens: list[Token]) -> int:
    """`_shift` must stand right before the time it moves."""
    total = 0
    for index, token in enumerate(tokens):
        if isinstance(token, _Shift):
            after = tokens[index + 1] if index + 1 < len(tokens) else None
            if not isinstance(after, Time) or total:
                raise Refusal(Reason.NOT_UNDERSTOOD)
            total = token.minutes
    return total


# --- the clock ---------------------------------------------------------------------------------

# A dial hour (1..12) → the 24-hour hours it may be, per part of the day. Without a part a
# bare 1-6 is the afternoon (appointments are not at 03:00: `om 2 uur` is 14:00), 8-11 the
# morning, and 7 is asked (see Reason.MORNING_OR_EVENING).
_DIAL: dict[DayPart | None, dict[int, int]] = {
    None: {12: 12, **{h: h + 12 for h in range(1, 7)}, **{h: h for h in range(8, 12)}},
    "morning": {h: h for h in range(1, 12)},
    "afternoon": {12: 12, **{h: h + 12 for h in range(1, 8)}},
    "evening": {h: h + 12 for h in range(5, 12)},
}
# 24-hour hours that fit a part of the day.
_PART_HOURS: dict[DayPart, range] = {
    "morning": range(0, 12),
    "afternoon": range(12, 20),
    "evening": range(16, 24),
}


def wall_time(parts: Parts) -> time | None:
    """The wall-clock time meant, with the part of the day and am/pm taken into account."""
    if parts.time is None:
        return None
    spoken = parts.time
    if spoken.pm is not None:
        hour = spoken.hour % 12 + (12 if spoken.pm else 0)
    elif spoken.dial:
        dial = _DIAL[parts.part]
        if parts.part is None and spoken.hour == 7:
            raise Refusal(Reason.MORNING_OR_EVENING)
        if spoken.hour not in dial:
            raise Refusal(Reason.PART_MISMATCH)  # `'s middags 9u`, `tonight at 2`
        hour = dial[spoken.hour]
    elif parts.part is not None and spoken.hour < 12 and parts.part != "morning":
        hour = spoken.hour + 12  # `vanavond 07:30`
    else:
        hour = spoken.hour
    if parts.part is not None and hour not in _PART_HOURS[parts.part]:
        raise Refusal(Reason.PART_MISMATCH)  # `tomorrow morning 7pm`, `vanochtend 15u`
    minutes = hour * 60 + spoken.minute + parts.shift
    if not 0 <= minutes < 24 * 60:
        raise Refusal(Reason.AMBIGUOUS)  # shifted past midnight: which day?
    return time(*divmod(minutes, 60))
