"""Receiving updates without losing one, and without going deaf.

python-telegram-bot's own polling confirms an update to Telegram as soon as it is queued, before
any handler ran. Here an update is confirmed only by the *next* getUpdates call, which carries
the offset the database holds, and the offset moves past an update only together with what
handling it wrote (storage.db.joining_first_transaction): a crash in between cannot lose it nor
handle it twice. While nothing stored waits, a fetched update is handled at once and the
handler's transaction raises the offset (`handle_fresh`: no copy of it is written at all, one
transaction where storing, reading back and deleting it took three; on PostgreSQL several
fetched updates share one, bot/outbox/together.py); an instance that finds the offset already
past it rolls its own handling back. Otherwise, and for the first update that
fails and those after it, the update is stored with the offset and handled from the stored
copy, which is deleted in the handler's transaction. The webhook server uses the store and
answers 200 only after the write.

Updates are handled in Telegram's order within each chat. One that fails holds up only the later
updates of its own chat, until its next try (after 1, 2, 4, 8 seconds); other chats go on. A
database that is away or busy is retried without counting an attempt; a bug counts, and after
MAX_ATTEMPTS the update is kept aside for the operator (`gezinslijn admin outbox`) and the
sender is asked to send it again.

On PostgreSQL several instances may run; one at a time polls Telegram (Telegram ends a
getUpdates call with 409 Conflict when another starts): the one that holds the poller lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from telegram import Update
from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter
from telegram.ext import Application

from bot.clock import Clock
from bot.i18n import FAMILY_LANGUAGES, pick_language, translator
from bot.outbox import together
from bot.outbox.outgoing import Outgoing, write
from bot.outbox.ratelimit import retry_seconds
from storage import errors
from storage.db import Database, Session, joining_first_transaction, sharing
from storage.repos import inbound, people, state

log = logging.getLogger(__name__)

OFFSET_KEY = "update_offset"
MAX_ATTEMPTS = 5
BATCH = 100
# Fetched updates handled in one transaction, at most (bot/outbox/together.py), on PostgreSQL:
# in a burst the BEGIN, offset and COMMIT of each were a third of its round trips to the
# database (a relay burst: 5.3 -> 4.3 statements and 3.9 -> 3.2 ms of CPU a message, 147-170
# -> 198-230 messages a second, bench/README.md). The first of them waits for the others'
# handling before its answer goes: a few milliseconds each. Not on SQLite: one writer at a
# time there, and the lanes' records waited for the whole transaction while the copies piled
# up in the coach's chat, where a lane's run claim grew slow (237 -> 155 a second).
TOGETHER = 10
# Pauses between tries when the database is away: short, so work resumes soon after it is back.
DATABASE_PAUSE_MAX = 4.0
# Real seconds before a failed update is tried again (and its chat goes on): 1, 2, 4, 8, 8, …
RETRY_PAUSE_MAX = 8.0
# PostgreSQL: how often an instance that does not poll tries to take the poller lock.
STANDBY_SECONDS = 2.0
# How often a polling instance makes sure it still holds the poller lock: before a call, once
# this long has passed since the last look (not before every call: in a burst every batch of
# updates paid a statement and a commit for it). Should the lock be lost in between, another
# instance may poll for up to this long beside this one; Telegram answers one of them 409.
LOCK_CHECK_SECONDS = 1.0
# After Telegram's 409 Conflict (another getUpdates call ended this one).
CONFLICT_PAUSE = 2.0
ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "my_chat_member",
                   "channel_post"]


class _Apart(Exception):
    """Updates handled together are to be handled one at a time instead."""


class UpdateAlreadyHandled(Exception):
    """Another instance (or an earlier run) committed the handling of this update."""


@dataclass(frozen=True)
class Failure:
    error: str  # the error's class name: no content
    transient: bool  # the database was away or busy, or the handler asked to wait: not counted
    database: bool  # the database was away or busy: the rest of the pass would meet it too


@dataclass(frozen=True)
class Waiting:
    chat_id: int | None
    until: float  # monotonic seconds
    tries: int


def chat_of(body: dict[str, Any]) -> int | None:
    """The chat an update belongs to: its updates are handled in order, and a failing one holds
    up only them."""
    for kind in ("message", "edited_message", "channel_post", "my_chat_member"):
        part = body.get(kind)
        if isinstance(part, dict):
            return _id(part.get("chat"))
    query = body.get("callback_query")
    if isinstance(query, dict):
        message = query.get("message")
        chat = _id(message.get("chat")) if isinstance(message, dict) else None
        return chat if chat is not None else _id(query.get("from"))
    return None


def _id(part: Any) -> int | None:
    value = part.get("id") if isinstance(part, dict) else None
    return int(value) if isinstance(value, int) else None


class Intake:
    def __init__(self, db: Database, app: Application[Any, Any, Any, Any, Any, Any],
                 clock: Clock, poll_timeout: int = 10) -> None:
        self.db = db
        self.app = app
        self.clock = clock
        self.poll_timeout = poll_timeout
        self.monotonic: Callable[[], float] = time.monotonic  # real time, for the retry pauses
        # What failed in the update being handled (router.on_error tells).
        self._failures: dict[int, Failure] = {}
        # The updates of a group being handled together (_handle_together): one that fails
        # there is handled again alone, and only that failure is worth an error in the log.
        self._together_ids: frozenset[int] = frozenset()
        # Updates that failed and wait for their next try (in memory: a restart tries at once).
        self._waiting: dict[int, Waiting] = {}
        self._stored = asyncio.Event()
        # Fetched updates are handled at once only while nothing stored waits (so none passes
        # an earlier update of its chat): known after a pass found the store empty, and not
        # since anything was stored (`_stores` counts the stores, to tell).
        self._store_empty = False
        self._stores = 0
        self.polling = False  # this instance polls Telegram now
        self._offset: int | None = None  # the offset stored last, while this instance polls
        self.polls = 0  # getUpdates calls made
        self._webhook_deleted = False
        self._lock_checked_at = float("-inf")  # monotonic; the poller lock's last check
        # Fetched updates handled in one transaction, at most; None: by the database (TOGETHER).
        self.together: int | None = None

    # Storing -------------------------------------------------------------------------------
    async def store(self, updates: Sequence[dict[str, Any]], advance_offset: bool) -> None:
        if not updates:
            return
        now = self.clock.now()
        self._store_empty = False
        self._stores += 1
        async with self.db.transaction() as session:
            for body in updates:
                await inbound.store_update(session, self.db.dialect, int(body["update_id"]),
                                           body, now, chat_of(body))
            if advance_offset:  # never back (state.raise_to)
                await state.raise_to(session, self.db.dialect, OFFSET_KEY,
                                     max(int(b["update_id"]) for b in updates) + 1)
        self._stored.set()

    async def offset(self) -> int | None:
        async with self.db.transaction() as session:
            value = await state.get_state(session, OFFSET_KEY)
        return int(value) if value else None

    # Failures (router.on_error) ---------------------------------------------------------------
    def note_failure(self, update_id: int, error: BaseException | None, *,
                     transient: bool) -> None:
        """Handling `update_id` failed: `transient` when it may succeed in a moment (the
        database away or busy, a handler that asked to wait), and is then not counted."""
        self._failures[update_id] = Failure(type(error).__name__ if error else "unknown",
                                            transient, transient and errors.transient(error))

    def tried_together(self, update_id: int) -> bool:
        """`update_id` is being handled in a group (it is handled again alone if it fails)."""
        return update_id in self._together_ids

    # Handling --------------------------------------------------------------------------------
    async def process_pending(self) -> int:
        """One pass over the stored updates; returns how many left the store's queue (handled,
        or kept aside)."""
        now = self.monotonic()
        waiting_chats = {w.chat_id for w in self._waiting.values()
                         if w.until > now and w.chat_id is not None}
        stores = self._stores
        async with self.db.transaction() as session:
            rows = await inbound.updates_to_handle(session, BATCH, waiting_chats)
        if len(rows) < BATCH:  # forget the waits of updates handled or kept aside elsewhere
            present = {row.update_id for row in rows}
            self._waiting = {u: w for u, w in self._waiting.items()
                             if u in present or w.until > now}
        if not rows and not self._waiting and stores == self._stores:
            self._store_empty = True
        held = set(waiting_chats)  # chats whose earlier update waits: their later ones wait too
        done = 0
        for row in rows:
            chat = row.chat_id if row.chat_id is not None else chat_of(row.payload)
            wait = self._waiting.get(row.update_id)
            if (chat is not None and chat in held) or (wait and wait.until > self.monotonic()):
                if chat is not None:
                    held.add(chat)
                continue
            failure = await self._handle(row.update_id, row.payload)
            if failure is None:
                self._waiting.pop(row.update_id, None)
                done += 1
                continue
            if await self._failed(row.update_id, chat, row.payload, failure):
                done += 1  # kept aside: it no longer holds up its chat
                continue
            if chat is not None:
                held.add(chat)
            if failure.database:
                return done  # the next pass comes soon, and goes on with other chats
        return done

    async def _handle(self, update_id: int, payload: dict[str, Any]) -> Failure | None:
        """Handle one stored update: None when it is done with (handled here or elsewhere, or
        there was nothing to do), else what failed. The delete goes in the handler's
        transaction."""
        failure, done = await self._process(
            update_id, payload, lambda session: inbound.delete_update(session, update_id))
        if done:
            return None  # handled, here with the delete in its transaction, or elsewhere before
        if failure is None:  # nothing written and nothing failed: nothing to do for it
            async with self.db.transaction() as session:
                await inbound.delete_update(session, update_id)
        return failure

    async def _process(self, update_id: int, payload: dict[str, Any],
                       take: Callable[[Session], Awaitable[bool]]
                       ) -> tuple[Failure | None, bool]:
        """Run the handlers on one update. `take` runs in the first transaction that commits
        and says whether the update is still this instance's to handle; when not (another
        instance handled it), the handling is rolled back. Returns what failed, and whether
        the update is done with (handled here, or elsewhere)."""
        update_obj = Update.de_json(payload, self.app.bot)
        self._failures.pop(update_id, None)
        gone = False

        async def step(session: Session) -> None:
            nonlocal gone
            if not await take(session):
                gone = True
                raise UpdateAlreadyHandled(update_id)

        with joining_first_transaction(step) as joined:
            await self.app.process_update(update_obj)
        failure = self._failures.pop(update_id, None)
        if gone or joined.committed:
            return None, True
        return failure, False

    async def _failed(self, update_id: int, chat_id: int | None, payload: dict[str, Any],
                      failure: Failure) -> bool:
        """After a stored update failed: True when it is kept aside now, else it waits for its
        next try (and holds up its chat): from now, not only once it was counted."""
        self._wait(update_id, chat_id)
        if not failure.transient and await self._count_failure(update_id, chat_id, payload,
                                                               failure):
            self._waiting.pop(update_id, None)
            return True
        return False

    # Handling at once ------------------------------------------------------------------------
    async def receive(self, updates: Sequence[dict[str, Any]]) -> None:
        """Updates fetched from Telegram: handled at once while nothing stored waits, else
        stored behind what does."""
        if updates and self._store_empty:
            await self.handle_fresh(updates)
        else:
            await self.store(updates, advance_offset=True)

    async def handle_fresh(self, updates: Sequence[dict[str, Any]]) -> None:
        """Handle fetched updates in order without storing them: up to `together` of them in one
        transaction that raises the offset past them all (`_handle_together`); where one of
        them fails, that transaction is rolled back and they are handled one at a time, each
        handler's transaction raising the offset past its update. The first that fails then is
        stored with the rest (and counted as a stored update's failure), so it and the later
        ones take the stored way, in order. The offset moves past updates no handler wrote
        anything for in one transaction at the end."""
        moved = True
        size = self.together_at_most()
        for start in range(0, len(updates), size):
            group = updates[start:start + size]
            if len(group) > 1 and await self._handle_together(group):
                moved = True
                continue
            for position, body in enumerate(group, start):
                update_id = int(body["update_id"])
                failure, moved = await self._handle_fresh(update_id, body)
                if failure is not None:
                    await self.store(updates[position:], advance_offset=True)
                    await self._failed(update_id, chat_of(body), body, failure)
                    return
        if not moved:  # the last one (Telegram hands them out in order) wrote nothing
            async with self.db.transaction() as session:
                await state.raise_to(session, self.db.dialect, OFFSET_KEY,
                                     max(int(b["update_id"]) for b in updates) + 1)

    def together_at_most(self) -> int:
        """How many fetched updates are handled in one transaction, at most."""
        if self.together is None:
            self.together = TOGETHER if self.db.dialect == "postgresql" else 1
        return max(1, self.together)

    async def _handle_together(self, group: Sequence[dict[str, Any]]) -> bool:
        """Handle fetched updates in one transaction, in order, with the offset moved past
        them all in it (bot/outbox/together.py). False when that was not to be: one of them
        failed, or another instance handled the first of them already; nothing of it was
        committed then (the caller handles them one at a time, which tells which)."""
        svc = getattr(self.app, "bot_data", {}).get("services")
        if svc is None:
            return False
        ids = [int(body["update_id"]) for body in group]
        commit = together.OutboxCommit(svc, carry_from_start=False)
        self._together_ids = frozenset(ids)
        try:
            async with self.db.transaction() as session:
                shared = together.Together(self.db, session, commit)
                with sharing(shared):
                    for update_id, body in zip(ids, group, strict=True):
                        self._failures.pop(update_id, None)
                        await self.app.process_update(Update.de_json(body, self.app.bot))
                        if shared.failed or update_id in self._failures:
                            raise _Apart
                if not await state.move_on(session, self.db.dialect, OFFSET_KEY, ids[0],
                                           max(ids) + 1):
                    raise _Apart
                await commit.before_commit(session, self.clock.now())
        except Exception as error:
            commit.rolled_back()
            for update_id in ids:
                self._failures.pop(update_id, None)
            if not isinstance(error, _Apart):
                log.info("handling %s updates together failed (%s); one at a time",
                         len(ids), type(error).__name__)
            return False
        except BaseException:
            commit.rolled_back()
            raise
        finally:
            self._together_ids = frozenset()
        await commit.committed(session)
        return True

    async def _handle_fresh(self, update_id: int, payload: dict[str, Any]
                            ) -> tuple[Failure | None, bool]:
        """Handle one fetched update: what failed (None when it is done with), and whether the
        offset moved past it (with its handling, or elsewhere before; not when nothing was
        written: the caller moves it then). Past it already: another instance stored or
        handled it (it polled meanwhile)."""
        return await self._process(update_id, payload, lambda session: state.raise_to(
            session, self.db.dialect, OFFSET_KEY, update_id + 1))

    def _wait(self, update_id: int, chat_id: int | None) -> None:
        tries = self._waiting[update_id].tries + 1 if update_id in self._waiting else 1
        pause = min(RETRY_PAUSE_MAX, 2.0 ** (tries - 1))
        self._waiting[update_id] = Waiting(chat_id, self.monotonic() + pause, tries)

    async def _count_failure(self, update_id: int, chat_id: int | None,
                             payload: dict[str, Any], failure: Failure) -> bool:
        """Count a failed attempt; True when it was the last and the update is kept aside (and
        the sender asked, in the same transaction, to send it again)."""
        now = self.clock.now()
        told = False
        async with self.db.transaction() as session:
            kept = await inbound.count_failure(session, update_id, failure.error, now,
                                               MAX_ATTEMPTS)
            if kept:
                told = await self._ask_to_resend(session, chat_id, payload)
        if kept:
            log.error("update %s kept aside after %s failed attempts (%s)", update_id,
                      MAX_ATTEMPTS, failure.error)
        if told:
            services = getattr(self.app, "bot_data", {}).get("services")
            if services is not None:
                services.wake(plan=False)
        return kept

    async def _ask_to_resend(self, session: Session, chat_id: int | None,
                             payload: dict[str, Any]) -> bool:
        """A message to the person whose update was kept aside, in their language. Not for
        groups and channels (negative ids; the bot leaves those) nor for a change of the bot's
        membership (nothing was sent)."""
        if chat_id is None or chat_id <= 0 or "my_chat_member" in payload:
            return False
        services = getattr(self.app, "bot_data", {}).get("services")
        region = services.settings.region if services is not None else "NL"
        tr = translator(await self._language(session, chat_id, payload), region)
        out = Outgoing()
        out.text(chat_id, tr.gettext("Sorry, je laatste bericht kwam niet goed bij mij aan. "
                                     "Wil je het nog een keer sturen?"), purpose="notice")
        await write(session, out.sends, self.clock.now())
        return True

    @staticmethod
    async def _language(session: Session, chat_id: int, payload: dict[str, Any]) -> str:
        member = await people.member_by_chat(session, chat_id)
        if member is not None:
            return member.language
        staff = await people.staff_by_chat(session, chat_id)
        if staff is not None:
            return staff.language
        part = next((v for v in payload.values() if isinstance(v, dict)), {})
        sender = part.get("from")
        code = sender.get("language_code") if isinstance(sender, dict) else None
        return pick_language(code if isinstance(code, str) else None, FAMILY_LANGUAGES)

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
                await asyncio.wait_for(self._stored.wait(), self._next_try_in())

    def _next_try_in(self) -> float:
        """Seconds until a waiting update may be tried again (5 when none waits)."""
        if not self._waiting:
            return 5.0
        soonest = min(w.until for w in self._waiting.values()) - self.monotonic()
        return min(max(soonest, 0.05), 5.0)

    # Polling ---------------------------------------------------------------------------------
    async def poll_forever(self, stop: asyncio.Event) -> None:
        """Poll Telegram and store what comes. On PostgreSQL only while this instance holds the
        poller lock (checked before a call, at most once a second); on SQLite one instance runs
        per file."""
        elected = self.db.dialect == "postgresql"
        lock: inbound.PollerLock | None = None
        pause = 1.0
        # The first call returns at once: it fetches what waited while the bot was down (or
        # while another instance polled) and shows the Bot API server that the bot receives.
        timeout = 0
        first = True
        try:
            while not stop.is_set():
                if elected:
                    lock = await self._hold_poller_lock(lock)
                    if lock is None:
                        if self.polling or first:
                            log.info("another instance polls Telegram; this one stands by")
                        self.polling = first = False
                        self._offset = None  # another instance moves it on meanwhile
                        timeout = 0
                        await _pause(stop, STANDBY_SECONDS)
                        continue
                self.polling, first = True, False
                try:
                    await self._poll_once(timeout)
                    pause = 1.0
                    timeout = self.poll_timeout
                except InvalidToken:
                    log.error("Telegram refused the bot token; stopping")
                    stop.set()
                except RetryAfter as error:
                    await asyncio.sleep(retry_seconds(error))
                except Conflict:
                    log.warning("another instance polls this bot (Telegram answered 409 "
                                "Conflict); trying again in %.0fs", CONFLICT_PAUSE)
                    await _pause(stop, CONFLICT_PAUSE)
                    timeout = 0
                except NetworkError as error:
                    log.warning("getUpdates failed (%s); retrying in %.0fs",
                                type(error).__name__, pause)
                    await asyncio.sleep(pause)
                    pause = min(pause * 2, 30.0)
                except Exception:  # the database may be away: keep the loop alive
                    log.exception("storing updates failed; retrying in %.0fs", pause)
                    await asyncio.sleep(pause)
                    pause = min(pause * 2, DATABASE_PAUSE_MAX)
        finally:
            self.polling = False
            if lock is not None:
                await lock.release()

    async def _poll_once(self, timeout: int) -> None:
        if not self._webhook_deleted:
            await self.app.bot.delete_webhook()
            self._webhook_deleted = True
        # The offset this instance stored last is the current one while it keeps polling:
        # read from the database only when it starts (or starts again) to poll.
        offset = self._offset if self._offset is not None else await self.offset()
        kwargs: dict[str, Any] = {"timeout": timeout, "allowed_updates": ALLOWED_UPDATES}
        if offset is not None:
            kwargs["offset"] = offset
        self.polls += 1
        self._offset = None  # until what comes is stored
        raw = list(await self.app.bot.do_api_request(
            "getUpdates", api_kwargs=kwargs, read_timeout=self.poll_timeout + 10) or [])
        await self.receive(raw)
        self._offset = max([offset or 0, *(int(u["update_id"]) + 1 for u in raw)]) \
            if raw or offset is not None else None

    async def _hold_poller_lock(self, lock: inbound.PollerLock | None
                                ) -> inbound.PollerLock | None:
        """The poller lock, still held or newly taken; None while another instance holds it
        (or the database is away)."""
        if lock is not None:
            if self.monotonic() - self._lock_checked_at < LOCK_CHECK_SECONDS:
                return lock
            try:
                await lock.check()
                self._lock_checked_at = self.monotonic()
                return lock
            except Exception as error:
                # Stop polling: another instance may take over. Not at once again here, so
                # that a healthy instance gets the lock first.
                log.warning("the poller lock's database connection was lost (%s); this "
                            "instance stops polling", type(error).__name__)
                await lock.release()
                return None
        try:
            taken = await inbound.PollerLock.try_take(self.db)
        except Exception as error:
            log.warning("the poller lock could not be taken (%s); trying again",
                        type(error).__name__)
            return None
        if taken is not None:
            self._lock_checked_at = self.monotonic()
            log.info("this instance polls Telegram now")
        return taken


async def _pause(stop: asyncio.Event, seconds: float) -> None:
    """Sleep, but wake when the bot stops."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
