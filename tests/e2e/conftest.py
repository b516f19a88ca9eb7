"""End-to-end: the real python-telegram-bot Application, over HTTP, against the local Bot API
server, on SQLite and PostgreSQL. Every call the bot makes is checked against the Bot API
facts (tests/bot_api_facts.json); a call Telegram would refuse fails the test."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.app import Runtime
from bot.clock import ManualClock
from bot.i18n import LANGUAGE_NAMES
from bot.invites import create_invite
from bot.local_api import LocalBotApi, LocalUser, load_facts
from bot.ratelimit import RateLimiter
from bot.settings import Settings
from tests.conftest import TEST_KEY

FACTS = load_facts(Path(__file__).resolve().parent.parent / "bot_api_facts.json")
LINK = re.compile(r"\?start=([A-Za-z0-9_-]{16,})")
AMS = ZoneInfo("Europe/Amsterdam")
# A Wednesday morning: inside the default availability window.
WEDNESDAY_MORNING = datetime(2026, 11, 25, 10, 0, tzinfo=AMS)


@dataclass
class Harness:
    api: LocalBotApi
    runtime: Runtime
    clock: ManualClock

    async def invite_coordinator(self) -> str:
        from datetime import timedelta

        async with self.runtime.db.transaction() as session:
            token, _ = create_invite(session, "coordinator", self.clock.now(),
                                     timedelta(days=7))
        return token

    async def join(self, person: LocalUser, token: str, language: str = "nl") -> None:
        start = len(person.inbox())
        person.send_text(f"/start {token}")
        choice = await person.wait_for(
            lambda m: LANGUAGE_NAMES[language] in m.button_texts, after=start)
        person.press(LANGUAGE_NAMES[language], on=choice)
        consent = await person.wait_for(
            lambda m: any(b.startswith("✅") for b in m.button_texts), after=start)
        yes = next(b for b in consent.button_texts if b.startswith("✅"))
        person.press(yes, on=consent)
        await person.wait_for(lambda m: (m.at > consent.at and not m.buttons)
                              or "🆘" in " ".join(m.button_texts), after=start)
        await self.api.idle()

    async def link_from(self, person: LocalUser, command: str) -> str:
        start = len(person.inbox())
        person.send_text(command)
        message = await person.wait_for(lambda m: bool(LINK.search(m.text)), after=start)
        match = LINK.search(message.text)
        assert match
        return match.group(1)

    async def onboard(self, alias: str = "Gezin J.", language: str = "nl"
                      ) -> tuple[LocalUser, LocalUser, LocalUser]:
        carla = self.api.user("Carla")
        await self.join(carla, await self.invite_coordinator())
        sanne = self.api.user("Sanne")
        await self.join(sanne, await self.link_from(carla, "/coachuitnodigen"))
        marieke = self.api.user("Marieke", language_code=language)
        await self.join(marieke, await self.link_from(sanne, f"/nieuwgezin {alias} | | moeder"),
                        language)
        return carla, sanne, marieke


@pytest.fixture
async def api() -> AsyncIterator[LocalBotApi]:
    server = LocalBotApi(facts=FACTS)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
    assert not server.violations, f"calls Telegram would refuse: {server.violations}"


@pytest.fixture
async def harness(api: LocalBotApi, db_url: str, tmp_path: Path) -> AsyncIterator[Harness]:
    settings = Settings(telegram_token=api.token, telegram_api_url=api.base_url,
                        database_url=db_url, encryption_key=TEST_KEY,
                        key_file=tmp_path / "unused.key")
    clock = ManualClock(WEDNESDAY_MORNING)
    runtime = Runtime(settings, clock, limiter=RateLimiter(enabled=False), poll_timeout=1,
                      dispatcher_poll=0.05)
    await runtime.start()
    try:
        yield Harness(api, runtime, clock)
    finally:
        await runtime.stop()
