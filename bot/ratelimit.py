"""Telegram's send limits, in real time: about 30 messages a second overall and about one a
second per chat (python-telegram-bot's AIORateLimiter does not pace single private chats).

Token buckets: a chat may get a short burst (a header and its copy, a split long text) and is
then paced at one message a second on average.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict


class Bucket:
    def __init__(self, rate: float, burst: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.stamp = time.monotonic()

    def delay(self) -> float:
        """Take a token; how long to wait before using it."""
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        self.tokens -= 1
        return 0.0 if self.tokens >= 0 else -self.tokens / self.rate


class RateLimiter:
    def __init__(self, overall: float = 30.0, per_chat: float = 1.0, chat_burst: float = 4.0,
                 enabled: bool = True) -> None:
        self.enabled = enabled
        self.overall = Bucket(overall, overall)
        self.per_chat = per_chat
        self.chat_burst = chat_burst
        self.chats: OrderedDict[int, Bucket] = OrderedDict()
        self.paused_until = 0.0

    def pause(self, seconds: float) -> None:
        """A 429 tells the bot to wait exactly `retry_after` seconds before sending again."""
        self.paused_until = max(self.paused_until, time.monotonic() + seconds)

    async def acquire(self, chat_id: int | None) -> None:
        if not self.enabled:
            return
        pause = self.paused_until - time.monotonic()
        if pause > 0:
            await asyncio.sleep(pause)
        if chat_id is None:
            wait = self.overall.delay()
            if wait > 0:
                await asyncio.sleep(wait)
            return
        bucket = self.chats.get(chat_id)
        if bucket is None:
            bucket = self.chats[chat_id] = Bucket(self.per_chat, self.chat_burst)
            if len(self.chats) > 10_000:
                self.chats.popitem(last=False)
        else:
            self.chats.move_to_end(chat_id)
        wait = max(bucket.delay(), self.overall.delay())
        if wait > 0:
            await asyncio.sleep(wait)
