"""When a person blocks the bot, Telegram answers 403 to every send. The recipient is marked
once (no retry storm) and whoever should know is told: a family member's coaches, or for a coach
the coordinators (with the families whose messages now wait for them: one notice, not one for
the block and another for the first family). Unblocking (or writing again) clears the mark."""

from __future__ import annotations

from datetime import datetime

from bot import outbox, wording
from bot.i18n import Translator, translator
from bot.outbox import Outgoing
from storage.db import Session
from storage.models import Staff
from storage.repos import families, people
from storage.repos import outbox as outbox_rows


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
        # Found by a 403 on a family's copy: that family waits now (bot/delivery/undelivered.py
        # then leaves the coordinators alone in this step).
        waiting = [await families.family_by_id(session, family_id) for family_id
                   in await outbox_rows.families_waiting_for(session, chat_id)]
        aliases = sorted(family.alias for family in waiting if family is not None)
        for coordinator in await people.coordinators(session):
            if coordinator.chat_id is None or coordinator.id == staff.id:
                continue
            out.text(coordinator.chat_id, _coach_blocked(
                translator(coordinator.language), staff, aliases), purpose="notice")
    await outbox.write(session, out.sends, now)


def _coach_blocked(tr: Translator, staff: Staff, aliases: list[str]) -> str:
    name = staff.display_name
    text = tr.gettext("⚠️ Berichten aan {name} komen niet aan: de bot is geblokkeerd.").format(
        name=name)
    if not aliases:
        return text
    return text + " " + tr.ngettext(
        "Wat {aliases} stuurde, wacht tot {name} weer bereikbaar is. Neem zo nodig contact op "
        "met {name} of met het gezin.",
        "Wat {aliases} stuurden, wacht tot {name} weer bereikbaar is. Neem zo nodig contact "
        "op met {name} of met de gezinnen.", len(aliases)).format(
            aliases=wording.names(tr, aliases), name=name)
