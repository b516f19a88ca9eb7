"""The polling offset moves only forward, in one statement (storage/repos/state.py)."""

from __future__ import annotations

from storage.db import Database
from storage.repos import state


async def _raise(db: Database, value: int) -> str | None:
    async with db.transaction() as session:
        await state.raise_to(session, db.dialect, "update_offset", value)
    async with db.transaction() as session:
        return await state.get_state(session, "update_offset")


async def test_the_offset_is_set_then_raised_never_lowered(db: Database) -> None:
    assert await _raise(db, 99) == "99"  # none yet: set
    assert await _raise(db, 1000) == "1000"  # compared as numbers, not as text ("99" > "1000")
    assert await _raise(db, 998) == "1000"  # a late answer does not move it back
    assert await _raise(db, 10**12) == str(10**12)  # Telegram's update ids grow large
