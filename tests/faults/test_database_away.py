"""The database goes away for ten seconds while a family writes: the bot does not crash, and
every message reaches the coach once the database is back, exactly once.

PostgreSQL: the bot reaches it through a TCP proxy in this test that refuses and closes every
connection for ten seconds (the machine's PostgreSQL itself is shared and never touched). The
cut comes the moment a send is delivered, so its recording falls into the outage too."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.engine import make_url

from bot.simulator import LocalBotApi, Trap
from bot.webhook import SECRET_HEADER, make_app
from tests.e2e.conftest import WEDNESDAY_MORNING
from tests.faults.common import (
    WEBHOOK_SECRET,
    RunningClock,
    alive,
    containing,
    describe,
    running_bot,
    seed_line,
    settled,
    unrecorded,
    wait_until,
)
from tests.faults.proxy import TcpProxy

OUTAGE = 10.0


@pytest.fixture
async def proxied(pg_url: str) -> AsyncIterator[tuple[str, TcpProxy]]:
    """The bot's URL of the test database, through a proxy that can cut it off."""
    direct = make_url(pg_url)
    proxy = TcpProxy(direct.host or "127.0.0.1", direct.port or 5432)
    await proxy.start()
    try:
        yield direct.set(host="127.0.0.1", port=proxy.port).render_as_string(
            hide_password=False), proxy
    finally:
        await proxy.close()



async def test_postgresql_away_for_ten_seconds_while_a_family_writes(
        api: LocalBotApi, pg_url: str, proxied: tuple[str, TcpProxy], tmp_path: Path) -> None:
    url, proxy = proxied
    line = await seed_line(pg_url, api, [("Gezin J.", "Sanne", ["Marieke"])], WEDNESDAY_MORNING)
    marieke, sanne = line.member("Marieke"), line.coaches["Sanne"]
    texts = [f"v{n} {'tijdens' if n > 1 else 'voor'} de storing" for n in range(6)]
    async with running_bot(api, url, tmp_path,
                           RunningClock(WEDNESDAY_MORNING, 60)) as runtime:
        marieke.send_text(texts[0])
        await sanne.wait_for(lambda m: texts[0] in m.text)
        await settled(api, pg_url)

        cut_at: list[float] = []

        def cut() -> None:
            cut_at.append(time.monotonic())
            proxy.cut_now()

        to_sanne = str(sanne.chat_id)
        api.faults.traps.append(Trap("sendMessage", cut, after=True, hangup=False,
                                     match=lambda p, _: str(p.get("chat_id")) == to_sanne))
        marieke.send_text(texts[1])
        await wait_until(lambda: bool(cut_at), 10, "the database was cut")
        for text in texts[2:]:
            marieke.send_text(text)
            await asyncio.sleep(OUTAGE / len(texts))
        await asyncio.sleep(max(cut_at[0] + OUTAGE - time.monotonic(), 0))
        assert alive(runtime), "a task of the bot ended while the database was away"
        assert proxy.connections > 0
        await proxy.restore()
        back = time.monotonic()
        for text in texts[2:]:
            await sanne.wait_for(lambda m, t=text: t in m.text, timeout=30)  # type: ignore[misc]
        resumed = time.monotonic() - back
        await settled(api, pg_url, timeout=30)
        assert alive(runtime)
    print(f"\nall messages at the coach {resumed:.1f}s after the database came back")
    for text in texts:
        assert len(containing(sanne, text)) == 1, text
    found = await unrecorded(api, pg_url)
    assert not found, describe(found)
    assert resumed < 10.0


async def test_the_webhook_answers_200_only_once_the_update_is_stored(
        api: LocalBotApi, pg_url: str, proxied: tuple[str, TcpProxy], tmp_path: Path) -> None:
    """While the database is away, Telegram's webhook call gets a 503 (it tries again later);
    the 200 comes only with the update stored, and it is then handled."""
    url, proxy = proxied
    line = await seed_line(pg_url, api, [("Gezin J.", "Sanne", ["Marieke"])], WEDNESDAY_MORNING)
    marieke, sanne = line.member("Marieke"), line.coaches["Sanne"]
    async with running_bot(api, url, tmp_path, RunningClock(WEDNESDAY_MORNING, 60),
                           polling=False) as runtime:
        client = TestClient(TestServer(make_app(runtime)))
        await client.start_server()
        try:
            message = api.store_message(marieke.chat_id, {"text": "w1 via de webhook"},
                                        sender=marieke)
            body = {"update_id": 501, "message": api.message_json(message)}
            headers = {SECRET_HEADER: WEBHOOK_SECRET}
            await proxy.cut()
            response = await client.post("/telegram", json=body, headers=headers)
            assert response.status == 503
            await proxy.restore()
            assert not containing(sanne, "w1 via de webhook")
            response = await client.post("/telegram", json=body, headers=headers)
            assert response.status == 200
            # Handled at once: the store wakes the handling (no missed wake-up after the
            # failed attempt).
            await sanne.wait_for(lambda m: "w1 via de webhook" in m.text, timeout=3)
            await settled(api, pg_url)
            assert alive(runtime)
        finally:
            await client.close()
    assert len(containing(sanne, "w1 via de webhook")) == 1
