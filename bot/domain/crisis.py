"""Crisis services: whom a family can call when the coach cannot be reached.

Services are configuration: one TOML file per region in bot/crisis_services/ (or a file named
in the settings), plus any local service a family's agreement adds (a *huisartsenpost*), built
with CrisisService.create. A wrong crisis number is the worst bug this product can have, so
every entry must say where its number and hours were checked (`source`) and when (`checked`);
the loader refuses an entry without them and names it.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

from bot.domain.availability import (
    DEFAULT_TIMEZONES,
    MIDNIGHT,
    Agreement,
    Window,
    WindowSyntaxError,
    current_window_end,
    is_open,
    parse_windows,
)
from bot.domain.urgency import Topic

SERVICES_DIR = Path(__file__).resolve().parent.parent / "crisis_services"
EMERGENCY_NUMBER = "112"
AGREEMENT_SOURCE = "agreement"
ALWAYS = "24/7"

# What a service is for; the caller renders these keys in the family's language.
PURPOSES = frozenset(
    {
        "emergency",  # 112: immediate danger
        "police",  # Belgium's 101: police emergencies (112 is ambulance and fire there)
        "suicide",
        "domestic_violence",  # violence, abuse and child abuse at home
        "children",  # children's and youth lines
        "listening",  # a listening ear, any worry
        "medical",  # e.g. a local huisartsenpost
        "mental_health",  # e.g. a local GGZ / youth-care crisis line
        "missing_child",  # a child missing or taken
        "poison",  # a poison centre: an overdose, something swallowed
    }
)
# What an urgent message was about → the services that fit it. A message that only asks for
# help (Topic.GENERAL) gets every line open now: nothing says which one it needs.
TOPIC_PURPOSES: Mapping[Topic, frozenset[str]] = MappingProxyType({
    Topic.VIOLENCE: frozenset({"domestic_violence", "police"}),
    Topic.SUICIDE: frozenset({"suicide", "mental_health"}),
    Topic.CHILD: frozenset({"children", "domestic_violence", "missing_child", "police"}),
    Topic.MEDICAL: frozenset({"medical", "poison"}),
    Topic.GENERAL: PURPOSES,
})
REQUIRED_LANGUAGES = ("nl", "en")
_PHONE = re.compile(r"\+?\d[\d \-]*\d")
_KEYS = frozenset(
    {"id", "for", "name", "description", "phone", "hours", "timezone", "closed_on_holidays",
     "languages", "core", "source", "checked"}
)
_REQUIRED_KEYS = ("id", "for", "name", "description", "phone", "hours", "source", "checked")


class CrisisConfigError(ValueError):
    """A crisis-services entry or file that cannot be trusted; names the entry."""

    def __init__(self, entry: str, problem: str) -> None:
        super().__init__(f"crisis service {entry}: {problem}")
        self.entry = entry
        self.problem = problem


def _always_windows() -> tuple[Window, ...]:
    return tuple(Window(day, MIDNIGHT, MIDNIGHT) for day in range(7))


@dataclass(frozen=True)
class CrisisService:
    id: str
    name: str  # a proper name, never translated: "Veilig Thuis", "Télé-Accueil"
    # (language, what it is for, in that language); at least nl and en, except for a
    # family's own service, whose name says it all.
    descriptions: tuple[tuple[str, str], ...]
    phone: str  # as shown: "0800-2000"
    hours: Agreement  # when it answers; the policy field is unused here
    purpose: str  # one of PURPOSES
    source: str  # public page where number and hours were checked
    checked: date  # when they were checked there
    # The readers it speaks to (Belgium: "nl" for the Flemish lines, "fr" for the French-
    # speaking ones); empty: everyone.
    languages: tuple[str, ...] = ()
    # Listed in every answer, whatever an urgent message was about (113, 1813, 106, …).
    core: bool = False

    def __post_init__(self) -> None:
        if not self.id.strip():
            raise ValueError("id is empty")
        if not self.name.strip():
            raise ValueError("name is empty")
        languages = {language for language, _ in self.descriptions}
        missing = [language for language in REQUIRED_LANGUAGES if language not in languages]
        if missing and self.source != AGREEMENT_SOURCE:
            raise ValueError(f"description lacks language(s) {', '.join(missing)}")
        if any(not text.strip() for _, text in self.descriptions):
            raise ValueError("a description is empty")
        if not _PHONE.fullmatch(self.phone) or not 3 <= len(self.dial.lstrip("+")) <= 15:
            raise ValueError(f"phone {self.phone!r} is not a phone number")
        if self.purpose not in PURPOSES:
            raise ValueError(f"'for' must be one of {sorted(PURPOSES)}, not {self.purpose!r}")
        # A family's own service is vouched for by its coach in the agreement (AGREEMENT_SOURCE);
        # every shipped one names the public page it was checked on.
        if self.source != AGREEMENT_SOURCE and not re.fullmatch(r"https?://[^\s/]+\.[^\s]+",
                                                                 self.source):
            raise ValueError(f"source {self.source!r} is not a public URL")
        if not self.hours.windows:
            raise ValueError("hours has no windows")

    @classmethod
    def create(
        cls,
        *,
        id: str,
        name: str,
        descriptions: Mapping[str, str],
        phone: str,
        hours: str,
        purpose: str,
        source: str,
        checked: date,
        timezone: str,
        country: str,
        closed_on_holidays: bool = False,
        languages: Iterable[str] = (),
        core: bool = False,
    ) -> CrisisService:
        """Build a service from its configuration values; `hours` is "24/7" or window text."""
        if hours.strip() == ALWAYS:
            agreement = Agreement(_always_windows(), timezone, country, open_on_holidays=True)
        else:
            agreement = Agreement(
                parse_windows(hours), timezone, country, open_on_holidays=not closed_on_holidays
            )
        return cls(
            id=id,
            name=name,
            descriptions=tuple(sorted(descriptions.items())),
            phone=phone,
            hours=agreement,
            purpose=purpose,
            source=source,
            checked=checked,
            languages=tuple(languages),
            core=core,
        )

    def description(self, language: str | None) -> str | None:
        """What it is for, in `language`, else English, else Dutch; None for a family's own."""
        texts = dict(self.descriptions)
        for candidate in (language, "en", "nl"):
            if candidate in texts:
                return texts[candidate]
        return None

    @property
    def label(self) -> str:
        """Name and number, the number once: "Veilig Thuis 0800-2000", but "1712" or
        "113 Zelfmoordpreventie" when the name already carries it."""
        if self.dial.lstrip("+") in re.sub(r"\D", "", self.name):
            return self.name
        return f"{self.name} {self.phone}"

    @property
    def dial(self) -> str:
        """The number to dial (for tel: links): digits, with a leading + if any."""
        digits = re.sub(r"\D", "", self.phone)
        return f"+{digits}" if self.phone.startswith("+") else digits

    @property
    def is_emergency(self) -> bool:
        return self.dial == EMERGENCY_NUMBER

    @property
    def always_open(self) -> bool:
        return self.hours.open_on_holidays and self.hours.windows == _always_windows()

    def is_open(self, at: datetime) -> bool:
        return is_open(self.hours, at)

    def open_until(self, at: datetime) -> datetime | None:
        """When it closes, if it is open at `at` and not around the clock."""
        if self.always_open or not self.is_open(at):
            return None
        return current_window_end(self.hours, at)


def _entry_name(raw: Mapping[str, Any], index: int) -> str:
    entry_id = raw.get("id")
    return repr(entry_id) if isinstance(entry_id, str) and entry_id else f"#{index + 1}"


def _checked_date(value: object) -> date:
    if isinstance(value, datetime):
        raise ValueError("checked must be a date, not a date and time")
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        return date.fromisoformat(value)
    raise ValueError("checked must be an ISO date such as 2026-11-25")


def _service_from_toml(
    raw: Mapping[str, Any], index: int, timezone: str, country: str
) -> CrisisService:
    entry = _entry_name(raw, index)
    unknown = sorted(set(raw) - _KEYS)
    if unknown:
        raise CrisisConfigError(entry, f"unknown key(s) {', '.join(unknown)}")
    for key in _REQUIRED_KEYS:
        value = raw.get(key)
        if value is None or (isinstance(value, str | dict) and not value):
            raise CrisisConfigError(entry, f"missing {key!r}")
    descriptions = raw["description"]
    if not isinstance(descriptions, dict) or not all(
        isinstance(key, str) and isinstance(value, str) for key, value in descriptions.items()
    ):
        raise CrisisConfigError(entry, "'description' must be a table of language = text")
    for key in ("id", "for", "name", "phone", "hours", "source"):
        if not isinstance(raw[key], str):
            raise CrisisConfigError(entry, f"{key!r} must be text")
    closed = raw.get("closed_on_holidays", False)
    core = raw.get("core", False)
    if not isinstance(closed, bool) or not isinstance(core, bool):
        raise CrisisConfigError(entry, "'closed_on_holidays' and 'core' must be true or false")
    languages = raw.get("languages", [])
    if not isinstance(languages, list) or not all(isinstance(x, str) for x in languages):
        raise CrisisConfigError(entry, "'languages' must be a list of language codes")
    try:
        return CrisisService.create(
            id=raw["id"],
            name=raw["name"],
            descriptions=descriptions,
            phone=raw["phone"],
            hours=raw["hours"],
            purpose=raw["for"],
            source=raw["source"],
            checked=_checked_date(raw["checked"]),
            timezone=str(raw.get("timezone", timezone)),
            country=country,
            closed_on_holidays=closed,
            languages=languages,
            core=core,
        )
    except WindowSyntaxError as exc:
        raise CrisisConfigError(entry, f"hours: {exc.reason_code} {exc.fragment!r}") from exc
    except ValueError as exc:
        raise CrisisConfigError(entry, str(exc)) from exc


def load_services(region: str, path: Path | None = None) -> tuple[CrisisService, ...]:
    """The crisis services of `region` ("NL", "BE"), from `path` or the shipped file.

    Raises CrisisConfigError when any entry is incomplete or wrong (naming it), when ids repeat,
    or when the file has no 112 entry.
    """
    region = region.upper()
    if region not in DEFAULT_TIMEZONES:
        raise CrisisConfigError(repr(region), "unknown region")
    path = path or SERVICES_DIR / f"{region.lower()}.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CrisisConfigError(f"file {path}", str(exc)) from exc
    file_region = data.get("region", region)
    if file_region != region:
        raise CrisisConfigError(f"file {path}", f"is for region {file_region}, not {region}")
    timezone = data.get("timezone", DEFAULT_TIMEZONES[region])
    raw_services = data.get("service")
    if not isinstance(raw_services, list) or not raw_services:
        raise CrisisConfigError(f"file {path}", "has no [[service]] entries")
    services: list[CrisisService] = []
    for index, raw in enumerate(raw_services):
        if not isinstance(raw, dict):
            raise CrisisConfigError(f"#{index + 1}", "is not a table")
        services.append(_service_from_toml(raw, index, str(timezone), region))
    ids = [service.id for service in services]
    duplicates = sorted({entry for entry in ids if ids.count(entry) > 1})
    if duplicates:
        raise CrisisConfigError(repr(duplicates[0]), "id used more than once")
    if not any(service.is_emergency for service in services):
        raise CrisisConfigError(f"file {path}", "has no 112 entry")
    return tuple(services)


def services_open_at(
    services: Iterable[CrisisService],
    at: datetime,
    extra: Iterable[CrisisService] = (),
) -> tuple[CrisisService, ...]:
    """The services answering at `at`: 112 first, then the family's own, then the region's.

    `extra` are the services the family's agreement adds; an extra with the same id as a
    regional service replaces it. Order within each group is kept.
    """
    extra = tuple(extra)
    extra_ids = {service.id for service in extra}
    ordered = [*extra, *(service for service in services if service.id not in extra_ids)]
    open_now = [service for service in ordered if service.is_open(at)]
    # sorted() is stable: only 112 moves to the front.
    return tuple(sorted(open_now, key=lambda service: not service.is_emergency))


# The readers with no line of their own in their language get the lines for this language
# (Belgium: an Arabic- or Turkish-reading family gets the Flemish lines beside 112 and 101).
MAIN_LANGUAGE = "nl"


def for_reader(services: Iterable[CrisisService], language: str | None
               ) -> tuple[CrisisService, ...]:
    """The services meant for a reader of `language`: the ones for everyone, and the ones in
    the reader's language, else in MAIN_LANGUAGE (Belgium: French- or Dutch-speaking lines)."""
    services = tuple(services)
    served = {code for service in services for code in service.languages}
    audience = language if language in served else MAIN_LANGUAGE
    return tuple(s for s in services if not s.languages or audience in s.languages)


def _rank(service: CrisisService) -> int:
    if service.is_emergency:
        return 0
    return 1 if service.purpose == "police" else 2


def choose(
    services: Iterable[CrisisService],
    at: datetime,
    *,
    language: str | None,
    topics: Iterable[Topic] = (),
    extra: Iterable[CrisisService] = (),
) -> tuple[CrisisService, ...]:
    """The lines a reader of `language` is given at `at`, in the order to show them.

    112 first, then the police line (Belgium's 101), then the services that fit what an urgent
    message was about (`topics`; none, or only Topic.GENERAL: every line), then the `core` lines
    every answer keeps. Only services open at `at`; the family's own (`extra`) come before the
    region's of the same kind. Order within each group is the file's.
    """
    wanted = {topic for topic in topics if topic is not Topic.GENERAL}
    purposes = (frozenset().union(*(TOPIC_PURPOSES[topic] for topic in wanted))
                if wanted else PURPOSES)
    open_now = services_open_at(for_reader(services, language), at, extra)
    fitting = [s for s in open_now if s.purpose in purposes or _rank(s) < 2]
    kept = [s for s in open_now if s.core and s not in fitting]
    return tuple(sorted(fitting, key=_rank)) + tuple(kept)
