"""The local Bot API server's traps (bot/simulator/model.py Trap), which the SIGKILL suite uses
to kill the bot at a chosen call: before handling (not delivered, no answer) or after handling
(delivered, the answer withheld), counted per matching call, firing once."""

from __future__ import annotations

import pytest
from telegram import Bot
from telegram.error import NetworkError
from telegram.request import HTTPXRequest

from bot.simulator import LocalBotApi, Trap


async def test_a_trap_before_delivers_nothing_and_after_delivers_without_answer(
        api: LocalBotApi) -> None:
    ann = api.user("Ann")
    ann.send_text("hoi")
    fired: list[str] = []
    to_ann = str(ann.chat_id)
    api.faults.traps = [
        Trap("sendMessage", lambda: fired.append("before"), nth=2,
             match=lambda p, _: str(p.get("chat_id")) == to_ann),
        Trap("sendMessage", lambda: fired.append("after"), nth=2, after=True),  # handled ones
    ]
    request = HTTPXRequest(read_timeout=2, connect_timeout=2)
    async with Bot(api.token, base_url=api.base_url, request=request) as bot:
        await bot.send_message(ann.chat_id, "een")
        with pytest.raises(NetworkError):
            await bot.send_message(ann.chat_id, "twee")  # trapped before: not delivered
        with pytest.raises(NetworkError):
            await bot.send_message(ann.chat_id, "drie")  # trapped after: delivered
        await bot.send_message(ann.chat_id, "vier")  # each trap fires once
    assert fired == ["before", "after"]
    assert [m.text for m in ann.inbox()] == ["een", "drie", "vier"]
    before, after = (trap.call for trap in api.faults.traps)
    assert before is not None and not before.ok and before.params["text"] == "twee"
    assert after is not None and after.ok and after.params["text"] == "drie"
