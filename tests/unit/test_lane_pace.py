"""The pace a lane's send goes at (issue 16, busiest morning): a bulk send goes after the
people's at Telegram's limit, unless a person's row waits in its lane behind it. A family's
copy that arrives in a coach's chat while another family's digest is being sent waits for that
digest (it stays in one piece, PRODUCT.md §2.3); the digest's copies then go as people."""

from __future__ import annotations

from collections import deque
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from bot.clock import ManualClock
from bot.outbox.dispatcher import Dispatcher

NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
COACH = 139


class Limiter:
    def __init__(self) -> None:
        self.asked: list[bool] = []

    async def acquire(self, chat_id: int | None, bulk: bool = False) -> None:
        self.asked.append(bulk)


def _row(row_id: int, purpose: str, family: int | None = 1) -> Any:
    return SimpleNamespace(id=row_id, chat_id=COACH, purpose=purpose, link_family_id=family)


async def _paced_as_bulk(queued: list[Any], ahead: frozenset[int] = frozenset()) -> bool:
    """Whether the lane's send of the next copy of a begun digest goes at bulk pace, with
    `queued` waiting in the lane behind it."""
    limiter = Limiter()
    dispatcher = Dispatcher(None, bot=None, clock=ManualClock(NOW),  # type: ignore[arg-type]
                            limiter=limiter)  # type: ignore[arg-type]

    async def call(*_args: Any) -> dict[str, int]:
        return {"message_id": 1}

    dispatcher._call = call  # type: ignore[method-assign]
    dispatcher._ahead_of_people |= set(ahead)
    dispatcher._lanes[COACH] = deque(queued)
    await dispatcher._attempt(_row(1, "digest", family=2), "copyMessage", {})
    [bulk] = limiter.asked
    return bulk


async def test_a_digest_goes_at_bulk_pace_when_nobody_waits_behind_it() -> None:
    assert await _paced_as_bulk([])
    assert await _paced_as_bulk([_row(2, "digest", family=2), _row(3, "agenda")])


async def test_a_digest_goes_with_the_people_while_a_familys_copy_waits_behind_it() -> None:
    assert not await _paced_as_bulk([_row(2, "digest", family=2), _row(3, "relay", family=1)])
    # A bulk row a person waits for counts as theirs (the coach's agenda before their digest).
    assert not await _paced_as_bulk([_row(3, "agenda")], ahead=frozenset({3}))
