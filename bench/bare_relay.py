"""The yardstick: a bare python-telegram-bot relay, about as small as one can be.

An Application with one MessageHandler that copies every message to a fixed chat, polling the
Bot API server (python-telegram-bot's own Updater, its defaults). No database, no checks: what
the framework and the HTTP round trips cost on their own.

Run by bench/relay.py as `python -m bench.bare_relay '<json config>'`.
"""

from __future__ import annotations

import asyncio
import json
import sys

from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters

from bench.common import emit, wait_for_stop


async def main(api_url: str, token: str, target: int) -> None:
    app = Application.builder().token(token).base_url(api_url).build()

    async def relay(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.copy(target)

    app.add_handler(MessageHandler(filters.UpdateType.MESSAGE, relay))
    async with app:
        assert app.updater is not None
        await app.updater.start_polling(timeout=10, poll_interval=0)
        await app.start()
        emit("ready")
        await wait_for_stop()
        await app.updater.stop()
        await app.stop()
    emit("stopped")


if __name__ == "__main__":
    config = json.loads(sys.argv[1])
    asyncio.run(main(config["api_url"], config["token"], int(config["target"])))
