"""`gezinslijn webhook` (bot/webhook.py): only a request with Telegram's secret-token header is
stored and handled; anything else is refused and leaves nothing behind (PRODUCT.md §4, §5)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import Runtime
from bot.clock import ManualClock
from bot.outbox.ratelimit import RateLimiter
from bot.settings import Settings
from bot.simulator import LocalBotApi, LocalUser
from bot.webhook import SECRET_HEADER, make_app
from storage.models import InboundUpdate
from tests.conftest import TEST_KEY
from tests.e2e.conftest import WEDNESDAY_MORNING, Harness, count_rows

SECRET = "s3cr3t-Token_for-the-webhook-0123456789"
STRANGER = "Hallo! Gezinslijn is alleen voor gezinnen met een gezinscoach."


@pytest.fixture
async def served(api: LocalBotApi, db_url: str, tmp_path: Path
                 ) -> AsyncIterator[tuple[Harness, TestClient[Any, Any]]]:
    """The bot in webhook mode (no polling), its webhook endpoint on a test server."""
    settings = Settings(telegram_token=api.token, telegram_api_url=api.base_url,
                        database_url=db_url, encryption_key=TEST_KEY,
                        key_file=tmp_path / "unused.key", webhook_secret=SECRET,
                        webhook_url="https://gezinslijn.example/telegram")
    runtime = Runtime(settings, ManualClock(WEDNESDAY_MORNING),
                      limiter=RateLimiter(enabled=False), poll_timeout=1, dispatcher_poll=0.05)
    await runtime.start(polling=False)
    client = TestClient(TestServer(make_app(runtime)))
    await client.start_server()
    try:
        yield Harness(api, runtime, cast(ManualClock, runtime.clock)), client
    finally:
        await client.close()
        await runtime.stop()


def update_from(api: LocalBotApi, person: LocalUser, text: str, update_id: int
                ) -> dict[str, Any]:
    person.started = True  # they wrote to the bot: it may answer
    message = api.store_message(person.chat_id, {"text": text}, sender=person)
    return {"update_id": update_id, "message": api.message_json(message)}


async def test_only_requests_with_the_secret_token_are_stored_and_handled(
        served: tuple[Harness, TestClient[Any, Any]]) -> None:
    harness, client = served
    api = harness.api
    vera = api.user("Vera")
    body = update_from(api, vera, "hallo, is dit de gezinslijn?", 1001)

    refused = [
        {},  # no header at all
        {SECRET_HEADER: ""},
        {SECRET_HEADER: "wrong"},
        {SECRET_HEADER: SECRET[:-1]},
        {SECRET_HEADER: SECRET + "x"},
        {SECRET_HEADER: SECRET.upper()},
        {"X-Telegram-Bot-Api-Secret": SECRET},  # near enough is not enough
    ]
    for headers in refused:
        response = await client.post("/telegram", json=body, headers=headers)
        assert response.status == 403, headers
        assert await count_rows(harness, InboundUpdate) == 0
    # The right secret with a body that is no update: refused too.
    for raw in ("not json", "[1, 2]", json.dumps({"message": body["message"]}),
                json.dumps({"update_id": "1001"})):
        response = await client.post("/telegram", data=raw, headers={
            SECRET_HEADER: SECRET, "Content-Type": "application/json"})
        assert response.status == 400, raw
    await api.idle()
    assert await count_rows(harness, InboundUpdate) == 0
    assert vera.inbox() == []  # nothing was handled

    # The right secret: stored before the 200, then handled like any update.
    response = await client.post("/telegram", json=body, headers={SECRET_HEADER: SECRET})
    assert response.status == 200
    answer = await vera.wait_for(lambda m: STRANGER in m.text)
    assert "112" in answer.text
    await api.idle()
    assert len(vera.inbox()) == 1
    assert await count_rows(harness, InboundUpdate) == 0  # handled, then let go


async def test_without_a_configured_secret_nothing_is_accepted(
        served: tuple[Harness, TestClient[Any, Any]]) -> None:
    harness, _client = served
    runtime = SimpleNamespace(settings=Settings(webhook_secret=""),
                              intake=harness.runtime.intake)
    vera = harness.api.user("Vera")
    body = update_from(harness.api, vera, "hallo", 2001)
    async with TestClient(TestServer(make_app(cast(Runtime, runtime)))) as client:
        for headers in ({}, {SECRET_HEADER: ""}, {SECRET_HEADER: SECRET}):
            response = await client.post("/telegram", json=body, headers=headers)
            assert response.status == 403, headers
    await harness.api.idle()
    assert await count_rows(harness, InboundUpdate) == 0
    assert vera.inbox() == []


def test_the_webhook_command_refuses_to_start_without_a_strong_secret(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from bot.cli import main

    monkeypatch.setenv("GEZINSLIJN_TELEGRAM_TOKEN", "123456:ABCdefGHIjkl")
    monkeypatch.setenv("GEZINSLIJN_WEBHOOK_URL", "https://gezinslijn.example/telegram")
    for secret in ("", "short"):
        monkeypatch.setenv("GEZINSLIJN_WEBHOOK_SECRET", secret)
        assert main(["webhook"]) == 2
        error = capsys.readouterr().err
        assert "GEZINSLIJN_WEBHOOK_SECRET" in error and "Traceback" not in error
