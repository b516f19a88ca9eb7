"""Fixtures of the fault suite: the local Bot API server (every call checked against the Bot
API facts), and python-telegram-bot's retry_after as a timedelta (no deprecation warning)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.simulator import LocalBotApi
from tests.e2e.conftest import FACTS


@pytest.fixture(autouse=True)
def _retry_after_as_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
async def api() -> AsyncIterator[LocalBotApi]:
    server = LocalBotApi(facts=FACTS)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
    assert not server.violations, f"calls Telegram would refuse: {server.violations}"
    assert not server.internal_errors, server.internal_errors
