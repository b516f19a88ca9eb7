"""router.on_error: a handler's failure is an error in the log once. Noticed last round: on
PostgreSQL a failing update was logged twice, once in its group of ten (rolled back,
then handled alone) and once alone."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest
from telegram import Update

from handlers import router


class _Intake:
    def __init__(self, together: bool) -> None:
        self.together = together
        self.noted: list[tuple[int, bool]] = []

    def tried_together(self, update_id: int) -> bool:
        return self.together

    def note_failure(self, update_id: int, error: BaseException | None, *,
                     transient: bool) -> None:
        self.noted.append((update_id, transient))


@pytest.mark.parametrize(("together", "level"), [(True, logging.INFO), (False, logging.ERROR)])
async def test_a_failure_in_a_group_is_an_error_only_when_handled_alone(
        caplog: pytest.LogCaptureFixture, together: bool, level: int) -> None:
    intake = _Intake(together)
    context = SimpleNamespace(error=ValueError("a bug"), bot_data={"intake": intake})
    with caplog.at_level(logging.INFO, logger="handlers.router"):
        await router.on_error(Update(update_id=7), context)  # type: ignore[arg-type]
    assert [r.levelno for r in caplog.records if r.name == "handlers.router"] == [level]
    assert intake.noted == [(7, False)]  # counted either way (the group's try is forgotten)
