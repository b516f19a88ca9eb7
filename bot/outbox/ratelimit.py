"""Telegram's send limits, in real time: about 30 messages a second overall and about one a
second per chat (python-telegram-bot's AIORateLimiter does not pace single private chats).

Token buckets. A chat may get a short burst (a header and its copy, a split long text) and is
then paced at one message a second on average: deliberate, Telegram tolerates such bursts in a
private chat. The overall bucket holds almost no burst, so that no second ever carries more
than 30 sends (a full bucket of 30 plus its refill would allow 60 in the first second).

A 429 is an order, not a hint: `pause` holds every send until `retry_after` has passed, also
when pacing is switched off (tests and benchmarks switch only the pacing off).
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from datetime import timedelta
from typing import Any

from telegram.error import RetryAfter

OVERALL_PER_SECOND = 30.0
OVERALL_BURST = 1.0


def retry_seconds(error: RetryAfter) -> float:
    """The real seconds a 429 orders the bot to wait."""
    value: Any = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class Bucket:
    def __init__(self, rate: float, burst: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.stamp = time.monotonic()

    def _refill(self) -> None:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now

    def available_in(self) -> float:
        """How long until a token is there (none is taken)."""
        self._refill()
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def take(self) -> None:
        self._refill()
        self.tokens -= 1


class RateLimiter:
    def __init__(self, overall: float = OVERALL_PER_SECOND, per_chat: float = 1.0,
                 chat_burst: float = 4.0, enabled: bool = True,
                 overall_burst: float = OVERALL_BURST) -> None:
        self.enabled = enabled
        # At most rate + burst sends leave in any one second: 28 + 1, one short of 30, so that
        # two sends the network bunches together still make no more than 30 where they arrive.
        self.overall = Bucket(max(overall - overall_burst - 1, 1.0), overall_burst)
        self.per_chat = per_chat
        self.chat_burst = chat_burst
        self.chats: OrderedDict[int, Bucket] = OrderedDict()
        self.paused_until = 0.0

    def pause(self, seconds: float) -> None:
        """A 429 tells the bot to wait exactly `retry_after` seconds before sending again."""
        self.paused_until = max(self.paused_until, time.monotonic() + seconds)

    async def _paused(self) -> None:
        # Another 429 may extend the pause while this send waits: look again after each wait.
        for _ in range(100):
            pause = self.paused_until - time.monotonic()
            if pause <= 0:
                return
            await asyncio.sleep(pause)

    async def acquire(self, chat_id: int | None) -> None:
        await self._paused()
        if not self.enabled:
            return
        bucket = None
        if chat_id is not None:
            bucket = self.chats.get(chat_id)
            if bucket is None:
                bucket = self.chats[chat_id] = Bucket(self.per_chat, self.chat_burst)
                if len(self.chats) > 10_000:
                    self.chats.popitem(last=False)
            else:
                self.chats.move_to_end(chat_id)
        # Tokens are taken when the send goes, never reserved ahead: a send held up after its
        # reservation (by its chat's pace, by an event loop busy with other work) would leave
        # together with the sends reserved after it, above the limit.
        for _ in range(100_000):
            wait = self.overall.available_in()
            if bucket is not None:
                wait = max(wait, bucket.available_in())
            if wait <= 0:
                break
            await asyncio.sleep(wait)
        self.overall.take()
        if bucket is not None:
            bucket.take()
        await self._paused()
