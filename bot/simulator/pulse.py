"""A wake-up for everyone waiting on the simulated Telegram: the server fires it on every call,
message and update; people and tests wait on it instead of sleeping."""

from __future__ import annotations

import asyncio
import contextlib


class Pulse:
    """Wakes everyone waiting for 'something changed' (one event loop, so no lost wake-ups)."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def fire(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, timeout: float) -> None:
        event = self._event
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), max(timeout, 0))
