"""What a coordinator does (PRODUCT.md §2.6): invite coaches and the on-call team, the overview
per coach, moving a family to another coach, a coach who leaves, urgent alerts; and a coach
asking the coordinator for help."""

from __future__ import annotations

from datetime import timedelta

from bot import outbox
from bot.invites import create_invite
from bot.tokens import invite_link
from handlers import menus
from handlers.coach import authorized_family, fields, with_family
from handlers.common import Who, Work
from storage.repos import absences, agenda, audit, families, people


async def invite_oncall(w: Work, who: Who) -> None:
    """A link for the on-duty crisis team's Telegram account (PRODUCT.md §2.3, policy oncall)."""
    await invite_coach(w, who, kind="oncall")


async def invite_coach(w: Work, who: Who, kind: str = "coach") -> None:
    assert who.staff is not None
    tr = w.tr(who)
    token, stored = create_invite(w.session, kind, w.now,
                                  timedelta(days=w.svc.settings.invite_days),
                                  created_by=who.staff.id)
    w.answer(who, "\n".join([
        tr.gettext("Stuur deze link naar de nieuwe coach:") if kind == "coach" else
        tr.gettext("Open deze link op de telefoon van de crisisdienst:"),
        invite_link(w.svc.bot_username, token),
        tr.gettext("De link werkt één keer, tot {date}.").format(
            date=tr.date_short(stored.expires_at)),
    ]))


ON_WORDS = frozenset({"aan", "ja", "on", "yes", "oui", "activer"})
OFF_WORDS = frozenset({"uit", "nee", "off", "no", "non", "désactiver"})


async def urgent_alerts(w: Work, who: Who, args: str) -> None:
    """/spoedmelding: whether this coordinator hears of urgent family messages held out of
    hours (the family's alias and the time, never the content). Asks with buttons."""
    word = args.strip().casefold()
    if word in ON_WORDS or word in OFF_WORDS:
        await set_urgent_alerts(w, who, word in ON_WORDS)
        return
    staff = who.staff
    assert staff is not None
    tr = w.tr(who)
    state = (tr.gettext("Je krijgt nu een melding bij spoedberichten buiten de tijden.")
             if staff.urgent_alerts else
             tr.gettext("Je krijgt nu geen melding bij spoedberichten buiten de tijden."))
    w.answer(who, "\n".join([
        state,
        tr.gettext("Je ziet dan alleen welk gezin en hoe laat, nooit wat er staat."),
    ]), keyboard=outbox.keyboard([
        [(tr.gettext("✅ Wel een melding"), w.sign(who.chat_id, "urgalert", "on"))],
        [(tr.gettext("Geen melding"), w.sign(who.chat_id, "urgalert", "off"))]]))


async def set_urgent_alerts(w: Work, who: Who, on: bool) -> None:
    staff = who.staff
    assert staff is not None
    tr = w.tr(who)
    staff.urgent_alerts = on
    w.answer(who, tr.gettext("Goed. Bij een spoedbericht buiten de tijden krijg je een melding.")
             if on else tr.gettext("Goed. Je krijgt geen meldingen bij spoedberichten."))


# /coordinator: a coach asks for help -------------------------------------------------------------
async def ask_coordinator(w: Work, who: Who, text: str) -> None:
    """One tap for help: the coordinator hears which family and who asks, never content."""
    await with_family(w, who, text, "askc", ask_for)


async def ask_for(w: Work, who: Who, family_id: int) -> None:
    tr = w.tr(who)
    family = await authorized_family(w, who, family_id)
    staff = who.staff
    if family is None or staff is None:
        return
    coordinators = [c for c in await people.coordinators(w.session) if c.id != staff.id]
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


# /overzicht -------------------------------------------------------------------------------------
async def overview(w: Work, who: Who) -> None:
    """Per coach: families, held and unanswered messages, open requests for help, absences —
    counts and aliases only. Every family shown is written to the access log."""
    tr = w.tr(who)
    coaches = await people.active_coaches(w.session)
    by_coach = await agenda.caseloads(w.session)
    held, unanswered = await agenda.waiting_counts(w.session)
    away = await absences.absences_not_ended(w.session, [c.id for c in coaches], w.now)
    help_open = await agenda.help_requests(w.session, w.now)
    lines = [tr.gettext("📊 Overzicht per coach")]
    shown: list[int] = []
    for coach in coaches:
        caseload = sorted(by_coach.get(coach.id, []), key=lambda f: f[1])
        ids = [f for f, _ in caseload]
        shown += ids
        lines += ["", tr.ngettext("{coach}: {n} gezin", "{coach}: {n} gezinnen",
                                  len(caseload)).format(coach=coach.display_name,
                                                        n=len(caseload))]
        if caseload:
            lines.append("  " + ", ".join(alias for _, alias in caseload))
        lines.append("  " + tr.gettext("bewaard {held} · zonder antwoord {open} · hulpvragen "
                                       "{help}").format(
            held=sum(held.get(i, 0) for i in ids), open=sum(unanswered.get(i, 0) for i in ids),
            help=sum(help_open.get(i, 0) for i in ids)))
        for absence in (a for a in away if a.staff_id == coach.id):
            lines.append("  " + tr.gettext("afwezig {first} – {last}").format(
                first=tr.day(absence.starts_at),
                last=tr.day(absence.ends_at - timedelta(seconds=1))))
    audit.log_access(w.session, who.staff, sorted(set(shown)), "overview",
                     "coördinatoroverzicht", w.now)
    w.answer(who, "\n".join(lines))


# /verplaats --------------------------------------------------------------------------------------
async def move_family(w: Work, who: Who, text: str) -> None:
    """/verplaats Gezin J. | Pieter — the family gets a new coach and is told."""
    tr = w.tr(who)
    parts = fields(text) if text.strip() else []
    if len(parts) < 2 or not parts[0] or not parts[1]:
        w.answer(who, tr.gettext("Gebruik: /verplaats Gezin J. | naam van de nieuwe coach"))
        return
    found = families.match_alias(await families.active_families(w.session), parts[0])
    if len(found) != 1:
        w.answer(who, tr.gettext("Ik vind niet precies één gezin met die naam."))
        return
    family = found[0]
    coaches = await people.coaches_named(w.session, parts[1])
    if len(coaches) != 1:
        w.answer(who, tr.gettext("Ik vind niet precies één coach met die naam."))
        return
    new = coaches[0]
    old = list(await families.coaches_of(w.session, family.id))
    if any(c.id == new.id for c in old) and len(old) == 1:
        w.answer(who, tr.gettext("{name} is al coach van {alias}.").format(
            name=new.display_name, alias=family.alias))
        return
    await families.remove_coaches(w.session, family.id, [c.id for c in old])
    families.add_coach(w.session, family.id, new.id, w.now)
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
    for member in await people.members_of(w.session, family.id):
        mtr = w.tr_for(member=member, family=family)
        w.out.text(member.chat_id, mtr.gettext(
            "Je hebt een nieuwe gezinscoach: {name}. Je berichten gaan nu naar {name}.").format(
                name=new.display_name), purpose="notice")


# /coachstop ------------------------------------------------------------------------------------
async def deactivate_coach(w: Work, who: Who, text: str) -> None:
    """/coachstop <name>: a coach leaves the service. Their families are moved first, so no
    family is ever left without a coach."""
    tr = w.tr(who)
    name = text.strip()
    found = list(await people.coaches_named(w.session, name)) if name else []
    if len(found) != 1:
        w.answer(who, tr.gettext("Gebruik: /coachstop naam van de coach"))
        return
    coach = found[0]
    caseload = await families.families_of_coach(w.session, coach.id)
    if caseload:
        w.answer(who, tr.gettext("{name} heeft nog gezinnen: {aliases}. Verplaats ze eerst met "
                                 "/verplaats.").format(
            name=coach.display_name, aliases=", ".join(f.alias for f in caseload)))
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
        if coach.active:
            menus.set_for_staff(w.out, coach.chat_id, ctr, coach)
        else:
            menus.clear_for(w.out, coach.chat_id)
