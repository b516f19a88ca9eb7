"""Family data keys over a database's life: names stored plain before data keys are sealed by the
migration and given their family's key at start-up; keys no family uses are destroyed, young
ones (a family being made right now) are left alone."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import event, select, text

from bot.jobs.data_keys import keep_family_keys
from storage import crypto, keystore
from storage.db import Database
from storage.migrate import upgrade_async
from storage.models import Family, FamilyMessage, Member

THEN = datetime(2026, 11, 1, 12, 0, tzinfo=UTC).replace(tzinfo=None)


async def test_a_database_from_before_data_keys_keeps_every_name_and_word(db_url: str) -> None:
    await upgrade_async(db_url, "0009")
    db = Database(db_url)
    try:
        async with db.engine.begin() as connection:
            await connection.execute(text(
                "INSERT INTO family (id, alias, region, timezone, open_on_holidays, "
                "oncall_agreed, active, created_at, review_frequency) VALUES "
                "(1, 'Gezin Oud', 'NL', 'Europe/Amsterdam', false, false, true, :t, 'never')"),
                {"t": THEN})
            await connection.execute(text(
                "INSERT INTO member (id, family_id, chat_id, first_name, role, language, "
                "consent_at, consent_version, consent_language, created_at) VALUES "
                "(1, 1, 501, 'Oudenaam', 'moeder', 'nl', :t, '1', 'nl', :t)"), {"t": THEN})
            await connection.execute(text(
                "INSERT INTO family_message (id, family_id, member_id, kind, body, urgent, "
                "received_at, status) VALUES (1, 1, 1, 'text', :body, false, :t, 'delivered')"),
                {"t": THEN, "body": crypto.seal("oude woorden")})
        await upgrade_async(db_url)
        async with db.engine.connect() as connection:
            alias, = (await connection.execute(text("SELECT alias FROM family"))).one()
        assert alias.startswith("gAAAAA")  # the migration sealed it (master key)

        await keep_family_keys(db)  # what start-up does

        async with db.engine.connect() as connection:
            raw = (await connection.execute(text(
                "SELECT f.key_id, f.alias, m.first_name, m.role, fm.body FROM family f "
                "JOIN member m ON m.family_id = f.id "
                "JOIN family_message fm ON fm.family_id = f.id"))).one()
        key_id = raw[0]
        assert key_id and all(value.startswith(f"k{key_id}:") for value in raw[1:])
        keystore.forget_cached()  # as a fresh process
        async with db.transaction() as session:
            family = await session.scalar(select(Family))
            member = await session.scalar(select(Member))
            message = await session.scalar(select(FamilyMessage))
        assert family is not None and member is not None and message is not None
        assert (family.alias, member.first_name, member.role, message.body) == (
            "Gezin Oud", "Oudenaam", "moeder", "oude woorden")
    finally:
        await db.dispose()


async def test_keys_no_family_uses_go_but_a_key_being_used_right_now_stays(
        migrated_db_url: str) -> None:
    db = Database(migrated_db_url)
    try:
        async with db.transaction() as session:
            session.add(Family(alias="Gezin Blijft", created_at=THEN.replace(tzinfo=UTC)))
        old_orphan, young_orphan = await db.keystore.create_many(2)
        async with db.keystore.engine.begin() as connection:
            await connection.execute(text(
                "UPDATE data_key SET created_at = :t WHERE key_id = :k"),
                {"t": THEN, "k": old_orphan})
        await keep_family_keys(db)
        left = await db.keystore.key_ids()
        assert old_orphan not in left
        assert young_orphan in left  # its family may be committing right now
        async with db.transaction() as session:
            family = await session.scalar(select(Family))
        assert family is not None and family.key_id in left and family.alias == "Gezin Blijft"
    finally:
        await db.dispose()


async def test_a_fresh_process_reads_every_key_at_its_first_miss(db: Database) -> None:
    """forget_cached behaves as a fresh process: also in a store that loaded every key
    before, the first key missed loads them all in one statement, not one each (the bench's
    agenda part read 10,000 keys one by one after it)."""
    store = db.keystore
    made = await store.create_many(3)
    keystore.forget_cached()
    await store.fetch(made[0])  # the store loads them all
    keystore.forget_cached()
    statements: list[str] = []

    def record(*args: object) -> None:
        statements.append(str(args[2]))

    engine = store.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        found = [await store.fetch(key_id) for key_id in made]
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert all(key is not None for key in found)
    assert len(statements) == 1, statements
