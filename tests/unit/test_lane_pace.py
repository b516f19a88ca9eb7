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


def _waiting(row_id: int, purpose: str, family: int | None = 1, waits_for: int | None = None,
             message: int | None = None) -> Any:
    return SimpleNamespace(id=row_id, chat_id=COACH, purpose=purpose, link_family_id=family,
                           waits_for=waits_for, link_message_id=message)


def test_which_bulk_sends_give_way_to_a_person_behind_them() -> None:
    """As the claim lets a person's row pass a waiting bulk row (outbox_rows._in_the_way)."""
    dispatcher = Dispatcher(None, bot=None, clock=ManualClock(NOW))  # type: ignore[arg-type]
    copy = _waiting(10, "relay", family=1)
    cases = [
        (_waiting(1, "agenda", family=None), True),
        (_waiting(1, "nudge", family=None), True),
        (_waiting(1, "reminder", family=2), True),  # another family's
        (_waiting(1, "digest", family=2), True),  # another family's digest, not begun
        (_waiting(1, "reminder", family=1), False),  # the family's own: its order
        (_waiting(1, "digest", family=2, message=5), False),  # a digest that has begun
        (_waiting(1, "relay", family=2), False),  # a person's own send
        (None, False),  # nothing being sent
    ]
    for sending, gives_way in cases:
        assert dispatcher._may_give_way(sending, copy) is gives_way, sending
    receipt = _waiting(11, "receipt", family=None, waits_for=1)
    assert not dispatcher._may_give_way(_waiting(1, "agenda", family=None), receipt)
    dispatcher._ahead_of_people.add(1)  # a person of its family waits for it: theirs
    assert not dispatcher._may_give_way(_waiting(1, "agenda", family=None), copy)
