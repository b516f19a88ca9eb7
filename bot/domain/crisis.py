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
from typing import Any

from bot.domain.availability import (
    DEFAULT_TIMEZONES,
    MIDNIGHT,
    Agreement,
    Window,
    WindowSyntaxError,
    is_open,
    parse_windows,
)

SERVICES_DIR = Path(__file__).resolve().parent.parent / "crisis_services"
EMERGENCY_NUMBER = "112"
AGREEMENT_SOURCE = "agreement"
ALWAYS = "24/7"

# What a service is for; the caller renders these keys in the family's language.
PURPOSES = frozenset(
    {
        "emergency",  # 112: immediate danger
        "suicide",
        "domestic_violence",  # violence, abuse and child abuse at home
        "children",  # children's and youth lines
        "listening",  # a listening ear, any worry
        "medical",  # e.g. a local huisartsenpost
        "mental_health",  # e.g. a local GGZ / youth-care crisis line
    }
)
REQUIRED_LANGUAGES = ("nl", "en")
_PHONE = re.compile(r"\+?\d[\d \-]*\d")
_KEYS = frozenset(
    {"id", "for", "name", "phone", "hours", "timezone", "closed_on_holidays", "source", "checked"}
)
_REQUIRED_KEYS = ("id", "for", "name", "phone", "hours", "source", "checked")


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
    names: tuple[tuple[str, str], ...]  # (language, name); at least nl and en
    phone: str  # as shown: "0800-0113"
    hours: Agreement  # when it answers; the policy field is unused here
    purpose: str  # one of PURPOSES
    source: str  # public page where number and hours were checked
    checked: date  # when they were checked there

    def __post_init__(self) -> None:
        if not self.id.strip():
            raise ValueError("id is empty")
        languages = {language for language, _ in self.names}
        missing = [language for language in REQUIRED_LANGUAGES if language not in languages]
        if missing:
            raise ValueError(f"name lacks language(s) {', '.join(missing)}")
        if any(not name.strip() for _, name in self.names):
            raise ValueError("a name is empty")
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
        names: Mapping[str, str],
        phone: str,
        hours: str,
        purpose: str,
        source: str,
        checked: date,
        timezone: str,
        country: str,
        closed_on_holidays: bool = False,
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
            names=tuple(sorted(names.items())),
            phone=phone,
            hours=agreement,
            purpose=purpose,
            source=source,
            checked=checked,
        )

    def name(self, language: str | None) -> str:
        """The name in `language`, else English, else Dutch."""
        names = dict(self.names)
        for candidate in (language, "en", "nl"):
            if candidate in names:
                return names[candidate]
        return self.names[0][1]

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
    names = raw["name"]
    if not isinstance(names, dict) or not all(
        isinstance(key, str) and isinstance(value, str) for key, value in names.items()
    ):
        raise CrisisConfigError(entry, "'name' must be a table of language = name")
    for key in ("id", "for", "phone", "hours", "source"):
        if not isinstance(raw[key], str):
            raise CrisisConfigError(entry, f"{key!r} must be text")
    closed = raw.get("closed_on_holidays", False)
    if not isinstance(closed, bool):
        raise CrisisConfigError(entry, "'closed_on_holidays' must be true or false")
    try:
        return CrisisService.create(
            id=raw["id"],
            names=names,
            phone=raw["phone"],
            hours=raw["hours"],
            purpose=raw["for"],
            source=raw["source"],
            checked=_checked_date(raw["checked"]),
            timezone=str(raw.get("timezone", timezone)),
            country=country,
            closed_on_holidays=closed,
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
