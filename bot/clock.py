"""The one place that reads the time.

Everything else receives `now` from a clock object. The simulated clock lets the demo and
black-box tests run days in minutes; `seconds_until` converts a simulated wait into real seconds
so sleepers wake at the right simulated instant.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware UTC."""
        ...

    def real_seconds(self, simulated: float) -> float:
        """How many real seconds pass while `simulated` seconds pass on this clock."""
        ...


def utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: every instant in Gezinslijn carries its zone")
    return moment.astimezone(UTC)


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def real_seconds(self, simulated: float) -> float:
        return simulated


class SimulatedClock:
    """Starts at `start` when created and runs `speed` times faster than real time."""

    def __init__(self, start: datetime, speed: float = 1.0) -> None:
        if speed <= 0:
            raise ValueError("clock speed must be positive")
        self._start = utc(start)
        self._speed = speed
        self._origin = time.monotonic()

    @property
    def speed(self) -> float:
        return self._speed

    def now(self) -> datetime:
        elapsed = (time.monotonic() - self._origin) * self._speed
        return self._start + timedelta(seconds=elapsed)

    def real_seconds(self, simulated: float) -> float:
        return simulated / self._speed


class ManualClock:
    """A clock that moves only when told to: for unit and end-to-end tests."""

    def __init__(self, start: datetime) -> None:
        self._now = utc(start)

    def now(self) -> datetime:
        return self._now

    def set(self, moment: datetime) -> None:
        self._now = utc(moment)

    def advance(self, delta: timedelta) -> None:
        self._now += delta

    def real_seconds(self, simulated: float) -> float:
        # Manual time never moves by itself: pollers fall back to their own short real interval.
        return min(simulated, 0.05)
