"""Wiring: which update goes to which handler, and the checks every update passes first."""

from __future__ import annotations

import contextlib
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
from storage.repos import pending, state

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
                _refuse(w, who, tr, tr.gettext("Deze opdracht is niet voor jou. Kijk in het "
                                               "menu welke opdrachten je kunt gebruiken."))
                return
            if declared.run_alone is not flow.cancel_command:
                await flow.stop_earlier(w, who)
            await declared.call(w, who, coach.args_text(message))

    return handle


def _refuse(w: Work, who: Who, tr: Translator, text: str) -> None:
    """A stranger gets the stranger's answer (crisis lines, nothing stored); others `text`."""
    if who.is_stranger:
        texts.stranger(w, who, tr)
    else:
        w.answer(who, text)


# Messages --------------------------------------------------------------------------------------
async def on_message(update: Update, context: Context) -> None:
    message = update.effective_message
    if message is None:
        return
    async with work(context) as w:
        who = await w.who(update)
        tr = w.tr(who)
        if message.text and message.text.startswith("/"):
            _refuse(w, who, tr, tr.gettext("Die opdracht ken ik niet. Tik op het menu voor de "
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


async def _continue_step(w: Work, who: Who, text: str) -> bool:
    """A typed answer to a step-by-step question (when? what?) of a command (registry.STEPS)."""
    step = await pending.pending(w.session, who.chat_id, w.now)
    steps = registry.STEPS.get(step.action) if step is not None else None
    if step is None or steps is None:
        return False
    await pending.clear_pending(w.session, who.chat_id)
    return await steps.answer(w, who, step.action, dict(step.data), text)


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
    if isinstance(error, RetryLater):
        log.info("an update waits a moment: %s", error)
    elif away:
        log.warning("an update waits for the database: %s", type(error).__name__)
    else:
        log.error("handling an update failed: %s", type(error).__name__,
                  exc_info=(type(error), error, error.__traceback__) if error else None)
    intake = context.bot_data.get("intake")
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
