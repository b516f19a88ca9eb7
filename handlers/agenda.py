"""/agenda, /agenda ics and /gezinnen for a coach (PRODUCT.md §2.4, §2.5).

The snapshot is loaded with a fixed number of queries, whatever the caseload (no query per
family); bot/domain/agenda.py decides what goes in.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event
from sqlalchemy import Integer, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import wording
from bot.domain.agenda import (
    Agenda,
    AppointmentEntry,
    DueItem,
    FamilyState,
    Frequency,
    GoodNews,
    Held,
    Signal,
    Snapshot,
    build_agenda,
)
from bot.i18n import N_, Translator
from bot.outbox import Outgoing
from handlers.common import Who, Work
from handlers.rights import log_access
from storage import repo
from storage.models import (
    Absence,
    ActionItem,
    Appointment,
    Family,
    FamilyCoach,
    FamilyMessage,
    Member,
    Staff,
)

SIGNAL_WINDOW = timedelta(days=14)
FREQUENCY_NAMES = {
    Frequency.DAILY: N_("dagelijks"),
    Frequency.WEEKLY: N_("wekelijks"),
    Frequency.BIWEEKLY: N_("om de twee weken"),
    Frequency.MONTHLY: N_("maandelijks"),
    Frequency.QUARTERLY: N_("elke 3 maanden"),
    Frequency.HALFYEARLY: N_("elke 6 maanden"),
    Frequency.NEVER: N_("nooit"),
}


async def snapshot(session: AsyncSession, staff: Staff, now: datetime, zone: str,
                   weekly: bool = False) -> Snapshot:
    """Everything the agenda needs, in eight queries whatever the caseload."""
    local = now.astimezone(ZoneInfo(zone))
    day_start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    families = (await session.execute(
        select(Family, FamilyCoach.since).join(FamilyCoach, FamilyCoach.family_id == Family.id)
        .where(FamilyCoach.staff_id == staff.id, Family.active.is_(True)))).all()
    ids = [f.id for f, _ in families]
    alias = {f.id: f.alias for f, _ in families}
    appts = (await session.scalars(select(Appointment).where(
        Appointment.family_id.in_(ids), Appointment.status == "planned",
        Appointment.starts_at >= day_start, Appointment.starts_at < day_start
        + timedelta(days=2)))).all() if ids else []
    items = (await session.scalars(select(ActionItem).where(
        ActionItem.family_id.in_(ids), ActionItem.status == "open",
        ActionItem.due_date <= local.date()))).all() if ids else []
    signal_rows = (await session.scalars(select(FamilyMessage).where(
        FamilyMessage.family_id.in_(ids), FamilyMessage.kind == "signal",
        FamilyMessage.answered_at.is_(None),
        FamilyMessage.received_at >= now - SIGNAL_WINDOW))).all() if ids else []
    held_rows = (await session.execute(
        select(FamilyMessage.family_id, func.count(),
               func.sum(func.cast(FamilyMessage.urgent, Integer)))
        .where(FamilyMessage.family_id.in_(ids), FamilyMessage.status == "held")
        .group_by(FamilyMessage.family_id))).all() if ids else []
    absence = (await session.execute(select(Absence.starts_at, Absence.ends_at).where(
        Absence.staff_id == staff.id, Absence.ends_at > now).order_by(Absence.starts_at)
        .limit(1))).first()
    good = (await session.execute(
        select(FamilyMessage.family_id, FamilyMessage.body)
        .where(FamilyMessage.family_id.in_(ids), FamilyMessage.kind == "signal",
               FamilyMessage.received_at >= now - timedelta(days=7)))).all() \
        if ids and weekly else []
    done: dict[int, int] = {}
    kept: dict[int, int] = {}
    for family_id, body in good:
        kind = _signal_kind(body)
        if kind == "done":
            done[family_id] = done.get(family_id, 0) + 1
        elif kind == "coming":
            kept[family_id] = kept.get(family_id, 0) + 1
    signals = []
    for row in signal_rows:
        try:
            data = json.loads(row.body or "{}")
        except ValueError:
            continue
        if data.get("s") in ("cannot", "help"):
            signals.append(Signal(row.family_id, alias[row.family_id], data["s"],
                                  str(data.get("what", "")), row.received_at))
    return Snapshot(
        now=now, today=local.date(), zone=zone,
        families=tuple(FamilyState(
            f.id, f.alias,
            paused=f.paused_until is not None and f.paused_until > now,
            contact=Frequency(f.contact_frequency) if f.contact_frequency else None,
            last_contact=f.last_contact_at, since=since,
            review=Frequency(f.review_frequency or "never"),
            last_review=f.last_review_at) for f, since in families),
        appointments=tuple(AppointmentEntry(a.family_id, alias[a.family_id], a.starts_at,
                                            a.what, a.place, a.response) for a in appts),
        items=tuple(DueItem(i.family_id, alias[i.family_id], i.what, i.due_date)
                    for i in items),
        signals=tuple(signals),
        held=tuple(Held(fid, alias[fid], int(count), int(urgent or 0))
                   for fid, count, urgent in held_rows),
        absence=(absence[0], absence[1]) if absence else None,
        good_news=tuple(GoodNews(fid, alias[fid], done.get(fid, 0), kept.get(fid, 0))
                        for fid in sorted(set(done) | set(kept))),
        weekly=weekly,
    )


def _signal_kind(body: str | None) -> str | None:
    try:
        value = json.loads(body or "{}").get("s")
    except (ValueError, AttributeError):
        return None
    return str(value) if value else None


def render(tr: Translator, agenda: Agenda, now: datetime) -> str:
    if agenda.empty:
        return tr.gettext("📋 Je agenda voor vandaag is leeg. Niets dat op je wacht.")
    lines = [tr.gettext("📋 Je agenda voor {day}").format(day=tr.day(now))]
    if agenda.appointments:
        lines += ["", tr.gettext("Afspraken vandaag:")]
        for a in agenda.appointments:
            extra = {"coming": " 👍", "cannot": " ✋"}.get(a.response or "", "")
            place = f" ({a.place})" if a.place else ""
            lines.append(f"• {tr.time(a.at)} {a.alias}: {a.what}{place}{extra}")
    if agenda.held:
        lines += ["", tr.gettext("Bewaarde berichten:")]
        for h in agenda.held:
            flag = " 🆘" if h.urgent else ""
            lines.append(f"• {h.alias}: {h.count}{flag}")
    if agenda.signals:
        lines += ["", tr.gettext("Gezinnen die iets lieten weten:")]
        for s in agenda.signals:
            label = tr.gettext("lukt niet") if s.kind == "cannot" else tr.gettext("hulp nodig")
            lines.append(f"• {s.alias}: {label} — {s.what}")
    if agenda.due or agenda.overdue:
        lines += ["", tr.gettext("Actiepunten:")]
        for i in agenda.due:
            lines.append("• " + tr.gettext("{alias}: {what} (vandaag)").format(
                alias=i.alias, what=i.what))
        for i in agenda.overdue:
            lines.append("• " + tr.gettext("{alias}: {what} (sinds {day})").format(
                alias=i.alias, what=i.what, day=tr.day(i.due)))
    if agenda.contact_due:
        lines += ["", tr.gettext("Contact:")]
        for c in agenda.contact_due:
            lines.append("• " + tr.ngettext(
                "Je hebt {alias} {n} dag niet gesproken (afgesproken: {freq}).",
                "Je hebt {alias} {n} dagen niet gesproken (afgesproken: {freq}).",
                c.days).format(alias=c.alias, n=c.days,
                               freq=tr.gettext(FREQUENCY_NAMES[c.frequency])))
    if agenda.reviews_due:
        lines += ["", tr.gettext("Afstemgesprek nodig:")]
        for r in agenda.reviews_due:
            lines.append(f"• {r.alias} ({tr.gettext(FREQUENCY_NAMES[r.frequency])})")
    if agenda.absence:
        start, end = agenda.absence
        lines += ["", tr.gettext("Je afwezigheid: {first} tot {last}.").format(
            first=tr.day(start), last=tr.day(end - timedelta(seconds=1)))]
    if agenda.good_news:
        lines += ["", tr.gettext("🌟 Goed nieuws deze week:")]
        for g in agenda.good_news:
            parts = []
            if g.done:
                parts.append(tr.ngettext("{n} actiepunt gedaan", "{n} actiepunten gedaan",
                                         g.done).format(n=g.done))
            if g.kept:
                parts.append(tr.ngettext("{n} afspraak bevestigd", "{n} afspraken bevestigd",
                                         g.kept).format(n=g.kept))
            lines.append(f"• {g.alias}: " + ", ".join(parts))
    if agenda.paused:
        lines += ["", tr.gettext("Rustpauze: {aliases}").format(
            aliases=", ".join(agenda.paused))]
    return "\n".join(lines)


async def agenda_for(session: AsyncSession, staff: Staff, tr: Translator,
                     now: datetime) -> Agenda:
    return build_agenda(await snapshot(session, staff, now, tr.zone))


async def show(w: Work, who: Who, text: str) -> None:
    staff = who.staff
    assert staff is not None
    tr = w.tr(who)
    if text.strip().casefold() in ("ics", "ical", "icalendar"):
        await ics(w, who, tr, staff)
        return
    snap = await snapshot(w.session, staff, w.now, tr.zone)
    log_access(w.session, staff, [f.family_id for f in snap.families], "agenda",
               "agenda op verzoek", w.now)
    agenda = build_agenda(snap)
    from handlers.prompts import agenda_keyboard

    w.answer(who, render(tr, agenda, w.now),
             keyboard=agenda_keyboard(w.svc.signer, who.chat_id, tr, agenda))


def calendar(appointments: Sequence[tuple[Appointment, str]], now: datetime) -> bytes:
    """The coach's appointments as iCalendar (RFC 5545), importable in any calendar program."""
    cal = Calendar()
    cal.add("prodid", "-//Gezinslijn//gezinslijn//NL")
    cal.add("version", "2.0")
    for appt, alias in appointments:
        event = Event()
        event.add("uid", f"appointment-{appt.id}@gezinslijn")
        event.add("dtstamp", now)
        event.add("dtstart", appt.starts_at)
        event.add("dtend", appt.starts_at + timedelta(hours=1))
        event.add("summary", f"{alias}: {appt.what}")
        if appt.place:
            event.add("location", appt.place)
        cal.add_component(event)
    return bytes(cal.to_ical())


async def ics(w: Work, who: Who, tr: Translator, staff: Staff) -> None:
    rows = (await w.session.execute(
        select(Appointment, Family.alias).join(Family, Family.id == Appointment.family_id)
        .join(FamilyCoach, and_(FamilyCoach.family_id == Family.id,
                                FamilyCoach.staff_id == staff.id))
        .where(Appointment.status == "planned",
               Appointment.starts_at >= w.now - timedelta(days=30))
        .order_by(Appointment.starts_at))).all()
    data = calendar([(a, alias) for a, alias in rows], w.now)
    log_access(w.session, staff, sorted({a.family_id for a, _ in rows}), "export",
               "afspraken als agendabestand", w.now)
    out: Outgoing = w.out
    out.document(who.chat_id, "gezinslijn-afspraken.ics", data,
                 tr.ngettext("{n} afspraak voor je agenda.", "{n} afspraken voor je agenda.",
                             len(rows)).format(n=len(rows)))


async def families(w: Work, who: Who) -> None:
    """/gezinnen: the caseload, each family's state in one line."""
    staff = who.staff
    assert staff is not None
    tr = w.tr(who)
    snap = await snapshot(w.session, staff, w.now, tr.zone)
    own = {f.family_id for f in snap.families}
    standing_in = sorted((f.alias for f in await repo.covered_families(w.session, staff, w.now)
                          if f.id not in own), key=repo.alias_key)
    covering = [wording.sentence(tr.gettext("Je vervangt nu voor: {aliases}.").format(
        aliases=", ".join(standing_in)))] if standing_in else []
    if not snap.families:
        w.answer(who, "\n".join(covering or [tr.gettext(
            "Je hebt nog geen gezinnen. Maak er een met /nieuwgezin.")]))
        return
    counts = dict((await w.session.execute(
        select(Member.family_id, func.count()).where(
            Member.family_id.in_([f.family_id for f in snap.families]))
        .group_by(Member.family_id))).all())
    held = {h.family_id: h.count for h in snap.held}
    log_access(w.session, staff, [f.family_id for f in snap.families], "overview",
               "overzicht gezinnen", w.now)
    lines = [tr.gettext("Je gezinnen:")]
    for family in sorted(snap.families, key=lambda f: f.alias):
        parts = [tr.ngettext("{n} gezinslid", "{n} gezinsleden",
                             counts.get(family.family_id, 0)).format(
                                 n=counts.get(family.family_id, 0))]
        if held.get(family.family_id):
            parts.append(tr.gettext("{n} bewaard").format(n=held[family.family_id]))
        if family.paused:
            parts.append(tr.gettext("rustpauze"))
        if family.last_contact:
            parts.append(tr.gettext("laatste contact {day}").format(
                day=tr.day(family.last_contact)))
        lines.append(f"• {family.alias}: " + ", ".join(parts))
    w.answer(who, "\n".join([*lines, *(["", *covering] if covering else [])]))
