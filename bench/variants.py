"""Changes measured before (or instead of) making them, applied to the bot *in the bench child
only* (patched at start), so each one comes with its numbers. `sqlite_pool` and
`planners_on_timer` were measured here and are now the product's own behaviour (storage/db.py,
bot/dispatcher.py); `no_pre_ping` is measured and not adopted (see bench/README.md).

- `sqlite_pool`: SQLite through a connection pool instead of NullPool. Today every
  transaction opens a new aiosqlite connection: a new thread, the file opened, three PRAGMAs
  (journal_mode=WAL among them) — several milliseconds per transaction.
- `no_pre_ping`: PostgreSQL without `pool_pre_ping`: one round trip less per checkout (a
  dropped connection still surfaces as an error and the step is retried by the loops).
- `planners_on_timer`: the dispatcher runs its planners (held messages, reminders, retention
  purge: three transactions) at most once a second instead of before *every* claim, so a
  message a handler just committed is claimed at once. The scheduler wakes the dispatcher every
  second anyway, and a planner that produced rows makes the next pass run them again at once.
"""

from __future__ import annotations

import time
from typing import Any

KNOWN = ("sqlite_pool", "no_pre_ping", "planners_on_timer")


def apply(names: list[str]) -> None:
    unknown = set(names) - set(KNOWN)
    if unknown:
        raise ValueError(f"unknown variants: {sorted(unknown)}")
    if "sqlite_pool" in names or "no_pre_ping" in names:
        _engine(pool_sqlite="sqlite_pool" in names, pre_ping="no_pre_ping" not in names)
    if "planners_on_timer" in names:
        _planners_on_timer()


def _engine(pool_sqlite: bool, pre_ping: bool) -> None:
    from sqlalchemy import event
    from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

    from storage import db

    original = db.make_engine

    def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
        full = db.async_url(url)
        if full.startswith("sqlite"):
            if not pool_sqlite:
                return original(url, **kwargs)
            engine = create_async_engine(full, pool_size=8, max_overflow=8, **kwargs)
            event.listen(engine.sync_engine, "connect", db._sqlite_pragmas)
            return engine
        kwargs.setdefault("pool_pre_ping", pre_ping)
        kwargs.setdefault("pool_size", 5)
        return create_async_engine(full, **kwargs)

    db.make_engine = make_engine


def _planners_on_timer(every: float = 1.0) -> None:
    from bot.outbox.dispatcher import Dispatcher, planner_step

    last: dict[int, float] = {}

    async def run_once(self: Dispatcher) -> int:
        now = self.clock.now()
        planned = 0
        moment = time.monotonic()
        if moment - last.get(id(self), 0.0) >= every:
            for planner in self.planners:
                planned += await planner_step(self.db, planner, now)
            # Work planned now is sent in the passes right after; more may be due at once.
            last[id(self)] = 0.0 if planned else moment
        rows = await self.claim(now)
        if rows:
            await self.send_all(rows)
        return len(rows) + planned

    Dispatcher.run_once = run_once  # type: ignore[method-assign]
