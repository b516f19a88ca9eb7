"""Issue 15: erasure reaches copies too (crypto-shredding). A pg_dump taken before a person leaves,
restored afterwards, reveals neither her name nor her messages; and the master key can be
rotated while the bot works, after which the old key is not needed for anything."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from bot.app import Runtime
from bot.clock import ManualClock
from bot.outbox.ratelimit import RateLimiter
from bot.settings import Settings
from bot.simulator import LocalBotApi
from storage import crypto, keystore
from storage.db import Database
from storage.models import Family, FamilyMessage, Member
from storage.rotation import MASTER_PREFIX, rotate_master_key, sealed_columns
from tests import forensics
from tests.conftest import POSTGRES_URL, TEST_KEY, _create_pg_database, _drop_pg_database
from tests.e2e.conftest import WEDNESDAY_MORNING, Harness, LocalUser


async def _join_and_write(harness: Harness, name: str, words: str) -> LocalUser:
    _carla, sanne, _marieke = await harness.onboard()
    person = harness.api.user(name)
    await harness.join(person, await harness.link_from(sanne, "/uitnodiging Gezin J."))
    start = len(sanne.inbox())
    person.send_text(words)
    await sanne.wait_for(lambda m: words in m.text, after=start)
    await harness.settle()
    return person


async def _leave(person: LocalUser, harness: Harness) -> None:
    start = len(person.inbox())
    person.send_text("/stoppen")
    question = await person.wait_for(lambda m: "Wil je stoppen" in m.text, after=start)
    person.press("✅ Ja, stop en wis alles", on=question)
    await person.wait_for(lambda m: "Je bent gestopt" in m.text, after=start)
    await harness.settle()


# A backup from before ----------------------------------------------------------------------------
@pytest.fixture
async def keys_apart(api: LocalBotApi, tmp_path: Path) -> AsyncIterator[Harness]:
    """The bot on PostgreSQL with its key store in a database of its own (docs/privacy.md)."""
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL tests skipped: set GEZINSLIJN_TEST_POSTGRES_URL (CI does)")
    data_url = await _create_pg_database()
    keys_url = await _create_pg_database()
    settings = Settings(telegram_token=api.token, telegram_api_url=api.base_url,
                        database_url=data_url, keystore_url=keys_url, encryption_key=TEST_KEY,
                        key_file=tmp_path / "unused.key")
    runtime = Runtime(settings, ManualClock(WEDNESDAY_MORNING),
                      limiter=RateLimiter(enabled=False), poll_timeout=1, dispatcher_poll=0.05)
    await runtime.start()
    try:
        yield Harness(api, runtime, runtime.clock)  # type: ignore[arg-type]
    finally:
        await runtime.stop()
        await _drop_pg_database(data_url)
        await _drop_pg_database(keys_url)


async def _run(*command: str) -> bytes:
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    return out


def _pg_args(url: str) -> list[str]:
    parsed = make_url(url)
    return ["-h", parsed.host or "127.0.0.1", "-p", str(parsed.port or 5432),
            "-U", parsed.username or "postgres"]


async def _restore(dump: bytes, tmp_path: Path) -> str:
    url = await _create_pg_database(f"gl_restored_{uuid.uuid4().hex[:8]}")
    path = tmp_path / f"{uuid.uuid4().hex}.sql"
    await asyncio.to_thread(path.write_bytes, dump)
    await _run("psql", *_pg_args(url), "-q", "-v", "ON_ERROR_STOP=1", "-d",
               make_url(url).database or "", "-f", str(path))
    return url


async def _names_and_contents(data_url: str, keys_url: str) -> str:
    """What the bot itself would read from these data with today's key store."""
    keystore.forget_cached()
    db = Database(data_url, keys_url)
    try:
        async with db.transaction() as session:
            members = (await session.scalars(select(Member))).all()
            families = (await session.scalars(select(Family))).all()
            messages = (await session.scalars(select(FamilyMessage))).all()
            return "\n".join([*(m.first_name for m in members), *(f.alias for f in families),
                              *(m.body or "" for m in messages)])
    finally:
        await db.dispose()


async def _wrapped_keys(keys_url: str) -> bytes:
    db = Database(keys_url, keys_url)
    try:
        async with db.engine.connect() as connection:
            rows = (await connection.execute(text("SELECT wrapped FROM data_key"))).all()
        return "\n".join(r[0] for r in rows).encode()
    finally:
        await db.dispose()


async def test_a_backup_taken_before_an_erasure_reveals_nothing_after_it(
        keys_apart: Harness, tmp_path: Path) -> None:
    harness = keys_apart
    zeynep = await _join_and_write(harness, "Zeynepnaam", "Een bericht van Zeynep")
    data_url = harness.runtime.settings.database_url
    keys_url = harness.runtime.settings.keystore_url
    dump = await _run("pg_dump", *_pg_args(data_url), "--no-owner",
                      make_url(data_url).database or "")
    assert b"Zeynepnaam" not in dump and b"Een bericht van Zeynep" not in dump  # sealed

    restored = await _restore(dump, tmp_path)
    try:
        # Before the erasure the backup is a working backup (the test can fail).
        seen = await _names_and_contents(restored, keys_url)
        assert "Zeynepnaam" in seen and "Een bericht van Zeynep" in seen and "Gezin J." in seen
        readable = forensics.readable(dump, await _wrapped_keys(keys_url), [TEST_KEY])
        assert "Zeynepnaam" in readable

        await _leave(zeynep, harness)

        # The same backup, restored after the erasure: her name and words are gone from it,
        # read by the bot or byte by byte with the master key and every key still stored.
        seen = await _names_and_contents(restored, keys_url)
        assert "Zeynepnaam" not in seen and "Een bericht van Zeynep" not in seen
        readable = forensics.readable(dump, await _wrapped_keys(keys_url), [TEST_KEY])
        assert "Zeynepnaam" not in readable and "Een bericht van Zeynep" not in readable
        # The live family goes on, readable with its new key.
        live = await _names_and_contents(data_url, keys_url)
        assert "Gezin J." in live and "Marieke" in live and "Zeynepnaam" not in live
    finally:
        await _drop_pg_database(restored)


# Key rotation ------------------------------------------------------------------------------------
async def test_rotate_key_while_messages_flow_then_the_old_key_can_go(harness: Harness) -> None:
    _carla, sanne, marieke = await harness.onboard()
    new_key = Fernet.generate_key().decode()
    crypto.configure([new_key, TEST_KEY])  # step 2 of the README: the new key first
    try:
        start = len(sanne.inbox())
        words = [f"Bericht nummer {n}" for n in range(20)]
        for line in words[:10]:
            marieke.send_text(line)
        rotation = asyncio.create_task(rotate_master_key(harness.runtime.db))
        for line in words[10:]:
            marieke.send_text(line)
        done = await rotation
        await sanne.wait_for(lambda m: words[-1] in m.text, after=start)
        await harness.settle()
        assert done.data_keys >= 1

        # Step 3: only the new key; a fresh process (nothing cached) reads everything.
        crypto.configure([new_key])
        keystore.forget_cached()
        async with harness.runtime.db.transaction() as session:
            aliases = [f.alias for f in (await session.scalars(select(Family))).all()]
            names = [m.first_name for m in (await session.scalars(select(Member))).all()]
            bodies = [m.body for m in (await session.scalars(select(FamilyMessage))).all()]
        assert "Gezin J." in aliases and all(aliases)
        assert "Marieke" in names and all(names)
        assert set(words) <= set(bodies)
        assert not await _sealed_with(harness.runtime.db, TEST_KEY)

        # And the bot goes on with the new key alone.
        start = len(sanne.inbox())
        marieke.send_text("Na het wisselen van de sleutel")
        await sanne.wait_for(lambda m: "Na het wisselen" in m.text, after=start)
    finally:
        crypto.configure([TEST_KEY])


async def _sealed_with(db: Database, key: str) -> list[str]:
    """Stored values (data and key store) that the given master key still opens."""
    old = Fernet(key)
    found = []
    async with db.engine.connect() as connection:
        for table, column in sealed_columns():
            values = (await connection.execute(text(
                f"SELECT {column} FROM {table.name} WHERE {column} LIKE '{MASTER_PREFIX}%'"
            ))).scalars().all()
            found += [f"{table.name}.{column}" for v in values if _opens(old, v)]
    async with db.keystore.engine.connect() as connection:
        wrapped = (await connection.execute(text("SELECT wrapped FROM data_key"))).scalars()
        found += ["data_key.wrapped" for v in wrapped.all() if _opens(old, v)]
    return found


def _opens(key: Fernet, value: str) -> bool:
    try:
        key.decrypt(value.encode())
    except InvalidToken:
        return False
    return True
