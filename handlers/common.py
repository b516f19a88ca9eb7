"""Shared by all handlers: the unit of work, who is asking, and their translator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update
from telegram.ext import ContextTypes

from bot import outbox
from bot.i18n import FAMILY_LANGUAGES, Translator, pick_language, translator
from bot.outbox import Outgoing
from bot.services import Services
from storage import repo
from storage.models import Family, Member, Staff

Context = ContextTypes.DEFAULT_TYPE


def services(context: Context) -> Services:
    found: Services = context.bot_data["services"]
    return found


class RetryLater(Exception):
    """Raised by a handler when the update is fine but must wait a moment (its unit of work is
    rolled back; the intake handles it again shortly, without counting an attempt)."""


@dataclass
class Who:
    chat_id: int
    member: Member | None
    family: Family | None
    staff: Staff | None
    telegram_language: str | None

    @property
    def is_member(self) -> bool:
        return self.member is not None

    @property
    def is_coach(self) -> bool:
        return self.staff is not None and self.staff.is_coach

    @property
    def is_coordinator(self) -> bool:
        return self.staff is not None and self.staff.is_coordinator

    @property
    def is_stranger(self) -> bool:
        return self.member is None and self.staff is None


@dataclass
class Work:
    """One update's unit of work: the session, what to send, the instant, the services."""

    session: AsyncSession
    out: Outgoing
    now: datetime
    svc: Services

    async def who(self, update: Update) -> Who:
        chat = update.effective_chat
        user = update.effective_user
        chat_id = chat.id if chat else (user.id if user else 0)
        member = await repo.member_by_chat(self.session, chat_id)
        family = await self.session.get(Family, member.family_id) if member else None
        staff = None if member else await repo.staff_by_chat(self.session, chat_id)
        return Who(chat_id, member, family, staff, user.language_code if user else None)

    def tr(self, who: Who) -> Translator:
        return self.tr_for(who.member, who.family, who.staff, who.telegram_language)

    def tr_for(self, member: Member | None = None, family: Family | None = None,
               staff: Staff | None = None, telegram_language: str | None = None) -> Translator:
        region = self.svc.settings.region
        if member is not None and family is not None:
            return translator(member.language, family.region, family.timezone)
        if staff is not None:
            return translator(staff.language, region)
        return translator(pick_language(telegram_language, FAMILY_LANGUAGES), region)

    def sign(self, chat_id: int, action: str, *args: str | int) -> str:
        return self.svc.signer.sign(chat_id, action, *args)

    def answer(self, who: Who, text: str, **kwargs: Any) -> None:
        self.out.text(who.chat_id, text, **kwargs)


@asynccontextmanager
async def work(context: Context) -> AsyncIterator[Work]:
    """One transaction for the whole update; the outbox rows are written inside it, and the
    dispatcher is woken only after the commit."""
    svc = services(context)
    now = svc.clock.now()
    out = Outgoing()
    async with svc.db.transaction() as session:
        yield Work(session, out, now, svc)
        outbox.write(session, out.sends, now)
    if out:
        svc.wake(plan=False)  # new rows to send; nothing new to plan
