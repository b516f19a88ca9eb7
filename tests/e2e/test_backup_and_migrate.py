"""Issue 17, item 3 and the move of item 4: `gezinslijn admin backup` copies a running bot's SQLite
database and key store, and the copy runs a bot; `gezinslijn admin migrate-to` moves a stopped
bot's SQLite database to PostgreSQL with nothing lost, sealed values as they were."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from bot import admin_data, cli
from bot.app import Runtime
from bot.outbox.ratelimit import RateLimiter
from bot.settings import Settings
from storage import backup as copies
from storage import keystore
from storage.db import Database
from storage.keystore import keystore_url
from storage.models import (
    ActionItem,
    Appointment,
    Family,
    FamilyMessage,
    Invite,
    Member,
    Outbox,
)
from storage.repos import families
from tests.conftest import TEST_KEY
from tests.e2e.conftest import (
    Harness,
    LocalUser,
    family_named,
)

SQLITE_ONLY = pytest.mark.parametrize("migrated_db_url", ["sqlite"], indirect=True)


def _settings(harness: Harness, database_url: str, tmp_path: Path) -> Settings:
    return Settings(telegram_token=harness.api.token, telegram_api_url=harness.api.base_url,
                    database_url=database_url, encryption_key=TEST_KEY,
                    key_file=tmp_path / "unused.key")


@asynccontextmanager
async def _bot_on(harness: Harness, database_url: str, tmp_path: Path
                  ) -> AsyncIterator[Harness]:
    """A second bot, on another database, once the harness's own has stopped; it reads every
    data key from its own key store (nothing cached from the first)."""
    keystore.forget_cached()
    runtime = Runtime(_settings(harness, database_url, tmp_path), harness.clock,
                      limiter=RateLimiter(enabled=False), poll_timeout=1, dispatcher_poll=0.05)
    await runtime.start()
    try:
        yield Harness(harness.api, runtime, harness.clock)
    finally:
        await runtime.stop()


async def _readable(db: Database) -> dict[str, list[Any]]:
    """Every sealed value as the bot reads it (a value it cannot open reads as "")."""
    keystore.forget_cached()
    async with db.transaction() as session:
        async def values(*columns: Any) -> list[Any]:
            rows = (await session.execute(select(*columns))).all()
            return sorted((tuple(row) for row in rows), key=repr)

        return {
            "aliases": await values(Family.id, Family.alias),
            "members": await values(Member.id, Member.first_name, Member.role),
            "invites": await values(Invite.id, Invite.member_name, Invite.member_role),
            "bodies": await values(FamilyMessage.id, FamilyMessage.body),
            "appointments": await values(Appointment.id, Appointment.what, Appointment.place),
            "actions": await values(ActionItem.id, ActionItem.what),
            "outbox": await values(Outbox.id, Outbox.payload),
        }


def _checked(path: Path) -> None:
    with closing(sqlite3.connect(path)) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert copy.execute("PRAGMA foreign_key_check").fetchall() == []


def _env(monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path) -> None:
    for name in ("GEZINSLIJN_KEYSTORE_URL", "GEZINSLIJN_TELEGRAM_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GEZINSLIJN_DATABASE_URL", database_url)
    monkeypatch.setenv("GEZINSLIJN_ENCRYPTION_KEY", TEST_KEY)
    monkeypatch.setenv("GEZINSLIJN_KEY_FILE", str(tmp_path / "unused.key"))
    monkeypatch.setenv("GEZINSLIJN_LOG_LEVEL", "WARNING")


# Backup ------------------------------------------------------------------------------------------
@SQLITE_ONLY
async def test_a_backup_taken_during_a_burst_restores_to_a_working_bot(
        harness: Harness, tmp_path: Path) -> None:
    _carla, sanne, marieke = await harness.onboard()
    start = len(sanne.inbox())
    before = [f"Voor de back-up {n}" for n in range(5)]
    for line in before:
        marieke.send_text(line)
    await sanne.wait_for(lambda m: before[-1] in m.text, after=start)
    await harness.settle()

    burst = [f"Drukte {n:02d} klaar" for n in range(50)]
    start = len(sanne.inbox())
    for line in burst:
        marieke.send_text(line)
    await sanne.wait_for(lambda m: burst[0] in m.text, after=start)
    arrived = sum(any(line in m.text for line in burst) for m in sanne.inbox()[start:])
    assert arrived < len(burst)  # the backup is taken while the burst flows
    settings = _settings(harness, harness.runtime.settings.database_url, tmp_path)
    (tmp_path / "backups").mkdir()
    report = await admin_data.backup(settings, str(tmp_path / "backups" / "copy.db"))
    await sanne.wait_for(lambda m: burst[-1] in m.text, after=start)
    await harness.settle()
    await harness.runtime.stop()

    copy, keys = tmp_path / "backups" / "copy.db", tmp_path / "backups" / "copy-keys.db"
    assert f"to {copy} (integrity check: ok)" in report and f"to {keys} (" in report
    assert "encryption key" in report and "password manager" in report
    _checked(copy)
    _checked(keys)

    async with _bot_on(harness, f"sqlite:///{copy}", tmp_path) as restored:
        seen = await _readable(restored.runtime.db)
        assert [alias for _id, alias in seen["aliases"]] == ["Gezin J."]
        assert [(name, role) for _id, name, role in seen["members"]] == [("Marieke", "moeder")]
        bodies = [body for _id, body in seen["bodies"]]
        assert set(before) <= set(bodies)
        assert set(bodies) <= set(before) | set(burst)  # each one readable: none lost its key
        start = len(sanne.inbox())
        marieke.send_text("Na het terugzetten")
        await sanne.wait_for(lambda m: "Na het terugzetten" in m.text, after=start)


@SQLITE_ONLY
async def test_a_family_made_between_the_two_copies_can_be_read_from_the_backup(
        migrated_db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The key store is copied first, the data second: a key made in between is added to the
    copied store, or that family could not be read from the backup."""
    loop = asyncio.get_running_loop()
    db = Database(migrated_db_url)
    now = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)

    async def add(alias: str) -> None:
        async with db.transaction() as session:
            await families.add_family(session, alias, "NL", "Europe/Amsterdam", now)

    copy_one = copies._online_copy
    done: list[Path] = []

    def copy_then_add(source: Path, partial: Path) -> None:
        copy_one(source, partial)
        done.append(source)
        if len(done) == 1:  # the key store is copied: a family (and its key) arrives now
            asyncio.run_coroutine_threadsafe(add("Gezin Tussendoor"), loop).result()

    monkeypatch.setattr(copies, "_online_copy", copy_then_add)
    try:
        await add("Gezin Eerder")
        data = Path(make_url(migrated_db_url).database or "")
        target = tmp_path / "copy.db"
        done_backup = await copies.backup(data, target, (
            Path(str(data).replace(".db", "-keys.db")), tmp_path / "copy-keys.db"))
    finally:
        await db.dispose()
    assert done_backup.key_count == 2 and done[0].name.endswith("-keys.db")
    restored = Database(f"sqlite:///{target}")
    try:
        seen = await _readable(restored)
    finally:
        await restored.dispose()
    assert sorted(alias for _id, alias in seen["aliases"]) == ["Gezin Eerder", "Gezin Tussendoor"]


def test_backup_refuses_postgresql_and_an_existing_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
        ) -> None:
    _env(monkeypatch, "postgresql://gezinslijn@127.0.0.1/gezinslijn", tmp_path)
    assert cli.main(["admin", "backup", str(tmp_path / "copy.db")]) == 1
    err = capsys.readouterr().err
    assert "pg_dump" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "copy.db").exists()

    data = tmp_path / "live.db"
    for path in (data, Path(str(data).replace(".db", "-keys.db"))):
        with closing(sqlite3.connect(path)) as connection:
            connection.execute("CREATE TABLE t (x)")
    _env(monkeypatch, f"sqlite:///{data}", tmp_path)
    (tmp_path / "old.db").write_text("an earlier backup")
    (tmp_path / "keys-only-keys.db").write_text("an earlier key store")
    for name in ("old.db", "keys-only.db"):
        assert cli.main(["admin", "backup", str(tmp_path / name)]) == 1
        err = capsys.readouterr().err
        assert "is already there" in err and "Traceback" not in err
    assert (tmp_path / "old.db").read_text() == "an earlier backup"
    assert (tmp_path / "keys-only-keys.db").read_text() == "an earlier key store"
    assert not (tmp_path / "keys-only.db").exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


# migrate-to ----------------------------------------------------------------------------------
async def _journey(harness: Harness) -> tuple[LocalUser, LocalUser]:
    """A caseload with something in every kind of row: staff, a family and its member, messages
    and a reply, an appointment, an agreement, an invite, and outbox rows (one not sent)."""
    _carla, sanne, marieke = await harness.onboard()
    start, m_start = len(sanne.inbox()), len(marieke.inbox())
    for line in ("De huur is te laat", "Ik bel morgen de woningbouw"):
        marieke.send_text(line)
    copy = await sanne.wait_for(lambda m: "woningbouw" in m.text, after=start)
    sanne.send_text("Goed, succes!", reply_to=copy)
    await marieke.wait_for(lambda m: "Goed, succes!" in m.text, after=m_start)
    for command in ("/afspraak Gezin J. | morgen 14:00 | huisbezoek | Dorpsstraat 5",
                    "/actie Gezin J. | morgen | woonbonnen invullen"):
        begin = len(sanne.inbox())
        sanne.send_text(command)
        check = await sanne.wait_for(lambda m: "Klopt dit?" in m.text, after=begin)
        sanne.press("✅ Klopt, opslaan", on=check)
        await sanne.wait_for(lambda m: m.text.startswith("Opgeslagen"), after=begin)
    await harness.link_from(sanne, "/uitnodiging Gezin J. | Ahmed | vader")
    await harness.settle()
    now = harness.clock.now()
    async with harness.runtime.db.transaction() as session:
        family = await family_named(session, "Gezin J.")
        session.add(Outbox(chat_id=marieke.chat_id, method="sendMessage", purpose="relay",
                           payload={"chat_id": marieke.chat_id, "text": "Niet aangekomen"},
                           due_at=now - timedelta(hours=1), created_at=now, status="failed",
                           attempts=5, last_error="network", link_family_id=family.id))
    return sanne, marieke


@SQLITE_ONLY
async def test_migrate_to_moves_a_populated_sqlite_database_to_postgresql(
        harness: Harness, pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    sanne, marieke = await _journey(harness)
    source = harness.runtime.settings.database_url
    settings = _settings(harness, source, tmp_path)
    with pytest.raises(admin_data.Refused, match=r"bot is running on .*: stop it first"):
        await admin_data.migrate_to(settings, pg_url)
    await harness.runtime.stop()

    db = Database(source)
    try:
        expected = await _readable(db)
    finally:
        await db.dispose()
    assert expected["outbox"] and all(expected[k] for k in expected)
    assert any(payload for _id, payload in expected["outbox"])  # a sealed payload moves too
    _env(monkeypatch, source, tmp_path)
    assert await asyncio.to_thread(cli.main, ["admin", "migrate-to", pg_url]) == 0
    out = capsys.readouterr().out
    assert "family_message" in out and "data_key" in out and "GEZINSLIJN_DATABASE_URL" in out

    counts = await copies.count_rows(source)
    assert await copies.count_rows(pg_url) == counts
    assert counts["family_message"] >= 2 and counts["appointment"] == 1
    assert counts["action_item"] == 1 and counts["outbox"] >= 5
    assert await copies.filled_tables(pg_url, pg_url) == {
        **{name: count for name, count in counts.items() if count},
        "data_key": len(await _keys(source))}
    # Moved as stored: the sealed bytes are the same, not opened and sealed again.
    assert await _stored_aliases(source) == await _stored_aliases(pg_url)

    async with _bot_on(harness, pg_url, tmp_path) as moved:
        assert await _readable(moved.runtime.db) == expected
        start = len(sanne.inbox())
        marieke.send_text("Nu op PostgreSQL")
        await sanne.wait_for(lambda m: "Nu op PostgreSQL" in m.text, after=start)
        await moved.settle()

    # Once is enough: a target that holds data is refused, and left as it was.
    assert await asyncio.to_thread(cli.main, ["admin", "migrate-to", pg_url]) == 1
    err = capsys.readouterr().err
    assert "already holds data" in err and "Traceback" not in err
    assert (await copies.count_rows(pg_url))["family_message"] == counts["family_message"] + 1


async def _keys(url: str) -> set[str]:
    store = keystore.KeyStore(keystore_url(url))
    try:
        return await store.key_ids()
    finally:
        await store.dispose()


async def _stored_aliases(url: str) -> list[str]:
    db = Database(url)
    try:
        async with db.engine.connect() as connection:
            raw = copies.raw_table(Family.__table__)  # type: ignore[arg-type]
            return list((await connection.scalars(select(raw.c.alias).order_by(raw.c.id))).all())
    finally:
        await db.dispose()
