"""Wiring: which update goes to which handler, and the checks every update passes first."""

from __future__ import annotations

import contextlib
import difflib
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Update
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

from bot.i18n import Translator
from bot.outbox.intake import UpdateAlreadyHandled
from handlers import coach, family, flow, menus, onboarding, registry, texts
from handlers.blocking import blocked_changed
from handlers.common import Context, RetryLater, Who, Work, services, work
from handlers.menus import roles_of
from handlers.registry import Command, Press
from storage.db import database_away
from storage.models import PendingInput
from storage.repos import families, pending, state

log = logging.getLogger(__name__)

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
def command(declared: Command) -> Callable[[Update, Context], Coroutine[Any, Any, None]]:
    """Role check for every command: a person outside its roles learns nothing more than that
    the command is not for them. The relation to a family is checked where the family is found
    (coach.resolve_family, coach.authorized_family)."""

    async def handle(update: Update, context: Context) -> None:
        message = update.effective_message
        if message is None:
            return
        async with work(context) as w:
            who = await w.who(update)
            tr = w.tr(who)
            if not declared.roles & roles_of(who):
                _refuse(w, who, tr, _not_yours(tr, who, declared))
                return
            if declared.run_alone is not flow.cancel_command:
                await flow.stop_earlier(w, who)
            w.command_message_id = message.message_id
            await declared.call(w, who, coach.args_text(message))

    return handle


def _refuse(w: Work, who: Who, tr: Translator, text: str) -> None:
    """A stranger gets the stranger's answer (crisis lines, nothing stored); others `text`."""
    if who.is_stranger:
        texts.stranger(w, who, tr)
    else:
        w.answer(who, text)


def _called(tr: Translator, dutch: str) -> str:
    """A command as the reader types it: `/afspraak`, or `/appointment` in English."""
    declared = registry.BY_NAME.get(dutch)
    return f"/{declared.name_in(tr) if declared else dutch}"


def _not_yours(tr: Translator, who: Who, declared: Command) -> str:
    """A command of another role: whose it is, and what this person uses instead. The same
    words whatever followed the command (nothing is said about a family named in it)."""
    help_ = _called(tr, "hulp")
    if who.is_member:
        return texts.not_yours(tr, "coach", tr.gettext(
            "Typ gewoon je bericht voor je coach. Hulp nodig? Tik op {help}.").format(
                help=help_))
    theirs = next((r for r in ("coach", "member", "coordinator") if r in declared.roles),
                  "coach")
    instead = tr.gettext("Tik op {help} voor jouw opdrachten.").format(help=help_)
    if theirs == "member" and who.is_coach and declared.dutch == "afspraken":
        instead = tr.gettext("Jij gebruikt {agenda} of {appointment} Gezin J.").format(
            agenda=_called(tr, "agenda"), appointment=_called(tr, "afspraak"))
    elif theirs == "member" and who.is_coach and declared.dutch == "bereikbaar":
        instead = tr.gettext("Jij gebruikt {hours}.").format(hours=_called(tr, "bereikbaarheid"))
    return texts.not_yours(tr, theirs, instead)


def _unknown(w: Work, who: Who, tr: Translator, text: str) -> str:
    """A command that does not exist: the closest of this person's own (a typo, or the name in
    the other language), else where the commands are."""
    typed, _, bot = text.split(maxsplit=1)[0][1:].partition("@")
    ours = not bot or bot.casefold() == w.svc.bot_username.casefold()
    close = _closest(typed, roles_of(who)) if ours else None
    if close is None:
        return tr.gettext("Die opdracht ken ik niet. Tik op het menu voor de opdrachten.")
    return tr.gettext("Die opdracht ken ik niet. Bedoel je {command}?").format(
        command=f"/{close.name_in(tr)}")


def _closest(typed: str, roles: frozenset[menus.Role]) -> Command | None:
    """By typing distance (difflib), over the Dutch and the English names of the commands of
    these roles."""
    names = {name: c for c in registry.COMMANDS if c.roles & roles for name in c.names}
    found = difflib.get_close_matches(typed.casefold(), list(names), n=1, cutoff=0.6)
    return names[found[0]] if found else None


# Messages --------------------------------------------------------------------------------------
async def on_message(update: Update, context: Context) -> None:
    message = update.effective_message
    if message is None:
        return
    async with work(context) as w:
        who = await w.who(update)
        tr = w.tr(who)
        if message.text and message.text.startswith("/"):
            _refuse(w, who, tr, _unknown(w, who, tr, message.text))
            return
        if who.is_member:
            await family.from_member(w, who, message)
        elif who.staff is not None:
            if message.text and await _continue_step(w, who, message.text):
                return
            await coach.from_coach(w, who, message)
        else:
            texts.stranger(w, who, tr)


async def _continue_step(w: Work, who: Who, text: str) -> bool:
    """A typed answer to a step-by-step question (when? what?) of a command (registry.STEPS)."""
    step = await pending.pending(w.session, who.chat_id, w.now)
    if step is not None and step.action == coach.WHICH_FAMILY:
        return await _family_typed(w, who, step, text)
    steps = registry.STEPS.get(step.action) if step is not None else None
    if step is None or steps is None:
        return False
    await pending.clear_pending(w.session, who.chat_id)
    return await steps.answer(w, who, step.action, dict(step.data), text)


NAME_WORDS = 3  # a longer line under "which family?" is a message, not a name


async def _family_typed(w: Work, who: Who, step: PendingInput, text: str) -> bool:
    """The question which family (coach.resolve_family) answered by typing a name, as coaches
    name families: as if tapped. Several still, or a name no family has: asked again (with
    those, or with all), what was typed after the command kept. A whole sentence is no answer:
    it goes on as any message would."""
    if who.staff is None or len(text) > coach.ALIAS_MAX:
        return False
    found = families.match_alias(await coach.families_of(w, who.staff), text)
    if not found and len(text.split()) > NAME_WORDS:
        return False
    code = str(step.data.get("button", ""))
    button = registry.BUTTONS.get(code)
    pick = button.pick if button is not None else None
    command = str(step.data.get("command", ""))
    if len(found) == 1 and pick is not None:
        await registry.run_pick(w, who, pick, found[0].id)
    elif len(found) == 1:
        await registry.run_again(w, who, found[0].id, command)
    elif pick is not None:
        await coach.resolve_family(w, who, w.tr(who), text, code)
    else:
        await coach.resolve_family(w, who, w.tr(who), text,
                                   retry=(command, str(step.data.get("rest", ""))))
    return True


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
    async with work(context) as w:
        await blocked_changed(w, change.chat.id, change.new_chat_member.status)


# Buttons ---------------------------------------------------------------------------------------
async def on_button(update: Update, context: Context) -> None:
    query = update.callback_query
    if query is None or query.message is None:
        return
    chat_id = query.message.chat.id
    if query.from_user is None or query.from_user.id != chat_id:
        # Acted on only for the person the button was sent to (private chats: the chat's own).
        log.info("a button pressed by someone else than its chat was ignored")
        return
    parts = services(context).signer.verify(chat_id, query.data)
    with contextlib.suppress(TelegramError):
        await query.answer()
    if parts is None:
        log.info("a button with invalid data was refused")
        return
    button, args = registry.BUTTONS.get(parts[0]), tuple(parts[1:])
    message_id = query.message.message_id
    async with work(context) as w:
        who = await w.who(update)
        # Strangers' buttons (joining) are not recorded: nothing is kept before consent.
        # A button does its work once: pressed again (a double tap, a replayed update) it
        # does nothing; each action removes or replaces the buttons it was on anyway.
        if not who.is_stranger and not await state.first_press(
                w.session, chat_id, message_id, query.data or "", w.now):
            log.info("a button pressed again was ignored")
            return
        if button is None or not button.accepts(who, args):
            w.out.remove_buttons(who.chat_id, message_id)
            return
        if button.remove_first:
            w.out.remove_buttons(who.chat_id, message_id)
        await button.run(w, who, Press(args, message_id, update))


# Errors -----------------------------------------------------------------------------------------
async def on_error(update: object, context: Context) -> None:
    """Logged without contents; the intake keeps the update for another attempt."""
    error = context.error
    if isinstance(error, UpdateAlreadyHandled):  # another instance was first: nothing lost
        log.debug("update handled by another instance")
        return
    away = database_away(error)
    intake = context.bot_data.get("intake")
    if isinstance(error, RetryLater):
        log.info("an update waits a moment: %s", error)
    elif away:
        log.warning("an update waits for the database: %s", type(error).__name__)
    elif (intake is not None and isinstance(update, Update)
          and intake.tried_together(update.update_id)):
        # Rolled back with its group and handled again alone: that failure is the one logged.
        log.info("an update failed in a group (%s); handled alone next", type(error).__name__)
    else:
        log.error("handling an update failed: %s", type(error).__name__,
                  exc_info=(type(error), error, error.__traceback__) if error else None)
    if intake is not None and isinstance(update, Update):
        # The database away or busy, or a moment to wait: tried again without counting. A bug
        # counts (its kind is kept, without content), and after a few the update is kept aside.
        intake.note_failure(update.update_id, error,
                            transient=away or isinstance(error, RetryLater))


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    app.add_handler(TypeHandler(Update, only_private_chats), group=-10)
    app.add_handler(CommandHandler("start", onboarding.start, filters=PRIVATE))
    for declared in registry.COMMANDS:
        app.add_handler(CommandHandler(declared.names, command(declared), filters=PRIVATE))
    menus.install(registry.COMMANDS)
    app.add_handler(CallbackQueryHandler(on_button))
    app.add_handler(MessageHandler(PRIVATE, on_message))
    app.add_handler(MessageHandler(filters.ChatType.PRIVATE & filters.UpdateType.EDITED_MESSAGE,
                                   on_edit))
    app.add_handler(ChatMemberHandler(on_my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER))
    app.add_error_handler(on_error)
