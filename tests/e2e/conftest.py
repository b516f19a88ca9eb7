"""End-to-end: the real python-telegram-bot Application, over HTTP, against the local Bot API
server, on SQLite and PostgreSQL. Every call the bot makes is checked against the Bot API
facts (tests/bot_api_facts.json); a call Telegram would refuse fails the test.

Tests wait for events, not for time: `Harness.settle()` (and `api.idle()`, which uses it)
returns when intake and dispatcher are both idle, as the bot itself knows it."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot import outbox
from bot.app import Runtime
from bot.clock import ManualClock
from bot.domain.availability import DEFAULT_TIMEZONES
from bot.i18n import LANGUAGE_NAMES, translator
from bot.invites import create_invite
from bot.outbox.ratelimit import RateLimiter
from bot.settings import Settings
from bot.simulator import LocalBotApi, LocalUser, load_facts
from bot.simulator.model import ChatMessage
from handlers import menus, texts
from storage.db import Session
from storage.models import Staff
from storage.repos import families, people
from tests.caseload import joined_member, joined_staff
from tests.conftest import TEST_KEY, backlog

FACTS = load_facts(Path(__file__).resolve().parent.parent / "bot_api_facts.json")
LINK = re.compile(r"\?start=([A-Za-z0-9_-]{16,})")
AMS = ZoneInfo("Europe/Amsterdam")
# A Wednesday morning: inside the default availability window.
WEDNESDAY_MORNING = datetime(2026, 11, 25, 10, 0, tzinfo=AMS)
# Where the chat route of onboarding is what is tested, `Harness.onboard()` takes it.
ONBOARD_BY_CHAT = frozenset({"test_onboarding.py"})
# While the bot works in its database only (no call to the server), settle() looks this often.
LOOK_AGAIN = 0.01


class PlannerPasses:
    """Counts the dispatcher's planner passes, with a planner of its own first and last."""

    def __init__(self, planners: list[Callable[[Session, datetime], Awaitable[int]]]) -> None:
        self.begun = 0
        self.last_ended = 0  # the number of the last pass that ran every planner
        # The clock a pass planned with: one may begin just after the test moved the clock
        # and still carry the time read before (the dispatcher reads it first).
        self.last_ended_at: datetime | None = None
        self._begun_at: datetime | None = None
        planners.insert(0, self._begin)
        planners.append(self._end)

    async def _begin(self, _session: Session, now: datetime) -> int:
        self.begun += 1
        self._begun_at = now
        return 0

    async def _end(self, _session: Session, _now: datetime) -> int:
        self.last_ended = self.begun  # passes run one after the other
        self.last_ended_at = self._begun_at
        return 0


@dataclass
class Harness:
    api: LocalBotApi
    runtime: Runtime  # None: only the people, talking to a bot that runs elsewhere
    clock: ManualClock
    onboard_by_chat: bool = False
    passes: PlannerPasses = field(init=False)

    def __post_init__(self) -> None:
        if self.runtime is not None:
            self.passes = PlannerPasses(self.runtime.dispatcher.planners)
            self.api.settle_bot = self.settle

    async def settle(self, timeout: float = 10) -> None:
        """Run until intake and dispatcher are both idle: every update the server has is
        fetched, stored and handled; a planner pass begun after that (on the clock as it is now)
        found nothing more to do; nothing due is left in the outbox or on its way."""
        deadline = time.monotonic() + timeout
        while True:
            await self._until_idle(self._busy, timeout, deadline)
            begun = self.passes.begun
            clock_now = self.clock.now()
            self.runtime.dispatcher.wake()  # plan now

            async def planned(begun: int = begun, clock_now: datetime = clock_now) -> str:
                done = self.passes.last_ended > begun and (
                    self.passes.last_ended_at is None or self.passes.last_ended_at >= clock_now)
                return "" if done else "a planner pass"

            await self._until_idle(planned, timeout, deadline)
            if not await self._busy():
                return

    async def _busy(self) -> str:
        """What the bot still has to do, '' when nothing. The offset is read before the updates
        are counted: an update stored after that read is in the table."""
        busy = self.api.busy()
        if busy:
            return busy
        if self.api.handed_out and (await self.runtime.intake.offset() or 0) <= self.api.handed_out:
            return "fetched updates not stored yet"
        async with self.runtime.db.transaction() as session:
            stored, due = await backlog(session, due_by=self.clock.now())
        doing = [f"{stored} updates to handle"] if stored else []
        return ", ".join([*doing, *([f"{due} due sends"] if due else [])])

    async def _until_idle(self, busy: Callable[[], Awaitable[str]], timeout: float,
                          deadline: float) -> None:
        while doing := await busy():
            if time.monotonic() >= deadline:
                raise AssertionError(f"the bot was still busy after {timeout}s ({doing})")
            await self.api.changed.wait(LOOK_AGAIN)

    async def invite_coordinator(self) -> str:
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
        """Carla (coordinator), Sanne (coach) and Marieke (moeder in `alias`, speaking
        `language`), as onboarding leaves them: through the chat with `onboard_by_chat`, else
        written straight into the database (see `seed_caseload`)."""
        if self.onboard_by_chat:
            return await self.onboard_through_chat(alias, language)
        return await self.seed_caseload(alias, language)

    async def onboard_through_chat(self, alias: str, language: str
                                   ) -> tuple[LocalUser, LocalUser, LocalUser]:
        carla = self.api.user("Carla")
        await self.join(carla, await self.invite_coordinator())
        sanne = self.api.user("Sanne")
        await self.join(sanne, await self.link_from(carla, "/coachuitnodigen"))
        marieke = self.api.user("Marieke", language_code=language)
        await self.join(marieke, await self.link_from(sanne, f"/nieuwgezin {alias} | | moeder"),
                        language)
        return carla, sanne, marieke

    async def seed_caseload(self, alias: str, language: str
                            ) -> tuple[LocalUser, LocalUser, LocalUser]:
        """What onboarding stores, written at once: the three people with their consent and
        language, the family with its coach; and what the bot sends on joining, sent by the
        bot (each one's welcome and menu, the family's 🆘 keyboard). Each of them has written to
        the bot (/start), so it may write to them."""
        carla, sanne = self.api.user("Carla"), self.api.user("Sanne")
        marieke = self.api.user("Marieke", language_code=language)
        for person in (carla, sanne, marieke):
            person.started = True
        now = self.clock.now()
        region = self.runtime.settings.region
        out = outbox.Outgoing()
        async with self.runtime.db.transaction() as session:
            await self._seed_staff(session, out, carla, now, coordinator=True)
            coach = await self._seed_staff(
                session, out, sanne, now, coach=True,
                # The first morning agenda comes on the next working day, as after joining.
                agenda_sent_on=now.astimezone(ZoneInfo(DEFAULT_TIMEZONES[region])).date())
            family = await families.add_family(session, alias, region, DEFAULT_TIMEZONES[region],
                                               now)
            families.add_coach(session, family.id, coach.id, now)
            member = joined_member(family.id, marieke.chat_id, "Marieke", "moeder", now, language)
            await people.add_member(session, member)
            tr = translator(language, family.region, family.timezone)
            out.text(marieke.chat_id, texts.member_welcome(tr, member, [coach]),
                     keyboard=texts.family_keyboard(tr))
            menus.set_for_member(out, marieke.chat_id, tr)
            await outbox.write(session, out.sends, now)
        await self.settle()
        return carla, sanne, marieke

    async def _seed_staff(self, session: Session, out: outbox.Outgoing, person: LocalUser,
                          now: datetime, *, coordinator: bool = False, coach: bool = False,
                          agenda_sent_on: date | None = None) -> Staff:
        staff = joined_staff(person.chat_id, person.first_name, now, coordinator=coordinator,
                             coach=coach, agenda_sent_on=agenda_sent_on)
        await people.add_staff(session, staff)
        tr = translator("nl", self.runtime.settings.region)
        out.text(person.chat_id, texts.staff_welcome(tr, staff),
                 keyboard=outbox.remove_reply_keyboard())
        menus.set_for_staff(out, person.chat_id, tr, staff)
        return staff


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
async def harness(request: pytest.FixtureRequest, api: LocalBotApi, migrated_db_url: str,
                  tmp_path: Path) -> AsyncIterator[Harness]:
    """The bot, started on a fresh database. `onboard()` seeds the caseload, except in the
    modules about onboarding through the chat (ONBOARD_BY_CHAT)."""
    settings = Settings(telegram_token=api.token, telegram_api_url=api.base_url,
                        database_url=migrated_db_url, encryption_key=TEST_KEY,
                        key_file=tmp_path / "unused.key")
    clock = ManualClock(WEDNESDAY_MORNING)
    runtime = Runtime(settings, clock, limiter=RateLimiter(enabled=False), poll_timeout=1,
                      dispatcher_poll=0.05)
    await runtime.start()
    try:
        yield Harness(api, runtime, clock, onboard_by_chat=request.path.name in ONBOARD_BY_CHAT)
    finally:
        await runtime.stop()


# Helpers for the journey tests (PRODUCT.md §2.1–2.3) ------------------------------------------
async def family_named(session: Any, alias: str) -> Any:
    """The family with this alias. Aliases are sealed with each family's key, so they are
    compared here, as the bot does, not in SQL."""
    from storage.models import Family

    found = [f for f in (await session.scalars(select(Family))).all() if f.alias == alias]
    assert len(found) == 1, f"{len(found)} families named {alias!r}"
    return found[0]


async def count_rows(harness: Harness, model: Any, *where: Any) -> int:
    """How many rows of `model` match `where` (straight from the database)."""
    async with harness.runtime.db.transaction() as session:
        found = await session.scalar(select(func.count()).select_from(model).where(*where))
    return int(found or 0)


async def move_clock(harness: Harness, moment: datetime) -> None:
    """Set the ManualClock and settle: the planners run on the new time (held messages,
    reminders, agendas), and what is due then is sent."""
    harness.clock.set(moment)
    await harness.settle()


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
