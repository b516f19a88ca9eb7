"""Unanswered family messages (PRODUCT.md §2.6): after N working hours without a coach's
answer the coach gets a nudge, after M the coordinator is told — alias and hours only, never
content. The messages are claimed in the database, so several instances tell each once."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot import outbox, wording
from bot.delivery.recipients import agreement_of
from bot.domain.availability import open_time_between
from bot.i18n import translator
from bot.jobs.pace import Pace
from bot.outbox import Outgoing
from bot.settings import Settings
from storage.db import Session
from storage.models import FamilyMessage
from storage.repos import families, messages, people

EVERY = timedelta(seconds=30)


class UnansweredNudges:
    def __init__(self, settings: Settings) -> None:
        self.nudge = timedelta(hours=settings.nudge_after_hours)
        self.escalate = timedelta(hours=settings.escalate_after_hours)
        self.region = settings.region
        self.pace = Pace(EVERY)

    async def __call__(self, session: Session, now: datetime) -> int:
        if not self.pace.due(now):
            return 0
        rows = await messages.claim_unanswered(session, now - self.nudge)
        if not rows:
            return 0
        out = Outgoing()
        oldest: dict[int, FamilyMessage] = {}
        for row in rows:
            oldest.setdefault(row.family_id, row)
        coordinators = await people.coordinators(session)
        for family_id, first in oldest.items():
            family = await families.family_by_id(session, family_id)
            if family is None or (family.paused_until is not None and family.paused_until > now):
                continue
            coaches = await families.coaches_of(session, family_id)
            agreement = agreement_of(family, coaches)
            assert first.delivered_at is not None
            waited = open_time_between(agreement, first.delivered_at, now)
            hours = int(waited.total_seconds() // 3600)
            pending = [r for r in rows if r.family_id == family_id]
            if waited >= self.escalate:
                for coordinator in coordinators:
                    if coordinator.chat_id is None:
                        continue
                    ctr = translator(coordinator.language, self.region)
                    out.text(coordinator.chat_id, ctr.gettext(
                        "⏳ {alias} wacht al {hours} werkuren op antwoord (coach: {coach})."
                    ).format(alias=family.alias, hours=hours,
                             coach=wording.coach_names(ctr, coaches)), purpose="nudge")
                for row in pending:
                    row.escalated_at = now
                    row.nudged_at = row.nudged_at or now
            elif waited >= self.nudge and any(r.nudged_at is None for r in pending):
                for coach in coaches:
                    if coach.chat_id is None:
                        continue
                    ctr = translator(coach.language, family.region, family.timezone)
                    out.text(coach.chat_id, ctr.ngettext(
                        "⏳ {alias} wacht op je antwoord ({n} bericht, {hours} werkuren).",
                        "⏳ {alias} wacht op je antwoord ({n} berichten, {hours} werkuren).",
                        len(pending)).format(alias=family.alias, n=len(pending), hours=hours),
                        purpose="nudge")
                for row in pending:
                    row.nudged_at = now
        outbox.write(session, out.sends, now)
        return 0
