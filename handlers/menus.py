"""The command surface (PRODUCT.md §2.8): Dutch names with English aliases, menus per role."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.i18n import N_, Translator
from bot.outbox import Outgoing
from storage.models import Staff


@dataclass(frozen=True)
class Command:
    dutch: str
    english: str
    roles: frozenset[str]
    description: str  # Dutch source text, translated for the menu


def _c(dutch: str, english: str, roles: str, description: str) -> Command:
    return Command(dutch, english, frozenset(roles.split()), description)


COMMANDS: tuple[Command, ...] = (
    _c("bereikbaar", "availability", "member", N_("Wanneer is mijn coach bereikbaar?")),
    _c("afspraken", "appointments", "member", N_("Mijn afspraken")),
    _c("hulp", "help", "member stranger coach coordinator", N_("Hulp en wie je nu kunt bellen")),
    _c("pauze", "pause", "member coach", N_("Even geen herinneringen")),
    _c("taal", "language", "member coach coordinator", N_("Taal kiezen")),
    _c("mijngegevens", "mydata", "member", N_("Wat de bot over mij bewaart")),
    _c("stoppen", "leave", "member", N_("Stoppen en mijn gegevens wissen")),
    _c("gezinnen", "families", "coach", N_("Mijn gezinnen")),
    _c("nieuwgezin", "newfamily", "coach", N_("Nieuw gezin aanmaken")),
    _c("uitnodiging", "invite", "coach", N_("Uitnodiging voor een gezinslid")),
    _c("schrijf", "write", "coach", N_("Bericht aan een gezin")),
    _c("duo", "duo", "coach", N_("Tweede coach bij een gezin")),
    _c("afspraak", "appointment", "coach", N_("Afspraak maken")),
    _c("actie", "agreement", "coach", N_("Actiepunt maken")),
    _c("bereikbaarheid", "hours", "coach", N_("Bereikbaarheid bekijken of instellen")),
    _c("afwezig", "away", "coach", N_("Afwezigheid en vervanger")),
    _c("crisisdienst", "crisisline", "coach", N_("Eigen crisisdienst van een gezin")),
    _c("contact", "contact", "coach", N_("Afgesproken contact")),
    _c("afstemgesprek", "review", "coach", N_("Afstemgesprek plannen")),
    _c("agenda", "agenda", "coach", N_("Agenda van vandaag")),
    _c("coordinator", "askcoordinator", "coach", N_("Hulp van de coördinator vragen")),
    _c("coachuitnodigen", "invitecoach", "coordinator", N_("Coach uitnodigen")),
    _c("overzicht", "overview", "coordinator", N_("Overzicht per coach")),
    _c("verplaats", "move", "coordinator", N_("Gezin naar andere coach")),
    _c("coachstop", "removecoach", "coordinator", N_("Coach stopt")),
    _c("dienstuitnodigen", "inviteoncall", "coordinator", N_("Crisisdienst koppelen")),
    _c("spoedmelding", "urgentalerts", "coordinator",
       N_("Melding bij spoedberichten buiten de tijden")),
)

# Commands that already work; the menu never offers one that does not.
AVAILABLE: set[str] = set()


def names_for(dutch: str) -> list[str]:
    for command in COMMANDS:
        if command.dutch == dutch:
            return [command.dutch] if command.english == command.dutch else [
                command.dutch, command.english]
    raise KeyError(dutch)


def menu(tr: Translator, roles: set[str]) -> list[dict[str, str]]:
    seen: set[str] = set()
    items = []
    for command in COMMANDS:
        if command.dutch not in AVAILABLE or not (command.roles & roles):
            continue
        name = command.dutch if tr.language == "nl" else command.english
        if name in seen:
            continue
        seen.add(name)
        items.append({"command": name, "description": tr.gettext(command.description)[:256]})
    return items


def _set(out: Outgoing, chat_id: int, tr: Translator, roles: set[str]) -> None:
    params: dict[str, Any] = {"commands": menu(tr, roles),
                              "scope": {"type": "chat", "chat_id": chat_id}}
    out.call(chat_id, "setMyCommands", params, "menu")


def set_for_member(out: Outgoing, chat_id: int, tr: Translator) -> None:
    _set(out, chat_id, tr, {"member"})


def set_for_staff(out: Outgoing, chat_id: int, tr: Translator, staff: Staff) -> None:
    roles = set()
    if staff.is_coach:
        roles.add("coach")
    if staff.is_coordinator:
        roles.add("coordinator")
    _set(out, chat_id, tr, roles)


def clear_for(out: Outgoing, chat_id: int, purpose: str = "menu") -> None:
    out.call(chat_id, "deleteMyCommands", {"scope": {"type": "chat", "chat_id": chat_id}},
             purpose)
