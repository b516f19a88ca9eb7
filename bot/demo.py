"""`gezinslijn demo`: the whole product offline, as a readable transcript.

A local Bot API server, a temporary SQLite database, a simulated clock running fast, and a
scripted coordinator, coach and family. What the people type and what the bot sends them is
printed as it happens.
"""

from __future__ import annotations

import re
import tempfile
import textwrap
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.app import Runtime
from bot.clock import SimulatedClock
from bot.i18n import LANGUAGE_NAMES
from bot.invites import create_invite
from bot.settings import Settings
from bot.simulator.model import ChatMessage
from bot.simulator.people import LocalUser
from bot.simulator.server import LocalBotApi
from bot.tokens import invite_link
from storage.crypto import new_key

LINK = re.compile(r"\?start=([A-Za-z0-9_-]{16,})")
ZONE = ZoneInfo("Europe/Amsterdam")
# A Wednesday morning, inside the coach's default hours.
DEMO_START = datetime(2026, 11, 25, 9, 55, tzinfo=ZONE)


class Transcript:
    """Prints every message in every chat once, with the bot's (simulated) local time."""

    def __init__(self, api: LocalBotApi, clock: SimulatedClock) -> None:
        self.api = api
        self.clock = clock
        self.shown = 0
        self.names: dict[int, str] = {}

    def flush(self) -> None:
        for message in self.api.messages[self.shown:]:
            self._print(message)
        self.shown = len(self.api.messages)

    def note(self, text: str) -> None:
        self.flush()
        print(f"\n— {text}")

    def _print(self, message: ChatMessage) -> None:
        person = self.names.get(message.chat_id, str(message.chat_id))
        # The server dates messages with the bot's simulated clock (see run_demo).
        at = datetime.fromtimestamp(message.date, ZONE).strftime("%a %H:%M")
        arrow = f"bot → {person}" if message.from_bot else f"{person} → bot"
        body = message.text if message.kind == "text" else f"[{message.kind}] {message.text}"
        lines = body.splitlines() or [""]
        print(f"[{at}] {arrow}: {lines[0]}")
        for line in lines[1:]:
            print(textwrap.indent(line, " " * 14))
        if message.buttons:
            print(" " * 14 + "  ".join(f"[{b['text']}]" for b in message.buttons))


async def settle(api: LocalBotApi, transcript: Transcript, person: LocalUser | None = None,
                 seen: int = 0, predicate: Callable[[ChatMessage], bool] | None = None
                 ) -> ChatMessage | None:
    """Wait for the bot's answer (to `person`, after their first `seen` messages), then for
    quiet, and print what happened."""
    found = None
    if person is not None:
        found = await person.wait_for(predicate or (lambda _: True), timeout=20, after=seen)
    await api.idle(quiet=0.5, timeout=20)
    transcript.flush()
    return found


async def join(api: LocalBotApi, t: Transcript, person: LocalUser, token: str,
               language: str = "nl") -> None:
    seen = len(person.inbox())
    person.send_text(f"/start {token}")
    choice = await settle(api, t, person, seen, lambda m: bool(m.buttons))
    seen = len(person.inbox())
    person.press(LANGUAGE_NAMES[language], on=choice)
    consent = await settle(api, t, person, seen, lambda m: bool(m.buttons))
    assert consent is not None
    yes = next(b for b in consent.button_texts if b.startswith("✅"))
    seen = len(person.inbox())
    person.press(yes, on=consent)
    await settle(api, t, person, seen)


async def link_from(api: LocalBotApi, t: Transcript, person: LocalUser, command: str) -> str:
    seen = len(person.inbox())
    person.send_text(command)
    message = await settle(api, t, person, seen, lambda m: bool(LINK.search(m.text)))
    match = LINK.search(message.text if message else "")
    if not match:
        raise RuntimeError("no invite link came back")
    return match.group(1)


async def run_demo(speed: float = 60.0) -> int:
    clocks: list[SimulatedClock] = []
    api = LocalBotApi(now=lambda: clocks[-1].now().timestamp() if clocks else 0.0)
    await api.start()
    folder = Path(tempfile.mkdtemp(prefix="gezinslijn-demo-"))
    settings = Settings(telegram_token=api.token, telegram_api_url=api.base_url,
                        database_url=f"sqlite:///{folder / 'demo.db'}",
                        encryption_key=new_key(), key_file=folder / "demo.key",
                        clock_start=DEMO_START, clock_speed=speed)
    clock = SimulatedClock(DEMO_START, speed)
    clocks.append(clock)
    runtime = Runtime(settings, clock, poll_timeout=1, dispatcher_poll=0.1)
    transcript = Transcript(api, clock)
    print("Gezinslijn demo — everything runs on this machine: a local Bot API server, a "
          f"temporary database in {folder}, a simulated clock.\n")
    try:
        await runtime.start()
        carla, sanne = api.user("Carla"), api.user("Sanne")
        marieke = api.user("Marieke")
        transcript.names.update({carla.chat_id: "Carla (coördinator)",
                                 sanne.chat_id: "Sanne (coach)",
                                 marieke.chat_id: "Marieke (moeder)"})

        async with runtime.db.transaction() as session:
            token, _ = create_invite(session, "coordinator", clock.now(), timedelta(days=7))
        transcript.note("On the server: gezinslijn admin invite-coordinator")
        print(invite_link(api.bot_username, token))

        transcript.note("The coordinator opens the link, chooses a language and agrees.")
        await join(api, transcript, carla, token)

        transcript.note("The coordinator invites a coach.")
        coach_token = await link_from(api, transcript, carla, "/coachuitnodigen")
        await join(api, transcript, sanne, coach_token)

        transcript.note("The coach creates a family and gets a link for the mother.")
        family_token = await link_from(api, transcript, sanne,
                                       "/nieuwgezin Gezin J. | Marieke | moeder")

        transcript.note("The mother opens the link, chooses Dutch and agrees.")
        await join(api, transcript, marieke, family_token)

        transcript.note("The mother writes to her coach, and sends a photo of a letter.")
        seen = len(sanne.inbox())
        marieke.send_text("Hallo Sanne, de brief van de woningbouw is gekomen. Wat moet ik doen?")
        await settle(api, transcript, sanne, seen)
        seen = len(sanne.inbox())
        marieke.send_photo(caption="Deze brief")
        await settle(api, transcript, sanne, seen)

        transcript.note("The coach answers with Telegram's reply on the relayed message.")
        relayed = next(m for m in sanne.inbox() if "woningbouw" in m.text)
        seen = len(marieke.inbox())
        sanne.send_text("Ik kom morgen om 14:00 langs, dan lezen we hem samen.",
                        reply_to=relayed)
        await settle(api, transcript, marieke, seen)

        transcript.note("A stranger writes to the bot: a friendly answer, nothing stored.")
        stranger = api.user("Onbekend")
        transcript.names[stranger.chat_id] = "a stranger"
        stranger.send_text("Hallo, kan ik hier iets vragen?")
        await settle(api, transcript, stranger, 0)

        transcript.note("The coach plans the visit; the bot repeats it and asks to confirm.")
        seen = len(sanne.inbox())
        sanne.send_text("/afspraak Gezin J. | morgen 14:00 | huisbezoek | bij Marieke thuis")
        check = await settle(api, transcript, sanne, seen, lambda m: bool(m.buttons))
        assert check is not None
        seen = len(marieke.inbox())
        sanne.press("✅ Klopt, opslaan", on=check)
        await settle(api, transcript, marieke, seen)

        async def jump(moment: datetime, note: str) -> None:
            nonlocal runtime, clock
            transcript.note(note)
            await runtime.stop()
            clock = SimulatedClock(moment, speed)
            clocks.append(clock)
            transcript.clock = clock
            runtime = Runtime(settings, clock, poll_timeout=1, dispatcher_poll=0.1)
            await runtime.start()

        await jump(datetime(2026, 11, 25, 17, 59, 50, tzinfo=ZONE),
                   "The bot is restarted with its clock at Wednesday 17:59: the reminder "
                   "for tomorrow's visit comes at 18:00.")
        reminder = await settle(api, transcript, marieke, len(marieke.inbox()),
                                lambda m: bool(m.buttons))
        assert reminder is not None
        seen = len(marieke.inbox())
        marieke.press("👍 Ik ben er", on=reminder)
        await settle(api, transcript, marieke, seen)

        await jump(datetime(2026, 11, 27, 21, 50, tzinfo=ZONE),
                   "Friday 21:50, outside the coach's hours (Mon-Fri 09:00-17:00).")
        seen = len(marieke.inbox())
        marieke.send_text("De deurwaarder stond vanavond voor de deur. Ik ben bang.")
        await settle(api, transcript, marieke, seen)

        await jump(datetime(2026, 11, 30, 8, 59, 50, tzinfo=ZONE),
                   "Monday 08:59: at 09:00 the coach gets the held message (still answerable "
                   "with reply), Marieke's 👍 from Wednesday evening, and the morning agenda.")
        await settle(api, transcript, sanne, len(sanne.inbox()),
                     lambda m: "deurwaarder" in m.text)
        print(f"\nDone: {len(api.calls)} Bot API calls, {len(api.messages)} messages.")
        return 0
    finally:
        await runtime.stop()
        await api.stop()
