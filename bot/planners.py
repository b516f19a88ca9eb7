"""Work the dispatcher does besides sending: hooks for blocked recipients, and planners that
turn due work into outbox rows (held messages, reminders)."""

from __future__ import annotations

from bot.dispatcher import Dispatcher
from bot.services import Services


def install(dispatcher: Dispatcher, services: Services) -> None:
    from handlers.blocking import mark_blocked
    from handlers.digest import release_held
    from handlers.prompts import MorningAgenda, UnansweredNudges
    from handlers.reminders import ReminderSender
    from handlers.rights import RetentionPurge

    dispatcher.on_blocked = mark_blocked
    dispatcher.planners = [release_held, ReminderSender(services.signer),
                           MorningAgenda(services.settings, services.signer),
                           UnansweredNudges(services.settings),
                           RetentionPurge(services.settings.retention_days)]
