"""The operators' endpoint (bot/ops_http.py, bot/metrics.py), on SQLite and PostgreSQL:
`/healthz` says 200 while the bot works and 503 with the reason when its database is away (and
200 again once it is back); `/metrics` parses with prometheus-client's own parser, shows the
outbox draining during a burst, and never carries a name, alias, content or chat id.

The database goes away as it would for a running bot: PostgreSQL through a TCP proxy that
refuses and drops every connection (tests/faults/proxy.py); SQLite with the folder it lives in
gone (an unmounted volume: the bot's pooled connections are let go, new ones cannot open the
file)."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample
from sqlalchemy.engine import make_url

from bot.app import Runtime
from bot.clock import ManualClock
from bot.metrics import error_kind
from bot.outbox.ratelimit import RateLimiter
from bot.settings import Settings, SettingsError
from bot.simulator import LocalBotApi
from bot.webhook import make_app
from storage.db import is_sqlite
from tests.conftest import TEST_KEY
from tests.e2e.conftest import WEDNESDAY_MORNING, Harness, move_clock
from tests.e2e.test_reminders import _at, _plan
from tests.faults.proxy import TcpProxy


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Outage:
    """Takes the running bot's database away, and brings it back."""

    def __init__(self, runtime: Runtime, proxy: TcpProxy | None, folder: Path | None) -> None:
        self.runtime, self.proxy, self.folder = runtime, proxy, folder

    async def begin(self) -> None:
        if self.proxy is not None:
            await self.proxy.cut()
            return
        assert self.folder is not None
        self.folder.rename(self.folder.with_name("volume-away"))
        await self.runtime.db.engine.dispose()

    async def end(self) -> None:
        if self.proxy is not None:
            await self.proxy.restore()
            return
        assert self.folder is not None
        self.folder.with_name("volume-away").rename(self.folder)


@dataclass
class Served:
    harness: Harness
    base: str  # http://127.0.0.1:<GEZINSLIJN_HTTP_PORT>
    http: aiohttp.ClientSession
    outage: Outage

    async def get(self, path: str) -> tuple[int, str, str]:
        async with self.http.get(self.base + path) as response:
            return response.status, await response.text(), response.headers["Content-Type"]

    async def scrape(self) -> list[Sample]:
        status, text, content_type = await self.get("/metrics")
        assert status == 200 and content_type.startswith("text/plain")
        return samples(text)

    async def health_becomes(self, status: int, timeout: float = 15) -> str:
        deadline = time.monotonic() + timeout
        while True:
            got, text, _ = await self.get("/healthz")
            if got == status:
                return text
            assert time.monotonic() < deadline, f"/healthz still {got} ({text.strip()})"
            await asyncio.sleep(0.1)


def samples(text: str) -> list[Sample]:
    return [s for family in text_string_to_metric_families(text) for s in family.samples]


def total(found: list[Sample], name: str, **labels: str) -> float:
    """The sum of the samples called `name` whose labels include `labels`."""
    return sum(s.value for s in found
               if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()))


@pytest.fixture
async def served(api: LocalBotApi, migrated_db_url: str, tmp_path: Path,
                 monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Served]:
    """The bot polling, with GEZINSLIJN_HTTP_PORT set; its database on a volume (SQLite) or
    behind a proxy (PostgreSQL) that the test can take away."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # retry_after as a timedelta, no warning
    proxy: TcpProxy | None = None
    folder: Path | None = None
    if is_sqlite(migrated_db_url):
        folder = tmp_path / "volume"
        folder.mkdir()
        source = Path(make_url(migrated_db_url).database or "")
        shutil.move(source, folder / source.name)
        url = f"sqlite:///{folder / source.name}"
    else:
        direct = make_url(migrated_db_url)
        proxy = TcpProxy(direct.host or "127.0.0.1", direct.port or 5432)
        await proxy.start()
        url = direct.set(host="127.0.0.1", port=proxy.port).render_as_string(
            hide_password=False)
    port = free_port()
    settings = Settings(telegram_token=api.token, telegram_api_url=api.base_url,
                        database_url=url, encryption_key=TEST_KEY,
                        key_file=tmp_path / "unused.key", http_port=port)
    runtime = Runtime(settings, ManualClock(WEDNESDAY_MORNING),
                      limiter=RateLimiter(enabled=False), poll_timeout=1, dispatcher_poll=0.05)
    await runtime.start()
    try:
        async with aiohttp.ClientSession() as http:
            harness = Harness(api, runtime, cast(ManualClock, runtime.clock))
            yield Served(harness, f"http://127.0.0.1:{port}", http,
                         Outage(runtime, proxy, folder))
    finally:
        await runtime.stop()
        if proxy is not None:
            await proxy.close()


# /healthz -----------------------------------------------------------------------------------------
async def test_healthz_says_ok_while_the_bot_works_and_why_not_when_it_does_not(
        served: Served) -> None:
    assert await served.get("/healthz") == (200, "ok\n", "text/plain; charset=utf-8")
    assert served.harness.runtime.ops.port is not None
    # Polling ends (as after an unexpected error): no longer healthy, and it says what.
    runtime = served.harness.runtime
    polling = runtime.tasks[2]
    polling.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await polling
    status, text, _ = await served.get("/healthz")
    assert (status, text) == (503, "polling: stopped\n")


async def test_healthz_turns_503_while_the_database_is_away_and_200_after(
        served: Served) -> None:
    harness = served.harness
    _carla, sanne, marieke = await harness.onboard()
    assert (await served.get("/healthz"))[0] == 200

    await served.outage.begin()
    try:
        reason = await served.health_becomes(503)
        assert reason in ("database: unreachable\n", "database: not answering\n"), reason
        # The numbers from the database are left out of a scrape, the counters are not.
        found = await served.scrape()
        assert total(found, "gezinslijn_database_up") == 0
        assert total(found, "gezinslijn_sends_total") > 0
        assert not [s for s in found if s.name == "gezinslijn_outbox_rows"]
    finally:
        await served.outage.end()
    assert await served.health_becomes(200) == "ok\n"
    assert total(await served.scrape(), "gezinslijn_database_up") == 1

    # And the bot works on.
    start = len(sanne.inbox())
    marieke.send_text("Na de storing")
    await sanne.wait_for(lambda m: "Na de storing" in m.text, after=start, timeout=30)


# /metrics -----------------------------------------------------------------------------------------
async def test_metrics_show_the_outbox_draining_during_a_burst(served: Served) -> None:
    harness, api = served.harness, served.harness.api
    _carla, sanne, marieke = await harness.onboard()
    await harness.settle()
    before = await served.scrape()
    assert total(before, "gezinslijn_outbox_rows", status="pending") == 0
    sent_before = total(before, "gezinslijn_sends_total")
    assert sent_before > 0  # onboarding's welcomes and menus

    # Telegram says "too many requests, wait 3 s" to the first send: the burst piles up.
    api.faults.retry_after = 3
    texts = [f"bericht {n} van de reeks" for n in range(50)]
    start = len(sanne.inbox())
    for text in texts:
        marieke.send_text(text)
    deadline = time.monotonic() + 10
    while api.faults.seen_429 == 0:
        assert time.monotonic() < deadline, "no send was refused with 429"
        await asyncio.sleep(0.02)
    during = await served.scrape()
    assert total(during, "gezinslijn_outbox_rows", status="pending") > 0
    assert total(during, "gezinslijn_telegram_429_total") == 1
    assert total(during, "gezinslijn_database_up") == 1

    for text in texts:
        await sanne.wait_for(lambda m, t=text: t in m.text, after=start,  # type: ignore[misc]
                             timeout=30)
    await harness.settle()
    after = await served.scrape()
    assert total(after, "gezinslijn_outbox_rows", status="pending") == 0
    assert [s for s in after if s.name == "gezinslijn_outbox_rows"
            and s.labels == {"status": "pending", "purpose": "relay"}]  # shown, as 0
    assert [s.value for s in after if s.name == "gezinslijn_outbox_oldest_pending_seconds"
            and s.value] == []
    assert total(after, "gezinslijn_sends_total") >= sent_before + 50
    assert total(after, "gezinslijn_telegram_429_wait_seconds_total") >= 3
    assert total(after, "gezinslijn_intake_backlog") == 0
    assert total(after, "gezinslijn_intake_kept_aside") == 0
    assert total(after, "gezinslijn_handler_seconds_count") >= 50


async def test_metrics_never_carry_a_name_an_alias_a_content_or_a_chat_id(
        served: Served) -> None:
    """A whole journey: a member named Zeynepnaam joins Gezin J., writes, is answered, gets a
    reminder late, writes in the evening (held) and the coach gets it in the morning."""
    harness = served.harness
    carla, sanne, marieke = await harness.onboard(alias="Gezin J.")
    zeynep = harness.api.user("Zeynepnaam")
    await harness.join(zeynep, await harness.link_from(sanne, "/uitnodiging Gezin J."))
    secrets = ["Zeynepnaam", "Gezin J.", "Marieke", "Sanne", "Carla",
               "Huurschuld bij de woningbouw", "Bel me morgen even", "gesprek over de schulden",
               "Avondbericht over de kinderen"]

    start = len(sanne.inbox())
    zeynep.send_text("Huurschuld bij de woningbouw")
    copy = await sanne.wait_for(lambda m: "Huurschuld" in m.text, after=start)
    z_start = len(zeynep.inbox())
    sanne.send_text("Bel me morgen even", reply_to=copy)
    await zeynep.wait_for(lambda m: "Bel me morgen even" in m.text, after=z_start)
    await _plan(harness, sanne, "Gezin J. | morgen 14:00 | gesprek over de schulden")

    # The evening before (the clock jumps there: the reminder is queued as the bot sees it
    # due, so its lag is the queue's, not the jump's).
    await move_clock(harness, _at(25, 18, 5))
    await zeynep.wait_for(lambda m: "gesprek over de schulden" in m.text, after=z_start)
    zeynep.send_text("Avondbericht over de kinderen")
    await harness.settle()
    evening = await served.scrape()
    assert total(evening, "gezinslijn_family_messages_waiting", status="held") == 1
    assert total(evening, "gezinslijn_reminder_lag_seconds_count") >= 2  # both members
    assert 0 <= total(evening, "gezinslijn_reminder_lag_seconds_sum") < 2 * 300

    await move_clock(harness, _at(26, 9, 30))
    await sanne.wait_for(lambda m: "Avondbericht" in m.text, after=start)
    _, text, _ = await served.get("/metrics")
    morning = samples(text)
    assert total(morning, "gezinslijn_family_messages_waiting", status="held") == 0
    assert total(morning, "gezinslijn_handler_seconds_count") > 0

    assert total(morning, "gezinslijn_outbox_rows", status="pending", purpose="relay") == 0
    assert {s.labels["purpose"] for s in morning if s.name == "gezinslijn_outbox_rows"} >= {
        "relay", "receipt", "reminder", "answer"}

    people = (carla, sanne, marieke, zeynep)
    chat_ids = {str(p.chat_id) for p in people}
    for secret in secrets:
        assert secret.lower() not in text.lower(), secret
    for sample in morning:
        for value in sample.labels.values():
            assert not any(chat in value for chat in chat_ids), sample
        assert sample.value not in {float(p.chat_id) for p in people}, sample
    names = {s.name for s in morning}
    assert all(name.startswith("gezinslijn_") for name in names), names


async def test_the_webhook_server_serves_both(api: LocalBotApi, migrated_db_url: str,
                                              tmp_path: Path) -> None:
    """Webhook mode: /healthz and /metrics on the webhook server itself (bot/webhook.py)."""
    settings = Settings(telegram_token=api.token, telegram_api_url=api.base_url,
                        database_url=migrated_db_url, encryption_key=TEST_KEY,
                        key_file=tmp_path / "unused.key", webhook_secret="s" * 32,
                        webhook_url="https://gezinslijn.example/telegram")
    runtime = Runtime(settings, ManualClock(WEDNESDAY_MORNING),
                      limiter=RateLimiter(enabled=False), poll_timeout=1, dispatcher_poll=0.05)
    await runtime.start(polling=False)
    client: TestClient[Any, Any] = TestClient(TestServer(make_app(runtime)))
    await client.start_server()
    try:
        assert runtime.ops.port is None  # GEZINSLIJN_HTTP_PORT is not set: no server of its own
        health = await client.get("/healthz")
        assert (health.status, await health.text()) == (200, "ok\n")
        scrape = await client.get("/metrics")
        found = samples(await scrape.text())
        assert total(found, "gezinslijn_database_up") == 1
        assert total(found, "gezinslijn_intake_backlog") == 0
    finally:
        await client.close()
        await runtime.stop()


async def test_a_port_in_use_stops_start_up_with_one_sentence(
        api: LocalBotApi, sqlite_url: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        monkeypatch.setenv("GEZINSLIJN_HTTP_PORT", str(port))
        settings = Settings(telegram_token=api.token, telegram_api_url=api.base_url,
                            database_url=sqlite_url, encryption_key=TEST_KEY,
                            key_file=tmp_path / "unused.key")
        assert (settings.http_port, settings.http_listen) == (port, "127.0.0.1")
        runtime = Runtime(settings, ManualClock(WEDNESDAY_MORNING))
        try:
            with pytest.raises(SettingsError) as refused:
                await runtime.start()
        finally:
            await runtime.stop()
    assert str(refused.value).startswith("The setting GEZINSLIJN_HTTP_PORT cannot be used: "
                                         f"port {port} on 127.0.0.1 is not free")
    assert api.calls == []  # refused before anything else started


def test_error_kinds_name_no_telegram_text() -> None:
    kinds: dict[str, str] = {
        "network: TimedOut": "network", "telegram: InvalidToken": "telegram",
        "429 again and again": "rate_limited", "forbidden": "blocked",
        "bad request: chat not found": "chat_not_found",
        "bad request: message text is empty: Zeynepnaam": "bad_request",
        "no contents left": "no_contents", "EndPointNotFound": "other"}
    assert {reason: error_kind(reason) for reason in kinds} == kinds
