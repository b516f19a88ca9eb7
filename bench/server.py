"""The local Bot API server (bot.simulator) with what the benchmark needs on top: the moment
each tagged message lands in a watched chat, and optionally Telegram's overall send limit.

The limit is modelled as a token bucket: 30 send-type calls a second, with up to one second's
worth (30) in a burst, answered with 429 and retry_after like Telegram. Telegram does not
publish how it counts; this is the lenient reading of "about 30 messages per second". The
strict reading (at most 30 in *any* sliding second) is computed from the send log afterwards,
without refusing anything (see `max_in_window`).
"""

from __future__ import annotations

import asyncio
import math
import time
from bisect import bisect_left
from collections.abc import Sequence
from typing import Any

from bench.common import tag_of
from bot.simulator import BotApiError, ChatMessage, LocalBotApi, LocalUser
from bot.simulator.methods import is_send_type


class TokenBucket:
    def __init__(self, rate: float, burst: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.stamp = time.monotonic()

    def take(self) -> float:
        """0 when a token was taken, else the seconds until one is there."""
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


class BenchBotApi(LocalBotApi):
    def __init__(self, *, limit: float | None = None, limit_burst: float | None = None) -> None:
        super().__init__()
        self.bucket = TokenBucket(limit, limit_burst or limit) if limit else None
        self.refused_429 = 0
        self.watched: set[int] = set()
        self.arrivals: dict[int, float] = {}  # tag -> time.perf_counter() of arrival
        self.arrived = asyncio.Event()
        self.sends: list[tuple[float, int]] = []  # (time.time(), chat_id) of each good send

    def watch(self, person: LocalUser) -> None:
        self.watched.add(person.chat_id)

    def started_user(self, name: str) -> LocalUser:
        """A person who has written to the bot before (so the bot may write to them)."""
        person = self.user(name)
        person.started = True
        return person

    def store_message(self, chat_id: int, payload: dict[str, Any],
                      sender: LocalUser | None = None) -> ChatMessage:
        message = super().store_message(chat_id, payload, sender)
        if sender is None and chat_id in self.watched:
            number = tag_of(message.text)
            if number is not None and number not in self.arrivals:
                self.arrivals[number] = time.perf_counter()
                self.arrived.set()
        return message

    def _apply_faults(self, params: dict[str, Any]) -> None:
        if self.bucket is not None:
            wait = self.bucket.take()
            if wait > 0:
                self.refused_429 += 1
                seconds = max(1, math.ceil(wait))
                raise BotApiError(429, f"Too Many Requests: retry after {seconds}",
                                  retry_after=seconds)
        super()._apply_faults(params)

    def _record(self, method: str, params: dict[str, Any], at: float, result: Any = None,
                error: BotApiError | None = None) -> None:
        super()._record(method, params, at, result=result, error=error)
        if error is None and is_send_type(method):
            chat = params.get("chat_id")
            self.sends.append((time.time(), int(chat) if chat is not None else 0))

    async def wait_arrivals(self, count: int, timeout: float) -> bool:
        """Until `count` tagged messages arrived in watched chats; False on time-out."""
        deadline = time.monotonic() + timeout
        while len(self.arrivals) < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            self.arrived.clear()
            try:
                await asyncio.wait_for(self.arrived.wait(), min(remaining, 1.0))
            except TimeoutError:
                continue
        return True

    async def wait_sends(self, chats: set[int], count: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while sum(1 for _, chat in self.sends if chat in chats) < count:
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(0.25)
        return True


def max_in_window(times: Sequence[float], window: float = 1.0) -> int:
    """The most events in any window of `window` seconds (half-open, (t - window, t])."""
    ordered = sorted(times)
    best = 0
    for index, moment in enumerate(ordered):
        first = bisect_left(ordered, moment - window + 1e-9)
        best = max(best, index - first + 1)
    return best


def windows_over(times: Sequence[float], limit: int, window: float = 1.0) -> int:
    """How many events had more than `limit` events in the window ending at them."""
    ordered = sorted(times)
    over = 0
    for index, moment in enumerate(ordered):
        first = bisect_left(ordered, moment - window + 1e-9)
        if index - first + 1 > limit:
            over += 1
    return over
