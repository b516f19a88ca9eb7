"""/agenda, /agenda ics and /gezinnen for a coach (PRODUCT.md §2.4, §2.5).

The snapshot comes from storage/repos/agenda.py (a fixed number of queries, whatever the
caseload); bot/domain/agenda.py decides what goes in; bot/agenda_text.py writes it, as the
morning agenda does.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from icalendar import Calendar, Event

from bot import agenda_text, wording
from bot.domain.agenda import build_agenda
from bot.domain.text import compare_key
from bot.i18n import Translator
from handlers.common import Who, Work
from storage.models import Appointment, Staff
from storage.repos import absences, appointments, audit, people
from storage.repos.agenda import snapshot

ICS_PAST = timedelta(days=30)  # the export starts this far back


async def show(w: Work, who: Who, text: str) -> None:
    staff = who.staff
    assert staff is not None
    tr = w.tr(who)
    if text.strip().casefold() in ("ics", "ical", "icalendar"):
        await ics(w, who, tr, staff)
        return
    snap = await snapshot(w.session, staff, w.now, tr.zone)
    audit.log_access(w.session, staff, [f.family_id for f in snap.families], "agenda",
                     "agenda op verzoek", w.now)
    found = build_agenda(snap)
    w.answer(who, agenda_text.render(tr, found, w.now),
             keyboard=agenda_text.keyboard(w.svc.signer, who.chat_id, tr, found))


def calendar(planned: Sequence[tuple[Appointment, str]], now: datetime) -> bytes:
    """The coach's appointments as iCalendar (RFC 5545), importable in any calendar program."""
    cal = Calendar()
    cal.add("prodid", "-//Gezinslijn//gezinslijn//NL")
    cal.add("version", "2.0")
    for appt, alias in planned:
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
    rows = await appointments.planned_for_coach(w.session, staff.id, w.now - ICS_PAST)
    data = calendar(rows, w.now)
    audit.log_access(w.session, staff, sorted({a.family_id for a, _ in rows}), "export",
                     "afspraken als agendabestand", w.now)
    w.out.document(who.chat_id, "gezinslijn-afspraken.ics", data,
                   tr.ngettext("{n} afspraak voor je agenda.", "{n} afspraken voor je agenda.",
                               len(rows)).format(n=len(rows)))


async def families(w: Work, who: Who) -> None:
    """/gezinnen: the caseload, each family's state in one line."""
    staff = who.staff
    assert staff is not None
    tr = w.tr(who)
    snap = await snapshot(w.session, staff, w.now, tr.zone)
    own = {f.family_id for f in snap.families}
    standing_in = sorted((f.alias for f in await absences.covered_families(w.session, staff,
                                                                           w.now)
                          if f.id not in own), key=compare_key)
    covering = [wording.sentence(tr.gettext("Je vervangt nu voor: {aliases}.").format(
        aliases=", ".join(standing_in)))] if standing_in else []
    if not snap.families:
        w.answer(who, "\n".join(covering or [tr.gettext(
            "Je hebt nog geen gezinnen. Maak er een met /nieuwgezin.")]))
        return
    counts = await people.member_counts(w.session, [f.family_id for f in snap.families])
    held = {h.family_id: h.count for h in snap.held}
    audit.log_access(w.session, staff, [f.family_id for f in snap.families], "overview",
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
