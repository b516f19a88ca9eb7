"""Changes measured before (or instead of) making them, applied to the bot *in the bench child
only* (patched at start), so each one comes with its numbers. `sqlite_pool` and
`planners_on_timer` were measured here and are now the product's own behaviour (storage/db.py,
bot/outbox/dispatcher.py `PLAN_EVERY_REAL_SECONDS`), so they left this file. So did
`no_pre_ping`: PostgreSQL's connections are now pinged only after lying idle
(storage/idle_ping.py); the variant that stays measures the way before it.

- `pre_ping_every_checkout`: PostgreSQL with `pool_pre_ping`, a round trip to the server at
  every checkout, as before storage/idle_ping.py: its effect, side by side in every run.
- `aiosqlite_four_trips`: SQLite through SQLAlchemy's own aiosqlite adapter, three or four
  trips to the connection's thread a statement, as before storage/sqlite_driver.py: its
  effect, side by side in every run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

KNOWN = ("pre_ping_every_checkout", "aiosqlite_four_trips")


def apply(names: list[str]) -> None:
    unknown = set(names) - set(KNOWN)
    if unknown:
        raise ValueError(f"unknown variants: {sorted(unknown)}")
    if "pre_ping_every_checkout" in names:
        _pre_ping_every_checkout()
    if "aiosqlite_four_trips" in names:
        _four_trips()


def _pre_ping_every_checkout() -> None:
    _engines_made_with(sqlite=False, name="pool_pre_ping", value=lambda: True)


def _four_trips() -> None:
    import sqlite3

    import aiosqlite
    from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_dbapi

    _engines_made_with(sqlite=True, name="module",
                       value=lambda: AsyncAdapt_aiosqlite_dbapi(aiosqlite, sqlite3))


def _engines_made_with(sqlite: bool, name: str, value: Callable[[], Any]) -> None:
    """Every engine of one kind (SQLite, or not) made with `name` set, where the product's
    own `make_engine` sets its default."""
    from sqlalchemy.ext.asyncio import AsyncEngine

    from storage import db

    original = db.make_engine

    def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
        if db.async_url(url).startswith("sqlite") == sqlite:
            kwargs.setdefault(name, value())
        return original(url, **kwargs)

    db.make_engine = make_engine
