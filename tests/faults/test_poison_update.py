"""An update whose handling fails with a bug (a poison update), through the real Application:
other chats go on at once; the sender's own later messages wait for it (their order holds);
after its attempts it is kept aside for the operator, never dropped, and the sender is asked to
send it again (bot/outbox/intake.py)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.simulator import LocalBotApi
from handlers import family
from storage.models import InboundUpdate
from tests.e2e.conftest import WEDNESDAY_MORNING
from tests.faults.common import RunningClock, containing, query, running_bot, seed_line

SPEED = 60.0
FAMILIES = [("Gezin J.", "Sanne", ["Marieke"]), ("Gezin K.", "Pieter", ["Kees"])]


async def test_a_poison_update_holds_up_only_its_own_chat(
        api: LocalBotApi, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    line = await seed_line(db_url, api, FAMILIES, WEDNESDAY_MORNING)
    marieke, kees = line.member("Marieke"), line.member("Kees")
    sanne, pieter = line.coaches["Sanne"], line.coaches["Pieter"]
    handled = family.from_member

    async def poisoned(w: Any, who: Any, message: Any, edited: bool = False) -> None:
        if message.text == "gif":
            raise RuntimeError("a bug in the handler")
        await handled(w, who, message, edited=edited)

    monkeypatch.setattr(family, "from_member", poisoned)
    async with running_bot(api, db_url, tmp_path, RunningClock(WEDNESDAY_MORNING, SPEED)):
        await api.idle()
        marieke.send_text("gif")
        marieke.send_text("daarna")  # waits for the poison: a chat's order holds
        sent = time.monotonic()
        kees.send_text("hallo Pieter")
        await pieter.wait_for(lambda m: "hallo Pieter" in m.text, timeout=10)
        other_chat = time.monotonic() - sent
        assert other_chat < 2.0, other_chat
        assert not containing(sanne, "daarna")

        sorry = await marieke.wait_for(lambda m: "niet goed bij mij aan" in m.text, timeout=40)
        await sanne.wait_for(lambda m: "daarna" in m.text, timeout=10)
    assert "nog een keer" in sorry.text
    assert not containing(sanne, "gif")
    kept = await query(db_url, select(InboundUpdate.kept_aside_at, InboundUpdate.last_error,
                                      InboundUpdate.attempts))
    assert len(kept) == 1, kept
    assert kept[0][0] is not None and kept[0][1] == "RuntimeError" and kept[0][2] == 5
    print(f"\nanother chat's message reached its coach {other_chat:.2f}s after the poison")
