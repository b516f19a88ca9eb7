"""Callback data that cannot be forged or replayed from another chat.

Every button's data is `action|arg|arg|signature`, the signature an HMAC over the chat id and
the data. A modified client can send any callback data it likes; without the key it cannot make
one that verifies, and a button copied from someone else's chat fails for the other chat id.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

MAX_BYTES = 64  # Telegram's limit for callback_data
SEPARATOR = "|"


class CallbackSigner:
    """Signs with the first key; accepts any of them, so a button sent before a key rotation
    keeps working while the old key is still configured (README: key rotation)."""

    def __init__(self, key: bytes, *older: bytes) -> None:
        self._keys = [hashlib.sha256(b"gezinslijn-callback\x00" + k).digest()
                      for k in (key, *older)]

    def _mac(self, chat_id: int, body: str, key: bytes | None = None) -> str:
        digest = hmac.new(key or self._keys[0], f"{chat_id}:{body}".encode(),
                          hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:9]).decode("ascii")  # 72 bits, 12 characters

    def sign(self, chat_id: int, action: str, *args: str | int) -> str:
        body = SEPARATOR.join([action, *map(str, args)])
        data = f"{body}{SEPARATOR}{self._mac(chat_id, body)}"
        if len(data.encode()) > MAX_BYTES:
            raise ValueError(f"callback data for {action!r} is longer than Telegram allows")
        return data

    def verify(self, chat_id: int, data: str | None) -> list[str] | None:
        """The action and its arguments, or None for anything tampered with."""
        if not data or SEPARATOR not in data:
            return None
        body, _, mac = data.rpartition(SEPARATOR)
        if not any(hmac.compare_digest(mac, self._mac(chat_id, body, key))
                   for key in self._keys):
            return None
        return body.split(SEPARATOR)
