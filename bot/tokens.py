"""Invite tokens: 192 bits of randomness in the link, only a SHA-256 hash in the database."""

from __future__ import annotations

import hashlib
import secrets

TOKEN_BYTES = 24  # 192 bits; PRODUCT.md asks for at least 128


def new_token() -> str:
    # URL-safe base64 uses exactly the alphabet Telegram allows in a start parameter.
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def plausible(token: str) -> bool:
    return 16 <= len(token) <= 64 and all(c.isalnum() or c in "-_" for c in token)


def invite_link(bot_username: str, token: str) -> str:
    return f"https://t.me/{bot_username}?start={token}"
