"""The words of a family's answer to a reminder (👍 / ✋ / ✓ / Hulp nodig): stored in a
language-free form when the family answers, rendered in the coach's language when delivered."""

from __future__ import annotations

import json
from datetime import datetime

from bot.i18n import N_, Translator

KIND = "signal"  # FamilyMessage.kind of an answer to a reminder
LABELS = {
    "coming": N_("👍 Komt naar de afspraak: {what} ({when})"),
    "cannot": N_("✋ Lukt niet: {what} ({when})"),
    "done": N_("✓ Gedaan: {what}"),
    "help": N_("🙋 Hulp nodig bij: {what}"),
}


def encode(signal: str, what: str, at: datetime | None) -> str:
    return json.dumps({"s": signal, "what": what, "at": at.isoformat() if at else None})


def render(tr: Translator, body: str | None) -> str:
    try:
        data = json.loads(body or "{}")
        label = LABELS[data["s"]]
    except (ValueError, KeyError, TypeError):
        return ""
    at = datetime.fromisoformat(data["at"]) if data.get("at") else None
    when = f"{tr.day(at)} {tr.time(at)}" if at else ""
    return tr.gettext(label).format(what=data.get("what", ""), when=when)
