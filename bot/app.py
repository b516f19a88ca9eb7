"""Assembling and running the bot: settings → clock, database, Application, intake, dispatcher.

`Runtime` owns every resource and its order of start and stop; the CLI, the demo and the
end-to-end tests all run the bot through it, so they run the same thing.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from filelock import FileLock, Timeout
from telegram.error import TelegramError
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder

from bot import heap
from bot.callbacks import CallbackSigner
from bot.clock import Clock, SimulatedClock, SystemClock
from bot.delivery import crisis_lines
from bot.delivery.undelivered import copy_arrived, copy_not_delivered
from bot.domain.crisis import CrisisConfigError
from bot.i18n import FAMILY_LANGUAGES, translator
from bot.jobs.blocked_recipients import mark_blocked
from bot.jobs.data_keys import keep_family_keys
from bot.jobs.held_messages import HeldRelease
from bot.jobs.morning_agenda import MorningAgenda
from bot.jobs.nudges import UnansweredNudges
from bot.jobs.reminders import ReminderSender
from bot.jobs.retention import RetentionPurge
from bot.jobs.stray_copies import StrayCopies
from bot.ops_http import Ops
from bot.outbox.dispatcher import Dispatcher
from bot.outbox.intake import Intake
from bot.outbox.ratelimit import RateLimiter
from bot.services import Services
from bot.settings import Settings, SettingsError
from bot.telegram_http import AiohttpRequest
from handlers import menus, router
from storage import crypto
from storage.db import Database, DatabaseUrlError, async_url, is_sqlite, sqlite_file

log = logging.getLogger(__name__)

AnyApp = Application[Any, Any, Any, Any, Any, Any]
_ = AIORateLimiter  # the dispatcher paces sends itself (per chat too); see bot/outbox/ratelimit.py


def make_clock(settings: Settings) -> Clock:
    if settings.clock_start is not None:
        return SimulatedClock(settings.clock_start, settings.clock_speed)
    return SystemClock()


def encryption_keys(settings: Settings) -> list[str]:
    """The configured key ring; for the single-machine SQLite default, a key file is created
    next to the data so a first run needs no setup. PostgreSQL (several machines) needs the
    setting."""
    if settings.encryption_key:
        return [k for k in settings.encryption_key.split(",") if k.strip()]
    if is_sqlite(settings.database_url):
        return [crypto.key_from_file(settings.key_file)]
    raise SettingsError("The setting GEZINSLIJN_ENCRYPTION_KEY is missing: it is required with "
                        "PostgreSQL (create one with `gezinslijn admin new-key`).")


def check_database_url(settings: Settings) -> None:
    try:
        async_url(settings.database_url)
    except DatabaseUrlError as error:
        raise SettingsError(f"The setting GEZINSLIJN_DATABASE_URL is not valid: {error}.") from None


def configure_encryption(settings: Settings) -> list[str]:
    keys = encryption_keys(settings)
    try:
        crypto.configure(keys)
    except crypto.EncryptionKeyError:
        raise SettingsError("The setting GEZINSLIJN_ENCRYPTION_KEY is not valid: each key must "
                            "be a Fernet key (32 url-safe base64-encoded bytes).") from None
    return keys


def configure_crisis_services(settings: Settings) -> None:
    try:
        crisis_lines.configure(settings.region, settings.crisis_services_file)
    except CrisisConfigError as error:
        raise SettingsError("The setting GEZINSLIJN_CRISIS_SERVICES_FILE points at crisis "
                            f"services that cannot be trusted: {error}.") from None


def hold_database_file(url: str) -> FileLock | None:
    """One instance per SQLite file: a second would poll Telegram too (each ends the other's
    getUpdates) and take the first one's claims for stale. Held until stop(); the system frees
    it when the process ends, however it ends."""
    path = sqlite_file(url)
    if path is None:
        return None
    lock = FileLock(f"{path}.lock", timeout=0, thread_local=False)
    try:
        lock.acquire()
    except Timeout:
        raise SettingsError(f"Another Gezinslijn is already running on this database ({path}): "
                            "stop it first, or give this one its own "
                            "GEZINSLIJN_DATABASE_URL.") from None
    return lock


def install_jobs(dispatcher: Dispatcher, services: Services) -> None:
    """The work the dispatcher does besides sending: the planned and periodic jobs that turn
    what is due into outbox rows, and the hook for a recipient who blocked the bot."""
    dispatcher.on_blocked = mark_blocked
    dispatcher.on_undelivered = copy_not_delivered
    dispatcher.on_sent = copy_arrived
    dispatcher.planners = [HeldRelease(), ReminderSender(services.signer),
                           MorningAgenda(services.settings, services.signer),
                           UnansweredNudges(services.settings),
                           RetentionPurge(services.settings.retention_days), StrayCopies()]


def build_application(settings: Settings, read_timeout: float = 15.0) -> AnyApp:
    """`read_timeout`: how long a send waits for Telegram's answer before it counts as timed
    out (and is tried again: it may have been delivered all the same)."""
    request = AiohttpRequest(connection_pool_size=32, read_timeout=read_timeout,
                             write_timeout=15, connect_timeout=5, pool_timeout=10)
    polling = AiohttpRequest(connection_pool_size=2, read_timeout=40, connect_timeout=5)
    builder: ApplicationBuilder[Any, Any, Any, Any, Any, Any] = (
        Application.builder()
        .token(settings.telegram_token)
        .base_url(settings.telegram_api_url)
        .base_file_url(settings.telegram_api_url.replace("/bot", "/file/bot"))
        .request(request)
        .get_updates_request(polling)
        .updater(None)
        .job_queue(None)
    )
    app = builder.build()
    router.register(app)
    return app


class Runtime:
    """One running bot. `start()` returns once it is receiving; `stop()` undoes everything."""

    def __init__(self, settings: Settings, clock: Clock | None = None, *,
                 limiter: RateLimiter | None = None, poll_timeout: int = 10,
                 dispatcher_poll: float = 0.5, migrate: bool = True,
                 read_timeout: float = 15.0, freeze_heap: bool = False) -> None:
        check_database_url(settings)
        keys = configure_encryption(settings)
        configure_crisis_services(settings)
        self.settings = settings
        self.clock = clock or make_clock(settings)
        self.db = Database(settings.database_url, settings.keystore_url or None)
        self.app = build_application(settings, read_timeout=read_timeout)
        signer = CallbackSigner(*(hashlib.sha256(k.encode()).digest()
                                  + settings.telegram_token.encode() for k in keys))
        self.services = Services(settings, self.db, self.clock, signer)
        self.dispatcher = Dispatcher(self.db, self.app.bot, self.clock, limiter,
                                     poll_seconds=dispatcher_poll)
        self.services.dispatcher = self.dispatcher
        self.intake = Intake(self.db, self.app, self.clock, poll_timeout=poll_timeout)
        self.dispatcher.takes_in = lambda: self.intake.polling
        self.app.bot_data["services"] = self.services
        self.app.bot_data["intake"] = self.intake
        self.scheduler = AsyncIOScheduler()
        self.stop_event = asyncio.Event()
        self.tasks: list[asyncio.Task[None]] = []
        self._migrate = migrate
        # The installed command's bot runs for months: its start-up objects leave the garbage
        # collector's full passes (bot/heap.py). Not for bots started over and over in one
        # process (tests, tools): the collect before the freeze cost 0.35 s a start there.
        self._freeze_heap = freeze_heap
        self._file_lock: FileLock | None = None
        self.ops = Ops(self)  # /healthz and /metrics

    async def start(self, polling: bool = True) -> None:
        await self.ops.start(polling)  # first: a port in use stops start-up before anything ran
        # Before migrating, and before the SQLite start-up below takes every claim for stale.
        self._file_lock = hold_database_file(self.settings.database_url)
        if self._migrate:
            from bot.checks import migrate  # bot.checks imports this module

            await migrate(self.settings)  # a refusal is a sentence (SettingsError)
        await keep_family_keys(self.db)
        await self.app.initialize()
        self.services.bot_username = self.app.bot.username
        if is_sqlite(self.settings.database_url):
            await self.dispatcher.release_own_claims()
        else:  # PostgreSQL: claims of instances that died go back at once
            await self.dispatcher.liveness()
        install_jobs(self.dispatcher, self.services)
        await self.app.start()
        await self._default_menus()
        self.scheduler.add_job(self._tick, "interval", seconds=1, id="wake",
                               coalesce=True, max_instances=1)
        self.scheduler.start()
        self.tasks = [asyncio.create_task(self.dispatcher.run(self.stop_event)),
                      asyncio.create_task(self.intake.process_forever(self.stop_event))]
        if polling:
            self.tasks.append(asyncio.create_task(self.intake.poll_forever(self.stop_event)))
        if self._freeze_heap:
            heap.settle()  # last: what start-up made stays, and full collections skip it
        log.info("bot started (%s)", "polling" if polling else "webhook")

    async def _default_menus(self) -> None:
        """Strangers' menu per language: just help."""
        for language in FAMILY_LANGUAGES:
            tr = translator(language, self.settings.region)
            commands = menus.menu(tr, {"stranger"})
            with contextlib.suppress(TelegramError):
                await self.app.bot.set_my_commands(
                    [(c["command"], c["description"]) for c in commands],
                    language_code=None if language == "nl" else language)

    async def _tick(self) -> None:
        """The scheduler's wake-up, as a coroutine: APScheduler runs a plain function in a
        worker thread, and the dispatcher's asyncio.Event must be set on the loop's thread.
        For the planners: the pass asks before it claims (Dispatcher._claim_now)."""
        self.dispatcher.wake(claim=False)

    async def stop(self) -> None:
        await self.ops.stop()
        # No wake-up may start while stopping (one cut off at the end is logged as an error).
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        self.stop_event.set()
        self.dispatcher.wake()
        if self.tasks:
            # Let the dispatcher finish the batch it holds (cancelling it mid-send would leave
            # rows claimed until their lease ends), then send what else is due.
            with contextlib.suppress(TimeoutError, Exception):
                await asyncio.wait_for(asyncio.shield(self.tasks[0]), 5)
            await self.dispatcher.drain()
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self.tasks = []
        with contextlib.suppress(Exception):
            if self.app.running:
                await self.app.stop()
            await self.app.shutdown()
        await self.dispatcher.close()
        await self.db.dispose()
        if self._file_lock is not None:
            self._file_lock.release()
            self._file_lock = None
        if self._freeze_heap:
            heap.release()

    async def run_until_stopped(self, polling: bool = True) -> None:
        await self.start(polling=polling)
        try:
            await self.stop_event.wait()
        finally:
            await self.stop()
