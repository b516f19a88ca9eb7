"""PRODUCT.md §2.7 and §5 end to end: logs without contents, the family's export and erasure,
and the retention purge on the simulated clock."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from bot.app import Runtime
from bot.clock import ManualClock
from bot.outbox.ratelimit import RateLimiter
from bot.settings import Settings
from bot.simulator import LocalBotApi
from storage.models import (
    Base,
    FamilyMessage,
    InboundUpdate,
    Invite,
    Member,
    Outbox,
    PendingInput,
    RelayLink,
)
from tests import forensics
from tests.conftest import TEST_KEY
from tests.e2e.conftest import (
    WEDNESDAY_MORNING,
    Harness,
    LocalUser,
    count_rows,
    move_clock,
)

ALIAS = "Gezin Zonnebloem"


def everything_stored(rows: dict[str, list[tuple[Any, ...]]]) -> list[str]:
    return [f"{table}: {row!r}" for table, found in rows.items() for row in found]


async def all_rows(harness: Harness) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, contents decrypted (the Sealed columns read back as text)."""
    rows: dict[str, list[tuple[Any, ...]]] = {}
    async with harness.runtime.db.transaction() as session:
        for table in Base.metadata.sorted_tables:
            rows[table.name] = [tuple(r) for r in (await session.execute(select(table))).all()]
    return rows


def traces_of(rows: dict[str, list[tuple[Any, ...]]], words: list[str], chat_id: int
              ) -> list[str]:
    """Rows that still hold one of these words, or this chat id (as a value or inside one)."""
    number = re.compile(rf"(?<!\d){chat_id}(?!\d)")
    found = []
    for line, row in ((f"{t}: {r!r}", r) for t, rs in rows.items() for r in rs):
        if any(w in line for w in words) or chat_id in row or any(
                isinstance(v, str | dict | list) and number.search(str(v)) for v in row):
            found.append(line)
    return found


# /stoppen while the coach blocked the bot ---------------------------------------------------------
GONE = ("Gezin J.: iemand uit het gezin is gestopt met Gezinslijn. De gegevens en berichten "
        "zijn gewist.")


async def _leave_quietly(person: LocalUser) -> None:
    start = len(person.inbox())
    person.send_text("/stoppen")
    question = await person.wait_for(lambda m: "Wil je stoppen" in m.text, after=start)
    person.press("✅ Ja, stop en wis alles", on=question)
    await person.wait_for(lambda m: "Je bent gestopt" in m.text, after=start)


@pytest.mark.parametrize("how", ["found-by-the-403", "known-blocked", "behind-a-parked-copy"])
async def test_a_coach_who_blocked_the_bot_hears_someone_left_without_her_name_staying(
        harness: Harness, how: str) -> None:
    """The coach is told the person left (PRODUCT.md §2.7), also when the bot cannot reach
    them now: once they can, they read that someone of the family stopped. Her name goes with
    the send that could not be made: it does not wait in the outbox for the coach's return."""
    _carla, sanne, marieke = await harness.onboard()
    ahmed = harness.api.user("Ahmed")
    await harness.join(ahmed, await harness.link_from(sanne, "/uitnodiging Gezin J."))
    await harness.settle()
    sanne.block_bot()
    if how == "known-blocked":
        await harness.settle()  # the bot took the block in
    else:
        harness.api.drop_pending_updates()  # the bot learns it only from the 403
    if how == "behind-a-parked-copy":  # the 403 came on a copy, which waits for Sanne
        start = len(ahmed.inbox())
        ahmed.send_text("bericht van Ahmed")
        await ahmed.wait_for(lambda m: "nog niet bij Sanne" in m.text, after=start)
    await _leave_quietly(marieke)
    if how != "behind-a-parked-copy":
        await harness.settle()
    deadline = time.monotonic() + 10
    # (there Ahmed's ✓ waits for his copy: never settled; her last sends go on a moment)
    while (left := traces_of(await all_rows(harness), ["Marieke"], marieke.chat_id)) \
            and time.monotonic() < deadline:
        await harness.api.changed.wait(0.1)
    assert left == [], "\n".join(left)

    start = len(sanne.inbox())
    sanne.unblock_bot()
    told = await sanne.wait_for(lambda m: "is gestopt" in m.text, after=start)
    assert told.text == GONE
    await harness.settle()
    assert not [m for m in sanne.inbox() if "Marieke is gestopt" in m.text]
    if how == "behind-a-parked-copy":
        assert [m.text.endswith("bericht van Ahmed") for m in sanne.inbox()[start:]
                if "Ahmed" in m.text or "gestopt" in m.text] == [True, False]  # in order


# Logs ---------------------------------------------------------------------------------------------
@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """The product's own logging set-up at its most talkative (GEZINSLIJN_LOG_LEVEL=DEBUG),
    captured from before the bot starts."""
    from bot.cli import _logging

    touched = ["httpx", "httpcore", "telegram", "sqlalchemy", "aiosqlite", "asyncpg",
               "apscheduler", "aiohttp"]
    levels = {name: logging.getLogger(name).level for name in touched}
    _logging(Settings(log_level="DEBUG"))
    caplog.set_level(logging.DEBUG)
    for name in ("bot", "handlers", "storage"):
        caplog.set_level(logging.DEBUG, logger=name)
    yield caplog
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


async def test_a_whole_journey_logs_no_contents_names_aliases_or_tokens(
        debug_logs: pytest.LogCaptureFixture, harness: Harness) -> None:
    tokens = [await harness.invite_coordinator()]
    carla = harness.api.user("Carla")
    await harness.join(carla, tokens[0])
    sanne = harness.api.user("Sanne")
    tokens.append(await harness.link_from(carla, "/coachuitnodigen"))
    await harness.join(sanne, tokens[-1])
    marieke = harness.api.user("Marieke")
    tokens.append(await harness.link_from(sanne, f"/nieuwgezin {ALIAS} | Marieke | moeder"))
    await harness.join(marieke, tokens[-1])
    tokens.append(await harness.link_from(sanne, f"/uitnodiging {ALIAS} | Ahmed | vader"))

    contents = ["De deurwaarder stond vanochtend voor de deur", "foto van de aanmaning",
                "Ik bel je vanmiddag om drie uur", "huisbezoek met de schuldhulp",
                "Dorpsstraat 17", "zelfmoord"]
    start = len(sanne.inbox())
    marieke.send_text(contents[0])
    marieke.send_photo(caption=contents[1])
    copy = await sanne.wait_for(lambda m: contents[0] in m.text, after=start)
    m_start = len(marieke.inbox())
    sanne.send_text(contents[2], reply_to=copy)
    await marieke.wait_for(lambda m: contents[2] in m.text, after=m_start)
    sanne.send_text(f"/afspraak {ALIAS} | morgen 14:00 | {contents[3]} | {contents[4]}")
    check = await sanne.wait_for(lambda m: "Klopt dit?" in m.text, after=start)
    sanne.press("✅ Klopt, opslaan", on=check)
    await sanne.wait_for(lambda m: m.text.startswith("Opgeslagen"), after=start)
    marieke.send_text(f"ik denk aan {contents[5]}")  # crisis words: flagged, 112 shown
    await marieke.wait_for(lambda m: "112" in m.text, after=m_start)
    sanne.send_text("/agenda")
    carla.send_text("/overzicht")
    marieke.send_text("/mijngegevens")
    await marieke.wait_for(lambda m: m.kind == "document", after=m_start)
    marieke.send_text("/stoppen")
    question = await marieke.wait_for(lambda m: "Wil je stoppen" in m.text, after=m_start)
    marieke.press("✅ Ja, stop en wis alles", on=question)
    await sanne.wait_for(lambda m: "Marieke is gestopt" in m.text, after=start)
    await harness.api.idle()
    await harness.runtime.stop()  # the shutdown's logs too

    secrets = [*contents, "Marieke", "Sanne", "Carla", "Ahmed", "moeder", ALIAS, "Zonnebloem",
               *tokens, harness.api.token, harness.api.token.split(":", 1)[1], TEST_KEY]
    records = [r for phase in ("setup", "call") for r in debug_logs.get_records(phase)
               # The local Bot API server stands in for Telegram: its logs are not the bot's.
               if not r.name.startswith("bot.simulator")]
    assert any(r.name.startswith(("bot.", "handlers.")) for r in records)  # it did log
    formatter = logging.Formatter()
    leaks = []
    for record in records:
        text = record.getMessage()
        if record.exc_info:
            text += formatter.formatException(record.exc_info)
        leaks += [f"{record.name} {record.levelname}: {s!r} in {text[:200]!r}"
                  for s in secrets if s in text]
    by_logger = sorted({leak.split(" ", 1)[0] for leak in leaks})
    assert leaks == [], f"{len(leaks)} leaks, from {by_logger}; first: {leaks[:3]}"


# /mijngegevens, then /stoppen ---------------------------------------------------------------------
async def test_export_then_leave_erases_the_member_and_tells_the_coach(harness: Harness
                                                                       ) -> None:
    carla, sanne, marieke = await harness.onboard()
    ahmed = harness.api.user("Ahmed", language_code="en")
    await harness.join(ahmed, await harness.link_from(sanne, "/uitnodiging Gezin J. | Ahmed | "
                                                             "vader"), "en")
    words = ["The rent letter came today", "photo of the rent letter", "Ik kijk er morgen naar"]
    start = len(sanne.inbox())
    ahmed.send_text(words[0])
    ahmed.send_photo(caption=words[1])
    marieke.send_text("Bericht van Marieke zelf")
    copy = await sanne.wait_for(lambda m: words[0] in m.text, after=start)
    a_start = len(ahmed.inbox())
    sanne.send_text(words[2], reply_to=copy)
    await ahmed.wait_for(lambda m: words[2] in m.text, after=a_start)
    sanne.send_text("/afspraak Gezin J. | morgen 14:00 | huisbezoek | Dorpsstraat 5")
    check = await sanne.wait_for(lambda m: "Klopt dit?" in m.text, after=start)
    sanne.press("✅ Klopt, opslaan", on=check)
    await sanne.wait_for(lambda m: m.text.startswith("Opgeslagen"), after=start)
    # Who looked: the coach's agenda and caseload, the coordinator's overview.
    sanne.send_text("/agenda")
    sanne.send_text("/gezinnen")
    carla.send_text("/overzicht")
    await carla.wait_for(lambda m: "Overzicht per coach" in m.text)
    await harness.api.idle()

    ahmed.send_text("/mydata")
    export = await ahmed.wait_for(lambda m: m.kind == "document", after=a_start)
    text = harness.api.file_content(export).decode("utf-8")
    assert export.text == "This is everything Gezinslijn keeps about you."
    for expected in ("what we keep about you", "Ahmed", "vader", "Gezin J.", "English",
                     words[0], words[1], "huisbezoek", "Dorpsstraat 5", "Sanne"):
        assert expected in text, expected
    assert "Marieke" not in text  # another member's messages are theirs
    looked = text.split("Who else looked")[1].split("\n\n")[0]
    lines = looked.strip().splitlines()[1:]
    assert len(lines) == 3, looked  # the agenda, the caseload and the overview
    assert sorted(line.split(": ", 1)[1] for line in lines) == [
        "Carla — the coordinator's overview", "Sanne — the coach's agenda",
        "Sanne — the coach's list of families"]
    assert not re.search(r"\b(op verzoek|overzicht|coördinator)\b", looked), looked  # English

    ahmed.send_text("/leave")
    question = await ahmed.wait_for(lambda m: len(m.buttons) == 2, after=a_start)
    ahmed.press("✅", on=question)
    told = await sanne.wait_for(lambda m: "Ahmed is gestopt" in m.text, after=start)
    assert told.text == ("Gezin J.: Ahmed is gestopt met Gezinslijn. De gegevens en berichten "
                         "zijn gewist.")
    await ahmed.wait_for(lambda m: m.text.startswith("You have stopped. We have deleted your "
                                                     "data and messages."), after=a_start)
    await harness.api.idle()

    left = traces_of(await all_rows(harness), ["Ahmed", "vader", *words], ahmed.chat_id)
    assert left == [], "\n".join(left)
    # The rest of the family is untouched.
    assert await count_rows(harness, Member, Member.chat_id == marieke.chat_id) == 1
    assert [m.body for m in await _messages(harness)] == ["Bericht van Marieke zelf"]


# Retention --------------------------------------------------------------------------------------
@pytest.fixture
async def short_memory(api: LocalBotApi, db_url: str, tmp_path: Path,
                       monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Harness]:
    """The bot with GEZINSLIJN_RETENTION_DAYS=10 from the environment."""
    monkeypatch.delenv("GEZINSLIJN_RETENTION_DAYS", raising=False)
    assert Settings().retention_days == 30  # the default
    monkeypatch.setenv("GEZINSLIJN_RETENTION_DAYS", "10")
    settings = Settings(telegram_token=api.token, telegram_api_url=api.base_url,
                        database_url=db_url, encryption_key=TEST_KEY,
                        key_file=tmp_path / "unused.key")
    assert settings.retention_days == 10
    clock = ManualClock(WEDNESDAY_MORNING)
    runtime = Runtime(settings, clock, limiter=RateLimiter(enabled=False), poll_timeout=1,
                      dispatcher_poll=0.05)
    await runtime.start()
    try:
        yield Harness(api, runtime, clock)
    finally:
        await runtime.stop()


async def _messages(harness: Harness) -> list[FamilyMessage]:
    async with harness.runtime.db.transaction() as session:
        return list((await session.scalars(select(FamilyMessage).order_by(FamilyMessage.id))).all())


async def test_the_purge_removes_old_contents_and_keeps_what_the_agenda_needs(
        short_memory: Harness) -> None:
    harness = short_memory
    _carla, sanne, marieke = await harness.onboard()
    start = len(sanne.inbox())
    marieke.send_text("Oud bericht over de huur")
    marieke.send_photo(caption="oude foto")
    old_copy = await sanne.wait_for(lambda m: "Oud bericht" in m.text, after=start)
    m_start = len(marieke.inbox())
    sanne.send_text("Oud antwoord", reply_to=old_copy)
    await marieke.wait_for(lambda m: "Oud antwoord" in m.text, after=m_start)
    # A step the coach never finished, with words in it; an invite no one used.
    sanne.send_text("/afspraak Gezin J. | 32/13 | geheim gesprek")
    await sanne.wait_for(lambda m: "Probeer het nog eens" in m.text, after=start)
    await harness.link_from(sanne, "/uitnodiging Gezin J. | Fatima | oma")
    await harness.api.idle()

    # Eight days on: a new message. Nothing is old enough yet.
    await move_clock(harness, WEDNESDAY_MORNING + timedelta(days=8))
    start = len(sanne.inbox())
    marieke.send_text("Nieuw bericht")
    await sanne.wait_for(lambda m: "Nieuw bericht" in m.text, after=start)
    await harness.api.idle()
    before = [(m.id, m.kind, m.received_at, m.status, m.delivered_at, m.answered_at)
              for m in await _messages(harness)]
    assert [m.body for m in await _messages(harness)] == [
        "Oud bericht over de huur", "oude foto", "Nieuw bericht"]

    # Eleven days after the first: its contents are gone, its traces for the agenda stay.
    await move_clock(harness, WEDNESDAY_MORNING + timedelta(days=11))
    rows = await _messages(harness)
    gone = [(m.body, m.chat_id, m.telegram_message_id) for m in rows[:2]]
    assert gone == [(None, None, None)] * 2
    assert rows[2].body == "Nieuw bericht" and rows[2].chat_id == marieke.chat_id
    assert [(m.id, m.kind, m.received_at, m.status, m.delivered_at, m.answered_at)
            for m in rows] == before
    async with harness.runtime.db.transaction() as session:
        from storage.models import Family

        family = await session.scalar(select(Family))
        assert family is not None
        assert family.last_contact_at == WEDNESDAY_MORNING + timedelta(days=8)
        invite = await session.scalar(select(Invite).where(Invite.member_role == "oma"))
    assert await count_rows(harness, PendingInput) == 0
    assert invite is None  # the name on the unused (long expired) invite is gone
    stored = "\n".join(everything_stored(await all_rows(harness)))
    for old in ("Oud bericht", "oude foto", "Oud antwoord", "geheim gesprek", "Fatima"):
        assert old not in stored, old
    assert "Nieuw bericht" in stored
    # The old copy can no longer be answered: its link to the family is gone too.
    assert await count_rows(harness, RelayLink, RelayLink.message_id == old_copy.message_id) == 0
    assert await count_rows(harness, Outbox, Outbox.created_at < WEDNESDAY_MORNING
                            + timedelta(days=1)) == 0
    s_start = len(sanne.inbox())
    sanne.send_text("Nog een antwoord", reply_to=old_copy)
    await sanne.wait_for(lambda m: m.text.startswith("Stuur naar Gezin J.?"), after=s_start)

    # The agenda still knows the family and when it last had contact.
    sanne.send_text("/gezinnen")
    listing = await sanne.wait_for(lambda m: "Je gezinnen" in m.text, after=s_start)
    assert "laatste contact" in listing.text

    # And ten days after the newest, that one goes the same way.
    await move_clock(harness, WEDNESDAY_MORNING + timedelta(days=19))
    assert [m.body for m in await _messages(harness)] == [None, None, None]
    assert len(await _messages(harness)) == 3


async def test_the_purge_removes_past_appointments_and_finished_agreements(
        short_memory: Harness) -> None:
    from storage.models import ActionItem, Appointment, Family, Reminder
    from tests.e2e.test_reminders import _plan

    harness = short_memory
    _carla, sanne, _marieke = await harness.onboard()
    await _plan(harness, sanne, "Gezin J. | morgen 14:00 | gesprek over de schulden")
    await _plan(harness, sanne, "Gezin J. | 20/12 10:00 | school")
    async with harness.runtime.db.transaction() as session:
        family = await session.scalar(select(Family))
        assert family is not None
        for status, what in (("done", "woonbonnen posten"), ("cancelled", "kast opruimen"),
                             ("open", "huur betalen")):
            session.add(ActionItem(
                family_id=family.id, what=what, due_date=WEDNESDAY_MORNING.date(),
                status=status, created_at=WEDNESDAY_MORNING,
                done_at=WEDNESDAY_MORNING if status == "done" else None))
    assert await count_rows(harness, Reminder) == 4

    # Ten days after the first appointment: not yet.
    await move_clock(harness, WEDNESDAY_MORNING + timedelta(days=10))
    assert await count_rows(harness, Appointment) == 2
    # Twelve days on: the past appointment, its reminders and the finished agreements are gone;
    # what is still ahead stays.
    await move_clock(harness, WEDNESDAY_MORNING + timedelta(days=12))
    async with harness.runtime.db.transaction() as session:
        left = [a.what for a in (await session.scalars(select(Appointment))).all()]
        items = [i.what for i in (await session.scalars(select(ActionItem))).all()]
        reminders = (await session.scalars(select(Reminder))).all()
    assert left == ["school"]
    assert items == ["huur betalen"]
    assert reminders and all(r.appointment_id is not None for r in reminders)
    stored = "\n".join(everything_stored(await all_rows(harness)))
    for old in ("schulden", "woonbonnen", "kast opruimen"):
        assert old not in stored, old


async def test_after_stoppen_nothing_of_hers_can_be_read_from_the_sqlite_files(
        harness: Harness) -> None:
    """Issue 15: read as someone holding the files and the master key would (tests/forensics):
    before /stoppen her name and her message can be read from the database files; after it,
    from none of `*.db`, `*.db-wal`, `*.db-shm`, whatever key bytes the key store's files
    still hold (crypto-shredding, secure_delete, the write-ahead logs emptied)."""
    url = harness.runtime.settings.database_url
    if not url.startswith("sqlite"):
        return  # PostgreSQL: test_a_backup_taken_before_an_erasure_reveals_nothing_after_it
    _carla, sanne, _marieke = await harness.onboard()
    zeynep = harness.api.user("Zeynepnaam")
    await harness.join(zeynep, await harness.link_from(sanne, "/uitnodiging Gezin J."))
    start = len(sanne.inbox())
    zeynep.send_text("Een bericht van Zeynep")
    await sanne.wait_for(lambda m: "Een bericht van Zeynep" in m.text, after=start)
    await harness.settle()

    def readable() -> str:
        data = Path(url.removeprefix("sqlite:///"))
        keys = Path(make_url(harness.runtime.db.keystore.url).database or "")
        assert keys != data and keys.exists()
        return forensics.readable(forensics.files_bytes(forensics.sqlite_files(data)),
                                  forensics.files_bytes(forensics.sqlite_files(keys)),
                                  [TEST_KEY])

    before = readable()
    assert "Zeynepnaam" in before and "Een bericht van Zeynep" in before  # the test can fail
    assert "Zeynepnaam" not in forensics.readable(
        forensics.files_bytes(forensics.sqlite_files(Path(url.removeprefix("sqlite:///")))),
        b"", [])  # sealed: not in the bytes as they are

    z_start = len(zeynep.inbox())
    zeynep.send_text("/stoppen")
    question = await zeynep.wait_for(lambda m: "Wil je stoppen" in m.text, after=z_start)
    zeynep.press("✅ Ja, stop en wis alles", on=question)
    await zeynep.wait_for(lambda m: "Je bent gestopt" in m.text, after=z_start)
    await harness.settle()
    after = readable()
    assert "Zeynepnaam" not in after
    assert "Een bericht van Zeynep" not in after
    assert "Gezin J." in after  # the family stays, readable with its new key


async def test_a_stranger_trying_tokens_leaves_no_row_naming_their_chat(harness: Harness
                                                                         ) -> None:
    """Issue 15, item 6: 30 made-up tokens get one answer (not 30: no amplifier), and once it
    is sent no row in the database holds the stranger's chat id."""
    await harness.onboard()
    vera = harness.api.user("Vera")
    for n in range(30):
        vera.send_text(f"/start bogus{n:02d}token")
    await vera.wait_for(lambda m: "Deze link werkt niet" in m.text)
    await harness.settle()
    assert len(vera.inbox()) == 1, [m.text[:40] for m in vera.inbox()]
    async with harness.runtime.db.transaction() as session:
        rows = (await session.scalars(select(Outbox.id).where(
            Outbox.chat_id == vera.chat_id))).all()
        updates = (await session.scalars(select(InboundUpdate.update_id))).all()
    assert rows == [] and updates == []
