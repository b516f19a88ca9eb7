"""Column types: aware UTC instants everywhere, plain names, and sealed (encrypted) text."""

from __future__ import annotations

import json
import unicodedata
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, String, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from storage import crypto, sealing


class UTCDateTime(TypeDecorator[datetime]):
    """SQLite forgets time zones; store naive UTC and hand back aware UTC on every dialect."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def plain_name(text: str) -> str:
    """A name as it may be shown: no bidi controls (U+202E turns the rest of a header around),
    no zero-width or other invisible format characters, no line breaks; single spaces."""
    kept = "".join(" " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch
                   for ch in text if unicodedata.category(ch) != "Cf")
    return " ".join(kept.split())


class PlainName(TypeDecorator[str]):
    """Names and aliases are stored plain (plain_name): whatever a Telegram profile or a typed
    line carried, what reaches a coach's header reads as it looks."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else plain_name(value)


def _unseal(value: str) -> str:
    """A family-sealed value with its family's key, anything else with the master key ring."""
    plain = sealing.open_token(value)
    return crypto.unseal(value) if plain is None else plain


class Sealed(TypeDecorator[str]):
    """Encrypted text: with the row's family key when it has a family (storage/sealing.py
    seals it before the row is written), else with the master key ring."""

    impl = Text
    cache_ok = True

    def to_text(self, value: str) -> str:
        return value

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None or isinstance(value, sealing.FamilyToken):
            return value
        return crypto.seal(self.to_text(value))

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else _unseal(value)


class SealedName(Sealed):
    cache_ok = True

    """A name or alias: plain (plain_name) and sealed. Never compared or sorted in SQL: a
    caseload is small, it is matched in memory (storage/repos/families.py)."""

    def to_text(self, value: str) -> str:
        return plain_name(value)


class SealedJSON(TypeDecorator[Any]):
    """A JSON document, encrypted like Sealed (outbox payloads carry message contents)."""

    impl = Text
    cache_ok = True

    def to_text(self, value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None or isinstance(value, sealing.FamilyToken):
            return value
        return crypto.seal(self.to_text(value))

    def process_result_value(self, value: str | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        plain = _unseal(value)
        return json.loads(plain) if plain else None
