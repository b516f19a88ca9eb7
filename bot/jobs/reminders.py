"""Family reminders from plan to send (PRODUCT.md §2.4): the rows planned for an appointment or
an agreement, and the job that sends the due ones. The database is the truth: due rows are
claimed under SKIP LOCKED (one instance each), decided on again (cancelled? paused? still worth
it after downtime? quiet hours? — reminder_plan.decide), rendered in each member's language and
put in the outbox in the same transaction that marks them sent."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot import outbox
from bot.callbacks import CallbackSigner
from bot.domain.recurrence import Recurrence, next_occurrence
from bot.domain.reminder_plan import (
    PlannedReminder,
    ReminderAction,
    ReminderFacts,
    ReminderKind,
    decide,
    due_day_end,
    plan_agreement_reminders,
    plan_appointment_reminders,
)
from bot.i18n import Translator, translator
from bot.outbox import Outgoing
from storage.db import Session
from storage.models import ActionItem, Appointment, Family, Member, Reminder
from storage.repos import families, people, reminders

log = logging.getLogger(__name__)
# Reminders per planner pass: the first of a burst go out a moment after they are due, and
# the sends of the batch before keep the limiter busy while the next is written.
BATCH = 200
# Reminders made at a time: the event loop goes on in between. A batch of 200 rendered in one
# go held the loop about 50 ms, a hundred times in a region's evening (4.9 s in all), and the
# families' messages waited behind it (bench/README.md, the busiest hours traced).
SLICE = 25
STATUS = {ReminderAction.SEND: "sent", ReminderAction.DROP: "dropped",
          ReminderAction.CANCEL: "cancelled"}


# Planning ----------------------------------------------------------------------------------------
def plan_appointment(session: Session, family: Family, appointment: Appointment,
                     now: datetime) -> None:
    """The reminders of a new (or moved) appointment."""
    _add(session, family, plan_appointment_reminders(appointment.starts_at, family.timezone, now),
         appointment_id=appointment.id)


def plan_agreement(session: Session, family: Family, item: ActionItem, now: datetime) -> None:
    """The reminder of an agreement (action item) on its due day."""
    _add(session, family, plan_agreement_reminders(item.due_date, family.timezone, now),
         action_id=item.id)


def _add(session: Session, family: Family, planned: tuple[PlannedReminder, ...], *,
         appointment_id: int | None = None, action_id: int | None = None) -> None:
    for reminder in planned:
        reminders.add_planned(session, family.id, reminder.kind.value, reminder.at,
                              appointment_id=appointment_id, action_id=action_id)


# Rendering ---------------------------------------------------------------------------------------
def describe_appointment(tr: Translator, appt_at: datetime, what: str, place: str | None,
                         now: datetime) -> str:
    text = f"{what}, {tr.when(appt_at, now)}"
    if place:
        text += "\n" + tr.gettext("Plaats: {place}").format(place=place)
    return text


def render(tr: Translator, signer: CallbackSigner, chat_id: int, appt: Appointment | None,
           item: ActionItem | None, now: datetime) -> tuple[str, dict[str, Any]]:
    """A reminder as one member reads it, with the buttons to answer it (signed for their
    chat): 👍 / ✋ for an appointment, ✓ / Hulp nodig for an agreement."""
    if appt is not None:
        text = "\n".join([
            tr.gettext("⏰ Herinnering: {what}").format(
                what=describe_appointment(tr, appt.starts_at, appt.what, appt.place, now)),
            tr.gettext("Lukt het?")])
        return text, outbox.keyboard([[
            (tr.gettext("👍 Ik ben er"), signer.sign(chat_id, "rsp", "appt", appt.id, "coming")),
            (tr.gettext("✋ Lukt niet"), signer.sign(chat_id, "rsp", "appt", appt.id, "cannot"))]])
    assert item is not None
    text = "\n".join([
        tr.gettext("Lukt het met: {what}?").format(what=item.what),
        tr.gettext("Vandaag is de dag die we afspraken.")])
    return text, outbox.keyboard([[
        (tr.gettext("✓ Gedaan"), signer.sign(chat_id, "rsp", "act", item.id, "done")),
        (tr.gettext("Hulp nodig"), signer.sign(chat_id, "rsp", "act", item.id, "help"))]])


# Sending -----------------------------------------------------------------------------------------
class ReminderSender:
    """The job: the due reminders, each sent, moved to the morning, dropped or called off."""

    def __init__(self, signer: CallbackSigner) -> None:
        self.signer = signer

    def due_probe(self, now: datetime) -> Any:
        return reminders.due(now)

    async def __call__(self, session: Session, now: datetime) -> int:
        rows = await reminders.claim_due(session, now, BATCH)
        if not rows:
            return 0
        out = Outgoing()
        # What the batch is about, read for all of it at once (kept referenced meanwhile).
        subjects = await reminders.load_subjects(session, rows)
        members = await people.members_of_families(session, sorted({r.family_id for r in rows}))
        for n, reminder in enumerate(rows):
            if n and n % SLICE == 0:
                await asyncio.sleep(0)  # the event loop goes on (handlers, sends)
            await self._one(session, reminder, now, out, members.get(reminder.family_id, []))
        await outbox.write(session, out.sends, now)
        del subjects
        return len(rows)

    async def _one(self, session: Session, reminder: Reminder, now: datetime,
                   out: Outgoing, members: Sequence[Member]) -> None:
        family = await families.family_by_id(session, reminder.family_id)
        appt, item = await reminders.subject_of(session, reminder) \
            if family is not None and family.active else (None, None)
        step = decide(_facts(reminder, family, appt, item), now)
        if step.action is ReminderAction.POSTPONE:
            assert step.at is not None
            reminder.due_at = step.at
            return
        if step.missed:
            log.info("reminder %s dropped: missed while the bot was down", reminder.id)
        if step.action is ReminderAction.SEND:
            assert family is not None
            for member in members:
                if member.blocked_at is not None:
                    continue
                tr = translator(member.language, family.region, family.timezone)
                text, keyboard = render(tr, self.signer, member.chat_id, appt, item, now)
                # Of no use once the appointment began or the agreed day ended: an outage
                # longer than that expires it rather than send it late.
                out.text(member.chat_id, text, keyboard=keyboard, purpose="reminder",
                         expires_at=_useful_until(family, appt, item))
        reminder.status, reminder.handled_at = STATUS[step.action], now
        if step.moves_on and family is not None:
            _roll_recurring(session, family, item, now)


def _useful_until(family: Family, appt: Appointment | None, item: ActionItem | None
                  ) -> datetime | None:
    if appt is not None:
        return appt.starts_at
    if item is not None:
        return due_day_end(item.due_date, family.timezone)
    return None


def _facts(reminder: Reminder, family: Family | None, appt: Appointment | None,
           item: ActionItem | None) -> ReminderFacts:
    if family is None or not family.active:
        return ReminderFacts(ReminderKind(reminder.kind), reminder.due_at, "UTC", None)
    live = (appt is not None or item is not None) \
        and (appt is None or appt.status == "planned") and (item is None or item.status == "open")
    starts = None
    if live:
        starts = appt.starts_at if appt is not None \
            else due_day_end(item.due_date, family.timezone) if item is not None else None
    return ReminderFacts(ReminderKind(reminder.kind), reminder.due_at, family.timezone, starts,
                         family.paused_until)


def _roll_recurring(session: Session, family: Family, item: ActionItem | None,
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
    plan_agreement(session, family, item, now)
