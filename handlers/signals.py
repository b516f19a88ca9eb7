"""A family's answer to a reminder (👍 / ✋ / ✓ / Hulp nodig) reaching the coach.

It travels like a family message (so it respects the coach's availability and lands in the
digest when held, still answerable by *reply*) but its words are rendered in the coach's
language when it is delivered.
"""

from __future__ import annotations

import json
from datetime import datetime

from bot.domain.routing import Incoming
from bot.i18n import N_, Translator
from handlers import routing_glue
from handlers.common import Work
from handlers.relay import copy_to_coach
from storage import repo
from storage.models import Family, FamilyMessage, Member

KIND = "signal"
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


async def send(w: Work, member: Member, family: Family, signal: str, what: str,
               at: datetime | None) -> None:
    """Store the signal as a family message and deliver it now or hold it for the digest."""
    stored = FamilyMessage(family_id=family.id, member_id=member.id, chat_id=None,
                           telegram_message_id=None, kind=KIND, body=encode(signal, what, at),
                           urgent=signal == "help", received_at=w.now, status="delivered")
    w.session.add(stored)
    await w.session.flush()
    coaches = await repo.coaches_of(w.session, family.id)
    delivery = await routing_glue.decide_at(w.session, family, coaches,
                                            Incoming(w.now, False), w.now)
    if delivery.decision.held:
        stored.status = "held"
        stored.hold_until = delivery.decision.hold_until
        return
    stored.delivered_at = w.now
    quiet = signal in ("coming", "done")
    for recipient in delivery.recipients:
        copy_to_coach(w.out, recipient, family, member, stored, silent=quiet)
