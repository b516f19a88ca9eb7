"""When a person blocks the bot, Telegram answers 403 to every send. The recipient is marked
once (no retry storm) and whoever should know is told: a family member's coaches, or for a coach
the coordinators. Unblocking (or writing again) clears the mark."""

from __future__ import annotations

from datetime import datetime

from bot import outbox
from bot.i18n import translator
from bot.outbox import Outgoing
from storage.db import Session
from storage.repos import families, people


async def mark_blocked(session: Session, chat_id: int, now: datetime) -> None:
    """Dispatcher hook for a 403: mark, and tell once."""
    out = Outgoing()
    member = await people.member_by_chat(session, chat_id)
    if member is not None and member.blocked_at is None:
        member.blocked_at = now
        family = await families.family_by_id(session, member.family_id)
        for coach in await families.coaches_of(session, member.family_id):
            if coach.chat_id is None or family is None:
                continue
            tr = translator(coach.language, family.region, family.timezone)
            out.text(coach.chat_id, tr.gettext(
                "⚠️ {alias}: berichten aan {name} komen niet aan. {name} heeft de bot "
                "geblokkeerd of verwijderd. Neem op een andere manier contact op.").format(
                    alias=family.alias, name=member.first_name), purpose="notice")
    staff = await people.staff_by_chat(session, chat_id)
    if staff is not None and staff.blocked_at is None:
        staff.blocked_at = now
        for coordinator in await people.coordinators(session):
            if coordinator.chat_id is None or coordinator.id == staff.id:
                continue
            tr = translator(coordinator.language)
            out.text(coordinator.chat_id, tr.gettext(
                "⚠️ Berichten aan {name} komen niet aan: de bot is geblokkeerd.").format(
                    name=staff.display_name), purpose="notice")
    outbox.write(session, out.sends, now)
