"""The post room: every message the bot sends is written here first (`Outgoing`, `write`) and
sent by the dispatcher (bot/outbox/dispatcher.py) within Telegram's limits (ratelimit.py);
every update it receives is stored first by the intake (intake.py).

This face names what handlers, delivery and jobs use to write (`from bot import outbox`); the
intake, the dispatcher and the rate limiter are imported from their modules by the assembly.
"""

from bot.outbox.keyboards import keyboard, remove_reply_keyboard, reply_keyboard
from bot.outbox.outgoing import Link, Outgoing, Send, write

__all__ = ["Link", "Outgoing", "Send", "keyboard", "remove_reply_keyboard", "reply_keyboard",
           "write"]
