"""Natural dates for coaches, in Dutch, Flemish, French and English.

`parse_when("vrijdagnamiddag 3u", now, "Europe/Brussels")` gives the UTC instant a coach meant,
or a `WhenError` whose `reason` says what to ask (the handler renders a helpful example for
`example_key`). `parse_day` is the same for an agreement's due day, which needs no time.

Three steps: `when_text` folds the text and rewrites spoken phrases (`half drie`,
`kwart voor 12`, `midi et demi`, `quarter past 3`, `vrijdagnamiddag`) into plain tokens;
`when_grammar` scans them and says what they mean together (and reads the clock); this module
places that on the calendar and checks it. tests/unit/test_when_corpus.py measures it on a few
hundred phrasings per language.

0 wrong beats coverage: a wrong appointment is worse than a question. Every word must be known;
there is no guessing fallback. (dateparser used to read the rest: measured, it dropped named
weekdays (`lundi en 15` → Friday the 15th), invented times and misread offsets
(`15 minutes from 1pm` → 13:00); everything it read well the grammar now reads itself.)

Decisions:
- Dates are day-first (`27/11`, `27-11`, `27.11.2026`); ISO `2026-11-27` is accepted too. In an
  English sentence a date whose day and month could swap (`12/1`) is asked.
- Clock: `14:00`, `14u`, `14h`, `07:30` are the 24-hour clock. An hour said on the 12-hour dial
  (`3u`, `om 2 uur`, `half drie`, `at 5`, `trois heures`) without am/pm or a part of the day is
  read 1-6 → the afternoon (13-18), 8-11 → the morning, 12 → noon; 7 is asked (before school or
  at bedtime?). Never the night in silence. A part of the day settles it (`vanavond om 8`,
  `9 tomorrow morning`) and must fit the hour (`'s ochtends 15u` is asked).
- A bare number is a time only after `om`/`at`/`à`/`tegen` or beside a part of the day, a day
  of the month after a weekday or `le`/`the`; otherwise asked (`morgen 14`).
- A weekday alone means its next occurrence; today's weekday means today if the time is still
  ahead (or with `deze`/`this`), else the same day next week. `volgende week vrijdag` is the
  Friday of next (ISO) week. `volgende`/`next`/`prochain` + weekday never means today, and is
  asked when this week's and next week's differ (`jeudi prochain` on a Wednesday);
  `aanstaande`/`komende`/`coming` mean the first to come.
- A date without a year is its next occurrence (`5/1` in November is January), unless it went
  by in the last three months (`3/11` on 25/11): that is asked, not moved a year on.
- A weekday named with a date must agree with it.
- A time alone is today if still ahead, else tomorrow.
- `over 2 uur` / `in 2 hours` / `dans 2 heures` is elapsed time (right across DST changes),
  truncated to the minute. `15 minutes after 1pm` is exact; `15 minutes from 1pm` is asked.
- Wall times are read in the family's zone. A time that does not exist (02:30 on the night the
  clocks go forward) lands as far past the gap (03:30); a time that occurs twice (02:30 on the
  night they go back) is the first occurrence (summer time).
- Refused: empty text, unknown words, impossible dates (31/11) and times (25:00), a moment not
  in the future, more than 2 years ahead, for an appointment a day without a time (`no_time`),
  and wording with two honest readings (`lundi en huit`, `minuit`, `vannacht`, `half three`,
  `dans huit jours`, `voor vrijdag`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.domain.when_grammar import DateSpec, Mode, Parts, Reason, Refusal, reduce, scan, wall_time
from bot.domain.when_text import duration, fold, rewrite

__all__ = [
    "EXAMPLE_ADD_TIME",
    "EXAMPLE_APPOINTMENT",
    "EXAMPLE_DAY",
    "HORIZON_YEARS",
    "RECENT_PAST",
    "Reason",
    "When",
    "WhenError",
    "parse_day",
    "parse_when",
    "wall_to_utc",
]

HORIZON_YEARS = 2
# A yearless date that went by this recently is asked about, not moved to next year.
RECENT_PAST = timedelta(days=92)

# Which example the handler shows with the refusal.
EXAMPLE_APPOINTMENT = "when.appointment"  # e.g. "morgen 14:00", "vrijdag 10u30", "27/11 9u"
EXAMPLE_ADD_TIME = "when.add_time"  # the day was fine, a time is missing or wrong
EXAMPLE_DAY = "when.day"  # due days: "vrijdag", "27/11", "morgen"


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
    text: str, now: datetime, zone: str, *, require_time: bool = True, day: date | None = None
) -> When | WhenError:
    """An appointment's moment. With `require_time=False` a bare day gives an all-day `When`.
    With `day`, a time alone is on that day (a coach changing a time given before, see
    `correction`), not on the next day it is still ahead."""
    mode: Mode = "moment" if require_time else "moment_or_day"
    result = _parse(text, _local_now(now, zone), zone, mode, day)
    if isinstance(result, WhenError):
        return result
    at, all_day = result
    return When(at=at, all_day=all_day, matched=text.strip())


# Words a coach puts before a changed mind: "nee, toch woensdag om 10 uur", "liever 15:00",
# "sorry, om 3 uur", "no, make it 3pm", "non, plutôt jeudi 14h". Folded (no accents).
CORRECTION_WORDS = frozenset({
    "nee", "neen", "nope", "toch", "liever", "beter", "sorry", "sorrie", "oeps", "oei", "wacht",
    "ik", "bedoel", "bedoelde", "maar", "maak", "er", "dan", "het", "wordt",
    "no", "oops", "wait", "actually", "rather", "i", "mean", "make", "it", "instead",
    "non", "pardon", "plutot", "en", "fait", "je", "veux", "dire", "finalement", "oups",
})


def correction(text: str) -> str:
    """`text` without the words a changed mind starts with (`CORRECTION_WORDS`) and the
    commas after them; the text as it was when it starts otherwise. What is left is read as
    usual: every word must still be known, so a sentence stays a sentence."""
    words = text.split()
    for index, word in enumerate(words):
        if fold(word).strip(",.!:;-") not in CORRECTION_WORDS:
            return " ".join(words[index:]) if index else text
    return ""


def split_moment(text: str, reads: Callable[[str], bool]) -> tuple[str, str] | None:
    """A line typed without `|` ("morgen 14:00 huisbezoek", "huisbezoek om 2 uur"): the words
    at its start, else at its end, that `reads` takes for the moment (the longest such run),
    and the rest. None when no run of words at either end is one. `reads` checks the whole
    run: every word must still be known, and the coach confirms what was read."""
    words = text.split()
    for size in range(len(words), 0, -1):
        if reads(" ".join(words[:size])):
            return " ".join(words[:size]), " ".join(words[size:])
    for size in range(len(words) - 1, 0, -1):
        if reads(" ".join(words[-size:])):
            return " ".join(words[-size:]), " ".join(words[:-size])
    return None


def parse_day(text: str, now: datetime, zone: str) -> date | WhenError:
    """A due day (`vrijdag`, `27/11`, `morgen`, `tegen vrijdag`, `uiterlijk 5 december`,
    `next friday`, `vendredi`); a time is ignored.

    Today's weekday alone means next week here: for today a coach says `vandaag`.
    """
    result = _parse(text, _local_now(now, zone), zone, "day")
    if isinstance(result, WhenError):
        return result
    return result[0].astimezone(ZoneInfo(zone)).date()


# --- placing what was said on the calendar -----------------------------------------------------


def _local_now(now: datetime, zone: str) -> datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("`now` must be timezone-aware")
    return now.astimezone(ZoneInfo(zone))


def _parse(text: str, now: datetime, zone: str, mode: Mode,
           day: date | None = None) -> tuple[datetime, bool] | WhenError:
    example = EXAMPLE_DAY if mode == "day" else EXAMPLE_APPOINTMENT
    folded = fold(text)
    if not folded:
        return WhenError(Reason.EMPTY, example)
    try:
        delta = duration(folded)
        if delta is not None:
            # In UTC: aware arithmetic in a local zone would add wall-clock time across DST.
            at = (now.astimezone(UTC) + delta).replace(second=0, microsecond=0)
            return _checked(at, False, now, zone, mode)
        parts = reduce(scan(rewrite(folded)), mode)
        at, all_day = _place(parts, now, zone, mode, day)
        return _checked(at, all_day, now, zone, mode)
    except Refusal as refusal:
        if refusal.reason in _TIME_REASONS and mode != "day":
            example = EXAMPLE_ADD_TIME
        return WhenError(refusal.reason, example)


_TIME_REASONS = frozenset(
    {Reason.NO_TIME, Reason.INVALID_TIME, Reason.PART_MISMATCH, Reason.MORNING_OR_EVENING}
)


def _place(parts: Parts, now: datetime, zone: str, mode: Mode,
           given_day: date | None = None) -> tuple[datetime, bool]:
    today = now.date()
    wall = None if mode == "day" else wall_time(parts)  # a due day ignores its time
    if wall is None and mode == "moment":
        raise Refusal(Reason.NO_TIME)

    def ahead_today() -> bool:
        return wall is not None and wall_to_utc(today, wall, zone) > now

    day: date
    if parts.date is not None:
        day = _calendar_date(parts.date, today)
    elif parts.offset is not None:
        day = today + timedelta(days=parts.offset)
        if parts.span and parts.weekday is not None and day.weekday() != parts.weekday:
            raise Refusal(Reason.AMBIGUOUS)  # `dinsdag over een week`: which Tuesday?
    elif parts.weekday is not None:
        if parts.next_week or parts.this_week:
            monday = today - timedelta(days=today.weekday()) + timedelta(7 * parts.next_week)
            day = monday + timedelta(days=parts.weekday)
        else:
            days = (parts.weekday - today.weekday()) % 7
            if days == 0 and (
                parts.next_marker or not (parts.this_marker or (mode != "day" and ahead_today()))
            ):
                days = 7  # today's weekday: today only with `deze`, or a time still ahead
            day = today + timedelta(days=days)
            if parts.ambiguous_next and day.weekday() > today.weekday():
                raise Refusal(Reason.AMBIGUOUS)  # `jeudi prochain` on a Wednesday: tomorrow?
    elif given_day is not None:  # a time alone, for a day said before
        day = given_day
    else:  # a time alone
        day = today if ahead_today() else today + timedelta(days=1)
    if parts.weekday is not None and day.weekday() != parts.weekday:
        raise Refusal(Reason.WEEKDAY_MISMATCH)  # `vrijdag 26/11` when the 26th is a Thursday
    if wall is None:
        return wall_to_utc(day, time(0), zone), True
    return wall_to_utc(day, wall, zone), False


def _calendar_date(spec: DateSpec, today: date) -> date:
    if spec.month is None:  # the next such day of a month, skipping months without it
        for ahead in range(12):
            year, month = divmod(today.month - 1 + ahead, 12)
            try:
                candidate = date(today.year + year, month + 1, spec.day)
            except ValueError:
                continue
            if candidate >= today:
                return candidate
        raise Refusal(Reason.INVALID_DATE)
    if spec.year is not None:
        try:
            return date(spec.year, spec.month, spec.day)
        except ValueError:
            raise Refusal(Reason.INVALID_DATE) from None
    return _yearless(spec.day, spec.month, today)


def _yearless(day: int, month: int, today: date) -> date:
    """A day and month without a year: their next occurrence (`5/1` in November is January),
    unless they went by in the last few months (`3/11` on 25/11): a slip or a past date,
    never moved a year on in silence; the coach is asked."""
    candidates: list[date] = []
    for year in range(today.year - 1, today.year + 5):  # 29/02 may be four years away
        try:
            candidates.append(date(year, month, day))
        except ValueError:
            continue
    ahead = [c for c in candidates if c >= today]
    if not ahead:
        raise Refusal(Reason.INVALID_DATE)
    if any(timedelta(0) < today - c <= RECENT_PAST for c in candidates):
        raise Refusal(Reason.PAST_NEEDS_YEAR)
    return ahead[0]


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _checked(
    at: datetime, all_day: bool, now: datetime, zone: str, mode: Mode
) -> tuple[datetime, bool]:
    local_day = at.astimezone(ZoneInfo(zone)).date()
    if (local_day < now.date()) if (all_day or mode == "day") else (at <= now):
        raise Refusal(Reason.PAST)
    if local_day > _add_years(now.date(), HORIZON_YEARS):
        raise Refusal(Reason.TOO_FAR)
    return at, all_day
