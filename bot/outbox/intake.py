"""Receiving updates without losing one.

python-telegram-bot's own polling confirms an update to Telegram as soon as it is queued, before
any handler ran. Here every update is first written to the database together with the next
offset; only the *next* getUpdates call (which carries that offset) confirms it to Telegram.
Handling happens from the stored copy, which is deleted in the same transaction as what the
handler wrote (storage.db.joining_first_transaction): a crash in between cannot handle it twice,
and an instance that finds it already deleted rolls its own handling back. The webhook server
uses the same store and answers 200 only after the write.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import Any

from telegram import Update
from telegram.error import InvalidToken, NetworkError, RetryAfter
from telegram.ext import Application

from bot.clock import Clock
from bot.outbox.ratelimit import retry_seconds
from storage.db import Database, Session, joining_first_transaction
from storage.repos import inbound, state

log = logging.getLogger(__name__)

OFFSET_KEY = "update_offset"
MAX_ATTEMPTS = 5
BATCH = 100
# Pauses between tries when the database is away: short, so work resumes soon after it is back.
DATABASE_PAUSE_MAX = 4.0
ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "my_chat_member",
                   "channel_post"]


class UpdateAlreadyHandled(Exception):
    """Another instance (or an earlier run) committed the handling of this update."""


class Intake:
    def __init__(self, db: Database, app: Application[Any, Any, Any, Any, Any, Any],
                 clock: Clock, poll_timeout: int = 10) -> None:
        self.db = db
        self.app = app
        self.clock = clock
        self.poll_timeout = poll_timeout
        self.failed: set[int] = set()
        # Failed because the database was away: tried again without counting an attempt, so
        # a flapping database never makes a family message run out of attempts.
        self.transient: set[int] = set()
        self._stored = asyncio.Event()

    # Storing -------------------------------------------------------------------------------
    async def store(self, updates: Sequence[dict[str, Any]], advance_offset: bool) -> None:
        if not updates:
            return
        now = self.clock.now()
        async with self.db.transaction() as session:
            for body in updates:
                await inbound.store_update(session, self.db.dialect, int(body["update_id"]),
                                           body, now)
            if advance_offset:
                offset = max(int(b["update_id"]) for b in updates) + 1
                await state.put_state(session, OFFSET_KEY, str(offset))
        self._stored.set()

    async def offset(self) -> int | None:
        async with self.db.transaction() as session:
            value = await state.get_state(session, OFFSET_KEY)
        return int(value) if value else None

    # Handling --------------------------------------------------------------------------------
    async def process_pending(self) -> int:
        async with self.db.transaction() as session:
            rows = await inbound.oldest_updates(session, BATCH)
        handled = 0
        for row in rows:
            update_obj = Update.de_json(row.payload, self.app.bot)
            self.failed.discard(row.update_id)
            self.transient.discard(row.update_id)
            gone = False

            async def consume(session: Session, update_id: int = row.update_id) -> None:
                nonlocal gone
                if not await inbound.delete_update(session, update_id):
                    gone = True
                    raise UpdateAlreadyHandled(update_id)

            with joining_first_transaction(consume) as joined:
                await self.app.process_update(update_obj)
            if gone or joined.committed:
                # Handled (here, with the delete in its transaction, or elsewhere before).
                self.failed.discard(row.update_id)
                handled += 1
                continue
            if row.update_id in self.transient:
                return handled  # the database was away: the same update again, uncounted
            async with self.db.transaction() as session:
                if row.update_id in self.failed and row.attempts + 1 < MAX_ATTEMPTS:
                    await inbound.set_attempts(session, row.update_id, row.attempts + 1)
                    # Keep order: later updates wait for this one's next attempt.
                    return handled
                if row.update_id in self.failed:
                    log.error("update %s dropped after %s failed attempts", row.update_id,
                              MAX_ATTEMPTS)
                await inbound.delete_update(session, row.update_id)
            handled += 1
        return handled

    async def process_forever(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            # Cleared before looking, not after: an update stored while this pass runs (or
            # while it waits after a failure) wakes the next wait instead of being missed.
            self._stored.clear()
            try:
                handled = await self.process_pending()
            except Exception:
                log.exception("handling stored updates failed; retrying")
                await asyncio.sleep(1.0)
                continue
            if handled:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stored.wait(),
                                       1.0 if self.failed or self.transient else 5.0)

    # Polling ---------------------------------------------------------------------------------
    async def poll_forever(self, stop: asyncio.Event) -> None:
        await self.app.bot.delete_webhook()
        pause = 1.0
        # The first call returns at once: it fetches what waited while the bot was down and
        # shows the Bot API server that the bot is receiving.
        timeout = 0
        while not stop.is_set():
            try:
                offset = await self.offset()
                kwargs: dict[str, Any] = {"timeout": timeout, "allowed_updates": ALLOWED_UPDATES}
                if offset is not None:
                    kwargs["offset"] = offset
                raw = await self.app.bot.do_api_request(
                    "getUpdates", api_kwargs=kwargs, read_timeout=self.poll_timeout + 10)
                await self.store(list(raw or []), advance_offset=True)
                pause = 1.0
                timeout = self.poll_timeout
            except InvalidToken:
                log.error("Telegram refused the bot token; stopping")
                stop.set()
            except RetryAfter as error:
                await asyncio.sleep(retry_seconds(error))
            except NetworkError as error:
                log.warning("getUpdates failed (%s); retrying in %.0fs", type(error).__name__,
                            pause)
                await asyncio.sleep(pause)
                pause = min(pause * 2, 30.0)
            except Exception:  # the database may be away: keep the loop alive
                log.exception("storing updates failed; retrying in %.0fs", pause)
                await asyncio.sleep(pause)
                pause = min(pause * 2, DATABASE_PAUSE_MAX)
