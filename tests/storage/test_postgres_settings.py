"""The bot's PostgreSQL sessions: no JIT compilation. The outbox claim's estimated cost passes
PostgreSQL's JIT thresholds once thousands of rows wait, and compiling it cost more than the
claim itself at every claim (bench/README.md, the busiest morning)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from storage.db import Database


async def test_the_bots_postgresql_sessions_compile_no_statement(db: Database) -> None:
    if db.dialect != "postgresql":
        pytest.skip("a PostgreSQL setting")
    async with db.transaction() as session:
        assert await session.scalar(text("SELECT current_setting('jit')")) == "off"
