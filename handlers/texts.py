"""Rendering: the words people read. Family-facing Dutch stays at B1 (short sentences)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot import outbox
from bot.delivery import crisis_lines
from bot.i18n import N_, Translator
from bot.wording import coach_names
from handlers.common import Who, Work
from storage.models import Family, Member, Staff

STRANGER_QUIET_SECONDS = 600.0


def stranger(w: Work, who: Who, tr: Translator) -> None:
    """Someone without an invite: a friendly word and the crisis numbers. Nothing is stored;
    a short in-memory pause keeps a chatty stranger from getting the same text every time."""
    last = w.svc.stranger_answered.get(who.chat_id)
    now = time.monotonic()
    if last is not None and now - last < STRANGER_QUIET_SECONDS:
        return
    w.svc.stranger_answered[who.chat_id] = now
    if len(w.svc.stranger_answered) > 10_000:
        w.svc.stranger_answered.clear()
    _with_crisis_lines(w, who, tr, [
        tr.gettext("Hallo! Gezinslijn is alleen voor gezinnen met een gezinscoach."),
        tr.gettext("Heb je een link van je coach gekregen? Tik dan nog een keer op die link."),
    ])


def refused_invite(w: Work, who: Who, tr: Translator) -> None:
    """A link that does not work. Throttled like the stranger's text: someone trying token
    after token gets one answer a while, not one per try (no amplifier)."""
    last = w.svc.refusal_answered.get(who.chat_id)
    now = time.monotonic()
    if who.is_stranger and last is not None and now - last < STRANGER_QUIET_SECONDS:
        return
    if who.is_stranger:
        w.svc.refusal_answered[who.chat_id] = now
        if len(w.svc.refusal_answered) > 10_000:
            w.svc.refusal_answered.clear()
    _with_crisis_lines(w, who, tr, [
        tr.gettext("Deze link werkt niet (meer). Misschien is hij al gebruikt of verlopen."),
        tr.gettext("Vraag je coach om een nieuwe link."),
    ])


def _with_crisis_lines(w: Work, who: Who, tr: Translator, lines: list[str]) -> None:
    """Someone the bot cannot help further still gets whom to call right now."""
    # Purpose "stranger": the outbox row goes once sent, so nothing names their chat after.
    w.answer(who, "\n".join([*lines, "", crisis_lines.lines(tr, w.svc.settings.region,
                                                            w.now)]), purpose="stranger")


def welcome_back(tr: Translator, who: Who) -> str:
    if who.member is not None:
        return tr.gettext("Je doet al mee. Typ gewoon je bericht voor je coach.")
    return tr.gettext("Je doet al mee. Kijk in het menu voor de opdrachten.")


def member_explanation(tr: Translator, family: Family | None, coaches: Sequence[Staff],
                       retention_days: int) -> str:
    coach = coach_names(tr, coaches)
    lines = [
        tr.gettext("Zo werkt Gezinslijn:"),
        "• " + tr.gettext("Je stuurt hier berichten naar {coach}, je gezinscoach.").format(
            coach=coach),
        "• " + tr.gettext("Alleen {coach} leest ze. Bij ziekte of vakantie een vervanger. "
                          "Dat hoor je dan altijd.").format(coach=coach),
        "• " + tr.gettext("Je coach is bereikbaar op vaste tijden. Daarbuiten bewaart de bot "
                          "je bericht. Je ziet dan wie je kunt bellen."),
        "• " + tr.ngettext("Berichten worden {days} dag bewaard.",
                           "Berichten worden {days} dagen bewaard.",
                           retention_days).format(days=retention_days),
        "• " + tr.gettext("Stoppen kan altijd met /stoppen. Dan wissen we je gegevens."),
        "",
        tr.gettext("Doe je mee?"),
    ]
    return "\n".join(lines)


def staff_explanation(tr: Translator, kind: str, retention_days: int) -> str:
    role = {"coordinator": tr.gettext("coördinator"),
            "oncall": tr.gettext("crisisdienst")}.get(kind) or tr.gettext("gezinscoach")
    return "\n".join([
        tr.gettext("Je wordt {role} in Gezinslijn.").format(role=role),
        tr.gettext("De bot bewaart je voornaam, je taal en je Telegram-chat. Berichten van "
                   "gezinnen worden versleuteld bewaard, {days} dagen.").format(
                       days=retention_days),
        # A coordinator has no coordinator above them: the one who set up the bot (who ran
        # `gezinslijn admin invite-coordinator`) stops them.
        tr.gettext("Stoppen kan via de beheerder van Gezinslijn.") if kind == "coordinator"
        else tr.gettext("Stoppen kan via je coördinator."),
        "",
        tr.gettext("Ga je akkoord?"),
    ])


def member_welcome(tr: Translator, member: Member, coaches: Sequence[Staff]) -> str:
    return "\n".join([
        tr.gettext("Welkom, {name}! Je doet nu mee.").format(name=member.first_name),
        tr.gettext("Typ hier je bericht voor {coach}. Een foto of spraakbericht mag ook.").format(
            coach=coach_names(tr, coaches)),
        tr.gettext("Nu hulp nodig? Tik op de knop hieronder."),
    ])


def staff_welcome(tr: Translator, staff: Staff) -> str:
    lines = [tr.gettext("Welkom, {name}.").format(name=staff.display_name)]
    if staff.is_coordinator:
        lines.append(tr.gettext("Nodig een coach uit met /coachuitnodigen."))
    if staff.is_oncall:
        lines.append(tr.gettext("Dit is nu de chat van de crisisdienst. Je krijgt hier berichten "
                                "van gezinnen die dat goedvonden, buiten de tijden van hun "
                                "coach."))
        lines.append(tr.gettext("Antwoorden kan met 'Beantwoorden' op een bericht."))
    if staff.is_coach:
        lines.append(tr.gettext("Maak een gezin aan met /nieuwgezin, bijvoorbeeld: "
                                "/nieuwgezin Gezin J."))
        lines.append(tr.gettext("Antwoord een gezin door te reageren (Beantwoorden) op hun "
                                "bericht."))
    return "\n".join(lines)


def staff_help(tr: Translator, staff: Staff, commands: Sequence[str]) -> str:
    """/hulp for a coach or coordinator: one line per command of their roles
    (handlers/registry.py), then how to answer a family."""
    lines = [tr.gettext("Je opdrachten:"), *commands] if commands else []
    tips = []
    if staff.is_coach:
        tips.append(tr.gettext("Antwoord een gezin door te reageren (Beantwoorden) op hun "
                               "bericht."))
    elif staff.is_oncall:
        tips.append(tr.gettext("Antwoorden kan met 'Beantwoorden' op een bericht."))
    return "\n".join([*lines, *([""] if lines and tips else []), *tips]) or tr.gettext(
        "Je doet al mee. Kijk in het menu voor de opdrachten.")


# Whose a command is, said to someone of another role (handlers/router.py).
COMMAND_IS_FOR = {
    "member": N_("Deze opdracht is voor gezinnen."),
    "coach": N_("Deze opdracht is voor coaches."),
    "coordinator": N_("Deze opdracht is voor coördinatoren."),
}


def not_yours(tr: Translator, theirs: str, instead: str) -> str:
    return f"{tr.gettext(COMMAND_IS_FOR[theirs])} {instead}"


def help_button(tr: Translator) -> str:
    return tr.gettext("🆘 Nu hulp nodig")


def family_keyboard(tr: Translator) -> dict[str, Any]:
    return outbox.reply_keyboard([[help_button(tr)]])


def when_text(tr: Translator, moment: datetime, now: datetime) -> str:
    return tr.when(moment, now)
