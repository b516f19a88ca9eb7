"""A person blocks or unblocks the bot (a my_chat_member update): blocking is marked and told
like a refused send (bot/jobs/blocked_recipients.py); unblocking, or writing to the bot again,
clears the mark and lets what waited for them go, in its order."""

from __future__ import annotations

from bot.jobs.blocked_recipients import mark_blocked
from handlers.common import Work
from storage.repos import outbox as outbox_rows
from storage.repos import people


async def blocked_changed(w: Work, chat_id: int, status: str) -> None:
    if status in ("member", "administrator", "creator"):
        await reachable_again(w, chat_id)
    elif status == "kicked":
        await mark_blocked(w.session, chat_id, w.now)


async def reachable_again(w: Work, chat_id: int) -> None:
    await people.clear_blocked(w.session, chat_id)
    await outbox_rows.unpark(w.session, chat_id)
