"""Wiring: which update goes to which handler, and the checks every update passes first."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from telegram import Message, Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot import outbox
from bot.i18n import FAMILY_LANGUAGES, LANGUAGE_NAMES, STAFF_LANGUAGES, translator
from handlers import (
    agenda,
    appointments,
    availability_cmds,
    coach,
    coordinator,
    family,
    local_services,
    menus,
    onboarding,
    prompts,
    rights,
    texts,
)
from handlers.common import Context, RetryLater, Who, Work, services, work
from storage import repo

log = logging.getLogger(__name__)

Action = Callable[[Work, Who, str, Message], Awaitable[None]]
PRIVATE = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE


# Guards -----------------------------------------------------------------------------------------
async def only_private_chats(update: Update, context: Context) -> None:
    """The bot lives in private chats only: it leaves any group or channel it is put in."""
    chat = update.effective_chat
    if chat is None or chat.type == ChatType.PRIVATE:
        return
    try:
        await context.bot.leave_chat(chat.id)
    except TelegramError as error:
        log.info("leaving a non-private chat failed: %s", type(error).__name__)
    raise ApplicationHandlerStop


# Commands --------------------------------------------------------------------------------------
def allowed(who: Who, roles: set[str]) -> bool:
    """The role half of the one authorization check; the relation to a family is checked where
    the family is found (coach.resolve_family, coach.authorized_family)."""
    return ((who.is_member and "member" in roles)
            or (who.is_coach and "coach" in roles)
            or (who.is_coordinator and "coordinator" in roles)
            or (who.is_stranger and "stranger" in roles))


def command(roles: set[str], action: Action
            ) -> Callable[[Update, Context], Coroutine[Any, Any, None]]:
    """Role check for every command: a person outside the roles learns nothing more than that
    the command is not for them."""

    async def handle(update: Update, context: Context) -> None:
        message = update.effective_message
        if message is None:
            return
        async with work(context) as w:
            who = await w.who(update)
            tr = w.tr(who)
            if not allowed(who, roles):
                if who.is_stranger:
                    texts.stranger(w, who, tr)
                else:
                    w.answer(who, tr.gettext("Deze opdracht is niet voor jou. Kijk in het menu "
                                             "welke opdrachten je kunt gebruiken."))
                return
            await repo_clear_pending_for_command(w, who)
            await action(w, who, coach.args_text(message), message)

    return handle


async def repo_clear_pending_for_command(w: Work, who: Who) -> None:
    await repo.clear_pending(w.session, who.chat_id)


async def _help(w: Work, who: Who, args: str, message: Message) -> None:
    tr = w.tr(who)
    if who.is_member:
        await family.help_now(w, who, tr)
    elif who.is_stranger:
        w.svc.stranger_answered.pop(who.chat_id, None)
        texts.stranger(w, who, tr)
    else:
        assert who.staff is not None
        w.answer(who, texts.staff_welcome(tr, who.staff))


async def _language(w: Work, who: Who, args: str, message: Message) -> None:
    tr = w.tr(who)
    choices = FAMILY_LANGUAGES if who.is_member else STAFF_LANGUAGES
    buttons = [(LANGUAGE_NAMES[c], w.sign(who.chat_id, "setlang", c)) for c in choices]
    w.answer(who, tr.gettext("Kies je taal:"),
             keyboard=outbox.keyboard([buttons[i:i + 2] for i in range(0, len(buttons), 2)]))


async def _new_family(w: Work, who: Who, args: str, message: Message) -> None:
    await coach.new_family(w, who, args)


async def _invite(w: Work, who: Who, args: str, message: Message) -> None:
    await coach.invite(w, who, args)


async def _write(w: Work, who: Who, args: str, message: Message) -> None:
    await coach.write(w, who, args)


async def _families(w: Work, who: Who, args: str, message: Message) -> None:
    await agenda.families(w, who)


async def _appointment(w: Work, who: Who, args: str, message: Message) -> None:
    await appointments.appointment(w, who, args)


async def _agreement(w: Work, who: Who, args: str, message: Message) -> None:
    await appointments.agreement(w, who, args)


async def _appointments(w: Work, who: Who, args: str, message: Message) -> None:
    await appointments.family_overview(w, who)


async def _pause(w: Work, who: Who, args: str, message: Message) -> None:
    await appointments.pause(w, who, args)


async def _my_data(w: Work, who: Who, args: str, message: Message) -> None:
    await rights.my_data(w, who)


async def _leave(w: Work, who: Who, args: str, message: Message) -> None:
    await rights.leave(w, who)


async def _contact(w: Work, who: Who, args: str, message: Message) -> None:
    await prompts.contact(w, who, args)


async def _review(w: Work, who: Who, args: str, message: Message) -> None:
    await prompts.review(w, who, args)


async def _ask_coordinator(w: Work, who: Who, args: str, message: Message) -> None:
    await prompts.ask_coordinator(w, who, args)


async def _overview(w: Work, who: Who, args: str, message: Message) -> None:
    await prompts.overview(w, who)


async def _move(w: Work, who: Who, args: str, message: Message) -> None:
    await prompts.move_family(w, who, args)


async def _deactivate(w: Work, who: Who, args: str, message: Message) -> None:
    await prompts.deactivate_coach(w, who, args)


async def _agenda(w: Work, who: Who, args: str, message: Message) -> None:
    await agenda.show(w, who, args)


async def _duo(w: Work, who: Who, args: str, message: Message) -> None:
    await coach.duo(w, who, args)


async def _reachable(w: Work, who: Who, args: str, message: Message) -> None:
    await availability_cmds.reachable(w, who)


async def _hours(w: Work, who: Who, args: str, message: Message) -> None:
    await availability_cmds.hours(w, who, args)


async def _away(w: Work, who: Who, args: str, message: Message) -> None:
    await availability_cmds.away(w, who, args)


async def _invite_oncall(w: Work, who: Who, args: str, message: Message) -> None:
    await coordinator.invite_oncall(w, who)


async def _crisis_line(w: Work, who: Who, args: str, message: Message) -> None:
    await local_services.crisis_line(w, who, args)


async def _urgent_alerts(w: Work, who: Who, args: str, message: Message) -> None:
    await coordinator.urgent_alerts(w, who, args)


async def _invite_coach(w: Work, who: Who, args: str, message: Message) -> None:
    await coordinator.invite_coach(w, who)


COMMAND_ACTIONS: dict[str, tuple[set[str], Action]] = {
    "hulp": ({"member", "coach", "coordinator", "stranger"}, _help),
    "taal": ({"member", "coach", "coordinator"}, _language),
    "nieuwgezin": ({"coach"}, _new_family),
    "uitnodiging": ({"coach"}, _invite),
    "schrijf": ({"coach"}, _write),
    "gezinnen": ({"coach"}, _families),
    "duo": ({"coach"}, _duo),
    "bereikbaar": ({"member"}, _reachable),
    "afspraken": ({"member"}, _appointments),
    "pauze": ({"member", "coach"}, _pause),
    "mijngegevens": ({"member"}, _my_data),
    "stoppen": ({"member"}, _leave),
    "afspraak": ({"coach"}, _appointment),
    "actie": ({"coach"}, _agreement),
    "agenda": ({"coach"}, _agenda),
    "contact": ({"coach"}, _contact),
    "afstemgesprek": ({"coach"}, _review),
    "coordinator": ({"coach"}, _ask_coordinator),
    "overzicht": ({"coordinator"}, _overview),
    "verplaats": ({"coordinator"}, _move),
    "coachstop": ({"coordinator"}, _deactivate),
    "bereikbaarheid": ({"coach"}, _hours),
    "afwezig": ({"coach"}, _away),
    "crisisdienst": ({"coach"}, _crisis_line),
    "coachuitnodigen": ({"coordinator"}, _invite_coach),
    "dienstuitnodigen": ({"coordinator"}, _invite_oncall),
    "spoedmelding": ({"coordinator"}, _urgent_alerts),
}


# Messages --------------------------------------------------------------------------------------
async def on_message(update: Update, context: Context) -> None:
    message = update.effective_message
    if message is None:
        return
    async with work(context) as w:
        who = await w.who(update)
        tr = w.tr(who)
        if message.text and message.text.startswith("/"):
            if who.is_stranger:
                texts.stranger(w, who, tr)
            else:
                w.answer(who, tr.gettext("Die opdracht ken ik niet. Tik op het menu voor de "
                                         "opdrachten."))
            return
        if who.is_member:
            await family.from_member(w, who, message)
        elif who.staff is not None:
            if message.text and await _continue_step(w, who, message.text):
                return
            await coach.from_coach(w, who, message)
        else:
            texts.stranger(w, who, tr)


STEP_ACTIONS = ("appt_when", "appt_what", "act_due", "act_what")


async def _continue_step(w: Work, who: Who, text: str) -> bool:
    """A typed answer to a step-by-step question (when? what?)."""
    pending = await repo.pending(w.session, who.chat_id, w.now)
    if pending is None or pending.action not in STEP_ACTIONS:
        return False
    await repo.clear_pending(w.session, who.chat_id)
    return await appointments.continue_step(w, who, pending.action, dict(pending.data), text)


async def on_edit(update: Update, context: Context) -> None:
    """Telegram tells the bot when someone edits a message it already passed on."""
    message = update.edited_message
    if message is None:
        return
    async with work(context) as w:
        who = await w.who(update)
        if who.is_member:
            await family.from_member(w, who, message, edited=True)
        elif who.staff is not None:
            w.answer(who, w.tr(who).gettext("Een aangepast bericht komt niet door bij het gezin. "
                                            "Stuur een nieuw bericht."))


async def on_my_chat_member(update: Update, context: Context) -> None:
    """A person blocks (kicked) or unblocks (member) the bot in their private chat."""
    change = update.my_chat_member
    if change is None:
        return
    from handlers.blocking import blocked_changed

    async with work(context) as w:
        await blocked_changed(w, change.chat.id, change.new_chat_member.status)


# Buttons ---------------------------------------------------------------------------------------
async def on_button(update: Update, context: Context) -> None:
    query = update.callback_query
    if query is None or query.message is None:
        return
    chat_id = query.message.chat.id
    parts = services(context).signer.verify(chat_id, query.data)
    with contextlib.suppress(TelegramError):
        await query.answer()
    if parts is None:
        log.info("a button with invalid data was refused")
        return
    action, args = parts[0], parts[1:]
    message_id = query.message.message_id
    async with work(context) as w:
        who = await w.who(update)
        # Strangers' buttons (joining) are not recorded: nothing is kept before consent.
        # A button does its work once: pressed again (a double tap, a replayed update) it
        # does nothing; each action removes or replaces the buttons it was on anyway.
        if not who.is_stranger and not await repo.first_press(
                w.session, chat_id, message_id, query.data or "", w.now):
            log.info("a button pressed again was ignored")
            return
        if action == "lang" and len(args) == 2:
            await onboarding.choose_language(w, who, message_id, args[0], args[1])
        elif action == "join" and len(args) == 2:
            await onboarding.consent(w, who, update, message_id, args[0], args[1])
        elif action == "nojoin" and args:
            await onboarding.decline(w, who, message_id, args[0])
        elif action == "setlang" and args:
            await set_language(w, who, message_id, args[0])
        elif action == "send" and len(args) == 2:
            await coach.send_chosen(w, who, int(args[0]), None, int(args[1]), message_id)
        elif action == "wr" and args:
            w.out.remove_buttons(who.chat_id, message_id)
            await coach.write_to(w, who, int(args[0]))
        elif action == "inv" and args:
            w.out.remove_buttons(who.chat_id, message_id)
            await coach.invite_for(w, who, int(args[0]))
        elif action == "apf" and args:
            w.out.remove_buttons(who.chat_id, message_id)
            await appointments.appointment_for(w, who, int(args[0]))
        elif action == "acf" and args:
            w.out.remove_buttons(who.chat_id, message_id)
            await appointments.agreement_for(w, who, int(args[0]))
        elif action in ("apok", "apno"):
            await appointments.confirm(w, who, message_id, yes=action == "apok")
        elif action == "apmv" and args:
            await appointments.move(w, who, int(args[0]), message_id)
        elif action == "apcx" and args:
            await appointments.cancel(w, who, int(args[0]), message_id)
        elif action == "rev" and args:
            await appointments.plan_review(w, who, int(args[0]), message_id)
        elif action == "askc" and args:
            w.out.remove_buttons(who.chat_id, message_id)
            await prompts.ask_for(w, who, int(args[0]))
        elif action == "again" and len(args) == 2 and isinstance(query.message, Message):
            w.out.remove_buttons(who.chat_id, message_id)
            await again(w, who, int(args[0]), args[1], query.message)
        elif action == "oncall" and args and who.is_member:
            await availability_cmds.oncall_answer(w, who, message_id, args[0] == "yes")
        elif action == "urgalert" and args and who.is_coordinator:
            w.out.remove_buttons(who.chat_id, message_id)
            await coordinator.set_urgent_alerts(w, who, args[0] == "on")
        elif action == "leave" and who.is_member:
            await rights.confirm_leave(w, who, message_id)
        elif action == "stay" and who.is_member:
            await rights.stay(w, who, message_id)
        elif action == "rsp" and len(args) == 3:
            await appointments.respond(w, who, args[0], int(args[1]), args[2], message_id)
        else:
            w.out.remove_buttons(who.chat_id, message_id)


async def again(w: Work, who: Who, family_id: int, command_name: str, message: Message) -> None:
    """A family tapped after a command whose alias matched none or several: the command runs
    again for that family with what the coach had typed after the alias."""
    entry = COMMAND_ACTIONS.get(command_name)
    family = await coach.authorized_family(w, who, family_id)
    if entry is None or family is None or not allowed(who, entry[0]):
        return
    pending = await repo.pending(w.session, who.chat_id, w.now)
    rest = ""
    if pending is not None and pending.action == "again" and (
            pending.data.get("command") == command_name):
        rest = str(pending.data.get("rest", ""))
    await repo.clear_pending(w.session, who.chat_id)
    await entry[1](w, who, family.alias + rest, message)


async def set_language(w: Work, who: Who, message_id: int, language: str) -> None:
    allowed = FAMILY_LANGUAGES if who.is_member else STAFF_LANGUAGES
    if language not in allowed or who.is_stranger:
        return
    if who.member is not None and who.family is not None:
        who.member.language = language
        tr = translator(language, who.family.region, who.family.timezone)
        menus.set_for_member(w.out, who.chat_id, tr)
        keyboard: dict[str, Any] | None = texts.family_keyboard(tr)
    elif who.staff is not None:
        who.staff.language = language
        tr = translator(language, w.svc.settings.region)
        menus.set_for_staff(w.out, who.chat_id, tr, who.staff)
        keyboard = None
    else:
        return
    w.out.edit_text(who.chat_id, message_id, f"✓ {LANGUAGE_NAMES[language]}")
    w.answer(who, tr.gettext("Ik praat nu Nederlands met je."), keyboard=keyboard)


# Errors -----------------------------------------------------------------------------------------
async def on_error(update: object, context: Context) -> None:
    """Logged without contents; the intake keeps the update for another attempt."""
    error = context.error
    if isinstance(error, RetryLater):
        log.info("an update waits a moment: %s", error)
    else:
        log.error("handling an update failed: %s", type(error).__name__,
                  exc_info=(type(error), error, error.__traceback__) if error else None)
    intake = context.bot_data.get("intake")
    if intake is not None and isinstance(update, Update):
        if database_away(error) or isinstance(error, RetryLater):
            intake.transient.add(update.update_id)
        else:
            intake.failed.add(update.update_id)


def database_away(error: BaseException | None) -> bool:
    """The database could not be reached (or was locked): nothing wrong with the update."""
    from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

    if isinstance(error, OperationalError | InterfaceError | ConnectionError | TimeoutError):
        return True
    return isinstance(error, DBAPIError) and bool(error.connection_invalidated)


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    app.add_handler(TypeHandler(Update, only_private_chats), group=-10)
    app.add_handler(CommandHandler("start", onboarding.start, filters=PRIVATE))
    for dutch, (roles, action) in COMMAND_ACTIONS.items():
        app.add_handler(CommandHandler(menus.names_for(dutch), command(roles, action),
                                       filters=PRIVATE))
        menus.AVAILABLE.add(dutch)
    app.add_handler(CallbackQueryHandler(on_button))
    app.add_handler(MessageHandler(PRIVATE, on_message))
    app.add_handler(MessageHandler(filters.ChatType.PRIVATE & filters.UpdateType.EDITED_MESSAGE,
                                   on_edit))
    app.add_handler(ChatMemberHandler(on_my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER))
    app.add_error_handler(on_error)
