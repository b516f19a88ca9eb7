"""Sending due family reminders (PRODUCT.md §2.4). The database is the truth: due rows are
claimed under SKIP LOCKED (one instance each), checked again (cancelled? paused? still worth
it after downtime? quiet hours?), rendered in each member's language and put in the outbox in
the same transaction that marks them sent."""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import outbox
from bot.callbacks import CallbackSigner
from bot.domain.recurrence import Recurrence, next_occurrence
from bot.domain.reminder_plan import (
    ReminderKind,
    due_day_end,
    in_quiet_hours,
    next_allowed,
    paused,
    plan_agreement_reminders,
    still_worth_sending,
)
from bot.i18n import translator
from bot.outbox import Outgoing
from handlers.appointments import describe_appointment
from storage import repo
from storage.models import ActionItem, Appointment, Family, Reminder

log = logging.getLogger(__name__)
BATCH = 500


class ReminderSender:
    def __init__(self, signer: CallbackSigner) -> None:
        self.signer = signer

    async def __call__(self, session: AsyncSession, now: datetime) -> int:
        rows = (await session.scalars(
            select(Reminder).where(Reminder.status == "planned", Reminder.due_at <= now)
            .order_by(Reminder.due_at, Reminder.id).limit(BATCH)
            .with_for_update(skip_locked=True))).all()
        if not rows:
            return 0
        out = Outgoing()
        for reminder in rows:
            await self._one(session, reminder, now, out)
        outbox.write(session, out.sends, now)
        return len(rows)

    async def _one(self, session: AsyncSession, reminder: Reminder, now: datetime,
                   out: Outgoing) -> None:
        family = await session.get(Family, reminder.family_id)
        if family is None or not family.active:
            reminder.status, reminder.handled_at = "cancelled", now
            return
        appt = await session.get(Appointment, reminder.appointment_id) \
            if reminder.appointment_id else None
        item = await session.get(ActionItem, reminder.action_id) if reminder.action_id else None
        if (appt is not None and appt.status != "planned") or (
                item is not None and item.status != "open") or (appt is None and item is None):
            reminder.status, reminder.handled_at = "cancelled", now
            return
        if paused(family.paused_until, now):
            # A rustpauze silences reminders and raises nothing anywhere.
            reminder.status, reminder.handled_at = "dropped", now
            self._roll_recurring(session, family, item, now)
            return
        starts = appt.starts_at if appt else due_day_end(item.due_date, family.timezone) \
            if item else now
        if not still_worth_sending(ReminderKind(reminder.kind), reminder.due_at, starts, now):
            log.info("reminder %s dropped: missed while the bot was down", reminder.id)
            reminder.status, reminder.handled_at = "dropped", now
            self._roll_recurring(session, family, item, now)
            return
        if in_quiet_hours(now, family.timezone):
            # Late after downtime and now inside quiet hours: wait for the morning if it is
            # still worth it then.
            later = next_allowed(now, family.timezone)
            if still_worth_sending(ReminderKind(reminder.kind), reminder.due_at, starts, later):
                reminder.due_at = later
            else:
                reminder.status, reminder.handled_at = "dropped", now
                self._roll_recurring(session, family, item, now)
            return
        members = [m for m in await repo.members_of(session, family.id) if m.blocked_at is None]
        for member in members:
            tr = translator(member.language, family.region, family.timezone)
            if appt is not None:
                text = "\n".join([
                    tr.gettext("⏰ Herinnering: {what}").format(
                        what=describe_appointment(tr, appt.starts_at, appt.what, appt.place,
                                                  now)),
                    tr.gettext("Lukt het?")])
                keyboard = outbox.keyboard([[
                    (tr.gettext("👍 Ik ben er"),
                     self.signer.sign(member.chat_id, "rsp", "appt", appt.id, "coming")),
                    (tr.gettext("✋ Lukt niet"),
                     self.signer.sign(member.chat_id, "rsp", "appt", appt.id, "cannot"))]])
            else:
                assert item is not None
                text = "\n".join([
                    tr.gettext("Lukt het met: {what}?").format(what=item.what),
                    tr.gettext("Vandaag is de dag die we afspraken.")])
                keyboard = outbox.keyboard([[
                    (tr.gettext("✓ Gedaan"),
                     self.signer.sign(member.chat_id, "rsp", "act", item.id, "done")),
                    (tr.gettext("Hulp nodig"),
                     self.signer.sign(member.chat_id, "rsp", "act", item.id, "help"))]])
            out.text(member.chat_id, text, keyboard=keyboard, purpose="reminder")
        reminder.status, reminder.handled_at = "sent", now
        self._roll_recurring(session, family, item, now)

    @staticmethod
    def _roll_recurring(session: AsyncSession, family: Family, item: ActionItem | None,
                        now: datetime) -> None:
        """A recurring agreement moves on to its next day, with its own reminder."""
        if item is None or item.recurrence == Recurrence.NONE.value:
            return
        recurrence = Recurrence(item.recurrence)
        first = item.due_date
        if recurrence is Recurrence.MONTHLY:
            # Count from the day of the month the agreement was made on (its first due day is
            # that day, or that day a month on): due_date alone forgets the 31st once a short
            # month clamped it, and 31 Jan → 28 Feb would drift on to 28 Mar.
            made = item.created_at.astimezone(ZoneInfo(family.timezone)).date()
            first = min(made, item.due_date)
        following = next_occurrence(first, recurrence, item.due_date)
        if following is None:
            return
        item.due_date = following
        for planned in plan_agreement_reminders(following, family.timezone, now):
            session.add(Reminder(family_id=family.id, action_id=item.id,
                                 kind=planned.kind.value, due_at=planned.at, status="planned"))
