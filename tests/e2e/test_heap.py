"""A running bot keeps its start-up objects out of the garbage collector's full passes
(bot/heap.py): they held the event loop while families' messages waited."""

from __future__ import annotations

import gc
from pathlib import Path

from bot.app import Runtime
from bot.clock import ManualClock
from bot.outbox.ratelimit import RateLimiter
from bot.settings import Settings
from bot.simulator import LocalBotApi
from tests.conftest import TEST_KEY
from tests.e2e.conftest import WEDNESDAY_MORNING, Harness


async def test_start_up_objects_are_frozen_while_running_and_released_after(
        api: LocalBotApi, migrated_db_url: str, tmp_path: Path) -> None:
    settings = Settings(telegram_token=api.token, telegram_api_url=api.base_url,
                        database_url=migrated_db_url, encryption_key=TEST_KEY,
                        key_file=tmp_path / "unused.key")
    runtime = Runtime(settings, ManualClock(WEDNESDAY_MORNING),
                      limiter=RateLimiter(enabled=False), poll_timeout=1, dispatcher_poll=0.05,
                      freeze_heap=True)  # as the installed command's (bot/cli.py)
    gc.unfreeze()
    await runtime.start()
    try:
        assert gc.get_freeze_count() > 10_000
        # The runtime's services, made at start-up and living as long as the bot, are out
        # of the collector's generations (gc.get_objects lists only those).
        assert not any(o is runtime.services for o in gc.get_objects())
    finally:
        await runtime.stop()
    assert gc.get_freeze_count() == 0  # a stopped bot's cycles can be collected again


async def test_bots_started_over_and_over_do_not_freeze(harness: Harness) -> None:
    """The tests' bots (and tools'): no collect at every start."""
    assert gc.get_freeze_count() == 0
