"""PRODUCT.md §2.5 and §2.6: what the bot remembers for a busy coach, and the coordinator's
view. The morning agenda and the unanswered-message nudges run as dispatcher planners; every
send is claimed atomically in the database, so several instances send each one once."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot import outbox, wording
from bot.callbacks import CallbackSigner
from bot.domain.agenda import (
    CONTACT_FREQUENCIES,
    REVIEW_FREQUENCIES,
    Agenda,
    Frequency,
    build_agenda,
    morning_agenda_due,
)
from bot.domain.availability import (
    Absence as AbsenceSpan,
)
from bot.domain.availability import (
    Agreement,
    Policy,
    WindowSyntaxError,
    first_opening_on,
    open_time_between,
    parse_windows,
)
from bot.i18n import N_, Translator, translator
from bot.outbox import Outgoing
from bot.settings import Settings
from handlers import agenda as agenda_view
from handlers.agenda import FREQUENCY_NAMES
from handlers.coach import authorized_family, fields, resolve_family
from handlers.common import Who, Work
from handlers.rights import log_access
from handlers.routing_glue import agreement_of
from storage import repo
from storage.models import Absence, Family, FamilyCoach, FamilyMessage, Staff

log = logging.getLogger(__name__)

FREQUENCY_WORDS = {
    "dagelijks": Frequency.DAILY, "daily": Frequency.DAILY, "elke dag": Frequency.DAILY,
    "wekelijks": Frequency.WEEKLY, "weekly": Frequency.WEEKLY, "elke week": Frequency.WEEKLY,
    "tweewekelijks": Frequency.BIWEEKLY, "om de twee weken": Frequency.BIWEEKLY,
    "biweekly": Frequency.BIWEEKLY, "every two weeks": Frequency.BIWEEKLY,
    "maandelijks": Frequency.MONTHLY, "monthly": Frequency.MONTHLY,
    "elke maand": Frequency.MONTHLY,
    "elke 3 maanden": Frequency.QUARTERLY, "driemaandelijks": Frequency.QUARTERLY,
    "kwartaal": Frequency.QUARTERLY, "quarterly": Frequency.QUARTERLY,
    "elke 6 maanden": Frequency.HALFYEARLY, "halfjaarlijks": Frequency.HALFYEARLY,
    "halfyearly": Frequency.HALFYEARLY,
    "nooit": Frequency.NEVER, "never": Frequency.NEVER, "geen": Frequency.NEVER,
    "uit": Frequency.NEVER,
}
PLANNER_EVERY = timedelta(seconds=30)


def staff_agreement(staff: Staff, region: str) -> Agreement:
    try:
        windows = parse_windows(staff.windows)
    except WindowSyntaxError:
        windows = parse_windows("ma-vr 09:00-17:00")
    zone = "Europe/Brussels" if region == "BE" else "Europe/Amsterdam"
    return Agreement(windows, zone, region, False, Policy.CRISIS)


def agenda_keyboard(signer: CallbackSigner, chat_id: int, tr: Translator,
                    agenda: Agenda) -> dict[str, object] | None:
    rows = [[(tr.gettext("📅 Plan afstemgesprek {alias}").format(alias=r.alias),
              signer.sign(chat_id, "rev", r.family_id))] for r in agenda.reviews_due[:8]]
    return outbox.keyboard(rows) if rows else None


# The morning agenda ------------------------------------------------------------------------------
class MorningAgenda:
    """At the start of each coach's first window on a working day (their own availability, their
    absences and public holidays respected): the agenda. Nothing at all on days off."""

    def __init__(self, settings: Settings, signer: CallbackSigner) -> None:
        self.settings = settings
        self.signer = signer
        self.last: datetime | None = None

    async def __call__(self, session: AsyncSession, now: datetime) -> int:
        if self.last is not None and timedelta(0) <= now - self.last < PLANNER_EVERY:
            return 0
        self.last = now
        coaches = (await session.scalars(select(Staff).where(
            Staff.is_coach.is_(True), Staff.active.is_(True), Staff.chat_id.is_not(None)))).all()
        absences = (await session.scalars(select(Absence).where(Absence.ends_at > now))).all()
        spans = tuple(AbsenceSpan(a.staff_id, a.starts_at, a.ends_at, a.substitute_id)
                      for a in absences)
        out = Outgoing()
        sent = 0
        for coach in coaches:
            agreement = staff_agreement(coach, self.settings.region)
            today = morning_agenda_due(agreement, spans, coach.id, coach.agenda_sent_on, now)
            if today is None:
                continue  # a day off, on leave, not yet time, sent, or the morning has passed
            claimed = await session.execute(
                update(Staff).where(Staff.id == coach.id,
                                    (Staff.agenda_sent_on.is_(None))
                                    | (Staff.agenda_sent_on < today))
                .values(agenda_sent_on=today))
            if getattr(claimed, "rowcount", 0) != 1:
                continue  # another instance sent it
            tr = translator(coach.language, self.settings.region, agreement.timezone)
            snap = await agenda_view.snapshot(session, coach, now, agreement.timezone,
                                              weekly=_first_working_day_of_week(agreement,
                                                                                today))
            agenda = build_agenda(snap)
            assert coach.chat_id is not None
            out.text(coach.chat_id, agenda_view.render(tr, agenda, now), purpose="agenda",
                     keyboard=agenda_keyboard(self.signer, coach.chat_id, tr, agenda))
            sent += 1
        outbox.write(session, out.sends, now)
        return sent


def _first_working_day_of_week(agreement: Agreement, today: object) -> bool:
    from datetime import date

    assert isinstance(today, date)
    monday = today - timedelta(days=today.weekday())
    day = monday
    while day < today:
        if first_opening_on(agreement, day) is not None:
            return False
        day += timedelta(days=1)
    return True


# Unanswered messages ----------------------------------------------------------------------------
class UnansweredNudges:
    """A family message without a coach's answer: after N working hours the coach gets a nudge,
    after M the coordinator is told — alias and hours only, never content."""

    def __init__(self, settings: Settings) -> None:
        self.nudge = timedelta(hours=settings.nudge_after_hours)
        self.escalate = timedelta(hours=settings.escalate_after_hours)
        self.region = settings.region
        self.last: datetime | None = None

    async def __call__(self, session: AsyncSession, now: datetime) -> int:
        if self.last is not None and timedelta(0) <= now - self.last < PLANNER_EVERY:
            return 0
        self.last = now
        rows = (await session.scalars(
            select(FamilyMessage).where(
                FamilyMessage.status == "delivered", FamilyMessage.answered_at.is_(None),
                FamilyMessage.kind != "signal", FamilyMessage.escalated_at.is_(None),
                FamilyMessage.delivered_at.is_not(None),
                FamilyMessage.delivered_at <= now - self.nudge)
            .order_by(FamilyMessage.family_id, FamilyMessage.delivered_at)
            .with_for_update(skip_locked=True))).all()
        if not rows:
            return 0
        out = Outgoing()
        oldest: dict[int, FamilyMessage] = {}
        for row in rows:
            oldest.setdefault(row.family_id, row)
        coordinators = await repo.coordinators(session)
        for family_id, first in oldest.items():
            family = await session.get(Family, family_id)
            if family is None or (family.paused_until is not None and family.paused_until > now):
                continue
            coaches = await repo.coaches_of(session, family_id)
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


# /contact and /afstemgesprek ----------------------------------------------------------------------
def _frequency(text: str, allowed: Sequence[Frequency]) -> Frequency | None:
    found = FREQUENCY_WORDS.get(" ".join(text.casefold().split()))
    return found if found in allowed else None


async def contact(w: Work, who: Who, text: str) -> None:
    await _set_frequency(w, who, text, CONTACT_FREQUENCIES, "contact",
                         N_("Afgesproken contact met {alias}: {freq}."),
                         N_("Gebruik: /contact Gezin J. | wekelijks (of dagelijks, om de twee "
                            "weken, maandelijks)"))


async def review(w: Work, who: Who, text: str) -> None:
    await _set_frequency(w, who, text, REVIEW_FREQUENCIES, "review",
                         N_("Afstemgesprek met {alias}: {freq}."),
                         N_("Gebruik: /afstemgesprek Gezin J. | elke 3 maanden (of nooit, "
                            "maandelijks, elke 6 maanden)"))


async def _set_frequency(w: Work, who: Who, text: str, allowed: Sequence[Frequency], field: str,
                         done: str, usage: str) -> None:
    tr = w.tr(who)
    parts = fields(text) if text.strip() else []
    if len(parts) < 2 or not parts[1]:
        w.answer(who, tr.gettext(usage))
        return
    frequency = _frequency(parts[1], allowed)
    if frequency is None:
        w.answer(who, tr.gettext(usage))
        return
    command = "contact" if field == "contact" else "afstemgesprek"
    family = await resolve_family(w, who, tr, parts[0],
                                  retry=(command, " | " + parts[1]))
    if family is None:
        return
    if field == "contact":
        family.contact_frequency = None if frequency is Frequency.NEVER else frequency.value
    else:
        family.review_frequency = frequency.value
    w.answer(who, tr.gettext(done).format(alias=family.alias,
                                          freq=tr.gettext(FREQUENCY_NAMES[frequency])))


# /coordinator ----------------------------------------------------------------------------------
async def ask_coordinator(w: Work, who: Who, text: str) -> None:
    """One tap for help: the coordinator hears which family and who asks, never content."""
    staff = who.staff
    assert staff is not None
    tr = w.tr(who)
    family = await resolve_family(w, who, tr, text.strip(), "askc")
    if family is not None:
        await ask_for(w, who, family.id)


async def ask_for(w: Work, who: Who, family_id: int) -> None:
    tr = w.tr(who)
    family = await authorized_family(w, who, family_id)
    staff = who.staff
    if family is None or staff is None:
        return
    coordinators = [c for c in await repo.coordinators(w.session) if c.id != staff.id]
    if not coordinators:
        w.answer(who, tr.gettext("Er is nog geen coördinator om te vragen."))
        return
    for coordinator in coordinators:
        assert coordinator.chat_id is not None
        ctr = w.tr_for(staff=coordinator)
        w.out.text(coordinator.chat_id, ctr.gettext(
            "🙋 {coach} vraagt je hulp bij {alias}. Neem contact op met {coach}.").format(
                coach=staff.display_name, alias=family.alias), purpose="notice")
    w.answer(who, tr.gettext("De coördinator weet dat je hulp vraagt bij {alias}.").format(
        alias=family.alias))


# Coordinator: /overzicht and /verplaats ----------------------------------------------------------
async def overview(w: Work, who: Who) -> None:
    """Per coach: families, held and unanswered messages, open requests for help, absences —
    counts and aliases only. Every family shown is written to the access log."""
    tr = w.tr(who)
    coaches = (await w.session.scalars(select(Staff).where(
        Staff.is_coach.is_(True), Staff.active.is_(True)).order_by(Staff.display_name))).all()
    links = (await w.session.execute(
        select(FamilyCoach.staff_id, Family.id, Family.alias)
        .join(Family, Family.id == FamilyCoach.family_id)
        .where(Family.active.is_(True)))).all()
    counts = (await w.session.execute(
        select(FamilyMessage.family_id, FamilyMessage.status,
               FamilyMessage.answered_at.is_(None), FamilyMessage.kind, func.count())
        .group_by(FamilyMessage.family_id, FamilyMessage.status,
                  FamilyMessage.answered_at.is_(None), FamilyMessage.kind))).all()
    absences = (await w.session.scalars(select(Absence).where(Absence.ends_at > w.now))).all()
    held: dict[int, int] = {}
    unanswered: dict[int, int] = {}
    for family_id, status, open_, kind, n in counts:
        if status == "held":
            held[family_id] = held.get(family_id, 0) + n
        elif open_ and kind != "signal":
            unanswered[family_id] = unanswered.get(family_id, 0) + n
    help_open = await _help_requests(w.session, w.now)
    by_coach: dict[int, list[tuple[int, str]]] = {}
    for staff_id, family_id, alias in links:
        by_coach.setdefault(staff_id, []).append((family_id, alias))
    lines = [tr.gettext("📊 Overzicht per coach")]
    shown: list[int] = []
    for coach in coaches:
        families = sorted(by_coach.get(coach.id, []), key=lambda f: f[1])
        ids = [f for f, _ in families]
        shown += ids
        lines += ["", tr.ngettext("{coach}: {n} gezin", "{coach}: {n} gezinnen",
                                  len(families)).format(coach=coach.display_name,
                                                        n=len(families))]
        if families:
            lines.append("  " + ", ".join(alias for _, alias in families))
        lines.append("  " + tr.gettext("bewaard {held} · zonder antwoord {open} · hulpvragen "
                                       "{help}").format(
            held=sum(held.get(i, 0) for i in ids), open=sum(unanswered.get(i, 0) for i in ids),
            help=sum(help_open.get(i, 0) for i in ids)))
        for absence in (a for a in absences if a.staff_id == coach.id):
            lines.append("  " + tr.gettext("afwezig {first} – {last}").format(
                first=tr.day(absence.starts_at),
                last=tr.day(absence.ends_at - timedelta(seconds=1))))
    log_access(w.session, who.staff, sorted(set(shown)), "overview", "coördinatoroverzicht",
               w.now)
    w.answer(who, "\n".join(lines))


async def _help_requests(session: AsyncSession, now: datetime) -> dict[int, int]:
    rows = (await session.execute(
        select(FamilyMessage.family_id, func.count()).where(
            FamilyMessage.kind == "signal", FamilyMessage.answered_at.is_(None),
            FamilyMessage.urgent.is_(True), FamilyMessage.received_at >= now - timedelta(days=14))
        .group_by(FamilyMessage.family_id))).all()
    return {family_id: int(n) for family_id, n in rows}


async def move_family(w: Work, who: Who, text: str) -> None:
    """/verplaats Gezin J. | Pieter — the family gets a new coach and is told."""
    tr = w.tr(who)
    parts = fields(text) if text.strip() else []
    if len(parts) < 2 or not parts[0] or not parts[1]:
        w.answer(who, tr.gettext("Gebruik: /verplaats Gezin J. | naam van de nieuwe coach"))
        return
    families = (await w.session.scalars(select(Family).where(Family.active.is_(True)))).all()
    found = repo.match_alias(families, parts[0])
    if len(found) != 1:
        w.answer(who, tr.gettext("Ik vind niet precies één gezin met die naam."))
        return
    family = found[0]
    coaches = [c for c in await repo.coaches_named(w.session, parts[1])]
    if len(coaches) != 1:
        w.answer(who, tr.gettext("Ik vind niet precies één coach met die naam."))
        return
    new = coaches[0]
    old = list(await repo.coaches_of(w.session, family.id))
    if any(c.id == new.id for c in old) and len(old) == 1:
        w.answer(who, tr.gettext("{name} is al coach van {alias}.").format(
            name=new.display_name, alias=family.alias))
        return
    for coach in old:
        link = await w.session.get(FamilyCoach, (family.id, coach.id))
        if link is not None:
            await w.session.delete(link)
    await w.session.flush()
    w.session.add(FamilyCoach(family_id=family.id, staff_id=new.id, since=w.now))
    w.answer(who, tr.gettext("{alias} heeft nu {name} als coach.").format(
        alias=family.alias, name=new.display_name))
    for coach in old:
        if coach.chat_id is not None and coach.id != new.id:
            ctr = w.tr_for(staff=coach)
            w.out.text(coach.chat_id, ctr.gettext("{alias} heeft nu een andere coach: {name}."
                                                  ).format(alias=family.alias,
                                                           name=new.display_name),
                       purpose="notice")
    if new.chat_id is not None:
        ntr = w.tr_for(staff=new)
        w.out.text(new.chat_id, ntr.gettext("Je bent nu coach van {alias}.").format(
            alias=family.alias), purpose="notice")
    for member in await repo.members_of(w.session, family.id):
        mtr = w.tr_for(member=member, family=family)
        w.out.text(member.chat_id, mtr.gettext(
            "Je hebt een nieuwe gezinscoach: {name}. Je berichten gaan nu naar {name}.").format(
                name=new.display_name), purpose="notice")


async def deactivate_coach(w: Work, who: Who, text: str) -> None:
    """/coachstop <name>: a coach leaves the service. Their families are moved first, so no
    family is ever left without a coach."""
    tr = w.tr(who)
    name = text.strip()
    found = [c for c in await repo.coaches_named(w.session, name)] if name else []
    if len(found) != 1:
        w.answer(who, tr.gettext("Gebruik: /coachstop naam van de coach"))
        return
    coach = found[0]
    families = await repo.families_of_coach(w.session, coach.id)
    if families:
        w.answer(who, tr.gettext("{name} heeft nog gezinnen: {aliases}. Verplaats ze eerst met "
                                 "/verplaats.").format(
            name=coach.display_name, aliases=", ".join(f.alias for f in families)))
        return
    coach.is_coach = False
    if not coach.is_coordinator:
        coach.active = False
    w.answer(who, tr.gettext("{name} is geen coach meer in Gezinslijn.").format(
        name=coach.display_name))
    if coach.chat_id is not None and coach.chat_id != who.chat_id:
        ctr = w.tr_for(staff=coach)
        w.out.text(coach.chat_id, ctr.gettext("Je bent geen coach meer in Gezinslijn. Dank je "
                                              "voor je werk."), purpose="notice")
        from handlers import menus

        if coach.active:
            menus.set_for_staff(w.out, coach.chat_id, ctr, coach)
        else:
            menus.clear_for(w.out, coach.chat_id)
