"""Read database files the way someone with the files and the master key would: every byte as
it is, every sealed value opened with the master key or with any data key whose wrapped bytes
are still somewhere in the key store's files (a destroyed key that left bytes behind counts).

Used to show that an erasure leaves nothing readable, and that the check itself can find what
is there before the erasure."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

FERNET_TOKEN = re.compile(rb"gAAAAA[A-Za-z0-9_\-]+=*")


def sqlite_files(path: Path) -> list[Path]:
    """A SQLite database and its write-ahead log and shared-memory files."""
    return [p for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()]


def _open(found: bytes, keys: list[Fernet]) -> bytes | None:
    """A match may run on into the bytes after the value (a record's next column): try the
    token's possible lengths (base64, a multiple of 4) from the longest down."""
    length = len(found) - len(found) % 4
    while length >= 100:
        for key in keys:
            try:
                return key.decrypt(found[:length])
            except InvalidToken:
                continue
        length -= 4
    return None


def data_keys_in(key_bytes: bytes, master_keys: Iterable[str]) -> list[Fernet]:
    master = [Fernet(k) for k in master_keys]
    found: list[Fernet] = []
    for token in set(FERNET_TOKEN.findall(key_bytes)):
        plain = _open(token, master)
        try:
            found.append(Fernet(plain)) if plain else None
        except ValueError:
            continue
    return found


def readable(data: bytes, key_bytes: bytes, master_keys: Iterable[str]) -> str:
    """Everything that can be read from `data`: its bytes, and each sealed value opened."""
    masters = list(master_keys)
    keys = [Fernet(k) for k in masters] + data_keys_in(key_bytes, masters)
    texts = [data.decode("utf-8", errors="replace")]
    pending = list(set(FERNET_TOKEN.findall(data)))
    seen: set[bytes] = set()
    while pending:
        token = pending.pop()
        if token in seen:
            continue
        seen.add(token)
        plain = _open(token, keys)
        if plain is not None:
            texts.append(plain.decode("utf-8", errors="replace"))
            pending.extend(FERNET_TOKEN.findall(plain))  # a sealed value inside a sealed one
    return "\n".join(texts)


def files_bytes(paths: Iterable[Path]) -> bytes:
    return b"".join(p.read_bytes() for p in paths)
