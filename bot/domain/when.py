"""Natural dates for coaches, in Dutch, Flemish, French and English.

`parse_when("vrijdag 10u30", now, "Europe/Brussels")` gives the UTC instant a coach meant, or a
`WhenError` whose `reason` says what was wrong (the handler renders a helpful example for
`example_key`). `parse_day` is the same for an agreement's due day, which needs no time.

Why a grammar of our own first and dateparser only as a fallback (measured with dateparser 1.5,
now = Tuesday 2026-11-24 10:00 Europe/Amsterdam, languages nl/fr/en, PREFER_DATES_FROM future):
dateparser reads `morgen 14:00`, `tomorrow 2pm`, `friday 10:30am` and `dans 2 heures` well, but
misreads exactly the forms coaches type most and does so silently: `vrijdag 10u30` → a day in
2030, `27/11 9u` → today 19:00, `overmorgen 9u` → 19:00, `demain 14h` → midnight, `27 nov 14u`
and `27 novembre 14h` → 2114, `maandag 14u` → a Monday in the past, and it accepts `31/11 9u`.
Once `14u`/`14h` are rewritten as `14:00` it reads plain wording well: of ~60 probe phrasings
with words our grammar does not know it read four (`30 nov '26 14:00`, `2026-11-27T14:00`,
`friday 10:00 CET`, `next month 2pm`) and misread one (`vr. 27-11 om 14.00u` → years ahead;
the grammar covers that form now). So it stays, for text with
words the grammar does not know only: cheap to keep (imported lazily; 0.05 s import, 0.1 s for
its first parse), its answer passes the same checks as ours, and the coach confirms what the bot
understood. When every word is known, the grammar's answer (or its precise refusal) stands.

Decisions:
- Dates are day-first (`27/11`, `27-11`, `27.11.2026`); ISO `2026-11-27` is accepted too.
- Times are on the 24-hour clock (`9u` is 09:00) unless `am`/`pm` or a part of the day
  (`'s avonds`, `ce soir`, `evening`) says otherwise: we never guess that `3u` meant 15:00,
  the bot repeats what it understood and the coach confirms.
- A weekday alone means its next occurrence; today's weekday means today if the time is still
  ahead, else the same day next week. `volgende`/`next`/`prochain` + weekday never means today.
  `volgende week vrijdag` is the Friday of next (ISO) week.
- A date without a year is its next occurrence, today included (`27/11` seen on 28/11 is next
  year's; `24/11 9u` seen on 24/11 at 10:00 is refused as past, not moved a year).
- A time alone is today if still ahead, else tomorrow.
- `over 2 uur` / `in 2 hours` / `dans 2 heures` is elapsed time (right across DST changes),
  truncated to the minute.
- Wall times are read in the family's zone. A time that does not exist (02:30 on the night the
  clocks go forward) lands as far past the gap (03:30); a time that occurs twice (02:30 on the
  night they go back) is the first occurrence (summer time).
- Refused: empty text, not understood, impossible dates (31/11) and times (25:00), a weekday that
  contradicts the date, a moment not in the future, more than 2 years ahead, and, for an
  appointment, a day without a time (`no_time`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Literal
from zoneinfo import ZoneInfo

from bot.domain.text import fold_accents

__all__ = [
    "EXAMPLE_ADD_TIME",
    "EXAMPLE_APPOINTMENT",
    "EXAMPLE_DAY",
    "HORIZON_YEARS",
    "Reason",
    "When",
    "WhenError",
    "parse_day",
    "parse_when",
    "wall_to_utc",
]

HORIZON_YEARS = 2

# Which example the handler shows with the refusal.
EXAMPLE_APPOINTMENT = "when.appointment"  # e.g. "morgen 14:00", "vrijdag 10u30", "27/11 9u"
EXAMPLE_ADD_TIME = "when.add_time"  # the day was fine, a time is missing or wrong
EXAMPLE_DAY = "when.day"  # due days: "vrijdag", "27/11", "morgen"


class Reason(StrEnum):
    EMPTY = "empty"
    NOT_UNDERSTOOD = "not_understood"
    INVALID_DATE = "invalid_date"
    INVALID_TIME = "invalid_time"
    WEEKDAY_MISMATCH = "weekday_mismatch"
    NO_TIME = "no_time"
    PAST = "past"
    TOO_FAR = "too_far"


@dataclass(frozen=True, slots=True)
class When:
    at: datetime  # aware, UTC; for all_day the local midnight that starts the day
    all_day: bool
    matched: str  # the coach's text that was understood, trimmed


@dataclass(frozen=True, slots=True)
class WhenError:
    reason: str  # a Reason value
    example_key: str


def wall_to_utc(day: date, wall: time, zone: str) -> datetime:
    """The UTC instant of a wall-clock time in `zone` (see the module notes on DST)."""
    # fold=0 gives the pre-transition offset: a gap time moves forward, a repeated one is first.
    local = datetime.combine(day, wall.replace(tzinfo=None, fold=0), tzinfo=ZoneInfo(zone))
    return local.astimezone(UTC)


def parse_when(
    text: str, now: datetime, zone: str, *, require_time: bool = True
) -> When | WhenError:
    """An appointment's moment. With `require_time=False` a bare day gives an all-day `When`."""
    mode: _Mode = "moment" if require_time else "moment_or_day"
    result = _parse(text, _local_now(now, zone), zone, mode)
    if isinstance(result, WhenError):
        return result
    at, all_day = result
    return When(at=at, all_day=all_day, matched=text.strip())


def parse_day(text: str, now: datetime, zone: str) -> date | WhenError:
    """A due day (`vrijdag`, `27/11`, `morgen`, `next friday`, `vendredi`); a time is ignored.

    Today's weekday alone means next week here: for today a coach says `vandaag`.
    """
    result = _parse(text, _local_now(now, zone), zone, "day")
    if isinstance(result, WhenError):
        return result
    return result[0].astimezone(ZoneInfo(zone)).date()


# --- vocabulary (accents stripped, lower case) -------------------------------------------------

_WEEKDAYS: dict[str, int] = {}
for _index, _names in enumerate(
    [
        "maandag ma maa lundi lun monday mon",
        "dinsdag di din mardi tuesday tue tues",
        "woensdag wo woe mercredi mer wednesday wed",
        "donderdag do don jeudi jeu thursday thu thur thurs",
        "vrijdag vr vrij vendredi ven friday fri",
        "zaterdag za zat samedi sam saturday sat",
        "zondag zo zon dimanche dim sunday sun",
    ]
):
    for _name in _names.split():
        _WEEKDAYS[_name] = _index

_MONTHS: dict[str, int] = {}
for _index, _names in enumerate(
    [
        "januari janvier january jan janv",
        "februari fevrier february feb febr fev fevr",
        "maart mars march mrt mar maa",
        "april avril apr avr",
        "mei mai may",
        "juni juin june jun",
        "juli juillet july jul juil",
        "augustus aout august aug",
        "september septembre sep sept",
        "oktober octobre october okt oct",
        "november novembre nov",
        "december decembre dec",
    ],
    start=1,
):
    for _name in _names.split():
        _MONTHS[_name] = _index

_DayPart = Literal["morning", "afternoon", "evening"]

# word -> (days from today or None, part of the day or None)
_DAY_WORDS: dict[str, tuple[int | None, _DayPart | None]] = {
    "vandaag": (0, None),
    "today": (0, None),
    "morgen": (1, None),
    "tomorrow": (1, None),
    "demain": (1, None),
    "overmorgen": (2, None),
    "gisteren": (-1, None),
    "yesterday": (-1, None),
    "hier": (-1, None),
    "vanochtend": (0, "morning"),
    "vanmorgen": (0, "morning"),
    "vanvoormiddag": (0, "morning"),
    "vanmiddag": (0, "afternoon"),
    "vannamiddag": (0, "afternoon"),
    "vanavond": (0, "evening"),
    "tonight": (0, "evening"),
    "morgenochtend": (1, "morning"),
    "morgenvroeg": (1, "morning"),
    "morgenvoormiddag": (1, "morning"),
    "morgenmiddag": (1, "afternoon"),
    "morgennamiddag": (1, "afternoon"),
    "morgenavond": (1, "evening"),
    "ochtend": (None, "morning"),
    "ochtends": (None, "morning"),
    "morgens": (None, "morning"),
    "voormiddag": (None, "morning"),
    "voormiddags": (None, "morning"),
    "morning": (None, "morning"),
    "matin": (None, "morning"),
    "matinee": (None, "morning"),
    "middag": (None, "afternoon"),
    "middags": (None, "afternoon"),
    "namiddag": (None, "afternoon"),
    "namiddags": (None, "afternoon"),
    "afternoon": (None, "afternoon"),
    "apres-midi": (None, "afternoon"),
    "avond": (None, "evening"),
    "avonds": (None, "evening"),
    "evening": (None, "evening"),
    "soir": (None, "evening"),
    "soiree": (None, "evening"),
}
_NEXT_WORDS = frozenset(
    {"volgende", "komende", "aanstaande", "next", "coming", "prochain", "prochaine"}
)
_FILLERS = frozenset(
    {
        "om", "op", "rond", "omstreeks", "at", "on", "around", "the", "this", "le", "la", "de",
        "vers", "ce", "cet", "cette", "deze", "van", "den", "het", "uur", "of", "stipt", "sharp",
    }
)  # fmt: skip
_RANGE_WORDS = frozenset({"tot", "to", "till", "until", "jusqu'a", "-", "a"})
_NOON_WORDS = frozenset({"noon", "midday", "midi"})

_WORD_NUMBERS: dict[str, int] = {}
for _value, _names in enumerate(
    [
        "een n un une one a an",
        "twee deux two",
        "drie trois three",
        "vier quatre four",
        "vijf cinq five",
        "zes six",
        "zeven sept seven",
        "acht huit eight",
        "negen neuf nine",
        "tien dix ten",
        "elf onze eleven",
        "twaalf douze twelve",
    ],
    start=1,
):
    for _name in _names.split():
        _WORD_NUMBERS[_name] = _value
_WORD_NUMBER_RE = "|".join(sorted(_WORD_NUMBERS, key=len, reverse=True))

# --- normalising -------------------------------------------------------------------------------


def _fold(text: str) -> str:
    """Lower case, no accents, single spaces: `Après-demain  14H` → `apres-demain 14h`."""
    plain = fold_accents(text).replace("’", "'").replace("`", "'").replace("‘", "'")
    return re.sub(r"\s+", " ", plain).strip()


_FIXED_DURATIONS: dict[str, int] = {  # minutes
    "een uur": 60, "1 uur": 60, "een half uur": 30, "een halfuur": 30, "half uur": 30,
    "halfuur": 30, "anderhalf uur": 90, "een kwartier": 15, "kwartier": 15,
    "an hour": 60, "one hour": 60, "a hour": 60, "half an hour": 30, "half hour": 30,
    "a half hour": 30, "an hour and a half": 90, "a quarter of an hour": 15,
    "a quarter hour": 15, "une heure": 60, "une demi-heure": 30, "une demi heure": 30,
    "une heure et demie": 90, "un quart d'heure": 15, "un quart d heure": 15,
}  # fmt: skip
_HOUR_UNITS = r"uur|uren|u|hours|hour|hrs|hr|h|heures|heure"
_MINUTE_UNITS = r"minuten|minuut|minutes|minute|mins|min|m"
_DAY_UNITS: dict[str, int] = {
    "dag": 1, "dagen": 1, "day": 1, "days": 1, "jour": 1, "jours": 1,
    "week": 7, "weken": 7, "weeks": 7, "semaine": 7, "semaines": 7,
}  # fmt: skip
_IN = r"(?:over|binnen|in|dans)"
_DURATION_RE = re.compile(
    rf"^{_IN} (?P<n>\d{{1,3}}(?:[.,]\d{{1,2}})?|{_WORD_NUMBER_RE}) ?"
    rf"(?:(?P<hours>{_HOUR_UNITS})(?: ?(?P<extra>\d{{1,2}}) ?(?:{_MINUTE_UNITS})?)?"
    rf"|(?P<minutes>{_MINUTE_UNITS}))$"
)
_FIXED_DURATION_RE = re.compile(
    rf"^{_IN} (?P<phrase>{'|'.join(re.escape(p) for p in _FIXED_DURATIONS)})$"
)
_DAY_OFFSET_RE = re.compile(
    rf"\b{_IN} (?P<n>\d{{1,3}}|{_WORD_NUMBER_RE}) (?P<unit>{'|'.join(_DAY_UNITS)})\b"
)


def _duration(folded: str) -> timedelta | None:
    """`over 2 uur`, `in 30 minutes`, `dans 1h30`, `over een kwartier`: the whole text only."""
    fixed = _FIXED_DURATION_RE.match(folded)
    if fixed:
        return timedelta(minutes=_FIXED_DURATIONS[fixed["phrase"]])
    match = _DURATION_RE.match(folded)
    if not match:
        return None
    raw = match["n"]
    amount = float(_WORD_NUMBERS.get(raw) or raw.replace(",", "."))
    if match["minutes"]:
        return timedelta(minutes=amount)
    return timedelta(hours=amount, minutes=int(match["extra"] or 0))


def _rewrite_phrases(folded: str) -> str:
    """Multi-word phrases become the single tokens the scanner knows."""
    text = re.sub(r"\b([ap])\.? ?m\.?(?=\s|$)", r"\1m", folded)  # p.m. → pm
    text = re.sub(r"[,;!?()]", " ", text)
    text = re.sub(r"(?<!\d)\.|\.(?!\d)", " ", text)  # keep 14.00 and 27.11.2026, drop `nov.`
    text = re.sub(r"(?:^|\s)'s ?", " ", text)  # 's avonds → avonds
    text = _DAY_OFFSET_RE.sub(lambda m: f" _plus{_count(m['n']) * _DAY_UNITS[m['unit']]} ", text)
    replacements = [
        (r"\bthe day after tomorrow\b|\bday after tomorrow\b|\bapres[- ]demain\b", "overmorgen"),
        (r"\baujourd ?'? ?hui\b", "vandaag"),
        (r"\bce soir\b|\bthis evening\b", "vanavond"),
        (r"\bcet apres[- ]midi\b|\bthis afternoon\b", "vanmiddag"),
        (r"\bce matin\b|\bthis morning\b", "vanochtend"),
        (r"\bapres midi\b", "apres-midi"),
        (r"\b(?:la )?semaine prochaine\b|\b(?:volgende|komende|next) week\b", "_nextweek"),
    ]
    for pattern, replacement in replacements:
        text = re.sub(pattern, f" {replacement} ", text)
    return re.sub(r"\s+", " ", text).strip()


def _count(raw: str) -> int:
    return _WORD_NUMBERS.get(raw) or int(raw)


# --- scanning ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Time:
    hour: int
    minute: int
    pm: bool | None = None  # None: 24-hour clock; True/False: written with pm/am


@dataclass(frozen=True, slots=True)
class _BadTime:
    pass


@dataclass(frozen=True, slots=True)
class _Date:
    day: int
    month: int | None  # None: `friday the 27th`, the next 27th
    year: int | None


@dataclass(frozen=True, slots=True)
class _Dotted:
    """`14.00` (a time) or `27.11` (a date): the other tokens decide."""

    left: int
    right: int
    right_text: str

    def fits_time(self) -> bool:
        return len(self.right_text) == 2 and self.left <= 23 and self.right <= 59


@dataclass(frozen=True, slots=True)
class _Num:
    value: int
    digits: int
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


@dataclass(frozen=True, slots=True)
class _Part:
    part: _DayPart


@dataclass(frozen=True, slots=True)
class _Marker:
    kind: Literal["next", "next_week", "range", "a"]


@dataclass(frozen=True, slots=True)
class _Unknown:
    pass


_Token = (
    _Time | _BadTime | _Date | _Dotted | _Num | _Weekday | _Month | _Offset | _Part | _Marker
    | _Unknown
)  # fmt: skip

_SCAN = re.compile(
    r"""
     _plus(?P<plus>\d+)
    |(?P<nextweek>_nextweek)
    |(?P<iso_y>\d{4})-(?P<iso_m>\d{1,2})-(?P<iso_d>\d{1,2})(?![\d/-])
    |(?P<d>\d{1,2})(?P<sep>[/-])(?P<m>\d{1,2})(?:(?P=sep)(?P<y>\d{4}|\d{2}))?(?![\d/])
    |(?P<dd>\d{1,2})\.(?P<dm>\d{1,2})\.(?P<dy>\d{4}|\d{2})(?![\d.])
    |(?P<ap_h>\d{1,2})(?:[:.](?P<ap_m>\d{2}))?\ ?(?P<ap>am|pm)\b
    |(?P<c_h>\d{1,2}):(?P<c_m>\d{2})(?:\ ?(?:uur|u|hrs|hr|h)\b)?(?![\d:])
    |(?P<u_h>\d{1,2})\ ?(?:uur|u|heures|heure|h|o'clock)(?:\ ?(?P<u_m>\d{2}))?\b(?![/.:-]?\d)
    |(?P<dut_h>\d{1,2})\.(?P<dut_m>\d{2})\ ?(?:uur|u|h)\b
    |(?P<dot_l>\d{1,2})\.(?P<dot_r>\d{1,2})(?![\d.])
    |(?P<num>\d{1,4})(?P<ord>st|nd|rd|th|ste|de|er|e)?\b
    |(?P<dash>-)
    |(?P<word>[a-z][a-z'-]*)
    """,
    re.VERBOSE,
)


def _time(hour: int, minute: int, pm: bool | None = None) -> _Time | _BadTime:
    if pm is None:
        ok = 0 <= hour <= 23 and 0 <= minute <= 59
    else:
        ok = 1 <= hour <= 12 and 0 <= minute <= 59
    return _Time(hour, minute, pm) if ok else _BadTime()


def _scan(text: str) -> list[_Token]:
    tokens: list[_Token] = []
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


def _classify(m: re.Match[str]) -> list[_Token]:
    if m["plus"]:
        return [_Offset(int(m["plus"]))]
    if m["nextweek"]:
        return [_Marker("next_week")]
    if m["iso_y"]:
        return [_Date(int(m["iso_d"]), int(m["iso_m"]), int(m["iso_y"]))]
    if m["d"]:
        return [_Date(int(m["d"]), int(m["m"]), _year(m["y"]))]
    if m["dd"]:
        return [_Date(int(m["dd"]), int(m["dm"]), _year(m["dy"]))]
    if m["ap_h"]:
        return [_time(int(m["ap_h"]), int(m["ap_m"] or 0), pm=m["ap"] == "pm")]
    if m["c_h"]:
        return [_time(int(m["c_h"]), int(m["c_m"]))]
    if m["u_h"]:
        return [_time(int(m["u_h"]), int(m["u_m"] or 0))]
    if m["dut_h"]:
        return [_time(int(m["dut_h"]), int(m["dut_m"]))]
    if m["dot_l"]:
        return [_Dotted(int(m["dot_l"]), int(m["dot_r"]), m["dot_r"])]
    if m["num"]:
        return [_Num(int(m["num"]), len(m["num"]), ordinal=m["ord"] is not None)]
    if m["dash"]:
        return [_Marker("range")]
    return _word(m["word"])


def _word(word: str) -> list[_Token]:
    if word in _FILLERS:
        return []
    if word == "a":  # French à: a filler, or a range between two times (14h à 15h)
        return [_Marker("a")]
    if word in _RANGE_WORDS:
        return [_Marker("range")]
    if word in _NEXT_WORDS:
        return [_Marker("next")]
    if word in _NOON_WORDS:
        return [_Time(12, 0)]
    if word in _WEEKDAYS:
        return [_Weekday(_WEEKDAYS[word])]
    if word in _MONTHS:
        return [_Month(_MONTHS[word])]
    if word in _DAY_WORDS:
        offset, part = _DAY_WORDS[word]
        found: list[_Token] = []
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


# --- the grammar -------------------------------------------------------------------------------

_Mode = Literal["moment", "moment_or_day", "day"]


class _Refusal(Exception):
    def __init__(self, reason: Reason) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class _Parts:
    """What the words said, before it is placed on the calendar."""

    date: _Date | None
    offset: int | None
    weekday: int | None
    next_marker: bool
    next_week: bool
    time: _Time | None
    part: _DayPart | None


def _local_now(now: datetime, zone: str) -> datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("`now` must be timezone-aware")
    return now.astimezone(ZoneInfo(zone))


def _parse(text: str, now: datetime, zone: str, mode: _Mode) -> tuple[datetime, bool] | WhenError:
    example = EXAMPLE_DAY if mode == "day" else EXAMPLE_APPOINTMENT
    folded = _fold(text)
    if not folded:
        return WhenError(Reason.EMPTY, example)
    try:
        delta = _duration(folded)
        if delta is not None:
            # In UTC: aware arithmetic in a local zone would add wall-clock time across DST.
            at = (now.astimezone(UTC) + delta).replace(second=0, microsecond=0)
            return _checked(at, False, now, zone, mode)
        normalised = _rewrite_phrases(folded)
        tokens = _scan(normalised)
        if any(isinstance(t, _Unknown) for t in tokens):
            return _fallback(normalised, now, zone, mode)
        parts = _reduce(tokens, mode)
        at, all_day = _place(parts, now, zone, mode)
        return _checked(at, all_day, now, zone, mode)
    except _Refusal as refusal:
        if refusal.reason in (Reason.NO_TIME, Reason.INVALID_TIME) and mode != "day":
            example = EXAMPLE_ADD_TIME
        return WhenError(refusal.reason, example)


def _reduce(tokens: list[_Token], mode: _Mode) -> _Parts:
    tokens = _drop_ranges(tokens)
    if any(isinstance(t, _BadTime) for t in tokens):
        raise _Refusal(Reason.INVALID_TIME)
    tokens = _join_month_names(tokens)
    dates = [t for t in tokens if isinstance(t, _Date)]
    times = [t for t in tokens if isinstance(t, _Time)]
    dotted = [t for t in tokens if isinstance(t, _Dotted)]
    offsets = [t.days for t in tokens if isinstance(t, _Offset)]
    weekdays = [t.index for t in tokens if isinstance(t, _Weekday)]
    parts = {t.part for t in tokens if isinstance(t, _Part)}
    markers = [t.kind for t in tokens if isinstance(t, _Marker)]
    if any(isinstance(t, _Num | _Month) for t in tokens):
        raise _Refusal(Reason.NOT_UNDERSTOOD)  # a bare number: not a day, not a time
    # `14.00` is a time and `27.11` a date; a second dotted pair is the time (`27.11 14.00`).
    other_day = bool(dates or offsets or weekdays or "next_week" in markers)
    loose: list[_Time | _BadTime] = list(times)
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
            dates.append(_Date(pair.left, pair.right, None))
        else:
            loose.append(_time(pair.left, pair.right))
    times = [t for t in loose if isinstance(t, _Time)]
    if len(times) != len(loose):
        raise _Refusal(Reason.INVALID_TIME)
    if (
        len(times) > 1
        or len(dates) + len(offsets) > 1
        or len(weekdays) > 1
        or len(parts) > 1
        or markers.count("next") > (1 if weekdays else 0)
        or markers.count("next_week") > (1 if weekdays and not dates and not offsets else 0)
        or any(kind == "range" for kind in markers)
    ):
        raise _Refusal(Reason.NOT_UNDERSTOOD)
    if not (dates or offsets or weekdays or times):
        raise _Refusal(Reason.NOT_UNDERSTOOD)
    return _Parts(
        date=dates[0] if dates else None,
        offset=offsets[0] if offsets else None,
        weekday=weekdays[0] if weekdays else None,
        next_marker="next" in markers,
        next_week="next_week" in markers,
        time=times[0] if times else None,
        part=next(iter(parts)) if parts else None,
    )


def _drop_ranges(tokens: list[_Token]) -> list[_Token]:
    """`14:00-15:00`, `14u tot 15u`, `de 14h à 15h`: the start time is the appointment's."""
    kept: list[_Token] = []
    skip = 0
    for index, token in enumerate(tokens):
        if skip:
            skip -= 1
            continue
        if isinstance(token, _Marker) and token.kind in ("range", "a"):
            before = kept[-1] if kept else None
            after = tokens[index + 1] if index + 1 < len(tokens) else None
            if isinstance(before, _Time | _Dotted) and isinstance(after, _Time | _Dotted):
                skip = 1
                continue
            if token.kind == "a":
                continue  # à as in `vendredi à 10h`
        kept.append(token)
    return kept


def _join_month_names(tokens: list[_Token]) -> list[_Token]:
    """`27 november [2026]`, `november 27 [2026]`, `1er décembre`, `the 27th` become dates."""
    out: list[_Token] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if isinstance(token, _Month):
            before = out[-1] if out else None
            after = tokens[index + 1] if index + 1 < len(tokens) else None
            if isinstance(before, _Num) and before.digits <= 2:
                out.pop()
                day = before.value
            elif isinstance(after, _Num) and after.digits <= 2:
                index += 1
                day = after.value
            else:
                raise _Refusal(Reason.NOT_UNDERSTOOD)
            year = None
            following = tokens[index + 1] if index + 1 < len(tokens) else None
            if isinstance(following, _Num) and following.digits == 4:
                year = following.value
                index += 1
            out.append(_Date(day, token.index, year))
        else:
            out.append(token)
        index += 1
    return [
        _Date(t.value, None, None) if isinstance(t, _Num) and t.ordinal and t.digits <= 2 else t
        for t in out
    ]


def _wall_time(parts: _Parts) -> time | None:
    if parts.time is None:
        return None
    hour = parts.time.hour
    if parts.time.pm is not None:
        hour = hour % 12 + (12 if parts.time.pm else 0)
    elif parts.part in ("afternoon", "evening") and 1 <= hour < 12:
        hour += 12  # `'s avonds 7u`, `ce soir 8h`
    return time(hour, parts.time.minute)


def _place(parts: _Parts, now: datetime, zone: str, mode: _Mode) -> tuple[datetime, bool]:
    today = now.date()
    wall = _wall_time(parts)
    if wall is None and mode == "moment":
        raise _Refusal(Reason.NO_TIME)

    def ahead_today() -> bool:
        return wall is not None and wall_to_utc(today, wall, zone) > now

    day: date
    if parts.date is not None:
        day = _calendar_date(parts.date, today)
    elif parts.offset is not None:
        day = today + timedelta(days=parts.offset)
    elif parts.weekday is not None:
        if parts.next_week:
            day = today + timedelta(days=7 - today.weekday() + parts.weekday)
        else:
            days = (parts.weekday - today.weekday()) % 7
            if days == 0 and (parts.next_marker or mode == "day" or not ahead_today()):
                days = 7
            day = today + timedelta(days=days)
    else:  # a time alone
        day = today if ahead_today() else today + timedelta(days=1)
    if parts.weekday is not None and day.weekday() != parts.weekday:
        raise _Refusal(Reason.WEEKDAY_MISMATCH)  # `vrijdag 26/11` when the 26th is a Thursday
    if wall is None or mode == "day":
        return wall_to_utc(day, time(0), zone), True
    return wall_to_utc(day, wall, zone), False


def _calendar_date(spec: _Date, today: date) -> date:
    if spec.month is None:  # the next such day of a month, skipping months without it
        for ahead in range(12):
            year, month = divmod(today.month - 1 + ahead, 12)
            try:
                candidate = date(today.year + year, month + 1, spec.day)
            except ValueError:
                continue
            if candidate >= today:
                return candidate
        raise _Refusal(Reason.INVALID_DATE)
    if spec.year is not None:
        try:
            return date(spec.year, spec.month, spec.day)
        except ValueError:
            raise _Refusal(Reason.INVALID_DATE) from None
    # The next occurrence; 29/02 may be up to four years away (then refused as too far).
    for year in range(today.year, today.year + 5):
        try:
            candidate = date(year, spec.month, spec.day)
        except ValueError:
            continue
        if candidate >= today:
            return candidate
    raise _Refusal(Reason.INVALID_DATE)


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _checked(
    at: datetime, all_day: bool, now: datetime, zone: str, mode: _Mode
) -> tuple[datetime, bool]:
    local_day = at.astimezone(ZoneInfo(zone)).date()
    if (local_day < now.date()) if (all_day or mode == "day") else (at <= now):
        raise _Refusal(Reason.PAST)
    if local_day > _add_years(now.date(), HORIZON_YEARS):
        raise _Refusal(Reason.TOO_FAR)
    return at, all_day


# --- the dateparser fallback -------------------------------------------------------------------


def _fallback(normalised: str, now: datetime, zone: str, mode: _Mode) -> tuple[datetime, bool]:
    """Wording our grammar does not know; the answer passes the same checks as our own."""
    from dateparser.date import DateDataParser  # slow to load; most input never needs it

    # dateparser misreads the Flemish/French `14u`, `10u30`, `14h15`: give it `14:00`.
    text = re.sub(
        r"\b(\d{1,2}) ?(?:uur|u|heures|heure|h)(\d{2})?\b",
        lambda m: f"{int(m[1]):02d}:{m[2] or '00'}",
        normalised,
    )
    parser = DateDataParser(
        languages=["nl", "fr", "en"],
        settings={
            "PREFER_DATES_FROM": "future",
            "RETURN_AS_TIMEZONE_AWARE": True,
            "TIMEZONE": zone,
            "RELATIVE_BASE": now.replace(tzinfo=None),
            "RETURN_TIME_AS_PERIOD": True,
            "DATE_ORDER": "DMY",
            "STRICT_PARSING": False,
        },
    )
    data = parser.get_date_data(text)
    found = data.date_obj
    if found is None or found.tzinfo is None:
        raise _Refusal(Reason.NOT_UNDERSTOOD)
    local = found.astimezone(ZoneInfo(zone))
    has_time = data.period == "time"
    if mode == "moment" and not has_time:
        raise _Refusal(Reason.NO_TIME)
    if mode == "day" or not has_time:
        return _checked(wall_to_utc(local.date(), time(0), zone), True, now, zone, mode)
    # Recompute through our own DST rule rather than trusting dateparser's offset.
    at = wall_to_utc(local.date(), time(local.hour, local.minute), zone)
    return _checked(at, False, now, zone, mode)
