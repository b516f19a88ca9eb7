"""The operators' endpoint: `/healthz` and `/metrics` (bot/metrics.py lists what it shows).

On GEZINSLIJN_HTTP_PORT, listening on GEZINSLIJN_HTTP_LISTEN (127.0.0.1 unless it says
otherwise); off when the port is not set. The webhook server serves both as well
(bot/webhook.py), so in webhook mode a port of its own is not needed.

`/healthz` answers 200 "ok" while the bot's own tasks (the dispatcher, the handling of stored
updates, and polling when it polls) run and the database answers within 2 s; else 503 with a
short reason ("database: unreachable", "database: not answering", "dispatcher: stopped",
"polling: stopped", "bot: starting"). A database query that hangs is not cancelled but left to
finish (a query cut off midway leaves its pooled connection in doubt): the next request waits
for that same one, so probes never pile up.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot.settings import SettingsError
from storage.repos import metrics as metrics_rows

if TYPE_CHECKING:
    from bot.app import Runtime

log = logging.getLogger(__name__)
T = TypeVar("T")

PROBE_SECONDS = 2.0
# The bot's long-running tasks (Runtime.tasks), by the coroutine each runs.
ROLES = {"Dispatcher.run": "dispatcher", "Intake.process_forever": "intake",
         "Intake.poll_forever": "polling"}


def role(task: asyncio.Task[Any]) -> str:
    return ROLES.get(getattr(task.get_coro(), "__qualname__", ""), "a task")


def add_routes(app: web.Application, runtime: Runtime) -> None:
    """`runtime`'s /healthz and /metrics on `app` (its own server, or the webhook's); `ops` is
    looked up per request."""

    async def healthz(request: web.Request) -> web.Response:
        return await runtime.ops.healthz(request)

    async def metrics(request: web.Request) -> web.Response:
        return await runtime.ops.metrics(request)

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)


def _retrieve(task: asyncio.Task[Any]) -> None:
    """A probe nobody waits for any more: its failure is not an unhandled one."""
    if not task.cancelled():
        task.exception()


class Ops:
    """One running bot's operators' endpoint (Runtime.ops)."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.port: int | None = None  # where its own server listens, once started
        self._runner: web.AppRunner | None = None
        self._probes: dict[str, asyncio.Task[Any]] = {}

    # Serving ------------------------------------------------------------------------------------
    async def start(self, polling: bool) -> None:
        settings = self.runtime.settings
        if settings.http_port is None:
            return
        if not polling and (settings.http_listen, settings.http_port) == (
                settings.webhook_listen, settings.webhook_port):
            return  # the webhook server is this server: it serves both already
        app = web.Application()
        add_routes(app, self.runtime)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, settings.http_listen, settings.http_port)
        try:
            await site.start()
        except OSError as error:
            await runner.cleanup()
            raise SettingsError(
                f"The setting GEZINSLIJN_HTTP_PORT cannot be used: port {settings.http_port} "
                f"on {settings.http_listen} is not free or not allowed "
                f"({error.strerror or type(error).__name__}).") from None
        self._runner = runner
        self.port = settings.http_port
        log.info("operators' endpoint on %s:%s (/healthz, /metrics)", settings.http_listen,
                 settings.http_port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        probes = list(self._probes.values())
        self._probes.clear()
        for task in probes:
            task.cancel()
        await asyncio.gather(*probes, return_exceptions=True)

    # Health -------------------------------------------------------------------------------------
    async def problem(self) -> str | None:
        """What keeps the bot from working, in a few words; None when nothing does."""
        runtime = self.runtime
        if runtime.stop_event.is_set():
            return "bot: stopping"
        if not runtime.tasks:
            return "bot: starting"
        for task in runtime.tasks:
            if task.done():
                return f"{role(task)}: stopped"
        try:
            await self._bounded("ping", self._ping)
        except TimeoutError:
            return "database: not answering"
        except Exception as error:
            log.warning("health probe: the database did not answer (%s)",
                        type(error).__name__)
            return "database: unreachable"
        return None

    async def healthz(self, _request: web.Request) -> web.Response:
        problem = await self.problem()
        if problem is None:
            return web.Response(text="ok\n")
        return web.Response(status=503, text=problem + "\n")

    async def _ping(self) -> None:
        async with self.runtime.db.transaction() as session:
            await metrics_rows.ping(session)

    # Metrics ------------------------------------------------------------------------------------
    async def metrics(self, _request: web.Request) -> web.Response:
        found = self.runtime.dispatcher.metrics
        now = self.runtime.clock.now()
        try:
            now, counts = await self._bounded("counts", self._counts)
        except Exception as error:
            log.warning("metrics: the database did not answer (%s)", type(error).__name__)
            found.database.update(None, now)
        else:
            found.database.update(counts, now)
        return web.Response(body=generate_latest(found.registry),
                            headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def _counts(self) -> tuple[datetime, metrics_rows.Counts]:
        now = self.runtime.clock.now()
        async with self.runtime.db.transaction() as session:
            return now, await metrics_rows.counts(session, now)

    async def _bounded(self, name: str, work: Callable[[], Awaitable[T]]) -> T:
        """`work`, waited for at most PROBE_SECONDS; one still running from an earlier
        request is waited for instead of starting another."""
        task = self._probes.get(name)
        if task is None or task.done():
            task = asyncio.ensure_future(work())
            task.add_done_callback(_retrieve)
            self._probes[name] = task
        result: T = await asyncio.wait_for(asyncio.shield(task), PROBE_SECONDS)
        return result

