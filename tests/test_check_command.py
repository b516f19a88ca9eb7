"""`gezinslijn check`, and the same checks at the start of `gezinslijn run` (issue 17, item 1):
a database or Bot API that cannot be reached, a wrong token, a wrong key, a broken crisis file
each stop with one sentence naming the setting, never a traceback; `check` changes nothing.

The command runs in its own process (`python -m bot.cli`), configured only through the
environment, against a local Bot API server in this test process."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.simulator import LocalBotApi, load_facts
from storage import crypto
from storage.db import Database, make_engine
from storage.migrate import upgrade_async
from storage.models import Family
from tests.conftest import TEST_KEY, _pg_admin

ROOT = Path(__file__).resolve().parents[1]
FACTS = load_facts(ROOT / "tests" / "bot_api_facts.json")
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
LINES = ("settings", "crisis services", "database", "encryption key", "bot api", "clock")


@pytest.fixture
async def api() -> AsyncIterator[LocalBotApi]:
    server = LocalBotApi(facts=FACTS)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
    assert not server.violations, server.violations


def _env(api_url: str, token: str, db_url: str, tmp_path: Path, **more: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GEZINSLIJN_")}
    env.update({
        "GEZINSLIJN_TELEGRAM_TOKEN": token,
        "GEZINSLIJN_TELEGRAM_API_URL": api_url,
        "GEZINSLIJN_DATABASE_URL": db_url,
        "GEZINSLIJN_ENCRYPTION_KEY": TEST_KEY,
        "GEZINSLIJN_KEY_FILE": str(tmp_path / "unused.key"),
    })
    env.update({f"GEZINSLIJN_{name.upper()}": value for name, value in more.items()})
    return env


async def gezinslijn(command: str, env: dict[str, str]) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", command, cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        out, err = await asyncio.wait_for(process.communicate(), 60)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode is not None
    return process.returncode, out.decode(errors="replace"), err.decode(errors="replace")


def assert_refused(result: tuple[int, str, str], setting: str, *words: str) -> str:
    """Exit 2, no traceback, no library log lines, and one sentence naming `setting`."""
    code, out, err = result
    assert code == 2, (code, out, err)
    assert "Traceback" not in out + err, err
    assert " INFO alembic" not in err and " INFO sqlalchemy" not in err, err
    sentences = [line for line in err.splitlines() if line.startswith("gezinslijn: ")]
    assert len(sentences) == 1, err
    sentence = sentences[0]
    assert f"The setting {setting} " in sentence, sentence
    assert sentence.rstrip().endswith("."), sentence
    for word in words:
        assert word in sentence, sentence
    return sentence


async def _with_sealed_data(url: str) -> None:
    """A family whose alias is sealed with its data key (wrapped by TEST_KEY in the key store),
    and one from before data keys, its alias sealed with TEST_KEY itself."""
    db = Database(url)
    try:
        async with db.transaction() as session:
            session.add(Family(alias="Gezin Sleutel", created_at=NOW))
        async with db.engine.begin() as connection:
            await connection.execute(text(
                "INSERT INTO family (id, alias, region, timezone, open_on_holidays, "
                "oncall_agreed, active, created_at, review_frequency) VALUES "
                "(99, :alias, 'NL', 'Europe/Amsterdam', false, false, true, :t, 'never')"),
                {"alias": crypto.seal("Gezin Oud"), "t": NOW.replace(tzinfo=None)})
    finally:
        await db.dispose()


# Success --------------------------------------------------------------------------------------
async def test_check_on_a_good_setup_says_ok_for_every_check(
        api: LocalBotApi, migrated_db_url: str, tmp_path: Path) -> None:
    await _with_sealed_data(migrated_db_url)
    env = _env(api.base_url, api.token, migrated_db_url, tmp_path)
    code, out, err = await gezinslijn("check", env)
    assert (code, err) == (0, ""), (code, out, err)
    lines = out.splitlines()
    assert [line.split(":", 1)[0].split(None, 1)[1] for line in lines] == list(LINES), out
    assert all(line.startswith("ok ") for line in lines), out
    assert "migration" in out and "(latest)" in out
    # The family's wrapped data key, and the master-sealed alias from before data keys.
    assert "opens 2 of 2 sealed values" in out, out
    assert f"@{api.bot_username}" in out
    assert api.token not in out and TEST_KEY not in out
    assert "password" not in out
    # PostgreSQL with the key store in the data database: said, not failed (docs/privacy.md).
    assert ("GEZINSLIJN_KEYSTORE_URL a database of its own" in out) == \
        migrated_db_url.startswith("postgresql"), out


# The database ---------------------------------------------------------------------------------
@pytest.mark.parametrize("command", ["check", "run"])
async def test_an_unreachable_postgresql_is_one_sentence(
        command: str, api: LocalBotApi, tmp_path: Path) -> None:
    env = _env(api.base_url, api.token, "postgresql://postgres:geheim@127.0.0.1:1/x", tmp_path)
    sentence = assert_refused(await gezinslijn(command, env), "GEZINSLIJN_DATABASE_URL",
                              "127.0.0.1:1/x", "connection refused")
    assert "geheim" not in sentence


@pytest.mark.parametrize("command", ["check", "run"])
async def test_a_database_scheme_that_is_not_supported_is_one_sentence(
        command: str, api: LocalBotApi, tmp_path: Path) -> None:
    env = _env(api.base_url, api.token, "mysql://user@127.0.0.1/x", tmp_path)
    assert_refused(await gezinslijn(command, env), "GEZINSLIJN_DATABASE_URL", "mysql")


async def test_check_does_not_migrate_a_database_that_is_behind(
        api: LocalBotApi, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    await upgrade_async(url, "0009")
    env = _env(api.base_url, api.token, url, tmp_path)
    assert_refused(await gezinslijn("check", env), "GEZINSLIJN_DATABASE_URL",
                   "migration 0009", "gezinslijn run")
    db = Database(url)
    try:
        async with db.engine.connect() as connection:
            revision = await connection.scalar(text("SELECT version_num FROM alembic_version"))
    finally:
        await db.dispose()
    assert revision == "0009"


async def test_check_creates_no_sqlite_file(api: LocalBotApi, tmp_path: Path) -> None:
    path = tmp_path / "typo.db"
    env = _env(api.base_url, api.token, f"sqlite:///{path}", tmp_path)
    assert_refused(await gezinslijn("check", env), "GEZINSLIJN_DATABASE_URL", str(path))
    assert not path.exists()


# The Bot API and the token --------------------------------------------------------------------
@pytest.mark.parametrize("command", ["check", "run"])
async def test_an_unreachable_bot_api_is_one_sentence(
        command: str, migrated_db_url: str, tmp_path: Path) -> None:
    env = _env("http://127.0.0.1:1/bot", "123456:NOT-USED", migrated_db_url, tmp_path)
    assert_refused(await gezinslijn(command, env), "GEZINSLIJN_TELEGRAM_API_URL",
                   "http://127.0.0.1:1/bot", "connection refused")


@pytest.mark.parametrize("command", ["check", "run"])
async def test_a_wrong_token_is_one_sentence_of_its_own(
        command: str, api: LocalBotApi, migrated_db_url: str, tmp_path: Path) -> None:
    wrong = "654321:WRONG-TOKEN"
    env = _env(api.base_url, wrong, migrated_db_url, tmp_path)
    sentence = assert_refused(await gezinslijn(command, env), "GEZINSLIJN_TELEGRAM_TOKEN",
                              "401", "BotFather")
    assert "WRONG-TOKEN" not in sentence
    assert any(call.method == "getMe" and call.error_code == 401 for call in api.calls)


# The key --------------------------------------------------------------------------------------
@pytest.mark.parametrize("command", ["check", "run"])
async def test_a_key_that_does_not_open_the_data_is_one_sentence(
        command: str, api: LocalBotApi, migrated_db_url: str, tmp_path: Path) -> None:
    await _with_sealed_data(migrated_db_url)
    other = Fernet.generate_key().decode()
    env = _env(api.base_url, api.token, migrated_db_url, tmp_path, encryption_key=other)
    sentence = assert_refused(await gezinslijn(command, env), "GEZINSLIJN_ENCRYPTION_KEY",
                              "does not open", "0 of 2")
    assert other not in sentence


async def test_a_missing_key_file_is_not_replaced_while_there_is_sealed_data(
        api: LocalBotApi, sqlite_url: str, tmp_path: Path) -> None:
    """The SQLite default keeps its key in a file: a lost file is said, not made anew."""
    await upgrade_async(sqlite_url)
    await _with_sealed_data(sqlite_url)
    key_file = tmp_path / "lost.key"
    env = _env(api.base_url, api.token, sqlite_url, tmp_path, key_file=str(key_file))
    del env["GEZINSLIJN_ENCRYPTION_KEY"]
    for command in ("check", "run"):
        assert_refused(await gezinslijn(command, env), "GEZINSLIJN_KEY_FILE", str(key_file),
                       "restore")
        assert not key_file.exists()


# The crisis services --------------------------------------------------------------------------
@pytest.mark.parametrize("command", ["check", "run"])
async def test_a_crisis_file_with_an_entry_without_source_is_one_sentence(
        command: str, api: LocalBotApi, migrated_db_url: str, tmp_path: Path) -> None:
    shipped = (ROOT / "bot" / "crisis_services" / "nl.toml").read_text(encoding="utf-8")
    lines = shipped.splitlines()
    # The first entry's source goes.
    first = next(i for i, line in enumerate(lines) if line.startswith("source = "))
    broken = tmp_path / "crisis.toml"
    broken.write_text("\n".join(lines[:first] + lines[first + 1:]) + "\n", encoding="utf-8")
    env = _env(api.base_url, api.token, migrated_db_url, tmp_path,
               crisis_services_file=str(broken))
    assert_refused(await gezinslijn(command, env), "GEZINSLIJN_CRISIS_SERVICES_FILE",
                   "'112'", "missing 'source'")


# PostgreSQL's own refusals --------------------------------------------------------------------
@pytest.fixture
async def limited_user(pg_url: str) -> AsyncIterator[str]:
    """`pg_url` as a user of its own, who owns nothing there (PostgreSQL 15: and may not
    create tables in schema public)."""
    role = f"gl_check_{uuid.uuid4().hex[:8]}"
    await _pg_admin(f'CREATE ROLE "{role}" LOGIN')
    try:
        yield make_url(pg_url).set(username=role, password=None).render_as_string(
            hide_password=False)
    finally:  # the database first: the role cannot go while it holds grants there
        await _pg_admin(f'DROP DATABASE IF EXISTS "{make_url(pg_url).database}" WITH (FORCE)')
        await _pg_admin(f'DROP ROLE IF EXISTS "{role}"')


@pytest.mark.parametrize("command", ["check", "run"])
async def test_a_user_who_may_not_create_tables_is_one_sentence(
        command: str, api: LocalBotApi, pg_url: str, limited_user: str, tmp_path: Path) -> None:
    engine = make_engine(pg_url)
    try:
        async with engine.begin() as connection:
            await connection.exec_driver_sql("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
    finally:
        await engine.dispose()
    env = _env(api.base_url, api.token, limited_user, tmp_path)
    user = make_url(limited_user).username
    assert_refused(await gezinslijn(command, env), "GEZINSLIJN_DATABASE_URL",
                   f"GRANT CREATE ON SCHEMA public TO {user}")


async def test_a_migration_the_database_refuses_at_start_up_is_one_sentence(
        api: LocalBotApi, pg_url: str, limited_user: str, tmp_path: Path) -> None:
    """Tables made by another user: the checks pass, the migration is refused (not owner)."""
    await upgrade_async(pg_url, "0009")
    user = make_url(limited_user).username
    engine = make_engine(pg_url)
    try:
        async with engine.begin() as connection:
            await connection.exec_driver_sql(f'GRANT CREATE ON SCHEMA public TO "{user}"')
            await connection.exec_driver_sql(
                f'GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{user}"')
    finally:
        await engine.dispose()
    env = _env(api.base_url, api.token, limited_user, tmp_path)
    assert_refused(await gezinslijn("run", env), "GEZINSLIJN_DATABASE_URL",
                   "could not be brought up to date", "must be owner")
