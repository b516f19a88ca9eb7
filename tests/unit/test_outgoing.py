"""Every text the bot sends fits Telegram: one splitter for everything (bot/outbox/outgoing.py)."""

from __future__ import annotations

from bot.domain.relay import TEXT_LIMIT, utf16_len
from bot.outbox import Outgoing, keyboard


def test_a_short_text_is_one_message_with_its_buttons() -> None:
    out = Outgoing()
    buttons = keyboard([[("Ja", "x|1")]])
    out.text(7, "Goedemorgen", keyboard=buttons, bold_units=4, reply_to=3)
    [send] = out.sends
    assert send.params["text"] == "Goedemorgen"
    assert send.params["reply_markup"] == buttons
    assert send.params["entities"][0]["length"] == 4
    assert send.params["reply_parameters"]["message_id"] == 3
    assert "disable_notification" not in send.params


def test_a_long_composed_text_goes_out_in_pieces_that_fit() -> None:
    # An agenda of many families, with emoji (two UTF-16 units each): about 11,000 units.
    lines = [f"🏠 Gezin {n}. · huisbezoek om 10:00 · actiepunt: brief posten" for n in range(180)]
    text = "\n".join(lines)
    assert utf16_len(text) > 2 * TEXT_LIMIT
    out = Outgoing()
    buttons = keyboard([[("Agenda", "ag|1")]])
    out.text(7, text, keyboard=buttons, bold_units=10)
    pieces = [send.params["text"] for send in out.sends]
    assert len(pieces) == 3
    assert all(utf16_len(piece) <= TEXT_LIMIT for piece in pieces)
    # Cut between lines: no family line is broken, none lost, none repeated.
    assert [line for piece in pieces for line in piece.split("\n") if line] == lines
    assert [("reply_markup" in s.params) for s in out.sends] == [False, False, True]
    assert [("entities" in s.params) for s in out.sends] == [True, False, False]
    # Only the first piece makes a sound.
    assert [s.params.get("disable_notification", False) for s in out.sends] == [
        False, True, True]
