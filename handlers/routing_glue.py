"""Between storage and the routing decision: who gets a family message now, and what the
family is told. (Availability windows and absences arrive in their own step.)"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bot.i18n import Translator
from handlers.common import Who, Work
from storage.models import Family, FamilyMessage, Staff


@dataclass
class Delivery:
    recipients: list[Staff]
    hold_until: datetime | None = None
    show_crisis: bool = False
    substitutes: list[tuple[Staff, Staff]] = field(default_factory=list)
    told_family: bool = False


async def decide(w: Work, family: Family, coaches: Sequence[Staff], message: FamilyMessage,
                 language: str) -> Delivery:
    return Delivery(recipients=[c for c in coaches if c.chat_id is not None])


def answer_family(w: Work, who: Who, tr: Translator, family: Family, decision: Delivery,
                  message: FamilyMessage) -> None:
    return None
