"""Who has which role, and the menu (setMyCommands) each person sees for their roles.

The commands themselves are declared in handlers/registry.py. The registry names the handlers
that set a menu (joining, leaving, a coach who stops), so this module cannot import it: the
router hands the registry's commands over once, as it registers them (`install`). Until then
every menu is empty, so a menu never offers a command that does not work.
"""

from __future__ import annotations

from collections.abc import Sequence, Set
from typing import Any, Literal, Protocol

from bot.i18n import Translator
from bot.outbox import Outgoing
from handlers.common import Who
from storage.models import Staff

Role = Literal["member", "coach", "coordinator", "stranger"]


def staff_roles(staff: Staff) -> frozenset[Role]:
    roles: set[Role] = set()
    if staff.is_coach:
        roles.add("coach")
    if staff.is_coordinator:
        roles.add("coordinator")
    return frozenset(roles)


def roles_of(who: Who) -> frozenset[Role]:
    """The one roles table: a member, a stranger, or staff with the roles they hold (none for
    the on-call team alone)."""
    if who.is_member:
        return frozenset({"member"})
    if who.staff is not None:
        return staff_roles(who.staff)
    return frozenset({"stranger"})


class MenuCommand(Protocol):
    """What a menu needs of a command (handlers/registry.py Command)."""

    @property
    def roles(self) -> frozenset[Role]: ...

    @property
    def menu(self) -> str: ...

    def name_in(self, tr: Translator) -> str: ...


_INSTALLED: list[MenuCommand] = []


def install(commands: Sequence[MenuCommand]) -> None:
    _INSTALLED[:] = commands


def menu(tr: Translator, roles: Set[Role]) -> list[dict[str, str]]:
    seen: set[str] = set()
    items = []
    for command in _INSTALLED:
        name = command.name_in(tr)
        if not command.roles & roles or name in seen:
            continue
        seen.add(name)
        items.append({"command": name, "description": tr.gettext(command.menu)[:256]})
    return items


def _set(out: Outgoing, chat_id: int, tr: Translator, roles: Set[Role]) -> None:
    params: dict[str, Any] = {"commands": menu(tr, roles),
                              "scope": {"type": "chat", "chat_id": chat_id}}
    out.call(chat_id, "setMyCommands", params, "menu")


def set_for_member(out: Outgoing, chat_id: int, tr: Translator) -> None:
    _set(out, chat_id, tr, frozenset({"member"}))


def set_for_staff(out: Outgoing, chat_id: int, tr: Translator, staff: Staff) -> None:
    _set(out, chat_id, tr, staff_roles(staff))


def clear_for(out: Outgoing, chat_id: int, purpose: str = "menu") -> None:
    out.call(chat_id, "deleteMyCommands", {"scope": {"type": "chat", "chat_id": chat_id}},
             purpose)
