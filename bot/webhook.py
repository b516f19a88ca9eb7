"""Webhook mode: Telegram POSTs updates; each is stored before the 200 goes back, and only a
request carrying the secret token (X-Telegram-Bot-Api-Secret-Token) is accepted."""

from __future__ import annotations

import hmac
import json
import logging

from aiohttp import web

from bot.app import Runtime
from bot.ops_http import add_routes as add_ops_routes

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def make_app(runtime: Runtime, path: str = "/telegram") -> web.Application:
    secret = runtime.settings.webhook_secret

    async def receive(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not secret or not hmac.compare_digest(given.encode(), secret.encode()):
            return web.Response(status=403)
        try:
            body = await request.json(loads=json.loads)
        except ValueError:
            return web.Response(status=400)
        if not isinstance(body, dict) or not isinstance(body.get("update_id"), int):
            return web.Response(status=400)
        try:
            await runtime.intake.store([body], advance_offset=False)
        except Exception:
            log.exception("storing a webhook update failed")
            return web.Response(status=503)  # Telegram tries again later
        return web.Response(status=200)

    app = web.Application(client_max_size=2 * 1024 * 1024)
    app.router.add_post(path, receive)
    add_ops_routes(app, runtime)  # /healthz and /metrics
    return app


async def serve_webhook(runtime: Runtime) -> None:
    settings = runtime.settings
    await runtime.start(polling=False)
    runner = web.AppRunner(make_app(runtime), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, settings.webhook_listen, settings.webhook_port)
    await site.start()
    await runtime.app.bot.set_webhook(url=settings.webhook_url,
                                      secret_token=settings.webhook_secret,
                                      allowed_updates=["message", "edited_message",
                                                       "callback_query", "my_chat_member"])
    try:
        await runtime.stop_event.wait()
    finally:
        await runner.cleanup()
        await runtime.stop()
