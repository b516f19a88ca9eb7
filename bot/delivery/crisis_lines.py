"""Crisis numbers as a family reads them: 112 first, then only the services open now, each
described in the reader's language (bot/domain/crisis.py chooses them)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import cache
from pathlib import Path

from bot.domain.availability import WindowSyntaxError
from bot.domain.crisis import AGREEMENT_SOURCE, CrisisService, choose, load_services
from bot.domain.urgency import Topic
from bot.i18n import Translator
from storage.db import Session
from storage.models import Family, FamilyService
from storage.repos import families

_custom: tuple[str, Path] | None = None


def configure(region: str, path: Path | None) -> None:
    """A crisis-services file from the settings replaces the shipped one for the bot's region.
    Loads it at once, so a broken file stops start-up (CrisisConfigError names the entry)."""
    global _custom
    _custom = (region, path) if path is not None else None
    book.cache_clear()
    book(region)


@cache
def book(region: str) -> tuple[CrisisService, ...]:
    if _custom is not None and _custom[0] == region:
        return load_services(region, _custom[1])
    return load_services(region)


def service_line(tr: Translator, service: CrisisService, now: datetime) -> str:
    """'☎️ Veilig Thuis 0800-2000 — geweld thuis …, dag en nacht' in the reader's language."""
    line = f"☎️ {service.label}"
    description = service.description(tr.language)
    if description:
        line += f" — {description}"
    until = service.open_until(now)
    if service.always_open and "24/7" not in (description or ""):  # 113 says it itself
        line += " (" + tr.gettext("dag en nacht") + ")"
    elif until is not None:
        line += " (" + tr.gettext("open tot {time}").format(time=tr.time(until)) + ")"
    return line


def lines(tr: Translator, region: str, now: datetime,
          extra: Iterable[CrisisService] = (), topics: Iterable[Topic] = ()) -> str:
    """'Bij direct gevaar: bel 112.', then one line per service that answers now and fits
    the reader (language) and, for an urgent message, what it was about (`topics`)."""
    services = choose(book(region), now, language=tr.language, topics=topics, extra=extra)
    out = [tr.gettext("Bij direct gevaar: bel 112.")]
    others = [s for s in services if not s.is_emergency]
    if others:
        out.append(tr.gettext("Nu bereikbaar:"))
        out += [service_line(tr, service, now) for service in others]
    return "\n".join(out)


def as_service(row: FamilyService, family: Family) -> CrisisService:
    """A family's own service as a crisis service; ValueError or WindowSyntaxError when its
    number or hours cannot be read. Its coach vouches for it in the agreement."""
    return CrisisService.create(
        id=f"family-{row.id}", name=row.name, descriptions={}, phone=row.phone,
        hours=row.hours, purpose="medical", source=AGREEMENT_SOURCE,
        checked=row.created_at.date(), timezone=family.timezone, country=family.region)


async def family_services(session: Session, family: Family) -> tuple[CrisisService, ...]:
    """The services a family's agreement adds (shown only while open)."""
    found = []
    for row in await families.services_of(session, family.id):
        try:
            found.append(as_service(row, family))
        except (ValueError, WindowSyntaxError):
            continue  # validated on input; a bad row never hides the regional services
    return tuple(found)
