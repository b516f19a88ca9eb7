"""What a coordinator does (PRODUCT.md §2.6): invite coaches and the on-call team, the overview
per coach, moving a family to another coach, a coach who leaves, urgent alerts; and a coach
asking the coordinator for help."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from bot import outbox, wording
from bot.domain.text import compare_key
from bot.i18n import Translator
from bot.invites import create_invite
from bot.tokens import invite_link
from handlers import flow, menus, picks
from handlers.coach import ALIAS_MAX, authorized_family, fields, with_family
from handlers.common import Who, Work
from storage.models import Family, Staff
from storage.repos import absences, agenda, audit, families, help_requests, people


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
    # Kept (who, which family, when) so the overview counts it while it is open.
    await help_requests.ask(w.session, family.id, staff.id, w.now)
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
    help_open = await agenda.help_requests(w.session, w.now)  # families' "Hulp nodig"
    asked = await help_requests.open_per_coach(w.session, w.now)  # coaches' /coordinator
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
            help=sum(help_open.get(i, 0) for i in ids) + asked.get(coach.id, 0)))
        for absence in (a for a in away if a.staff_id == coach.id):
            lines.append("  " + tr.gettext("afwezig {first} – {last}").format(
                first=tr.day(absence.starts_at),
                last=tr.day(absence.ends_at - timedelta(seconds=1))))
    if not coaches:  # a new coordinator's first look: what to do first
        lines += ["", tr.gettext("Er zijn nog geen coaches. Nodig er een uit met "
                                 "/coachuitnodigen.")]
    audit.log_access(w.session, who.staff, sorted(set(shown)), "overview",
                     "coördinatoroverzicht", w.now)
    w.answer(who, "\n".join(lines))


# /verplaats --------------------------------------------------------------------------------------
# Step by step (handlers/flow.py): which family (any active one), to which coach, "Klopt dit?".
# `/verplaats Gezin J. | Pieter` only asks to confirm.
MOVE_STEPS = ("move_family", "move_coach", "move_ok")
FAMILY_BUTTONS_MAX = 30


async def move_family(w: Work, who: Who, text: str) -> None:
    """/verplaats Gezin J. | Pieter — the family gets a new coach and is told."""
    tr = w.tr(who)
    # Typed without `|` ("bakker pieter"): the first words that name a family, then the coach.
    split = families.split_alias(await families.active_families(w.session), text) \
        if families.without_fields(text) else None
    parts = list(split) if split else fields(text) if text.strip() else []
    data: dict[str, object] = {}
    if len(parts) > 1 and parts[1]:
        data["coach_text"] = parts[1][:ALIAS_MAX]
    await _read_family(w, who, tr, data, parts[0] if parts else "")


async def continue_move(w: Work, who: Who, action: str, data: dict[str, object],
                        text: str) -> bool:
    """The answer to one of /verplaats's questions, typed or tapped."""
    if not who.is_coordinator or action not in MOVE_STEPS:
        return False
    tr = w.tr(who)
    if action == "move_family":
        await _read_family(w, who, tr, data, text)
        return True
    family = await families.family_by_id(w.session, int(str(data.get("family_id", 0))))
    if family is None or not family.active:
        return False
    if action == "move_coach":
        await _read_new_coach(w, who, tr, family, data, text)
        return True
    answer = await picks.confirmed(w, who, action, data, text)
    if answer is None:
        return False
    new = await _active_coach(w, data.get("coach"))
    if answer and new is None:
        await _read_new_coach(w, who, tr, family, data, "")  # stopped meanwhile: choose again
    elif answer and new is not None:
        await _move(w, who, tr, family, new)
    return True


async def _read_family(w: Work, who: Who, tr: Translator, data: dict[str, object],
                       text: str) -> None:
    """Any active family, by a tapped button or a typed (start of an) alias."""
    active = sorted(await families.active_families(w.session), key=lambda f: compare_key(f.alias))
    wanted = picks.by_id(text)
    found = ([f for f in active if f.id == wanted] if wanted is not None
             else families.match_alias(active, text) if text else [])
    if len(found) == 1:
        data["family_id"] = found[0].id
        await _read_new_coach(w, who, tr, found[0], data, str(data.pop("coach_text", "")))
        return
    if not active:
        w.answer(who, tr.gettext("Er zijn nog geen gezinnen."))
        return
    if found:
        intro = tr.gettext("Welk gezin bedoel je?")
    elif text:
        intro = tr.gettext("Ik ken geen gezin '{alias}'. Kies er een:").format(
            alias=text[:ALIAS_MAX])
    else:
        intro = tr.gettext("Welk gezin gaat naar een andere coach? Tik op een gezin, of typ de "
                           "naam.")
    shown = [(f.alias, f"#{f.id}") for f in (found or active)[:FAMILY_BUTTONS_MAX]]
    await flow.ask(w, who, "move_family", data, intro,
                   [shown[i:i + 2] for i in range(0, len(shown), 2)])


async def _read_new_coach(w: Work, who: Who, tr: Translator, family: Family,
                          data: dict[str, object], typed: str) -> None:
    old = list(await families.coaches_of(w.session, family.id))
    coaches = list(await people.active_coaches(w.session))
    # Moving to the one coach it has changes nothing; in a duo, either may keep it alone.
    staying = {old[0].id} if len(old) == 1 else set()
    candidates = [c for c in coaches if c.id not in staying]
    found = picks.pick_coach(typed, coaches) if typed else []
    if len(found) == 1 and found[0].id not in staying:
        new = found[0]
        data["coach"] = new.id
        await picks.confirm(w, who, "move_ok", data, [
            _from_to(tr, family, old, new),
            tr.gettext("Het gezin krijgt daarover een bericht.")])
        return
    if not candidates:
        w.answer(who, tr.gettext("Er is geen andere coach. Nodig eerst een coach uit met "
                                 "/coachuitnodigen."))
        return
    lines = []
    if found and found[0].id in staying:
        lines.append(wording.sentence(tr.gettext("{name} is al coach van {alias}.").format(
            name=found[0].display_name, alias=family.alias)))
    elif typed:
        lines.append(picks.not_found(tr, typed, found))
    if old:
        lines.append(wording.sentence(tr.gettext("Coach van {alias} nu: {names}.").format(
            alias=family.alias, names=wording.names(tr, [c.display_name for c in old]))))
    lines.append(wording.sentence(tr.gettext("Naar welke coach gaat {alias}? Tik op een coach, "
                                             "of typ een naam.").format(alias=family.alias)))
    shown = [c for c in found if c.id not in staying] or candidates
    await flow.ask(w, who, "move_coach", data, "\n".join(lines), picks.coach_rows(shown))


def _from_to(tr: Translator, family: Family, old: Sequence[Staff], new: Staff) -> str:
    if not old:
        return wording.sentence(tr.gettext("{alias} krijgt {new} als coach.").format(
            alias=family.alias, new=new.display_name))
    return wording.sentence(tr.gettext("{alias} gaat van {old} naar {new}.").format(
        alias=family.alias, old=wording.names(tr, [c.display_name for c in old]),
        new=new.display_name))


async def _active_coach(w: Work, staff_id: object) -> Staff | None:
    found = await people.staff_by_id(w.session, int(str(staff_id or 0)))
    return found if found is not None and found.active and found.is_coach else None


async def _move(w: Work, who: Who, tr: Translator, family: Family, new: Staff) -> None:
    old = list(await families.coaches_of(w.session, family.id))
    if len(old) == 1 and old[0].id == new.id:
        w.answer(who, wording.sentence(tr.gettext("{name} is al coach van {alias}.").format(
            name=new.display_name, alias=family.alias)))
        return
    await _hand_over(w, family, old, new)
    w.answer(who, tr.gettext("{alias} heeft nu {name} als coach.").format(
        alias=family.alias, name=new.display_name))
    for coach in old:
        if coach.chat_id is not None and coach.id != new.id:
            ctr = w.tr_for(staff=coach)
            w.out.text(coach.chat_id, ctr.gettext("{alias} heeft nu een andere coach: {name}."
                                                  ).format(alias=family.alias,
                                                           name=new.display_name),
                       purpose="notice")
    if new.chat_id is not None and all(c.id != new.id for c in old):
        ntr = w.tr_for(staff=new)
        w.out.text(new.chat_id, ntr.gettext("Je bent nu coach van {alias}.").format(
            alias=family.alias), purpose="notice")


async def _hand_over(w: Work, family: Family, leaving: Sequence[Staff], new: Staff) -> None:
    """`leaving` no longer coach the family, `new` does (a duo partner may be `new`); the
    family hears it in their own language."""
    stays = any(c.id == new.id for c in leaving) or await families.is_coach_of(
        w.session, new.id, family.id)
    await families.remove_coaches(w.session, family.id,
                                  [c.id for c in leaving if c.id != new.id])
    if not stays:
        families.add_coach(w.session, family.id, new.id, w.now)
    previous = [c.display_name for c in leaving if c.id != new.id]
    for member in await people.members_of(w.session, family.id):
        mtr = w.tr_for(member=member, family=family)
        lines = [mtr.gettext("{name} blijft je gezinscoach.") if stays else
                 mtr.gettext("Je hebt een nieuwe gezinscoach: {name}.")]
        if previous:
            lines.append(mtr.gettext("{old} draagt jullie over aan {new}."))
        lines += [mtr.gettext("Jullie afspraken gaan mee, en je berichten gaan vanaf nu naar "
                              "{new}."),
                  mtr.gettext("Past dit niet goed bij jullie? Zeg het gerust tegen {new}; dan "
                              "hoort de coördinator het.")]
        old = wording.names(mtr, previous)
        w.out.text(member.chat_id, "\n".join(
            line.format(name=new.display_name, new=new.display_name, old=old) for line in lines),
            purpose="notice")


# /coachstop ------------------------------------------------------------------------------------
# Step by step: which coach, to which coach their families go, "Klopt dit?". No family is ever
# left without a coach. `/coachstop Sanne | Pieter` only asks to confirm.
STOP_STEPS = ("stop_coach", "stop_to", "stop_ok")


async def deactivate_coach(w: Work, who: Who, text: str) -> None:
    """/coachstop <name> [| <coach who takes over>]: a coach leaves the service."""
    tr = w.tr(who)
    parts = fields(text) if text.strip() else []
    data: dict[str, object] = {}
    if len(parts) > 1 and parts[1]:
        data["to_text"] = parts[1][:ALIAS_MAX]
    await _read_leaving(w, who, tr, data, parts[0] if parts else "")


async def continue_stop(w: Work, who: Who, action: str, data: dict[str, object],
                        text: str) -> bool:
    """The answer to one of /coachstop's questions, typed or tapped."""
    if not who.is_coordinator or action not in STOP_STEPS:
        return False
    tr = w.tr(who)
    if action == "stop_coach":
        await _read_leaving(w, who, tr, data, text)
        return True
    leaving = await _active_coach(w, data.get("coach"))
    if leaving is None:
        return False
    if action == "stop_to":
        await _read_receiver(w, who, tr, leaving, data, text)
        return True
    answer = await picks.confirmed(w, who, action, data, text)
    if answer is None:
        return False
    if answer:
        await _stop(w, who, tr, leaving, data)
    return True


async def _read_leaving(w: Work, who: Who, tr: Translator, data: dict[str, object],
                        text: str) -> None:
    coaches = list(await people.active_coaches(w.session))
    found = picks.pick_coach(text, coaches) if text else []
    if len(found) == 1:
        data["coach"] = found[0].id
        await _read_receiver(w, who, tr, found[0], data, str(data.pop("to_text", "")))
        return
    if not coaches:
        w.answer(who, tr.gettext("Er zijn geen coaches."))
        return
    intro = picks.not_found(tr, text, found) if text else tr.gettext(
        "Welke coach stopt? Tik op een naam, of typ de naam.")
    await flow.ask(w, who, "stop_coach", data, intro, picks.coach_rows(found or coaches))


async def _read_receiver(w: Work, who: Who, tr: Translator, leaving: Staff,
                         data: dict[str, object], typed: str) -> None:
    """Where the leaving coach's families go: one coach takes them all."""
    caseload = list(await families.families_of_coach(w.session, leaving.id))
    stops = wording.sentence(tr.gettext("{name} stopt als coach in Gezinslijn.").format(
        name=leaving.display_name))
    if not caseload:
        data.pop("to", None)
        await picks.confirm(w, who, "stop_ok", data, [stops])
        return
    others = [c for c in await people.active_coaches(w.session) if c.id != leaving.id]
    aliases = ", ".join(f.alias for f in caseload)
    has = tr.ngettext("{name} heeft nog {n} gezin: {aliases}.",
                      "{name} heeft nog {n} gezinnen: {aliases}.", len(caseload)).format(
        name=leaving.display_name, n=len(caseload), aliases=aliases)
    if not others:
        w.answer(who, "\n".join([wording.sentence(has), tr.gettext(
            "Er is geen andere coach om ze over te nemen. Nodig eerst een coach uit met "
            "/coachuitnodigen.")]))
        return
    found = picks.pick_coach(typed, others) if typed else []
    if len(found) == 1:
        data["to"] = found[0].id
        await picks.confirm(w, who, "stop_ok", data, [
            stops,
            wording.sentence(tr.ngettext("{aliases} gaat naar {new}.",
                                         "{aliases} gaan naar {new}.", len(caseload)).format(
                aliases=aliases, new=found[0].display_name)),
            tr.ngettext("Het gezin krijgt daarover een bericht.",
                        "De gezinnen krijgen daarover een bericht.", len(caseload))])
        return
    lines = [picks.not_found(tr, typed, found)] if typed else []
    lines += [wording.sentence(has),
              tr.ngettext("Naar welke coach gaat het?", "Naar welke coach gaan ze?",
                          len(caseload)),
              tr.gettext("Over meer coaches verdelen? Verplaats ze dan eerst een voor een met "
                         "/verplaats.")]
    await flow.ask(w, who, "stop_to", data, "\n".join(lines), picks.coach_rows(found or others))


async def _stop(w: Work, who: Who, tr: Translator, leaving: Staff,
                data: dict[str, object]) -> None:
    caseload = list(await families.families_of_coach(w.session, leaving.id))
    receiver = await _active_coach(w, data.get("to")) if caseload else None
    if caseload and (receiver is None or receiver.id == leaving.id):
        # Families came (or the chosen coach left) since the question: ask where they go.
        data.pop("to", None)
        await _read_receiver(w, who, tr, leaving, data, "")
        return
    if receiver is not None:
        for family in caseload:
            await _hand_over(w, family, [leaving], receiver)
        if receiver.chat_id is not None:
            rtr = w.tr_for(staff=receiver)
            w.out.text(receiver.chat_id, rtr.gettext("Je bent nu coach van {alias}.").format(
                alias=", ".join(f.alias for f in caseload)), purpose="notice")
        w.answer(who, tr.gettext("{alias} heeft nu {name} als coach.").format(
            alias=", ".join(f.alias for f in caseload), name=receiver.display_name))
    _deactivate(w, who, tr, leaving)


def _deactivate(w: Work, who: Who, tr: Translator, coach: Staff) -> None:
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
