"""Work the dispatcher does besides sending: hooks for blocked recipients, and planners that
turn due work into outbox rows (held messages, reminders)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.dispatcher import Dispatcher
from bot.services import Services
from storage.models import Member, Staff


async def mark_blocked(session: AsyncSession, chat_id: int, now: datetime) -> None:
    """Telegram said 403: the person blocked the bot. Remember it; stop trying."""
    await session.execute(update(Member).where(Member.chat_id == chat_id,
                                               Member.blocked_at.is_(None))
                          .values(blocked_at=now))
    await session.execute(update(Staff).where(Staff.chat_id == chat_id,
                                              Staff.blocked_at.is_(None))
                          .values(blocked_at=now))


def install(dispatcher: Dispatcher, services: Services) -> None:
    from handlers.digest import release_held
    from handlers.prompts import MorningAgenda, UnansweredNudges
    from handlers.reminders import ReminderSender
    from handlers.rights import RetentionPurge

    dispatcher.on_blocked = mark_blocked
    dispatcher.planners = [release_held, ReminderSender(services.signer),
                           MorningAgenda(services.settings, services.signer),
                           UnansweredNudges(services.settings),
                           RetentionPurge(services.settings.retention_days)]
