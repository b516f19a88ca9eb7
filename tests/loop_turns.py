"""Does a job let the event loop go on? A task beside it counts its own turns; each call of a
function the job makes records how many turns that task had had by then (equal numbers: the
job did not let go in between)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest


@contextlib.asynccontextmanager
async def turns_at_each_call(monkeypatch: pytest.MonkeyPatch, where: Any, name: str
                             ) -> AsyncIterator[list[int]]:
    """Inside the block: at each call of `where.name`, the other task's turns so far."""
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    seen: list[int] = []
    original = getattr(where, name)

    def counted(*args: Any, **kwargs: Any) -> Any:
        seen.append(ticks)
        return original(*args, **kwargs)

    monkeypatch.setattr(where, name, counted)
    task = asyncio.create_task(ticker())
    try:
        yield seen
    finally:
        task.cancel()
