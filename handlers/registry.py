"""Every command and button, declared once (PRODUCT.md §2.8).

A command: its Dutch name and English alias, the roles that may use it, the handler function,
its menu line and its /help line; beside it the buttons its answers carry and the typed steps
it asks for. The router (handlers/router.py), the menus (handlers/menus.py) and the staff's
/help are derived from here. Adding a command is one declaration here and one function.

A button's data stays short on the wire (Telegram allows 64 bytes, and it is signed:
bot/callbacks.py), so its code is two to eight letters; here it has a readable name, its
handler and the roles that may press it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from telegram import Update

from bot.i18n import N_, Translator
from handlers import (
    agenda,
    appointments,
    availability_cmds,
    coach,
    contact,
    coordinator,
    family,
    flow,
    language,
    local_services,
    menus,
    onboarding,
    rights,
    texts,
)
from handlers.common import Who, Work
from handlers.menus import Role
from storage.repos import pending

MEMBER: frozenset[Role] = frozenset({"member"})
COACH: frozenset[Role] = frozenset({"coach"})
COORDINATOR: frozenset[Role] = frozenset({"coordinator"})
STRANGER: frozenset[Role] = frozenset({"stranger"})


# The shapes of a declaration ---------------------------------------------------------------------
@dataclass(frozen=True)
class Press:
    """A button pressed, its signature verified: the arguments signed into it, the message it
    was on, and the update (joining reads the person's name from it)."""

    args: tuple[str, ...]
    message_id: int
    update: Update

    def number(self, index: int) -> int:
        return int(self.args[index])


@dataclass(frozen=True)
class Button:
    code: str  # on the wire
    name: str  # what it is, for the reader (the code on the wire says little)
    run: Callable[[Work, Who, Press], Awaitable[None]]
    args: int = 0  # how many arguments its data carries
    only: frozenset[Role] | None = None  # None: anyone; the handler checks what it names
    remove_first: bool = False  # take the buttons off the message before running
    # A family tapped when a command asked which one (coach.resolve_family): what it runs
    # with the family's id; a name typed under that question runs it too (router).
    pick: Callable[[Work, Who, int], Awaitable[None]] | None = None

    def accepts(self, who: Who, args: tuple[str, ...]) -> bool:
        """Pressed with the arguments it carries, by someone it is for."""
        return len(args) == self.args and (self.only is None
                                           or bool(self.only & menus.roles_of(who)))


@dataclass(frozen=True)
class Steps:
    """A command that asks step by step: the typed line answering one of its questions (a
    pending input named in `names`) goes to `answer`, which says whether it took it."""

    names: tuple[str, ...]
    answer: Callable[[Work, Who, str, dict[str, object], str], Awaitable[bool]]


@dataclass(frozen=True)
class Command:
    dutch: str
    english: str
    roles: frozenset[Role]
    menu: str  # N_(): its line in the menu
    run: Callable[[Work, Who, str], Awaitable[None]] | None = None  # given what follows it
    run_alone: Callable[[Work, Who], Awaitable[None]] | None = None  # reads nothing after it
    usage: str = ""  # N_(): what may follow the name, shown in /help
    buttons: tuple[Button, ...] = ()
    steps: Steps | None = None

    def __post_init__(self) -> None:
        if (self.run is None) == (self.run_alone is None):
            raise ValueError(f"/{self.dutch}: give exactly one of run and run_alone")

    @property
    def names(self) -> tuple[str, ...]:
        return (self.dutch,) if self.english == self.dutch else (self.dutch, self.english)

    def name_in(self, tr: Translator) -> str:
        return self.dutch if tr.language == "nl" else self.english

    def help_line(self, tr: Translator) -> str:
        usage = f" {tr.gettext(self.usage)}" if self.usage else ""
        return f"/{self.name_in(tr)}{usage} — {tr.gettext(self.menu)}"

    async def call(self, w: Work, who: Who, text: str) -> None:
        if self.run is not None:
            await self.run(w, who, text)
        elif self.run_alone is not None:
            await self.run_alone(w, who)


# Handlers that read the registry itself ----------------------------------------------------------
async def show_help(w: Work, who: Who) -> None:
    """/hulp: a family member hears whom to call now; staff get their commands, one line each
    in their language (/hulp itself aside: they are reading it)."""
    tr = w.tr(who)
    if who.is_member:
        await family.help_now(w, who, tr)
    elif who.staff is not None:
        roles = menus.staff_roles(who.staff)
        lines = [c.help_line(tr) for c in COMMANDS
                 if c.roles & roles and c.run_alone is not show_help]
        w.answer(who, texts.staff_help(tr, who.staff, lines))
    else:
        w.svc.stranger_answered.pop(who.chat_id, None)
        texts.stranger(w, who, tr)


async def run_again(w: Work, who: Who, family_id: int, command_name: str) -> None:
    """A coach tapped a family after a command whose alias matched none or several: the
    command runs again for that family with what they had typed after the alias."""
    command = BY_NAME.get(command_name)
    chosen = await coach.authorized_family(w, who, family_id)
    if command is None or chosen is None or not command.roles & menus.roles_of(who):
        return
    step = await pending.pending(w.session, who.chat_id, w.now)
    rest = ""
    if (step is not None and step.action == coach.WHICH_FAMILY
            and step.data.get("command") == command_name):
        rest = str(step.data.get("rest", ""))
    await pending.clear_pending(w.session, who.chat_id)
    await command.call(w, who, chosen.alias + rest)


def family_pick(code: str, name: str, pick: Callable[[Work, Who, int], Awaitable[None]]
                ) -> Button:
    """A family button under "Welk gezin bedoel je?" (coach.resolve_family)."""
    return Button(code, name, args=1, remove_first=True, pick=pick,
                  run=lambda w, who, p: run_pick(w, who, pick, p.number(0)))


async def run_pick(w: Work, who: Who, pick: Callable[[Work, Who, int], Awaitable[None]],
                   family_id: int) -> None:
    """The family is chosen: the question which one is over (a later typed line is not its
    answer), and the command goes on for that family."""
    await pending.clear_pending(w.session, who.chat_id, coach.WHICH_FAMILY)
    await pick(w, who, family_id)


async def answer_pressed(w: Work, who: Who, value: str, message_id: int) -> None:
    """A quick choice under a question (handlers/flow.py): its value answers the step under
    way as if typed. A choice under a question that is no longer asked does nothing."""
    step = await pending.pending(w.session, who.chat_id, w.now)
    steps = STEPS.get(step.action) if step is not None else None
    w.out.remove_buttons(who.chat_id, message_id)
    if step is None or steps is None:
        w.answer(who, w.tr(who).gettext("Die vraag is al voorbij. Begin opnieuw vanuit het "
                                        "menu."))
        return
    await pending.clear_pending(w.session, who.chat_id)
    await steps.answer(w, who, step.action, dict(step.data), value)


# Buttons that belong to no one command -----------------------------------------------------------
# /start <token> (onboarding.start) comes before anyone has a role; the router registers it as
# it is. Its buttons:
JOINING = (
    Button("lang", "language chosen to join", args=2, run=lambda w, who, p: (
        onboarding.choose_language(w, who, p.message_id, p.args[0], p.args[1]))),
    Button("join", "consent to join", args=2, run=lambda w, who, p: (
        onboarding.consent(w, who, p.update, p.message_id, p.args[0], p.args[1]))),
    Button("nojoin", "no consent", args=1, run=lambda w, who, p: (
        onboarding.decline(w, who, p.message_id, p.args[0]))),
)
# A coach's message without a reply (coach.HOLD): the family it is for, tapped, which asks
# "Stuur naar …?"; then 📨 Stuur naar …, the only button that sends it.
SEND_TO = Button("send", "family for a held message", args=2, run=lambda w, who, p: (
    coach.hold_family_chosen(w, who, p.number(0), p.number(1), p.message_id)))
SEND_OK = Button("sendok", "held message confirmed for the family", args=2,
                 run=lambda w, who, p: coach.send_held(w, who, p.number(0), p.number(1),
                                                       p.message_id))
# A family tapped after a command whose alias matched none or several (coach.resolve_family).
AGAIN = Button("again", "family for a command again", args=2, remove_first=True,
               run=lambda w, who, p: run_again(w, who, p.number(0), p.args[1]))
# A quick choice under a question, and ✖ Annuleren under every question (handlers/flow.py).
ANSWER = Button(flow.ANSWER, "quick choice answering a question", args=1,
                run=lambda w, who, p: answer_pressed(w, who, p.args[0], p.message_id))
CANCEL = Button(flow.CANCEL, "stop what is under way", run=lambda w, who, p: (
    flow.cancel(w, who, p.message_id)))
# 👍 Ik ben er / ✋ Lukt niet, ✓ Gedaan / Hulp nodig under a reminder.
REMINDER_ANSWER = Button("rsp", "answer to a reminder", args=3, run=lambda w, who, p: (
    appointments.respond(w, who, p.args[0], p.number(1), p.args[2], p.message_id)))
# ✅ Klopt, opslaan / Annuleren at the end of /afspraak's and /actie's steps.
CHECK = (
    Button("apok", "check confirmed", run=lambda w, who, p: (
        appointments.confirm(w, who, p.message_id, yes=True))),
    Button("apno", "check cancelled", run=lambda w, who, p: (
        appointments.confirm(w, who, p.message_id, yes=False))),
)


# The commands, in menu order ---------------------------------------------------------------------
COMMANDS: tuple[Command, ...] = (
    Command("bereikbaar", "availability", MEMBER, N_("Wanneer is mijn coach bereikbaar?"),
            run_alone=availability_cmds.reachable),
    Command("afspraken", "appointments", MEMBER, N_("Mijn afspraken"),
            run_alone=appointments.family_overview),
    Command("hulp", "help", MEMBER | STRANGER | COACH | COORDINATOR,
            N_("Hulp en wie je nu kunt bellen"), run_alone=show_help),
    Command("pauze", "pause", MEMBER | COACH, N_("Even geen herinneringen"),
            run=appointments.pause, usage=N_("gezin dagen"),
            steps=Steps(appointments.PAUSE_STEPS, appointments.continue_pause)),
    Command("annuleren", "cancel", MEMBER | COACH | COORDINATOR,
            N_("Stoppen met wat nu loopt"), run_alone=flow.cancel_command),
    Command("taal", "language", MEMBER | COACH | COORDINATOR, N_("Taal kiezen"),
            run_alone=language.choose, buttons=(
                Button("setlang", "language chosen", args=1, run=lambda w, who, p: (
                    language.set_language(w, who, p.message_id, p.args[0]))),
            )),
    Command("mijngegevens", "mydata", MEMBER, N_("Wat de bot over mij bewaart"),
            run_alone=rights.my_data),
    Command("stoppen", "leave", MEMBER, N_("Stoppen en mijn gegevens wissen"),
            run_alone=rights.leave, buttons=(
                Button("leave", "leaving confirmed", only=MEMBER, run=lambda w, who, p: (
                    rights.confirm_leave(w, who, p.message_id))),
                Button("stay", "staying after all", only=MEMBER, run=lambda w, who, p: (
                    rights.stay(w, who, p.message_id))),
            )),
    Command("gezinnen", "families", COACH, N_("Mijn gezinnen"), run_alone=agenda.families),
    Command("nieuwgezin", "newfamily", COACH, N_("Nieuw gezin aanmaken"),
            run=coach.new_family, usage=N_("naam")),
    Command("uitnodiging", "invite", COACH, N_("Uitnodiging voor een gezinslid"),
            run=coach.invite, usage=N_("gezin"), buttons=(
                family_pick("inv", "family to invite to", coach.invite_for),
            )),
    Command("schrijf", "write", COACH, N_("Bericht aan een gezin"),
            run=coach.write, usage=N_("gezin"), buttons=(
                family_pick("wr", "family to write to", coach.write_to),
            )),
    Command("duo", "duo", COACH, N_("Tweede coach bij een gezin"),
            run=coach.duo, usage=N_("gezin | coach"),
            steps=Steps(coach.DUO_STEPS, coach.continue_duo)),
    Command("afspraak", "appointment", COACH, N_("Afspraak maken"),
            run=appointments.appointment, usage=N_("gezin | wanneer | wat [| waar]"),
            steps=Steps(appointments.APPOINTMENT_STEPS, appointments.continue_step), buttons=(
                *CHECK,
                family_pick("apf", "family for an appointment", appointments.appointment_for),
                Button("apmv", "appointment to move", args=1, run=lambda w, who, p: (
                    appointments.move(w, who, p.number(0), p.message_id))),
                Button("apcx", "appointment to cancel", args=1, run=lambda w, who, p: (
                    appointments.cancel(w, who, p.number(0), p.message_id))),
            )),
    Command("actie", "agreement", COACH, N_("Actiepunt maken"),
            run=appointments.agreement, usage=N_("gezin | wanneer | wat"),
            steps=Steps(appointments.AGREEMENT_STEPS, appointments.continue_step), buttons=(
                *CHECK,
                family_pick("acf", "family for an agreement", appointments.agreement_for),
            )),
    Command("bereikbaarheid", "hours", COACH, N_("Bereikbaarheid bekijken of instellen"),
            run=availability_cmds.hours, usage=N_("[gezin] [| tijden | beleid]"), buttons=(
                # asked of the family's members when a coach chooses the on-call policy
                Button("oncall", "on-call team allowed or not", args=1, only=MEMBER,
                       run=lambda w, who, p: availability_cmds.oncall_answer(
                           w, who, p.message_id, p.args[0] == "yes")),
            )),
    Command("afwezig", "away", COACH, N_("Afwezigheid en vervanger"),
            run=availability_cmds.away, usage=N_("van tot [| vervanger]"),
            steps=Steps(availability_cmds.AWAY_STEPS, availability_cmds.continue_away)),
    Command("crisisdienst", "crisisline", COACH, N_("Eigen crisisdienst van een gezin"),
            run=local_services.crisis_line, usage=N_("gezin [| naam | nummer | tijden]")),
    Command("contact", "contact", COACH, N_("Afgesproken contact"),
            run=contact.contact, usage=N_("gezin | hoe vaak"),
            steps=Steps(contact.CONTACT_STEPS, contact.continue_step)),
    Command("afstemgesprek", "review", COACH, N_("Afstemgesprek plannen"),
            run=contact.review, usage=N_("gezin | hoe vaak"),
            steps=Steps(contact.REVIEW_STEPS, contact.continue_step)),
    Command("agenda", "agenda", COACH, N_("Agenda van vandaag"),
            run=agenda.show, usage=N_("[ics]"), buttons=(
                # 📅 Plan afstemgesprek, also under the morning agenda
                Button("rev", "afstemgesprek to plan", args=1, run=lambda w, who, p: (
                    appointments.plan_review(w, who, p.number(0), p.message_id))),
            )),
    Command("coordinator", "askcoordinator", COACH, N_("Hulp van de coördinator vragen"),
            run=coordinator.ask_coordinator, usage=N_("gezin"), buttons=(
                family_pick("askc", "family to ask help for", coordinator.ask_for),
            )),
    Command("coachuitnodigen", "invitecoach", COORDINATOR, N_("Coach uitnodigen"),
            run_alone=coordinator.invite_coach),
    Command("overzicht", "overview", COORDINATOR, N_("Overzicht per coach"),
            run_alone=coordinator.overview),
    Command("verplaats", "move", COORDINATOR, N_("Gezin naar andere coach"),
            run=coordinator.move_family, usage=N_("gezin | coach"),
            steps=Steps(coordinator.MOVE_STEPS, coordinator.continue_move)),
    Command("coachstop", "removecoach", COORDINATOR, N_("Coach stopt"),
            run=coordinator.deactivate_coach, usage=N_("coach [| nieuwe coach]"),
            steps=Steps(coordinator.STOP_STEPS, coordinator.continue_stop)),
    Command("dienstuitnodigen", "inviteoncall", COORDINATOR, N_("Crisisdienst koppelen"),
            run_alone=coordinator.invite_oncall),
    Command("spoedmelding", "urgentalerts", COORDINATOR,
            N_("Melding bij spoedberichten buiten de tijden"),
            run=coordinator.urgent_alerts, usage=N_("[aan | uit]"), buttons=(
                Button("urgalert", "urgent alerts on or off", args=1, only=COORDINATOR,
                       remove_first=True, run=lambda w, who, p: (
                           coordinator.set_urgent_alerts(w, who, p.args[0] == "on"))),
            )),
)


# Lookups the router uses -------------------------------------------------------------------------
def _by_code(buttons: Iterable[Button]) -> dict[str, Button]:
    found: dict[str, Button] = {}
    for button in buttons:
        if found.setdefault(button.code, button) is not button:
            raise ValueError(f"two buttons with the code {button.code!r}")
    return found


def _by_step(commands: Iterable[Command]) -> dict[str, Steps]:
    return {name: c.steps for c in commands if c.steps is not None for name in c.steps.names}


BY_NAME: dict[str, Command] = {c.dutch: c for c in COMMANDS}
BUTTONS: dict[str, Button] = _by_code(
    [*JOINING, SEND_TO, SEND_OK, AGAIN, ANSWER, CANCEL, REMINDER_ANSWER,
     *(b for c in COMMANDS for b in c.buttons)])
STEPS: dict[str, Steps] = _by_step(COMMANDS)
