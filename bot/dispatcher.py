"""The dispatcher: claims due outbox rows, sends them within Telegram's limits, records results.

The database is the truth. A row is claimed with a lease (on PostgreSQL under
`FOR UPDATE SKIP LOCKED`, so several instances never take the same row), sent, and marked sent
in its own short transaction. A crash between sending and recording can repeat that one message
after the lease ends: the only window where a duplicate is possible.

Before sending, registered *planners* run: they turn due work (held messages at a window's
opening, reminders) into outbox rows, each in one transaction.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import uuid
import warnings
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
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
from bot.ratelimit import RateLimiter
from storage.db import Database
from storage.models import Outbox, RelayLink

log = logging.getLogger(__name__)
# Outbox rows name their Bot API method as data, so the generic call is the right one here.
warnings.filterwarnings("ignore", message=r"Please use 'Bot\.", category=PTBUserWarning)

Planner = Callable[[AsyncSession, datetime], Awaitable[int]]
BlockedHook = Callable[[AsyncSession, int, datetime], Awaitable[None]]

LEASE_REAL_SECONDS = 60.0
# Methods that take no chat_id: the row's chat only orders and paces them.
CHATLESS = frozenset({"setMyCommands", "deleteMyCommands"})
MAX_ATTEMPTS = 12
BATCH = 100


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(300, 2 ** min(attempts, 8)))


def retry_seconds(error: RetryAfter) -> float:
    value: Any = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


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
        self.sent = 0

    def wake(self) -> None:
        self._wake.set()

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=LEASE_REAL_SECONDS / self.clock.real_seconds(1.0))

    async def release_own_claims(self) -> None:
        """At start-up on SQLite (one instance by construction) earlier claims are stale."""
        async with self.db.transaction() as session:
            await session.execute(
                update(Outbox).where(Outbox.status == "pending", Outbox.claimed_by.is_not(None))
                .values(claimed_by=None, claimed_until=None))

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
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
        rows = await self.claim(self.clock.now())
        if rows:
            await self.send_all(rows)
        return len(rows)

    async def run_once(self) -> int:
        now = self.clock.now()
        planned = 0
        for planner in self.planners:
            planned += await planner_step(self.db, planner, now)
        rows = await self.claim(now)
        if rows:
            await self.send_all(rows)
        return len(rows) + planned

    async def claim(self, now: datetime, limit: int = BATCH) -> list[Outbox]:
        async with self.db.transaction() as session:
            query = (
                select(Outbox)
                .where(Outbox.status == "pending", Outbox.due_at <= now,
                       or_(Outbox.claimed_until.is_(None), Outbox.claimed_until < now))
                .order_by(Outbox.due_at, Outbox.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
            rows = list((await session.scalars(query)).all())
            if rows:
                await session.execute(
                    update(Outbox).where(Outbox.id.in_([r.id for r in rows]))
                    .values(claimed_by=self.instance, claimed_until=now + self.lease))
            return rows

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
        async with self.db.transaction() as session:
            await session.execute(update(Outbox).where(Outbox.id.in_([r.id for r in rows]))
                                  .values(claimed_by=None, claimed_until=None))

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
            seconds = retry_seconds(error)
            self.limiter.pause(seconds)
            await self._retry(row, timedelta(0), f"429 retry after {seconds:g}s", count=False)
            return False
        except Forbidden:
            await self._give_up(row, "forbidden", blocked=True)
            return True
        except BadRequest as error:
            fallback = payload.get("fb")
            if fallback and "not found" in error.message.lower():
                try:
                    result = await self._call(fallback["m"], row.chat_id, fallback["p"])
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
        except NetworkError as error:  # time-outs, 5xx, refused connections
            if row.attempts + 1 >= MAX_ATTEMPTS:
                await self._give_up(row, f"network: {type(error).__name__}")
                return True
            await self._retry(row, backoff(row.attempts + 1), f"network: {type(error).__name__}")
            return False
        await self._record(row, result)
        return True

    async def _call(self, method: str, chat_id: int, params: dict[str, Any]) -> Any:
        kwargs = _params(params)
        if method not in CHATLESS:
            kwargs["chat_id"] = chat_id
        return await self.bot.do_api_request(method, api_kwargs=kwargs)

    async def _record(self, row: Outbox, result: Any) -> None:
        now = self.clock.now()
        message_id = result.get("message_id") if isinstance(result, dict) else None
        async with self.db.transaction() as session:
            if row.purpose == "farewell":
                # The last word to someone who left: not even their chat id stays behind.
                await session.execute(delete(Outbox).where(Outbox.id == row.id))
                self.sent += 1
                return
            # Contents leave the outbox once delivered: minimal data.
            await session.execute(
                update(Outbox).where(Outbox.id == row.id)
                .values(status="sent", sent_at=now, sent_message_id=message_id, payload=None,
                        claimed_by=None, claimed_until=None, attempts=row.attempts + 1))
            if message_id is not None and row.link_family_id is not None:
                session.add(RelayLink(chat_id=row.chat_id, message_id=message_id,
                                      family_id=row.link_family_id,
                                      member_id=row.link_member_id,
                                      family_message_id=row.link_message_id, created_at=now))
        self.sent += 1

    async def _retry(self, row: Outbox, delay: timedelta, reason: str, count: bool = True) -> None:
        now = self.clock.now()
        log.warning("send of outbox row %s postponed: %s", row.id, reason)
        async with self.db.transaction() as session:
            await session.execute(
                update(Outbox).where(Outbox.id == row.id)
                .values(due_at=now + delay, claimed_by=None, claimed_until=None,
                        attempts=row.attempts + (1 if count else 0), last_error=reason[:200]))

    async def _give_up(self, row: Outbox, reason: str, blocked: bool = False) -> None:
        now = self.clock.now()
        log.warning("outbox row %s (%s, %s) not delivered: %s", row.id, row.method, row.purpose,
                    reason)
        async with self.db.transaction() as session:
            await session.execute(
                update(Outbox).where(Outbox.id == row.id)
                .values(status="failed", claimed_by=None, claimed_until=None, payload=None,
                        attempts=row.attempts + 1, last_error=reason[:200]))
            if blocked and self.on_blocked is not None:
                await self.on_blocked(session, row.chat_id, now)


async def planner_step(db: Database, planner: Planner, now: datetime) -> int:
    async with db.transaction() as session:
        return await planner(session, now)


async def next_due(session: AsyncSession) -> datetime | None:
    result: datetime | None = await session.scalar(
        select(func.min(Outbox.due_at)).where(Outbox.status == "pending"))
    return result
