"""End-to-end: the real python-telegram-bot Application, over HTTP, against the local Bot API
server, on SQLite and PostgreSQL. Every call the bot makes is checked against the Bot API
facts (tests/bot_api_facts.json); a call Telegram would refuse fails the test."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.app import Runtime
from bot.clock import ManualClock
from bot.i18n import LANGUAGE_NAMES
from bot.invites import create_invite
from bot.local_api import LocalBotApi, LocalUser, load_facts
from bot.local_api.model import ChatMessage
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


# Helpers for the journey tests (PRODUCT.md §2.1–2.3) ------------------------------------------
async def count_rows(harness: Harness, model: Any, *where: Any) -> int:
    """How many rows of `model` match `where` (straight from the database)."""
    from sqlalchemy import func, select

    async with harness.runtime.db.transaction() as session:
        found = await session.scalar(select(func.count()).select_from(model).where(*where))
    return int(found or 0)


async def move_clock(harness: Harness, moment: datetime) -> None:
    """Set the ManualClock, wake the dispatcher (held messages, due rows) and let it settle."""
    harness.clock.set(moment)
    harness.runtime.dispatcher.wake()
    await asyncio.sleep(0.15)  # a few dispatcher polls: planners run on the new time
    await harness.api.idle()


async def add_coach(harness: Harness, coordinator: LocalUser, name: str) -> LocalUser:
    """A further coach, invited by the coordinator through /coachuitnodigen."""
    person = harness.api.user(name)
    await harness.join(person, await harness.link_from(coordinator, "/coachuitnodigen"))
    return person


def reply_with(person: LocalUser, kind: str, to: ChatMessage, caption: str | None = None
               ) -> ChatMessage:
    """Telegram's *reply* with a media message (LocalUser.send_text covers text)."""
    extra: dict[str, Any] = {"file_name": "antwoord.pdf"} if kind == "document" else {}
    fields: dict[str, Any] = {kind: person.server.new_file(kind, **extra),
                              "reply_to_message": person.server.message_json(to, nested=True)}
    if caption is not None:
        fields["caption"] = caption
    return person.send_raw(**fields)


def since(person: LocalUser, start: int) -> list[ChatMessage]:
    """What the bot sent this person from inbox index `start` on."""
    return person.inbox()[start:]


def flag(value: Any) -> bool:
    """A Bot API boolean as it arrived (JSON true, or "true" in a form)."""
    return value is True or str(value).lower() in ("true", "1")


_RELAY_HEADER = re.compile(r"^(🆘 )?.+ · .+ · \d{1,2}(:\d{2}|u\d{0,2})( \(\d+/\d+\))?$")


def relayed(person: LocalUser, start: int) -> list[ChatMessage]:
    """Family messages that reached this person since inbox index `start`: copies, header
    lines and digest titles (not agendas, nudges or other notices)."""
    return [m for m in since(person, start)
            if m.copied_from is not None or m.text.startswith("📬")
            or _RELAY_HEADER.match(m.text.split("\n", 1)[0])]


async def answers_per_command(person: LocalUser, commands: Sequence[str], marker: str,
                              ends: Callable[[ChatMessage], bool],
                              render: Callable[[ChatMessage], str] = lambda m: m.text
                              ) -> list[list[str]]:
    """Each command's answers, in order. `marker` is sent after each command and its answer
    (`ends`) closes that command's answers: a chat's messages arrive in the order decided."""
    start = len(person.inbox())
    for command in commands:
        person.send_text(command)
        person.send_text(marker)
    answers: list[list[str]] = []
    current: list[str] = []
    index = start
    while len(answers) < len(commands):
        message = await person.wait_for(lambda m: True, after=index)
        index += 1
        if ends(message):
            answers.append(current)
            current = []
        else:
            current.append(render(message))
    return answers
