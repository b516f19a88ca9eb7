"""A bulk send under way in a lane that a person's row has come to wait behind since it was
claimed goes with the people (Dispatcher.hurry_for_people_behind): the family's new message
that may not pass its own digest, written by this instance or by another one. Beside other
instances only: alone, the lane claims the person's row as its next."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.clock import ManualClock
from bot.outbox.dispatcher import Dispatcher
from storage.db import Database
from storage.models import Outbox
from storage.repos import outbox as rows
from tests.storage.statements import Listened

NOW = datetime(2026, 11, 25, 9, 0, 30, tzinfo=UTC)
COACH = 500


async def _write(db: Database, purpose: str, chat: int = COACH, due: datetime = NOW) -> int:
    async with db.transaction() as session:
        row = rows.add_pending(session, chat_id=chat, method="sendMessage",
                               payload={"p": {"text": "x"}}, purpose=purpose, due_at=due,
                               created_at=NOW, link_family_id=None, link_member_id=None,
                               link_message_id=None)
        await session.flush()
        return row.id


def _beside_another(db: Database) -> Dispatcher:
    dispatcher = Dispatcher(db, bot=None, clock=ManualClock(NOW))  # type: ignore[arg-type]
    dispatcher._instances = 2  # as share_the_limit counts them on PostgreSQL
    return dispatcher


async def _sending(db: Database, dispatcher: Dispatcher) -> Outbox:
    """The coach's chat's digest, claimed by this instance and under way in its lane."""
    await _write(db, "digest")
    [row] = await dispatcher.claim(NOW, 1)
    dispatcher._sending[COACH] = row
    return row


async def test_a_person_behind_a_bulk_send_hurries_it(db: Database) -> None:
    dispatcher = _beside_another(db)
    digest = await _sending(db, dispatcher)
    await dispatcher.hurry_for_people_behind(NOW)
    assert COACH not in dispatcher.limiter._hurried  # nobody waits behind it yet
    await _write(db, "relay")  # the family writes; another instance handled it
    dispatcher._hurry_look_due = 0.0
    await dispatcher.hurry_for_people_behind(NOW)
    assert COACH in dispatcher.limiter._hurried
    assert digest.id in dispatcher._ahead_of_people  # the lane's send goes with the people


async def test_only_a_person_due_now_and_unclaimed_hurries_it(db: Database) -> None:
    dispatcher = _beside_another(db)
    await _sending(db, dispatcher)
    await _write(db, "relay", due=NOW + timedelta(hours=1))  # not due yet
    await _write(db, "relay", chat=COACH + 1)  # another chat
    await _write(db, "reminder")  # bulk
    await dispatcher.hurry_for_people_behind(NOW)
    assert not dispatcher.limiter._hurried and not dispatcher._ahead_of_people


async def test_it_looks_only_while_a_bulk_send_is_under_way_and_not_at_every_pass(
        db: Database) -> None:
    dispatcher = _beside_another(db)
    with Listened(db) as seen:
        await dispatcher.hurry_for_people_behind(NOW)  # no lane sends
    assert seen.statements == []
    await _sending(db, dispatcher)
    with Listened(db) as seen:
        await dispatcher.hurry_for_people_behind(NOW)
        await dispatcher.hurry_for_people_behind(NOW)  # within HURRY_LOOK_SECONDS
    assert len(seen.statements) == 1, seen.statements


async def test_alone_it_does_not_look(db: Database) -> None:
    dispatcher = Dispatcher(db, bot=None, clock=ManualClock(NOW))  # type: ignore[arg-type]
    await _sending(db, dispatcher)
    await _write(db, "relay")
    with Listened(db) as seen:
        await dispatcher.hurry_for_people_behind(NOW)
    assert seen.statements == [] and not dispatcher.limiter._hurried
