"""A stored update leaves the store in the same transaction as what handling it wrote
(bot/outbox/intake.py, storage.db.joining_first_transaction): never handled twice after a crash in
between, never lost when handling fails, and an instance that finds it handled by another rolls
its own handling back. A failing update holds up only its own chat; after MAX_ATTEMPTS it is kept
aside and its sender asked to send it again; a database that is away never uses up attempts."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import delete, select
from sqlalchemy.exc import OperationalError

from bot.clock import ManualClock
from bot.i18n import translator
from bot.outbox import intake as intake_module
from bot.outbox.intake import MAX_ATTEMPTS, Intake, chat_of
from storage.db import Database, database_away
from storage.migrate import upgrade_async
from storage.models import Family, InboundUpdate, Outbox, Setting
from tests.caseload import joined_member
from tests.faults.common import Seconds

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
CHAT_A, CHAT_B = 1001, 2002
ASK_AGAIN = ("Sorry, je laatste bericht kwam niet goed bij mij aan. Wil je het nog een keer "
             "sturen?")


class Services:
    """What the intake uses of bot.services.Services: the region, and the dispatcher's wake."""

    settings = SimpleNamespace(region="NL")
    dispatcher = None

    def __init__(self) -> None:
        self.woken: list[bool] = []

    def wake(self, plan: bool = True) -> None:
        self.woken.append(plan)


class Handler:
    """Stands in for the Application: each update writes a row, as a handler's unit of work,
    and failures go to the intake as router.on_error sends them."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.bot = None
        self.bot_data: dict[str, Any] = {"services": Services()}
        self.fail = False
        self.poison: set[int] = set()  # update ids whose handling raises a bug
        self.away = False  # the database is unreachable for this handler
        self.away_chats: set[int] = set()  # …for the updates of these chats only
        self.handled_elsewhere = False
        self.intake: Intake | None = None
        self.attempts = 0  # handlings begun: their number is written with what they wrote
        self.in_group: list[tuple[int, bool]] = []  # (update id, intake.tried_together)

    async def process_update(self, update: Any) -> None:
        if self.handled_elsewhere:  # another instance committed it meanwhile
            await asyncio.create_task(self._elsewhere(update.update_id),
                                      context=contextvars.Context())
        chat = update.effective_chat.id if update.effective_chat else None
        if self.intake is not None:
            self.in_group.append((update.update_id, self.intake.tried_together(update.update_id)))
        try:
            async with self.db.transaction() as session:
                self.attempts += 1
                session.add(Setting(key=f"handled {update.update_id}", value=str(self.attempts)))
                if self.fail or update.update_id in self.poison:
                    raise RuntimeError("handler failed")
                if self.away or chat in self.away_chats:
                    raise OperationalError("SELECT 1", {}, ConnectionRefusedError())
        except Exception as error:  # python-telegram-bot hands it to the error handler
            assert self.intake is not None
            self.intake.note_failure(update.update_id, error, transient=database_away(error))

    async def _elsewhere(self, update_id: int) -> None:
        async with self.db.transaction() as session:
            await session.execute(delete(InboundUpdate).where(
                InboundUpdate.update_id == update_id))


@pytest.fixture
async def rig(db_url: str) -> AsyncIterator[tuple[Database, Handler, Intake, Seconds]]:
    await upgrade_async(db_url)
    db = Database(db_url)
    try:
        app = Handler(db)
        intake = Intake(db, app, ManualClock(NOW))  # type: ignore[arg-type]
        seconds = Seconds()
        intake.monotonic = seconds
        app.intake = intake
        yield db, app, intake, seconds
    finally:
        await db.dispose()


def message(update_id: int, chat_id: int, language: str = "en") -> dict[str, Any]:
    person = {"id": chat_id, "is_bot": False, "first_name": "Iemand", "language_code": language}
    return {"update_id": update_id, "message": {
        "message_id": update_id, "date": 1764061200, "text": "…", "from": person,
        "chat": {"id": chat_id, "type": "private", "first_name": "Iemand"}}}


async def _rows(db: Database) -> tuple[list[int], list[str]]:
    async with db.transaction() as session:
        stored = list((await session.scalars(select(InboundUpdate.update_id)
                                             .order_by(InboundUpdate.update_id))).all())
        written = list((await session.scalars(select(Setting.key).where(
            Setting.key.like("handled %")))).all())
    return stored, written


async def _order(db: Database) -> list[int]:
    """The updates whose handling committed, in the order they were handled."""
    async with db.transaction() as session:
        written = (await session.execute(select(Setting.key, Setting.value).where(
            Setting.key.like("handled %")))).all()
    return [int(key.split()[1]) for key, _ in sorted(written, key=lambda kv: int(kv[1]))]


async def _stored(db: Database, update_id: int) -> InboundUpdate:
    async with db.transaction() as session:
        row = await session.get(InboundUpdate, update_id)
    assert row is not None
    return row


async def _notices(db: Database) -> list[Outbox]:
    async with db.transaction() as session:
        return list((await session.scalars(select(Outbox).order_by(Outbox.id))).all())


async def test_handled_with_its_delete_kept_when_failing_and_not_twice(
        rig: tuple[Database, Handler, Intake, Seconds]) -> None:
    db, app, intake, seconds = rig
    await intake.store([{"update_id": 7}], advance_offset=True)

    app.fail = True
    assert await intake.process_pending() == 0
    assert await _rows(db) == ([7], [])  # kept for another attempt, nothing written
    assert (await _stored(db, 7)).attempts == 1

    app.fail = False
    assert await intake.process_pending() == 0  # waits a second before its next try
    seconds.now += 1
    assert await intake.process_pending() == 1
    assert await _rows(db) == ([], ["handled 7"])  # written and gone, together

    await intake.store([{"update_id": 8}], advance_offset=True)
    app.handled_elsewhere = True
    assert await intake.process_pending() == 1
    assert await _rows(db) == ([], ["handled 7"])  # its own handling rolled back


async def test_the_chat_of_each_kind_of_update() -> None:
    chat = {"id": 5, "type": "private"}
    person = {"id": 6, "is_bot": False, "first_name": "X"}
    assert chat_of({"update_id": 1, "message": {"chat": chat}}) == 5
    assert chat_of({"update_id": 1, "edited_message": {"chat": chat}}) == 5
    assert chat_of({"update_id": 1, "channel_post": {"chat": {"id": -100, "type": "channel"}}}
                   ) == -100
    assert chat_of({"update_id": 1, "my_chat_member": {"chat": chat, "from": person}}) == 5
    assert chat_of({"update_id": 1, "callback_query": {"from": person,
                                                       "message": {"chat": chat}}}) == 5
    assert chat_of({"update_id": 1, "callback_query": {"from": person}}) == 6
    assert chat_of({"update_id": 1}) is None


async def test_a_poison_update_holds_up_only_its_own_chat_and_is_kept_aside(
        rig: tuple[Database, Handler, Intake, Seconds]) -> None:
    """Chat A's first update raises a bug every time. Chat B is handled in the same pass; A's
    later update waits for it, in order. After MAX_ATTEMPTS it is kept aside (not deleted, its
    error's kind noted), A goes on, and A's sender is asked to send it again."""
    db, app, intake, seconds = rig
    await intake.store([message(1, CHAT_A), message(2, CHAT_B), message(3, CHAT_A),
                        message(4, CHAT_B)], advance_offset=True)
    async with db.transaction() as session:
        assert (await session.get(InboundUpdate, 1)).chat_id == CHAT_A  # type: ignore[union-attr]
    app.poison = {1}

    assert await intake.process_pending() == 2
    assert await _order(db) == [2, 4]  # chat B in the same pass as A's failure
    assert (await _rows(db))[0] == [1, 3]  # A's later update waits for its first

    await intake.store([message(5, CHAT_B)], advance_offset=True)
    assert await intake.process_pending() == 1  # A waits for its pause; B goes on
    assert await _order(db) == [2, 4, 5]

    for attempt in range(2, MAX_ATTEMPTS + 1):
        seconds.now += 8
        await intake.process_pending()
        row = await _stored(db, 1)
        assert row.attempts == attempt
        assert row.last_error == "RuntimeError"
        if attempt < MAX_ATTEMPTS:
            assert row.kept_aside_at is None and await _order(db) == [2, 4, 5]
    assert row.kept_aside_at is not None  # kept aside, not deleted
    assert await _order(db) == [2, 4, 5, 3]  # no longer holding up its chat: in that same pass
    assert (await _rows(db))[0] == [1]

    [notice] = await _notices(db)
    assert (notice.chat_id, notice.purpose, notice.status) == (CHAT_A, "notice", "pending")
    assert notice.payload is not None
    assert notice.payload["p"]["text"] == translator("en").gettext(ASK_AGAIN)
    assert app.bot_data["services"].woken == [False]

    seconds.now += 60  # not handled again
    assert await intake.process_pending() == 0
    assert await _order(db) == [2, 4, 5, 3] and len(await _notices(db)) == 1


async def test_the_sender_is_asked_in_their_own_language(
        rig: tuple[Database, Handler, Intake, Seconds], monkeypatch: pytest.MonkeyPatch) -> None:
    """A member's language from the database comes before Telegram's language_code; a
    stranger's is Telegram's. A group gets no message."""
    db, app, intake, seconds = rig
    asked: list[tuple[str | None, str]] = []

    def recording(language: str | None, region: str = "NL") -> Any:
        asked.append((language, region))
        return translator(language, region)

    monkeypatch.setattr(intake_module, "translator", recording)
    async with db.transaction() as session:
        family = Family(alias="Gezin T.", region="NL", timezone="Europe/Amsterdam",
                        active=True, created_at=NOW)
        session.add(family)
        await session.flush()
        session.add(joined_member(family.id, CHAT_A, "Ayla", "ouder", NOW, language="tr"))
    group = message(3, -500)
    group["message"]["chat"] = {"id": -500, "type": "group", "title": "Groep"}
    await intake.store([message(1, CHAT_A, language="en"), message(2, CHAT_B, language="pl"),
                        group], advance_offset=True)
    app.poison = {1, 2, 3}
    for _ in range(MAX_ATTEMPTS):
        await intake.process_pending()
        seconds.now += 8
    assert asked == [("tr", "NL"), ("pl", "NL")]
    assert sorted(n.chat_id for n in await _notices(db)) == [CHAT_A, CHAT_B]
    assert (await _rows(db))[0] == [1, 2, 3]  # all three kept aside


async def test_a_database_outage_never_uses_up_an_updates_attempts(
        rig: tuple[Database, Handler, Intake, Seconds]) -> None:
    """A family message whose handling fails because the database is away, again and again
    (more often than MAX_ATTEMPTS), is handled once the database answers: never kept aside."""
    db, app, intake, seconds = rig
    await intake.store([message(9, CHAT_A)], advance_offset=True)
    app.away = True
    for _ in range(2 * MAX_ATTEMPTS):
        assert await intake.process_pending() == 0
        seconds.now += 8
    row = await _stored(db, 9)
    assert (row.attempts, row.kept_aside_at) == (0, None)
    app.away = False
    assert await intake.process_pending() == 1
    assert await _rows(db) == ([], ["handled 9"])
    assert await _notices(db) == []

    # A real failure of the handler still counts, and ends after MAX_ATTEMPTS.
    await intake.store([message(10, CHAT_A)], advance_offset=True)
    app.fail = True
    for _ in range(MAX_ATTEMPTS):
        await intake.process_pending()
        seconds.now += 8
    assert (await _stored(db, 10)).kept_aside_at is not None


async def test_the_database_away_for_one_chat_holds_up_no_other_chat(
        rig: tuple[Database, Handler, Intake, Seconds]) -> None:
    """The database fails chat A's handling (say, a lock on A's rows): that pass ends, the next
    goes on with chat B while A waits for its pause; A keeps its attempts."""
    db, app, intake, seconds = rig
    await intake.store([message(1, CHAT_A), message(2, CHAT_B)], advance_offset=True)
    app.away_chats = {CHAT_A}
    assert await intake.process_pending() == 0
    assert await intake.process_pending() == 1
    assert await _order(db) == [2]
    app.away_chats = set()
    seconds.now += 1
    assert await intake.process_pending() == 1
    assert await _order(db) == [2, 1]
    stored, written = await _rows(db)
    assert (stored, sorted(written)) == ([], ["handled 1", "handled 2"])


# Handled at once (Intake.receive): while nothing stored waits, a fetched update is handled
# without being stored, and the offset moves past it in the handler's own transaction.

async def _offset(db: Database) -> int | None:
    async with db.transaction() as session:
        row = await session.get(Setting, intake_module.OFFSET_KEY)
    return int(row.value) if row else None


async def _store_seen_empty(intake: Intake) -> None:
    assert await intake.process_pending() == 0


async def test_a_fetched_update_is_handled_without_a_stored_copy_and_moves_the_offset(
        rig: tuple[Database, Handler, Intake, Seconds]) -> None:
    db, _app, intake, _seconds = rig
    await _store_seen_empty(intake)
    await intake.receive([message(1, CHAT_A), message(2, CHAT_B)])
    assert await _rows(db) == ([], ["handled 1", "handled 2"])
    assert await _order(db) == [1, 2]
    assert await _offset(db) == 3


async def test_before_the_store_was_seen_empty_fetched_updates_are_stored_first(
        rig: tuple[Database, Handler, Intake, Seconds]) -> None:
    db, _app, intake, _seconds = rig
    await intake.receive([message(1, CHAT_A)])  # just started: an earlier run may have left some
    assert await _rows(db) == ([1], [])
    assert await intake.process_pending() == 1
    await intake.receive([message(2, CHAT_A)])  # that pass found one: not seen empty yet
    assert await _rows(db) == ([2], ["handled 1"])
    assert await intake.process_pending() == 1
    await _store_seen_empty(intake)
    await intake.receive([message(3, CHAT_A)])
    assert await _rows(db) == ([], ["handled 1", "handled 2", "handled 3"])
    assert await _order(db) == [1, 2, 3]


async def test_the_first_fetched_update_that_fails_is_stored_with_the_rest_and_they_keep_order(
        rig: tuple[Database, Handler, Intake, Seconds]) -> None:
    db, app, intake, seconds = rig
    await _store_seen_empty(intake)
    app.poison = {2}
    await intake.receive([message(1, CHAT_A), message(2, CHAT_A), message(3, CHAT_B)])
    assert await _rows(db) == ([2, 3], ["handled 1"])
    assert (await _stored(db, 2)).attempts == 1  # its failure counted like a stored one's
    assert await _offset(db) == 4  # confirmed: the stored copies keep them
    await intake.receive([message(4, CHAT_A)])  # stored behind its chat's failing update
    assert await _rows(db) == ([2, 3, 4], ["handled 1"])
    assert await intake.process_pending() == 1  # chat B goes on; A waits for its pause
    app.poison = set()
    seconds.now += 1
    assert await intake.process_pending() == 2
    assert await _order(db) == [1, 3, 2, 4]


async def test_a_fetched_update_another_instance_moved_past_is_not_handled_again(
        rig: tuple[Database, Handler, Intake, Seconds]) -> None:
    db, _app, intake, _seconds = rig
    await _store_seen_empty(intake)
    async with db.transaction() as session:  # another instance polled meanwhile and stored it
        session.add(Setting(key=intake_module.OFFSET_KEY, value="6"))
    await intake.receive([message(5, CHAT_A), message(6, CHAT_A)])
    assert await _rows(db) == ([], ["handled 6"])  # 5: its own handling rolled back
    assert await _order(db) == [6]
    assert await _offset(db) == 7


async def test_the_offset_moves_past_fetched_updates_that_wrote_nothing(
        rig: tuple[Database, Handler, Intake, Seconds]) -> None:
    db, app, intake, _seconds = rig
    await _store_seen_empty(intake)

    async def nothing(_update: Any) -> None:
        return None

    app.process_update = nothing  # type: ignore[method-assign]
    await intake.receive([message(8, CHAT_A), message(9, CHAT_B)])
    assert await _rows(db) == ([], [])
    assert await _offset(db) == 10
