"""Settings from the environment (or a `.env`-style file), checked once at start-up.

A missing or wrong setting stops the bot with one sentence naming it (`SettingsError`), never a
traceback: the person starting the bot is often not the person who wrote it.
"""

from __future__ import annotations

import ipaddress
from datetime import datetime
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_API_URL = "https://api.telegram.org/bot"


class SettingsError(Exception):
    """One sentence for the person starting the bot."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="GEZINSLIJN_", env_file=None, extra="ignore", frozen=True
    )

    telegram_token: str = Field(default="", repr=False)
    telegram_api_url: str = DEFAULT_API_URL
    database_url: str = "sqlite:///gezinslijn.db"
    # Where the families' data keys live (storage/keystore.py); empty: next to a SQLite file,
    # else in the data database itself (docs/privacy.md: give PostgreSQL its own).
    keystore_url: str = ""
    region: Literal["NL", "BE"] = "NL"
    crisis_services_file: Path | None = None
    retention_days: int = Field(default=30, ge=1, le=3650)
    # Fernet keys, comma separated: the first encrypts, all decrypt (key rotation).
    encryption_key: str = Field(default="", repr=False)
    key_file: Path = Path("gezinslijn.key")
    clock_start: datetime | None = None
    clock_speed: float = Field(default=1.0, gt=0, le=100_000)
    invite_days: int = Field(default=7, ge=1, le=60)
    # Unanswered family messages: a nudge to the coach, later the coordinator (working hours).
    nudge_after_hours: float = Field(default=8, gt=0, le=200)
    escalate_after_hours: float = Field(default=24, gt=0, le=400)
    webhook_url: str = ""
    webhook_secret: str = Field(default="", repr=False)
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(default=8443, ge=1, le=65535)
    # The operators' endpoint, /healthz and /metrics (bot/ops_http.py); off when unset.
    http_port: int | None = Field(default=None, ge=1, le=65535)
    http_listen: str = "127.0.0.1"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @field_validator("telegram_api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("must be an http(s) URL such as https://api.telegram.org/bot")
        return value

    @field_validator("clock_start")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("must carry a time zone, e.g. 2026-11-27T21:50:00+01:00")
        return value

    def api_is_loopback(self) -> bool:
        host = urlsplit(self.telegram_api_url).hostname or ""
        if host == "localhost":
            return True
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False


_HUMAN_NAMES = {
    "telegram_token": "GEZINSLIJN_TELEGRAM_TOKEN",
}


def load_settings(require_token: bool = True) -> Settings:
    try:
        settings = Settings()
    except ValidationError as error:
        first = error.errors()[0]
        name = "GEZINSLIJN_" + str(first["loc"][0]).upper() if first["loc"] else "a setting"
        raise SettingsError(f"The setting {name} is not valid: {first['msg']}.") from None
    if require_token:
        token = settings.telegram_token
        if not token:
            raise SettingsError(
                "The setting GEZINSLIJN_TELEGRAM_TOKEN is missing: "
                "set it to the token BotFather gave you."
            )
        if ":" not in token or any(c.isspace() for c in token):
            raise SettingsError(
                "The setting GEZINSLIJN_TELEGRAM_TOKEN does not look like a bot token "
                "(expected digits, a colon and a secret)."
            )
    if settings.clock_start is not None and not settings.api_is_loopback():
        raise SettingsError(
            "The setting GEZINSLIJN_CLOCK_START is only honoured with a local Bot API server "
            "(GEZINSLIJN_TELEGRAM_API_URL on a loopback address)."
        )
    if settings.clock_speed != 1.0 and settings.clock_start is None:
        raise SettingsError(
            "The setting GEZINSLIJN_CLOCK_SPEED needs GEZINSLIJN_CLOCK_START as well."
        )
    return settings
