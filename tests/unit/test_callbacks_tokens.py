"""Buttons cannot be forged or replayed from another chat; invite tokens are strong."""

from __future__ import annotations

import pytest

from bot.callbacks import CallbackSigner
from bot.tokens import new_token, plausible, token_hash

SIGNER = CallbackSigner(b"k" * 32)


def test_round_trip() -> None:
    data = SIGNER.sign(42, "join", "nl", "abc")
    assert SIGNER.verify(42, data) == ["join", "nl", "abc"]


@pytest.mark.parametrize("tamper", [
    lambda d: d.replace("nl", "en"),
    lambda d: d[:-1] + ("A" if d[-1] != "A" else "B"),
    lambda d: "join|nl|abc",
    lambda d: "",
    lambda d: "x" * 64,
])
def test_tampered_data_is_refused(tamper: object) -> None:
    data = SIGNER.sign(42, "join", "nl", "abc")
    assert SIGNER.verify(42, tamper(data)) is None  # type: ignore[operator]


def test_replay_from_another_chat_is_refused() -> None:
    assert SIGNER.verify(43, SIGNER.sign(42, "send", 7, 99)) is None


def test_fits_telegram_limit_with_an_invite_token() -> None:
    assert len(SIGNER.sign(10**12, "join", "uk", new_token()).encode()) <= 64


def test_tokens() -> None:
    tokens = {new_token() for _ in range(100)}
    assert len(tokens) == 100
    token = tokens.pop()
    assert len(token) >= 32 and plausible(token)  # 24 bytes → 32 characters, 192 bits
    assert token_hash(token) != token and len(token_hash(token)) == 64
    assert not plausible("short") and not plausible("bad token with spaces!!")


def test_a_button_signed_before_a_key_rotation_works_while_the_old_key_is_configured() -> None:
    old, new = CallbackSigner(b"o" * 32), CallbackSigner(b"n" * 32)
    rotating = CallbackSigner(b"n" * 32, b"o" * 32)
    before = old.sign(7, "leave")
    assert rotating.verify(7, before) == ["leave"]
    assert new.verify(7, before) is None  # once the old key is gone, so is its signature
    assert new.verify(7, rotating.sign(7, "stay")) == ["stay"]  # new buttons: the first key
    assert rotating.verify(8, before) is None
