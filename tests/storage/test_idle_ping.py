"""PostgreSQL's pooled connections are asked whether they are still there only after lying
idle (storage/idle_ping.py): none of a burst's back-to-back transactions pays a round trip
for it, and a connection the server ended while it lay idle is replaced before anyone uses
it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from storage import idle_ping
from storage.db import make_engine
from tests.faults.common import Seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Seconds:
    moved = Seconds()
    monkeypatch.setattr(idle_ping, "monotonic", moved)
    return moved


@pytest.fixture
async def pings(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[list[int]]:
    """Counts the pings of every PostgreSQL engine made meanwhile."""
    from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg

    counted: list[int] = []
    original = PGDialect_asyncpg.do_ping

    def do_ping(self: PGDialect_asyncpg, dbapi_connection: object) -> bool:
        counted.append(1)
        return original(self, dbapi_connection)

    monkeypatch.setattr(PGDialect_asyncpg, "do_ping", do_ping)
    yield counted


async def _backend(engine: object) -> int:
    async with engine.connect() as connection:  # type: ignore[attr-defined]
        return int(await connection.scalar(text("SELECT pg_backend_pid()")))


async def test_back_to_back_transactions_are_not_pinged(
        pg_url: str, clock: Seconds, pings: list[int]) -> None:
    engine = make_engine(pg_url)
    try:
        first = await _backend(engine)
        for _ in range(20):
            clock.now += 0.05
            assert await _backend(engine) == first  # the same pooled connection
        assert pings == []
        clock.now += idle_ping.PING_AFTER_IDLE_SECONDS
        assert await _backend(engine) == first
        assert pings == [1]  # it lay idle: asked once, and still there
    finally:
        await engine.dispose()


async def test_a_connection_ended_while_idle_is_replaced_before_use(
        pg_url: str, clock: Seconds, pings: list[int]) -> None:
    engine, other = make_engine(pg_url), make_engine(pg_url)
    try:
        ended = await _backend(engine)
        async with other.connect() as connection:
            await connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": ended})
        clock.now += idle_ping.PING_AFTER_IDLE_SECONDS
        assert await _backend(engine) != ended  # no error: a new connection took its place
        assert pings == [1]
    finally:
        await engine.dispose()
        await other.dispose()


async def test_without_the_idle_time_the_ended_connection_fails_once(
        pg_url: str, clock: Seconds, pings: list[int]) -> None:
    """What the ping saves: the same ending, used again at once, fails its first statement as
    a disconnect; the pool then replaces it, and the next try (the loops retry) goes."""
    engine, other = make_engine(pg_url), make_engine(pg_url)
    try:
        ended = await _backend(engine)
        async with other.connect() as connection:
            await connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": ended})
        with pytest.raises(DBAPIError) as failed:
            await _backend(engine)
        assert failed.value.connection_invalidated
        assert await _backend(engine) != ended
        assert pings == []
    finally:
        await engine.dispose()
        await other.dispose()
