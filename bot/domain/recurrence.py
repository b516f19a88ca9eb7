"""Recurring agreements: `elke week`, `om de week`, `maandelijks`, `every two weeks`, `chaque mois`.

Decisions:
- `om de week` is Dutch for *every other week* (biweekly), not weekly.
- A weekday may anchor a weekly or biweekly rule (`elke maandag`, `tweewekelijks op dinsdag`,
  `un lundi sur deux`); `first_occurrence` turns it into the first due day. A monthly rule takes
  its day of the month from the first due day; `elke maand op maandag` (which Monday?) is not
  understood rather than guessed.
- Monthly on the 29th–31st falls on the last day of shorter months, and returns to the original
  day afterwards (31 Jan → 28 Feb → 31 Mar), never drifting.
- Ranges are inclusive at both ends; `next_occurrence` is strictly after its `after` day.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from bot.domain.text import fold_accents

__all__ = [
    "Recurrence",
    "RecurrenceRule",
    "first_occurrence",
    "next_occurrence",
    "occurrences",
    "parse_recurrence",
]


class Recurrence(StrEnum):
    NONE = "none"
    WEEKLY = "weekly"
    BIWEEKLY = "biweekly"
    MONTHLY = "monthly"


@dataclass(frozen=True, slots=True)
class RecurrenceRule:
    recurrence: Recurrence
    weekday: int | None = None  # 0 = Monday, as date.weekday(); only for (bi)weekly rules


# --- parsing -----------------------------------------------------------------------------------

_WEEKDAY_NAMES = [
    ("maandag", "lundi", "monday"),
    ("dinsdag", "mardi", "tuesday"),
    ("woensdag", "mercredi", "wednesday"),
    ("donderdag", "jeudi", "thursday"),
    ("vrijdag", "vendredi", "friday"),
    ("zaterdag", "samedi", "saturday"),
    ("zondag", "dimanche", "sunday"),
]
_WEEKDAYS = {name: index for index, names in enumerate(_WEEKDAY_NAMES) for name in names}
# `maandagen`, `lundis`, `mondays` and the Dutch `'s maandags` all name the weekday.
_WD = r"(?:'s )?(?P<wd>" + "|".join(_WEEKDAYS) + r")(?:en|s)?"

_EVERY = r"(?:elke|iedere|ieder|every|each|chaque)"
_TWO = r"(?:2|twee|two|deux)"
_ONCE = r"(?:1 ?x|een keer|eenmaal|eens|once|une fois)"

_CORE: dict[Recurrence, str] = {
    Recurrence.WEEKLY: "|".join(
        [
            rf"{_EVERY} week",
            r"wekelijks",
            r"weekly",
            r"chaque semaine",
            r"toutes les semaines",
            r"hebdomadaire(?:ment)?",
            rf"{_ONCE} (?:per|a|in de|par) (?:week|semaine)",
        ]
    ),
    Recurrence.BIWEEKLY: "|".join(
        [
            r"om de (?:andere )?week",
            rf"om de {_TWO} weken",
            rf"{_EVERY} (?:{_TWO}|other|second|tweede|andere) (?:weken|weeks?)",
            rf"(?:{_TWO})[- ]?wekelijks",
            r"bi-?weekly",
            r"fortnightly",
            r"every fortnight",
            rf"toutes les {_TWO} semaines",
            r"une semaine sur deux",
            r"tous les (?:quinze|15) jours",
            rf"{_ONCE} (?:per|in de|every|par) {_TWO} (?:weken|weeks|semaines)",
        ]
    ),
    Recurrence.MONTHLY: "|".join(
        [
            rf"{_EVERY} (?:maand|month|mois)",
            r"maandelijks",
            r"monthly",
            r"tous les mois",
            r"mensuel(?:lement)?",
            rf"{_ONCE} (?:per|a|in de|par) (?:maand|month|mois)",
        ]
    ),
    Recurrence.NONE: r"eenmalig|een keer|eenmaal|once|one-off|une fois|une seule fois|geen|none",
}

# A weekday said with the rule: `elke week op maandag`, `weekly on monday`, `le lundi`.
_ON_WEEKDAY = rf"(?: (?:op|on|le))? {_WD}"

_PATTERNS: list[tuple[re.Pattern[str], Recurrence]] = []
for _recurrence, _core in _CORE.items():
    _PATTERNS.append((re.compile(rf"(?:{_core})"), _recurrence))
    if _recurrence in (Recurrence.WEEKLY, Recurrence.BIWEEKLY):
        _PATTERNS.append((re.compile(rf"(?:{_core}){_ON_WEEKDAY}"), _recurrence))
        _PATTERNS.append((re.compile(rf"{_WD},? (?:{_core})"), _recurrence))
_PATTERNS += [
    (re.compile(rf"{_EVERY} {_WD}"), Recurrence.WEEKLY),
    (re.compile(rf"tous les {_WD}"), Recurrence.WEEKLY),
    (re.compile(rf"(?:every (?:other|second)|om de andere) {_WD}"), Recurrence.BIWEEKLY),
    (re.compile(rf"(?:un|une) {_WD} sur deux"), Recurrence.BIWEEKLY),
    (re.compile(rf"tous les deux {_WD}"), Recurrence.BIWEEKLY),
]


def _fold(text: str) -> str:
    plain = fold_accents(text).replace("’", "'")
    plain = re.sub(r"[.,;!?]+(?=\s|$)", " ", plain)
    return re.sub(r"\s+", " ", plain).strip()


def parse_recurrence(text: str) -> RecurrenceRule | None:
    """The rule a coach wrote, or None if this is not a recurrence we know."""
    folded = _fold(text)
    for pattern, recurrence in _PATTERNS:
        match = pattern.fullmatch(folded)
        if match:
            named = match.groupdict().get("wd")
            weekday = _WEEKDAYS[named] if named else None
            return RecurrenceRule(recurrence, weekday)
    return None


# --- the calendar ------------------------------------------------------------------------------


def first_occurrence(rule: RecurrenceRule, on_or_after: date) -> date:
    """The first due day of a new rule: the anchored weekday on or after the day, else that day."""
    if rule.weekday is None:
        return on_or_after
    return on_or_after + timedelta(days=(rule.weekday - on_or_after.weekday()) % 7)


def _monthly(first: date, index: int) -> date:
    year, month = divmod(first.month - 1 + index, 12)
    year += first.year
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(first.day, last))


def occurrences(first: date, recurrence: Recurrence, start: date, end: date) -> list[date]:
    """Every due day from `first` on that lies in [start, end] (both inclusive)."""
    if end < start or end < first:
        return []
    if recurrence is Recurrence.NONE:
        return [first] if start <= first <= end else []
    begin = max(start, first)
    found: list[date] = []
    if recurrence is Recurrence.MONTHLY:
        index = (begin.year - first.year) * 12 + begin.month - first.month
        while (day := _monthly(first, index)) <= end:
            if day >= begin:
                found.append(day)
            index += 1
        return found
    step = 7 if recurrence is Recurrence.WEEKLY else 14
    # Jump straight to the first step on or after `begin`: `first` may lie years back.
    day = first + timedelta(days=-(-(begin - first).days // step) * step)
    while day <= end:
        found.append(day)
        day += timedelta(days=step)
    return found


def next_occurrence(first: date, recurrence: Recurrence, after: date) -> date | None:
    """The first due day strictly after `after`; None when a one-off has passed."""
    if recurrence is Recurrence.NONE:
        return first if first > after else None
    start = max(first, after + timedelta(days=1))
    horizon = start + timedelta(days=62)  # a monthly step is at most 31 days
    return occurrences(first, recurrence, start, horizon)[0]
