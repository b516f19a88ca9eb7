"""A local Telegram Bot API server for the demo and the end-to-end tests, and the conformance
check of Bot API calls against the published API."""

from bot.local_api.conformance import ApiFacts, check_call, load_facts
from bot.local_api.model import ApiCall, BotApiError, ChatMessage, Faults, Trap
from bot.local_api.people import LocalUser
from bot.local_api.server import DEFAULT_TOKEN, LocalBotApi

__all__ = [
    "DEFAULT_TOKEN",
    "ApiCall",
    "ApiFacts",
    "BotApiError",
    "ChatMessage",
    "Faults",
    "LocalBotApi",
    "LocalUser",
    "Trap",
    "check_call",
    "load_facts",
]
