"""A person blocks or unblocks the bot (a my_chat_member update): blocking is marked and told
like a refused send (bot/jobs/blocked_recipients.py); unblocking clears the mark."""

from __future__ import annotations

from bot.jobs.blocked_recipients import mark_blocked
from handlers.common import Work
from storage.repos import people


async def blocked_changed(w: Work, chat_id: int, status: str) -> None:
    if status in ("member", "administrator", "creator"):
        await people.clear_blocked(w.session, chat_id)
    elif status == "kicked":
        await mark_blocked(w.session, chat_id, w.now)
