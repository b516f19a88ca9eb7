"""One unit of work, for a handler's update or a job's step: the session, what to send, the
instant and the services. Handlers add who is asking (handlers/common.py); delivery and jobs
use this alone, so they need neither Telegram nor SQLAlchemy."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.i18n import FAMILY_LANGUAGES, Translator, pick_language, translator
from bot.outbox import Outgoing
from bot.services import Services
from storage.db import Session
from storage.models import Family, Member, Staff


@dataclass
class Unit:
    session: Session
    out: Outgoing
    now: datetime  # aware
    svc: Services
    # Run once the unit of work committed (the erasure's write-ahead-log checkpoint).
    after_commit: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    def tr_for(self, member: Member | None = None, family: Family | None = None,
               staff: Staff | None = None, telegram_language: str | None = None) -> Translator:
        """The translator for one reader: a member reads in the family's zone and region."""
        region = self.svc.settings.region
        if member is not None and family is not None:
            return translator(member.language, family.region, family.timezone)
        if staff is not None:
            return translator(staff.language, region)
        return translator(pick_language(telegram_language, FAMILY_LANGUAGES), region)

    def sign(self, chat_id: int, action: str, *args: str | int) -> str:
        return self.svc.signer.sign(chat_id, action, *args)

    def tell_staff(self, staff: Iterable[Staff], render: Callable[[Translator], str],
                   **send: Any) -> None:
        """One text to each of `staff` who has a chat, each in their own language (nothing
        happens behind a coach's back: they hear what changed for their family)."""
        for person in staff:
            if person.chat_id is not None:
                self.out.text(person.chat_id, render(self.tr_for(staff=person)), **send)
