"""A family's answer to a reminder (👍 / ✋ / ✓ / Hulp nodig) reaching the coach.

It travels like a family message (so it respects the coach's availability and lands in the
digest when held, still answerable by *reply*) but its words are rendered in the coach's
language when it is delivered (signal_text.py).
"""

from __future__ import annotations

from datetime import datetime

from bot.delivery import signal_text
from bot.delivery.copies import copy_to_coach
from bot.delivery.recipients import decide_at
from bot.domain.routing import Incoming
from bot.unit import Unit
from storage.models import Family, FamilyMessage, Member
from storage.repos import messages


async def send(unit: Unit, member: Member, family: Family, signal: str, what: str,
               at: datetime | None) -> None:
    """Store the signal as a family message and deliver it now or hold it for the digest."""
    stored = FamilyMessage(family_id=family.id, member_id=member.id, chat_id=None,
                           telegram_message_id=None, kind=signal_text.KIND,
                           body=signal_text.encode(signal, what, at), urgent=signal == "help",
                           received_at=unit.now, status="delivered")
    await messages.add(unit.session, stored)
    delivery = await decide_at(unit.session, family, Incoming(unit.now, False), unit.now)
    if delivery.decision.held:
        stored.status = "held"
        stored.hold_until = delivery.decision.hold_until
        return
    stored.delivered_at = unit.now
    quiet = signal in ("coming", "done")
    for recipient in delivery.recipients:
        copy_to_coach(unit.out, recipient, family, member, stored, silent=quiet)
