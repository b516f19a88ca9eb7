"""Message contents encrypted at rest (Fernet, with rotation through MultiFernet).

The key ring is process-wide because the column type (`Sealed`) needs it when SQLAlchemy binds
and loads values; it is configured once at start-up from the settings.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from storage.plain_memo import PlainMemo


class EncryptionKeyError(Exception):
    """The encryption key setting cannot be used."""


_ring: MultiFernet | None = None
# What this process sealed or opened lately with the ring (storage/plain_memo.py); emptied
# whenever the ring changes.
memo = PlainMemo()


def configure(keys: list[str]) -> None:
    """First key encrypts; every key decrypts (rotate by putting the new key first)."""
    global _ring
    memo.clear()
    try:
        _ring = MultiFernet([Fernet(k.strip().encode()) for k in keys if k.strip()])
    except (ValueError, TypeError) as error:
        raise EncryptionKeyError(str(error)) from None


def configured() -> bool:
    return _ring is not None


def seal(plain: str) -> str:
    if _ring is None:
        raise RuntimeError("encryption is not configured")
    token = _ring.encrypt(plain.encode("utf-8")).decode("ascii")
    memo.put(token, plain)
    return token


def unseal(token: str) -> str:
    if _ring is None:
        raise RuntimeError("encryption is not configured")
    known = memo.get(token)
    if known is not None:
        return known
    try:
        plain = _ring.decrypt(token.encode("ascii")).decode("utf-8")
    except InvalidToken:
        # A value sealed with a key no longer in the ring: unreadable, never a crash.
        return ""
    memo.put(token, plain)
    return plain


def rotate(token: str) -> str:
    if _ring is None:
        raise RuntimeError("encryption is not configured")
    return _ring.rotate(token.encode("ascii")).decode("ascii")


def new_key() -> str:
    return Fernet.generate_key().decode("ascii")


def key_from_file(path: Path) -> str:
    """For the single-machine SQLite default: a key file next to the data, created once (0600)."""
    if path.exists():
        return path.read_text().strip()
    key = new_key()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    return key
