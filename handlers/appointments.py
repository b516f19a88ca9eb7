"""PRODUCT.md §2.4: appointments (*afspraken*) and agreements (*actiepunten*).

Coaches add them in one line or step by step; the bot repeats what it understood and asks to
confirm. Confirming stores the item and plans its reminders in the same transaction.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot import outbox, wording
from bot.delivery import signals
from bot.domain.availability import DEFAULT_TIMEZONES
from bot.domain.recurrence import (
    Recurrence,
    first_occurrence,
    next_occurrence,
    parse_recurrence,
)
from bot.domain.reminder_plan import (
    pause_until,
    plan_agreement_reminders,
)
from bot.domain.when import WhenError, correction, parse_day, parse_when
from bot.i18n import N_, Translator
from bot.jobs.reminders import describe_appointment, plan_agreement, plan_appointment
from handlers import flow, picks
from handlers.coach import authorized_family, fields, free_fields, resolve_family
from handlers.common import Who, Work
from storage.models import ActionItem, Appointment, Family
from storage.repos import appointments, families, pending, people

STEP_WINDOW = timedelta(minutes=30)
WHAT_MAX = 200
WHEN_EXAMPLES = {
    "when.appointment": N_("Bijvoorbeeld: morgen 14:00, vrijdag 10u30, 27/11 9u of over 2 uur."),
    "when.add_time": N_("Zet er een tijd bij, bijvoorbeeld: donderdag 14:00."),
    "when.day": N_("Bijvoorbeeld: vrijdag, 27/11, morgen of elke week."),
}
WHEN_PROBLEMS = {
    "past": N_("Dat moment is al voorbij."),
    "too_far": N_("Dat is meer dan twee jaar vooruit."),
    "invalid_date": N_("Die datum bestaat niet."),
    "invalid_time": N_("Die tijd bestaat niet."),
    "no_time": N_("Er staat geen tijd bij."),
    "weekday_mismatch": N_("De dag en de datum passen niet bij elkaar."),
    "past_needs_year": N_("Die datum is dit jaar al voorbij. Zet het jaar erbij, "
                          "bijvoorbeeld 3/11/2027."),
    "part_mismatch": N_("Het uur past niet bij het dagdeel. Welk uur bedoel je?"),
    "morning_or_evening": N_("Bedoel je 's ochtends of 's avonds?"),
    "ambiguous": N_("Dat kan ik op twee manieren lezen. Schrijf de dag en het uur."),
}
RECURRENCE_NAMES = {
    Recurrence.WEEKLY: N_("elke week"),
    Recurrence.BIWEEKLY: N_("om de twee weken"),
    Recurrence.MONTHLY: N_("elke maand"),
}


def when_help(tr: Translator, error: WhenError) -> str:
    problem = WHEN_PROBLEMS.get(error.reason)
    first = tr.gettext(problem) if problem else tr.gettext("Ik kan die datum niet lezen.")
    example = WHEN_EXAMPLES.get(error.example_key, WHEN_EXAMPLES["when.appointment"])
    return f"{first} {tr.gettext(example)}"


# /afspraak ------------------------------------------------------------------------------------
async def appointment(w: Work, who: Who, text: str) -> None:
    tr = w.tr(who)
    zone = DEFAULT_TIMEZONES[w.svc.settings.region]
    text = await free_fields(w, who, text, lambda moment: not isinstance(
        parse_when(moment, w.now, zone), WhenError))
    parts = fields(text) if text.strip() else []
    rest = "".join(f" | {part}" for part in parts[1:])  # kept while the family is asked
    family = await resolve_family(w, who, tr, parts[0] if parts else "", "apf",
                                  retry=("afspraak", rest) if rest else None)
    if family is None:
        return
    if len(parts) == 1:
        await _list_appointments(w, who, tr, family)
        return
    await _appointment_steps(w, who, tr, family, parts[1:])


async def appointment_for(w: Work, who: Who, family_id: int) -> None:
    """A family was picked with a button: continue step by step."""
    family = await authorized_family(w, who, family_id)
    if family is not None:
        await _appointment_steps(w, who, w.tr(who), family, [])


async def _appointment_steps(w: Work, who: Who, tr: Translator, family: Family,
                             parts: list[str]) -> None:
    when_text = parts[0] if parts else ""
    what = parts[1][:WHAT_MAX] if len(parts) > 1 else ""
    place = parts[2][:WHAT_MAX] if len(parts) > 2 and parts[2] else None
    if not when_text:  # (what and place, when given, are kept for after the when)
        await pending.set_pending(w.session, who.chat_id, "appt_when", {
            "family_id": family.id, "what": what, "place": place}, w.now + STEP_WINDOW)
        w.answer(who, tr.gettext("Wanneer is de afspraak met {alias}? {example}").format(
            alias=family.alias, example=tr.gettext(WHEN_EXAMPLES["when.appointment"])),
            keyboard=flow.choices_keyboard(w, who, []))
        return
    parsed = parse_when(when_text, w.now, family.timezone)
    if isinstance(parsed, WhenError):
        await pending.set_pending(w.session, who.chat_id, "appt_when", {
            "family_id": family.id, "what": what, "place": place}, w.now + STEP_WINDOW)
        w.answer(who, when_help(tr, parsed) + "\n" + tr.gettext("Probeer het nog eens:"),
                 keyboard=flow.choices_keyboard(w, who, []))
        return
    if not what:
        await pending.set_pending(w.session, who.chat_id, "appt_what", {
            "family_id": family.id, "at": parsed.at.isoformat()}, w.now + STEP_WINDOW)
        w.answer(who, tr.gettext("Wat is de afspraak? Bijvoorbeeld: huisbezoek, of gesprek "
                                 "met school."), keyboard=flow.choices_keyboard(w, who, []))
        return
    await _confirm_appointment(w, who, tr, family, parsed.at, what, place)


async def _confirm_appointment(w: Work, who: Who, tr: Translator, family: Family,
                               at: datetime, what: str, place: str | None,
                               move_id: int | None = None, review: bool = False) -> None:
    data: dict[str, object] = {"family_id": family.id, "at": at.isoformat(), "what": what,
                               "place": place, "move": move_id, "review": review}
    await pending.set_pending(w.session, who.chat_id, "appt_confirm", data, w.now + STEP_WINDOW)
    check = tr.gettext("Klopt dit?") + "\n" + f"{family.alias}: " + describe_appointment(
        tr, at, what, place, w.now)
    w.answer(who, check, keyboard=outbox.keyboard([
        [(tr.gettext("✅ Klopt, opslaan"), w.sign(who.chat_id, "apok"))],
        [(tr.gettext("Annuleren"), w.sign(who.chat_id, "apno"))]]))


# The typed answers each command's steps take (handlers/registry.py): when, what, and
# "Klopt dit?" (a typed yes, or a changed time or day).
APPOINTMENT_STEPS = ("appt_when", "appt_what", "appt_confirm")
AGREEMENT_STEPS = ("act_due", "act_what", "act_confirm")


async def continue_step(w: Work, who: Who, action: str, data: dict[str, object],
                        text: str) -> bool:
    """The next typed line of a step-by-step command. True when it was consumed."""
    tr = w.tr(who)
    family_id = int(str(data.get("family_id", 0)))
    family = await authorized_family(w, who, family_id)
    if family is None:
        return False
    if action == "appt_when":
        what = str(data.get("what") or "")
        place = data.get("place")
        move = data.get("move")
        parsed = parse_when(text, w.now, family.timezone)
        if isinstance(parsed, WhenError):
            w.answer(who, when_help(tr, parsed) + "\n" + tr.gettext("Probeer het nog eens:"),
                     keyboard=flow.choices_keyboard(w, who, []))
            await pending.set_pending(w.session, who.chat_id, action, data, w.now + STEP_WINDOW)
            return True
        if move is not None or data.get("review"):
            await _confirm_as_before(w, who, tr, family, parsed.at, data)
            return True
        await _appointment_steps(w, who, tr, family,
                                 [text, what, str(place) if place else ""])
        return True
    if action == "appt_what":
        at = datetime.fromisoformat(str(data["at"]))
        changed = _changed_moment(w, text, at, family)
        if changed is not None:  # not the what: the coach changed the time
            await pending.set_pending(w.session, who.chat_id, action,
                                      {**data, "at": changed.isoformat()}, w.now + STEP_WINDOW)
            w.answer(who, "\n".join([
                tr.gettext("Goed, dan {when}.").format(when=tr.when(changed, w.now)),
                tr.gettext("Wat is de afspraak? Bijvoorbeeld: huisbezoek, of gesprek met "
                           "school.")]), keyboard=flow.choices_keyboard(w, who, []))
            return True
        await _confirm_appointment(w, who, tr, family, at, text.strip()[:WHAT_MAX], None)
        return True
    if action == "appt_confirm":
        at = datetime.fromisoformat(str(data["at"]))
        changed = _changed_moment(w, text, at, family)
        if changed is not None:
            await _confirm_as_before(w, who, tr, family, changed, data)
            return True
        return await _typed_check(w, who, tr, family, action, data, text)
    if action == "act_due":
        await _agreement_steps(w, who, tr, family, [text, str(data.get("what") or "")])
        return True
    if action == "act_what":
        changed_due = _changed_due(w, text, family)
        if changed_due is not None:  # not the what: the coach changed the day
            w.answer(who, " ".join([tr.gettext("Goed."), describe_due(tr, *changed_due)]))
            await _agreement_steps(w, who, tr, family, [correction(text)])
            return True
        await _agreement_steps(w, who, tr, family, [str(data.get("due") or ""), text])
        return True
    if action == "act_confirm":
        if _changed_due(w, text, family) is not None:
            await _agreement_steps(w, who, tr, family, [correction(text), str(data["what"])])
            return True
        return await _typed_check(w, who, tr, family, action, data, text)
    return False


async def _confirm_as_before(w: Work, who: Who, tr: Translator, family: Family, at: datetime,
                             data: dict[str, object]) -> None:
    """"Klopt dit?" for a new moment, with the what, place, move and review already given."""
    place, move = data.get("place"), data.get("move")
    await _confirm_appointment(w, who, tr, family, at, str(data.get("what") or ""),
                               str(place) if place else None,
                               int(str(move)) if move is not None else None,
                               review=bool(data.get("review")))


def _changed_moment(w: Work, text: str, before: datetime, family: Family) -> datetime | None:
    """A line that is a moment, not the answer asked for: the coach changed their mind ("nee,
    toch woensdag om 10 uur", "liever half drie": a time alone stays on the day said before)."""
    day = before.astimezone(ZoneInfo(family.timezone)).date()
    moment = parse_when(correction(text), w.now, family.timezone, day=day)
    return moment.at if not isinstance(moment, WhenError) else None


def _changed_due(w: Work, text: str, family: Family) -> tuple[date, Recurrence] | None:
    """The same for an agreement's day: "nee, toch maandag", "liever elke week"."""
    due = _read_due(correction(text), w.now, family.timezone)
    return due if not isinstance(due, WhenError) else None


async def _typed_check(w: Work, who: Who, tr: Translator, family: Family, action: str,
                       data: dict[str, object], text: str) -> bool:
    """"Klopt dit?" answered by typing: a yes saves as ✅ does, a no stops; another line is no
    answer (the question stays, the line goes its usual way)."""
    answer = await picks.confirmed(w, who, action, data, text)
    if answer is None:
        return False
    if answer:
        await pending.clear_pending(w.session, who.chat_id)
        await _save(w, who, tr, family, action, data)
    return True


async def confirm(w: Work, who: Who, message_id: int, yes: bool) -> None:
    """✅ Klopt, opslaan / Annuleren on an appointment or agreement check."""
    tr = w.tr(who)
    w.out.remove_buttons(who.chat_id, message_id)
    step = await pending.pending(w.session, who.chat_id, w.now)
    if step is None or step.action not in ("appt_confirm", "act_confirm"):
        w.answer(who, tr.gettext("Deze vraag is verlopen. Begin opnieuw."))
        return
    await pending.clear_pending(w.session, who.chat_id)
    if not yes:
        w.answer(who, tr.gettext("Niet opgeslagen."))
        return
    family = await authorized_family(w, who, int(step.data["family_id"]))
    if family is None:
        return
    await _save(w, who, tr, family, step.action, step.data)


async def _save(w: Work, who: Who, tr: Translator, family: Family, action: str,
                data: dict[str, object]) -> None:
    """The check confirmed (✅ or a typed yes): the appointment or the agreement is saved."""
    if action == "appt_confirm":
        await _save_appointment(w, who, tr, family, data)
    else:
        await _save_agreement(w, who, tr, family, data)


async def _save_appointment(w: Work, who: Who, tr: Translator, family: Family,
                            data: dict[str, object]) -> None:
    at = datetime.fromisoformat(str(data["at"]))
    what, place = str(data["what"]), data.get("place")
    move = data.get("move")
    if move is not None:
        appt = await appointments.appointment_by_id(w.session, int(str(move)))
        if appt is None or appt.family_id != family.id or appt.status != "planned":
            return
        appt.starts_at, appt.updated_at, appt.response = at, w.now, None
        await appointments.cancel_reminders(w.session, w.now, appointment_id=appt.id)
        notice = N_("Je afspraak is verplaatst: {what}")
    else:
        appt = Appointment(family_id=family.id, created_by=who.staff.id if who.staff else None,
                           starts_at=at, what=what, place=str(place) if place else None,
                           status="planned", is_review=bool(data.get("review")),
                           created_at=w.now, updated_at=w.now)
        if appt.is_review:
            # Planned is what the nudge asked for: the next one is due counting from this.
            family.last_review_at = at
        await appointments.add_appointment(w.session, appt)
        notice = N_("Nieuwe afspraak: {what}")
    plan_appointment(w.session, family, appt, w.now)
    w.answer(who, tr.gettext("Opgeslagen ✓ Het gezin krijgt een herinnering."))
    for member in await people.members_of(w.session, family.id):
        mtr = w.tr_for(member=member, family=family)
        w.out.text(member.chat_id, mtr.gettext(notice).format(
            what=describe_appointment(mtr, at, appt.what, appt.place, w.now)), purpose="notice")


async def _list_appointments(w: Work, who: Who, tr: Translator, family: Family) -> None:
    rows = await appointments.planned_from(w.session, family.id, w.now)
    if not rows:
        w.answer(who, tr.gettext("{alias} heeft geen afspraken. Nieuwe afspraak: /afspraak "
                                 "{alias} | morgen 14:00 | huisbezoek").format(
                                     alias=family.alias))
        return
    for appt in rows:
        w.answer(who, describe_appointment(tr, appt.starts_at, appt.what, appt.place, w.now),
                 keyboard=outbox.keyboard([[
                     (tr.gettext("Verplaatsen"), w.sign(who.chat_id, "apmv", appt.id)),
                     (tr.gettext("Afzeggen"), w.sign(who.chat_id, "apcx", appt.id))]]))


async def plan_review(w: Work, who: Who, family_id: int, message_id: int) -> None:
    """One tap from the agenda: plan the *afstemgesprek* as an appointment."""
    tr = w.tr(who)
    family = await authorized_family(w, who, family_id)
    if family is None:
        return
    w.out.remove_buttons(who.chat_id, message_id)
    await pending.set_pending(w.session, who.chat_id, "appt_when", {
        "family_id": family.id, "what": tr.gettext("afstemgesprek"), "place": None,
        "review": True}, w.now + STEP_WINDOW)
    w.answer(who, tr.gettext("Wanneer is het afstemgesprek met {alias}? {example}").format(
        alias=family.alias, example=tr.gettext(WHEN_EXAMPLES["when.appointment"])),
        keyboard=flow.choices_keyboard(w, who, []))


async def move(w: Work, who: Who, appointment_id: int, message_id: int) -> None:
    tr = w.tr(who)
    appt = await appointments.appointment_by_id(w.session, appointment_id)
    if appt is None or await authorized_family(w, who, appt.family_id) is None:
        return
    w.out.remove_buttons(who.chat_id, message_id)
    await pending.set_pending(w.session, who.chat_id, "appt_when", {
        "family_id": appt.family_id, "what": appt.what, "place": appt.place, "move": appt.id},
        w.now + STEP_WINDOW)
    w.answer(who, tr.gettext("Wat is het nieuwe moment? {example}").format(
        example=tr.gettext(WHEN_EXAMPLES["when.appointment"])),
        keyboard=flow.choices_keyboard(w, who, []))


async def cancel(w: Work, who: Who, appointment_id: int, message_id: int) -> None:
    tr = w.tr(who)
    appt = await appointments.appointment_by_id(w.session, appointment_id)
    family = await authorized_family(w, who, appt.family_id) if appt else None
    if appt is None or family is None or appt.status != "planned":
        return
    appt.status, appt.updated_at = "cancelled", w.now
    await appointments.cancel_reminders(w.session, w.now, appointment_id=appt.id)
    w.out.edit_text(who.chat_id, message_id, tr.gettext("Afgezegd: {what}").format(
        what=describe_appointment(tr, appt.starts_at, appt.what, appt.place, w.now)))
    for member in await people.members_of(w.session, family.id):
        mtr = w.tr_for(member=member, family=family)
        w.out.text(member.chat_id, mtr.gettext("Deze afspraak gaat niet door: {what}").format(
            what=describe_appointment(mtr, appt.starts_at, appt.what, appt.place, w.now)),
            purpose="notice")


# /actie -----------------------------------------------------------------------------------------
async def agreement(w: Work, who: Who, text: str) -> None:
    tr = w.tr(who)
    zone = DEFAULT_TIMEZONES[w.svc.settings.region]
    text = await free_fields(w, who, text, lambda due: not isinstance(
        _read_due(due, w.now, zone), WhenError))
    parts = fields(text) if text.strip() else []
    rest = "".join(f" | {part}" for part in parts[1:])  # kept while the family is asked
    family = await resolve_family(w, who, tr, parts[0] if parts else "", "acf",
                                  retry=("actie", rest) if rest else None)
    if family is not None:
        await _agreement_steps(w, who, tr, family, parts[1:])


async def agreement_for(w: Work, who: Who, family_id: int) -> None:
    family = await authorized_family(w, who, family_id)
    if family is not None:
        await _agreement_steps(w, who, w.tr(who), family, [])


def _read_due(text: str, now: datetime, zone: str) -> tuple[date, Recurrence] | WhenError:
    rule = parse_recurrence(text)
    today = now.astimezone(ZoneInfo(zone)).date()
    if rule is not None and rule.recurrence is not Recurrence.NONE:
        first = first_occurrence(rule, today)
        if not plan_agreement_reminders(first, zone, now):
            # Today's reminder time has passed. Each reminder plans the next one, so a first
            # day without one would leave the agreement unreminded for good: start with the
            # next occurrence (the check the coach confirms shows that day).
            following = next_occurrence(first, rule.recurrence, first)
            first = following or first
        return first, rule.recurrence
    day = parse_day(text, now, zone)
    if isinstance(day, WhenError):
        return day
    return day, Recurrence.NONE


async def _agreement_steps(w: Work, who: Who, tr: Translator, family: Family,
                           parts: list[str]) -> None:
    due_text = parts[0] if parts else ""
    what = parts[1][:WHAT_MAX] if len(parts) > 1 else ""
    if not due_text:
        await pending.set_pending(w.session, who.chat_id, "act_due",
                                  {"family_id": family.id, "what": what}, w.now + STEP_WINDOW)
        w.answer(who, tr.gettext("Wanneer moet het gebeuren? {example}").format(
            example=tr.gettext(WHEN_EXAMPLES["when.day"])),
            keyboard=flow.choices_keyboard(w, who, flow.day_choices(tr, w.now)))
        return
    due = _read_due(due_text, w.now, family.timezone)
    if isinstance(due, WhenError):
        await pending.set_pending(w.session, who.chat_id, "act_due",
                                  {"family_id": family.id, "what": what}, w.now + STEP_WINDOW)
        w.answer(who, when_help(tr, WhenError(due.reason, "when.day")) + "\n"
                 + tr.gettext("Probeer het nog eens:"),
                 keyboard=flow.choices_keyboard(w, who, flow.day_choices(tr, w.now)))
        return
    if not what:
        await pending.set_pending(w.session, who.chat_id, "act_what", {
            "family_id": family.id, "due": due_text}, w.now + STEP_WINDOW)
        w.answer(who, tr.gettext("Wat is het actiepunt? Bijvoorbeeld: woonbonnen invullen en "
                                 "posten."), keyboard=flow.choices_keyboard(w, who, []))
        return
    day, recurrence = due
    await pending.set_pending(w.session, who.chat_id, "act_confirm", {
        "family_id": family.id, "due": day.isoformat(), "rec": recurrence.value,
        "what": what}, w.now + STEP_WINDOW)
    w.answer(who, "\n".join([tr.gettext("Klopt dit?"),
                             f"{family.alias}: {what}",
                             describe_due(tr, day, recurrence)]),
             keyboard=outbox.keyboard([
                 [(tr.gettext("✅ Klopt, opslaan"), w.sign(who.chat_id, "apok"))],
                 [(tr.gettext("Annuleren"), w.sign(who.chat_id, "apno"))]]))


def describe_due(tr: Translator, day: date, recurrence: Recurrence) -> str:
    if recurrence is Recurrence.NONE:
        return tr.gettext("Op {day}").format(day=tr.day(day))
    return tr.gettext("{every}, voor het eerst op {day}").format(
        every=tr.gettext(RECURRENCE_NAMES[recurrence]), day=tr.day(day))


async def _save_agreement(w: Work, who: Who, tr: Translator, family: Family,
                          data: dict[str, object]) -> None:
    day = date.fromisoformat(str(data["due"]))
    recurrence = Recurrence(str(data["rec"]))
    item = ActionItem(family_id=family.id, created_by=who.staff.id if who.staff else None,
                      what=str(data["what"]), due_date=day, recurrence=recurrence.value,
                      status="open", created_at=w.now)
    await appointments.add_agreement(w.session, item)
    plan_agreement(w.session, family, item, w.now)
    w.answer(who, tr.gettext("Opgeslagen ✓ Het gezin ziet het actiepunt."))
    for member in await people.members_of(w.session, family.id):
        mtr = w.tr_for(member=member, family=family)
        w.out.text(member.chat_id, "\n".join([
            mtr.gettext("Nieuw actiepunt: {what}").format(what=item.what),
            describe_due(mtr, day, recurrence)]), purpose="notice")


# /afspraken (family) ----------------------------------------------------------------------------
async def family_overview(w: Work, who: Who) -> None:
    family = who.family
    assert family is not None
    tr = w.tr(who)
    appts = await appointments.planned_from(w.session, family.id, w.now - timedelta(hours=1))
    items = await appointments.open_agreements(w.session, family.id)
    lines = []
    if appts:
        lines.append(tr.gettext("Je afspraken:"))
        lines += ["📅 " + describe_appointment(tr, a.starts_at, a.what, a.place, w.now)
                  for a in appts]
    else:
        lines.append(tr.gettext("Je hebt nu geen afspraken."))
    if items:
        lines += ["", tr.gettext("Wat we hebben afgesproken:")]
        lines += [f"• {i.what} — {describe_due(tr, i.due_date, Recurrence(i.recurrence))}"
                  for i in items]
    w.answer(who, "\n".join(lines))


# Buttons on reminders ---------------------------------------------------------------------------
async def respond(w: Work, who: Who, kind: str, item_id: int, answer: str,
                  message_id: int) -> None:
    """👍 Ik ben er / ✋ Lukt niet / ✓ Gedaan / Hulp nodig from a family member."""
    member, family = who.member, who.family
    if member is None or family is None:
        return
    tr = w.tr(who)
    if kind == "appt":
        appt = await appointments.appointment_by_id(w.session, item_id)
        if appt is None or appt.family_id != family.id or appt.status != "planned":
            return
        appt.response, appt.response_at = answer, w.now
        w.out.remove_buttons(who.chat_id, message_id)
        coaches = await families.coaches_of(w.session, family.id)
        if answer == "coming":
            w.answer(who, tr.gettext("Fijn, tot dan! 👍"))
        else:
            w.answer(who, tr.gettext("Dank je dat je het laat weten. {coach} hoort het en "
                                     "zoekt met je een nieuw moment.").format(
                                         coach=wording.coach_names(tr, coaches)))
        await signals.send(w, member, family, answer, appt.what, appt.starts_at)
        return
    item = await appointments.agreement_by_id(w.session, item_id)
    if item is None or item.family_id != family.id or item.status != "open":
        return
    w.out.remove_buttons(who.chat_id, message_id)
    coaches = await families.coaches_of(w.session, family.id)
    if answer == "done":
        item.done_at = w.now
        if item.recurrence == Recurrence.NONE.value:
            item.status = "done"
        w.answer(who, tr.gettext("Goed gedaan! 🌟 {coach} hoort het.").format(
            coach=wording.coach_names(tr, coaches)))
    else:
        item.help_at = w.now
        w.answer(who, tr.gettext("{coach} hoort dat je hulp wilt. Je hoort snel van je "
                                 "coach.").format(coach=wording.coach_names(tr, coaches)))
    await signals.send(w, member, family, answer, item.what, None)


# /pauze ----------------------------------------------------------------------------------------
# A family member taps how long (or ▶️ Pauze stoppen); a coach first picks the family. The
# one-line forms stay: `/pauze 7`, `/pauze uit`, `/pauze Gezin J. 7`, `/pauze Gezin J. | uit`.
PAUSE_STEPS = ("pause_days",)
PAUSE_CHOICES = (1, 3, 7, 14)
PAUSE_MAX_DAYS = 90
PAUSE_OFF = "uit"  # the value of ▶️ Pauze stoppen
PAUSE_OFF_WORDS = frozenset({"uit", "off", "stop", "stoppen", "fin", "arret"})


def _pause_arg(word: str) -> bool:
    """Whether the last word of a coach's line is a number of days or 'uit' (not the alias)."""
    return word.lstrip("-+").isdigit() or word.casefold() in PAUSE_OFF_WORDS


async def pause(w: Work, who: Who, text: str) -> None:
    """*Rustpauze*: no reminders for a while. Nothing is escalated anywhere."""
    tr = w.tr(who)
    if who.is_member:
        family = who.family
        assert family is not None
        await _read_pause(w, who, tr, family, text.strip(), by_coach=False)
        return
    if "|" in text:
        alias, arg = [*fields(text), ""][:2]
    else:
        words = text.rsplit(maxsplit=1)
        alias, arg = ((words[0], words[1]) if len(words) == 2 and _pause_arg(words[1])
                      else (text.strip(), ""))
    family = await resolve_family(w, who, tr, alias,
                                  retry=("pauze", f" | {arg}" if arg else ""))
    if family is not None:
        await _read_pause(w, who, tr, family, arg, by_coach=True)


async def continue_pause(w: Work, who: Who, action: str, data: dict[str, object],
                         text: str) -> bool:
    """How many days (or stop), tapped or typed, for the family the question was about."""
    if action != "pause_days":
        return False
    if who.is_member:
        family = who.family
        if family is None or data.get("family_id") != family.id:
            return False
    else:
        family = await authorized_family(w, who, int(str(data.get("family_id", 0))))
        if family is None:
            return False
    await _read_pause(w, who, w.tr(who), family, text.strip(), by_coach=not who.is_member)
    return True


async def _read_pause(w: Work, who: Who, tr: Translator, family: Family, arg: str,
                      by_coach: bool) -> None:
    if arg.casefold() in PAUSE_OFF_WORDS:
        await _pause_off(w, who, tr, family)
        return
    try:
        days = int(arg) if arg else 0
    except ValueError:
        days = 0
    if days < 1:  # nothing, "-5", "0", "a week": ask, rather than guess
        await _ask_pause(w, who, tr, family, by_coach, wrong=bool(arg))
        return
    await _pause_on(w, who, tr, family, min(days, PAUSE_MAX_DAYS), by_coach)


def _paused(w: Work, family: Family) -> bool:
    return family.paused_until is not None and family.paused_until > w.now


async def _ask_pause(w: Work, who: Who, tr: Translator, family: Family, by_coach: bool,
                     wrong: bool) -> None:
    lines = [tr.gettext("Kies een aantal dagen, van 1 tot 90.")] if wrong else []
    until = family.paused_until if _paused(w, family) else None
    if by_coach:
        if until is not None:
            lines.append(tr.gettext("{alias} heeft een rustpauze tot {day}.").format(
                alias=family.alias, day=tr.day(until)))
        lines.append(tr.gettext("Hoeveel dagen krijgt {alias} geen herinneringen?").format(
            alias=family.alias))
    else:
        if until is not None:
            lines.append(tr.gettext("Je rustpauze loopt tot {day}.").format(day=tr.day(until)))
        lines.append(tr.gettext("Hoeveel dagen wil je geen herinneringen?"))
    rows: list[list[flow.Choice]] = [[
        (tr.ngettext("{n} dag", "{n} dagen", n).format(n=n), str(n)) for n in PAUSE_CHOICES]]
    if until is not None:
        rows.append([(tr.gettext("▶️ Pauze stoppen"), PAUSE_OFF)])
    await flow.ask(w, who, "pause_days", {"family_id": family.id}, "\n".join(lines), rows)


async def _pause_off(w: Work, who: Who, tr: Translator, family: Family) -> None:
    family.paused_until = None
    w.answer(who, tr.gettext("De pauze is voorbij. Herinneringen komen weer."))


async def _pause_on(w: Work, who: Who, tr: Translator, family: Family, days: int,
                    by_coach: bool) -> None:
    family.paused_until = pause_until(w.now, days, family.timezone)
    w.answer(who, tr.ngettext("Rustpauze: {n} dag geen herinneringen. Eerder stoppen kan met "
                              "/pauze.",
                              "Rustpauze: {n} dagen geen herinneringen. Eerder stoppen kan met "
                              "/pauze.", days).format(n=days))
    if not by_coach:
        until = family.paused_until
        w.tell_staff(await families.coaches_of(w.session, family.id), lambda ctr: ctr.gettext(
            "{alias} neemt een rustpauze tot {day}: geen herinneringen.").format(
                alias=family.alias, day=ctr.day(until)), silent=True, purpose="notice")
