"""The dispatcher: claims due outbox rows, sends them within Telegram's limits, records results.

The database is the truth. A row is claimed with a lease (on PostgreSQL under
`FOR UPDATE SKIP LOCKED`, so several instances never take the same row), sent, and marked sent
in its own short transaction. A crash between sending and recording can repeat that one message
after the lease ends: the only window where a duplicate is possible. (A time-out is that window
too: Telegram may have delivered a send whose answer never came.)

Claims of an instance that died need not wait for their lease: on SQLite there is one instance
by construction, so a starting bot releases every earlier claim; on PostgreSQL each dispatcher
holds a session-level advisory lock named after itself while it lives, and the claims of an
instance whose lock is free (its connection closed when the process died) are released.

Faults are paced in *real* seconds (the Bot API server lives in real time, also when the bot
runs on a fast simulated clock): 429 waits exactly `retry_after`; 5xx, time-outs and refused
connections retry with a growing backoff and never give up (a family message must arrive);
403 gives up at once, marks the recipient and tells whoever should know. If the database is
away when a result is to be recorded, recording is retried for as long as the claim holds.

Before sending, registered *planners* run: they turn due work (held messages at a window's
opening, reminders) into outbox rows, each in one transaction.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import time
import uuid
import warnings
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from telegram import Bot, InputFile
from telegram.error import (
    BadRequest,
    ChatMigrated,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.warnings import PTBUserWarning

from bot.clock import Clock
from bot.outbox.ratelimit import RateLimiter, retry_seconds
from storage.db import Database, Session
from storage.models import Outbox
from storage.repos import outbox as outbox_rows

log = logging.getLogger(__name__)
# Outbox rows name their Bot API method as data, so the generic call is the right one here.
warnings.filterwarnings("ignore", message=r"Please use 'Bot\.", category=PTBUserWarning)

Planner = Callable[[Session, datetime], Awaitable[int]]
BlockedHook = Callable[[Session, int, datetime], Awaitable[None]]

LEASE_REAL_SECONDS = 60.0
# Planners (held messages, reminders, agendas, purge) run when woken to plan, else at most
# this often: a handler's fresh outbox row is claimed without them.
PLAN_EVERY_REAL_SECONDS = 0.5
# Methods that take no chat_id: the row's chat only orders and paces them.
CHATLESS = frozenset({"setMyCommands", "deleteMyCommands"})
BATCH = 100
# PostgreSQL: how often (real seconds) a dispatcher renews its own liveness lock and releases
# the claims of instances that died.
LIVENESS_SECONDS = 5.0


def backoff(attempts: int) -> float:
    """Real seconds before the next try after `attempts` failed ones: 1, 2, 4, … 5 minutes."""
    return float(min(300, 2 ** min(max(attempts - 1, 0), 9)))


def liveness_key(instance: str) -> int | None:
    try:
        return int(instance[:8], 16) - 2**31
    except ValueError:
        return None


def _params(payload: dict[str, Any]) -> dict[str, Any]:
    params = dict(payload)
    for name, value in payload.items():
        if isinstance(value, dict) and "__upload__" in value:
            upload = value["__upload__"]
            params[name] = InputFile(base64.b64decode(upload["b64"]), filename=upload["name"])
    return params


class Dispatcher:
    def __init__(self, db: Database, bot: Bot, clock: Clock, limiter: RateLimiter | None = None,
                 poll_seconds: float = 0.5, concurrency: int = 16) -> None:
        self.db = db
        self.bot = bot
        self.clock = clock
        self.limiter = limiter or RateLimiter()
        self.poll_seconds = poll_seconds
        self.instance = uuid.uuid4().hex[:12]
        self.planners: list[Planner] = []
        self.on_blocked: BlockedHook | None = None
        self._wake = asyncio.Event()
        self._concurrency = asyncio.Semaphore(concurrency)
        self._alive: outbox_rows.LivenessLock | None = None
        self._liveness_due = 0.0
        self._plan_now = True
        self._planned_at = 0.0  # time.monotonic() of the last planner pass
        self.sent = 0

    def wake(self, plan: bool = True) -> None:
        """Run a pass now. `plan=False` (a handler just wrote outbox rows): only claim and send;
        the planners run at most once a second then (bench/README.md: three planner
        transactions before every claim cost a relayed message about 7 ms)."""
        if plan:
            self._plan_now = True
        self._wake.set()

    def clock_delta(self, real_seconds: float) -> timedelta:
        """A span of real time on this dispatcher's clock (simulated clocks run faster)."""
        return timedelta(seconds=real_seconds / self.clock.real_seconds(1.0))

    @property
    def lease(self) -> timedelta:
        return self.clock_delta(LEASE_REAL_SECONDS)

    async def release_own_claims(self) -> None:
        """At start-up on SQLite (one instance by construction) earlier claims are stale."""
        async with self.db.transaction() as session:
            await outbox_rows.release_every_claim(session)

    # Liveness (PostgreSQL) --------------------------------------------------------------------
    async def hold_liveness(self) -> None:
        """Hold (or take again, after the database was away) this instance's liveness lock."""
        if self.db.dialect != "postgresql":
            return
        if self._alive is not None:
            try:
                await self._alive.check()
                return
            except Exception:
                log.warning("the liveness connection was lost; taking the lock again")
                await self._alive.discard()
                self._alive = None
        self._alive = await outbox_rows.LivenessLock.take(self.db, liveness_key(self.instance))

    async def release_dead_claims(self) -> int:
        """Release the claims of instances that no longer hold their liveness lock."""
        if self.db.dialect != "postgresql":
            return 0
        released = 0
        async with self.db.transaction() as session:
            for owner in await outbox_rows.claimants_besides(session, self.instance):
                key = liveness_key(owner or "")
                if key is None:
                    continue
                # Free means nobody holds it: that instance is gone (the lock ends at commit).
                if await outbox_rows.liveness_lock_free(session, key):
                    released += await outbox_rows.release_claims_of(session, owner)
        if released:
            log.warning("released %s outbox rows claimed by a stopped instance", released)
        return released

    async def liveness(self) -> None:
        if self.db.dialect != "postgresql" or time.monotonic() < self._liveness_due:
            return
        self._liveness_due = time.monotonic() + LIVENESS_SECONDS
        await self.hold_liveness()
        await self.release_dead_claims()

    async def close(self) -> None:
        if self._alive is not None:
            await self._alive.release()
            self._alive = None

    # Running -----------------------------------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.liveness()
                busy = await self.run_once()
            except Exception:  # the database may be away for a moment: keep going
                log.exception("dispatcher step failed; retrying")
                busy = 0
                await asyncio.sleep(1.0)
            if busy:
                continue
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)

    async def drain(self, timeout: float = 5.0) -> None:
        """On a graceful stop: send what is due now, for at most `timeout` real seconds, so a
        restart does not deliver an answer the person was waiting for minutes late."""
        try:
            async with asyncio.timeout(timeout):
                while await self.claim_and_send():
                    pass
        except TimeoutError:
            log.warning("stopping with due messages still queued; they go after the restart")
        except Exception:
            log.exception("draining the outbox failed; the rows stay for the restart")

    async def claim_and_send(self) -> int:
        return await self._send_due(self.clock.now())

    async def _send_due(self, now: datetime) -> int:
        rows = await self.claim(now)
        if rows:
            await self.send_all(rows)
        return len(rows)

    async def run_once(self) -> int:
        now = self.clock.now()
        planned = 0
        moment = time.monotonic()
        if self._plan_now or moment - self._planned_at >= PLAN_EVERY_REAL_SECONDS:
            self._plan_now = False
            for planner in self.planners:
                planned += await planner_step(self.db, planner, now)
            self._planned_at = moment
            if planned:  # more may be due at once: plan again next pass (a wake during the
                self._plan_now = True  # planners, for a later time, has set it already)
        return await self._send_due(now) + planned

    async def claim(self, now: datetime, limit: int = BATCH) -> list[Outbox]:
        async with self.db.transaction() as session:
            return await outbox_rows.claim_due(session, now, limit, self.instance,
                                               now + self.lease)

    async def send_all(self, rows: list[Outbox]) -> None:
        by_chat: dict[int, list[Outbox]] = {}
        for row in rows:
            by_chat.setdefault(row.chat_id, []).append(row)
        await asyncio.gather(*(self._send_chat(chat_rows) for chat_rows in by_chat.values()))

    async def _send_chat(self, rows: list[Outbox]) -> None:
        async with self._concurrency:
            for index, row in enumerate(rows):
                if not await self.send_one(row):
                    # Keep a chat's messages in order: the rest waits for the failed one.
                    await self._unclaim(rows[index + 1:])
                    return

    async def _unclaim(self, rows: list[Outbox]) -> None:
        if not rows:
            return

        async def step(session: Session) -> None:
            await outbox_rows.release_claims(session, [r.id for r in rows])

        await self._persist(step, "unclaim")

    async def _persist(self, step: Callable[[Session], Awaitable[None]], what: str) -> None:
        """Run `step` in a transaction; while the database is away, try again (in real time)
        for as long as the claim holds. A send that went out is then recorded when the
        database is back, instead of being sent a second time after the lease."""
        deadline = time.monotonic() + LEASE_REAL_SECONDS * 0.9
        pause = 0.2
        while True:
            try:
                async with self.db.transaction() as session:
                    await step(session)
                return
            except Exception as error:
                if not outbox_rows.error_may_pass(error) or time.monotonic() + pause > deadline:
                    raise
                log.warning("recording a send (%s) failed: %s; trying again", what,
                            type(error).__name__)
                await asyncio.sleep(pause)
                pause = min(pause * 2, 2.0)

    async def send_one(self, row: Outbox) -> bool:
        """Send one row; True when it is finished (sent, or given up), False to retry later."""
        payload = row.payload or {}
        method = row.method
        params = payload.get("p", {})
        # Menus are not chat messages: only the overall limit applies to them.
        await self.limiter.acquire(None if method in CHATLESS else row.chat_id)
        try:
            result = await self._call(method, row.chat_id, params)
        except RetryAfter as error:
            await self._obey_429(row, error)
            return False
        except Forbidden:
            await self._give_up(row, "forbidden", blocked=True)
            return True
        except BadRequest as error:
            fallback = payload.get("fb")
            if fallback and "not found" in error.message.lower():
                try:
                    result = await self._call(fallback["m"], row.chat_id, fallback["p"])
                except RetryAfter as second:
                    await self._obey_429(row, second, on_fallback=True)
                    return False
                except NetworkError as second:
                    await self._retry_with_backoff(row, f"fallback: {type(second).__name__}")
                    return False
                except TelegramError as second:
                    await self._give_up(row, f"bad request: {second.message[:120]}")
                    return True
                await self._record(row, result)
                return True
            await self._give_up(row, f"bad request: {error.message[:120]}")
            return True
        except (InvalidToken, EndPointNotFound, ChatMigrated) as error:
            await self._give_up(row, f"{type(error).__name__}")
            return True
        except NetworkError as error:  # time-outs, 5xx, refused or dropped connections
            # Never given up: the fault is on the way, not in the message.
            await self._retry_with_backoff(row, f"network: {type(error).__name__}")
            return False
        except TelegramError as error:  # an answer that was not JSON, an unknown status
            await self._retry_with_backoff(row, f"telegram: {type(error).__name__}")
            return False
        await self._record(row, result)
        return True

    async def _obey_429(self, row: Outbox, error: RetryAfter, on_fallback: bool = False) -> None:
        seconds = retry_seconds(error)
        self.limiter.pause(seconds)  # every send waits; this row goes first after the pause
        reason = "429 on the fallback" if on_fallback else f"429 retry after {seconds:g}s"
        await self._retry(row, timedelta(0), reason, count=False)

    async def _call(self, method: str, chat_id: int, params: dict[str, Any]) -> Any:
        kwargs = _params(params)
        if method not in CHATLESS:
            kwargs["chat_id"] = chat_id
        return await self.bot.do_api_request(method, api_kwargs=kwargs)

    async def _record(self, row: Outbox, result: Any) -> None:
        now = self.clock.now()
        message_id = result.get("message_id") if isinstance(result, dict) else None

        async def step(session: Session) -> None:
            if row.purpose == "farewell":
                # The last word to someone who left: not even their chat id stays behind.
                await outbox_rows.delete_row(session, row.id)
                return
            # Contents leave the outbox once delivered: minimal data.
            await outbox_rows.mark_sent(session, row.id, now, message_id, row.attempts + 1)
            if message_id is not None and row.link_family_id is not None:
                outbox_rows.link_sent_message(session, row, message_id, now)

        await self._persist(step, "sent")
        self.sent += 1

    async def _retry(self, row: Outbox, delay: timedelta, reason: str, count: bool = True) -> None:
        now = self.clock.now()
        log.warning("send of outbox row %s postponed: %s", row.id, reason)

        async def step(session: Session) -> None:
            await outbox_rows.postpone(session, row.id, now + delay,
                                       row.attempts + (1 if count else 0), reason)

        await self._persist(step, "retry")

    async def _retry_with_backoff(self, row: Outbox, reason: str) -> None:
        await self._retry(row, self.clock_delta(backoff(row.attempts + 1)), reason)

    async def _give_up(self, row: Outbox, reason: str, blocked: bool = False) -> None:
        now = self.clock.now()
        log.warning("outbox row %s (%s, %s) not delivered: %s", row.id, row.method, row.purpose,
                    reason)

        async def step(session: Session) -> None:
            await outbox_rows.mark_failed(session, row.id, row.attempts + 1, reason)
            if blocked and self.on_blocked is not None:
                await self.on_blocked(session, row.chat_id, now)

        await self._persist(step, "failed")


async def planner_step(db: Database, planner: Planner, now: datetime) -> int:
    async with db.transaction() as session:
        return await planner(session, now)
