"""Reading a coach's date text, step 1: the words. Folding, relative durations, and rewriting
spoken phrases (`half drie`, `kwart voor 12`, `midi et demi`, `quarter past 3`,
`vrijdagnamiddag`, `lundi en huit`) into the plain tokens the scanner in `when_grammar` knows.

Tokens this module writes (never typed by a person; they start with `_`):
- `_dial{H}m{M}`: a clock time said on the 12-hour dial (`half drie` → `_dial2m30`), H in 1..12;
  the grammar decides morning or afternoon (see `when_grammar.wall_time`).
- `_clock{H}m{M}`: a 24-hour time said in words (`quinze heures`, `midi et demi`).
- `_shift{p|m}{N}`: N minutes after (p) or before (m) the time that follows.
- `_plus{N}`: N days from today (`over twee weken`, `in 3 days`).
- `_nextweek`, `_thisweek`: the week of a named weekday.
- `_ask`: wording with more than one honest reading (`lundi en huit`, `minuit`, `half three`,
  `15 minutes from 1pm`): refused with a question rather than guessed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Literal

from bot.domain.text import fold_accents

__all__ = [
    "DAY_WORDS",
    "MONTHS",
    "WEEKDAYS",
    "DayPart",
    "duration",
    "fold",
    "rewrite",
]

# --- vocabulary (accents stripped, lower case) -------------------------------------------------

WEEKDAYS: dict[str, int] = {}
_WEEKDAY_NAMES = [
    "maandag ma maa lundi lun monday mon",
    "dinsdag di din mardi tuesday tue tues",
    "woensdag wo woe mercredi mer wednesday wed",
    "donderdag do don jeudi jeu thursday thu thur thurs",
    "vrijdag vr vrij vendredi ven friday fri",
    "zaterdag za zat samedi sam saturday sat",
    "zondag zo zon dimanche dim sunday sun",
]
for _index, _names in enumerate(_WEEKDAY_NAMES):
    for _name in _names.split():
        WEEKDAYS[_name] = _index
_FULL_WEEKDAYS = "|".join(
    name for names in _WEEKDAY_NAMES for name in names.split() if len(name) > 4
)

MONTHS: dict[str, int] = {}
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
        MONTHS[_name] = _index

DayPart = Literal["morning", "afternoon", "evening"]

# word -> (days from today or None, part of the day or None)
DAY_WORDS: dict[str, tuple[int | None, DayPart | None]] = {
    "vandaag": (0, None), "today": (0, None), "morgen": (1, None), "tomorrow": (1, None),
    "demain": (1, None), "overmorgen": (2, None), "gisteren": (-1, None),
    "yesterday": (-1, None), "hier": (-1, None),
    "vanochtend": (0, "morning"), "vanmorgen": (0, "morning"), "vanvoormiddag": (0, "morning"),
    "vanmiddag": (0, "afternoon"), "vannamiddag": (0, "afternoon"),
    "vanavond": (0, "evening"), "tonight": (0, "evening"),
    "morgenochtend": (1, "morning"), "morgenvroeg": (1, "morning"),
    "morgenvoormiddag": (1, "morning"), "morgenmiddag": (1, "afternoon"),
    "morgennamiddag": (1, "afternoon"), "morgenavond": (1, "evening"),
    "ochtend": (None, "morning"), "ochtends": (None, "morning"), "morgens": (None, "morning"),
    "voormiddag": (None, "morning"), "voormiddags": (None, "morning"),
    "morning": (None, "morning"), "matin": (None, "morning"), "matinee": (None, "morning"),
    "middag": (None, "afternoon"), "middags": (None, "afternoon"),
    "namiddag": (None, "afternoon"), "namiddags": (None, "afternoon"),
    "afternoon": (None, "afternoon"), "apres-midi": (None, "afternoon"),
    "aprem": (None, "afternoon"),
    "avond": (None, "evening"), "avonds": (None, "evening"), "evening": (None, "evening"),
    "soir": (None, "evening"), "soiree": (None, "evening"),
    # `'s avonds` typed without its apostrophe
    "sochtends": (None, "morning"), "smorgens": (None, "morning"),
    "svoormiddags": (None, "morning"), "smiddags": (None, "afternoon"),
    "snamiddags": (None, "afternoon"), "savonds": (None, "evening"),
}  # fmt: skip

# Numbers as words. `een`/`un`/`une`/`a`/`an` are also articles: only some phrases use them.
_ONE_TO_TWELVE = [
    "een un une one", "twee deux two", "drie trois three", "vier quatre four",
    "vijf cinq five", "zes six", "zeven sept seven", "acht huit eight", "negen neuf nine",
    "tien dix ten", "elf onze eleven", "twaalf douze twelve",
]  # fmt: skip
HOUR_WORDS: dict[str, int] = {}
for _value, _names in enumerate(_ONE_TO_TWELVE, start=1):
    for _name in _names.split():
        HOUR_WORDS[_name] = _value
_ARTICLES = frozenset({"een", "un", "une"})
# Safe as a bare number (`om acht`, `at five`): not an article.
BARE_HOUR_WORDS = {word: value for word, value in HOUR_WORDS.items() if word not in _ARTICLES}

_H24_WORDS: dict[str, int] = {}
for _value, _names in enumerate(
    [
        "dertien treize", "veertien quatorze", "vijftien quinze", "zestien seize",
        "zeventien dix-sept", "achttien dix-huit", "negentien dix-neuf", "twintig vingt",
        "eenentwintig vingt-et-un", "tweeentwintig vingt-deux", "drieentwintig vingt-trois",
    ],
    start=13,
):  # fmt: skip
    for _name in _names.split():
        _H24_WORDS[_name] = _value

# `tegen vieren`, `rond zessen`: around four, around six
_HOUR_PLURALS: dict[str, int] = {
    "enen": 1, "tweeen": 2, "drieen": 3, "vieren": 4, "vijven": 5, "zessen": 6, "zevenen": 7,
    "achten": 8, "negenen": 9, "tienen": 10, "elven": 11, "twaalven": 12,
}  # fmt: skip

_COUNT_WORDS: dict[str, int] = {
    **HOUR_WORDS, "a": 1, "an": 1, "n": 1, "veertien": 14, "quatorze": 14, "dertig": 30,
}  # fmt: skip

_MINUTE_WORDS: dict[str, int] = {
    "vijf": 5, "tien": 10, "kwart": 15, "twintig": 20,
    "five": 5, "ten": 10, "quarter": 15, "twenty": 20, "twenty-five": 25, "twenty five": 25,
    "half": 30,
    "cinq": 5, "dix": 10, "quinze": 15, "vingt": 20, "vingt-cinq": 25, "trente": 30,
    "quarante": 40, "quarante-cinq": 45, "cinquante": 50, "cinquante-cinq": 55,
}  # fmt: skip


def _alternatives(words: Iterable[str]) -> str:
    """A regex alternation, longest first (`vingt-cinq` before `vingt`)."""
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


_NL_HOUR = r"(?:1[0-2]|[1-9]|een|twee|drie|vier|vijf|zes|zeven|acht|negen|tien|elf|twaalf)"
_EN_HOUR = r"(?:1[0-2]|[1-9]|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)"
_FR_HOUR = rf"(?:\d{{1,2}}|{_alternatives(list(BARE_HOUR_WORDS) + list(_H24_WORDS))})"
# Not glued to a date or a longer time (`14:00 voor 3`, `3/12`, `3.30`); a unit may follow.
_BEFORE = r"(?<![\d:./-])"
_AFTER_HOUR = r"(?: ?(?:uur|u|h)\b)?(?![\d:./-])(?! ?[ap]m\b)"

# --- folding and durations ---------------------------------------------------------------------


def fold(text: str) -> str:
    """Lower case, no accents, single spaces: `Après-demain  14H` → `apres-demain 14h`."""
    plain = fold_accents(text).replace("’", "'").replace("`", "'").replace("‘", "'")
    plain = plain.replace("_", " ")  # `_` starts the tokens `rewrite` writes, never typed ones
    return re.sub(r"\s+", " ", plain).strip()


_FIXED_DURATIONS: dict[str, int] = {  # minutes
    "een uur": 60, "1 uur": 60, "een half uur": 30, "een halfuur": 30, "half uur": 30,
    "halfuur": 30, "anderhalf uur": 90, "een kwartier": 15, "kwartier": 15,
    "drie kwartier": 45, "driekwartier": 45,
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
_IN = r"(?:over|binnen|in|dans|d ?'? ?ici)"
_COUNT = rf"\d{{1,3}}|{_alternatives(_COUNT_WORDS)}"
_AMOUNT = (
    rf"(?P<n>\d{{1,3}}(?:[.,]\d{{1,2}})?|{_alternatives(_COUNT_WORDS)}) ?"
    rf"(?:(?P<hours>{_HOUR_UNITS})(?: ?(?P<extra>\d{{1,2}}) ?(?:{_MINUTE_UNITS})?)?"
    rf"|(?P<minutes>{_MINUTE_UNITS}))"
)
_FROM_NOW = r"(?:from now|vanaf nu|a partir de maintenant)"
_DURATION_RE = re.compile(rf"^(?P<pre>{_IN} )?{_AMOUNT}(?P<post> {_FROM_NOW})?$")
_FIXED = _alternatives(_FIXED_DURATIONS)
_FIXED_DURATION_RE = re.compile(rf"^(?:{_IN} (?P<p1>{_FIXED})|(?P<p2>{_FIXED}) {_FROM_NOW})$")


def duration(folded: str) -> timedelta | None:
    """`over 2 uur`, `in 30 minutes`, `dans 1h30`, `20 minutes from now`: the whole text only."""
    fixed = _FIXED_DURATION_RE.match(folded)
    if fixed:
        return timedelta(minutes=_FIXED_DURATIONS[fixed["p1"] or fixed["p2"]])
    match = _DURATION_RE.match(folded)
    if not match or not (match["pre"] or match["post"]):
        return None
    raw = match["n"]
    amount = float(_COUNT_WORDS.get(raw) or raw.replace(",", "."))
    if match["minutes"]:
        return timedelta(minutes=amount)
    return timedelta(hours=amount, minutes=int(match["extra"] or 0))


def _count(raw: str) -> int:
    return _COUNT_WORDS.get(raw) or int(raw)


# --- clock phrases -----------------------------------------------------------------------------


def _dial(hour: int, minute: int) -> str:
    """A 12-hour dial time; `minute` may be negative or ≥ 60 (`tien voor half drie`)."""
    total = (hour % 12) * 60 + minute
    total %= 12 * 60
    dial_hour, dial_minute = divmod(total, 60)
    return f" _dial{dial_hour or 12}m{dial_minute} "


def _hour(raw: str) -> int:
    return HOUR_WORDS.get(raw) or _H24_WORDS.get(raw) or int(raw)


def _minutes(raw: str) -> int | None:
    """A number of minutes before/after the hour: 1..29, or a minute word."""
    if raw in _MINUTE_WORDS:
        return _MINUTE_WORDS[raw]
    value = int(raw) if raw.isdigit() else 0
    return value if 1 <= value <= 29 else None


def _nl_to_half(m: re.Match[str]) -> str:
    """`tien voor half drie` 2:20, `vijf over half vier` 3:35."""
    n = _minutes(m["n"])
    if n is None:
        return m[0]
    sign = -1 if m["dir"] == "voor" else 1
    return _dial(_hour(m["h"]) - 1, 30 + sign * n)


def _nl_half(m: re.Match[str]) -> str:
    return _dial(_hour(m["h"]) - 1, 30)


def _before_after(m: re.Match[str]) -> str:
    """`kwart voor 12`, `vijf over drie`, `ten past 3`, `quarter to five`."""
    n = _minutes(m["n"])
    if n is None:
        return m[0]
    before = m["dir"] in ("voor", "to", "before")
    return _dial(_hour(m["h"]) - (1 if before else 0), 60 - n if before else n)


def _word_hour(m: re.Match[str]) -> str:
    hour = _hour(m["h"])
    return _dial(hour, 0) if hour <= 12 else f" _clock{hour}m0 "


def _french_hour(m: re.Match[str]) -> str:
    """`trois heures et demie`, `quinze heures trente`, `15h moins le quart`, `dix-sept h`."""
    hour = _hour(m["h"])
    tail = m["tail"] or ""
    if not (m["h"] in HOUR_WORDS or m["h"] in _H24_WORDS or tail):
        return m[0]  # `15h`: the scanner reads it
    if hour > 23:
        return m[0]
    if tail.startswith("et "):
        minute = 15 if tail == "et quart" else 30
    elif tail.startswith("moins"):
        less = 15 if "quart" in tail else _MINUTE_WORDS.get(m["less"] or "", 0)
        if not less and m["less"] and m["less"].isdigit():
            less = int(m["less"])
        if not 1 <= less <= 30:
            return m[0]
        hour, minute = hour - 1, 60 - less
    elif tail:
        minute = _MINUTE_WORDS[m["plus"]]
    else:
        minute = 0
    if 1 <= hour <= 12 and not (m["h"].isdigit() and m["h"].startswith("0")):
        return _dial(hour, minute)
    return f" _clock{hour % 24}m{minute} "


def _noon(m: re.Match[str]) -> str:
    tail = m["tail"] or ""
    minute = {"et demi": 30, "et demie": 30, "et quart": 15}.get(tail)
    if minute is not None:
        return f" _clock12m{minute} "
    less = 15 if "quart" in tail else _MINUTE_WORDS[tail.split()[-1]]
    return f" _clock11m{60 - less} "


def _shift(m: re.Match[str]) -> str:
    """`15 minutes after 1pm`, `10 minuten voor 14u`: exact, applied to the time that follows."""
    amount = _count(m["n"])
    if m["unit"] not in ("minutes", "minute", "minuten", "minuut", "mins", "min"):
        amount *= 60
    sign = "m" if m["dir"] in ("before", "voor", "avant") else "p"
    return f" _shift{sign}{amount} "


_MINUTE_WORD = r"(?P<n>vijf|tien|kwart|twintig|\d{1,2})"
_MINUTE_UNIT_WORD = r"(?: minuten| minuut| min| minutes)?"
_EN_MINUTE = r"(?P<n>five|ten|quarter|twenty-five|twenty five|twenty|half|\d{1,2}(?= minutes?))"
_FR_TAIL = (
    r"(?P<tail>et quart|et demie?|moins le quart|moins quart"
    r"|moins (?P<less>cinq|dix|vingt-cinq|vingt|\d{1,2})"
    r"|(?P<plus>cinquante-cinq|cinquante|quarante-cinq|quarante|trente|vingt-cinq|vingt|quinze"
    r"|dix|cinq))"
)

_Rule = tuple[str, str | Callable[[re.Match[str]], str]]

# Applied in order, each to the result of the previous one.
_RULES: list[_Rule] = [
    # punctuation and spelling
    (r"\b([ap])\.? ?m\.?(?=\s|$)", r"\1m"),  # p.m. → pm
    (r"[,;!?()]", " "),
    (r"(?<!\d)\.|\.(?!\d)", " "),  # keep 14.00 and 27.11.2026, drop `nov.`
    (r"(?:^|\s)'s ?", " "),  # 's avonds → avonds
    (r"\b(\d{1,2})(?:e|de|ste|er)?[/-](\d{1,2}) '(\d{2})\b", r"\1/\2/\3"),  # 30/11 '26
    (r"\b(\d{4}-\d{1,2}-\d{1,2})t(\d{1,2}:\d{2})\b", r"\1 \2"),  # 2026-11-27T14:00
    (r"\b(\d{1,2}) ?([a-z]{3,9}) '(\d{2})\b", r"\1 \2 20\3"),  # 30 nov '26
    # wording we will not guess at
    (r"\b(?:minuit|middernacht|midnight)\b", "_ask"),
    (r"\b(?:van)?nacht\b|\bnachts\b|\bsnachts\b|\bnight\b|\bnuit\b", "_ask"),
    (r"\ben (?:huit|quinze|8|15)\b", "_ask"),  # `lundi en huit`: this Monday+7, or next?
    (r"\b(?:huit|quinze|acht|vijftien|8|15) (?:jours|dagen)\b", "_ask"),  # a week, or 8 days?
    (r"\bhalf (?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)\b", "_ask"),
    (
        rf"\b(?:{_COUNT}) ?(?:{_MINUTE_UNITS}|{_HOUR_UNITS}) (?:from|vanaf|a partir de|des)\b",
        "_ask",
    ),  # `15 minutes from 1pm`: 13:15, or 13:00 for 15 minutes?
    # Day offsets before the clock phrases: `over twee weken` is not `twee` o'clock.
    (
        rf"\b{_IN} (?P<n>{_COUNT}) (?P<unit>{_alternatives(_DAY_UNITS)})\b",
        lambda m: f" _plus{_count(m['n']) * _DAY_UNITS[m['unit']]} ",
    ),
    (r"\bd ?'? ?ici\b", " "),  # `d'ici vendredi`: by Friday
    # phrases of several words
    (r"\bthe day after tomorrow\b|\bday after tomorrow\b|\bapres[- ]demain\b", "overmorgen"),
    (r"\baujourd ?'? ?hui\b", "vandaag"),
    (r"\bce soir\b|\bthis evening\b", "vanavond"),
    (r"\bcet apres[- ]midi\b|\bthis afternoon\b", "vanmiddag"),
    (r"\bce matin\b|\bthis morning\b", "vanochtend"),
    (r"\bapres midi\b", "apres-midi"),
    (r"\bin the (morning|afternoon|evening)\b", r"\1"),
    (r"\bin de (ochtend|voormiddag|middag|namiddag|avond)\b", r"\1"),
    (r"\bin de morgen\b", "ochtend"),
    (r"\ben (matinee|soiree)\b", r"\1"),
    (r"\bce midi\b", "vandaag midi"),
    (r"\bdu (matin|soir)\b|\bde l ?'? ?(apres-midi|aprem)\b|\bau (soir)\b", r"\1\2\3"),
    (r"\b(?:la )?semaine prochaine\b|\b(?:volgende|komende|next) week\b", "_nextweek"),
    (r"\bcette semaine\b|\b(?:deze|this) week\b", "_thisweek"),
    (
        rf"\b({_FULL_WEEKDAYS}|overmorgen)(ochtend|morgen|voormiddag|middag|namiddag|avond)\b",
        lambda m: f" {m[1]} {'ochtend' if m[2] == 'morgen' else m[2]} ",
    ),
    (
        r"\bten laatste\b|\bop (?:zijn|z'n) laatst\b|\bat the latest\b|\bno later than\b"
        r"|\bau plus tard\b",
        " ",
    ),
    (r"\b12 (?:noon|midday)\b", "noon"),
    # clock phrases
    (rf"{_BEFORE}\been uur of (?P<h>{_NL_HOUR}){_AFTER_HOUR}", _word_hour),  # around three
    (
        rf"{_BEFORE}(?<!from )(?<!between )\b{_EN_MINUTE}(?: minutes?)? "
        rf"(?P<dir>past|after|to|before) "
        rf"(?P<h>{_EN_HOUR}){_AFTER_HOUR}",
        _before_after,
    ),
    (
        rf"{_BEFORE}\b{_MINUTE_WORD}{_MINUTE_UNIT_WORD} (?P<dir>over|na|voor) half "
        rf"(?P<h>{_NL_HOUR}){_AFTER_HOUR}",
        _nl_to_half,
    ),
    (rf"\bhalf (?P<h>{_NL_HOUR}){_AFTER_HOUR}", _nl_half),
    (
        rf"{_BEFORE}\b{_MINUTE_WORD}{_MINUTE_UNIT_WORD} (?P<dir>over|na|voor) "
        rf"(?P<h>{_NL_HOUR}){_AFTER_HOUR}",
        _before_after,
    ),
    (
        r"\bmidi (?P<tail>et demie?|et quart|moins le quart|moins quart|moins cinq|moins dix"
        r"|moins vingt)\b",
        _noon,
    ),
    (rf"{_BEFORE}\b(?P<h>{_FR_HOUR}) ?(?:heures?|h)(?: {_FR_TAIL})?\b(?![:.]?\d)", _french_hour),
    (rf"\b(?:a|vers) (?P<h>une) heure(?: {_FR_TAIL})?\b", lambda m: " a" + _french_hour(m)),
    (r"\b(?:om|tegen|rond|omstreeks) (?P<h>een) uur\b", lambda m: " om" + _word_hour(m)),
    (
        rf"\b(?:om|tegen|rond|omstreeks) (?P<h>{_alternatives(_HOUR_PLURALS)})\b",
        lambda m: " om" + _dial(_HOUR_PLURALS[m["h"]], 0),
    ),  # `tegen vieren`: around four
    (rf"\b(?P<h>{_alternatives(set(BARE_HOUR_WORDS) | set(_H24_WORDS))}) uur\b", _word_hour),
    (rf"\b(?P<h>{_EN_HOUR}) ?o'?clock\b", _word_hour),
    (
        rf"{_BEFORE}\b(?P<n>{_COUNT}) (?P<unit>minutes|minute|minuten|minuut|mins|min|hours|hour"
        r"|uur|heures|heure) (?P<dir>after|na|apres|later than|before|voor|avant)\b",
        _shift,
    ),
]
_COMPILED = [(re.compile(pattern), replacement) for pattern, replacement in _RULES]


# `half 3` is 2:30 in Dutch and 3:30 in British English: in an English sentence, ask.
_HALF_DIGIT = re.compile(r"\bhalf (?=\d)")
_ENGLISH = re.compile(
    r"\b(?:at|on|the|next|this|today|tomorrow|tonight|morning|afternoon|evening|[ap]m"
    r"|monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b|\d[ap]m\b"
)


# `12/1` is 12 January here and 1 December in American English: in an English sentence, ask
# unless the day cannot be a month (`26/11`) or day and month are the same (`5/5`).
_SWAPPABLE_DATE = re.compile(r"(?<![\d/.-])(\d{1,2})[/.-](\d{1,2})(?:[/.-]\d{2,4})?(?![\d:/.-])")


def _swappable(match: re.Match[str]) -> str:
    day, month = int(match[1]), int(match[2])
    return " _ask " if day <= 12 and month <= 12 and day != month else match[0]


def rewrite(folded: str) -> str:
    """Multi-word phrases become the single tokens the scanner knows."""
    text = folded
    if _ENGLISH.search(text):
        text = _HALF_DIGIT.sub("_ask ", text)
        text = _SWAPPABLE_DATE.sub(_swappable, text)
    for pattern, replacement in _COMPILED:
        text = pattern.sub(replacement, text)
    return re.sub(r"\s+", " ", text).strip()
