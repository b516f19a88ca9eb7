"""A local Telegram Bot API server for the demo and the end-to-end tests, and the conformance
check of Bot API calls against the published API. Only the demo and the tests import it, never
the product's own modules; the API facts it checks against are given to it (tests load them
from tests/bot_api_facts.json)."""

from bot.simulator.conformance import ApiFacts, check_call, load_facts
from bot.simulator.model import ApiCall, BotApiError, ChatMessage, Faults, Trap
from bot.simulator.people import LocalUser
from bot.simulator.server import DEFAULT_TOKEN, LocalBotApi

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
