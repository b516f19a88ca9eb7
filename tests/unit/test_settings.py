"""A wrong or missing setting stops start-up with one sentence naming it."""

from __future__ import annotations

import pytest

from bot.settings import SettingsError, load_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("GEZINSLIJN_"):
            monkeypatch.delenv(name)


@pytest.mark.parametrize(("env", "named"), [
    ({}, "GEZINSLIJN_TELEGRAM_TOKEN"),
    ({"GEZINSLIJN_TELEGRAM_TOKEN": "nocolon"}, "GEZINSLIJN_TELEGRAM_TOKEN"),
    ({"GEZINSLIJN_TELEGRAM_TOKEN": "1:a", "GEZINSLIJN_TELEGRAM_API_URL": "ftp://x"},
     "GEZINSLIJN_TELEGRAM_API_URL"),
    ({"GEZINSLIJN_TELEGRAM_TOKEN": "1:a", "GEZINSLIJN_RETENTION_DAYS": "zero"},
     "GEZINSLIJN_RETENTION_DAYS"),
    ({"GEZINSLIJN_TELEGRAM_TOKEN": "1:a", "GEZINSLIJN_REGION": "DE"}, "GEZINSLIJN_REGION"),
    ({"GEZINSLIJN_TELEGRAM_TOKEN": "1:a", "GEZINSLIJN_CLOCK_START": "2026-11-27T21:50:00+01:00"},
     "GEZINSLIJN_CLOCK_START"),
    ({"GEZINSLIJN_TELEGRAM_TOKEN": "1:a", "GEZINSLIJN_CLOCK_START": "2026-11-27T21:50:00",
      "GEZINSLIJN_TELEGRAM_API_URL": "http://127.0.0.1:1/bot"}, "GEZINSLIJN_CLOCK_START"),
    ({"GEZINSLIJN_TELEGRAM_TOKEN": "1:a", "GEZINSLIJN_CLOCK_SPEED": "60"},
     "GEZINSLIJN_CLOCK_SPEED"),
])
def test_bad_settings_name_the_setting(monkeypatch: pytest.MonkeyPatch, env: dict[str, str],
                                       named: str) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert named in message
    assert message.count(".") >= 1 and "\n" not in message


def test_simulated_clock_on_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GEZINSLIJN_TELEGRAM_TOKEN", "1:a")
    monkeypatch.setenv("GEZINSLIJN_TELEGRAM_API_URL", "http://127.0.0.1:9999/bot")
    monkeypatch.setenv("GEZINSLIJN_CLOCK_START", "2026-11-27T21:50:00+01:00")
    monkeypatch.setenv("GEZINSLIJN_CLOCK_SPEED", "4")
    settings = load_settings()
    assert settings.clock_speed == 4 and settings.clock_start is not None
