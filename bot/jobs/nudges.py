"""Unanswered family messages (PRODUCT.md §2.6): after N working hours without a coach's
answer the coach gets a nudge, after M the coordinator is told — alias and hours only, never
content. The messages are claimed in the database, so several instances tell each once.

A nudge goes to whoever reads the family's messages at that moment: the same routing decision
as a new message from the family (a coach on leave → their substitute, a duo → the coach who is
there). When that decision holds a message (out of hours after downtime, nobody there) the nudge
waits for the next moment someone is there: the coach's boundaries hold for nudges too."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot import outbox, wording
from bot.delivery.recipients import Delivery, staffing, with_people
from bot.domain.availability import earliest_open_time_reached, open_time_between
from bot.domain.routing import Incoming
from bot.i18n import Translator, translator
from bot.jobs.pace import Pace
from bot.outbox import Outgoing
from bot.settings import Settings
from storage.db import Session
from storage.models import Family, FamilyMessage, Staff
from storage.repos import families, messages, people

# A nudge comes after hours of waiting: a look every five minutes is precise enough, and each
# look claims every unanswered message past the first threshold and reads its family's
# staffing again. Every 30 s that was a quarter of the bot's statements on a busy evening
# (bench/README.md), when the families' own messages need the database most.
EVERY = timedelta(minutes=5)


@dataclass(frozen=True)
class NotBefore:
    """Nothing of a family's waiting messages (up to `newest`) can be due before `moment`."""

    moment: datetime
    newest: int


class UnansweredNudges:
    def __init__(self, settings: Settings) -> None:
        self.nudge = timedelta(hours=settings.nudge_after_hours)
        self.escalate = timedelta(hours=settings.escalate_after_hours)
        self.region = settings.region
        self.pace = Pace(EVERY)
        # Families looked at and found not due, and until when. Working hours never pass
        # faster than the clock, so the time still to wait is a safe lower bound. Without it
        # every look read the staffing of every family waiting past the first threshold
        # again: 80,000 statements in the busiest evening at full scale for 300 nudges, and
        # every five minutes all night (bench/README.md). In memory: a restart looks again.
        self._not_before: dict[int, NotBefore] = {}

    async def __call__(self, session: Session, now: datetime) -> int:
        if not self.pace.due(now):
            return 0
        rows = await messages.claim_unanswered(session, now - self.nudge)
        pending: dict[int, list[FamilyMessage]] = {}
        for row in rows:  # per family, oldest first
            pending.setdefault(row.family_id, []).append(row)
        self._not_before = {family_id: later for family_id, later in self._not_before.items()
                            if family_id in pending}
        due = {family_id: waiting for family_id, waiting in pending.items()
               if not self._waits(family_id, waiting, now)}
        if not due:
            return 0
        out = Outgoing()
        coordinators = await people.coordinators(session)
        found = await families.families_by_id(session, list(due))
        # Everything read before anything is written (the messages marked nudged go out with
        # the nudges, at the commit): on SQLite the first write takes the database's one
        # write lock until the commit, and the families' own messages waited seconds for
        # every family read after it (bench/README.md, the evening's "before").
        with session.no_autoflush:
            for family_id, waiting in due.items():
                family = found.get(family_id)
                if family is None or (family.paused_until is not None
                                      and family.paused_until > now):
                    continue
                await self._family(session, out, family, waiting, coordinators, now)
        await outbox.write(session, out.sends, now)
        return 0

    def _waits(self, family_id: int, waiting: Sequence[FamilyMessage], now: datetime) -> bool:
        """Known not to be due yet (and no message came since it was looked at)."""
        later = self._not_before.get(family_id)
        return later is not None and later.moment > now and \
            max(row.id for row in waiting) <= later.newest

    def _look_again(self, family_id: int, waiting: Sequence[FamilyMessage], moment: datetime
                    ) -> None:
        self._not_before[family_id] = NotBefore(moment, max(row.id for row in waiting))

    async def _family(self, session: Session, out: Outgoing, family: Family,
                      pending: Sequence[FamilyMessage], coordinators: Sequence[Staff],
                      now: datetime) -> None:
        """Nudge whoever reads this family's messages now, or tell the coordinators."""
        first = pending[0]
        around = await families.staff_around(session, family.id, family.oncall_agreed, now)
        coaches = around.coaches
        try:
            found = await staffing(session, family, coaches, now, around)
        except LookupError:  # nobody at all to read it: nobody to nudge either
            return
        assert first.delivered_at is not None
        waited = open_time_between(found.agreement, first.delivered_at, now)
        escalate = waited >= self.escalate
        unnudged = any(r.nudged_at is None for r in pending)
        if not escalate and not (waited >= self.nudge and unnudged):
            threshold = self.nudge if unnudged else self.escalate
            self._look_again(family.id, pending, earliest_open_time_reached(
                found.agreement, now, threshold - waited))
            return
        delivery = await with_people(session, coaches,
                                     found.decide(Incoming(first.received_at, False), now))
        if delivery.decision.held:
            # Nobody reads the family's messages now: claimed again at the next opening.
            if delivery.decision.hold_until is not None:
                self._look_again(family.id, pending, delivery.decision.hold_until)
            return
        hours = int(waited.total_seconds() // 3600)
        if escalate:
            for coordinator in coordinators:
                if coordinator.chat_id is None:
                    continue
                ctr = translator(coordinator.language, self.region)
                out.text(coordinator.chat_id, _escalation(ctr, family, delivery, hours),
                         purpose="nudge")
            for row in pending:
                row.escalated_at = now
                row.nudged_at = row.nudged_at or now
            return
        for reader in delivery.recipients:
            assert reader.chat_id is not None  # with_people keeps those with a chat
            tr = translator(reader.language, family.region, family.timezone)
            out.text(reader.chat_id, _nudge(tr, family, delivery, reader, len(pending), hours),
                     purpose="nudge")
        for row in pending:
            row.nudged_at = now
        self._look_again(family.id, pending, earliest_open_time_reached(
            found.agreement, now, self.escalate - waited))


def _nudge(tr: Translator, family: Family, delivery: Delivery, reader: Staff, n: int,
           hours: int) -> str:
    text = tr.ngettext(
        "⏳ {alias} wacht op je antwoord ({n} bericht, {hours} werkuren).",
        "⏳ {alias} wacht op je antwoord ({n} berichten, {hours} werkuren).",
        n).format(alias=family.alias, n=n, hours=hours)
    away = [absent.display_name for absent, standin in delivery.substitutes
            if standin.id == reader.id]
    if away:  # a substitute: say for whom, as the digest of held messages does
        text += "\n" + tr.gettext("Je vervangt nu {names}.").format(
            names=wording.names(tr, away))
    return text


def _escalation(tr: Translator, family: Family, delivery: Delivery, hours: int) -> str:
    """Names who reads the family's messages now (a substitute, and for whom)."""
    readers = wording.coach_names(tr, delivery.recipients)
    if not delivery.substitutes:
        return tr.gettext(
            "⏳ {alias} wacht al {hours} werkuren op antwoord (coach: {coach})."
        ).format(alias=family.alias, hours=hours, coach=readers)
    away = wording.names(tr, list(dict.fromkeys(a.display_name for a, _ in delivery.substitutes)))
    return tr.gettext(
        "⏳ {alias} wacht al {hours} werkuren op antwoord ({standin} vervangt {absent})."
    ).format(alias=family.alias, hours=hours, standin=readers, absent=away)
